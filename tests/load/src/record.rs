//! What every request of the load test got: status, latency, and whether a
//! 503 said when to retry. Goose schedules the requests; this keeps what
//! the verdict needs, per endpoint, in one place.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// One endpoint's requests.
#[derive(Debug, Default, Clone)]
pub struct Endpoint {
    /// Latency of each request, in microseconds.
    pub latencies: Vec<u64>,
    /// Requests per status code (0: no answer at all).
    pub statuses: BTreeMap<u16, u64>,
    /// 5xx answers other than a 503 with `Retry-After`.
    pub bad_errors: u64,
}

impl Endpoint {
    /// Requests made.
    pub fn requests(&self) -> u64 {
        self.latencies.len() as u64
    }

    /// Requests answered 2xx.
    pub fn succeeded(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(status, _)| (200..300).contains(*status))
            .map(|(_, n)| n)
            .sum()
    }

    /// The `q` quantile of latency (0.5, 0.99), in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return 0.0;
        }
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
        sorted[rank - 1] as f64 / 1000.0
    }

    /// The slowest answer, in milliseconds.
    pub fn max_ms(&self) -> f64 {
        self.latencies.iter().max().copied().unwrap_or(0) as f64 / 1000.0
    }
}

fn book() -> &'static Mutex<BTreeMap<String, Endpoint>> {
    static BOOK: OnceLock<Mutex<BTreeMap<String, Endpoint>>> = OnceLock::new();
    BOOK.get_or_init(Default::default)
}

/// Records one answer (`status` 0: none came).
pub fn record(endpoint: &str, status: u16, retry_after: bool, latency: Duration) {
    let mut book = book().lock().expect("recorder lock");
    let entry = book.entry(endpoint.to_owned()).or_default();
    entry.latencies.push(latency.as_micros() as u64);
    *entry.statuses.entry(status).or_default() += 1;
    let honest_unavailable = status == 503 && retry_after;
    if (status >= 500 && !honest_unavailable) || status == 0 {
        entry.bad_errors += 1;
    }
}

/// Everything recorded so far, then cleared (one phase at a time).
pub fn take() -> BTreeMap<String, Endpoint> {
    std::mem::take(&mut *book().lock().expect("recorder lock"))
}

/// Counts of what the run did, which the checks compare with what the API holds.
#[derive(Debug, Default)]
pub struct Tally {
    /// Comments answered 201, by article slug.
    pub comments: BTreeMap<String, u64>,
    /// Articles answered 201.
    pub created: u64,
}

/// The run's tally.
pub fn tally() -> &'static Mutex<Tally> {
    static TALLY: OnceLock<Mutex<Tally>> = OnceLock::new();
    TALLY.get_or_init(Default::default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_come_from_the_sorted_latencies() {
        let endpoint = Endpoint {
            latencies: (1..=100).rev().map(|ms| ms * 1000).collect(),
            ..Endpoint::default()
        };
        assert_eq!(endpoint.quantile_ms(0.5), 50.0);
        assert_eq!(endpoint.quantile_ms(0.99), 99.0);
        assert_eq!(endpoint.max_ms(), 100.0);
    }

    #[test]
    fn only_a_503_with_retry_after_is_an_honest_5xx() {
        record("t", 503, true, Duration::from_millis(1));
        record("t", 503, false, Duration::from_millis(1));
        record("t", 500, false, Duration::from_millis(1));
        record("t", 200, false, Duration::from_millis(1));
        let endpoint = take().remove("t").unwrap();
        assert_eq!(
            (
                endpoint.requests(),
                endpoint.succeeded(),
                endpoint.bad_errors
            ),
            (4, 1, 2)
        );
    }
}
