//! `DELETE /api/articles/{slug}/favorite`: unfavorite an article.

use lambda_http::{Body, Request, Response};

use crate::App;
use crate::http;

/// Lambda entry point.
#[utoipa::path(
    delete,
    path = "/articles/{slug}/favorite",
    tag = "Favorites",
    operation_id = "DeleteArticleFavorite",
    summary = "Unfavorite an article",
    params(("slug" = String, Path, description = "The article's slug")),
    responses(
        (status = 200, description = "The article, no longer favorited", body = super::dto::ArticleBody),
        (status = 404, description = "No such article", body = crate::http::ErrorsBody),
        (status = 422, description = "Listed by the RealWorld spec for this operation; this implementation does not answer it here", body = crate::http::ErrorsBody),
    ),
    security(("Token" = [])),
)]
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(super::favoriting::serve(app, &request, false).await)
}
