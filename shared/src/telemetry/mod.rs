//! Metrics and traces for every invocation, with no Powertools for Rust to lean on:
//!
//! - one CloudWatch **Embedded Metric Format** document per invocation, printed
//!   as one JSON line on stdout, which CloudWatch Logs turns into metrics
//!   ([`emf`]);
//! - X-Ray **subsegments** for the use case and for each DynamoDB request,
//!   sent to the X-Ray daemon Lambda runs when `Tracing: Active` ([`xray`]).
//!
//! What both are made of, an invocation's counters and DynamoDB requests, is
//! gathered here, by the [`Recorder`].
//!
//! Both are written by hand rather than through a crate: EMF is one small JSON
//! object (the specification is a page), and the X-Ray daemon takes JSON
//! documents over UDP; the crates that do either (metrics facades, the
//! OpenTelemetry SDK with its exporters) would each add more code to every
//! binary, and so to every cold start, than these few functions.

mod emf;
mod xray;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) use emf::{MetricsConfig, Outcome, emf_document};
pub(crate) use xray::{TraceHeader, send_to_daemon, xray_documents};

/// Domain events worth a metric of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Counter {
    /// A user registered.
    Registration,
    /// A login was refused (wrong password, unknown email, or locked).
    FailedLogin,
    /// An article was created.
    ArticleCreated,
}

impl Counter {
    const ALL: [Counter; 3] = [
        Counter::Registration,
        Counter::FailedLogin,
        Counter::ArticleCreated,
    ];

    /// The metric's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Counter::Registration => "Registrations",
            Counter::FailedLogin => "FailedLogins",
            Counter::ArticleCreated => "ArticlesCreated",
        }
    }
}

/// One DynamoDB request as the trace shows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    /// `GetItem`, `Query`, `TransactWriteItems`, …
    pub operation: &'static str,
    /// The table it went to.
    pub table: String,
    /// When it was sent and when it ended, seconds since the epoch.
    pub start: f64,
    /// See `start`.
    pub end: f64,
    /// Capacity units it consumed.
    pub capacity: f64,
    /// Whether it failed (refused, timed out, unreachable).
    pub failed: bool,
}

/// What an invocation recorded: its counters and its DynamoDB requests.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    counters: [AtomicU32; 3],
    calls: Mutex<Vec<Call>>,
}

impl Recorder {
    /// Counts one `counter` event.
    pub(crate) fn count(&self, counter: Counter) {
        let index = Counter::ALL
            .iter()
            .position(|c| *c == counter)
            .expect("every counter is listed");
        self.counters[index].fetch_add(1, Ordering::Relaxed);
    }

    /// Records one DynamoDB request.
    pub(crate) fn call(&self, call: Call) {
        self.calls.lock().expect("never poisoned").push(call);
    }

    /// How many `counter` events were counted.
    pub(crate) fn counted(&self, counter: Counter) -> u32 {
        let index = Counter::ALL
            .iter()
            .position(|c| *c == counter)
            .expect("every counter is listed");
        self.counters[index].load(Ordering::Relaxed)
    }

    /// The DynamoDB requests recorded so far.
    pub(crate) fn calls(&self) -> Vec<Call> {
        self.calls.lock().expect("never poisoned").clone()
    }
}

/// Seconds since the epoch, with microseconds: X-Ray's time format.
pub(crate) fn epoch_seconds(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// An invocation's recorder as the tests of both documents use it: a failed
/// login, one read and one failed write.
#[cfg(test)]
fn sample_recorder() -> Recorder {
    let recorder = Recorder::default();
    recorder.count(Counter::FailedLogin);
    recorder.call(Call {
        operation: "GetItem",
        table: "t".into(),
        start: 1.0,
        end: 1.005,
        capacity: 0.5,
        failed: false,
    });
    recorder.call(Call {
        operation: "UpdateItem",
        table: "t".into(),
        start: 1.006,
        end: 1.01,
        capacity: 0.0,
        failed: true,
    });
    recorder
}

#[cfg(test)]
mod cost {

    use super::*;

    /// What the instrumentation costs an invocation: its EMF document and its
    /// X-Ray documents (five DynamoDB requests) built and rendered. A
    /// measurement, not an assertion: run with
    /// `cargo test --release -p conduit --lib telemetry::cost -- --ignored --nocapture`.
    #[test]
    #[ignore = "measurement: prints the per-invocation cost"]
    fn per_invocation_cost_of_metrics_and_traces() {
        let config = MetricsConfig::from_env("bench");
        let header = TraceHeader::parse("Root=1-a-b;Parent=53995c3f42cd8ad8;Sampled=1").unwrap();
        const N: u32 = 20_000;
        let started = std::time::Instant::now();
        let mut bytes = 0;
        for i in 0..N {
            let recorder = Recorder::default();
            for _ in 0..5 {
                recorder.call(Call {
                    operation: "Query",
                    table: "conduit".into(),
                    start: 1.0,
                    end: 1.004,
                    capacity: 0.5,
                    failed: false,
                });
            }
            recorder.count(Counter::ArticleCreated);
            let outcome = Outcome {
                status: 200,
                latency_ms: 4.2,
                cold_start: i == 0,
                timestamp_ms: 1_795_255_200_000,
            };
            let document = emf_document(&config, outcome, &recorder, "req", Some("Root=1-a"));
            bytes += document.to_string().len();
            let traces = xray_documents(&header, "bench", 1.0, 1.02, 200, &recorder.calls());
            bytes += traces.iter().map(String::len).sum::<usize>();
        }
        let each = started.elapsed() / N;
        println!(
            "telemetry per invocation: {each:?} ({} bytes)",
            bytes / N as usize
        );
    }
}
