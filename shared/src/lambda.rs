//! Start-up wiring for the function binaries: tracing, config, clients,
//! runtime; and what every invocation leaves behind: one log line, its EMF
//! metrics document with its outcome, and its spans (when Lambda samples it).

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tracing_opentelemetry::OpenTelemetrySpanExt as _;

use lambda_http::{Body, Error, Request, RequestExt, Response, service_fn};
use tracing::Instrument;

use crate::App;
use crate::config::EdgeConfig;
use crate::http::Edge;
use crate::invocation::Invocation;
use crate::store::Store;
use crate::telemetry::{self, MetricsConfig, Outcome};

/// Runs a function that verifies tokens: JSON logs carrying the request id,
/// the app built once from the environment (public keys only: no secret is
/// fetched), then `handler` for every invocation.
pub async fn run<H, F>(handler: H) -> Result<(), Error>
where
    H: Fn(&'static App, Request) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send,
{
    run_app(App::verifying_from_env(), handler).await
}

/// [`run`] for a function that issues tokens: its app also reads the key
/// ring, once, at init.
pub async fn run_signing<H, F>(handler: H) -> Result<(), Error>
where
    H: Fn(&'static App, Request) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send,
{
    run_app(App::signing_from_env(), handler).await
}

/// [`run_signing`] for login: the decoy hash is computed during init, beside the
/// app's own start-up ([`crate::auth::warm_password_hashing`]). Measured
/// (README, "Cold start"): login's first response 81 → 61 ms; for register,
/// which hashes rather than verifies, it changed nothing, so it runs
/// [`run_signing`].
pub async fn run_hashing<H, F>(handler: H) -> Result<(), Error>
where
    H: Fn(&'static App, Request) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send,
{
    let app = async {
        let (app, ()) = tokio::join!(
            App::signing_from_env(),
            crate::auth::warm_password_hashing()
        );
        app
    };
    run_app(app, handler).await
}

/// Runs a function that needs no authentication (only the table).
pub async fn run_public<H, F>(handler: H) -> Result<(), Error>
where
    H: Fn(&'static Store, Request) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send,
{
    run_app(Store::from_env(), handler).await
}

/// Runs a function that reads nothing: no table, no secret.
pub async fn run_stateless<H, F>(handler: H) -> Result<(), Error>
where
    H: Fn(Request) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send,
{
    run_app(async { Ok(()) }, move |_: &'static (), request| {
        handler(request)
    })
    .await
}

/// Runs the key ring's CloudFormation custom resource
/// ([`crate::provision`]): JSON logs, the Secrets Manager client, the runtime.
pub async fn run_key_ring() -> Result<(), Error> {
    telemetry::init(&binary());
    let sdk = crate::config::sdk_loader().load().await;
    let provisioner: &'static crate::provision::Provisioner = Box::leak(Box::new(
        crate::provision::Provisioner::new(aws_sdk_secretsmanager::Client::new(&sdk))?,
    ));
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<crate::provision::KeyRingRequest>| {
            provisioner.handle(event.payload)
        },
    ))
    .await
}

/// Logging first (start-up logs too), then the state the handler needs (the
/// app, or only the store), built once per cold start and kept for the life
/// of the execution environment, then the runtime.
async fn run_app<S, H, F>(
    state: impl Future<Output = Result<S, crate::InitError>>,
    handler: H,
) -> Result<(), Error>
where
    S: Sync + 'static,
    H: Fn(&'static S, Request) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send,
{
    let metrics: &'static MetricsConfig = Box::leak(Box::new(MetricsConfig::from_env(&binary())));
    telemetry::init(&metrics.function);
    let edge: &'static Edge = Box::leak(Box::new(Edge::new(
        EdgeConfig::from_env().map_err(crate::InitError::from)?,
    )));
    let state: &'static S = Box::leak(Box::new(state.await?));
    lambda_http::run(service_fn(move |request: Request| async move {
        Ok::<_, Error>(serve(metrics, edge, request, |request| handler(state, request)).await)
    }))
    .await
}

/// Whether the next invocation is this execution environment's first.
static COLD: AtomicBool = AtomicBool::new(true);

/// The binary's name: the function's name when Lambda does not say it.
fn binary() -> String {
    std::env::args()
        .next()
        .and_then(|path| {
            std::path::Path::new(&path)
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "conduit".into())
}

/// One invocation: inside a span naming the function and whether the start
/// was cold (so every log line of it carries both, beside the runtime's request
/// and trace ids), under the invocation's deadline, if the edge admits it;
/// then its outcome.
async fn serve<F>(
    metrics: &MetricsConfig,
    edge: &Edge,
    mut request: Request,
    handler: impl FnOnce(Request) -> F,
) -> Response<Body>
where
    F: Future<Output = Response<Body>>,
{
    let cold_start = COLD.swap(false, Ordering::Relaxed);
    let context = request.lambda_context_ref();
    let request_id = context.map_or("", |c| c.request_id.as_str()).to_owned();
    let trace = context.and_then(|c| c.xray_trace_id.clone());
    let invocation = Invocation::new(&request_id, context.map(|c| c.deadline()));
    let span = tracing::info_span!(
        "invocation",
        function = %metrics.function,
        cold_start,
    );
    // Under the segment Lambda opened for this invocation (sampled or not,
    // as Lambda decided). Without a header (locally) the spans are roots,
    // which the sampler drops.
    if let Some(parent) = trace.as_deref().and_then(telemetry::parent) {
        let _ = span.set_parent(parent);
    }
    let started = Instant::now();
    let admitted = span.in_scope(|| edge.admit(&mut request));
    let (response, invocation) = invocation
        .run(async move {
            match admitted {
                Ok(()) => handler(request).await,
                Err(refused) => crate::http::respond(Err(refused)),
            }
        })
        .instrument(span.clone())
        .await;
    let outcome = Outcome {
        status: response.status().as_u16(),
        latency_ms: started.elapsed().as_secs_f64() * 1000.0,
        cold_start,
        timestamp_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u64,
    };
    let recorder = invocation.recorder();
    // The invocation's one line (no tracing event beside it, which would
    // repeat it): CloudWatch reads EMF from the raw log line.
    let document =
        telemetry::emf_document(metrics, outcome, recorder, &request_id, trace.as_deref());
    // Rendered first and written in one call: `println!` of a document longer
    // than stdout's 1 KiB line buffer writes it in pieces, which another
    // process sharing the log (the local emulator's instances) can split.
    let mut line = document.to_string();
    line.push('\n');
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), line.as_bytes());
    span.set_attribute("http.response.status_code", i64::from(outcome.status));
    if outcome.status >= 500 {
        span.set_status(opentelemetry::trace::Status::error("a 5xx answer"));
    }
    // The invocation's span ends (and is sent) here, before the answer.
    drop(span);
    response
}
