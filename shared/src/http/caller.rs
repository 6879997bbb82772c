//! Who is calling: the token in `Authorization`, verified.

use lambda_http::Request;
use lambda_http::http::header;

use super::error::ApiError;
use crate::App;
use crate::auth::token_from_header;
use crate::domain::UserId;

/// The raw `Authorization` header value.
fn authorization(request: &Request) -> Option<&str> {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
}

/// An authenticated caller: the user id and the token they presented.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// The user the token was issued to (its `sub`).
    pub id: UserId,
    /// The token as presented (echoed back by `GET /user`).
    pub token: String,
}

/// The caller, who must be authenticated.
pub(crate) fn require_auth(app: &App, request: &Request) -> Result<Caller, ApiError> {
    let token = token_from_header(authorization(request))?;
    let id = app.tokens.verify(token)?;
    Ok(Caller {
        id,
        token: token.to_owned(),
    })
}

/// The caller if a token was sent; a token that was sent but is bad is still a 401.
pub(crate) fn optional_auth(app: &App, request: &Request) -> Result<Option<Caller>, ApiError> {
    match authorization(request) {
        None => Ok(None),
        Some(_) => require_auth(app, request).map(Some),
    }
}
