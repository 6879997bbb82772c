//! Sessions that end (a password change, signing out everywhere) and keys
//! that rotate without ending any, through API Gateway events on DynamoDB Local.

use conduit_tests::{TestApi, test_ring};
use serde_json::{Value, json};

fn login(name: &str, password: &str) -> Value {
    json!({"user": {"email": format!("{name}@example.com"), "password": password}})
}

async fn log_in(api: &TestApi, name: &str, password: &str) -> String {
    let body = api
        .expect(
            "POST",
            "/api/users/login",
            Some(login(name, password)),
            None,
            200,
        )
        .await;
    body["user"]["token"].as_str().unwrap().to_owned()
}

/// Changes the password as the holder of `token`, which must succeed: the
/// token of the answer.
async fn change_password(api: &TestApi, token: &str, password: &str) -> String {
    let body = api
        .expect(
            "PUT",
            "/api/user",
            Some(json!({"user": {"password": password}})),
            Some(token),
            200,
        )
        .await;
    body["user"]["token"].as_str().unwrap().to_owned()
}

/// Every write and private read the holder of `token` might try: their statuses.
async fn statuses(api: &TestApi, token: &str, slug: &str) -> Vec<(&'static str, u16)> {
    let article = json!({"article": {"title": "T", "description": "d", "body": "b"}});
    let comment = json!({"comment": {"body": "c"}});
    let bio = json!({"user": {"bio": "new"}});
    let favorite = format!("/api/articles/{slug}/favorite");
    let comments = format!("/api/articles/{slug}/comments");
    let mut seen = Vec::new();
    for (what, method, path, body) in [
        ("GET /user", "GET", "/api/user", None),
        ("PUT /user", "PUT", "/api/user", Some(bio)),
        ("feed", "GET", "/api/articles/feed", None),
        ("create article", "POST", "/api/articles", Some(article)),
        ("comment", "POST", comments.as_str(), Some(comment)),
        ("favorite", "POST", favorite.as_str(), None),
        ("unfavorite", "DELETE", favorite.as_str(), None),
        ("follow", "POST", "/api/profiles/author/follow", None),
        ("unfollow", "DELETE", "/api/profiles/author/follow", None),
    ] {
        let (status, _) = api.call(method, path, body, Some(token)).await;
        seen.push((what, status));
    }
    seen
}

