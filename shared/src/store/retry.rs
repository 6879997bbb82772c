//! Our own retry loops, in one shape with named limits. The SDK already
//! retries transient failures of each request (see `config::budget`); these
//! loops retry what DynamoDB answered definitively but that may go the other
//! way next time: a transaction that lost to a concurrent one, keys a batch
//! left unprocessed, a write whose version guard moved on, an edit that lost
//! to another. Each waits a jittered, growing backoff before trying again, and
//! inside an invocation also ends with its deadline (every request in it is
//! bounded), so none can outlast the function's `Timeout`.

use std::time::Duration;

use rand::Rng;

use super::StoreError;

/// How many times each kind of loop tries before giving up with a 503.
pub(crate) mod limits {
    /// A transaction cancelled only by `TransactionConflict` (another
    /// transaction on the same items, e.g. 50 users favoriting one article).
    pub(crate) const CONTENDED_TRANSACTION: u32 = 40;
    /// How long a contended transaction keeps trying, from its first
    /// attempt: on a hot item (hundreds of favorites a second on one
    /// article) it then gives up with a 503 and `Retry-After`, instead of
    /// holding its execution environment for seconds while more requests
    /// arrive and need environments of their own.
    pub(crate) const CONTENTION_BOX: std::time::Duration = std::time::Duration::from_millis(500);
    /// A batch read or write whose keys DynamoDB left unprocessed (throttling
    /// of one partition); each round sends only what is left.
    pub(crate) const UNPROCESSED_BATCH: u32 = 40;
    /// A write guarded by an item's version that moved on: an author's
    /// `recent` list and counts (their parallel creates and deletes).
    pub(crate) const VERSIONED_WRITE: u32 = 40;
    /// An edit of an article or a user that lost to a concurrent edit of the
    /// same item: re-read, re-decided, re-applied (twenty simultaneous
    /// editors of one article all get through).
    pub(crate) const EDIT: u32 = 25;
}

/// A retry loop: `while retry.next().await { … }`, then `retry.exhausted()`.
#[derive(Debug)]
pub(crate) struct Retry {
    attempt: u32,
    limit: u32,
    /// No attempt starts after this.
    until: Option<tokio::time::Instant>,
}

impl Retry {
    /// A loop of at most `limit` attempts (one of the [`limits`]).
    pub fn new(limit: u32) -> Self {
        Self {
            attempt: 0,
            limit,
            until: None,
        }
    }

    /// A loop of at most `limit` attempts, none starting later than `within`
    /// after this call (a wait that would end later ends the loop instead).
    pub fn boxed(limit: u32, within: Duration) -> Self {
        Self {
            until: Some(tokio::time::Instant::now() + within),
            ..Self::new(limit)
        }
    }

    /// Whether to make another attempt; before every attempt but the first it
    /// waits a full-jitter backoff of up to 20 ms, 40 ms, … capped at 320 ms.
    pub(crate) async fn next(&mut self) -> bool {
        if self.attempt >= self.limit {
            return false;
        }
        if self.attempt > 0 {
            let cap = 10u64 << self.attempt.min(5);
            let wait = Duration::from_millis(rand::rng().random_range(1..=cap));
            if self
                .until
                .is_some_and(|until| tokio::time::Instant::now() + wait > until)
            {
                self.limit = self.attempt;
                return false;
            }
            tokio::time::sleep(wait).await;
        }
        self.attempt += 1;
        true
    }

    /// The error for a loop that used all its attempts (or its time):
    /// contention, a 503.
    pub(crate) fn exhausted(&self) -> StoreError {
        StoreError::Contended(self.attempt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_loop_makes_exactly_its_limit_of_attempts_then_reports_contention() {
        let mut retry = Retry::new(3);
        let mut attempts = 0;
        while retry.next().await {
            attempts += 1;
        }
        assert_eq!(attempts, 3);
        assert!(!retry.next().await);
        assert!(matches!(retry.exhausted(), StoreError::Contended(3)));
        assert!(retry.exhausted().is_transient());
    }

    #[tokio::test(start_paused = true)]
    async fn a_boxed_loop_starts_no_attempt_after_its_time_and_reports_what_it_made() {
        let mut retry = Retry::boxed(1_000, Duration::from_millis(500));
        let start = tokio::time::Instant::now();
        let mut attempts = 0;
        while retry.next().await {
            assert!(start.elapsed() <= Duration::from_millis(500));
            attempts += 1;
        }
        assert!(attempts > 1 && attempts < 1_000, "{attempts}");
        assert!(matches!(retry.exhausted(), StoreError::Contended(n) if n == attempts));
    }

    #[tokio::test(start_paused = true)]
    async fn only_retries_wait_and_never_longer_than_the_cap() {
        let mut retry = Retry::new(10);
        let start = tokio::time::Instant::now();
        assert!(retry.next().await);
        assert_eq!(start.elapsed(), Duration::ZERO);
        for _ in 0..9 {
            let before = tokio::time::Instant::now();
            assert!(retry.next().await);
            assert!(before.elapsed() <= Duration::from_millis(320));
        }
    }
}
