use lambda_http::Error;

// One request at a time (CloudFormation sends them one by one): one thread.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    conduit::lambda::run_key_ring().await
}
