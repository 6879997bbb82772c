//! `POST /api/profiles/{username}/follow`: follow a user.

use lambda_http::{Body, Request, Response};

use crate::App;
use crate::http;

/// Lambda entry point.
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(super::following::serve(app, &request, true).await)
}
