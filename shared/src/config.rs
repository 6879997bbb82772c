//! Typed configuration, read once from the environment at cold start.

use std::time::Duration;

use secrecy::SecretString;

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

/// Where a signer's key ring comes from.
pub(crate) enum RingSource {
    /// `JWT_KEY_RING_ARN`: a Secrets Manager secret, read at init (AWS).
    SecretsManager(String),
    /// `JWT_KEY_RING`: the ring itself (local runs and tests).
    Value(SecretString),
}

impl std::fmt::Debug for RingSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::SecretsManager(arn) => f.debug_tuple("SecretsManager").field(arn).finish(),
            Self::Value(_) => f.write_str("Value(<redacted>)"),
        }
    }
}

/// Settings of every function that verifies tokens: public, so reading
/// them needs no network call.
#[derive(Debug)]
pub(crate) struct VerifierConfig {
    /// `JWT_PUBLIC_KEYS`: the accepted keys, `kid:x,...` (parsed by the app).
    pub public_keys: String,
    /// `JWT_ISSUER`: whom tokens are from.
    pub issuer: String,
    /// `JWT_AUDIENCE`: whom tokens are for.
    pub audience: String,
}

/// Settings only the functions that sign tokens have.
#[derive(Debug)]
pub(crate) struct SignerConfig {
    /// The key ring's source.
    pub ring: RingSource,
    /// How long issued tokens live (`JWT_TTL_SECONDS`, default one day).
    pub token_ttl: Duration,
}

/// Settings of the edge (CloudFront) in front of the API, which every HTTP
/// function reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EdgeConfig {
    /// `ORIGIN_DIGEST`: the SHA-256, in lowercase hex, of the secret header
    /// value CloudFront adds to every request it forwards; `none` for a
    /// stack without the edge, whose functions then serve direct calls.
    pub origin_digest: Option<String>,
    /// `SHARED_MAX_AGE_SECONDS`: how long shared caches may serve an
    /// anonymous read before asking again (default
    /// [`EdgeConfig::DEFAULT_SHARED_MAX_AGE`], at most 300).
    pub shared_max_age: u32,
}

impl EdgeConfig {
    /// A few seconds: the home page is fetched once per edge cache each
    /// time, however many read it, and a write shows soon.
    pub const DEFAULT_SHARED_MAX_AGE: u32 = 5;

    /// Reads `ORIGIN_DIGEST` (required: a stack either has an edge or says
    /// `none`) and `SHARED_MAX_AGE_SECONDS`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_vars(var("ORIGIN_DIGEST"), var("SHARED_MAX_AGE_SECONDS"))
    }

    fn from_vars(digest: Option<String>, max_age: Option<String>) -> Result<Self, ConfigError> {
        let digest = digest.ok_or(ConfigError::Missing("ORIGIN_DIGEST"))?;
        let origin_digest = match digest.trim() {
            "none" => None,
            hex if hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) =>
            {
                Some(hex.to_owned())
            }
            _ => {
                return Err(ConfigError::Invalid {
                    name: "ORIGIN_DIGEST",
                    reason: "must be `none` or a SHA-256 in 64 lowercase hex digits",
                });
            }
        };
        let shared_max_age = match max_age {
            None => Self::DEFAULT_SHARED_MAX_AGE,
            Some(raw) => {
                raw.parse::<u32>()
                    .ok()
                    .filter(|s| *s <= 300)
                    .ok_or(ConfigError::Invalid {
                        name: "SHARED_MAX_AGE_SECONDS",
                        reason: "must be a number of seconds from 0 to 300",
                    })?
            }
        };
        Ok(Self {
            origin_digest,
            shared_max_age,
        })
    }
}

/// How many sign-in and sign-up requests one client may make in each
/// window of the per-client limit (`AUTH_REQUESTS_PER_CLIENT`, default
/// [`AuthLimits::DEFAULT_CLIENT_REQUESTS`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthLimits {
    /// Requests per client and window.
    pub client_requests: u32,
}

