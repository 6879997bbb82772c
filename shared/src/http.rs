//! HTTP mapping: reading API Gateway requests, the one error-to-status mapping,
//! and the response bodies of the RealWorld spec (version 2.0.0).

use std::error::Error as StdError;

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::App;
use crate::auth::{TokenError, token_from_header};
use crate::domain::{ArticleId, Page, Slug, ValidationErrors, limits};
use crate::store::StoreError;

/// Every way a request can fail, and so every non-2xx status the API returns.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 422: the input was understood but is invalid.
    #[error("invalid input: {0}")]
    Unprocessable(ValidationErrors),
    /// 409: the input is valid but collides with existing state (a username
    /// or email someone else holds).
    #[error("conflict: {0}")]
    Conflict(ValidationErrors),
    /// 401: authentication is missing or invalid.
    #[error("unauthorized: {0}")]
    Unauthorized(#[from] TokenError),
    /// 401: wrong email or password.
    #[error("invalid credentials")]
    BadCredentials,
    /// 403: authenticated, but not allowed to touch this resource.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// 404: no such resource.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 412: the request's `If-Match` names a representation of the resource
    /// that is no longer current; nothing was written.
    #[error("{0} has changed")]
    PreconditionFailed(&'static str),
    /// 429: too many failed logins for this email; try again after `retry_after` seconds.
    #[error("locked for {retry_after} s")]
    TooManyRequests {
        /// Seconds until the next attempt is considered.
        retry_after: u64,
    },
    /// 400: a header the request depends on is malformed (an `Idempotency-Key`).
    #[error("bad header: {0}")]
    BadHeader(ValidationErrors),
    /// 409: the request's `Idempotency-Key` is held by a request whose outcome
    /// cannot be seen yet; retrying soon replays that outcome.
    #[error("idempotency key in use")]
    KeyInUse,
    /// 413: the body is over the size limit.
    #[error("request body too large")]
    PayloadTooLarge,
    /// 503: a dependency is unreachable, slow, throttling or contended; the
    /// client may retry after `Retry-After`. The cause is logged, never returned.
    #[error("dependency unavailable")]
    Unavailable(#[source] Box<dyn StdError + Send + Sync>),
    /// 500: anything unexpected; the cause is logged, never returned.
    #[error("internal error")]
    Internal(#[source] Box<dyn StdError + Send + Sync>),
}

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        Self::Unprocessable(errors)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        if error.is_transient() {
            Self::Unavailable(Box::new(error))
        } else {
            Self::Internal(Box::new(error))
        }
    }
}

impl ApiError {
    /// The status code this error maps to.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) | Self::KeyInUse => StatusCode::CONFLICT,
            Self::BadHeader(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) | Self::BadCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `{"errors": {...}}` body.
    fn errors(&self) -> ValidationErrors {
        match self {
            Self::Unprocessable(errors) | Self::Conflict(errors) | Self::BadHeader(errors) => {
                errors.clone()
            }
            Self::KeyInUse => ValidationErrors::single(
                "Idempotency-Key",
                "is in use by a request still in progress",
            ),
            Self::Unauthorized(TokenError::Missing) => {
                ValidationErrors::single("token", "is missing")
            }
            Self::Unauthorized(TokenError::Malformed) => {
                ValidationErrors::single("token", "must be sent as 'Token <jwt>'")
            }
            Self::Unauthorized(TokenError::Invalid) => {
                ValidationErrors::single("token", "is invalid or expired")
            }
            Self::BadCredentials => ValidationErrors::single("credentials", "invalid"),
            Self::Forbidden(what) => ValidationErrors::single(*what, "forbidden"),
            Self::NotFound(what) => ValidationErrors::single(*what, "not found"),
            Self::PreconditionFailed(what) => ValidationErrors::single(*what, "has changed"),
            Self::TooManyRequests { .. } => {
                ValidationErrors::single("credentials", "too many failed attempts, try again later")
            }
            Self::PayloadTooLarge => ValidationErrors::single(
                "body",
                format!("is larger than {} bytes", limits::REQUEST_BODY_MAX),
            ),
            Self::Unavailable(_) => ValidationErrors::single("server", "temporarily unavailable"),
            Self::Internal(_) => ValidationErrors::single("server", "internal error"),
        }
    }

    /// The response for this error; a 500's cause chain goes to the log only.
    pub fn into_response(self) -> Response<Body> {
        match &self {
            Self::Internal(cause) => {
                tracing::error!(error = %chain(cause.as_ref()), "request failed");
            }
            Self::Unavailable(cause) => {
                tracing::error!(error = %chain(cause.as_ref()), "dependency unavailable");
            }
            _ => tracing::info!(status = self.status().as_u16(), error = %self, "request refused"),
        }
        let body = ErrorsBody {
            errors: self.errors().fields().clone(),
        };
        let mut response = json(self.status(), &body);
        let retry_after = match self {
            Self::Unavailable(_) => Some(u64::from(crate::config::budget::RETRY_AFTER_SECONDS)),
            Self::TooManyRequests { retry_after } => Some(retry_after.max(1)),
            Self::KeyInUse => Some(1),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// The body of every error response: each field (or `body`, `token`,
/// `server`, …) with its messages.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = GenericErrorModel)]
pub struct ErrorsBody {
    /// Messages by field.
    pub errors: std::collections::BTreeMap<String, Vec<String>>,
}

/// Renders an error with all its causes.
pub fn chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// A JSON response.
pub fn json<T: Serialize>(status: StatusCode, body: &T) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Body::from(
            serde_json::to_string(body).expect("response bodies always serialize"),
        ))
        .expect("static parts are valid")
}

/// An empty 204 response.
pub fn no_content() -> Response<Body> {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .body(Body::Empty)
        .expect("static parts are valid")
}

/// Turns a handler's result into the response.
pub fn respond(result: Result<Response<Body>, ApiError>) -> Response<Body> {
    result.unwrap_or_else(ApiError::into_response)
}

/// Turns a read handler's result into the response, answering conditional
/// GETs. A `200` carries a strong `ETag`, a hash of its body, and
/// `Cache-Control: private, no-cache` with `Vary: Authorization` (the body
/// depends on the caller's token: no shared cache may keep it, and a private
/// one must ask again each time); a request whose `If-None-Match` names the
/// current tag gets `304 Not Modified` without a body.
///
/// Why a hash of the body and not item versions: a representation draws on
/// several items (an article, its author's profile, the caller's follow and
/// favorite, counts) and on who asks, so no single version covers it; the
/// body does, exactly, for about a microsecond of hashing. A `304` saves the
/// transfer, not the DynamoDB reads behind it.
pub fn respond_cacheable(
    request: &Request,
    result: Result<Response<Body>, ApiError>,
) -> Response<Body> {
    let mut response = conditional(request, respond(result));
    if response.status() == StatusCode::OK || response.status() == StatusCode::NOT_MODIFIED {
        let headers = response.headers_mut();
        headers.insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("private, no-cache"),
        );
        headers.insert(
            header::VARY,
            header::HeaderValue::from_static("Authorization"),
        );
    }
    response
}

/// A `200` that is the same for every caller and changes only with a
/// deployment (the OpenAPI document): any cache may keep it for `max_age`
/// seconds, then revalidate it with its `ETag`; `If-None-Match` gets a `304`.
pub fn respond_public(request: &Request, response: Response<Body>, max_age: u32) -> Response<Body> {
    let mut response = conditional(request, response);
    let policy = format!("public, max-age={max_age}");
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_str(&policy).expect("digits are a valid header"),
    );
    response
}

