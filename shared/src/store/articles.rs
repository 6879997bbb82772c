//! Articles: their lifecycle (create, edit, delete) and the counts that
//! change with them, and single-article reads. Lists and the feed are in
//! `lists`, favorites in `favorites`, comments in `comments`, tag counts in `tags`.

use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, ReturnConsumedCapacity, TransactWriteItem, WriteRequest,
};

use super::items::{
    BodyRecord, RECENT_MAX, article_item, from_item, key_item, key_of, tag_link_item, to_item,
};
use super::keys::{self, Key};
use super::lists::Entry;
use super::retry::{Retry, limits};
use super::transact::{TxOutcome, undecided, unreceipted};
use super::writes::{ABSENT, LIVE, n, s};
use super::{Store, StoreError};
use crate::domain::{Article, ArticleId, ArticleText, ArticleView, User, UserId};
use crate::store::receipts::Receipt;

/// Why a new article was not written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CreateError {
    /// An article with this id exists (about one chance in 36^12); nothing was written.
    #[error("article id already taken")]
    IdTaken,
    /// The author's user item is gone.
    #[error("author no longer exists")]
    AuthorGone,
    /// The write's idempotency key already holds a receipt; nothing was written.
    #[error("idempotency key already used")]
    KeyTaken,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an article write did not apply.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ArticleWriteError {
    /// No such article (or it is being deleted).
    #[error("article not found")]
    NotFound,
    /// Someone else's article or comment.
    #[error("not the author")]
    Forbidden,
    /// The article changed since it was read; re-read it and try again.
    #[error("the article changed concurrently")]
    Changed,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The condition that an article is still at `version`, with its values.
/// Articles written before versions existed have no attribute: that is version 0.
fn version_guard(version: u64) -> (&'static str, Vec<(&'static str, AttributeValue)>) {
    let condition = if version == 0 {
        "(attribute_not_exists(version) OR version = :version)"
    } else {
        "version = :version"
    };
    (condition, vec![(":version", n(version))])
}

impl Store {
    /// Writes a new article (decided by the use case: id, slug, times) with
    /// its body, tag links and every count in one transaction. The author's
    /// item guards `recent` and `article_count` by its version: when another
    /// write moved it on, it is re-read and the transaction retried (a storage
    /// concern, invisible to the caller).
    pub(crate) async fn create_article(
        &self,
        author: &User,
        article: &Article,
        body: &ArticleText,
        receipt: Option<&Receipt>,
    ) -> Result<(), CreateError> {
        let mut author = author.clone();
        let mut retry = Retry::new(limits::VERSIONED_WRITE);
        while retry.next().await {
            let mut recent = author.recent.clone();
            recent.insert(0, keys::timeline_of(article));
            recent.sort_by(|a, b| b.cmp(a));
            recent.truncate(RECENT_MAX);
            let mut writes = vec![
                self.put(article_item(article), Some(ABSENT)),
                self.put(
                    to_item(
                        &keys::article_body(&article.article_id),
                        &[],
                        &BodyRecord { body: body.clone() },
                    ),
                    Some(ABSENT),
                ),
                self.author_counts(&author, recent, 1),
                self.global_count(1),
            ];
            for tag in &article.tag_list {
                writes.push(self.put(tag_link_item(article, tag), None));
                writes.push(self.tag_count(tag, 1));
            }
            let settled = || async { Ok(None) };
            match self.transact(writes, receipt, settled).await? {
                TxOutcome::KeyTaken => return Err(CreateError::KeyTaken),
                TxOutcome::Committed => return Ok(()),
                TxOutcome::ConditionFailed(failed) if failed[0] || failed[1] => {
                    return Err(CreateError::IdTaken);
                }
                // The author item moved on (another article, a delete): re-read it.
                TxOutcome::ConditionFailed(_) => {
                    author = self
                        .user(&author.user_id, true)
                        .await?
                        .ok_or(CreateError::AuthorGone)?;
                }
            }
        }
        Err(retry.exhausted().into())
    }

