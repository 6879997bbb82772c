use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    conduit::lambda::run(conduit::api::get_profile::handle).await
}
