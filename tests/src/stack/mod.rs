//! Checks of the running local stack (`scripts/test.sh` runs each as a step,
//! through `conduit-dev check-stack CHECK URL`): each sends its requests to
//! the stack at a base URL, decides from what came back, and says in one line
//! what it saw. The deciders are plain functions of the replies, unit-tested
//! on made-up ones.

pub mod client;
pub mod cors;
pub mod edge;
pub mod non_utf8;
pub mod not_modified;
pub mod one_key;
pub mod stale_if_match;

use anyhow::{Result, bail};

pub use client::{Reply, Stack};

/// The checks, by the name `check-stack` takes, with what each proves.
pub const CHECKS: [(&str, &str); 8] = [
    (
        "cors",
        "CORS preflight and response headers, as template.yaml's CorsConfiguration says",
    ),
    (
        "not-modified",
        "a repeated GET with If-None-Match gets a 304",
    ),
    (
        "one-key",
        "twenty concurrent POST /articles with one Idempotency-Key create one article",
    ),
    (
        "stale-if-match",
        "a PUT with a stale If-Match gets a 412 and changes nothing",
    ),
    (
        "non-utf8",
        "a body that is not UTF-8 gets a 422, as JSON or as binary",
    ),
    (
        "shared-reads",
        "an anonymous GET /api/articles is shareable (s-maxage), with a token private, an error no-store",
    ),
    (
        "around-the-edge",
        "a call straight to the runtime (URL: the runtime's), without the edge's header, gets a 403",
    ),
    (
        "login-fairness",
        "a client guessing wrong for another's email is locked out; the owner, from another address, logs in",
    ),
];

/// Runs check `name` against the stack at `url`: the line saying what it saw.
pub async fn run(name: &str, url: &str) -> Result<String> {
    let stack = Stack::new(url)?;
    match name {
        "cors" => cors::check(&stack).await,
        "not-modified" => not_modified::check(&stack).await,
        "one-key" => one_key::check(&stack).await,
        "stale-if-match" => stale_if_match::check(&stack).await,
        "non-utf8" => non_utf8::check(&stack).await,
        "shared-reads" => edge::check_shared_reads(&stack).await,
        "around-the-edge" => edge::check_around_the_edge(&stack).await,
        "login-fairness" => edge::check_login_fairness(&stack, url).await,
        other => bail!("no check named {other:?}; the checks: {}", names()),
    }
}

/// The checks' names, `|`-separated (for usage lines).
pub fn names() -> String {
    CHECKS.map(|(name, _)| name).join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unknown_check_is_refused_with_the_list() {
        let error = run("cros", "http://127.0.0.1:9")
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains("no check named \"cros\""), "{error}");
        assert!(error.contains("cors | not-modified"), "{error}");
    }

    #[tokio::test]
    async fn every_listed_check_is_run() {
        // Nothing listens on the discard port: each check gets as far as its first request.
        for (name, _) in CHECKS {
            let error = run(name, "http://127.0.0.1:9").await.unwrap_err();
            assert!(
                !error.to_string().contains("no check named"),
                "{name}: {error:#}"
            );
        }
    }
}
