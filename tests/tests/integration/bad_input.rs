//! Every bad input is a clear 4xx in the RealWorld 2.0.0 error shape, and writes nothing.

use conduit_tests::TestApi;
use serde_json::{Value, json};

/// Calls and asserts the status, the `{"errors": {field: [..]}}` shape, and an unchanged table.
async fn refused(
    api: &TestApi,
    method: &str,
    path: &str,
    body: Value,
    token: Option<&str>,
    status: u16,
) -> Value {
    let before = api.dump().await;
    let (got, response) = api.call(method, path, Some(body.clone()), token).await;
    assert_eq!(got, status, "{method} {path} {body} -> {response}");
    let errors = response["errors"]
        .as_object()
        .unwrap_or_else(|| panic!("no errors object: {response}"));
    assert!(
        !errors.is_empty()
            && errors
                .values()
                .all(|v| v.as_array().is_some_and(|a| !a.is_empty()))
    );
    assert!(
        api.dump().await == before,
        "{method} {path} {body} changed the table"
    );
    response
}

#[tokio::test]
async fn registration_refuses_every_kind_of_bad_input() {
    let api = TestApi::new().await;
    let long = "a".repeat(300);
    let cases = [
        (json!("{not json"), "body"),
        (json!(""), "body"),
        (
            json!({"username": "x", "email": "x@x.io", "password": "password123"}),
            "body",
        ),
        (json!({"user": "x"}), "user"),
        (
            json!({"user": {"username": 5, "email": "x@x.io", "password": "password123"}}),
            "user.username",
        ),
        (
            json!({"user": {"username": ["a"], "email": "x@x.io", "password": "password123"}}),
            "user.username",
        ),
        (
            json!({"user": {"email": "x@x.io", "password": "password123"}}),
            "username",
        ),
        (
            json!({"user": {"username": "   ", "email": "x@x.io", "password": "password123"}}),
            "username",
        ),
        (
            json!({"user": {"username": "", "email": "x@x.io", "password": "password123"}}),
            "username",
        ),
        (
            json!({"user": {"username": long, "email": "x@x.io", "password": "password123"}}),
            "username",
        ),
        (
            json!({"user": {"username": "x", "email": "not-an-email", "password": "password123"}}),
            "email",
        ),
        (
            json!({"user": {"username": "x", "email": format!("{long}@x.io"), "password": "password123"}}),
            "email",
        ),
        (
            json!({"user": {"username": "x", "email": "x@x.io", "password": "short"}}),
            "password",
        ),
        (
            json!({"user": {"username": "x", "email": "x@x.io", "password": "        "}}),
            "password",
        ),
        (
            json!({"user": {"username": "x", "email": "x@x.io", "password": long}}),
            "password",
        ),
    ];
    for (body, field) in cases {
        let response = refused(&api, "POST", "/api/users", body.clone(), None, 422).await;
        assert!(
            response["errors"][field].is_array(),
            "{body}: expected {field} in {response}"
        );
    }
    let response = refused(&api, "POST", "/api/users", json!({"user": {}}), None, 422).await;
    for field in ["username", "email", "password"] {
        assert_eq!(response["errors"][field][0], "can't be blank");
    }
}

#[tokio::test]
async fn a_huge_body_is_a_413() {
    let api = TestApi::new().await;
    let huge = json!({"user": {"username": "x".repeat(400 * 1024), "email": "x@x.io", "password": "password123"}});
    refused(&api, "POST", "/api/users", huge, None, 413).await;
}

/// Sends `body` as API Gateway sends bytes it cannot pass as text: base64, flagged.
async fn base64_call(
    api: &TestApi,
    method: &str,
    path: &str,
    body: &[u8],
    token: &str,
) -> (u16, Value) {
    use base64::Engine;
    let routes = conduit_tests::routes().unwrap();
    let route = conduit_tests::route_for(&routes, method, path).unwrap();
    let mut event = conduit_tests::event(method, &route.path, path, None, Some(token));
    event["body"] = base64::engine::general_purpose::STANDARD
        .encode(body)
        .into();
    event["isBase64Encoded"] = true.into();
    let request = conduit_tests::request_from_event(&event);
    conduit_tests::read(conduit_tests::dispatch(&api.app, &route.function, request).await)
}

