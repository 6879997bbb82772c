//! Invariants under real concurrency against DynamoDB Local: uniqueness, exact
//! counts, distinct ids. Requests run as concurrent tasks on a multi-threaded runtime.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use conduit_tests::{TestApi, concurrently};
use serde_json::json;

/// One fan, four stars, each with its own number of articles (so a feed's
/// count says whose articles it holds): `steady` and `leaving` followed
/// beforehand, `joining` and `contested` not.
const STARS: [(&str, usize); 4] = [
    ("steady", 1),
    ("leaving", 2),
    ("joining", 3),
    ("contested", 4),
];

/// How many articles of `stars` there are, by [`STARS`].
fn articles_of<'a>(stars: impl IntoIterator<Item = &'a str>) -> usize {
    stars
        .into_iter()
        .map(|star| STARS.iter().find(|(s, _)| *s == star).expect("a star").1)
        .sum()
}

/// What the fan's feed holds: its count, and how many articles of each author it lists.
async fn feed_of(api: &TestApi, fan: &str) -> (u64, BTreeMap<String, usize>) {
    let feed = api
        .expect("GET", "/api/articles/feed?limit=100", None, Some(fan), 200)
        .await;
    let mut by_author = BTreeMap::new();
    for article in feed["articles"].as_array().expect("articles") {
        assert_eq!(article["author"]["following"], true, "{article}");
        let author = article["author"]["username"].as_str().expect("an author");
        *by_author.entry(author.to_owned()).or_default() += 1;
    }
    (feed["articlesCount"].as_u64().expect("a count"), by_author)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_follows_and_unfollows_leave_exactly_the_edges_and_feed_they_answered() {
    let api = Arc::new(TestApi::new().await);
    let fan = api.quick_user("fan").await.1;
    let mut tokens = BTreeMap::new();
    for (star, articles) in STARS {
        let token = api.quick_user(star).await.1;
        // Half of each star's articles before the race, the rest during it.
        for n in 0..articles / 2 {
            api.create_article(&token, &format!("{star} {n}"), &[])
                .await;
        }
        tokens.insert(star, token);
    }
    for star in ["steady", "leaving"] {
        let path = format!("/api/profiles/{star}/follow");
        api.expect("POST", &path, None, Some(&fan), 200).await;
    }
    // At once: ten follows of steady, ten unfollows of leaving, ten follows of
    // joining, ten follows and ten unfollows of contested, and the rest of the
    // articles. (method, path, body, token, status; a toggle's star.)
    let mut requests = Vec::new();
    for _ in 0..10 {
        for (method, star) in [
            ("POST", "steady"),
            ("DELETE", "leaving"),
            ("POST", "joining"),
            ("POST", "contested"),
            ("DELETE", "contested"),
        ] {
            let path = format!("/api/profiles/{star}/follow");
            requests.push((method, path, None, fan.clone(), 200, Some(star)));
        }
    }
    for (star, articles) in STARS {
        for n in articles / 2..articles {
            let body = json!({"article": {"title": format!("{star} {n}"), "description": "d", "body": "b"}});
            let path = "/api/articles".to_owned();
            requests.push(("POST", path, Some(body), tokens[star].clone(), 201, None));
        }
    }
    let requests = Arc::new(requests);
    let results = concurrently(requests.len(), |i| {
        let (api, requests) = (api.clone(), requests.clone());
        async move {
            let (method, path, body, token, _, _) = &requests[i];
            api.call(method, path, body.clone(), Some(token)).await
        }
    })
    .await;
    for ((method, path, _, _, status, star), (got, body)) in requests.iter().zip(&results) {
        assert_eq!(got, status, "{method} {path}: {body}");
        if let Some(star) = star {
            // Each toggle answers the state it set, on the profile it was sent to.
            assert_eq!(body["profile"]["username"], *star, "{method} {path}");
            assert_eq!(
                body["profile"]["following"],
                *method == "POST",
                "{method} {path}"
            );
        }
    }
    // Only contested's outcome is the race's to decide (the last write wins).
    let contested = api
        .expect("GET", "/api/profiles/contested", None, Some(&fan), 200)
        .await;
    let contested_won = contested["profile"]["following"] == true;
    let mut followed = vec!["steady", "joining"];
    followed.extend(contested_won.then_some("contested"));
    for (star, _) in STARS {
        let profile = api
            .expect(
                "GET",
                &format!("/api/profiles/{star}"),
                None,
                Some(&fan),
                200,
            )
            .await;
        let expected = followed.contains(&star);
        assert_eq!(profile["profile"]["following"], expected, "{star}");
    }
    // One edge per followed star (the fan follows no one else), and the feed
    // holds all of their articles and no one else's.
    assert_eq!(api.count_keys("sk", "FOLLOWS#").await, followed.len());
    let expected: BTreeMap<String, usize> = followed
        .iter()
        .map(|star| (star.to_string(), articles_of([*star])))
        .collect();
    let (count, by_author) = feed_of(&api, &fan).await;
    assert_eq!(count, articles_of(followed.iter().copied()) as u64);
    assert_eq!(by_author, expected);
    // Whichever way contested went, following it now adds exactly its four.
    api.expect(
        "POST",
        "/api/profiles/contested/follow",
        None,
        Some(&fan),
        200,
    )
    .await;
    assert_eq!(api.count_keys("sk", "FOLLOWS#").await, 3);
    let (count, by_author) = feed_of(&api, &fan).await;
    assert_eq!(
        count,
        articles_of(["steady", "joining", "contested"]) as u64
    );
    assert_eq!(by_author.get("contested"), Some(&4));
    assert_eq!(by_author.get("leaving"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_users_favoriting_one_article_at_once_count_fifty() {
    let api = Arc::new(TestApi::new().await);
    let author = api.register("author").await;
    let slug = api.create_article(&author, "Popular", &[]).await;
    let mut tokens = Vec::new();
    for i in 0..50 {
        // Tokens straight from the store's users: registering 50 users through argon2 is slow.
        tokens.push(api.quick_user(&format!("fan{i}")).await.1);
    }
    let tokens = Arc::new(tokens);
    let results = concurrently(50, |i| {
        let (api, tokens, slug) = (api.clone(), tokens.clone(), slug.clone());
        async move {
            api.call(
                "POST",
                &format!("/api/articles/{slug}/favorite"),
                None,
                Some(&tokens[i]),
            )
            .await
        }
    })
    .await;
    assert!(
        results.iter().all(|(s, _)| *s == 200),
        "{:?}",
        results.iter().find(|(s, _)| *s != 200)
    );
    let body = api.get_article(&slug, None).await;
    assert_eq!(body["article"]["favoritesCount"], 50);
    let favorites = api.count_keys("sk", "FAV#").await;
    assert_eq!(favorites, 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_user_racing_favorite_and_unfavorite_keeps_the_count_equal_to_the_items() {
    let api = Arc::new(TestApi::new().await);
    let author = api.register("author").await;
    let fan = api.register("fan").await;
    let slug = api.create_article(&author, "Contested", &[]).await;
    let results = concurrently(40, |i| {
        let (api, fan, slug) = (api.clone(), fan.clone(), slug.clone());
        async move {
            let method = if i % 2 == 0 { "POST" } else { "DELETE" };
            api.call(
                method,
                &format!("/api/articles/{slug}/favorite"),
                None,
                Some(&fan),
            )
            .await
        }
    })
    .await;
    assert!(
        results.iter().all(|(s, _)| *s == 200),
        "{:?}",
        results.iter().find(|(s, _)| *s != 200)
    );
    let favorites = api.count_keys("sk", "FAV#").await;
    let body = api.get_article(&slug, Some(&fan)).await;
    assert_eq!(body["article"]["favoritesCount"], favorites);
    assert_eq!(body["article"]["favorited"], favorites == 1);
    let list = api
        .expect("GET", "/api/articles?favorited=fan", None, None, 200)
        .await;
    assert_eq!(
        list["articlesCount"], favorites,
        "the user's own count is exact too"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_comments_get_distinct_ids() {
    let api = Arc::new(TestApi::new().await);
    let token = api.register("talker").await;
    let slug = api.create_article(&token, "Busy thread", &[]).await;
    let results = concurrently(30, |i| {
        let (api, token, slug) = (api.clone(), token.clone(), slug.clone());
        async move {
            api.call(
                "POST",
                &format!("/api/articles/{slug}/comments"),
                Some(json!({"comment": {"body": format!("c{i}")}})),
                Some(&token),
            )
            .await
        }
    })
    .await;
    let ids: HashSet<u64> = results
        .iter()
        .map(|(s, b)| {
            assert_eq!(*s, 201, "{b}");
            b["comment"]["id"].as_u64().unwrap()
        })
        .collect();
    assert_eq!(ids.len(), 30);
    let list = api
        .expect(
            "GET",
            &format!("/api/articles/{slug}/comments"),
            None,
            None,
            200,
        )
        .await;
    assert_eq!(list["comments"].as_array().unwrap().len(), 30);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_articles_by_one_author_keep_the_authors_counts_exact() {
    let api = Arc::new(TestApi::new().await);
    let token = api.register("prolific").await;
    let results = concurrently(20, |i| {
        let (api, token) = (api.clone(), token.clone());
        async move {
            api.call(
                "POST",
                "/api/articles",
                Some(json!({"article": {"title": format!("t{i}"), "description": "d", "body": "b", "tagList": ["busy"]}})),
                Some(&token),
            )
            .await
        }
    })
    .await;
    for (status, body) in &results {
        assert_eq!(*status, 201, "{body}");
    }
    let by_author = api
        .expect(
            "GET",
            "/api/articles?author=prolific&limit=100",
            None,
            None,
            200,
        )
        .await;
    assert_eq!(by_author["articlesCount"], 20);
    assert_eq!(by_author["articles"].as_array().unwrap().len(), 20);
    let by_tag = api
        .expect("GET", "/api/articles?tag=busy", None, None, 200)
        .await;
    assert_eq!(by_tag["articlesCount"], 20);
    let reader = api.register("reader").await;
    api.expect(
        "POST",
        "/api/profiles/prolific/follow",
        None,
        Some(&reader),
        200,
    )
    .await;
    let feed = api
        .expect(
            "GET",
            "/api/articles/feed?limit=100",
            None,
            Some(&reader),
            200,
        )
        .await;
    assert_eq!(feed["articlesCount"], 20);
    assert_eq!(feed["articles"].as_array().unwrap().len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_tag_edits_of_one_article_leave_links_and_counts_exact() {
    const TAGS: [&str; 5] = ["a", "b", "c", "d", "e"];
    let api = Arc::new(TestApi::new().await);
    let token = api.register("editor").await;
    let slug = api.create_article(&token, "Contested", &["a"]).await;
    // Twenty editors, each with another subset of the tags (one clears them all).
    let results = concurrently(20, |i| {
        let (api, token, slug) = (api.clone(), token.clone(), slug.clone());
        let tags: Vec<&str> = TAGS
            .iter()
            .enumerate()
            .filter(|(bit, _)| (i + 1) % 20 != 0 && (i >> bit) & 1 == 1)
            .map(|(_, t)| *t)
            .collect();
        async move {
            api.call(
                "PUT",
                &format!("/api/articles/{slug}"),
                Some(json!({"article": {"tagList": tags}})),
                Some(&token),
            )
            .await
        }
    })
    .await;
    for (status, body) in &results {
        assert_eq!(*status, 200, "{body}");
    }
    let article = api.get_article(&slug, None).await;
    let final_tags: Vec<String> = article["article"]["tagList"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    // The last edit to commit wins, and its tags are exactly what the links and counts say.
    assert!(
        results
            .iter()
            .any(|(_, b)| b["article"]["tagList"] == json!(final_tags)),
        "{final_tags:?} is no edit's result"
    );
    assert_eq!(api.tag_links(&slug).await, final_tags);
    for tag in TAGS {
        let expected = u64::from(final_tags.iter().any(|t| t == tag));
        assert_eq!(api.tag_count(tag).await, expected, "tag {tag}");
        let list = api
            .expect("GET", &format!("/api/articles?tag={tag}"), None, None, 200)
            .await;
        assert_eq!(list["articlesCount"], expected, "list of {tag}");
    }
    let tags = api.expect("GET", "/api/tags", None, None, 200).await;
    let mut listed: Vec<String> = tags["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    listed.sort();
    assert_eq!(listed, final_tags);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delete_racing_tag_edits_leaves_every_tag_count_at_zero() {
    let api = Arc::new(TestApi::new().await);
    let token = api.register("editor").await;
    let slug = api.create_article(&token, "Doomed", &["x"]).await;
    let results = concurrently(11, |i| {
        let (api, token, slug) = (api.clone(), token.clone(), slug.clone());
        async move {
            let path = format!("/api/articles/{slug}");
            if i == 5 {
                api.call("DELETE", &path, None, Some(&token)).await
            } else {
                let tags = if i % 2 == 0 {
                    json!(["x", "y"])
                } else {
                    json!(["z"])
                };
                api.call(
                    "PUT",
                    &path,
                    Some(json!({"article": {"tagList": tags}})),
                    Some(&token),
                )
                .await
            }
        }
    })
    .await;
    for (i, (status, body)) in results.iter().enumerate() {
        // Edits that lose to the delete find no article.
        let allowed: &[u16] = if i == 5 { &[204] } else { &[200, 404] };
        assert!(allowed.contains(status), "request {i}: {status} {body}");
    }
    for tag in ["x", "y", "z"] {
        assert_eq!(api.tag_count(tag).await, 0, "tag {tag}");
    }
    assert!(api.tag_links(&slug).await.is_empty());
    let tags = api.expect("GET", "/api/tags", None, None, 200).await;
    assert_eq!(tags["tags"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_profile_updates_of_different_fields_all_stick() {
    let api = Arc::new(TestApi::new().await);
    let token = api.register("busy").await;
    let url = "https://example.com/me.png";
    let results = concurrently(10, |i| {
        let (api, token) = (api.clone(), token.clone());
        let user = match i {
            0 => json!({"password": "a-new-password"}),
            1 => json!({"image": url}),
            _ => json!({"bio": format!("bio {i}")}),
        };
        async move {
            api.call(
                "PUT",
                "/api/user",
                Some(json!({ "user": user })),
                Some(&token),
            )
            .await
        }
    })
    .await;
    for (status, body) in &results {
        assert_eq!(*status, 200, "{body}");
    }
    // No update wrote back what it had read over another's change.
    let me = api
        .expect("GET", "/api/user", None, Some(&token), 200)
        .await;
    assert_eq!(me["user"]["image"], url);
    assert!(
        me["user"]["bio"].as_str().unwrap().starts_with("bio "),
        "{me}"
    );
    api.expect(
        "POST",
        "/api/users/login",
        Some(json!({"user": {"email": "busy@example.com", "password": "a-new-password"}})),
        None,
        200,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hot_articles_favorites_spread_over_counters_count_exactly_and_leave_with_it() {
    let api = Arc::new(TestApi::new().await);
    let author = api.register("author").await;
    let slug = api.create_article(&author, "Viral", &[]).await;
    let (_, id) = conduit::domain::Slug::parse(&slug).unwrap();
    let mut tokens = Vec::new();
    for i in 0..40 {
        tokens.push(api.quick_user(&format!("fan{i}")).await.1);
    }
    let tokens = Arc::new(tokens);
    let favorite = format!("/api/articles/{slug}/favorite");
    for token in tokens.iter().take(10) {
        api.expect("POST", &favorite, None, Some(token), 200).await;
    }
    assert!(api.app.store.shard_favorites(&id).await.unwrap());
    assert!(
        !api.app.store.shard_favorites(&id).await.unwrap(),
        "only once"
    );
    // 30 new favorites and 5 of the first ten taken back, all at once.
    let results = concurrently(35, |i| {
        let (api, tokens, favorite) = (api.clone(), tokens.clone(), favorite.clone());
        async move {
            let (method, token) = if i < 30 {
                ("POST", &tokens[10 + i])
            } else {
                ("DELETE", &tokens[i - 30])
            };
            api.call(method, &favorite, None, Some(token)).await.0
        }
    })
    .await;
    assert!(results.iter().all(|s| *s == 200), "{results:?}");
    let body = api.get_article(&slug, None).await;
    assert_eq!(body["article"]["favoritesCount"], 35);
    assert_eq!(api.count_keys("sk", "FAV#").await, 35);
    let list = api.expect("GET", "/api/articles", None, None, 200).await;
    assert_eq!(
        list["articles"][0]["favoritesCount"], 35,
        "lists add the counters too"
    );
    let comment = serde_json::json!({"comment": {"body": "on a hot article"}});
    api.expect(
        "POST",
        &format!("/api/articles/{slug}/comments"),
        Some(comment),
        Some(&tokens[0]),
        201,
    )
    .await;
    api.expect(
        "DELETE",
        &format!("/api/articles/{slug}"),
        None,
        Some(&author),
        204,
    )
    .await;
    let partition = format!("ARTICLE#{id}");
    assert_eq!(
        api.count_keys("pk", &partition).await,
        0,
        "counters, favorites and comments go with it"
    );
    for token in tokens.iter().take(3) {
        let me = api.expect("GET", "/api/user", None, Some(token), 200).await;
        let name = me["user"]["username"].as_str().unwrap().to_owned();
        let listed = api
            .expect(
                "GET",
                &format!("/api/articles?favorited={name}"),
                None,
                None,
                200,
            )
            .await;
        assert_eq!(
            listed["articlesCount"], 0,
            "{name}'s count followed the delete"
        );
    }
}
