//! Hot articles: when favoriting one contends, its favorites move from its
//! own item to counter items, so concurrent favorites (and the live checks
//! of concurrent comments) spread over several items instead of queueing or
//! cancelling each other on one. Its count is then its own item's plus the
//! counters': read beside its author where the article was read first (a
//! view, a favorite), in one more batch where a list found it hot. The counters
//! exist exactly while the article is live: made with the switch, deleted
//! by the tombstone.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::TransactWriteItem;
use rand::Rng;

use super::items::{Item, ShardRecord, from_item, shard_item};
use super::keys::{self, Key};
use super::transact::{TxOutcome, undecided, unreceipted};
use super::writes::{ABSENT, LIVE, n};
use super::{Store, StoreError};
use crate::domain::{Article, ArticleId, ArticleView};

/// Counter items of a hot article.
pub const SHARDS: u8 = 8;

/// A favorite whose transaction took longer than this (it lost to
/// concurrent ones and retried, or waited its turn) turns its article hot;
/// an uncontended one takes a few milliseconds.
pub(crate) const HOT_AFTER: Duration = Duration::from_millis(100);

/// Condition on a counter item: it exists, so the article is live.
const COUNTER_EXISTS: &str = "attribute_exists(pk)";

impl Store {
    /// Turns article `id` hot: its counters are made and the article says how
    /// many, in one transaction (which also bumps its version, so a delete
    /// that read it before re-reads and deletes the counters). `false` when
    /// it already was, or is gone.
    pub async fn shard_favorites(&self, id: &ArticleId) -> Result<bool, StoreError> {
        let mut writes = vec![self.update(
            &keys::article(id),
            "SET favorite_shards = :shards ADD version :one",
            Some(&format!("{LIVE} AND attribute_not_exists(favorite_shards)")),
            &[(":shards", n(SHARDS)), (":one", n(1))],
        )];
        for shard in 0..SHARDS {
            writes.push(self.put(shard_item(id, shard), Some(ABSENT)));
        }
        match self.transact(writes, None, undecided).await? {
            TxOutcome::Committed => Ok(true),
            TxOutcome::ConditionFailed(_) => Ok(false),
            TxOutcome::KeyTaken => Err(unreceipted()),
        }
    }

    /// The write that counts a favorite (`delta` ±1) of `article`: on one
    /// of its counters, at random, when it is hot (failing if the article is
    /// gone), else on its own item (failing unless it is live).
    pub(super) fn favorite_counter(&self, article: &Article, delta: i64) -> TransactWriteItem {
        match pick(article.favorite_shards) {
            Some(shard) => self.update(
                &keys::favorite_shard(&article.article_id, shard),
                "ADD favorites_count :delta",
                Some(COUNTER_EXISTS),
                &[(":delta", n(delta))],
            ),
            None => self.update(
                &keys::article(&article.article_id),
                "ADD favorites_count :delta",
                Some(LIVE),
                &[(":delta", n(delta))],
            ),
        }
    }

    /// The check that `article` is live, for a write that attaches to it (a
    /// comment): on one of its counters when it is hot, so concurrent
    /// comments spread like its favorites, else on the article itself.
    pub(super) fn live_check(&self, article: &ArticleId, favorite_shards: u8) -> TransactWriteItem {
        match pick(favorite_shards) {
            Some(shard) => self.check(&keys::favorite_shard(article, shard), COUNTER_EXISTS, &[]),
            None => self.check(&keys::article(article), LIVE, &[]),
        }
    }

    /// Adds the counters of the hot articles among `views` to their counts,
    /// from `found` where the caller's batch read already brought them (a
    /// hot article it had read before), else from one more batch read
    /// (none when no other article is hot).
    pub(super) async fn count_shards(
        &self,
        views: &mut [ArticleView],
        found: &HashMap<Key, Item>,
    ) -> Result<(), StoreError> {
        let missing: Vec<Key> = views
            .iter()
            .flat_map(|v| counters(&v.article))
            .filter(|key| !found.contains_key(key))
            .collect();
        let fetched = if missing.is_empty() {
            HashMap::new()
        } else {
            self.batch_get(missing, false).await?
        };
        for view in views {
            let mut total = view.article.favorites_count as i64;
            for key in counters(&view.article) {
                if let Some(item) = found.get(&key).or_else(|| fetched.get(&key)) {
                    total += from_item::<ShardRecord>(item.clone())?.favorites_count;
                }
            }
            view.article.favorites_count = total.max(0) as u64;
        }
        Ok(())
    }

    /// Deletes of `article`'s counters, for its tombstone's transaction.
    pub(super) fn delete_counters(&self, article: &Article) -> Vec<TransactWriteItem> {
        counters(article)
            .iter()
            .map(|key| self.delete(key, None, &[]))
            .collect()
    }
}

/// The keys of `article`'s counters (none unless it is hot).
pub(super) fn counters(article: &Article) -> Vec<Key> {
    (0..article.favorite_shards)
        .map(|shard| keys::favorite_shard(&article.article_id, shard))
        .collect()
}

/// A counter at random, when there are any.
fn pick(shards: u8) -> Option<u8> {
    (shards > 0).then(|| rand::rng().random_range(0..shards))
}
