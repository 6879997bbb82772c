//! Metrics and traces for every invocation, with no Powertools for Rust to lean on:
//!
//! - one CloudWatch **Embedded Metric Format** document per invocation, printed
//!   as one JSON line on stdout, which CloudWatch Logs turns into metrics;
//! - X-Ray **subsegments** for the use case and for each DynamoDB request,
//!   sent to the X-Ray daemon Lambda runs when `Tracing: Active`.
//!
//! Both are written by hand rather than through a crate: EMF is one small JSON
//! object (the specification is a page), and the X-Ray daemon takes JSON
//! documents over UDP; the crates that do either (metrics facades, the
//! OpenTelemetry SDK with its exporters) would each add more code to every
//! binary, and so to every cold start, than these few functions.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

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

/// Where metrics go and what they are filed under (`METRICS_NAMESPACE`,
/// `METRICS_SERVICE`, and the function's name).
#[derive(Debug, Clone)]
pub(crate) struct MetricsConfig {
    /// CloudWatch namespace.
    pub namespace: String,
    /// The `Service` dimension: one stack's functions together.
    pub service: String,
    /// The `Function` dimension.
    pub function: String,
}

impl MetricsConfig {
    /// From the environment: `METRICS_NAMESPACE` (default `Conduit`),
    /// `METRICS_SERVICE` (default `conduit`), `AWS_LAMBDA_FUNCTION_NAME`
    /// (default: `fallback`, the binary's name).
    pub(crate) fn from_env(fallback: &str) -> Self {
        let var = |name: &str, default: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| default.to_owned())
        };
        Self {
            namespace: var("METRICS_NAMESPACE", "Conduit"),
            service: var("METRICS_SERVICE", "conduit"),
            function: var("AWS_LAMBDA_FUNCTION_NAME", fallback),
        }
    }
}

/// What one invocation came to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Outcome {
    /// The response status.
    pub status: u16,
    /// Milliseconds from the start of the handler to its response.
    pub latency_ms: f64,
    /// Whether this was the first invocation of the execution environment.
    pub cold_start: bool,
    /// When it ended, milliseconds since the epoch.
    pub timestamp_ms: u64,
}

/// The invocation's EMF document: its metrics under two dimension sets
/// (`Service`, and `Service` × `Function`), and the request and trace ids as
/// plain properties (searchable in Logs Insights, not metrics).
pub(crate) fn emf_document(
    config: &MetricsConfig,
    outcome: Outcome,
    recorder: &Recorder,
    request_id: &str,
    trace_id: Option<&str>,
) -> Value {
    let calls = recorder.calls();
    let class = |low: u16| u32::from(outcome.status / 100 == low / 100);
    let mut values: Vec<(&str, &str, Value)> = vec![
        ("ColdStart", "Count", json!(u32::from(outcome.cold_start))),
        ("Latency", "Milliseconds", json!(outcome.latency_ms)),
        ("Status2xx", "Count", json!(class(200))),
        ("Status4xx", "Count", json!(class(400))),
        ("Status5xx", "Count", json!(class(500))),
        ("DynamoDBRequests", "Count", json!(calls.len())),
        (
            "DynamoDBFailedRequests",
            "Count",
            json!(calls.iter().filter(|c| c.failed).count()),
        ),
        (
            "DynamoDBCapacityUnits",
            "Count",
            json!(calls.iter().fold(0.0, |sum, c| sum + c.capacity)),
        ),
    ];
    for counter in Counter::ALL {
        values.push((counter.name(), "Count", json!(recorder.counted(counter))));
    }
    let mut document = json!({
        "_aws": {
            "Timestamp": outcome.timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": config.namespace,
                "Dimensions": [["Service"], ["Service", "Function"]],
                "Metrics": values
                    .iter()
                    .map(|(name, unit, _)| json!({"Name": name, "Unit": unit}))
                    .collect::<Vec<_>>(),
            }],
        },
        "Service": config.service,
        "Function": config.function,
        "requestId": request_id,
        "status": outcome.status,
    });
    for (name, _, value) in values {
        document[name] = value;
    }
    if let Some(trace) = trace_id {
        document["traceId"] = json!(trace);
    }
    document
}

/// The parts of an `X-Amzn-Trace-Id` / `_X_AMZN_TRACE_ID` value X-Ray needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TraceHeader {
    /// `Root=1-…`: the trace.
    pub root: String,
    /// `Parent=…`: the segment Lambda opened for this invocation.
    pub parent: Option<String>,
    /// `Sampled=1`: whether X-Ray keeps this trace.
    pub sampled: bool,
}

