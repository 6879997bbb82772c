//! `template.yaml` is the one source of truth: the local router, the table the
//! tests create, and the functions must all agree with it.

use conduit_tests::{TableSpec, router_toml, routes, template, workspace_root};

#[test]
fn the_local_router_in_cargo_toml_matches_the_template_routes() {
    let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml")).unwrap();
    let generated = router_toml(&routes().unwrap());
    assert!(
        manifest.contains(&generated),
        "Cargo.toml's router is stale; regenerate it with `conduit-dev router`:\n{generated}"
    );
}

#[test]
fn every_route_is_served_by_a_function_crate_of_the_workspace() {
    let routes = routes().unwrap();
    assert_eq!(routes.len(), 19, "the RealWorld API has 19 endpoints");
    for route in routes {
        assert!(route.path.starts_with("/api/"), "{route:?}");
        let manifest = workspace_root()
            .join("functions")
            .join(&route.function)
            .join("Cargo.toml");
        assert!(manifest.exists(), "{route:?} has no crate at {manifest:?}");
    }
}

#[test]
fn the_table_has_the_indexes_the_store_queries() {
    let spec = TableSpec::from_template().unwrap();
    use conduit::store::index::{GSI1, GSI2, GSI3};
    assert_eq!(spec.index_names(), [GSI1, GSI2, GSI3]);
}

#[test]
fn functions_are_arm64_rust_binaries_with_json_logs() {
    let template = template().unwrap();
    let function = &template["Globals"]["Function"];
    assert_eq!(function["Runtime"].as_str(), Some("provided.al2023"));
    assert_eq!(function["Handler"].as_str(), Some("bootstrap"));
    assert_eq!(function["Architectures"][0].as_str(), Some("arm64"));
    assert_eq!(
        function["LoggingConfig"]["LogFormat"].as_str(),
        Some("JSON")
    );
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() == Some("AWS::Serverless::Function") {
            assert_eq!(
                resource["Metadata"]["BuildMethod"].as_str(),
                Some("rust-cargolambda"),
                "{name:?}"
            );
        }
    }
}

#[test]
fn no_secret_is_written_into_the_template_or_the_events() {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    assert!(text.contains("GenerateSecretString:"));
    assert!(
        !text
            .lines()
            .any(|l| l.trim_start().starts_with("SecretString:")),
        "the JWT secret must be generated, not written"
    );
    assert!(
        !text.contains("JWT_SECRET:"),
        "functions get the secret's ARN, never the secret"
    );
    for entry in std::fs::read_dir(workspace_root().join("events")).unwrap() {
        let event = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(
            !event.contains("eyJ"),
            "events carry a ${{TOKEN}} placeholder, not a token"
        );
    }
}
