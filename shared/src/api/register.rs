//! `POST /api/users`: registration.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use tracing::instrument;
use utoipa::ToSchema;

use super::dto::UserBody;
use crate::App;
use crate::auth::hash_password_blocking;
use crate::domain::{Email, Password, Timestamp, UserId, Username, ValidationErrors};
use crate::http::{self, ApiError};
use crate::idempotency::{self, Seal};
use crate::store::StoreError;
use crate::store::items::UserRecord;
use crate::store::retry::{Retry, limits};
use crate::store::users::{Taken, UserWriteError};
use crate::telemetry::Counter;

#[derive(Deserialize, ToSchema)]
#[schema(as = NewUserRequest)]
struct Input {
    user: NewUserDto,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = NewUser)]
struct NewUserDto {
    #[schema(value_type = String, required = true)]
    username: Option<String>,
    #[schema(value_type = String, required = true)]
    email: Option<String>,
    #[schema(value_type = String, required = true, format = Password)]
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

/// A user just registered, and when their first token was issued (Unix
/// seconds): the token is signed from these by whoever renders the response.
#[derive(Debug, Clone)]
pub struct Registered {
    /// The new user.
    pub user: UserRecord,
    /// The `iat` of their first token.
    pub issued_at: u64,
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
    /// The request's idempotency key was used by a registration that committed first.
    #[error("idempotency key already used")]
    KeyTaken,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<RegisterError> for ApiError {
    fn from(error: RegisterError) -> Self {
        match error {
            RegisterError::Taken(taken) => ApiError::Conflict(super::taken_errors(taken)),
            RegisterError::KeyTaken => ApiError::KeyInUse,
            RegisterError::Hashing(e) => ApiError::Internal(Box::new(e)),
            RegisterError::Store(e) => e.into(),
        }
    }
}

/// Registers a user at `now`: hashes the password, then creates the user and
/// claims username and email in one transaction (with the idempotency
/// receipt `seal` makes, if the request has a key).
#[instrument(skip_all)]
pub async fn register(
    app: &App,
    new: NewUser,
    now: Timestamp,
    seal: Option<Seal<'_, Registered>>,
) -> Result<Registered, RegisterError> {
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
        let registered = Registered {
            user,
            issued_at: now.unix_seconds().try_into().unwrap_or_default(),
        };
        let receipt = seal.map(|seal| seal(&registered));
        match app
            .store
            .create_user(&registered.user, receipt.as_ref())
            .await
        {
            Ok(()) => {
                tracing::info!(user_id = %registered.user.user_id, "user registered");
                crate::invocation::count(Counter::Registration);
                return Ok(registered);
            }
            Err(UserWriteError::Taken(taken)) => return Err(RegisterError::Taken(taken)),
            Err(UserWriteError::KeyTaken) => return Err(RegisterError::KeyTaken),
            Err(UserWriteError::Conflict) => continue,
            Err(UserWriteError::Store(e)) => return Err(e.into()),
        }
    }
    Err(retry.exhausted().into())
}

/// Lambda entry point.
#[utoipa::path(
    post,
    path = "/users",
    tag = "User and Authentication",
    operation_id = "CreateUser",
    summary = "Register",
    request_body(content = Input, description = "The new user"),
    responses(
        (status = 201, description = "Registered: the user with a token", body = super::dto::UserBody),
        (status = 409, description = "Username or email already taken", body = crate::http::ErrorsBody),
        (status = 422, description = "Missing or invalid fields", body = crate::http::ErrorsBody),
    ),
)]
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    idempotency::within(app, request, None, |keyed| async move {
        let input: Input = http::parse_json(request)?;
        let new = NewUser::try_from(input.user)?;
        // The receipt keeps the response without its token, and what to sign it from.
        let seal = keyed.map(|keyed| {
            move |r: &Registered| {
                keyed
                    .receipt(&render(&r.user, String::new()))
                    .granting(&r.user.user_id, r.issued_at)
            }
        });
        let registered =
            register(app, new, Timestamp::now(), seal.as_ref().map(|s| s as _)).await?;
        let token = app
            .tokens
            .issue_at(&registered.user.user_id, registered.issued_at);
        Ok(render(&registered.user, token))
    })
    .await
}

fn render(user: &UserRecord, token: String) -> Response<Body> {
    http::json(StatusCode::CREATED, &UserBody::new(user, token))
}
