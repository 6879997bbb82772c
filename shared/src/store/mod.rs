//! The DynamoDB adapter. SDK types and errors stay in here: callers see domain
//! records and domain outcomes (taken, not found, forbidden), never an SDK error.

pub mod articles;
pub mod comments;
pub mod favorites;
pub mod items;
pub mod keys;
pub mod lists;
pub mod receipts;
pub mod retry;
pub mod tags;
pub mod users;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, ConsumedCapacity, Delete, KeysAndAttributes, Put,
    ReturnConsumedCapacity, TransactWriteItem, Update,
};
use futures::future::try_join_all;

use crate::idempotency::Receipt;
use items::{Item, key_item, key_of};
use keys::{Key, attr};
use retry::{Retry, limits};

/// A storage failure. [`StoreError::Unavailable`] and [`StoreError::Contended`]
/// are DynamoDB being unreachable, slow, throttling or contended: a 503 the
/// client may retry. The rest are unexpected: a 500. Either way the cause goes
/// to the log only.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// DynamoDB could not be reached, did not answer within the time budget,
    /// throttled the request or failed on its side (5xx); retrying later may work.
    #[error("DynamoDB {operation} request failed transiently")]
    Unavailable {
        /// Which operation.
        operation: &'static str,
        /// The SDK error, or the deadline that ran out.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The request to DynamoDB failed in a way retrying will not fix.
    #[error("DynamoDB {operation} request failed")]
    Request {
        /// Which operation.
        operation: &'static str,
        /// The SDK error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An item could not be read back as its record type.
    #[error("a stored item is malformed")]
    Malformed(#[source] serde_dynamo::Error),
    /// Something that cannot happen did (a broken invariant); a 500.
    #[error("unexpected storage outcome")]
    Unexpected(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// A transaction kept losing to concurrent writers.
    #[error("transaction still conflicting after {0} attempts")]
    Contended(u32),
}

impl StoreError {
    /// The error for a failed SDK request, transient or not (see [`is_transient`]).
    fn request<E>(operation: &'static str, source: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        if is_transient(&source) {
            Self::Unavailable {
                operation,
                source: Box::new(source),
            }
        } else {
            Self::Request {
                operation,
                source: Box::new(source),
            }
        }
    }

    /// Whether the client may retry the request later (a 503 rather than a 500).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable { .. } | Self::Contended(_))
    }
}

/// Error codes DynamoDB uses for throttling and for failures on its side.
const TRANSIENT_CODES: [&str; 6] = [
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "LimitExceededException",
];

/// Whether an SDK failure is DynamoDB being unavailable rather than our
/// request being wrong: no connection, no answer in time (the SDK's own
/// retries included), a broken response, throttling, or a 5xx.
fn is_transient<E: ProvideErrorMetadata>(error: &SdkError<E, HttpResponse>) -> bool {
    match error {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(service) => {
            service.raw().status().is_server_error()
                || service.err().code().is_some_and(|code| {
                    TRANSIENT_CODES
                        .iter()
                        .any(|transient| code.ends_with(transient))
                })
        }
        // ConstructionFailure and anything new: our bug, not DynamoDB's state.
        _ => false,
    }
}

/// The deadline of the invocation ran out before DynamoDB answered.
#[derive(Debug, thiserror::Error)]
#[error("no answer within the invocation's time budget")]
pub struct DeadlineExceeded;

/// Bounds an SDK request by what is left of the invocation's time (the SDK's
/// own timeouts bound each request; this bounds all of them together).
/// A clean-up after the deadline (giving up an idempotency key) still gets
/// `grace`, taken from the margin kept back for answering.
pub(crate) trait Bounded: std::future::Future + Sized {
    async fn bounded(
        self,
        operation: &'static str,
        grace: Duration,
    ) -> Result<Self::Output, StoreError> {
        match crate::invocation::remaining() {
            None => Ok(self.await),
            Some(left) => tokio::time::timeout(left.max(grace), self)
                .await
                .map_err(|_| StoreError::Unavailable {
                    operation,
                    source: Box::new(DeadlineExceeded),
                }),
        }
    }
}

impl<F: std::future::Future> Bounded for F {}

/// Counts DynamoDB requests (failed ones too) and the capacity they
/// consumed, for logs and benchmarks. Every request goes through
/// [`Store::call`], which records it here.
#[derive(Debug, Default)]
pub struct Meter {
    requests: AtomicU64,
    failed: AtomicU64,
    capacity_milli: AtomicU64,
}

/// A reading of a [`Meter`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// Requests sent (a BatchGetItem or TransactWriteItems counts once).
    pub requests: u64,
    /// Capacity units consumed, reads and writes together.
    pub capacity_units: f64,
    /// Requests among them that failed (refused, timed out, unreachable).
    pub failed_requests: u64,
}

