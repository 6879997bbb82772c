//! The checks' HTTP client: requests to the running stack, and what came back
//! (status, headers, body), read by the checks' deciders.

use std::borrow::Cow;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{HeaderMap, Method, Request};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

/// How long one request may take: the first call of each function starts its binary.
pub const REQUEST_BUDGET: Duration = Duration::from_secs(120);

/// The running stack at a base URL (`http://127.0.0.1:3000`, or a deployed
/// stack's `https://…`).
#[derive(Clone)]
pub struct Stack {
    base: String,
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

/// A response: its status, headers and whole body.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Bytes,
}

impl Reply {
    /// Every value of header `name`, joined by `, ` (`None` when absent).
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    /// Whether header `name` is a comma-separated list holding `item` (any case).
    pub fn lists(&self, name: &str, item: &str) -> bool {
        self.header(name).is_some_and(|list| {
            list.split(',')
                .any(|entry| entry.trim().eq_ignore_ascii_case(item))
        })
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body as text, lossily.
    pub fn text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }

    /// The status, headers and body on one line, for messages.
    pub fn describe(&self) -> String {
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap_or("<binary>")))
            .collect();
        format!("{} [{}] {}", self.status, headers.join("; "), self.text())
    }

    /// A reply made up by a unit test.
    #[cfg(test)]
    pub(crate) fn canned(status: u16, headers: &[(&str, &str)], body: &str) -> Self {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(
                hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        Self {
            status,
            headers: map,
            body: Bytes::from(body.to_owned()),
        }
    }
}

/// `reply`'s `ETag`, which must come with a 200 (`what` names the request).
pub fn etag_of(reply: &Reply, what: &str) -> Result<String> {
    if reply.status != 200 {
        bail!("{what}: {}, not 200", reply.describe());
    }
    match reply.header("etag") {
        Some(tag) if !tag.trim().is_empty() => Ok(tag.trim().to_owned()),
        _ => bail!("{what} carried no ETag: {}", reply.describe()),
    }
}

/// Fails unless `reply` has `status` (`what` names the request).
pub fn expect_status(reply: &Reply, status: u16, what: &str) -> Result<()> {
    if reply.status != status {
        bail!("{what}: {}, not {status}", reply.describe());
    }
    Ok(())
}

/// A client over `connector`, speaking HTTPS (the system's roots) where the
/// URL says so.
fn client(
    mut connector: HttpConnector,
) -> Result<Client<HttpsConnector<HttpConnector>, Full<Bytes>>> {
    connector.enforce_http(false);
    let https = HttpsConnectorBuilder::new()
        .with_native_roots()
        .context("reading the system's TLS roots")?
        .https_or_http()
        .enable_http1()
        .wrap_connector(connector);
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

impl Stack {
    /// The stack at `url` as another client: connections from the local
    /// address `ip` (any of 127.0.0.0/8 on a loopback stack), which the
    /// local edge passes on as the viewer's address.
    pub fn from_address(url: &str, ip: std::net::IpAddr) -> Result<Self> {
        let mut connector = HttpConnector::new();
        connector.set_local_address(Some(ip));
        Self::over(url, connector)
    }

    /// The stack at `url` (scheme, host and port; HTTP or HTTPS).
    pub fn new(url: &str) -> Result<Self> {
        Self::over(url, HttpConnector::new())
    }

    /// The stack at `url`, reached through `connector`.
    fn over(url: &str, connector: HttpConnector) -> Result<Self> {
        let base = url.trim_end_matches('/').to_owned();
        let uri: hyper::Uri = base
            .parse()
            .with_context(|| format!("{url} is not a URL"))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
            bail!("{url}: expected http://HOST:PORT or https://HOST");
        }
        Ok(Self {
            base,
            client: client(connector)?,
        })
    }

    /// `method path` (`path` from `/api`) with `headers` and `body`: the whole reply.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<Reply> {
        let what = format!("{method} {path}");
        let mut request = Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(body.into()))
            .with_context(|| format!("building {what}"))?;
        let exchange = async {
            let response = self.client.request(request).await?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await?.to_bytes();
            anyhow::Ok(Reply {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body,
            })
        };
        tokio::time::timeout(REQUEST_BUDGET, exchange)
            .await
            .with_context(|| {
                format!(
                    "{what} at {}: no answer within {REQUEST_BUDGET:?}",
                    self.base
                )
            })?
            .with_context(|| format!("{what} at {}", self.base))
    }

    /// `GET path` with `headers`.
    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Result<Reply> {
        self.send(Method::GET, path, headers, Bytes::new()).await
    }

    /// `method path` with a JSON body, as the holder of `token`, plus `headers`.
    pub async fn send_json(
        &self,
        method: Method,
        path: &str,
        token: &str,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> Result<Reply> {
        let authorization = format!("Token {token}");
        let mut all = vec![
            ("authorization", authorization.as_str()),
            ("content-type", "application/json"),
        ];
        all.extend_from_slice(headers);
        self.send(method, path, &all, body.to_string()).await
    }

    /// Registers a user named `prefix` and a random suffix (so a check runs
    /// again on the same stack): their username and token.
    pub async fn register(&self, prefix: &str) -> Result<(String, String)> {
        let name = format!("{prefix}-{:08x}", rand::random::<u32>());
        let body = json!({"user": {"username": name, "email": format!("{name}@example.com"), "password": "password123"}});
        let reply = self
            .send(
                Method::POST,
                "/api/users",
                &[("content-type", "application/json")],
                body.to_string(),
            )
            .await?;
        expect_status(&reply, 201, &format!("registering {name}"))?;
        let token = reply.json()["user"]["token"]
            .as_str()
            .with_context(|| format!("registering {name}: no token in {}", reply.text()))?
            .to_owned();
        Ok((name, token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_listed_in_any_case_among_others_is_found() {
        let reply = Reply::canned(
            204,
            &[(
                "access-control-allow-headers",
                "Content-Type, Authorization",
            )],
            "",
        );
        assert!(reply.lists("access-control-allow-headers", "authorization"));
        assert!(!reply.lists("access-control-allow-headers", "x-api-key"));
        assert!(!reply.lists("access-control-allow-methods", "PUT"));
    }

    #[test]
    fn a_name_that_only_contains_the_item_is_not_a_listing() {
        let reply = Reply::canned(
            204,
            &[("access-control-allow-headers", "x-authorization")],
            "",
        );
        assert!(!reply.lists("access-control-allow-headers", "authorization"));
    }

    #[test]
    fn a_200_without_an_etag_is_reported() {
        let error = etag_of(&Reply::canned(200, &[], "{}"), "GET /api/tags").unwrap_err();
        assert!(error.to_string().contains("carried no ETag"), "{error}");
    }

    #[test]
    fn an_etag_on_an_error_is_not_taken() {
        let reply = Reply::canned(500, &[("etag", "\"abc\"")], "");
        assert!(etag_of(&reply, "GET /api/tags").is_err());
    }

    #[test]
    fn the_etag_of_a_200_is_read_as_sent() {
        let reply = Reply::canned(200, &[("etag", "\"abc\"")], "{}");
        assert_eq!(etag_of(&reply, "GET /api/tags").unwrap(), "\"abc\"");
    }

    #[test]
    fn a_url_that_is_not_http_or_https_is_refused() {
        assert!(Stack::new("ftp://127.0.0.1:3000").is_err());
        assert!(Stack::new("127.0.0.1:3000").is_err());
        assert!(Stack::new("http://127.0.0.1:3000/").is_ok());
        assert!(Stack::new("https://d111111abcdef8.cloudfront.net").is_ok());
    }
}
