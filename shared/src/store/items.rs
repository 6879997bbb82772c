//! The stored form of every entity, and its one mapping to and from DynamoDB
//! items (through serde_dynamo). Key attributes are added here and ignored
//! when reading back.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::StoreError;
use super::keys::{self, Key, attr};
use crate::auth::PasswordHashString;
use crate::domain::{
    ArticleId, ArticleText, Bio, CommentId, CommentText, Description, Email, ImageUrl, Slug, Tag,
    Timestamp, Title, UserId, Username,
};

/// A raw DynamoDB item.
pub type Item = HashMap<String, AttributeValue>;

/// How many of an author's newest articles their user item lists (for the feed).
pub const RECENT_MAX: usize = 20;

/// A user as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserRecord {
    /// Stable id, the JWT `sub`: usernames change, this never does.
    pub user_id: UserId,
    /// Display username.
    pub username: Username,
    /// Email as entered.
    pub email: Email,
    /// argon2id PHC string.
    pub password_hash: PasswordHashString,
    /// Bio; absent when unset or cleared (read back as `null`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bio: Option<Bio>,
    /// Optional image URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageUrl>,
    /// Articles written (exact: changed in the same transaction as the article).
    #[serde(default)]
    pub article_count: u64,
    /// Articles favorited (exact: changed in the same transaction as the favorite).
    #[serde(default)]
    pub favorite_count: u64,
    /// Newest articles, newest first, as index sort keys (`created#id`); every
    /// article of this author newer than the last entry is listed.
    #[serde(default)]
    pub recent: Vec<String>,
    /// Optimistic-lock version guarding `recent` and `article_count`.
    #[serde(default)]
    pub version: u64,
}

impl UserRecord {
    /// A new user `user_id` (the caller picks it), with no profile text and zeroed counters.
    pub fn new(
        user_id: UserId,
        username: Username,
        email: Email,
        password_hash: PasswordHashString,
    ) -> Self {
        Self {
            user_id,
            username,
            email,
            password_hash,
            bio: None,
            image: None,
            article_count: 0,
            favorite_count: 0,
            recent: Vec::new(),
            version: 0,
        }
    }
}

/// An article's metadata as stored (the body is a separate item).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleRecord {
    /// Stable id: the tail of every slug the article ever has, and its partition.
    pub article_id: ArticleId,
    /// Current slug; an old one (from an earlier title) no longer resolves.
    pub slug: Slug,
    /// Title (the slug's words come from it).
    pub title: Title,
    /// One-line description.
    pub description: Description,
    /// Sorted, de-duplicated tags.
    pub tag_list: Vec<Tag>,
    /// Who wrote it (immutable, so pointers may copy it).
    pub author_id: UserId,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
    /// Exact count of favorite items.
    #[serde(default)]
    pub favorites_count: u64,
    /// The last comment id handed out (0: none yet).
    #[serde(default)]
    pub comment_seq: u64,
    /// Set while a delete is in progress: the article reads as gone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deleting: bool,
    /// Bumped by every edit and guarded by it, so an edit or delete that read
    /// an older version (older tags, so older tag links to fix) cannot commit.
    #[serde(default)]
    pub version: u64,
}

impl ArticleRecord {
    /// This article's sort key in every timeline index.
    pub fn timeline(&self) -> String {
        keys::timeline(&self.created_at.render(), &self.article_id)
    }
}

/// An article's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BodyRecord {
    /// Markdown body, kept in its own item so lists never pay to read it.
    pub body: ArticleText,
}

/// A comment as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommentRecord {
    /// Integer id, unique within the article.
    pub id: CommentId,
    /// The comment's text.
    pub body: CommentText,
    /// Who wrote it: the only one who may delete it.
    pub author_id: UserId,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last update time.
    pub updated_at: Timestamp,
}

/// An entry of a tag or favorites list: enough to fetch the article and its author together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticlePointer {
    /// The article pointed at.
    pub article_id: ArticleId,
    /// Its author (immutable, so safe to copy).
    pub author_id: UserId,
}

/// A statistics item heading an index partition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CountRecord {
    /// Articles in the partition.
    #[serde(default)]
    pub article_count: u64,
}

/// A tag with its article count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TagRecord {
    /// The tag (normalised: trimmed, lowercase).
    pub tag: Tag,
    /// Articles carrying it.
    #[serde(default)]
    pub article_count: u64,
}

