//! Idempotency keys in the table: a request first *claims* its key (a
//! conditional put that only a free key accepts), then replaces the claim
//! with its *receipt*, the first response, on the condition that the claim is
//! still its own (see `crate::idempotency`, the HTTP half). All reads are strong: a
//! duplicate must see what its twin wrote a moment ago.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{ReturnConsumedCapacity, TransactWriteItem};

use serde::{Deserialize, Serialize};

use super::items::{Item, from_item, key_item, to_item};
use super::keys::Key;
use super::writes::{Values, n, s, values};
use super::{Store, StoreError};
use crate::domain::{Timestamp, UserId};

/// A response to record under a key, with the key and the claim it is
/// written under: what a keyed write adds to its transaction.
#[derive(Debug, Clone)]
pub struct Receipt {
    /// Where it is stored.
    pub(crate) key: Key,
    /// What is stored.
    pub(crate) record: ReceiptRecord,
    /// The writer's claim on the key: the write applies only while it holds.
    pub(crate) claim: String,
}

/// An idempotency key taken by a request still running: what it asked and
/// who holds it, no response yet. A duplicate that finds it waits briefly,
/// then gets a 409; a holder that crashed loses it at `expires_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct KeyClaimRecord {
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
pub(crate) struct ReceiptRecord {
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
pub(crate) struct GrantRecord {
    /// Its `sub`.
    pub user_id: UserId,
    /// Its `iat`, Unix seconds.
    pub issued_at: u64,
}

/// What the item under an idempotency key holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum KeyRecord {
    /// A request holds the key and has not answered yet.
    Claimed(KeyClaimRecord),
    /// The key's first response.
    Answered(ReceiptRecord),
}

impl KeyRecord {
    /// Reads the item under a receipt key: a claim names its holder, a receipt does not.
    pub(crate) fn from_item(item: Item) -> Result<Self, StoreError> {
        if item.contains_key("claim") {
            from_item(item).map(Self::Claimed)
        } else {
            from_item(item).map(Self::Answered)
        }
    }

    /// Whether it still stands at `now` (Unix seconds): until it expires
    /// (TTL deletes late), a claim when its holder's time is up.
    pub(crate) fn stands_at(&self, now: i64) -> bool {
        match self {
            Self::Claimed(claim) => claim.expires_at > now,
            Self::Answered(receipt) => receipt.expires_at > now,
        }
    }
}

impl Receipt {
    /// This receipt, for a response whose body carries a token of `user`
    /// issued at `issued_at` in place of the empty `"token":""`: the token
    /// itself is never stored, and a replay signs the same claims again,
    /// which (HS256 being deterministic) gives the same token.
    pub(crate) fn granting(mut self, user: &UserId, issued_at: u64) -> Self {
        self.record.grant = Some(GrantRecord {
            user_id: user.clone(),
            issued_at,
        });
        self
    }
}

/// A key is free where nothing is, where a receipt expired (TTL deletes
/// late), or where a claim's holder ran out of time (it crashed); and a
/// claim is its own holder's (the SDK resending a put whose answer was lost).
const FREE: &str = "attribute_not_exists(pk) OR expires_at <= :now OR claim = :claim";

/// Only the request holding the claim may answer or release it.
const HELD: &str = "claim = :claim";

impl Store {
    /// Takes `key` for the request `claim` describes: `false` if a receipt or
    /// another request's live claim holds it, or a transaction is writing it.
    pub(crate) async fn claim_key(
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
    pub(crate) async fn key_record(
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
    pub(crate) async fn release_key(&self, key: &Key, claim: &str) -> Result<(), StoreError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::keys;

    #[test]
    fn a_claim_and_a_receipt_under_one_key_read_back_as_what_they_are() {
        let key = keys::receipt(None, "k");
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
                user_id: UserId::generate(),
                issued_at: 1_700_000_000,
            }),
        };
        let key = keys::receipt(None, "k");
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
}
