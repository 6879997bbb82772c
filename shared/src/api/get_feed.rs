//! `GET /api/articles/feed?limit&offset`: articles by followed authors.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::instrument;

use crate::App;
use crate::domain::{ArticlePage, Page, UserId};
use crate::http::{self, ApiError};
use crate::store::StoreError;

/// Why a feed could not be served.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FeedError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<FeedError> for ApiError {
    fn from(error: FeedError) -> Self {
        match error {
            FeedError::Store(e) => e.into(),
        }
    }
}

/// One page of the reader's feed.
#[instrument(skip(app, reader))]
pub(crate) async fn feed(app: &App, reader: &UserId, page: Page) -> Result<ArticlePage, FeedError> {
    Ok(app.store.feed(reader, page).await?)
}

/// Lambda entry point.
#[utoipa::path(
    get,
    path = "/articles/feed",
    tag = "Articles",
    operation_id = "GetArticlesFeed",
    summary = "Articles by followed authors, newest first",
    params(("offset" = Option<u32>, Query, description = "Articles to skip (at most 10000)", minimum = 0), ("limit" = Option<u32>, Query, description = "Articles to return (default 20, at most 100)", minimum = 1, maximum = 100)),
    responses(
        (status = 200, description = "A page of the feed, without bodies", body = super::dto::ArticlesBody),
        (status = 422, description = "Invalid `limit` or `offset`", body = crate::http::ErrorsBody),
    ),
    security(("Token" = [])),
)]
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond_cacheable(&request, serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let caller = http::require_auth(app, request)?;
    let page = http::page(request)?;
    let result = http::beside(app, &caller, feed(app, &caller.id, page)).await?;
    Ok(http::json(
        StatusCode::OK,
        &super::list_articles::page_body(&result),
    ))
}
