//! The feed's merge, apart from DynamoDB: which followed authors must have
//! their older articles read for a page, and the page merged from what was read.

use super::keys::HEAD;
use crate::domain::{Page, UserId};

/// A followed author as their user item shows them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Author<'a> {
    pub id: &'a UserId,
    /// Their newest article timelines, newest first; every article of theirs
    /// newer than the last entry is listed.
    pub recent: &'a [String],
    /// How many articles they have.
    pub article_count: u64,
}

/// A read the page needs: `author`'s articles older than `before` (their last
/// listed timeline, or [`HEAD`] when none is listed), newest first, at most
/// `page.depth()` of them, since no more can reach the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Older<'a> {
    pub author: &'a UserId,
    pub before: &'a str,
}

/// Step 1: the authors whose unlisted articles may reach the page. The page lies
/// within the `depth` newest articles, none older than the `depth`-th newest
/// listed entry (the threshold): an author whose list ends at or before it has
/// no unlisted article there, so is not read. Without a threshold every author
/// with unlisted articles is.
pub(super) fn older_queries<'a>(authors: &[Author<'a>], page: Page) -> Vec<Older<'a>> {
    let mut listed: Vec<&str> = authors
        .iter()
        .flat_map(|a| a.recent.iter().map(String::as_str))
        .collect();
    listed.sort_by(|a, b| b.cmp(a));
    let threshold = listed.get(page.depth().saturating_sub(1)).copied();
    authors
        .iter()
        .filter(|a| (a.recent.len() as u64) < a.article_count)
        .filter(|a| match (a.recent.last(), threshold) {
            (Some(last), Some(threshold)) => last.as_str() > threshold,
            _ => true,
        })
        .map(|a| Older {
            author: a.id,
            before: a.recent.last().map_or(HEAD, String::as_str),
        })
        .collect()
}

