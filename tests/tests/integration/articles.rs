//! Articles, favorites and tags against DynamoDB Local, as RealWorld 2.0.0
//! specifies them (comments and the feed have files of their own).

use conduit_tests::TestApi;
use serde_json::{Value, json};

/// Whether `value` is an ISO 8601 UTC instant with milliseconds, as RealWorld's examples write them.
pub(super) fn is_iso_millis(value: &Value) -> bool {
    let text = value.as_str().unwrap_or_default();
    text.len() == 24 && text.ends_with('Z') && text.as_bytes()[19] == b'.'
}

#[tokio::test]
async fn creating_returns_201_with_sorted_tags_millisecond_times_and_the_author() {
    let api = TestApi::new().await;
    let token = api.register("jake").await;
    let (status, body) = api
        .call(
            "POST",
            "/api/articles",
            Some(json!({"article": {"title": "How to train your dragon", "description": "Ever wonder how?", "body": "Very carefully.", "tagList": ["training", "Dragons", " dragons "]}})),
            Some(&token),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let article = &body["article"];
    assert!(
        article["slug"]
            .as_str()
            .unwrap()
            .starts_with("how-to-train-your-dragon-")
    );
    assert_eq!(article["tagList"], json!(["dragons", "training"]));
    assert_eq!(article["body"], "Very carefully.");
    assert!(is_iso_millis(&article["createdAt"]) && is_iso_millis(&article["updatedAt"]));
    assert_eq!(article["favorited"], false);
    assert_eq!(article["favoritesCount"], 0);
    assert_eq!(article["author"]["username"], "jake");
    assert_eq!(article["author"]["following"], false);
}

#[tokio::test]
async fn the_same_title_twice_gives_two_articles_with_distinct_slugs() {
    let api = TestApi::new().await;
    let token = api.register("jake").await;
    let a = api.create_article(&token, "Same title", &[]).await;
    let b = api.create_article(&token, "Same title", &[]).await;
    assert_ne!(a, b);
    let body = api.expect("GET", "/api/articles", None, None, 200).await;
    assert_eq!(body["articlesCount"], 2);
}

#[tokio::test]
async fn a_single_article_has_its_body_and_lists_do_not() {
    let api = TestApi::new().await;
    let token = api.register("jake").await;
    let slug = api.create_article(&token, "Body test", &["x"]).await;
    let (status, body) = api
        .call("GET", &format!("/api/articles/{slug}"), None, None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["article"]["body"], "the body");
    let list = api.expect("GET", "/api/articles", None, None, 200).await;
    assert!(list["articles"][0].get("body").is_none(), "{list}");
    assert_eq!(list["articles"][0]["slug"], slug.as_str());
}

#[tokio::test]
async fn unknown_or_stale_slugs_are_404() {
    let api = TestApi::new().await;
    let token = api.register("jake").await;
    let slug = api.create_article(&token, "Old title", &[]).await;
    for path in [
        "/api/articles/nope",
        "/api/articles/nope-abcdefghijkl",
        &format!("/api/articles/x{slug}"),
    ] {
        assert_eq!(api.call("GET", path, None, None).await.0, 404, "{path}");
    }
    let (status, body) = api
        .call(
            "PUT",
            &format!("/api/articles/{slug}"),
            Some(json!({"article": {"title": "New title"}})),
            Some(&token),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let new_slug = body["article"]["slug"].as_str().unwrap().to_owned();
    assert!(new_slug.starts_with("new-title-"));
    assert_eq!(
        api.call("GET", &format!("/api/articles/{slug}"), None, None)
            .await
            .0,
        404
    );
    assert_eq!(
        api.call("GET", &format!("/api/articles/{new_slug}"), None, None)
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn only_the_author_may_update_or_delete() {
    let api = TestApi::new().await;
    let jake = api.register("jake").await;
    let jane = api.register("jane").await;
    let slug = api.create_article(&jake, "Mine", &[]).await;
    let path = format!("/api/articles/{slug}");
    let (status, body) = api
        .call(
            "PUT",
            &path,
            Some(json!({"article": {"body": "hijacked"}})),
            Some(&jane),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(api.call("DELETE", &path, None, Some(&jane)).await.0, 403);
    assert_eq!(api.call("DELETE", &path, None, None).await.0, 401);
    let (status, body) = api
        .call(
            "PUT",
            &path,
            Some(json!({"article": {"body": "With two hands"}})),
            Some(&jake),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["article"]["body"], "With two hands");
    assert_eq!(
        body["article"]["slug"],
        slug.as_str(),
        "same title, same slug"
    );
    let (status, body) = api.call("DELETE", &path, None, Some(&jake)).await;
    assert_eq!((status, body), (204, Value::Null));
    assert_eq!(api.call("DELETE", &path, None, Some(&jake)).await.0, 404);
}

#[tokio::test]
async fn lists_filter_by_tag_author_and_favoriter_newest_first_with_totals() {
    let api = TestApi::new().await;
    let jake = api.register("jake").await;
    let jane = api.register("jane").await;
    let first = api.create_article(&jake, "First", &["rust"]).await;
    let second = api.create_article(&jane, "Second", &["rust", "aws"]).await;
    let third = api.create_article(&jake, "Third", &["aws"]).await;
    api.expect(
        "POST",
        &format!("/api/articles/{first}/favorite"),
        None,
        Some(&jane),
        200,
    )
    .await;

    let slugs = |body: &Value| -> Vec<String> {
        body["articles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["slug"].as_str().unwrap().to_owned())
            .collect()
    };
    let all = api.expect("GET", "/api/articles", None, None, 200).await;
    assert_eq!(slugs(&all), [third.clone(), second.clone(), first.clone()]);
    assert_eq!(all["articlesCount"], 3);
    let by_tag = api
        .expect("GET", "/api/articles?tag=rust", None, None, 200)
        .await;
    assert_eq!(slugs(&by_tag), [second.clone(), first.clone()]);
    assert_eq!(by_tag["articlesCount"], 2);
    let by_author = api
        .expect("GET", "/api/articles?author=jake", None, None, 200)
        .await;
    assert_eq!(slugs(&by_author), [third.clone(), first.clone()]);
    assert_eq!(by_author["articlesCount"], 2);
    let favorited = api
        .expect(
            "GET",
            "/api/articles?favorited=jane",
            None,
            Some(&jane),
            200,
        )
        .await;
    assert_eq!(slugs(&favorited), vec![first.clone()]);
    assert_eq!(favorited["articlesCount"], 1);
    assert_eq!(favorited["articles"][0]["favorited"], true);
    assert_eq!(favorited["articles"][0]["favoritesCount"], 1);
    let nobody = api
        .expect("GET", "/api/articles?author=nobody", None, None, 200)
        .await;
    assert_eq!(
        (nobody["articlesCount"].clone(), nobody["articles"].clone()),
        (json!(0), json!([]))
    );
}

#[tokio::test]
async fn pages_follow_limit_and_offset_and_count_everything() {
    let api = TestApi::new().await;
    let token = api.register("jake").await;
    for i in 0..7 {
        api.create_article(&token, &format!("Article {i}"), &["paged"])
            .await;
    }
    for path in [
        "/api/articles?limit=3&offset=5",
        "/api/articles?tag=paged&limit=3&offset=5",
        "/api/articles?author=jake&limit=3&offset=5",
    ] {
        let (status, body) = api.call("GET", path, None, None).await;
        assert_eq!(status, 200);
        assert_eq!(body["articlesCount"], 7, "{path}");
        let titles: Vec<&str> = body["articles"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["title"].as_str().unwrap())
            .collect();
        assert_eq!(titles, ["Article 1", "Article 0"], "{path}");
    }
}

#[tokio::test]
async fn favorite_and_following_flags_are_per_caller_and_favoriting_is_idempotent() {
    let api = TestApi::new().await;
    let jake = api.register("jake").await;
    let jane = api.register("jane").await;
    let slug = api.create_article(&jake, "Flags", &[]).await;
    let (status, body) = api
        .call(
            "POST",
            &format!("/api/articles/{slug}/favorite"),
            None,
            Some(&jane),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        (
            body["article"]["favorited"].clone(),
            body["article"]["favoritesCount"].clone()
        ),
        (json!(true), json!(1))
    );
    api.expect("POST", "/api/profiles/jake/follow", None, Some(&jane), 200)
        .await;
    let as_jane = api.get_article(&slug, Some(&jane)).await;
    assert_eq!(as_jane["article"]["favorited"], true);
    assert_eq!(as_jane["article"]["author"]["following"], true);
    let as_jake = api
        .expect("GET", "/api/articles", None, Some(&jake), 200)
        .await;
    assert_eq!(as_jake["articles"][0]["favorited"], false);
    assert_eq!(as_jake["articles"][0]["favoritesCount"], 1);
    let anonymous = api.expect("GET", "/api/articles", None, None, 200).await;
    assert_eq!(anonymous["articles"][0]["author"]["following"], false);
    // Favoriting twice counts once; unfavoriting twice too.
    let again = api
        .expect(
            "POST",
            &format!("/api/articles/{slug}/favorite"),
            None,
            Some(&jane),
            200,
        )
        .await;
    assert_eq!(
        (
            again["article"]["favorited"].clone(),
            again["article"]["favoritesCount"].clone()
        ),
        (json!(true), json!(1))
    );
    let body = api.get_article(&slug, None).await;
    assert_eq!(body["article"]["favoritesCount"], 1);
    for _ in 0..2 {
        let (status, body) = api
            .call(
                "DELETE",
                &format!("/api/articles/{slug}/favorite"),
                None,
                Some(&jane),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            (
                body["article"]["favorited"].clone(),
                body["article"]["favoritesCount"].clone()
            ),
            (json!(false), json!(0))
        );
    }
}

#[tokio::test]
async fn tags_come_back_by_popularity_and_drop_out_when_unused() {
    let api = TestApi::new().await;
    let token = api.register("jake").await;
    api.create_article(&token, "A", &["rust", "aws"]).await;
    api.create_article(&token, "B", &["rust"]).await;
    let gone = api.create_article(&token, "C", &["zig"]).await;
    let (status, body) = api.call("GET", "/api/tags", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(body["tags"], json!(["rust", "aws", "zig"]));
    api.expect(
        "DELETE",
        &format!("/api/articles/{gone}"),
        None,
        Some(&token),
        204,
    )
    .await;
    let body = api.expect("GET", "/api/tags", None, None, 200).await;
    assert_eq!(body["tags"], json!(["rust", "aws"]));
}

#[tokio::test]
async fn editing_tags_keeps_replaces_or_clears_them_and_every_list_and_count_follows() {
    let api = TestApi::new().await;
    let token = api.register("jake").await;
    let slug = api.create_article(&token, "Tagged", &["old", "kept"]).await;
    let path = format!("/api/articles/{slug}");
    let put = |article: Value| {
        let (api, path, token) = (&api, &path, &token);
        async move {
            api.call(
                "PUT",
                path,
                Some(json!({ "article": article })),
                Some(token),
            )
            .await
        }
    };

    // Absent: the tags stay.
    let (status, body) = put(json!({"body": "new body"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["article"]["tagList"], json!(["kept", "old"]));

    // A new list replaces them: links, counts, lists and GET /tags all follow.
    let (status, body) = put(json!({"tagList": ["kept", "New"]})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["article"]["tagList"], json!(["kept", "new"]));
    assert_eq!(api.tag_links(&slug).await, ["kept", "new"]);
    assert_eq!(
        (
            api.tag_count("old").await,
            api.tag_count("kept").await,
            api.tag_count("new").await
        ),
        (0, 1, 1)
    );
    let old = api
        .expect("GET", "/api/articles?tag=old", None, None, 200)
        .await;
    assert_eq!(
        (
            old["articlesCount"].as_u64(),
            old["articles"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );
    let new = api
        .expect("GET", "/api/articles?tag=new", None, None, 200)
        .await;
    assert_eq!(new["articlesCount"], 1);
    assert_eq!(new["articles"][0]["slug"], slug.as_str());
    assert_eq!(new["articles"][0]["tagList"], json!(["kept", "new"]));
    let tags = api.expect("GET", "/api/tags", None, None, 200).await;
    assert_eq!(tags["tags"], json!(["kept", "new"]));

    // null is refused and changes nothing.
    let before = api.dump().await;
    let (status, body) = put(json!({"tagList": null})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"]["tagList"][0], "can't be null");
    assert_eq!(api.dump().await, before);

    // An empty list removes every tag; the counts reach zero and GET /tags drops them.
    let (status, body) = put(json!({"tagList": []})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["article"]["tagList"], json!([]));
    assert!(api.tag_links(&slug).await.is_empty());
    assert_eq!(
        (api.tag_count("kept").await, api.tag_count("new").await),
        (0, 0)
    );
    let tags = api.expect("GET", "/api/tags", None, None, 200).await;
    assert_eq!(tags["tags"], json!([]));
    let got = api.expect("GET", &path, None, None, 200).await;
    assert_eq!(got["article"]["tagList"], json!([]));
    assert_eq!(got["article"]["body"], "new body");

    // Deleting after edits undoes exactly the tags it has now.
    let (status, body) = put(json!({"tagList": ["last"]})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(api.call("DELETE", &path, None, Some(&token)).await.0, 204);
    assert_eq!(api.tag_count("last").await, 0);
    let all = api.expect("GET", "/api/articles", None, None, 200).await;
    assert_eq!(all["articlesCount"], 0);
}

#[tokio::test]
async fn deleting_an_article_leaves_no_orphans_and_exact_counts() {
    let api = TestApi::new().await;
    let jake = api.register("jake").await;
    let jane = api.register("jane").await;
    let keep = api.create_article(&jake, "Keep", &["shared"]).await;
    let before = api.dump().await;
    let slug = api
        .create_article(&jake, "Doomed", &["shared", "doomed"])
        .await;
    api.expect(
        "POST",
        &format!("/api/articles/{slug}/favorite"),
        None,
        Some(&jane),
        200,
    )
    .await;
    api.expect(
        "POST",
        &format!("/api/articles/{slug}/favorite"),
        None,
        Some(&jake),
        200,
    )
    .await;
    api.expect(
        "POST",
        &format!("/api/articles/{slug}/comments"),
        Some(json!({"comment": {"body": "x"}})),
        Some(&jane),
        201,
    )
    .await;
    assert_eq!(
        api.call(
            "DELETE",
            &format!("/api/articles/{slug}"),
            None,
            Some(&jake)
        )
        .await
        .0,
        204
    );
    let after = api.dump().await;
    let leftover: Vec<_> = after
        .iter()
        .filter(|i| format!("{:?}", i).contains(slug.rsplit('-').next().unwrap()))
        .collect();
    assert!(leftover.is_empty(), "orphans: {leftover:?}");
    let jake_articles = api
        .expect("GET", "/api/articles?author=jake", None, None, 200)
        .await;
    assert_eq!(jake_articles["articlesCount"], 1);
    assert_eq!(jake_articles["articles"][0]["slug"], keep.as_str());
    let favs = api
        .expect("GET", "/api/articles?favorited=jane", None, None, 200)
        .await;
    assert_eq!(favs["articlesCount"], 0);
    let shared = api
        .expect("GET", "/api/articles?tag=shared", None, None, 200)
        .await;
    assert_eq!(shared["articlesCount"], 1);
    let all = api.expect("GET", "/api/articles", None, None, 200).await;
    assert_eq!(all["articlesCount"], 1);
    // Apart from the counters' bookkeeping (a zero-count tag, version bumps), the table is as before.
    assert!(
        after.len() <= before.len() + 1,
        "before {} after {}",
        before.len(),
        after.len()
    );
}
