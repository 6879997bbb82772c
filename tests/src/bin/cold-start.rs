//! The cold-start benchmark (run it with `scripts/bench-cold-start.sh`, which
//! builds the release binaries, the certificates and a seeded DynamoDB Local).
//!
//! Usage: `cold-start --bin-dir DIR --certs DIR --table TABLE [--cold N] [--warm M] [--rtt-ms R] [--only a,b] [--compare-dir DIR]`
//!
//! For the two baselines and every function: N fresh processes under our own
//! Runtime API emulator, each timed from spawn to its first `next` (init) and
//! through its first event (first response), M warm events on the last one,
//! peak RSS, binary and zip size; against DynamoDB Local (and a Secrets
//! Manager stand-in) behind TLS endpoints whose CA the processes trust through
//! `SSL_CERT_FILE`, R ms of round trip away (default 2). Traced as Lambda
//! traces with `Tracing: Active`: an X-Ray agent address is set and every
//! invocation's trace header is sampled. With `--compare-dir`, each function
//! is measured again from that directory's binary of the same name (another
//! build: before a change), as the row `name (compared)`, in the same run.
//! Prints one Markdown table with ratios to the client baseline.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use conduit_tests::coldstart::{
    Emulator, Figures, SECRET_ARN, SECRET_FETCHES, peak_rss, report, secrets_manager, tls_endpoint,
    trace_agent, with_round_trip,
};
use conduit_tests::{endpoint, events, local_app, workspace_root};

const BASELINES: [&str; 2] = ["baseline-hello", "baseline-client"];
const LIMIT: Duration = Duration::from_secs(20);

struct Options {
    bin_dir: PathBuf,
    certs: PathBuf,
    table: String,
    cold: usize,
    warm: usize,
    rtt_ms: f64,
    only: Option<Vec<String>>,
    compare_dir: Option<PathBuf>,
}

fn options() -> Result<Options> {
    let mut args = std::env::args().skip(1);
    let (mut bin_dir, mut certs, mut table) = (None, None, None);
    let (mut cold, mut warm, mut only, mut compare_dir) = (7, 50, None, None);
    // A round trip between a function and DynamoDB in one region, roughly.
    let mut rtt_ms = 2.0;
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--bin-dir" => bin_dir = Some(PathBuf::from(value()?)),
            "--certs" => certs = Some(PathBuf::from(value()?)),
            "--table" => table = Some(value()?),
            "--cold" => cold = value()?.parse()?,
            "--warm" => warm = value()?.parse()?,
            "--rtt-ms" => rtt_ms = value()?.parse()?,
            "--only" => only = Some(value()?.split(',').map(str::to_owned).collect()),
            "--compare-dir" => compare_dir = Some(PathBuf::from(value()?)),
            other => bail!("unknown argument {other}"),
        }
    }
    ensure!(
        cold >= 1 && warm >= 1,
        "--cold and --warm must be at least 1"
    );
    Ok(Options {
        bin_dir: bin_dir.context("--bin-dir is required")?,
        certs: certs.context("--certs is required")?,
        table: table.context("--table is required")?,
        cold,
        warm,
        rtt_ms,
        only,
        compare_dir,
    })
}

#[tokio::main]
async fn main() -> Result<()> {
    let options = options()?;
    let ring = conduit_tests::test_ring();
    let app = local_app(&options.table, ring).await;
    let secret: &'static str = Box::leak(ring.to_json().into_boxed_str());
    let upstream = endpoint()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .context("AWS_ENDPOINT_URL_DYNAMODB must be http://<ip>:<port>")?;
    let (chain, key) = (
        options.certs.join("server.pem"),
        options.certs.join("server.key"),
    );
    let rtt = Duration::from_micros((options.rtt_ms * 1000.0) as u64);
    // Each behind TLS, the round trip in front: client → delay → TLS → service.
    let dynamodb = tls_endpoint(&chain, &key, upstream).await?;
    let secrets = tls_endpoint(&chain, &key, secrets_manager(secret).await?).await?;
    let ports = Ports {
        dynamodb: with_round_trip(dynamodb, rtt).await?.port(),
        secrets: with_round_trip(secrets, rtt).await?.port(),
    };
    let (agent, datagrams) = trace_agent().context("binding the trace agent's socket")?;
    let functions = function_names()?;
    let mut rows = Vec::new();
    for name in BASELINES.iter().map(|s| s.to_string()).chain(functions) {
        if options
            .only
            .as_ref()
            .is_some_and(|only| !only.contains(&name) && !BASELINES.contains(&name.as_str()))
        {
            continue;
        }
        let event_file = if BASELINES.contains(&name.as_str()) {
            "get_tags".to_owned()
        } else {
            name.clone()
        };
        let raw =
            std::fs::read_to_string(workspace_root().join(format!("events/{event_file}.json")))?;
        let mut events = Vec::new();
        for _ in 0..options.cold + options.warm {
            events.push(events::fill(&app, &raw).await?);
        }
        let compared = options
            .compare_dir
            .as_ref()
            .filter(|_| !BASELINES.contains(&name.as_str()));
        let mut compared_events = Vec::new();
        if compared.is_some() {
            for _ in 0..options.cold + options.warm {
                compared_events.push(events::fill(&app, &raw).await?);
            }
        }
        eprintln!("measuring {name}");
        let binary = options.bin_dir.join(&name);
        let figures = measure(&options, &name, &binary, ports, agent, events)
            .await
            .with_context(|| format!("measuring {name}"))?;
        rows.push(figures);
        if let Some(dir) = compared {
            let label = format!("{name} (compared)");
            eprintln!("measuring {label}");
            let figures = measure(
                &options,
                &label,
                &dir.join(&name),
                ports,
                agent,
                compared_events,
            )
            .await
            .with_context(|| format!("measuring {label}"))?;
            rows.push(figures);
        }
    }
    let baseline = rows
        .iter()
        .find(|r| r.name == "baseline-client")
        .context("no client baseline")?
        .clone();
    println!("{}", report(&rows, &baseline));
    println!(
        "{} cold starts and {} warm invocations each, {} ms round trip to DynamoDB and Secrets Manager; every invocation sampled ({} trace datagrams received); medians of the cold starts; secret fetches: Secrets Manager requests over all cold starts; ratios to baseline-client of this run.",
        options.cold,
        options.warm,
        options.rtt_ms,
        datagrams.load(Ordering::Relaxed)
    );
    Ok(())
}

