//! Article lists (all, by author, by tag, favorited by): one index query
//! each (the index holds pointers), then one batch read for the list's head
//! item (the total), the page's articles, authors and the viewer's flags. And the feed: the
//! reader's follows, one batch read of the followed users (their counts
//! make the total, their `recent` lists most pages), an author partition
//! query only where a page reaches past an author's `recent` list (the merge
//! is `feed`'s), then the same batch read for the page.

use std::collections::HashMap;

use futures::future::try_join_all;
use serde::Deserialize;

use super::feed;
use super::follows::ProfileRequest;
use super::items::{ArticlePointer, Item, from_item};
use super::keys::{self, Key};
use super::shards;
use super::{Index, Store, StoreError};
use crate::domain::{Article, ArticleId, ArticlePage, ArticleView, Page, Tag, User, UserId};

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

/// Counters found at the head of a list partition.
#[derive(Debug, Default, Deserialize)]
struct Head {
    #[serde(default)]
    article_count: u64,
    #[serde(default)]
    favorite_count: u64,
}

impl Store {
    /// One page of a list: a query on the list's index partition (pointers
    /// only: skipping `offset` entries reads small items), then one batch
    /// read for the head item (the total), articles, authors and flags.
    pub async fn list_articles(
        &self,
        filter: &ListFilter,
        page: Page,
        viewer: Option<&UserId>,
    ) -> Result<ArticlePage, StoreError> {
        let (index, partition, head) = match filter {
            ListFilter::All => (
                Index::Timelines,
                keys::ALL_ARTICLES.to_owned(),
                keys::global_stats(),
            ),
            ListFilter::Author(id) => (Index::Lists, keys::author_partition(id), keys::user(id)),
            ListFilter::Tag(tag) => (Index::Lists, keys::tag_partition(tag), keys::tag_stats(tag)),
            ListFilter::FavoritedBy(id) => (
                Index::Timelines,
                keys::favorites_partition(id),
                keys::user(id),
            ),
        };
        let head_sk = match index {
            Index::Lists => keys::attr::GSI1SK,
            Index::Timelines => keys::attr::GSI2SK,
        };
        let entries = self
            .query_partition(index, &partition, None, page.depth() + 1)
            .await?
            .into_iter()
            .filter(|item| {
                item.get(head_sk)
                    .and_then(|v| v.as_s().ok())
                    .is_none_or(|sk| sk != keys::HEAD)
            })
            .skip(page.offset() as usize)
            .take(page.limit() as usize)
            .map(|item| from_item(item).map(Entry::Pointer))
            .collect::<Result<Vec<_>, _>>()?;
        let (articles, head) = self
            .hydrate_with_authors(viewer, entries, None, Some(head))
            .await?;
        let head: Head = head.map(from_item).transpose()?.unwrap_or_default();
        let count = match filter {
            ListFilter::FavoritedBy(_) => head.favorite_count,
            _ => head.article_count,
        };
        Ok(ArticlePage { count, articles })
    }

    /// Articles by the authors `reader` follows, newest first.
    ///
    /// Fan-in on read: one query lists the follows, one batch read per 100
    /// followed authors returns each author's exact article count and newest
    /// article keys, the page is merged from those in memory, and one batch read
    /// fetches it. Only when the page reaches past an author's listed articles is
    /// that author's index partition queried (in parallel).
    pub(crate) async fn feed(
        &self,
        reader: &UserId,
        page: Page,
    ) -> Result<ArticlePage, StoreError> {
        let followed = self.followed_by(reader).await?;
        if followed.is_empty() {
            return Ok(ArticlePage::default());
        }
        let authors: HashMap<UserId, User> = self
            .batch_get(followed.iter().map(keys::user), false)
            .await?
            .into_values()
            .map(from_item::<User>)
            .map(|user| user.map(|u| (u.user_id.clone(), u)))
            .collect::<Result<_, _>>()?;
        let count = authors.values().map(|a| a.article_count).sum();
        let depth = page.depth();
        let listed: Vec<feed::Author> = authors
            .values()
            .map(|a| feed::Author {
                id: &a.user_id,
                recent: &a.recent,
                article_count: a.article_count,
            })
            .collect();
        let reads = feed::older_queries(&listed, page).into_iter().map(|query| {
            let partition = keys::author_partition(query.author);
            async move {
                self.query_partition(Index::Lists, &partition, Some(query.before), depth)
                    .await
            }
        });
        let mut older = Vec::new();
        for items in try_join_all(reads).await? {
            for item in items {
                let timeline = item
                    .get(keys::attr::GSI1SK)
                    .and_then(|v| v.as_s().ok())
                    .cloned()
                    .ok_or_else(|| {
                        StoreError::Unexpected("an index entry without its sort key".into())
                    })?;
                let pointer: ArticlePointer = from_item(item)?;
                older.push((timeline, pointer.author_id));
            }
        }
        let entries = feed::merge(&listed, older, page)
            .into_iter()
            .filter_map(|(timeline, author_id)| {
                Some(Entry::Pointer(ArticlePointer {
                    article_id: keys::timeline_article(&timeline)?,
                    author_id,
                }))
            })
            .collect();
        let (articles, _) = self
            .hydrate_with_authors(Some(reader), entries, Some(&authors), None)
            .await?;
        Ok(ArticlePage { count, articles })
    }

    pub(super) async fn hydrate(
        &self,
        viewer: Option<&UserId>,
        entries: Vec<Entry>,
    ) -> Result<Vec<ArticleView>, StoreError> {
        Ok(self
            .hydrate_with_authors(viewer, entries, None, None)
            .await?
            .0)
    }

    /// Completes list entries in one batch read: missing articles, authors
    /// (unless already known, as in the feed), the viewer's flags, and
    /// `extra` (a list's head item), which comes back beside the views.
    async fn hydrate_with_authors(
        &self,
        viewer: Option<&UserId>,
        entries: Vec<Entry>,
        known: Option<&HashMap<UserId, User>>,
        extra: Option<Key>,
    ) -> Result<(Vec<ArticleView>, Option<Item>), StoreError> {
        if entries.is_empty() && extra.is_none() {
            return Ok((Vec::new(), None));
        }
        let author_ids: Vec<UserId> = entries.iter().map(|e| e.author_id().clone()).collect();
        let profiles = ProfileRequest::new(viewer, &author_ids);
        let mut wanted: Vec<Key> = match known {
            Some(_) => Vec::new(),
            None => profiles.keys(),
        };
        for entry in &entries {
            match entry {
                Entry::Pointer(pointer) => wanted.push(keys::article(&pointer.article_id)),
                // Known hot: its counters come in this batch too.
                Entry::Loaded(article) => wanted.extend(shards::counters(article)),
            }
            if let Some(viewer) = viewer {
                wanted.push(keys::favorite(entry.article_id(), viewer));
            }
        }
        wanted.extend(extra.clone());
        let found = self.batch_get(wanted, false).await?;
        // Cloned, not taken: a list's head may also be a page's author.
        let extra = extra.and_then(|key| found.get(&key).cloned());
        let authors: HashMap<UserId, (User, bool)> = match known {
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
        self.count_shards(&mut views, &found).await?;
        Ok((views, extra))
    }
}

/// A list entry before hydration.
pub(super) enum Entry {
    /// The index held the whole article.
    Loaded(Article),
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
