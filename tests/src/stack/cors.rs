//! CORS for a front end on another origin: the preflight of a `PUT /api/user`
//! is answered as the template's `CorsConfiguration` says, and a response
//! carries the allowed origin and exposes `ETag`.

use anyhow::{Result, bail};
use hyper::Method;
use hyper::body::Bytes;

use super::client::{Reply, Stack, expect_status};

/// The front end's origin (a dev server's usual one).
pub const ORIGIN: &str = "http://localhost:4200";

/// Sends the preflight and a `GET /api/tags` from [`ORIGIN`]: what they said.
pub async fn check(stack: &Stack) -> Result<String> {
    let preflight = stack
        .send(
            Method::OPTIONS,
            "/api/user",
            &[
                ("origin", ORIGIN),
                ("access-control-request-method", "PUT"),
                (
                    "access-control-request-headers",
                    "authorization,content-type",
                ),
            ],
            Bytes::new(),
        )
        .await?;
    judge_preflight(&preflight)?;
    let actual = stack.get("/api/tags", &[("origin", ORIGIN)]).await?;
    judge_response(&actual)?;
    let header = |reply: &Reply, name| reply.header(name).unwrap_or_default();
    Ok(format!(
        "preflight {} allows origin {}, methods {}, headers {}; GET /api/tags allows origin {} and exposes {}",
        preflight.status,
        header(&preflight, "access-control-allow-origin"),
        header(&preflight, "access-control-allow-methods"),
        header(&preflight, "access-control-allow-headers"),
        header(&actual, "access-control-allow-origin"),
        header(&actual, "access-control-expose-headers"),
    ))
}

/// The preflight must be a 204 allowing any origin, `PUT` and `authorization`.
pub fn judge_preflight(reply: &Reply) -> Result<()> {
    expect_status(reply, 204, "the preflight of PUT /api/user")?;
    allows_any_origin(reply, "the preflight")?;
    if !reply.lists("access-control-allow-headers", "authorization") {
        bail!("the preflight refused authorization: {}", reply.describe());
    }
    if !reply.lists("access-control-allow-methods", "PUT") {
        bail!("the preflight refused PUT: {}", reply.describe());
    }
    Ok(())
}

/// A response to another origin must allow it and expose `ETag`.
pub fn judge_response(reply: &Reply) -> Result<()> {
    allows_any_origin(reply, "GET /api/tags")?;
    if !reply.lists("access-control-expose-headers", "etag") {
        bail!("GET /api/tags does not expose ETag: {}", reply.describe());
    }
    Ok(())
}

fn allows_any_origin(reply: &Reply, what: &str) -> Result<()> {
    match reply.header("access-control-allow-origin") {
        Some(origin) if origin.trim() == "*" => Ok(()),
        Some(origin) => bail!(
            "{what} allowed origin {origin}, not *: {}",
            reply.describe()
        ),
        None => bail!("{what} allowed no origin: {}", reply.describe()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD_PREFLIGHT: [(&str, &str); 3] = [
        ("access-control-allow-origin", "*"),
        (
            "access-control-allow-methods",
            "GET,POST,PUT,DELETE,OPTIONS",
        ),
        (
            "access-control-allow-headers",
            "authorization,content-type,if-match",
        ),
    ];

    fn preflight_without(name: &str) -> Reply {
        let headers: Vec<_> = GOOD_PREFLIGHT
            .into_iter()
            .filter(|(n, _)| *n != name)
            .collect();
        Reply::canned(204, &headers, "")
    }

    fn message(result: Result<()>) -> String {
        result.expect_err("a failure").to_string()
    }

    #[test]
    fn the_templates_preflight_passes() {
        judge_preflight(&Reply::canned(204, &GOOD_PREFLIGHT, "")).unwrap();
    }

    #[test]
    fn a_preflight_without_allow_origin_is_reported() {
        let reply = preflight_without("access-control-allow-origin");
        assert!(message(judge_preflight(&reply)).contains("allowed no origin"));
    }

    #[test]
    fn a_preflight_allowing_one_other_origin_is_reported() {
        let mut headers = GOOD_PREFLIGHT.to_vec();
        headers[0] = ("access-control-allow-origin", "http://example.com");
        let error = message(judge_preflight(&Reply::canned(204, &headers, "")));
        assert!(error.contains("not *"), "{error}");
    }

    #[test]
    fn a_preflight_without_authorization_is_reported() {
        let reply = preflight_without("access-control-allow-headers");
        assert!(message(judge_preflight(&reply)).contains("refused authorization"));
    }

    #[test]
    fn a_preflight_without_put_is_reported() {
        let mut headers = GOOD_PREFLIGHT.to_vec();
        headers[1] = ("access-control-allow-methods", "GET,POST");
        let error = message(judge_preflight(&Reply::canned(204, &headers, "")));
        assert!(error.contains("refused PUT"), "{error}");
    }

    #[test]
    fn a_preflight_that_reached_a_function_is_reported() {
        let error = message(judge_preflight(&Reply::canned(404, &GOOD_PREFLIGHT, "")));
        assert!(error.contains("not 204"), "{error}");
    }

    #[test]
    fn a_response_exposing_etag_to_any_origin_passes() {
        let reply = Reply::canned(
            200,
            &[
                ("access-control-allow-origin", "*"),
                ("access-control-expose-headers", "ETag,Cache-Control"),
            ],
            "{}",
        );
        judge_response(&reply).unwrap();
    }

    #[test]
    fn a_response_without_cors_headers_is_reported() {
        let error = message(judge_response(&Reply::canned(200, &[], "{}")));
        assert!(error.contains("allowed no origin"), "{error}");
    }

    #[test]
    fn a_response_that_hides_etag_is_reported() {
        let reply = Reply::canned(200, &[("access-control-allow-origin", "*")], "{}");
        assert!(message(judge_response(&reply)).contains("does not expose ETag"));
    }
}
