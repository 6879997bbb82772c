//! Favorites: the favorite item and both counts change in one transaction.

use super::articles::{ABSENT, ArticleWriteError, LIVE};
use super::items::{ArticleRecord, favorite_item};
use super::keys;
use super::{KeyTaken, Store, StoreError, TxOutcome, n};
use crate::domain::UserId;
use crate::idempotency::Receipt;

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
        match self
            .set_favorite_receipted(article, user, favorite, None)
            .await?
        {
            Ok(_) => Ok(()),
            Err(KeyTaken) => {
                Err(StoreError::Unexpected("a receipt condition without a receipt".into()).into())
            }
        }
    }

    /// [`Store::set_favorite`] with an idempotency receipt in the same
    /// transaction: `Ok(true)` if it changed the favorite (and wrote the
    /// receipt), `Ok(false)` if it was already so (nothing written, the
    /// receipt neither), `Err(KeyTaken)` if the writer's claim is gone.
    pub async fn set_favorite_receipted(
        &self,
        article: &ArticleRecord,
        user: &UserId,
        favorite: bool,
        receipt: Option<&Receipt>,
    ) -> Result<Result<bool, KeyTaken>, ArticleWriteError> {
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
        let outcome = match self
            .transact_receipted(writes, receipt, || async { Ok(None) })
            .await?
        {
            Ok(outcome) => outcome,
            Err(KeyTaken) => return Ok(Err(KeyTaken)),
        };
        match outcome {
            TxOutcome::Committed => Ok(Ok(true)),
            TxOutcome::ConditionFailed(failed) if failed[1] || failed[2] => {
                Err(ArticleWriteError::NotFound)
            }
            // Already in the requested state.
            TxOutcome::ConditionFailed(_) => Ok(Ok(false)),
        }
    }
}
