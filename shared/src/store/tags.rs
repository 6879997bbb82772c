//! Tags: each tag's statistics item (its exact article count, on the
//! popularity index) and the popular-tags read.

use std::cmp::Reverse;

use aws_sdk_dynamodb::types::{ReturnConsumedCapacity, TransactWriteItem};

use super::items::{TagRecord, from_item};
use super::keys;
use super::writes::{n, s};
use super::{Store, StoreError, index};
use crate::domain::Tag;

impl Store {
    pub(super) fn tag_count(&self, tag: &Tag, delta: i64) -> TransactWriteItem {
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

    /// The most used tags, most used first: one query on the popularity index.
    pub(crate) async fn popular_tags(&self, limit: usize) -> Result<Vec<Tag>, StoreError> {
        let request = self
            .client
            .query()
            .table_name(self.table())
            .index_name(index::GSI3)
            .key_condition_expression(format!(
                "{} = :tags AND article_count > :zero",
                keys::attr::GSI3PK
            ))
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
