//! The floor of a DynamoDB function: a client built at init with the SDK's
//! defaults, and one `GetItem` per event (so its first response pays the TLS
//! handshake, as every function's does unless it connects during init).

use aws_sdk_dynamodb::types::AttributeValue;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let table = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME must be set")?;
    let config = aws_config::load_from_env().await;
    let client = aws_sdk_dynamodb::Client::new(&config);
    let (client, table) = (&client, table.as_str());
    lambda_runtime::run(service_fn(move |_: LambdaEvent<Value>| async move {
        let item = client
            .get_item()
            .table_name(table)
            .key("pk", AttributeValue::S("BASELINE".into()))
            .key("sk", AttributeValue::S("BASELINE".into()))
            .send()
            .await?;
        Ok::<_, Error>(
            json!({"statusCode": 200, "body": format!("found: {}", item.item.is_some())}),
        )
    }))
    .await
}
