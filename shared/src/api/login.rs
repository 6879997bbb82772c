//! `POST /api/users/login`: login.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use tracing::instrument;
use utoipa::ToSchema;

use super::dto::UserBody;
use crate::App;
use crate::auth::verify_password_blocking;
use crate::domain::{Email, Password, Session, SessionId, Timestamp, User, ValidationErrors};
use crate::http::{self, ApiError};
use crate::store::{LoginClaim, StoreError};
use crate::telemetry::Counter;

#[derive(Deserialize, ToSchema)]
#[schema(as = LoginUserRequest)]
struct Input {
    user: LoginDto,
}

#[derive(Deserialize, ToSchema)]
#[schema(as = LoginUser)]
struct LoginDto {
    #[schema(value_type = String, required = true)]
    email: Option<String>,
    #[schema(value_type = String, required = true, format = Password)]
    password: Option<String>,
}

/// Credentials as sent.
#[derive(Debug)]
pub(crate) struct Credentials {
    /// Email, matched case-insensitively.
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
pub(crate) enum LoginError {
    /// Unknown email or wrong password (deliberately not told apart).
    #[error("invalid credentials")]
    BadCredentials,
    /// Too many recent failures for this email: refused unchecked until then.
    #[error("too many failed logins; locked for {retry_after} s")]
    Locked {
        /// Seconds until the next attempt is considered.
        retry_after: u64,
    },
    /// Verification did not finish.
    #[error("password verification failed")]
    Hashing(#[source] tokio::task::JoinError),
    /// Wired without the key ring (a deployment bug).
    #[error(transparent)]
    NotASigner(#[from] crate::app::NotASigner),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<LoginError> for ApiError {
    fn from(error: LoginError) -> Self {
        match error {
            LoginError::BadCredentials => ApiError::BadCredentials,
            LoginError::Locked { retry_after } => ApiError::TooManyRequests { retry_after },
            LoginError::Hashing(e) => ApiError::Internal(Box::new(e)),
            LoginError::NotASigner(e) => ApiError::Internal(Box::new(e)),
            LoginError::Store(e) => e.into(),
        }
    }
}

/// Guessing protection, per email (known or not, so locks reveal nothing).
pub(crate) mod guard {
    use std::time::Duration;

    /// Failures within [`WINDOW`] before the email is locked.
    pub(crate) const THRESHOLD: u32 = 5;
    /// How long failures are remembered after the last one.
    pub(crate) const WINDOW: Duration = Duration::from_secs(15 * 60);
    /// The longest lock.
    pub(crate) const MAX_LOCK: Duration = Duration::from_secs(15 * 60);

    /// How long the `failures`-th failure locks the email: nothing below the
    /// threshold, then 1 s, 2 s, 4 s, … doubling up to [`MAX_LOCK`].
    pub(crate) fn lock_for(failures: u32) -> Option<Duration> {
        let over = failures.checked_sub(THRESHOLD)?;
        let seconds = 1u64.checked_shl(over).unwrap_or(u64::MAX);
        Some(Duration::from_secs(seconds).min(MAX_LOCK))
    }
}

/// Checks credentials and issues a token.
///
/// An unknown email costs what a known one does: the same reads (a decoy read
/// stands in for the user), a full hash verification against a decoy hash,
/// and the same failure bookkeeping, so neither timing nor locking tells who
/// is registered. After [`guard::THRESHOLD`] failures in [`guard::WINDOW`] the
/// email is locked for a doubling time; a success clears its failures.
#[instrument(skip_all)]
pub(crate) async fn login(
    app: &App,
    credentials: Credentials,
    now: Timestamp,
) -> Result<(User, String), LoginError> {
    let (now_s, now_ms) = (now.unix_seconds(), now.unix_millis());
    let window_end = now_s + guard::WINDOW.as_secs() as i64;
    let (id, stale) = tokio::try_join!(
        app.store.user_id_by_email(&credentials.email),
        app.store.login_guard(&credentials.email),
    )?;
    // DynamoDB's TTL deletes late: a window that ended starts afresh.
    if stale.is_some_and(|g| g.expires_at <= now_s) {
        app.store.clear_login_guard(&credentials.email).await?;
    }
    // Claimed atomically before the password is checked, so concurrent
    // guesses cannot all pass a check that read the same count.
    let attempt = match app
        .store
        .claim_login_attempt(&credentials.email, now_ms, window_end, guard::THRESHOLD)
        .await?
    {
        LoginClaim::Granted { attempt } => attempt,
        LoginClaim::Refused { locked_until } => {
            crate::invocation::count(Counter::FailedLogin);
            let left = locked_until.map_or(0, |until| until - now_ms).max(1) as u64;
            return Err(LoginError::Locked {
                // Whole seconds, rounded up: retrying after them always gets a hearing.
                retry_after: left.div_ceil(1000),
            });
        }
    };
    let user = app.store.user_for_login(id.as_ref()).await?;
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let valid = match credentials.password {
        Some(password) => verify_password_blocking(password, hash)
            .await
            .map_err(LoginError::Hashing)?,
        // Outside the length policy, so it cannot match; still as slow as a check.
        None => {
            let decoy = Password::parse(Some("not-a-password-anyone-has")).expect("valid");
            verify_password_blocking(decoy, None)
                .await
                .map_err(LoginError::Hashing)?;
            false
        }
    };
    match user {
        Some(user) if valid => {
            app.store.clear_login_guard(&credentials.email).await?;
            // A new session, in the user's current epoch.
            let session = Session {
                id: SessionId::generate(),
                epoch: user.session_epoch,
            };
            let token = app.signer()?.issue(&user.user_id, &session);
            Ok((user, token))
        }
        _ => {
            let lock = guard::lock_for(attempt).map(|d| now_ms + d.as_millis() as i64);
            if let Some(until) = lock {
                // One more attempt once this lock runs out.
                let expires_at = (until + 999) / 1000 + guard::WINDOW.as_secs() as i64;
                app.store
                    .lock_login(&credentials.email, until, attempt + 1, expires_at)
                    .await?;
            }
            tracing::info!(failures = attempt, locked = lock.is_some(), "login failed");
            crate::invocation::count(Counter::FailedLogin);
            Err(LoginError::BadCredentials)
        }
    }
}

/// Lambda entry point.
#[utoipa::path(
    post,
    path = "/users/login",
    tag = "User and Authentication",
    operation_id = "Login",
    summary = "Log in",
    request_body(content = Input, description = "Credentials"),
    responses(
        (status = 200, description = "Logged in: the user with a fresh token", body = super::dto::UserBody),
        (status = 401, description = "Wrong email or password", body = crate::http::ErrorsBody),
        (status = 422, description = "Missing or invalid fields", body = crate::http::ErrorsBody),
        (status = 429, description = "Too many failed logins for this email; try again after `Retry-After` seconds", body = crate::http::ErrorsBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
)]
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let input: Input = http::parse_json(request)?;
    let credentials = Credentials::try_from(input.user)?;
    let (user, token) = login(app, credentials, Timestamp::now()).await?;
    Ok(http::json(StatusCode::OK, &UserBody::new(&user, token)))
}

#[cfg(test)]
mod tests {
    use super::guard::*;
    use std::time::Duration;

    #[test]
    fn the_lock_starts_at_the_threshold_and_doubles_up_to_the_cap() {
        assert_eq!(lock_for(THRESHOLD - 1), None);
        assert_eq!(lock_for(THRESHOLD), Some(Duration::from_secs(1)));
        assert_eq!(lock_for(THRESHOLD + 1), Some(Duration::from_secs(2)));
        assert_eq!(lock_for(THRESHOLD + 3), Some(Duration::from_secs(8)));
        assert_eq!(lock_for(THRESHOLD + 40), Some(MAX_LOCK));
        assert_eq!(lock_for(u32::MAX), Some(MAX_LOCK));
    }
}
