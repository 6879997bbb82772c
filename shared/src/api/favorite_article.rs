//! `POST /api/articles/{slug}/favorite`: favorite an article.

use lambda_http::{Body, Request, Response};

use crate::App;
use crate::http;

/// Lambda entry point.
#[utoipa::path(
    post,
    path = "/articles/{slug}/favorite",
    tag = "Favorites",
    operation_id = "CreateArticleFavorite",
    summary = "Favorite an article",
    params(("slug" = String, Path, description = "The article's slug")),
    responses(
        (status = 200, description = "The article, favorited", body = super::dto::ArticleBody),
        (status = 404, description = "No such article", body = crate::http::ErrorsBody),
    ),
    security(("Token" = [])),
)]
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(super::favoriting::serve(app, &request, true).await)
}
