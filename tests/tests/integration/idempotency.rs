//! `Idempotency-Key` on the POSTs: the same key and body replay the first
//! response without acting again, under real concurrency and a lost answer;
//! another body is a 422; keys belong to their caller and expire after a day.

use std::sync::Arc;

use conduit::domain::Timestamp;
use conduit::idempotency::{IdempotencyKey, Keyed};
use conduit_tests::faults::Fault;
use conduit_tests::{TestApi, concurrently};
use lambda_http::{Body, Response};
use serde_json::{Value, json};

/// A request with `key` as its `Idempotency-Key`.
async fn keyed(
    api: &TestApi,
    method: &str,
    path: &str,
    body: Option<Value>,
    token: Option<&str>,
    key: &str,
) -> Response<Body> {
    api.respond_with(method, path, body, token, &[("idempotency-key", key)])
        .await
}

fn replayed(response: &Response<Body>) -> bool {
    response
        .headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

fn bytes(response: &Response<Body>) -> Vec<u8> {
    response.body().as_ref().to_vec()
}

/// `POST /api/articles` as the holder of `token`, with `key`.
async fn create(api: &TestApi, token: &str, title: &str, key: &str) -> Response<Body> {
    keyed(
        api,
        "POST",
        "/api/articles",
        Some(new_article(title)),
        Some(token),
        key,
    )
    .await
}

fn new_article(title: &str) -> Value {
    json!({"article": {"title": title, "description": "d", "body": "b", "tagList": ["once"]}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_creates_with_one_key_make_one_article_and_all_answer_its_slug() {
    let api = Arc::new(TestApi::new().await);
    let token = Arc::new(api.register("writer").await);
    let responses = concurrently(20, |_| {
        let (api, token) = (api.clone(), token.clone());
        async move {
            let response = create(&api, &token, "Once only", "\"create-1\"").await;
            (response.status().as_u16(), bytes(&response))
        }
    })
    .await;
    let (status, first) = &responses[0];
    assert_eq!(*status, 201, "{}", String::from_utf8_lossy(first));
    for (status, body) in &responses {
        assert_eq!(
            (*status, body),
            (201, first),
            "every duplicate answers alike"
        );
    }
    let slug = serde_json::from_slice::<Value>(first).unwrap()["article"]["slug"].clone();
    let listed = api
        .expect("GET", "/api/articles?author=writer", None, None, 200)
        .await;
    assert_eq!(listed["articlesCount"], 1, "{listed}");
    assert_eq!(listed["articles"][0]["slug"], slug);
    assert_eq!(api.tag_count("once").await, 1);
    assert_eq!(api.count_keys("pk", "IDEMPOTENCY#").await, 1);
}

#[tokio::test]
async fn a_repeated_registration_replays_the_first_response_token_included() {
    let api = TestApi::new().await;
    let body = json!({"user": {"username": "jake", "email": "jake@example.com", "password": "password123"}});
    let first = keyed(
        &api,
        "POST",
        "/api/users",
        Some(body.clone()),
        None,
        "reg-1",
    )
    .await;
    assert_eq!(first.status(), 201);
    assert!(!replayed(&first));
    let again = keyed(&api, "POST", "/api/users", Some(body), None, "reg-1").await;
    assert_eq!(
        again.status(),
        201,
        "not a 409: nothing is registered twice"
    );
    assert!(replayed(&again));
    assert_eq!(
        bytes(&again),
        bytes(&first),
        "the same body, the same token"
    );
    let (_, user) = conduit_tests::read(again);
    let token = user["user"]["token"].as_str().unwrap();
    api.expect("GET", "/api/user", None, Some(token), 200).await;
    assert_eq!(api.count_keys("pk", "USER#").await, 1);
    // The table holds what to sign the token from, never the token.
    let stored = api.dump().await;
    let receipt = stored
        .iter()
        .find(|i| i["pk"].as_s().unwrap().starts_with("IDEMPOTENCY#"))
        .expect("a receipt");
    assert!(!format!("{receipt:?}").contains(token));
    assert!(!format!("{receipt:?}").contains("password123"));
}

#[tokio::test]
async fn the_same_key_with_another_body_is_a_422_and_changes_nothing() {
    let api = TestApi::new().await;
    let token = api.register("writer").await;
    let first = create(&api, &token, "One", "k").await;
    assert_eq!(first.status(), 201);
    let before = api.dump().await.len();
    let other = create(&api, &token, "Two", "k").await;
    let (status, body) = conduit_tests::read(other);
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["errors"]["Idempotency-Key"][0],
        "was already used for a different request"
    );
    // Another endpoint is another request too.
    let slug = conduit_tests::read(first).1["article"]["slug"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/articles/{slug}/favorite");
    let favorite = keyed(&api, "POST", &path, None, Some(&token), "k").await;
    assert_eq!(favorite.status(), 422);
    assert_eq!(api.dump().await.len(), before);
}

#[tokio::test]
async fn keys_belong_to_their_caller() {
    let api = TestApi::new().await;
    let ann = api.register("ann").await;
    let bob = api.register("bob").await;
    for token in [&ann, &bob] {
        let response = create(&api, token, "Same", "shared").await;
        assert_eq!(response.status(), 201);
        assert!(!replayed(&response));
    }
    let all = api.expect("GET", "/api/articles", None, None, 200).await;
    assert_eq!(all["articlesCount"], 2);
}

#[tokio::test]
async fn malformed_keys_are_a_400_and_change_nothing() {
    let api = TestApi::new().await;
    let token = api.register("writer").await;
    let before = api.dump().await.len();
    for key in [
        "",
        "\"\"",
        "\"open",
        "two words",
        "k1,k1",
        "\"k1\", \"k1\"",
        &"k".repeat(256),
    ] {
        let response = create(&api, &token, "No", key).await;
        let (status, body) = conduit_tests::read(response);
        assert_eq!(status, 400, "{key:?}: {body}");
        assert!(body["errors"]["Idempotency-Key"][0].is_string(), "{body}");
    }
    assert_eq!(api.dump().await.len(), before);
}

#[tokio::test]
async fn a_replayed_comment_keeps_its_id_and_is_written_once() {
    let api = TestApi::new().await;
    let token = api.register("writer").await;
    let slug = api.create_article(&token, "Discussed", &[]).await;
    let path = format!("/api/articles/{slug}/comments");
    let body = json!({"comment": {"body": "first!"}});
    let first = keyed(&api, "POST", &path, Some(body.clone()), Some(&token), "c-1").await;
    let again = keyed(&api, "POST", &path, Some(body), Some(&token), "c-1").await;
    assert_eq!(first.status(), 201);
    assert!(replayed(&again));
    assert_eq!(bytes(&again), bytes(&first));
    let listed = api.expect("GET", &path, None, None, 200).await;
    assert_eq!(listed["comments"].as_array().unwrap().len(), 1, "{listed}");
}

#[tokio::test]
async fn a_replayed_favorite_or_follow_answers_as_first_and_does_not_act_again() {
    let api = TestApi::new().await;
    let author = api.register("author").await;
    let fan = api.register("fan").await;
    let slug = api.create_article(&author, "Liked", &[]).await;
    let favorite = format!("/api/articles/{slug}/favorite");
    let first = keyed(&api, "POST", &favorite, None, Some(&fan), "f-1").await;
    assert_eq!(first.status(), 200);
    api.expect("DELETE", &favorite, None, Some(&fan), 200).await;
    let again = keyed(&api, "POST", &favorite, None, Some(&fan), "f-1").await;
    assert!(replayed(&again));
    assert_eq!(bytes(&again), bytes(&first));
    let article = api.get_article(&slug, Some(&fan)).await;
    assert_eq!(
        article["article"]["favorited"], false,
        "the replay did not favorite again"
    );
    assert_eq!(article["article"]["favoritesCount"], 0);

    let follow = "/api/profiles/author/follow";
    let first = keyed(&api, "POST", follow, None, Some(&fan), "p-1").await;
    api.expect("DELETE", follow, None, Some(&fan), 200).await;
    let again = keyed(&api, "POST", follow, None, Some(&fan), "p-1").await;
    assert!(replayed(&again));
    assert_eq!(bytes(&again), bytes(&first));
    let profile = api
        .expect("GET", "/api/profiles/author", None, Some(&fan), 200)
        .await;
    assert_eq!(profile["profile"]["following"], false);
}

#[tokio::test]
async fn a_receipt_older_than_a_day_answers_for_nothing() {
    let api = TestApi::new().await;
    let (user, token) = api.quick_user("writer").await;
    let key = IdempotencyKey::parse(b"old").unwrap();
    // What a request made with this key two days ago left behind (TTL deletes late).
    let long_ago = Timestamp::now().before(2 * conduit::idempotency::LIFETIME);
    let stale = Keyed::new(Some(&user.user_id), &key, "stale".into(), long_ago);
    let response = conduit::http::json(
        lambda_http::http::StatusCode::CREATED,
        &json!({"stale": true}),
    );
    assert!(stale.claim(&api.app, long_ago).await.unwrap());
    assert!(
        api.app
            .store
            .record_receipt(&stale.receipt(&response))
            .await
            .unwrap()
    );
    let fresh = create(&api, &token, "Anew", "old").await;
    assert!(!replayed(&fresh));
    let (status, body) = conduit_tests::read(fresh);
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["article"]["title"], "Anew");
    // Its receipt replaced the stale one.
    let again = create(&api, &token, "Anew", "old").await;
    assert!(replayed(&again));
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_replayed_not_repeated_on_retry() {
    let (proxy, api) = crate::faults::faulty_api().await;
    let token = api.register("writer").await;
    // DynamoDB commits the article and its receipt; every answer is lost,
    // so the client sees a 503 and retries with its key.
    proxy.set(Fault::LoseTransactionAnswers);
    let lost = create(&api, &token, "Lost", "retry-me").await;
    assert_eq!(lost.status(), 503);
    proxy.set(Fault::Pass);
    let retried = create(&api, &token, "Lost", "retry-me").await;
    assert!(replayed(&retried));
    let (status, body) = conduit_tests::read(retried);
    assert_eq!(status, 201, "{body}");
    let mine = api
        .expect("GET", "/api/articles?author=writer", None, None, 200)
        .await;
    assert_eq!(mine["articlesCount"], 1, "{mine}");
    assert_eq!(mine["articles"][0]["slug"], body["article"]["slug"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_registrations_with_one_key_register_once_and_answer_alike() {
    let api = Arc::new(TestApi::new().await);
    let responses = concurrently(20, |_| {
        let api = api.clone();
        async move {
            let body = json!({"user": {"username": "twin", "email": "twin@example.com", "password": "password123"}});
            let response = keyed(&api, "POST", "/api/users", Some(body), None, "reg-twin").await;
            (response.status().as_u16(), bytes(&response))
        }
    })
    .await;
    // A registration hashes a password (argon2id): one slower than the
    // duplicates' wait leaves them a 409 to retry, never a second user.
    let first = &responses
        .iter()
        .find(|(status, _)| *status == 201)
        .expect("one registration answers 201")
        .1;
    for (status, body) in &responses {
        let text = String::from_utf8_lossy(body);
        match status {
            201 => assert_eq!(body, first, "every 201 is the same response"),
            409 => assert!(text.contains("still in progress"), "{text}"),
            _ => panic!("{status}: {text}"),
        }
    }
    assert_eq!(api.count_keys("pk", "USER#").await, 1);
    assert_eq!(api.count_keys("pk", "IDEMPOTENCY#").await, 1);
}

/// A claim on `key` for `POST /api/articles` with `title`, as the request
/// holding it would have left at `at`: it is running (or crashed) there.
async fn held(
    api: &TestApi,
    user: &conduit::domain::UserId,
    key: &str,
    title: &str,
    at: Timestamp,
) {
    let body = new_article(title).to_string();
    let fingerprint = api
        .app
        .fingerprints
        .of("POST", "/api/articles", body.as_bytes());
    let key = IdempotencyKey::parse(key.as_bytes()).unwrap();
    let holder = Keyed::new(Some(user), &key, fingerprint, at);
    assert!(
        holder.claim(&api.app, at).await.unwrap(),
        "the key was free"
    );
}

#[tokio::test]
async fn a_duplicate_of_a_request_still_running_waits_then_gets_a_409_and_another_body_a_422() {
    let api = TestApi::new().await;
    let (user, token) = api.quick_user("writer").await;
    held(&api, &user.user_id, "busy", "Held", Timestamp::now()).await;
    let started = std::time::Instant::now();
    let duplicate = create(&api, &token, "Held", "busy").await;
    let waited = started.elapsed();
    assert_eq!(
        duplicate
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap()),
        Some("1")
    );
    let (status, body) = conduit_tests::read(duplicate);
    assert_eq!(status, 409, "{body}");
    assert_eq!(
        body["errors"]["Idempotency-Key"][0],
        "is in use by a request still in progress"
    );
    assert!(
        waited >= std::time::Duration::from_secs(1),
        "it waited for the first answer: {waited:?}"
    );
    let started = std::time::Instant::now();
    let other = create(&api, &token, "Not held", "busy").await;
    assert_eq!(
        other.status(),
        422,
        "another body is refused without waiting"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    let mine = api
        .expect("GET", "/api/articles?author=writer", None, None, 200)
        .await;
    assert_eq!(mine["articlesCount"], 0, "neither acted");
}

#[tokio::test]
async fn the_claim_of_a_request_that_crashed_lapses_and_a_retry_then_acts() {
    let api = TestApi::new().await;
    let (user, token) = api.quick_user("writer").await;
    // Its holder timed out long enough ago (a claim outlives any invocation).
    let crashed = Timestamp::now().before(std::time::Duration::from_secs(
        conduit::idempotency::CLAIM_SECONDS as u64,
    ));
    held(&api, &user.user_id, "crashed", "Again", crashed).await;
    let retried = create(&api, &token, "Again", "crashed").await;
    assert!(!replayed(&retried));
    let (status, body) = conduit_tests::read(retried);
    assert_eq!(status, 201, "{body}");
    let again = create(&api, &token, "Again", "crashed").await;
    assert!(replayed(&again), "its receipt replaced the lapsed claim");
}

#[tokio::test]
async fn an_error_answer_gives_the_key_up_at_once() {
    let api = TestApi::new().await;
    let token = api.register("writer").await;
    // Refused by the use case, after the key was claimed.
    let follow = "/api/profiles/writer/follow";
    let refused = keyed(&api, "POST", follow, None, Some(&token), "e-1").await;
    assert_eq!(refused.status(), 422);
    assert_eq!(
        api.count_keys("pk", "IDEMPOTENCY#").await,
        0,
        "no claim left behind"
    );
    let started = std::time::Instant::now();
    let again = keyed(&api, "POST", follow, None, Some(&token), "e-1").await;
    let (status, body) = conduit_tests::read(again);
    assert_eq!(status, 422, "the retry ran again, no 409: {body}");
    assert_eq!(body["errors"]["profile"][0], "can't follow yourself");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "without waiting"
    );
}

#[tokio::test]
async fn a_favorite_whose_answer_was_lost_is_not_applied_again_after_an_unfavorite() {
    let (proxy, api) = crate::faults::faulty_api().await;
    let author = api.register("author").await;
    let fan = api.register("fan").await;
    let slug = api.create_article(&author, "Liked", &[]).await;
    let favorite = format!("/api/articles/{slug}/favorite");
    // The favorite and its receipt commit together; the answer is lost.
    proxy.set(Fault::LoseTransactionAnswers);
    let lost = keyed(&api, "POST", &favorite, None, Some(&fan), "f-lost").await;
    assert_eq!(lost.status(), 503);
    proxy.set(Fault::Pass);
    // The fan changes their mind before the client's retry arrives.
    api.expect("DELETE", &favorite, None, Some(&fan), 200).await;
    let retried = keyed(&api, "POST", &favorite, None, Some(&fan), "f-lost").await;
    assert!(replayed(&retried));
    let (status, body) = conduit_tests::read(retried);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["article"]["favorited"], true, "the first response");
    assert_eq!(body["article"]["favoritesCount"], 1);
    let now = api.get_article(&slug, Some(&fan)).await;
    assert_eq!(now["article"]["favorited"], false, "the unfavorite stands");
    assert_eq!(now["article"]["favoritesCount"], 0);
}

#[tokio::test]
async fn a_claim_whose_answer_was_lost_is_still_the_requests_own() {
    let (proxy, api) = crate::faults::faulty_api().await;
    let token = api.register("writer").await;
    // DynamoDB takes the claim; the answer is lost and the SDK sends it again,
    // which finds the key claimed: by this very request.
    proxy.lose_next_answers("PutItem", 1);
    let started = std::time::Instant::now();
    let created = create(&api, &token, "Claimed once", "lost-claim").await;
    assert_eq!(
        proxy.answers_still_to_lose(),
        0,
        "the claim's answer was lost"
    );
    let (status, body) = conduit_tests::read(created);
    assert_eq!(status, 201, "not a 409 against itself: {body}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "without waiting"
    );
}