/// A uniqueness claim pointing at its owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClaimRecord {
    /// The user holding the username or email.
    pub user_id: UserId,
}

/// Recent failed logins against one email; DynamoDB's TTL removes it at
/// `expires_at` (and readers ignore it from then on, since TTL deletes late).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoginGuardRecord {
    /// Attempts claimed in the current window (a success deletes the record).
    #[serde(default)]
    pub failures: u32,
    /// Attempts the window allows before the next lock runs out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allowed: Option<u32>,
    /// Unix time (milliseconds) before which every attempt is refused, if locked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked_until: Option<i64>,
    /// Unix time (seconds) the record expires: the TTL attribute.
    #[serde(default)]
    pub expires_at: i64,
}

/// An idempotency key taken by a request still running: what it asked and
/// who holds it, no response yet. A duplicate that finds it waits briefly,
/// then gets a 409; a holder that crashed loses it at `expires_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeyClaimRecord {
    /// Keyed hash of the request, as in [`ReceiptRecord::fingerprint`]: a
    /// duplicate with another body is refused at once, not kept waiting.
    pub fingerprint: String,
    /// Random, one per request: only the holder's receipt may replace the
    /// claim, and only the holder may release it.
    pub claim: String,
    /// Unix time (seconds) from which anyone may take the key over (a
    /// holder that crashed); the TTL attribute, as for receipts.
    pub expires_at: i64,
}

/// The first response to a request with an idempotency key; DynamoDB's TTL
/// removes it at `expires_at` (readers ignore it from then on).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiptRecord {
    /// Keyed hash of the request (method, path, body): a reuse of the key
    /// for another request is refused, not answered with this response.
    pub fingerprint: String,
    /// The response's status.
    pub status: u16,
    /// The response's body; a token in it is left empty (see `grant`).
    pub body: String,
    /// Unix time (seconds) the receipt expires: the TTL attribute.
    pub expires_at: i64,
    /// The token the response carried, as what to sign again, never as the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<GrantRecord>,
}

/// A token a receipt's response carried: to whom and when it was issued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrantRecord {
    /// Its `sub`.
    pub user_id: UserId,
    /// Its `iat`, Unix seconds.
    pub issued_at: u64,
}

/// What the item under an idempotency key holds.
#[derive(Debug, Clone, PartialEq)]
pub enum KeyRecord {
    /// A request holds the key and has not answered yet.
    Claimed(KeyClaimRecord),
    /// The key's first response.
    Answered(ReceiptRecord),
}

impl KeyRecord {
    /// Reads the item under a receipt key: a claim names its holder, a receipt does not.
    pub fn from_item(item: Item) -> Result<Self, StoreError> {
        if item.contains_key("claim") {
            from_item(item).map(Self::Claimed)
        } else {
            from_item(item).map(Self::Answered)
        }
    }

    /// Whether it still stands at `now` (Unix seconds): until it expires
    /// (TTL deletes late), a claim when its holder's time is up.
    pub fn stands_at(&self, now: i64) -> bool {
        match self {
            Self::Claimed(claim) => claim.expires_at > now,
            Self::Answered(receipt) => receipt.expires_at > now,
        }
    }
}

/// A follow edge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowRecord {
    /// Who follows.
    pub follower: UserId,
    /// Who is followed.
    pub followee: UserId,
}

/// Serializes `record` and adds its key and index attributes.
pub fn to_item<T: Serialize>(key: &Key, index: &[(&str, String)], record: &T) -> Item {
    let mut item: Item = serde_dynamo::to_item(record).expect("records always serialize");
    item.insert(attr::PK.into(), AttributeValue::S(key.pk().to_owned()));
    item.insert(attr::SK.into(), AttributeValue::S(key.sk().to_owned()));
    for (name, value) in index {
        item.insert((*name).into(), AttributeValue::S(value.clone()));
    }
    item
}

/// Reads a record back, ignoring key and index attributes.
pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(StoreError::Malformed)
}

/// A key as a DynamoDB key map.
pub fn key_item(key: &Key) -> Item {
    HashMap::from([
        (attr::PK.into(), AttributeValue::S(key.pk().to_owned())),
        (attr::SK.into(), AttributeValue::S(key.sk().to_owned())),
    ])
}