impl Meter {
    fn record(&self, units: f64) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.capacity_milli
            .fetch_add((units * 1000.0).round() as u64, Ordering::Relaxed);
    }

    fn record_failure(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    /// The totals so far.
    pub fn usage(&self) -> Usage {
        Usage {
            requests: self.requests.load(Ordering::Relaxed),
            capacity_units: self.capacity_milli.load(Ordering::Relaxed) as f64 / 1000.0,
            failed_requests: self.failed.load(Ordering::Relaxed),
        }
    }
}

impl std::ops::Sub for Usage {
    type Output = Usage;
    fn sub(self, rhs: Usage) -> Usage {
        Usage {
            requests: self.requests - rhs.requests,
            capacity_units: self.capacity_units - rhs.capacity_units,
            failed_requests: self.failed_requests - rhs.failed_requests,
        }
    }
}

/// The capacity an SDK output reports consuming (we always ask for totals).
pub(crate) trait Consumed {
    /// Capacity units, reads and writes together.
    fn consumed(&self) -> f64;
}

fn units(capacity: &[ConsumedCapacity]) -> f64 {
    capacity
        .iter()
        .filter_map(ConsumedCapacity::capacity_units)
        .sum()
}

macro_rules! consumed_one {
    ($($output:ty),*) => {$(
        impl Consumed for $output {
            fn consumed(&self) -> f64 {
                units(self.consumed_capacity().map(std::slice::from_ref).unwrap_or_default())
            }
        }
    )*};
}

macro_rules! consumed_many {
    ($($output:ty),*) => {$(
        impl Consumed for $output {
            fn consumed(&self) -> f64 {
                units(self.consumed_capacity())
            }
        }
    )*};
}

consumed_one!(
    aws_sdk_dynamodb::operation::get_item::GetItemOutput,
    aws_sdk_dynamodb::operation::query::QueryOutput,
    aws_sdk_dynamodb::operation::put_item::PutItemOutput,
    aws_sdk_dynamodb::operation::update_item::UpdateItemOutput,
    aws_sdk_dynamodb::operation::delete_item::DeleteItemOutput
);
consumed_many!(
    aws_sdk_dynamodb::operation::batch_get_item::BatchGetItemOutput,
    aws_sdk_dynamodb::operation::batch_write_item::BatchWriteItemOutput,
    aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsOutput
);

/// What an SDK request resolves to.
pub(crate) type SdkResult<T, E> = Result<T, SdkError<E, HttpResponse>>;

/// Names of the table's global secondary indexes (see `docs/data-model.md`).
pub mod index {
    /// Author and tag list partitions.
    pub const GSI1: &str = "GSI1";
    /// All-articles and favorites list partitions.
    pub const GSI2: &str = "GSI2";
    /// Tags by popularity.
    pub const GSI3: &str = "GSI3";
}

/// Where a partition query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Index {
    /// GSI1: author and tag lists.
    Lists,
    /// GSI2: the all-articles list and favorites lists.
    Timelines,
}

/// The outcome of a transaction that DynamoDB accepted or refused on a condition.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TxOutcome {
    /// Every write applied.
    Committed,
    /// Nothing applied; `true` at each position whose condition failed.
    ConditionFailed(Vec<bool>),
}

/// A write carried an idempotency receipt, and its writer no longer holds
/// the key's claim (it lapsed and a duplicate took over): nothing was written.
#[derive(Debug, PartialEq, Eq)]
pub struct KeyTaken;

/// The storage adapter: one table, one SDK client, built once per cold start.
#[derive(Clone)]
pub struct Store {
    client: Client,
    table: Arc<str>,
    meter: Arc<Meter>,
}

/// Most keys in one BatchGetItem.
const BATCH_GET_MAX: usize = 100;

impl Store {
    /// A store on `table`.
    pub fn new(client: Client, table: impl Into<Arc<str>>) -> Self {
        Self {
            client,
            table: table.into(),
            meter: Arc::default(),
        }
    }

