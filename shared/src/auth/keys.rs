//! Ed25519 signing keys: the key ring kept in Secrets Manager, and the
//! public key set every verifier is configured with.
//!
//! A ring holds three keys. `signing` signs new tokens. `next` is already
//! published, so every running verifier accepts it before any signer uses it.
//! `previous` (public half only) keeps the tokens it signed valid after a
//! rotation. A rotation moves them along: `signing` becomes `previous`, `next`
//! becomes `signing`, and a fresh `next` is drawn. A key two rotations old is
//! in no verifier's set, so its tokens are refused.

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{DecodingKey, EncodingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Most public keys a verifier takes: previous, signing and next.
const MAX_PUBLIC_KEYS: usize = 3;

/// A malformed key ring or key set (named in the init failure).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct KeyError(&'static str);

impl KeyError {
    /// A secret with no string value.
    pub fn empty() -> Self {
        Self("the secret has no string value")
    }

    /// What is wrong, for an init failure that names the variable.
    pub fn reason(&self) -> &'static str {
        self.0
    }
}

/// A key's id, the JWT `kid`: the first 12 bytes of the SHA-256 of its
/// public key, base64url. Derived, so a set can be checked for typos.
fn key_id(public: &[u8]) -> String {
    B64.encode(&Sha256::digest(public)[..12])
}

/// A private key as the ring stores it: PKCS#8 v2, base64url.
#[derive(Clone, Serialize, Deserialize)]
struct PrivateKey {
    kid: String,
    pkcs8: String,
}

/// A public key as the ring stores it: the raw 32 bytes, base64url (JWK `x`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PublicKey {
    kid: String,
    x: String,
}

impl PrivateKey {
    fn generate() -> Result<Self, KeyError> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng)
            .map_err(|_| KeyError("could not generate an Ed25519 key"))?;
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref())
            .map_err(|_| KeyError("generated an unusable Ed25519 key"))?;
        Ok(Self {
            kid: key_id(pair.public_key().as_ref()),
            pkcs8: B64.encode(pkcs8.as_ref()),
        })
    }

    fn pair(&self) -> Result<(Vec<u8>, Ed25519KeyPair), KeyError> {
        let der = B64
            .decode(&self.pkcs8)
            .map_err(|_| KeyError("a private key is not base64url"))?;
        let pair = Ed25519KeyPair::from_pkcs8(&der)
            .map_err(|_| KeyError("a private key is not Ed25519 PKCS#8"))?;
        if key_id(pair.public_key().as_ref()) != self.kid {
            return Err(KeyError("a private key's kid does not match the key"));
        }
        Ok((der, pair))
    }

    fn public(&self) -> Result<PublicKey, KeyError> {
        let (_, pair) = self.pair()?;
        Ok(PublicKey {
            kid: self.kid.clone(),
            x: B64.encode(pair.public_key().as_ref()),
        })
    }
}

/// What a signer signs with: the key and its id.
pub struct SigningKey {
    pub(crate) kid: String,
    pub(crate) key: EncodingKey,
}

/// The key ring: the Secrets Manager secret's whole value (JSON). Only the
/// signers and the key resource ever read it.
#[derive(Clone, Serialize, Deserialize)]
pub struct KeyRing {
    /// The rotation this ring is at (the `Generation` of the key resource).
    generation: String,
    signing: PrivateKey,
    next: PrivateKey,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous: Option<PublicKey>,
    /// Keys idempotency fingerprints; never rotated, so a keyed retry that
    /// spans a rotation still matches its first send.
    fingerprint_key: String,
    /// The ring as it was before the last rotation, so a rollback of that
    /// rotation restores it rather than rotating again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    undo: Option<Box<KeyRing>>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing")
            .field("generation", &self.generation)
            .field("signing", &self.signing.kid)
            .field("next", &self.next.kid)
            .field("previous", &self.previous.as_ref().map(|p| &p.kid))
            .finish_non_exhaustive()
    }
}

impl KeyRing {
    /// A fresh ring at `generation`: new signing, next and fingerprint keys.
    pub fn generate(generation: &str) -> Result<Self, KeyError> {
        let mut fingerprint_key = [0u8; 32];
        aws_lc_rs::rand::fill(&mut fingerprint_key)
            .map_err(|_| KeyError("could not draw a fingerprint key"))?;
        Ok(Self {
            generation: generation.to_owned(),
            signing: PrivateKey::generate()?,
            next: PrivateKey::generate()?,
            previous: None,
            fingerprint_key: B64.encode(fingerprint_key),
            undo: None,
        })
    }

