//! The write builders a transaction is made of, their common conditions,
//! and attribute values.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update,
};

use super::Store;
use super::items::{Item, key_item};
use super::keys::Key;

/// Condition: the article exists and no delete has started on it.
pub(super) const LIVE: &str = "attribute_exists(pk) AND attribute_not_exists(deleting)";

/// Condition: the item does not exist yet.
pub(super) const ABSENT: &str = "attribute_not_exists(pk)";

/// Expression attribute values.
pub(crate) type Values<'a> = &'a [(&'a str, AttributeValue)];

pub(crate) fn values(values: Values<'_>) -> Option<HashMap<String, AttributeValue>> {
    (!values.is_empty()).then(|| {
        values
            .iter()
            .map(|(name, value)| ((*name).to_owned(), value.clone()))
            .collect()
    })
}

impl Store {
    /// A transactional put, optionally conditional.
    pub(crate) fn put(&self, item: Item, condition: Option<&str>) -> TransactWriteItem {
        let put = Put::builder()
            .table_name(self.table.as_ref())
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_owned))
            .build()
            .expect("table and item are set");
        TransactWriteItem::builder().put(put).build()
    }

    /// A transactional put with a condition that reads expression values.
    pub(crate) fn put_with(
        &self,
        item: Item,
        condition: &str,
        vals: Values<'_>,
    ) -> TransactWriteItem {
        let put = Put::builder()
            .table_name(self.table.as_ref())
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_values(values(vals))
            .build()
            .expect("table, item and condition are set");
        TransactWriteItem::builder().put(put).build()
    }

    /// A transactional update.
    pub(crate) fn update(
        &self,
        key: &Key,
        expression: &str,
        condition: Option<&str>,
        vals: Values<'_>,
    ) -> TransactWriteItem {
        let update = Update::builder()
            .table_name(self.table.as_ref())
            .set_key(Some(key_item(key)))
            .update_expression(expression)
            .set_condition_expression(condition.map(str::to_owned))
            .set_expression_attribute_values(values(vals))
            .build()
            .expect("table, key and expression are set");
        TransactWriteItem::builder().update(update).build()
    }

    /// A transactional delete, optionally conditional.
    pub(crate) fn delete(
        &self,
        key: &Key,
        condition: Option<&str>,
        vals: Values<'_>,
    ) -> TransactWriteItem {
        let delete = Delete::builder()
            .table_name(self.table.as_ref())
            .set_key(Some(key_item(key)))
            .set_condition_expression(condition.map(str::to_owned))
            .set_expression_attribute_values(values(vals))
            .build()
            .expect("table and key are set");
        TransactWriteItem::builder().delete(delete).build()
    }

    /// A transactional condition on an item that is not written.
    pub(crate) fn check(&self, key: &Key, condition: &str, vals: Values<'_>) -> TransactWriteItem {
        let check = ConditionCheck::builder()
            .table_name(self.table.as_ref())
            .set_key(Some(key_item(key)))
            .condition_expression(condition)
            .set_expression_attribute_values(values(vals))
            .build()
            .expect("table, key and condition are set");
        TransactWriteItem::builder().condition_check(check).build()
    }
}

/// A string attribute.
pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// A number attribute.
pub(crate) fn n(value: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(value.to_string())
}
