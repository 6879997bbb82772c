//! Favoriting an article: the use case behind favorite and unfavorite, which differ in one flag.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::instrument;

use super::dto::{ArticleBody, ArticleDto};
use crate::App;
use crate::domain::{ArticleId, Slug, UserId};
use crate::http::{self, ApiError};
use crate::idempotency;
use crate::store::StoreError;
use crate::store::articles::{ArticleView, ArticleWriteError};

/// Why a favorite could not be set.
#[derive(Debug, thiserror::Error)]
pub enum FavoriteError {
    /// No live article has this slug.
    #[error("article not found")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<FavoriteError> for ApiError {
    fn from(error: FavoriteError) -> Self {
        match error {
            FavoriteError::NotFound => ApiError::NotFound("article"),
            FavoriteError::Store(e) => e.into(),
        }
    }
}

/// Sets whether `caller` favorites the article; idempotent either way, and
/// the article's count always equals its number of favorites.
#[instrument(skip(app))]
pub async fn set_favorite(
    app: &App,
    slug: &Slug,
    id: &ArticleId,
    caller: &UserId,
    favorite: bool,
) -> Result<ArticleView, FavoriteError> {
    let article = app
        .store
        .article(id, true)
        .await?
        .filter(|a| a.slug == *slug)
        .ok_or(FavoriteError::NotFound)?;
    match app.store.set_favorite(&article, caller, favorite).await {
        Ok(()) => {}
        Err(ArticleWriteError::Store(e)) => return Err(e.into()),
        // Deleted (or tombstoned) since it was read.
        Err(_) => return Err(FavoriteError::NotFound),
    }
    super::reload(app, id, caller)
        .await?
        .ok_or(FavoriteError::NotFound)
}

pub(crate) async fn serve(
    app: &App,
    request: &Request,
    favorite: bool,
) -> Result<Response<Body>, ApiError> {
    let caller = http::require_auth(app, request)?;
    let (slug, id) = http::slug_param(request)?;
    let act = || async {
        let view = set_favorite(app, &slug, &id, &caller.id, favorite).await?;
        let article = ArticleDto::new(&view);
        Ok(http::json(StatusCode::OK, &ArticleBody { article }))
    };
    // Favoriting is idempotent by itself: its receipt can follow it.
    if favorite {
        idempotency::after(app, request, &caller.id, act).await
    } else {
        act().await
    }
}