impl AuthLimits {
    /// The default: one request a second on average over the window, which
    /// leaves room for many people behind one NAT.
    pub const DEFAULT_CLIENT_REQUESTS: u32 = 300;

    /// Reads `AUTH_REQUESTS_PER_CLIENT`.
    pub(crate) fn from_env() -> Result<Self, ConfigError> {
        let client_requests = match var("AUTH_REQUESTS_PER_CLIENT") {
            None => Self::DEFAULT_CLIENT_REQUESTS,
            Some(raw) => {
                raw.parse::<u32>()
                    .ok()
                    .filter(|n| *n >= 1)
                    .ok_or(ConfigError::Invalid {
                        name: "AUTH_REQUESTS_PER_CLIENT",
                        reason: "must be a whole number of requests, at least 1",
                    })?
            }
        };
        Ok(Self { client_requests })
    }
}

impl Default for AuthLimits {
    fn default() -> Self {
        Self {
            client_requests: Self::DEFAULT_CLIENT_REQUESTS,
        }
    }
}

/// Longest token lifetime accepted: a week. Sessions can be ended, but a
/// token outliving two key rotations would be refused early anyway.
pub(crate) const TTL_MAX_SECONDS: u64 = 7 * 24 * 60 * 60;

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

fn required(name: &'static str) -> Result<String, ConfigError> {
    var(name).ok_or(ConfigError::Missing(name))
}

impl VerifierConfig {
    /// Reads `JWT_PUBLIC_KEYS`, `JWT_ISSUER` and `JWT_AUDIENCE`.
    pub(crate) fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            public_keys: required("JWT_PUBLIC_KEYS")?,
            issuer: required("JWT_ISSUER")?,
            audience: required("JWT_AUDIENCE")?,
        })
    }
}

impl SignerConfig {
    /// Reads `JWT_KEY_RING_ARN` (preferred) or `JWT_KEY_RING`, and `JWT_TTL_SECONDS`.
    pub(crate) fn from_env() -> Result<Self, ConfigError> {
        let ring = match (var("JWT_KEY_RING_ARN"), var("JWT_KEY_RING")) {
            (Some(arn), _) => RingSource::SecretsManager(arn),
            (None, Some(value)) => RingSource::Value(SecretString::from(value)),
            (None, None) => return Err(ConfigError::Missing("JWT_KEY_RING_ARN or JWT_KEY_RING")),
        };
        let token_ttl = match var("JWT_TTL_SECONDS") {
            None => Duration::from_secs(24 * 60 * 60),
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|s| (1..=TTL_MAX_SECONDS).contains(s))
                .map(Duration::from_secs)
                .ok_or(ConfigError::Invalid {
                    name: "JWT_TTL_SECONDS",
                    reason: "must be a number of seconds from 1 to 604800 (a week)",
                })?,
        };
        Ok(Self { ring, token_ttl })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ring_given_as_a_value_is_never_printed() {
        let source = RingSource::Value(SecretString::from("do not print".to_owned()));
        assert_eq!(format!("{source:?}"), "Value(<redacted>)");
    }

    #[test]
    fn an_origin_digest_is_none_or_a_sha256_in_hex() {
        let edge = |digest: Option<&str>| EdgeConfig::from_vars(digest.map(str::to_owned), None);
        assert_eq!(edge(Some("none")).unwrap().origin_digest, None);
        let hex = "ab".repeat(32);
        assert_eq!(edge(Some(&hex)).unwrap().origin_digest, Some(hex));
        let refused = edge(Some("the secret itself")).unwrap_err().to_string();
        assert!(refused.contains("ORIGIN_DIGEST"), "{refused}");
        assert_eq!(
            edge(None).unwrap_err().to_string(),
            "environment variable ORIGIN_DIGEST must be set"
        );
        assert_eq!(edge(Some("none")).unwrap().shared_max_age, 5);
    }

    #[test]
    fn a_missing_setting_is_named() {
        assert_eq!(
            required("CONDUIT_TEST_UNSET_VARIABLE")
                .unwrap_err()
                .to_string(),
            "environment variable CONDUIT_TEST_UNSET_VARIABLE must be set"
        );
    }
}
