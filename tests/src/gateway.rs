//! A local stand-in for what the edge and API Gateway do in front of the
//! functions and `cargo lambda watch` does not: CloudFront's origin secret
//! header and the viewer's address (`CloudFront-Viewer-Address`, from the
//! TCP peer, so tests connecting from 127.0.0.2 are another client), CORS
//! (preflights answered, allowed origins stamped on responses, exactly as the
//! template's `CorsConfiguration` says), and bodies that are not UTF-8, which
//! API Gateway hands to the function base64-encoded (`isBase64Encoded: true`)
//! but `cargo lambda watch` answers with its own 500 when the content type
//! claims text. The function's other response headers (`Vary`,
//! `Cache-Control`, `ETag`) pass through unchanged, as this gateway assumes
//! API Gateway passes them.

use std::net::SocketAddr;

use anyhow::{Context, Result};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_yaml::Value as Yaml;

use crate::{Route, route_for};

/// The template's CORS settings, parameters resolved to their defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cors {
    /// Allowed origins (`*` for any).
    pub origins: Vec<String>,
    /// Allowed request headers.
    pub headers: Vec<String>,
    /// Allowed methods.
    pub methods: Vec<String>,
    /// Preflight cache lifetime, seconds.
    pub max_age: Option<u64>,
    /// Response headers a browser may read.
    pub expose: Vec<String>,
}

fn strings(value: &Yaml, template: &Yaml) -> Vec<String> {
    // `!Ref Parameter` resolves to the parameter's default, as a deploy without overrides would.
    if let Yaml::Tagged(tagged) = value {
        let name = tagged.value.as_str().unwrap_or_default();
        let default = &template["Parameters"][name]["Default"];
        return default
            .as_str()
            .map(|d| d.split(',').map(|s| s.trim().to_owned()).collect())
            .unwrap_or_default();
    }
    value
        .as_sequence()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

impl Cors {
    /// Reads `Resources.Api.Properties.CorsConfiguration`.
    pub fn from_template() -> Result<Self> {
        let template = crate::template()?;
        let cors = &template["Resources"]["Api"]["Properties"]["CorsConfiguration"];
        anyhow::ensure!(
            !cors.is_null(),
            "template: the Api has no CorsConfiguration"
        );
        Ok(Self {
            origins: strings(&cors["AllowOrigins"], &template),
            headers: strings(&cors["AllowHeaders"], &template),
            methods: strings(&cors["AllowMethods"], &template),
            max_age: cors["MaxAge"].as_u64(),
            expose: strings(&cors["ExposeHeaders"], &template),
        })
    }

    /// The `Access-Control-Allow-Origin` value for `origin`, if it is allowed.
    pub fn allow_origin(&self, origin: &str) -> Option<String> {
        if self.origins.iter().any(|o| o == "*") {
            Some("*".into())
        } else {
            self.origins
                .iter()
                .any(|o| o == origin)
                .then(|| origin.to_owned())
        }
    }
}

type Body = Full<Bytes>;

fn header(name: &'static str, value: &str) -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static(name),
        HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static("")),
    )
}

/// The response to a CORS preflight, as API Gateway gives it.
pub fn preflight(cors: &Cors, origin: Option<&str>) -> Response<Body> {
    let mut response = Response::builder().status(StatusCode::NO_CONTENT);
    if let Some(allowed) = origin.and_then(|o| cors.allow_origin(o)) {
        let headers = response.headers_mut().expect("builder is valid");
        for (name, value) in [
            header("access-control-allow-origin", &allowed),
            header("access-control-allow-methods", &cors.methods.join(",")),
            header("access-control-allow-headers", &cors.headers.join(",")),
        ] {
            headers.insert(name, value);
        }
        if let Some(age) = cors.max_age {
            let (name, value) = header("access-control-max-age", &age.to_string());
            headers.insert(name, value);
        }
    }
    response
        .body(Body::default())
        .expect("static parts are valid")
}

/// What the local edge adds to every request, as CloudFront does: its
/// secret header (when the stack has one) and the viewer's address. Whatever
/// the client sent under those names is dropped first.
pub fn stamp_edge_headers(
    headers: &mut hyper::HeaderMap,
    secret: Option<&str>,
    viewer: SocketAddr,
) {
    headers.remove(conduit::http::ORIGIN_HEADER);
    headers.remove(conduit::http::VIEWER_HEADER);
    if let Some(secret) = secret.and_then(|s| HeaderValue::from_str(s).ok()) {
        headers.insert(
            HeaderName::from_static(conduit::http::ORIGIN_HEADER),
            secret,
        );
    }
    // CloudFront's form: the address and the port, IPv6 unbracketed.
    let (name, value) = header(
        conduit::http::VIEWER_HEADER,
        &format!("{}:{}", viewer.ip(), viewer.port()),
    );
    headers.insert(name, value);
}

