//! The model's inputs per function: each one's measured warm duration and
//! its memory in `template.yaml`.

use std::collections::BTreeMap;

use anyhow::{Context, Result};

/// Each function's warm duration (ms, measured) and memory (MB, the template).
#[derive(Debug, Clone, Default)]
pub struct Functions {
    /// Warm p50 per function, ms.
    pub warm_ms: BTreeMap<String, f64>,
    /// `MemorySize` per function, MB.
    pub memory_mb: BTreeMap<String, f64>,
    /// Where and when the durations were measured.
    pub measured: String,
}

impl Functions {
    /// Reads `durations.tsv` (`function<TAB>warm p50 ms`, `#` lines: the
    /// provenance) and the memory of every function in `template`.
    pub fn read(durations: &str, template: &serde_yaml::Value) -> Result<Self> {
        let mut functions = Functions::default();
        for line in durations.lines() {
            if let Some(comment) = line.strip_prefix('#') {
                functions.measured.push_str(comment.trim());
                functions.measured.push(' ');
                continue;
            }
            let Some((name, ms)) = line.split_once('\t') else {
                continue;
            };
            functions.warm_ms.insert(
                name.to_owned(),
                ms.trim()
                    .parse()
                    .with_context(|| format!("durations: {line}"))?,
            );
        }
        let default = template["Globals"]["Function"]["MemorySize"]
            .as_f64()
            .context("Globals MemorySize")?;
        for (name, resource) in template["Resources"].as_mapping().context("Resources")? {
            if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
                continue;
            }
            let Some(binary) = name.as_str().and_then(crate::routes::binary_of) else {
                continue;
            };
            let memory = resource["Properties"]["MemorySize"]
                .as_f64()
                .unwrap_or(default);
            functions.memory_mb.insert(binary, memory);
        }
        Ok(functions)
    }

    pub(super) fn of(&self, function: &str) -> Result<(f64, f64)> {
        let ms = *self
            .warm_ms
            .get(function)
            .with_context(|| format!("no measured duration for {function}"))?;
        let mb = *self
            .memory_mb
            .get(function)
            .with_context(|| format!("no memory for {function} in template.yaml"))?;
        Ok((ms, mb))
    }
}
