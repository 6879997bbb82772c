//! Comments against DynamoDB Local, as RealWorld 2.0.0 specifies them.

use conduit_tests::TestApi;
use futures::StreamExt;
use serde_json::json;

use super::articles::is_iso_millis;

#[tokio::test]
async fn comments_get_integer_ids_newest_first_and_only_their_author_deletes_them() {
    let api = TestApi::new().await;
    let jake = api.register("jake").await;
    let jane = api.register("jane").await;
    let slug = api.create_article(&jake, "Discuss", &[]).await;
    let path = format!("/api/articles/{slug}/comments");
    let (status, first) = api
        .call(
            "POST",
            &path,
            Some(json!({"comment": {"body": "First!"}})),
            Some(&jane),
        )
        .await;
    assert_eq!(status, 201, "{first}");
    assert!(first["comment"]["id"].is_u64());
    assert!(is_iso_millis(&first["comment"]["createdAt"]));
    let (status, second) = api
        .call(
            "POST",
            &path,
            Some(json!({"comment": {"body": "Second"}})),
            Some(&jake),
        )
        .await;
    assert_eq!(status, 201, "{second}");
    let (status, list) = api.call("GET", &path, None, None).await;
    assert_eq!(status, 200);
    let bodies: Vec<&str> = list["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["Second", "First!"]);
    let id = first["comment"]["id"].as_u64().unwrap();
    assert_eq!(
        api.call("DELETE", &format!("{path}/{id}"), None, Some(&jake))
            .await
            .0,
        403
    );
    assert_eq!(
        api.call("DELETE", &format!("{path}/{id}"), None, Some(&jane))
            .await
            .0,
        204
    );
    assert_eq!(
        api.call("DELETE", &format!("{path}/{id}"), None, Some(&jane))
            .await
            .0,
        404
    );
    assert_eq!(
        api.call("DELETE", &format!("{path}/abc"), None, Some(&jane))
            .await
            .0,
        404
    );
    let list = api.expect("GET", &path, None, Some(&jane), 200).await;
    assert_eq!(list["comments"].as_array().unwrap().len(), 1);
    assert_eq!(list["comments"][0]["id"], second["comment"]["id"]);
    assert_eq!(
        api.call(
            "GET",
            "/api/articles/none-abcdefghijkl/comments",
            None,
            None
        )
        .await
        .0,
        404
    );
    assert_eq!(
        api.call(
            "POST",
            "/api/articles/none-abcdefghijkl/comments",
            Some(json!({"comment": {"body": "x"}})),
            Some(&jane)
        )
        .await
        .0,
        404
    );
}

#[tokio::test]
async fn a_long_comment_list_comes_a_hundred_at_a_time_newest_first_with_a_link_to_the_rest() {
    let api = TestApi::new().await;
    let jake = api.register("jake").await;
    let slug = api.create_article(&jake, "Busy thread", &[]).await;
    let path = format!("/api/articles/{slug}/comments");
    let written: Vec<u64> = futures::stream::iter(0..230)
        .map(|i| {
            let (api, path, jake) = (&api, &path, &jake);
            async move {
                let body = json!({"comment": {"body": format!("comment {i}")}});
                let created = api.expect("POST", path, Some(body), Some(jake), 201).await;
                created["comment"]["id"].as_u64().unwrap()
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let mut seen: Vec<u64> = Vec::new();
    let mut next = Some(path.clone());
    let mut pages = Vec::new();
    while let Some(page) = next.take() {
        let response = api.respond("GET", &page, None, None).await;
        assert_eq!(response.status(), 200);
        next = response.headers().get("link").map(|link| {
            let link = link.to_str().unwrap();
            assert!(link.ends_with(">; rel=\"next\""), "{link}");
            link[1..link.find('>').unwrap()].to_owned()
        });
        let (_, body) = conduit_tests::read(response);
        let ids: Vec<u64> = body["comments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_u64().unwrap())
            .collect();
        assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
        pages.push(ids.len());
        seen.extend(ids);
    }
    assert_eq!(pages, [100, 100, 30]);
    let mut expected = written.clone();
    expected.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(seen, expected, "every comment once, in order");
    let small = api
        .expect(
            "GET",
            &format!("{path}?limit=5&before={}", seen[10]),
            None,
            None,
            200,
        )
        .await;
    let ids: Vec<u64> = small["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, seen[11..16]);
    for bad in ["limit=0", "limit=101", "before=0", "before=x"] {
        assert_eq!(
            api.call("GET", &format!("{path}?{bad}"), None, None)
                .await
                .0,
            422,
            "{bad}"
        );
    }
}
