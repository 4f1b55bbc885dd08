//! The OpenAPI document is generated from the routes; this snapshot makes every change to the
//! API visible in review. Refresh it with `UPDATE_SNAPSHOTS=1 cargo test -p beacon-api openapi`
//! (or `cargo xtask openapi`), then regenerate the web client.

#[test]
fn openapi_snapshot_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi.json");
    let current = beacon_api::openapi::document() + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, &current).unwrap();
        return;
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == current,
        "crates/api/openapi.json is stale: run `cargo xtask openapi` and commit the result"
    );
}

#[test]
fn every_operation_is_documented_with_its_errors() {
    let doc: serde_json::Value = serde_json::from_str(&beacon_api::openapi::document()).unwrap();
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 15, "{}", paths.len());
    let mut ids = std::collections::HashSet::new();
    for (path, operations) in paths {
        for (method, operation) in operations.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path}");
            // The web client's types are keyed by operation id: two handlers of one name
            // would give one of them the other's request and response types.
            let id = operation["operationId"].as_str().unwrap_or_default().to_owned();
            assert!(ids.insert(id.clone()), "{method} {path}: operation id {id} is taken");
            assert!(operation["tags"].is_array(), "{method} {path} has no tag");
        }
    }
    for contract in [
        "/healthz",
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/units",
        "/api/v1/users",
        "/api/v1/audit",
        "/api/v1/events",
    ] {
        assert!(paths.contains_key(contract), "{contract} missing");
    }
}

#[test]
fn every_reference_resolves() {
    fn walk(value: &serde_json::Value, doc: &serde_json::Value, missing: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(reference) = map.get("$ref").and_then(|r| r.as_str()) {
                    let pointer = reference.trim_start_matches('#');
                    if doc.pointer(pointer).is_none() {
                        missing.push(reference.to_owned());
                    }
                }
                map.values().for_each(|v| walk(v, doc, missing));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, doc, missing)),
            _ => {}
        }
    }
    let doc: serde_json::Value = serde_json::from_str(&beacon_api::openapi::document()).unwrap();
    let mut missing = Vec::new();
    walk(&doc, &doc, &mut missing);
    assert!(missing.is_empty(), "unresolved: {missing:?}");
}

/// The document describes what the server does: the refusals its extractors and layers send
/// (schemathesis reads an undocumented status as a broken contract), and paging as it is checked.
#[test]
fn every_refusal_the_server_sends_is_documented() {
    let doc: serde_json::Value = serde_json::from_str(&beacon_api::openapi::document()).unwrap();
    let global = doc["security"].as_array().is_some_and(|s| !s.is_empty());
    let mut paging = 0;
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, operation) in operations.as_object().unwrap() {
            let what = format!("{method} {path}");
            let responses = operation["responses"].as_object().unwrap();
            let lists = |status: &str| responses.contains_key(status);
            let parameters = operation["parameters"].as_array().cloned().unwrap_or_default();
            if operation.get("requestBody").is_some() {
                for status in ["400", "413", "415", "422"] {
                    assert!(lists(status), "{what} takes a body but does not list {status}");
                }
            }
            let secured = match operation.get("security") {
                Some(security) => security.as_array().is_some_and(|s| {
                    !s.is_empty() && s.iter().all(|r| r.as_object().is_some_and(|r| !r.is_empty()))
                }),
                None => global,
            };
            if secured {
                assert!(
                    lists("401") && lists("403"),
                    "{what} needs a session but lists no 401/403"
                );
            } else if method != "get" {
                assert!(lists("403"), "{what} is a write without 403 csrf_rejected");
            }
            if parameters.iter().any(|p| p["in"] == "path") {
                assert!(lists("404"), "{what} names a record but lists no 404");
            }
            if parameters.iter().any(|p| p["in"] == "query") {
                assert!(lists("422"), "{what} reads query parameters but lists no 422");
            }
            for parameter in &parameters {
                let schema = &parameter["schema"];
                match parameter["name"].as_str() {
                    Some("page") => {
                        assert_eq!(schema["minimum"], 1, "{what}: page");
                        paging += 1;
                    }
                    Some("per_page") => {
                        assert_eq!(schema["minimum"], 1, "{what}: per_page");
                        assert_eq!(schema["maximum"], 200, "{what}: per_page");
                    }
                    _ => {}
                }
            }
        }
    }
    assert!(paging >= 5, "{paging} paged lists");
    // The standard responses resolve to the error body.
    let responses = doc["components"]["responses"].as_object().unwrap();
    for response in responses.values() {
        assert_eq!(
            response["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/ErrorBody"
        );
    }
    // The duty-log create body takes the unit the handler reads, and nothing unknown.
    let create = &doc["components"]["schemas"]["CreateLogEntry"];
    assert!(create["properties"]["unit"].is_object(), "{create}");
    assert_eq!(create["additionalProperties"], false);
}
