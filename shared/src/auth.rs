//! Passwords (argon2id), tokens (HS256 JWTs whose `sub` is the stable user
//! id), and the keyed fingerprints of idempotent requests.

use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm as ArgonAlgorithm, Argon2, Params, Version};
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::domain::{Password, PasswordHashString, UserId};

/// OWASP's first recommended argon2id configuration: 19 MiB, 2 passes, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant parameters are valid");
    Argon2::new(ArgonAlgorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password with a fresh salt. CPU-bound: call from a blocking thread.
pub(crate) fn hash_password(password: &Password) -> PasswordHashString {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    let hash = argon2()
        .hash_password(password.expose().as_bytes(), &salt)
        .expect("argon2id hashing with valid parameters cannot fail");
    PasswordHashString::parse(&hash.to_string()).expect("argon2 writes PHC strings")
}

/// [`hash_password`] on a blocking thread, so the async runtime keeps serving.
pub(crate) async fn hash_password_blocking(
    password: Password,
) -> Result<PasswordHashString, tokio::task::JoinError> {
    tokio::task::spawn_blocking(move || hash_password(&password)).await
}

/// [`verify_password`] on a blocking thread.
pub(crate) async fn verify_password_blocking(
    password: Password,
    stored: Option<PasswordHashString>,
) -> Result<bool, tokio::task::JoinError> {
    tokio::task::spawn_blocking(move || verify_password(&password, stored.as_ref())).await
}

/// Hash checked when the email is unknown, so a miss costs what a hit costs.
static DECOY_HASH: LazyLock<PasswordHashString> = LazyLock::new(|| {
    hash_password(&Password::parse(Some("decoy password, never matches")).expect("valid"))
});

/// Computes the decoy hash now, on the blocking pool: login does it during
/// init. Without it the first unknown email of a process pays for the decoy
/// hash on top of its check (a one-off timing difference from a known email),
/// and the first login pays for the blocking thread and argon2's first 19 MiB
/// (README, "Cold start", has the measurement).
pub(crate) async fn warm_password_hashing() {
    let _ = tokio::task::spawn_blocking(|| LazyLock::force(&DECOY_HASH).as_str().len()).await;
}

/// Checks a password against a stored hash (or against a decoy when there is
/// none, to keep timing flat). CPU-bound: call from a blocking thread.
pub(crate) fn verify_password(password: &Password, stored: Option<&PasswordHashString>) -> bool {
    let hash = stored.unwrap_or(&DECOY_HASH);
    let Ok(parsed) = PasswordHash::new(hash.as_str()) else {
        return false;
    };
    let matches = argon2()
        .verify_password(password.expose().as_bytes(), &parsed)
        .is_ok();
    matches && stored.is_some()
}

/// Why a token was refused; all of these are a 401 to the caller.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum TokenError {
    /// No `Authorization` header.
    #[error("missing authorization header")]
    Missing,
    /// Not `Token <jwt>` or `Bearer <jwt>`.
    #[error("authorization header is not 'Token <jwt>'")]
    Malformed,
    /// Bad signature, wrong algorithm, expired, or unparseable.
    #[error("token is invalid or expired")]
    Invalid,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: u64,
    exp: u64,
}

