//! The capacity and cost model (`conduit-dev capacity`, README "Capacity"):
//! from what the cost benchmark measured per endpoint (DynamoDB requests,
//! read and write units, index writes), each function's measured warm
//! duration and its memory (`template.yaml`), the traffic mix of the load
//! test with its skew (one viral article, one celebrity author, one home
//! page), and a dated table of AWS prices, it works out for 1k, 10k and
//! 100k requests per second what each hot key, the account's concurrency
//! and each route's throttle carry, what a million requests cost, and which
//! limit breaks first; and ([`edge`]) what changes with CloudFront in front.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

pub mod edge;
mod functions;

pub use functions::Functions;

/// What the cost benchmark measured for one endpoint, per request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// DynamoDB requests.
    pub requests: f64,
    /// Read units.
    pub read_units: f64,
    /// Write units of the table (DynamoDB Local's report).
    pub write_units: f64,
    /// Index entries written (counted by the store: Local meters none), at most.
    pub index_writes: f64,
}

/// The cost benchmark's output: endpoint name (as in [`MIX`]) to its costs.
pub type Costs = BTreeMap<String, Measured>;

/// Which throttle a route has (`template.yaml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// `ReadThrottleRateLimit`.
    Read,
    /// `ThrottleRateLimit`.
    Write,
    /// `AuthThrottleRateLimit`.
    Auth,
}

/// One endpoint of the mix.
#[derive(Debug, Clone, Copy)]
pub struct Share {
    /// The endpoint, as the cost benchmark and the load test name it.
    pub endpoint: &'static str,
    /// The function that serves it.
    pub function: &'static str,
    /// Percent of all requests.
    pub percent: f64,
    /// Its route's throttle.
    pub throttle: Throttle,
}

const fn share(
    endpoint: &'static str,
    function: &'static str,
    percent: f64,
    throttle: Throttle,
) -> Share {
    Share {
        endpoint,
        function,
        percent,
        throttle,
    }
}

/// The load test's everyday mix (`tests/load/src/scenarios.rs`), per 100 requests.
pub const MIX: [Share; 14] = [
    share("GET /articles", "list_articles", 25.0, Throttle::Read),
    share("GET /tags", "get_tags", 10.0, Throttle::Read),
    share("GET /articles/{slug}", "get_article", 10.0, Throttle::Read),
    share("GET /articles?tag", "list_articles", 5.0, Throttle::Read),
    share(
        "GET /articles/{slug}/comments",
        "list_comments",
        12.0,
        Throttle::Read,
    ),
    share("GET /articles/feed", "get_feed", 10.0, Throttle::Read),
    share(
        "GET /profiles/{username}",
        "get_profile",
        8.0,
        Throttle::Read,
    ),
    share("GET /user", "get_current_user", 5.0, Throttle::Read),
    share(
        "POST /articles/{slug}/favorite",
        "favorite_article",
        4.0,
        Throttle::Write,
    ),
    share(
        "DELETE /articles/{slug}/favorite",
        "unfavorite_article",
        3.0,
        Throttle::Write,
    ),
    share(
        "POST /articles/{slug}/comments",
        "add_comment",
        3.0,
        Throttle::Write,
    ),
    share(
        "POST /profiles/{username}/follow",
        "follow_user",
        2.0,
        Throttle::Write,
    ),
    share("POST /articles", "create_article", 2.0, Throttle::Write),
    share("POST /users/login", "login", 1.0, Throttle::Auth),
];

/// Of the article reads, favorites and comments, the share on the viral
/// article; of profile reads, the share on the celebrity (the load test's skew).
pub const HOT_SHARE: f64 = 0.5;

/// The rates the model is worked out for, requests per second.
pub const RATES: [f64; 3] = [1_000.0, 10_000.0, 100_000.0];

