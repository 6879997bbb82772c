//! Compares our OpenAPI document with the RealWorld spec's: every path,
//! method, parameter, status code and schema of the spec must be in ours and
//! compatible with it. "Compatible" is what a client written against the
//! spec needs: every response we send is one the spec allows (our types a
//! subset of its, its required fields required in ours, date-times as
//! date-times), and every request the spec allows we accept (its types a
//! subset of ours, nothing required by us that it leaves optional). Extra
//! paths, statuses, headers and properties of ours are extensions, not
//! incompatibilities.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{Map, Value};

/// Where the RealWorld spec is: `$REALWORLD_SUITE/openapi.yml`, by default
/// the team's handout folder beside the repository (`../shared/realworld`).
pub fn spec_path() -> PathBuf {
    std::env::var_os("REALWORLD_SUITE")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("../shared/realworld"))
        .join("openapi.yml")
}

const METHODS: [&str; 5] = ["get", "put", "post", "delete", "patch"];

/// Every operation of `document`: its method (upper case), its path, and
/// the operation object.
pub fn operations(document: &Value) -> Vec<(String, &str, &Value)> {
    let Some(paths) = document["paths"].as_object() else {
        return Vec::new();
    };
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS.iter().filter_map(move |method| {
                item.get(*method)
                    .map(|operation| (method.to_uppercase(), path.as_str(), operation))
            })
        })
        .collect()
}

/// Which way a schema is used: we produce responses and consume requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Request,
    Response,
}

/// Every incompatibility of `ours` with `spec`, as a readable line each
/// (empty when compatible). `prefix` is prepended to the spec's paths to find
/// ours (both documents here use the `/api` server, so it is "").
pub fn incompatibilities(spec: &Value, ours: &Value, prefix: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(paths) = spec["paths"].as_object() else {
        return vec!["the spec has no paths".into()];
    };
    for (path, item) in paths {
        let our_path = format!("{prefix}{path}");
        for method in METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let here = format!("{} {our_path}", method.to_uppercase());
            let Some(our_operation) = ours["paths"][&our_path].get(method) else {
                problems.push(format!("{here}: missing"));
                continue;
            };
            let docs = Docs { spec, ours };
            docs.parameters(
                &here,
                item,
                operation,
                &ours["paths"][&our_path],
                our_operation,
                &mut problems,
            );
            docs.request_body(&here, operation, our_operation, &mut problems);
            docs.responses(&here, operation, our_operation, &mut problems);
        }
    }
    problems
}

/// The two documents, for resolving each one's `$ref`s in itself.
struct Docs<'a> {
    spec: &'a Value,
    ours: &'a Value,
}

