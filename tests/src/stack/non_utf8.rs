//! Bodies that are not UTF-8: `POST /api/users` with one, declared as JSON or
//! as binary, gets a `422`, never a `500` (API Gateway base64-encodes such a
//! body; the local gateway does the same).

use anyhow::Result;
use hyper::Method;
use hyper::body::Bytes;

use super::client::{Reply, Stack, expect_status};

/// A body with bytes that are not UTF-8 (a byte-order mark of UTF-16 and a
/// lone continuation byte) around something JSON-shaped.
pub const BODY: &[u8] = b"\xff\xfe{\"user\":\x80}";

/// The content types it is sent as.
pub const CONTENT_TYPES: [&str; 2] = ["application/json", "application/octet-stream"];

/// Sends [`BODY`] as each of [`CONTENT_TYPES`]: what they said.
pub async fn check(stack: &Stack) -> Result<String> {
    for content_type in CONTENT_TYPES {
        let reply = stack
            .send(
                Method::POST,
                "/api/users",
                &[("content-type", content_type)],
                Bytes::from_static(BODY),
            )
            .await?;
        judge(&reply, content_type)?;
    }
    Ok(format!(
        "422 for a non-UTF-8 body as {}",
        CONTENT_TYPES.join(" and as ")
    ))
}

/// The answer to [`BODY`] sent as `content_type` must be a `422`.
pub fn judge(reply: &Reply, content_type: &str) -> Result<()> {
    expect_status(
        reply,
        422,
        &format!("POST /api/users with a non-UTF-8 body as {content_type}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_422_passes() {
        let reply = Reply::canned(422, &[], r#"{"errors":{"body":["is not UTF-8"]}}"#);
        judge(&reply, "application/json").unwrap();
    }

    #[test]
    fn a_500_is_reported_with_the_content_type() {
        let reply = Reply::canned(500, &[], "Internal Server Error");
        let error = judge(&reply, "application/octet-stream")
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("as application/octet-stream: 500"),
            "{error}"
        );
        assert!(error.contains("not 422"), "{error}");
    }

    #[test]
    fn a_400_is_reported_too() {
        assert!(judge(&Reply::canned(400, &[], ""), "application/json").is_err());
    }
}
