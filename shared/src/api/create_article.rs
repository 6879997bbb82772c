//! `POST /api/articles`: create an article.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use tracing::instrument;
use utoipa::ToSchema;

use super::dto::{ArticleBody, ArticleDto};
use crate::App;
use crate::auth::TokenError;
use crate::domain::{
    Article, ArticleId, ArticleText, ArticleView, Description, Session, Slug, Tag, Timestamp,
    Title, User, UserId, ValidationErrors, parse_tag_list,
};
use crate::http::{self, ApiError};
use crate::idempotency;
use crate::store::receipts::Receipt;
use crate::store::{CreateError, StoreError};
use crate::telemetry::Counter;

#[derive(Deserialize, ToSchema)]
#[schema(as = NewArticleRequest)]
struct Input {
    article: NewArticleDto,
}

#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = NewArticle)]
struct NewArticleDto {
    #[schema(value_type = String, required = true)]
    title: Option<String>,
    #[schema(value_type = String, required = true)]
    description: Option<String>,
    #[schema(value_type = String, required = true)]
    body: Option<String>,
    tag_list: Option<Vec<String>>,
}

/// A valid new article, as the author wrote it.
#[derive(Debug, Clone)]
pub struct ArticleDraft {
    title: Title,
    description: Description,
    body: ArticleText,
    tags: Vec<Tag>,
}

impl ArticleDraft {
    /// A draft from parsed parts (tags as [`parse_tag_list`] leaves them).
    pub fn new(title: Title, description: Description, body: ArticleText, tags: Vec<Tag>) -> Self {
        Self {
            title,
            description,
            body,
            tags,
        }
    }

    /// The article this draft becomes under `id` at `now`: the slug is the
    /// title's words and the id, so the same title twice is two articles.
    fn article(&self, id: ArticleId, author: &UserId, now: Timestamp) -> Article {
        Article {
            slug: Slug::new(self.title.as_str(), &id),
            article_id: id,
            title: self.title.clone(),
            description: self.description.clone(),
            tag_list: self.tags.clone(),
            author_id: author.clone(),
            created_at: now,
            updated_at: now,
            favorites_count: 0,
            favorite_shards: 0,
            deleting: false,
            version: 0,
        }
    }
}

impl TryFrom<NewArticleDto> for ArticleDraft {
    type Error = ValidationErrors;
    fn try_from(dto: NewArticleDto) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let title = errors.check("title", Title::parse(dto.title.as_deref()));
        let description = errors.check(
            "description",
            Description::parse(dto.description.as_deref()),
        );
        let body = errors.check("body", ArticleText::parse(dto.body.as_deref()));
        let tags = errors.check("tagList", parse_tag_list(dto.tag_list.as_deref()));
        match (title, description, body, tags) {
            (Some(title), Some(description), Some(body), Some(tags)) if errors.is_empty() => {
                Ok(Self::new(title, description, body, tags))
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
    /// The caller's session has ended.
    #[error("the caller's session has ended")]
    Ended,
    /// The request's idempotency key was used by a create that committed first.
    #[error("idempotency key already used")]
    KeyTaken,
    /// The fresh id was taken (odds about 2^-62 per article stored): nothing
    /// was written, and a retry draws another.
    #[error("fresh article id already taken")]
    IdTaken,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<CreateArticleError> for ApiError {
    fn from(error: CreateArticleError) -> Self {
        match error {
            CreateArticleError::Gone => ApiError::Unauthorized(TokenError::Invalid),
            CreateArticleError::Ended => ApiError::Unauthorized(TokenError::Ended),
            CreateArticleError::KeyTaken => ApiError::KeyInUse,
            CreateArticleError::IdTaken => ApiError::Unavailable(Box::new(error)),
            CreateArticleError::Store(e) => e.into(),
        }
    }
}

/// An article decided and not yet written: as its author will see it.
#[derive(Debug)]
pub struct ArticlePlan {
    author: User,
    view: ArticleView,
}

impl ArticlePlan {
    /// The new article as its author sees it.
    pub(crate) fn view(&self) -> &ArticleView {
        &self.view
    }
}

/// Decides the article `author` creates at `now` from `draft`: a fresh id,
/// and the slug from its title and id.
#[instrument(skip_all, fields(author = %author))]
pub async fn plan_article(
    app: &App,
    author: &UserId,
    session: &Session,
    draft: ArticleDraft,
    now: Timestamp,
) -> Result<ArticlePlan, CreateArticleError> {
    let user = app
        .store
        .user(author, true)
        .await?
        .ok_or(CreateArticleError::Gone)?;
    // The author's own item, read anyway: the session check costs nothing.
    if !user.admits(session) {
        return Err(CreateArticleError::Ended);
    }
    let view = ArticleView {
        article: draft.article(ArticleId::generate(), author, now),
        author: user.clone(),
        following: false,
        favorited: false,
        body: Some(draft.body),
    };
    Ok(ArticlePlan { author: user, view })
}

/// Writes the article `plan` decided, with `receipt` (the response, for an
/// idempotency key) in the same transaction.
#[instrument(skip_all)]
pub async fn create_article(
    app: &App,
    plan: ArticlePlan,
    receipt: Option<&Receipt>,
) -> Result<ArticleView, CreateArticleError> {
    let ArticlePlan { author, view } = plan;
    let body = view.body.as_ref().expect("a planned article has its body");
    match app
        .store
        .create_article(&author, &view.article, body, receipt)
        .await
    {
        Ok(()) => {
            crate::invocation::count(Counter::ArticleCreated);
            Ok(view)
        }
        Err(CreateError::IdTaken) => Err(CreateArticleError::IdTaken),
        Err(CreateError::KeyTaken) => Err(CreateArticleError::KeyTaken),
        Err(CreateError::AuthorGone) => Err(CreateArticleError::Gone),
        Err(CreateError::Store(e)) => Err(e.into()),
    }
}

/// Lambda entry point.
#[utoipa::path(
    post,
    path = "/articles",
    tag = "Articles",
    operation_id = "CreateArticle",
    summary = "Create an article",
    request_body(content = Input, description = "The article"),
    responses(
        (status = 201, description = "The new article", body = super::dto::ArticleBody),
        (status = 422, description = "Missing or invalid fields", body = crate::http::ErrorsBody),
    ),
    security(("Token" = [])),
)]
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let caller = http::require_auth(app, request)?;
    let me = &caller;
    let (caller, session) = (&caller.id, &caller.session);
    idempotency::within(app, request, Some(me), |keyed| async move {
        let input: Input = http::parse_json(request)?;
        let draft = ArticleDraft::try_from(input.article)?;
        let plan = plan_article(app, caller, session, draft, Timestamp::now()).await?;
        let response = render(plan.view());
        let receipt = keyed.map(|keyed| keyed.receipt(&response));
        create_article(app, plan, receipt.as_ref()).await?;
        Ok(response)
    })
    .await
}

fn render(view: &ArticleView) -> Response<Body> {
    http::json(
        StatusCode::CREATED,
        &ArticleBody {
            article: ArticleDto::new(view),
        },
    )
}
