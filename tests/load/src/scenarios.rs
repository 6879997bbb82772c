//! The scenarios Goose runs: the everyday mix (anonymous readers, signed-in
//! readers, writers, weighted as README's "Load test" states) and the viral
//! burst on one article. Each request goes through [`call`], which records
//! what came back.

use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::Duration;

use goose::prelude::*;
use rand::Rng;
use rand::seq::IndexedRandom;
use serde_json::{Value, json};

use crate::fixture::{AUTHORS, Fixture};
use crate::record;

static FIXTURE: OnceLock<Fixture> = OnceLock::new();

/// Hands the scenarios their fixture (once, before the first attack).
pub fn install(fixture: Fixture) -> &'static Fixture {
    FIXTURE.get_or_init(|| fixture)
}

fn fixture() -> &'static Fixture {
    FIXTURE
        .get()
        .expect("the fixture is installed before any attack")
}

/// A Goose user's own state: whose account it acts as, what it favorited
/// and whom it follows (so a toggle knows which way to go).
#[derive(Debug, Clone, Default)]
struct Session {
    account: usize,
    favorited: HashSet<String>,
    following: HashSet<String>,
}

async fn begin(user: &mut GooseUser) -> TransactionResult {
    let account = user.weighted_users_index % fixture().accounts.len();
    user.set_session_data(Session {
        account,
        ..Session::default()
    });
    Ok(())
}

fn token(user: &GooseUser) -> &'static str {
    let session = user.get_session_data_unchecked::<Session>();
    &fixture().accounts[session.account].token
}

/// Sends one request named `name` (the report's endpoint), records its
/// status and latency, and returns its status and JSON body.
async fn call(
    user: &mut GooseUser,
    name: &'static str,
    method: GooseMethod,
    path: &str,
    authorized: bool,
    body: Option<Value>,
) -> Result<(u16, Value), Box<TransactionError>> {
    let mut builder = user.get_request_builder(&method, path)?;
    if authorized {
        builder = builder.header("authorization", token(user));
    }
    if let Some(body) = body {
        builder = builder.json(&body);
    }
    let request = GooseRequest::builder()
        .method(method)
        .path(path)
        .name(name)
        .set_request_builder(builder)
        .build();
    let goose = user.request(request).await?;
    let latency = Duration::from_millis(goose.request.response_time);
    let (status, retry_after, body) = match goose.response {
        Ok(response) => {
            let status = response.status().as_u16();
            let retry_after = response.headers().contains_key("retry-after");
            let text = response.text().await.unwrap_or_default();
            (
                status,
                retry_after,
                serde_json::from_str(&text).unwrap_or(Value::Null),
            )
        }
        Err(_) => (0, false, Value::Null),
    };
    record::record(name, status, retry_after, latency);
    Ok((status, body))
}

/// A read: [`call`] with a GET and no body, its answer only recorded.
async fn get(
    user: &mut GooseUser,
    name: &'static str,
    path: &str,
    authorized: bool,
) -> TransactionResult {
    call(user, name, GooseMethod::Get, path, authorized, None).await?;
    Ok(())
}

/// Half the article views, comment reads and profile views go to the
/// viral article and the celebrity author; the rest spread evenly.
fn skewed<'a>(items: &'a [String], hot: &'a str) -> &'a str {
    let mut rng = rand::rng();
    if rng.random_bool(0.5) {
        hot
    } else {
        items.choose(&mut rng).map_or(hot, String::as_str)
    }
}

async fn home(user: &mut GooseUser) -> TransactionResult {
    get(
        user,
        "GET /articles",
        "/api/articles?limit=20&offset=0",
        false,
    )
    .await
}

async fn tags(user: &mut GooseUser) -> TransactionResult {
    get(user, "GET /tags", "/api/tags", false).await
}

async fn article(user: &mut GooseUser) -> TransactionResult {
    let f = fixture();
    let path = format!("/api/articles/{}", skewed(&f.slugs, f.viral()));
    get(user, "GET /articles/{slug}", &path, false).await
}

