//! `POST /api/articles/{slug}/comments`: comment on an article.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use tracing::instrument;
use utoipa::ToSchema;

use super::dto::CommentDto;
use crate::App;
use crate::auth::TokenError;
use crate::domain::{ArticleId, CommentText, Slug, Timestamp, UserId, ValidationErrors};
use crate::http::{self, ApiError};
use crate::idempotency::{self, Seal};
use crate::store::StoreError;
use crate::store::comments::{CommentView, CommentWriteError};
use crate::store::items::CommentRecord;

#[derive(Deserialize, ToSchema)]
#[schema(as = NewCommentRequest)]
struct Input {
    comment: NewCommentDto,
}

/// The `comment` object of the request, as sent.
#[derive(Deserialize, ToSchema)]
#[schema(as = NewComment)]
pub struct NewCommentDto {
    #[schema(value_type = String, required = true)]
    body: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = SingleCommentResponse)]
struct CommentBody {
    comment: CommentDto,
}

/// A valid comment text.
#[derive(Debug)]
pub struct NewComment(CommentText);

impl TryFrom<NewCommentDto> for NewComment {
    type Error = ValidationErrors;
    fn try_from(dto: NewCommentDto) -> Result<Self, Self::Error> {
        CommentText::parse(dto.body.as_deref())
            .map(Self)
            .map_err(|m| ValidationErrors::single("body", m))
    }
}

/// Why a comment could not be added.
#[derive(Debug, thiserror::Error)]
pub enum AddCommentError {
    /// No live article has this slug (or it is being deleted).
    #[error("article not found")]
    NotFound,
    /// The token names a user that no longer exists.
    #[error("author no longer exists")]
    Gone,
    /// The request's idempotency key was used by a comment that committed first.
    #[error("idempotency key already used")]
    KeyTaken,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AddCommentError> for ApiError {
    fn from(error: AddCommentError) -> Self {
        match error {
            AddCommentError::NotFound => ApiError::NotFound("article"),
            AddCommentError::Gone => ApiError::Unauthorized(TokenError::Invalid),
            AddCommentError::KeyTaken => ApiError::KeyInUse,
            AddCommentError::Store(e) => e.into(),
        }
    }
}

/// Adds a comment, written at `now`, to a live article whose current slug is
/// `slug` (with the idempotency receipt `seal` makes, if the request has a key).
#[instrument(skip(app, comment, seal))]
pub async fn add_comment(
    app: &App,
    slug: &Slug,
    id: &ArticleId,
    caller: &UserId,
    comment: NewComment,
    now: Timestamp,
    seal: Option<Seal<'_, CommentView>>,
) -> Result<CommentView, AddCommentError> {
    let (author, article) =
        tokio::try_join!(app.store.user(caller, true), app.store.article(id, true))?;
    let author = author.ok_or(AddCommentError::Gone)?;
    if article.is_none_or(|a| a.slug != *slug) {
        return Err(AddCommentError::NotFound);
    }
    let view = |comment: &CommentRecord| CommentView {
        comment: comment.clone(),
        author: author.clone(),
        following: false,
    };
    let seal_comment = seal.map(|seal| move |comment: &CommentRecord| seal(&view(comment)));
    let seal_comment = seal_comment.as_ref().map(|s| s as _);
    match app
        .store
        .add_comment(id, caller, &comment.0, now, seal_comment)
        .await
    {
        Ok(comment) => Ok(view(&comment)),
        Err(CommentWriteError::NotFound) => Err(AddCommentError::NotFound),
        Err(CommentWriteError::KeyTaken) => Err(AddCommentError::KeyTaken),
        Err(CommentWriteError::Store(e)) => Err(e.into()),
    }
}

/// Lambda entry point.
#[utoipa::path(
    post,
    path = "/articles/{slug}/comments",
    tag = "Comments",
    operation_id = "CreateArticleComment",
    summary = "Comment on an article",
    params(("slug" = String, Path, description = "The article's slug")),
    request_body(content = Input, description = "The comment"),
    responses(
        (status = 201, description = "The new comment", body = CommentBody),
        (status = 404, description = "No such article", body = crate::http::ErrorsBody),
        (status = 422, description = "Missing or invalid body", body = crate::http::ErrorsBody),
    ),
    security(("Token" = [])),
)]
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let caller = &http::require_auth(app, request)?.id;
    let (slug, id) = http::slug_param(request)?;
    idempotency::within(app, request, Some(caller), |keyed| async move {
        let input: Input = http::parse_json(request)?;
        let comment = NewComment::try_from(input.comment)?;
        let seal = keyed.map(|keyed| move |view: &CommentView| keyed.receipt(&render(view)));
        let seal = seal.as_ref().map(|s| s as _);
        let now = Timestamp::now();
        let view = add_comment(app, &slug, &id, caller, comment, now, seal).await?;
        Ok(render(&view))
    })
    .await
}

fn render(view: &CommentView) -> Response<Body> {
    let comment = CommentDto::new(view);
    http::json(StatusCode::CREATED, &CommentBody { comment })
}
