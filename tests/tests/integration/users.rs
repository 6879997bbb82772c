//! Users, auth and profiles against DynamoDB Local, through API Gateway events, as RealWorld 2.0.0 specifies them.

use std::sync::Arc;

use conduit::auth::KeyRing;
use conduit::domain::Session;
use conduit_tests::{TestApi, concurrently, test_ring};
use serde_json::json;

fn user(username: &str, email: &str, password: &str) -> serde_json::Value {
    json!({"user": {"username": username, "email": email, "password": password}})
}

#[tokio::test]
async fn registering_returns_201_with_a_token_and_null_bio_and_image() {
    let api = TestApi::new().await;
    let (status, body) = api
        .call(
            "POST",
            "/api/users",
            Some(user("Jacob", "jake@jake.jake", "jakejake")),
            None,
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["user"]["username"], "Jacob");
    assert_eq!(body["user"]["email"], "jake@jake.jake");
    assert!(body["user"]["bio"].is_null() && body["user"]["image"].is_null());
    assert!(body["user"]["token"].as_str().unwrap().split('.').count() == 3);
}

#[tokio::test]
async fn a_taken_username_or_email_is_a_409_naming_it() {
    let api = TestApi::new().await;
    api.register("jake").await;
    let (status, body) = api
        .call(
            "POST",
            "/api/users",
            Some(user("JAKE", "other@example.com", "password123")),
            None,
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(body["errors"]["username"][0], "has already been taken");
    let (status, body) = api
        .call(
            "POST",
            "/api/users",
            Some(user("other", "Jake@Example.com", "password123")),
            None,
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(body["errors"]["email"][0], "has already been taken");
}

#[tokio::test]
async fn login_accepts_the_password_and_any_case_of_the_email() {
    let api = TestApi::new().await;
    api.register("jake").await;
    let (status, body) = api
        .call(
            "POST",
            "/api/users/login",
            Some(json!({"user": {"email": "JAKE@example.com", "password": "password123"}})),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["username"], "jake");
}

#[tokio::test]
async fn a_wrong_password_or_unknown_email_is_a_401_that_does_not_say_which() {
    let api = TestApi::new().await;
    api.register("jake").await;
    for (email, password) in [
        ("jake@example.com", "wrong-password"),
        ("nobody@example.com", "password123"),
    ] {
        let (status, body) = api
            .call(
                "POST",
                "/api/users/login",
                Some(json!({"user": {"email": email, "password": password}})),
                None,
            )
            .await;
        assert_eq!(status, 401, "{body}");
        assert_eq!(body["errors"]["credentials"][0], "invalid");
    }
}

#[tokio::test]
async fn the_current_user_needs_a_valid_token_in_either_scheme() {
    let api = TestApi::new().await;
    let token = api.register("jake").await;
    let (status, body) = api.call("GET", "/api/user", None, Some(&token)).await;
    assert_eq!(status, 200);
    assert_eq!(body["user"]["token"], token.as_str());

    let event = conduit_tests::event("GET", "/api/user", "/api/user", None, None);
    let mut event = event;
    event["headers"]["authorization"] = json!(format!("Bearer {token}"));
    let request = conduit_tests::request_from_event(&event);
    let response = conduit_tests::dispatch(&api.app, "get_current_user", request).await;
    assert_eq!(response.status(), 200);

    for bad in [None, Some("garbage"), Some("a.b.c")] {
        let (status, body) = api.call("GET", "/api/user", None, bad).await;
        assert_eq!(status, 401, "{bad:?}");
        assert!(body["errors"]["token"].is_array());
    }
}

#[tokio::test]
async fn a_token_of_another_key_ring_expired_or_hs256_is_refused() {
    let api = TestApi::new().await;
    api.register("jake").await;
    let id = api
        .app
        .store
        .user_id_by_username(&conduit::domain::Username::parse(Some("jake")).unwrap())
        .await
        .unwrap()
        .unwrap();
    let refused = |token: String, why: &'static str| {
        let api = &api;
        async move {
            let (status, body) = api.call("GET", "/api/user", None, Some(&token)).await;
            assert_eq!(status, 401, "{why}: {body}");
            assert!(body["errors"]["token"].is_array(), "{why}: {body}");
        }
    };
    let first = &Session::first();
    let stranger = KeyRing::generate("1").unwrap();
    let other = api.redeployed(&stranger);
    refused(
        other.app.signer().unwrap().issue(&id, first),
        "another stack's key",
    )
    .await;

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // The app's own key and claims: accepted while current (so the token is
    // well formed), refused once expired, beyond any leeway.
    let signer = api.app.signer().unwrap();
    let current = signer.issue_at(&id, first, now - 60);
    let body = api
        .expect("GET", "/api/user", None, Some(&current), 200)
        .await;
    assert_eq!(body["user"]["username"], "jake");
    refused(
        signer.issue_at(&id, first, now - 7200),
        "expired an hour ago",
    )
    .await;
    // The same claims under HS256, keyed with a published public key.
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            current.split('.').nth(1).unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    let public = test_ring().public_keys();
    let (kid, x) = public.split(',').next().unwrap().split_once(':').unwrap();
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(kid.into());
    header.typ = Some("at+jwt".into());
    let hs256 = jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(x.as_bytes()),
    )
    .unwrap();
    refused(hs256, "HS256 keyed with the public key").await;
}

