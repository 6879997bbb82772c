//! A local stand-in for API Gateway's CORS handling, in front of
//! `cargo lambda watch` (which routes to the functions): preflights are
//! answered, and allowed origins stamped on responses, exactly as the
//! template's `CorsConfiguration` tells API Gateway to.

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

async fn forward(
    client: &Client<HttpConnector, Body>,
    upstream: SocketAddr,
    cors: &Cors,
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
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    parts.uri = format!("http://{upstream}{path}").parse()?;
    let body = body.collect().await?.to_bytes();
    let upstream_response = client
        .request(Request::from_parts(parts, Full::new(body)))
        .await?;
    let (mut parts, body) = upstream_response.into_parts();
    let body = body.collect().await?.to_bytes();
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
    parts.headers.remove("vary");
    if let Some(allowed) = origin.as_deref().and_then(|o| cors.allow_origin(o)) {
        let (name, value) = header("access-control-allow-origin", &allowed);
        parts.headers.insert(name, value);
    }
    Ok(Response::from_parts(parts, Full::new(body)))
}

/// Serves on `listen`, forwarding to `upstream`, until the process ends.
pub async fn serve(listen: SocketAddr, upstream: SocketAddr, cors: Cors) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let client: Client<HttpConnector, Body> = Client::builder(TokioExecutor::new()).build_http();
    loop {
        let (stream, _) = listener.accept().await?;
        let (client, cors) = (client.clone(), cors.clone());
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let (client, cors) = (client.clone(), cors.clone());
                async move {
                    Ok::<_, std::convert::Infallible>(
                        forward(&client, upstream, &cors, request)
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
    fn a_preflight_gets_the_configured_answer() {
        let cors = Cors {
            origins: vec!["http://localhost:4200".into()],
            headers: vec!["authorization".into()],
            methods: vec!["GET".into(), "PUT".into()],
            max_age: Some(600),
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
