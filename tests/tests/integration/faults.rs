//! DynamoDB failing under the functions: through a fault proxy in front of
//! DynamoDB Local, every kind of use case (point read, list, single write,
//! transaction) answers a fast 503 with `Retry-After` when DynamoDB stalls,
//! refuses or resets connections, recovers when it comes back, and never
//! applies a write twice or leaves counts off when an answer is lost.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use conduit_tests::faults::{Fault, FaultProxy};
use conduit_tests::{TableSpec, TestApi};
use serde_json::{Value, json};

/// A proxy in front of DynamoDB Local.
async fn proxy() -> FaultProxy {
    conduit_tests::require_dynamodb_local();
    let upstream: SocketAddr = conduit_tests::endpoint()
        .trim_start_matches("http://")
        .parse()
        .expect("AWS_ENDPOINT_URL_DYNAMODB is http://HOST:PORT");
    FaultProxy::start(upstream).await.expect("proxy started")
}

/// A proxy in front of DynamoDB Local, and an API whose store goes through it.
pub(crate) async fn faulty_api() -> (FaultProxy, TestApi) {
    let proxy = proxy().await;
    let api = TestApi::through(&proxy.url()).await;
    (proxy, api)
}

/// One request of each kind of use case, as (method, path, body, expected status when healthy).
fn requests(slug: &str) -> Vec<(&'static str, String, Option<Value>, u16)> {
    vec![
        ("GET", "/api/user".into(), None, 200),
        ("GET", "/api/articles?limit=5".into(), None, 200),
        ("POST", "/api/profiles/author/follow".into(), None, 200),
        ("POST", format!("/api/articles/{slug}/favorite"), None, 200),
    ]
}

async fn under_fault(fault: Fault, budget: Duration) {
    let (proxy, api) = faulty_api().await;
    let author = api.register("author").await;
    let reader = api.register("reader").await;
    let slug = api
        .create_article(&author, "Under fault", &["faults"])
        .await;
    proxy.set(fault);
    for (method, path, body, _) in requests(&slug) {
        let started = Instant::now();
        let response = api.respond(method, &path, body, Some(&reader)).await;
        let took = started.elapsed();
        let retry_after = response.headers().get("retry-after").cloned();
        let (status, body) = conduit_tests::read(response);
        assert_eq!(status, 503, "{fault:?} {method} {path}: {body}");
        assert_eq!(body["errors"]["server"][0], "temporarily unavailable");
        assert_eq!(retry_after.as_ref().map(|v| v.to_str().unwrap()), Some("1"));
        assert!(took < budget, "{fault:?} {method} {path} took {took:?}");
    }
    proxy.set(Fault::Pass);
    for (method, path, body, status) in requests(&slug) {
        let (got, body) = api.call(method, &path, body, Some(&reader)).await;
        assert_eq!(
            got, status,
            "after {fault:?} cleared, {method} {path}: {body}"
        );
    }
    let article = api.get_article(&slug, Some(&reader)).await;
    assert_eq!(article["article"]["favoritesCount"], 1);
    assert_eq!(article["article"]["author"]["following"], true);
}

#[tokio::test]
async fn a_stalled_dynamodb_is_a_503_within_five_seconds_then_recovers() {
    under_fault(Fault::Stall, Duration::from_secs(5)).await;
}

#[tokio::test]
async fn a_refusing_dynamodb_is_a_503_within_two_seconds_then_recovers() {
    under_fault(Fault::Refuse, Duration::from_secs(2)).await;
}

#[tokio::test]
async fn a_resetting_dynamodb_is_a_503_within_two_seconds_then_recovers() {
    under_fault(Fault::Reset, Duration::from_secs(2)).await;
}

#[tokio::test]
async fn a_slow_but_working_dynamodb_still_answers() {
    let (proxy, api) = faulty_api().await;
    let token = api.register("patient").await;
    proxy.set(Fault::Delay(Duration::from_millis(200)));
    let (status, body) = api.call("GET", "/api/user", None, Some(&token)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["username"], "patient");
}

