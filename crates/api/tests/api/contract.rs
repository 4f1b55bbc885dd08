//! One error shape everywhere: every refusal is JSON `{code, message, fields}`. A body of valid
//! JSON but the wrong shape answers 422 naming the field (never 400), a path value that cannot
//! name anything 404 and one that is not of its type 422 naming the parameter. The walkers take
//! every operation from the OpenAPI document, so a new endpoint is held to the same contract.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use beacon_core::org::Role;
use beacon_store::backend_tests;
use serde_json::{Value, json};

use crate::{Response, TestApp};

/// An id that could exist but does not.
const SOME_ID: &str = "0190f2a4-5b6c-7d8e-9f00-112233445566";

fn document() -> Value {
    serde_json::from_str(&beacon_api::openapi::document()).unwrap()
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

#[track_caller]
fn assert_json_error(response: &Response, what: &str) {
    let content_type = response.headers[header::CONTENT_TYPE].to_str().unwrap();
    assert!(content_type.starts_with("application/json"), "{what}: {content_type}");
    let body = response.json();
    assert!(body["code"].is_string() && body["message"].is_string(), "{what}: {body}");
}

backend_tests! {
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
}