async fn forward(
    client: &Client<HttpConnector, Body>,
    upstream: SocketAddr,
    cors: &Cors,
    routes: &[Route],
    edge: (Option<&str>, SocketAddr),
    request: Request<Incoming>,
) -> Result<Response<Body>> {
    let origin = request
        .headers()
        .get("origin")
        .and_then(|o| o.to_str().ok())
        .map(str::to_owned);
    let is_preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key("access-control-request-method");
    if is_preflight {
        return Ok(preflight(cors, origin.as_deref()));
    }
    let (mut parts, body) = request.into_parts();
    stamp_edge_headers(&mut parts.headers, edge.0, edge.1);
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    parts.uri = format!("http://{upstream}{path}").parse()?;
    let body = body.collect().await?.to_bytes();
    let (mut parts, body) = if std::str::from_utf8(&body).is_ok() {
        let (parts, body) = client
            .request(Request::from_parts(parts, Full::new(body)))
            .await?
            .into_parts();
        (parts, body.collect().await?.to_bytes())
    } else {
        invoke_binary(client, upstream, routes, &parts, &body)
            .await?
            .into_parts()
    };
    // API Gateway replaces whatever CORS headers the integration sent.
    let stale: Vec<HeaderName> = parts
        .headers
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .cloned()
        .collect();
    for name in stale {
        parts.headers.remove(name);
    }
    if let Some(allowed) = origin.as_deref().and_then(|o| cors.allow_origin(o)) {
        let (name, value) = header("access-control-allow-origin", &allowed);
        parts.headers.insert(name, value);
        if !cors.expose.is_empty() {
            let (name, value) = header("access-control-expose-headers", &cors.expose.join(","));
            parts.headers.insert(name, value);
        }
    }
    Ok(Response::from_parts(parts, Full::new(body)))
}

/// The API Gateway (payload 2.0) event for a request whose body is not UTF-8:
/// the body base64-encoded, as API Gateway sends it.
pub fn binary_event(
    route: &Route,
    parts: &hyper::http::request::Parts,
    body: &[u8],
) -> serde_json::Value {
    use base64::Engine;
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut event = crate::event(parts.method.as_str(), &route.path, path, None, None);
    let headers: serde_json::Map<String, serde_json::Value> = parts
        .headers
        .iter()
        .filter_map(|(name, value)| Some((name.as_str().to_owned(), value.to_str().ok()?.into())))
        .collect();
    event["headers"] = serde_json::Value::Object(headers);
    event["body"] = base64::engine::general_purpose::STANDARD
        .encode(body)
        .into();
    event["isBase64Encoded"] = true.into();
    event
}

/// Invokes the routed function directly through the Runtime API emulator's
/// invoke endpoint (as `cargo lambda invoke` does) with a base64 event, and
/// turns its API Gateway response back into HTTP.
async fn invoke_binary(
    client: &Client<HttpConnector, Body>,
    upstream: SocketAddr,
    routes: &[Route],
    parts: &hyper::http::request::Parts,
    body: &[u8],
) -> Result<Response<Bytes>> {
    let Some(route) = route_for(routes, parts.method.as_str(), parts.uri.path()) else {
        anyhow::bail!("no route for {} {}", parts.method, parts.uri.path());
    };
    let event = binary_event(route, parts, body);
    let invoke = Request::post(format!(
        "http://{upstream}/2015-03-31/functions/{}/invocations",
        route.function
    ))
    .header("content-type", "application/json")
    .body(Full::new(Bytes::from(event.to_string())))?;
    let answer = client.request(invoke).await?;
    let answer: serde_json::Value = serde_json::from_slice(&answer.collect().await?.to_bytes())?;
    let mut response = Response::builder().status(
        answer["statusCode"]
            .as_u64()
            .context("the function returned no statusCode")? as u16,
    );
    if let Some(headers) = answer["headers"].as_object() {
        for (name, value) in headers {
            response = response.header(name, value.as_str().unwrap_or_default());
        }
    }
    let text = answer["body"].as_str().unwrap_or_default();
    let bytes = if answer["isBase64Encoded"].as_bool() == Some(true) {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.decode(text)?
    } else {
        text.as_bytes().to_vec()
    };
    Ok(response.body(Bytes::from(bytes))?)
}

