//! `PUT /api/articles/{slug}`: update an article (the author only): title,
//! description, body and tags.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use tracing::instrument;
use utoipa::ToSchema;

use super::AuthorOnlyError;
use crate::App;
use crate::domain::{
    Article, ArticleId, ArticleText, ArticleView, Description, Slug, Tag, Timestamp, Title,
    ValidationErrors, parse_tag_list,
};
use crate::http::{self, ApiError, Caller};
use crate::store::retry::{Retry, limits};
use crate::store::{ArticleWriteError, StoreError};

#[derive(Deserialize, ToSchema)]
#[schema(as = UpdateArticleRequest)]
struct Input {
    article: UpdateArticleDto,
}

/// Each field as sent: absent (`None`), `null` (`Some(None)`) or a value.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = UpdateArticle)]
struct UpdateArticleDto {
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = String)]
    title: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = String)]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = String)]
    body: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = Vec<String>)]
    tag_list: Option<Option<Vec<String>>>,
}

/// A valid edit. `None` keeps a field; `tags: Some(vec![])` removes every tag.
#[derive(Debug, Clone, Default)]
pub(crate) struct ArticleChanges {
    title: Option<Title>,
    description: Option<Description>,
    body: Option<ArticleText>,
    tags: Option<Vec<Tag>>,
}

impl TryFrom<UpdateArticleDto> for ArticleChanges {
    type Error = ValidationErrors;
    fn try_from(dto: UpdateArticleDto) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let title = super::sent(&mut errors, "title", dto.title, |t| Title::parse(Some(&t)));
        let description = super::sent(&mut errors, "description", dto.description, |d| {
            Description::parse(Some(&d))
        });
        let body = super::sent(&mut errors, "body", dto.body, |b| {
            ArticleText::parse(Some(&b))
        });
        let tags = super::sent(&mut errors, "tagList", dto.tag_list, |t| {
            parse_tag_list(Some(&t))
        });
        errors.finish(|| Self {
            title,
            description,
            body,
            tags,
        })
    }
}

impl ArticleChanges {
    /// `article` with these changes applied at `now`: a new title gives a new
    /// slug (same article id, so still unique); the version moves on.
    fn apply(&self, article: &Article, now: Timestamp) -> Article {
        let mut next = article.clone();
        if let Some(title) = &self.title {
            next.slug = Slug::new(title.as_str(), &article.article_id);
            next.title = title.clone();
        }
        if let Some(description) = &self.description {
            next.description = description.clone();
        }
        if let Some(tags) = &self.tags {
            next.tag_list = tags.clone();
        }
        // Never earlier than the stored time, so `updatedAt` moves forward
        // even if this clock lags the one that wrote it.
        next.updated_at = now.max(article.updated_at);
        next.version = article.version + 1;
        next
    }
}

/// Why an article could not be updated.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UpdateArticleError {
    /// Not found, not the caller's, or storage failed: as every author-only action.
    #[error(transparent)]
    Author(#[from] AuthorOnlyError),
    /// The article is no longer at the version the caller's `If-Match` named.
    #[error("the article changed since the caller read it")]
    Changed,
}

impl From<StoreError> for UpdateArticleError {
    fn from(error: StoreError) -> Self {
        Self::Author(error.into())
    }
}

impl From<UpdateArticleError> for ApiError {
    fn from(error: UpdateArticleError) -> Self {
        match error {
            UpdateArticleError::Author(e) => e.into(),
            UpdateArticleError::Changed => ApiError::PreconditionFailed("article"),
        }
    }
}

