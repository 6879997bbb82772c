//! Following a user: the use case behind follow and unfollow, which differ in one flag.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::instrument;

use super::dto::{ProfileBody, ProfileDto};
use crate::App;
use crate::domain::{UserId, ValidationErrors};
use crate::http::{self, ApiError};
use crate::idempotency::{self, Seal};
use crate::store::users::Profile;
use crate::store::{KeyTaken, StoreError};

/// Why a follow or unfollow failed.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// No such username.
    #[error("profile not found")]
    NotFound,
    /// Following oneself is meaningless (and would put one's own articles in one's feed).
    #[error("cannot follow yourself")]
    Yourself,
    /// The request's idempotency key was taken over by a duplicate (after
    /// this one ran out of time holding it).
    #[error("idempotency key taken")]
    KeyTaken,
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
            FollowError::KeyTaken => ApiError::KeyInUse,
            FollowError::Store(e) => e.into(),
        }
    }
}

/// Sets whether `follower` follows `username`; idempotent either way. With
/// `seal`, the profile is read first and the response's receipt written in
/// the edge's transaction.
#[instrument(skip(app, follower, seal))]
pub async fn set_following(
    app: &App,
    follower: &UserId,
    username: &str,
    following: bool,
    seal: Option<Seal<'_, Profile>>,
) -> Result<Profile, FollowError> {
    let followee = app
        .store
        .user_id_by_username(username)
        .await?
        .ok_or(FollowError::NotFound)?;
    if &followee == follower {
        return Err(FollowError::Yourself);
    }
    let Some(seal) = seal else {
        let (user, ()) = tokio::try_join!(
            app.store.user(&followee, true),
            app.store.set_following(follower, &followee, following),
        )?;
        let user = user.ok_or(FollowError::NotFound)?;
        return Ok(Profile { user, following });
    };
    let user = app
        .store
        .user(&followee, true)
        .await?
        .ok_or(FollowError::NotFound)?;
    let profile = Profile { user, following };
    app.store
        .set_following_receipted(follower, &followee, following, &seal(&profile))
        .await?
        .map_err(|KeyTaken| FollowError::KeyTaken)?;
    Ok(profile)
}

pub(crate) async fn serve(
    app: &App,
    request: &Request,
    follow: bool,
) -> Result<Response<Body>, ApiError> {
    let caller = http::require_auth(app, request)?;
    let username = http::path_param(request, "username").ok_or(ApiError::NotFound("profile"))?;
    let act = |keyed: Option<idempotency::Keyed>| async {
        let seal = keyed.map(|keyed| move |profile: &Profile| keyed.receipt(&render(profile)));
        let seal = seal.as_ref().map(|s| s as _);
        let found = set_following(app, &caller.id, &username, follow, seal).await?;
        Ok(render(&found))
    };
    // The spec's POST takes a key; DELETE is idempotent by its method.
    if follow {
        idempotency::within(app, request, Some(&caller.id), act).await
    } else {
        act(None).await
    }
}

fn render(found: &Profile) -> Response<Body> {
    let profile = ProfileDto::new(&found.user, found.following);
    http::json(StatusCode::OK, &ProfileBody { profile })
}
