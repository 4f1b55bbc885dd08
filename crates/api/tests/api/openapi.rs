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