/// Applies changes to the caller's article, tags included: links and tag
/// counts move in the same transaction as the article, guarded by its version.
/// With `expected` (from `If-Match`), only onto that version: a concurrent
/// edit then fails the write's version condition, and the caller gets
/// [`UpdateArticleError::Changed`] instead of a retry onto what they never saw.
#[instrument(skip(app, caller, changes), fields(caller = %caller.id))]
pub(crate) async fn update_article(
    app: &App,
    slug: &Slug,
    id: &ArticleId,
    caller: &Caller,
    changes: ArticleChanges,
    expected: Option<u64>,
    now: Timestamp,
) -> Result<ArticleView, UpdateArticleError> {
    // Lost to a concurrent edit: re-read, re-decide, re-apply. The first
    // read has the caller's item beside it (their session must be live).
    let mut retry = Retry::new(limits::EDIT);
    let mut first = true;
    while retry.next().await {
        let found = if std::mem::take(&mut first) {
            super::in_session(app, caller, app.store.article(id, true))
                .await?
                .map_err(AuthorOnlyError::Ended)?
        } else {
            app.store.article(id, true).await?
        };
        let article = super::authored(found, slug, &caller.id)?;
        if expected.is_some_and(|version| version != article.version) {
            return Err(UpdateArticleError::Changed);
        }
        let next = changes.apply(&article, now);
        match app
            .store
            .edit_article(&article, &next, changes.body.as_ref())
            .await
        {
            Ok(()) => {
                return Ok(super::reload(app, id, &caller.id)
                    .await?
                    .ok_or(AuthorOnlyError::NotFound)?);
            }
            Err(ArticleWriteError::Changed) if expected.is_some() => {
                return Err(UpdateArticleError::Changed);
            }
            Err(ArticleWriteError::Changed) => continue,
            Err(ArticleWriteError::NotFound) => return Err(AuthorOnlyError::NotFound.into()),
            Err(ArticleWriteError::Forbidden) => return Err(AuthorOnlyError::Forbidden.into()),
            Err(ArticleWriteError::Store(e)) => return Err(e.into()),
        }
    }
    Err(retry.exhausted().into())
}

/// Lambda entry point.
#[utoipa::path(
    put,
    path = "/articles/{slug}",
    tag = "Articles",
    operation_id = "UpdateArticle",
    summary = "Edit an article",
    params(("slug" = String, Path, description = "The article's slug")),
    request_body(content = Input, description = "The fields to change; `tagList` replaces the tags"),
    responses(
        (status = 200, description = "The edited article (its slug changes with its title)", body = super::dto::ArticleBody),
        (status = 403, description = "Someone else's article", body = crate::http::ErrorsBody),
        (status = 404, description = "No such article", body = crate::http::ErrorsBody),
        (status = 422, description = "Invalid fields", body = crate::http::ErrorsBody),
    ),
    security(("Token" = [])),
)]
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let caller = http::require_auth(app, request)?;
    let (slug, id) = http::slug_param(request)?;
    let input: Input = http::parse_json(request)?;
    let changes = ArticleChanges::try_from(input.article)?;
    let expected = match http::IfMatch::of(request) {
        None => None,
        Some(condition) => {
            // What the caller would GET now (strongly read), and its version.
            let current = super::reload(app, &id, &caller.id)
                .await?
                .filter(|view| view.article.slug == slug)
                .ok_or(ApiError::NotFound("article"))?;
            if !condition.matches(&http::entity_tag(
                super::get_article::shown(&current).body(),
            )) {
                return Err(ApiError::PreconditionFailed("article"));
            }
            Some(current.article.version)
        }
    };
    let view = update_article(
        app,
        &slug,
        &id,
        &caller,
        changes,
        expected,
        Timestamp::now(),
    )
    .await?;
    Ok(super::get_article::shown(&view))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> Result<ArticleChanges, ValidationErrors> {
        ArticleChanges::try_from(serde_json::from_value::<UpdateArticleDto>(json).unwrap())
    }

    #[test]
    fn an_absent_tag_list_keeps_the_tags() {
        assert!(
            parse(serde_json::json!({"body": "b"}))
                .unwrap()
                .tags
                .is_none()
        );
    }

    #[test]
    fn an_empty_tag_list_removes_every_tag() {
        let changes = parse(serde_json::json!({"tagList": []})).unwrap();
        assert_eq!(changes.tags, Some(vec![]));
    }

    #[test]
    fn a_new_tag_list_replaces_the_tags_normalised() {
        let changes = parse(serde_json::json!({"tagList": ["Rust", "aws", "rust"]})).unwrap();
        let tags: Vec<&str> = changes
            .tags
            .as_ref()
            .unwrap()
            .iter()
            .map(Tag::as_str)
            .collect();
        assert_eq!(tags, ["aws", "rust"]);
    }

    #[test]
    fn a_null_field_is_refused_naming_it() {
        for field in ["tagList", "title", "description", "body"] {
            let errors = parse(serde_json::json!({ field: null })).unwrap_err();
            assert_eq!(errors.fields()[field], ["can't be null"], "{field}");
        }
    }

    #[test]
    fn a_blank_title_is_refused() {
        let errors = parse(serde_json::json!({"title": "  "})).unwrap_err();
        assert_eq!(errors.fields()["title"], ["can't be blank"]);
    }
}
