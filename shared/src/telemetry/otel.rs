//! Traces through OpenTelemetry. The invocation's `tracing` spans (the
//! invocation, its use case, each DynamoDB request) become OpenTelemetry
//! spans (`tracing-opentelemetry`), with X-Ray's ids and its trace header as
//! their parent (`opentelemetry-aws`). They are exported as OTLP over UDP to
//! the X-Ray agent Lambda runs, as AWS's own OpenTelemetry Lambda exporters
//! send them. Each datagram is the line `{"format":"json","version":1}`, then
//! `T1S` and the base64 of one protobuf `ExportTraceServiceRequest`.
//!
//! Each span is exported as it ends, from the thread that ends it: nothing
//! runs between invocations, when Lambda freezes the environment, and no
//! thread is started at init. A trace Lambda did not sample records nothing
//! (the sampler follows the header).

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};

use base64::Engine as _;
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{Sampler, SdkTracerProvider, SpanData, SpanExporter};
use prost::Message as _;
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::registry::LookupSpan;

/// What precedes every datagram: the agent's protocol header, then the
/// signal's prefix (OTLP traces, sampled).
const HEADER: &str = "{\"format\":\"json\",\"version\":1}\nT1S";

/// Where the X-Ray agent listens: `AWS_XRAY_DAEMON_ADDRESS` is `host:port`,
/// or `udp:host:port tcp:host:port`.
pub(crate) fn agent_address(raw: &str) -> Option<SocketAddr> {
    let udp = raw
        .split_whitespace()
        .find_map(|part| part.strip_prefix("udp:"))
        .unwrap_or(raw);
    udp.to_socket_addrs().ok()?.next()
}

/// Sends each batch of spans to the agent as one datagram.
#[derive(Debug)]
struct UdpExporter {
    socket: UdpSocket,
    agent: SocketAddr,
    resource: ResourceAttributesWithSchema,
}

impl UdpExporter {
    fn new(agent: SocketAddr) -> std::io::Result<Self> {
        let socket = UdpSocket::bind(if agent.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        })?;
        Ok(Self {
            socket,
            agent,
            resource: ResourceAttributesWithSchema::default(),
        })
    }
}

/// One datagram carrying `spans`.
fn datagram(spans: Vec<SpanData>, resource: &ResourceAttributesWithSchema) -> Vec<u8> {
    let request = ExportTraceServiceRequest {
        resource_spans: group_spans_by_resource_and_scope(spans, resource),
    };
    let mut datagram = HEADER.to_owned();
    base64::engine::general_purpose::STANDARD.encode_string(request.encode_to_vec(), &mut datagram);
    datagram.into_bytes()
}

impl SpanExporter for UdpExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        // Fire and forget, as the agent's protocol is: a lost datagram loses
        // a span, never a response.
        self.socket
            .send_to(&datagram(batch, &self.resource), self.agent)
            .map(|_| ())
            .map_err(|e| OTelSdkError::InternalFailure(e.to_string()))
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.resource = resource.into();
    }
}

/// The layer that turns spans into OpenTelemetry spans sent to the agent at
/// `agent`, as the service `service` (the function).
pub(crate) fn layer<S>(agent: SocketAddr, service: &str) -> std::io::Result<impl Layer<S>>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    let provider = SdkTracerProvider::builder()
        .with_id_generator(opentelemetry_aws::trace::XrayIdGenerator::default())
        .with_sampler(Sampler::ParentBased(Box::new(Sampler::AlwaysOff)))
        .with_resource(
            Resource::builder_empty()
                .with_service_name(service.to_owned())
                .build(),
        )
        .with_simple_exporter(UdpExporter::new(agent)?)
        .build();
    let tracer = provider.tracer("conduit");
    Ok(tracing_opentelemetry::layer()
        .with_tracer(tracer)
        // Only what the trace shows: no busy and idle times, thread ids or
        // source locations on every span (bytes in every datagram).
        .with_tracked_inactivity(false)
        .with_threads(false)
        .with_location(false))
}

