//! `GET /api/articles/{slug}/comments`: an article's comments, newest
//! first, a bounded page at a time.

use lambda_http::http::StatusCode;
use lambda_http::http::header::{HeaderValue, LINK};
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tracing::instrument;
use utoipa::ToSchema;

use super::dto::CommentDto;
use crate::App;
use crate::domain::{ArticleId, CommentView, CommentsPage, Slug, UserId};
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

/// One page of comments with their authors as `viewer` sees them, and
/// whether older ones remain: one query and one batch read.
#[instrument(skip(app, viewer))]
pub(crate) async fn comments(
    app: &App,
    slug: &Slug,
    id: &ArticleId,
    viewer: Option<&UserId>,
    page: CommentsPage,
) -> Result<(Vec<CommentView>, bool), CommentsError> {
    match app
        .store
        .comments(id, viewer, page.before(), page.limit() as usize)
        .await?
    {
        Some(found) if found.article.slug == *slug => Ok((found.comments, found.more)),
        _ => Err(CommentsError::NotFound),
    }
}

/// Lambda entry point.
#[utoipa::path(
    get,
    path = "/articles/{slug}/comments",
    tag = "Comments",
    operation_id = "GetArticleComments",
    summary = "An article's comments, newest first, 100 at most per page",
    params(
        ("slug" = String, Path, description = "The article's slug"),
        ("before" = Option<u64>, Query, description = "Only comments older than this comment id (the next page of a long list)"),
        ("limit" = Option<u32>, Query, description = "Comments per page, 1 to 100 (default 100)"),
    ),
    responses(
        (status = 200, description = "The newest comments (at most `limit`); a `Link` header with `rel=\"next\"` names the next page when older ones remain", body = CommentsBody),
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
    let page = CommentsPage::parse(
        http::query_param(request, "before").as_deref(),
        http::query_param(request, "limit").as_deref(),
    )?;
    let (views, more) = comments(app, &slug, &id, viewer.as_ref().map(|c| &c.id), page).await?;
    let comments = views.iter().map(CommentDto::new).collect();
    let mut response = http::json(StatusCode::OK, &CommentsBody { comments });
    if more && let Some(last) = views.last() {
        let next = format!(
            "<{}?before={}&limit={}>; rel=\"next\"",
            request.uri().path(),
            last.comment.id,
            page.limit()
        );
        if let Ok(value) = HeaderValue::try_from(next) {
            response.headers_mut().insert(LINK, value);
        }
    }
    Ok(response)
}
