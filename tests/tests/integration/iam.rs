//! Least privilege against the calls made: every handler the tests invoke
//! fails its test on a DynamoDB request its function's policy does not allow
//! (`conduit_tests::iam`); here, that the check bites, and that no grant is
//! wider than what some test used, or is listed below with its reason.

use std::collections::BTreeSet;

use conduit_tests::iam::policy::string_like;
use conduit_tests::iam::{self, Access, Granted, Resource, policies};
use conduit_tests::{TestApi, request_from_event};
use futures::FutureExt;
use serde_json::json;

/// Grants no test uses, and why each is still needed. A grant is written as
/// `function dynamodb:Action resource [leading-key pattern]`; `*` and `?`
/// match as in IAM.
const UNUSED_WITH_REASON: &[(&str, &str)] = &[
    (
        "register dynamodb:GetItem table USERNAME#*",
        "a registration whose transaction lost a race reads the claims to answer \
         409 at once (store/users.rs); the fifty-registration races reach it only \
         when DynamoDB Local reports a conflict",
    ),
    (
        "register dynamodb:GetItem table EMAIL#*",
        "as USERNAME#*: the claims read after a lost race",
    ),
    (
        "unfavorite_article dynamodb:PutItem table ARTICLE#*",
        "a favorite transaction slower than shards::HOT_AFTER puts the article's \
         count shards (store/favorites.rs); the favorite races reach it only \
         when the emulator is slow enough",
    ),
    (
        "register dynamodb:DeleteItem table IDEMPOTENCY#ANONYMOUS#*",
        "giving up an idempotency key after an error answer: the one code path \
         (idempotency::within) the idempotency tests exercise through follow_user, \
         favorite_article and create_article",
    ),
    (
        "add_comment dynamodb:DeleteItem table IDEMPOTENCY#USER#*",
        "giving up an idempotency key after an error answer: the one code path \
         (idempotency::within) the idempotency tests exercise through follow_user, \
         favorite_article and create_article",
    ),
];

/// Whether `function`'s binary warms its DynamoDB connection up during init:
/// every function whose main runs an authenticating app (`App` builds the
/// store and warms it up); `run_public` (GetTags) and `run_stateless` do not.
fn warms_up(function: &str) -> bool {
    let main = conduit_tests::workspace_root().join(format!("functions/{function}/src/main.rs"));
    let main = std::fs::read_to_string(&main).unwrap_or_else(|e| panic!("{main:?}: {e}"));
    [
        "lambda::run(",
        "lambda::run_signing(",
        "lambda::run_hashing(",
    ]
    .iter()
    .any(|runner| main.contains(runner))
}

#[tokio::test]
async fn every_functions_init_warm_up_is_allowed_by_its_policy() {
    let api = TestApi::new().await;
    let routes = conduit_tests::routes().expect("template routes");
    let mut warming = 0;
    for route in &routes {
        if warms_up(&route.function) {
            iam::attributed(&route.function, api.app.store.warm_up()).await;
            warming += 1;
        }
    }
    assert!(
        !warms_up("get_tags") && warming >= 19,
        "{warming} functions warm up"
    );
}

#[test]
fn every_dynamodb_statement_of_the_template_is_read() {
    // Counted from the raw YAML, apart from the parser.
    let template = conduit_tests::template().expect("template.yaml");
    let mut raw = 0;
    for (_, resource) in template["Resources"].as_mapping().expect("Resources") {
        for policy in resource["Properties"]["Policies"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            for statement in policy["Statement"].as_sequence().into_iter().flatten() {
                let actions = serde_yaml::to_string(&statement["Action"]).unwrap();
                raw += usize::from(actions.contains("dynamodb:"));
            }
        }
    }
    let read: usize = policies().0.values().map(Vec::len).sum();
    assert_eq!(read, raw, "statements granting DynamoDB actions");
    assert!(raw >= 20, "{raw} statements");
}

#[test]
fn every_table_grant_names_its_partitions_and_every_query_its_index() {
    for (function, statements) in &policies().0 {
        for statement in statements {
            if statement.resources.contains(&Granted::Table) {
                assert!(
                    statement.leading_keys.is_some(),
                    "{function}: {:?} on the table without a dynamodb:LeadingKeys condition",
                    statement.actions
                );
            }
            assert!(
                !statement.resources.contains(&Granted::AnyIndex),
                "{function}: index/* where it could name the index"
            );
        }
    }
}

#[tokio::test]
async fn a_request_outside_the_functions_policy_fails_the_invocation_that_made_it() {
    let api = TestApi::new().await;
    let event = conduit_tests::event(
        "POST",
        "/api/users",
        "/api/users",
        Some(
            &json!({"user": {"username": "iam", "email": "iam@example.com", "password": "a long password"}}),
        ),
        None,
    );
    // Registration's requests, attributed to GetTags, which may only query
    // the tag index.
    let registering = conduit::api::register::handle(&api.app, request_from_event(&event));
    let outcome = std::panic::AssertUnwindSafe(iam::attributed("get_tags", registering))
        .catch_unwind()
        .await;
    let panic = outcome.expect_err("GetTags may not register a user");
    let message = panic
        .downcast_ref::<String>()
        .expect("a formatted panic message");
    assert!(
        message.contains("does not allow get_tags") && message.contains("PutItem"),
        "{message}"
    );
}

#[test]
fn a_grant_allows_the_partitions_it_names_and_no_others() {
    // GetCurrentUser reads its caller's user item, nothing of another kind.
    let get = |pk: &str| Access {
        action: "GetItem",
        resource: Resource::Table,
        leading_keys: vec![pk.to_owned()],
    };
    let policies = policies();
    assert!(
        !policies
            .allowing("get_current_user", &get("USER#1"))
            .is_empty()
    );
    assert!(
        policies
            .allowing("get_current_user", &get("LOGIN#a@example.com"))
            .is_empty()
    );
}

/// Run after the other tests (`scripts/test.sh` does, with `--ignored`):
/// reads the grants they recorded as used.
#[test]
#[ignore = "reads what the other integration tests recorded; scripts/test.sh runs it after them"]
fn every_grant_is_used_by_a_test_or_listed_with_a_reason() {
    let used = iam::recorded_used().unwrap_or_else(|e| {
        panic!(
            "no grants recorded under {:?} ({e}): run the integration tests first \
             (`cargo test -p conduit-tests --test integration`)",
            iam::used_dir()
        )
    });
    let grants: BTreeSet<String> = policies().grants().iter().map(|g| g.to_string()).collect();
    let unused: Vec<&String> = grants.iter().filter(|g| !used.contains(*g)).collect();
    let reason = |grant: &str| {
        UNUSED_WITH_REASON
            .iter()
            .find(|(pattern, _)| string_like(pattern, grant))
    };
    let unexplained: Vec<&&String> = unused.iter().filter(|g| reason(g).is_none()).collect();
    // A listed entry must still stand for a grant. (It may be used in some
    // runs: the paths taken only when a transaction loses a race are.)
    let stale: Vec<&str> = UNUSED_WITH_REASON
        .iter()
        .map(|(pattern, _)| *pattern)
        .filter(|pattern| !grants.iter().any(|g| string_like(pattern, g)))
        .collect();
    assert!(
        unexplained.is_empty(),
        "grants in template.yaml no test used; remove them, or list each with its reason: {unexplained:#?}"
    );
    assert!(
        stale.is_empty(),
        "listed with a reason, but template.yaml has no such grant: {stale:#?}"
    );
    println!(
        "{} DynamoDB grants: {} used by the tests, {} listed with a reason",
        grants.len(),
        grants.len() - unused.len(),
        unused.len()
    );
}
