//! The limits of sign-in and sign-up, per client (the viewer's address, as
//! the edge saw it): each client has a budget of its own, so no client can
//! spend everyone else's, as one shared route throttle would let it. The
//! store only counts ([`crate::store::Window`]).

use std::time::Duration;

use crate::App;
use crate::domain::{ClientAddress, Timestamp};
use crate::http::ApiError;
use crate::store::{StoreError, Window};

/// The length of a client's window: `AuthLimits::client_requests` sign-in
/// and sign-up requests per client in each.
pub(crate) const CLIENT_WINDOW: Duration = Duration::from_secs(5 * 60);

/// A client over its budget, told when the next window opens.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ClientLimitError {
    /// Over the budget of this window.
    #[error(
        "too many sign-in and sign-up requests from this client; next window in {retry_after} s"
    )]
    Limited {
        /// Seconds until the next window.
        retry_after: u64,
    },
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<ClientLimitError> for ApiError {
    fn from(error: ClientLimitError) -> Self {
        match error {
            ClientLimitError::Limited { retry_after } => ApiError::TooManyRequests {
                retry_after,
                field: "client",
                message: "has sent too many sign-in and sign-up requests; try again after Retry-After seconds",
            },
            ClientLimitError::Store(e) => e.into(),
        }
    }
}

/// The window of `length` that `now` is in, admitting `limit`, its item
/// kept one window past its end (DynamoDB's TTL deletes late anyway).
pub(crate) fn window_at(now: Timestamp, length: Duration, limit: u32) -> Window {
    let length = length.as_secs() as i64;
    let number = now.unix_seconds().div_euclid(length);
    Window {
        number,
        limit,
        expires_at: (number + 2) * length,
    }
}

/// Seconds from `now` to the end of `window` of `length`, at least one.
pub(crate) fn seconds_left(now: Timestamp, window: Window, length: Duration) -> u64 {
    let end = (window.number + 1) * length.as_secs() as i64;
    (end - now.unix_seconds()).max(1) as u64
}

/// Counts one sign-in or sign-up request of `client`: refused once the
/// client has made its budget's worth in the current window.
pub(crate) async fn admit_client(
    app: &App,
    client: &ClientAddress,
    now: Timestamp,
) -> Result<(), ClientLimitError> {
    let window = window_at(now, CLIENT_WINDOW, app.auth_limits.client_requests);
    if app.store.claim_client_request(client, window).await? {
        Ok(())
    } else {
        tracing::info!(%client, "client over its sign-in limit");
        Err(ClientLimitError::Limited {
            retry_after: seconds_left(now, window, CLIENT_WINDOW),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn a_window_holds_now_and_its_retry_after_reaches_the_next_one(
            seconds in 0i64..4_000_000_000,
            minutes in 1u64..120,
        ) {
            let length = Duration::from_secs(minutes * 60);
            let now = Timestamp::from_unix_millis(seconds * 1000);
            let window = window_at(now, length, 10);
            let start = window.number * length.as_secs() as i64;
            prop_assert!(start <= seconds && seconds < start + length.as_secs() as i64);
            let left = seconds_left(now, window, length);
            prop_assert!(left >= 1 && left <= length.as_secs());
            let next = Timestamp::from_unix_millis((seconds + left as i64) * 1000);
            prop_assert_eq!(window_at(next, length, 10).number, window.number + 1);
            prop_assert!(window.expires_at > start + length.as_secs() as i64);
        }
    }
}