impl TraceHeader {
    /// Parses `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut root = None;
        let mut parent = None;
        let mut sampled = false;
        for part in raw.split(';') {
            match part.trim().split_once('=') {
                Some(("Root", value)) => root = Some(value.to_owned()),
                Some(("Parent", value)) => parent = Some(value.to_owned()),
                Some(("Sampled", value)) => sampled = value == "1",
                _ => {}
            }
        }
        Some(Self {
            root: root?,
            parent,
            sampled,
        })
    }
}

/// A fresh 16-hex-digit segment id.
fn segment_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// The X-Ray documents of one invocation: a subsegment for the use case
/// (`name`, from `start` to `end`) holding one `aws` subsegment per DynamoDB
/// request, with operation, table and consumed capacity. Each is one UDP
/// datagram for the daemon, header line included.
pub(crate) fn xray_documents(
    trace: &TraceHeader,
    name: &str,
    start: f64,
    end: f64,
    status: u16,
    calls: &[Call],
) -> Vec<String> {
    let Some(parent) = &trace.parent else {
        return Vec::new();
    };
    let use_case = segment_id();
    let mut documents = vec![json!({
        "type": "subsegment",
        "name": name,
        "id": use_case,
        "trace_id": trace.root,
        "parent_id": parent,
        "start_time": start,
        "end_time": end,
        "error": (400..500).contains(&status),
        "fault": status >= 500,
        "http": {"response": {"status": status}},
    })];
    for call in calls {
        documents.push(json!({
            "type": "subsegment",
            "name": "DynamoDB",
            "namespace": "aws",
            "id": segment_id(),
            "trace_id": trace.root,
            "parent_id": use_case,
            "start_time": call.start,
            "end_time": call.end,
            "fault": call.failed,
            "aws": {
                "operation": call.operation,
                "table_name": call.table,
                "consumed_capacity": call.capacity,
            },
        }));
    }
    documents
        .into_iter()
        .map(|document| {
            let mut datagram = String::from("{\"format\": \"json\", \"version\": 1}\n");
            let _ = write!(datagram, "{document}");
            datagram
        })
        .collect()
}

/// Sends documents to the X-Ray daemon at `AWS_XRAY_DAEMON_ADDRESS` (set by
/// Lambda when tracing is active). Fire and forget, as the daemon protocol is:
/// a lost datagram loses a subsegment, never a response. Off when unset
/// (locally), so the warm path there pays nothing.
pub(crate) fn send_to_daemon(documents: &[String]) {
    if let Ok(address) = std::env::var("AWS_XRAY_DAEMON_ADDRESS") {
        send_to(&address, documents);
    }
}

