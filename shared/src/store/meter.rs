//! Metering: every DynamoDB request and the capacity it consumed, counted
//! for logs and benchmarks.

use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_dynamodb::types::ConsumedCapacity;

/// Counts DynamoDB requests (failed ones too) and the capacity they
/// consumed, for logs and benchmarks. Every request goes through
/// [`Store::call`], which records it here.
#[derive(Debug, Default)]
pub(crate) struct Meter {
    requests: AtomicU64,
    failed: AtomicU64,
    capacity_milli: AtomicU64,
    read_milli: AtomicU64,
    index_writes: AtomicU64,
}

/// A reading of a [`Meter`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// Requests sent (a BatchGetItem or TransactWriteItems counts once).
    pub requests: u64,
    /// Capacity units consumed, reads and writes together.
    pub capacity_units: f64,
    /// Of those, the units of reads (GetItem, BatchGetItem, Query); the
    /// rest are write units (billed at five times the price on demand).
    pub read_units: f64,
    /// Requests among them that failed (refused, timed out, unreachable).
    pub failed_requests: u64,
    /// Index entries the committed writes put, rewrote or deleted, at most
    /// (counted by `indexes`: DynamoDB Local meters none).
    pub index_writes: u64,
}

impl Meter {
    pub(super) fn record(&self, operation: &str, units: f64) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let milli = (units * 1000.0).round() as u64;
        self.capacity_milli.fetch_add(milli, Ordering::Relaxed);
        if matches!(operation, "GetItem" | "BatchGetItem" | "Query") {
            self.read_milli.fetch_add(milli, Ordering::Relaxed);
        }
    }

    pub(super) fn record_failure(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.failed.fetch_add(1, Ordering::Relaxed);
    }

    pub(super) fn record_index_writes(&self, writes: u64) {
        self.index_writes.fetch_add(writes, Ordering::Relaxed);
    }

    /// The totals so far.
    pub fn usage(&self) -> Usage {
        Usage {
            requests: self.requests.load(Ordering::Relaxed),
            capacity_units: self.capacity_milli.load(Ordering::Relaxed) as f64 / 1000.0,
            read_units: self.read_milli.load(Ordering::Relaxed) as f64 / 1000.0,
            failed_requests: self.failed.load(Ordering::Relaxed),
            index_writes: self.index_writes.load(Ordering::Relaxed),
        }
    }
}

impl std::ops::Sub for Usage {
    type Output = Usage;
    fn sub(self, rhs: Usage) -> Usage {
        Usage {
            requests: self.requests - rhs.requests,
            capacity_units: self.capacity_units - rhs.capacity_units,
            read_units: self.read_units - rhs.read_units,
            failed_requests: self.failed_requests - rhs.failed_requests,
            index_writes: self.index_writes - rhs.index_writes,
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
