//! `PUT /api/user`: update the authenticated user.

use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use tracing::instrument;
use utoipa::ToSchema;

use crate::App;
use crate::auth::{TokenError, hash_password_blocking};
use crate::domain::{
    Bio, Email, EndSessions, ImageUrl, Password, Session, Taken, User, UserChanges, UserId,
    Username, ValidationErrors,
};
use crate::http::{self, ApiError};
use crate::store::retry::{Retry, limits};
use crate::store::{StoreError, UserWriteError};

#[derive(Deserialize, ToSchema)]
#[schema(as = UpdateUserRequest)]
struct Input {
    user: UpdateUserDto,
}

/// The `user` object of the request, as sent.
#[derive(Deserialize, ToSchema)]
#[schema(as = UpdateUser)]
pub struct UpdateUserDto {
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = String)]
    email: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = String)]
    username: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = String, format = Password)]
    password: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = Option<String>)]
    bio: Option<Option<String>>,
    #[serde(default, deserialize_with = "super::present")]
    #[schema(value_type = Option<String>)]
    image: Option<Option<String>>,
}

/// A valid update: at least one field, each valid.
#[derive(Debug)]
pub struct UserUpdate {
    username: Option<Username>,
    email: Option<Email>,
    password: Option<Password>,
    bio: Option<Option<Bio>>,
    image: Option<Option<ImageUrl>>,
}

impl TryFrom<UpdateUserDto> for UserUpdate {
    type Error = ValidationErrors;
    fn try_from(dto: UpdateUserDto) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        // A field that was sent must be valid; one that was not sent stays as
        // it is. Username, email and password cannot be cleared, so `null` is invalid.
        let username = super::sent(&mut errors, "username", dto.username, |u| {
            Username::parse(Some(&u))
        });
        let email = super::sent(&mut errors, "email", dto.email, |e| Email::parse(Some(&e)));
        let password = super::sent(&mut errors, "password", dto.password, |p| {
            Password::parse(Some(&p))
        });
        let bio = dto.bio.map(|b| Bio::parse(b.as_deref()));
        let bio = errors.check("bio", bio.transpose()).flatten();
        let image = dto.image.map(|i| ImageUrl::parse(i.as_deref()));
        let image = errors.check("image", image.transpose()).flatten();
        let nothing = username.is_none()
            && email.is_none()
            && password.is_none()
            && bio.is_none()
            && image.is_none();
        if nothing && errors.is_empty() {
            errors.add(
                "user",
                "must include at least one of email, username, password, bio, image",
            );
        }
        errors.finish(|| Self {
            username,
            email,
            password,
            bio,
            image,
        })
    }
}

