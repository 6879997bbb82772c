//! Favoriting an article: the use case behind favorite and unfavorite, which differ in one flag.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::instrument;

use super::dto::{ArticleBody, ArticleDto};
use crate::App;
use crate::domain::{ArticleId, Slug, UserId};
use crate::http::{self, ApiError};
use crate::idempotency::{self, Seal};
use crate::store::articles::{ArticleView, ArticleWriteError};
use crate::store::{KeyTaken, StoreError};

/// Why a favorite could not be set.
#[derive(Debug, thiserror::Error)]
pub enum FavoriteError {
    /// No live article has this slug.
    #[error("article not found")]
    NotFound,
    /// The request's idempotency key was taken over by a duplicate (after
    /// this one ran out of time holding it).
    #[error("idempotency key taken")]
    KeyTaken,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<FavoriteError> for ApiError {
    fn from(error: FavoriteError) -> Self {
        match error {
            FavoriteError::NotFound => ApiError::NotFound("article"),
            FavoriteError::KeyTaken => ApiError::KeyInUse,
            FavoriteError::Store(e) => e.into(),
        }
    }
}

/// Sets whether `caller` favorites the article; idempotent either way, and
/// the article's count always equals its number of favorites. With `seal`,
/// the response is rendered before the write and its receipt written in the
/// same transaction (or alone, if the favorite was already so: no effect).
#[instrument(skip(app, seal))]
pub async fn set_favorite(
    app: &App,
    slug: &Slug,
    id: &ArticleId,
    caller: &UserId,
    favorite: bool,
    seal: Option<Seal<'_, ArticleView>>,
) -> Result<ArticleView, FavoriteError> {
    let Some(seal) = seal else {
        let article = app
            .store
            .article(id, true)
            .await?
            .filter(|a| a.slug == *slug)
            .ok_or(FavoriteError::NotFound)?;
        changed(app.store.set_favorite(&article, caller, favorite).await)?;
        return super::reload(app, id, caller)
            .await?
            .ok_or(FavoriteError::NotFound);
    };
    let before = super::reload(app, id, caller)
        .await?
        .filter(|v| v.article.slug == *slug)
        .ok_or(FavoriteError::NotFound)?;
    let mut after = before.clone();
    if before.favorited != favorite {
        after.favorited = favorite;
        after.article.favorites_count = if favorite {
            before.article.favorites_count + 1
        } else {
            before.article.favorites_count.saturating_sub(1)
        };
        let written = app
            .store
            .set_favorite_receipted(&before.article, caller, favorite, Some(&seal(&after)))
            .await;
        match changed(written)? {
            Ok(true) => return Ok(after),
            Err(KeyTaken) => return Err(FavoriteError::KeyTaken),
            // Set meanwhile by another request: ours changes nothing.
            Ok(false) => {
                after = super::reload(app, id, caller)
                    .await?
                    .ok_or(FavoriteError::NotFound)?;
            }
        }
    }
    // No effect of ours: the receipt alone.
    if app.store.record_receipt(&seal(&after)).await? {
        Ok(after)
    } else {
        Err(FavoriteError::KeyTaken)
    }
}

/// A favorite write's outcome, its failures as the use case reports them.
fn changed<T>(written: Result<T, ArticleWriteError>) -> Result<T, FavoriteError> {
    match written {
        Ok(outcome) => Ok(outcome),
        Err(ArticleWriteError::Store(e)) => Err(e.into()),
        // Deleted (or tombstoned) since it was read.
        Err(_) => Err(FavoriteError::NotFound),
    }
}

pub(crate) async fn serve(
    app: &App,
    request: &Request,
    favorite: bool,
) -> Result<Response<Body>, ApiError> {
    let caller = http::require_auth(app, request)?;
    let (slug, id) = http::slug_param(request)?;
    let act = |keyed: Option<idempotency::Keyed>| async {
        let seal = keyed.map(|keyed| move |view: &ArticleView| keyed.receipt(&render(view)));
        let seal = seal.as_ref().map(|s| s as _);
        let view = set_favorite(app, &slug, &id, &caller.id, favorite, seal).await?;
        Ok(render(&view))
    };
    // The spec's POST takes a key; DELETE is idempotent by its method.
    if favorite {
        idempotency::within(app, request, Some(&caller.id), act).await
    } else {
        act(None).await
    }
}

fn render(view: &ArticleView) -> Response<Body> {
    let article = ArticleDto::new(view);
    http::json(StatusCode::OK, &ArticleBody { article })
}