impl Docs<'_> {
    fn parameters(
        &self,
        here: &str,
        item: &Value,
        operation: &Value,
        our_item: &Value,
        our_operation: &Value,
        problems: &mut Vec<String>,
    ) {
        let ours: Vec<&Value> = listed(our_item, "parameters")
            .chain(listed(our_operation, "parameters"))
            .map(|p| resolve(self.ours, p))
            .collect();
        for parameter in listed(item, "parameters").chain(listed(operation, "parameters")) {
            let parameter = resolve(self.spec, parameter);
            let (name, place) = (text(&parameter["name"]), text(&parameter["in"]));
            let found = ours.iter().find(|p| {
                text(&p["in"]) == place
                    && if place == "header" {
                        text(&p["name"]).eq_ignore_ascii_case(name)
                    } else {
                        text(&p["name"]) == name
                    }
            });
            match found {
                None => problems.push(format!("{here}: {place} parameter {name} missing")),
                Some(our) => {
                    let required = |p: &Value| p["required"].as_bool().unwrap_or(false);
                    if required(parameter) && !required(our) {
                        problems.push(format!("{here}: {place} parameter {name} must be required"));
                    }
                    if required(our) && !required(parameter) {
                        problems.push(format!(
                            "{here}: {place} parameter {name} is optional in the spec"
                        ));
                    }
                }
            }
        }
    }

    fn request_body(
        &self,
        here: &str,
        operation: &Value,
        our_operation: &Value,
        problems: &mut Vec<String>,
    ) {
        let Some(body) = operation.get("requestBody") else {
            return;
        };
        let body = resolve(self.spec, body);
        let Some(schema) = json_schema(body) else {
            return;
        };
        let our_body = our_operation
            .get("requestBody")
            .map(|b| resolve(self.ours, b));
        match our_body.and_then(json_schema) {
            None => problems.push(format!("{here}: no JSON request body")),
            Some(our_schema) => self.compatible(
                &format!("{here} request"),
                schema,
                our_schema,
                Direction::Request,
                0,
                problems,
            ),
        }
    }

    fn responses(
        &self,
        here: &str,
        operation: &Value,
        our_operation: &Value,
        problems: &mut Vec<String>,
    ) {
        let Some(responses) = operation["responses"].as_object() else {
            return;
        };
        for (status, response) in responses {
            let Some(our) = our_operation["responses"].get(status) else {
                problems.push(format!("{here}: status {status} missing"));
                continue;
            };
            let Some(schema) = json_schema(resolve(self.spec, response)) else {
                continue;
            };
            match json_schema(resolve(self.ours, our)) {
                None => problems.push(format!("{here} {status}: no JSON body")),
                Some(our_schema) => self.compatible(
                    &format!("{here} {status}"),
                    schema,
                    our_schema,
                    Direction::Response,
                    0,
                    problems,
                ),
            }
        }
    }

    /// Whether `ours` can stand where the spec says `spec`, in `direction`.
    fn compatible(
        &self,
        at: &str,
        spec: &Value,
        ours: &Value,
        direction: Direction,
        depth: usize,
        problems: &mut Vec<String>,
    ) {
        // The spec's schemas are shallow; this only stops a recursive $ref.
        if depth > 16 {
            return;
        }
        let spec = Shape::of(self.spec, spec);
        let ours = Shape::of(self.ours, ours);
        let (allowed, sent) = match direction {
            Direction::Response => (&spec.types, &ours.types),
            Direction::Request => (&ours.types, &spec.types),
        };
        // An absent type allows anything.
        if !allowed.is_empty() {
            let outside: Vec<&String> = sent.iter().filter(|t| !admits(allowed, t)).collect();
            if sent.is_empty() || !outside.is_empty() {
                problems.push(format!(
                    "{at}: type {} where the spec says {}",
                    listing(&ours.types),
                    listing(&spec.types)
                ));
            }
        }
        if let Some(format) = spec.format.as_deref()
            && format == "date-time"
            && ours.format.as_deref() != Some(format)
        {
            problems.push(format!("{at}: format {format} missing"));
        }
        for (name, schema) in &spec.properties {
            let here = format!("{at}.{name}");
            match ours.properties.get(name) {
                None => problems.push(format!("{here}: missing")),
                Some(our) => self.compatible(&here, schema, our, direction, depth + 1, problems),
            }
        }
        let required_by = |shape: &Shape, other: &Shape| -> Vec<String> {
            shape
                .required
                .iter()
                .filter(|name| !other.required.contains(*name))
                .cloned()
                .collect()
        };
        match direction {
            Direction::Response => {
                for name in required_by(&spec, &ours) {
                    problems.push(format!("{at}.{name}: must be required"));
                }
            }
            Direction::Request => {
                for name in required_by(&ours, &spec) {
                    problems.push(format!("{at}.{name}: required, but optional in the spec"));
                }
            }
        }
        if let Some(items) = &spec.items {
            match &ours.items {
                None => problems.push(format!("{at}[]: no items schema")),
                Some(our) => self.compatible(
                    &format!("{at}[]"),
                    items,
                    our,
                    direction,
                    depth + 1,
                    problems,
                ),
            }
        }
        if let Some(values) = &spec.additional {
            match &ours.additional {
                None => problems.push(format!("{at}{{}}: no additionalProperties schema")),
                Some(our) => self.compatible(
                    &format!("{at}{{}}"),
                    values,
                    our,
                    direction,
                    depth + 1,
                    problems,
                ),
            }
        }
    }
}

/// A schema with its `$ref`s resolved and `allOf` merged; a `oneOf`/`anyOf`
/// of one schema and `null` read as that schema, nullable.
#[derive(Debug, Default)]
struct Shape {
    types: BTreeSet<String>,
    format: Option<String>,
    properties: Map<String, Value>,
    required: BTreeSet<String>,
    items: Option<Value>,
    additional: Option<Value>,
}

impl Shape {
    fn of(doc: &Value, schema: &Value) -> Self {
        let mut shape = Self::default();
        shape.merge(doc, schema, 0);
        if shape.types.is_empty() && !shape.properties.is_empty() {
            shape.types.insert("object".into());
        }
        shape
    }