async fn by_tag(user: &mut GooseUser) -> TransactionResult {
    let tag = fixture()
        .tags
        .choose(&mut rand::rng())
        .cloned()
        .unwrap_or_default();
    let path = format!("/api/articles?tag={tag}");
    get(user, "GET /articles?tag", &path, false).await
}

async fn feed(user: &mut GooseUser) -> TransactionResult {
    get(user, "GET /articles/feed", "/api/articles/feed", true).await
}

async fn profile(user: &mut GooseUser) -> TransactionResult {
    let f = fixture();
    let authors: Vec<String> = f.accounts[..AUTHORS]
        .iter()
        .map(|a| a.username.clone())
        .collect();
    let path = format!(
        "/api/profiles/{}",
        skewed(&authors, &f.celebrity().username)
    );
    get(user, "GET /profiles/{username}", &path, true).await
}

async fn comments(user: &mut GooseUser) -> TransactionResult {
    let f = fixture();
    let path = format!("/api/articles/{}/comments", skewed(&f.slugs, f.viral()));
    get(user, "GET /articles/{slug}/comments", &path, true).await
}

async fn current_user(user: &mut GooseUser) -> TransactionResult {
    get(user, "GET /user", "/api/user", true).await
}

/// Favorites an article this user has not favorited, or unfavorites one it has.
async fn toggle_favorite(user: &mut GooseUser) -> TransactionResult {
    let f = fixture();
    let slug = skewed(&f.slugs, f.viral()).to_owned();
    let on = user
        .get_session_data_unchecked::<Session>()
        .favorited
        .contains(&slug);
    let path = format!("/api/articles/{slug}/favorite");
    let (name, method) = if on {
        ("DELETE /articles/{slug}/favorite", GooseMethod::Delete)
    } else {
        ("POST /articles/{slug}/favorite", GooseMethod::Post)
    };
    let (status, _) = call(user, name, method, &path, true, None).await?;
    if status == 200 {
        let session = user.get_session_data_unchecked_mut::<Session>();
        if on {
            session.favorited.remove(&slug);
        } else {
            session.favorited.insert(slug);
        }
    }
    Ok(())
}

async fn comment_on(user: &mut GooseUser, slug: &str) -> TransactionResult {
    let path = format!("/api/articles/{slug}/comments");
    let body = json!({"comment": {"body": "A comment from the load test, of a typical length for a reply."}});
    let (status, _) = call(
        user,
        "POST /articles/{slug}/comments",
        GooseMethod::Post,
        &path,
        true,
        Some(body),
    )
    .await?;
    if status == 201 {
        *record::tally()
            .lock()
            .expect("tally")
            .comments
            .entry(slug.to_owned())
            .or_default() += 1;
    }
    Ok(())
}

async fn comment(user: &mut GooseUser) -> TransactionResult {
    let f = fixture();
    let slug = skewed(&f.slugs, f.viral()).to_owned();
    comment_on(user, &slug).await
}

async fn toggle_follow(user: &mut GooseUser) -> TransactionResult {
    let f = fixture();
    let author = f.accounts[rand::rng().random_range(0..AUTHORS)]
        .username
        .clone();
    let on = user
        .get_session_data_unchecked::<Session>()
        .following
        .contains(&author);
    let path = format!("/api/profiles/{author}/follow");
    let (name, method) = if on {
        ("DELETE /profiles/{username}/follow", GooseMethod::Delete)
    } else {
        ("POST /profiles/{username}/follow", GooseMethod::Post)
    };
    let (status, _) = call(user, name, method, &path, true, None).await?;
    if status == 200 {
        let session = user.get_session_data_unchecked_mut::<Session>();
        if on {
            session.following.remove(&author);
        } else {
            session.following.insert(author);
        }
    }
    Ok(())
}

