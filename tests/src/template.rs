//! Where the workspace is, and `template.yaml` (the one source of truth for
//! the table, the routes and CORS), parsed.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_yaml::Value as Yaml;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// `template.yaml`, parsed (CloudFormation tags such as `!Ref` kept as tagged values).
pub fn template() -> Result<Yaml> {
    let path = workspace_root().join("template.yaml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("reading {path:?}"))?;
    serde_yaml::from_str(&text).context("parsing template.yaml")
}

/// What a `!Ref` names (a parameter or a resource); `None` for anything else.
pub fn ref_name(value: &Yaml) -> Option<String> {
    match value {
        Yaml::Tagged(tagged) if tagged.tag == "Ref" => tagged.value.as_str().map(str::to_owned),
        _ => None,
    }
}

/// `value[field]` as a string, or an error naming the field.
pub(crate) fn text<'a>(value: &'a Yaml, field: &str) -> Result<&'a str> {
    value[field]
        .as_str()
        .with_context(|| format!("template: {field} must be a string"))
}
