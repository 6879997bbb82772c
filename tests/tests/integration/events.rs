//! Every `events/*.json` parses as an API Gateway v2 event on its template
//! route and, run through its function's handler, returns what it promises.

use conduit_tests::{dispatch, events, read, routes, seed, test_app, workspace_root};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_parses_and_its_handler_answers_as_promised() {
    let app = test_app().await;
    seed::seed(&app).await.expect("seeded");
    let routes = routes().unwrap();
    let dir = workspace_root().join("events");
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        // events/key_ring/: CloudFormation's requests (tests/integration/key_ring.rs).
        if path.is_dir() {
            continue;
        }
        let function = path.file_stem().unwrap().to_str().unwrap().to_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let raw: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let route = routes
            .iter()
            .find(|r| r.function == function)
            .unwrap_or_else(|| panic!("{path:?} names no function of template.yaml"));
        assert_eq!(
            raw["routeKey"],
            format!("{} {}", route.method, route.path),
            "{path:?}"
        );
        let filled = events::fill(&app, &text).await.unwrap();
        let request =
            lambda_http::request::from_str(&filled).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let (status, body) = read(dispatch(&app, &function, request).await);
        let (expected, keys) = events::expectation(&function).expect("an expectation per function");
        assert_eq!(status, expected, "{function}: {body}");
        for key in keys {
            assert!(body.get(key).is_some(), "{function}: no {key} in {body}");
        }
        seen.push(function);
    }
    seen.sort();
    let mut all: Vec<String> = routes.into_iter().map(|r| r.function).collect();
    all.sort();
    assert_eq!(seen, all, "every function has exactly one event");
}
