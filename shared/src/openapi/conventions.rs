//! What every operation shares, added to the derived document: server
//! errors, conditional requests, idempotency keys, the token scheme.

use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::path::{HttpMethod, Operation, Parameter, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr, Required, Response, ResponseBuilder};

use super::{IF_MATCH_OPERATIONS, KEYED_OPERATIONS};

/// The name of the token security scheme.
const TOKEN: &str = "Token";

/// What every operation shares, added to each as its kind asks.
pub(super) struct Conventions;

impl utoipa::Modify for Conventions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            TOKEN,
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`Token <jwt>` as the spec says, or `Bearer <jwt>`; the JWT comes from \
                 registration or login.",
            ))),
        );
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                (HttpMethod::Get, &mut item.get),
                (HttpMethod::Put, &mut item.put),
                (HttpMethod::Post, &mut item.post),
                (HttpMethod::Delete, &mut item.delete),
            ];
            for (method, operation) in operations {
                if let Some(operation) = operation {
                    conventions(method, operation);
                }
            }
        }
    }
}

fn conventions(method: HttpMethod, operation: &mut Operation) {
    let id = operation.operation_id.clone().unwrap_or_default();
    if operation.security.is_some() {
        respond(operation, 401, || {
            error(
                "The token is missing, malformed, forged or expired (also where it is optional, if sent)",
            )
        });
    }
    if operation.request_body.is_some() {
        respond(operation, 413, || {
            error(&format!(
                "The body is larger than {} bytes",
                crate::domain::limits::REQUEST_BODY_MAX
            ))
        });
    }
    if method == HttpMethod::Get {
        header_parameter(
            operation,
            "If-None-Match",
            "An `ETag` from an earlier response: if it is still current, the answer is a `304`",
        );
        if let Some(RefOr::T(ok)) = operation.responses.responses.get_mut("200") {
            for (name, description) in cache_headers(&id) {
                ok.headers.insert(name.into(), string_header(description));
            }
        }
        respond(operation, 304, || {
            let mut response = ResponseBuilder::new()
                .description(
                    "Not modified: the `ETag` sent in `If-None-Match` is still current; no body",
                )
                .build();
            for (name, description) in cache_headers(&id) {
                response
                    .headers
                    .insert(name.into(), string_header(description));
            }
            response
        });
    }
    if IF_MATCH_OPERATIONS.contains(&id.as_str()) {
        header_parameter(
            operation,
            "If-Match",
            "The `ETag` of the representation this edit is based on: the write applies only \
             if it is still current (optimistic concurrency)",
        );
        respond(operation, 412, || {
            error("The `If-Match` tag is not current: the resource changed; nothing was written")
        });
    }
    if KEYED_OPERATIONS.contains(&id.as_str()) {
        header_parameter_with(
            operation,
            "Idempotency-Key",
            "A key unique to this intended action, at most 255 characters, as a Structured \
             Field string (`\"…\"`) or a bare token such as a UUID: repeating the request \
             with it returns the first response without acting again, for 24 hours",
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1)),
        );
        for (status, response) in operation.responses.responses.iter_mut() {
            if status.starts_with('2')
                && let RefOr::T(response) = response
            {
                response.headers.insert(
                    crate::idempotency::REPLAYED_HEADER.into(),
                    string_header("`true` when this is the stored first response to the same `Idempotency-Key`"),
                );
            }
        }
        respond(operation, 400, || {
            error("The `Idempotency-Key` is malformed or sent twice")
        });
        respond_or_add(
            operation,
            409,
            "the `Idempotency-Key` is held by a request still in progress (retry after `Retry-After`)",
        );
        if let Some(RefOr::T(conflict)) = operation.responses.responses.get_mut("409") {
            conflict.headers.insert(
                "Retry-After".into(),
                integer_header("Seconds to wait, when the `Idempotency-Key` is in use"),
            );
        }
        respond_or_add(
            operation,
            422,
            "the `Idempotency-Key` was already used for a different request",
        );
    }
    match operation.responses.responses.get_mut("429") {
        Some(RefOr::T(own)) => own.description = format!("{}; or {THROTTLED}", own.description),
        _ => respond(operation, 429, throttled),
    }
    respond(operation, 500, || {
        error("Unexpected failure; the cause is logged, never returned")
    });
    if id == "GetOpenApi" {
        // Served from memory: no dependency to be unavailable.
        return;
    }
    respond(operation, 503, || {
        let mut response = error(
            "DynamoDB is unavailable, slow, throttling or contended: retry after `Retry-After` seconds",
        );
        response
            .headers
            .insert("Retry-After".into(), integer_header("Seconds to wait"));
        response
    });
}

/// Why API Gateway answers 429 before any function runs (`ThrottleRateLimit`).
const THROTTLED: &str = "the deployment's request rate was exceeded (API Gateway's throttle \
    answers before any function runs, with its own body)";

/// API Gateway's throttling answer, `{"message":"Too Many Requests"}`.
fn throttled() -> Response {
    let body = ObjectBuilder::new()
        .property("message", ObjectBuilder::new().schema_type(Type::String))
        .required("message");
    ResponseBuilder::new()
        .description(format!("Too many requests: {THROTTLED}"))
        .content("application/json", Content::new(Some(body)))
        .build()
}

/// Response headers of a cacheable `GET`: the tag and who may cache it.
fn cache_headers(id: &str) -> [(&'static str, &'static str); 2] {
    let policy = if id == "GetOpenApi" {
        "`public, max-age=300`: the same for everyone until the next deployment"
    } else {
        "Without `Authorization`: `public, max-age=0, s-maxage=<SharedMaxAgeSeconds>, stale-while-revalidate=10, stale-if-error=300` (every anonymous caller gets the same body). With it: `private, no-cache`. Both with `Vary: Authorization`"
    };
    [
        ("ETag", "A strong tag of this body, for `If-None-Match`"),
        ("Cache-Control", policy),
    ]
}

/// Adds `status` to the operation's responses unless it documents it itself.
fn respond(operation: &mut Operation, status: u16, response: impl FnOnce() -> Response) {
    operation
        .responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| RefOr::T(response()));
}

/// Adds `status` with `why`, or adds `why` to the description the operation gives it.
fn respond_or_add(operation: &mut Operation, status: u16, why: &str) {
    match operation.responses.responses.get_mut(&status.to_string()) {
        Some(RefOr::T(response)) if !response.description.contains(why) => {
            response.description = format!("{}; or {why}", response.description);
        }
        Some(_) => {}
        None => respond(operation, status, || {
            let mut first = why.chars();
            let capital: String = first
                .next()
                .into_iter()
                .flat_map(char::to_uppercase)
                .chain(first)
                .collect();
            error(&capital)
        }),
    }
}

/// An error response with the `{"errors": {...}}` body.
fn error(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            Content::new(Some(Ref::from_schema_name("GenericErrorModel"))),
        )
        .build()
}

fn header_parameter(operation: &mut Operation, name: &str, description: &str) {
    let schema = ObjectBuilder::new().schema_type(Type::String);
    header_parameter_with(operation, name, description, schema);
}

fn header_parameter_with(
    operation: &mut Operation,
    name: &str,
    description: &str,
    schema: ObjectBuilder,
) {
    let parameter = Parameter::builder()
        .name(name)
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(description))
        .schema(Some(schema))
        .build();
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(parameter);
}

fn string_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::String))
        .description(Some(description))
        .build()
}

fn integer_header(description: &str) -> utoipa::openapi::header::Header {
    HeaderBuilder::new()
        .schema(ObjectBuilder::new().schema_type(Type::Integer))
        .description(Some(description))
        .build()
}
