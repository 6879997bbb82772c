//! The stored form of every entity, and its one mapping to and from DynamoDB
//! items (through serde_dynamo). Key attributes are added here and ignored
//! when reading back.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::StoreError;
use super::keys::{self, Key, attr};
use crate::domain::{Article, ArticleId, ArticleText, Tag, User, UserId};

/// A raw DynamoDB item.
pub(crate) type Item = HashMap<String, AttributeValue>;

/// How many of an author's newest articles their user item lists (for the feed).
pub(crate) const RECENT_MAX: usize = 20;

/// An article's body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct BodyRecord {
    /// Markdown body, kept in its own item so lists never pay to read it.
    pub body: ArticleText,
}

/// An entry of a tag or favorites list: enough to fetch the article and its author together.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ArticlePointer {
    /// The article pointed at.
    pub article_id: ArticleId,
    /// Its author (immutable, so safe to copy).
    pub author_id: UserId,
}

/// One of a hot article's favorite counters (`store::shards`): its share of
/// the count, which may be negative (an unfavorite may land on another
/// counter than its favorite did; only the sum is a count).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ShardRecord {
    /// Favorites added here, less those removed here.
    pub favorites_count: i64,
}

/// A fresh counter of a hot article.
pub(crate) fn shard_item(article: &ArticleId, shard: u8) -> Item {
    to_item(
        &keys::favorite_shard(article, shard),
        &[],
        &ShardRecord { favorites_count: 0 },
    )
}

/// A tag with its article count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct TagRecord {
    /// The tag (normalised: trimmed, lowercase).
    pub tag: Tag,
    /// Articles carrying it.
    #[serde(default)]
    pub article_count: u64,
}

/// A uniqueness claim pointing at its owner.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ClaimRecord {
    /// The user holding the username or email.
    pub user_id: UserId,
}

/// Recent failed logins against one email; DynamoDB's TTL removes it at
/// `expires_at` (and readers ignore it from then on, since TTL deletes late).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct LoginGuardRecord {
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

/// A follow edge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct FollowRecord {
    /// Who follows.
    pub follower: UserId,
    /// Who is followed.
    pub followee: UserId,
}

/// Serializes `record` and adds its key and index attributes.
pub(crate) fn to_item<T: Serialize>(key: &Key, index: &[(&str, String)], record: &T) -> Item {
    let mut item: Item = serde_dynamo::to_item(record).expect("records always serialize");
    item.insert(attr::PK.into(), AttributeValue::S(key.pk().to_owned()));
    item.insert(attr::SK.into(), AttributeValue::S(key.sk().to_owned()));
    for (name, value) in index {
        item.insert((*name).into(), AttributeValue::S(value.clone()));
    }
    item
}

/// Reads a record back, ignoring key and index attributes.
pub(crate) fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_dynamo::from_item(item).map_err(StoreError::Malformed)
}

/// A key as a DynamoDB key map.
pub(crate) fn key_item(key: &Key) -> Item {
    HashMap::from([
        (attr::PK.into(), AttributeValue::S(key.pk().to_owned())),
        (attr::SK.into(), AttributeValue::S(key.sk().to_owned())),
    ])
}

/// The key of a returned item.
pub(crate) fn key_of(item: &Item) -> Option<Key> {
    let text = |name: &str| item.get(name)?.as_s().ok().cloned();
    Some(Key::read_back(text(attr::PK)?, text(attr::SK)?))
}

