//! [`App`]: what a function holds for its lifetime, built once per cold start.

use secrecy::SecretString;

use crate::auth::{Fingerprints, TokenKeys};
use crate::config::{self, AuthConfig, ConfigError, SecretSource, check_secret};
use crate::store::Store;

/// What an authenticating function holds for its lifetime.
pub struct App {
    /// The DynamoDB adapter, built once per cold start.
    pub store: Store,
    /// Token signing and verification.
    pub tokens: TokenKeys,
    /// Request fingerprints for idempotency keys, keyed by the same secret.
    pub fingerprints: Fingerprints,
}

/// A failure at cold start; the function reports it and does not serve.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// Configuration is missing or invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The signing secret could not be read from Secrets Manager.
    #[error("could not read the JWT secret from Secrets Manager")]
    Secret(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl App {
    /// Builds the app from the environment: config, SDK clients, secret.
    pub(crate) async fn from_env() -> Result<Self, InitError> {
        let auth = AuthConfig::from_env()?;
        let table = config::table_name()?;
        let sdk = config::sdk_loader().load().await;
        let store = Store::new(aws_sdk_dynamodb::Client::new(&sdk), table);
        // Both are network round trips with a TLS handshake: side by side.
        let (secret, ()) = tokio::join!(Self::secret(&sdk, auth.secret), store.warm_up());
        Ok(Self::new(store, &secret?, auth.token_ttl))
    }

    /// An app on `store` whose tokens, signed with `secret`, live for `token_ttl`.
    pub fn new(store: Store, secret: &SecretString, token_ttl: std::time::Duration) -> Self {
        Self {
            store,
            tokens: TokenKeys::new(secret, token_ttl),
            fingerprints: Fingerprints::new(secret),
        }
    }

    async fn secret(
        sdk: &aws_config::SdkConfig,
        source: SecretSource,
    ) -> Result<SecretString, InitError> {
        Ok(match source {
            SecretSource::Value(secret) => secret,
            SecretSource::SecretsManager(arn) => {
                let secret = aws_sdk_secretsmanager::Client::new(sdk)
                    .get_secret_value()
                    .secret_id(arn)
                    .send()
                    .await
                    .map_err(|e| InitError::Secret(Box::new(e)))?
                    .secret_string
                    .map(SecretString::from)
                    .ok_or(ConfigError::Invalid {
                        name: "JWT_SECRET_ARN",
                        reason: "the secret has no string value",
                    })?;
                check_secret(&secret, "JWT_SECRET_ARN")?;
                secret
            }
        })
    }
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
