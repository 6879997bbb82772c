//! Favoriting an article: the use case behind favorite and unfavorite, which differ in one flag.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::instrument;

use super::dto::{ArticleBody, ArticleDto};
use crate::App;
use crate::auth::{TokenError, session_verdict};
use crate::domain::{ArticleId, ArticleView, Session, Slug, UserId};
use crate::http::{self, ApiError};
use crate::idempotency;
use crate::store::receipts::Receipt;
use crate::store::{ArticleWriteError, FavoriteOutcome, StoreError};

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
    /// The token names a user that no longer exists.
    #[error("the caller no longer exists")]
    Gone,
    /// The caller's session has ended.
    #[error("the caller's session has ended")]
    Ended,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<FavoriteError> for ApiError {
    fn from(error: FavoriteError) -> Self {
        match error {
            FavoriteError::NotFound => ApiError::NotFound("article"),
            FavoriteError::KeyTaken => ApiError::KeyInUse,
            FavoriteError::Gone => ApiError::Unauthorized(TokenError::Invalid),
            FavoriteError::Ended => ApiError::Unauthorized(TokenError::Ended),
            FavoriteError::Store(e) => e.into(),
        }
    }
}

/// A favorite decided and not yet written: the article as the caller will
/// see it once it is.
#[derive(Debug)]
pub struct FavoritePlan {
    before: ArticleView,
    after: ArticleView,
    caller: UserId,
    favorite: bool,
}

impl FavoritePlan {
    /// The article as the caller will see it: favorited (or not), its count
    /// moved by this request's change (other callers' favorites meanwhile are
    /// not counted; `GET` the article for the exact count).
    pub(crate) fn view(&self) -> &ArticleView {
        &self.after
    }
}

/// Decides whether `caller` (in `session`) favorites the article `slug`
/// names: one read of the article as they see it, whose first batch read
/// also brings the caller's item, on which their session is checked.
#[instrument(skip(app, session))]
pub async fn plan_favorite(
    app: &App,
    slug: &Slug,
    id: &ArticleId,
    caller: &UserId,
    session: &Session,
    favorite: bool,
) -> Result<FavoritePlan, FavoriteError> {
    let (me, view) = app.store.article_view_and_caller(id, caller).await?;
    session_verdict(me.as_ref(), caller, session).map_err(|e| match e {
        TokenError::Ended => FavoriteError::Ended,
        _ => FavoriteError::Gone,
    })?;
    let before = view
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
    }
    Ok(FavoritePlan {
        before,
        after,
        caller: caller.clone(),
        favorite,
    })
}

/// Writes what `plan` decided, with `receipt` (the response, for an
/// idempotency key) in the same transaction; idempotent either way, and the
/// article's count always equals its number of favorites. Where nothing
/// changes (already so), the receipt is written alone.
#[instrument(skip_all)]
pub async fn set_favorite(
    app: &App,
    plan: FavoritePlan,
    receipt: Option<&Receipt>,
) -> Result<ArticleView, FavoriteError> {
    if plan.before.favorited != plan.favorite {
        let written = app
            .store
            .set_favorite(&plan.before.article, &plan.caller, plan.favorite, receipt)
            .await;
        match written {
            Ok(FavoriteOutcome::Changed) => return Ok(plan.after),
            Ok(FavoriteOutcome::KeyTaken) => return Err(FavoriteError::KeyTaken),
            // Set meanwhile by the caller's own twin request: the view stands.
            Ok(FavoriteOutcome::AlreadySo) => {}
            Err(ArticleWriteError::Store(e)) => return Err(e.into()),
            // Deleted (or tombstoned) since it was read.
            Err(_) => return Err(FavoriteError::NotFound),
        }
    }
    match receipt {
        Some(receipt) if !app.store.record_receipt(receipt).await? => Err(FavoriteError::KeyTaken),
        _ => Ok(plan.after),
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
        let plan = plan_favorite(app, &slug, &id, &caller.id, &caller.session, favorite).await?;
        let response = render(plan.view());
        let receipt = keyed.map(|keyed| keyed.receipt(&response));
        set_favorite(app, plan, receipt.as_ref()).await?;
        Ok(response)
    };
    // The spec's POST takes a key; DELETE is idempotent by its method.
    if favorite {
        idempotency::within(app, request, Some(&caller), act).await
    } else {
        act(None).await
    }
}

fn render(view: &ArticleView) -> Response<Body> {
    let article = ArticleDto::new(view);
    http::json(StatusCode::OK, &ArticleBody { article })
}
