//! `PUT /api/articles/{slug}`: update an article (the author only).

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use tracing::instrument;

use crate::App;
use crate::domain::{ArticleId, Slug, UserId, ValidationErrors, limits, parse_body, parse_text};
use crate::http::{self, ApiError, ArticleBody, ArticleDto};
use crate::store::articles::ArticleChanges;

#[derive(Deserialize)]
struct Input {
    article: UpdateArticleDto,
}

#[derive(Deserialize)]
struct UpdateArticleDto {
    title: Option<String>,
    description: Option<String>,
    body: Option<String>,
}

impl TryFrom<UpdateArticleDto> for ArticleChanges {
    type Error = ValidationErrors;
    fn try_from(dto: UpdateArticleDto) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let title = dto
            .title
            .as_deref()
            .map(|t| parse_text(Some(t), limits::TITLE_MAX));
        let title = errors.check("title", title.transpose()).flatten();
        let description = dto
            .description
            .as_deref()
            .map(|d| parse_text(Some(d), limits::DESCRIPTION_MAX));
        let description = errors
            .check("description", description.transpose())
            .flatten();
        let body = dto
            .body
            .as_deref()
            .map(|b| parse_body(Some(b), limits::ARTICLE_BODY_MAX));
        let body = errors.check("body", body.transpose()).flatten();
        errors.finish(|| Self {
            title,
            description,
            body,
        })
    }
}

/// Applies changes; a new title gives a new slug (same article id, so still unique).
#[instrument(skip(app, changes))]
pub async fn update_article(
    app: &App,
    slug: &Slug,
    id: &ArticleId,
    caller: &UserId,
    changes: ArticleChanges,
) -> Result<ArticleDto, ApiError> {
    let article = super::current(app.store.article(id, true).await?, slug)?;
    if &article.author_id != caller {
        return Err(ApiError::Forbidden("article"));
    }
    app.store.update_article(id, caller, &changes).await?;
    super::reload(app, id, caller).await
}

/// Lambda entry point.
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let caller = http::require_auth(app, request)?;
    let (slug, id) = http::slug_param(request)?;
    let input: Input = http::parse_json(request)?;
    let changes = ArticleChanges::try_from(input.article)?;
    let article = update_article(app, &slug, &id, &caller.id, changes).await?;
    Ok(http::json(StatusCode::OK, &ArticleBody { article }))
}
