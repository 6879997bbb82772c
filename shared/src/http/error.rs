//! [`ApiError`]: every way a request can fail, and the one mapping to a
//! status code and RealWorld's `{"errors": {...}}` body.

use std::error::Error as StdError;

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Response};
use serde::Serialize;

use super::body::json;
use crate::auth::TokenError;
use crate::domain::{ValidationErrors, limits};
use crate::store::StoreError;

/// Every way a request can fail, and so every non-2xx status the API returns.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
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
    /// 429: over a limit (what, in the body's terms: `field` and
    /// `message`); try again after `retry_after` seconds.
    #[error("limited for {retry_after} s: {field} {message}")]
    TooManyRequests {
        /// Seconds until the next attempt is considered.
        retry_after: u64,
        /// What was limited (the error body's key).
        field: &'static str,
        /// Why (the error body's message).
        message: &'static str,
    },
    /// 403: the stack has an edge (CloudFront) and the request went around
    /// it, to the execute-api URL, without the edge's secret header.
    #[error("called around the edge")]
    AroundTheEdge,
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
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) | Self::KeyInUse => StatusCode::CONFLICT,
            Self::BadHeader(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) | Self::BadCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::AroundTheEdge => StatusCode::FORBIDDEN,
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
            Self::Unauthorized(TokenError::Ended) => {
                ValidationErrors::single("token", "belongs to a session that has ended")
            }
            Self::BadCredentials => ValidationErrors::single("credentials", "invalid"),
            Self::Forbidden(what) => ValidationErrors::single(*what, "forbidden"),
            Self::NotFound(what) => ValidationErrors::single(*what, "not found"),
            Self::PreconditionFailed(what) => ValidationErrors::single(*what, "has changed"),
            Self::TooManyRequests { field, message, .. } => {
                ValidationErrors::single(*field, *message)
            }
            Self::AroundTheEdge => ValidationErrors::single(
                "origin",
                "is the API's edge: call the ApiUrl of the stack, not the execute-api URL",
            ),
            Self::PayloadTooLarge => ValidationErrors::single(
                "body",
                format!("is larger than {} bytes", limits::REQUEST_BODY_MAX),
            ),
            Self::Unavailable(_) => ValidationErrors::single("server", "temporarily unavailable"),
            Self::Internal(_) => ValidationErrors::single("server", "internal error"),
        }
    }

    /// The response for this error; a 500's cause chain goes to the log only.
    pub(crate) fn into_response(self) -> Response<Body> {
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
        // No cache (the edge's included, which by default keeps some errors
        // for 10 s) may answer anyone else, or this caller later, with it.
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            header::HeaderValue::from_static("no-store"),
        );
        let retry_after = match self {
            Self::Unavailable(_) => Some(u64::from(crate::config::budget::RETRY_AFTER_SECONDS)),
            Self::TooManyRequests { retry_after, .. } => Some(retry_after.max(1)),
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
pub(crate) struct ErrorsBody {
    /// Messages by field.
    pub errors: std::collections::BTreeMap<String, Vec<String>>,
}

/// Renders an error with all its causes.
pub(crate) fn chain(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// The status and JSON body `error` answers with (the request parser's tests use it too).
    pub(in crate::http) fn errors_of(error: ApiError) -> (StatusCode, serde_json::Value) {
        let response = error.into_response();
        let status = response.status();
        let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        (status, body)
    }

    #[test]
    fn each_error_maps_to_its_status_in_the_spec_shape() {
        let cases = [
            (ApiError::Unauthorized(TokenError::Missing), 401, "token"),
            (ApiError::BadCredentials, 401, "credentials"),
            (ApiError::Forbidden("article"), 403, "article"),
            (ApiError::NotFound("profile"), 404, "profile"),
            (ApiError::AroundTheEdge, 403, "origin"),
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

    #[test]
    fn no_error_may_be_kept_by_any_cache() {
        for error in [ApiError::NotFound("article"), ApiError::BadCredentials] {
            let response = error.into_response();
            assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
        }
    }

    #[test]
    fn a_limit_is_a_429_with_retry_after_in_the_spec_shape() {
        let response = ApiError::TooManyRequests {
            retry_after: 42,
            field: "client",
            message: "too many requests",
        }
        .into_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers()[header::RETRY_AFTER], "42");
        let body: serde_json::Value = serde_json::from_slice(response.body().as_ref()).unwrap();
        assert_eq!(body["errors"]["client"][0], "too many requests");
    }

    #[test]
    fn a_failed_precondition_is_a_412_naming_the_resource() {
        let (status, body) = errors_of(ApiError::PreconditionFailed("article"));
        assert_eq!(status, StatusCode::PRECONDITION_FAILED);
        assert_eq!(body["errors"]["article"][0], "has changed");
    }
}
