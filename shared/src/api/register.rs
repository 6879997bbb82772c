//! `POST /api/users`: registration.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use tracing::instrument;

use super::dto::UserBody;
use crate::App;
use crate::auth::hash_password_blocking;
use crate::domain::{Email, Password, UserId, Username, ValidationErrors};
use crate::http::{self, ApiError};
use crate::store::StoreError;
use crate::store::items::UserRecord;
use crate::store::retry::{Retry, limits};
use crate::store::users::{Taken, UserWriteError};
use crate::telemetry::Counter;

#[derive(Deserialize)]
struct Input {
    user: NewUserDto,
}

#[derive(Deserialize)]
struct NewUserDto {
    username: Option<String>,
    email: Option<String>,
    password: Option<String>,
}

/// A valid registration.
#[derive(Debug)]
pub struct NewUser {
    /// Wanted username.
    pub username: Username,
    /// Email; must be unused by anyone, compared case-insensitively.
    pub email: Email,
    /// Password, within the length policy; only its argon2id hash is kept.
    pub password: Password,
}

impl TryFrom<NewUserDto> for NewUser {
    type Error = ValidationErrors;
    fn try_from(dto: NewUserDto) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let username = errors.check("username", Username::parse(dto.username.as_deref()));
        let email = errors.check("email", Email::parse(dto.email.as_deref()));
        let password = errors.check("password", Password::parse(dto.password.as_deref()));
        match (username, email, password) {
            (Some(username), Some(email), Some(password)) if errors.is_empty() => Ok(Self {
                username,
                email,
                password,
            }),
            _ => Err(errors),
        }
    }
}

/// Why a registration failed.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// Username or email already registered.
    #[error("username or email already taken")]
    Taken(Taken),
    /// Hashing did not finish.
    #[error("password hashing failed")]
    Hashing(#[source] tokio::task::JoinError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<RegisterError> for ApiError {
    fn from(error: RegisterError) -> Self {
        match error {
            RegisterError::Taken(taken) => ApiError::Conflict(super::taken_errors(taken)),
            RegisterError::Hashing(e) => ApiError::Internal(Box::new(e)),
            RegisterError::Store(e) => e.into(),
        }
    }
}

/// Registers a user: hashes the password, then creates the user and claims
/// username and email in one transaction.
#[instrument(skip_all)]
pub async fn register(app: &App, new: NewUser) -> Result<(UserRecord, String), RegisterError> {
    let NewUser {
        username,
        email,
        password,
    } = new;
    let password_hash = hash_password_blocking(password)
        .await
        .map_err(RegisterError::Hashing)?;
    // A fresh id per attempt: a clash (about 2^-82) is nobody's "taken".
    let mut retry = Retry::new(limits::FRESH_ID);
    while retry.next().await {
        let user = UserRecord::new(
            UserId::generate(),
            username.clone(),
            email.clone(),
            password_hash.clone(),
        );
        match app.store.create_user(&user).await {
            Ok(()) => {
                let token = app.tokens.issue(&user.user_id);
                tracing::info!(user_id = %user.user_id, "user registered");
                crate::invocation::count(Counter::Registration);
                return Ok((user, token));
            }
            Err(UserWriteError::Taken(taken)) => return Err(RegisterError::Taken(taken)),
            Err(UserWriteError::Conflict) => continue,
            Err(UserWriteError::Store(e)) => return Err(e.into()),
        }
    }
    Err(retry.exhausted().into())
}

/// Lambda entry point.
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let input: Input = http::parse_json(request)?;
    let new = NewUser::try_from(input.user)?;
    let (user, token) = register(app, new).await?;
    Ok(http::json(
        StatusCode::CREATED,
        &UserBody::new(&user, token),
    ))
}