/// The key of a returned item.
pub fn key_of(item: &Item) -> Option<Key> {
    let text = |name: &str| item.get(name)?.as_s().ok().cloned();
    Some(Key::read_back(text(attr::PK)?, text(attr::SK)?))
}

/// A user item: listed at the head of its author and favorites partitions.
pub fn user_item(user: &UserRecord) -> Item {
    to_item(
        &keys::user(&user.user_id),
        &[
            (attr::GSI1PK, keys::author_partition(&user.user_id)),
            (attr::GSI1SK, keys::HEAD.into()),
            (attr::GSI2PK, keys::favorites_partition(&user.user_id)),
            (attr::GSI2SK, keys::HEAD.into()),
        ],
        user,
    )
}

/// An article item: listed in its author's partition and the all-articles partition.
pub fn article_item(article: &ArticleRecord) -> Item {
    let timeline = article.timeline();
    to_item(
        &keys::article(&article.article_id),
        &[
            (attr::GSI1PK, keys::author_partition(&article.author_id)),
            (attr::GSI1SK, timeline.clone()),
            (attr::GSI2PK, keys::ALL_ARTICLES.into()),
            (attr::GSI2SK, timeline),
        ],
        article,
    )
}

/// A tag link: the article's entry in the tag's list partition.
pub fn tag_link_item(article: &ArticleRecord, tag: &Tag) -> Item {
    to_item(
        &keys::tag_link(&article.article_id, tag),
        &[
            (attr::GSI1PK, keys::tag_partition(tag)),
            (attr::GSI1SK, article.timeline()),
        ],
        &ArticlePointer {
            article_id: article.article_id.clone(),
            author_id: article.author_id.clone(),
        },
    )
}

/// A favorite: the article's entry in the user's favorites partition.
pub fn favorite_item(article: &ArticleRecord, user: &UserId) -> Item {
    to_item(
        &keys::favorite(&article.article_id, user),
        &[
            (attr::GSI2PK, keys::favorites_partition(user)),
            (attr::GSI2SK, article.timeline()),
        ],
        &ArticlePointer {
            article_id: article.article_id.clone(),
            author_id: article.author_id.clone(),
        },
    )
}