/// The template's limits this model sizes (their defaults; a template test
/// checks that `template.yaml` has the same).
pub mod limits {
    /// `ReadThrottleRateLimit`: each GET route.
    pub const READ_ROUTE: f64 = 3_000.0;
    /// `ThrottleRateLimit`: each write route.
    pub const WRITE_ROUTE: f64 = 200.0;
    /// `AuthThrottleRateLimit`: sign-in and sign-up (1% of 1k req/s are
    /// logins: 10 a second would be the limit itself).
    pub const AUTH_ROUTE: f64 = 50.0;
    /// `WriteConcurrencyLimit`: each writing function.
    pub const WRITE_CONCURRENCY: f64 = 20.0;
    /// `TableMaxReadUnits`.
    pub const TABLE_READ_UNITS: f64 = 40_000.0;
    /// `TableMaxWriteUnits`.
    pub const TABLE_WRITE_UNITS: f64 = 10_000.0;
}

/// AWS's limits the model measures against.
pub mod aws {
    /// Read units per second one partition (so one item) serves.
    pub const PARTITION_READS: f64 = 3_000.0;
    /// Write units per second one partition serves.
    pub const PARTITION_WRITES: f64 = 1_000.0;
    /// Default concurrent executions of a region's account.
    pub const ACCOUNT_CONCURRENCY: f64 = 1_000.0;
    /// Transactions per second one item can take before they mostly cancel
    /// each other (an assumption: DynamoDB documents no number; each
    /// transaction holds the item for its two phases, ~10 ms in region).
    pub const ITEM_TRANSACTIONS: f64 = 100.0;
}

/// List prices, us-east-1, as published on the date below.
pub mod prices {
    /// When these were read.
    pub const DATED: &str = "2026-12-04 (us-east-1 list prices)";
    /// Lambda requests, per million.
    pub const LAMBDA_REQUESTS: f64 = 0.20;
    /// Lambda arm64 duration, per GB-second.
    pub const LAMBDA_GB_SECOND: f64 = 0.000_013_333_4;
    /// HTTP API requests, per million (first 300 million a month).
    pub const HTTP_API: f64 = 1.00;
    /// DynamoDB on-demand read request units, per million.
    pub const READ_UNITS: f64 = 0.125;
    /// DynamoDB on-demand write request units, per million.
    pub const WRITE_UNITS: f64 = 0.625;
    /// CloudWatch Logs ingestion, per GB.
    pub const LOG_GB: f64 = 0.50;
    /// X-Ray traces recorded, per million.
    pub const TRACES: f64 = 5.00;
    /// CloudWatch custom metrics, per metric and month (first 10,000).
    pub const METRIC_MONTH: f64 = 0.30;
}

/// Telemetry each invocation costs.
pub mod telemetry {
    /// Log bytes per invocation: the functions' lines (below), Lambda's JSON platform lines
    /// (`platform.start` and `platform.report`, about 500 bytes in AWS's
    /// documented shapes: not measurable here) and the HTTP API's access log
    /// line (its format rendered, about 400 bytes).
    pub const LOG_BYTES: f64 = APPLICATION_LOG_BYTES + 500.0 + 400.0;
    /// The functions' own bytes per invocation: the log step's budget, which
    /// the measured figure (README, "Operating it") must stay under. An upper
    /// bound, so the model cannot go stale below what the log step allows.
    pub const APPLICATION_LOG_BYTES: f64 = crate::logs::BYTES_PER_INVOCATION as f64;
    /// Share of requests X-Ray records at high rates (the default sampling
    /// rule: one a second, then 5%).
    pub const TRACED: f64 = 0.05;
    /// Custom metrics the EMF documents create: 11 names under the one
    /// `Service` dimension, whatever the number of functions.
    pub const METRICS: f64 = 11.0;
}

/// A load on one limit at one rate.
#[derive(Debug, Clone)]
struct Load {
    what: String,
    used: f64,
    limit: f64,
}

impl Load {
    fn ratio(&self) -> f64 {
        self.used / self.limit
    }
}

