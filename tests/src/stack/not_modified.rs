//! Revalidation: a repeated `GET /api/tags` with `If-None-Match` set to the
//! `ETag` of the first gets a `304`.

use anyhow::Result;

use super::client::{Reply, Stack, etag_of, expect_status};

/// Two `GET /api/tags`, the second with the first's tag: what they said.
pub async fn check(stack: &Stack) -> Result<String> {
    let first = stack.get("/api/tags", &[]).await?;
    let etag = etag_of(&first, "GET /api/tags")?;
    let again = stack
        .get("/api/tags", &[("if-none-match", etag.as_str())])
        .await?;
    judge_revalidation(&again, &etag)?;
    Ok(format!("ETag {etag}, then {}", again.status))
}

/// The revalidation with the current `etag` must be a `304`.
pub fn judge_revalidation(reply: &Reply, etag: &str) -> Result<()> {
    expect_status(
        reply,
        304,
        &format!("GET /api/tags with If-None-Match {etag}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_304_passes() {
        judge_revalidation(&Reply::canned(304, &[("etag", "\"t\"")], ""), "\"t\"").unwrap();
    }

    #[test]
    fn a_200_to_a_current_tag_is_reported() {
        let error = judge_revalidation(&Reply::canned(200, &[], r#"{"tags":[]}"#), "\"t\"")
            .unwrap_err()
            .to_string();
        assert!(error.contains("not 304"), "{error}");
    }
}
