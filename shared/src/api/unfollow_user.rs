//! `DELETE /api/profiles/{username}/follow`: unfollow a user.

use lambda_http::{Body, Request, Response};

use crate::App;
use crate::http;

/// Lambda entry point.
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(super::following::serve(app, &request, false).await)
}
