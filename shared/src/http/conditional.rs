//! Conditional requests (RFC 9110): strong `ETag`s of bodies,
//! `If-None-Match` (a `304`) and `If-Match` (a `412` where the write is
//! refused).

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};

/// Tags a `200` with its strong `ETag`, and turns it into a `304` without a
/// body when the request's `If-None-Match` names that tag; anything else as it is.
pub(super) fn conditional(request: &Request, mut response: Response<Body>) -> Response<Body> {
    if response.status() != StatusCode::OK {
        return response;
    }
    let tag = entity_tag(response.body());
    let unchanged = request
        .headers()
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| if_none_match(value, &tag));
    if unchanged {
        response = Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .body(Body::Empty)
            .expect("static parts are valid");
    }
    response.headers_mut().insert(
        header::ETAG,
        header::HeaderValue::from_str(&tag).expect("hex is a valid header"),
    );
    response
}

/// The strong entity tag of a body: the first 128 bits of its SHA-256, in hex.
pub(crate) fn entity_tag(body: &Body) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(body.as_ref());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// An `If-Match` precondition: the write applies only to the representation
/// the client last saw (optimistic concurrency; see `docs/resilience.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IfMatch {
    /// `*`: any current representation.
    Any,
    /// These tags. A weak one, `W/"…"`, matches when the tag inside is the
    /// current one, where RFC 9110 would have it never match: CloudFront
    /// weakens the tags of the responses it compresses, and ours are hashes
    /// of the uncompressed body, so `W/` of our own tag still names exactly
    /// the representation the client saw.
    Tags(Vec<String>),
}

impl IfMatch {
    /// The request's precondition, if it sent `If-Match`. A value that is not
    /// visible ASCII names no tag we issue: it matches nothing (a 412), never
    /// no condition at all.
    pub fn of(request: &Request) -> Option<Self> {
        let raw = request.headers().get_all(header::IF_MATCH);
        raw.iter().next()?;
        let values: Vec<&str> = raw.iter().filter_map(|value| value.to_str().ok()).collect();
        if values.iter().any(|value| value.trim() == "*") {
            return Some(Self::Any);
        }
        Some(Self::Tags(
            values
                .iter()
                .flat_map(|value| value.split(','))
                .map(|tag| tag.trim().to_owned())
                .filter(|tag| !tag.is_empty())
                .collect(),
        ))
    }

    /// Whether the current representation, whose tag is `current`, satisfies it.
    pub(crate) fn matches(&self, current: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Tags(tags) => tags
                .iter()
                .any(|tag| tag.strip_prefix("W/").unwrap_or(tag) == current),
        }
    }
}

