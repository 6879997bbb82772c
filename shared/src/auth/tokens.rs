//! Tokens: EdDSA (Ed25519) JWTs with a `kid`, typed `at+jwt` (RFC 9068),
//! naming this stack as issuer and audience (RFC 8725), whose `sub` is the
//! stable user id, `sid` the session and `sv` the user's session epoch when
//! issued.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, Header, Validation};
use serde::{Deserialize, Serialize};

use super::keys::{PublicKeys, SigningKey};
use crate::domain::{Session, SessionEpoch, SessionId, User, UserId};

/// The JWT `typ` of our tokens (RFC 9068, access tokens).
const TYP: &str = "at+jwt";

/// Clock skew allowed on `exp`, `nbf` and `iat` between functions.
const LEEWAY_SECONDS: u64 = 30;

/// Why a token was refused; all of these are a 401 to the caller.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum TokenError {
    /// No `Authorization` header.
    #[error("missing authorization header")]
    Missing,
    /// Not `Token <jwt>` or `Bearer <jwt>`.
    #[error("authorization header is not 'Token <jwt>'")]
    Malformed,
    /// Bad signature, unknown key, wrong algorithm, type, issuer or
    /// audience, expired, not yet valid, or unparseable.
    #[error("token is invalid or expired")]
    Invalid,
    /// Well signed, but its session was ended (a password change, a sign-out
    /// everywhere).
    #[error("token's session has ended")]
    Ended,
}

/// Whether a token of `id` in `session` still stands, given `user`, the item
/// just read for `id`: a user who is gone makes it invalid, a session the
/// user has ended makes it ended.
pub(crate) fn session_verdict(
    user: Option<&User>,
    id: &UserId,
    session: &Session,
) -> Result<(), TokenError> {
    match user {
        None => Err(TokenError::Invalid),
        Some(user) if user.user_id == *id && user.admits(session) => Ok(()),
        Some(_) => Err(TokenError::Ended),
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    iat: u64,
    nbf: u64,
    exp: u64,
    sid: SessionId,
    sv: SessionEpoch,
}

/// Whom tokens are from and for: this stack.
#[derive(Debug, Clone)]
pub struct Audience {
    /// `iss`: the stack's signers.
    pub issuer: String,
    /// `aud`: the stack's API.
    pub audience: String,
}

/// Who a valid token was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verified {
    /// Its `sub`.
    pub user: UserId,
    /// Its `sid` and `sv`: live while the user admits them.
    pub session: Session,
}

/// Verifies tokens with public keys only.
pub struct TokenVerifier {
    keys: PublicKeys,
    validation: Validation,
}

impl TokenVerifier {
    /// Accepts tokens signed by any of `keys`, from and for `parties`.
    pub fn new(keys: PublicKeys, parties: &Audience) -> Self {
        // Pinning the algorithm is what rejects `alg: none`, HS256 and RS256.
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&parties.issuer]);
        validation.set_audience(&[&parties.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        Self { keys, validation }
    }

    /// Whether tokens of key `kid` are accepted.
    pub fn accepts(&self, kid: &str) -> bool {
        self.keys.contains(kid)
    }

    /// The user and session of a token whose key, signature, type, parties
    /// and times hold.
    pub(crate) fn verify(&self, token: &str) -> Result<Verified, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != Algorithm::EdDSA || header.typ.as_deref() != Some(TYP) {
            return Err(TokenError::Invalid);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.keys.get(kid))
            .ok_or(TokenError::Invalid)?;
        let claims = jsonwebtoken::decode::<Claims>(token, key, &self.validation)
            .map_err(|_| TokenError::Invalid)?
            .claims;
        // jsonwebtoken checks `exp` and `nbf`; a token from the future is as bad.
        if claims.iat > unix_now() + LEEWAY_SECONDS {
            return Err(TokenError::Invalid);
        }
        Ok(Verified {
            user: UserId::parse(&claims.sub).ok_or(TokenError::Invalid)?,
            session: Session {
                id: claims.sid,
                epoch: claims.sv,
            },
        })
    }
}

/// Signs tokens with the ring's signing key.
pub struct TokenSigner {
    key: SigningKey,
    parties: Audience,
    ttl: Duration,
}

impl TokenSigner {
    /// Tokens signed with `key`, from and for `parties`, living for `ttl`.
    pub fn new(key: SigningKey, parties: Audience, ttl: Duration) -> Self {
        Self { key, parties, ttl }
    }

