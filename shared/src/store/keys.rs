//! Every key and index partition of the single table, built in one place.
//! The layout is explained in `docs/data-model.md`.

use serde::{Deserialize, Serialize};

use crate::domain::{Article, ArticleId, ClientAddress, CommentId, Tag, UserId};

/// Sort key of the statistics item that heads an index partition: `~` sorts
/// after every timestamp, so a descending query returns the count first.
pub(crate) const HEAD: &str = "~";

/// Partition of GSI2 holding every article, newest first.
pub(crate) const ALL_ARTICLES: &str = "ARTICLES";

/// Partition of GSI3 holding every tag by popularity.
pub(crate) const ALL_TAGS: &str = "TAGS";

/// Names of the key attributes of the table and its indexes (see `template.yaml`).
pub(crate) mod attr {
    /// Table partition key.
    pub(crate) const PK: &str = "pk";
    /// Table sort key.
    pub(crate) const SK: &str = "sk";
    /// GSI1 (author and tag lists) partition key.
    pub(crate) const GSI1PK: &str = "gsi1pk";
    /// GSI1 sort key: a timeline position, or [`super::HEAD`].
    pub(crate) const GSI1SK: &str = "gsi1sk";
    /// GSI2 (all articles, favorites) partition key.
    pub(crate) const GSI2PK: &str = "gsi2pk";
    /// GSI2 sort key: a timeline position, or [`super::HEAD`].
    pub(crate) const GSI2SK: &str = "gsi2sk";
    /// GSI3 (tags by popularity) partition key; its sort key is `article_count`.
    pub(crate) const GSI3PK: &str = "gsi3pk";
}

/// A primary key. Built only by the functions of this module (and read back
/// from items by the item mapping), so every key has the documented shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct Key {
    pk: String,
    sk: String,
}

impl Key {
    fn new(pk: String, sk: impl Into<String>) -> Self {
        Self { pk, sk: sk.into() }
    }

    /// The key of an item DynamoDB returned (its `pk` and `sk` attributes).
    pub(crate) fn read_back(pk: String, sk: String) -> Self {
        Self { pk, sk }
    }

    /// Partition key.
    pub(crate) fn pk(&self) -> &str {
        &self.pk
    }

    /// Sort key.
    pub(crate) fn sk(&self) -> &str {
        &self.sk
    }
}

/// A user's profile, credentials and counters.
pub(crate) fn user(id: &UserId) -> Key {
    Key::new(format!("USER#{id}"), "USER")
}

/// The claim that makes a username unique (case-insensitively).
pub(crate) fn username_claim(canonical: &str) -> Key {
    Key::new(format!("USERNAME#{canonical}"), "USERNAME")
}

/// The claim that makes an email unique (case-insensitively).
pub(crate) fn email_claim(canonical: &str) -> Key {
    Key::new(format!("EMAIL#{canonical}"), "EMAIL")
}

/// Failed logins against one email (canonical), whether or not anyone
/// holds it, from one client. The client is in the sort key, so no email
/// (which may hold `#`) can spell another pair's key.
pub(crate) fn login_guard(canonical_email: &str, client: &ClientAddress) -> Key {
    Key::new(format!("LOGIN#{canonical_email}"), format!("FROM#{client}"))
}

/// A client that has logged in to one email (canonical): its failures are
/// held by its own lock alone, not the email's budget.
pub(crate) fn login_known(canonical_email: &str, client: &ClientAddress) -> Key {
    Key::new(
        format!("LOGIN#{canonical_email}"),
        format!("KNOWN#{client}"),
    )
}

/// Failed logins against one email from every client together, in one
/// window (its number since the Unix epoch).
pub(crate) fn login_budget(canonical_email: &str, window: i64) -> Key {
    Key::new(
        format!("LOGIN#{canonical_email}"),
        format!("WINDOW#{window}"),
    )
}

/// Sign-in and sign-up requests of one client in one window.
pub(crate) fn client_window(client: &ClientAddress, window: i64) -> Key {
    Key::new(format!("CLIENT#{client}"), format!("AUTH#{window}"))
}

/// A key no item ever has: what a login for an unknown email reads instead of a user.
pub(crate) fn login_decoy() -> Key {
    Key::new("USER#~".to_owned(), "USER")
}

/// A key no item ever has, read once during init to open the connection to
/// DynamoDB (TLS handshake, root store, credentials, endpoint) before the first
/// invocation needs it. Functions that never read otherwise may read only this
/// partition (a `dynamodb:LeadingKeys` condition in `template.yaml`).
pub(crate) fn warm_up() -> Key {
    Key::new("WARMUP".to_owned(), "WARMUP")
}

