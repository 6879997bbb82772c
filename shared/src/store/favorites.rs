//! Favorites: the favorite item and both counts change in one transaction
//! (the article's count on one of its counters once it is hot: `shards`).

use super::Store;
use super::articles::ArticleWriteError;
use super::items::favorite_item;
use super::keys;
use super::receipts::Receipt;
use super::shards;
use super::transact::{TxOutcome, undecided};
use super::writes::{ABSENT, n};
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
    /// number of favorite items. Idempotent. A transaction that took longer
    /// than [`shards::HOT_AFTER`] turns the article hot.
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
            self.favorite_counter(article, delta),
            self.update(
                &keys::user(user),
                "ADD favorite_count :delta",
                Some("attribute_exists(pk)"),
                &[(":delta", n(delta))],
            ),
        ];
        let started = std::time::Instant::now();
        let outcome = self.transact(writes, receipt, undecided).await;
        if article.favorite_shards == 0 && started.elapsed() > shards::HOT_AFTER {
            // Contended: spread the next favorites over counters. Best
            // effort; this favorite's own outcome stands either way.
            if let Err(error) = self.shard_favorites(&article.article_id).await {
                tracing::warn!(error = %error, "could not turn a contended article hot");
            }
        }
        match outcome? {
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