    /// A token for `user` in session `session`, issued now.
    pub fn issue(&self, user: &UserId, session: &Session) -> String {
        self.issue_at(user, session, unix_now())
    }

    /// The token for `user` issued at `now` (Unix seconds): Ed25519 is
    /// deterministic, so the same arguments and key give the same token,
    /// which lets an idempotent replay answer with the first response's
    /// token without storing it.
    pub fn issue_at(&self, user: &UserId, session: &Session, now: u64) -> String {
        let claims = Claims {
            iss: self.parties.issuer.clone(),
            aud: self.parties.audience.clone(),
            sub: user.as_str().to_owned(),
            iat: now,
            nbf: now,
            exp: now + self.ttl.as_secs(),
            sid: session.id.clone(),
            sv: session.epoch,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(TYP.to_owned());
        header.kid = Some(self.key.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.key.key).expect("Ed25519 signing cannot fail")
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
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

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

    use super::*;
    use crate::auth::KeyRing;

    #[test]
    fn a_token_stands_only_while_its_user_exists_and_admits_its_session() {
        let user = User::new(
            UserId::generate(),
            crate::domain::Username::parse(Some("jake")).unwrap(),
            crate::domain::Email::parse(Some("jake@example.com")).unwrap(),
            crate::domain::PasswordHashString::parse("$argon2id$x").unwrap(),
        );
        let (live, ended) = (session(0), session(1));
        let id = &user.user_id;
        assert_eq!(session_verdict(Some(&user), id, &live), Ok(()));
        assert_eq!(session_verdict(None, id, &live), Err(TokenError::Invalid));
        assert_eq!(
            session_verdict(Some(&user), id, &ended),
            Err(TokenError::Ended)
        );
        // Another user's item never vouches for the token.
        let other = UserId::generate();
        assert_eq!(
            session_verdict(Some(&user), &other, &live),
            Err(TokenError::Ended)
        );
    }

    fn session(epoch: u32) -> Session {
        let mut at = Session {
            id: SessionId::registration(),
            epoch: SessionEpoch::FIRST,
        };
        for _ in 0..epoch {
            at.epoch = at.epoch.next();
        }
        at
    }

    fn parties() -> Audience {
        Audience {
            issuer: "urn:conduit:test:auth".into(),
            audience: "urn:conduit:test:api".into(),
        }
    }

    fn signer(ring: &KeyRing) -> TokenSigner {
        TokenSigner::new(ring.signing_key(), parties(), Duration::from_secs(3600))
    }

    fn verifier(ring: &KeyRing) -> TokenVerifier {
        TokenVerifier::new(PublicKeys::parse(&ring.public_keys()).unwrap(), &parties())
    }

    /// A token of `claims` under `header`, signed with the ring's signing key.
    fn forge(ring: &KeyRing, header: &Header, claims: &serde_json::Value) -> String {
        jsonwebtoken::encode(header, claims, &ring.signing_key().key).unwrap()
    }

    fn header(ring: &KeyRing) -> Header {
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(TYP.into());
        header.kid = Some(ring.signing_kid().into());
        header
    }

    fn claims(user: &UserId) -> serde_json::Value {
        let now = unix_now();
        serde_json::json!({
            "iss": "urn:conduit:test:auth", "aud": "urn:conduit:test:api",
            "sub": user.as_str(), "iat": now, "nbf": now, "exp": now + 60, "sv": 0,
            "sid": SessionId::registration().as_str(),
        })
    }

    /// Asserts that the ring's own token, with `field` set to `value`, is refused.
    fn refused_with(ring: &KeyRing, user: &UserId, field: &str, value: serde_json::Value) {
        let mut bad = claims(user);
        bad[field] = value;
        let token = forge(ring, &header(ring), &bad);
        assert_eq!(
            verifier(ring).verify(&token),
            Err(TokenError::Invalid),
            "{field}"
        );
    }

    #[test]
    fn a_token_round_trips_to_its_user_and_session() {
        let ring = KeyRing::generate("1").unwrap();
        let user = UserId::generate();
        let token = signer(&ring).issue(&user, &session(1));
        let verified = verifier(&ring).verify(&token).unwrap();
        assert_eq!(verified.user, user);
        assert_eq!(verified.session, session(1));
    }

    #[test]
    fn a_token_of_the_previous_key_is_accepted_and_one_two_keys_old_is_refused() {
        let first = KeyRing::generate("1").unwrap();
        let token = signer(&first).issue(&UserId::generate(), &session(0));
        let second = first.clone().rotated("2").unwrap();
        assert!(verifier(&second).verify(&token).is_ok());
        let third = second.rotated("3").unwrap();
        assert_eq!(verifier(&third).verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn a_verifier_not_yet_rotated_accepts_tokens_of_the_new_signing_key() {
        let before = KeyRing::generate("1").unwrap();
        let after = before.clone().rotated("2").unwrap();
        let token = signer(&after).issue(&UserId::generate(), &session(0));
        assert!(verifier(&before).verify(&token).is_ok());
    }

    #[test]
    fn an_unknown_kid_a_missing_kid_or_another_key_is_refused() {
        let ring = KeyRing::generate("1").unwrap();
        let user = UserId::generate();
        let other = KeyRing::generate("1").unwrap();
        let token = signer(&other).issue(&user, &session(0));
        assert_eq!(verifier(&ring).verify(&token), Err(TokenError::Invalid));
        let mut no_kid = header(&ring);
        no_kid.kid = None;
        let token = forge(&ring, &no_kid, &claims(&user));
        assert_eq!(verifier(&ring).verify(&token), Err(TokenError::Invalid));
        // The right kid, another key's signature.
        let mut lying = header(&ring);
        lying.kid = Some(ring.signing_kid().into());
        let token = jsonwebtoken::encode(&lying, &claims(&user), &other.signing_key().key).unwrap();
        assert_eq!(verifier(&ring).verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn a_wrong_issuer_audience_or_type_is_refused() {
        let ring = KeyRing::generate("1").unwrap();
        let user = UserId::generate();
        assert!(
            verifier(&ring)
                .verify(&forge(&ring, &header(&ring), &claims(&user)))
                .is_ok()
        );
        refused_with(&ring, &user, "iss", "someone-else".into());
        refused_with(&ring, &user, "aud", "another-api".into());
        for typ in [None, Some("JWT".to_owned())] {
            let mut untyped = header(&ring);
            untyped.typ = typ;
            let token = forge(&ring, &untyped, &claims(&user));
            assert_eq!(verifier(&ring).verify(&token), Err(TokenError::Invalid));
        }
    }

    #[test]
    fn expired_future_and_not_yet_valid_tokens_are_refused_past_the_leeway() {
        let ring = KeyRing::generate("1").unwrap();
        let user = UserId::generate();
        let now = unix_now();
        let skew = LEEWAY_SECONDS + 5;
        refused_with(&ring, &user, "exp", (now - skew).into());
        refused_with(&ring, &user, "nbf", (now + skew).into());
        refused_with(&ring, &user, "iat", (now + skew).into());
        let mut skewed = claims(&user);
        skewed["nbf"] = (now + 5).into();
        assert!(
            verifier(&ring)
                .verify(&forge(&ring, &header(&ring), &skewed))
                .is_ok()
        );
    }

    #[test]
    fn alg_none_and_hs256_tokens_are_refused() {
        let ring = KeyRing::generate("1").unwrap();
        let body = B64.encode(claims(&UserId::generate()).to_string());
        let kid = ring.signing_kid();
        let none = B64.encode(format!(r#"{{"alg":"none","typ":"at+jwt","kid":"{kid}"}}"#));
        assert_eq!(
            verifier(&ring).verify(&format!("{none}.{body}.")),
            Err(TokenError::Invalid)
        );
        // HS256 keyed with the public key: the classic confusion attack.
        let x = ring
            .public_keys()
            .split(',')
            .next()
            .unwrap()
            .split_once(':')
            .unwrap()
            .1
            .to_owned();
        let mut hs = Header::new(Algorithm::HS256);
        hs.typ = Some(TYP.into());
        hs.kid = Some(kid.into());
        let token = jsonwebtoken::encode(
            &hs,
            &claims(&UserId::generate()),
            &jsonwebtoken::EncodingKey::from_secret(x.as_bytes()),
        )
        .unwrap();
        assert_eq!(verifier(&ring).verify(&token), Err(TokenError::Invalid));
    }

    #[test]
    fn the_same_user_session_and_second_give_the_same_token() {
        let ring = KeyRing::generate("1").unwrap();
        let user = UserId::generate();
        let signer = signer(&ring);
        assert_eq!(
            signer.issue_at(&user, &session(0), 1_800_000_000),
            signer.issue_at(&user, &session(0), 1_800_000_000)
        );
    }

    #[test]
    fn garbage_is_refused() {
        let ring = KeyRing::generate("1").unwrap();
        assert_eq!(
            verifier(&ring).verify("not.a.jwt"),
            Err(TokenError::Invalid)
        );
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
}
