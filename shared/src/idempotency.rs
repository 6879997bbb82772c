//! Idempotency keys (IETF httpapi draft "The Idempotency-Key HTTP Header
//! Field"): a client that retries a `POST` with the same `Idempotency-Key`
//! gets the first response back instead of a second effect.
//!
//! A keyed request first *claims* its key (for [`CLAIM_SECONDS`], longer than
//! any invocation runs). A duplicate that finds the claim waits up to about
//! two seconds for the first response, then gets a `409`; one with another
//! body gets a `422` at once. The first response is kept as a *receipt*, under
//! the caller and the key, for [`LIFETIME`], replacing the claim on the
//! condition that the claim is still its writer's, in the effect's own
//! transaction (see [`within`]): effect and receipt commit together or not
//! at all, so no crash or lost response can leave an effect that a retry
//! would apply again. A request that changes nothing (favoriting twice)
//! writes the receipt alone. An error answer releases the claim.
//! `docs/resilience.md` has the whole argument.

use std::future::Future;
use std::time::Duration;

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};

use crate::App;
use crate::domain::{Session, SessionEpoch, Timestamp, UserId, ValidationErrors};
use crate::http::{ApiError, Caller};
use crate::store::keys::Key;
use crate::store::receipts::{KeyClaimRecord, KeyRecord, Receipt, ReceiptRecord};
use crate::store::{StoreError, keys};

/// The request header carrying the key.
pub(crate) const HEADER: &str = "idempotency-key";

/// The response header marking a replayed response (`true`): the request had
/// no effect of its own.
pub(crate) const REPLAYED_HEADER: &str = "idempotent-replayed";

/// How long a receipt answers for its key: a day, as the draft suggests;
/// DynamoDB's TTL then deletes it.
pub(crate) const LIFETIME_SECONDS: i64 = 24 * 60 * 60;

/// [`LIFETIME_SECONDS`] as a duration.
pub const LIFETIME: std::time::Duration = std::time::Duration::from_secs(LIFETIME_SECONDS as u64);

/// Longest key accepted (a UUID is 36 characters).
pub(crate) const KEY_MAX: usize = 255;

/// How long a claim keeps duplicates out: more than an invocation may run
/// (the template's `Timeout`, which a test keeps well below it), so only the
/// claim of a holder that crashed or timed out ever lapses.
pub const CLAIM_SECONDS: i64 = 30;

/// The pauses (ms) of a duplicate waiting for its key's first response
/// before it answers `409`: doubling, about two seconds in all, enough for
/// every endpoint but a slow registration.
const WAITS_MS: [u64; 8] = [25, 50, 100, 200, 400, 400, 400, 400];

/// Why a header holding two keys is refused (HTTP joins repeated fields with commas).
const SENT_TWICE: &str = "must be sent once";

/// A client's idempotency key: 1 to [`KEY_MAX`] characters, sent as a
/// Structured Field string (`"…"`, as the draft specifies) or bare, as many
/// clients send a UUID: then only token characters (no spaces, quotes or
/// commas, so two keys joined into one field are never read as one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Parses a header value; the message says what is wrong.
    pub fn parse(raw: &[u8]) -> Result<Self, &'static str> {
        let text = std::str::from_utf8(raw)
            .map_err(|_| "must be ASCII")?
            .trim_matches(' ');
        let key = match text.strip_prefix('"') {
            Some(quoted) => unquote(quoted)?,
            None if text.contains(',') => return Err(SENT_TWICE),
            None if text.bytes().all(is_bare) => text.to_owned(),
            None => {
                return Err("must be a quoted string, or letters, digits and !#$%&'*+-.^_`|~:/");
            }
        };
        if key.is_empty() {
            return Err("can't be empty");
        }
        if key.len() > KEY_MAX {
            return Err("is longer than 255 characters");
        }
        Ok(Self(key))
    }

    /// The key as the client chose it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A character of a bare key: an RFC 9110 `tchar`, or `:` and `/` as an
/// RFC 8941 token may hold.
fn is_bare(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~:/".contains(&b)
}