/// Step 2: the page's `(timeline, author)` entries, newest first: the listed
/// entries and the `older` ones read for step 1, sorted, with duplicates
/// dropped, `offset` skipped and `limit` taken.
pub(super) fn merge(
    authors: &[Author<'_>],
    older: Vec<(String, UserId)>,
    page: Page,
) -> Vec<(String, UserId)> {
    let mut entries: Vec<(String, UserId)> = authors
        .iter()
        .flat_map(|a| a.recent.iter().map(|t| (t.clone(), a.id.clone())))
        .chain(older)
        .collect();
    entries.sort_by(|a, b| b.0.cmp(&a.0));
    entries.dedup();
    entries
        .into_iter()
        .skip(page.offset() as usize)
        .take(page.limit() as usize)
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::collection::{btree_set, vec};
    use proptest::prelude::*;

    use super::*;

    /// An author with every article they have, newest first, and their list.
    #[derive(Debug, Clone)]
    struct Writer {
        id: UserId,
        articles: Vec<String>,
        recent: Vec<String>,
    }

    impl Writer {
        /// `created` are creation times; the list holds the newest 20 less `unlisted`.
        fn new(index: usize, created: impl IntoIterator<Item = u32>, unlisted: usize) -> Self {
            let mut articles: Vec<String> = created
                .into_iter()
                .map(|c| format!("{c:06}#{index}"))
                .collect();
            articles.sort_by(|a, b| b.cmp(a));
            let listed = articles.len().min(20).saturating_sub(unlisted);
            Writer {
                id: UserId::parse(&format!("user{index:0>12}")).unwrap(),
                recent: articles[..listed].to_vec(),
                articles,
            }
        }

        fn author(&self) -> Author<'_> {
            Author {
                id: &self.id,
                recent: &self.recent,
                article_count: self.articles.len() as u64,
            }
        }
    }

    /// Runs both steps, answering each read from the author's full list as
    /// the index would: newest first, strictly older than `before`, `depth` at most.
    fn feed(writers: &[Writer], page: Page) -> Vec<(String, UserId)> {
        let authors: Vec<Author> = writers.iter().map(Writer::author).collect();
        let older = older_queries(&authors, page)
            .into_iter()
            .flat_map(|query| {
                let writer = writers.iter().find(|w| &w.id == query.author).unwrap();
                writer
                    .articles
                    .iter()
                    .filter(move |t| t.as_str() < query.before)
                    .take(page.depth())
                    .map(|t| (t.clone(), writer.id.clone()))
            })
            .collect();
        merge(&authors, older, page)
    }

    /// Every article of every author, newest first, `offset` skipped, `limit` taken.
    fn everything(writers: &[Writer], page: Page) -> Vec<(String, UserId)> {
        let mut all: Vec<(String, UserId)> = writers
            .iter()
            .flat_map(|w| w.articles.iter().map(|t| (t.clone(), w.id.clone())))
            .collect();
        all.sort_by(|a, b| b.0.cmp(&a.0));
        all.into_iter()
            .skip(page.offset() as usize)
            .take(page.limit() as usize)
            .collect()
    }

    fn page(offset: u32, limit: u32) -> Page {
        Page::parse(Some(&limit.to_string()), Some(&offset.to_string())).unwrap()
    }

    /// 0..8 authors with 0..60 articles each, created within a short span so
    /// times often tie across authors; most lists are full, some short of it.
    fn writers() -> impl Strategy<Value = Vec<Writer>> {
        let unlisted = prop_oneof![3 => Just(0usize), 1 => 0usize..=20];
        vec((btree_set(0u32..400, 0..60), unlisted), 0..8).prop_map(|authors| {
            authors
                .into_iter()
                .enumerate()
                .map(|(i, (created, unlisted))| Writer::new(i, created, unlisted))
                .collect()
        })
    }

    fn pages() -> impl Strategy<Value = Page> {
        (0u32..80, 1u32..30).prop_map(|(offset, limit)| page(offset, limit))
    }

    proptest! {
        #[test]
        fn the_page_is_the_newest_articles_of_all_followed_authors_after_the_offset(
            writers in writers(),
            page in pages(),
        ) {
            prop_assert_eq!(feed(&writers, page), everything(&writers, page));
        }

        #[test]
        fn only_authors_with_unlisted_articles_are_read_and_from_below_their_list(
            writers in writers(),
            page in pages(),
        ) {
            let authors: Vec<Author> = writers.iter().map(Writer::author).collect();
            for query in older_queries(&authors, page) {
                let writer = writers.iter().find(|w| &w.id == query.author).unwrap();
                prop_assert!(writer.recent.len() < writer.articles.len());
                prop_assert_eq!(query.before, writer.recent.last().map_or(HEAD, String::as_str));
            }
        }
    }

    #[test]
    fn no_followed_authors_give_an_empty_page() {
        assert!(older_queries(&[], page(0, 20)).is_empty());
        assert!(feed(&[], page(0, 20)).is_empty());
    }

    #[test]
    fn a_page_within_everyones_listed_articles_needs_no_read() {
        let writers = [Writer::new(0, 100..150, 0), Writer::new(1, 0..50, 0)];
        let authors: Vec<Author> = writers.iter().map(Writer::author).collect();
        assert!(older_queries(&authors, page(5, 10)).is_empty());
        assert_eq!(
            feed(&writers, page(5, 10)),
            everything(&writers, page(5, 10))
        );
    }

    #[test]
    fn a_page_past_an_authors_list_reads_them_from_their_last_listed_article() {
        let writers = [Writer::new(0, 0..30, 0)];
        let authors: Vec<Author> = writers.iter().map(Writer::author).collect();
        let queries = older_queries(&authors, page(15, 10));
        assert_eq!(queries.len(), 1);
        assert_eq!(queries[0].before, "000010#0");
        let page = feed(&writers, page(15, 10));
        assert_eq!(page.first().unwrap().0, "000014#0");
        assert_eq!(page.last().unwrap().0, "000005#0");
    }

    #[test]
    fn an_author_with_articles_but_an_empty_list_is_read_from_the_head() {
        let writers = [Writer::new(0, 0..3, 20), Writer::new(1, 10..40, 0)];
        let authors: Vec<Author> = writers.iter().map(Writer::author).collect();
        let queries = older_queries(&authors, page(0, 20));
        assert_eq!(
            queries,
            [Older {
                author: &writers[0].id,
                before: HEAD
            }]
        );
        assert_eq!(
            feed(&writers, page(0, 40)),
            everything(&writers, page(0, 40))
        );
    }
}
