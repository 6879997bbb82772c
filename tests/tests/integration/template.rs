//! `template.yaml` is the one source of truth: the local router, the table the
//! tests create, and the functions must all agree with it.

use conduit_tests::{TableSpec, ref_name, router_toml, routes, template, workspace_root};

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
    assert_eq!(
        routes.len(),
        21,
        "the RealWorld API has 19 endpoints; ours also serves its OpenAPI document and ends sessions"
    );
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
                Some("makefile"),
                "{name:?}"
            );
        }
    }
}

/// What `sam build` runs for each function, dry (`make -n`): every function of
/// the template has a target, which copies its own binary. (The release build
/// itself is the benchmark's business, not the test command's.)
#[test]
fn the_makefile_builds_every_function_of_the_template_into_its_artifacts() {
    let template = template().unwrap();
    let mut functions = 0;
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        functions += 1;
        let name = name.as_str().unwrap();
        let binary = conduit_tests::binary_of(name).unwrap();
        assert!(
            workspace_root()
                .join(format!("functions/{binary}/Cargo.toml"))
                .is_file(),
            "{name}: no crate functions/{binary}"
        );
        let output = std::process::Command::new("make")
            .args(["-n", &format!("build-{name}"), "ARTIFACTS_DIR=/artifacts"])
            .current_dir(workspace_root())
            .output()
            .expect("make is installed");
        assert!(output.status.success(), "{name}: {output:?}");
        let plan = String::from_utf8(output.stdout).unwrap();
        assert!(
            plan.contains("cargo lambda build --release --arm64")
                && plan.contains(&format!(" -p {binary}")),
            "{name}: {plan}"
        );
        assert!(
            plan.trim_end()
                .ends_with(&format!("/lambda/{binary}/bootstrap /artifacts/bootstrap")),
            "{name}: {plan}"
        );
    }
    // 21 routes, and the key ring's custom resource.
    assert_eq!(functions, 22);
}

#[test]
fn no_secret_is_written_into_the_template_or_the_events() {
    let text = std::fs::read_to_string(workspace_root().join("template.yaml")).unwrap();
    assert!(text.contains("GenerateSecretString:"));
    assert!(
        !text
            .lines()
            .any(|l| l.trim_start().starts_with("SecretString:")),
        "the key ring must be drawn, not written"
    );
    assert!(
        !text.contains("JWT_KEY_RING:"),
        "signers get the ring's ARN, never the ring"
    );
    let mut files = vec![workspace_root().join("events")];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
            continue;
        }
        let event = std::fs::read_to_string(&path).unwrap();
        assert!(
            !event.contains("eyJ"),
            "{path:?}: events carry a ${{TOKEN}} placeholder, not a token"
        );
        assert!(!event.contains("pkcs8"), "{path:?}: no key in an event");
    }
}

/// Only the three functions that sign tokens (and the resource that draws
/// the ring) may read it; every other function verifies with public keys,
/// so its init calls no AWS service but DynamoDB.
#[test]
fn only_the_signers_can_read_the_key_ring_and_every_verifier_has_the_public_keys() {
    let template = template().unwrap();
    let signers = ["RegisterFunction", "LoginFunction", "UpdateUserFunction"];
    let public = ["GetTagsFunction", "GetOpenapiFunction", "KeyRingFunction"];
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let name = name.as_str().unwrap();
        let properties = &resource["Properties"];
        let variables = &properties["Environment"]["Variables"];
        let policies = serde_yaml::to_string(&properties["Policies"]).unwrap();
        let reads_ring = policies.contains("secretsmanager:GetSecretValue");
        if signers.contains(&name) {
            assert!(reads_ring, "{name}");
            assert!(policies.contains("KeyRingSecret"), "{name}");
            assert!(!variables["JWT_KEY_RING_ARN"].is_null(), "{name}");
        } else {
            assert_eq!(reads_ring, name == "KeyRingFunction", "{name}");
            assert!(variables["JWT_KEY_RING_ARN"].is_null(), "{name}");
        }
        assert_eq!(
            variables["JWT_PUBLIC_KEYS"].is_null(),
            public.contains(&name),
            "{name}: JWT_PUBLIC_KEYS"
        );
    }
    let globals = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert!(!globals["JWT_ISSUER"].is_null() && !globals["JWT_AUDIENCE"].is_null());
    assert_eq!(
        template["Parameters"]["TokenTtlSeconds"]["MaxValue"].as_u64(),
        Some(604_800)
    );
}