/// A user item: listed at the head of its author and favorites partitions.
pub(crate) fn user_item(user: &User) -> Item {
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
pub(crate) fn article_item(article: &Article) -> Item {
    let timeline = keys::timeline_of(article);
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
pub(crate) fn tag_link_item(article: &Article, tag: &Tag) -> Item {
    to_item(
        &keys::tag_link(&article.article_id, tag),
        &[
            (attr::GSI1PK, keys::tag_partition(tag)),
            (attr::GSI1SK, keys::timeline_of(article)),
        ],
        &ArticlePointer {
            article_id: article.article_id.clone(),
            author_id: article.author_id.clone(),
        },
    )
}

/// A favorite: the article's entry in the user's favorites partition.
pub(crate) fn favorite_item(article: &Article, user: &UserId) -> Item {
    to_item(
        &keys::favorite(&article.article_id, user),
        &[
            (attr::GSI2PK, keys::favorites_partition(user)),
            (attr::GSI2SK, keys::timeline_of(article)),
        ],
        &ArticlePointer {
            article_id: article.article_id.clone(),
            author_id: article.author_id.clone(),
        },
    )
}

/// A follow edge, under the follower's partition (one query lists whom a
/// reader follows, for the feed).
pub(crate) fn follow_item(follower: &UserId, followee: &UserId) -> Item {
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
    use crate::domain::{
        Description, Email, ImageUrl, SessionEpoch, SessionId, Slug, Timestamp, Title, Username,
    };

    /// A user id padded from `name` (ids are 16 base-36 characters).
    fn uid(name: &str) -> UserId {
        UserId::parse(&format!("{name:0<16}")).unwrap()
    }

    fn user() -> User {
        User {
            user_id: uid("u1"),
            username: Username::parse(Some("Jake")).unwrap(),
            email: Email::parse(Some("jake@jake.jake")).unwrap(),
            password_hash: serde_json::from_str("\"$argon2id$x\"").unwrap(),
            bio: None,
            image: ImageUrl::parse(Some("https://x.io/a.png")).unwrap(),
            article_count: 2,
            favorite_count: 0,
            recent: vec!["2026-01-01T00:00:00.000Z#abcdefghijkl".into()],
            session_epoch: SessionEpoch::FIRST.next(),
            kept_session: Some(SessionId::registration()),
            version: 3,
        }
    }

    fn article() -> Article {
        let id = ArticleId::parse("abcdefghijkl").unwrap();
        Article {
            slug: Slug::new("Hello", &id),
            article_id: id,
            title: Title::parse(Some("Hello")).unwrap(),
            description: Description::parse(Some("d")).unwrap(),
            tag_list: vec![Tag::parse("a").unwrap()],
            author_id: uid("u1"),
            created_at: Timestamp::parse("2026-01-01T00:00:00.000Z").unwrap(),
            updated_at: Timestamp::parse("2026-01-02T00:00:00.000Z").unwrap(),
            favorites_count: 1,
            favorite_shards: 0,
            deleting: false,
            version: 0,
        }
    }

    #[test]
    fn a_user_item_round_trips_and_heads_its_list_partitions() {
        let item = user_item(&user());
        assert_eq!(item["pk"].as_s().unwrap(), "USER#u100000000000000");
        assert_eq!(item["gsi1pk"].as_s().unwrap(), "AUTHOR#u100000000000000");
        assert_eq!(item["gsi2sk"].as_s().unwrap(), keys::HEAD);
        assert!(!item.contains_key("bio"), "absent optionals are not stored");
        assert_eq!(from_item::<User>(item).unwrap(), user());
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
        assert_eq!(from_item::<Article>(item).unwrap(), article());
    }

    #[test]
    fn pointers_carry_the_author_so_one_batch_read_fetches_article_and_author() {
        let a = article();
        let link = tag_link_item(&a, &a.tag_list[0]);
        assert_eq!(link["gsi1pk"].as_s().unwrap(), "TAG#a");
        let pointer: ArticlePointer = from_item(link).unwrap();
        assert_eq!(pointer.author_id, a.author_id);
        let fav = favorite_item(&a, &uid("u2"));
        assert_eq!(fav["gsi2pk"].as_s().unwrap(), "FAVS#u200000000000000");
    }

    #[test]
    fn every_item_kind_sits_in_exactly_the_indexes_its_key_says() {
        let a = article();
        let items = [
            user_item(&user()),
            article_item(&a),
            tag_link_item(&a, &a.tag_list[0]),
            favorite_item(&a, &uid("u2")),
            follow_item(&uid("r1"), &uid("a1")),
        ];
        for item in items {
            let key = key_of(&item).unwrap();
            let carried: Vec<&str> = crate::store::indexes::SHAPES
                .iter()
                .filter(|shape| item.contains_key(shape.keys[0]))
                .map(|shape| shape.name)
                .collect();
            assert_eq!(carried, keys::indexed_in(&key), "{key:?}");
        }
    }

    #[test]
    fn a_follow_edge_lives_under_its_follower_and_names_both_users() {
        let (reader, author) = (uid("r1"), uid("a1"));
        let item = follow_item(&reader, &author);
        let key = keys::follow(&reader, &author);
        assert_eq!(item["pk"].as_s().unwrap(), key.pk());
        assert_eq!(item["sk"].as_s().unwrap(), key.sk());
        let edge: FollowRecord = from_item(item).unwrap();
        assert_eq!((edge.follower, edge.followee), (reader, author));
    }

    #[test]
    fn a_malformed_item_is_an_error_not_a_panic() {
        let item = key_item(&keys::user(&uid("x")));
        assert!(from_item::<User>(item).is_err());
    }

    #[test]
    fn the_key_of_an_item_is_read_back() {
        let key = keys::global_stats();
        assert_eq!(key_of(&key_item(&key)), Some(key));
    }
}
