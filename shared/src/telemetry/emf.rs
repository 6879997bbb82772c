//! The CloudWatch Embedded Metric Format document of an invocation: its one
//! JSON line on stdout, which CloudWatch Logs turns into metrics and Logs
//! Insights can query by its other fields.

use serde_json::{Value, json};

use super::{Counter, Recorder};

/// Where metrics go and what they are filed under (`METRICS_NAMESPACE`,
/// `METRICS_SERVICE`, and the function's name).
#[derive(Debug, Clone)]
pub(crate) struct MetricsConfig {
    /// CloudWatch namespace.
    pub namespace: String,
    /// The `Service` dimension: one stack's functions together.
    pub service: String,
    /// The `Function` property (a field, not a dimension).
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

/// The invocation's EMF document, the one line it logs: its metrics under one
/// dimension set, `Service` (one custom metric each, whatever the number of
/// functions: per-function duration, errors and throttles are AWS/Lambda's
/// free metrics), and as plain properties, searchable in Logs Insights but
/// no metrics, the function, request and trace ids. `level` INFO says what
/// it is; Lambda's log-level filter files it as INFO in any case (our lines
/// carry no RFC 3339 `timestamp`, and a line without one is INFO to it).
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
                "Dimensions": [["Service"]],
                "Metrics": values
                    .iter()
                    .map(|(name, unit, _)| json!({"Name": name, "Unit": unit}))
                    .collect::<Vec<_>>(),
            }],
        },
        "level": "INFO",
        "message": "request served",
        "Service": config.service,
        "Function": config.function,
        "requestId": request_id,
        "status": outcome.status,
    });
    for (name, _, value) in values {
        document[name] = value;
    }
    // A property, not a metric (no metric cost): how much of the latency
    // was spent waiting on DynamoDB, so the rest is the function's own time.
    document["dynamodbWaitMs"] = json!(waiting_ms(&calls));
    if let Some(trace) = trace_id {
        document["traceId"] = json!(trace);
    }
    document
}

/// Milliseconds during which at least one of `calls` was in flight
/// (concurrent requests overlap: their union, not their sum).
fn waiting_ms(calls: &[super::Call]) -> f64 {
    let mut spans: Vec<(f64, f64)> = calls
        .iter()
        .map(|c| (c.start, c.end.max(c.start)))
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut total = 0.0;
    let mut current: Option<(f64, f64)> = None;
    for (start, end) in spans {
        current = match current {
            Some((s, e)) if start <= e => Some((s, e.max(end))),
            Some((s, e)) => {
                total += e - s;
                Some((start, end))
            }
            None => Some((start, end)),
        };
    }
    if let Some((s, e)) = current {
        total += e - s;
    }
    (total * 1_000_000.0).round() / 1_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::sample_recorder as recorder;

    fn config() -> MetricsConfig {
        MetricsConfig {
            namespace: "Conduit".into(),
            service: "conduit".into(),
            function: "login".into(),
        }
    }

    fn outcome() -> Outcome {
        Outcome {
            status: 401,
            latency_ms: 12.5,
            cold_start: true,
            timestamp_ms: 1_795_255_200_000,
        }
    }

    #[test]
    fn waiting_counts_overlapping_requests_once() {
        let call = |start: f64, end: f64| crate::telemetry::Call {
            operation: "GetItem",
            start,
            end,
            capacity: 0.5,
            failed: false,
        };
        let calls = [
            call(10.000, 10.010),
            call(10.005, 10.020),
            call(10.030, 10.031),
        ];
        assert_eq!(waiting_ms(&calls), 21.0);
        assert_eq!(waiting_ms(&[]), 0.0);
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
        assert_eq!(document["level"], "INFO");
        assert_eq!(
            document["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Service"]]),
            "one metric per name, not one per function"
        );
        assert_eq!(document["requestId"], "req-1");
        assert_eq!(document["traceId"], "Root=1-a");
    }
}
