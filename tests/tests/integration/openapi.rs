//! `GET /api/openapi.json`: served through its handler, compatible with the
//! RealWorld spec (`../shared/realworld/openapi.yml`), covering exactly the
//! template's routes, and cacheable by anyone.

use std::collections::BTreeSet;

use conduit_tests::TestApi;
use conduit_tests::openapi::{incompatibilities, spec_path};
use serde_json::Value;

/// The RealWorld spec as JSON; `None` (with a line saying so) when the
/// handout folder is absent outside CI. In CI its absence fails the test.
fn realworld_spec() -> Option<Value> {
    let path = spec_path();
    match std::fs::read_to_string(&path) {
        Ok(text) => Some(serde_yaml::from_str(&text).expect("the spec is valid YAML")),
        Err(error) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!(
                "SKIPPED: the RealWorld spec is not at {} ({error}); set REALWORLD_SUITE to the \
                 folder holding openapi.yml (README, 'Conformance suite')",
                path.display()
            );
            None
        }
        Err(error) => panic!(
            "the RealWorld spec is required in CI: {}: {error}",
            path.display()
        ),
    }
}

async fn served(api: &TestApi) -> Value {
    api.expect("GET", "/api/openapi.json", None, None, 200)
        .await
}

#[tokio::test]
async fn the_served_document_is_compatible_with_the_realworld_spec() {
    let Some(spec) = realworld_spec() else {
        return;
    };
    let ours = served(&TestApi::new().await).await;
    assert_eq!(ours["openapi"], "3.1.0");
    assert_eq!(ours["servers"][0]["url"], "/api");
    let problems = incompatibilities(&spec, &ours, "");
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test]
async fn the_check_finds_what_a_broken_document_lacks() {
    let Some(spec) = realworld_spec() else {
        return;
    };
    let mut ours = served(&TestApi::new().await).await;
    ours["paths"]["/articles/{slug}"]
        .as_object_mut()
        .unwrap()
        .remove("delete");
    ours["components"]["schemas"]["User"]["required"] = serde_json::json!(["email", "token"]);
    let problems = incompatibilities(&spec, &ours, "");
    assert!(
        problems.contains(&"DELETE /articles/{slug}: missing".to_owned()),
        "{problems:#?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.ends_with("user.bio: must be required")),
        "{problems:#?}"
    );
}

#[tokio::test]
async fn the_document_lists_exactly_the_templates_routes_and_our_extensions() {
    let api = TestApi::new().await;
    let ours = served(&api).await;
    let documented: BTreeSet<String> = ours["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .map(move |method| format!("{} /api{path}", method.to_uppercase()))
        })
        .collect();
    let routed: BTreeSet<String> = conduit_tests::routes()
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(documented, routed);
    let operation = |path: &str, method: &str| ours["paths"][path][method].clone();
    let header_names = |op: &Value| -> Vec<String> {
        op["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["in"] == "header")
            .map(|p| p["name"].as_str().unwrap().to_owned())
            .collect()
    };
    // By operation id, as the conventions find them: a name in the lists
    // that matches no operation would silently document nothing.
    let by_id = |id: &str| -> Value {
        conduit_tests::openapi::operations(&ours)
            .into_iter()
            .find(|(_, _, op)| op["operationId"] == id)
            .unwrap_or_else(|| panic!("no operation {id}"))
            .2
            .clone()
    };
    for id in conduit::openapi::KEYED_OPERATIONS {
        let keyed = by_id(id);
        assert!(
            header_names(&keyed).contains(&"Idempotency-Key".to_owned()),
            "{id}"
        );
        let success = keyed["responses"]
            .as_object()
            .unwrap()
            .iter()
            .find(|(status, _)| status.starts_with('2'))
            .unwrap()
            .1;
        assert!(
            success["headers"]["idempotent-replayed"].is_object(),
            "{id}"
        );
        for status in ["400", "409", "422"] {
            assert!(keyed["responses"][status].is_object(), "{id} {status}");
        }
        assert!(
            keyed["responses"]["409"]["headers"]["Retry-After"].is_object(),
            "{id}"
        );
    }
    for id in conduit::openapi::IF_MATCH_OPERATIONS {
        let edit = by_id(id);
        assert!(header_names(&edit).contains(&"If-Match".to_owned()), "{id}");
        assert!(edit["responses"]["412"].is_object(), "{id}");
    }
    let read = operation("/articles/{slug}", "get");
    assert!(header_names(&read).contains(&"If-None-Match".to_owned()));
    assert!(read["responses"]["304"].is_object());
    assert!(read["responses"]["200"]["headers"]["ETag"].is_object());
    assert!(
        operation("/users/login", "post")["responses"]["429"]["description"]
            .as_str()
            .unwrap()
            .contains("API Gateway")
    );
    for status in ["429", "500", "503"] {
        assert!(read["responses"][status].is_object(), "{status}");
    }
    assert!(
        operation("/openapi.json", "get")["responses"]["503"].is_null(),
        "the document depends on nothing"
    );
    assert_eq!(
        ours["components"]["securitySchemes"]["Token"]["name"],
        "Authorization"
    );
}

#[tokio::test]
async fn the_document_is_public_cacheable_and_revalidated_with_its_etag() {
    let api = TestApi::new().await;
    let first = api.respond("GET", "/api/openapi.json", None, None).await;
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["cache-control"], "public, max-age=300");
    let tag = first.headers()["etag"].to_str().unwrap().to_owned();
    let again = api
        .respond_with(
            "GET",
            "/api/openapi.json",
            None,
            None,
            &[("if-none-match", &tag)],
        )
        .await;
    assert_eq!(again.status(), 304);
    assert!(again.body().is_empty());
}