    fn author_counts(&self, author: &User, recent: Vec<String>, delta: i64) -> TransactWriteItem {
        self.update(
            &keys::user(&author.user_id),
            "SET recent = :recent, version = :next ADD article_count :delta",
            Some("attribute_exists(pk) AND version = :version"),
            &[
                (
                    ":recent",
                    AttributeValue::L(recent.into_iter().map(AttributeValue::S).collect()),
                ),
                (":next", n(author.version + 1)),
                (":version", n(author.version)),
                (":delta", n(delta)),
            ],
        )
    }

    fn global_count(&self, delta: i64) -> TransactWriteItem {
        self.update(
            &keys::global_stats(),
            "SET gsi2pk = :all, gsi2sk = :head ADD article_count :delta",
            None,
            &[
                (":all", s(keys::ALL_ARTICLES)),
                (":head", s(keys::HEAD)),
                (":delta", n(delta)),
            ],
        )
    }

    /// An article's metadata, unless it is missing or being deleted.
    pub(crate) async fn article(
        &self,
        id: &ArticleId,
        consistent: bool,
    ) -> Result<Option<Article>, StoreError> {
        Ok(self
            .article_or_tombstone(id, consistent)
            .await?
            .filter(|a| !a.deleting))
    }

    /// An article's metadata, also while a delete is in progress (`deleting`),
    /// so a retried delete can resume.
    pub(crate) async fn article_or_tombstone(
        &self,
        id: &ArticleId,
        consistent: bool,
    ) -> Result<Option<Article>, StoreError> {
        self.get(&keys::article(id), consistent)
            .await?
            .map(from_item)
            .transpose()
    }

    /// An article with its body, its author, and the viewer's flags: two requests.
    pub(crate) async fn article_view(
        &self,
        id: &ArticleId,
        viewer: Option<&UserId>,
        consistent: bool,
    ) -> Result<Option<ArticleView>, StoreError> {
        Ok(self
            .article_view_reading(id, viewer, consistent, None)
            .await?
            .1)
    }

    /// [`Store::article_view`] as `caller` sees it, strongly consistent, with
    /// `caller`'s own user item from the same first batch read (a write's
    /// session check, at no extra request).
    pub(crate) async fn article_view_and_caller(
        &self,
        id: &ArticleId,
        caller: &UserId,
    ) -> Result<(Option<User>, Option<ArticleView>), StoreError> {
        self.article_view_reading(id, Some(caller), true, Some(caller))
            .await
    }

    async fn article_view_reading(
        &self,
        id: &ArticleId,
        viewer: Option<&UserId>,
        consistent: bool,
        also: Option<&UserId>,
    ) -> Result<(Option<User>, Option<ArticleView>), StoreError> {
        let mut wanted = vec![keys::article(id), keys::article_body(id)];
        wanted.extend(also.map(keys::user));
        let found = self.batch_get(wanted, consistent).await?;
        let user: Option<User> = also
            .and_then(|id| found.get(&keys::user(id)).cloned())
            .map(from_item)
            .transpose()?;
        let (Some(article), Some(body)) = (
            found.get(&keys::article(id)),
            found.get(&keys::article_body(id)),
        ) else {
            return Ok((user, None));
        };
        let article: Article = from_item(article.clone())?;
        let body: BodyRecord = from_item(body.clone())?;
        if article.deleting {
            return Ok((user, None));
        }
        let mut views = self.hydrate(viewer, vec![Entry::Loaded(article)]).await?;
        Ok((
            user,
            views.pop().map(|view| ArticleView {
                body: Some(body.body),
                ..view
            }),
        ))
    }

