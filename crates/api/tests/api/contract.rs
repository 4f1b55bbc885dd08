//! One error shape everywhere: every refusal is JSON `{code, message, fields}`. A body of valid
//! JSON but the wrong shape answers 422 naming the field (never 400 or a field called `body`),
//! an unknown field 422 `unknown_field`, a path value that cannot name anything 404 and one that
//! is not of its type 422 naming the parameter. The walkers take every operation from the
//! OpenAPI document, so a new endpoint is held to the same contract.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use beacon_core::org::Role;
use beacon_store::backend_tests;
use serde_json::{Value, json};

use crate::{Response, Session, TestApp};

/// An id that could exist but does not.
const SOME_ID: &str = "0190f2a4-5b6c-7d8e-9f00-112233445566";

fn document() -> Value {
    serde_json::from_str(&beacon_api::openapi::document()).unwrap()
}

/// `path` with each parameter replaced: ids by `id`, the others by a plausible value.
fn fill(path: &str, id: &str) -> String {
    path.replace("{id}", id)
        .replace("{report}", id)
        .replace("{hop}", "city")
        .replace("{decision}", "accept")
        .replace("{version}", "1")
        .replace("{year}", "2026")
        .replace("{username}", "someone")
        .replace("{token}", "x")
}

/// The operations of the document: method, path template, operation.
fn operations(doc: &Value) -> Vec<(Method, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            out.push((method.to_uppercase().parse().unwrap(), path.clone(), operation.clone()));
        }
    }
    out
}

/// The body schema of an operation, its `$ref` resolved.
fn body_schema<'a>(doc: &'a Value, operation: &'a Value) -> Option<&'a Value> {
    let schema = operation.pointer("/requestBody/content/application~1json/schema")?;
    match schema["$ref"].as_str() {
        Some(reference) => doc.pointer(reference.trim_start_matches('#')),
        None => Some(schema),
    }
}

/// A JSON value that a property of this schema does not accept, if there is one (a property
/// that takes any JSON, such as a GeoJSON outline, has none).
fn wrong_value(doc: &Value, schema: &Value) -> Option<Value> {
    let types = |s: &Value| -> Vec<String> {
        match &s["type"] {
            Value::String(t) => vec![t.clone()],
            Value::Array(ts) => ts.iter().filter_map(|t| t.as_str().map(str::to_owned)).collect(),
            _ => Vec::new(),
        }
    };
    let mut kinds = types(schema);
    for alternative in schema["oneOf"].as_array().into_iter().flatten() {
        kinds.extend(types(alternative));
        if let Some(reference) = alternative["$ref"].as_str() {
            kinds.extend(types(doc.pointer(reference.trim_start_matches('#')).unwrap()));
        }
    }
    if let Some(reference) = schema["$ref"].as_str() {
        kinds.extend(types(doc.pointer(reference.trim_start_matches('#')).unwrap()));
    }
    kinds.retain(|k| k != "null");
    if kinds.is_empty() || kinds.iter().any(|k| k == "object") && schema["properties"].is_null() {
        // Free-form JSON (`serde_json::Value`) takes anything.
        let is_ref = schema["$ref"].is_string()
            || schema["oneOf"].as_array().is_some_and(|a| a.iter().any(|s| s["$ref"].is_string()));
        if !is_ref {
            return None;
        }
    }
    if kinds.iter().any(|k| k == "integer" || k == "number") {
        Some(json!("not a number"))
    } else {
        Some(json!(5))
    }
}

/// A session of each kind: what one cannot reach past its permission check, another can.
async fn sessions(t: &TestApp) -> Vec<Session> {
    vec![
        t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await,
        t.signed_in("sec.admin", &t.tree.city, &[Role::SecurityAdmin]).await,
        t.signed_in("aud.admin", &t.tree.city, &[Role::AuditAdmin]).await,
        t.signed_in(
            "desk",
            &t.tree.city,
            &[Role::DutyOfficer, Role::DutyLeader, Role::Leader, Role::Staff, Role::Inspector],
        )
        .await,
    ]
}

