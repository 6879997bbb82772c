//! Login limits against DynamoDB Local: the lock per email and client, the
//! budget per email from every client together, and the per-client budget
//! of sign-in and sign-up, each client a `sourceIp` of its own.

use conduit_tests::TestApi;
use serde_json::{Value, json};

async fn login(api: &TestApi, email: &str, password: &str) -> (u16, Option<u64>, Value) {
    login_from(api, conduit_tests::LOCAL_CLIENT, email, password).await
}

/// A login from the client at `client`: status, `Retry-After` and body.
async fn login_from(
    api: &TestApi,
    client: &str,
    email: &str,
    password: &str,
) -> (u16, Option<u64>, Value) {
    let response = api
        .respond_from(
            client,
            "POST",
            "/api/users/login",
            Some(json!({"user": {"email": email, "password": password}})),
            None,
            &[],
        )
        .await;
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse().unwrap());
    let (status, body) = conduit_tests::read(response);
    (status, retry_after, body)
}

#[tokio::test]
async fn five_failed_logins_lock_the_email_with_a_growing_back_off() {
    let api = TestApi::new().await;
    api.register("jake").await;
    for _ in 0..5 {
        let (status, _, body) = login(&api, "jake@example.com", "wrong-password").await;
        assert_eq!(status, 401, "{body}");
    }
    // Locked: even the right password is not checked.
    let (status, retry_after, body) = login(&api, "jake@example.com", "password123").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(retry_after, Some(1));
    assert_eq!(
        body["errors"]["credentials"][0],
        "too many failed attempts from this client, try again later"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    // The lock ran out; another failure locks for twice as long.
    assert_eq!(login(&api, "jake@example.com", "wrong-again").await.0, 401);
    let (status, retry_after, _) = login(&api, "jake@example.com", "password123").await;
    assert_eq!(status, 429);
    assert!(
        retry_after.unwrap() >= 1 && retry_after.unwrap() <= 2,
        "{retry_after:?}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(3_100)).await;
    assert_eq!(login(&api, "jake@example.com", "password123").await.0, 200);
}

#[tokio::test]
async fn a_successful_login_clears_the_failures() {
    clear_of_a_window_end(3600, 30).await;
    let api = TestApi::new().await;
    api.register("jake").await;
    for _ in 0..4 {
        assert_eq!(
            login(&api, "jake@example.com", "wrong-password").await.0,
            401
        );
    }
    assert_eq!(login(&api, "JAKE@example.com", "password123").await.0, 200);
    // This client's record is gone; the hour's budget got its attempt back.
    assert_eq!(api.count_keys("sk", "FROM#").await, 0);
    assert_eq!(login_budget_counts(&api).await, [4]);
    for _ in 0..4 {
        assert_eq!(
            login(&api, "jake@example.com", "wrong-password").await.0,
            401
        );
    }
    assert_eq!(login(&api, "jake@example.com", "password123").await.0, 200);
}

#[tokio::test]
async fn an_unknown_email_is_locked_the_same_way_at_the_same_cost() {
    let api = TestApi::new().await;
    api.register("jake").await;
    let mut costs = Vec::new();
    for email in ["jake@example.com", "nobody@example.com"] {
        let before = api.app.store.usage().requests;
        for _ in 0..5 {
            let (status, retry_after, body) = login(&api, email, "wrong-password").await;
            assert_eq!((status, retry_after), (401, None), "{email}: {body}");
            assert_eq!(body["errors"]["credentials"][0], "invalid");
        }
        costs.push(api.app.store.usage().requests - before);
        let (status, retry_after, _) = login(&api, email, "password123").await;
        assert_eq!((status, retry_after), (429, Some(1)), "{email}");
    }
    // The same DynamoDB requests (and one hash check each), known email or not.
    assert_eq!(costs[0], costs[1], "{costs:?}");
    // The records expire through the table's TTL attribute.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for item in api.dump().await.iter().filter(|i| {
        i.get("pk")
            .and_then(|v| v.as_s().ok())
            .is_some_and(|pk| pk.starts_with("LOGIN#"))
    }) {
        let expires: u64 = item["expires_at"].as_n().unwrap().parse().unwrap();
        assert!(
            expires > now && expires <= now + 2 * 60 * 60 + 5,
            "{item:?}"
        );
    }
}

