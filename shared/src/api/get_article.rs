//! `GET /api/articles/{slug}`: one article with its body.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::instrument;

use super::dto::{ArticleBody, ArticleDto};
use crate::App;
use crate::domain::{ArticleId, ArticleView, Slug, UserId};
use crate::http::{self, ApiError};
use crate::store::StoreError;

/// Why an article could not be shown.
#[derive(Debug, thiserror::Error)]
pub(crate) enum GetArticleError {
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
pub(crate) async fn article(
    app: &App,
    slug: &Slug,
    id: &ArticleId,
    viewer: Option<&UserId>,
) -> Result<ArticleView, GetArticleError> {
    let current = |found: Option<ArticleView>| found.filter(|view| view.article.slug == *slug);
    match current(app.store.article_view(id, viewer, false).await?) {
        Some(view) => Ok(view),
        None => current(app.store.article_view(id, viewer, true).await?)
            .ok_or(GetArticleError::NotFound),
    }
}

/// Lambda entry point.
#[utoipa::path(
    get,
    path = "/articles/{slug}",
    tag = "Articles",
    operation_id = "GetArticle",
    summary = "An article",
    params(("slug" = String, Path, description = "The article's slug")),
    responses(
        (status = 200, description = "The article with its body", body = super::dto::ArticleBody),
        (status = 404, description = "No such article", body = crate::http::ErrorsBody),
        (status = 422, description = "Listed by the RealWorld spec for this operation; this implementation does not answer it here", body = crate::http::ErrorsBody),
    ),
    security((), ("Token" = [])),
)]
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond_cacheable(&request, serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let viewer = http::optional_auth(app, request)?;
    let (slug, id) = http::slug_param(request)?;
    let view = article(app, &slug, &id, viewer.as_ref().map(|c| &c.id)).await?;
    Ok(shown(&view))
}

/// The article as `GET /api/articles/{slug}` shows it; `PUT` answers with it
/// too and checks `If-Match` against its tag, so the three always agree.
pub(crate) fn shown(view: &ArticleView) -> Response<Body> {
    let article = ArticleDto::new(view);
    http::json(StatusCode::OK, &ArticleBody { article })
}
