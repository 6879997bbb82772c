//! Invoking the handlers as Lambda does: API Gateway events built the way API
//! Gateway sends them, parsed as the runtime parses them, dispatched to the
//! function's handler, and the response read back.

use std::time::Duration;

use conduit::App;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

/// An API Gateway HTTP API (payload 2.0) event for `method path`, with the
/// route's path parameters, as API Gateway would build it.
pub fn event(
    method: &str,
    route: &str,
    path: &str,
    body: Option<&Value>,
    token: Option<&str>,
) -> Value {
    let (raw_path, raw_query) = path.split_once('?').unwrap_or((path, ""));
    let mut path_parameters = serde_json::Map::new();
    for (pattern, actual) in route.split('/').zip(raw_path.split('/')) {
        if let Some(name) = pattern.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            path_parameters.insert(name.into(), json!(actual));
        }
    }
    let mut query = serde_json::Map::new();
    for pair in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        query.insert(k.into(), json!(v));
    }
    let mut headers = serde_json::Map::new();
    headers.insert("content-type".into(), json!("application/json"));
    if let Some(token) = token {
        headers.insert("authorization".into(), json!(format!("Token {token}")));
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": format!("{method} {route}"),
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "conduit-tests"
            },
            "requestId": "test-request",
            "routeKey": format!("{method} {route}"),
            "stage": "$default",
            "time": "21/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1_795_255_200_000_u64
        },
        "isBase64Encoded": false
    });
    if !path_parameters.is_empty() {
        event["pathParameters"] = Value::Object(path_parameters);
    }
    if !query.is_empty() {
        event["queryStringParameters"] = Value::Object(query);
    }
    if let Some(body) = body {
        event["body"] = json!(match body {
            Value::String(raw) => raw.clone(),
            other => other.to_string(),
        });
    }
    event
}

/// Parses an event the way the Lambda runtime does.
pub fn request_from_event(event: &Value) -> Request {
    lambda_http::request::from_str(&event.to_string()).expect("a valid API Gateway v2 event")
}

/// A response's status and JSON body (`Null` when empty).
pub fn read(response: Response<Body>) -> (u16, Value) {
    let status = response.status().as_u16();
    let bytes: &[u8] = response.body().as_ref();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(bytes).unwrap_or_else(|_| json!(String::from_utf8_lossy(bytes)))
    };
    (status, body)
}

/// Calls the handler of function `function`, as its binary's `main` does,
/// failing the test if it made a DynamoDB request `function`'s policy in
/// `template.yaml` does not allow ([`crate::iam`]).
pub async fn dispatch(app: &App, function: &str, request: Request) -> Response<Body> {
    crate::iam::attributed(function, handle(app, function, request)).await
}

async fn handle(app: &App, function: &str, request: Request) -> Response<Body> {
    use conduit::api::*;
    match function {
        "register" => register::handle(app, request).await,
        "login" => login::handle(app, request).await,
        "get_current_user" => get_current_user::handle(app, request).await,
        "update_user" => update_user::handle(app, request).await,
        "end_sessions" => end_sessions::handle(app, request).await,
        "get_profile" => get_profile::handle(app, request).await,
        "follow_user" => follow_user::handle(app, request).await,
        "unfollow_user" => unfollow_user::handle(app, request).await,
        "list_articles" => list_articles::handle(app, request).await,
        "get_feed" => get_feed::handle(app, request).await,
        "get_article" => get_article::handle(app, request).await,
        "create_article" => create_article::handle(app, request).await,
        "update_article" => update_article::handle(app, request).await,
        "delete_article" => delete_article::handle(app, request).await,
        "list_comments" => list_comments::handle(app, request).await,
        "add_comment" => add_comment::handle(app, request).await,
        "delete_comment" => delete_comment::handle(app, request).await,
        "favorite_article" => favorite_article::handle(app, request).await,
        "unfavorite_article" => unfavorite_article::handle(app, request).await,
        "get_tags" => get_tags::handle(&app.store, request).await,
        "get_openapi" => conduit::openapi::handle(request).await,
        other => panic!("no function named {other}"),
    }
}

/// `Timeout` of the functions in `template.yaml` (checked by `tests/tests/integration/template.rs`).
pub const LAMBDA_TIMEOUT: Duration = Duration::from_secs(10);

/// A request id shaped like Lambda's (a UUID), so transaction tokens derive from it.
pub fn random_request_id() -> String {
    let hex = format!("{:032x}", rand::random::<u128>());
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}
