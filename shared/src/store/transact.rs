//! Transactions: one `TransactWriteItems` loop for every multi-item write,
//! with or without an idempotency receipt among its writes.

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{ReturnConsumedCapacity, TransactWriteItem};

use super::Store;
use super::error::StoreError;
use super::indexes;
use super::receipts::Receipt;
use super::retry::{Retry, limits};

/// The outcome of a transaction that DynamoDB accepted or refused on a condition.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TxOutcome {
    /// Every write applied.
    Committed,
    /// Nothing applied; `true` at each of the caller's writes whose condition failed.
    ConditionFailed(Vec<bool>),
    /// The transaction carried an idempotency receipt and its writer no
    /// longer holds the key's claim (it lapsed and a duplicate took over):
    /// nothing applied. Takes precedence over every other condition.
    KeyTaken,
}

/// The `settled` of a transaction whose races nothing decides early: every
/// loss to a concurrent writer is retried.
pub(crate) async fn undecided() -> Result<Option<TxOutcome>, StoreError> {
    Ok(None)
}

/// What a transaction sent without a receipt reports if it comes back
/// [`TxOutcome::KeyTaken`]: a broken invariant, a 500.
pub(crate) fn unreceipted() -> StoreError {
    StoreError::Unexpected("a receipt condition without a receipt".into())
}

impl Store {
    /// Applies `writes` atomically, with `receipt` (an idempotency key's first
    /// response) as one more write when given. A failed condition is
    /// reported by position. Losing to a concurrent transaction is retried
    /// with jittered backoff for at most [`limits::CONTENTION_BOX`] (then a
    /// 503 with `Retry-After`), after asking `settled` whether the race is
    /// already decided (a claim the winner now holds): `Some(outcome)` ends
    /// the loop with that outcome. Without it fifty registrations of one
    /// email keep conflicting with each other after the winner committed,
    /// and the losers run out of retries (503) instead of learning the email
    /// is taken (409).
    pub(crate) async fn transact<F, Fut>(
        &self,
        mut writes: Vec<TransactWriteItem>,
        receipt: Option<&Receipt>,
        settled: F,
    ) -> Result<TxOutcome, StoreError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Option<TxOutcome>, StoreError>>,
    {
        let own = writes.len();
        if receipt.is_none()
            && let [write] = writes.as_slice()
            && let Some(outcome) = self.write_alone(write).await?
        {
            return Ok(outcome);
        }
        if let Some(receipt) = receipt {
            writes.push(self.receipt_write(receipt));
        }
        let mut retry = Retry::boxed(limits::CONTENDED_TRANSACTION, limits::CONTENTION_BOX);
        let mut token = crate::invocation::transaction_token();
        while retry.next().await {
            let request = self
                .client
                .transact_write_items()
                .set_transact_items(Some(writes.clone()))
                .client_request_token(token.clone())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send();
            match self.call("TransactWriteItems", request).await? {
                Ok(_) => {
                    self.meter
                        .record_index_writes(writes.iter().map(indexes::writes).sum());
                    return Ok(TxOutcome::Committed);
                }
                Err(error) => match classify(&error) {
                    Cancellation::Conditions(failed) => {
                        if failed.get(own) == Some(&true) {
                            return Ok(TxOutcome::KeyTaken);
                        }
                        return Ok(TxOutcome::ConditionFailed(failed[..own].to_vec()));
                    }
                    // Refused, nothing written: the next attempt is a new one.
                    Cancellation::Contended => {
                        if let Some(outcome) = settled().await? {
                            return Ok(outcome);
                        }
                        token = crate::invocation::transaction_token();
                    }
                    // An earlier send with this token is still running and may
                    // commit: only the same token can safely ask again.
                    Cancellation::InProgress => {}
                    Cancellation::Throttled => {
                        return Err(StoreError::Unavailable {
                            operation: "TransactWriteItems",
                            source: Box::new(error),
                        });
                    }
                    Cancellation::Other => {
                        return Err(StoreError::request("TransactWriteItems", error));
                    }
                },
            }
        }
        Err(retry.exhausted())
    }
}

