//! `GET /api/profiles/{username}`: a profile, with `following` for the caller.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::instrument;

use super::dto::{ProfileBody, ProfileDto};
use crate::App;
use crate::domain::{Profile, UserId, Username};
use crate::http::{self, ApiError};
use crate::store::StoreError;

/// Why a profile could not be shown.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProfileError {
    /// No such username.
    #[error("profile not found")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ProfileError> for ApiError {
    fn from(error: ProfileError) -> Self {
        match error {
            ProfileError::NotFound => ApiError::NotFound("profile"),
            ProfileError::Store(e) => e.into(),
        }
    }
}

/// Looks a username up (one read), then the user and the follow flag (one batch read).
#[instrument(skip(app, viewer))]
pub(crate) async fn profile(
    app: &App,
    username: &Username,
    viewer: Option<&UserId>,
) -> Result<Profile, ProfileError> {
    let id = app
        .store
        .user_id_by_username(username)
        .await?
        .ok_or(ProfileError::NotFound)?;
    let profiles = app.store.profiles(viewer, [id.clone()]).await?;
    let (user, following) = profiles.get(&id).ok_or(ProfileError::NotFound)?;
    Ok(Profile {
        user: user.clone(),
        following: *following,
    })
}

/// Lambda entry point.
#[utoipa::path(
    get,
    path = "/profiles/{username}",
    tag = "Profile",
    operation_id = "GetProfileByUsername",
    summary = "A profile",
    params(("username" = String, Path, description = "Username, in any case")),
    responses(
        (status = 200, description = "The profile as the caller sees it", body = super::dto::ProfileBody),
        (status = 404, description = "No such user", body = crate::http::ErrorsBody),
        (status = 422, description = "Listed by the RealWorld spec for this operation; this implementation does not answer it here", body = crate::http::ErrorsBody),
    ),
    security((), ("Token" = [])),
)]
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond_cacheable(&request, serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let viewer = http::optional_auth(app, request)?;
    // A name that cannot be a username names no profile.
    let username = http::path_param(request, "username")
        .and_then(|raw| Username::parse(Some(&raw)).ok())
        .ok_or(ApiError::NotFound("profile"))?;
    let found = profile(app, &username, viewer.as_ref().map(|c| &c.id)).await?;
    let profile = ProfileDto::new(&found.user, found.following);
    Ok(http::json(StatusCode::OK, &ProfileBody { profile }))
}
