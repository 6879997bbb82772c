//! Passwords: argon2id hashes, checked on a blocking thread, with a decoy
//! for unknown emails so a miss costs what a hit costs.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm as ArgonAlgorithm, Argon2, Params, Version};

use crate::domain::{Password, PasswordHashString};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
