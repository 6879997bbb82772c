//! What the key ring resource talks to, on 127.0.0.1: a Secrets Manager
//! that keeps one secret's value in memory (`GetSecretValue`,
//! `PutSecretValue`, with failures on demand), and a response URL that keeps
//! what CloudFormation would receive.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use anyhow::Result;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Response};
use serde_json::{Value, json};

use crate::coldstart::{amz_target, listen, serve_http};

/// The fake Secrets Manager's state.
#[derive(Default)]
pub struct SecretState {
    /// The secret's value.
    pub value: Option<String>,
    /// Writes so far.
    pub puts: usize,
    /// Answer every `PutSecretValue` with an `AccessDeniedException`.
    pub deny_puts: bool,
}

/// Starts the fake Secrets Manager holding `value`; returns its address and state.
pub async fn secrets_manager(value: &str) -> Result<(SocketAddr, Arc<Mutex<SecretState>>)> {
    let state = Arc::new(Mutex::new(SecretState {
        value: Some(value.to_owned()),
        ..SecretState::default()
    }));
    let shared = state.clone();
    let address = json_server(move |_, target, input| {
        let input = input.unwrap_or_default();
        let mut state = shared.lock().unwrap();
        match target {
            "secretsmanager.GetSecretValue" => (
                200,
                json!({"ARN": input["SecretId"], "Name": "ring", "SecretString": state.value, "VersionId": "v1"}),
            ),
            "secretsmanager.PutSecretValue" if state.deny_puts => (
                400,
                json!({"__type": "AccessDeniedException", "message": "not allowed"}),
            ),
            "secretsmanager.PutSecretValue" => {
                state.value = input["SecretString"].as_str().map(str::to_owned);
                state.puts += 1;
                (200, json!({"ARN": input["SecretId"], "Name": "ring", "VersionId": "v2"}))
            }
            _ => (400, json!({"__type": "InvalidRequestException"})),
        }
    })
    .await?;
    Ok((address, state))
}

/// Starts a response URL; returns its address and the bodies PUT to it.
/// With `refuse`, it keeps them but answers 403, as S3 does to an expired URL.
pub async fn response_url(refuse: bool) -> Result<(SocketAddr, Arc<Mutex<Vec<Value>>>)> {
    let answers = Arc::new(Mutex::new(Vec::new()));
    let shared = answers.clone();
    let address = json_server(move |method, _, answer| {
        let ok = method == Method::PUT && answer.is_some();
        if let Some(answer) = answer {
            shared.lock().unwrap().push(answer);
        }
        let status = match (ok, refuse) {
            (true, false) => 200,
            (true, true) => 403,
            (false, _) => 400,
        };
        (status, Value::Null)
    })
    .await?;
    Ok((address, answers))
}

/// Serves HTTP on 127.0.0.1, each request answered by `respond` from its
/// method, `X-Amz-Target` and JSON body (`None` if it is not JSON), with a
/// status and a JSON body. Returns the address.
async fn json_server<F>(respond: F) -> Result<SocketAddr>
where
    F: Fn(&Method, &str, Option<Value>) -> (u16, Value) + Clone + Send + Sync + 'static,
{
    listen(move |stream| {
        let respond = respond.clone();
        async move {
            serve_http(stream, move |request| {
                let respond = respond.clone();
                async move {
                    let (method, target) = (request.method().clone(), amz_target(&request));
                    let body = request.into_body().collect().await.ok();
                    let input = body.and_then(|b| serde_json::from_slice(&b.to_bytes()).ok());
                    let (status, answer) = respond(&method, &target, input);
                    Response::builder()
                        .status(status)
                        .header("content-type", "application/x-amz-json-1.1")
                        .body(Full::new(Bytes::from(answer.to_string())))
                        .expect("valid response")
                }
            })
            .await;
        }
    })
    .await
}
