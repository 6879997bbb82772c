//! The `KeyRing` CloudFormation custom resource: `sam deploy` draws the
//! token key ring into its secret at create, rotates it when the resource's
//! `Generation` changes, and publishes the public keys as the resource's
//! `PublicKeys` attribute, which every verifying function is configured with.
//! The same function serves the `OriginKey` resource (`Publishes: Origin`),
//! which publishes the edge's origin secret, derived from the ring's
//! fingerprint key (so it never rotates), for CloudFront, and its SHA-256
//! for the functions; its answer is `NoEcho`.
//!
//! CloudFormation invokes the function with a request and waits for the
//! answer at the request's pre-signed `ResponseURL` (an S3 PUT), not for the
//! invocation's result.

use std::collections::HashMap;

use aws_lambda_events::event::cloudformation::{
    CloudFormationCustomResourceRequest as Request, CloudFormationCustomResourceResponse as Answer,
    CloudFormationCustomResourceResponseStatus as Status,
};
use aws_sdk_secretsmanager::Client as Secrets;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::{Client, connect::HttpConnector};
use serde::{Deserialize, Serialize};

use crate::auth::{KeyError, KeyRing};

/// The resource's properties, as the template sets them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct KeyRingProperties {
    /// The secret the ring is kept in.
    pub secret_arn: String,
    /// The rotation the ring should be at.
    pub generation: String,
    /// What the resource publishes: the ring's public keys (absent or
    /// `Tokens`), or the origin secret (`Origin`).
    #[serde(default)]
    pub publishes: Publishes,
}

/// What a resource of this function publishes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Publishes {
    /// The `KeyRing`: draws and rotates the ring, publishes its public keys.
    #[default]
    Tokens,
    /// The `OriginKey`: reads the ring, publishes the origin secret.
    Origin,
}

/// A request CloudFormation sends about the resource.
pub type KeyRingRequest = Request<KeyRingProperties, KeyRingProperties>;

/// What the function holds: the Secrets Manager client and the HTTPS client
/// answers are sent with.
pub struct Provisioner {
    secrets: Secrets,
    http: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

/// Why the ring could not be provided (sent as the answer's `Reason`).
#[derive(Debug, thiserror::Error)]
pub enum ProvisionError {
    /// Reading or writing the secret failed.
    #[error("Secrets Manager: {0}")]
    Secrets(String),
    /// The ring could not be drawn.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// An update found no valid ring in the secret: replacing it would end
    /// every session and change every fingerprint, so it is refused.
    #[error("the secret holds no valid key ring: {0}")]
    NotARing(KeyError),
}

impl Provisioner {
    /// A provisioner on `secrets`, answering over HTTPS (the system's roots).
    pub fn new(secrets: Secrets) -> std::io::Result<Self> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()?
            .https_or_http()
            .enable_http1()
            .build();
        let http = Client::builder(hyper_util::rt::TokioExecutor::new()).build(https);
        Ok(Self { secrets, http })
    }

    /// Carries out `request` and sends CloudFormation its answer. Only a lost
    /// answer is an invocation error (Lambda retries it); a failed request
    /// is answered `FAILED`, which rolls the stack back.
    pub async fn handle(&self, request: KeyRingRequest) -> Result<(), lambda_runtime::Error> {
        let (url, answer) = match request {
            Request::Create(r) => {
                let answer = self.answer_for(&r.resource_properties, true).await;
                (
                    r.response_url,
                    with_ids(answer, r.stack_id, r.request_id, r.logical_resource_id),
                )
            }
            Request::Update(r) => {
                let answer = self.answer_for(&r.resource_properties, false).await;
                (
                    r.response_url,
                    with_ids(answer, r.stack_id, r.request_id, r.logical_resource_id),
                )
            }
            // The secret outlives the stack (the template retains it): a
            // deleted resource leaves it as it is.
            Request::Delete(r) => {
                let mut answer = Answer::default();
                answer.physical_resource_id = r.physical_resource_id;
                (
                    r.response_url,
                    with_ids(answer, r.stack_id, r.request_id, r.logical_resource_id),
                )
            }
            _ => return Err("unknown custom resource request type".into()),
        };
        tracing::info!(status = ?answer.status, reason = ?answer.reason, "answering CloudFormation");
        self.send(&url, &answer).await
    }

