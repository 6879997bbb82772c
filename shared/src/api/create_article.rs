//! `POST /api/articles`: create an article.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use tracing::instrument;

use crate::App;
use crate::auth::TokenError;
use crate::domain::{UserId, ValidationErrors, limits, parse_body, parse_tag_list, parse_text};
use crate::http::{self, ApiError, ArticleBody, ArticleDto};
use crate::store::StoreError;
use crate::store::articles::{ArticleDraft, ArticleView};

#[derive(Deserialize)]
struct Input {
    article: NewArticleDto,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewArticleDto {
    title: Option<String>,
    description: Option<String>,
    body: Option<String>,
    tag_list: Option<Vec<String>>,
}

impl TryFrom<NewArticleDto> for ArticleDraft {
    type Error = ValidationErrors;
    fn try_from(dto: NewArticleDto) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let title = errors.check("title", parse_text(dto.title.as_deref(), limits::TITLE_MAX));
        let description = errors.check(
            "description",
            parse_text(dto.description.as_deref(), limits::DESCRIPTION_MAX),
        );
        let body = errors.check(
            "body",
            parse_body(dto.body.as_deref(), limits::ARTICLE_BODY_MAX),
        );
        let tags = errors.check("tagList", parse_tag_list(dto.tag_list.as_deref()));
        match (title, description, body, tags) {
            (Some(title), Some(description), Some(body), Some(tags)) if errors.is_empty() => {
                Ok(Self {
                    title,
                    description,
                    body,
                    tags,
                })
            }
            _ => Err(errors),
        }
    }
}

/// Why an article could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateArticleError {
    /// The token names a user that no longer exists.
    #[error("author no longer exists")]
    Gone,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<CreateArticleError> for ApiError {
    fn from(error: CreateArticleError) -> Self {
        match error {
            CreateArticleError::Gone => ApiError::Unauthorized(TokenError::Invalid),
            CreateArticleError::Store(e) => e.into(),
        }
    }
}

/// Creates an article; its slug is derived from the title and made unique by
/// the article id, so the same title twice is two articles.
#[instrument(skip_all, fields(author = %author))]
pub async fn create_article(
    app: &App,
    author: &UserId,
    draft: ArticleDraft,
) -> Result<ArticleDto, CreateArticleError> {
    let user = app
        .store
        .user(author, true)
        .await?
        .ok_or(CreateArticleError::Gone)?;
    let article = app.store.create_article(&user, &draft).await?;
    let view = ArticleView {
        article,
        author: user,
        following: false,
        favorited: false,
    };
    Ok(ArticleDto::new(&view, Some(draft.body)))
}

/// Lambda entry point.
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let caller = http::require_auth(app, request)?;
    let input: Input = http::parse_json(request)?;
    let draft = ArticleDraft::try_from(input.article)?;
    let article = create_article(app, &caller.id, draft).await?;
    Ok(http::json(StatusCode::CREATED, &ArticleBody { article }))
}
