//! The template's routes: which function serves which request, for the test
//! API, the local gateway and `cargo lambda watch`'s router.

use anyhow::{Context, Result};

use serde_yaml::Value as Yaml;

use crate::template::{template, text};

/// A route of the template: which function serves `method path`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Route {
    /// Path pattern, API Gateway syntax (`/api/articles/{slug}`).
    pub path: String,
    /// HTTP method.
    pub method: String,
    /// The function binary.
    pub function: String,
}

/// Every route of `template.yaml`, from each function's `HttpApi` event.
pub fn routes() -> Result<Vec<Route>> {
    let template = template()?;
    let mut routes = Vec::new();
    for (function, logical_id, resource) in functions(&template)? {
        // The key ring's custom resource function serves CloudFormation, not
        // the API; every other function has its route.
        if logical_id == "KeyRingFunction" {
            continue;
        }
        let events = resource["Properties"]["Events"]
            .as_mapping()
            .context("template: a function without Events")?;
        for (_, event) in events {
            if event["Type"].as_str() == Some("HttpApi") {
                routes.push(Route {
                    path: text(&event["Properties"], "Path")?.to_owned(),
                    method: text(&event["Properties"], "Method")?.to_owned(),
                    function: function.to_owned(),
                });
            }
        }
    }
    routes.sort();
    Ok(routes)
}

/// Every `AWS::Serverless::Function` of `template`: its binary's name, its
/// logical id and its resource.
pub(crate) fn functions(template: &Yaml) -> Result<Vec<(String, &str, &Yaml)>> {
    let resources = template["Resources"]
        .as_mapping()
        .context("template: Resources")?;
    let mut functions = Vec::new();
    for (logical_id, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let logical_id = logical_id.as_str().context("template: a resource name")?;
        let function = binary_of(logical_id)
            .with_context(|| format!("template: {logical_id} is not named <Binary>Function"))?;
        functions.push((function, logical_id, resource));
    }
    Ok(functions)
}

/// The binary a function resource runs, by the template's naming rule (the
/// Makefile follows it too): `GetCurrentUserFunction` runs `get_current_user`.
pub fn binary_of(logical_id: &str) -> Option<String> {
    let stem = logical_id.strip_suffix("Function")?;
    let mut binary = String::new();
    for (i, c) in stem.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            binary.push('_');
        }
        binary.push(c.to_ascii_lowercase());
    }
    (!binary.is_empty()).then_some(binary)
}

/// The route serving `method path`: literal segments win over parameters,
/// as in API Gateway (`/api/articles/feed` before `/api/articles/{slug}`).
pub fn route_for<'a>(routes: &'a [Route], method: &str, path: &str) -> Option<&'a Route> {
    let segments: Vec<&str> = path.split('/').collect();
    routes
        .iter()
        .filter(|r| r.method == method)
        .filter_map(|r| {
            let pattern: Vec<&str> = r.path.split('/').collect();
            if pattern.len() != segments.len() {
                return None;
            }
            let mut literals = 0;
            for (p, s) in pattern.iter().zip(&segments) {
                if p.starts_with('{') {
                    continue;
                }
                if p != s {
                    return None;
                }
                literals += 1;
            }
            Some((literals, r))
        })
        .max_by_key(|(literals, _)| *literals)
        .map(|(_, r)| r)
}

/// The `[workspace.metadata.lambda.watch.router]` table that routes
/// `cargo lambda watch` exactly as the template routes API Gateway.
pub fn router_toml(routes: &[Route]) -> String {
    let mut by_path: std::collections::BTreeMap<&str, Vec<&Route>> = Default::default();
    for route in routes {
        by_path.entry(&route.path).or_default().push(route);
    }
    let mut out = String::from("[workspace.metadata.lambda.watch.router]\n");
    for (path, routes) in by_path {
        let entries: Vec<String> = routes
            .iter()
            .map(|r| {
                format!(
                    "{{ method = \"{}\", function = \"{}\" }}",
                    r.method, r.function
                )
            })
            .collect();
        out.push_str(&format!("\"{path}\" = [{}]\n", entries.join(", ")));
    }
    out
}
