//! X-Ray subsegments for the use case and each DynamoDB request, sent to the
//! daemon Lambda runs when `Tracing: Active`.

use std::fmt::Write as _;

use serde_json::json;

use super::Call;

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
    use serde_json::Value;

    use super::*;
    use crate::telemetry::sample_recorder as recorder;

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
