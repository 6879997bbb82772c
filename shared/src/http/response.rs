//! Turning a handler's result into the response, with the caching headers of
//! reads.

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};

use super::conditional::conditional;
use super::error::ApiError;

/// Turns a handler's result into the response.
pub(crate) fn respond(result: Result<Response<Body>, ApiError>) -> Response<Body> {
    result.unwrap_or_else(ApiError::into_response)
}

/// Turns a read handler's result into the response, answering conditional
/// GETs. A `200` carries a strong `ETag`, a hash of its body, and
/// `Vary: Authorization`; a request whose `If-None-Match` names the current
/// tag gets `304 Not Modified` without a body.
///
/// Who may keep it: a request without `Authorization` gets the same body as
/// every anonymous caller, so it is `public` with a short `s-maxage`
/// ([`super::edge`]): the edge answers the next anonymous readers from its
/// copy. With a token the body depends on the caller: `private, no-cache`
/// (no shared cache may keep it; a private one must ask again each time).
/// Errors are `no-store` ([`ApiError::into_response`]).
///
/// Why a hash of the body and not item versions: a representation draws on
/// several items (an article, its author's profile, the caller's follow and
/// favorite, counts) and on who asks, so no single version covers it; the
/// body does, exactly, for about a microsecond of hashing. A `304` saves the
/// transfer, not the DynamoDB reads behind it.
pub(crate) fn respond_cacheable(
    request: &Request,
    result: Result<Response<Body>, ApiError>,
) -> Response<Body> {
    let mut response = conditional(request, respond(result));
    if response.status() == StatusCode::OK || response.status() == StatusCode::NOT_MODIFIED {
        let policy = if request.headers().contains_key(header::AUTHORIZATION) {
            header::HeaderValue::from_static("private, no-cache")
        } else {
            header::HeaderValue::from_str(&super::shared_caching(request).policy())
                .expect("digits and commas are a valid header")
        };
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, policy);
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
pub(crate) fn respond_public(
    request: &Request,
    response: Response<Body>,
    max_age: u32,
) -> Response<Body> {
    let mut response = conditional(request, response);
    let policy = format!("public, max-age={max_age}");
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_str(&policy).expect("digits are a valid header"),
    );
    response
}