/// Issues and verifies tokens with one HS256 secret.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl TokenKeys {
    /// Keys from the signing secret; tokens live for `ttl`.
    pub fn new(secret: &SecretString, ttl: Duration) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        // Pinning the algorithm is what rejects `alg: none` and RS/HS confusion.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.set_required_spec_claims(&["exp", "sub", "iat"]);
        Self {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            ttl,
        }
    }

    /// A signed token for `user`, issued now.
    pub fn issue(&self, user: &UserId) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs();
        self.issue_at(user, now)
    }

    /// The token for `user` issued at `now` (Unix seconds): the same
    /// arguments give the same token, which lets an idempotent replay answer
    /// with the token of the first response without storing it.
    pub(crate) fn issue_at(&self, user: &UserId, now: u64) -> String {
        let claims = Claims {
            sub: user.as_str().to_owned(),
            iat: now,
            exp: now + self.ttl.as_secs(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    /// The user a token was issued to, if its signature, algorithm and expiry hold.
    pub(crate) fn verify(&self, token: &str) -> Result<UserId, TokenError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()
            .and_then(|data| UserId::parse(&data.claims.sub))
            .ok_or(TokenError::Invalid)
    }
}

/// Extracts the token from an `Authorization` header value: `Token <jwt>` as
/// the spec says, or `Bearer <jwt>` as most HTTP clients send.
pub(crate) fn token_from_header(value: Option<&str>) -> Result<&str, TokenError> {
    let value = value.ok_or(TokenError::Missing)?.trim();
    let (scheme, token) = value.split_once(' ').ok_or(TokenError::Malformed)?;
    let token = token.trim();
    let scheme_ok = scheme.eq_ignore_ascii_case("token") || scheme.eq_ignore_ascii_case("bearer");
    if scheme_ok && !token.is_empty() && !token.contains(' ') {
        Ok(token)
    } else {
        Err(TokenError::Malformed)
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use base64_engine::encode;

    mod base64_engine {
        // Minimal URL-safe base64 without padding, enough to forge test tokens.
        pub fn encode(input: &[u8]) -> String {
            const TABLE: &[u8] =
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
            let mut out = String::new();
            for chunk in input.chunks(3) {
                let b = [
                    chunk[0],
                    *chunk.get(1).unwrap_or(&0),
                    *chunk.get(2).unwrap_or(&0),
                ];
                let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
                for i in 0..=chunk.len() {
                    out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
                }
            }
            out
        }
    }

    fn keys(secret: &str) -> TokenKeys {
        TokenKeys::new(&secret.to_owned().into(), Duration::from_secs(3600))
    }

    #[test]
    fn a_token_round_trips_to_its_user() {
        let keys = keys("test-secret");
        let user = UserId::generate();
        assert_eq!(keys.verify(&keys.issue(&user)), Ok(user));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let token = keys("one").issue(&UserId::generate());
        assert_eq!(keys("two").verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn a_tampered_token_is_refused() {
        let keys = keys("s");
        let token = keys.issue(&UserId::generate());
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = encode(br#"{"sub":"someone-else","iat":1,"exp":99999999999}"#);
        parts[1] = &forged;
        assert_eq!(keys.verify(&parts.join(".")), Err(TokenError::Invalid));
    }

    #[test]
    fn an_expired_token_is_refused() {
        let keys = keys("s");
        let claims = Claims {
            sub: "u".into(),
            iat: 1,
            exp: 2,
        };
        let expired =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &keys.encoding).unwrap();
        assert_eq!(keys.verify(&expired), Err(TokenError::Invalid));
    }

    #[test]
    fn an_unsigned_alg_none_token_is_refused() {
        let keys = keys("s");
        let header = encode(br#"{"alg":"none","typ":"JWT"}"#);
        let claims = encode(br#"{"sub":"x","iat":1,"exp":99999999999}"#);
        assert_eq!(
            keys.verify(&format!("{header}.{claims}.")),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn a_token_under_any_other_algorithm_is_refused_even_with_the_right_secret() {
        // The algorithm is pinned to HS256: no header can pick another one,
        // so no RSA or ECDSA code ever runs on a token (see deny.toml).
        let keys = keys("s");
        let claims = Claims {
            sub: UserId::generate().to_string(),
            iat: 1,
            exp: 99_999_999_999,
        };
        let hs512 =
            jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims, &keys.encoding).unwrap();
        assert_eq!(keys.verify(&hs512), Err(TokenError::Invalid));
        let rs256 = format!(
            "{}.{}.{}",
            encode(br#"{"alg":"RS256","typ":"JWT"}"#),
            hs512.split('.').nth(1).unwrap(),
            encode(b"not an rsa signature")
        );
        assert_eq!(keys.verify(&rs256), Err(TokenError::Invalid));
    }

    #[test]
    fn garbage_is_refused() {
        assert_eq!(keys("s").verify("not.a.jwt"), Err(TokenError::Invalid));
    }

    #[test]
    fn the_header_accepts_token_and_bearer_schemes() {
        assert_eq!(token_from_header(Some("Token abc")), Ok("abc"));
        assert_eq!(token_from_header(Some("Bearer abc")), Ok("abc"));
        assert_eq!(token_from_header(Some("bearer  abc ")), Ok("abc"));
        assert_eq!(token_from_header(None), Err(TokenError::Missing));
        assert_eq!(token_from_header(Some("abc")), Err(TokenError::Malformed));
        assert_eq!(
            token_from_header(Some("Basic abc")),
            Err(TokenError::Malformed)
        );
        assert_eq!(
            token_from_header(Some("Token ")),
            Err(TokenError::Malformed)
        );
    }

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let password = Password::parse(Some("jakejake")).unwrap();
        let hash = hash_password(&password);
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password(&password, Some(&hash)));
        let other = Password::parse(Some("jakejak3")).unwrap();
        assert!(!verify_password(&other, Some(&hash)));
        assert!(!verify_password(&password, None));
        assert_eq!(format!("{hash:?}"), "PasswordHashString(<redacted>)");
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
}