/// Waits, if need be, until the current window of `period` seconds (counted
/// from the Unix epoch, as the limits count them) has `margin` seconds
/// left, so a test of one window's count never straddles two.
async fn clear_of_a_window_end(period: u64, margin: u64) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let left = period - now % period;
    if left < margin {
        tokio::time::sleep(std::time::Duration::from_secs(left + 1)).await;
    }
}

/// The counts of the email budgets' windows in the table.
async fn login_budget_counts(api: &TestApi) -> Vec<u64> {
    api.dump()
        .await
        .iter()
        .filter(|i| {
            i.get("sk")
                .and_then(|v| v.as_s().ok())
                .is_some_and(|sk| sk.starts_with("WINDOW#"))
        })
        .map(|i| i["count"].as_n().unwrap().parse().unwrap())
        .collect()
}

/// The lock is the guessing client's alone: the owner, elsewhere, logs in.
#[tokio::test]
async fn one_client_guessing_wrong_does_not_lock_the_owner_out_from_another() {
    let api = TestApi::new().await;
    api.register("jake").await;
    let (attacker, owner) = ("198.51.100.7", "203.0.113.20");
    for _ in 0..5 {
        let (status, _, body) = login_from(&api, attacker, "jake@example.com", "guess").await;
        assert_eq!(status, 401, "{body}");
    }
    let (status, retry_after, _) =
        login_from(&api, attacker, "jake@example.com", "password123").await;
    assert_eq!(
        (status, retry_after),
        (429, Some(1)),
        "the attacker is locked"
    );
    let (status, _, body) = login_from(&api, owner, "jake@example.com", "password123").await;
    assert_eq!(status, 200, "the owner is not: {body}");
    // The owner's success cleared only the owner's own record.
    let (status, _, _) = login_from(&api, attacker, "jake@example.com", "password123").await;
    assert_eq!(status, 429, "the attacker still is");
}

/// Failed guesses against one account, from all clients together, stop at
/// the hourly budget: known email or not, the same answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_failures_of_every_client_together_are_bounded_per_hour() {
    clear_of_a_window_end(3600, 60).await;
    let api = std::sync::Arc::new(TestApi::new().await);
    api.register("jake").await;
    for email in ["jake@example.com", "nobody@example.com"] {
        // Ten clients, five guesses each (below each one's own lock): fifty.
        let guesses = (0..10).map(|client| {
            let api = api.clone();
            tokio::spawn(async move {
                let address = format!("198.51.100.{}", client + 1);
                let mut statuses = Vec::new();
                for _ in 0..5 {
                    statuses.push(login_from(&api, &address, email, "guess").await.0);
                }
                statuses
            })
        });
        let statuses: Vec<u16> = futures::future::join_all(guesses)
            .await
            .into_iter()
            .flat_map(|r| r.expect("task"))
            .collect();
        assert!(statuses.iter().all(|s| *s == 401), "{email}: {statuses:?}");
        // The budget is spent: an eleventh client is refused unchecked.
        let (status, retry_after, body) =
            login_from(&api, "192.0.2.99", email, "password123").await;
        assert_eq!(status, 429, "{email}: {body}");
        assert_eq!(
            body["errors"]["credentials"][0],
            "too many failed attempts for this account, try again later"
        );
        assert!(
            retry_after.is_some_and(|s| (1..=3600).contains(&s)),
            "{retry_after:?}"
        );
        // Refused unchecked, the refusals leave that client's own lock as it
        // was: once the hour turns, it has all its attempts.
        for _ in 0..6 {
            assert_eq!(login_from(&api, "192.0.2.98", email, "guess").await.0, 429);
        }
        assert_eq!(pair_failures(&api, email, "192.0.2.98").await, [0]);
    }
}

/// The failures counted on the (`email`, `client`) record in the table.
async fn pair_failures(api: &TestApi, email: &str, client: &str) -> Vec<u64> {
    let (pk, sk) = (format!("LOGIN#{email}"), format!("FROM#{client}"));
    let text = |item: &std::collections::HashMap<String, _>, key: &str| {
        item.get(key)
            .and_then(|v: &aws_sdk_dynamodb::types::AttributeValue| v.as_s().ok())
            .cloned()
    };
    api.dump()
        .await
        .iter()
        .filter(|i| text(i, "pk") == Some(pk.clone()) && text(i, "sk") == Some(sk.clone()))
        .map(|i| i["failures"].as_n().unwrap().parse().unwrap())
        .collect()
}

