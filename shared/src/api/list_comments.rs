//! `GET /api/articles/{slug}/comments`: an article's comments, newest first.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use tracing::instrument;

use super::dto::CommentDto;
use crate::App;
use crate::domain::{ArticleId, Slug, UserId};
use crate::http::{self, ApiError};

#[derive(Serialize)]
struct CommentsBody {
    comments: Vec<CommentDto>,
}

/// Comments with their authors: one query and one batch read.
#[instrument(skip(app, viewer))]
pub async fn comments(
    app: &App,
    slug: &Slug,
    id: &ArticleId,
    viewer: Option<&UserId>,
) -> Result<Vec<CommentDto>, ApiError> {
    let (article, comments) = app
        .store
        .comments(id, viewer)
        .await?
        .ok_or(ApiError::NotFound("article"))?;
    super::current(Some(article), slug)?;
    Ok(comments.iter().map(CommentDto::new).collect())
}

/// Lambda entry point.
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let viewer = http::optional_auth(app, request)?;
    let (slug, id) = http::slug_param(request)?;
    let comments = comments(app, &slug, &id, viewer.as_ref().map(|c| &c.id)).await?;
    Ok(http::json(StatusCode::OK, &CommentsBody { comments }))
}
