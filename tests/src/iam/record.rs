//! What IAM sees of a DynamoDB request: read off the SDK's own input by an
//! interceptor, so it is the request that was sent, not what the store
//! meant to send.

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemInput;
use aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemInput;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemInput;
use aws_sdk_dynamodb::operation::get_item::GetItemInput;
use aws_sdk_dynamodb::operation::put_item::PutItemInput;
use aws_sdk_dynamodb::operation::query::QueryInput;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsInput;
use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

use super::{Access, Resource, current};

/// The table's partition key attribute.
const PK: &str = "pk";

/// Records every request the client sends inside an attributed invocation
/// (see [`super::attributed`]); outside one it records nothing.
#[derive(Debug)]
pub(crate) struct RecordAccess {
    /// Each index's partition key attribute, from the template.
    index_keys: HashMap<String, String>,
}

impl RecordAccess {
    pub(crate) fn new(index_keys: HashMap<String, String>) -> Self {
        Self { index_keys }
    }
}

impl Intercept for RecordAccess {
    fn name(&self) -> &'static str {
        "RecordAccess"
    }

    // Once per operation, before the SDK's retries: a retried attempt is the
    // same request to IAM.
    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(caller) = current() {
            let accesses = accesses(context.input(), &self.index_keys);
            caller.lock().expect("never poisoned").extend(accesses);
        }
        Ok(())
    }
}

fn pk(item: &HashMap<String, AttributeValue>) -> String {
    match item.get(PK) {
        Some(AttributeValue::S(value)) => value.clone(),
        other => panic!("a request's key has no string {PK}: {other:?}"),
    }
}

fn one(action: &'static str, item: Option<&HashMap<String, AttributeValue>>) -> Access {
    let item = item.unwrap_or_else(|| panic!("{action} without a key"));
    Access {
        action,
        resource: Resource::Table,
        leading_keys: vec![pk(item)],
    }
}

/// The accesses IAM authorises for one request: one for most operations,
/// one per item for a transaction (each item is authorised as its own
/// PutItem, UpdateItem, DeleteItem or ConditionCheckItem).
fn accesses(
    input: &aws_smithy_runtime_api::client::interceptors::context::Input,
    index_keys: &HashMap<String, String>,
) -> Vec<Access> {
    if let Some(input) = input.downcast_ref::<GetItemInput>() {
        return vec![one("GetItem", input.key.as_ref())];
    }
    if let Some(input) = input.downcast_ref::<PutItemInput>() {
        return vec![one("PutItem", input.item.as_ref())];
    }
    if let Some(input) = input.downcast_ref::<UpdateItemInput>() {
        return vec![one("UpdateItem", input.key.as_ref())];
    }
    if let Some(input) = input.downcast_ref::<DeleteItemInput>() {
        return vec![one("DeleteItem", input.key.as_ref())];
    }
    if let Some(input) = input.downcast_ref::<QueryInput>() {
        return vec![query(input, index_keys)];
    }
    if let Some(input) = input.downcast_ref::<BatchGetItemInput>() {
        let keys = input.request_items.iter().flatten();
        return vec![Access {
            action: "BatchGetItem",
            resource: Resource::Table,
            leading_keys: keys.flat_map(|(_, k)| k.keys.iter().map(pk)).collect(),
        }];
    }
    if let Some(input) = input.downcast_ref::<BatchWriteItemInput>() {
        let requests = input.request_items.iter().flatten().flat_map(|(_, r)| r);
        let leading_keys = requests
            .map(|r| match (&r.put_request, &r.delete_request) {
                (Some(put), _) => pk(&put.item),
                (_, Some(delete)) => pk(&delete.key),
                _ => panic!("a BatchWriteItem request that neither puts nor deletes"),
            })
            .collect();
        return vec![Access {
            action: "BatchWriteItem",
            resource: Resource::Table,
            leading_keys,
        }];
    }
    if let Some(input) = input.downcast_ref::<TransactWriteItemsInput>() {
        return input
            .transact_items
            .iter()
            .flatten()
            .map(|item| match item {
                _ if item.put.is_some() => one("PutItem", item.put.as_ref().map(|p| &p.item)),
                _ if item.update.is_some() => {
                    one("UpdateItem", item.update.as_ref().map(|u| &u.key))
                }
                _ if item.delete.is_some() => {
                    one("DeleteItem", item.delete.as_ref().map(|d| &d.key))
                }
                _ => one(
                    "ConditionCheckItem",
                    item.condition_check.as_ref().map(|c| &c.key),
                ),
            })
            .collect();
    }
    // Anything else (Scan, DescribeTable, …) is recorded with no key, so a
    // policy that does not grant it fails the test that made it.
    vec![Access {
        action: "an operation this recorder does not read",
        resource: Resource::Table,
        leading_keys: Vec::new(),
    }]
}

