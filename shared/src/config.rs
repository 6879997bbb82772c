//! Typed configuration, read once from the environment at cold start.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// A missing or invalid setting, named so the init failure says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is unset or empty.
    #[error("environment variable {0} must be set")]
    Missing(&'static str),
    /// A variable is set to something unusable.
    #[error("environment variable {name} is invalid: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Where the JWT signing secret comes from.
pub(crate) enum SecretSource {
    /// `JWT_SECRET_ARN`: a Secrets Manager secret, resolved at init (AWS).
    SecretsManager(String),
    /// `JWT_SECRET`: the secret itself (local runs and tests).
    Value(SecretString),
}

impl std::fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SecretsManager(arn) => f.debug_tuple("SecretsManager").field(arn).finish(),
            Self::Value(_) => f.write_str("Value(<redacted>)"),
        }
    }
}

/// Settings of the functions that authenticate callers.
#[derive(Debug)]
pub(crate) struct AuthConfig {
    /// The signing secret's source.
    pub secret: SecretSource,
    /// How long issued tokens live (`JWT_TTL_SECONDS`, default one day).
    pub token_ttl: Duration,
}

/// Shortest signing secret accepted: HS256 wants at least 256 bits.
pub(crate) const SECRET_MIN_BYTES: usize = 32;

fn var(name: &'static str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Time budgets and retries for every AWS request (DynamoDB, and Secrets
/// Manager at init). With them a request that cannot be served fails in at
/// most [`budget::OPERATION`]; [`crate::invocation`] bounds all of an
/// invocation's requests together, well inside the function's `Timeout`.
pub(crate) mod budget {
    use std::time::Duration;

    /// Opening a connection (TCP and TLS). In-region handshakes take tens of
    /// milliseconds; a second means the endpoint is unreachable.
    pub(crate) const CONNECT: Duration = Duration::from_millis(1_000);
    /// One attempt, from sending the request to the end of the response.
    /// DynamoDB answers in single-digit milliseconds; 1.5 s is a stalled peer.
    pub(crate) const ATTEMPT: Duration = Duration::from_millis(1_500);
    /// One operation, the SDK's retries and their backoff included.
    pub(crate) const OPERATION: Duration = Duration::from_millis(3_000);
    /// Attempts per operation (the SDK's standard retry mode: transient
    /// errors and throttling, jittered exponential backoff).
    pub(crate) const MAX_ATTEMPTS: u32 = 3;
    /// First and longest wait between the SDK's attempts.
    pub(crate) const INITIAL_BACKOFF: Duration = Duration::from_millis(50);
    /// See [`INITIAL_BACKOFF`].
    pub(crate) const MAX_BACKOFF: Duration = Duration::from_millis(500);
    /// Longest that init waits to open the DynamoDB connection ahead of the
    /// first invocation (see `Store::warm_up`); past it, init goes on.
    pub(crate) const WARM_UP: Duration = Duration::from_millis(1_000);
    /// What a 503 tells the client to wait before retrying (`Retry-After`, seconds).
    pub(crate) const RETRY_AFTER_SECONDS: u32 = 1;
}

/// The SDK configuration every client is built from: region, credentials and
/// endpoints from the environment (so `AWS_ENDPOINT_URL_DYNAMODB` points at
/// DynamoDB Local with no special case), with the [`budget`]s applied.
pub fn sdk_loader() -> aws_config::ConfigLoader {
    use aws_config::retry::RetryConfig;
    use aws_config::timeout::TimeoutConfig;
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(budget::CONNECT)
                .operation_attempt_timeout(budget::ATTEMPT)
                .operation_timeout(budget::OPERATION)
                .build(),
        )
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(budget::MAX_ATTEMPTS)
                .with_initial_backoff(budget::INITIAL_BACKOFF)
                .with_max_backoff(budget::MAX_BACKOFF),
        )
}

/// `TABLE_NAME`: the DynamoDB table.
pub(crate) fn table_name() -> Result<String, ConfigError> {
    var("TABLE_NAME").ok_or(ConfigError::Missing("TABLE_NAME"))
}

impl AuthConfig {
    /// Reads `JWT_SECRET_ARN` (preferred) or `JWT_SECRET`, and `JWT_TTL_SECONDS`.
    pub(crate) fn from_env() -> Result<Self, ConfigError> {
        let secret = match (var("JWT_SECRET_ARN"), var("JWT_SECRET")) {
            (Some(arn), _) => SecretSource::SecretsManager(arn),
            (None, Some(value)) => {
                let value = SecretString::from(value);
                check_secret(&value, "JWT_SECRET")?;
                SecretSource::Value(value)
            }
            (None, None) => return Err(ConfigError::Missing("JWT_SECRET_ARN or JWT_SECRET")),
        };
        let token_ttl = match var("JWT_TTL_SECONDS") {
            None => Duration::from_secs(24 * 60 * 60),
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|s| *s > 0)
                .map(Duration::from_secs)
                .ok_or(ConfigError::Invalid {
                    name: "JWT_TTL_SECONDS",
                    reason: "must be a positive number of seconds",
                })?,
        };
        Ok(Self { secret, token_ttl })
    }
}

/// Refuses secrets too short to sign with.
pub(crate) fn check_secret(secret: &SecretString, name: &'static str) -> Result<(), ConfigError> {
    if secret.expose_secret().len() < SECRET_MIN_BYTES {
        Err(ConfigError::Invalid {
            name,
            reason: "the secret must be at least 32 bytes",
        })
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_secret_is_refused_and_never_printed() {
        let error = check_secret(&SecretString::from("short"), "JWT_SECRET").unwrap_err();
        assert!(error.to_string().contains("JWT_SECRET"));
        let source = SecretSource::Value(SecretString::from("x".repeat(40)));
        assert_eq!(format!("{source:?}"), "Value(<redacted>)");
    }
}
