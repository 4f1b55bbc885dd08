//! Bad input never produces a 500: every operation of the OpenAPI document gets malformed and
//! hostile bodies and parameters, from a signed-in administrator of each kind.

use axum::body::Body;
use axum::http::{Method, Request, header};
use beacon_core::org::Role;
use beacon_store::backend_tests;

use crate::{Session, TestApp};

const BODIES: &[&str] = &[
    "",
    "null",
    "[]",
    "\"text\"",
    "{}",
    "{\"a\":",
    "{\"name\": 1e999}",
    "{\"username\": null, \"password\": null}",
    "{\"parent_id\": \"x\", \"code\": \"\\u0000\", \"name\": \"\\ud800\", \"level\": \"city\"}",
    "{\"roles\": [\"system_admin\", \"system_admin\"], \"unit_id\": [], \"password\": {}}",
    "{\"boundary\": {\"type\": \"Polygon\", \"coordinates\": [[[1e308, -1e308]]]}}",
    "{\"sort_order\": 9223372036854775808, \"expires_at\": \"not a date\"}",
    "{\"username\": \"a\\u0000b\", \"password\": \"x\\u0000\", \"name\": \"\\u0000\", \"display_name\": \"\\u0000\"}",
];

fn paths(doc: &serde_json::Value, id: &str) -> Vec<(Method, String)> {
    let mut out = Vec::new();
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for method in operations.as_object().unwrap().keys() {
            let method: Method = method.to_uppercase().parse().unwrap();
            let path = path.replace("{id}", id).replace("{username}", "someone");
            out.push((method, path));
        }
    }
    out
}

async fn hammer(t: &TestApp, session: &Session) {
    let doc: serde_json::Value = serde_json::from_str(&beacon_api::openapi::document()).unwrap();
    for id in [t.tree.east.as_str(), "%00"] {
        for (method, path) in paths(&doc, id) {
            if path.ends_with("/events") || path.ends_with("/auth/logout") {
                continue;
            }
            // A GET reads no body: one empty body is enough (the audit exports among them
            // grow with every refusal, and sending each of them thirteen times cost minutes).
            let bodies = if method == Method::GET { &BODIES[..1] } else { BODIES };
            for body in bodies {
                for query in [
                    "",
                    "?page=-1&per_page=abc&from=x&role=%FF&active=maybe",
                    "?q=%25%5F%5C&lang=xx",
                ] {
                    let request = Request::builder()
                        .method(method.clone())
                        .uri(format!("{path}{query}"))
                        .header(header::COOKIE, &session.cookie)
                        .header(header::CONTENT_TYPE, "application/json")
                        .body(Body::from(*body))
                        .unwrap();
                    let response = t.send(request).await;
                    assert!(
                        response.status.as_u16() < 500,
                        "{method} {path}{query} with {body:?}: {} {}",
                        response.status,
                        String::from_utf8_lossy(&response.bytes)
                    );
                }
            }
        }
    }
}

backend_tests! {
    async fn no_input_makes_the_server_fail(t: TestApp) {
        // Each administrator reaches a different set of handlers past the permission check.
        let system = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        hammer(&t, &system).await;
        let security = t.signed_in("sec.admin", &t.tree.city, &[Role::SecurityAdmin]).await;
        hammer(&t, &security).await;
        let audit = t.signed_in("aud.admin", &t.tree.city, &[Role::AuditAdmin]).await;
        hammer(&t, &audit).await;
    }
}
