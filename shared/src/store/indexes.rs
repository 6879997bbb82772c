//! The index writes a table write causes, counted from what it writes:
//! DynamoDB Local meters none, and on AWS each is billed like a table write
//! (a write unit per KB of the index entry). Puts count exactly (an entry
//! per index whose partition key the item carries); updates and deletes
//! count from the item's kind, as upper bounds: an update that names an
//! index key attribute counts the entry's delete and re-put, one that names
//! only a projected attribute counts one rewrite.

use aws_sdk_dynamodb::types::TransactWriteItem;

use super::index;
use super::items::key_of;
use super::keys::{self, attr};

/// One index: its key attributes and what it projects besides them
/// (`template.yaml` declares the same; a template test checks).
#[derive(Debug, PartialEq, Eq)]
pub struct IndexShape {
    /// The index's name.
    pub name: &'static str,
    /// Partition and sort key attributes.
    pub keys: [&'static str; 2],
    /// Non-key attributes projected (`INCLUDE`).
    pub projected: &'static [&'static str],
}

/// Every index of the table.
pub const SHAPES: [IndexShape; 3] = [
    IndexShape {
        name: index::GSI1,
        keys: [attr::GSI1PK, attr::GSI1SK],
        projected: &["article_id", "author_id"],
    },
    IndexShape {
        name: index::GSI2,
        keys: [attr::GSI2PK, attr::GSI2SK],
        projected: &["article_id", "author_id"],
    },
    IndexShape {
        name: index::GSI3,
        keys: [attr::GSI3PK, "article_count"],
        projected: &["tag"],
    },
];

/// The index entries `write` writes (puts, rewrites and deletes), at most.
pub(crate) fn writes(write: &TransactWriteItem) -> u64 {
    if let Some(put) = write.put() {
        return SHAPES
            .iter()
            .filter(|shape| put.item().contains_key(shape.keys[0]))
            .count() as u64;
    }
    if let Some(delete) = write.delete() {
        return key_of(delete.key()).map_or(0, |key| keys::indexed_in(&key).len() as u64);
    }
    let Some(update) = write.update() else {
        return 0;
    };
    let Some(key) = key_of(update.key()) else {
        return 0;
    };
    let names = update.expression_attribute_names();
    let named: Vec<&str> = update
        .update_expression()
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '#'))
        .filter(|token| !token.is_empty())
        .map(|token| {
            names
                .and_then(|names| names.get(token))
                .map_or(token, String::as_str)
        })
        .collect();
    let names_any = |attrs: &[&str]| attrs.iter().any(|a| named.contains(a));
    SHAPES
        .iter()
        .filter(|shape| keys::indexed_in(&key).contains(&shape.name))
        .map(|shape| {
            if names_any(&shape.keys) {
                2
            } else if names_any(shape.projected) {
                1
            } else {
                0
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ArticleId, UserId};
    use crate::store::Store;
    use crate::store::writes::n;

    fn store() -> Store {
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .build();
        Store::new(aws_sdk_dynamodb::Client::from_conf(config), "t")
    }

    #[test]
    fn a_counter_on_an_article_or_a_user_rewrites_no_index_entry() {
        let store = store();
        let article = ArticleId::parse("abcdefghijkl").unwrap();
        let favorites = store.update(
            &keys::article(&article),
            "ADD favorites_count :d",
            None,
            &[(":d", n(1))],
        );
        let user = store.update(
            &keys::user(&UserId::generate()),
            "ADD favorite_count :d",
            None,
            &[(":d", n(1))],
        );
        assert_eq!((writes(&favorites), writes(&user)), (0, 0));
    }

    #[test]
    fn an_update_naming_index_keys_counts_each_entry_moved_and_a_check_counts_none() {
        let store = store();
        let article = ArticleId::parse("abcdefghijkl").unwrap();
        let tombstone = store.update(
            &keys::article(&article),
            "SET deleting = :yes REMOVE gsi1pk, gsi1sk, gsi2pk, gsi2sk",
            None,
            &[],
        );
        assert_eq!(writes(&tombstone), 4);
        let check = store.check(&keys::article(&article), "attribute_exists(pk)", &[]);
        assert_eq!(writes(&check), 0);
    }
}
