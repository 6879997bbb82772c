//! Favorites: the favorite item and both counts change in one transaction.

use super::Store;
use super::articles::{ABSENT, ArticleWriteError, LIVE};
use super::items::favorite_item;
use super::keys;
use super::receipts::Receipt;
use super::transact::{TxOutcome, undecided};
use super::writes::n;
use crate::domain::{Article, UserId};

/// What setting a favorite did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FavoriteOutcome {
    /// It changed the favorite (and wrote the receipt, if one was given).
    Changed,
    /// It was already so: nothing was written, the receipt neither.
    AlreadySo,
    /// The writer's claim on its idempotency key is gone: nothing was written.
    KeyTaken,
}

impl Store {
    /// Makes `user` favorite (or stop favoriting) `article`, with `receipt` in
    /// the same transaction when given. The favorite item, the article's count
    /// and the user's count change together, so the counts always equal the
    /// number of favorite items. Idempotent.
    pub(crate) async fn set_favorite(
        &self,
        article: &Article,
        user: &UserId,
        favorite: bool,
        receipt: Option<&Receipt>,
    ) -> Result<FavoriteOutcome, ArticleWriteError> {
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
        match self.transact(writes, receipt, undecided).await? {
            TxOutcome::Committed => Ok(FavoriteOutcome::Changed),
            TxOutcome::KeyTaken => Ok(FavoriteOutcome::KeyTaken),
            TxOutcome::ConditionFailed(failed) if failed[1] || failed[2] => {
                Err(ArticleWriteError::NotFound)
            }
            // Already in the requested state.
            TxOutcome::ConditionFailed(_) => Ok(FavoriteOutcome::AlreadySo),
        }
    }
}
