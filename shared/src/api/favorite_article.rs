//! `POST /api/articles/{slug}/favorite`: favorite an article.

use lambda_http::{Body, Request, Response};

use crate::App;
use crate::http;

/// Lambda entry point.
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(super::favoriting::serve(app, &request, true).await)
}
