//! `GET /api/articles/{slug}`: one article with its body.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::instrument;

use crate::App;
use crate::domain::{ArticleId, Slug, UserId};
use crate::http::{self, ApiError, ArticleBody, ArticleDto};
use crate::store::StoreError;

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
#[instrument(skip(app, viewer))]
pub async fn article(
    app: &App,
    slug: &Slug,
    id: &ArticleId,
    viewer: Option<&UserId>,
    consistent: bool,
) -> Result<ArticleDto, GetArticleError> {
    let (view, body) = app
        .store
        .article_view(id, viewer, consistent)
        .await?
        .filter(|(view, _)| view.article.slug == *slug)
        .ok_or(GetArticleError::NotFound)?;
    Ok(ArticleDto::new(&view, Some(body)))
}

/// Lambda entry point.
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let viewer = http::optional_auth(app, request)?;
    let (slug, id) = http::slug_param(request)?;
    let article = article(app, &slug, &id, viewer.as_ref().map(|c| &c.id), false).await?;
    Ok(http::json(StatusCode::OK, &ArticleBody { article }))
}
