//! Sending requests: every SDK call an invocation makes goes through
//! [`Store::call`] (the invocation's deadline, metering, a span; only
//! init's `Store::warm_up` has its own timeout), and the read and single-item
//! primitives the store's jobs are built from.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{KeysAndAttributes, ReturnConsumedCapacity};
use futures::future::try_join_all;
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use super::error::StoreError;
use super::items::{Item, key_item, key_of};
use super::keys::{Key, attr};
use super::meter::Consumed;
use super::retry::{Retry, limits};
use super::writes::{Values, s, values};
use super::{Index, Store, index};

/// The deadline of the invocation ran out before DynamoDB answered.
#[derive(Debug, thiserror::Error)]
#[error("no answer within the invocation's time budget")]
pub(crate) struct DeadlineExceeded;

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

/// What an SDK request resolves to.
pub(crate) type SdkResult<T, E> = Result<T, SdkError<E, HttpResponse>>;

/// Most keys in one BatchGetItem.
const BATCH_GET_MAX: usize = 100;

impl Store {
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
        // One client span per request, with the name and attributes
        // OpenTelemetry's conventions give AWS SDK calls (`DynamoDB.GetItem`);
        // the attributes go to the trace only, not into log lines.
        let span = tracing::info_span!(
            "DynamoDB",
            otel.name = %format_args!("DynamoDB.{operation}"),
            otel.kind = "client",
        );
        span.set_attribute("rpc.system", "aws-api");
        span.set_attribute("rpc.service", "DynamoDB");
        span.set_attribute("rpc.method", operation);
        span.set_attribute(
            "aws.dynamodb.table_names",
            opentelemetry::Value::Array(
                vec![opentelemetry::StringValue::from(self.table.to_string())].into(),
            ),
        );
        // Boxed: SDK futures are large, and moving them down the layers of
        // an unoptimised build costs stack on every frame.
        let result = Box::pin(request)
            .bounded(operation, grace)
            .instrument(span.clone())
            .await;
        let capacity = match &result {
            Ok(Ok(output)) => output.consumed(),
            _ => 0.0,
        };
        let failed = !matches!(result, Ok(Ok(_)));
        if failed {
            span.set_status(opentelemetry::trace::Status::error("the request failed"));
        }
        if failed {
            self.meter.record_failure();
        } else {
            self.meter.record(operation, capacity);
        }
        crate::invocation::record_call(crate::telemetry::Call {
            operation,
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
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn every_request_is_a_client_span_naming_its_operation_and_table() {
        use aws_sdk_dynamodb::operation::get_item::{GetItemError, GetItemOutput};
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .build();
        let store = Store::new(aws_sdk_dynamodb::Client::from_conf(config), "conduit");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let spans = crate::telemetry::spans_of(|| {
            let answered = std::future::ready(SdkResult::<GetItemOutput, GetItemError>::Ok(
                GetItemOutput::builder().build(),
            ));
            runtime
                .block_on(store.call("GetItem", answered))
                .unwrap()
                .unwrap();
        });
        let call = spans
            .iter()
            .find(|s| s.name == "DynamoDB.GetItem")
            .expect("a span named as the conventions name AWS SDK calls");
        let invocation = spans.iter().find(|s| s.name == "invocation").unwrap();
        assert_eq!(call.parent_span_id, invocation.span_id);
        assert_eq!(call.kind, 3, "SpanKind::Client");
        let attribute = |key: &str| {
            call.attributes
                .iter()
                .find(|a| a.key == key)
                .and_then(|a| a.value.as_ref())
                .map(|v| format!("{:?}", v.value))
        };
        assert!(attribute("rpc.method").unwrap().contains("GetItem"));
        assert!(
            attribute("aws.dynamodb.table_names")
                .unwrap()
                .contains("conduit")
        );
    }
}
