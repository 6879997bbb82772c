//! Cost benchmark against DynamoDB Local: DynamoDB requests and consumed
//! capacity of every list endpoint, the feed and the single-item reads, with
//! 100 and with 2,000 articles in the table (the first page must cost the
//! same), and a feed over 500 followed authors. Both tests are `#[ignore]`d
//! (thousands of writes: a benchmark, not behaviour); `scripts/test.sh` runs
//! them in a step of their own. By hand, with the tables printed:
//! `cargo test -p conduit-tests --test integration -- --ignored --nocapture cost::`.

use std::sync::Arc;

use conduit::api::create_article::{ArticleDraft, create_article, plan_article};
use conduit::domain::{
    Article, ArticleText, Description, Session, Tag, Timestamp, Title, User, UserId,
};
use conduit::store::Usage;
use conduit_tests::TestApi;
use futures::StreamExt;

/// Creates `n` articles by each of `authors` (tagged `bench`): authors in
/// parallel, each author's articles in sequence, as one person writes them.
async fn articles(api: &Arc<TestApi>, authors: &[UserId], n: usize) -> Vec<Article> {
    let per_author = authors.iter().map(|author| {
        let (api, author) = (api.clone(), author.clone());
        async move {
            let mut created = Vec::new();
            for i in 0..n {
                let draft = ArticleDraft::new(
                    Title::parse(Some(&format!("Benchmark article {i}"))).unwrap(),
                    Description::parse(Some("A description of typical length for a list item."))
                        .unwrap(),
                    ArticleText::parse(Some(&"A body that list pages never read. ".repeat(50)))
                        .unwrap(),
                    vec![
                        Tag::parse("bench").unwrap(),
                        Tag::parse(&format!("t{}", i % 7)).unwrap(),
                    ],
                );
                let plan = plan_article(
                    &api.app,
                    &author,
                    &Session::first(),
                    draft,
                    Timestamp::now(),
                )
                .await
                .unwrap();
                let view = create_article(&api.app, plan, None).await.unwrap();
                created.push(view.article);
            }
            created
        }
    });
    futures::future::join_all(per_author)
        .await
        .into_iter()
        .flatten()
        .collect()
}

struct Measured {
    name: &'static str,
    usage: Usage,
}

async fn measure(api: &TestApi, name: &'static str, path: &str, token: &str) -> Measured {
    let before = api.app.store.usage();
    let (status, body) = api.call("GET", path, None, Some(token)).await;
    assert_eq!(status, 200, "{path}: {body}");
    Measured {
        name,
        usage: api.app.store.usage() - before,
    }
}