    /// The answer to a create or an update of either resource.
    async fn answer_for(&self, properties: &KeyRingProperties, creating: bool) -> Answer {
        match properties.publishes {
            Publishes::Tokens => answer(properties, self.provide(properties, creating).await),
            Publishes::Origin => origin_answer(properties, self.read(&properties.secret_arn).await),
        }
    }

    /// The ring as stored (the `KeyRing` resource, which the `OriginKey`
    /// depends on, has drawn it).
    async fn read(&self, secret_arn: &str) -> Result<KeyRing, ProvisionError> {
        let value = self
            .stored(secret_arn)
            .await?
            .ok_or_else(|| ProvisionError::NotARing(KeyError::empty()))?;
        KeyRing::parse(&value).map_err(ProvisionError::NotARing)
    }

    /// The secret's current value, if it has one.
    async fn stored(&self, secret_arn: &str) -> Result<Option<String>, ProvisionError> {
        Ok(self
            .secrets
            .get_secret_value()
            .secret_id(secret_arn)
            .send()
            .await
            .map_err(|e| {
                ProvisionError::Secrets(
                    aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
                )
            })?
            .secret_string)
    }

    /// The ring at `properties.generation` ([`KeyRing::rotated`]): the
    /// stored one, or, `creating`, a fresh one if the secret holds none yet
    /// (the template's generated placeholder). Written back only if it
    /// changed, so a request sent twice rotates once.
    async fn provide(
        &self,
        properties: &KeyRingProperties,
        creating: bool,
    ) -> Result<KeyRing, ProvisionError> {
        let value = self.stored(&properties.secret_arn).await?;
        let stored = match value.as_deref().map(KeyRing::parse) {
            Some(Ok(ring)) => Some(ring),
            _ if creating => None,
            Some(Err(e)) => return Err(ProvisionError::NotARing(e)),
            None => return Err(ProvisionError::NotARing(KeyError::empty())),
        };
        let ring = match stored.clone() {
            Some(ring) => ring.rotated(&properties.generation)?,
            None => KeyRing::generate(&properties.generation)?,
        };
        if stored.is_none_or(|s| s.generation() != ring.generation()) {
            self.secrets
                .put_secret_value()
                .secret_id(&properties.secret_arn)
                .secret_string(ring.to_json())
                .send()
                .await
                .map_err(|e| {
                    ProvisionError::Secrets(
                        aws_sdk_secretsmanager::error::DisplayErrorContext(e).to_string(),
                    )
                })?;
            tracing::info!(
                generation = ring.generation(),
                kid = ring.signing_kid(),
                "key ring written"
            );
        }
        Ok(ring)
    }

    async fn send(&self, url: &str, answer: &Answer) -> Result<(), lambda_runtime::Error> {
        let body = serde_json::to_vec(answer)?;
        // CloudFormation's pre-signed S3 URL expects the answer with no
        // content type.
        let request = hyper::Request::put(url)
            .header(hyper::header::CONTENT_LENGTH, body.len())
            .body(Full::new(Bytes::from(body)))?;
        let response = self.http.request(request).await?;
        let status = response.status();
        let _ = response.into_body().collect().await;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("the response URL answered {status}").into())
        }
    }
}

/// The answer to a create or update: the public keys, or why not. The
/// physical id is the secret's ARN: another secret is another resource.
fn answer(properties: &KeyRingProperties, result: Result<KeyRing, ProvisionError>) -> Answer {
    let mut answer = Answer::default();
    answer.physical_resource_id = properties.secret_arn.clone();
    match result {
        Ok(ring) => {
            answer.data = HashMap::from([
                ("PublicKeys".to_owned(), ring.public_keys()),
                ("SigningKeyId".to_owned(), ring.signing_kid().to_owned()),
                ("Generation".to_owned(), ring.generation().to_owned()),
            ]);
        }
        Err(error) => {
            tracing::error!(error = %error, "could not provide the key ring");
            answer.status = Status::Failed;
            answer.reason = Some(error.to_string());
        }
    }
    answer
}

