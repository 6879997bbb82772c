use lambda_http::Error;

// One invocation at a time: one thread (blocking work, password hashing, has its own pool).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    conduit::lambda::run_signing(conduit::api::register::handle).await
}