/// The receipt of an idempotency key: scoped by caller, so one client's key
/// never answers for another (anonymous callers, registering, share a scope,
/// in which only an identical body, password included, is replayed).
pub fn receipt(caller: Option<&UserId>, key: &str) -> Key {
    let scope = match caller {
        Some(id) => format!("USER#{id}"),
        None => ANONYMOUS.to_owned(),
    };
    Key::new(format!("{RECEIPT_PREFIX}{scope}#{key}"), "RECEIPT")
}

/// Partition-key prefix of idempotency receipts.
pub(crate) const RECEIPT_PREFIX: &str = "IDEMPOTENCY#";

/// The scope of callers without a token.
const ANONYMOUS: &str = "ANONYMOUS";

/// `follower` follows `followee`.
pub(crate) fn follow(follower: &UserId, followee: &UserId) -> Key {
    Key::new(
        format!("USER#{follower}"),
        format!("{FOLLOWS_PREFIX}{followee}"),
    )
}

/// Sort-key prefix of a user's follow items.
pub(crate) const FOLLOWS_PREFIX: &str = "FOLLOWS#";

/// Partition of everything that belongs to one article.
pub(crate) fn article_partition(id: &ArticleId) -> String {
    format!("ARTICLE#{id}")
}

/// An article's metadata (everything but the body).
pub(crate) fn article(id: &ArticleId) -> Key {
    Key::new(article_partition(id), ARTICLE_SK)
}

/// Sort key of an article's metadata item.
pub(crate) const ARTICLE_SK: &str = "ARTICLE";

/// An article's body, kept apart so list and comment reads never pay to read it;
/// its sort key places it after comments, favorites and tag links.
pub(crate) fn article_body(id: &ArticleId) -> Key {
    Key::new(article_partition(id), BODY_SK)
}

/// Sort key of an article's body item.
pub(crate) const BODY_SK: &str = "TEXT";

/// A comment; ids are zero-padded so they sort numerically.
pub(crate) fn comment(article: &ArticleId, id: CommentId) -> Key {
    Key::new(
        article_partition(article),
        format!("{COMMENT_PREFIX}{:020}", id.get()),
    )
}

/// The sort key just below comment `id` in its article's partition:
/// `sk BETWEEN ARTICLE_SK AND` it reads the comments older than `id` (and
/// the article item under them).
pub(crate) fn comment_below(id: CommentId) -> String {
    format!("{COMMENT_PREFIX}{:020}", id.get() - 1)
}

/// Sort-key prefix of an article's comments.
pub(crate) const COMMENT_PREFIX: &str = "COMMENT#";

/// Sorts after every comment and before everything else in the partition, so
/// `sk BETWEEN ARTICLE_SK AND COMMENTS_END` reads an article with its comments.
pub(crate) const COMMENTS_END: &str = "COMMENT$";

/// One of a hot article's favorite counters (`shard` below its
/// `favorite_shards`): sorts after its comments, before its favorites.
pub(crate) fn favorite_shard(article: &ArticleId, shard: u8) -> Key {
    Key::new(article_partition(article), format!("{SHARD_PREFIX}{shard}"))
}

/// Sort-key prefix of a hot article's favorite counters.
pub(crate) const SHARD_PREFIX: &str = "COUNT#";

/// `user` favorited `article`.
pub(crate) fn favorite(article: &ArticleId, user: &UserId) -> Key {
    Key::new(
        article_partition(article),
        format!("{FAVORITE_PREFIX}{user}"),
    )
}

/// Sort-key prefix of an article's favorite items.
pub(crate) const FAVORITE_PREFIX: &str = "FAV#";

/// Who a favorite item (by its key) belongs to.
pub(crate) fn favorite_user(key: &Key) -> Option<UserId> {
    key.sk.strip_prefix(FAVORITE_PREFIX).and_then(UserId::parse)
}

/// Links `article` to `tag`, and places it in the tag's list partition.
pub(crate) fn tag_link(article: &ArticleId, tag: &Tag) -> Key {
    Key::new(article_partition(article), format!("TAG#{}", tag.as_str()))
}

/// A tag's article count, head of its list partition and entry in the popularity index.
pub(crate) fn tag_stats(tag: &Tag) -> Key {
    Key::new(tag_partition(tag), "TAG")
}

/// The global article count, head of the all-articles partition.
pub(crate) fn global_stats() -> Key {
    Key::new("STATS".into(), "ARTICLES")
}