    /// The ring at `generation`. Already there, it is unchanged, so a
    /// request CloudFormation sends twice rotates once. At the generation
    /// the last rotation came from (CloudFormation rolling a failed deploy
    /// back), it is the ring from before that rotation, exactly: the keys
    /// the rolled-back functions hold. Otherwise it moves on: the next key
    /// signs, the signing key stays accepted as the previous one, the old
    /// previous key is dropped, and a new next key is drawn.
    pub fn rotated(mut self, generation: &str) -> Result<Self, KeyError> {
        if self.generation == generation {
            return Ok(self);
        }
        let undo = self.undo.take();
        if let Some(before) = undo.filter(|before| before.generation == generation) {
            return Ok(*before);
        }
        Ok(Self {
            generation: generation.to_owned(),
            previous: Some(self.signing.public()?),
            signing: self.next.clone(),
            next: PrivateKey::generate()?,
            fingerprint_key: self.fingerprint_key.clone(),
            undo: Some(Box::new(self)),
        })
    }

    /// Parses and checks a ring (every key well-formed, ids matching).
    pub fn parse(json: &str) -> Result<Self, KeyError> {
        let ring: Self =
            serde_json::from_str(json).map_err(|_| KeyError("the key ring is not valid JSON"))?;
        ring.check()?;
        if let Some(before) = &ring.undo {
            before.check()?;
        }
        Ok(ring)
    }

    /// Every key well-formed, every id matching its key.
    fn check(&self) -> Result<(), KeyError> {
        self.signing.pair()?;
        self.next.pair()?;
        self.fingerprint()?;
        if let Some(previous) = &self.previous {
            PublicKeys::parse(&format!("{}:{}", previous.kid, previous.x))?;
        }
        Ok(())
    }

    /// The ring as the secret's value.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a ring serialises")
    }

    /// The rotation the ring is at.
    pub fn generation(&self) -> &str {
        &self.generation
    }

    /// The id of the key new tokens are signed with.
    pub fn signing_kid(&self) -> &str {
        &self.signing.kid
    }

    /// The public keys verifiers accept, as `JWT_PUBLIC_KEYS` takes them:
    /// `kid:x` pairs, comma-separated (previous, signing, next).
    pub fn public_keys(&self) -> String {
        let signing = self.signing.public().expect("checked when parsed or made");
        let next = self.next.public().expect("checked when parsed or made");
        self.previous
            .iter()
            .chain([&signing, &next])
            .map(|k| format!("{}:{}", k.kid, k.x))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The ring's secret parts (private keys, fingerprint key) as stored,
    /// for checks that they appear in no log or response.
    pub fn private_parts(&self) -> Vec<String> {
        vec![
            self.signing.pkcs8.clone(),
            self.next.pkcs8.clone(),
            self.fingerprint_key.clone(),
        ]
    }

    /// The key new tokens are signed with.
    pub(crate) fn signing_key(&self) -> SigningKey {
        let (der, _) = self.signing.pair().expect("checked when parsed or made");
        SigningKey {
            kid: self.signing.kid.clone(),
            key: EncodingKey::from_ed_der(&der),
        }
    }

    /// The key of idempotency fingerprints.
    pub(crate) fn fingerprint(&self) -> Result<Vec<u8>, KeyError> {
        B64.decode(&self.fingerprint_key)
            .ok()
            .filter(|k| k.len() == 32)
            .ok_or(KeyError("the fingerprint key is not 32 bytes of base64url"))
    }

    /// The secret CloudFront sends the functions in every request: derived
    /// from the fingerprint key, which never rotates, so a rotation of the
    /// signing key never refuses the edge while its new settings propagate.
    /// Base64url (a valid header value).
    pub(crate) fn origin_secret(&self) -> Result<String, KeyError> {
        use hmac::{Hmac, Mac};
        let mut derive = <Hmac<Sha256>>::new_from_slice(&self.fingerprint()?)
            .expect("HMAC takes keys of any length");
        derive.update(b"conduit origin header v1");
        Ok(B64.encode(derive.finalize().into_bytes()))
    }
}

/// The public keys a verifier accepts, by id.
pub struct PublicKeys(Vec<(String, DecodingKey)>);

