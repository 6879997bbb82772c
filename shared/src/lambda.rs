//! Start-up wiring for the function binaries: tracing, config, clients, runtime.

use std::future::Future;

use lambda_http::{Body, Error, Request, RequestExt, Response, service_fn};

use crate::App;
use crate::invocation::Invocation;
use crate::store::Store;

/// Runs an authenticating function: JSON logs carrying the request id, the app
/// built once from the environment, then `handler` for every invocation.
pub async fn run<H, F>(handler: H) -> Result<(), Error>
where
    H: Fn(&'static App, Request) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send,
{
    lambda_http::tracing::init_default_subscriber();
    // Built once per cold start and kept for the life of the execution environment.
    let app: &'static App = Box::leak(Box::new(App::from_env().await?));
    lambda_http::run(service_fn(move |request: Request| async move {
        let before = app.store.usage();
        let response = invocation(&request).scope(handler(app, request)).await;
        log_usage(&app.store, before, &response);
        Ok::<_, Error>(response)
    }))
    .await
}

/// Runs a function that needs no authentication (only the table).
pub async fn run_public<H, F>(handler: H) -> Result<(), Error>
where
    H: Fn(&'static Store, Request) -> F + Copy + Send + Sync + 'static,
    F: Future<Output = Response<Body>> + Send,
{
    lambda_http::tracing::init_default_subscriber();
    let store: &'static Store = Box::leak(Box::new(Store::from_env().await?));
    lambda_http::run(service_fn(move |request: Request| async move {
        let before = store.usage();
        let response = invocation(&request).scope(handler(store, request)).await;
        log_usage(store, before, &response);
        Ok::<_, Error>(response)
    }))
    .await
}

/// The invocation `request` belongs to: its request id and its deadline.
fn invocation(request: &Request) -> Invocation {
    let context = request.lambda_context_ref();
    Invocation::new(
        context.map_or("", |c| c.request_id.as_str()),
        context.map(|c| c.deadline()),
    )
}

fn log_usage(store: &Store, before: crate::store::Usage, response: &Response<Body>) {
    let used = store.usage() - before;
    tracing::info!(
        status = response.status().as_u16(),
        dynamodb_requests = used.requests,
        dynamodb_capacity_units = used.capacity_units,
        dynamodb_failed_requests = used.failed_requests,
        "request served"
    );
}
