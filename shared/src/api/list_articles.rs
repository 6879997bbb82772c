//! `GET /api/articles?tag&author&favorited&limit&offset`: recent articles.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::instrument;

use super::dto::{ArticleSummaryDto, ArticlesBody};
use crate::App;
use crate::domain::{ArticlePage, Page, Tag, UserId, Username, ValidationErrors};
use crate::http::{self, ApiError};
use crate::store::{ListFilter, StoreError};

/// The filter as asked for, before usernames are resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Filter {
    /// No filter.
    None,
    /// `?tag=`.
    Tag(Tag),
    /// `?author=` (a username).
    Author(Username),
    /// `?favorited=` (a username).
    FavoritedBy(Username),
    /// `?author=` or `?favorited=` with what cannot be a username: nobody's
    /// articles, an empty list (as for a username nobody holds).
    Nobody,
}

impl Filter {
    /// Parses the query. Combining filters is refused: each is served by its own
    /// index partition, and intersecting them would read and discard.
    pub fn parse(
        tag: Option<&str>,
        author: Option<&str>,
        favorited: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        let given = |v: Option<&str>| {
            v.map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        match (given(tag), given(author), given(favorited)) {
            (None, None, None) => Ok(Self::None),
            (Some(tag), None, None) => Tag::parse(&tag)
                .map(Self::Tag)
                .map_err(|m| ValidationErrors::single("tag", m)),
            (None, Some(author), None) => Ok(Username::parse(Some(&author))
                .map(Self::Author)
                .unwrap_or(Self::Nobody)),
            (None, None, Some(user)) => Ok(Username::parse(Some(&user))
                .map(Self::FavoritedBy)
                .unwrap_or(Self::Nobody)),
            _ => Err(ValidationErrors::single(
                "filter",
                "use at most one of tag, author and favorited",
            )),
        }
    }
}

/// Why a list could not be served.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ListError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ListError> for ApiError {
    fn from(error: ListError) -> Self {
        match error {
            ListError::Store(e) => e.into(),
        }
    }
}

/// One page of a list; an unknown author or favoriter is simply an empty list.
#[instrument(skip(app, viewer))]
pub(crate) async fn list(
    app: &App,
    filter: Filter,
    page: Page,
    viewer: Option<&UserId>,
) -> Result<ArticlePage, ListError> {
    let filter = match filter {
        Filter::None => ListFilter::All,
        Filter::Tag(tag) => ListFilter::Tag(tag),
        Filter::Author(name) => match app.store.user_id_by_username(&name).await? {
            Some(id) => ListFilter::Author(id),
            None => return Ok(ArticlePage::default()),
        },
        Filter::FavoritedBy(name) => match app.store.user_id_by_username(&name).await? {
            Some(id) => ListFilter::FavoritedBy(id),
            None => return Ok(ArticlePage::default()),
        },
        Filter::Nobody => return Ok(ArticlePage::default()),
    };
    Ok(app.store.list_articles(&filter, page, viewer).await?)
}

/// Renders a page of articles (list items carry no body).
pub(crate) fn page_body(page: &ArticlePage) -> ArticlesBody {
    ArticlesBody {
        articles: page.articles.iter().map(ArticleSummaryDto::new).collect(),
        articles_count: page.count,
    }
}

/// Lambda entry point.
#[utoipa::path(
    get,
    path = "/articles",
    tag = "Articles",
    operation_id = "GetArticles",
    summary = "Articles, newest first",
    params(("tag" = Option<String>, Query, description = "Only articles with this tag"), ("author" = Option<String>, Query, description = "Only articles by this username"), ("favorited" = Option<String>, Query, description = "Only articles this username favorited"), ("offset" = Option<u32>, Query, description = "Articles to skip (at most 10000)", minimum = 0), ("limit" = Option<u32>, Query, description = "Articles to return (default 20, at most 100)", minimum = 1, maximum = 100)),
    responses(
        (status = 200, description = "A page of articles, without bodies", body = super::dto::ArticlesBody),
        (status = 422, description = "Invalid `limit` or `offset`, or more than one of `tag`, `author`, `favorited`", body = crate::http::ErrorsBody),
    ),
    security((), ("Token" = [])),
)]
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond_cacheable(&request, serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let viewer = http::optional_auth(app, request)?;
    let page = http::page(request)?;
    let filter = Filter::parse(
        http::query_param(request, "tag").as_deref(),
        http::query_param(request, "author").as_deref(),
        http::query_param(request, "favorited").as_deref(),
    )?;
    let result = list(app, filter, page, viewer.as_ref().map(|c| &c.id)).await?;
    Ok(http::json(StatusCode::OK, &page_body(&result)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_filter_at_most_is_accepted() {
        assert_eq!(Filter::parse(None, None, None).unwrap(), Filter::None);
        assert_eq!(
            Filter::parse(Some(" Rust "), None, None).unwrap(),
            Filter::Tag(Tag::parse("rust").unwrap())
        );
        assert_eq!(Filter::parse(None, Some(""), None).unwrap(), Filter::None);
        assert!(Filter::parse(Some("a"), Some("b"), None).is_err());
        assert!(Filter::parse(Some(&"x".repeat(41)), None, None).is_err());
        assert_eq!(
            Filter::parse(None, Some("no such name!"), None).unwrap(),
            Filter::Nobody
        );
    }
}
