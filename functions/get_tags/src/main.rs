use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    conduit::lambda::run_public(conduit::api::get_tags::handle).await
}