#[tokio::test]
async fn a_lost_answer_to_an_applied_article_create_does_not_create_it_twice() {
    let (proxy, api) = faulty_api().await;
    let token = api.register("writer").await;
    // DynamoDB applies the first transaction; its answer never arrives; the
    // SDK retries with the same ClientRequestToken, which DynamoDB recognises.
    proxy.lose_next_transaction_answers(1);
    let (status, body) = api
        .call(
            "POST",
            "/api/articles",
            Some(json!({"article": {"title": "Once", "description": "d", "body": "b", "tagList": ["once"]}})),
            Some(&token),
        )
        .await;
    assert_eq!(proxy.answers_still_to_lose(), 0, "the fault was not hit");
    assert_eq!(status, 201, "{body}");
    let mine = api
        .expect("GET", "/api/articles?author=writer", None, None, 200)
        .await;
    assert_eq!(mine["articlesCount"], 1, "{mine}");
    assert_eq!(mine["articles"].as_array().unwrap().len(), 1);
    let tagged = api
        .expect("GET", "/api/articles?tag=once", None, None, 200)
        .await;
    assert_eq!(tagged["articlesCount"], 1);
    let all = api.expect("GET", "/api/articles", None, None, 200).await;
    assert_eq!(all["articlesCount"], 1);
}

#[tokio::test]
async fn answers_lost_in_the_middle_of_favoriting_leave_the_count_equal_to_the_favorites() {
    let (proxy, api) = faulty_api().await;
    let author = api.register("author").await;
    let slug = api.create_article(&author, "Counted", &[]).await;
    let fans: Vec<String> = {
        let mut fans = Vec::new();
        for i in 0..4 {
            fans.push(api.register(&format!("fan{i}")).await);
        }
        fans
    };
    let path = format!("/api/articles/{slug}/favorite");
    // Every transaction's answer lost: each write applies (once: the SDK's
    // retries carry the same token), the client cannot know and gets a 503.
    proxy.set(Fault::LoseTransactionAnswers);
    for fan in &fans[..2] {
        let (status, body) = api.call("POST", &path, None, Some(fan)).await;
        assert_eq!(status, 503, "{body}");
    }
    // One answer lost, then the retry gets through: a 200, applied once.
    proxy.set(Fault::Pass);
    proxy.lose_next_transaction_answers(1);
    let (status, body) = api.call("POST", &path, None, Some(&fans[2])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["article"]["favoritesCount"].as_u64(),
        Some(3),
        "{body}"
    );
    // The clients of the lost answers retry: idempotent, so the count stays exact.
    for fan in &fans[..2] {
        let body = api.expect("POST", &path, None, Some(fan), 200).await;
        assert_eq!(body["article"]["favorited"], true, "{body}");
    }
    let favorites = api.count_keys("sk", "FAV#").await;
    let article = api.get_article(&slug, None).await;
    assert_eq!(favorites, 3);
    assert_eq!(article["article"]["favoritesCount"], 3);
}

#[tokio::test]
async fn a_table_whose_creation_answer_was_lost_is_still_created_once_and_active() {
    // What happens to the harness itself on a busy machine: the emulator
    // creates the table, the answer never arrives, and the SDK sends it again.
    let proxy = proxy().await;
    let name = format!("conduit-test-{}", conduit::domain::UserId::generate());
    proxy.lose_next_answers("CreateTable", 1);
    TableSpec::from_template()
        .unwrap()
        .create(&conduit_tests::setup_client(&proxy.url()).await, &name)
        .await
        .expect("the resend finds the table the first attempt made");
    assert_eq!(proxy.answers_still_to_lose(), 0, "the answer was lost");
    let table = conduit_tests::setup_client(&conduit_tests::endpoint())
        .await
        .describe_table()
        .table_name(&name)
        .send()
        .await
        .unwrap()
        .table
        .unwrap();
    assert_eq!(table.table_status().unwrap().as_str(), "ACTIVE");
    assert_eq!(table.global_secondary_indexes().len(), 3);
}
