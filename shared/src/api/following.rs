//! Following a user: the use case behind follow and unfollow, which differ in one flag.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::instrument;

use super::dto::{ProfileBody, ProfileDto};
use crate::App;
use crate::domain::{UserId, ValidationErrors};
use crate::http::{self, ApiError};
use crate::idempotency;
use crate::store::StoreError;
use crate::store::users::Profile;

/// Why a follow or unfollow failed.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// No such username.
    #[error("profile not found")]
    NotFound,
    /// Following oneself is meaningless (and would put one's own articles in one's feed).
    #[error("cannot follow yourself")]
    Yourself,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<FollowError> for ApiError {
    fn from(error: FollowError) -> Self {
        match error {
            FollowError::NotFound => ApiError::NotFound("profile"),
            FollowError::Yourself => {
                ValidationErrors::single("profile", "can't follow yourself").into()
            }
            FollowError::Store(e) => e.into(),
        }
    }
}

/// Sets whether `follower` follows `username`; idempotent either way.
#[instrument(skip(app, follower))]
pub async fn set_following(
    app: &App,
    follower: &UserId,
    username: &str,
    following: bool,
) -> Result<Profile, FollowError> {
    let followee = app
        .store
        .user_id_by_username(username)
        .await?
        .ok_or(FollowError::NotFound)?;
    if &followee == follower {
        return Err(FollowError::Yourself);
    }
    let (user, ()) = tokio::try_join!(
        app.store.user(&followee, true),
        app.store.set_following(follower, &followee, following),
    )?;
    let user = user.ok_or(FollowError::NotFound)?;
    Ok(Profile { user, following })
}

pub(crate) async fn serve(
    app: &App,
    request: &Request,
    follow: bool,
) -> Result<Response<Body>, ApiError> {
    let caller = http::require_auth(app, request)?;
    let username = http::path_param(request, "username").ok_or(ApiError::NotFound("profile"))?;
    let act = || async {
        let found = set_following(app, &caller.id, &username, follow).await?;
        let profile = ProfileDto::new(&found.user, found.following);
        Ok(http::json(StatusCode::OK, &ProfileBody { profile }))
    };
    // Following is idempotent by itself: its receipt can follow it.
    if follow {
        idempotency::after(app, request, &caller.id, act).await
    } else {
        act().await
    }
}