    fn merge(&mut self, doc: &Value, schema: &Value, depth: usize) {
        if depth > 16 {
            return;
        }
        let schema = resolve(doc, schema);
        match &schema["type"] {
            Value::String(t) => {
                self.types.insert(t.clone());
            }
            Value::Array(types) => self.types.extend(types.iter().map(|t| text(t).to_owned())),
            _ => {}
        }
        if let Some(format) = schema["format"].as_str() {
            self.format = Some(format.to_owned());
        }
        if let Some(properties) = schema["properties"].as_object() {
            self.properties.extend(properties.clone());
        }
        self.required
            .extend(listed(schema, "required").map(|r| text(r).to_owned()));
        if let Some(items) = schema.get("items") {
            self.items = Some(items.clone());
        }
        if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
            self.additional = Some(values.clone());
        }
        for part in listed(schema, "allOf") {
            self.merge(doc, part, depth + 1);
        }
        for key in ["oneOf", "anyOf"] {
            for part in listed(schema, key) {
                let part = resolve(doc, part);
                if part["type"] == "null" {
                    self.types.insert("null".into());
                } else {
                    self.merge(doc, part, depth + 1);
                }
            }
        }
    }
}

/// Whether a value of type `t` is one of `allowed` (an integer is a number).
fn admits(allowed: &BTreeSet<String>, t: &str) -> bool {
    allowed.contains(t) || (t == "integer" && allowed.contains("number"))
}

/// `value` with a local `$ref` (`#/components/…`) followed, in `doc`.
fn resolve<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
    let mut value = value;
    for _ in 0..8 {
        let Some(reference) = value["$ref"].as_str() else {
            return value;
        };
        let Some(pointer) = reference.strip_prefix('#') else {
            return value;
        };
        match doc.pointer(pointer) {
            Some(target) => value = target,
            None => return value,
        }
    }
    value
}

/// The `application/json` schema of a request body or response.
fn json_schema(body: &Value) -> Option<&Value> {
    body["content"]
        .as_object()?
        .iter()
        .find(|(media, _)| media.starts_with("application/json"))
        .and_then(|(_, content)| content.get("schema"))
}

fn listed<'a>(value: &'a Value, key: &str) -> impl Iterator<Item = &'a Value> {
    value[key].as_array().into_iter().flatten()
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or_default()
}