/// Sends documents to the daemon at `address`: `host:port`, or the
/// `udp:host:port tcp:host:port` form Lambda may set.
pub(crate) fn send_to(address: &str, documents: &[String]) {
    let udp = address
        .split_whitespace()
        .find_map(|part| part.strip_prefix("udp:"))
        .unwrap_or(address);
    let Ok(socket) = std::net::UdpSocket::bind("0.0.0.0:0") else {
        return;
    };
    for document in documents {
        let _ = socket.send_to(document.as_bytes(), udp);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> MetricsConfig {
        MetricsConfig {
            namespace: "Conduit".into(),
            service: "conduit".into(),
            function: "login".into(),
        }
    }

    fn recorder() -> Recorder {
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

    fn outcome() -> Outcome {
        Outcome {
            status: 401,
            latency_ms: 12.5,
            cold_start: true,
            timestamp_ms: 1_795_255_200_000,
        }
    }

    /// Checks a document against the EMF specification's rules.
    fn assert_valid_emf(document: &Value) {
        let aws = &document["_aws"];
        assert!(aws["Timestamp"].is_u64(), "Timestamp: epoch milliseconds");
        let directives = aws["CloudWatchMetrics"].as_array().expect("an array");
        assert!(!directives.is_empty());
        const UNITS: [&str; 3] = ["Count", "Milliseconds", "None"];
        for directive in directives {
            let namespace = directive["Namespace"].as_str().expect("a namespace");
            assert!(!namespace.is_empty() && namespace.len() <= 255);
            let dimension_sets = directive["Dimensions"].as_array().expect("dimensions");
            for set in dimension_sets {
                let set = set.as_array().expect("a dimension set is an array");
                assert!(!set.is_empty() && set.len() <= 30);
                for dimension in set {
                    let key = dimension.as_str().expect("dimension names are strings");
                    assert!(
                        document[key].is_string(),
                        "dimension {key} has a string value"
                    );
                }
            }
            let metrics = directive["Metrics"].as_array().expect("metrics");
            assert!(!metrics.is_empty() && metrics.len() <= 100);
            for metric in metrics {
                let name = metric["Name"].as_str().expect("a name");
                assert!(UNITS.contains(&metric["Unit"].as_str().unwrap()), "{name}");
                assert!(document[name].is_number(), "{name} has a numeric value");
            }
        }
    }

    #[test]
    fn an_invocation_is_one_valid_emf_document_with_every_metric() {
        let document = emf_document(&config(), outcome(), &recorder(), "req-1", Some("Root=1-a"));
        assert_valid_emf(&document);
        assert_eq!(
            document["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "Conduit"
        );
        assert_eq!(document["ColdStart"], 1);
        assert_eq!(document["Latency"], 12.5);
        assert_eq!(
            (
                document["Status4xx"].as_u64(),
                document["Status5xx"].as_u64()
            ),
            (Some(1), Some(0))
        );
        assert_eq!(document["DynamoDBRequests"], 2);
        assert_eq!(document["DynamoDBFailedRequests"], 1);
        assert_eq!(document["DynamoDBCapacityUnits"], 0.5);
        assert_eq!(document["FailedLogins"], 1);
        assert_eq!(document["Registrations"], 0);
        assert_eq!(document["Function"], "login");
        assert_eq!(document["requestId"], "req-1");
        assert_eq!(document["traceId"], "Root=1-a");
    }

    #[test]
    fn documents_reach_a_daemon_as_one_datagram_each() {
        let daemon = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        daemon
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let address = daemon.local_addr().unwrap();
        let header = TraceHeader::parse("Root=1-a-b;Parent=53995c3f42cd8ad8;Sampled=1").unwrap();
        let documents = xray_documents(&header, "login", 1.0, 1.02, 200, &recorder().calls());
        send_to(&format!("udp:{address} tcp:127.0.0.1:2000"), &documents);
        let mut received = Vec::new();
        let mut buffer = [0u8; 65_536];
        for _ in 0..documents.len() {
            let (n, _) = daemon.recv_from(&mut buffer).unwrap();
            received.push(String::from_utf8(buffer[..n].to_vec()).unwrap());
        }
        received.sort();
        let mut sent = documents.clone();
        sent.sort();
        assert_eq!(received, sent);
    }

    #[test]
    fn trace_headers_parse_and_unsampled_ones_say_so() {
        let header = TraceHeader::parse(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        )
        .unwrap();
        assert_eq!(header.root, "1-5759e988-bd862e3fe1be46a994272793");
        assert_eq!(header.parent.as_deref(), Some("53995c3f42cd8ad8"));
        assert!(header.sampled);
        assert!(!TraceHeader::parse("Root=1-a;Sampled=0").unwrap().sampled);
        assert_eq!(TraceHeader::parse("Parent=x"), None);
    }

    #[test]
    fn the_use_case_subsegment_holds_one_subsegment_per_dynamodb_request() {
        let header = TraceHeader::parse("Root=1-a-b;Parent=53995c3f42cd8ad8;Sampled=1").unwrap();
        let documents = xray_documents(&header, "login", 1.0, 1.02, 401, &recorder().calls());
        assert_eq!(documents.len(), 3);
        let parse = |d: &String| -> Value {
            let (header, body) = d.split_once('\n').unwrap();
            assert_eq!(header, r#"{"format": "json", "version": 1}"#);
            serde_json::from_str(body).unwrap()
        };
        let use_case = parse(&documents[0]);
        assert_eq!(use_case["parent_id"], "53995c3f42cd8ad8");
        assert_eq!(use_case["error"], true);
        assert_eq!(use_case["id"].as_str().unwrap().len(), 16);
        let query = parse(&documents[2]);
        assert_eq!(query["parent_id"], use_case["id"]);
        assert_eq!(query["aws"]["operation"], "UpdateItem");
        assert_eq!(query["aws"]["table_name"], "t");
        assert_eq!(query["fault"], true);
        assert_eq!(query["trace_id"], "1-a-b");
    }
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
