//! `POST /api/articles/{slug}/comments`: comment on an article.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::{Deserialize, Serialize};
use tracing::instrument;

use crate::App;
use crate::auth::TokenError;
use crate::domain::{ArticleId, Slug, UserId, ValidationErrors, limits, parse_body};
use crate::http::{self, ApiError, CommentDto};
use crate::store::articles::CommentView;

#[derive(Deserialize)]
struct Input {
    comment: NewCommentDto,
}

/// The `comment` object of the request, as sent.
#[derive(Deserialize)]
pub struct NewCommentDto {
    body: Option<String>,
}

#[derive(Serialize)]
struct CommentBody {
    comment: CommentDto,
}

/// A valid comment text.
#[derive(Debug)]
pub struct NewComment(String);

impl TryFrom<NewCommentDto> for NewComment {
    type Error = ValidationErrors;
    fn try_from(dto: NewCommentDto) -> Result<Self, Self::Error> {
        parse_body(dto.body.as_deref(), limits::COMMENT_BODY_MAX)
            .map(Self)
            .map_err(|m| ValidationErrors::single("body", m))
    }
}

/// Adds a comment to a live article whose current slug is `slug`.
#[instrument(skip(app, comment))]
pub async fn add_comment(
    app: &App,
    slug: &Slug,
    id: &ArticleId,
    caller: &UserId,
    comment: NewComment,
) -> Result<CommentDto, ApiError> {
    let (author, article) =
        tokio::try_join!(app.store.user(caller, true), app.store.article(id, true))?;
    let author = author.ok_or(ApiError::Unauthorized(TokenError::Invalid))?;
    super::current(article, slug)?;
    let comment = app.store.add_comment(id, caller, &comment.0).await?;
    Ok(CommentDto::new(&CommentView {
        comment,
        author,
        following: false,
    }))
}

/// Lambda entry point.
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let caller = http::require_auth(app, request)?;
    let (slug, id) = http::slug_param(request)?;
    let input: Input = http::parse_json(request)?;
    let comment = NewComment::try_from(input.comment)?;
    let comment = add_comment(app, &slug, &id, &caller.id, comment).await?;
    Ok(http::json(StatusCode::CREATED, &CommentBody { comment }))
}