/// Tags a `200` with its strong `ETag`, and turns it into a `304` without a
/// body when the request's `If-None-Match` names that tag; anything else as it is.
fn conditional(request: &Request, mut response: Response<Body>) -> Response<Body> {
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
pub fn entity_tag(body: &Body) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(body.as_ref());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// An `If-Match` precondition: the write applies only to the representation
/// the client last saw (optimistic concurrency; see `docs/resilience.md`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any current representation.
    Any,
    /// These strong tags (weak ones, `W/"…"`, never match, as RFC 9110 asks).
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
    pub fn matches(&self, current: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Tags(tags) => tags.iter().any(|tag| tag == current),
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

/// Parses a JSON body, naming the offending field in the error.
pub fn parse_json<T: DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    let bytes: &[u8] = request.body().as_ref();
    if bytes.len() > limits::REQUEST_BODY_MAX {
        return Err(ApiError::PayloadTooLarge);
    }
    // API Gateway passes bodies that are not text as base64, which the runtime
    // decodes to bytes: anything here may be arbitrary binary.
    if std::str::from_utf8(bytes).is_err() {
        return Err(ValidationErrors::single("body", "is not valid UTF-8").into());
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ValidationErrors::single("body", "can't be empty").into());
    }
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut deserializer);
    let value = parsed.map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                ValidationErrors::single("body", "is not valid JSON")
            }
            _ => {
                let field = if path == "." || path.is_empty() {
                    "body".to_owned()
                } else {
                    path
                };
                ValidationErrors::single(field, strip_position(&inner.to_string()))
            }
        }
    })?;
    deserializer
        .end()
        .map_err(|_| ValidationErrors::single("body", "is not valid JSON"))?;
    Ok(value)
}

fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

/// A path parameter of the route, as API Gateway extracted it.
pub fn path_param(request: &Request, name: &str) -> Option<String> {
    request
        .path_parameters_ref()
        .and_then(|params| params.first(name))
        .map(str::to_owned)
}

/// A query-string parameter.
pub fn query_param(request: &Request, name: &str) -> Option<String> {
    request
        .query_string_parameters_ref()
        .and_then(|params| params.first(name))
        .map(str::to_owned)
}

/// `limit` and `offset` from the query string.
pub fn page(request: &Request) -> Result<Page, ApiError> {
    let limit = query_param(request, "limit");
    let offset = query_param(request, "offset");
    Ok(Page::parse(limit.as_deref(), offset.as_deref())?)
}

/// The article a `{slug}` path parameter names; 404 when it can name none.
pub fn slug_param(request: &Request) -> Result<(Slug, ArticleId), ApiError> {
    path_param(request, "slug")
        .as_deref()
        .and_then(Slug::parse)
        .ok_or(ApiError::NotFound("article"))
}

/// The raw `Authorization` header value.
fn authorization(request: &Request) -> Option<&str> {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
}

/// An authenticated caller: the user id and the token they presented.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user the token was issued to (its `sub`).
    pub id: crate::domain::UserId,
    /// The token as presented (echoed back by `GET /user`).
    pub token: String,
}

/// The caller, who must be authenticated.
pub fn require_auth(app: &App, request: &Request) -> Result<Caller, ApiError> {
    let token = token_from_header(authorization(request))?;
    let id = app.tokens.verify(token)?;
    Ok(Caller {
        id,
        token: token.to_owned(),
    })
}

