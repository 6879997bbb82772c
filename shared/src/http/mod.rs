//! The HTTP boundary: reading API Gateway requests ([`request`]), who is
//! calling ([`caller`]), the one error-to-status mapping ([`error`]),
//! building responses ([`body`], [`response`]) and conditional requests
//! ([`conditional`]). The response bodies themselves are the endpoints'
//! (`api::dto`).

mod body;
mod caller;
mod conditional;
mod error;
mod request;
mod response;

pub use body::json;
pub(crate) use body::no_content;
pub(crate) use {caller::Caller, caller::beside, caller::optional_auth, caller::require_auth};
pub(crate) use {conditional::IfMatch, conditional::entity_tag};
pub(crate) use {error::ApiError, error::ErrorsBody};
pub(crate) use {
    request::page, request::parse_json, request::path_param, request::query_param,
    request::slug_param,
};
pub(crate) use {response::respond, response::respond_cacheable, response::respond_public};
