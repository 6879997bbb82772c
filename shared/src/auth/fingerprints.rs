//! Fingerprints of idempotent requests: what tells a retry (same request)
//! from a reused key (another one).

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// How a function fingerprints requests.
#[derive(Clone)]
pub enum Fingerprints {
    /// HMAC-SHA-256 under the key ring's fingerprint key: the signers'
    /// (register, login, update user), whose bodies hold passwords. Keyed,
    /// because a bare SHA-256 of a password in the table would be a fast
    /// offline guessing target that argon2 exists to prevent. The key never
    /// rotates, so a keyed retry that spans a signing-key rotation matches.
    Keyed(Hmac<Sha256>),
    /// SHA-256: every other function's, whose bodies hold no secret, and
    /// which hold no secret to key with.
    Plain,
}

impl Fingerprints {
    /// Fingerprints keyed by `key` (domain-separated from any other use).
    pub fn keyed(key: &[u8]) -> Self {
        let mut derive =
            <Hmac<Sha256>>::new_from_slice(key).expect("HMAC takes keys of any length");
        derive.update(b"conduit idempotency fingerprint v2");
        let key = derive.finalize().into_bytes();
        Self::Keyed(<Hmac<Sha256>>::new_from_slice(&key).expect("HMAC takes keys of any length"))
    }

    /// The fingerprint of a request: method, path and body, each length-prefixed
    /// so no two different requests run together into the same bytes.
    pub fn of(&self, method: &str, path: &str, body: &[u8]) -> String {
        let parts = [method.as_bytes(), path.as_bytes(), body];
        let digest: Vec<u8> = match self {
            Self::Keyed(mac) => {
                let mut mac = mac.clone();
                for part in parts {
                    mac.update(&(part.len() as u64).to_be_bytes());
                    mac.update(part);
                }
                mac.finalize().into_bytes().to_vec()
            }
            Self::Plain => {
                let mut hash = Sha256::new();
                for part in parts {
                    hash.update((part.len() as u64).to_be_bytes());
                    hash.update(part);
                }
                hash.finalize().to_vec()
            }
        };
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl std::fmt::Debug for Fingerprints {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Keyed(_) => "Fingerprints::Keyed(<key>)",
            Self::Plain => "Fingerprints::Plain",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_differ_with_method_path_body_and_key() {
        for one in [Fingerprints::keyed(&[1; 32]), Fingerprints::Plain] {
            let base = one.of("POST", "/api/articles", b"{}");
            assert_eq!(base, one.of("POST", "/api/articles", b"{}"));
            assert_ne!(base, one.of("PUT", "/api/articles", b"{}"));
            assert_ne!(base, one.of("POST", "/api/articlesx", b"{}"));
            assert_ne!(base, one.of("POST", "/api/articles", b"{ }"));
            // Length prefixes: moving a byte from path to body is another request.
            assert_ne!(one.of("POST", "/a", b"b"), one.of("POST", "/", b"ab"));
        }
        let (one, two) = (Fingerprints::keyed(&[1; 32]), Fingerprints::keyed(&[2; 32]));
        assert_ne!(one.of("POST", "/", b"{}"), two.of("POST", "/", b"{}"));
        assert_ne!(
            one.of("POST", "/", b"{}"),
            Fingerprints::Plain.of("POST", "/", b"{}")
        );
    }
}
