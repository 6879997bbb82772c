//! `POST /api/users/login`: login.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use tracing::instrument;
use utoipa::ToSchema;

use super::auth_limits::{self, ClientLimitError};
use super::dto::UserBody;
use crate::App;
use crate::auth::verify_password_blocking;
use crate::domain::{
    ClientAddress, Email, Password, Session, SessionId, Timestamp, User, ValidationErrors,
};
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
    /// Too many recent failures for this email from this client: refused
    /// unchecked until then.
    #[error("too many failed logins from this client; locked for {retry_after} s")]
    Locked {
        /// Seconds until the next attempt is considered.
        retry_after: u64,
    },
    /// This email's budget of failures for the hour, from every client
    /// together, is spent: refused unchecked until the next hour.
    #[error("too many failed logins for this account; next hour in {retry_after} s")]
    AccountLimited {
        /// Seconds until the next hour's budget.
        retry_after: u64,
    },
    /// This client is over its budget of sign-in and sign-up requests.
    #[error(transparent)]
    Client(#[from] ClientLimitError),
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
            LoginError::Locked { retry_after } => ApiError::TooManyRequests {
                retry_after,
                field: "credentials",
                message: "too many failed attempts from this client, try again later",
            },
            LoginError::AccountLimited { retry_after } => ApiError::TooManyRequests {
                retry_after,
                field: "credentials",
                message: "too many failed attempts for this account, try again later",
            },
            LoginError::Client(e) => e.into(),
            LoginError::Hashing(e) => ApiError::Internal(Box::new(e)),
            LoginError::NotASigner(e) => ApiError::Internal(Box::new(e)),
            LoginError::Store(e) => e.into(),
        }
    }
}

/// Guessing protection: per email and client, and per email from every
/// client together (emails known or not, so limits reveal nothing).
pub(crate) mod guard {
    use std::time::Duration;

    /// Failures from one client, within [`WINDOW`], before the email is
    /// locked for that client.
    pub(crate) const THRESHOLD: u32 = 5;
    /// How long one client's failures are remembered after its last one. At
    /// least [`ACCOUNT_WINDOW`]: a client that pauses cannot start afresh
    /// within the hour.
    pub(crate) const WINDOW: Duration = Duration::from_secs(60 * 60);
    /// The longest lock.
    pub(crate) const MAX_LOCK: Duration = Duration::from_secs(15 * 60);
    /// The length of an email's budget window.
    pub(crate) const ACCOUNT_WINDOW: Duration = Duration::from_secs(60 * 60);
    /// Failed logins one email may take in each [`ACCOUNT_WINDOW`] (clock
    /// hour), from every client that has not logged in to it; a success
    /// gives its attempt back.
    pub(crate) const ACCOUNT_GUESSES: u32 = 50;
    /// How long a client that logged in stays known to the email: its
    /// failures are held by its own lock alone, so others spending the
    /// email's budget never lock the owner out where they have logged in.
    pub(crate) const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 60 * 60);

    /// How long the `failures`-th failure locks the email for its client:
    /// nothing below the threshold, then 1 s, 2 s, 4 s, … doubling up to
    /// [`MAX_LOCK`].
    pub(crate) fn lock_for(failures: u32) -> Option<Duration> {
        let over = failures.checked_sub(THRESHOLD)?;
        let seconds = 1u64.checked_shl(over).unwrap_or(u64::MAX);
        Some(Duration::from_secs(seconds).min(MAX_LOCK))
    }

    /// The most failures one client can have against one email within
    /// `period` (no longer than [`WINDOW`], so its failures are never
    /// forgotten in between): guessing again the moment each lock ends, the
    /// fastest way there is.
    #[cfg(test)]
    pub(crate) fn most_from_one_client(period: Duration) -> u32 {
        let (mut failures, mut at) = (0u32, Duration::ZERO);
        while at < period {
            failures += 1;
            at += lock_for(failures).unwrap_or(Duration::ZERO);
        }
        failures
    }
}

