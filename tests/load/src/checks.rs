//! What must hold after the load, checked through the API (so the same
//! checks run against a deployed stack): every count equals what it counts,
//! and no comment id was handed out twice.

use std::collections::{BTreeMap, HashSet};

use anyhow::{Context, Result};
use futures::{StreamExt, TryStreamExt};
use serde_json::Value;

use crate::fixture::{AUTHORS, Fixture, expect};
use crate::record::tally;

/// One verdict.
#[derive(Debug)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// Whether it held.
    pub passed: bool,
    /// The numbers behind it.
    pub detail: String,
}

impl Check {
    fn new(name: impl Into<String>, passed: bool, detail: String) -> Self {
        Self {
            name: name.into(),
            passed,
            detail,
        }
    }
}

const GET: reqwest::Method = reqwest::Method::GET;

/// The viral article's `favoritesCount` equals the number of accounts that
/// see it as favorited (each asked with its own token).
pub async fn viral_favorites(
    client: &reqwest::Client,
    fixture: &Fixture,
    accounts: usize,
) -> Result<Check> {
    let url = format!("{}/api/articles/{}", fixture.base, fixture.viral());
    let flags: Vec<bool> = futures::stream::iter(fixture.accounts.iter().take(accounts))
        .map(|account| {
            let url = &url;
            async move {
                let body = expect(client, GET, url, Some(&account.token), None, 200).await?;
                Ok::<_, anyhow::Error>(body["article"]["favorited"].as_bool() == Some(true))
            }
        })
        .buffer_unordered(32)
        .try_collect()
        .await?;
    let favorited = flags.iter().filter(|f| **f).count() as u64;
    let body = expect(client, GET, &url, None, None, 200).await?;
    let count = body["article"]["favoritesCount"]
        .as_u64()
        .context("favoritesCount")?;
    Ok(Check::new(
        "the viral article's favoritesCount equals the accounts that favorited it",
        count == favorited,
        format!("favoritesCount {count}, accounts seeing it favorited {favorited}"),
    ))
}

/// Every article of the table, paged 100 at a time: (articlesCount, articles).
async fn all_articles(client: &reqwest::Client, base: &str) -> Result<(u64, Vec<Value>)> {
    let mut articles = Vec::new();
    loop {
        let url = format!("{base}/api/articles?limit=100&offset={}", articles.len());
        let body = expect(client, GET, &url, None, None, 200).await?;
        let count = body["articlesCount"].as_u64().context("articlesCount")?;
        let page = body["articles"].as_array().cloned().unwrap_or_default();
        let done = page.len() < 100;
        articles.extend(page);
        if done || articles.len() >= 10_000 {
            return Ok((count, articles));
        }
    }
}

async fn count_of(client: &reqwest::Client, url: &str, token: Option<&str>) -> Result<u64> {
    let body = expect(client, GET, url, token, None, 200).await?;
    body["articlesCount"].as_u64().context("articlesCount")
}

/// Every comment of `slug`, following the `Link` header from page to page.
async fn all_comments(client: &reqwest::Client, base: &str, slug: &str) -> Result<Vec<u64>> {
    let mut ids = Vec::new();
    let mut next = Some(format!("/api/articles/{slug}/comments"));
    while let Some(path) = next.take() {
        let response = client.get(format!("{base}{path}")).send().await?;
        anyhow::ensure!(
            response.status() == 200,
            "GET {path}: {}",
            response.status()
        );
        next = response
            .headers()
            .get("link")
            .and_then(|link| link.to_str().ok())
            .and_then(|link| Some(link.get(1..link.find('>')?)?.to_owned()));
        let body: Value = response.json().await?;
        ids.extend(
            body["comments"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["id"].as_u64()),
        );
    }
    Ok(ids)
}

/// Counts against the lists they count, and comment ids.
pub async fn listings(client: &reqwest::Client, fixture: &Fixture) -> Result<Vec<Check>> {
    let base = &fixture.base;
    let mut checks = Vec::new();
    let (count, articles) = all_articles(client, base).await?;
    let distinct: HashSet<&str> = articles.iter().filter_map(|a| a["slug"].as_str()).collect();
    checks.push(Check::new(
        "articlesCount of the whole list equals the articles listed",
        count == distinct.len() as u64 && count == articles.len() as u64,
        format!(
            "articlesCount {count}, listed {}, distinct {}",
            articles.len(),
            distinct.len()
        ),
    ));
    for tag in &fixture.tags {
        let listed = articles
            .iter()
            .filter(|a| {
                a["tagList"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|x| x == tag))
            })
            .count() as u64;
        let counted = count_of(
            client,
            &format!("{base}/api/articles?tag={tag}&limit=1"),
            None,
        )
        .await?;
        checks.push(Check::new(
            format!("tag {tag}: its count equals the articles carrying it"),
            counted == listed,
            format!("articlesCount {counted}, articles with the tag {listed}"),
        ));
    }
    for author in &fixture.accounts[..AUTHORS] {
        let listed = articles
            .iter()
            .filter(|a| a["author"]["username"] == author.username.as_str())
            .count() as u64;
        let counted = count_of(
            client,
            &format!("{base}/api/articles?author={}&limit=1", author.username),
            None,
        )
        .await?;
        checks.push(Check::new(
            format!(
                "author {}: articlesCount equals their articles",
                author.username
            ),
            counted == listed,
            format!("articlesCount {counted}, listed {listed}"),
        ));
    }
    // Every favorite of the run is by one of its accounts on one of its
    // articles: the articles' counts and the accounts' lists count the same items.
    let by_article: u64 = articles
        .iter()
        .filter(|a| {
            a["slug"]
                .as_str()
                .is_some_and(|s| fixture.slugs.iter().any(|f| f == s))
        })
        .filter_map(|a| a["favoritesCount"].as_u64())
        .sum();
    let by_user: Vec<u64> = futures::stream::iter(&fixture.accounts)
        .map(|account| {
            let url = format!("{base}/api/articles?favorited={}&limit=1", account.username);
            async move { count_of(client, &url, None).await }
        })
        .buffer_unordered(32)
        .try_collect()
        .await?;
    let by_user: u64 = by_user.iter().sum();
    checks.push(Check::new(
        "favoritesCount over the run's articles equals the favorites its accounts list",
        by_article == by_user,
        format!("sum of favoritesCount {by_article}, sum of favorited lists {by_user}"),
    ));
    let answered: BTreeMap<String, u64> = tally().lock().expect("tally").comments.clone();
    let mut total = (0, 0);
    let mut duplicates = 0;
    for slug in &fixture.slugs {
        let ids = all_comments(client, base, slug).await?;
        let distinct: HashSet<u64> = ids.iter().copied().collect();
        duplicates += ids.len() - distinct.len();
        total.0 += ids.len() as u64;
        total.1 += answered.get(slug).copied().unwrap_or(0);
    }
    checks.push(Check::new(
        "every comment answered 201 is listed once, with an id of its own",
        duplicates == 0 && total.0 == total.1,
        format!(
            "listed {}, answered 201 {}, repeated ids {duplicates}",
            total.0, total.1
        ),
    ));
    Ok(checks)
}
