//! The test API: the handlers driven through API Gateway events on a table
//! of their own, with helpers for setup steps and for inspecting the table.

use conduit::App;
use conduit::invocation::Invocation;
use conduit::store::Store;
use lambda_http::{Body, Response};
use serde_json::{Value, json};

use crate::{
    LAMBDA_TIMEOUT, Route, app_with_ring, client_at, dispatch, endpoint, event, fresh_table,
    random_request_id, read, request_from_event, route_for, routes, setup_client, test_app,
    test_ring,
};

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

/// The client every call comes from unless a test says otherwise.
pub const LOCAL_CLIENT: &str = "127.0.0.1";

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
        self.respond_from(LOCAL_CLIENT, method, path, body, token, headers)
            .await
    }

    /// [`TestApi::respond_with`] from the client at `source_ip` (API
    /// Gateway's `sourceIp`: the client the functions see without an edge).
    pub async fn respond_from(
        &self,
        source_ip: &str,
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
        event["requestContext"]["http"]["sourceIp"] = Value::from(source_ip);
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
            app: app_with_ring(Store::new(client_at(url).await, table), test_ring()),
            routes: routes().expect("template routes"),
        }
    }

    /// The same table as `self`, served by functions that sign and verify
    /// with `ring` (another deploy of the stack, after a key rotation).
    pub fn redeployed(&self, ring: &conduit::auth::KeyRing) -> Self {
        Self {
            app: app_with_ring(self.app.store.clone(), ring),
            routes: self.routes.clone(),
        }
    }

    /// The same table as `self`, served as the functions that only verify
    /// tokens are in AWS: public keys, no signer, unkeyed fingerprints.
    pub fn verifier_only(&self) -> Self {
        let keys = conduit::auth::PublicKeys::parse(&test_ring().public_keys())
            .expect("a ring's own keys parse");
        Self {
            app: App {
                store: self.app.store.clone(),
                tokens: conduit::auth::TokenVerifier::new(keys, &crate::local_parties()),
                signer: None,
                fingerprints: conduit::auth::Fingerprints::Plain,
                auth_limits: Default::default(),
            },
            routes: self.routes.clone(),
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
    pub async fn quick_user(&self, name: &str) -> (conduit::domain::User, String) {
        use conduit::domain::{Email, UserId, Username};
        let user = conduit::domain::User::new(
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
        let token = self.token_of(&user);
        (user, token)
    }

    /// A token of a new session of `user`'s, as a login would give.
    pub fn token_of(&self, user: &conduit::domain::User) -> String {
        let session = conduit::domain::Session {
            id: conduit::domain::SessionId::generate(),
            epoch: user.session_epoch,
        };
        let signer = self.app.signer().expect("the test app signs");
        signer.issue(&user.user_id, &session)
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