/// The content of an RFC 8941 string whose opening quote is already gone.
fn unquote(rest: &str) -> Result<String, &'static str> {
    const BAD: &str = "must be a valid quoted string";
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let after = chars.as_str().trim_start_matches(' ');
                return match after.chars().next() {
                    None => Ok(out),
                    Some(',') => Err(SENT_TWICE),
                    Some(_) => Err(BAD),
                };
            }
            '\\' => match chars.next() {
                Some(escaped @ ('"' | '\\')) => out.push(escaped),
                _ => return Err(BAD),
            },
            ' '..='~' => out.push(c),
            _ => return Err(BAD),
        }
    }
    Err(BAD)
}

/// A request that carries an idempotency key: where its receipt lives, what
/// it asked, when, and the claim it holds the key with.
#[derive(Debug, Clone)]
pub struct Keyed {
    key: Key,
    fingerprint: String,
    now: Timestamp,
    claim: String,
}

/// Whose turn a keyed request found it was.
enum Turn {
    /// It holds the key: it runs.
    Ours,
    /// The key answered already (a replay, or a 422 for another request).
    Answered(Response<Body>),
}

impl Keyed {
    /// The keyed request `caller` (`None`: anonymous, as a registration is)
    /// makes at `now`, or `None` if it sent no key. A malformed key, or more
    /// than one, is a 400.
    pub(crate) fn of(
        app: &App,
        request: &Request,
        caller: Option<&UserId>,
        now: Timestamp,
    ) -> Result<Option<Self>, ApiError> {
        let mut values = request.headers().get_all(HEADER).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            return Err(ApiError::BadHeader(ValidationErrors::single(
                "Idempotency-Key",
                SENT_TWICE,
            )));
        }
        let key = IdempotencyKey::parse(value.as_bytes())
            .map_err(|m| ApiError::BadHeader(ValidationErrors::single("Idempotency-Key", m)))?;
        let fingerprint = app.fingerprints.of(
            request.method().as_str(),
            request.uri().path(),
            request.body().as_ref(),
        );
        Ok(Some(Self::new(caller, &key, fingerprint, now)))
    }

    /// A keyed request from its parts, with a claim of its own (tests make
    /// stale ones with it).
    pub fn new(
        caller: Option<&UserId>,
        key: &IdempotencyKey,
        fingerprint: String,
        now: Timestamp,
    ) -> Self {
        use rand::Rng;
        let claim: u128 = rand::rng().random();
        Self {
            key: keys::receipt(caller, key.as_str()),
            fingerprint,
            now,
            claim: format!("{claim:032x}"),
        }
    }

    /// Takes the key for this request at `now`: `false` if it is answered
    /// or another request holds it.
    pub async fn claim(&self, app: &App, now: Timestamp) -> Result<bool, StoreError> {
        let record = KeyClaimRecord {
            fingerprint: self.fingerprint.clone(),
            claim: self.claim.clone(),
            expires_at: now.unix_seconds() + CLAIM_SECONDS,
        };
        app.store.claim_key(&self.key, &record, now).await
    }

    /// Claims the key, or answers from what holds it: the first response
    /// (or a 422 if that was another request); while the first request is
    /// still running, waits for its response through [`WAITS_MS`], then 409.
    /// Duplicates wait by reading, not by claiming again: a write to the
    /// key would contend with the holder's transaction.
    async fn take_turn(&self, app: &App) -> Result<Turn, ApiError> {
        if self.try_claim(app, self.now).await? {
            return Ok(Turn::Ours);
        }
        let mut waits = WAITS_MS.iter();
        loop {
            let now = Timestamp::now();
            match app.store.key_record(&self.key, now).await? {
                Some(KeyRecord::Answered(found)) => {
                    return self.replay(app, found).await.map(Turn::Answered);
                }
                Some(KeyRecord::Claimed(other)) if other.fingerprint != self.fingerprint => {
                    return Err(reused());
                }
                Some(KeyRecord::Claimed(_)) => {}
                // Released or lapsed since: free to take.
                None if self.try_claim(app, now).await? => return Ok(Turn::Ours),
                None => {}
            }
            let Some(pause) = waits.next() else {
                tracing::info!("an idempotency key is held by a request still running");
                return Err(ApiError::KeyInUse);
            };
            tokio::time::sleep(Duration::from_millis(*pause)).await;
        }
    }

    /// [`Keyed::claim`], for a request that answers an error if it fails:
    /// a failed put may still have been applied, so the claim is given up.
    async fn try_claim(&self, app: &App, now: Timestamp) -> Result<bool, ApiError> {
        match self.claim(app, now).await {
            Ok(taken) => Ok(taken),
            Err(error) => {
                self.release(app).await;
                Err(error.into())
            }
        }
    }

    /// Gives the key up after an error answer (nothing to replay), so the
    /// client's retry runs at once; if this fails the claim lapses by itself.
    async fn release(&self, app: &App) {
        if let Err(error) = app.store.release_key(&self.key, &self.claim).await {
            tracing::warn!(
                error = &error as &dyn std::error::Error,
                "could not release an idempotency key; it lapses in {CLAIM_SECONDS} s"
            );
        }
    }

    /// The receipt recording `response` as this request's answer.
    pub fn receipt(&self, response: &Response<Body>) -> Receipt {
        // Our bodies are JSON text; `Body::Empty` is no bytes.
        let body = String::from_utf8_lossy(response.body().as_ref()).into_owned();
        Receipt {
            key: self.key.clone(),
            record: ReceiptRecord {
                fingerprint: self.fingerprint.clone(),
                status: response.status().as_u16(),
                body,
                expires_at: self.now.unix_seconds() + LIFETIME_SECONDS,
                grant: None,
            },
            claim: self.claim.clone(),
        }
    }

    /// What a receipt found under this key answers: the first response, if it
    /// was for the same request; a 422 if the key was used for another.
    async fn replay(&self, app: &App, found: ReceiptRecord) -> Result<Response<Body>, ApiError> {
        if found.fingerprint != self.fingerprint {
            return Err(reused());
        }
        let status =
            StatusCode::from_u16(found.status).map_err(|e| ApiError::Internal(Box::new(e)))?;
        let body = match &found.grant {
            // A new user's first session: the token of the first response,
            // or, after a key rotation, the same claims under the new key;
            // only while no session of theirs has been ended (a password
            // change since must not be undone by resending the old one).
            Some(grant) => {
                let user = app.store.user(&grant.user_id, true).await?;
                if !user.is_some_and(|u| u.session_epoch == SessionEpoch::FIRST) {
                    return Err(ApiError::Conflict(ValidationErrors::single(
                        "Idempotency-Key",
                        "belongs to a registration whose sessions have been ended since",
                    )));
                }
                let signer = app.signer().map_err(|e| ApiError::Internal(Box::new(e)))?;
                with_token(
                    &found.body,
                    &signer.issue_at(&grant.user_id, &Session::first(), grant.issued_at),
                )
            }
            None => found.body,
        };
        tracing::info!(
            status = found.status,
            "replayed the response of an idempotency key"
        );
        Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
            .header(REPLAYED_HEADER, HeaderValue::from_static("true"))
            .body(Body::from(body))
            .map_err(|e| ApiError::Internal(Box::new(e)))
    }

    /// Reads the key again after this request's claim was found gone (it
    /// lapsed, and a duplicate took over): replays the duplicate's response,
    /// or, while that one still runs, a 409 the client may retry.
    async fn replay_settled(&self, app: &App) -> Result<Response<Body>, ApiError> {
        match app.store.key_record(&self.key, Timestamp::now()).await? {
            Some(KeyRecord::Answered(found)) => self.replay(app, found).await,
            _ => Err(ApiError::KeyInUse),
        }
    }
}

