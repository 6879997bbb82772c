//! The edge in front of the API (the CloudFront distribution of
//! `template.yaml`): refusing calls that go around it, who the client is,
//! and how long shared caches may keep an anonymous read.

use lambda_http::request::RequestContext;
use lambda_http::{Request, RequestExt};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use crate::config::EdgeConfig;
use crate::domain::ClientAddress;

/// The header CloudFront adds to every request it forwards; its value is a
/// secret only the distribution holds.
pub const ORIGIN_HEADER: &str = "x-conduit-origin";

/// The viewer's address and source port, which CloudFront adds because the
/// distribution's origin request policy asks for it.
pub const VIEWER_HEADER: &str = "cloudfront-viewer-address";

/// What shared caches may do with an anonymous `200`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SharedCaching {
    max_age: u32,
}

impl SharedCaching {
    /// How long past `s-maxage` an edge may answer with its stale copy while
    /// it fetches a fresh one: readers wait for no origin round trip.
    const STALE_WHILE_REVALIDATE: u32 = 10;
    /// How long past `s-maxage` an edge may answer with its stale copy when
    /// the origin fails: an outage shows yesterday's home page, not an error.
    const STALE_IF_ERROR: u32 = 300;

    /// The `Cache-Control` of an anonymous read. `max-age=0`: a browser's
    /// copy is stale at once, so it revalidates (a `304` through the `ETag`),
    /// though it may use that copy for `stale-while-revalidate` seconds
    /// while it does. With an `s-maxage` of 0, every cache asks each time
    /// and nothing is served stale.
    pub(crate) fn policy(self) -> String {
        if self.max_age == 0 {
            return "public, no-cache".to_owned();
        }
        format!(
            "public, max-age=0, s-maxage={}, stale-while-revalidate={}, stale-if-error={}",
            self.max_age,
            Self::STALE_WHILE_REVALIDATE,
            Self::STALE_IF_ERROR
        )
    }
}

impl Default for SharedCaching {
    fn default() -> Self {
        Self {
            max_age: EdgeConfig::DEFAULT_SHARED_MAX_AGE,
        }
    }
}

/// The client a request is from, as [`Edge::admit`] found it.
#[derive(Debug, Clone, Copy)]
struct Client(ClientAddress);

/// What every HTTP function knows of the edge, from [`EdgeConfig`].
#[derive(Debug, Clone)]
pub struct Edge {
    origin_digest: Option<String>,
    caching: SharedCaching,
}

impl Edge {
    /// The edge `config` describes.
    pub fn new(config: EdgeConfig) -> Self {
        Self {
            origin_digest: config.origin_digest,
            caching: SharedCaching {
                max_age: config.shared_max_age,
            },
        }
    }

    /// Admits `request`: refused when the stack has an edge and the request
    /// does not carry its secret header (it was sent to the execute-api URL,
    /// around the edge and its limits); otherwise tagged with its client and
    /// the caching policy of anonymous reads. One SHA-256 of a short header:
    /// no network call.
    pub(crate) fn admit(&self, request: &mut Request) -> Result<(), ApiError> {
        let client = match &self.origin_digest {
            Some(expected) => {
                let presented = request
                    .headers()
                    .get(ORIGIN_HEADER)
                    .map(|value| hex_sha256(value.as_bytes()));
                // Digests are compared, not secrets: timing reveals at most
                // how much of the digest matched, which tells nothing of the
                // secret behind it.
                if presented.as_deref() != Some(expected.as_str()) {
                    return Err(ApiError::AroundTheEdge);
                }
                // Only CloudFront can have set it: the request came through it.
                request
                    .headers()
                    .get(VIEWER_HEADER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(ClientAddress::parse_with_port)
                    .unwrap_or_else(|| source_ip(request))
            }
            // No edge: API Gateway's own view of the caller is the truth, and
            // any viewer header is the caller's own claim.
            None => source_ip(request),
        };
        request.extensions_mut().insert(Client(client));
        request.extensions_mut().insert(self.caching);
        Ok(())
    }
}

/// The lowercase hex SHA-256 of `bytes`, as `sha256sum` prints it.
pub fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// API Gateway's `sourceIp`. A request without one (an event typed by
/// hand) counts as the one unknown client, so it shares a single budget.
fn source_ip(request: &Request) -> ClientAddress {
    let ip = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.as_deref(),
        _ => None,
    };
    ip.and_then(ClientAddress::parse)
        .or_else(|| ClientAddress::parse("0.0.0.0"))
        .expect("0.0.0.0 is an address")
}