/// A Query's resource and the partition it reads: the value the key
/// condition sets the table's (or the index's) partition key to.
fn query(input: &QueryInput, index_keys: &HashMap<String, String>) -> Access {
    let (resource, key) = match &input.index_name {
        None => (Resource::Table, PK),
        Some(index) => (
            Resource::Index(index.clone()),
            index_keys
                .get(index)
                .unwrap_or_else(|| panic!("the template declares no index {index}"))
                .as_str(),
        ),
    };
    let expression = input.key_condition_expression.as_deref().unwrap_or("");
    let names = input.expression_attribute_names.clone().unwrap_or_default();
    let tokens: Vec<&str> = expression.split_whitespace().collect();
    let placeholder = tokens
        .windows(3)
        .find(|w| w[1] == "=" && names.get(w[0]).map_or(w[0], String::as_str) == key)
        .map(|w| w[2])
        .unwrap_or_else(|| panic!("no `{key} = :value` in the key condition {expression:?}"));
    let value = match input
        .expression_attribute_values
        .as_ref()
        .and_then(|v| v.get(placeholder))
    {
        Some(AttributeValue::S(value)) => value.clone(),
        other => panic!("{placeholder} of {expression:?} is no string: {other:?}"),
    };
    Access {
        action: "Query",
        resource,
        leading_keys: vec![value],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::interceptors::context::Input;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    #[test]
    fn a_query_reads_the_partition_its_key_condition_names() {
        let input = QueryInput::builder()
            .table_name("t")
            .index_name("GSI1")
            .key_condition_expression("gsi1pk = :p AND begins_with(gsi1sk, :s)")
            .expression_attribute_values(":p", s("AUTHOR#a"))
            .expression_attribute_values(":s", s("x"))
            .build()
            .unwrap();
        let keys = HashMap::from([("GSI1".to_owned(), "gsi1pk".to_owned())]);
        let access = accesses(&Input::erase(input), &keys).remove(0);
        assert_eq!(access.resource, Resource::Index("GSI1".into()));
        assert_eq!(access.leading_keys, ["AUTHOR#a"]);
    }

    #[test]
    fn a_transaction_is_one_access_per_item_with_its_own_action() {
        use aws_sdk_dynamodb::types::{ConditionCheck, Put, TransactWriteItem};
        let key = HashMap::from([(PK.to_owned(), s("USER#1")), ("sk".to_owned(), s("U"))]);
        let put = Put::builder()
            .table_name("t")
            .set_item(Some(key.clone()))
            .build()
            .unwrap();
        let check = ConditionCheck::builder()
            .table_name("t")
            .set_key(Some(key))
            .condition_expression("attribute_exists(pk)")
            .build()
            .unwrap();
        let input = TransactWriteItemsInput::builder()
            .transact_items(TransactWriteItem::builder().put(put).build())
            .transact_items(TransactWriteItem::builder().condition_check(check).build())
            .build()
            .unwrap();
        let actions: Vec<_> = accesses(&Input::erase(input), &HashMap::new())
            .into_iter()
            .map(|a| a.action)
            .collect();
        assert_eq!(actions, ["PutItem", "ConditionCheckItem"]);
    }
}
