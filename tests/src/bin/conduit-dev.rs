//! Developer tool behind the scripts: creates the table from `template.yaml`
//! on DynamoDB Local, seeds demo data, and prints the template's routes.
//!
//! Usage: `conduit-dev create-table TABLE | seed TABLE | key-ring FILE | public-keys FILE | ring-secrets FILE | routes | router | openapi | event FUNCTION TABLE | gateway LISTEN UPSTREAM PER_FUNCTION | check-response FUNCTION FILE | check-openapi FILE | check-logs FILE [SECRET…] | check-stack CHECK URL | capacity COSTS [--check]`
//!
//! `capacity` prints the capacity and cost model (README, "Capacity") from
//! the cost benchmark's COSTS file; `--check` fails unless README holds it.
//!
//! `check-stack` runs one check of the stack running at URL
//! (`http://127.0.0.1:PORT`; the checks are in [`conduit_tests::stack`]).
//!
//! `event` prints `events/FUNCTION.json` with its placeholders filled from the
//! seeded TABLE, with a token signed by `JWT_KEY_RING` (the running stack's),
//! and the local edge's header when `CONDUIT_ORIGIN_SECRET` is set.
//!
//! `gateway` stands in for the edge and API Gateway; with
//! `CONDUIT_ORIGIN_SECRET` set it adds the edge's secret header.
//!
//! `key-ring` draws the local stack's key ring into FILE (mode 600) unless it
//! is there; `public-keys` prints its `JWT_PUBLIC_KEYS`, `ring-secrets` its
//! private parts, one per line, for the log check to look for.