/// The answer to a key reused for another request.
fn reused() -> ApiError {
    ApiError::Unprocessable(ValidationErrors::single(
        "Idempotency-Key",
        "was already used for a different request",
    ))
}

/// `body` with its empty `"token":""` filled in. In compact JSON that
/// sequence can only be a key and its value: inside a string every `"` is escaped.
fn with_token(body: &str, token: &str) -> String {
    body.replacen(r#""token":"""#, &format!(r#""token":"{token}""#), 1)
}

/// Serves a request whose use case writes the receipt in its own transaction.
/// Without a key `serve` just runs. With one, the request takes its turn
/// (claims the key, or waits for and replays its first response); if it
/// holds the key, `serve` gets the keyed request, to make the receipt of its
/// response with ([`Keyed::receipt`]) before it writes.
/// A success has written its receipt; an error answer gives the key up.
pub(crate) async fn within<F, Fut>(
    app: &App,
    request: &Request,
    caller: Option<&Caller>,
    serve: F,
) -> Result<Response<Body>, ApiError>
where
    F: FnOnce(Option<Keyed>) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let scope = caller.map(|c| &c.id);
    let Some(keyed) = Keyed::of(app, request, scope, Timestamp::now())? else {
        return serve(None).await;
    };
    if let Turn::Answered(response) = keyed.take_turn(app).await? {
        // A replay answers the caller as the write would have: only in a
        // live session (`serve`, which checks it, does not run).
        if let Some(caller) = caller {
            caller.session(app).await??;
        }
        return Ok(response);
    }
    match serve(Some(keyed.clone())).await {
        Ok(response) if response.status().is_success() => Ok(response),
        Err(ApiError::KeyInUse) => keyed.replay_settled(app).await,
        other => {
            keyed.release(app).await;
            other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_may_be_a_quoted_string_or_bare() {
        let quoted = IdempotencyKey::parse(br#""8e03978e-40d5-43e8-bc93-6894a57f9324""#);
        assert_eq!(
            quoted.unwrap().as_str(),
            "8e03978e-40d5-43e8-bc93-6894a57f9324"
        );
        let bare = IdempotencyKey::parse(b"8e03978e-40d5-43e8-bc93-6894a57f9324");
        assert_eq!(
            bare.unwrap().as_str(),
            "8e03978e-40d5-43e8-bc93-6894a57f9324"
        );
    }

    #[test]
    fn two_keys_joined_into_one_field_are_refused_as_sent_twice() {
        // API Gateway joins a repeated header's values with commas.
        for raw in [&b"k1,k1"[..], b"k1, k2", b"\"k1\", \"k1\"", b"\"k1\",k2"] {
            assert_eq!(IdempotencyKey::parse(raw), Err(SENT_TWICE), "{raw:?}");
        }
        assert_eq!(IdempotencyKey::parse(b"\"a,b\"").unwrap().as_str(), "a,b");
    }

    #[test]
    fn a_bare_key_may_hold_token_characters_only() {
        let key = IdempotencyKey::parse(b"order:42/retry_1.a~b").unwrap();
        assert_eq!(key.as_str(), "order:42/retry_1.a~b");
        for raw in [&b"a;b"[..], b"a=b", b"a(b)", b"a\"b", b"a@b"] {
            assert!(IdempotencyKey::parse(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn a_quoted_key_may_escape_quotes_and_backslashes_and_hold_spaces() {
        let key = IdempotencyKey::parse(br#""a \"b\" \\ c""#).unwrap();
        assert_eq!(key.as_str(), r#"a "b" \ c"#);
    }

    #[test]
    fn empty_overlong_unterminated_and_non_ascii_keys_are_refused() {
        for raw in [
            &b""[..],
            b"\"\"",
            b"\"open",
            b"\"a\"b\"",
            b"\"bad \\n escape\"",
            b"two words",
            "caf\u{e9}".as_bytes(),
            b"\xff",
        ] {
            assert!(
                IdempotencyKey::parse(raw).is_err(),
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
        assert!(IdempotencyKey::parse("k".repeat(KEY_MAX).as_bytes()).is_ok());
        assert!(IdempotencyKey::parse("k".repeat(KEY_MAX + 1).as_bytes()).is_err());
    }

    #[test]
    fn the_token_goes_where_the_empty_token_was_and_nowhere_else() {
        let body = r#"{"user":{"email":"a\"token\":\"\"@x.io","token":"","username":"u","bio":null,"image":null}}"#;
        let filled = with_token(body, "h.p.s");
        assert_eq!(
            filled,
            r#"{"user":{"email":"a\"token\":\"\"@x.io","token":"h.p.s","username":"u","bio":null,"image":null}}"#
        );
    }
}