impl Store {
    /// A lone unconditional put or delete, sent as the single-item request it
    /// is (half the write units of a transaction); `None` for any other
    /// write, which goes as a transaction. Unconditional, so a resent request
    /// whose first answer was lost changes nothing (a transaction's token
    /// is what makes that true of conditional writes).
    async fn write_alone(
        &self,
        write: &TransactWriteItem,
    ) -> Result<Option<TxOutcome>, StoreError> {
        let conditional = write
            .put()
            .is_some_and(|p| p.condition_expression().is_some())
            || write
                .delete()
                .is_some_and(|d| d.condition_expression().is_some());
        if conditional {
            return Ok(None);
        }
        if let Some(put) = write.put() {
            let request = self
                .client
                .put_item()
                .table_name(put.table_name())
                .set_item(Some(put.item().clone()))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send();
            self.send("PutItem", request).await?;
        } else if let Some(delete) = write.delete() {
            let request = self
                .client
                .delete_item()
                .table_name(delete.table_name())
                .set_key(Some(delete.key().clone()))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send();
            self.send("DeleteItem", request).await?;
        } else {
            return Ok(None);
        }
        self.meter.record_index_writes(indexes::writes(write));
        Ok(Some(TxOutcome::Committed))
    }
}

/// What a refused transaction means for the caller.
#[derive(Debug, PartialEq, Eq)]
enum Cancellation {
    /// Conditions failed, `true` at each failing position: a domain outcome.
    Conditions(Vec<bool>),
    /// Lost to a concurrent transaction on the same items: nothing was
    /// written, so trying again (with a new token) is safe and likely to work.
    Contended,
    /// An earlier request with the same token is still being applied: ask
    /// again with that token (a new one could apply the writes twice).
    InProgress,
    /// DynamoDB throttled it (the SDK has already retried): a 503.
    Throttled,
    /// Anything else: unexpected, a 500 (or a 503 if transient, see [`is_transient`]).
    Other,
}

fn classify(error: &SdkError<TransactWriteItemsError, HttpResponse>) -> Cancellation {
    let Some(service) = error.as_service_error() else {
        return Cancellation::Other;
    };
    match service {
        TransactWriteItemsError::TransactionCanceledException(cancelled) => {
            let codes: Vec<&str> = cancelled
                .cancellation_reasons()
                .iter()
                .map(|r| r.code().unwrap_or("None"))
                .collect();
            cancellation(&codes)
        }
        TransactWriteItemsError::TransactionInProgressException(_) => Cancellation::InProgress,
        TransactWriteItemsError::ProvisionedThroughputExceededException(_)
        | TransactWriteItemsError::RequestLimitExceeded(_)
        | TransactWriteItemsError::ThrottlingException(_) => Cancellation::Throttled,
        _ => Cancellation::Other,
    }
}

/// Reads a cancellation's per-item reason codes (`None` where that item was fine).
fn cancellation(codes: &[&str]) -> Cancellation {
    if codes.contains(&"ConditionalCheckFailed") {
        Cancellation::Conditions(
            codes
                .iter()
                .map(|c| *c == "ConditionalCheckFailed")
                .collect(),
        )
    } else if codes
        .iter()
        .any(|c| matches!(*c, "ThrottlingError" | "ProvisionedThroughputExceeded"))
    {
        Cancellation::Throttled
    } else if codes
        .iter()
        .all(|c| matches!(*c, "None" | "TransactionConflict"))
    {
        Cancellation::Contended
    } else {
        Cancellation::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancelled_transaction_is_read_by_its_reasons() {
        assert_eq!(
            cancellation(&["None", "ConditionalCheckFailed"]),
            Cancellation::Conditions(vec![false, true])
        );
        assert_eq!(
            cancellation(&["TransactionConflict", "None"]),
            Cancellation::Contended
        );
        assert_eq!(
            cancellation(&["None", "ThrottlingError"]),
            Cancellation::Throttled
        );
        assert_eq!(
            cancellation(&["ProvisionedThroughputExceeded"]),
            Cancellation::Throttled
        );
        assert_eq!(cancellation(&["ValidationError"]), Cancellation::Other);
    }
}