async fn send(
    t: &TestApp,
    session: Option<&Session>,
    method: &Method,
    path: &str,
    body: &Value,
) -> Response {
    t.call(session, method.clone(), path, Some(body.clone())).await
}

#[track_caller]
fn assert_json_error(response: &Response, what: &str) {
    let content_type = response.headers[header::CONTENT_TYPE].to_str().unwrap();
    assert!(content_type.starts_with("application/json"), "{what}: {content_type}");
    let body = response.json();
    assert!(body["code"].is_string() && body["message"].is_string(), "{what}: {body}");
}

backend_tests! {
    async fn every_body_names_the_field_it_refuses(t: TestApp) {
        let doc = document();
        let sessions = sessions(&t).await;
        let mut checked = 0;
        for (method, template, operation) in operations(&doc) {
            let Some(schema) = body_schema(&doc, &operation) else { continue };
            let path = fill(&template, SOME_ID);
            let public = operation["security"].as_array().is_some_and(|s| s.is_empty());
            // The first session that gets past the permission check.
            let unknown = json!({ "zz_unknown": 1 });
            let mut chosen = None;
            for session in std::iter::once(None).filter(|_| public).chain(sessions.iter().map(Some)) {
                let response = send(&t, session, &method, &path, &unknown).await;
                if response.status != StatusCode::FORBIDDEN {
                    chosen = Some((session, response));
                    break;
                }
            }
            let Some((session, response)) = chosen else {
                panic!("{method} {template}: no session passes the permission check")
            };
            response.expect(StatusCode::UNPROCESSABLE_ENTITY);
            assert_json_error(&response, &format!("{method} {template}"));
            assert_eq!(response.json()["fields"]["zz_unknown"], "unknown_field", "{method} {template}");
            for (name, property) in schema["properties"].as_object().into_iter().flatten() {
                let Some(wrong) = wrong_value(&doc, property) else { continue };
                let response = send(&t, session, &method, &path, &json!({ name: wrong })).await;
                let what = format!("{method} {template} with {name}: {wrong}");
                assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {}", response.json());
                assert_eq!(response.code(), "validation_failed", "{what}");
                assert!(response.json()["fields"][name].is_string(), "{what}: {}", response.json());
                checked += 1;
            }
        }
        assert!(checked > 100, "only {checked} fields tried");
    }

    async fn enum_fields_of_the_wrong_type_are_named(t: TestApp) {
        let desk = t.signed_in("desk", &t.tree.east, &[Role::DutyOfficer]).await;
        let admin = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        let cases = [
            (&desk, Method::POST, "/api/v1/incidents".to_owned(), json!({ "source": 5 }), "source"),
            (&desk, Method::POST, "/api/v1/incidents".to_owned(), json!({ "source": null, "kind": [] }), "kind"),
            (&desk, Method::PATCH, format!("/api/v1/incidents/{SOME_ID}"), json!({ "warning_color": 1 }), "warning_color"),
            (&desk, Method::PATCH, format!("/api/v1/incidents/{SOME_ID}"), json!({ "response_level": true }), "response_level"),
            (&desk, Method::POST, format!("/api/v1/incidents/{SOME_ID}/hops/city"), json!({ "method": 5 }), "method"),
            (&desk, Method::POST, format!("/api/v1/incidents/{SOME_ID}/hops/city"), json!({ "method": null }), "method"),
            (&admin, Method::POST, "/api/v1/units".to_owned(), json!({ "level": 3 }), "level"),
            (&admin, Method::POST, "/api/v1/units".to_owned(), json!({ "level": {} }), "level"),
            (&admin, Method::POST, "/api/v1/users".to_owned(), json!({ "roles": [7] }), "roles[0]"),
        ];
        for (session, method, path, body, field) in cases {
            let response = t.call(Some(session), method.clone(), &path, Some(body.clone())).await;
            let what = format!("{method} {path} {body}");
            response.expect(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(response.code(), "validation_failed", "{what}");
            assert_eq!(response.json()["fields"][field], "invalid_type", "{what}: {}", response.json());
        }
        // Text that is not JSON stays a 400, without fields.
        let broken = t.call(Some(&desk), Method::POST, "/api/v1/incidents", None).await;
        assert_eq!(broken.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let request = Request::post("/api/v1/incidents")
            .header(header::COOKIE, &desk.cookie)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"source": 5"#))
            .unwrap();
        let broken = t.send(request).await;
        broken.expect(StatusCode::BAD_REQUEST);
        assert_eq!(broken.code(), "invalid_json");
        assert!(broken.json()["fields"].is_null());
    }

    async fn duty_log_create_reads_like_its_update(t: TestApp) {
        let desk = t.signed_in("desk", &t.tree.city, &[Role::DutyOfficer]).await;
        let entry = json!({
            "received_at": "2026-03-02T01:00:00Z", "channel": "phone", "category": "fire",
            "summary": "江南区仓库起火",
        });
        let with = |key: &str, value: Value| {
            let mut body = entry.clone();
            body[key] = value;
            body
        };
        let wrong = t.post(&desk, "/api/v1/duty/log", with("summary", json!(5))).await;
        wrong.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(wrong.json()["fields"], json!({ "summary": "invalid_type" }));
        let unknown = t.post(&desk, "/api/v1/duty/log", with("colour", json!("red"))).await;
        unknown.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(unknown.json()["fields"], json!({ "colour": "unknown_field" }));
        let missing = t.post(&desk, "/api/v1/duty/log", json!({ "channel": "phone" })).await;
        assert_eq!(missing.json()["fields"]["received_at"], "required");
        // The unit it takes, by code: a unit beneath the caller's.
        let made = t.post(&desk, "/api/v1/duty/log", with("unit", json!("990102"))).await;
        made.expect(StatusCode::CREATED);
        assert_eq!(made.json()["unit_id"], t.tree.east.as_str(), "{}", made.json());
        let id = made.json()["id"].as_str().unwrap().to_owned();
        // PUT refuses the same things the same way.
        let path = format!("/api/v1/duty/log/{id}");
        let wrong = t.put(&desk, &path, with("summary", json!(5))).await;
        assert_eq!(wrong.json()["fields"], json!({ "summary": "invalid_type" }));
        let unknown = t.put(&desk, &path, with("colour", json!("red"))).await;
        assert_eq!(unknown.json()["fields"], json!({ "colour": "unknown_field" }));
        let unit = t.put(&desk, &path, with("unit", json!("990102"))).await;
        assert_eq!(unit.json()["fields"], json!({ "unit": "unknown_field" }));
    }

    async fn bad_path_values_answer_json(t: TestApp) {
        let desk = t.signed_in("desk", &t.tree.city, &[Role::DutyOfficer, Role::DutyLeader]).await;
        let admin = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        for path in ["/api/v1/incidents/%ff%fe", "/api/v1/incidents/not-an-id", "/api/v1/duty/log/%C0%AF"] {
            let response = t.get(&desk, path).await;
            response.expect(StatusCode::NOT_FOUND);
            assert_json_error(&response, path);
            assert_eq!(response.code(), "not_found");
        }
        // A year (a number) that is not a number is named; bytes that are not text name nothing.
        let year = t.delete(&admin, "/api/v1/calendar/years/abc").await;
        year.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(year.json()["fields"], json!({ "year": "invalid" }));
        let put = t.put(&admin, "/api/v1/calendar/years/99999999999", json!({ "holidays": [], "workdays": [] })).await;
        put.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(put.json()["fields"], json!({ "year": "invalid" }));
        let bytes = t.delete(&admin, "/api/v1/calendar/years/%ff").await;
        bytes.expect(StatusCode::NOT_FOUND);
        assert_eq!(bytes.code(), "not_found");
        let version = t.get(&desk, &format!("/api/v1/incidents/{SOME_ID}/reports/{SOME_ID}/versions/abc")).await;
        version.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(version.json()["fields"], json!({ "version": "invalid" }));

        // Every operation with a parameter in its path, with values that cannot be read.
        let doc = document();
        let sessions = [&desk, &admin];
        for (method, template, _) in operations(&doc) {
            if !template.contains('{') {
                continue;
            }
            for value in ["%ff%fe", "abc", "..%2F..%2Fetc", "%00"] {
                let path = template
                    .split('/')
                    .map(|segment| {
                        if segment.starts_with('{') {
                            value.to_owned()
                        } else if let Some((_, suffix)) = segment.split_once('}') {
                            format!("{value}{suffix}")
                        } else {
                            segment.to_owned()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("/");
                for session in sessions {
                    let response = t.call(Some(session), method.clone(), &path, Some(json!({}))).await;
                    let what = format!("{method} {path}");
                    assert!(response.status.is_client_error(), "{what}: {}", response.status);
                    assert_json_error(&response, &what);
                    if response.status == StatusCode::UNPROCESSABLE_ENTITY && response.code() == "validation_failed" {
                        let fields = response.json()["fields"].clone();
                        assert!(fields.as_object().is_some_and(|f| !f.is_empty()), "{what}: {fields}");
                    }
                }
            }
        }
    }

    async fn ids_are_found_in_any_case(t: TestApp) {
        let admin = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        let upper = t.tree.east.to_ascii_uppercase();
        assert_ne!(upper, t.tree.east);
        let unit = t.get(&admin, &format!("/api/v1/units/{upper}")).await;
        unit.expect(StatusCode::OK);
        assert_eq!(unit.json()["id"], t.tree.east.as_str());
        let user = t.user("clerk", &t.tree.east, &[Role::Staff]).await;
        let read = t.get(&admin, &format!("/api/v1/users/{}", user.to_ascii_uppercase())).await;
        read.expect(StatusCode::OK);
        assert_eq!(read.json()["id"], user.as_str());
        let renamed = t.patch(&admin, &format!("/api/v1/units/{upper}"), json!({ "name": "江南新区" })).await;
        renamed.expect(StatusCode::OK);
        assert_eq!(renamed.json()["id"], t.tree.east.as_str());
        // Mixed case too; what is not a UUID in any case is still not found.
        let mixed: String = t.tree.west.chars().enumerate()
            .map(|(i, c)| if i % 2 == 0 { c.to_ascii_uppercase() } else { c })
            .collect();
        t.get(&admin, &format!("/api/v1/units/{mixed}")).await.expect(StatusCode::OK);
        t.get(&admin, "/api/v1/units/ZZZZZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZZZZZZZZZ").await.expect(StatusCode::NOT_FOUND);
    }

    // Found by schemathesis: a swap of an assignment that does not exist (or lies outside the
    // caller's scope) answers 404, which the document did not list.
    async fn a_swap_of_no_assignment_is_not_found_as_documented(t: TestApp) {
        let desk = t.signed_in("desk", &t.tree.city, &[Role::DutyOfficer]).await;
        for assignment in ["", SOME_ID] {
            let body = json!({ "assignment_id": assignment, "target_user_id": SOME_ID });
            let response = t.post(&desk, "/api/v1/duty/swaps", body).await;
            response.expect(StatusCode::NOT_FOUND);
            assert_json_error(&response, "POST /duty/swaps");
        }
        let doc = document();
        let documented = &doc["paths"]["/api/v1/duty/swaps"]["post"]["responses"];
        assert!(documented["404"].is_object(), "{documented}");
    }
}
