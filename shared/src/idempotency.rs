//! Idempotency keys (IETF httpapi draft "The Idempotency-Key HTTP Header
//! Field"): a client that retries a `POST` with the same `Idempotency-Key`
//! gets the first response back instead of a second effect.
//!
//! The first response is kept as a *receipt*, under the caller and the key,
//! for [`LIFETIME`]. Where the effect is one transaction (registration, a new
//! article, a new comment) the receipt is written in that transaction
//! ([`within`]): effect and receipt commit together or not at all, so no crash
//! or lost response can leave an effect that a retry would apply again, and
//! of concurrent duplicates exactly one commits. Where the effect is
//! idempotent by itself (favorite, follow) the receipt is written after it
//! ([`after`]): a crash in between costs only a second, harmless application.
//! `docs/resilience.md` has the whole argument.

use std::future::Future;

use hmac::{Hmac, Mac};
use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::App;
use crate::domain::{Timestamp, UserId, ValidationErrors};
use crate::http::ApiError;
use crate::store::items::{GrantRecord, ReceiptRecord};
use crate::store::keys::{self, Key};

/// The request header carrying the key.
pub const HEADER: &str = "idempotency-key";

/// The response header marking a replayed response (`true`): the request had
/// no effect of its own.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// How long a receipt answers for its key: a day, as the draft suggests;
/// DynamoDB's TTL then deletes it.
pub const LIFETIME_SECONDS: i64 = 24 * 60 * 60;

/// [`LIFETIME_SECONDS`] as a duration.
pub const LIFETIME: std::time::Duration = std::time::Duration::from_secs(LIFETIME_SECONDS as u64);

/// Longest key accepted (a UUID is 36 characters).
pub const KEY_MAX: usize = 255;

/// A client's idempotency key: 1 to [`KEY_MAX`] visible ASCII characters,
/// sent as a Structured Field string (`"…"`, as the draft specifies) or bare
/// (as many clients send it).
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
            None if text.bytes().all(|b| b.is_ascii_graphic() && b != b'"') => text.to_owned(),
            None => return Err("must be visible ASCII, or a quoted string"),
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