/// GSI1 partition: one author's articles (headed by the author's user item).
pub(crate) fn author_partition(id: &UserId) -> String {
    format!("AUTHOR#{id}")
}

/// GSI1 partition: articles with one tag (headed by the tag's stats item).
pub(crate) fn tag_partition(tag: &Tag) -> String {
    format!("TAG#{}", tag.as_str())
}

/// GSI2 partition: articles one user favorited (headed by that user's item).
pub(crate) fn favorites_partition(id: &UserId) -> String {
    format!("FAVS#{id}")
}

/// Index sort key placing an article by creation time (ties broken by id).
pub(crate) fn timeline(created_at: &str, article: &ArticleId) -> String {
    format!("{created_at}#{article}")
}

/// `article`'s sort key in every timeline index.
pub(crate) fn timeline_of(article: &Article) -> String {
    timeline(&article.created_at.render(), &article.article_id)
}

/// The article a timeline sort key places.
pub(crate) fn timeline_article(timeline: &str) -> Option<ArticleId> {
    ArticleId::parse(timeline.rsplit('#').next()?)
}

/// The indexes an item with this key has entries in while it is live
/// (`items` gives each kind its index keys): what deleting or updating it
/// may rewrite.
pub(crate) fn indexed_in(key: &Key) -> &'static [&'static str] {
    use super::index::{GSI1, GSI2, GSI3};
    let (pk, sk) = (key.pk(), key.sk());
    // Users head their author and favorites lists; articles sit on both timelines.
    if (pk.starts_with("USER#") && sk == "USER") || (pk.starts_with("ARTICLE#") && sk == ARTICLE_SK)
    {
        &[GSI1, GSI2]
    } else if pk.starts_with("ARTICLE#") && sk.starts_with(FAVORITE_PREFIX) {
        &[GSI2]
    } else if pk.starts_with("ARTICLE#") && sk.starts_with("TAG#") {
        &[GSI1]
    } else if pk.starts_with("TAG#") && sk == "TAG" {
        &[GSI1, GSI3]
    } else if *key == global_stats() {
        &[GSI2]
    } else {
        &[]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comment_id(value: u64) -> CommentId {
        CommentId::try_from(value).unwrap()
    }

    #[test]
    fn the_key_below_a_comment_sorts_under_it_and_above_every_older_one() {
        let a = ArticleId::parse("abcdefghijkl").unwrap();
        let below = comment_below(comment_id(10));
        assert!(below < comment(&a, comment_id(10)).sk);
        assert!(below >= comment(&a, comment_id(9)).sk);
        assert!(comment_below(comment_id(1)).as_str() > ARTICLE_SK);
    }

    #[test]
    fn comment_keys_sort_in_numeric_order() {
        let a = ArticleId::parse("abcdefghijkl").unwrap();
        assert!(comment(&a, comment_id(9)).sk < comment(&a, comment_id(10)).sk);
    }

    #[test]
    fn an_article_partition_sorts_metadata_comments_counters_favorites_tags_then_body() {
        let a = ArticleId::parse("abcdefghijkl").unwrap();
        let u = UserId::generate();
        let t = Tag::parse("t").unwrap();
        let order = [
            article(&a).sk,
            comment(&a, comment_id(1)).sk,
            comment(&a, comment_id(u64::MAX)).sk,
            COMMENTS_END.to_owned(),
            favorite_shard(&a, 0).sk,
            favorite_shard(&a, 7).sk,
            favorite(&a, &u).sk,
            tag_link(&a, &t).sk,
            article_body(&a).sk,
        ];
        assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    }

    #[test]
    fn receipts_are_scoped_by_caller_and_never_share_a_partition_with_users() {
        let key = "k-1";
        let jake = UserId::parse("jake000000000000").unwrap();
        let mine = receipt(Some(&jake), key);
        assert_eq!(mine.pk(), "IDEMPOTENCY#USER#jake000000000000#k-1");
        assert_ne!(mine, receipt(Some(&UserId::generate()), key));
        assert_eq!(receipt(None, key).pk(), "IDEMPOTENCY#ANONYMOUS#k-1");
        assert!(!mine.pk().starts_with("USER#"));
    }

    #[test]
    fn the_head_item_sorts_after_every_timeline_entry() {
        let a = ArticleId::parse("zzzzzzzzzzzz").unwrap();
        assert!(timeline("9999-12-31T23:59:59.999Z", &a).as_str() < HEAD);
    }
}
