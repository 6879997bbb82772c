//! The `KeyRing` custom resource, run on the requests CloudFormation sends
//! (`events/key_ring/*.json`), against a Secrets Manager and a response URL
//! on 127.0.0.1: a deploy draws the ring, a changed `Generation` rotates it
//! once, however often the request is sent, and a failure is answered FAILED.

use conduit::auth::{KeyRing, PublicKeys};
use conduit::provision::{KeyRingRequest, Provisioner};
use conduit_tests::provider::{response_url, secrets_manager};
use conduit_tests::workspace_root;
use serde_json::Value;

/// `events/key_ring/NAME.json`, answering at `url`.
fn request(name: &str, url: &str) -> KeyRingRequest {
    serde_json::from_value(event(name, url)).unwrap()
}

/// `events/key_ring/NAME.json` as JSON, answering at `url`.
fn event(name: &str, url: &str) -> Value {
    let path = workspace_root().join(format!("events/key_ring/{name}.json"));
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    event["ResponseURL"] = format!("{url}/response?X-Amz-Signature=EXAMPLE").into();
    event
}

async fn provisioner(endpoint: std::net::SocketAddr) -> Provisioner {
    let sdk = conduit::config::sdk_loader()
        .endpoint_url(format!("http://{endpoint}"))
        .region(aws_config::Region::new("eu-west-1"))
        .credentials_provider(aws_sdk_secretsmanager::config::Credentials::new(
            "local",
            "local",
            None,
            None,
            "key-ring-test",
        ))
        .load()
        .await;
    Provisioner::new(aws_sdk_secretsmanager::Client::new(&sdk)).unwrap()
}

/// A provisioner on a fresh Secrets Manager holding the template's
/// placeholder, answering at a fresh response URL: the secret, the URL and
/// the answers it received.
async fn fresh_deploy() -> (
    Provisioner,
    std::sync::Arc<std::sync::Mutex<conduit_tests::provider::SecretState>>,
    String,
    std::sync::Arc<std::sync::Mutex<Vec<Value>>>,
) {
    let (sm, secret) = secrets_manager("placeholder from GenerateSecretString")
        .await
        .unwrap();
    let (url, answers) = response_url(false).await.unwrap();
    (
        provisioner(sm).await,
        secret,
        format!("http://{url}"),
        answers,
    )
}

fn kids(public_keys: &Value) -> Vec<String> {
    let keys = public_keys.as_str().expect("PublicKeys");
    PublicKeys::parse(keys).expect("a valid key set");
    keys.split(',')
        .map(|k| k.split_once(':').unwrap().0.to_owned())
        .collect()
}

#[tokio::test]
async fn a_deploy_draws_the_ring_a_new_generation_rotates_it_once_and_delete_keeps_it() {
    let (provisioner, secret, url, answers) = fresh_deploy().await;

    provisioner.handle(request("create", &url)).await.unwrap();
    let created = answers.lock().unwrap()[0].clone();
    assert_eq!(created["Status"], "SUCCESS", "{created}");
    assert_eq!(created["LogicalResourceId"], "KeyRing");
    assert_eq!(created["RequestId"], "3f1e2d4c-5b6a-4798-8a7b-6c5d4e3f2a1b");
    let first = kids(&created["Data"]["PublicKeys"]);
    assert_eq!(first.len(), 2, "signing and next");
    let stored = KeyRing::parse(secret.lock().unwrap().value.as_deref().unwrap()).unwrap();
    assert_eq!(stored.signing_kid(), first[0]);
    for part in stored.private_parts() {
        assert!(
            !created.to_string().contains(&part),
            "no secret in the answer"
        );
    }

    // Sent again (a retried invocation): the same ring, not written twice.
    provisioner.handle(request("create", &url)).await.unwrap();
    assert_eq!(answers.lock().unwrap()[1]["Data"], created["Data"]);
    assert_eq!(secret.lock().unwrap().puts, 1);

    for _ in 0..2 {
        provisioner.handle(request("update", &url)).await.unwrap();
    }
    let rotated = answers.lock().unwrap()[2].clone();
    assert_eq!(rotated["Status"], "SUCCESS", "{rotated}");
    assert_eq!(
        answers.lock().unwrap()[3]["Data"],
        rotated["Data"],
        "rotated once"
    );
    assert_eq!(
        kids(&rotated["Data"]["PublicKeys"])[..2],
        first[..],
        "previous, then signing"
    );
    assert_eq!(rotated["Data"]["SigningKeyId"], first[1].as_str());
    assert_eq!(rotated["PhysicalResourceId"], created["PhysicalResourceId"]);
    assert_eq!(secret.lock().unwrap().puts, 2);

    provisioner.handle(request("delete", &url)).await.unwrap();
    let deleted = answers.lock().unwrap()[4].clone();
    assert_eq!(deleted["Status"], "SUCCESS");
    assert_eq!(deleted["PhysicalResourceId"], created["PhysicalResourceId"]);
    assert_eq!(
        secret.lock().unwrap().puts,
        2,
        "delete leaves the secret to the stack"
    );
}