/// Every function with an event, in the order of `events/`.
fn function_names() -> Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(workspace_root().join("events"))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".json"))
                .map(str::to_owned)
        })
        .collect();
    names.sort();
    Ok(names)
}

/// The TLS endpoints: DynamoDB Local's and the Secrets Manager stand-in's.
#[derive(Clone, Copy)]
struct Ports {
    dynamodb: u16,
    secrets: u16,
}

async fn measure(
    options: &Options,
    name: &str,
    binary: &Path,
    ports: Ports,
    agent: SocketAddr,
    events: Vec<String>,
) -> Result<Figures> {
    ensure!(binary.is_file(), "no binary at {}", binary.display());
    let fetches_before = SECRET_FETCHES.load(Ordering::Relaxed);
    let mut figures = Figures {
        name: name.to_owned(),
        binary: std::fs::metadata(binary)?.len(),
        zip: zip_size(binary)?,
        ..Figures::default()
    };
    let mut events = events.into_iter();
    for run in 0..options.cold {
        let mut emulator = Emulator::start().await?;
        let started = Instant::now();
        let mut child = Command::new(binary)
            .env_clear()
            .envs(environment(options, name, ports, &emulator.address))
            .env("AWS_XRAY_DAEMON_ADDRESS", agent.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let outcome = async {
            let ready = emulator.ready(LIMIT).await?;
            figures.init_ms.push(ms(ready - started));
            let event = events.next().context("out of events")?;
            let (took, status) = emulator.invoke(event, LIMIT).await?;
            figures.first_ms.push(ms(took));
            figures.total_ms.push(ms(ready - started + took));
            figures.statuses.push(status);
            if run + 1 == options.cold {
                for _ in 0..options.warm {
                    emulator.ready(LIMIT).await?;
                    let event = events.next().context("out of events")?;
                    let (took, status) = emulator.invoke(event, LIMIT).await?;
                    figures.warm_ms.push(ms(took));
                    figures.statuses.push(status);
                }
            }
            // Once it asks for the next event it is idle: its peak is final.
            emulator.ready(LIMIT).await?;
            figures.rss.push(peak_rss(child.id())?);
            anyhow::Ok(())
        }
        .await;
        let _ = child.kill();
        let _ = child.wait();
        outcome?;
    }
    figures.secret_fetches = SECRET_FETCHES.load(Ordering::Relaxed) - fetches_before;
    Ok(figures)
}

/// What Lambda and our template set (the parts our binaries and the runtime
/// read), with the local endpoints and the CA bundle that trusts them; nothing
/// from our shell. The signing secret comes from "Secrets Manager", as in AWS.
fn environment(
    options: &Options,
    name: &str,
    ports: Ports,
    runtime_api: &str,
) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", name.to_owned()),
        ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256".into()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
        ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
        ("AWS_LAMBDA_LOG_STREAM_NAME", "bench".into()),
        ("AWS_LAMBDA_LOG_FORMAT", "JSON".into()),
        ("AWS_REGION", "us-east-1".into()),
        ("AWS_ACCESS_KEY_ID", "local".into()),
        ("AWS_SECRET_ACCESS_KEY", "local".into()),
        (
            "AWS_ENDPOINT_URL_DYNAMODB",
            format!("https://localhost:{}", ports.dynamodb),
        ),
        (
            "AWS_ENDPOINT_URL_SECRETS_MANAGER",
            format!("https://localhost:{}", ports.secrets),
        ),
        (
            "SSL_CERT_FILE",
            options.certs.join("bundle.pem").display().to_string(),
        ),
        ("TABLE_NAME", options.table.clone()),
        ("JWT_PUBLIC_KEYS", conduit_tests::test_ring().public_keys()),
        ("JWT_ISSUER", conduit_tests::local_parties().issuer),
        ("JWT_AUDIENCE", conduit_tests::local_parties().audience),
        // Every function gets it; only the signers read it (the fetch column).
        ("JWT_KEY_RING_ARN", SECRET_ARN.into()),
        // No edge in front: checking its header is one SHA-256 of a short
        // value, nothing a start-up timing could see.
        ("ORIGIN_DIGEST", "none".into()),
    ]
}

/// The size of the deployment zip: the binary alone, named `bootstrap`.
fn zip_size(binary: &Path) -> Result<u64> {
    let dir = std::env::temp_dir().join(format!("cold-start-zip-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    std::fs::copy(binary, dir.join("bootstrap"))?;
    let zip = dir.join("package.zip");
    let _ = std::fs::remove_file(&zip);
    let status = Command::new("zip")
        .args(["-q", "-X"])
        .arg(&zip)
        .arg("bootstrap")
        .current_dir(&dir)
        .status()
        .context("running zip (apt-get install zip)")?;
    ensure!(status.success(), "zip failed");
    let size = std::fs::metadata(&zip)?.len();
    std::fs::remove_dir_all(&dir)?;
    Ok(size)
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