async fn login(user: &mut GooseUser) -> TransactionResult {
    let f = fixture();
    let account = &f.accounts[user.get_session_data_unchecked::<Session>().account];
    let body = json!({"user": {"email": format!("{}@example.com", account.username), "password": f.password}});
    call(
        user,
        "POST /users/login",
        GooseMethod::Post,
        "/api/users/login",
        false,
        Some(body),
    )
    .await?;
    Ok(())
}

async fn create(user: &mut GooseUser) -> TransactionResult {
    let f = fixture();
    let tag = f.tags.choose(&mut rand::rng()).cloned().unwrap_or_default();
    let body = json!({"article": {
        "title": "An article written under load",
        "description": "Written by the load test's writers.",
        "body": "Words. ".repeat(200),
        "tagList": [tag],
    }});
    let (status, _) = call(
        user,
        "POST /articles",
        GooseMethod::Post,
        "/api/articles",
        true,
        Some(body),
    )
    .await?;
    if status == 201 {
        record::tally().lock().expect("tally").created += 1;
    }
    Ok(())
}

fn weighted(transaction: Transaction, weight: usize) -> Result<Transaction, GooseError> {
    transaction.set_weight(weight)
}

/// The everyday mix, per 100 requests: 50 anonymous (25 home page, 10 tags,
/// 10 article, 5 tag list), 35 signed-in reads (12 comments, 10 feed,
/// 8 profile, 5 current user), 15 writes (7 favorite or unfavorite,
/// 3 comment, 2 follow or unfollow, 2 new article, 1 login).
pub fn mix() -> Result<Vec<Scenario>, GooseError> {
    let start = || transaction!(begin).set_on_start();
    Ok(vec![
        scenario!("anonymous")
            .set_weight(50)?
            .register_transaction(start())
            .register_transaction(weighted(transaction!(home), 25)?)
            .register_transaction(weighted(transaction!(tags), 10)?)
            .register_transaction(weighted(transaction!(article), 10)?)
            .register_transaction(weighted(transaction!(by_tag), 5)?),
        scenario!("reader")
            .set_weight(35)?
            .register_transaction(start())
            .register_transaction(weighted(transaction!(comments), 12)?)
            .register_transaction(weighted(transaction!(feed), 10)?)
            .register_transaction(weighted(transaction!(profile), 8)?)
            .register_transaction(weighted(transaction!(current_user), 5)?),
        scenario!("writer")
            .set_weight(15)?
            .register_transaction(start())
            .register_transaction(weighted(transaction!(toggle_favorite), 7)?)
            .register_transaction(weighted(transaction!(comment), 3)?)
            .register_transaction(weighted(transaction!(toggle_follow), 2)?)
            .register_transaction(weighted(transaction!(create), 2)?)
            .register_transaction(weighted(transaction!(login), 1)?),
    ])
}

async fn viral_favorite(user: &mut GooseUser) -> TransactionResult {
    let path = format!("/api/articles/{}/favorite", fixture().viral());
    call(
        user,
        "POST /articles/{slug}/favorite",
        GooseMethod::Post,
        &path,
        true,
        None,
    )
    .await?;
    Ok(())
}

async fn viral_comment(user: &mut GooseUser) -> TransactionResult {
    comment_on(user, fixture().viral()).await
}

async fn viral_unfavorite(user: &mut GooseUser) -> TransactionResult {
    let path = format!("/api/articles/{}/favorite", fixture().viral());
    call(
        user,
        "DELETE /articles/{slug}/favorite",
        GooseMethod::Delete,
        &path,
        true,
        None,
    )
    .await?;
    Ok(())
}

/// Every user favorites the viral article and comments on it, at once.
pub fn viral_burst() -> Scenario {
    scenario!("viral favorites and comments")
        .register_transaction(transaction!(begin).set_on_start())
        .register_transaction(transaction!(viral_favorite))
        .register_transaction(transaction!(viral_comment))
}

/// Every user unfavorites it again, at once.
pub fn viral_retreat() -> Scenario {
    scenario!("viral unfavorites")
        .register_transaction(transaction!(begin).set_on_start())
        .register_transaction(transaction!(viral_unfavorite))
}