/// The caller if a token was sent; a token that was sent but is bad is still a 401.
pub fn optional_auth(app: &App, request: &Request) -> Result<Option<Caller>, ApiError> {
    match authorization(request) {
        None => Ok(None),
        Some(_) => require_auth(app, request).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Wrapper {
        user: Inner,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        email: Option<String>,
    }

    fn request(body: &str) -> Request {
        Request::new(Body::from(body))
    }

    fn errors_of(error: ApiError) -> (StatusCode, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        (status, body)
    }

    #[test]
    fn malformed_json_is_a_422_on_the_body() {
        let error = parse_json::<Wrapper>(&request("{not json")).unwrap_err();
        let (status, body) = errors_of(error);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"]["body"][0], "is not valid JSON");
    }

    #[test]
    fn a_wrong_type_names_the_field() {
        let error = parse_json::<Wrapper>(&request(r#"{"user":{"email":5}}"#)).unwrap_err();
        let (status, body) = errors_of(error);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body["errors"]["user.email"][0]
                .as_str()
                .unwrap()
                .contains("invalid type")
        );
    }

    #[test]
    fn a_missing_wrapper_is_reported() {
        let error = parse_json::<Wrapper>(&request(r#"{"email":"a@b.c"}"#)).unwrap_err();
        let (_, body) = errors_of(error);
        assert_eq!(body["errors"]["body"][0], "missing field `user`");
    }

    #[test]
    fn an_empty_body_is_reported() {
        let (status, body) = errors_of(parse_json::<Wrapper>(&request("  ")).unwrap_err());
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"]["body"][0], "can't be empty");
    }

    #[test]
    fn a_body_that_is_not_utf8_is_a_422_saying_so() {
        let request = Request::new(Body::from(b"{\"user\":\xff}".to_vec()));
        let (status, body) = errors_of(parse_json::<Wrapper>(&request).unwrap_err());
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body["errors"]["body"][0], "is not valid UTF-8");
    }

    #[test]
    fn trailing_garbage_is_refused() {
        assert!(parse_json::<Wrapper>(&request(r#"{"user":{}} x"#)).is_err());
    }

    #[test]
    fn an_oversized_body_is_a_413() {
        let huge = format!(r#"{{"user":{{"email":"{}"}}}}"#, "a".repeat(300 * 1024));
        let error = parse_json::<Wrapper>(&request(&huge)).unwrap_err();
        assert_eq!(error.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[test]
    fn each_error_maps_to_its_status_in_the_spec_shape() {
        let cases = [
            (ApiError::Unauthorized(TokenError::Missing), 401, "token"),
            (ApiError::BadCredentials, 401, "credentials"),
            (ApiError::Forbidden("article"), 403, "article"),
            (ApiError::NotFound("profile"), 404, "profile"),
        ];
        for (error, status, field) in cases {
            let (got, body) = errors_of(error);
            assert_eq!(got.as_u16(), status);
            assert!(body["errors"][field].is_array(), "{body}");
        }
    }

    #[test]
    fn a_transient_store_failure_is_a_503_with_retry_after_hiding_its_cause() {
        let error: ApiError = StoreError::Unavailable {
            operation: "GetItem",
            source: Box::new(std::io::Error::other("secret endpoint detail")),
        }
        .into();
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
        let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert_eq!(body["errors"]["server"][0], "temporarily unavailable");
        assert!(!body.to_string().contains("secret"));
        let contended: ApiError = StoreError::Contended(40).into();
        assert_eq!(contended.status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn an_unexpected_store_failure_is_a_500() {
        let error: ApiError = StoreError::Request {
            operation: "GetItem",
            source: Box::new(std::io::Error::other("validation")),
        }
        .into();
        assert_eq!(error.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn a_500_hides_its_cause() {
        let cause = std::io::Error::other("secret connection string");
        let response = ApiError::Internal(Box::new(cause)).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let text = std::str::from_utf8(response.body().as_ref()).unwrap();
        assert!(!text.contains("secret"), "{text}");
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/json; charset=utf-8"
        );
    }

    fn conditional_get(if_none_match: Option<&str>, body: &str) -> Response<Body> {
        let mut request = Request::new(Body::Empty);
        if let Some(value) = if_none_match {
            request
                .headers_mut()
                .insert(header::IF_NONE_MATCH, value.parse().unwrap());
        }
        let body = serde_json::json!({ "tags": [body] });
        respond_cacheable(&request, Ok(json(StatusCode::OK, &body)))
    }

    #[test]
    fn a_200_carries_a_private_tag_and_the_same_tag_back_gets_a_304_without_a_body() {
        let first = conditional_get(None, "rust");
        assert_eq!(first.status(), StatusCode::OK);
        let tag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
        assert!(
            tag.starts_with('"') && tag.ends_with('"') && tag.len() == 34,
            "{tag}"
        );
        assert_eq!(first.headers()[header::CACHE_CONTROL], "private, no-cache");
        assert_eq!(first.headers()[header::VARY], "Authorization");
        let again = conditional_get(Some(&tag), "rust");
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert!(again.body().is_empty());
        assert_eq!(again.headers()[header::ETAG], tag.as_str());
        assert_eq!(again.headers()[header::CACHE_CONTROL], "private, no-cache");
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
            !condition.matches("\"c\""),
            "weak tags never match If-Match"
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

    #[test]
    fn a_failed_precondition_is_a_412_naming_the_resource() {
        let (status, body) = errors_of(ApiError::PreconditionFailed("article"));
        assert_eq!(status, StatusCode::PRECONDITION_FAILED);
        assert_eq!(body["errors"]["article"][0], "has changed");
    }
}
