//! The edge's part of the cost model: which requests CloudFront answers
//! from its cache, what still reaches the origin, and what a million
//! requests cost with the edge (and its web ACL) and without.

use std::fmt::Write as _;

use anyhow::Result;

use super::{Costs, Functions, HOT_SHARE, MIX, RATES, Share, dollars};

/// CloudFront and AWS WAF list prices, as of [`super::prices::DATED`].
pub mod prices {
    /// CloudFront HTTPS requests, per million (US and Europe: $0.0100 per 10,000).
    pub const CLOUDFRONT_REQUESTS: f64 = 1.00;
    /// AWS WAF requests inspected, per million.
    pub const WAF_REQUESTS: f64 = 0.60;
    /// AWS WAF web ACL, per month.
    pub const WAF_ACL_MONTH: f64 = 5.00;
    /// AWS WAF rule, per month (the template's web ACL has two).
    pub const WAF_RULE_MONTH: f64 = 1.00;
}

/// CloudFront's regional edge caches: a hot page is fetched from the origin
/// at most once per `s-maxage` by each (an assumption of the model: the
/// edge locations behind each fill from it).
pub const EDGE_CACHES: f64 = 13.0;

/// Of each anonymous read of the mix, the share on one hot key, which the
/// edge serves from its copy: the home page and the tags are one page for
/// everyone; of article views, the viral article's share. The rest (other
/// articles, tag lists) the model counts as misses: conservative, since
/// any page read more than once per `s-maxage` hits too.
fn hot_key_share(share: &Share) -> f64 {
    match share.endpoint {
        "GET /articles" | "GET /tags" => 1.0,
        "GET /articles/{slug}" => HOT_SHARE,
        _ => 0.0,
    }
}

/// The mix's anonymous reads (`tests/load/src/scenarios.rs`): everything
/// else carries a token, so the edge forwards it.
fn anonymous(share: &Share) -> bool {
    matches!(
        share.endpoint,
        "GET /articles" | "GET /tags" | "GET /articles/{slug}" | "GET /articles?tag"
    )
}

/// Of `share`'s requests at `rate` (all requests), the fraction that reaches
/// the origin when the edge keeps anonymous reads for `s_maxage` seconds.
pub fn reaching_origin(share: &Share, rate: f64, s_maxage: f64) -> f64 {
    if !anonymous(share) {
        return 1.0;
    }
    let per_second = rate * share.percent / 100.0;
    let hot = per_second * hot_key_share(share);
    let fetched = hot.min(EDGE_CACHES / s_maxage.max(1.0));
    (per_second - hot + fetched) / per_second
}

/// The edge's section of the model, at `s_maxage` seconds.
pub fn render(costs: &Costs, functions: &Functions, s_maxage: f64) -> Result<String> {
    let mut out = String::new();
    writeln!(
        out,
        "\nWith the edge (CloudFront in front, `SharedMaxAgeSeconds` {s_maxage:.0}): an anonymous read of a hot page (the home page, the tags, the viral article) reaches the origin at most once per `s-maxage` from each of CloudFront's {EDGE_CACHES:.0} regional edge caches; every other anonymous read (other articles, tag lists) is counted as a miss; requests with a token always reach it.\n"
    )?;
    writeln!(
        out,
        "| rate (req/s) | requests reaching the origin | home page queries of the `ARTICLES` partition (req/s) |"
    )?;
    writeln!(out, "|---:|---:|---:|")?;
    for rate in RATES {
        let reaching: f64 = MIX
            .iter()
            .map(|s| s.percent / 100.0 * reaching_origin(s, rate, s_maxage))
            .sum();
        let home = MIX
            .iter()
            .find(|s| s.endpoint == "GET /articles")
            .map_or(0.0, |s| {
                rate * s.percent / 100.0 * reaching_origin(s, rate, s_maxage)
            });
        writeln!(out, "| {rate:.0} | {:.1}% | {home:.1} |", reaching * 100.0)?;
    }
    let rate = 10_000.0;
    let month_requests = rate * 86_400.0 * 30.0;
    let without: f64 = dollars(costs, functions, rate, |_| 1.0)?
        .iter()
        .map(|(_, d)| d)
        .sum();
    let origin: f64 = dollars(costs, functions, rate, |s| {
        reaching_origin(s, rate, s_maxage)
    })?
    .iter()
    .map(|(_, d)| d)
    .sum();
    let waf = prices::WAF_REQUESTS
        + (prices::WAF_ACL_MONTH + 2.0 * prices::WAF_RULE_MONTH) / month_requests * 1e6;
    writeln!(
        out,
        "\nDollars per million requests of the mix at 10k req/s, with and without the edge (data transfer out, about the same per GB either way, left out):\n"
    )?;
    writeln!(
        out,
        "| line | without the edge | with the edge | with the edge and its web ACL |"
    )?;
    writeln!(out, "|---|---:|---:|---:|")?;
    writeln!(
        out,
        "| the origin (API Gateway, Lambda, DynamoDB, telemetry) | {without:.3} | {origin:.3} | {origin:.3} |"
    )?;
    writeln!(
        out,
        "| CloudFront requests | – | {0:.3} | {0:.3} |",
        prices::CLOUDFRONT_REQUESTS
    )?;
    writeln!(
        out,
        "| AWS WAF (requests, and the web ACL's month spread over its requests) | – | – | {waf:.3} |"
    )?;
    let edge = origin + prices::CLOUDFRONT_REQUESTS;
    writeln!(
        out,
        "| **total** | **{without:.2}** | **{edge:.2}** ({:+.0}%) | **{:.2}** ({:+.0}%) |",
        (edge / without - 1.0) * 100.0,
        edge + waf,
        ((edge + waf) / without - 1.0) * 100.0
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share(endpoint: &str) -> &'static Share {
        MIX.iter().find(|s| s.endpoint == endpoint).unwrap()
    }

    #[test]
    fn requests_with_a_token_always_reach_the_origin() {
        for endpoint in ["GET /articles/feed", "GET /user", "POST /articles"] {
            assert_eq!(
                reaching_origin(share(endpoint), 10_000.0, 5.0),
                1.0,
                "{endpoint}"
            );
        }
    }

    #[test]
    fn a_hot_page_is_fetched_once_per_s_maxage_per_edge_cache_whatever_the_rate() {
        let home = share("GET /articles");
        for rate in [1_000.0, 10_000.0, 100_000.0] {
            let fetched = rate * home.percent / 100.0 * reaching_origin(home, rate, 5.0);
            assert!(
                (fetched - EDGE_CACHES / 5.0).abs() < 1e-9,
                "{rate}: {fetched}"
            );
        }
        // Below one fetch per cache and s-maxage, nothing is saved.
        assert_eq!(reaching_origin(home, 1.0, 5.0), 1.0);
    }

    #[test]
    fn the_long_tail_of_anonymous_reads_counts_as_misses() {
        assert_eq!(
            reaching_origin(share("GET /articles?tag"), 10_000.0, 5.0),
            1.0
        );
        let article = reaching_origin(share("GET /articles/{slug}"), 10_000.0, 5.0);
        assert!(article > 1.0 - HOT_SHARE && article < 1.0, "{article}");
    }
}