#[tokio::test]
async fn an_update_may_resend_own_email_and_username_and_null_or_empty_clears_bio_and_image() {
    let api = TestApi::new().await;
    let token = api.register("jake").await;
    let (status, body) = api
        .call(
            "PUT",
            "/api/user",
            Some(json!({"user": {"email": "jake@example.com", "username": "Jake", "bio": "I like to skateboard", "image": "https://i.stack.imgur.com/xHWG8.jpg"}})),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["user"]["username"], "Jake");
    assert_eq!(body["user"]["email"], "jake@example.com");
    assert_eq!(body["user"]["bio"], "I like to skateboard");
    assert_eq!(body["user"]["image"], "https://i.stack.imgur.com/xHWG8.jpg");

    let (status, body) = api
        .call(
            "PUT",
            "/api/user",
            Some(json!({"user": {"bio": null, "image": ""}})),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["user"]["bio"].is_null() && body["user"]["image"].is_null());
}

#[tokio::test]
async fn renaming_frees_the_old_username_and_claims_the_new_one() {
    let api = TestApi::new().await;
    let token = api.register("jake").await;
    api.register("jane").await;
    let (status, body) = api
        .call(
            "PUT",
            "/api/user",
            Some(json!({"user": {"username": "jane"}})),
            Some(&token),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(body["errors"]["username"][0], "has already been taken");

    let (status, _) = api
        .call(
            "PUT",
            "/api/user",
            Some(json!({"user": {"username": "jacob", "email": "jacob@example.com"}})),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        api.call("GET", "/api/profiles/jake", None, None).await.0,
        404
    );
    assert_eq!(
        api.call("GET", "/api/profiles/jacob", None, None).await.0,
        200
    );
    // The old username and email are free again, the new ones are not.
    api.register("jake").await;
    let (status, body) = api
        .call(
            "POST",
            "/api/users",
            Some(user("x", "jacob@example.com", "password123")),
            None,
        )
        .await;
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["errors"]["email"][0], "has already been taken");
}

#[tokio::test]
async fn a_new_password_works_and_the_old_one_stops_working() {
    let api = TestApi::new().await;
    let token = api.register("jake").await;
    let (status, _) = api
        .call(
            "PUT",
            "/api/user",
            Some(json!({"user": {"password": "new-password-1"}})),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200);
    let login =
        |password: &str| json!({"user": {"email": "jake@example.com", "password": password}});
    assert_eq!(
        api.call("POST", "/api/users/login", Some(login("password123")), None)
            .await
            .0,
        401
    );
    assert_eq!(
        api.call(
            "POST",
            "/api/users/login",
            Some(login("new-password-1")),
            None
        )
        .await
        .0,
        200
    );
}

