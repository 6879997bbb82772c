//! `GET /api/tags`: the most used tags.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tracing::instrument;
use utoipa::ToSchema;

use crate::domain::Tag;
use crate::http::{self, ApiError};
use crate::store::{Store, StoreError};

/// How many tags `GET /api/tags` returns, most used first.
pub(crate) const TAGS_LIMIT: usize = 20;

#[derive(Serialize, ToSchema)]
#[schema(as = TagsResponse)]
struct TagsBody {
    tags: Vec<String>,
}

/// Why the tags could not be listed: storage is all that can fail.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TagsError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<TagsError> for ApiError {
    fn from(error: TagsError) -> Self {
        match error {
            TagsError::Store(e) => e.into(),
        }
    }
}

/// The most used tags, from maintained counts: one query, no scan.
#[instrument(skip_all)]
pub(crate) async fn tags(store: &Store) -> Result<Vec<Tag>, TagsError> {
    Ok(store.popular_tags(TAGS_LIMIT).await?)
}

/// Lambda entry point (needs only the table, no secret).
#[utoipa::path(
    get,
    path = "/tags",
    tag = "Tags",
    operation_id = "GetTags",
    summary = "The 20 most used tags, most used first",
    responses(
        (status = 200, description = "The tags", body = TagsBody),
        (status = 422, description = "Listed by the RealWorld spec for this operation; this implementation does not answer it here", body = crate::http::ErrorsBody),
    ),
)]
pub async fn handle(store: &Store, request: Request) -> Response<Body> {
    http::respond_cacheable(&request, serve(store).await)
}

async fn serve(store: &Store) -> Result<Response<Body>, ApiError> {
    let tags = tags(store).await?;
    let tags = tags.iter().map(|t| t.as_str().to_owned()).collect();
    Ok(http::json(StatusCode::OK, &TagsBody { tags }))
}