    /// Replaces the editable fields of `old` with those of `new` (title, slug,
    /// description, tags, `updated_at`, `version`) and, when given, the body, in
    /// one transaction that also moves the tag links and tag counts from the old
    /// tags to the new ones. It commits only if the article is still live, still
    /// `author`'s and still at `old.version`, so the tag diff is always taken
    /// against what is stored; [`ArticleWriteError::Changed`] tells the caller to
    /// re-read and decide again.
    pub(crate) async fn edit_article(
        &self,
        old: &Article,
        new: &Article,
        body: Option<&ArticleText>,
    ) -> Result<(), ArticleWriteError> {
        let tags =
            serde_dynamo::to_attribute_value(&new.tag_list).map_err(StoreError::Malformed)?;
        let (version_condition, mut vals) = version_guard(old.version);
        vals.extend([
            (":me", s(old.author_id.as_str())),
            (":title", s(new.title.as_str())),
            (":slug", s(new.slug.as_str())),
            (":description", s(new.description.as_str())),
            (":tags", tags),
            (":now", s(new.updated_at.render())),
            (":next", n(new.version)),
        ]);
        let mut writes = vec![self.update(
            &keys::article(&old.article_id),
            "SET title = :title, slug = :slug, description = :description, \
             tag_list = :tags, updated_at = :now, version = :next",
            Some(&format!(
                "{LIVE} AND author_id = :me AND {version_condition}"
            )),
            &vals,
        )];
        if let Some(body) = body {
            writes.push(self.put(
                to_item(
                    &keys::article_body(&old.article_id),
                    &[],
                    &BodyRecord { body: body.clone() },
                ),
                None,
            ));
        }
        for tag in old.tag_list.iter().filter(|t| !new.tag_list.contains(t)) {
            writes.push(self.delete(&keys::tag_link(&old.article_id, tag), None, &[]));
            writes.push(self.tag_count(tag, -1));
        }
        for tag in new.tag_list.iter().filter(|t| !old.tag_list.contains(t)) {
            writes.push(self.put(tag_link_item(new, tag), None));
            writes.push(self.tag_count(tag, 1));
        }
        match self.transact(writes, None, undecided).await? {
            TxOutcome::Committed => Ok(()),
            TxOutcome::KeyTaken => Err(unreceipted().into()),
            TxOutcome::ConditionFailed(_) => match self.article(&old.article_id, true).await? {
                None => Err(ArticleWriteError::NotFound),
                Some(now) if now.author_id != old.author_id => Err(ArticleWriteError::Forbidden),
                Some(_) => Err(ArticleWriteError::Changed),
            },
        }
    }

    /// Deletes an article of `author`'s and everything that hangs off it.
    ///
    /// Step one, one transaction, tombstones the article, drops it from every
    /// list and fixes every count; from then on it reads as gone. The next steps
    /// remove favorites (each with its user's count, transactionally), then
    /// comments and body, then the article item. Each step is idempotent: a
    /// retried delete of a tombstoned article resumes where a failed one stopped.
    ///
    /// `article` is as the caller read it (with [`Store::article_or_tombstone`])
    /// and decided to delete.
    pub async fn delete_article(&self, article: &Article) -> Result<(), StoreError> {
        if !article.deleting {
            self.tombstone(article).await?;
        }
        self.delete_favorites(article).await?;
        self.delete_remaining(&article.article_id).await?;
        Ok(())
    }

