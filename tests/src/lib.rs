//! Local tooling and test harness: the table definition read from
//! `template.yaml` (the one source of truth), tables on DynamoDB Local, an
//! [`App`] per test, and API Gateway events built the way API Gateway sends them.

pub mod coldstart;
pub mod events;
pub mod faults;
pub mod gateway;
pub mod logs;
pub mod openapi;
pub mod seed;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, TimeToLiveSpecification,
};
use conduit::App;
use conduit::invocation::Invocation;
use conduit::store::Store;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use serde_yaml::Value as Yaml;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// `template.yaml`, parsed (CloudFormation tags such as `!Ref` kept as tagged values).
pub fn template() -> Result<Yaml> {
    let path = workspace_root().join("template.yaml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path:?}"))?;
    serde_yaml::from_str(&text).context("parsing template.yaml")
}

/// The table's key schema and indexes, as the template declares them.
#[derive(Debug, Clone)]
pub struct TableSpec {
    attributes: Vec<AttributeDefinition>,
    keys: Vec<KeySchemaElement>,
    indexes: Vec<GlobalSecondaryIndex>,
    /// The TTL attribute, when time to live is enabled.
    pub ttl_attribute: Option<String>,
}

fn text<'a>(value: &'a Yaml, field: &str) -> Result<&'a str> {
    value[field]
        .as_str()
        .with_context(|| format!("template: {field} must be a string"))
}

fn key_schema(value: &Yaml) -> Result<Vec<KeySchemaElement>> {
    value
        .as_sequence()
        .context("template: KeySchema must be a list")?
        .iter()
        .map(|k| {
            Ok(KeySchemaElement::builder()
                .attribute_name(text(k, "AttributeName")?)
                .key_type(KeyType::from(text(k, "KeyType")?))
                .build()?)
        })
        .collect()
}

impl TableSpec {
    /// Reads `Resources.Table.Properties` of the template.
    pub fn from_template() -> Result<Self> {
        let template = template()?;
        let table = &template["Resources"]["Table"];
        if text(table, "Type")? != "AWS::DynamoDB::Table" {
            bail!("template: Resources.Table is not a DynamoDB table");
        }
        let props = &table["Properties"];
        let attributes = props["AttributeDefinitions"]
            .as_sequence()
            .context("template: AttributeDefinitions")?
            .iter()
            .map(|a| {
                Ok(AttributeDefinition::builder()
                    .attribute_name(text(a, "AttributeName")?)
                    .attribute_type(ScalarAttributeType::from(text(a, "AttributeType")?))
                    .build()?)
            })
            .collect::<Result<Vec<_>>>()?;
        let indexes = props["GlobalSecondaryIndexes"]
            .as_sequence()
            .context("template: GlobalSecondaryIndexes")?
            .iter()
            .map(|index| {
                let projection = &index["Projection"];
                let non_key = projection["NonKeyAttributes"].as_sequence().map(|attrs| {
                    attrs
                        .iter()
                        .filter_map(|a| a.as_str().map(str::to_owned))
                        .collect::<Vec<_>>()
                });
                Ok(GlobalSecondaryIndex::builder()
                    .index_name(text(index, "IndexName")?)
                    .set_key_schema(Some(key_schema(&index["KeySchema"])?))
                    .projection(
                        Projection::builder()
                            .projection_type(ProjectionType::from(text(
                                projection,
                                "ProjectionType",
                            )?))
                            .set_non_key_attributes(non_key)
                            .build(),
                    )
                    .build()?)
            })
            .collect::<Result<Vec<_>>>()?;
        let ttl = &props["TimeToLiveSpecification"];
        let ttl_attribute = (ttl["Enabled"].as_bool() == Some(true))
            .then(|| text(ttl, "AttributeName").map(str::to_owned))
            .transpose()?;
        Ok(Self {
            attributes,
            keys: key_schema(&props["KeySchema"])?,
            indexes,
            ttl_attribute,
        })
    }

    /// Index names, in template order.
    pub fn index_names(&self) -> Vec<&str> {
        self.indexes.iter().map(|i| i.index_name()).collect()
    }

