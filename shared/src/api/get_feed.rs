//! `GET /api/articles/feed?limit&offset`: articles by followed authors.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::instrument;

use crate::App;
use crate::domain::{Page, UserId};
use crate::http::{self, ApiError};
use crate::store::StoreError;
use crate::store::lists::ArticlePage;

/// Why a feed could not be served.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
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
pub async fn feed(app: &App, reader: &UserId, page: Page) -> Result<ArticlePage, FeedError> {
    Ok(app.store.feed(reader, page).await?)
}

/// Lambda entry point.
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond_cacheable(&request, serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let caller = http::require_auth(app, request)?;
    let page = http::page(request)?;
    let result = feed(app, &caller.id, page).await?;
    Ok(http::json(
        StatusCode::OK,
        &super::list_articles::page_body(&result),
    ))
}