/// Per-key loads at `rate`: the hot items and partitions this data model
/// concentrates on (docs/data-model.md, "Per-partition limits").
fn hot_keys(rate: f64, costs: &Costs) -> Result<Vec<Load>> {
    let per_second = |endpoint: &str| -> Result<f64> {
        let share = MIX
            .iter()
            .find(|s| s.endpoint == endpoint)
            .with_context(|| endpoint.to_owned())?;
        Ok(rate * share.percent / 100.0)
    };
    let cost = |endpoint: &str| {
        costs
            .get(endpoint)
            .copied()
            .with_context(|| format!("the cost benchmark did not measure {endpoint}"))
    };
    // An article item is ~1 KB: half a unit per eventually consistent
    // read, one per strong read, two per transactional write.
    let views = per_second("GET /articles/{slug}")? * HOT_SHARE;
    let favorites = (per_second("POST /articles/{slug}/favorite")?
        + per_second("DELETE /articles/{slug}/favorite")?)
        * HOT_SHARE;
    let comments = per_second("POST /articles/{slug}/comments")? * HOT_SHARE;
    let comment_reads = per_second("GET /articles/{slug}/comments")? * HOT_SHARE;
    let home = per_second("GET /articles")?;
    let home_query = cost("GET /articles")?;
    let profiles = per_second("GET /profiles/{username}")? * HOT_SHARE;
    let creates = per_second("POST /articles")?;
    // Hot, as it is within moments of the burst: its favorites and its
    // comments' live checks spread over its counters.
    let counters = f64::from(conduit::store::HOT_ARTICLE_COUNTERS);
    Ok(vec![
        Load {
            what: "viral article item, reads (views, the home page, comment lists, favorites' and comments' strong reads)".into(),
            used: 0.5 * (views + home + comment_reads) + 1.0 * (favorites + comments),
            limit: aws::PARTITION_READS,
        },
        Load {
            what: format!("each of the viral article's {counters} counters, reads (every view of its count)"),
            used: 0.5 * (views + home + favorites),
            limit: aws::PARTITION_READS,
        },
        Load {
            what: format!("each of the viral article's {counters} counters, writes (2 units a favorite)"),
            used: 2.0 * favorites / counters,
            limit: aws::PARTITION_WRITES,
        },
        Load {
            what: format!("each of the viral article's {counters} counters, transactions (favorites, comments' checks)"),
            used: (favorites + comments) / counters,
            limit: aws::ITEM_TRANSACTIONS,
        },
        Load {
            what: "celebrity's user item, reads (profile views, the viral article's author)".into(),
            used: 0.5 * (profiles + views),
            limit: aws::PARTITION_READS,
        },
        Load {
            what: "home page: the `ARTICLES` index partition (GSI2), reads".into(),
            // The query's share of the page: its pointers, at most 1 unit.
            used: home * home_query.read_units.min(1.0),
            limit: aws::PARTITION_READS,
        },
        Load {
            what: "home page: the global count item `STATS`, reads".into(),
            used: 0.5 * home,
            limit: aws::PARTITION_READS,
        },
        Load {
            what: "global count item `STATS`, transactions (every new article)".into(),
            used: creates,
            limit: aws::ITEM_TRANSACTIONS,
        },
    ])
}

/// The model at `rate`: every load against its limit.
fn loads(rate: f64, costs: &Costs, functions: &Functions) -> Result<Vec<Load>> {
    let mut loads = hot_keys(rate, costs)?;
    let mut concurrency = 0.0;
    let mut reads = 0.0;
    let mut writes = 0.0;
    let mut by_function: BTreeMap<&str, (f64, f64, Throttle)> = BTreeMap::new();
    for share in &MIX {
        let per_second = rate * share.percent / 100.0;
        let (ms, _) = functions.of(share.function)?;
        let cost = costs
            .get(share.endpoint)
            .copied()
            .with_context(|| format!("the cost benchmark did not measure {}", share.endpoint))?;
        concurrency += per_second * ms / 1000.0;
        reads += per_second * cost.read_units;
        writes += per_second * (cost.write_units + cost.index_writes);
        let entry = by_function
            .entry(share.function)
            .or_insert((0.0, ms, share.throttle));
        entry.0 += per_second;
        let limit = match share.throttle {
            Throttle::Read => limits::READ_ROUTE,
            Throttle::Write => limits::WRITE_ROUTE,
            Throttle::Auth => limits::AUTH_ROUTE,
        };
        loads.push(Load {
            what: format!("route throttle of {}", share.endpoint),
            used: per_second,
            limit,
        });
    }
    loads.push(Load {
        what: "account concurrency (rate × warm duration, all functions)".into(),
        used: concurrency,
        limit: aws::ACCOUNT_CONCURRENCY,
    });
    for (function, (per_second, ms, throttle)) in by_function {
        if throttle != Throttle::Read {
            loads.push(Load {
                what: format!("reserved concurrency of {function}"),
                used: per_second * ms / 1000.0,
                limit: limits::WRITE_CONCURRENCY,
            });
        }
    }
    loads.push(Load {
        what: "table read units (on-demand maximum)".into(),
        used: reads,
        limit: limits::TABLE_READ_UNITS,
    });
    loads.push(Load {
        what: "table and index write units (on-demand maximum)".into(),
        used: writes,
        limit: limits::TABLE_WRITE_UNITS,
    });
    Ok(loads)
}

