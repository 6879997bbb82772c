//! The DynamoDB adapter, on one table (see `docs/data-model.md`). SDK types
//! and errors stay in here: callers pass and get domain entities and values,
//! and domain outcomes (taken, not found, forbidden), never an item or an SDK
//! error.
//!
//! The plumbing, bottom up: [`keys`] (every key, in one place), `items` (the
//! one mapping of records to items), `writes` (the write builders),
//! `request` (every SDK call: bounded by the invocation's deadline, metered),
//! `transact` (the one transaction loop). Above it, one module per job:
//! `users`, `follows`, `login_guard` and `windows` (sign-in limits), `articles`, `lists`, `feed`, `comments`,
//! `favorites`, `shards` (hot articles' counters), `tags`, and
//! `receipts` (the storage half of idempotency keys).

mod articles;
mod comments;
mod error;
mod favorites;
mod feed;
mod follows;
pub mod indexes;
mod items;
pub(crate) mod keys;
mod lists;
mod login_guard;
mod meter;
pub(crate) mod receipts;
mod request;
pub(crate) mod retry;
mod shards;
mod tags;
mod transact;
mod users;
mod windows;
mod writes;

use std::sync::Arc;

use aws_sdk_dynamodb::Client;

pub(crate) use comments::CommentWriteError;
pub use error::StoreError;
pub(crate) use favorites::FavoriteOutcome;
use items::key_item;
pub use lists::ListFilter;
pub(crate) use login_guard::LoginClaim;
use meter::Meter;
pub use meter::Usage;
pub use receipts::Receipt;
/// How many counters a hot article's favorites spread over (the capacity model reads it).
pub use shards::SHARDS as HOT_ARTICLE_COUNTERS;
pub(crate) use users::UserWriteError;
pub(crate) use windows::Window;
pub(crate) use {articles::ArticleWriteError, articles::CreateError};

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

/// The storage adapter: one table, one SDK client, built once per cold start.
#[derive(Clone)]
pub struct Store {
    client: Client,
    table: Arc<str>,
    meter: Arc<Meter>,
}

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
    /// invocation then connects itself, and answers for any error. Public
    /// for the tests that check each function's policy allows it.
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
}