    /// Creates `name` with this definition, waits until it is active, then
    /// turns TTL on. A table of that name already there is taken to be this
    /// call's own (names are unique per test; `conduit-dev` checks first).
    pub async fn create(&self, client: &Client, name: &str) -> Result<()> {
        let created = client
            .create_table()
            .table_name(name)
            .billing_mode(BillingMode::PayPerRequest)
            .set_attribute_definitions(Some(self.attributes.clone()))
            .set_key_schema(Some(self.keys.clone()))
            .set_global_secondary_indexes(Some(self.indexes.clone()))
            .send()
            .await;
        match created {
            Ok(_) => {}
            // The SDK resends a CreateTable whose answer it lost (a busy
            // emulator); the resend then finds the table its first attempt made.
            Err(e)
                if e.as_service_error()
                    .is_some_and(|e| e.is_resource_in_use_exception()) => {}
            Err(e) => return Err(e).with_context(|| format!("creating table {name}")),
        }
        let deadline = std::time::Instant::now() + SETUP_BUDGET;
        loop {
            let described = client
                .describe_table()
                .table_name(name)
                .send()
                .await
                .with_context(|| format!("describing table {name}"))?;
            let active = described
                .table()
                .and_then(|t| t.table_status())
                .is_some_and(|s| s.as_str() == "ACTIVE");
            if active {
                break;
            }
            if std::time::Instant::now() > deadline {
                bail!("table {name} did not become active within {SETUP_BUDGET:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        if let Some(attribute) = &self.ttl_attribute {
            client
                .update_time_to_live()
                .table_name(name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .attribute_name(attribute)
                        .enabled(true)
                        .build()?,
                )
                .send()
                .await
                .with_context(|| format!("enabling TTL on {name}"))?;
        }
        Ok(())
    }
}

/// Where DynamoDB Local listens: `AWS_ENDPOINT_URL_DYNAMODB`, else port 8000.
pub fn endpoint() -> String {
    std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_else(|_| "http://127.0.0.1:8000".into())
}

/// Whether something accepts connections at [`endpoint`]: probed once per
/// test binary, so that without DynamoDB Local every test fails at once with
/// the same one line (the `Err`), saying how to get it.
pub fn dynamodb_local_reachable() -> Result<(), &'static str> {
    static PROBE: OnceLock<Result<(), String>> = OnceLock::new();
    PROBE
        .get_or_init(|| {
            let url = endpoint();
            if accepts_connections(&url) {
                Ok(())
            } else {
                Err(format!(
                    "DynamoDB Local is not reachable at {url}: run ./scripts/test.sh (which starts it), \
                     or start it and set AWS_ENDPOINT_URL_DYNAMODB (README, \"Testing\")"
                ))
            }
        })
        .as_ref()
        .map(|_| ())
        .map_err(String::as_str)
}

/// Fails the calling test with [`dynamodb_local_reachable`]'s one line when
/// DynamoDB Local is not there: that line and nothing else (an unwind that
/// skips the panic hook, so no location or backtrace, whatever `RUST_BACKTRACE` says).
pub fn require_dynamodb_local() {
    if let Err(line) = dynamodb_local_reachable() {
        eprintln!("{line}");
        std::panic::resume_unwind(Box::new(line));
    }
}

/// Whether a TCP connection to `url`'s host and port (80 or 443 by default) opens within 2 s.
fn accepts_connections(url: &str) -> bool {
    use std::net::{TcpStream, ToSocketAddrs};
    let (scheme, rest) = url.split_once("://").unwrap_or(("http", url));
    let authority = rest.split('/').next().unwrap_or_default();
    let default_port = if scheme == "https" { 443 } else { 80 };
    let addresses = authority.to_socket_addrs().or_else(|_| {
        let host = authority.trim_start_matches('[').trim_end_matches(']');
        (host, default_port).to_socket_addrs()
    });
    addresses.is_ok_and(|mut addresses| {
        addresses
            .any(|address| TcpStream::connect_timeout(&address, Duration::from_secs(2)).is_ok())
    })
}

/// A client for DynamoDB Local (dummy credentials; the emulator ignores them).
pub async fn local_client() -> Client {
    client_at(&endpoint()).await
}

/// A client for DynamoDB at `url` (DynamoDB Local, or a fault proxy in front of it).
pub async fn client_at(url: &str) -> Client {
    // The functions' own SDK configuration (time budgets, retries), pointed at DynamoDB Local.
    client_with(conduit::config::sdk_loader(), url).await
}

/// How long a setup or inspection step (creating a table, scanning one) may
/// take. A freshly started emulator, busy with other tests, can take longer
/// over its first CreateTable than the 1.5 s the functions give an attempt.
pub const SETUP_BUDGET: Duration = Duration::from_secs(60);

/// A client for the harness's own steps on DynamoDB at `url`: the SDK's
/// default retries, no per-attempt limit, [`SETUP_BUDGET`] per operation.
/// What is under test keeps the functions' budgets ([`local_client`]).
pub async fn setup_client(url: &str) -> Client {
    let loader = aws_config::defaults(aws_config::BehaviorVersion::latest()).timeout_config(
        aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(Duration::from_secs(5))
            .operation_timeout(SETUP_BUDGET)
            .build(),
    );
    client_with(loader, url).await
}

async fn client_with(loader: aws_config::ConfigLoader, url: &str) -> Client {
    let config = loader
        .endpoint_url(url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local",
            "local",
            None,
            None,
            "conduit-tests",
        ))
        .load()
        .await;
    Client::new(&config)
}

