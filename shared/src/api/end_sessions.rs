//! `DELETE /api/user/sessions`: sign out everywhere. Beyond the RealWorld
//! spec: every token issued to the caller so far, the one sent included,
//! stops working at once.

use lambda_http::{Body, Request, Response};

use super::update_user::{UpdateUserError, end_sessions};
use crate::App;
use crate::http::{self, ApiError};

/// Lambda entry point.
#[utoipa::path(
    delete,
    path = "/user/sessions",
    tag = "User and Authentication",
    operation_id = "EndSessions",
    summary = "End every session of the current user (beyond the RealWorld spec)",
    description = "Every token issued to the user so far, the one sent included, gets a 401 from then on, on every write and private read. Log in again for a new one.",
    responses(
        (status = 204, description = "Every session ended"),
        (status = 401, description = "No valid token, or its session had already ended", body = crate::http::ErrorsBody),
    ),
    security(("Token" = [])),
)]
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let caller = http::require_auth(app, request)?;
    match end_sessions(app, &caller.id, &caller.session).await {
        Ok(_) => Ok(http::no_content()),
        Err(e @ UpdateUserError::Taken(_)) => Err(ApiError::Internal(Box::new(e))),
        Err(e) => Err(e.into()),
    }
}