/// Where the owner has logged in before, others spending the account's
/// budget do not lock them out; a client new to the account is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_owner_logs_in_where_they_have_before_while_others_spend_the_budget() {
    clear_of_a_window_end(3600, 60).await;
    let api = std::sync::Arc::new(TestApi::new().await);
    api.register("jake").await;
    let home = "203.0.113.77";
    assert_eq!(
        login_from(&api, home, "jake@example.com", "password123")
            .await
            .0,
        200
    );
    let guesses = (0..10).map(|client| {
        let api = api.clone();
        tokio::spawn(async move {
            let address = format!("198.51.100.{}", client + 1);
            for _ in 0..5 {
                login_from(&api, &address, "jake@example.com", "guess").await;
            }
        })
    });
    for guessing in futures::future::join_all(guesses).await {
        guessing.expect("a guessing client");
    }
    let (status, _, _) = login_from(&api, "192.0.2.50", "jake@example.com", "password123").await;
    assert_eq!(
        status, 429,
        "a client new to the account is held by the spent budget"
    );
    let (status, _, body) = login_from(&api, home, "jake@example.com", "password123").await;
    assert_eq!(
        status, 200,
        "the owner, where they logged in before: {body}"
    );
    // A known client's own failures are still held by its own lock.
    for _ in 0..5 {
        assert_eq!(
            login_from(&api, home, "jake@example.com", "guess").await.0,
            401
        );
    }
    assert_eq!(
        login_from(&api, home, "jake@example.com", "password123")
            .await
            .0,
        429
    );
}

/// Sign-in and sign-up share each client's budget; another client keeps its own.
#[tokio::test]
async fn a_client_over_its_sign_in_budget_gets_a_429_and_others_do_not() {
    clear_of_a_window_end(300, 30).await;
    let mut api = TestApi::new().await;
    api.app.auth_limits.client_requests = 3;
    let (busy, other) = ("198.51.100.50", "198.51.100.51");
    let register = |n: u32| json!({"user": {"username": format!("u{n}"), "email": format!("u{n}@example.com"), "password": "password123"}});
    for n in 0..2 {
        let response = api
            .respond_from(busy, "POST", "/api/users", Some(register(n)), None, &[])
            .await;
        assert_eq!(response.status(), 201);
    }
    assert_eq!(
        login_from(&api, busy, "u0@example.com", "password123")
            .await
            .0,
        200
    );
    let refused = api
        .respond_from(busy, "POST", "/api/users", Some(register(9)), None, &[])
        .await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let (status, body) = conduit_tests::read(refused);
    assert_eq!(status, 429);
    assert!(body["errors"]["client"][0].is_string(), "{body}");
    let (status, _, _) = login_from(&api, busy, "u0@example.com", "password123").await;
    assert_eq!(status, 429, "a login shares the budget");
    // Nothing was written for the refused registration.
    assert_eq!(api.count_keys("pk", "USERNAME#u9").await, 0);
    assert_eq!(
        login_from(&api, other, "u1@example.com", "password123")
            .await
            .0,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_concurrent_guesses_gets_no_more_attempts_than_the_threshold() {
    let api = std::sync::Arc::new(TestApi::new().await);
    api.register("jake").await;
    for _ in 0..4 {
        assert_eq!(
            login(&api, "jake@example.com", "wrong-password").await.0,
            401
        );
    }
    // One attempt is left before the lock; twenty arrive at once.
    let guesses = (0..20).map(|i| {
        let api = api.clone();
        tokio::spawn(async move { login(&api, "jake@example.com", &format!("guess-{i:04}")).await })
    });
    let statuses: Vec<u16> = futures::future::join_all(guesses)
        .await
        .into_iter()
        .map(|r| r.expect("task").0)
        .collect();
    let checked = statuses.iter().filter(|s| **s == 401).count();
    assert_eq!(checked, 1, "{statuses:?}");
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        19,
        "{statuses:?}"
    );
}
