//! `POST /api/articles/{slug}/comments`: comment on an article.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use tracing::instrument;
use utoipa::ToSchema;

use super::dto::CommentDto;
use crate::App;
use crate::auth::TokenError;
use crate::domain::{
    ArticleId, Comment, CommentId, CommentText, CommentView, Session, Slug, Timestamp, UserId,
    ValidationErrors,
};
use crate::http::{self, ApiError};
use crate::idempotency;
use crate::store::receipts::Receipt;
use crate::store::{CommentWriteError, StoreError};

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
    /// The caller's session has ended.
    #[error("the caller's session has ended")]
    Ended,
    /// The request's idempotency key was used by a comment that committed first.
    #[error("idempotency key already used")]
    KeyTaken,
    /// Another comment on the article drew the same id in the same
    /// millisecond: nothing was written, and a retry draws a new id.
    #[error("comment id drawn twice")]
    IdTaken,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AddCommentError> for ApiError {
    fn from(error: AddCommentError) -> Self {
        match error {
            AddCommentError::NotFound => ApiError::NotFound("article"),
            AddCommentError::Gone => ApiError::Unauthorized(TokenError::Invalid),
            AddCommentError::Ended => ApiError::Unauthorized(TokenError::Ended),
            AddCommentError::KeyTaken => ApiError::KeyInUse,
            AddCommentError::IdTaken => ApiError::Unavailable(Box::new(error)),
            AddCommentError::Store(e) => e.into(),
        }
    }
}

/// A comment decided and not yet written: its id and how its author will see it.
#[derive(Debug)]
pub struct CommentPlan {
    article: ArticleId,
    /// The article's counters as read (the write checks it is live on one).
    favorite_shards: u8,
    view: CommentView,
}

impl CommentPlan {
    /// The new comment as its author sees it.
    pub(crate) fn view(&self) -> &CommentView {
        &self.view
    }
}

/// Decides the comment `caller` adds at `now` to the live article whose
/// current slug is `slug`: its author, and its id (from `now`).
#[instrument(skip(app, session, comment))]
pub async fn plan_comment(
    app: &App,
    slug: &Slug,
    id: &ArticleId,
    caller: &UserId,
    session: &Session,
    comment: NewComment,
    now: Timestamp,
) -> Result<CommentPlan, AddCommentError> {
    let (author, article) =
        tokio::try_join!(app.store.user(caller, true), app.store.article(id, true))?;
    let author = author.ok_or(AddCommentError::Gone)?;
    // The caller's own item, read anyway: the session check costs nothing.
    if !author.admits(session) {
        return Err(AddCommentError::Ended);
    }
    let article = article
        .filter(|a| a.slug == *slug)
        .ok_or(AddCommentError::NotFound)?;
    let comment = Comment {
        id: CommentId::at(&now),
        body: comment.0,
        author_id: caller.clone(),
        created_at: now,
        updated_at: now,
    };
    Ok(CommentPlan {
        article: id.clone(),
        favorite_shards: article.favorite_shards,
        view: CommentView {
            comment,
            author,
            following: false,
        },
    })
}

/// Writes the comment `plan` decided, with `receipt` (the response, for an
/// idempotency key) in the same transaction.
#[instrument(skip_all)]
pub async fn add_comment(
    app: &App,
    plan: CommentPlan,
    receipt: Option<&Receipt>,
) -> Result<CommentView, AddCommentError> {
    app.store
        .put_comment(
            &plan.article,
            plan.favorite_shards,
            &plan.view.comment,
            receipt,
        )
        .await
        .map_err(written)?;
    Ok(plan.view)
}

/// A comment write's failure, as the use case reports it.
fn written(error: CommentWriteError) -> AddCommentError {
    match error {
        CommentWriteError::NotFound => AddCommentError::NotFound,
        CommentWriteError::KeyTaken => AddCommentError::KeyTaken,
        CommentWriteError::IdTaken => AddCommentError::IdTaken,
        CommentWriteError::Store(e) => e.into(),
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
    let caller = http::require_auth(app, request)?;
    let (slug, id) = http::slug_param(request)?;
    let me = &caller;
    let (caller, session) = (&caller.id, &caller.session);
    idempotency::within(app, request, Some(me), |keyed| async move {
        let input: Input = http::parse_json(request)?;
        let comment = NewComment::try_from(input.comment)?;
        let now = Timestamp::now();
        let plan = plan_comment(app, &slug, &id, caller, session, comment, now).await?;
        let response = render(plan.view());
        let receipt = keyed.map(|keyed| keyed.receipt(&response));
        add_comment(app, plan, receipt.as_ref()).await?;
        Ok(response)
    })
    .await
}

fn render(view: &CommentView) -> Response<Body> {
    let comment = CommentDto::new(view);
    http::json(StatusCode::CREATED, &CommentBody { comment })
}