/// A follow edge, under the follower's partition (one query lists whom a
/// reader follows, for the feed).
pub fn follow_item(follower: &UserId, followee: &UserId) -> Item {
    to_item(
        &keys::follow(follower, followee),
        &[],
        &FollowRecord {
            follower: follower.clone(),
            followee: followee.clone(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> UserRecord {
        UserRecord {
            user_id: UserId::from_trusted("u1".into()),
            username: Username::from_trusted("Jake".into()),
            email: Email::from_trusted("jake@jake.jake".into()),
            password_hash: serde_json::from_str("\"$argon2id$x\"").unwrap(),
            bio: None,
            image: ImageUrl::parse(Some("https://x.io/a.png")).unwrap(),
            article_count: 2,
            favorite_count: 0,
            recent: vec!["2026-01-01T00:00:00.000Z#abcdefghijkl".into()],
            version: 3,
        }
    }

    fn article() -> ArticleRecord {
        let id = ArticleId::from_trusted("abcdefghijkl".into());
        ArticleRecord {
            slug: Slug::new("Hello", &id),
            article_id: id,
            title: Title::parse(Some("Hello")).unwrap(),
            description: Description::parse(Some("d")).unwrap(),
            tag_list: vec![Tag::from_trusted("a".into())],
            author_id: UserId::from_trusted("u1".into()),
            created_at: Timestamp::parse("2026-01-01T00:00:00.000Z").unwrap(),
            updated_at: Timestamp::parse("2026-01-02T00:00:00.000Z").unwrap(),
            favorites_count: 1,
            comment_seq: 4,
            deleting: false,
            version: 0,
        }
    }

    #[test]
    fn a_claim_and_a_receipt_under_one_key_read_back_as_what_they_are() {
        let key = keys::receipt(
            None,
            &crate::idempotency::IdempotencyKey::parse(b"k").unwrap(),
        );
        let claim = KeyClaimRecord {
            fingerprint: "ab".into(),
            claim: "c1".into(),
            expires_at: 1_700_000_030,
        };
        let read = KeyRecord::from_item(to_item(&key, &[], &claim)).unwrap();
        assert_eq!(read, KeyRecord::Claimed(claim));
        assert!(read.stands_at(1_700_000_029));
        assert!(!read.stands_at(1_700_000_030), "lapsed at expires_at");
        let receipt = ReceiptRecord {
            fingerprint: "ab".into(),
            status: 201,
            body: "{}".into(),
            expires_at: 1_800_000_000,
            grant: None,
        };
        let read = KeyRecord::from_item(to_item(&key, &[], &receipt)).unwrap();
        assert_eq!(read, KeyRecord::Answered(receipt));
        assert!(read.stands_at(1_799_999_999));
        assert!(!read.stands_at(1_800_000_000));
    }

    #[test]
    fn a_receipt_round_trips_with_its_ttl_attribute_and_grant() {
        let record = ReceiptRecord {
            fingerprint: "ab".into(),
            status: 201,
            body: r#"{"user":{"token":""}}"#.into(),
            expires_at: 1_800_000_000,
            grant: Some(GrantRecord {
                user_id: UserId::from_trusted("u1".into()),
                issued_at: 1_700_000_000,
            }),
        };
        let key = keys::receipt(
            None,
            &crate::idempotency::IdempotencyKey::parse(b"k").unwrap(),
        );
        let item = to_item(&key, &[], &record);
        assert_eq!(item["expires_at"].as_n().unwrap(), "1800000000");
        assert_eq!(from_item::<ReceiptRecord>(item).unwrap(), record);
        let plain = ReceiptRecord {
            grant: None,
            ..record
        };
        let item = to_item(&key, &[], &plain);
        assert!(!item.contains_key("grant"), "no grant, no attribute");
        assert_eq!(from_item::<ReceiptRecord>(item).unwrap(), plain);
    }

    #[test]
    fn a_user_item_round_trips_and_heads_its_list_partitions() {
        let item = user_item(&user());
        assert_eq!(item["pk"].as_s().unwrap(), "USER#u1");
        assert_eq!(item["gsi1pk"].as_s().unwrap(), "AUTHOR#u1");
        assert_eq!(item["gsi2sk"].as_s().unwrap(), keys::HEAD);
        assert!(!item.contains_key("bio"), "absent optionals are not stored");
        assert_eq!(from_item::<UserRecord>(item).unwrap(), user());
    }

    #[test]
    fn an_article_item_round_trips_and_sits_on_both_timelines() {
        let item = article_item(&article());
        assert_eq!(item["pk"].as_s().unwrap(), "ARTICLE#abcdefghijkl");
        assert_eq!(
            item["gsi2sk"].as_s().unwrap(),
            "2026-01-01T00:00:00.000Z#abcdefghijkl"
        );
        assert_eq!(
            item["created_at"].as_s().unwrap(),
            "2026-01-01T00:00:00.000Z"
        );
        assert!(!item.contains_key("deleting"));
        assert_eq!(from_item::<ArticleRecord>(item).unwrap(), article());
    }

    #[test]
    fn pointers_carry_the_author_so_one_batch_read_fetches_article_and_author() {
        let a = article();
        let link = tag_link_item(&a, &a.tag_list[0]);
        assert_eq!(link["gsi1pk"].as_s().unwrap(), "TAG#a");
        let pointer: ArticlePointer = from_item(link).unwrap();
        assert_eq!(pointer.author_id, a.author_id);
        let fav = favorite_item(&a, &UserId::from_trusted("u2".into()));
        assert_eq!(fav["gsi2pk"].as_s().unwrap(), "FAVS#u2");
    }

    #[test]
    fn a_follow_edge_lives_under_its_follower_and_names_both_users() {
        let (reader, author) = (
            UserId::from_trusted("r1".into()),
            UserId::from_trusted("a1".into()),
        );
        let item = follow_item(&reader, &author);
        let key = keys::follow(&reader, &author);
        assert_eq!(item["pk"].as_s().unwrap(), key.pk());
        assert_eq!(item["sk"].as_s().unwrap(), key.sk());
        let edge: FollowRecord = from_item(item).unwrap();
        assert_eq!((edge.follower, edge.followee), (reader, author));
    }

    #[test]
    fn a_malformed_item_is_an_error_not_a_panic() {
        let item = key_item(&keys::user(&UserId::from_trusted("x".into())));
        assert!(from_item::<UserRecord>(item).is_err());
    }

    #[test]
    fn the_key_of_an_item_is_read_back() {
        let key = keys::global_stats();
        assert_eq!(key_of(&key_item(&key)), Some(key));
    }
}
