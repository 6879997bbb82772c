//! Logs, metrics and traces for every invocation, with no Powertools for
//! Rust to lean on:
//!
//! - JSON log lines, as Lambda's runtime writes them by default ([`init`]);
//! - one CloudWatch **Embedded Metric Format** document per invocation, printed
//!   as one JSON line on stdout, which CloudWatch Logs turns into metrics
//!   ([`emf`]). It is written by hand: EMF is one small JSON object (the
//!   specification is a page), where a metrics facade would add code to
//!   every binary, and so to every cold start;
//! - **OpenTelemetry** spans for the invocation, its use case and each
//!   DynamoDB request, sent to the X-Ray agent Lambda runs when tracing is
//!   on ([`otel`]).
//!
//! What the metrics are made of, an invocation's counters and DynamoDB
//! requests, is gathered here, by the [`Recorder`].

mod emf;
mod otel;

use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) use emf::{MetricsConfig, Outcome, emf_document};
pub(crate) use otel::parent;
#[cfg(test)]
pub(crate) use otel::spans_of;

use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _, filter::LevelFilter, filter::Targets};

/// Installs the process's subscriber: log lines on stdout as the Lambda
/// runtime's default subscriber writes them (JSON when `AWS_LAMBDA_LOG_FORMAT`
/// is `JSON`, as the template sets it, else text; no time, which Lambda adds;
/// the level from `AWS_LAMBDA_LOG_LEVEL`, else `RUST_LOG`, else INFO); and,
/// when Lambda runs the X-Ray agent (`AWS_XRAY_DAEMON_ADDRESS`), this crate's
/// spans as OpenTelemetry spans for it, as the service `service`. An agent
/// address that cannot be used costs the traces, with a warning, never the
/// function: the key ring's resource must still answer CloudFormation.
pub(crate) fn init(service: &str) {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|level| level.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let filter = EnvFilter::builder()
        .with_default_directive(level.into())
        .from_env_lossy();
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let logs = tracing_subscriber::fmt::layer()
        .with_target(false)
        .without_time();
    // Boxed: the two formats are two types, chosen once at init.
    let logs = if json {
        logs.json().with_filter(filter).boxed()
    } else {
        logs.with_filter(filter).boxed()
    };
    let (traces, unusable) = match std::env::var("AWS_XRAY_DAEMON_ADDRESS") {
        Err(_) => (None, None),
        Ok(raw) => match otel::agent_address(&raw).map(|agent| otel::layer(agent, service)) {
            // Our spans only: not the SDK's or the runtime's.
            Some(Ok(layer)) => (
                Some(layer.with_filter(Targets::new().with_target("conduit", LevelFilter::INFO))),
                None,
            ),
            Some(Err(error)) => (None, Some(error.to_string())),
            None => (
                None,
                Some(format!("{raw:?} is not host:port or udp:host:port")),
            ),
        },
    };
    // A second init (tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry()
        .with(logs)
        .with(traces)
        .try_init();
    if let Some(reason) = unusable {
        tracing::warn!(%reason, "AWS_XRAY_DAEMON_ADDRESS cannot be used: no traces");
    }
}

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

/// One DynamoDB request, as the metrics count it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Call {
    /// `GetItem`, `Query`, `TransactWriteItems`, …
    pub operation: &'static str,
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

/// Seconds since the epoch, with microseconds.
pub(crate) fn epoch_seconds(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// An invocation's recorder as the EMF tests use it: a failed login, one
/// read and one failed write.
#[cfg(test)]
fn sample_recorder() -> Recorder {
    let recorder = Recorder::default();
    recorder.count(Counter::FailedLogin);
    recorder.call(Call {
        operation: "GetItem",
        start: 1.0,
        end: 1.005,
        capacity: 0.5,
        failed: false,
    });
    recorder.call(Call {
        operation: "UpdateItem",
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

    /// What the instrumentation costs an invocation: its EMF document built
    /// and rendered, and its spans (the invocation, the use case, five
    /// DynamoDB requests), each exported to a local agent as one datagram
    /// when the trace is sampled. A measurement, not an assertion: run with
    /// `cargo test --release -p conduit --lib telemetry::cost -- --ignored --nocapture`.
    #[test]
    #[ignore = "measurement: prints the per-invocation cost"]
    fn per_invocation_cost_of_metrics_and_traces() {
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
        let config = MetricsConfig::from_env("bench");
        let agent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let traces = otel::layer(agent.local_addr().unwrap(), "bench").unwrap();
        let subscriber = tracing_subscriber::registry().with(traces);
        const N: u32 = 20_000;
        tracing::subscriber::with_default(subscriber, || {
            for sampled in ["1", "0"] {
                let header = format!(
                    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled={sampled}"
                );
                let started = std::time::Instant::now();
                let mut bytes = 0;
                for i in 0..N {
                    let recorder = Recorder::default();
                    let span = tracing::info_span!("invocation", function = "bench");
                    let _ = span.set_parent(parent(&header).unwrap());
                    span.in_scope(|| {
                        let _use_case = tracing::info_span!("create_article").entered();
                        for _ in 0..5 {
                            let _call =
                                tracing::info_span!("DynamoDB", otel.kind = "client").entered();
                            recorder.call(Call {
                                operation: "Query",
                                start: 1.0,
                                end: 1.004,
                                capacity: 0.5,
                                failed: false,
                            });
                        }
                    });
                    recorder.count(Counter::ArticleCreated);
                    let outcome = Outcome {
                        status: 200,
                        latency_ms: 4.2,
                        cold_start: i == 0,
                        timestamp_ms: 1_795_255_200_000,
                    };
                    let document = emf_document(&config, outcome, &recorder, "req", Some(&header));
                    bytes += document.to_string().len();
                }
                println!(
                    "telemetry per invocation, Sampled={sampled}: {:?} (EMF {} bytes; 7 spans{})",
                    started.elapsed() / N,
                    bytes / N as usize,
                    if sampled == "1" {
                        ", one datagram each"
                    } else {
                        ", none sent"
                    }
                );
            }
        });
    }
}