fn all(seen: &[(&'static str, u16)], status: u16) -> bool {
    seen.iter().all(|(_, s)| *s == status)
}

#[tokio::test]
async fn a_password_change_ends_the_other_sessions_and_answers_with_a_working_token() {
    let api = TestApi::new().await;
    let author = api.register("author").await;
    let slug = api.create_article(&author, "Read me", &[]).await;
    let mine = api.register("jake").await;
    let other = log_in(&api, "jake", "password123").await;

    let fresh = change_password(&api, &mine, "a new password").await;
    assert_ne!(fresh, mine);

    let seen = statuses(&api, &other, &slug).await;
    assert!(all(&seen, 401), "{seen:?}");
    let (_, body) = api.call("GET", "/api/user", None, Some(&other)).await;
    assert_eq!(
        body["errors"]["token"][0],
        "belongs to a session that has ended"
    );
    // A public read answers as it would anyway.
    api.expect(
        "GET",
        &format!("/api/articles/{slug}"),
        None,
        Some(&other),
        200,
    )
    .await;
    // The session the change was made in goes on, under either token (the
    // official suite changes the password twice with one token).
    for token in [&fresh, &mine] {
        let seen = statuses(&api, token, &slug).await;
        assert!(seen.iter().all(|(_, s)| (200..300).contains(s)), "{seen:?}");
    }
    change_password(&api, &mine, "another password").await;
    // The old passwords are gone, the newest one logs in.
    for old in ["password123", "a new password"] {
        let (status, _) = api
            .call("POST", "/api/users/login", Some(login("jake", old)), None)
            .await;
        assert_eq!(status, 401, "{old}");
    }
    let later = log_in(&api, "jake", "another password").await;
    // A change made in a later session ends the earlier kept one.
    change_password(&api, &later, "a fourth password").await;
    for ended in [&mine, &fresh] {
        let (status, _) = api.call("GET", "/api/user", None, Some(ended)).await;
        assert_eq!(status, 401);
    }
    api.expect("GET", "/api/user", None, Some(&later), 200)
        .await;
}

#[tokio::test]
async fn changing_only_the_bio_keeps_every_session() {
    let api = TestApi::new().await;
    let first = api.register("jake").await;
    let second = log_in(&api, "jake", "password123").await;
    let body = api
        .expect(
            "PUT",
            "/api/user",
            Some(json!({"user": {"bio": "hi"}})),
            Some(&first),
            200,
        )
        .await;
    assert_eq!(body["user"]["token"], first.as_str());
    api.expect("GET", "/api/user", None, Some(&second), 200)
        .await;
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session_the_callers_included() {
    let api = TestApi::new().await;
    let author = api.register("author").await;
    let slug = api.create_article(&author, "Read me", &[]).await;
    let first = api.register("jake").await;
    let second = log_in(&api, "jake", "password123").await;
    assert!(all(&statuses(&api, &second, &slug).await[..1], 200));

    let response = api
        .respond("DELETE", "/api/user/sessions", None, Some(&second))
        .await;
    assert_eq!(response.status(), 204);
    for ended in [&first, &second] {
        let seen = statuses(&api, ended, &slug).await;
        assert!(all(&seen, 401), "{seen:?}");
    }
    let (status, _) = api
        .call("DELETE", "/api/user/sessions", None, Some(&second))
        .await;
    assert_eq!(status, 401, "an ended session cannot end sessions");
    // Logging in again starts a session that works.
    let third = log_in(&api, "jake", "password123").await;
    api.expect("GET", "/api/user", None, Some(&third), 200)
        .await;
    // The author's sessions were never touched.
    api.expect("GET", "/api/user", None, Some(&author), 200)
        .await;
}

#[tokio::test]
async fn a_key_rotation_across_a_deploy_logs_nobody_out_and_retires_the_key_after_next() {
    let before = TestApi::new().await;
    let old_token = before.register("jake").await;
    let rotated = test_ring().clone().rotated("2").unwrap();
    let after = before.redeployed(&rotated);
    // New environments accept the old key; old ones, still running, accept
    // the new one (it was published as next before it signed anything).
    after
        .expect("GET", "/api/user", None, Some(&old_token), 200)
        .await;
    let new_token = log_in(&after, "jake", "password123").await;
    assert_ne!(
        new_token.split('.').next(),
        old_token.split('.').next(),
        "another kid"
    );
    before
        .expect("GET", "/api/user", None, Some(&new_token), 200)
        .await;
    // A keyed registration retried across the rotation replays its answer:
    // the fingerprint key never rotates, and the token is signed again,
    // under the new key, which both deploys accept.
    let ada =
        json!({"user": {"username": "ada", "email": "ada@example.com", "password": "password123"}});
    let key = [("idempotency-key", "rotation-spanning-retry")];
    let first = before
        .respond_with("POST", "/api/users", Some(ada.clone()), None, &key)
        .await;
    assert_eq!(first.status(), 201);
    let retry = after
        .respond_with("POST", "/api/users", Some(ada), None, &key)
        .await;
    assert_eq!(retry.status(), 201);
    assert_eq!(retry.headers()["idempotent-replayed"], "true");
    let (_, body) = conduit_tests::read(retry);
    let replayed = body["user"]["token"].as_str().unwrap();
    for api in [&before, &after] {
        api.expect("GET", "/api/user", None, Some(replayed), 200)
            .await;
    }
    // A second rotation retires the first signing key.
    let later = after.redeployed(&rotated.rotated("3").unwrap());
    let (status, _) = later.call("GET", "/api/user", None, Some(&old_token)).await;
    assert_eq!(status, 401);
    later
        .expect("GET", "/api/user", None, Some(&new_token), 200)
        .await;
}

#[tokio::test]
async fn an_ended_sessions_token_cannot_edit_or_delete_its_own_article_or_comment() {
    let api = TestApi::new().await;
    let token = api.register("jake").await;
    let slug = api.create_article(&token, "Mine", &[]).await;
    let comments = format!("/api/articles/{slug}/comments");
    let comment = api
        .expect(
            "POST",
            &comments,
            Some(json!({"comment": {"body": "c"}})),
            Some(&token),
            201,
        )
        .await;
    let id = comment["comment"]["id"].as_u64().unwrap();
    let response = api
        .respond("DELETE", "/api/user/sessions", None, Some(&token))
        .await;
    assert_eq!(response.status(), 204);
    let article = format!("/api/articles/{slug}");
    let edit = json!({"article": {"body": "changed"}});
    for (method, path, body) in [
        ("PUT", article.clone(), Some(edit)),
        ("DELETE", format!("{comments}/{id}"), None),
        ("DELETE", article.clone(), None),
    ] {
        let (status, body) = api.call(method, &path, body, Some(&token)).await;
        assert_eq!(status, 401, "{method} {path}: {body}");
    }
    let kept = api.get_article(&slug, None).await;
    assert_eq!(kept["article"]["body"], "the body");
    let listed = api.expect("GET", &comments, None, None, 200).await;
    assert_eq!(listed["comments"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_keyed_write_resent_with_an_ended_sessions_token_gets_a_401_not_its_first_answer() {
    let api = TestApi::new().await;
    let token = api.register("jake").await;
    let article = json!({"article": {"title": "Once", "description": "d", "body": "b"}});
    let key = [("idempotency-key", "sent-before-the-end")];
    let send = || {
        api.respond_with(
            "POST",
            "/api/articles",
            Some(article.clone()),
            Some(&token),
            &key,
        )
    };
    assert_eq!(send().await.status(), 201);
    assert_eq!(send().await.headers()["idempotent-replayed"], "true");
    let response = api
        .respond("DELETE", "/api/user/sessions", None, Some(&token))
        .await;
    assert_eq!(response.status(), 204);
    let (status, body) = conduit_tests::read(send().await);
    assert_eq!(status, 401, "{body}");
}

#[tokio::test]
async fn a_keyed_registration_resent_after_a_password_change_gets_a_409_not_a_token() {
    let api = TestApi::new().await;
    let jake = json!({"user": {"username": "jake", "email": "jake@example.com", "password": "password123"}});
    let key = [("idempotency-key", "one-registration")];
    let first = api
        .respond_with("POST", "/api/users", Some(jake.clone()), None, &key)
        .await;
    let (status, body) = conduit_tests::read(first);
    assert_eq!(status, 201);
    let token = body["user"]["token"].as_str().unwrap().to_owned();
    change_password(&api, &token, "a new password").await;
    let resent = api
        .respond_with("POST", "/api/users", Some(jake), None, &key)
        .await;
    let (status, body) = conduit_tests::read(resent);
    assert_eq!(status, 409, "{body}");
    assert!(body["errors"]["Idempotency-Key"].is_array(), "{body}");
}

#[tokio::test]
async fn functions_that_only_verify_serve_private_requests_without_a_signer() {
    let signers = TestApi::new().await;
    let token = signers.register("jake").await;
    signers.register("author").await;
    let api = signers.verifier_only();
    api.expect("GET", "/api/user", None, Some(&token), 200)
        .await;
    api.expect("GET", "/api/articles/feed", None, Some(&token), 200)
        .await;
    api.expect(
        "POST",
        "/api/profiles/author/follow",
        None,
        Some(&token),
        200,
    )
    .await;
    let article = json!({"article": {"title": "Keyed", "description": "d", "body": "b"}});
    let key = [("idempotency-key", "verifier-only")];
    for _ in 0..2 {
        let response = api
            .respond_with(
                "POST",
                "/api/articles",
                Some(article.clone()),
                Some(&token),
                &key,
            )
            .await;
        assert_eq!(response.status(), 201);
    }
    let response = api
        .respond("DELETE", "/api/user/sessions", None, Some(&token))
        .await;
    assert_eq!(response.status(), 204);
    let (status, _) = api.call("GET", "/api/user", None, Some(&token)).await;
    assert_eq!(status, 401);
}