/// The client `request` is from: as admitted, or (a request handed to a
/// handler directly, as the tests do) API Gateway's `sourceIp`.
pub(crate) fn client(request: &Request) -> ClientAddress {
    request
        .extensions()
        .get::<Client>()
        .map_or_else(|| source_ip(request), |c| c.0)
}

/// The caching policy of anonymous reads `request` was admitted with.
pub(crate) fn shared_caching(request: &Request) -> SharedCaching {
    request
        .extensions()
        .get::<SharedCaching>()
        .copied()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::http::StatusCode;

    fn request(headers: &[(&str, &str)], source_ip: &str) -> Request {
        let event = serde_json::json!({
            "version": "2.0", "routeKey": "GET /api/tags", "rawPath": "/api/tags",
            "rawQueryString": "",
            "headers": headers.iter().map(|(k, v)| (k.to_string(), serde_json::json!(v)))
                .collect::<serde_json::Map<_, _>>(),
            "requestContext": {
                "accountId": "1", "apiId": "a", "domainName": "d", "domainPrefix": "d",
                "requestId": "r", "routeKey": "GET /api/tags", "stage": "$default",
                "time": "t", "timeEpoch": 0,
                "http": {"method": "GET", "path": "/api/tags", "protocol": "HTTP/1.1",
                         "sourceIp": source_ip, "userAgent": "test"}
            },
            "isBase64Encoded": false
        });
        lambda_http::request::from_str(&event.to_string()).unwrap()
    }

    fn edge(secret: Option<&str>) -> Edge {
        Edge::new(EdgeConfig {
            origin_digest: secret.map(|s| hex_sha256(s.as_bytes())),
            shared_max_age: 7,
        })
    }

    #[test]
    fn with_an_edge_a_call_without_its_secret_is_refused() {
        let edge = edge(Some("s3cret"));
        for headers in [vec![], vec![(ORIGIN_HEADER, "guess")]] {
            let error = edge
                .admit(&mut request(&headers, "198.51.100.1"))
                .unwrap_err();
            assert_eq!(error.status(), StatusCode::FORBIDDEN);
        }
    }

    #[test]
    fn through_the_edge_the_client_is_the_viewer() {
        let mut through = request(
            &[
                (ORIGIN_HEADER, "s3cret"),
                (VIEWER_HEADER, "203.0.113.9:51000"),
            ],
            "130.176.0.1",
        );
        edge(Some("s3cret")).admit(&mut through).unwrap();
        assert_eq!(client(&through).to_string(), "203.0.113.9");
        assert_eq!(
            shared_caching(&through).policy(),
            "public, max-age=0, s-maxage=7, stale-while-revalidate=10, stale-if-error=300"
        );
    }

    #[test]
    fn an_s_maxage_of_zero_shares_nothing_stale() {
        assert_eq!(SharedCaching { max_age: 0 }.policy(), "public, no-cache");
    }

    #[test]
    fn without_an_edge_a_viewer_header_is_the_callers_own_claim_and_ignored() {
        let mut direct = request(&[(VIEWER_HEADER, "203.0.113.9:51000")], "198.51.100.1");
        edge(None).admit(&mut direct).unwrap();
        assert_eq!(client(&direct).to_string(), "198.51.100.1");
    }

    #[test]
    fn a_request_with_no_source_is_the_one_unknown_client() {
        let unknown = request(&[], "not an address");
        assert_eq!(client(&unknown).to_string(), "0.0.0.0");
    }
}
