//! Idempotency under concurrency: twenty `POST /api/articles` sent at once
//! with one `Idempotency-Key` create one article, and all twenty answer it.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{Context, Result, bail};
use hyper::Method;
use serde_json::json;

use super::client::{Reply, Stack, expect_status};

/// How many requests share the key.
pub const REQUESTS: usize = 20;

/// Registers a key holder, sends the [`REQUESTS`] at once, then lists the
/// holder's articles: what they said.
pub async fn check(stack: &Stack) -> Result<String> {
    let (name, token) = stack.register("keyholder").await?;
    let key = format!("\"{:032x}\"", rand::random::<u128>());
    let body = json!({"article": {"title": "Sent twenty times", "description": "d", "body": "b"}});
    let headers = [("idempotency-key", key.as_str())];
    let sends = (0..REQUESTS)
        .map(|_| stack.send_json(Method::POST, "/api/articles", &token, &headers, &body));
    let replies = futures::future::join_all(sends)
        .await
        .into_iter()
        .collect::<Result<Vec<_>>>()?;
    let slug = judge_replies(&replies)?;
    let list = stack
        .get(&format!("/api/articles?author={name}"), &[])
        .await?;
    judge_articles(&list, &name)?;
    Ok(format!(
        "{REQUESTS} × 201, one slug ({slug}), one article by {name}"
    ))
}

/// Every reply must be a 201 naming the same article: its slug.
pub fn judge_replies(replies: &[Reply]) -> Result<String> {
    let mut statuses = BTreeMap::<u16, usize>::new();
    for reply in replies {
        *statuses.entry(reply.status).or_default() += 1;
    }
    if let Some(other) = replies.iter().find(|r| r.status != 201) {
        let counts: Vec<String> = statuses
            .iter()
            .map(|(status, n)| format!("{n} × {status}"))
            .collect();
        bail!(
            "statuses: {}; the first that is not 201: {}",
            counts.join(", "),
            other.describe()
        );
    }
    let slugs = replies
        .iter()
        .map(|r| {
            r.json()["article"]["slug"]
                .as_str()
                .map(str::to_owned)
                .with_context(|| format!("a 201 without a slug: {}", r.text()))
        })
        .collect::<Result<BTreeSet<_>>>()?;
    match slugs.len() {
        1 => Ok(slugs.into_iter().next().expect("one slug")),
        0 => bail!("no replies"),
        n => bail!("{n} slugs, not one: {slugs:?}"),
    }
}

/// The author's list must count exactly one article.
pub fn judge_articles(list: &Reply, author: &str) -> Result<()> {
    expect_status(list, 200, &format!("GET /api/articles?author={author}"))?;
    let count = &list.json()["articlesCount"];
    if count != 1 {
        bail!("{author} has {count} articles, not 1: {}", list.text());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn created(slug: &str) -> Reply {
        Reply::canned(201, &[], &json!({"article": {"slug": slug}}).to_string())
    }

    #[test]
    fn twenty_answers_of_one_article_pass_with_its_slug() {
        let replies = vec![created("sent-twenty-times-1"); REQUESTS];
        assert_eq!(judge_replies(&replies).unwrap(), "sent-twenty-times-1");
    }

    #[test]
    fn a_second_slug_is_reported() {
        let mut replies = vec![created("sent-twenty-times-1"); REQUESTS - 1];
        replies.push(created("sent-twenty-times-2"));
        let error = judge_replies(&replies).unwrap_err().to_string();
        assert!(error.contains("2 slugs, not one"), "{error}");
    }

    #[test]
    fn a_conflict_among_the_answers_is_reported_with_the_counts() {
        let mut replies = vec![created("sent-twenty-times-1"); REQUESTS - 1];
        replies.push(Reply::canned(
            409,
            &[],
            r#"{"errors":{"idempotency-key":["in use"]}}"#,
        ));
        let error = judge_replies(&replies).unwrap_err().to_string();
        assert!(error.contains("19 × 201, 1 × 409"), "{error}");
        assert!(error.contains("in use"), "{error}");
    }

    #[test]
    fn a_201_without_a_slug_is_reported() {
        let replies = vec![Reply::canned(201, &[], "{}")];
        assert!(judge_replies(&replies).is_err());
    }

    #[test]
    fn a_list_of_one_article_passes() {
        let list = Reply::canned(200, &[], r#"{"articles":[{}],"articlesCount":1}"#);
        judge_articles(&list, "keyholder").unwrap();
    }

    #[test]
    fn a_list_of_two_articles_is_reported() {
        let list = Reply::canned(200, &[], r#"{"articles":[{},{}],"articlesCount":2}"#);
        let error = judge_articles(&list, "keyholder").unwrap_err().to_string();
        assert!(error.contains("has 2 articles, not 1"), "{error}");
    }

    #[test]
    fn a_list_without_a_count_is_reported() {
        let list = Reply::canned(200, &[], r#"{"articles":[]}"#);
        assert!(judge_articles(&list, "keyholder").is_err());
    }
}