/// Serves on `listen`, forwarding to `upstream`, until the process ends,
/// with at most `per_function` requests in flight to each function: the
/// emulator runs that many instances of each, and the rest wait here, as
/// they would for a free execution environment (the emulator itself stops
/// answering when hundreds queue on one function).
pub async fn serve(
    listen: SocketAddr,
    upstream: SocketAddr,
    cors: Cors,
    routes: Vec<Route>,
    per_function: usize,
    origin_secret: Option<String>,
) -> Result<()> {
    let origin_secret: std::sync::Arc<Option<String>> = std::sync::Arc::new(origin_secret);
    let slots: std::sync::Arc<
        std::collections::HashMap<String, std::sync::Arc<tokio::sync::Semaphore>>,
    > = std::sync::Arc::new(
        routes
            .iter()
            .map(|r| {
                (
                    r.function.clone(),
                    std::sync::Arc::new(tokio::sync::Semaphore::new(per_function)),
                )
            })
            .collect(),
    );
    let routes: std::sync::Arc<[Route]> = routes.into();
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let client: Client<HttpConnector, Body> = Client::builder(TokioExecutor::new()).build_http();
    loop {
        let (stream, peer) = listener.accept().await?;
        let (client, cors, routes, slots, secret) = (
            client.clone(),
            cors.clone(),
            routes.clone(),
            slots.clone(),
            origin_secret.clone(),
        );
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let (client, cors, routes, secret) =
                    (client.clone(), cors.clone(), routes.clone(), secret.clone());
                let slot = route_for(&routes, request.method().as_str(), request.uri().path())
                    .and_then(|route| slots.get(&route.function).cloned());
                async move {
                    let _permit = match slot {
                        Some(slot) => Some(slot.acquire_owned().await.expect("never closed")),
                        None => None,
                    };
                    Ok::<_, std::convert::Infallible>(
                        forward(
                            &client,
                            upstream,
                            &cors,
                            &routes,
                            (secret.as_deref(), peer),
                            request,
                        )
                        .await
                        .unwrap_or_else(|error| {
                            eprintln!("gateway: {error:#}");
                            Response::builder()
                                .status(StatusCode::BAD_GATEWAY)
                                .body(Body::from(r#"{"message":"Bad Gateway"}"#))
                                .expect("static parts are valid")
                        }),
                    )
                }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_allows_any_origin_and_the_front_ends_headers() {
        let cors = Cors::from_template().unwrap();
        assert_eq!(cors.origins, ["*"]);
        assert!(cors.headers.iter().any(|h| h == "authorization"));
        assert!(cors.headers.iter().any(|h| h == "content-type"));
        assert!(cors.methods.iter().any(|m| m == "PUT"));
    }

    #[test]
    fn a_binary_body_becomes_a_base64_event_on_the_routed_path() {
        use base64::Engine;
        let route = Route {
            path: "/api/articles/{slug}".into(),
            method: "PUT".into(),
            function: "update_article".into(),
        };
        let (parts, ()) = Request::put("/api/articles/a-b?x=1")
            .header("content-type", "application/json")
            .header("authorization", "Token t")
            .body(())
            .unwrap()
            .into_parts();
        let event = binary_event(&route, &parts, b"\xff\x00");
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(event["body"].as_str().unwrap())
                .unwrap(),
            b"\xff\x00"
        );
        assert_eq!(event["pathParameters"]["slug"], "a-b");
        assert_eq!(event["rawQueryString"], "x=1");
        assert_eq!(event["headers"]["authorization"], "Token t");
        assert_eq!(event["routeKey"], "PUT /api/articles/{slug}");
        let request = crate::request_from_event(&event);
        assert_eq!(request.body().as_ref(), b"\xff\x00");
    }

    #[test]
    fn the_local_edge_replaces_what_the_client_claims_with_its_own_headers() {
        let mut headers = hyper::HeaderMap::new();
        headers.insert("x-conduit-origin", "forged".parse().unwrap());
        headers.insert("cloudfront-viewer-address", "192.0.2.1:1".parse().unwrap());
        stamp_edge_headers(
            &mut headers,
            Some("s3cret"),
            "127.0.0.2:40000".parse().unwrap(),
        );
        assert_eq!(headers["x-conduit-origin"], "s3cret");
        assert_eq!(headers["cloudfront-viewer-address"], "127.0.0.2:40000");
        stamp_edge_headers(&mut headers, None, "[::1]:5".parse().unwrap());
        assert!(headers.get("x-conduit-origin").is_none());
        assert_eq!(headers["cloudfront-viewer-address"], "::1:5");
    }

    #[test]
    fn a_preflight_gets_the_configured_answer() {
        let cors = Cors {
            origins: vec!["http://localhost:4200".into()],
            headers: vec!["authorization".into()],
            methods: vec!["GET".into(), "PUT".into()],
            max_age: Some(600),
            expose: vec!["etag".into()],
        };
        let allowed = preflight(&cors, Some("http://localhost:4200"));
        assert_eq!(allowed.status(), StatusCode::NO_CONTENT);
        assert_eq!(allowed.headers()["access-control-allow-methods"], "GET,PUT");
        assert_eq!(allowed.headers()["access-control-max-age"], "600");
        let refused = preflight(&cors, Some("http://evil.example"));
        assert!(
            refused
                .headers()
                .get("access-control-allow-origin")
                .is_none()
        );
    }
}