    /// Tombstones the article as last read, or, if an edit moved it on (its
    /// tags, and so the links and counts to undo, may differ), as re-read.
    async fn tombstone(&self, article: &Article) -> Result<(), StoreError> {
        let mut article = article.clone();
        let mut retry = Retry::new(limits::VERSIONED_WRITE);
        while retry.next().await {
            let author = self
                .user(&article.author_id, true)
                .await?
                .ok_or_else(|| StoreError::Unexpected("an article's author is missing".into()))?;
            let timeline = keys::timeline_of(&article);
            let recent: Vec<String> = author
                .recent
                .iter()
                .filter(|entry| **entry != timeline)
                .cloned()
                .collect();
            let (version_condition, vals) = version_guard(article.version);
            let mut vals = vals;
            vals.push((":yes", AttributeValue::Bool(true)));
            let mut writes = vec![
                self.update(
                    &keys::article(&article.article_id),
                    "SET deleting = :yes REMOVE gsi1pk, gsi1sk, gsi2pk, gsi2sk",
                    Some(&format!("{LIVE} AND {version_condition}")),
                    &vals,
                ),
                self.author_counts(&author, recent, -1),
                self.global_count(-1),
            ];
            for tag in &article.tag_list {
                writes.push(self.delete(&keys::tag_link(&article.article_id, tag), None, &[]));
                writes.push(self.tag_count(tag, -1));
            }
            // A hot article's counters go with it: favorites and comments
            // racing the delete then fail their check on them.
            writes.extend(self.delete_counters(&article));
            match self.transact(writes, None, undecided).await? {
                TxOutcome::Committed => return Ok(()),
                TxOutcome::KeyTaken => return Err(unreceipted()),
                TxOutcome::ConditionFailed(failed) if failed[0] => {
                    let Some(item) = self.get(&keys::article(&article.article_id), true).await?
                    else {
                        return Ok(());
                    };
                    let current: Article = from_item(item)?;
                    if current.deleting {
                        // Someone else tombstoned it first; carry on with the rest.
                        return Ok(());
                    }
                    // Edited in between: undo the tags it has now.
                    article = current;
                }
                TxOutcome::ConditionFailed(_) => continue,
            }
        }
        Err(retry.exhausted())
    }

    async fn delete_favorites(&self, article: &Article) -> Result<(), StoreError> {
        // 50 favorites take 100 actions, DynamoDB's transaction limit.
        const CHUNK: usize = 50;
        loop {
            let request = self
                .client
                .query()
                .table_name(self.table())
                .key_condition_expression("pk = :pk AND begins_with(sk, :fav)")
                .expression_attribute_values(":pk", s(keys::article_partition(&article.article_id)))
                .expression_attribute_values(":fav", s(keys::FAVORITE_PREFIX))
                .consistent_read(true)
                .return_consumed_capacity(ReturnConsumedCapacity::Total);
            let favorites = self.collect_query(request, Some(CHUNK)).await?;
            if favorites.is_empty() {
                return Ok(());
            }
            let mut writes = Vec::new();
            for item in &favorites {
                let Some(key) = key_of(item) else { continue };
                let Some(user) = keys::favorite_user(&key) else {
                    continue;
                };
                writes.push(self.delete(&key, Some("attribute_exists(pk)"), &[]));
                writes.push(self.update(
                    &keys::user(&user),
                    "ADD favorite_count :minus",
                    None,
                    &[(":minus", n(-1))],
                ));
            }
            // A failed condition means a concurrent delete got there first: re-query.
            self.transact(writes, None, undecided).await?;
        }
    }

    async fn delete_remaining(&self, id: &ArticleId) -> Result<(), StoreError> {
        let request = self
            .client
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(keys::article_partition(id)))
            .projection_expression("pk, sk")
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let items = self.collect_query(request, None).await?;
        // The article item goes last, so a failure before here leaves the tombstone to resume from.
        let mut children: Vec<Key> = items.iter().filter_map(key_of).collect();
        children.retain(|key| key.sk() != keys::ARTICLE_SK);
        for chunk in children.chunks(25) {
            self.batch_delete(chunk).await?;
        }
        self.batch_delete(&[keys::article(id)]).await
    }

    async fn batch_delete(&self, keys: &[Key]) -> Result<(), StoreError> {
        let mut pending: Vec<WriteRequest> = keys
            .iter()
            .map(|key| {
                let delete = DeleteRequest::builder()
                    .set_key(Some(key_item(key)))
                    .build()
                    .expect("key is set");
                WriteRequest::builder().delete_request(delete).build()
            })
            .collect();
        let mut retry = Retry::new(limits::UNPROCESSED_BATCH);
        while !pending.is_empty() {
            if !retry.next().await {
                return Err(retry.exhausted());
            }
            let request = self
                .client
                .batch_write_item()
                .request_items(self.table(), pending)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send();
            let output = self.send("BatchWriteItem", request).await?;
            pending = output
                .unprocessed_items
                .and_then(|mut u| u.remove(self.table()))
                .unwrap_or_default();
        }
        Ok(())
    }
}
