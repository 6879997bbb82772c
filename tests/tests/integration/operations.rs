//! What an operator relies on, read in `template.yaml`: logs kept for a
//! bounded time, the API's access log, the data that outlives the stack, and
//! the telemetry's settings.

use conduit_tests::{ref_name, template};
use serde_yaml::Value;

fn resources() -> serde_yaml::Mapping {
    template().unwrap()["Resources"]
        .as_mapping()
        .unwrap()
        .clone()
}

/// The resource a `!GetAtt` reads from.
fn get_att_resource(value: &Value) -> Option<String> {
    match value {
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => tagged
            .value
            .as_str()
            .and_then(|s| s.split('.').next())
            .map(str::to_owned),
        _ => None,
    }
}

#[test]
fn every_function_logs_to_a_group_of_its_own_kept_for_the_retention_parameter() {
    let template = template().unwrap();
    let parameter = &template["Parameters"]["LogRetentionDays"];
    assert_eq!(parameter["Default"].as_u64(), Some(30));
    let resources = resources();
    let mut groups = Vec::new();
    for (name, resource) in &resources {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let group = ref_name(&resource["Properties"]["LoggingConfig"]["LogGroup"])
            .unwrap_or_else(|| panic!("{name:?} has no log group of its own"));
        let log_group = &resources[group.as_str()];
        assert_eq!(log_group["Type"].as_str(), Some("AWS::Logs::LogGroup"));
        assert_eq!(
            ref_name(&log_group["Properties"]["RetentionInDays"]).as_deref(),
            Some("LogRetentionDays"),
            "{group}"
        );
        groups.push(group);
    }
    let count = groups.len();
    groups.sort();
    groups.dedup();
    assert_eq!(groups.len(), count, "two functions share a log group");
}

#[test]
fn the_api_writes_json_access_logs_with_what_an_operator_needs_to_its_own_group() {
    let resources = resources();
    let settings = &resources["Api"]["Properties"]["AccessLogSettings"];
    let group = get_att_resource(&settings["DestinationArn"]).expect("a log group of the template");
    assert_eq!(
        ref_name(&resources[group.as_str()]["Properties"]["RetentionInDays"]).as_deref(),
        Some("LogRetentionDays")
    );
    let format: serde_json::Value =
        serde_json::from_str(settings["Format"].as_str().unwrap()).expect("the format is JSON");
    let fields: Vec<&str> = format
        .as_object()
        .unwrap()
        .values()
        .filter_map(|v| v.as_str())
        .collect();
    for variable in [
        "$context.requestId",
        "$context.identity.sourceIp",
        "$context.routeKey",
        "$context.status",
        "$context.responseLatency",
        "$context.integrationLatency",
        "$context.integrationErrorMessage",
    ] {
        assert!(
            fields.contains(&variable),
            "the access log lacks {variable}"
        );
    }
}

#[test]
fn the_table_cannot_be_deleted_and_outlives_the_stack_with_its_key_ring() {
    let resources = resources();
    let table = &resources["Table"];
    assert_eq!(
        table["Properties"]["DeletionProtectionEnabled"].as_bool(),
        Some(true)
    );
    // Kept when the stack goes or replaces them; a first create that rolls
    // back leaves nothing behind.
    for name in ["Table", "KeyRingSecret"] {
        let resource = &resources[name];
        assert_eq!(
            resource["DeletionPolicy"].as_str(),
            Some("RetainExceptOnCreate"),
            "{name}"
        );
        assert_eq!(
            resource["UpdateReplacePolicy"].as_str(),
            Some("Retain"),
            "{name}"
        );
    }
}

/// Lambda files a JSON line without a level as INFO: an application level
/// above INFO would drop the EMF documents, so the levels are pinned.
#[test]
fn log_levels_are_pinned_where_the_metrics_survive_and_tracing_has_a_parameter() {
    let template = template().unwrap();
    let function = &template["Globals"]["Function"];
    let logging = &function["LoggingConfig"];
    assert_eq!(logging["ApplicationLogLevel"].as_str(), Some("INFO"));
    assert_eq!(logging["SystemLogLevel"].as_str(), Some("INFO"));
    assert_eq!(
        ref_name(&function["Tracing"]).as_deref(),
        Some("TracingMode")
    );
    let mode = &template["Parameters"]["TracingMode"];
    assert_eq!(mode["Default"].as_str(), Some("Active"));
    let allowed: Vec<&str> = mode["AllowedValues"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(allowed, ["Active", "PassThrough"]);
    for (name, resource) in resources() {
        let level = &resource["Properties"]["LoggingConfig"]["ApplicationLogLevel"];
        assert!(level.is_null(), "{name:?} overrides the pinned level");
    }
}