/// The content of an RFC 8941 string whose opening quote is already gone.
fn unquote(rest: &str) -> Result<String, &'static str> {
    const BAD: &str = "must be a valid quoted string";
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                return if chars.next().is_none() {
                    Ok(out)
                } else {
                    Err(BAD)
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

/// Fingerprints requests with a key derived from the signing secret. Keyed,
/// not a bare hash: a registration's body holds a password, and a bare
/// SHA-256 of it in the table would be a fast offline guessing target that
/// argon2 exists to prevent.
#[derive(Clone)]
pub struct Fingerprints(Hmac<Sha256>);

impl Fingerprints {
    /// Fingerprints keyed by the signing secret (domain-separated from tokens).
    pub fn new(secret: &SecretString) -> Self {
        let mut derive = <Hmac<Sha256>>::new_from_slice(secret.expose_secret().as_bytes())
            .expect("HMAC takes keys of any length");
        derive.update(b"conduit idempotency fingerprint v1");
        let key = derive.finalize().into_bytes();
        Self(<Hmac<Sha256>>::new_from_slice(&key).expect("HMAC takes keys of any length"))
    }

    /// The fingerprint of a request: method, path and body, each length-prefixed
    /// so no two different requests run together into the same bytes.
    pub fn of(&self, method: &str, path: &str, body: &[u8]) -> String {
        let mut mac = self.0.clone();
        for part in [method.as_bytes(), path.as_bytes(), body] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

impl std::fmt::Debug for Fingerprints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Fingerprints(<keyed>)")
    }
}

/// A request that carries an idempotency key: where its receipt lives, what
/// it asked, and when.
#[derive(Debug, Clone)]
pub struct Keyed {
    key: Key,
    fingerprint: String,
    now: Timestamp,
}

/// A response to record under a key, with the key and the time of writing:
/// what a write adds to its transaction (see [`crate::store::receipts`]).
#[derive(Debug, Clone)]
pub struct Receipt {
    /// Where it is stored.
    pub key: Key,
    /// What is stored.
    pub record: ReceiptRecord,
    /// When it is written: an older receipt that expired by then may be replaced.
    pub now: Timestamp,
}

/// What a use case calls to turn its result into the receipt it writes with
/// its effect (the response, rendered before the transaction commits).
pub type Seal<'a, V> = &'a (dyn Fn(&V) -> Receipt + Send + Sync);

impl Keyed {
    /// The keyed request `caller` (`None`: anonymous, as a registration is)
    /// makes at `now`, or `None` if it sent no key. A malformed key, or more
    /// than one, is a 400.
    pub fn of(
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
                "must be sent once",
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

    /// A keyed request from its parts (tests make stale ones with it).
    pub fn new(
        caller: Option<&UserId>,
        key: &IdempotencyKey,
        fingerprint: String,
        now: Timestamp,
    ) -> Self {
        Self {
            key: keys::receipt(caller, key),
            fingerprint,
            now,
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
            now: self.now,
        }
    }

    /// What a receipt found under this key answers: the first response, if it
    /// was for the same request; a 422 if the key was used for another.
    fn replay(&self, app: &App, found: ReceiptRecord) -> Result<Response<Body>, ApiError> {
        if found.fingerprint != self.fingerprint {
            return Err(ApiError::Unprocessable(ValidationErrors::single(
                "Idempotency-Key",
                "was already used for a different request",
            )));
        }
        let status =
            StatusCode::from_u16(found.status).map_err(|e| ApiError::Internal(Box::new(e)))?;
        let body = match &found.grant {
            Some(grant) => with_token(
                &found.body,
                &app.tokens.issue_at(&grant.user_id, grant.issued_at),
            ),
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

    /// Reads the receipt again after a write found the key taken: replays it,
    /// or, if it cannot be seen (its request has not committed, or it expired
    /// just now), a 409 the client may retry.
    async fn replay_settled(&self, app: &App) -> Result<Response<Body>, ApiError> {
        match app.store.receipt(&self.key, self.now).await? {
            Some(found) => self.replay(app, found),
            None => Err(ApiError::KeyInUse),
        }
    }

    /// The receipt under this key, if one answers for it now.
    async fn recorded(&self, app: &App) -> Result<Option<ReceiptRecord>, ApiError> {
        Ok(app.store.receipt(&self.key, self.now).await?)
    }
}

impl Receipt {
    /// This receipt, for a response whose body carries a token of `user`
    /// issued at `issued_at` in place of the empty `"token":""`: the token
    /// itself is never stored, and a replay signs the same claims again,
    /// which (HS256 being deterministic) gives the same token.
    pub fn granting(mut self, user: &UserId, issued_at: u64) -> Self {
        self.record.grant = Some(GrantRecord {
            user_id: user.clone(),
            issued_at,
        });
        self
    }
}

/// `body` with its empty `"token":""` filled in. In compact JSON that
/// sequence can only be a key and its value: inside a string every `"` is escaped.
fn with_token(body: &str, token: &str) -> String {
    body.replacen(r#""token":"""#, &format!(r#""token":"{token}""#), 1)
}

/// Serves a request whose use case writes the receipt in its own transaction.
/// Without a key `serve` just runs. With one, a receipt already there is
/// replayed (or the key's reuse refused) without running anything; otherwise
/// `serve` gets the keyed request to seal its response with, and if its write
/// finds the key taken meanwhile (a concurrent duplicate won), the winner's
/// response is replayed.
pub async fn within<F, Fut>(
    app: &App,
    request: &Request,
    caller: Option<&UserId>,
    serve: F,
) -> Result<Response<Body>, ApiError>
where
    F: FnOnce(Option<Keyed>) -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let Some(keyed) = Keyed::of(app, request, caller, Timestamp::now())? else {
        return serve(None).await;
    };
    if let Some(found) = keyed.recorded(app).await? {
        return keyed.replay(app, found);
    }
    match serve(Some(keyed.clone())).await {
        Err(ApiError::KeyInUse) => keyed.replay_settled(app).await,
        other => other,
    }
}

/// Serves a request whose effect is idempotent by itself (setting a flag):
/// a receipt already there is replayed; otherwise `serve` runs, and a
/// successful response is recorded after it. If a concurrent duplicate
/// recorded first, its response is the answer, so every duplicate answers alike.
pub async fn after<F, Fut>(
    app: &App,
    request: &Request,
    caller: &UserId,
    serve: F,
) -> Result<Response<Body>, ApiError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Response<Body>, ApiError>>,
{
    let Some(keyed) = Keyed::of(app, request, Some(caller), Timestamp::now())? else {
        return serve().await;
    };
    if let Some(found) = keyed.recorded(app).await? {
        return keyed.replay(app, found);
    }
    let response = serve().await?;
    if !response.status().is_success() {
        return Ok(response);
    }
    if app.store.record_receipt(&keyed.receipt(&response)).await? {
        Ok(response)
    } else {
        keyed.replay_settled(app).await
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
    fn fingerprints_differ_with_method_path_body_and_secret() {
        let one = Fingerprints::new(&"one secret of enough length".to_owned().into());
        let two = Fingerprints::new(&"two secret of enough length".to_owned().into());
        let base = one.of("POST", "/api/articles", b"{}");
        assert_eq!(base, one.of("POST", "/api/articles", b"{}"));
        assert_ne!(base, one.of("PUT", "/api/articles", b"{}"));
        assert_ne!(base, one.of("POST", "/api/articlesx", b"{}"));
        assert_ne!(base, one.of("POST", "/api/articles", b"{ }"));
        assert_ne!(base, two.of("POST", "/api/articles", b"{}"));
        // Length prefixes: moving a byte from path to body is another request.
        assert_ne!(one.of("POST", "/a", b"b"), one.of("POST", "/", b"ab"));
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
