//! Idempotency keys in the table: a request first *claims* its key (a
//! conditional put that only a free key accepts), then replaces the claim
//! with its *receipt*, the first response, on the condition that the claim is
//! still its own (see [`crate::idempotency`]). All reads are strong: a
//! duplicate must see what its twin wrote a moment ago.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{ReturnConsumedCapacity, TransactWriteItem};

use super::items::{Item, KeyClaimRecord, KeyRecord, key_item, to_item};
use super::keys::Key;
use super::{Store, StoreError, Values, n, s, values};
use crate::domain::Timestamp;
use crate::idempotency::Receipt;

/// A key is free where nothing is, where a receipt expired (TTL deletes
/// late), or where a claim's holder ran out of time (it crashed); and a
/// claim is its own holder's (the SDK resending a put whose answer was lost).
const FREE: &str = "attribute_not_exists(pk) OR expires_at <= :now OR claim = :claim";

/// Only the request holding the claim may answer or release it.
const HELD: &str = "claim = :claim";

impl Store {
    /// Takes `key` for the request `claim` describes: `false` if a receipt or
    /// another request's live claim holds it, or a transaction is writing it.
    pub async fn claim_key(
        &self,
        key: &Key,
        claim: &KeyClaimRecord,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.put_unless_refused(
            to_item(key, &[], claim),
            FREE,
            &[(":now", n(now.unix_seconds())), (":claim", s(&claim.claim))],
            |e| {
                matches!(
                    e,
                    PutItemError::ConditionalCheckFailedException(_)
                        | PutItemError::TransactionConflictException(_)
                )
            },
        )
        .await
    }

    /// What stands under `key` at `now`: a live claim or receipt, if any.
    pub async fn key_record(
        &self,
        key: &Key,
        now: Timestamp,
    ) -> Result<Option<KeyRecord>, StoreError> {
        let Some(item) = self.get(key, true).await? else {
            return Ok(None);
        };
        let record = KeyRecord::from_item(item)?;
        Ok(record.stands_at(now.unix_seconds()).then_some(record))
    }

    /// The receipt as one write of the effect's transaction; its condition
    /// fails if the claim is no longer the writer's.
    pub(crate) fn receipt_write(&self, receipt: &Receipt) -> TransactWriteItem {
        self.put_with(
            to_item(&receipt.key, &[], &receipt.record),
            HELD,
            &[(":claim", s(&receipt.claim))],
        )
    }

    /// Writes a receipt on its own (a request whose effect was already in
    /// place: nothing to write beside it): `false` if the claim is no longer
    /// the writer's.
    pub async fn record_receipt(&self, receipt: &Receipt) -> Result<bool, StoreError> {
        self.put_unless_refused(
            to_item(&receipt.key, &[], &receipt.record),
            HELD,
            &[(":claim", s(&receipt.claim))],
            |e| matches!(e, PutItemError::ConditionalCheckFailedException(_)),
        )
        .await
    }

    /// A conditional `PutItem`: `Ok(false)` when DynamoDB refused it with an
    /// error `refused` accepts as an answer, any other failure an error.
    async fn put_unless_refused(
        &self,
        item: Item,
        condition: &str,
        vals: Values<'_>,
        refused: fn(&PutItemError) -> bool,
    ) -> Result<bool, StoreError> {
        let request = self
            .client
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression(condition)
            .set_expression_attribute_values(values(vals))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send();
        match self.call("PutItem", request).await? {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e)) if refused(e.err()) => Ok(false),
            Err(e) => Err(StoreError::request("PutItem", e)),
        }
    }

    /// Gives `key` up if `claim` still holds it (a request that answered
    /// with an error leaves no receipt): a retry need not wait for it to lapse.
    pub async fn release_key(&self, key: &Key, claim: &str) -> Result<(), StoreError> {
        let request = self
            .client
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key_item(key)))
            .condition_expression(HELD)
            .expression_attribute_values(":claim", s(claim))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send();
        match self
            .call_with_grace("DeleteItem", request, crate::invocation::CLEANUP_GRACE)
            .await?
        {
            // Not ours any more (answered, or taken over): nothing to give up.
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), DeleteItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(())
            }
            Err(e) => Err(StoreError::request("DeleteItem", e)),
        }
    }
}
