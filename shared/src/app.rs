//! [`App`]: what a function holds for its lifetime, built once per cold start.

use secrecy::{ExposeSecret, SecretString};

use crate::auth::{Audience, Fingerprints, KeyRing, PublicKeys, TokenSigner, TokenVerifier};
use crate::config::{self, AuthLimits, ConfigError, RingSource, SignerConfig, VerifierConfig};
use crate::store::Store;

/// What an authenticating function holds for its lifetime.
pub struct App {
    /// The DynamoDB adapter, built once per cold start.
    pub store: Store,
    /// Token verification, with public keys only.
    pub tokens: TokenVerifier,
    /// Token signing: only in the functions that issue tokens (register,
    /// login, update user), the only ones that read the key ring.
    pub signer: Option<TokenSigner>,
    /// Request fingerprints for idempotency keys.
    pub fingerprints: Fingerprints,
    /// The per-client limit of sign-in and sign-up (only the signers use it).
    pub auth_limits: AuthLimits,
}

/// A failure at cold start; the function reports it and does not serve.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// Configuration is missing or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The key ring could not be read from Secrets Manager.
    #[error("could not read the JWT key ring from Secrets Manager")]
    Secret(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// A function that does not sign was asked to issue a token (a wiring bug).
#[derive(Debug, thiserror::Error)]
#[error("this function has no signing key")]
pub struct NotASigner;

impl App {
    /// A verifying function's app: config and the DynamoDB client, and no
    /// network call but the connection warm-up.
    pub(crate) async fn verifying_from_env() -> Result<Self, InitError> {
        let (tokens, _) = verifier_from_env()?;
        let store = Store::from_env().await?;
        store.warm_up().await;
        Ok(Self {
            store,
            tokens,
            signer: None,
            fingerprints: Fingerprints::Plain,
            auth_limits: AuthLimits::default(),
        })
    }

    /// A signing function's app: also the key ring, read beside the warm-up.
    pub(crate) async fn signing_from_env() -> Result<Self, InitError> {
        let (tokens, parties) = verifier_from_env()?;
        let signing = SignerConfig::from_env()?;
        let auth_limits = AuthLimits::from_env()?;
        let sdk = config::sdk_loader().load().await;
        let store = Store::new(aws_sdk_dynamodb::Client::new(&sdk), config::table_name()?);
        // Both are network round trips with a TLS handshake: side by side.
        let (ring, ()) = tokio::join!(key_ring(&sdk, signing.ring), store.warm_up());
        let ring = ring?;
        // A token no verifier could check must never be issued.
        if !tokens.accepts(ring.signing_kid()) {
            return Err(ConfigError::Invalid {
                name: "JWT_KEY_RING_ARN",
                reason: "the ring signs with a key that JWT_PUBLIC_KEYS does not hold",
            }
            .into());
        }
        Ok(Self {
            auth_limits,
            ..Self::signing(store, tokens, &ring, parties, signing.token_ttl)
        })
    }

    /// An app on `store` that verifies with `tokens` and signs with `ring`'s
    /// signing key for `parties`, tokens living for `token_ttl`, with the
    /// default per-client limit of sign-in and sign-up.
    pub fn signing(
        store: Store,
        tokens: TokenVerifier,
        ring: &KeyRing,
        parties: Audience,
        token_ttl: std::time::Duration,
    ) -> Self {
        let fingerprint = ring
            .fingerprint()
            .expect("checked when the ring was parsed");
        Self {
            store,
            tokens,
            signer: Some(TokenSigner::new(ring.signing_key(), parties, token_ttl)),
            fingerprints: Fingerprints::keyed(&fingerprint),
            auth_limits: AuthLimits::default(),
        }
    }

    /// The token signer, which only signing functions have.
    pub fn signer(&self) -> Result<&TokenSigner, NotASigner> {
        self.signer.as_ref().ok_or(NotASigner)
    }
}

/// The verifier of `JWT_PUBLIC_KEYS`, `JWT_ISSUER` and `JWT_AUDIENCE`, and
/// those parties (a signer's tokens name them too).
fn verifier_from_env() -> Result<(TokenVerifier, Audience), ConfigError> {
    let config = VerifierConfig::from_env()?;
    let keys = PublicKeys::parse(&config.public_keys).map_err(|e| ConfigError::Invalid {
        name: "JWT_PUBLIC_KEYS",
        reason: e.reason(),
    })?;
    let parties = Audience {
        issuer: config.issuer,
        audience: config.audience,
    };
    Ok((TokenVerifier::new(keys, &parties), parties))
}

/// The key ring, from Secrets Manager or the environment.
async fn key_ring(sdk: &aws_config::SdkConfig, source: RingSource) -> Result<KeyRing, InitError> {
    let (value, name) = match source {
        RingSource::Value(value) => (value, "JWT_KEY_RING"),
        RingSource::SecretsManager(arn) => {
            let value = aws_sdk_secretsmanager::Client::new(sdk)
                .get_secret_value()
                .secret_id(arn)
                .send()
                .await
                .map_err(|e| InitError::Secret(Box::new(e)))?
                .secret_string
                .map(SecretString::from)
                .ok_or(ConfigError::Invalid {
                    name: "JWT_KEY_RING_ARN",
                    reason: "the secret has no string value",
                })?;
            (value, "JWT_KEY_RING_ARN")
        }
    };
    Ok(
        KeyRing::parse(value.expose_secret()).map_err(|e| ConfigError::Invalid {
            name,
            reason: e.reason(),
        })?,
    )
}

impl Store {
    /// A store on `TABLE_NAME` with the SDK configuration of
    /// [`config::sdk_loader`] (time budgets; honours `AWS_ENDPOINT_URL_DYNAMODB`,
    /// so DynamoDB Local needs no special case).
    pub(crate) async fn from_env() -> Result<Self, InitError> {
        let table = config::table_name()?;
        let sdk = config::sdk_loader().load().await;
        Ok(Self::new(aws_sdk_dynamodb::Client::new(&sdk), table))
    }
}