impl PublicKeys {
    /// Parses `kid:x,kid:x`: at most three Ed25519 keys, each id the one
    /// derived from its key.
    pub fn parse(raw: &str) -> Result<Self, KeyError> {
        let mut keys = Vec::new();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (kid, x) = entry
                .split_once(':')
                .ok_or(KeyError("each key must be kid:x"))?;
            let bytes = B64
                .decode(x)
                .ok()
                .filter(|b| b.len() == 32)
                .ok_or(KeyError("a public key is not 32 bytes of base64url"))?;
            if key_id(&bytes) != kid {
                return Err(KeyError("a kid does not match its public key"));
            }
            let key = DecodingKey::from_ed_components(x)
                .map_err(|_| KeyError("a public key is not base64url"))?;
            keys.push((kid.to_owned(), key));
        }
        match keys.len() {
            0 => Err(KeyError("no public key given")),
            n if n > MAX_PUBLIC_KEYS => Err(KeyError("at most three public keys")),
            _ => Ok(Self(keys)),
        }
    }

    /// The key with id `kid`, if it is one of the set.
    pub(crate) fn get(&self, kid: &str) -> Option<&DecodingKey> {
        self.0.iter().find(|(id, _)| id == kid).map(|(_, key)| key)
    }

    /// Whether `kid` is one of the set.
    pub fn contains(&self, kid: &str) -> bool {
        self.get(kid).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kids(ring: &KeyRing) -> Vec<String> {
        ring.public_keys()
            .split(',')
            .map(|k| k.split_once(':').unwrap().0.to_owned())
            .collect()
    }

    #[test]
    fn a_fresh_ring_publishes_its_signing_and_next_keys() {
        let ring = KeyRing::generate("1").unwrap();
        assert_eq!(
            kids(&ring),
            [ring.signing.kid.clone(), ring.next.kid.clone()]
        );
        let set = PublicKeys::parse(&ring.public_keys()).unwrap();
        assert!(set.contains(ring.signing_kid()));
    }

    #[test]
    fn a_rotation_signs_with_the_published_next_key_and_keeps_the_old_one_one_step() {
        let first = KeyRing::generate("1").unwrap();
        let second = first.clone().rotated("2").unwrap();
        assert_eq!(second.signing_kid(), first.next.kid);
        assert_eq!(kids(&second)[0], first.signing.kid);
        assert_eq!(second.fingerprint_key, first.fingerprint_key);
        let third = second.clone().rotated("3").unwrap();
        assert!(!kids(&third).contains(&first.signing.kid));
        assert_eq!(kids(&third).len(), 3);
    }

    #[test]
    fn rolling_a_rotation_back_restores_the_ring_from_before_it_exactly() {
        let first = KeyRing::generate("1").unwrap();
        let second = first.clone().rotated("2").unwrap();
        let back = KeyRing::parse(&second.to_json())
            .unwrap()
            .rotated("1")
            .unwrap();
        assert_eq!(back.public_keys(), first.public_keys());
        assert_eq!(back.signing_kid(), first.signing_kid());
        // Deployed again after the rollback: forward from the first ring,
        // signing with the key every verifier of the first ring accepts.
        let again = back.rotated("2").unwrap();
        assert_eq!(again.signing_kid(), first.next.kid);
        // Only one step is kept: two rotations back is a rotation forward.
        let third = second.rotated("3").unwrap();
        assert_ne!(
            third.rotated("1").unwrap().signing_kid(),
            first.signing_kid()
        );
    }

    #[test]
    fn rotating_to_the_generation_the_ring_is_at_changes_nothing() {
        let ring = KeyRing::generate("7").unwrap();
        let again = ring.clone().rotated("7").unwrap();
        assert_eq!(again.public_keys(), ring.public_keys());
    }

    #[test]
    fn a_ring_survives_its_json_and_never_prints_a_private_key() {
        let ring = KeyRing::generate("1").unwrap().rotated("2").unwrap();
        let parsed = KeyRing::parse(&ring.to_json()).unwrap();
        assert_eq!(parsed.public_keys(), ring.public_keys());
        let printed = format!("{ring:?}");
        for secret in ring.private_parts() {
            assert!(!printed.contains(&secret));
        }
    }

    #[test]
    fn a_ring_whose_kid_does_not_match_its_key_is_refused() {
        let mut ring = KeyRing::generate("1").unwrap();
        ring.signing.kid = ring.next.kid.clone();
        assert!(KeyRing::parse(&ring.to_json()).is_err());
        assert!(KeyRing::parse("{}").is_err());
    }

    #[test]
    fn a_public_key_set_refuses_typos_and_more_than_three_keys() {
        let ring = KeyRing::generate("1").unwrap().rotated("2").unwrap();
        let good = ring.public_keys();
        assert!(PublicKeys::parse(&good).is_ok());
        assert!(PublicKeys::parse("").is_err());
        assert!(PublicKeys::parse("nokid").is_err());
        let (kid, x) = good.split(',').next().unwrap().split_once(':').unwrap();
        assert!(PublicKeys::parse(&format!("{kid}:{}", &x[1..])).is_err());
        assert!(PublicKeys::parse(&format!("AAAA{}:{x}", &kid[4..])).is_err());
        assert!(PublicKeys::parse(&format!("{good},{kid}:{x}")).is_err());
    }
}
