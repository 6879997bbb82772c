//! Favoriting an article: the use case behind favorite and unfavorite, which differ in one flag.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::instrument;

use super::dto::{ArticleBody, ArticleDto};
use crate::App;
use crate::domain::{ArticleId, Slug, UserId};
use crate::http::{self, ApiError};
use crate::store::articles::ArticleView;

/// Sets whether `caller` favorites the article; idempotent either way, and
/// the article's count always equals its number of favorites.
#[instrument(skip(app))]
pub async fn set_favorite(
    app: &App,
    slug: &Slug,
    id: &ArticleId,
    caller: &UserId,
    favorite: bool,
) -> Result<ArticleView, ApiError> {
    let article = super::current(app.store.article(id, true).await?, slug)?;
    app.store.set_favorite(&article, caller, favorite).await?;
    super::reload(app, id, caller)
        .await?
        .ok_or(ApiError::NotFound("article"))
}

pub(crate) async fn serve(
    app: &App,
    request: &Request,
    favorite: bool,
) -> Result<Response<Body>, ApiError> {
    let caller = http::require_auth(app, request)?;
    let (slug, id) = http::slug_param(request)?;
    let view = set_favorite(app, &slug, &id, &caller.id, favorite).await?;
    let article = ArticleDto::new(&view);
    Ok(http::json(StatusCode::OK, &ArticleBody { article }))
}
