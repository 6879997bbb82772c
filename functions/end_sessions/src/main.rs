use lambda_http::Error;

// One invocation at a time: one thread.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    conduit::lambda::run(conduit::api::end_sessions::handle).await
}
