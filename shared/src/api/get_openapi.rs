//! `GET /api/openapi.json`: this API's OpenAPI 3.1 document (see [`crate::openapi`]).

use std::sync::LazyLock;

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request, Response};

use crate::http;

/// How long any cache may keep the document before revalidating it: it
/// changes only with a deployment, and revalidation is a cheap `304`.
pub const MAX_AGE_SECONDS: u32 = 300;

/// Rendered once per execution environment, on the first request.
static DOCUMENT: LazyLock<String> = LazyLock::new(crate::openapi::json);

/// Lambda entry point: public, cacheable by anyone, answering `If-None-Match`.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "Meta",
    operation_id = "GetOpenApi",
    summary = "This document",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json"),
    ),
)]
pub async fn handle(request: Request) -> Response<Body> {
    let response = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Body::from(DOCUMENT.as_str()))
        .expect("static parts are valid");
    http::respond_public(&request, response, MAX_AGE_SECONDS)
}
