//! `POST /api/users`: registration.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use tracing::instrument;
use utoipa::ToSchema;

use super::dto::UserBody;
use crate::App;
use crate::auth::hash_password_blocking;
use crate::domain::{
    Email, Password, Session, Taken, Timestamp, User, UserId, Username, ValidationErrors,
};
use crate::http::{self, ApiError};
use crate::idempotency;
use crate::store::receipts::Receipt;
use crate::store::{StoreError, UserWriteError};
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
    pub user: User,
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
    /// The fresh user id was taken (odds about 2^-82 per user): nothing was
    /// written, and a retry draws another.
    #[error("fresh user id already taken")]
    IdTaken,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<RegisterError> for ApiError {
    fn from(error: RegisterError) -> Self {
        match error {
            RegisterError::Taken(taken) => ApiError::Conflict(super::taken_errors(taken)),
            RegisterError::KeyTaken => ApiError::KeyInUse,
            RegisterError::IdTaken => ApiError::Unavailable(Box::new(error)),
            RegisterError::Hashing(e) => ApiError::Internal(Box::new(e)),
            RegisterError::Store(e) => e.into(),
        }
    }
}

/// Decides the user `new` registers at `now`: hashes the password (on a
/// blocking thread), draws a fresh id, and the `iat` of their first token.
#[instrument(skip_all)]
pub async fn plan_registration(new: NewUser, now: Timestamp) -> Result<Registered, RegisterError> {
    let NewUser {
        username,
        email,
        password,
    } = new;
    let password_hash = hash_password_blocking(password)
        .await
        .map_err(RegisterError::Hashing)?;
    Ok(Registered {
        user: User::new(UserId::generate(), username, email, password_hash),
        issued_at: now.unix_seconds().try_into().unwrap_or_default(),
    })
}

/// Creates the user `registered` describes and claims their username and
/// email, in one transaction with `receipt` (the response, for an
/// idempotency key) when given.
#[instrument(skip_all)]
pub async fn register(
    app: &App,
    registered: Registered,
    receipt: Option<&Receipt>,
) -> Result<Registered, RegisterError> {
    match app.store.create_user(&registered.user, receipt).await {
        Ok(()) => {
            tracing::info!(user_id = %registered.user.user_id, "user registered");
            crate::invocation::count(Counter::Registration);
            Ok(registered)
        }
        Err(UserWriteError::Taken(taken)) => Err(RegisterError::Taken(taken)),
        Err(UserWriteError::KeyTaken) => Err(RegisterError::KeyTaken),
        Err(UserWriteError::Conflict) => Err(RegisterError::IdTaken),
        Err(UserWriteError::Store(e)) => Err(e.into()),
    }
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
        (status = 429, description = "Too many sign-in and sign-up requests from this client; try again after `Retry-After` seconds", body = crate::http::ErrorsBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
)]
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    idempotency::within(app, request, None, |keyed| async move {
        let input: Input = http::parse_json(request)?;
        let new = NewUser::try_from(input.user)?;
        // Bad input was refused without a write; before the costly part
        // (argon2id), the client's budget is counted.
        super::auth_limits::admit_client(app, &http::client(request), Timestamp::now()).await?;
        let registered = plan_registration(new, Timestamp::now()).await?;
        // The receipt keeps the response without its token, and what to sign it from.
        let receipt = keyed.map(|keyed| {
            keyed
                .receipt(&render(&registered.user, String::new()))
                .granting(&registered.user.user_id, registered.issued_at)
        });
        let registered = register(app, registered, receipt.as_ref()).await?;
        let token = app
            .signer()
            .map_err(|e| ApiError::Internal(Box::new(e)))?
            .issue_at(
                &registered.user.user_id,
                &Session::first(),
                registered.issued_at,
            );
        Ok(render(&registered.user, token))
    })
    .await
}

fn render(user: &User, token: String) -> Response<Body> {
    http::json(StatusCode::CREATED, &UserBody::new(user, token))
}
