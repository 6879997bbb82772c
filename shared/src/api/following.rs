//! Following a user: the use case behind follow and unfollow, which differ in one flag.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use tracing::instrument;

use super::dto::{ProfileBody, ProfileDto};
use crate::App;
use crate::domain::{Profile, UserId, Username, ValidationErrors};
use crate::http::{self, ApiError};
use crate::idempotency;
use crate::store::StoreError;
use crate::store::receipts::Receipt;

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

/// A follow decided and not yet written: the profile as the follower will
/// see it once it is.
#[derive(Debug)]
pub struct FollowPlan {
    follower: UserId,
    profile: Profile,
}

impl FollowPlan {
    /// The followee's profile as the follower will see it.
    pub(crate) fn view(&self) -> &Profile {
        &self.profile
    }
}

/// Decides whether `follower` follows `username`: who that is (never
/// oneself), and their profile as the follower will see it.
#[instrument(skip(app, follower))]
pub async fn plan_following(
    app: &App,
    follower: &UserId,
    username: &Username,
    following: bool,
) -> Result<FollowPlan, FollowError> {
    let followee = app
        .store
        .user_id_by_username(username)
        .await?
        .ok_or(FollowError::NotFound)?;
    if &followee == follower {
        return Err(FollowError::Yourself);
    }
    let user = app
        .store
        .user(&followee, true)
        .await?
        .ok_or(FollowError::NotFound)?;
    Ok(FollowPlan {
        follower: follower.clone(),
        profile: Profile { user, following },
    })
}

/// Writes what `plan` decided, with `receipt` (the response, for an
/// idempotency key) in the same write; idempotent either way.
#[instrument(skip_all)]
pub async fn set_following(
    app: &App,
    plan: FollowPlan,
    receipt: Option<&Receipt>,
) -> Result<Profile, FollowError> {
    let written = app
        .store
        .set_following(
            &plan.follower,
            &plan.profile.user.user_id,
            plan.profile.following,
            receipt,
        )
        .await?;
    if written {
        Ok(plan.profile)
    } else {
        Err(FollowError::KeyTaken)
    }
}

pub(crate) async fn serve(
    app: &App,
    request: &Request,
    follow: bool,
) -> Result<Response<Body>, ApiError> {
    let caller = http::require_auth(app, request)?;
    // A name that cannot be a username names no profile.
    let username = http::path_param(request, "username")
        .and_then(|raw| Username::parse(Some(&raw)).ok())
        .ok_or(ApiError::NotFound("profile"))?;
    let act = |keyed: Option<idempotency::Keyed>| async {
        let plan = plan_following(app, &caller.id, &username, follow);
        let plan = http::beside(app, &caller, plan).await?;
        let response = render(plan.view());
        let receipt = keyed.map(|keyed| keyed.receipt(&response));
        set_following(app, plan, receipt.as_ref()).await?;
        Ok(response)
    };
    // The spec's POST takes a key; DELETE is idempotent by its method.
    if follow {
        idempotency::within(app, request, Some(&caller), act).await
    } else {
        act(None).await
    }
}

fn render(found: &Profile) -> Response<Body> {
    let profile = ProfileDto::new(&found.user, found.following);
    http::json(StatusCode::OK, &ProfileBody { profile })
}