#[tokio::test]
async fn profiles_show_following_for_the_caller_only() {
    let api = TestApi::new().await;
    let jake = api.register("jake").await;
    api.register("celeb").await;
    let (status, body) = api
        .call(
            "POST",
            "/api/profiles/celeb/follow",
            Some(json!({"user": {"email": "ignored"}})),
            Some(&jake),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["profile"]["following"], true);
    let body = api
        .expect("GET", "/api/profiles/celeb", None, Some(&jake), 200)
        .await;
    assert_eq!(body["profile"]["following"], true);
    let body = api
        .expect("GET", "/api/profiles/CELEB", None, None, 200)
        .await;
    assert_eq!(body["profile"]["following"], false);
    assert_eq!(body["profile"]["username"], "celeb");
    let (status, body) = api
        .call("DELETE", "/api/profiles/celeb/follow", None, Some(&jake))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["profile"]["following"], false);
    let body = api
        .expect("GET", "/api/profiles/celeb", None, Some(&jake), 200)
        .await;
    assert_eq!(body["profile"]["following"], false);
}

#[tokio::test]
async fn following_is_idempotent_needs_auth_and_a_real_other_user() {
    let api = TestApi::new().await;
    let jake = api.register("jake").await;
    api.register("celeb").await;
    for _ in 0..2 {
        assert_eq!(
            api.call("POST", "/api/profiles/celeb/follow", None, Some(&jake))
                .await
                .0,
            200
        );
    }
    assert_eq!(
        api.call("POST", "/api/profiles/celeb/follow", None, None)
            .await
            .0,
        401
    );
    assert_eq!(
        api.call("POST", "/api/profiles/nobody/follow", None, Some(&jake))
            .await
            .0,
        404
    );
    assert_eq!(
        api.call("POST", "/api/profiles/jake/follow", None, Some(&jake))
            .await
            .0,
        422
    );
    assert_eq!(
        api.call("GET", "/api/profiles/nobody", None, None).await.0,
        404
    );
}

// Registration races: uniqueness under real concurrency.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_registrations_of_one_username_give_one_201() {
    let api = Arc::new(TestApi::new().await);
    let results = concurrently(50, |i| {
        let api = api.clone();
        async move {
            let body = json!({"user": {"username": "Popular", "email": format!("p{i}@example.com"), "password": "password123"}});
            api.call("POST", "/api/users", Some(body), None).await
        }
    })
    .await;
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(created, 1, "{results:?}");
    for (status, body) in results.iter().filter(|(s, _)| *s != 201) {
        assert_eq!(*status, 409, "{body}");
        assert_eq!(body["errors"]["username"][0], "has already been taken");
    }
    assert_eq!(api.count_keys("pk", "USER#").await, 1);
    assert_eq!(api.count_keys("pk", "USERNAME#").await, 1);
    assert_eq!(api.count_keys("pk", "EMAIL#").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_registrations_of_one_email_in_different_cases_give_one_201() {
    let api = Arc::new(TestApi::new().await);
    let results = concurrently(50, |i| {
        let api = api.clone();
        async move {
            let email: String = "same@example.com"
                .chars()
                .enumerate()
                .map(|(k, c)| if (i >> (k % 6)) & 1 == 1 { c.to_ascii_uppercase() } else { c })
                .collect();
            let body = json!({"user": {"username": format!("user{i}"), "email": email, "password": "password123"}});
            api.call("POST", "/api/users", Some(body), None).await
        }
    })
    .await;
    assert_eq!(
        results.iter().filter(|(s, _)| *s == 201).count(),
        1,
        "{results:?}"
    );
    for (status, body) in results.iter().filter(|(s, _)| *s != 201) {
        assert_eq!(*status, 409, "{body}");
        assert_eq!(body["errors"]["email"][0], "has already been taken");
    }
    assert_eq!(api.count_keys("pk", "USER#").await, 1);
    assert_eq!(api.count_keys("pk", "USERNAME#").await, 1);
}