#[test]
fn the_functions_timeout_leaves_room_for_the_invocation_budget_and_a_503() {
    use conduit::invocation::{ANSWER_MARGIN, INVOCATION_BUDGET};
    let template = template().unwrap();
    let timeout = template["Globals"]["Function"]["Timeout"].as_u64().unwrap();
    assert_eq!(
        std::time::Duration::from_secs(timeout),
        conduit_tests::LAMBDA_TIMEOUT
    );
    assert!(INVOCATION_BUDGET + ANSWER_MARGIN < conduit_tests::LAMBDA_TIMEOUT);
    // An idempotency key's claim outlives any invocation holding it, with
    // room for a transaction still in flight when the invocation ends.
    assert!(2 * timeout <= conduit::idempotency::CLAIM_SECONDS as u64);
    // No function of the API overrides it (the key ring's answers
    // CloudFormation, with time for Secrets Manager's retries).
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        if name.as_str() == Some("KeyRingFunction") {
            continue;
        }
        assert!(
            resource["Properties"]["Timeout"].is_null(),
            "{name:?} sets its own Timeout"
        );
    }
}

#[test]
fn failed_login_records_expire_through_ttl_and_the_auth_routes_are_throttled_tighter() {
    assert_eq!(
        TableSpec::from_template().unwrap().ttl_attribute.as_deref(),
        Some("expires_at")
    );
    let template = template().unwrap();
    let api = &template["Resources"]["Api"]["Properties"];
    assert!(!api["DefaultRouteSettings"]["ThrottlingRateLimit"].is_null());
    let default_rate = template["Parameters"]["ThrottleRateLimit"]["Default"]
        .as_u64()
        .unwrap();
    let auth_rate = template["Parameters"]["AuthThrottleRateLimit"]["Default"]
        .as_u64()
        .unwrap();
    assert!(auth_rate < default_rate);
    let routes = routes().unwrap();
    for route in ["POST /api/users/login", "POST /api/users"] {
        let settings = &api["RouteSettings"][route];
        assert!(!settings["ThrottlingRateLimit"].is_null(), "{route}");
        assert!(!settings["ThrottlingBurstLimit"].is_null(), "{route}");
        let (method, path) = route.split_once(' ').unwrap();
        assert!(
            routes.iter().any(|r| r.method == method && r.path == path),
            "{route} is no route of the template"
        );
    }
}

#[test]
fn functions_taking_idempotency_keys_may_give_one_up_and_delete_nothing_else() {
    use conduit::openapi::KEYED_OPERATIONS;
    let document: serde_json::Value = serde_json::from_str(&conduit::openapi::json()).unwrap();
    let keyed: Vec<_> = conduit_tests::openapi::operations(&document)
        .into_iter()
        .filter(|(_, _, op)| {
            KEYED_OPERATIONS.contains(&op["operationId"].as_str().unwrap_or_default())
        })
        .map(|(method, path, _)| (method, format!("/api{path}")))
        .collect();
    assert_eq!(keyed.len(), KEYED_OPERATIONS.len(), "{keyed:?}");
    let template = template().unwrap();
    let mut checked = 0;
    for (name, resource) in template["Resources"].as_mapping().unwrap() {
        let api = &resource["Properties"]["Events"]["Api"]["Properties"];
        let route = (
            api["Method"].as_str().unwrap_or_default().to_owned(),
            api["Path"].as_str().unwrap_or_default().to_owned(),
        );
        if !keyed.contains(&route) {
            continue;
        }
        checked += 1;
        let deletes: Vec<_> = resource["Properties"]["Policies"][0]["Statement"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter(|statement| {
                statement["Action"]
                    .as_sequence()
                    .unwrap()
                    .iter()
                    .any(|action| action.as_str() == Some("dynamodb:DeleteItem"))
            })
            .collect();
        assert_eq!(deletes.len(), 1, "{name:?} releases keys in one statement");
        let leading = deletes[0]["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{name:?} may delete any item"));
        let expected = if route.1 == "/api/users" {
            "IDEMPOTENCY#ANONYMOUS#*"
        } else {
            "IDEMPOTENCY#USER#*"
        };
        assert_eq!(leading.len(), 1, "{name:?}");
        assert_eq!(leading[0].as_str(), Some(expected), "{name:?}");
    }
    assert_eq!(checked, KEYED_OPERATIONS.len());
}