/// The `OriginKey` (`events/key_ring/origin.json`): after the ring is
/// drawn, it answers the edge's secret and its digest, `NoEcho`, reads the
/// ring without writing it, and answers the same after a rotation.
#[tokio::test]
async fn the_origin_key_answers_the_edges_secret_unechoed_and_the_same_after_a_rotation() {
    let (provisioner, secret, url, answers) = fresh_deploy().await;
    provisioner.handle(request("create", &url)).await.unwrap();
    provisioner.handle(request("origin", &url)).await.unwrap();
    let origin = answers.lock().unwrap()[1].clone();
    assert_eq!(origin["Status"], "SUCCESS", "{origin}");
    assert_eq!(origin["NoEcho"], true);
    assert_eq!(origin["LogicalResourceId"], "OriginKey");
    let sent = origin["Data"]["OriginSecret"].as_str().unwrap().to_owned();
    assert_eq!(
        origin["Data"]["OriginDigest"].as_str(),
        Some(conduit::http::hex_sha256(sent.as_bytes()).as_str())
    );
    assert_eq!(
        secret.lock().unwrap().puts,
        1,
        "the origin key writes nothing"
    );
    provisioner.handle(request("update", &url)).await.unwrap();
    provisioner.handle(request("origin", &url)).await.unwrap();
    let after = answers.lock().unwrap()[3].clone();
    assert_eq!(
        after["Data"], origin["Data"],
        "a rotation keeps the edge's secret"
    );
}

#[tokio::test]
async fn a_ring_that_cannot_be_written_is_answered_failed_with_the_reason() {
    let (sm, secret) = secrets_manager("placeholder").await.unwrap();
    secret.lock().unwrap().deny_puts = true;
    let (url, answers) = response_url(false).await.unwrap();
    provisioner(sm)
        .await
        .handle(request("create", &format!("http://{url}")))
        .await
        .unwrap();
    let answer = answers.lock().unwrap()[0].clone();
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    assert!(
        answer["Reason"].as_str().unwrap().contains("AccessDenied"),
        "{answer}"
    );
    assert_eq!(answer["Data"], serde_json::json!({}));
}

#[tokio::test]
async fn an_answer_that_cannot_be_delivered_is_an_invocation_error_lambda_retries() {
    let (sm, _) = secrets_manager("placeholder").await.unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let result = provisioner(sm)
        .await
        .handle(request("create", &format!("http://{closed}")))
        .await;
    assert!(result.is_err());
}

#[tokio::test]
async fn rolling_a_failed_rotation_back_restores_the_keys_from_before_it() {
    let (sm, _) = secrets_manager("placeholder").await.unwrap();
    let (url, answers) = response_url(false).await.unwrap();
    let url = format!("http://{url}");
    let provisioner = provisioner(sm).await;
    provisioner.handle(request("create", &url)).await.unwrap();
    provisioner.handle(request("update", &url)).await.unwrap();
    // CloudFormation's rollback: an update back to the old properties.
    let mut rollback = event("update", &url);
    let (new, old) = (
        rollback["ResourceProperties"].clone(),
        rollback["OldResourceProperties"].clone(),
    );
    rollback["ResourceProperties"] = old;
    rollback["OldResourceProperties"] = new;
    provisioner
        .handle(serde_json::from_value(rollback).unwrap())
        .await
        .unwrap();
    let answers = answers.lock().unwrap();
    assert_eq!(answers[2]["Status"], "SUCCESS", "{}", answers[2]);
    assert_eq!(
        answers[2]["Data"], answers[0]["Data"],
        "the keys of before the rotation"
    );
}

#[tokio::test]
async fn an_update_that_finds_no_ring_fails_rather_than_drawing_a_new_one() {
    let (sm, secret) = secrets_manager("not a ring").await.unwrap();
    let (url, answers) = response_url(false).await.unwrap();
    provisioner(sm)
        .await
        .handle(request("update", &format!("http://{url}")))
        .await
        .unwrap();
    let answer = answers.lock().unwrap()[0].clone();
    assert_eq!(answer["Status"], "FAILED", "{answer}");
    assert_eq!(secret.lock().unwrap().puts, 0);
}

#[tokio::test]
async fn an_answer_the_response_url_answers_403_is_an_invocation_error() {
    let (sm, _) = secrets_manager("placeholder").await.unwrap();
    let (url, answers) = response_url(true).await.unwrap();
    let result = provisioner(sm)
        .await
        .handle(request("create", &format!("http://{url}")))
        .await;
    assert!(result.is_err());
    assert_eq!(answers.lock().unwrap().len(), 1, "it was sent, and refused");
}