use anyhow::{Context, Result, bail};
use conduit::auth::KeyRing;
use conduit_tests::{
    TableSpec, endpoint, events, gateway, local_app, logs, router_toml, routes, seed, setup_client,
    stack, workspace_root,
};

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
            let client = setup_client(&endpoint()).await;
            let existing = client.list_tables().send().await?;
            if existing.table_names().iter().any(|t| t == table) {
                println!("table {table} already exists");
            } else {
                TableSpec::from_template()?.create(&client, table).await?;
                println!("created table {table} from template.yaml");
            }
        }
        ["seed", table] => {
            let app = local_app(table, conduit_tests::test_ring()).await;
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
        ["event", function, table] => {
            let ring = std::env::var("JWT_KEY_RING")
                .context("JWT_KEY_RING must be the running API's key ring")?;
            let ring = KeyRing::parse(&ring).context("JWT_KEY_RING")?;
            let app = local_app(table, &ring).await;
            let path = workspace_root()
                .join("events")
                .join(format!("{function}.json"));
            let text =
                std::fs::read_to_string(&path).with_context(|| format!("reading {path:?}"))?;
            let mut event: serde_json::Value =
                serde_json::from_str(&events::fill(&app, &text).await?)
                    .with_context(|| format!("{path:?} is not JSON"))?;
            // Invoked straight through the runtime, as the local edge would
            // have forwarded it: with its secret (never in events/ itself).
            if let Some(secret) = std::env::var("CONDUIT_ORIGIN_SECRET")
                .ok()
                .filter(|s| !s.is_empty())
            {
                event["headers"][conduit::http::ORIGIN_HEADER] = secret.into();
            }
            println!("{event}");
        }
        ["capacity", costs] | ["capacity", costs, "--check"] => {
            // The model from the cost benchmark's measurements; with --check,
            // README's "Capacity" section must hold exactly this.
            let costs: conduit_tests::capacity::Costs = serde_json::from_str(
                &std::fs::read_to_string(costs).with_context(|| format!("reading {costs}"))?,
            )
            .with_context(|| format!("{costs} is not the cost benchmark's output"))?;
            let root = workspace_root();
            let durations = std::fs::read_to_string(root.join("docs/capacity/durations.tsv"))
                .context("reading docs/capacity/durations.tsv")?;
            let functions =
                conduit_tests::capacity::Functions::read(&durations, &conduit_tests::template()?)?;
            let model = conduit_tests::capacity::render(&costs, &functions)?;
            if args.len() == 3 {
                let readme = std::fs::read_to_string(root.join("README.md"))?;
                let section = readme
                    .split_once("<!-- capacity:begin -->\n")
                    .and_then(|(_, rest)| rest.split_once("<!-- capacity:end -->"))
                    .map(|(section, _)| section)
                    .context(
                        "README.md has no <!-- capacity:begin --> … <!-- capacity:end --> section",
                    )?;
                if section != model {
                    bail!(
                        "README.md's capacity section is stale; paste this between its markers:\n{model}"
                    );
                }
                println!("README.md's capacity section matches the model");
            } else {
                print!("{model}");
            }
        }
        ["gateway", listen, upstream, per_function] => {
            let cors = gateway::Cors::from_template()?;
            let per_function = per_function
                .parse()
                .context("requests in flight per function")?;
            // The local edge's secret (scripts/lib.sh draws it; ORIGIN_DIGEST
            // in the functions' environment is its SHA-256).
            let secret = std::env::var("CONDUIT_ORIGIN_SECRET")
                .ok()
                .filter(|s| !s.is_empty());
            gateway::serve(
                listen.parse()?,
                upstream.parse()?,
                cors,
                routes()?,
                per_function,
                secret,
            )
            .await?;
        }
        ["check-response", function, file] => {
            let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
            events::check_invoke_output(function, &text)?;
            println!("{function}: ok");
        }
        ["check-openapi", file] => {
            // A document served by the running stack, against the RealWorld spec.
            let ours: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?,
            )
            .with_context(|| format!("{file} is not JSON"))?;
            let path = conduit_tests::openapi::spec_path();
            let spec: serde_json::Value =
                serde_yaml::from_str(&std::fs::read_to_string(&path).with_context(|| {
                    format!("reading the RealWorld spec at {}", path.display())
                })?)?;
            let problems = conduit_tests::openapi::incompatibilities(&spec, &ours, "");
            if !problems.is_empty() {
                bail!(
                    "{file} is not compatible with {}:\n{}",
                    path.display(),
                    problems.join("\n")
                );
            }
            println!("compatible with {}", path.display());
        }
        ["key-ring", file] => {
            let path = std::path::Path::new(file);
            if !path.exists() {
                let ring = KeyRing::generate("1").context("drawing a key ring")?;
                write_private(path, &ring.to_json())?;
                println!("drew a key ring into {file}");
            }
        }
        ["public-keys", file] => println!("{}", read_ring(file)?.public_keys()),
        ["ring-secrets", file] => {
            for secret in read_ring(file)?.private_parts() {
                println!("{secret}");
            }
        }
        ["check-logs", file, secrets @ ..] => {
            let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
            let summary = logs::check_function_log(&text, secrets)?;
            println!(
                "{} invocations, one EMF document each, {} log lines with request and trace ids, \
                 {} bytes an invocation (budget {}), no secrets",
                summary.invocations,
                summary.invocation_lines,
                summary.bytes_per_invocation(),
                logs::BYTES_PER_INVOCATION
            );
        }
        ["check-stack", check, url] => match stack::run(check, url).await {
            Ok(line) => println!("{line}"),
            // One line, whatever RUST_BACKTRACE says: what failed is in the message.
            Err(error) => {
                eprintln!("check-stack {check} {url}: {error:#}");
                std::process::exit(1);
            }
        },
        ["router"] => {
            println!("{}", router_toml(&routes()?));
        }
        ["openapi"] => {
            println!("{}", conduit::openapi::json());
        }
        ["routes"] => {
            for route in routes()? {
                println!("{} {} {}", route.method, route.path, route.function);
            }
        }
        _ => bail!(
            "usage: conduit-dev create-table TABLE | seed TABLE | routes | router | openapi | event FUNCTION TABLE | gateway LISTEN UPSTREAM PER_FUNCTION | check-response FUNCTION FILE | check-openapi FILE | check-logs FILE [SECRET…] | check-stack CHECK URL\n  CHECK: {}",
            stack::names()
        ),
    }
    Ok(())
}

fn read_ring(file: &str) -> Result<KeyRing> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {file}"))?;
    KeyRing::parse(&text).with_context(|| format!("{file} is not a key ring"))
}

/// Writes `text` into a new file only its owner can read.
fn write_private(path: &std::path::Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {path:?}"))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}
