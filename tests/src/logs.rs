//! Checks the functions' logs from a run of the local stack: every invocation
//! wrote exactly one EMF document (its one line), every line of an invocation
//! carries its request and trace ids, the invocations stay within the bytes
//! budget, and no password, token, password hash or signing secret appears
//! anywhere.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Result, bail, ensure};
use serde_json::Value;

/// Application log bytes an invocation may write, on average (README,
/// "Operating it": at $0.50 a GB ingested, 1,200 bytes are $0.60 a million
/// requests). Warnings and errors are lines beyond the EMF document, and
/// count against it.
pub const BYTES_PER_INVOCATION: usize = 1_200;

/// What a log held.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct LogSummary {
    /// Invocations (EMF documents, one each).
    pub invocations: usize,
    /// Log lines inside an invocation (with a request id), EMF documents included.
    pub invocation_lines: usize,
    /// Bytes of those lines, newlines included.
    pub invocation_bytes: usize,
}

impl LogSummary {
    /// Mean bytes an invocation wrote.
    pub fn bytes_per_invocation(&self) -> usize {
        self.invocation_bytes / self.invocations.max(1)
    }
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
    let mut documents: BTreeMap<String, usize> = BTreeMap::new();
    let mut requests: BTreeSet<String> = BTreeSet::new();
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
            let (Some(request), true, true, Some("INFO")) = (
                value["requestId"].as_str(),
                value["_aws"]["CloudWatchMetrics"][0]["Namespace"].is_string(),
                value["traceId"].is_string(),
                value["level"].as_str(),
            ) else {
                bail!(
                    "line {number}: an EMF document without namespace, request id, trace id or level INFO: {line}"
                );
            };
            *documents.entry(request.to_owned()).or_default() += 1;
            summary.invocation_lines += 1;
            summary.invocation_bytes += line.len() + 1;
            continue;
        }
        // The runtime's span (request and trace ids) and ours (function, cold
        // start) are both in `spans`, outermost first.
        let spans: Vec<&Value> = value["spans"].as_array().into_iter().flatten().collect();
        if let Some(runtime) = spans.iter().find(|s| s["requestId"].is_string()) {
            summary.invocation_lines += 1;
            summary.invocation_bytes += line.len() + 1;
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
            requests.insert(runtime["requestId"].as_str().unwrap_or_default().to_owned());
        }
    }
    summary.invocations = documents.len();
    if summary.invocations == 0 {
        bail!("no invocation in the log");
    }
    if let Some((request, count)) = documents.iter().find(|(_, count)| **count > 1) {
        bail!("invocation {request} wrote {count} EMF documents");
    }
    if let Some(request) = requests.iter().find(|r| !documents.contains_key(*r)) {
        bail!("invocation {request} logged lines but no EMF document");
    }
    ensure!(
        summary.bytes_per_invocation() <= BYTES_PER_INVOCATION,
        "invocations wrote {} bytes each on average, over the budget of {BYTES_PER_INVOCATION}",
        summary.bytes_per_invocation()
    );
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    // As the functions write them: a warning inside an invocation (the
    // current span, then every span, outermost first), and its EMF document.
    const WARNING: &str = r#"{"level":"WARN","fields":{"message":"slow"},"span":{"function":"login","cold_start":true,"name":"invocation"},"spans":[{"requestId":"r1","xrayTraceId":"Root=1-a","name":"Lambda runtime invoke"},{"function":"login","cold_start":true,"name":"invocation"}]}"#;
    const EMF: &str = r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"Conduit","Dimensions":[["Service"]],"Metrics":[]}]},"level":"INFO","Service":"s","requestId":"r1","traceId":"Root=1-a"}"#;

    #[test]
    fn a_log_with_one_emf_document_per_invocation_passes() {
        let log = format!("starting\n{WARNING}\n{EMF}\n");
        let summary = check_function_log(&log, &["s3cret"]).unwrap();
        assert_eq!(
            summary,
            LogSummary {
                invocations: 1,
                invocation_lines: 2,
                invocation_bytes: WARNING.len() + EMF.len() + 2,
            }
        );
    }

    #[test]
    fn a_missing_or_repeated_emf_document_fails() {
        assert!(check_function_log(WARNING, &[]).is_err());
        assert!(check_function_log(&format!("{WARNING}\n{EMF}\n{EMF}"), &[]).is_err());
    }

    #[test]
    fn an_emf_document_without_level_or_trace_fails() {
        let unlevelled = EMF.replace(r#""level":"INFO","#, "");
        assert!(check_function_log(&unlevelled, &[]).is_err());
        let untraced = EMF.replace(r#","traceId":"Root=1-a""#, "");
        assert!(check_function_log(&untraced, &[]).is_err());
    }

    #[test]
    fn invocations_over_the_bytes_budget_fail() {
        let chatty = format!("{WARNING}\n").repeat(BYTES_PER_INVOCATION / WARNING.len() + 1);
        assert!(check_function_log(&format!("{chatty}{EMF}"), &[]).is_err());
    }

    #[test]
    fn secrets_tokens_and_hashes_fail() {
        let with = |extra: &str| format!("{WARNING}\n{EMF}\n{extra}\n");
        assert!(check_function_log(&with("the s3cret"), &["s3cret"]).is_err());
        assert!(check_function_log(&with("$argon2id$v=19$m=19456"), &[]).is_err());
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig";
        assert!(check_function_log(&with(jwt), &[]).is_err());
    }

    #[test]
    fn an_invocation_line_without_trace_or_function_fails() {
        let untraced = WARNING.replace(r#""xrayTraceId":"Root=1-a","#, "");
        assert!(check_function_log(&format!("{untraced}\n{EMF}"), &[]).is_err());
        let anonymous = WARNING.replace(r#""function":"login","#, "");
        assert!(anonymous.contains(r#"{"cold_start":true,"name":"invocation"}"#));
        assert!(check_function_log(&format!("{anonymous}\n{EMF}"), &[]).is_err());
    }
}