/// The `OriginKey`'s answer: the origin secret CloudFront sends
/// (`OriginSecret`) and its SHA-256 the functions check it against
/// (`OriginDigest`), `NoEcho` so CloudFormation shows neither; or why not.
fn origin_answer(
    properties: &KeyRingProperties,
    result: Result<KeyRing, ProvisionError>,
) -> Answer {
    let mut answer = Answer::default();
    answer.physical_resource_id = format!("{}#origin", properties.secret_arn);
    answer.no_echo = true;
    match result.and_then(|ring| Ok(ring.origin_secret()?)) {
        Ok(secret) => {
            answer.data = HashMap::from([
                (
                    "OriginDigest".to_owned(),
                    crate::http::hex_sha256(secret.as_bytes()),
                ),
                ("OriginSecret".to_owned(), secret),
            ]);
        }
        Err(error) => {
            tracing::error!(error = %error, "could not provide the origin secret");
            answer.status = Status::Failed;
            answer.reason = Some(error.to_string());
        }
    }
    answer
}

fn with_ids(mut answer: Answer, stack: String, request: String, logical: String) -> Answer {
    answer.stack_id = stack;
    answer.request_id = request;
    answer.logical_resource_id = logical;
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn properties() -> KeyRingProperties {
        KeyRingProperties {
            secret_arn: "arn:aws:secretsmanager:us-east-1:123456789012:secret:ring".into(),
            generation: "1".into(),
            publishes: Publishes::Tokens,
        }
    }

    #[test]
    fn the_origin_secret_is_answered_unechoed_with_its_digest_and_survives_rotation() {
        let ring = KeyRing::generate("1").unwrap();
        let answer = origin_answer(&properties(), Ok(ring.clone()));
        assert_eq!(answer.status, Status::Success);
        assert!(answer.no_echo);
        let secret = &answer.data["OriginSecret"];
        assert!(secret.len() >= 43, "{secret}");
        assert_eq!(
            answer.data["OriginDigest"],
            crate::http::hex_sha256(secret.as_bytes())
        );
        let rotated = ring.clone().rotated("2").unwrap();
        assert_eq!(&rotated.origin_secret().unwrap(), secret);
        let other = KeyRing::generate("1").unwrap();
        assert_ne!(&other.origin_secret().unwrap(), secret);
        let sent = serde_json::to_string(&answer).unwrap();
        for private in ring.private_parts() {
            assert!(!sent.contains(&private));
        }
    }

    #[test]
    fn the_properties_name_what_the_resource_publishes() {
        let origin: KeyRingProperties =
            serde_json::from_str(r#"{"SecretArn": "a", "Generation": "1", "Publishes": "Origin"}"#)
                .unwrap();
        assert_eq!(origin.publishes, Publishes::Origin);
        let tokens: KeyRingProperties =
            serde_json::from_str(r#"{"SecretArn": "a", "Generation": "1"}"#).unwrap();
        assert_eq!(tokens.publishes, Publishes::Tokens);
    }

    #[test]
    fn a_provided_ring_is_answered_with_its_public_keys_only() {
        let ring = KeyRing::generate("1").unwrap();
        let answer = answer(&properties(), Ok(ring.clone()));
        assert_eq!(answer.status, Status::Success);
        assert_eq!(answer.data["PublicKeys"], ring.public_keys());
        let sent = serde_json::to_string(&answer).unwrap();
        for secret in ring.private_parts() {
            assert!(!sent.contains(&secret));
        }
        assert_eq!(answer.physical_resource_id, properties().secret_arn);
    }

    #[test]
    fn a_failure_is_answered_failed_with_its_reason() {
        let answer = answer(&properties(), Err(ProvisionError::Secrets("denied".into())));
        assert_eq!(answer.status, Status::Failed);
        assert_eq!(answer.reason.as_deref(), Some("Secrets Manager: denied"));
        assert!(answer.data.is_empty());
    }
}
