//! One module per endpoint but the OpenAPI document's (`openapi::handle`),
//! plus `following` and `favoriting`, the use cases
//! shared by the follow/unfollow and favorite/unfavorite pairs. Each has its input DTO and its parse into domain
//! types, its use case with its own error enum, and `handle`, the Lambda entry.

pub mod add_comment;
pub(crate) mod auth_limits;
pub mod create_article;
pub mod delete_article;
pub mod delete_comment;
pub(crate) mod dto;
pub mod end_sessions;
pub mod favorite_article;
pub mod favoriting;
pub mod follow_user;
pub mod following;
pub mod get_article;
pub mod get_current_user;
pub mod get_feed;
pub mod get_profile;
pub mod get_tags;
pub mod list_articles;
pub mod list_comments;
pub mod login;
pub mod register;
pub mod unfavorite_article;
pub mod unfollow_user;
pub mod update_article;
pub mod update_user;

use serde::{Deserialize, Deserializer};

use crate::App;
use crate::domain::{Article, ArticleId, ArticleView, Slug, Taken, UserId, ValidationErrors};
use crate::store::StoreError;

/// The 409 body for usernames or emails someone else holds.
pub(crate) fn taken_errors(taken: Taken) -> ValidationErrors {
    let mut errors = ValidationErrors::default();
    if taken.username {
        errors.add("username", "has already been taken");
    }
    if taken.email {
        errors.add("email", "has already been taken");
    }
    errors
}

/// Distinguishes a field sent as `null` (`Some(None)`) from one not sent (`None`).
pub(crate) fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A field of a partial update that cannot be cleared: not sent is `None`
/// (keep it), `null` is an error, a value must parse.
pub(crate) fn sent<T, U>(
    errors: &mut ValidationErrors,
    field: &str,
    raw: Option<Option<T>>,
    parse: impl FnOnce(T) -> Result<U, String>,
) -> Option<U> {
    match raw {
        None => None,
        Some(None) => {
            errors.add(field, "can't be null");
            None
        }
        Some(Some(value)) => errors.check(field, parse(value)),
    }
}

/// The article as `caller` sees it now, read strongly consistently (to
/// decide a write, or to show one just made); `None` if there is none.
pub(crate) async fn reload(
    app: &App,
    id: &ArticleId,
    caller: &UserId,
) -> Result<Option<ArticleView>, StoreError> {
    app.store.article_view(id, Some(caller), true).await
}

/// `read`, the first read of a write, beside the read of the caller's own
/// item: what it found, or the refusal if their session has ended (the
/// write's use case names it in its own error).
pub(crate) async fn in_session<T>(
    app: &App,
    caller: &crate::http::Caller,
    read: impl std::future::Future<Output = Result<T, StoreError>>,
) -> Result<Result<T, crate::http::ApiError>, StoreError> {
    let (found, live) = tokio::try_join!(read, caller.session(app))?;
    Ok(live.map(|()| found))
}

/// `article`, if it is the one `slug` names now and `caller` wrote it: the
/// decision behind every author-only action.
pub(crate) fn authored(
    article: Option<Article>,
    slug: &Slug,
    caller: &UserId,
) -> Result<Article, AuthorOnlyError> {
    let article = article
        .filter(|a| a.slug == *slug)
        .ok_or(AuthorOnlyError::NotFound)?;
    if &article.author_id != caller {
        return Err(AuthorOnlyError::Forbidden);
    }
    Ok(article)
}

/// Why an action only an article's author may take (edit, delete) did not happen.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AuthorOnlyError {
    /// No live article has this slug.
    #[error("article not found")]
    NotFound,
    /// The article is someone else's.
    #[error("not the author")]
    Forbidden,
    /// The caller's session has ended (or the caller is gone).
    #[error("the caller's session has ended")]
    Ended(#[source] crate::http::ApiError),
    /// Storage failed, or concurrent writers kept winning.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<AuthorOnlyError> for crate::http::ApiError {
    fn from(error: AuthorOnlyError) -> Self {
        match error {
            AuthorOnlyError::NotFound => Self::NotFound("article"),
            AuthorOnlyError::Forbidden => Self::Forbidden("article"),
            AuthorOnlyError::Ended(refused) => refused,
            AuthorOnlyError::Store(e) => e.into(),
        }
    }
}
