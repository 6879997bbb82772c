//! What the store needs to know about the invocation it serves: when it must
//! have answered by, and which invocation it is (for transaction tokens); and
//! what the invocation recorded for its metrics.
//!
//! Held in a task-local set by [`crate::lambda`] around each invocation, so the
//! store reads it without every use case passing it down. Outside an
//! invocation (seeding, tests calling handlers directly) there is no deadline
//! beyond the SDK's own timeouts, and tokens are random.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::telemetry::{Call, Counter, Recorder};

/// Time kept back from the Lambda deadline to log and answer a 503 in.
pub const ANSWER_MARGIN: Duration = Duration::from_millis(1_000);

/// What a clean-up may still take after the deadline (giving up an
/// idempotency key after a 503, so the retry need not wait for it to lapse):
/// part of [`ANSWER_MARGIN`], the rest left for answering.
pub(crate) const CLEANUP_GRACE: Duration = Duration::from_millis(300);
const _: () = assert!(CLEANUP_GRACE.as_millis() < ANSWER_MARGIN.as_millis());

/// The longest any invocation spends on DynamoDB, whatever the function's
/// `Timeout` allows: well inside the 10 s of `template.yaml`, and long enough
/// for the slowest use case (an article delete) on a healthy table.
pub const INVOCATION_BUDGET: Duration = Duration::from_millis(6_000);

/// The invocation being served.
#[derive(Debug)]
pub struct Invocation {
    request_id: String,
    deadline: Instant,
    transactions: AtomicU32,
    recorder: Recorder,
}

tokio::task_local! {
    static CURRENT: Arc<Invocation>;
}

impl Invocation {
    /// An invocation with this request id that must answer by `lambda_deadline`
    /// (the Runtime API's deadline), keeping [`ANSWER_MARGIN`] back and never
    /// longer than [`INVOCATION_BUDGET`].
    pub fn new(request_id: &str, lambda_deadline: Option<SystemTime>) -> Self {
        let now = Instant::now();
        // A deadline already past never comes from Lambda (it starts the clock
        // when it hands over the event); it does from local emulators, which
        // count the time they spend building a function on its first
        // invocation. Such a deadline gets the fixed budget.
        let left = lambda_deadline
            .and_then(|d| d.duration_since(SystemTime::now()).ok())
            .map_or(INVOCATION_BUDGET, |left| {
                left.saturating_sub(ANSWER_MARGIN).min(INVOCATION_BUDGET)
            });
        Self {
            request_id: request_id.to_owned(),
            deadline: now + left,
            transactions: AtomicU32::new(0),
            recorder: Recorder::default(),
        }
    }

    /// Runs `future` as this invocation.
    pub async fn scope<F: Future>(self, future: F) -> F::Output {
        self.run(future).await.0
    }

    /// Runs `future` as this invocation, and returns what it recorded too.
    pub async fn run<F: Future>(self, future: F) -> (F::Output, Arc<Invocation>) {
        let invocation = Arc::new(self);
        let output = CURRENT.scope(invocation.clone(), future).await;
        (output, invocation)
    }

    /// The counters and DynamoDB requests recorded during the invocation.
    pub(crate) fn recorder(&self) -> &Recorder {
        &self.recorder
    }
}

/// Counts a domain event of the current invocation (nothing outside one).
pub(crate) fn count(counter: Counter) {
    let _ = CURRENT.try_with(|i| i.recorder.count(counter));
}

/// Records a DynamoDB request of the current invocation (nothing outside one).
pub(crate) fn record_call(call: Call) {
    let _ = CURRENT.try_with(|i| i.recorder.call(call));
}

/// Time left before the current invocation must answer; `None` outside one.
pub(crate) fn remaining() -> Option<Duration> {
    CURRENT
        .try_with(|i| i.deadline.saturating_duration_since(Instant::now()))
        .ok()
}

/// A `ClientRequestToken` for the next transaction attempt of this
/// invocation: the request id's 32 hex digits and a 4-digit sequence number
/// (36 characters, DynamoDB's limit). The SDK re-sends the same token when it
/// retries an attempt whose answer was lost, so a transaction that did commit
/// is not applied again; each attempt of ours gets the next number, because
/// ours are only made after DynamoDB said the previous one did not commit.
pub(crate) fn transaction_token() -> String {
    CURRENT
        .try_with(|i| {
            let seq = i.transactions.fetch_add(1, Ordering::Relaxed);
            token(&i.request_id, seq)
        })
        .unwrap_or_else(|_| token(&random_hex(), 0))
}

fn token(request_id: &str, seq: u32) -> String {
    let mut hex: String = request_id
        .chars()
        .filter(char::is_ascii_hexdigit)
        .take(32)
        .collect();
    if hex.len() < 32 {
        // Not a UUID (local emulators): fall back to something unique.
        hex = random_hex();
    }
    format!("{hex}{:04x}", seq & 0xffff)
}

fn random_hex() -> String {
    use rand::Rng;
    let value: u128 = rand::rng().random();
    format!("{value:032x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_36_characters_derived_from_the_request_and_numbered() {
        let id = "8f5d2c1a-0b3e-4f6a-9c7d-1e2f3a4b5c6d";
        assert_eq!(token(id, 0), "8f5d2c1a0b3e4f6a9c7d1e2f3a4b5c6d0000");
        assert_eq!(token(id, 1).len(), 36);
        assert_ne!(token(id, 0), token(id, 1));
    }

    #[test]
    fn a_request_id_that_is_no_uuid_still_gives_a_valid_token() {
        let t = token("local-1", 3);
        assert_eq!(t.len(), 36);
        assert!(t.ends_with("0003"));
    }

    #[tokio::test]
    async fn inside_an_invocation_tokens_follow_the_sequence_and_time_runs_down() {
        let deadline = SystemTime::now() + Duration::from_secs(3);
        let invocation = Invocation::new("8f5d2c1a-0b3e-4f6a-9c7d-1e2f3a4b5c6d", Some(deadline));
        invocation
            .scope(async {
                assert!(transaction_token().ends_with("0000"));
                assert!(transaction_token().ends_with("0001"));
                let left = remaining().unwrap();
                assert!(left <= Duration::from_secs(2) && left > Duration::from_millis(1500));
            })
            .await;
        assert_eq!(remaining(), None);
    }

    #[test]
    fn the_budget_caps_a_generous_lambda_deadline() {
        let far = SystemTime::now() + Duration::from_secs(900);
        let invocation = Invocation::new("x", Some(far));
        assert!(invocation.deadline <= Instant::now() + INVOCATION_BUDGET);
    }
}
