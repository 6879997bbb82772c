//! `DELETE /api/profiles/{username}/follow`: unfollow a user.

use lambda_http::{Body, Request, Response};

use crate::App;
use crate::http;

/// Lambda entry point.
#[utoipa::path(
    delete,
    path = "/profiles/{username}/follow",
    tag = "Profile",
    operation_id = "UnfollowUserByUsername",
    summary = "Unfollow a user",
    params(("username" = String, Path, description = "Username, in any case")),
    responses(
        (status = 200, description = "The profile, no longer followed", body = super::dto::ProfileBody),
        (status = 404, description = "No such user", body = crate::http::ErrorsBody),
        (status = 422, description = "Unfollowing yourself", body = crate::http::ErrorsBody),
    ),
    security(("Token" = [])),
)]
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(super::following::serve(app, &request, false).await)
}
