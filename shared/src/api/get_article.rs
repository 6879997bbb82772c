//! `GET /api/articles/{slug}`: one article with its body.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::instrument;

use crate::App;
use crate::domain::{ArticleId, Slug, UserId};
use crate::http::{self, ApiError, ArticleBody, ArticleDto};
use crate::store::StoreError;
use crate::store::articles::ArticleView;

/// Why an article could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum GetArticleError {
    /// No article has this slug.
    #[error("article not found")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<GetArticleError> for ApiError {
    fn from(error: GetArticleError) -> Self {
        match error {
            GetArticleError::NotFound => ApiError::NotFound("article"),
            GetArticleError::Store(e) => e.into(),
        }
    }
}

/// Reads an article as `viewer` sees it: two requests, whatever the table size.
///
/// The read is eventually consistent (half the cost), and repeated strongly
/// consistent only when it finds nothing, so an article read right after it
/// was created, or renamed, is never a wrong 404; only real misses pay twice.
#[instrument(skip(app, viewer))]
pub async fn article(
    app: &App,
    slug: &Slug,
    id: &ArticleId,
    viewer: Option<&UserId>,
) -> Result<ArticleDto, GetArticleError> {
    let current =
        |found: Option<(ArticleView, String)>| found.filter(|(view, _)| view.article.slug == *slug);
    let found = match current(app.store.article_view(id, viewer, false).await?) {
        Some(found) => found,
        None => current(app.store.article_view(id, viewer, true).await?)
            .ok_or(GetArticleError::NotFound)?,
    };
    let (view, body) = found;
    Ok(ArticleDto::new(&view, Some(body)))
}

/// Lambda entry point.
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let viewer = http::optional_auth(app, request)?;
    let (slug, id) = http::slug_param(request)?;
    let article = article(app, &slug, &id, viewer.as_ref().map(|c| &c.id)).await?;
    Ok(http::json(StatusCode::OK, &ArticleBody { article }))
}
