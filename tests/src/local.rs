//! DynamoDB Local: where it is, whether it is there, SDK clients for it, and
//! apps on tables of their own.

use std::sync::OnceLock;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use conduit::App;
use conduit::auth::{Audience, KeyRing, PublicKeys, TokenVerifier};
use conduit::store::Store;

use crate::TableSpec;

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
    // The functions' own SDK configuration (time budgets, retries), pointed at
    // DynamoDB Local, and what each request asks of IAM recorded.
    let client = client_with(conduit::config::sdk_loader(), url).await;
    let mut config = client.config().to_builder();
    config.push_interceptor(crate::iam::interceptor());
    Client::from_conf(config.build())
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

/// Whom local tokens are from and for (`JWT_ISSUER`, `JWT_AUDIENCE` of the
/// local stack; AWS names the stack).
pub fn local_parties() -> Audience {
    Audience {
        issuer: "urn:conduit:local:auth".into(),
        audience: "urn:conduit:local:api".into(),
    }
}

/// The key ring of this test process: drawn once, like the pair the local
/// stack draws into `.tools/key-ring.json` (AWS keeps its own in Secrets
/// Manager).
pub fn test_ring() -> &'static KeyRing {
    static RING: std::sync::LazyLock<KeyRing> =
        std::sync::LazyLock::new(|| KeyRing::generate("1").expect("an Ed25519 key ring"));
    &RING
}

/// An app on `store` that signs with `ring` and verifies with its public keys.
pub fn app_with_ring(store: Store, ring: &KeyRing) -> App {
    let keys = PublicKeys::parse(&ring.public_keys()).expect("a ring's own keys parse");
    App::signing(
        store,
        TokenVerifier::new(keys, &local_parties()),
        ring,
        local_parties(),
        Duration::from_secs(3600),
    )
}

/// An app on `table` of DynamoDB Local, signing tokens with `ring`.
pub async fn local_app(table: &str, ring: &KeyRing) -> App {
    app_with_ring(Store::new(local_client().await, table), ring)
}

/// An app on its own fresh table, so tests run in parallel without sharing data.
pub async fn test_app() -> App {
    let name = fresh_table().await;
    local_app(&name, test_ring()).await
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
