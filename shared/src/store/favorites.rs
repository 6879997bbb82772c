//! Favorites: the favorite item and both counts change in one transaction.

use super::articles::{ABSENT, ArticleWriteError, LIVE};
use super::items::{ArticleRecord, favorite_item};
use super::keys;
use super::{Store, TxOutcome, n};
use crate::domain::UserId;

impl Store {
    /// Makes `user` favorite (or stop favoriting) an article. The favorite item,
    /// the article's count and the user's count change in one transaction, so the
    /// counts always equal the number of favorite items. Idempotent.
    pub async fn set_favorite(
        &self,
        article: &ArticleRecord,
        user: &UserId,
        favorite: bool,
    ) -> Result<(), ArticleWriteError> {
        let key = keys::favorite(&article.article_id, user);
        let (first, delta) = if favorite {
            (self.put(favorite_item(article, user), Some(ABSENT)), 1)
        } else {
            (self.delete(&key, Some("attribute_exists(pk)"), &[]), -1)
        };
        let writes = vec![
            first,
            self.update(
                &keys::article(&article.article_id),
                "ADD favorites_count :delta",
                Some(LIVE),
                &[(":delta", n(delta))],
            ),
            self.update(
                &keys::user(user),
                "ADD favorite_count :delta",
                Some("attribute_exists(pk)"),
                &[(":delta", n(delta))],
            ),
        ];
        match self.transact(writes).await? {
            TxOutcome::Committed => Ok(()),
            TxOutcome::ConditionFailed(failed) if failed[1] || failed[2] => {
                Err(ArticleWriteError::NotFound)
            }
            // Already in the requested state.
            TxOutcome::ConditionFailed(_) => Ok(()),
        }
    }
}