/// Runs `f(0)` to `f(n - 1)` as concurrent tasks (truly parallel on a
/// multi-threaded test runtime); their results in order.
pub async fn concurrently<F, Fut, T>(n: usize, f: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = (0..n).map(|i| tokio::spawn(f(i))).collect();
    futures::future::join_all(handles)
        .await
        .into_iter()
        .map(|r| r.expect("task"))
        .collect()
}

/// The secret tests and seeding sign tokens with (the local API generates its
/// own into `.tools/jwt-secret`; AWS uses Secrets Manager).
pub const LOCAL_JWT_SECRET: &str = "local-development-secret-not-for-production-use";

/// An app on `table` of DynamoDB Local, signing tokens with `secret`.
pub async fn local_app(table: &str, secret: &str) -> App {
    App::new(
        Store::new(local_client().await, table),
        &secret.to_owned().into(),
        Duration::from_secs(3600),
    )
}

/// An app on its own fresh table, so tests run in parallel without sharing data.
pub async fn test_app() -> App {
    let name = fresh_table().await;
    local_app(&name, LOCAL_JWT_SECRET).await
}

/// Creates a table of its own for a test, from the template; returns its name.
/// Fails the test with one line saying how to get DynamoDB Local when it is not reachable.
pub async fn fresh_table() -> String {
    require_dynamodb_local();
    let name = format!("conduit-test-{}", conduit::domain::UserId::generate());
    TableSpec::from_template()
        .expect("template.yaml declares the table")
        .create(&setup_client(&endpoint()).await, &name)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "creating a table on DynamoDB Local at {}: {e:#}",
                endpoint()
            )
        });
    name
}

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

/// A route of the template: which function serves `method path`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    /// Path pattern, API Gateway syntax (`/api/articles/{slug}`).
    pub path: String,
    /// HTTP method.
    pub method: String,
    /// The function binary.
    pub function: String,
}

/// Every route of `template.yaml`, from each function's `HttpApi` event.
pub fn routes() -> Result<Vec<Route>> {
    let template = template()?;
    let resources = template["Resources"]
        .as_mapping()
        .context("template: Resources")?;
    let mut routes = Vec::new();
    for (logical_id, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let logical_id = logical_id.as_str().context("template: a resource name")?;
        let function = binary_of(logical_id)
            .with_context(|| format!("template: {logical_id} is not named <Binary>Function"))?;
        let events = resource["Properties"]["Events"]
            .as_mapping()
            .context("template: a function without Events")?;
        for (_, event) in events {
            if event["Type"].as_str() == Some("HttpApi") {
                routes.push(Route {
                    path: text(&event["Properties"], "Path")?.to_owned(),
                    method: text(&event["Properties"], "Method")?.to_owned(),
                    function: function.to_owned(),
                });
            }
        }
    }
    routes.sort();
    Ok(routes)
}

/// The binary a function resource runs, by the template's naming rule (the
/// Makefile follows it too): `GetCurrentUserFunction` runs `get_current_user`.
pub fn binary_of(logical_id: &str) -> Option<String> {
    let stem = logical_id.strip_suffix("Function")?;
    let mut binary = String::new();
    for (i, c) in stem.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            binary.push('_');
        }
        binary.push(c.to_ascii_lowercase());
    }
    (!binary.is_empty()).then_some(binary)
}