#[test]
fn the_indexes_project_what_the_store_counts_their_writes_by() {
    let template = template().unwrap();
    let indexes = template["Resources"]["Table"]["Properties"]["GlobalSecondaryIndexes"]
        .as_sequence()
        .unwrap();
    let shapes = &conduit::store::indexes::SHAPES;
    assert_eq!(indexes.len(), shapes.len());
    for (index, shape) in indexes.iter().zip(shapes) {
        assert_eq!(index["IndexName"].as_str(), Some(shape.name));
        let keys: Vec<&str> = index["KeySchema"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|k| k["AttributeName"].as_str().unwrap())
            .collect();
        assert_eq!(keys, shape.keys, "{}", shape.name);
        assert_eq!(
            index["Projection"]["ProjectionType"].as_str(),
            Some("INCLUDE")
        );
        let projected: Vec<&str> = index["Projection"]["NonKeyAttributes"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(projected, shape.projected, "{}", shape.name);
    }
}

#[test]
fn every_get_route_has_the_read_throttle_and_every_other_the_write_default() {
    let template = template().unwrap();
    let api = &template["Resources"]["Api"]["Properties"];
    let reference = |value: &serde_yaml::Value| ref_name(value);
    assert_eq!(
        reference(&api["DefaultRouteSettings"]["ThrottlingRateLimit"]).as_deref(),
        Some("ThrottleRateLimit")
    );
    let settings = api["RouteSettings"].as_mapping().unwrap();
    for route in routes().unwrap() {
        let key = format!("{} {}", route.method, route.path);
        let limit = settings
            .get(key.as_str())
            .map(|s| reference(&s["ThrottlingRateLimit"]).unwrap());
        match (route.method.as_str(), route.path.as_str()) {
            ("GET", _) => assert_eq!(limit.as_deref(), Some("ReadThrottleRateLimit"), "{key}"),
            ("POST", "/api/users" | "/api/users/login") => {
                assert_eq!(limit.as_deref(), Some("AuthThrottleRateLimit"), "{key}")
            }
            _ => assert_eq!(limit, None, "{key}: writes take the default"),
        }
    }
}

#[test]
fn exactly_the_functions_that_write_have_capped_reserved_concurrency() {
    let template = template().unwrap();
    let resources = template["Resources"].as_mapping().unwrap();
    let mut capped = 0;
    for (name, resource) in resources {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let method = resource["Properties"]["Events"]["Api"]["Properties"]["Method"].as_str();
        let reserved = &resource["Properties"]["ReservedConcurrentExecutions"];
        match method {
            Some("GET") | None => assert!(reserved.is_null(), "{name:?}: reads share the pool"),
            Some(_) => {
                let rendered = serde_yaml::to_string(reserved).unwrap();
                assert!(
                    rendered.contains("CapWrites") && rendered.contains("WriteConcurrencyLimit"),
                    "{name:?}: {rendered}"
                );
                capped += 1;
            }
        }
    }
    assert_eq!(capped, 13);
}

#[test]
fn the_table_and_every_index_have_on_demand_maxima_from_the_parameters() {
    let template = template().unwrap();
    let table = &template["Resources"]["Table"]["Properties"];
    let check = |where_: &str, value: &serde_yaml::Value| {
        assert_eq!(
            ref_name(&value["MaxReadRequestUnits"]).as_deref(),
            Some("TableMaxReadUnits"),
            "{where_}"
        );
        assert_eq!(
            ref_name(&value["MaxWriteRequestUnits"]).as_deref(),
            Some("TableMaxWriteUnits"),
            "{where_}"
        );
    };
    check("table", &table["OnDemandThroughput"]);
    for index in table["GlobalSecondaryIndexes"].as_sequence().unwrap() {
        check(
            index["IndexName"].as_str().unwrap(),
            &index["OnDemandThroughput"],
        );
    }
}

#[test]
fn the_limit_parameters_default_to_what_the_capacity_model_sizes() {
    use conduit_tests::capacity::limits;
    let template = template().unwrap();
    let default = |name: &str| {
        template["Parameters"][name]["Default"]
            .as_f64()
            .unwrap_or_else(|| panic!("parameter {name} has no numeric default"))
    };
    for (name, modelled) in [
        ("ReadThrottleRateLimit", limits::READ_ROUTE),
        ("ThrottleRateLimit", limits::WRITE_ROUTE),
        ("AuthThrottleRateLimit", limits::AUTH_ROUTE),
        ("WriteConcurrencyLimit", limits::WRITE_CONCURRENCY),
        ("TableMaxReadUnits", limits::TABLE_READ_UNITS),
        ("TableMaxWriteUnits", limits::TABLE_WRITE_UNITS),
    ] {
        assert_eq!(default(name), modelled, "{name}");
    }
}

/// `sam deploy` with no flags: samconfig.toml's capabilities are exactly what
/// the template needs. IAM roles (every function's, unnamed) need
/// CAPABILITY_IAM, a named IAM resource would need CAPABILITY_NAMED_IAM
/// instead, and the SAM transform needs CAPABILITY_AUTO_EXPAND.
#[test]
fn samconfig_deploys_with_no_flags_and_the_capabilities_the_template_needs() {
    let config = std::fs::read_to_string(workspace_root().join("samconfig.toml")).unwrap();
    // One quoted value per key: read by hand rather than with a TOML crate
    // that no binary needs.
    let value = |key: &str| -> Option<String> {
        config
            .lines()
            .filter_map(|line| line.split_once('='))
            .find(|(k, _)| k.trim() == key)
            .map(|(_, v)| v.trim().trim_matches('"').to_owned())
    };
    assert!(config.contains("[default.deploy.parameters]"));
    assert!(value("stack_name").is_some_and(|s| !s.is_empty()));
    assert_eq!(value("resolve_s3").as_deref(), Some("true"));
    let mut declared: Vec<String> = value("capabilities")
        .unwrap()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    declared.sort();
    let template = template().unwrap();
    let resources = template["Resources"].as_mapping().unwrap();
    let roles = resources.values().any(|r| {
        r["Type"].as_str() == Some("AWS::Serverless::Function")
            || r["Type"]
                .as_str()
                .is_some_and(|t| t.starts_with("AWS::IAM::"))
    });
    let named = resources.values().any(|r| {
        r["Type"]
            .as_str()
            .is_some_and(|t| t.starts_with("AWS::IAM::"))
            && ["RoleName", "UserName", "GroupName", "ManagedPolicyName"]
                .iter()
                .any(|name| !r["Properties"][*name].is_null())
    });
    let mut needed = Vec::new();
    if !template["Transform"].is_null() {
        needed.push("CAPABILITY_AUTO_EXPAND".to_owned());
    }
    match (roles, named) {
        (_, true) => needed.push("CAPABILITY_NAMED_IAM".to_owned()),
        (true, false) => needed.push("CAPABILITY_IAM".to_owned()),
        _ => {}
    }
    needed.sort();
    assert_eq!(declared, needed);
}