async fn measure_all(api: &TestApi, token: &str, slug: &str) -> Vec<Measured> {
    vec![
        measure(api, "GET /articles", "/api/articles", token).await,
        measure(api, "GET /articles?tag", "/api/articles?tag=bench", token).await,
        measure(
            api,
            "GET /articles?author",
            "/api/articles?author=writer",
            token,
        )
        .await,
        measure(
            api,
            "GET /articles?favorited",
            "/api/articles?favorited=reader",
            token,
        )
        .await,
        measure(
            api,
            "GET /articles?limit=100",
            "/api/articles?limit=100",
            token,
        )
        .await,
        measure(api, "GET /articles/feed", "/api/articles/feed", token).await,
        measure(
            api,
            "GET /articles/{slug}",
            &format!("/api/articles/{slug}"),
            token,
        )
        .await,
        measure(
            api,
            "GET /articles/{slug}/comments",
            &format!("/api/articles/{slug}/comments"),
            token,
        )
        .await,
        measure(
            api,
            "GET /profiles/{username}",
            "/api/profiles/writer",
            token,
        )
        .await,
        measure(api, "GET /tags", "/api/tags", token).await,
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "benchmark: scripts/test.sh runs it in its benchmark step"]
async fn first_page_cost_does_not_grow_with_the_table() {
    let api = Arc::new(TestApi::new().await);
    let (writer, _) = api.quick_user("writer").await;
    let (_, token) = api.quick_user("reader").await;
    api.expect(
        "POST",
        "/api/profiles/writer/follow",
        None,
        Some(&token),
        200,
    )
    .await;
    let mut everyone = Vec::new();
    for i in 0..3 {
        everyone.push(api.quick_user(&format!("other{i}")).await.0.user_id);
    }
    everyone.push(writer.user_id.clone());
    let first = articles(&api, &everyone, 25).await;
    for article in first.iter().take(30) {
        let path = format!("/api/articles/{}", article.slug.as_str());
        api.expect("POST", &format!("{path}/favorite"), None, Some(&token), 200)
            .await;
        let comment = serde_json::json!({"comment": {"body": "nice"}});
        api.expect(
            "POST",
            &format!("{path}/comments"),
            Some(comment),
            Some(&token),
            201,
        )
        .await;
    }
    let slug = first[0].slug.as_str().to_owned();
    // 100 articles so far; 1,900 more, a quarter of them the measured author's.
    let small = measure_all(&api, &token, &slug).await;
    articles(&api, &everyone, 475).await;
    let large = measure_all(&api, &token, &slug).await;

    println!(
        "| endpoint | requests (100) | capacity (100) | requests (2,000) | capacity (2,000) |"
    );
    println!("|---|---|---|---|---|");
    for (s, l) in small.iter().zip(&large) {
        println!(
            "| {} | {} | {:.1} | {} | {:.1} |",
            s.name,
            s.usage.requests,
            s.usage.capacity_units,
            l.usage.requests,
            l.usage.capacity_units
        );
        assert_eq!(
            s.usage.requests, l.usage.requests,
            "{}: requests grew with the table",
            s.name
        );
        // Content differs between the two pages (which articles are favorited),
        // so capacity may move a little either way; it must not grow with the table.
        assert!(
            l.usage.capacity_units <= s.usage.capacity_units + 1.0,
            "{}: capacity grew with the table ({} -> {})",
            s.name,
            s.usage.capacity_units,
            l.usage.capacity_units
        );
        // The feed is a private read: one point read of the reader's item
        // (their session), beside its first query.
        let session = u64::from(s.name == "GET /articles/feed");
        // A page of 100 batch-reads its ~300 keys in concurrent chunks of 100.
        let chunks = if s.name.contains("limit=100") { 2 } else { 0 };
        assert!(
            l.usage.requests <= 3 + session + chunks,
            "{}: {} requests",
            s.name,
            l.usage.requests
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "benchmark: scripts/test.sh runs it in its benchmark step"]
async fn a_reader_following_500_authors_gets_a_page_in_a_bounded_number_of_requests() {
    let api = Arc::new(TestApi::new().await);
    let (_, token) = api.quick_user("reader").await;
    let authors: Vec<User> = futures::stream::iter(0..500)
        .map(|i| {
            let (api, token) = (api.clone(), token.clone());
            async move {
                let name = format!("author{i}");
                let (author, _) = api.quick_user(&name).await;
                let follow = format!("/api/profiles/{name}/follow");
                api.expect("POST", &follow, None, Some(&token), 200).await;
                author
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    futures::stream::iter(authors.iter().take(100))
        .for_each_concurrent(8, |author| {
            let api = api.clone();
            async move {
                articles(&api, std::slice::from_ref(&author.user_id), 2).await;
            }
        })
        .await;
    let feed = measure(
        &api,
        "GET /articles/feed (500 followed)",
        "/api/articles/feed",
        &token,
    )
    .await;
    let deep = measure(
        &api,
        "GET /articles/feed?offset=40",
        "/api/articles/feed?offset=40&limit=20",
        &token,
    )
    .await;
    for m in [&feed, &deep] {
        println!(
            "| {} | {} requests | {:.1} capacity units |",
            m.name, m.usage.requests, m.usage.capacity_units
        );
        // 1 query for the follows, 5 batch reads of 100 authors, 1 batch read
        // for the page, and the reader's item (their session) beside the first.
        assert!(
            m.usage.requests <= 8,
            "{}: {} requests",
            m.name,
            m.usage.requests
        );
    }
    let body = api
        .expect("GET", "/api/articles/feed", None, Some(&token), 200)
        .await;
    assert_eq!(body["articlesCount"], 200);
    assert_eq!(body["articles"].as_array().unwrap().len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "benchmark: scripts/test.sh runs it in its benchmark step"]
async fn deep_reads_cost_what_one_page_reads_whatever_the_article_or_the_table_holds() {
    let api = Arc::new(TestApi::new().await);
    let (_, token) = api.quick_user("reader").await;
    let mut authors = Vec::new();
    for i in 0..4 {
        authors.push(api.quick_user(&format!("writer{i}")).await.0.user_id);
    }
    // 10,100 articles: `offset=10000` skips 10,000 index entries.
    let created = articles(&api, &authors, 2_525).await;
    let slug = created[0].slug.as_str().to_owned();
    let comments = format!("/api/articles/{slug}/comments");
    let written: Vec<u64> = futures::stream::iter(0..5_000)
        .map(|i| {
            let (api, comments, token) = (&api, &comments, &token);
            async move {
                let body = format!("Comment {i:04}: {}", "a considered reply. ".repeat(19));
                let comment = serde_json::json!({"comment": {"body": body}});
                let created = api
                    .expect("POST", comments, Some(comment), Some(token), 201)
                    .await;
                created["comment"]["id"].as_u64().unwrap()
            }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    let middle = {
        let mut ids = written.clone();
        ids.sort_unstable();
        ids[2_500]
    };
    let rows = vec![
        measure(
            &api,
            "GET comments (5,000 on the article)",
            &comments,
            &token,
        )
        .await,
        measure(
            &api,
            "GET comments?before= (page 26 of 50)",
            &format!("{comments}?before={middle}"),
            &token,
        )
        .await,
        measure(
            &api,
            "GET /articles?offset=10000 (10,100 articles)",
            "/api/articles?offset=10000",
            &token,
        )
        .await,
        measure(
            &api,
            "GET /articles?offset=10000&limit=100",
            "/api/articles?offset=10000&limit=100",
            &token,
        )
        .await,
    ];
    println!("\n| deep read | requests | capacity |\n|---|---:|---:|");
    for row in &rows {
        println!(
            "| {} | {} | {:.1} |",
            row.name, row.usage.requests, row.usage.capacity_units
        );
    }
    // A page of 100 comments of ~400 bytes is about 60 KB: 7.5 read units
    // eventually consistent, plus its authors; 5,000 comments would be 300+.
    for row in &rows[..2] {
        assert!(row.usage.requests <= 2, "{}: {:?}", row.name, row.usage);
        assert!(
            row.usage.capacity_units <= 12.0,
            "{}: {:?}",
            row.name,
            row.usage
        );
    }
    // Skipping reads the index's small pointers, not 10,000 articles
    // (which would be over 1,200 units at their ~1 KB).
    for row in &rows[2..] {
        assert!(
            row.usage.capacity_units <= 250.0,
            "{}: {:?}",
            row.name,
            row.usage
        );
    }
}

/// One request of the mix, as the load test sends it: what it cost.
async fn mix_request(
    api: &TestApi,
    method: &str,
    path: &str,
    body: Option<serde_json::Value>,
    token: Option<&str>,
) -> conduit::store::Usage {
    let before = api.app.store.usage();
    let (status, response) = api.call(method, path, body, token).await;
    assert!(status < 300, "{method} {path}: {status} {response}");
    api.app.store.usage() - before
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "benchmark: scripts/test.sh runs it in its benchmark step"]
async fn every_endpoint_of_the_load_mix_is_measured_for_the_capacity_model() {
    use conduit_tests::capacity::{MIX, Measured};
    let api = Arc::new(TestApi::new().await);
    let (writer, writer_token) = api.quick_user("writer").await;
    let reader = api.register("reader").await;
    api.expect(
        "POST",
        "/api/profiles/writer/follow",
        None,
        Some(&reader),
        200,
    )
    .await;
    let others: Vec<UserId> = {
        let mut ids = Vec::new();
        for i in 0..3 {
            ids.push(api.quick_user(&format!("other{i}")).await.0.user_id);
        }
        ids.push(writer.user_id.clone());
        ids
    };
    let made = articles(&api, &others, 25).await;
    // The home page read below is the 20 newest: written concurrently above,
    // they could be fewer authors' by chance (and the page cheaper); these
    // twenty, by each author in turn, make it the same page every run.
    for _ in 0..5 {
        for author in &others {
            articles(&api, std::slice::from_ref(author), 1).await;
        }
    }
    let slug = made
        .iter()
        .find(|a| a.author_id == writer.user_id)
        .unwrap()
        .slug
        .as_str()
        .to_owned();
    for article in made.iter().take(10) {
        let path = format!("/api/articles/{}/comments", article.slug.as_str());
        let comment =
            serde_json::json!({"comment": {"body": "A comment of a typical length for a reply."}});
        api.expect("POST", &path, Some(comment), Some(&writer_token), 201)
            .await;
    }
    let article = format!("/api/articles/{slug}");
    let comment = serde_json::json!({"comment": {"body": "A comment from the load test, of a typical length for a reply."}});
    let new_article = serde_json::json!({"article": {
        "title": "An article written under load", "description": "Written by the load test's writers.",
        "body": "Words. ".repeat(200), "tagList": ["bench"],
    }});
    let login =
        serde_json::json!({"user": {"email": "reader@example.com", "password": "password123"}});
    let reader = Some(reader.as_str());
    let mut measured = conduit_tests::capacity::Costs::new();
    for share in &MIX {
        let usage = match share.endpoint {
            "GET /articles" => {
                mix_request(&api, "GET", "/api/articles?limit=20&offset=0", None, None).await
            }
            "GET /tags" => mix_request(&api, "GET", "/api/tags", None, None).await,
            "GET /articles/{slug}" => mix_request(&api, "GET", &article, None, None).await,
            "GET /articles?tag" => {
                mix_request(&api, "GET", "/api/articles?tag=t1", None, None).await
            }
            "GET /articles/{slug}/comments" => {
                mix_request(&api, "GET", &format!("{article}/comments"), None, reader).await
            }
            "GET /articles/feed" => {
                mix_request(&api, "GET", "/api/articles/feed", None, reader).await
            }
            "GET /profiles/{username}" => {
                mix_request(&api, "GET", "/api/profiles/writer", None, reader).await
            }
            "GET /user" => mix_request(&api, "GET", "/api/user", None, reader).await,
            "POST /articles/{slug}/favorite" => {
                mix_request(&api, "POST", &format!("{article}/favorite"), None, reader).await
            }
            "DELETE /articles/{slug}/favorite" => {
                mix_request(&api, "DELETE", &format!("{article}/favorite"), None, reader).await
            }
            "POST /articles/{slug}/comments" => {
                mix_request(
                    &api,
                    "POST",
                    &format!("{article}/comments"),
                    Some(comment.clone()),
                    reader,
                )
                .await
            }
            "POST /profiles/{username}/follow" => {
                api.expect("DELETE", "/api/profiles/writer/follow", None, reader, 200)
                    .await;
                mix_request(&api, "POST", "/api/profiles/writer/follow", None, reader).await
            }
            "POST /articles" => {
                mix_request(
                    &api,
                    "POST",
                    "/api/articles",
                    Some(new_article.clone()),
                    reader,
                )
                .await
            }
            "POST /users/login" => {
                mix_request(&api, "POST", "/api/users/login", Some(login.clone()), None).await
            }
            other => panic!("the mix has {other}, which this benchmark does not measure"),
        };
        measured.insert(
            share.endpoint.to_owned(),
            Measured {
                requests: usage.requests as f64,
                read_units: usage.read_units,
                write_units: usage.capacity_units - usage.read_units,
                index_writes: usage.index_writes as f64,
            },
        );
    }
    println!(
        "\n| mix endpoint | requests | read units | write units | index writes (at most) |\n|---|---:|---:|---:|---:|"
    );
    for (name, m) in &measured {
        println!(
            "| {name} | {} | {:.1} | {:.1} | {} |",
            m.requests, m.read_units, m.write_units, m.index_writes
        );
    }
    // The capacity model's input (scripts/test.sh passes the path).
    if let Ok(out) = std::env::var("CONDUIT_COST_OUT") {
        std::fs::write(&out, serde_json::to_string_pretty(&measured).unwrap()).unwrap();
        println!("wrote {out}");
    }
}

/// One keyed (or unkeyed) write: its status and what it cost.
async fn write(
    api: &TestApi,
    path: &str,
    body: Option<serde_json::Value>,
    token: &str,
    key: Option<&str>,
) -> (u16, Usage) {
    let before = api.app.store.usage();
    let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
    let response = api
        .respond_with("POST", path, body, Some(token), &headers)
        .await;
    (response.status().as_u16(), api.app.store.usage() - before)
}

#[tokio::test]
#[ignore = "benchmark: scripts/test.sh runs it in its benchmark step"]
async fn an_idempotency_key_costs_at_most_one_request_more_and_a_replay_three() {
    let api = TestApi::new().await;
    let author = api.register("author").await;
    let reader = api.register("reader").await;
    let new = |title: &str| {
        Some(serde_json::json!({"article": {"title": title, "description": "d", "body": "b"}}))
    };
    let slug = api.create_article(&author, "Measured", &[]).await;
    let favorite = format!("/api/articles/{slug}/favorite");
    let comments = format!("/api/articles/{slug}/comments");
    let comment = || Some(serde_json::json!({"comment": {"body": "a comment"}}));
    let mut rows = Vec::new();
    for (name, path, body, token) in [
        (
            "POST /articles",
            "/api/articles".to_owned(),
            new("One"),
            &author,
        ),
        ("POST comments", comments.clone(), comment(), &reader),
        ("POST favorite", favorite.clone(), None, &reader),
        (
            "POST follow",
            "/api/profiles/author/follow".to_owned(),
            None,
            &reader,
        ),
    ] {
        // Without a key, then (with other state where the write is a flag:
        // unfavorite and unfollow first) with one, then that key again.
        let (status, plain) = write(&api, &path, body.clone(), token, None).await;
        assert!(status < 300, "{name}: {status}");
        if path == favorite {
            api.expect("DELETE", &favorite, None, Some(token), 200)
                .await;
        }
        if path.ends_with("/follow") {
            api.expect("DELETE", &path, None, Some(token), 200).await;
        }
        let key = format!("\"{name}\"");
        let (status, keyed) = write(&api, &path, body.clone(), token, Some(&key)).await;
        assert!(status < 300, "{name}: {status}");
        let (status, replay) = write(&api, &path, body, token, Some(&key)).await;
        assert!(status < 300, "{name}: {status}");
        rows.push((name, plain, keyed, replay));
    }
    println!(
        "\n| write | requests without a key | with a key | replayed | capacity without | with | replayed | index writes (at most) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (name, plain, keyed, replay) in &rows {
        println!(
            "| {name} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {} |",
            plain.requests,
            keyed.requests,
            replay.requests,
            plain.capacity_units,
            keyed.capacity_units,
            replay.capacity_units,
            plain.index_writes
        );
        // DynamoDB Local meters no index writes: counted from the items.
        // A comment writes none; a favorite only its own new entry (the
        // favoriter's list), never a rewrite of the article's or user's.
        match *name {
            "POST comments" => assert_eq!(plain.index_writes, 0, "{name}"),
            "POST favorite" => assert_eq!(plain.index_writes, 1, "{name}"),
            _ => {}
        }
        // The claim; a keyed favorite reads its article once, before the
        // write (its response goes into the write), instead of before and after.
        assert!(
            keyed.requests <= plain.requests + 1,
            "{name}: {} requests with a key, {} without",
            keyed.requests,
            plain.requests
        );
        // The refused claim, the receipt, and the caller's item: a replay
        // answers only a live session.
        assert_eq!(
            replay.requests, 3,
            "{name}: the refused claim, the receipt and the caller's session"
        );
    }
}
