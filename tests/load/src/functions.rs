//! The functions' side of a local run, from the EMF document every
//! invocation writes to its log: DynamoDB requests and capacity per
//! invocation, and its latency split into waiting on DynamoDB and the
//! function's own time.

use std::collections::BTreeMap;

use serde_json::Value;

/// One function's invocations.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FunctionLoad {
    /// Invocations seen.
    pub invocations: u64,
    /// Cold starts among them.
    pub cold: u64,
    /// Sums, for the means.
    pub requests: f64,
    /// Capacity units.
    pub capacity: f64,
    /// Handler latency, ms.
    pub latency_ms: f64,
    /// Of which waiting on DynamoDB, ms.
    pub waiting_ms: f64,
}

impl FunctionLoad {
    /// Mean of a sum over the invocations.
    pub fn mean(&self, sum: f64) -> f64 {
        if self.invocations == 0 {
            0.0
        } else {
            sum / self.invocations as f64
        }
    }
}

/// Reads every EMF document in `log`, per function.
pub fn from_log(log: &str) -> BTreeMap<String, FunctionLoad> {
    let mut functions: BTreeMap<String, FunctionLoad> = BTreeMap::new();
    for line in log.lines() {
        let Ok(document) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if document.get("_aws").is_none() {
            continue;
        }
        let Some(function) = document["Function"].as_str() else {
            continue;
        };
        let number = |name: &str| document[name].as_f64().unwrap_or(0.0);
        let entry = functions.entry(function.to_owned()).or_default();
        entry.invocations += 1;
        entry.cold += number("ColdStart") as u64;
        entry.requests += number("DynamoDBRequests");
        entry.capacity += number("DynamoDBCapacityUnits");
        entry.latency_ms += number("Latency");
        entry.waiting_ms += number("dynamodbWaitMs");
    }
    functions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_lines_are_summed_per_function_and_other_lines_ignored() {
        let log = concat!(
            "not json\n",
            r#"{"level":"INFO","message":"request served"}"#,
            "\n",
            r#"{"_aws":{},"Function":"get_tags","ColdStart":1,"DynamoDBRequests":1,"DynamoDBCapacityUnits":0.5,"Latency":12.0,"dynamodbWaitMs":9.0}"#,
            "\n",
            r#"{"_aws":{},"Function":"get_tags","ColdStart":0,"DynamoDBRequests":1,"DynamoDBCapacityUnits":0.5,"Latency":4.0,"dynamodbWaitMs":3.0}"#,
            "\n",
        );
        let functions = from_log(log);
        let tags = &functions["get_tags"];
        assert_eq!((tags.invocations, tags.cold), (2, 1));
        assert_eq!(tags.mean(tags.latency_ms - tags.waiting_ms), 2.0);
        assert_eq!(tags.mean(tags.capacity), 0.5);
    }
}
