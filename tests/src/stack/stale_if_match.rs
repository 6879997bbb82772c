//! Optimistic concurrency: a `PUT` with the article's current `ETag` as
//! `If-Match` applies; the same `PUT` again, its tag now stale, gets a `412`
//! and changes nothing.

use anyhow::{Context, Result, bail};
use hyper::Method;
use serde_json::json;

use super::client::{Reply, Stack, etag_of, expect_status};

/// The body the first edit writes.
const FIRST: &str = "edited once";
/// The body the stale edit tries to write.
const SECOND: &str = "edited twice";

/// Registers an editor, creates an article, edits it twice with one tag and
/// reads it back: what they said.
pub async fn check(stack: &Stack) -> Result<String> {
    let (_, token) = stack.register("editor").await?;
    let created = stack
        .send_json(
            Method::POST,
            "/api/articles",
            &token,
            &[],
            &json!({"article": {"title": "Edited twice", "description": "d", "body": "b"}}),
        )
        .await?;
    expect_status(&created, 201, "POST /api/articles")?;
    let slug = created.json()["article"]["slug"]
        .as_str()
        .with_context(|| format!("POST /api/articles: no slug in {}", created.text()))?
        .to_owned();
    let path = format!("/api/articles/{slug}");
    let authorization = format!("Token {token}");
    let read = stack
        .get(&path, &[("authorization", authorization.as_str())])
        .await?;
    let tag = etag_of(&read, &format!("GET {path}"))?;
    let first = edit(stack, &path, &token, &tag, FIRST).await?;
    expect_status(&first, 200, &format!("PUT {path} with the current tag"))?;
    judge_stale_edit(&edit(stack, &path, &token, &tag, SECOND).await?)?;
    judge_unchanged(&stack.get(&path, &[]).await?)?;
    Ok(format!(
        "200 with the current tag {tag}, then 412 with the same tag, the article as the first PUT left it"
    ))
}

/// `PUT path` setting the article's body, with `tag` as `If-Match`.
async fn edit(stack: &Stack, path: &str, token: &str, tag: &str, body: &str) -> Result<Reply> {
    let change = json!({"article": {"body": body}});
    stack
        .send_json(Method::PUT, path, token, &[("if-match", tag)], &change)
        .await
}

/// The second edit must be refused with a 412 saying the article has changed.
pub fn judge_stale_edit(reply: &Reply) -> Result<()> {
    expect_status(reply, 412, "PUT with a stale If-Match")?;
    if reply.json()["errors"]["article"] != json!(["has changed"]) {
        bail!(
            "the 412 does not say the article has changed: {}",
            reply.text()
        );
    }
    Ok(())
}

/// The article read afterwards must hold the first edit's body.
pub fn judge_unchanged(reply: &Reply) -> Result<()> {
    expect_status(reply, 200, "GET of the article after the stale PUT")?;
    let body = &reply.json()["article"]["body"];
    if body != FIRST {
        bail!("the stale PUT changed the article: its body is {body}, not {FIRST:?}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_412_saying_the_article_has_changed_passes() {
        let reply = Reply::canned(412, &[], r#"{"errors":{"article":["has changed"]}}"#);
        judge_stale_edit(&reply).unwrap();
    }

    #[test]
    fn a_stale_edit_that_applied_is_reported() {
        let reply = Reply::canned(200, &[], r#"{"article":{"body":"edited twice"}}"#);
        let error = judge_stale_edit(&reply).unwrap_err().to_string();
        assert!(error.contains("not 412"), "{error}");
    }

    #[test]
    fn a_412_about_something_else_is_reported() {
        let reply = Reply::canned(412, &[], r#"{"errors":{"user":["has changed"]}}"#);
        let error = judge_stale_edit(&reply).unwrap_err().to_string();
        assert!(
            error.contains("does not say the article has changed"),
            "{error}"
        );
    }

    #[test]
    fn the_first_edits_body_passes() {
        let reply = Reply::canned(200, &[], r#"{"article":{"body":"edited once"}}"#);
        judge_unchanged(&reply).unwrap();
    }

    #[test]
    fn the_stale_edits_body_is_reported() {
        let reply = Reply::canned(200, &[], r#"{"article":{"body":"edited twice"}}"#);
        let error = judge_unchanged(&reply).unwrap_err().to_string();
        assert!(
            error.contains("the stale PUT changed the article"),
            "{error}"
        );
    }
}
