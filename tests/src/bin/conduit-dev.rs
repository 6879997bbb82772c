//! Developer tool behind the scripts: creates the table from `template.yaml`
//! on DynamoDB Local, seeds demo data, and prints the template's routes.
//!
//! Usage: `conduit-dev create-table TABLE | seed TABLE | routes`

use std::time::Duration;

use anyhow::{Result, bail};
use conduit::App;
use conduit::auth::TokenKeys;
use conduit::store::Store;
use conduit_tests::{LOCAL_JWT_SECRET, TableSpec, local_client, routes, seed};

#[tokio::main]
async fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["create-table", table] => {
            let client = local_client().await;
            let existing = client.list_tables().send().await?;
            if existing.table_names().iter().any(|t| t == table) {
                println!("table {table} already exists");
            } else {
                TableSpec::from_template()?.create(&client, table).await?;
                println!("created table {table} from template.yaml");
            }
        }
        ["seed", table] => {
            let app = App {
                store: Store::new(local_client().await, *table),
                tokens: TokenKeys::new(
                    &LOCAL_JWT_SECRET.to_owned().into(),
                    Duration::from_secs(60),
                ),
            };
            if seed::seed(&app).await? {
                println!(
                    "seeded demo data (users {:?}, password '{}')",
                    seed::DEMO_USERS.map(|u| u.0),
                    seed::DEMO_PASSWORD
                );
            } else {
                println!("demo data already present");
            }
        }
        ["routes"] => {
            for route in routes()? {
                println!("{} {} {}", route.method, route.path, route.function);
            }
        }
        _ => bail!("usage: conduit-dev create-table TABLE | seed TABLE | routes"),
    }
    Ok(())
}
