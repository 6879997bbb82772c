//! `POST /api/users/login`: login.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use tracing::instrument;

use crate::App;
use crate::auth::verify_password_blocking;
use crate::domain::{Email, Password, ValidationErrors};
use crate::http::{self, ApiError, UserBody};
use crate::store::StoreError;
use crate::store::items::UserRecord;

#[derive(Deserialize)]
struct Input {
    user: LoginDto,
}

#[derive(Deserialize)]
struct LoginDto {
    email: Option<String>,
    password: Option<String>,
}

/// Credentials as sent.
#[derive(Debug)]
pub struct Credentials {
    /// Email.
    pub email: Email,
    /// Password; `None` when it breaks the length policy and so cannot match.
    pub password: Option<Password>,
}

impl TryFrom<LoginDto> for Credentials {
    type Error = ValidationErrors;
    fn try_from(dto: LoginDto) -> Result<Self, Self::Error> {
        let mut errors = ValidationErrors::default();
        let email = errors.check("email", Email::parse(dto.email.as_deref()));
        let blank = dto.password.as_deref().is_none_or(|p| p.trim().is_empty());
        if blank {
            errors.add("password", "can't be blank");
        }
        let password = Password::parse(dto.password.as_deref()).ok();
        match email {
            Some(email) if errors.is_empty() => Ok(Self { email, password }),
            _ => Err(errors),
        }
    }
}

/// Why a login failed.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    /// Unknown email or wrong password (deliberately not told apart).
    #[error("invalid credentials")]
    BadCredentials,
    /// Verification did not finish.
    #[error("password verification failed")]
    Hashing(#[source] tokio::task::JoinError),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<LoginError> for ApiError {
    fn from(error: LoginError) -> Self {
        match error {
            LoginError::BadCredentials => ApiError::BadCredentials,
            LoginError::Hashing(e) => ApiError::Internal(Box::new(e)),
            LoginError::Store(e) => e.into(),
        }
    }
}

/// Checks credentials and issues a token. An unknown email costs a full hash
/// verification too, so timing does not reveal who is registered.
#[instrument(skip_all)]
pub async fn login(
    app: &App,
    credentials: Credentials,
) -> Result<(UserRecord, String), LoginError> {
    let user = match app.store.user_id_by_email(&credentials.email).await? {
        Some(id) => app.store.user(&id, true).await?,
        None => None,
    };
    let Some(password) = credentials.password else {
        return Err(LoginError::BadCredentials);
    };
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let valid = verify_password_blocking(password, hash)
        .await
        .map_err(LoginError::Hashing)?;
    match user {
        Some(user) if valid => {
            let token = app.tokens.issue(&user.user_id);
            Ok((user, token))
        }
        _ => Err(LoginError::BadCredentials),
    }
}

/// Lambda entry point.
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let input: Input = http::parse_json(request)?;
    let credentials = Credentials::try_from(input.user)?;
    let (user, token) = login(app, credentials).await?;
    Ok(http::json(StatusCode::OK, &UserBody::new(&user, token)))
}
