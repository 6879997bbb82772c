//! `GET /api/tags`: the most used tags.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tracing::instrument;

use crate::http::{self, ApiError};
use crate::store::{Store, StoreError};

/// How many tags `GET /api/tags` returns, most used first.
pub const TAGS_LIMIT: usize = 20;

#[derive(Serialize)]
struct TagsBody {
    tags: Vec<String>,
}

/// The most used tags, from maintained counts: one query, no scan.
#[instrument(skip_all)]
pub async fn tags(store: &Store) -> Result<Vec<String>, StoreError> {
    let tags = store.popular_tags(TAGS_LIMIT).await?;
    Ok(tags.into_iter().map(|t| t.as_str().to_owned()).collect())
}

/// Lambda entry point (needs only the table, no secret).
pub async fn handle(store: &Store, _request: Request) -> Response<Body> {
    http::respond(
        tags(store)
            .await
            .map(|tags| http::json(StatusCode::OK, &TagsBody { tags }))
            .map_err(ApiError::from),
    )
}