fn listing(types: &BTreeSet<String>) -> String {
    if types.is_empty() {
        "(any)".into()
    } else {
        types.iter().cloned().collect::<Vec<_>>().join("|")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Value {
        json!({
            "paths": {
                "/users": {"post": {
                    "requestBody": {"$ref": "#/components/requestBodies/NewUser"},
                    "responses": {"201": {"$ref": "#/components/responses/User"}, "422": {"description": "bad"}}
                }},
                "/articles/{slug}": {"get": {
                    "parameters": [{"name": "slug", "in": "path", "required": true}],
                    "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Article"}}}}}
                }}
            },
            "components": {
                "requestBodies": {"NewUser": {"content": {"application/json": {"schema": {
                    "type": "object", "required": ["user"],
                    "properties": {"user": {"type": "object", "required": ["email"], "properties": {"email": {"type": "string"}, "bio": {"type": "string"}}}}
                }}}}},
                "responses": {"User": {"content": {"application/json": {"schema": {
                    "type": "object", "required": ["user"],
                    "properties": {"user": {"type": "object", "required": ["bio"], "properties": {"bio": {"type": ["string", "null"]}}}}
                }}}}},
                "schemas": {"Article": {"type": "object", "required": ["createdAt", "tagList"], "properties": {
                    "createdAt": {"type": "string", "format": "date-time"},
                    "tagList": {"type": "array", "items": {"type": "string"}}
                }}}
            }
        })
    }

    /// The spec, written the way utoipa writes ours: other component names,
    /// `allOf`, nullable via `oneOf`, extra statuses and properties.
    fn ours() -> Value {
        json!({
            "paths": {
                "/users": {"post": {
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Req"}}}},
                    "responses": {
                        "201": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Res"}}}},
                        "422": {"description": "invalid"},
                        "503": {"description": "later"}
                    }
                }},
                "/articles/{slug}": {"get": {
                    "parameters": [{"name": "slug", "in": "path", "required": true}, {"name": "If-None-Match", "in": "header"}],
                    "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Article"}}}}}
                }}
            },
            "components": {"schemas": {
                "Req": {"type": "object", "required": ["user"], "properties": {"user": {"$ref": "#/components/schemas/NewUser"}}},
                "NewUser": {"type": "object", "required": ["email"], "properties": {"email": {"type": "string"}, "bio": {"type": ["string", "null"]}}},
                "Res": {"type": "object", "required": ["user"], "properties": {"user": {"oneOf": [{"type": "null"}, {"$ref": "#/components/schemas/User"}]}}},
                "User": {"type": "object", "required": ["bio", "token"], "properties": {"bio": {"type": ["string", "null"]}, "token": {"type": "string"}}},
                "Summary": {"type": "object", "required": ["tagList"], "properties": {"tagList": {"type": "array", "items": {"type": "string"}}}},
                "Article": {"allOf": [
                    {"$ref": "#/components/schemas/Summary"},
                    {"type": "object", "required": ["createdAt"], "properties": {"createdAt": {"type": "string", "format": "date-time"}}}
                ]}
            }}
        })
    }

    #[test]
    fn a_document_is_compatible_with_itself() {
        assert_eq!(
            incompatibilities(&spec(), &spec(), ""),
            Vec::<String>::new()
        );
    }

    #[test]
    fn refs_all_of_and_extensions_are_read_through_in_each_document() {
        let mut ours = ours();
        // Nullable where the spec says object: a response we must not send.
        assert_eq!(
            incompatibilities(&spec(), &ours, ""),
            vec!["POST /users 201.user: type null|object where the spec says object"]
        );
        ours["components"]["schemas"]["Res"]["properties"]["user"] =
            json!({"$ref": "#/components/schemas/User"});
        assert_eq!(incompatibilities(&spec(), &ours, ""), Vec::<String>::new());
    }

    #[test]
    fn a_missing_path_method_status_or_parameter_is_reported() {
        let mut ours = ours();
        ours["components"]["schemas"]["Res"]["properties"]["user"] =
            json!({"$ref": "#/components/schemas/User"});
        ours["paths"]["/users"]["post"]["responses"]
            .as_object_mut()
            .unwrap()
            .remove("422");
        ours["paths"]["/articles/{slug}"]["get"]["parameters"] = json!([]);
        let mut problems = incompatibilities(&spec(), &ours, "");
        problems.sort();
        assert_eq!(
            problems,
            vec![
                "GET /articles/{slug}: path parameter slug missing",
                "POST /users: status 422 missing"
            ]
        );
        ours["paths"].as_object_mut().unwrap().remove("/users");
        assert!(incompatibilities(&spec(), &ours, "").contains(&"POST /users: missing".to_owned()));
        let mut moved = incompatibilities(&spec(), &ours, "/api");
        moved.sort();
        assert_eq!(
            moved,
            vec![
                "GET /api/articles/{slug}: missing",
                "POST /api/users: missing"
            ]
        );
    }

    #[test]
    fn a_field_the_spec_requires_in_a_response_must_be_required_in_ours() {
        let mut ours = ours();
        ours["components"]["schemas"]["Res"]["properties"]["user"] =
            json!({"$ref": "#/components/schemas/User"});
        ours["components"]["schemas"]["User"]["required"] = json!(["token"]);
        assert_eq!(
            incompatibilities(&spec(), &ours, ""),
            vec!["POST /users 201.user.bio: must be required"]
        );
    }

    #[test]
    fn a_request_may_not_require_what_the_spec_leaves_optional_or_refuse_its_types() {
        let mut ours = ours();
        ours["components"]["schemas"]["Res"]["properties"]["user"] =
            json!({"$ref": "#/components/schemas/User"});
        ours["components"]["schemas"]["NewUser"]["required"] = json!(["email", "bio"]);
        ours["components"]["schemas"]["NewUser"]["properties"]["email"] =
            json!({"type": "integer"});
        let mut problems = incompatibilities(&spec(), &ours, "");
        problems.sort();
        assert_eq!(
            problems,
            vec![
                "POST /users request.user.bio: required, but optional in the spec",
                "POST /users request.user.email: type integer where the spec says string",
            ]
        );
    }

    #[test]
    fn a_date_time_must_stay_a_date_time_and_arrays_keep_their_items() {
        let mut ours = ours();
        ours["components"]["schemas"]["Res"]["properties"]["user"] =
            json!({"$ref": "#/components/schemas/User"});
        ours["components"]["schemas"]["Article"]["allOf"][1]["properties"]["createdAt"] =
            json!({"type": "string"});
        ours["components"]["schemas"]["Summary"]["properties"]["tagList"] =
            json!({"type": "array", "items": {"type": "integer"}});
        let mut problems = incompatibilities(&spec(), &ours, "");
        problems.sort();
        assert_eq!(
            problems,
            vec![
                "GET /articles/{slug} 200.createdAt: format date-time missing",
                "GET /articles/{slug} 200.tagList[]: type integer where the spec says string",
            ]
        );
    }
}