    /// Opens the connection to DynamoDB during init, beside the Secrets
    /// Manager fetch that init waits for anyway, so the first invocation does
    /// not pay for the TLS handshake: one eventually consistent `GetItem` of
    /// [`keys::warm_up`] (half a read unit per cold start; README, "Cold
    /// start", has the measurements). It only logs a failure: the first
    /// invocation then connects itself, and answers for any error.
    pub async fn warm_up(&self) {
        let request = self
            .client
            .get_item()
            .table_name(self.table.as_ref())
            .set_key(Some(key_item(&keys::warm_up())))
            .send();
        match tokio::time::timeout(crate::config::budget::WARM_UP, request).await {
            Ok(Ok(_)) => tracing::debug!("connected to DynamoDB during init"),
            Ok(Err(error)) => tracing::warn!(
                error = %aws_sdk_dynamodb::error::DisplayErrorContext(&error),
                "could not connect to DynamoDB during init"
            ),
            Err(_) => tracing::warn!("connecting to DynamoDB during init timed out"),
        }
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Requests and capacity consumed through this store so far.
    pub fn usage(&self) -> Usage {
        self.meter.usage()
    }

    /// Sends one SDK request: bounded by the invocation's deadline, metered
    /// (failures counted too). Returns the SDK's own result, for callers that
    /// read a refusal (a failed condition) as a domain outcome.
    pub(crate) async fn call<T, E>(
        &self,
        operation: &'static str,
        request: impl std::future::Future<Output = SdkResult<T, E>>,
    ) -> Result<SdkResult<T, E>, StoreError>
    where
        T: Consumed,
    {
        self.call_with_grace(operation, request, Duration::ZERO)
            .await
    }

    /// [`Store::call`] for a clean-up that may run `grace` past the deadline.
    pub(crate) async fn call_with_grace<T, E>(
        &self,
        operation: &'static str,
        request: impl std::future::Future<Output = SdkResult<T, E>>,
        grace: Duration,
    ) -> Result<SdkResult<T, E>, StoreError>
    where
        T: Consumed,
    {
        let start = std::time::SystemTime::now();
        // Boxed: SDK futures are large, and moving them down the layers of
        // an unoptimised build costs stack on every frame.
        let result = Box::pin(request).bounded(operation, grace).await;
        let capacity = match &result {
            Ok(Ok(output)) => output.consumed(),
            _ => 0.0,
        };
        let failed = !matches!(result, Ok(Ok(_)));
        if failed {
            self.meter.record_failure();
        } else {
            self.meter.record(capacity);
        }
        crate::invocation::record_call(crate::telemetry::Call {
            operation,
            table: self.table.to_string(),
            start: crate::telemetry::epoch_seconds(start),
            end: crate::telemetry::epoch_seconds(std::time::SystemTime::now()),
            capacity,
            failed,
        });
        result
    }

    /// Sends one SDK request as [`Store::call`] does, any failure an error.
    pub(crate) async fn send<T, E>(
        &self,
        operation: &'static str,
        request: impl std::future::Future<Output = SdkResult<T, E>>,
    ) -> Result<T, StoreError>
    where
        T: Consumed,
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        self.call(operation, request)
            .await?
            .map_err(|e| StoreError::request(operation, e))
    }

    /// One item, strongly consistent when `consistent`.
    pub(crate) async fn get(
        &self,
        key: &Key,
        consistent: bool,
    ) -> Result<Option<Item>, StoreError> {
        let output = self
            .send(
                "GetItem",
                self.client
                    .get_item()
                    .table_name(self.table.as_ref())
                    .set_key(Some(key_item(key)))
                    .consistent_read(consistent)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send(),
            )
            .await?;
        Ok(output.item)
    }

    /// Many items by key in as few BatchGetItem requests as the 100-key limit
    /// allows, sent concurrently; unprocessed keys are retried.
    pub(crate) async fn batch_get(
        &self,
        keys: impl IntoIterator<Item = Key>,
        consistent: bool,
    ) -> Result<HashMap<Key, Item>, StoreError> {
        let mut unique: Vec<Key> = keys.into_iter().collect();
        unique.sort();
        unique.dedup();
        let chunks = unique
            .chunks(BATCH_GET_MAX)
            .map(|chunk| self.batch_get_chunk(chunk, consistent));
        let mut found = HashMap::new();
        for items in try_join_all(chunks).await? {
            for item in items {
                if let Some(key) = key_of(&item) {
                    found.insert(key, item);
                }
            }
        }
        Ok(found)
    }

