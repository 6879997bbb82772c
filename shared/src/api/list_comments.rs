//! `GET /api/articles/{slug}/comments`: an article's comments, newest first.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tracing::instrument;
use utoipa::ToSchema;

use super::dto::CommentDto;
use crate::App;
use crate::domain::{ArticleId, CommentView, Slug, UserId};
use crate::http::{self, ApiError};
use crate::store::StoreError;

#[derive(Serialize, ToSchema)]
#[schema(as = MultipleCommentsResponse)]
struct CommentsBody {
    comments: Vec<CommentDto>,
}

/// Why comments could not be listed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CommentsError {
    /// No live article has this slug.
    #[error("article not found")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<CommentsError> for ApiError {
    fn from(error: CommentsError) -> Self {
        match error {
            CommentsError::NotFound => ApiError::NotFound("article"),
            CommentsError::Store(e) => e.into(),
        }
    }
}

/// Comments with their authors as `viewer` sees them: one query and one batch read.
#[instrument(skip(app, viewer))]
pub(crate) async fn comments(
    app: &App,
    slug: &Slug,
    id: &ArticleId,
    viewer: Option<&UserId>,
) -> Result<Vec<CommentView>, CommentsError> {
    match app.store.comments(id, viewer).await? {
        Some((article, comments)) if article.slug == *slug => Ok(comments),
        _ => Err(CommentsError::NotFound),
    }
}

/// Lambda entry point.
#[utoipa::path(
    get,
    path = "/articles/{slug}/comments",
    tag = "Comments",
    operation_id = "GetArticleComments",
    summary = "An article's comments, newest first",
    params(("slug" = String, Path, description = "The article's slug")),
    responses(
        (status = 200, description = "The comments", body = CommentsBody),
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
    let views = comments(app, &slug, &id, viewer.as_ref().map(|c| &c.id)).await?;
    let comments = views.iter().map(CommentDto::new).collect();
    Ok(http::json(StatusCode::OK, &CommentsBody { comments }))
}
