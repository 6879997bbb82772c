//! `conduit-load`: the load test of a running Conduit API. `scripts/load.sh`
//! starts a local stack for it (or passes `--target` for a deployed one).
//!
//! It registers its own accounts and articles, runs the everyday mix at a
//! capped rate for `--duration` seconds, then the viral scenario (`--viral`
//! users favorite and comment on one article at once, then unfavorite it at
//! once), checks every invariant through the API, and ends with
//! `N passed, M failed`. With `--function-log` (the local stack's log) it
//! also reports each function's DynamoDB requests, capacity and time.

mod checks;
mod fixture;
mod functions;
mod record;
mod scenarios;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use goose::prelude::*;

use checks::Check;
use record::Endpoint;

/// The command line.
#[derive(Debug)]
struct Args {
    target: String,
    rate: usize,
    duration: u64,
    viral: usize,
    users: usize,
    function_log: Option<PathBuf>,
    warm: usize,
}

impl Args {
    fn parse() -> Result<Self> {
        let mut args = Self {
            target: String::new(),
            rate: 40,
            duration: 60,
            viral: 300,
            users: 48,
            function_log: None,
            warm: 0,
        };
        let mut given = std::env::args().skip(1);
        while let Some(flag) = given.next() {
            let mut value = || {
                given
                    .next()
                    .with_context(|| format!("{flag} needs a value"))
            };
            match flag.as_str() {
                "--target" => args.target = value()?.trim_end_matches('/').to_owned(),
                "--rate" => args.rate = value()?.parse().context("--rate: requests per second")?,
                "--duration" => args.duration = value()?.parse().context("--duration: seconds")?,
                "--viral" => args.viral = value()?.parse().context("--viral: users")?,
                "--users" => args.users = value()?.parse().context("--users: simulated users")?,
                "--function-log" => args.function_log = Some(value()?.into()),
                "--warm" => {
                    args.warm = value()?.parse().context("--warm: instances per function")?
                }
                other => bail!(
                    "unknown argument {other} (--target URL --rate N --duration S --viral N --users N --warm N --function-log PATH)"
                ),
            }
        }
        if args.target.is_empty() {
            bail!("--target URL is required (scripts/load.sh starts a local stack and passes it)");
        }
        Ok(args)
    }
}

/// Runs `scenarios` to completion: `users` users, all started within a second.
async fn attack(
    target: &str,
    scenarios: Vec<Scenario>,
    users: usize,
    run: Option<(u64, usize)>,
) -> Result<BTreeMap<String, Endpoint>> {
    let mut attack =
        GooseAttack::initialize_with_config(goose::config::GooseConfiguration::default())?;
    for scenario in scenarios {
        attack = attack.register_scenario(scenario);
    }
    attack = *attack
        .set_default(GooseDefault::Host, target)?
        .set_default(GooseDefault::Users, users)?
        .set_default(GooseDefault::IncreaseRate, users.to_string().as_str())?
        .set_default(GooseDefault::Timeout, "10")?
        .set_default(GooseDefault::Quiet, 1)?
        .set_default(GooseDefault::NoPrintMetrics, true)?
        .set_default(GooseDefault::NoTelnet, true)?;
    attack = match run {
        Some((seconds, rate)) => *attack
            .set_default(GooseDefault::RunTime, seconds as usize)?
            .set_default(GooseDefault::ThrottleRequests, rate)?,
        None => *attack.set_default(GooseDefault::Iterations, 1)?,
    };
    attack.execute().await?;
    Ok(record::take())
}

fn print_endpoints(title: &str, endpoints: &BTreeMap<String, Endpoint>) {
    println!("\n{title}\n");
    println!("| endpoint | requests | p50 ms | p99 ms | max ms | statuses |");
    println!("|---|---:|---:|---:|---:|---|");
    for (name, endpoint) in endpoints {
        let statuses: Vec<String> = endpoint
            .statuses
            .iter()
            .map(|(s, n)| format!("{s}×{n}"))
            .collect();
        println!(
            "| {name} | {} | {:.0} | {:.0} | {:.0} | {} |",
            endpoint.requests(),
            endpoint.quantile_ms(0.5),
            endpoint.quantile_ms(0.99),
            endpoint.max_ms(),
            statuses.join(" ")
        );
    }
}

