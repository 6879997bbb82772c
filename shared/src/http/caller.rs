//! Who is calling: the token in `Authorization`, verified, and whether its
//! session is still live.

use std::future::Future;

use lambda_http::Request;
use lambda_http::http::header;

use super::error::ApiError;
use crate::App;
use crate::auth::{session_verdict, token_from_header};
use crate::domain::{Session, User, UserId};
use crate::store::StoreError;

/// The raw `Authorization` header value.
fn authorization(request: &Request) -> Option<&str> {
    request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
}

/// An authenticated caller: the user id, the session and the token presented.
/// Its `Debug` leaves the token out: spans and logs may print a caller, and
/// a token in them would be a credential in X-Ray and CloudWatch.
#[derive(Clone)]
pub(crate) struct Caller {
    /// The user the token was issued to (its `sub`).
    pub id: UserId,
    /// The session it belongs to (its `sid` and `sv`).
    pub session: Session,
    /// The token as presented (echoed back by `GET /user`).
    pub token: String,
}

impl std::fmt::Debug for Caller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Caller")
            .field("id", &self.id)
            .field("session", &self.session)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl Caller {
    /// Refuses the token if `user`, the caller's own item as just read, has
    /// ended its session: a request that reads the item anyway checks it
    /// there, at no extra cost.
    pub(crate) fn holds(&self, user: &User) -> Result<(), ApiError> {
        self.live(Some(user))
    }

    /// [`Caller::holds`] for a read that may have found no user: a token of
    /// a user who is gone is invalid.
    pub(crate) fn live(&self, user: Option<&User>) -> Result<(), ApiError> {
        Ok(session_verdict(user, &self.id, &self.session)?)
    }

    /// Reads the caller's item (one strongly consistent point read) and
    /// checks their session on it: the storage error, or the verdict.
    pub(crate) async fn session(&self, app: &App) -> Result<Result<(), ApiError>, StoreError> {
        Ok(self.live(app.store.user(&self.id, true).await?.as_ref()))
    }
}

/// The caller, who must be authenticated: a valid token (its session is
/// checked where the caller's item is read, or [`beside`] the first read).
pub(crate) fn require_auth(app: &App, request: &Request) -> Result<Caller, ApiError> {
    let token = token_from_header(authorization(request))?;
    let verified = app.tokens.verify(token)?;
    Ok(Caller {
        id: verified.user,
        session: verified.session,
        token: token.to_owned(),
    })
}

/// Runs `first`, the request's first read, beside the read of the caller's
/// item (one strongly consistent point read, at the same time, so it adds
/// no round trip), and refuses the token if its session has ended: for the
/// requests that would not read the caller's item anyway. `first` must not
/// write: its result is dropped when the session has ended.
pub(crate) async fn beside<T, E>(
    app: &App,
    caller: &Caller,
    first: impl Future<Output = Result<T, E>>,
) -> Result<T, ApiError>
where
    ApiError: From<E>,
{
    let (live, result) = tokio::join!(caller.session(app), first);
    live??;
    Ok(result?)
}

/// The caller if a token was sent; a token that was sent but is bad is still
/// a 401. Public reads take it as it is: an ended session's token still
/// personalises `following` and `favorited` until it expires.
pub(crate) fn optional_auth(app: &App, request: &Request) -> Result<Option<Caller>, ApiError> {
    match authorization(request) {
        None => Ok(None),
        Some(_) => require_auth(app, request).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_printed_caller_never_shows_its_token() {
        let caller = Caller {
            id: UserId::generate(),
            session: Session::first(),
            token: "eyJ.secret.token".into(),
        };
        let printed = format!("{caller:?}");
        assert!(!printed.contains("secret"), "{printed}");
        assert!(printed.contains(caller.id.as_str()), "{printed}");
    }
}