/// The parent of an invocation's spans: the segment Lambda opened for it, as
/// its trace header (`Root=…;Parent=…;Sampled=…`) names it.
pub(crate) fn parent(header: &str) -> Option<opentelemetry::Context> {
    let context = opentelemetry_aws::trace::xray_propagator::span_context_from_str(header)?;
    Some(opentelemetry::Context::new().with_remote_span_context(context))
}

/// The spans `f` leaves when run inside a sampled invocation's span, as the
/// X-Ray agent receives them (for tests of the spans other modules make).
#[cfg(test)]
pub(crate) fn spans_of(f: impl FnOnce()) -> Vec<opentelemetry_proto::tonic::trace::v1::Span> {
    tests::sent(tests::SAMPLED, f)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use opentelemetry_proto::tonic::trace::v1::Span;
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    use tracing_subscriber::layer::SubscriberExt as _;

    use super::*;

    pub(super) const SAMPLED: &str =
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

    /// The spans of the datagrams the agent received.
    fn received(agent: &UdpSocket) -> Vec<Span> {
        let mut spans = Vec::new();
        let mut buffer = [0u8; 65_536];
        while let Ok((n, _)) = agent.recv_from(&mut buffer) {
            let text = std::str::from_utf8(&buffer[..n]).unwrap();
            let body = text
                .strip_prefix(HEADER)
                .expect("the agent's header and T1S");
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(body)
                .unwrap();
            let request = ExportTraceServiceRequest::decode(bytes.as_slice()).unwrap();
            for resource in request.resource_spans {
                for scope in resource.scope_spans {
                    spans.extend(scope.spans);
                }
            }
        }
        spans
    }

    /// Runs `f` in an invocation's span under trace header `header`, with
    /// spans sent to an agent of its own; the spans that agent received.
    pub(super) fn sent(header: &str, f: impl FnOnce()) -> Vec<Span> {
        let agent = UdpSocket::bind("127.0.0.1:0").unwrap();
        agent
            .set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let layer = layer(agent.local_addr().unwrap(), "login").unwrap();
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("invocation", function = "login");
            span.set_parent(parent(header).unwrap()).unwrap();
            span.in_scope(f);
        });
        received(&agent)
    }

    /// A use case with a DynamoDB request inside.
    fn use_case() {
        tracing::info_span!("login").in_scope(|| {
            let _call = tracing::info_span!("DynamoDB", otel.kind = "client").entered();
        });
    }

    #[test]
    fn a_sampled_invocations_spans_reach_the_agent_under_lambdas_segment() {
        let spans = sent(SAMPLED, use_case);
        let by_name = |name: &str| spans.iter().find(|s| s.name == name).unwrap();
        let (root, use_case, call) = (by_name("invocation"), by_name("login"), by_name("DynamoDB"));
        // X-Ray's trace id is the header's Root without its version and dash.
        let trace_id = (0..16)
            .map(|i| u8::from_str_radix(&"5759e988bd862e3fe1be46a994272793"[2 * i..][..2], 16))
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        assert!(spans.iter().all(|s| s.trace_id == trace_id));
        assert_eq!(root.parent_span_id, 0x5399_5c3f_42cd_8ad8_u64.to_be_bytes());
        assert_eq!(use_case.parent_span_id, root.span_id);
        assert_eq!(call.parent_span_id, use_case.span_id);
        // SpanKind::Client in OTLP's numbering.
        assert_eq!(call.kind, 3);
    }

    #[test]
    fn an_unsampled_invocation_sends_nothing() {
        let unsampled = SAMPLED.replace("Sampled=1", "Sampled=0");
        assert!(sent(&unsampled, use_case).is_empty());
    }

    #[test]
    fn the_agent_address_is_read_in_both_of_lambdas_forms() {
        let expected: SocketAddr = "169.254.79.129:2000".parse().unwrap();
        assert_eq!(agent_address("169.254.79.129:2000"), Some(expected));
        assert_eq!(
            agent_address("udp:169.254.79.129:2000 tcp:169.254.79.129:2000"),
            Some(expected)
        );
        assert_eq!(agent_address("not an address"), None);
    }
}
