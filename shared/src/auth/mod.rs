//! Passwords (argon2id), tokens (Ed25519 JWTs with key ids, whose `sub` is
//! the stable user id), the signing key ring, and the fingerprints of
//! idempotent requests.

mod fingerprints;
mod keys;
mod passwords;
mod tokens;

pub use fingerprints::Fingerprints;
pub use keys::{KeyError, KeyRing, PublicKeys};
pub use tokens::{Audience, TokenSigner, TokenVerifier};

pub(crate) use passwords::{
    hash_password_blocking, verify_password_blocking, warm_password_hashing,
};
pub(crate) use tokens::{TokenError, session_verdict, token_from_header};