/// Checks credentials and issues a token.
///
/// An unknown email costs what a known one does: the same reads (a decoy read
/// stands in for the user), a full hash verification against a decoy hash,
/// and the same failure bookkeeping, so neither timing nor limits tell who
/// is registered. Three limits, each counted atomically before the password
/// is checked, so concurrent guesses cannot all pass one count:
/// - the client's budget of sign-in and sign-up requests ([`auth_limits`]);
/// - per email and client: after [`guard::THRESHOLD`] failures the email is
///   locked for that client alone, for a doubling time; a success clears it;
/// - per email, from every client that has not logged in to it within
///   [`guard::KNOWN_FOR`]: [`guard::ACCOUNT_GUESSES`] failures an hour. One
///   client gets at most 17 of them (the greedy schedule of its own locks; a
///   unit test works it out), so it alone cannot spend the budget the owner
///   logs in from elsewhere with; and where the owner has logged in before,
///   no one else's failures count.
#[instrument(skip_all)]
pub(crate) async fn login(
    app: &App,
    credentials: Credentials,
    client: &ClientAddress,
    now: Timestamp,
) -> Result<(User, String), LoginError> {
    let (now_s, now_ms) = (now.unix_seconds(), now.unix_millis());
    let window_end = now_s + guard::WINDOW.as_secs() as i64;
    let email = &credentials.email;
    let (id, stale, known, ()) = tokio::try_join!(
        async { Ok::<_, LoginError>(app.store.user_id_by_email(email).await?) },
        async { Ok(app.store.login_guard(email, client).await?) },
        async { Ok(app.store.is_known_client(email, client, now_s).await?) },
        async { Ok(auth_limits::admit_client(app, client, now).await?) },
    )?;
    // DynamoDB's TTL deletes late: a window that ended starts afresh.
    if stale.is_some_and(|g| g.expires_at <= now_s) {
        app.store.clear_login_guard(email, client).await?;
    }
    let attempt = match app
        .store
        .claim_login_attempt(email, client, now_ms, window_end, guard::THRESHOLD)
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
    // Only past this client's own limit does an attempt spend the email's
    // budget, and only a client that has not logged in to it before.
    let budget = auth_limits::window_at(now, guard::ACCOUNT_WINDOW, guard::ACCOUNT_GUESSES);
    let (within_budget, user) = tokio::try_join!(
        async {
            match known {
                true => Ok(true),
                false => app.store.claim_login_budget(email, budget).await,
            }
        },
        app.store.user_for_login(id.as_ref()),
    )?;
    if !within_budget {
        // No password was checked: the client's own attempt is given back,
        // so the refusal leaves its lock where it was.
        app.store.release_login_attempt(email, client).await?;
        crate::invocation::count(Counter::FailedLogin);
        tracing::info!("login refused: the account's hourly budget is spent");
        return Err(LoginError::AccountLimited {
            retry_after: auth_limits::seconds_left(now, budget, guard::ACCOUNT_WINDOW),
        });
    }
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
            let known_until = now_s + guard::KNOWN_FOR.as_secs() as i64;
            tokio::try_join!(
                app.store.clear_login_guard(email, client),
                app.store.remember_client(email, client, known_until),
                async {
                    match known {
                        true => Ok(()),
                        false => app.store.release_login_budget(email, budget.number).await,
                    }
                },
            )?;
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
                    .lock_login(email, client, until, attempt + 1, expires_at)
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
        (status = 429, description = "Too many failed logins for this email from this client, or for this email from every client this hour, or too many sign-in and sign-up requests from this client; try again after `Retry-After` seconds", body = crate::http::ErrorsBody, headers(("Retry-After" = u64, description = "Seconds to wait"))),
    ),
)]
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let input: Input = http::parse_json(request)?;
    let credentials = Credentials::try_from(input.user)?;
    let (user, token) = login(app, credentials, &http::client(request), Timestamp::now()).await?;
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

    #[test]
    fn one_client_alone_cannot_spend_an_accounts_hourly_budget() {
        // No pause within the hour starts a client afresh.
        assert!(WINDOW >= ACCOUNT_WINDOW);
        let most = most_from_one_client(ACCOUNT_WINDOW);
        assert_eq!(
            most, 17,
            "5 at once, then one as each lock of 1 s, 2 s, ... 15 min ends"
        );
        // Any hour holds at most `most` of one client's failures, so each
        // clock hour of the budget does too: two clients together leave the
        // owner attempts; it takes three to spend the budget.
        assert!(2 * most < ACCOUNT_GUESSES && 3 * most >= ACCOUNT_GUESSES);
    }
}
