//! Comments against DynamoDB Local, as RealWorld 2.0.0 specifies them.

use conduit_tests::TestApi;
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