/// Why an update failed.
#[derive(Debug, thiserror::Error)]
pub enum UpdateUserError {
    /// The token names a user that no longer exists.
    #[error("user no longer exists")]
    Gone,
    /// The new username or email belongs to someone else.
    #[error("username or email already taken")]
    Taken(Taken),
    /// Hashing did not finish.
    #[error("password hashing failed")]
    Hashing(#[source] tokio::task::JoinError),
    /// The user is no longer at the version the caller's `If-Match` named.
    #[error("the user changed since the caller read it")]
    Changed,
    /// The caller's session was ended (by another password change, or a
    /// sign-out everywhere).
    #[error("the caller's session has ended")]
    Ended,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<UpdateUserError> for ApiError {
    fn from(error: UpdateUserError) -> Self {
        match error {
            UpdateUserError::Gone => ApiError::Unauthorized(TokenError::Invalid),
            UpdateUserError::Taken(taken) => ApiError::Conflict(super::taken_errors(taken)),
            UpdateUserError::Hashing(e) => ApiError::Internal(Box::new(e)),
            UpdateUserError::Changed => ApiError::PreconditionFailed("user"),
            UpdateUserError::Ended => ApiError::Unauthorized(TokenError::Ended),
            UpdateUserError::Store(e) => e.into(),
        }
    }
}

/// Applies an update made in session `session`; username and email claims
/// move atomically with the user. Keeping one's own username or email (in any
/// case) is not a conflict. A new password ends every other session (a token
/// that leaked with the old password stops working); this one is kept, and
/// the answer carries a token of it in the new epoch.
/// With `expected` (from `If-Match`), only onto that version of the user: a
/// concurrent update then fails the write's version condition, and the caller
/// gets [`UpdateUserError::Changed`] instead of a retry.
#[instrument(skip_all, fields(user_id = %id))]
pub async fn update_user(
    app: &App,
    id: &UserId,
    session: &Session,
    update: UserUpdate,
    expected: Option<u64>,
) -> Result<User, UpdateUserError> {
    let mut changes = UserChanges {
        username: update.username,
        email: update.email,
        end_sessions: update
            .password
            .is_some()
            .then(|| EndSessions::AllBut(session.id.clone())),
        password_hash: None,
        bio: update.bio,
        image: update.image,
    };
    apply(app, id, session, &mut changes, update.password, expected).await
}

/// Ends every session of the caller's, theirs included (`DELETE
/// /api/user/sessions`), if theirs is live.
#[instrument(skip_all, fields(user_id = %id))]
pub(crate) async fn end_sessions(
    app: &App,
    id: &UserId,
    session: &Session,
) -> Result<User, UpdateUserError> {
    let mut changes = UserChanges {
        end_sessions: Some(EndSessions::All),
        ..UserChanges::default()
    };
    apply(app, id, session, &mut changes, None, None).await
}

/// The one write path of a user's own changes: read, check the session and
/// the version, write under the version's condition. A new `password` is
/// hashed once, after the first check, so a refused token costs no hash.
async fn apply(
    app: &App,
    id: &UserId,
    session: &Session,
    changes: &mut UserChanges,
    mut password: Option<Password>,
    expected: Option<u64>,
) -> Result<User, UpdateUserError> {
    // Lost to a concurrent update of the same user: re-read and re-apply.
    let mut retry = Retry::new(limits::EDIT);
    while retry.next().await {
        let current = app
            .store
            .user(id, true)
            .await?
            .ok_or(UpdateUserError::Gone)?;
        // Checked on the item the write is conditioned on: no extra read.
        if !current.admits(session) {
            return Err(UpdateUserError::Ended);
        }
        if expected.is_some_and(|version| version != current.version) {
            return Err(UpdateUserError::Changed);
        }
        if let Some(password) = password.take() {
            let hash = hash_password_blocking(password).await;
            changes.password_hash = Some(hash.map_err(UpdateUserError::Hashing)?);
        }
        match app.store.update_user(&current, changes).await {
            Ok(user) => return Ok(user),
            Err(UserWriteError::Taken(taken)) => return Err(UpdateUserError::Taken(taken)),
            Err(UserWriteError::Conflict) if expected.is_some() => {
                return Err(UpdateUserError::Changed);
            }
            Err(UserWriteError::Conflict) => continue,
            Err(UserWriteError::Store(e)) => return Err(e.into()),
            // No receipt goes with this write.
            Err(e @ UserWriteError::KeyTaken) => {
                return Err(StoreError::Unexpected(Box::new(e)).into());
            }
        }
    }
    Err(retry.exhausted().into())
}

/// Lambda entry point.
#[utoipa::path(
    put,
    path = "/user",
    tag = "User and Authentication",
    operation_id = "UpdateCurrentUser",
    summary = "Update the current user",
    request_body(content = Input, description = "The fields to change; `bio` and `image` may be `null` or empty to clear them"),
    responses(
        (status = 200, description = "The updated user", body = super::dto::UserBody),
        (status = 409, description = "Username or email already taken", body = crate::http::ErrorsBody),
        (status = 422, description = "Invalid fields", body = crate::http::ErrorsBody),
    ),
    security(("Token" = [])),
)]
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let caller = http::require_auth(app, request)?;
    let input: Input = http::parse_json(request)?;
    let update = UserUpdate::try_from(input.user)?;
    let expected = match http::IfMatch::of(request) {
        None => None,
        Some(condition) => {
            // What `GET /api/user` shows the caller now, and its version.
            let current = super::get_current_user::current_user(app, &caller.id).await?;
            caller.holds(&current)?;
            let shown = super::get_current_user::shown(&current, caller.token.clone());
            if !condition.matches(&http::entity_tag(shown.body())) {
                return Err(ApiError::PreconditionFailed("user"));
            }
            Some(current.version)
        }
    };
    let user = update_user(app, &caller.id, &caller.session, update, expected).await?;
    // A new password moved the epoch on: a token of this session in it.
    let token = if user.session_epoch == caller.session.epoch {
        caller.token
    } else {
        let session = Session {
            id: caller.session.id.clone(),
            epoch: user.session_epoch,
        };
        app.signer()
            .map_err(|e| ApiError::Internal(Box::new(e)))?
            .issue(&user.user_id, &session)
    };
    Ok(super::get_current_user::shown(&user, token))
}
