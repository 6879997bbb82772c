//! The HTTP boundary: reading API Gateway requests ([`request`]), who is
//! calling ([`caller`]), the edge in front ([`edge`]: direct calls refused,
//! the client's address, shared caching), the one error-to-status mapping ([`error`]),
//! building responses ([`body`], [`response`]) and conditional requests
//! ([`conditional`]). The response bodies themselves are the endpoints'
//! (`api::dto`).

mod body;
mod caller;
mod conditional;
mod edge;
mod error;
mod request;
mod response;

pub use body::json;
pub(crate) use body::no_content;
pub(crate) use {caller::Caller, caller::beside, caller::optional_auth, caller::require_auth};
pub(crate) use {conditional::IfMatch, conditional::entity_tag};
pub use {edge::Edge, edge::ORIGIN_HEADER, edge::VIEWER_HEADER, edge::hex_sha256};
pub(crate) use {edge::client, edge::shared_caching};
pub(crate) use {error::ApiError, error::ErrorsBody};
pub(crate) use {
    request::page, request::parse_json, request::path_param, request::query_param,
    request::slug_param,
};
pub(crate) use {response::respond, response::respond_cacheable, response::respond_public};