/// The route serving `method path`: literal segments win over parameters,
/// as in API Gateway (`/api/articles/feed` before `/api/articles/{slug}`).
pub fn route_for<'a>(routes: &'a [Route], method: &str, path: &str) -> Option<&'a Route> {
    let segments: Vec<&str> = path.split('/').collect();
    routes
        .iter()
        .filter(|r| r.method == method)
        .filter_map(|r| {
            let pattern: Vec<&str> = r.path.split('/').collect();
            if pattern.len() != segments.len() {
                return None;
            }
            let mut literals = 0;
            for (p, s) in pattern.iter().zip(&segments) {
                if p.starts_with('{') {
                    continue;
                }
                if p != s {
                    return None;
                }
                literals += 1;
            }
            Some((literals, r))
        })
        .max_by_key(|(literals, _)| *literals)
        .map(|(_, r)| r)
}

/// Calls the handler of function `function`, as its binary's `main` does.
pub async fn dispatch(app: &App, function: &str, request: Request) -> Response<Body> {
    use conduit::api::*;
    match function {
        "register" => register::handle(app, request).await,
        "login" => login::handle(app, request).await,
        "get_current_user" => get_current_user::handle(app, request).await,
        "update_user" => update_user::handle(app, request).await,
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
        "get_openapi" => get_openapi::handle(request).await,
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

/// Drives the handlers through API Gateway events, routed as the template routes.
pub struct TestApi {
    /// The app (its store is on a table of its own).
    pub app: App,
    routes: Vec<Route>,
}

impl TestApi {
    /// A fresh API on a fresh table.
    pub async fn new() -> Self {
        Self {
            app: test_app().await,
            routes: routes().expect("template routes"),
        }
    }

    /// `method path` with an optional JSON body and token: status and JSON body.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> (u16, Value) {
        read(self.respond(method, path, body, token).await)
    }

    /// `method path` that must answer `status`: its JSON body. For setup steps
    /// and reads whose status is not what the test is about, but must hold.
    pub async fn expect(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
        status: u16,
    ) -> Value {
        let (got, response) = self.call(method, path, body, token).await;
        assert_eq!(got, status, "{method} {path}: {response}");
        response
    }

    /// `method path` with an optional JSON body and token: the whole response.
    pub async fn respond(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
    ) -> Response<Body> {
        self.respond_with(method, path, body, token, &[]).await
    }

    /// [`TestApi::respond`] with extra request headers (lower-case names).
    pub async fn respond_with(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Response<Body> {
        let bare = path.split('?').next().unwrap_or(path);
        let route = route_for(&self.routes, method, bare)
            .unwrap_or_else(|| panic!("no route for {method} {path}"));
        let mut event = event(method, &route.path, path, body.as_ref(), token);
        for (name, value) in headers {
            event["headers"][*name] = Value::from(*value);
        }
        let request = request_from_event(&event);
        // As in AWS: each call is an invocation with the template's 10 s deadline.
        let deadline = std::time::SystemTime::now() + LAMBDA_TIMEOUT;
        // Boxed: every handler's future in one match is too large for a test thread's stack.
        let handler = Box::pin(dispatch(&self.app, &route.function, request));
        Invocation::new(&random_request_id(), Some(deadline))
            .scope(handler)
            .await
    }

    /// A fresh API on a fresh table, whose store reaches DynamoDB through `url`
    /// (a fault proxy); the table is created directly.
    pub async fn through(url: &str) -> Self {
        let table = fresh_table().await;
        Self {
            app: App::new(
                Store::new(client_at(url).await, table),
                &LOCAL_JWT_SECRET.to_owned().into(),
                Duration::from_secs(3600),
            ),
            routes: routes().expect("template routes"),
        }
    }

    /// Registers `name` (email `name@example.com`, password `password123`); returns the token.
    pub async fn register(&self, name: &str) -> String {
        let (status, body) = self
            .call(
                "POST",
                "/api/users",
                Some(json!({"user": {"username": name, "email": format!("{name}@example.com"), "password": "password123"}})),
                None,
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["user"]["token"].as_str().expect("a token").to_owned()
    }

    /// `GET /api/articles/{slug}` as the holder of `token` sees it (or
    /// anonymously), which must answer 200: the whole body.
    pub async fn get_article(&self, slug: &str, token: Option<&str>) -> Value {
        self.expect("GET", &format!("/api/articles/{slug}"), None, token, 200)
            .await
    }

    /// Creates an article as the holder of `token`; returns its slug.
    pub async fn create_article(&self, token: &str, title: &str, tags: &[&str]) -> String {
        let (status, body) = self
            .call(
                "POST",
                "/api/articles",
                Some(json!({"article": {"title": title, "description": "about it", "body": "the body", "tagList": tags}})),
                Some(token),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        body["article"]["slug"].as_str().expect("a slug").to_owned()
    }

    /// A user written straight through the store, skipping argon2 (tests that
    /// need many users), and a token for them.
    pub async fn quick_user(&self, name: &str) -> (conduit::store::items::UserRecord, String) {
        use conduit::domain::{Email, UserId, Username};
        let user = conduit::store::items::UserRecord::new(
            UserId::generate(),
            Username::parse(Some(name)).expect("a valid username"),
            Email::parse(Some(&format!("{name}@example.com"))).expect("a valid email"),
            serde_json::from_value(json!("$argon2id$v=19$m=19456,t=2,p=1$unused"))
                .expect("a hash string"),
        );
        self.app
            .store
            .create_user(&user, None)
            .await
            .expect("user created");
        let token = self.app.tokens.issue(&user.user_id);
        (user, token)
    }

    /// How many items of the table have a key attribute (`pk` or `sk`) starting with `prefix`.
    pub async fn count_keys(&self, attribute: &str, prefix: &str) -> usize {
        self.dump()
            .await
            .iter()
            .filter(|i| {
                i.get(attribute)
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|key| key.starts_with(prefix))
            })
            .count()
    }

    /// A tag's exact article count as stored on its statistics item (0 when it has none).
    pub async fn tag_count(&self, tag: &str) -> u64 {
        self.dump()
            .await
            .iter()
            .find(|i| {
                i.get("pk").and_then(|v| v.as_s().ok()) == Some(&format!("TAG#{tag}"))
                    && i.get("sk").and_then(|v| v.as_s().ok()).map(String::as_str) == Some("TAG")
            })
            .and_then(|i| i.get("article_count")?.as_n().ok()?.parse().ok())
            .unwrap_or(0)
    }

    /// The tags an article's tag-link items name, sorted (what `?tag=` lists read).
    pub async fn tag_links(&self, slug: &str) -> Vec<String> {
        let id = slug
            .rsplit('-')
            .next()
            .expect("slugs end with the article id");
        let mut tags: Vec<String> = self
            .dump()
            .await
            .iter()
            .filter(|i| i.get("pk").and_then(|v| v.as_s().ok()) == Some(&format!("ARTICLE#{id}")))
            .filter_map(|i| {
                i.get("sk")?
                    .as_s()
                    .ok()?
                    .strip_prefix("TAG#")
                    .map(str::to_owned)
            })
            .collect();
        tags.sort();
        tags
    }

    /// Every item of the table (tests only: a scan is how "nothing changed" is proven).
    pub async fn dump(
        &self,
    ) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let client = setup_client(&endpoint()).await;
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let page = client
                .scan()
                .table_name(self.app.store.table())
                .set_exclusive_start_key(start)
                .consistent_read(true)
                .send()
                .await
                .expect("scan");
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        items.sort_by_key(|i| format!("{:?}{:?}", i.get("pk"), i.get("sk")));
        items
    }
}

/// The `[workspace.metadata.lambda.watch.router]` table that routes
/// `cargo lambda watch` exactly as the template routes API Gateway.
pub fn router_toml(routes: &[Route]) -> String {
    let mut by_path: std::collections::BTreeMap<&str, Vec<&Route>> = Default::default();
    for route in routes {
        by_path.entry(&route.path).or_default().push(route);
    }
    let mut out = String::from("[workspace.metadata.lambda.watch.router]\n");
    for (path, routes) in by_path {
        let entries: Vec<String> = routes
            .iter()
            .map(|r| {
                format!(
                    "{{ method = \"{}\", function = \"{}\" }}",
                    r.method, r.function
                )
            })
            .collect();
        out.push_str(&format!("\"{path}\" = [{}]\n", entries.join(", ")));
    }
    out
}
