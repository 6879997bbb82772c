//! `DELETE /api/articles/{slug}/comments/{id}`: delete one's own comment.

use lambda_http::{Body, Request, Response};
use tracing::instrument;

use crate::App;
use crate::domain::{ArticleId, CommentId, Slug};
use crate::http::{self, ApiError, Caller};
use crate::store::{ArticleWriteError, StoreError};

/// Why a comment could not be deleted.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DeleteCommentError {
    /// No live article has this slug.
    #[error("article not found")]
    ArticleNotFound,
    /// The article has no comment with this id.
    #[error("comment not found")]
    CommentNotFound,
    /// The comment is someone else's.
    #[error("not the comment's author")]
    Forbidden,
    /// The caller's session has ended (or the caller is gone).
    #[error("the caller's session has ended")]
    Ended(#[source] ApiError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DeleteCommentError> for ApiError {
    fn from(error: DeleteCommentError) -> Self {
        match error {
            DeleteCommentError::ArticleNotFound => ApiError::NotFound("article"),
            DeleteCommentError::CommentNotFound => ApiError::NotFound("comment"),
            DeleteCommentError::Forbidden => ApiError::Forbidden("comment"),
            DeleteCommentError::Ended(refused) => refused,
            DeleteCommentError::Store(e) => e.into(),
        }
    }
}

/// Deletes a comment of the caller's on the article whose current slug is
/// `slug`. Whose it is and whether it exists are checked by the delete's own
/// condition, so a comment cannot change hands between a check and the delete.
#[instrument(skip(app, caller), fields(caller = %caller.id))]
pub(crate) async fn delete_comment(
    app: &App,
    slug: &Slug,
    id: &ArticleId,
    comment: CommentId,
    caller: &Caller,
) -> Result<(), DeleteCommentError> {
    // The caller's item beside it: their session must be live.
    let article = super::in_session(app, caller, app.store.article(id, true))
        .await?
        .map_err(DeleteCommentError::Ended)?;
    if article.is_none_or(|a| a.slug != *slug) {
        return Err(DeleteCommentError::ArticleNotFound);
    }
    match app.store.delete_comment(id, comment, &caller.id).await {
        Ok(()) => Ok(()),
        Err(ArticleWriteError::Forbidden) => Err(DeleteCommentError::Forbidden),
        Err(ArticleWriteError::Store(e)) => Err(e.into()),
        Err(_) => Err(DeleteCommentError::CommentNotFound),
    }
}

/// Lambda entry point.
#[utoipa::path(
    delete,
    path = "/articles/{slug}/comments/{id}",
    tag = "Comments",
    operation_id = "DeleteArticleComment",
    summary = "Delete a comment",
    params(("slug" = String, Path, description = "The article's slug"), ("id" = u64, Path, description = "The comment's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Someone else's comment", body = crate::http::ErrorsBody),
        (status = 404, description = "No such article or comment", body = crate::http::ErrorsBody),
        (status = 422, description = "Listed by the RealWorld spec for this operation; this implementation does not answer it here", body = crate::http::ErrorsBody),
    ),
    security(("Token" = [])),
)]
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
    delete_comment(app, &slug, &id, comment, &caller).await?;
    Ok(http::no_content())
}