/// Dollars per million requests of the mix, line by line, when of each
/// endpoint's requests the fraction `reaching(share)` reaches the origin
/// (all of them without the edge; [`edge`] works out the rest).
fn dollars(
    costs: &Costs,
    functions: &Functions,
    rate: f64,
    reaching: impl Fn(&Share) -> f64,
) -> Result<Vec<(String, f64)>> {
    let mut invocations = 0.0;
    let mut gb_seconds = 0.0;
    let mut reads = 0.0;
    let mut writes = 0.0;
    for share in &MIX {
        let weight = share.percent / 100.0 * reaching(share);
        let (ms, mb) = functions.of(share.function)?;
        let cost = costs.get(share.endpoint).copied().unwrap_or_default();
        invocations += weight;
        // Lambda bills each invocation's duration rounded up to the millisecond.
        gb_seconds += weight * ms.ceil() / 1000.0 * mb / 1024.0;
        reads += weight * cost.read_units;
        writes += weight * (cost.write_units + cost.index_writes);
    }
    let month_requests = rate * 86_400.0 * 30.0;
    Ok(vec![
        (
            "Lambda requests".into(),
            invocations * prices::LAMBDA_REQUESTS,
        ),
        (
            format!("Lambda duration ({:.4} GB-s a request)", gb_seconds),
            gb_seconds * 1e6 * prices::LAMBDA_GB_SECOND,
        ),
        (
            "API Gateway HTTP API".into(),
            invocations * prices::HTTP_API,
        ),
        (
            format!("DynamoDB reads ({reads:.2} units a request)"),
            reads * prices::READ_UNITS,
        ),
        (
            format!("DynamoDB writes, indexes included ({writes:.2} units a request)"),
            writes * prices::WRITE_UNITS,
        ),
        (
            format!(
                "CloudWatch Logs ({:.0} bytes a request)",
                telemetry::LOG_BYTES
            ),
            invocations * telemetry::LOG_BYTES * 1e6 / 1e9 * prices::LOG_GB,
        ),
        (
            format!("X-Ray ({:.0}% traced)", telemetry::TRACED * 100.0),
            invocations * telemetry::TRACED * prices::TRACES,
        ),
        (
            format!(
                "EMF metrics ({} metrics, a month's fixed price spread over its requests)",
                telemetry::METRICS
            ),
            telemetry::METRICS * prices::METRIC_MONTH / month_requests * 1e6,
        ),
    ])
}

