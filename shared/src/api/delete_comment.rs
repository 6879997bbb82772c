//! `DELETE /api/articles/{slug}/comments/{id}`: delete one's own comment.

use lambda_http::{Body, Request, Response};
use tracing::instrument;

use crate::App;
use crate::domain::{ArticleId, CommentId, Slug, UserId};
use crate::http::{self, ApiError};

/// Deletes a comment of the caller's on the article whose current slug is `slug`.
#[instrument(skip(app))]
pub async fn delete_comment(
    app: &App,
    slug: &Slug,
    id: &ArticleId,
    comment: CommentId,
    caller: &UserId,
) -> Result<(), ApiError> {
    super::current(app.store.article(id, true).await?, slug)?;
    app.store
        .delete_comment(id, comment, caller)
        .await
        .map_err(|e| match ApiError::from(e) {
            ApiError::NotFound(_) => ApiError::NotFound("comment"),
            ApiError::Forbidden(_) => ApiError::Forbidden("comment"),
            other => other,
        })
}

/// Lambda entry point.
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let caller = http::require_auth(app, request)?;
    let (slug, id) = http::slug_param(request)?;
    let comment: CommentId = http::path_param(request, "id")
        .as_deref()
        .and_then(CommentId::parse)
        .ok_or(ApiError::NotFound("comment"))?;
    delete_comment(app, &slug, &id, comment, &caller.id).await?;
    Ok(http::no_content())
}
