//! The data a run starts from, made through the API itself (so the same run
//! works against a deployed stack): accounts, authors' articles, follows.
//! Every setup step checks its status.

use anyhow::{Context, Result, bail};
use futures::{StreamExt, TryStreamExt};
use rand::Rng;
use serde_json::{Value, json};

/// A registered user and a token of theirs.
#[derive(Debug, Clone)]
pub struct Account {
    /// Their username.
    pub username: String,
    /// `Token …` header value.
    pub token: String,
}

/// What the scenarios act on.
#[derive(Debug)]
pub struct Fixture {
    /// The API's base URL, without `/api`.
    pub base: String,
    /// This run's id: in every name and tag it creates.
    pub run: String,
    /// The password of every account (logins in the mix use it).
    pub password: String,
    /// Accounts; the first is the celebrity author, the next nine write too.
    pub accounts: Vec<Account>,
    /// The articles made here, the viral one first.
    pub slugs: Vec<String>,
    /// The tags those articles carry.
    pub tags: Vec<String>,
}

impl Fixture {
    /// The article everyone reads, favorites and comments on.
    pub fn viral(&self) -> &str {
        &self.slugs[0]
    }

    /// The author everyone looks up and follows.
    pub fn celebrity(&self) -> &Account {
        &self.accounts[0]
    }
}

/// Authors among the accounts.
pub const AUTHORS: usize = 10;
/// Articles each author starts with.
const ARTICLES_PER_AUTHOR: usize = 4;

/// One request with an optional token and JSON body: status and JSON body.
pub async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Result<(u16, Value)> {
    let mut request = client.request(method, url);
    if let Some(token) = token {
        request = request.header("authorization", token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("{url}: no answer"))?;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// [`send`] that must answer `status`.
pub async fn expect(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
    status: u16,
) -> Result<Value> {
    let (got, body) = send(client, method.clone(), url, token, body).await?;
    if got != status {
        bail!("setup: {method} {url} answered {got}, not {status}: {body}");
    }
    Ok(body)
}

/// Registers `accounts` users, has ten of them write articles (tagged with
/// this run's tags), and has every other account follow the ten.
pub async fn prepare(client: &reqwest::Client, base: &str, accounts: usize) -> Result<Fixture> {
    let run: String = {
        let mut rng = rand::rng();
        (0..6)
            .map(|_| char::from(b"abcdefghijklmnopqrstuvwxyz0123456789"[rng.random_range(0..36)]))
            .collect()
    };
    let password = "load-test-password".to_owned();
    let api = format!("{base}/api");
    let registered: Vec<Account> = futures::stream::iter(0..accounts)
        .map(|i| {
            let (api, run, password) = (&api, &run, &password);
            async move {
                let username = format!("load{run}u{i}");
                let user = json!({"user": {"username": username, "email": format!("{username}@example.com"), "password": password}});
                let body = expect(client, reqwest::Method::POST, &format!("{api}/users"), None, Some(user), 201).await?;
                let token = body["user"]["token"].as_str().context("a token")?;
                Ok::<_, anyhow::Error>(Account {
                    username,
                    token: format!("Token {token}"),
                })
            }
        })
        .buffered(16)
        .try_collect()
        .await?;
    let tags: Vec<String> = (0..5).map(|i| format!("load-{run}-{i}")).collect();
    let mut slugs = Vec::new();
    for round in 0..ARTICLES_PER_AUTHOR {
        let made: Vec<String> = futures::stream::iter(registered.iter().take(AUTHORS).enumerate())
            .map(|(a, author)| {
                let (api, tags) = (&api, &tags);
                async move {
                    let article = json!({"article": {
                        "title": format!("Load article {round} by author {a}"),
                        "description": "An article the load test reads, favorites and comments on.",
                        "body": "Words. ".repeat(200),
                        "tagList": [tags[(a + round) % tags.len()], tags[(a + round + 1) % tags.len()]],
                    }});
                    let body = expect(client, reqwest::Method::POST, &format!("{api}/articles"), Some(&author.token), Some(article), 201).await?;
                    Ok::<_, anyhow::Error>(body["article"]["slug"].as_str().context("a slug")?.to_owned())
                }
            })
            .buffered(AUTHORS)
            .try_collect()
            .await?;
        slugs.extend(made);
    }
    futures::stream::iter(registered.iter().skip(AUTHORS))
        .map(|reader| {
            let (api, authors) = (&api, &registered[..AUTHORS]);
            async move {
                for author in authors.iter().take(3) {
                    let url = format!("{api}/profiles/{}/follow", author.username);
                    expect(
                        client,
                        reqwest::Method::POST,
                        &url,
                        Some(&reader.token),
                        None,
                        200,
                    )
                    .await?;
                }
                Ok::<_, anyhow::Error>(())
            }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(Fixture {
        base: base.to_owned(),
        run,
        password,
        accounts: registered,
        slugs,
        tags,
    })
}

/// Starts `instances` execution environments of every function the
/// scenarios call, before anything is timed: each gets that many
/// concurrent requests (the writes' ones refused with a 404 or 422, so
/// nothing changes). On Lambda this is a cold start per environment; the
/// local emulator starts each with a `cargo run`, which takes seconds.
pub async fn warm(client: &reqwest::Client, fixture: &Fixture, instances: usize) -> Result<()> {
    use reqwest::Method;
    let api = format!("{}/api", fixture.base);
    let token = fixture.accounts[AUTHORS].token.as_str();
    let nowhere = format!("{api}/articles/nothing-here-aaaaaaaaaaaa");
    let nobody = format!("{api}/profiles/nobody-{}", fixture.run);
    let calls: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("{api}/articles"), None),
        (Method::GET, format!("{api}/tags"), None),
        (
            Method::GET,
            format!("{api}/articles/{}", fixture.viral()),
            None,
        ),
        (Method::GET, format!("{api}/articles/feed"), None),
        (
            Method::GET,
            format!("{api}/profiles/{}", fixture.celebrity().username),
            None,
        ),
        (
            Method::GET,
            format!("{api}/articles/{}/comments", fixture.viral()),
            None,
        ),
        (Method::GET, format!("{api}/user"), None),
        (Method::POST, format!("{nowhere}/favorite"), None),
        (Method::DELETE, format!("{nowhere}/favorite"), None),
        (
            Method::POST,
            format!("{nowhere}/comments"),
            Some(json!({"comment": {"body": "x"}})),
        ),
        (Method::POST, format!("{nobody}/follow"), None),
        (Method::DELETE, format!("{nobody}/follow"), None),
        (Method::POST, format!("{api}/users/login"), Some(json!({}))),
        (Method::POST, format!("{api}/articles"), Some(json!({}))),
    ];
    for (method, url, body) in &calls {
        futures::stream::iter(0..instances)
            .map(|_| async move {
                let (status, _) =
                    send(client, method.clone(), url, Some(token), body.clone()).await?;
                if status >= 500 {
                    bail!("warming {method} {url}: {status}");
                }
                Ok(())
            })
            .buffer_unordered(instances)
            .try_collect::<Vec<()>>()
            .await?;
    }
    Ok(())
}