/// Whether an `If-None-Match` value names `tag`: `*`, or a comma-separated
/// list compared weakly (a `W/` prefix is ignored), as RFC 9110 asks.
fn if_none_match(value: &str, tag: &str) -> bool {
    value.trim() == "*"
        || value
            .split(',')
            .map(|candidate| candidate.trim())
            .any(|candidate| candidate.strip_prefix("W/").unwrap_or(candidate) == tag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::TokenError;
    use crate::http::{ApiError, json, respond_cacheable};

    fn conditional_get(if_none_match: Option<&str>, body: &str) -> Response<Body> {
        authenticated_get(if_none_match, body, None)
    }

    fn authenticated_get(
        if_none_match: Option<&str>,
        body: &str,
        token: Option<&str>,
    ) -> Response<Body> {
        let mut request = Request::new(Body::Empty);
        if let Some(token) = token {
            request
                .headers_mut()
                .insert(header::AUTHORIZATION, token.parse().unwrap());
        }
        if let Some(value) = if_none_match {
            request
                .headers_mut()
                .insert(header::IF_NONE_MATCH, value.parse().unwrap());
        }
        let body = serde_json::json!({ "tags": [body] });
        respond_cacheable(&request, Ok(json(StatusCode::OK, &body)))
    }

    #[test]
    fn an_authenticated_200_is_private_and_the_same_tag_back_gets_a_304_without_a_body() {
        let first = authenticated_get(None, "rust", Some("Token t"));
        assert_eq!(first.status(), StatusCode::OK);
        let tag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
        assert!(
            tag.starts_with('"') && tag.ends_with('"') && tag.len() == 34,
            "{tag}"
        );
        assert_eq!(first.headers()[header::CACHE_CONTROL], "private, no-cache");
        assert_eq!(first.headers()[header::VARY], "Authorization");
        let again = authenticated_get(Some(&tag), "rust", Some("Token t"));
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert!(again.body().is_empty());
        assert_eq!(again.headers()[header::ETAG], tag.as_str());
        assert_eq!(again.headers()[header::CACHE_CONTROL], "private, no-cache");
    }

    #[test]
    fn an_anonymous_200_and_its_304_may_be_kept_by_shared_caches_for_s_maxage() {
        let first = conditional_get(None, "rust");
        let policy = first.headers()[header::CACHE_CONTROL].to_str().unwrap();
        assert!(
            policy.starts_with("public, ") && policy.contains("s-maxage=5"),
            "{policy}"
        );
        assert!(policy.contains("stale-while-revalidate=") && policy.contains("stale-if-error="));
        assert_eq!(first.headers()[header::VARY], "Authorization");
        let tag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
        let again = conditional_get(Some(&tag), "rust");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.headers()[header::CACHE_CONTROL], policy);
    }

    #[test]
    fn a_changed_body_gets_a_new_tag_and_a_full_200() {
        let old = conditional_get(None, "rust");
        let old_tag = old.headers()[header::ETAG].to_str().unwrap().to_owned();
        let new = conditional_get(Some(&old_tag), "lambda");
        assert_eq!(new.status(), StatusCode::OK);
        assert_ne!(new.headers()[header::ETAG], old_tag.as_str());
        assert!(!new.body().is_empty());
    }

    #[test]
    fn if_none_match_accepts_lists_weak_tags_and_a_star() {
        let tag = conditional_get(None, "rust").headers()[header::ETAG]
            .to_str()
            .unwrap()
            .to_owned();
        for value in [
            format!("\"other\", {tag}"),
            format!("W/{tag}"),
            "*".to_owned(),
        ] {
            assert_eq!(
                conditional_get(Some(&value), "rust").status(),
                StatusCode::NOT_MODIFIED,
                "{value}"
            );
        }
        assert_eq!(
            conditional_get(Some("\"other\""), "rust").status(),
            StatusCode::OK
        );
    }

    #[test]
    fn errors_get_no_tag_and_are_never_a_304() {
        let mut request = Request::new(Body::Empty);
        request
            .headers_mut()
            .insert(header::IF_NONE_MATCH, "*".parse().unwrap());
        let response =
            respond_cacheable(&request, Err(ApiError::Unauthorized(TokenError::Missing)));
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().get(header::ETAG).is_none());
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    }

    fn with_if_match(values: &[&str]) -> Request {
        let mut request = Request::new(Body::Empty);
        for value in values {
            request
                .headers_mut()
                .append(header::IF_MATCH, value.parse().unwrap());
        }
        request
    }

    #[test]
    fn if_match_is_absent_a_star_or_a_list_of_strong_tags() {
        assert_eq!(IfMatch::of(&with_if_match(&[])), None);
        assert_eq!(IfMatch::of(&with_if_match(&["*"])), Some(IfMatch::Any));
        let condition = IfMatch::of(&with_if_match(&["\"a\", \"b\"", "W/\"c\""])).unwrap();
        assert!(condition.matches("\"a\"") && condition.matches("\"b\""));
        assert!(
            condition.matches("\"c\""),
            "a tag the edge weakened when it compressed the body still matches"
        );
        assert!(!condition.matches("\"d\""));
        assert!(IfMatch::Any.matches("\"anything\""));
        let mut unreadable = Request::new(Body::Empty);
        unreadable.headers_mut().insert(
            header::IF_MATCH,
            header::HeaderValue::from_bytes(b"\"\xff\"").unwrap(),
        );
        let condition = IfMatch::of(&unreadable).expect("a condition, not none");
        assert!(!condition.matches("\"anything\""));
    }
}