    async fn batch_get_chunk(
        &self,
        keys: &[Key],
        consistent: bool,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items = Vec::new();
        let mut pending = Some(
            KeysAndAttributes::builder()
                .set_keys(Some(keys.iter().map(key_item).collect()))
                .consistent_read(consistent)
                .build()
                .expect("keys are set"),
        );
        let mut retry = Retry::new(limits::UNPROCESSED_BATCH);
        while let Some(request) = pending.take() {
            if !retry.next().await {
                return Err(retry.exhausted());
            }
            let output = self
                .send(
                    "BatchGetItem",
                    self.client
                        .batch_get_item()
                        .request_items(self.table.as_ref(), request)
                        .return_consumed_capacity(ReturnConsumedCapacity::Total)
                        .send(),
                )
                .await?;
            if let Some(mut responses) = output.responses {
                items.extend(responses.remove(self.table.as_ref()).unwrap_or_default());
            }
            pending = output
                .unprocessed_keys
                .and_then(|mut u| u.remove(self.table.as_ref()))
                .filter(|k| !k.keys().is_empty());
        }
        Ok(items)
    }

    /// Up to `limit` items of one partition of the table or an index, highest
    /// sort key first, starting below `before` when given.
    pub(crate) async fn query_partition(
        &self,
        index: Index,
        partition: &str,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Item>, StoreError> {
        let (name, pk, sk) = match index {
            Index::Lists => (Some(index::GSI1), attr::GSI1PK, attr::GSI1SK),
            Index::Timelines => (Some(index::GSI2), attr::GSI2PK, attr::GSI2SK),
        };
        let condition = match before {
            Some(_) => format!("{pk} = :pk AND {sk} < :before"),
            None => format!("{pk} = :pk"),
        };
        let mut request = self
            .client
            .query()
            .table_name(self.table.as_ref())
            .set_index_name(name.map(str::to_owned))
            .key_condition_expression(condition)
            .expression_attribute_values(":pk", s(partition))
            .scan_index_forward(false)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        if let Some(before) = before {
            request = request.expression_attribute_values(":before", s(before));
        }
        self.collect_query(request, Some(limit)).await
    }

    /// Runs a query to `limit` items (or to the end), following pagination.
    pub(crate) async fn collect_query(
        &self,
        request: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        limit: Option<usize>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut items: Vec<Item> = Vec::new();
        let mut start = None;
        loop {
            let mut page = request.clone().set_exclusive_start_key(start.take());
            if let Some(limit) = limit {
                page = page.limit((limit - items.len()) as i32);
            }
            let output = self.send("Query", page.send()).await?;
            items.extend(output.items.unwrap_or_default());
            start = output.last_evaluated_key;
            let full = limit.is_some_and(|limit| items.len() >= limit);
            if start.is_none() || full {
                return Ok(items);
            }
        }
    }

    /// One UpdateItem, unconditional (counters and bookkeeping).
    pub(crate) async fn update_one(
        &self,
        key: &Key,
        expression: &str,
        vals: Values<'_>,
    ) -> Result<(), StoreError> {
        self.send(
            "UpdateItem",
            self.client
                .update_item()
                .table_name(self.table.as_ref())
                .set_key(Some(key_item(key)))
                .update_expression(expression)
                .set_expression_attribute_values(values(vals))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send(),
        )
        .await?;
        Ok(())
    }

    /// One DeleteItem, unconditional (idempotent).
    pub(crate) async fn delete_one(&self, key: &Key) -> Result<(), StoreError> {
        self.send(
            "DeleteItem",
            self.client
                .delete_item()
                .table_name(self.table.as_ref())
                .set_key(Some(key_item(key)))
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send(),
        )
        .await?;
        Ok(())
    }

    /// Applies `writes` atomically. Losing to a concurrent transaction is
    /// retried with jittered backoff; a failed condition is reported, by position.
    pub(crate) async fn transact(
        &self,
        writes: Vec<TransactWriteItem>,
    ) -> Result<TxOutcome, StoreError> {
        self.transact_or_settled(writes, || async { Ok(None) })
            .await
    }

    /// [`Store::transact`], but when the transaction loses to a concurrent one
    /// it first asks `settled` whether the race is already decided (a claim
    /// the winner now holds): `Some(outcome)` ends the loop with that outcome.
    /// Without it fifty registrations of one email keep conflicting with each
    /// other after the winner committed, and the losers run out of retries
    /// (503) instead of learning the email is taken (409).
    pub(crate) async fn transact_or_settled<F, Fut>(
        &self,
        writes: Vec<TransactWriteItem>,
        settled: F,
    ) -> Result<TxOutcome, StoreError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Option<TxOutcome>, StoreError>>,
    {
        self.transact_receipted(writes, None, settled)
            .await?
            .map_err(|KeyTaken| {
                StoreError::Unexpected("a receipt condition without a receipt".into())
            })
    }

    /// [`Store::transact_or_settled`] with an idempotency receipt written in
    /// the same transaction: `Err(KeyTaken)` when the writer's claim on the
    /// key is gone, which takes precedence over every other condition.
    pub(crate) async fn transact_receipted<F, Fut>(
        &self,
        mut writes: Vec<TransactWriteItem>,
        receipt: Option<&Receipt>,
        settled: F,
    ) -> Result<Result<TxOutcome, KeyTaken>, StoreError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Option<TxOutcome>, StoreError>>,
    {
        let own = writes.len();
        if let Some(receipt) = receipt {
            writes.push(self.receipt_write(receipt));
        }
        let mut retry = Retry::new(limits::CONTENDED_TRANSACTION);
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
                Ok(_) => return Ok(Ok(TxOutcome::Committed)),
                Err(error) => match classify(&error) {
                    Cancellation::Conditions(failed) => {
                        if receipt.is_some() && failed.get(own) == Some(&true) {
                            return Ok(Err(KeyTaken));
                        }
                        return Ok(Ok(TxOutcome::ConditionFailed(failed[..own].to_vec())));
                    }
                    // Refused, nothing written: the next attempt is a new one.
                    Cancellation::Contended => {
                        if let Some(outcome) = settled().await? {
                            return Ok(Ok(outcome));
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_dynamodb::error::{ConnectorError, ErrorMetadata};
    use aws_sdk_dynamodb::operation::get_item::GetItemError;
    use aws_smithy_types::body::SdkBody;

    fn service(status: u16, code: &str) -> SdkError<GetItemError, HttpResponse> {
        let raw = HttpResponse::new(status.try_into().unwrap(), SdkBody::empty());
        let error = GetItemError::generic(ErrorMetadata::builder().code(code).build());
        SdkError::service_error(error, raw)
    }

    #[test]
    fn no_connection_no_answer_throttling_and_5xx_are_transient() {
        let cases: Vec<SdkError<GetItemError, HttpResponse>> = vec![
            SdkError::timeout_error(std::io::Error::other("attempt timed out")),
            SdkError::dispatch_failure(ConnectorError::io(Box::new(std::io::Error::from(
                std::io::ErrorKind::ConnectionRefused,
            )))),
            service(400, "ProvisionedThroughputExceededException"),
            service(400, "com.amazonaws.dynamodb.v20120810#ThrottlingException"),
            service(400, "RequestLimitExceeded"),
            service(500, "InternalServerError"),
            service(503, "ServiceUnavailable"),
        ];
        for error in cases {
            let described = format!("{error:?}");
            let error = StoreError::request("GetItem", error);
            assert!(error.is_transient(), "{described}");
        }
    }

    #[test]
    fn a_request_dynamodb_rejects_as_wrong_is_not_transient() {
        for code in [
            "ValidationException",
            "ResourceNotFoundException",
            "AccessDeniedException",
        ] {
            let error = StoreError::request("GetItem", service(400, code));
            assert!(!error.is_transient(), "{code}");
        }
    }

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

    #[test]
    fn contention_that_outlived_the_retries_is_transient() {
        assert!(StoreError::Contended(40).is_transient());
    }

    #[tokio::test]
    async fn a_request_that_outlives_the_invocations_deadline_is_unavailable() {
        // 1.2 s to the Lambda deadline, 1 s of it kept to answer: 0.2 s left.
        let soon = std::time::SystemTime::now() + std::time::Duration::from_millis(1_200);
        let invocation = crate::invocation::Invocation::new("x", Some(soon));
        let result = invocation
            .scope(std::future::pending::<()>().bounded("GetItem", Duration::ZERO))
            .await;
        assert!(matches!(result, Err(StoreError::Unavailable { .. })));
    }
}
