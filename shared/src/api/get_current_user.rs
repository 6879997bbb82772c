//! `GET /api/user`: the authenticated user.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::instrument;

use super::dto::UserBody;
use crate::App;
use crate::auth::TokenError;
use crate::domain::{User, UserId};
use crate::http::{self, ApiError};
use crate::store::StoreError;

/// Why the current user could not be shown.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CurrentUserError {
    /// The token names a user that no longer exists.
    #[error("user no longer exists")]
    Gone,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<CurrentUserError> for ApiError {
    fn from(error: CurrentUserError) -> Self {
        match error {
            CurrentUserError::Gone => ApiError::Unauthorized(TokenError::Invalid),
            CurrentUserError::Store(e) => e.into(),
        }
    }
}

/// Reads the user a verified token names.
#[instrument(skip_all, fields(user_id = %id))]
pub(crate) async fn current_user(app: &App, id: &UserId) -> Result<User, CurrentUserError> {
    app.store
        .user(id, true)
        .await?
        .ok_or(CurrentUserError::Gone)
}

/// Lambda entry point.
#[utoipa::path(
    get,
    path = "/user",
    tag = "User and Authentication",
    operation_id = "GetCurrentUser",
    summary = "The current user",
    responses(
        (status = 200, description = "The user, with the token sent", body = super::dto::UserBody),
        (status = 422, description = "Listed by the RealWorld spec for this operation; this implementation does not answer it here", body = crate::http::ErrorsBody),
    ),
    security(("Token" = [])),
)]
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond_cacheable(&request, serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let caller = http::require_auth(app, request)?;
    let user = current_user(app, &caller.id).await?;
    caller.holds(&user)?;
    Ok(shown(&user, caller.token))
}

/// The user as `GET /api/user` shows it to the bearer of `token`; `PUT`
/// answers with it too and checks `If-Match` against its tag.
pub(crate) fn shown(user: &User, token: String) -> Response<Body> {
    http::json(StatusCode::OK, &UserBody::new(user, token))
}
