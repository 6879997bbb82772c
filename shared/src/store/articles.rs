//! Articles, their lists and feed, favorites, comments and tags.

use std::cmp::Reverse;
use std::collections::HashMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, ReturnConsumedCapacity, ReturnValue,
    ReturnValuesOnConditionCheckFailure, WriteRequest,
};
use futures::future::try_join_all;
use serde::Deserialize;

use super::items::{
    ArticlePointer, ArticleRecord, BodyRecord, CommentRecord, RECENT_MAX, TagRecord, UserRecord,
    article_item, favorite_item, from_item, key_item, key_of, tag_link_item, to_item,
};
use super::keys::{self, Key};
use super::users::ProfileRequest;
use super::{Bounded, Index, Store, StoreError, TxOutcome, index, n, s};
use crate::domain::{
    ArticleId, ArticleText, CommentId, CommentText, Page, Slug, Tag, Timestamp, UserId,
};

/// Which articles a list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListFilter {
    /// Every article.
    All,
    /// Articles by one author.
    Author(UserId),
    /// Articles with one tag.
    Tag(Tag),
    /// Articles one user favorited.
    FavoritedBy(UserId),
}

/// An article as one viewer sees it.
#[derive(Debug, Clone)]
pub struct ArticleView {
    /// The article.
    pub article: ArticleRecord,
    /// Its author.
    pub author: UserRecord,
    /// Whether the viewer follows the author.
    pub following: bool,
    /// Whether the viewer favorited the article.
    pub favorited: bool,
    /// The body, on single-article reads only (lists never read it).
    pub body: Option<ArticleText>,
}

/// One page of a list, with the total the list has.
#[derive(Debug, Clone, Default)]
pub struct ArticlePage {
    /// Articles matching the list, all pages together.
    pub count: u64,
    /// This page, newest first.
    pub articles: Vec<ArticleView>,
}

/// A comment with its author as the viewer sees them.
#[derive(Debug, Clone)]
pub struct CommentView {
    /// The comment.
    pub comment: CommentRecord,
    /// Its author.
    pub author: UserRecord,
    /// Whether the viewer follows the author.
    pub following: bool,
}

/// Why a new article was not written.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// An article with this id exists (about one chance in 36^12): pick another id.
    #[error("article id already taken")]
    IdTaken,
    /// The author's user item is gone.
    #[error("author no longer exists")]
    AuthorGone,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an article write did not apply.
