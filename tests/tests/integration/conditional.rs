//! Conditional requests: `ETag` and `If-None-Match` on every read, `If-Match`
//! on the edits of an article and of the user.

use std::sync::Arc;

use conduit_tests::{TestApi, read};
use lambda_http::Body;
use lambda_http::http::Response;
use serde_json::{Value, json};

fn tag(response: &Response<Body>) -> String {
    response
        .headers()
        .get("etag")
        .expect("a 200 carries an ETag")
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn every_read_answers_a_repeated_get_with_the_same_tag_by_a_304_without_a_body() {
    let api = TestApi::new().await;
    let author = api.register("author").await;
    let slug = api.create_article(&author, "Cached", &["http"]).await;
    let comments = format!("/api/articles/{slug}/comments");
    let article = format!("/api/articles/{slug}");
    for path in [
        "/api/articles",
        "/api/articles?tag=http",
        "/api/articles/feed",
        article.as_str(),
        comments.as_str(),
        "/api/profiles/author",
        "/api/user",
        "/api/tags",
    ] {
        let first = api.respond("GET", path, None, Some(&author)).await;
        assert_eq!(first.status(), 200, "{path}");
        assert_eq!(
            first.headers()["cache-control"],
            "private, no-cache",
            "{path}"
        );
        let etag = tag(&first);
        let again = api
            .respond_with(
                "GET",
                path,
                None,
                Some(&author),
                &[("if-none-match", &etag)],
            )
            .await;
        assert_eq!(again.status(), 304, "{path}");
        assert!(again.body().is_empty(), "{path}");
        assert_eq!(tag(&again), etag, "{path}");
    }
}

/// Who may keep each read: an anonymous 200 any shared cache (the edge),
/// for `s-maxage`; an authenticated one only the caller's own cache; an
/// error nobody.
#[tokio::test]
async fn every_read_is_shareable_only_when_anonymous_and_no_error_is_ever_kept() {
    let api = TestApi::new().await;
    let author = api.register("author").await;
    let slug = api.create_article(&author, "Shared", &["edge"]).await;
    let comments = format!("/api/articles/{slug}/comments");
    let article = format!("/api/articles/{slug}");
    let public = [
        "/api/articles",
        "/api/articles?tag=edge",
        article.as_str(),
        comments.as_str(),
        "/api/profiles/author",
        "/api/tags",
    ];
    for path in public {
        let anonymous = api.respond("GET", path, None, None).await;
        assert_eq!(anonymous.status(), 200, "{path}");
        let policy = anonymous.headers()["cache-control"].to_str().unwrap();
        assert_eq!(
            policy, "public, max-age=0, s-maxage=5, stale-while-revalidate=10, stale-if-error=300",
            "{path}"
        );
        assert_eq!(anonymous.headers()["vary"], "Authorization", "{path}");
        assert!(anonymous.headers().contains_key("etag"), "{path}");
    }
    for path in public
        .iter()
        .copied()
        .chain(["/api/articles/feed", "/api/user"])
    {
        let mine = api.respond("GET", path, None, Some(&author)).await;
        assert_eq!(mine.status(), 200, "{path}");
        assert_eq!(
            mine.headers()["cache-control"],
            "private, no-cache",
            "{path}"
        );
        assert_eq!(mine.headers()["vary"], "Authorization", "{path}");
    }
    let missing = [
        "/api/articles/no-such-article-0000000000000",
        "/api/articles/no-such-article-0000000000000/comments",
        "/api/profiles/nobody-at-all",
    ];
    for path in missing {
        for token in [None, Some(author.as_str())] {
            let error = api.respond("GET", path, None, token).await;
            assert!(
                error.status().is_client_error(),
                "{path}: {}",
                error.status()
            );
            assert_eq!(error.headers()["cache-control"], "no-store", "{path}");
        }
    }
    for path in ["/api/articles/feed", "/api/user"] {
        let refused = api.respond("GET", path, None, None).await;
        assert_eq!(refused.status(), 401, "{path}");
        assert_eq!(refused.headers()["cache-control"], "no-store", "{path}");
    }
    let bad_page = api
        .respond("GET", "/api/articles?limit=-1", None, None)
        .await;
    assert_eq!(bad_page.status(), 422);
    assert_eq!(bad_page.headers()["cache-control"], "no-store");
}

#[tokio::test]
async fn the_tag_follows_what_this_caller_sees_and_moves_when_it_changes() {
    let api = TestApi::new().await;
    let author = api.register("author").await;
    let reader = api.register("reader").await;
    let slug = api.create_article(&author, "Watched", &[]).await;
    let path = format!("/api/articles/{slug}");
    let as_reader = tag(&api.respond("GET", &path, None, Some(&reader)).await);
    let anonymous = tag(&api.respond("GET", &path, None, None).await);
    assert_eq!(as_reader, anonymous, "nothing differs for the reader yet");
    api.expect(
        "POST",
        &format!("{path}/favorite"),
        None,
        Some(&reader),
        200,
    )
    .await;
    // The reader's own flag and the count changed: their old tag is stale.
    let stale = api
        .respond_with(
            "GET",
            &path,
            None,
            Some(&reader),
            &[("if-none-match", &as_reader)],
        )
        .await;
    assert_eq!(stale.status(), 200);
    assert_ne!(tag(&stale), as_reader);
    // Someone else sees the new count, but not the reader's flag.
    let other = tag(&api.respond("GET", &path, None, None).await);
    assert_ne!(other, as_reader);
    assert_ne!(other, tag(&stale));
}

#[tokio::test]
async fn errors_carry_no_tag_and_a_star_does_not_hide_them() {
    let api = TestApi::new().await;
    let response = api
        .respond_with(
            "GET",
            "/api/articles/no-such-article-1",
            None,
            None,
            &[("if-none-match", "*")],
        )
        .await;
    assert_eq!(response.status(), 404);
    assert!(response.headers().get("etag").is_none());
}

/// GETs `path` for its tag, PUTs `first` with it (applies), then `second`
/// with the same tag, stale now (a 412 naming `resource`): what GET shows after.
async fn stale_if_match(
    api: &TestApi,
    path: &str,
    token: &str,
    (first, second): (Value, Value),
    resource: &str,
) -> Value {
    let seen = tag(&api.respond("GET", path, None, Some(token)).await);
    let condition = [("if-match", seen.as_str())];
    let put = |body: Value| api.respond_with("PUT", path, Some(body), Some(token), &condition);
    assert_eq!(put(first).await.status(), 200);
    let (status, body) = read(put(second).await);
    assert_eq!(status, 412);
    assert_eq!(body["errors"][resource][0], "has changed");
    api.expect("GET", path, None, Some(token), 200).await
}

#[tokio::test]
async fn an_article_put_with_a_stale_if_match_gets_a_412_and_changes_nothing() {
    let api = TestApi::new().await;
    let author = api.register("author").await;
    let slug = api.create_article(&author, "Guarded", &[]).await;
    let path = format!("/api/articles/{slug}");
    let edit = |body: &str| json!({"article": {"body": body}});
    let now = stale_if_match(
        &api,
        &path,
        &author,
        (edit("first"), edit("second")),
        "article",
    )
    .await;
    assert_eq!(now["article"]["body"], "first");
    // `*` and no If-Match at all both apply to whatever is current.
    for headers in [&[("if-match", "*")][..], &[]] {
        let response = api
            .respond_with("PUT", &path, Some(edit("third")), Some(&author), headers)
            .await;
        assert_eq!(response.status(), 200);
    }
}

#[tokio::test]
async fn twenty_concurrent_puts_with_one_if_match_apply_exactly_once() {
    let api = Arc::new(TestApi::new().await);
    let author = api.register("author").await;
    let slug = api.create_article(&author, "Raced", &[]).await;
    let path = format!("/api/articles/{slug}");
    let seen = tag(&api.respond("GET", &path, None, Some(&author)).await);
    let results = futures::future::join_all((0..20).map(|i| {
        let (api, author, path, seen) = (api.clone(), author.clone(), path.clone(), seen.clone());
        tokio::spawn(async move {
            let body = Some(json!({"article": {"body": format!("edit {i}")}}));
            api.respond_with("PUT", &path, body, Some(&author), &[("if-match", &seen)])
                .await
                .status()
                .as_u16()
        })
    }))
    .await;
    let statuses: Vec<u16> = results.into_iter().map(|r| r.unwrap()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 412),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn a_user_put_with_a_stale_if_match_gets_a_412_and_changes_nothing() {
    let api = TestApi::new().await;
    let token = api.register("writer").await;
    let bio = |text: &str| json!({"user": {"bio": text}});
    let now = stale_if_match(
        &api,
        "/api/user",
        &token,
        (bio("first"), bio("second")),
        "user",
    )
    .await;
    assert_eq!(now["user"]["bio"], "first");
}
