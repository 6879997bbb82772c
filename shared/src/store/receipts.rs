//! Idempotency receipts: read strongly, written with a condition that only an
//! absent or expired receipt may be replaced (see [`crate::idempotency`]).

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{ReturnConsumedCapacity, TransactWriteItem};

use super::items::{ReceiptRecord, from_item, to_item};
use super::keys::Key;
use super::{Store, StoreError, n};
use crate::domain::Timestamp;
use crate::idempotency::Receipt;

/// A receipt may be written where none is, or where one expired (TTL deletes late).
const REPLACEABLE: &str = "attribute_not_exists(pk) OR expires_at <= :now";

impl Store {
    /// The receipt under `key` that still answers at `now`, read strongly:
    /// a duplicate must see the receipt its twin committed a moment ago.
    pub async fn receipt(
        &self,
        key: &Key,
        now: Timestamp,
    ) -> Result<Option<ReceiptRecord>, StoreError> {
        let Some(item) = self.get(key, true).await? else {
            return Ok(None);
        };
        let record: ReceiptRecord = from_item(item)?;
        Ok((record.expires_at > now.unix_seconds()).then_some(record))
    }

    /// The receipt as one write of a transaction; its condition fails when
    /// the key already holds a live receipt.
    pub(crate) fn receipt_write(&self, receipt: &Receipt) -> TransactWriteItem {
        self.put_with(
            to_item(&receipt.key, &[], &receipt.record),
            REPLACEABLE,
            &[(":now", n(receipt.now.unix_seconds()))],
        )
    }

    /// Writes a receipt on its own (after an idempotent effect): `false` if
    /// the key already holds a live one.
    pub async fn record_receipt(&self, receipt: &Receipt) -> Result<bool, StoreError> {
        let request = self
            .client
            .put_item()
            .table_name(self.table())
            .set_item(Some(to_item(&receipt.key, &[], &receipt.record)))
            .condition_expression(REPLACEABLE)
            .expression_attribute_values(":now", n(receipt.now.unix_seconds()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send();
        match self.call("PutItem", request).await? {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), PutItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(false)
            }
            Err(e) => Err(StoreError::request("PutItem", e)),
        }
    }
}
