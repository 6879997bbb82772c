//! Checks the functions' logs from a run of the local stack: every invocation
//! wrote one EMF document and log lines carrying its request and trace ids,
//! and no password, token, password hash or signing secret appears anywhere.

use anyhow::{Result, bail, ensure};
use serde_json::Value;

/// What a log held.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LogSummary {
    /// Invocations (`request served` lines).
    pub invocations: usize,
    /// EMF documents.
    pub emf_documents: usize,
    /// Log lines inside an invocation (with a request id).
    pub invocation_lines: usize,
}

/// Whether `text` holds something shaped like a JWT (`eyJ…` header, a dot, a payload).
fn looks_like_jwt(text: &str) -> bool {
    text.match_indices("eyJ").any(|(at, _)| {
        let rest = &text[at..];
        let header_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        rest[header_len..].starts_with('.') && header_len > 10
    })
}

/// Checks `log` (one JSON object per line, anything else ignored) against the
/// rules above; `secrets` are strings that must appear nowhere.
pub fn check_function_log(log: &str, secrets: &[&str]) -> Result<LogSummary> {
    let mut summary = LogSummary::default();
    for (number, line) in log.lines().enumerate() {
        let number = number + 1;
        for secret in secrets.iter().filter(|s| !s.is_empty()) {
            ensure!(
                !line.contains(secret),
                "line {number} contains a secret: {line}"
            );
        }
        ensure!(
            !line.contains("$argon2"),
            "line {number} contains a password hash"
        );
        ensure!(
            !looks_like_jwt(line),
            "line {number} contains a token: {line}"
        );
        let Ok(value) = serde_json::from_str::<Value>(line.trim()) else {
            continue;
        };
        if value.get("_aws").is_some() {
            ensure!(
                value["_aws"]["CloudWatchMetrics"][0]["Namespace"].is_string()
                    && value["requestId"].is_string(),
                "line {number}: an EMF document without namespace or request id"
            );
            summary.emf_documents += 1;
            continue;
        }
        // The runtime's span (request and trace ids) and ours (function, cold
        // start) are both in `spans`, outermost first.
        let spans: Vec<&Value> = value["spans"].as_array().into_iter().flatten().collect();
        if let Some(runtime) = spans.iter().find(|s| s["requestId"].is_string()) {
            summary.invocation_lines += 1;
            ensure!(
                runtime["xrayTraceId"].is_string(),
                "line {number}: a log line without the trace id: {line}"
            );
            let ours = spans
                .iter()
                .any(|s| s["function"].is_string() && s["cold_start"].is_boolean());
            ensure!(
                ours,
                "line {number}: a log line without function and cold_start: {line}"
            );
        }
        if value["fields"]["message"] == "request served" {
            summary.invocations += 1;
        }
    }
    if summary.invocations == 0 {
        bail!("no invocation in the log");
    }
    ensure!(
        summary.invocations == summary.emf_documents,
        "{} invocations but {} EMF documents",
        summary.invocations,
        summary.emf_documents
    );
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    // As the functions write it: the current span, then every span, outermost first.
    const SERVED: &str = r#"{"level":"INFO","fields":{"message":"request served","status":200},"span":{"function":"login","cold_start":true,"name":"invocation"},"spans":[{"requestId":"r1","xrayTraceId":"Root=1-a","name":"Lambda runtime invoke"},{"function":"login","cold_start":true,"name":"invocation"}]}"#;
    const EMF: &str = r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"Conduit","Dimensions":[["Service"]],"Metrics":[]}]},"Service":"s","requestId":"r1"}"#;

    #[test]
    fn a_log_with_one_emf_document_per_invocation_passes() {
        let log = format!("starting\n{SERVED}\n{EMF}\n");
        let summary = check_function_log(&log, &["s3cret"]).unwrap();
        assert_eq!(
            summary,
            LogSummary {
                invocations: 1,
                emf_documents: 1,
                invocation_lines: 1
            }
        );
    }

    #[test]
    fn a_missing_emf_document_fails() {
        assert!(check_function_log(SERVED, &[]).is_err());
    }

    #[test]
    fn secrets_tokens_and_hashes_fail() {
        let with = |extra: &str| format!("{SERVED}\n{EMF}\n{extra}\n");
        assert!(check_function_log(&with("the s3cret"), &["s3cret"]).is_err());
        assert!(check_function_log(&with("$argon2id$v=19$m=19456"), &[]).is_err());
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig";
        assert!(check_function_log(&with(jwt), &[]).is_err());
    }

    #[test]
    fn an_invocation_line_without_trace_or_function_fails() {
        let untraced = SERVED.replace(r#""xrayTraceId":"Root=1-a","#, "");
        assert!(check_function_log(&format!("{untraced}\n{EMF}"), &[]).is_err());
        let anonymous = SERVED.replace(r#""function":"login","#, "");
        assert!(anonymous.contains(r#"{"cold_start":true,"name":"invocation"}"#));
        assert!(check_function_log(&format!("{anonymous}\n{EMF}"), &[]).is_err());
    }
}