#[derive(Debug, thiserror::Error)]
pub enum ArticleWriteError {
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

const LIVE: &str = "attribute_exists(pk) AND attribute_not_exists(deleting)";

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
const ABSENT: &str = "attribute_not_exists(pk)";

/// Counters found at the head of a list partition.
#[derive(Debug, Default, Deserialize)]
struct Head {
    #[serde(default)]
    article_count: u64,
    #[serde(default)]
    favorite_count: u64,
}

/// Attempts at an author-item update before giving up (each retry re-reads it).
const AUTHOR_ATTEMPTS: u32 = 40;

impl Store {
    /// Writes a new article (decided by the use case: id, slug, times) with
    /// its body, tag links and every count in one transaction. The author's
    /// item guards `recent` and `article_count` by its version: when another
    /// write moved it on, it is re-read and the transaction retried (a storage
    /// concern, invisible to the caller).
    pub async fn create_article(
        &self,
        author: &UserRecord,
        article: &ArticleRecord,
        body: &ArticleText,
    ) -> Result<(), CreateError> {
        let mut author = author.clone();
        for attempt in 0..AUTHOR_ATTEMPTS {
            if attempt > 0 {
                super::backoff(attempt).await;
            }
            let mut recent = author.recent.clone();
            recent.insert(0, article.timeline());
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
            match self.transact(writes).await? {
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
        Err(StoreError::Contended(AUTHOR_ATTEMPTS).into())
    }

    fn author_counts(
        &self,
        author: &UserRecord,
        recent: Vec<String>,
        delta: i64,
    ) -> aws_sdk_dynamodb::types::TransactWriteItem {
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

    fn global_count(&self, delta: i64) -> aws_sdk_dynamodb::types::TransactWriteItem {
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

    fn tag_count(&self, tag: &Tag, delta: i64) -> aws_sdk_dynamodb::types::TransactWriteItem {
        self.update(
            &keys::tag_stats(tag),
            "SET tag = :tag, gsi1pk = :list, gsi1sk = :head, gsi3pk = :tags ADD article_count :delta",
            None,
            &[
                (":tag", s(tag.as_str())),
                (":list", s(keys::tag_partition(tag))),
                (":head", s(keys::HEAD)),
                (":tags", s(keys::ALL_TAGS)),
                (":delta", n(delta)),
            ],
        )
    }

    /// An article's metadata, unless it is missing or being deleted.
    pub async fn article(
        &self,
        id: &ArticleId,
        consistent: bool,
    ) -> Result<Option<ArticleRecord>, StoreError> {
        let Some(item) = self.get(&keys::article(id), consistent).await? else {
            return Ok(None);
        };
        let article: ArticleRecord = from_item(item)?;
        Ok((!article.deleting).then_some(article))
    }

    /// An article with its body, its author, and the viewer's flags: two requests.
    pub async fn article_view(
        &self,
        id: &ArticleId,
        viewer: Option<&UserId>,
        consistent: bool,
    ) -> Result<Option<ArticleView>, StoreError> {
        let found = self
            .batch_get([keys::article(id), keys::article_body(id)], consistent)
            .await?;
        let (Some(article), Some(body)) = (
            found.get(&keys::article(id)),
            found.get(&keys::article_body(id)),
        ) else {
            return Ok(None);
        };
        let article: ArticleRecord = from_item(article.clone())?;
        let body: BodyRecord = from_item(body.clone())?;
        if article.deleting {
            return Ok(None);
        }
        let mut views = self.hydrate(viewer, vec![Entry::Loaded(article)]).await?;
        Ok(views.pop().map(|view| ArticleView {
            body: Some(body.body),
            ..view
        }))
    }

    /// Replaces the editable fields of `old` with those of `new` (title, slug,
    /// description, tags, `updated_at`, `version`) and, when given, the body, in
    /// one transaction that also moves the tag links and tag counts from the old
    /// tags to the new ones. It commits only if the article is still live, still
    /// `author`'s and still at `old.version`, so the tag diff is always taken
    /// against what is stored; [`ArticleWriteError::Changed`] tells the caller to
    /// re-read and decide again.
    pub async fn edit_article(
        &self,
        old: &ArticleRecord,
        new: &ArticleRecord,
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
        match self.transact(writes).await? {
            TxOutcome::Committed => Ok(()),
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
    pub async fn delete_article(
        &self,
        id: &ArticleId,
        slug: &Slug,
        author: &UserId,
    ) -> Result<(), ArticleWriteError> {
        let Some(item) = self.get(&keys::article(id), true).await? else {
            return Err(ArticleWriteError::NotFound);
        };
        let article: ArticleRecord = from_item(item)?;
        if article.slug != *slug {
            return Err(ArticleWriteError::NotFound);
        }
        if &article.author_id != author {
            return Err(ArticleWriteError::Forbidden);
        }
        if !article.deleting {
            self.tombstone(&article).await?;
        }
        self.delete_favorites(&article).await?;
        self.delete_remaining(id).await?;
        Ok(())
    }

    /// Tombstones the article as last read, or, if an edit moved it on (its
    /// tags, and so the links and counts to undo, may differ), as re-read.
    async fn tombstone(&self, article: &ArticleRecord) -> Result<(), ArticleWriteError> {
        let mut article = article.clone();
        for attempt in 0..AUTHOR_ATTEMPTS {
            if attempt > 0 {
                super::backoff(attempt).await;
            }
            let author = self
                .user(&article.author_id, true)
                .await?
                .ok_or(ArticleWriteError::NotFound)?;
            let timeline = article.timeline();
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
            match self.transact(writes).await? {
                TxOutcome::Committed => return Ok(()),
                TxOutcome::ConditionFailed(failed) if failed[0] => {
                    let Some(item) = self.get(&keys::article(&article.article_id), true).await?
                    else {
                        return Ok(());
                    };
                    let current: ArticleRecord = from_item(item)?;
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
        Err(StoreError::Contended(AUTHOR_ATTEMPTS).into())
    }

    async fn delete_favorites(&self, article: &ArticleRecord) -> Result<(), StoreError> {
        // 50 favorites take 100 actions, DynamoDB's transaction limit.
        const CHUNK: usize = 50;
        loop {
            let request = self
                .client
                .query()
                .table_name(self.table())
                .key_condition_expression("pk = :pk AND begins_with(sk, :fav)")
                .expression_attribute_values(":pk", s(keys::article_partition(&article.article_id)))
                .expression_attribute_values(":fav", s("FAV#"))
                .consistent_read(true)
                .return_consumed_capacity(ReturnConsumedCapacity::Total);
            let favorites = self.collect_query(request, Some(CHUNK)).await?;
            if favorites.is_empty() {
                return Ok(());
            }
            let mut writes = Vec::new();
            for item in &favorites {
                let Some(key) = key_of(item) else { continue };
                let Some(user) = key.sk.strip_prefix("FAV#") else {
                    continue;
                };
                writes.push(self.delete(&key, Some("attribute_exists(pk)"), &[]));
                writes.push(self.update(
                    &keys::user(&UserId::from_trusted(user.to_owned())),
                    "ADD favorite_count :minus",
                    None,
                    &[(":minus", n(-1))],
                ));
            }
            // A failed condition means a concurrent delete got there first: re-query.
            self.transact(writes).await?;
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
        children.retain(|key| key.sk != keys::ARTICLE_SK);
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
        let mut attempt = 0;
        while !pending.is_empty() {
            if attempt > 0 {
                super::backoff(attempt).await;
            }
            attempt += 1;
            let output = self
                .client
                .batch_write_item()
                .request_items(self.table(), pending)
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .bounded("BatchWriteItem")
                .await?
                .map_err(|e| StoreError::request("BatchWriteItem", e))?;
            self.meter.record(output.consumed_capacity.as_deref());
            pending = output
                .unprocessed_items
                .and_then(|mut u| u.remove(self.table()))
                .unwrap_or_default();
            if attempt > 40 && !pending.is_empty() {
                return Err(StoreError::Contended(attempt));
            }
        }
        Ok(())
    }

    /// One page of a list: a query on the list's index partition (its head item
    /// carries the total), then one batch read for articles, authors and flags.
    pub async fn list_articles(
        &self,
        filter: &ListFilter,
        page: Page,
        viewer: Option<&UserId>,
    ) -> Result<ArticlePage, StoreError> {
        let (index, partition) = match filter {
            ListFilter::All => (Index::Timelines, keys::ALL_ARTICLES.to_owned()),
            ListFilter::Author(id) => (Index::Lists, keys::author_partition(id)),
            ListFilter::Tag(tag) => (Index::Lists, keys::tag_partition(tag)),
            ListFilter::FavoritedBy(id) => (Index::Timelines, keys::favorites_partition(id)),
        };
        let mut items = self
            .query_partition(index, &partition, None, page.depth() + 1)
            .await?
            .into_iter()
            .peekable();
        let head_sk = match index {
            Index::Lists => "gsi1sk",
            _ => "gsi2sk",
        };
        let mut count = 0;
        if let Some(first) = items.peek()
            && first
                .get(head_sk)
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                == Some(keys::HEAD)
        {
            let head: Head = from_item(items.next().expect("peeked"))?;
            count = match filter {
                ListFilter::FavoritedBy(_) => head.favorite_count,
                _ => head.article_count,
            };
        }
        let entries = items
            .skip(page.offset as usize)
            .take(page.limit as usize)
            .map(|item| match filter {
                ListFilter::All | ListFilter::Author(_) => from_item(item).map(Entry::Loaded),
                ListFilter::Tag(_) | ListFilter::FavoritedBy(_) => {
                    from_item(item).map(Entry::Pointer)
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let articles = self.hydrate(viewer, entries).await?;
        Ok(ArticlePage { count, articles })
    }

    /// Articles by the authors `reader` follows, newest first.
    ///
    /// Fan-in on read: one query lists the follows, one batch read per 100
    /// followed authors returns each author's exact article count and newest
    /// article keys, the page is merged from those in memory, and one batch read
    /// fetches it. Only when the page reaches past an author's listed articles is
    /// that author's index partition queried (in parallel).
    pub async fn feed(&self, reader: &UserId, page: Page) -> Result<ArticlePage, StoreError> {
        let followed = self.followed_by(reader).await?;
        if followed.is_empty() {
            return Ok(ArticlePage::default());
        }
        let authors: HashMap<UserId, UserRecord> = self
            .batch_get(followed.iter().map(keys::user), false)
            .await?
            .into_values()
            .map(from_item::<UserRecord>)
            .map(|user| user.map(|u| (u.user_id.clone(), u)))
            .collect::<Result<_, _>>()?;
        let count = authors.values().map(|a| a.article_count).sum();
        let depth = page.depth();
        let mut candidates: Vec<(String, UserId)> = authors
            .values()
            .flat_map(|a| a.recent.iter().map(|t| (t.clone(), a.user_id.clone())))
            .collect();
        candidates.sort_by(|a, b| b.0.cmp(&a.0));
        let threshold = candidates.get(depth.saturating_sub(1)).map(|c| c.0.clone());
        let short: Vec<&UserRecord> = authors
            .values()
            .filter(|a| (a.recent.len() as u64) < a.article_count)
            .filter(|a| match (a.recent.last(), &threshold) {
                (Some(last), Some(threshold)) => last > threshold,
                _ => true,
            })
            .collect();
        let mut loaded: HashMap<ArticleId, ArticleRecord> = HashMap::new();
        let older = short.iter().map(|author| {
            let before = author
                .recent
                .last()
                .cloned()
                .unwrap_or_else(|| keys::HEAD.into());
            let partition = keys::author_partition(&author.user_id);
            async move {
                self.query_partition(Index::Lists, &partition, Some(&before), depth)
                    .await
            }
        });
        for items in try_join_all(older).await? {
            for item in items {
                let article: ArticleRecord = from_item(item)?;
                candidates.push((article.timeline(), article.author_id.clone()));
                loaded.insert(article.article_id.clone(), article);
            }
        }
        candidates.sort_by(|a, b| b.0.cmp(&a.0));
        candidates.dedup();
        let entries = candidates
            .into_iter()
            .skip(page.offset as usize)
            .take(page.limit as usize)
            .filter_map(|(timeline, author_id)| {
                let id = ArticleId::from_trusted(timeline.rsplit('#').next()?.to_owned());
                Some(match loaded.remove(&id) {
                    Some(article) => Entry::Loaded(article),
                    None => Entry::Pointer(ArticlePointer {
                        article_id: id,
                        author_id,
                    }),
                })
            })
            .collect();
        let articles = self
            .hydrate_with_authors(Some(reader), entries, Some(&authors))
            .await?;
        Ok(ArticlePage { count, articles })
    }

    async fn hydrate(
        &self,
        viewer: Option<&UserId>,
        entries: Vec<Entry>,
    ) -> Result<Vec<ArticleView>, StoreError> {
        self.hydrate_with_authors(viewer, entries, None).await
    }

    /// Completes list entries in one batch read: missing articles, authors
    /// (unless already known, as in the feed), and the viewer's flags.
    async fn hydrate_with_authors(
        &self,
        viewer: Option<&UserId>,
        entries: Vec<Entry>,
        known: Option<&HashMap<UserId, UserRecord>>,
    ) -> Result<Vec<ArticleView>, StoreError> {
        if entries.is_empty() {
            return Ok(Vec::new());
        }
        let author_ids: Vec<UserId> = entries.iter().map(|e| e.author_id().clone()).collect();
        let profiles = ProfileRequest::new(viewer, &author_ids);
        let mut wanted: Vec<Key> = match known {
            Some(_) => Vec::new(),
            None => profiles.keys(),
        };
        for entry in &entries {
            if let Entry::Pointer(pointer) = entry {
                wanted.push(keys::article(&pointer.article_id));
            }
            if let Some(viewer) = viewer {
                wanted.push(keys::favorite(entry.article_id(), viewer));
            }
        }
        let found = self.batch_get(wanted, false).await?;
        let authors: HashMap<UserId, (UserRecord, bool)> = match known {
            Some(known) => known
                .iter()
                .map(|(id, user)| (id.clone(), (user.clone(), true)))
                .collect(),
            None => profiles.resolve(&found)?,
        };
        let mut views = Vec::with_capacity(entries.len());
        for entry in entries {
            let article = match entry {
                Entry::Loaded(article) => article,
                Entry::Pointer(pointer) => match found.get(&keys::article(&pointer.article_id)) {
                    Some(item) => from_item(item.clone())?,
                    // Deleted between the index read and this one.
                    None => continue,
                },
            };
            let Some((author, following)) = authors.get(&article.author_id) else {
                continue;
            };
            if article.deleting {
                continue;
            }
            let favorited = viewer.is_some_and(|viewer| {
                found.contains_key(&keys::favorite(&article.article_id, viewer))
            });
            views.push(ArticleView {
                author: author.clone(),
                following: *following,
                favorited,
                body: None,
                article,
            });
        }
        Ok(views)
    }

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

    /// Adds a comment written at `now`; its id comes from a per-article
    /// counter, so concurrent comments get distinct ids.
    pub async fn add_comment(
        &self,
        article: &ArticleId,
        author: &UserId,
        body: &CommentText,
        now: Timestamp,
    ) -> Result<CommentRecord, ArticleWriteError> {
        let result = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::article(article))))
            .update_expression("ADD comment_seq :one")
            .condition_expression(LIVE)
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .bounded("UpdateItem")
            .await?;
        let output = match result {
            Ok(output) => output,
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                self.meter.record(None);
                return Err(ArticleWriteError::NotFound);
            }
            Err(e) => return Err(StoreError::request("UpdateItem", e).into()),
        };
        self.meter
            .record(output.consumed_capacity().map(std::slice::from_ref));
        #[derive(Deserialize)]
        struct Seq {
            comment_seq: u64,
        }
        let seq: Seq = from_item(output.attributes.unwrap_or_default())?;
        let comment = CommentRecord {
            id: CommentId::from_counter(seq.comment_seq),
            body: body.clone(),
            author_id: author.clone(),
            created_at: now,
            updated_at: now,
        };
        // The check keeps a comment from landing on an article mid-delete.
        let writes = vec![
            self.check(&keys::article(article), LIVE, &[]),
            self.put(
                to_item(&keys::comment(article, comment.id), &[], &comment),
                Some(ABSENT),
            ),
        ];
        match self.transact(writes).await? {
            TxOutcome::Committed => Ok(comment),
            TxOutcome::ConditionFailed(_) => Err(ArticleWriteError::NotFound),
        }
    }

    /// An article's comments, newest first, with authors and the viewer's
    /// follow flags: one query (article and comments together) and one batch read.
    pub async fn comments(
        &self,
        article: &ArticleId,
        viewer: Option<&UserId>,
    ) -> Result<Option<(ArticleRecord, Vec<CommentView>)>, StoreError> {
        let request = self
            .client
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk AND sk BETWEEN :article AND :end")
            .expression_attribute_values(":pk", s(keys::article_partition(article)))
            .expression_attribute_values(":article", s(keys::ARTICLE_SK))
            .expression_attribute_values(":end", s(keys::COMMENTS_END))
            .scan_index_forward(false)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let mut items = self.collect_query(request, None).await?;
        // Descending, so the article item comes last.
        let Some(article_item) = items.pop() else {
            return Ok(None);
        };
        let article: ArticleRecord = from_item(article_item)?;
        if article.deleting {
            return Ok(None);
        }
        let comments: Vec<CommentRecord> =
            items.into_iter().map(from_item).collect::<Result<_, _>>()?;
        let authors: Vec<UserId> = comments.iter().map(|c| c.author_id.clone()).collect();
        let profiles = self.profiles(viewer, authors).await?;
        Ok(Some((
            article,
            comments
                .into_iter()
                .filter_map(|comment| {
                    let (author, following) = profiles.get(&comment.author_id)?.clone();
                    Some(CommentView {
                        comment,
                        author,
                        following,
                    })
                })
                .collect(),
        )))
    }

    /// Deletes a comment of `author`'s, in one conditional request.
    pub async fn delete_comment(
        &self,
        article: &ArticleId,
        id: CommentId,
        author: &UserId,
    ) -> Result<(), ArticleWriteError> {
        let result = self
            .client
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::comment(article, id))))
            .condition_expression("attribute_exists(pk) AND author_id = :me")
            .expression_attribute_values(":me", s(author.as_str()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .bounded("DeleteItem")
            .await?;
        match result {
            Ok(output) => {
                self.meter
                    .record(output.consumed_capacity().map(std::slice::from_ref));
                Ok(())
            }
            Err(SdkError::ServiceError(e)) => {
                self.meter.record(None);
                match e.err() {
                    DeleteItemError::ConditionalCheckFailedException(failed) => {
                        if failed.item().is_some_and(|item| !item.is_empty()) {
                            Err(ArticleWriteError::Forbidden)
                        } else {
                            Err(ArticleWriteError::NotFound)
                        }
                    }
                    _ => Err(StoreError::request("DeleteItem", SdkError::ServiceError(e)).into()),
                }
            }
            Err(e) => Err(StoreError::request("DeleteItem", e).into()),
        }
    }

    /// The most used tags, most used first: one query on the popularity index.
    pub async fn popular_tags(&self, limit: usize) -> Result<Vec<Tag>, StoreError> {
        let request = self
            .client
            .query()
            .table_name(self.table())
            .index_name(index::GSI3)
            .key_condition_expression("gsi3pk = :tags AND article_count > :zero")
            .expression_attribute_values(":tags", s(keys::ALL_TAGS))
            .expression_attribute_values(":zero", n(0))
            .scan_index_forward(false)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let items = self.collect_query(request, Some(limit)).await?;
        let mut tags: Vec<TagRecord> =
            items.into_iter().map(from_item).collect::<Result<_, _>>()?;
        // The index orders by count only; ties are ordered by name for stable output.
        tags.sort_by_key(|t| (Reverse(t.article_count), t.tag.clone()));
        Ok(tags.into_iter().map(|t| t.tag).collect())
    }
}

/// A list entry before hydration.
enum Entry {
    /// The index held the whole article.
    Loaded(ArticleRecord),
    /// The index held a pointer; the article is read in the batch.
    Pointer(ArticlePointer),
}

impl Entry {
    fn article_id(&self) -> &ArticleId {
        match self {
            Entry::Loaded(a) => &a.article_id,
            Entry::Pointer(p) => &p.article_id,
        }
    }

    fn author_id(&self) -> &UserId {
        match self {
            Entry::Loaded(a) => &a.author_id,
            Entry::Pointer(p) => &p.author_id,
        }
    }
}
