//! The OpenAPI 3.1 document, and `GET /api/openapi.json`, which serves it. It is derived
//! from the code, not written beside it: each endpoint's `handle` carries its
//! `#[utoipa::path]` (route, parameters, specific statuses), the request and
//! response types derive their schemas, and [`Conventions`] adds what every
//! operation shares (server errors, conditional requests, idempotency keys,
//! the token scheme), from the same constants the code uses. A test compares
//! it with the RealWorld spec (`tests/tests/integration/openapi.rs`).

use utoipa::OpenApi;

use std::sync::LazyLock;

use lambda_http::http::{StatusCode, header};
use lambda_http::{Body, Request};

use crate::{api, http};

mod conventions;

use conventions::Conventions;

/// The document: every route of `template.yaml`, relative to the `/api` server.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Conduit on Lambda",
        description = "The RealWorld 2.0.0 API (a Medium-like blogging back end) on AWS Lambda \
            and DynamoDB, with conditional requests (`ETag`, `If-None-Match`, `If-Match`) and \
            idempotency keys beyond the spec.",
        license(name = "MIT", identifier = "MIT"),
    ),
    servers((url = "/api", description = "This deployment")),
    paths(
        api::login::handle,
        api::register::handle,
        api::get_current_user::handle,
        api::update_user::handle,
        api::end_sessions::handle,
        api::get_profile::handle,
        api::follow_user::handle,
        api::unfollow_user::handle,
        api::get_feed::handle,
        api::list_articles::handle,
        api::create_article::handle,
        api::get_article::handle,
        api::update_article::handle,
        api::delete_article::handle,
        api::list_comments::handle,
        api::add_comment::handle,
        api::delete_comment::handle,
        api::favorite_article::handle,
        api::unfavorite_article::handle,
        api::get_tags::handle,
        handle,
    ),
    components(schemas(crate::http::ErrorsBody)),
    modifiers(&Conventions),
    tags(
        (name = "User and Authentication"),
        (name = "Profile"),
        (name = "Articles"),
        (name = "Comments"),
        (name = "Favorites"),
        (name = "Tags"),
        (name = "Meta", description = "About this API itself"),
    )
)]
pub(crate) struct Document;

/// The document as compact JSON.
pub fn json() -> String {
    Document::openapi()
        .to_json()
        .expect("the document always serializes")
}

/// Operations whose `POST` takes an `Idempotency-Key` (see [`crate::idempotency`]).
pub const KEYED_OPERATIONS: [&str; 5] = [
    "CreateUser",
    "CreateArticle",
    "CreateArticleComment",
    "CreateArticleFavorite",
    "FollowUserByUsername",
];

/// Operations that honour `If-Match` (optimistic concurrency).
pub const IF_MATCH_OPERATIONS: [&str; 2] = ["UpdateArticle", "UpdateCurrentUser"];

/// How long any cache may keep the document before revalidating it: it
/// changes only with a deployment, and revalidation is a cheap `304`.
pub(crate) const MAX_AGE_SECONDS: u32 = 300;

/// Rendered once per execution environment, on the first request.
static DOCUMENT: LazyLock<String> = LazyLock::new(json);

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
pub async fn handle(request: Request) -> lambda_http::Response<Body> {
    let response = lambda_http::Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .body(Body::from(DOCUMENT.as_str()))
        .expect("static parts are valid");
    http::respond_public(&request, response, MAX_AGE_SECONDS)
}
