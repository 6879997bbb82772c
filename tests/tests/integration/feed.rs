//! The feed against DynamoDB Local, as RealWorld 2.0.0 specifies it.

use conduit_tests::TestApi;
use serde_json::json;

#[tokio::test]
async fn the_feed_shows_followed_authors_newest_first_with_a_total() {
    let api = TestApi::new().await;
    let reader = api.register("reader").await;
    let ada = api.register("ada").await;
    let bob = api.register("bob").await;
    let eve = api.register("eve").await;
    let empty = api
        .expect("GET", "/api/articles/feed", None, Some(&reader), 200)
        .await;
    assert_eq!(
        (empty["articlesCount"].clone(), empty["articles"].clone()),
        (json!(0), json!([]))
    );
    let mut expected = Vec::new();
    for i in 0..5 {
        expected.push(api.create_article(&ada, &format!("ada {i}"), &[]).await);
        expected.push(api.create_article(&bob, &format!("bob {i}"), &[]).await);
        api.create_article(&eve, &format!("eve {i}"), &[]).await;
    }
    expected.reverse();
    api.expect("POST", "/api/profiles/ada/follow", None, Some(&reader), 200)
        .await;
    api.expect("POST", "/api/profiles/bob/follow", None, Some(&reader), 200)
        .await;
    let (status, feed) = api
        .call(
            "GET",
            "/api/articles/feed?limit=4&offset=2",
            None,
            Some(&reader),
        )
        .await;
    assert_eq!(status, 200, "{feed}");
    assert_eq!(feed["articlesCount"], 10);
    let slugs: Vec<&str> = feed["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["slug"].as_str().unwrap())
        .collect();
    assert_eq!(
        slugs,
        expected[2..6]
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    assert!(
        feed["articles"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["author"]["following"] == true)
    );
    assert_eq!(
        api.call("GET", "/api/articles/feed", None, None).await.0,
        401
    );
    api.expect(
        "DELETE",
        "/api/profiles/bob/follow",
        None,
        Some(&reader),
        200,
    )
    .await;
    let feed = api
        .expect("GET", "/api/articles/feed", None, Some(&reader), 200)
        .await;
    assert_eq!(feed["articlesCount"], 5);
}

#[tokio::test]
async fn the_feed_reaches_past_each_authors_recent_list_and_skips_deleted_articles() {
    let api = TestApi::new().await;
    let reader = api.register("reader").await;
    let ada = api.register("ada").await;
    let mut slugs = Vec::new();
    for i in 0..25 {
        slugs.push(api.create_article(&ada, &format!("post {i}"), &[]).await);
    }
    // Deleting recent articles leaves the author's recent list shorter than their total.
    for slug in &slugs[20..25] {
        assert_eq!(
            api.call("DELETE", &format!("/api/articles/{slug}"), None, Some(&ada))
                .await
                .0,
            204
        );
    }
    api.expect("POST", "/api/profiles/ada/follow", None, Some(&reader), 200)
        .await;
    let feed = api
        .expect(
            "GET",
            "/api/articles/feed?limit=10&offset=12",
            None,
            Some(&reader),
            200,
        )
        .await;
    assert_eq!(feed["articlesCount"], 20);
    let titles: Vec<&str> = feed["articles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = (0..8).rev().map(|i| format!("post {i}")).collect();
    assert_eq!(titles, expected);
}