#[tokio::test]
async fn a_body_that_is_not_utf8_is_a_422_on_every_function_that_reads_one_and_writes_nothing() {
    let api = TestApi::new().await;
    let token = api.register("jake").await;
    let slug = api.create_article(&token, "Binary", &[]).await;
    let garbage: &[u8] = b"\xff\xfe{\"user\": \x80}";
    let article = format!("/api/articles/{slug}");
    let comments = format!("/api/articles/{slug}/comments");
    let before = api.dump().await;
    for (method, path) in [
        ("POST", "/api/users"),
        ("POST", "/api/users/login"),
        ("PUT", "/api/user"),
        ("POST", "/api/articles"),
        ("PUT", article.as_str()),
        ("POST", comments.as_str()),
    ] {
        let (status, body) = base64_call(&api, method, path, garbage, &token).await;
        assert_eq!(status, 422, "{method} {path}: {body}");
        assert_eq!(
            body["errors"]["body"][0], "is not valid UTF-8",
            "{method} {path}"
        );
    }
    // Valid JSON that arrives base64-encoded (a binary content type) is read as usual.
    let (status, body) = base64_call(
        &api,
        "POST",
        &comments,
        br#"{"comment":{"body":"hi"}}"#,
        &token,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let after = api.dump().await;
    assert_eq!(
        after.len(),
        before.len() + 1,
        "only the valid comment was written"
    );
    // Oversized is a 413 however it is encoded.
    let huge = vec![0xffu8; 300 * 1024];
    assert_eq!(
        base64_call(&api, "POST", "/api/articles", &huge, &token)
            .await
            .0,
        413
    );
}

#[tokio::test]
async fn login_and_update_refuse_bad_input() {
    let api = TestApi::new().await;
    let token = api.register("jake").await;
    for body in [
        json!({"user": {"email": "jake@example.com"}}),
        json!({"user": {"email": "", "password": "password123"}}),
        json!({"user": {"email": 1, "password": "password123"}}),
        json!([]),
    ] {
        refused(&api, "POST", "/api/users/login", body, None, 422).await;
    }
    for body in [
        json!({"user": {}}),
        json!({"user": {"email": "nope"}}),
        json!({"user": {"username": "   "}}),
        json!({"user": {"image": "javascript:alert(1)"}}),
        json!({"user": {"bio": 7}}),
        json!({"user": {"bio": "b".repeat(1001)}}),
        json!({"bio": "no wrapper"}),
        json!({"user": {"email": ""}}),
        json!({"user": {"password": "short7c"}}),
    ] {
        refused(&api, "PUT", "/api/user", body, Some(&token), 422).await;
    }
    // Fields that cannot be cleared refuse null, naming themselves.
    for field in ["email", "username", "password"] {
        let response = refused(
            &api,
            "PUT",
            "/api/user",
            json!({"user": { field: null }}),
            Some(&token),
            422,
        )
        .await;
        assert_eq!(response["errors"][field][0], "can't be null", "{field}");
    }
    refused(
        &api,
        "PUT",
        "/api/user",
        json!({"user": {"bio": "x"}}),
        Some("forged.token.value"),
        401,
    )
    .await;
}

#[tokio::test]
async fn article_and_comment_writes_refuse_bad_input() {
    let api = TestApi::new().await;
    let token = api.register("jake").await;
    let slug = api.create_article(&token, "Existing", &["t"]).await;
    let article = |patch: Value| {
        let mut base = json!({"title": "T", "description": "D", "body": "B", "tagList": ["a"]});
        for (k, v) in patch.as_object().unwrap() {
            base[k] = v.clone();
        }
        json!({"article": base})
    };
    for (body, field) in [
        (article(json!({"title": "  "})), "title"),
        (article(json!({"title": null})), "title"),
        (article(json!({"description": ""})), "description"),
        (article(json!({"body": "x".repeat(100_001)})), "body"),
        (article(json!({"title": "t".repeat(201)})), "title"),
        (article(json!({"tagList": "rust"})), "article.tagList"),
        (article(json!({"tagList": [1, 2]})), "article.tagList[0]"),
        (article(json!({"tagList": [" "]})), "tagList"),
        (
            article(json!({"tagList": (0..11).map(|i| format!("t{i}")).collect::<Vec<_>>()})),
            "tagList",
        ),
        (json!({"title": "no wrapper"}), "body"),
        (json!("{\"article\":"), "body"),
    ] {
        let response = refused(
            &api,
            "POST",
            "/api/articles",
            body.clone(),
            Some(&token),
            422,
        )
        .await;
        assert!(
            response["errors"][field].is_array(),
            "{body}: expected {field} in {response}"
        );
    }
    let path = format!("/api/articles/{slug}");
    for body in [
        json!({"article": {"title": " "}}),
        json!({"article": {"body": 5}}),
        json!({"x": 1}),
    ] {
        refused(&api, "PUT", &path, body, Some(&token), 422).await;
    }
    let comments = format!("{path}/comments");
    for body in [
        json!({"comment": {"body": ""}}),
        json!({"comment": {}}),
        json!({"comment": {"body": "c".repeat(10_001)}}),
        json!({"body": "x"}),
    ] {
        refused(&api, "POST", &comments, body, Some(&token), 422).await;
    }
}

#[tokio::test]
async fn list_parameters_refuse_negative_non_numeric_and_absurd_values() {
    let api = TestApi::new().await;
    let token = api.register("jake").await;
    let expect_422 = |path: String, auth: Option<String>| {
        let api = &api;
        async move {
            let (status, body) = api.call("GET", &path, None, auth.as_deref()).await;
            assert_eq!(status, 422, "{path}: {body}");
            assert!(body["errors"].as_object().is_some_and(|e| !e.is_empty()));
        }
    };
    for query in [
        "limit=-1",
        "limit=0",
        "limit=abc",
        "limit=1000000",
        "offset=-5",
        "offset=x",
        "offset=99999999999",
    ] {
        expect_422(format!("/api/articles?{query}"), None).await;
        expect_422(format!("/api/articles/feed?{query}"), Some(token.clone())).await;
    }
    // Filters are served by one index partition each; combining them is refused.
    for query in ["tag=a&author=b", "favorited=a&tag=b"] {
        expect_422(format!("/api/articles?{query}"), None).await;
    }
}

#[tokio::test]
async fn a_bad_token_on_an_optional_auth_endpoint_is_still_a_401() {
    let api = TestApi::new().await;
    let (status, body) = api
        .call("GET", "/api/articles", None, Some("not-a-token"))
        .await;
    assert_eq!(status, 401);
    assert!(body["errors"]["token"].is_array());
}