/// The model as README's "Capacity" section shows it (markdown).
pub fn render(costs: &Costs, functions: &Functions) -> Result<String> {
    if costs.is_empty() {
        bail!("no cost measurements: run the cost benchmark first");
    }
    let mut out = String::new();
    writeln!(
        out,
        "Inputs: the cost benchmark's measurements of each endpoint of the mix (regenerated by every run of the test command), warm p50 durations from `docs/capacity/durations.tsv` ({}), `MemorySize` from `template.yaml`, prices of {}.\n",
        functions.measured.trim(),
        prices::DATED
    )?;
    writeln!(
        out,
        "| rate (req/s) | first to break | its load | next three |"
    )?;
    writeln!(out, "|---:|---|---:|---|")?;
    for rate in RATES {
        let mut loads = loads(rate, costs, functions)?;
        loads.sort_by(|a, b| b.ratio().total_cmp(&a.ratio()));
        let first = &loads[0];
        let verdict = if first.ratio() > 1.0 {
            first.what.clone()
        } else {
            format!("nothing (closest: {})", first.what)
        };
        let next: Vec<String> = loads[1..4]
            .iter()
            .map(|l| format!("{} {:.0}%", l.what, l.ratio() * 100.0))
            .collect();
        writeln!(
            out,
            "| {rate:.0} | {verdict} | {:.0} of {:.0} ({:.0}%) | {} |",
            first.used,
            first.limit,
            first.ratio() * 100.0,
            next.join("; ")
        )?;
    }
    writeln!(out, "\nEvery load at each rate (used / limit):\n")?;
    writeln!(out, "| load | limit | 1k req/s | 10k req/s | 100k req/s |")?;
    writeln!(out, "|---|---:|---:|---:|---:|")?;
    let per_rate: Vec<Vec<Load>> = RATES
        .iter()
        .map(|rate| loads(*rate, costs, functions))
        .collect::<Result<_>>()?;
    for (i, load) in per_rate[0].iter().enumerate() {
        let cells: Vec<String> = per_rate
            .iter()
            .map(|loads| format!("{:.0} ({:.0}%)", loads[i].used, loads[i].ratio() * 100.0))
            .collect();
        writeln!(
            out,
            "| {} | {:.0} | {} |",
            load.what,
            load.limit,
            cells.join(" | ")
        )?;
    }
    writeln!(
        out,
        "\nDollars per million requests of the mix (at 10k req/s for the fixed metric price):\n"
    )?;
    writeln!(out, "| line | $ per million |")?;
    writeln!(out, "|---|---:|")?;
    let lines = dollars(costs, functions, 10_000.0, |_| 1.0)?;
    for (what, cost) in &lines {
        writeln!(out, "| {what} | {cost:.3} |")?;
    }
    writeln!(
        out,
        "| **total** | **{:.2}** |",
        lines.iter().map(|(_, c)| c).sum::<f64>()
    )?;
    out.push_str(&edge::render(
        costs,
        functions,
        f64::from(conduit::config::EdgeConfig::DEFAULT_SHARED_MAX_AGE),
    )?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn costs() -> Costs {
        MIX.iter()
            .map(|s| {
                (
                    s.endpoint.to_owned(),
                    Measured {
                        requests: 2.0,
                        read_units: 2.0,
                        write_units: 0.0,
                        index_writes: 0.0,
                    },
                )
            })
            .collect()
    }

    fn functions() -> Functions {
        Functions {
            warm_ms: MIX.iter().map(|s| (s.function.to_owned(), 20.0)).collect(),
            memory_mb: MIX.iter().map(|s| (s.function.to_owned(), 256.0)).collect(),
            measured: "test".into(),
        }
    }

    #[test]
    fn the_mix_adds_up_to_all_requests() {
        let total: f64 = MIX.iter().map(|s| s.percent).sum();
        assert!((total - 100.0).abs() < 1e-9, "{total}");
    }

    #[test]
    fn concurrency_is_rate_times_duration() {
        let loads = loads(1_000.0, &costs(), &functions()).unwrap();
        let account = loads
            .iter()
            .find(|l| l.what.starts_with("account concurrency"))
            .unwrap();
        assert!((account.used - 20.0).abs() < 1e-9, "{}", account.used);
    }

    #[test]
    fn the_verdict_names_the_largest_load_past_its_limit() {
        let text = render(&costs(), &functions()).unwrap();
        let row = text.lines().find(|l| l.starts_with("| 100000 |")).unwrap();
        // 100k × 2% = 2,000 new articles a second, each a transaction on one item.
        assert!(
            row.contains("| global count item `STATS`, transactions"),
            "{row}"
        );
        let row = text.lines().find(|l| l.starts_with("| 1000 |")).unwrap();
        assert!(row.contains("| nothing (closest: "), "{row}");
    }

    #[test]
    fn a_missing_measurement_is_an_error_not_a_zero() {
        let mut costs = costs();
        costs.remove("GET /tags");
        assert!(render(&costs, &functions()).is_err());
    }
}