fn print_functions(log: &str) {
    let functions = functions::from_log(log);
    println!("\nThe functions, from their EMF documents (means per invocation)\n");
    println!(
        "| function | invocations | cold | DynamoDB requests | capacity units | latency ms | waiting on DynamoDB ms | own ms |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (name, f) in &functions {
        println!(
            "| {name} | {} | {} | {:.2} | {:.2} | {:.1} | {:.1} | {:.1} |",
            f.invocations,
            f.cold,
            f.mean(f.requests),
            f.mean(f.capacity),
            f.mean(f.latency_ms),
            f.mean(f.waiting_ms),
            f.mean(f.latency_ms - f.waiting_ms)
        );
    }
}

/// The verdicts on what the requests got, over every phase.
fn answer_checks(phases: &[&BTreeMap<String, Endpoint>]) -> Vec<Check> {
    let all: Vec<&Endpoint> = phases.iter().flat_map(|p| p.values()).collect();
    let requests: u64 = all.iter().map(|e| e.requests()).sum();
    let succeeded: u64 = all.iter().map(|e| e.succeeded()).sum();
    let bad: u64 = all.iter().map(|e| e.bad_errors).sum();
    let slowest = all.iter().map(|e| e.max_ms()).fold(0.0, f64::max);
    let share = if requests == 0 {
        0.0
    } else {
        succeeded as f64 / requests as f64
    };
    vec![
        Check {
            name: "no 5xx but 503 with Retry-After, and every request answered".into(),
            passed: bad == 0,
            detail: format!("{bad} other 5xx or unanswered, of {requests}"),
        },
        Check {
            name: "at least 90% of requests succeed".into(),
            passed: requests > 0 && share >= 0.9,
            detail: format!("{succeeded} of {requests} ({:.1}%)", share * 100.0),
        },
        Check {
            name: "every answer arrives within 3 s".into(),
            passed: slowest <= 3_000.0,
            detail: format!("slowest {slowest:.0} ms"),
        },
    ]
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse()?;
    let log_start = args
        .function_log
        .as_ref()
        .and_then(|path| std::fs::metadata(path).ok())
        .map_or(0, |m| m.len() as usize);
    // Setup and checks are not timed; a first call may start an environment.
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;
    let accounts = args.viral.max(args.users).max(fixture::AUTHORS + 10);
    println!(
        "setting up: {accounts} accounts, {} articles",
        fixture::AUTHORS * 4
    );
    let fixture = scenarios::install(fixture::prepare(&client, &args.target, accounts).await?);
    if args.warm > 0 {
        println!("starting {} instances of every function", args.warm);
        fixture::warm(&client, fixture, args.warm).await?;
    }
    println!(
        "run {}: the mix, {} s at most {} requests/s from {} users",
        fixture.run, args.duration, args.rate, args.users
    );
    let mix = attack(
        &args.target,
        scenarios::mix()?,
        args.users,
        Some((args.duration, args.rate)),
    )
    .await?;
    println!(
        "the viral article: {} users favorite and comment on it at once",
        args.viral
    );
    let burst = attack(
        &args.target,
        vec![scenarios::viral_burst()],
        args.viral,
        None,
    )
    .await?;
    let mut checks = vec![checks::viral_favorites(&client, fixture, accounts).await?];
    println!("the viral article: the same users unfavorite it at once");
    let retreat = attack(
        &args.target,
        vec![scenarios::viral_retreat()],
        args.viral,
        None,
    )
    .await?;
    checks.push(checks::viral_favorites(&client, fixture, accounts).await?);
    checks.extend(checks::listings(&client, fixture).await?);
    checks.extend(answer_checks(&[&mix, &burst, &retreat]));

    print_endpoints(
        &format!("The mix ({} s, rate cap {}/s)", args.duration, args.rate),
        &mix,
    );
    print_endpoints(
        &format!("The viral burst ({} users at once)", args.viral),
        &burst,
    );
    print_endpoints(
        &format!("The viral retreat ({} users at once)", args.viral),
        &retreat,
    );
    if let Some(path) = &args.function_log {
        let log = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
        print_functions(log.get(log_start..).unwrap_or_default());
    }
    let created = record::tally().lock().expect("tally").created;
    println!("\narticles the mix created: {created}\n");
    let failed = checks.iter().filter(|c| !c.passed).count();
    for check in &checks {
        let verdict = if check.passed { "PASS" } else { "FAIL" };
        println!("{verdict}  {}: {}", check.name, check.detail);
    }
    println!("{} passed, {failed} failed", checks.len() - failed);
    if failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}
