use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use beacon_core::org::Role;
use beacon_store::backend_tests;
use serde_json::json;

use crate::TestApp;

backend_tests! {
    async fn health_and_documents(t: TestApp) {
        let health = t.call(None, Method::GET, "/healthz", None).await;
        health.expect(StatusCode::OK);
        assert_eq!(health.json()["status"], "ok");
        let doc = t.call(None, Method::GET, "/api/openapi.json", None).await;
        doc.expect(StatusCode::OK);
        assert!(doc.json()["paths"]["/api/v1/units"].is_object());
        let config = t.call(None, Method::GET, "/api/v1/config", None).await;
        assert!(config.json()["version"].is_string());
    }

    async fn unknown_routes_and_methods_answer_json(t: TestApp) {
        let missing = t.call(None, Method::GET, "/api/v1/nothing-here", None).await;
        missing.expect(StatusCode::NOT_FOUND);
        assert_eq!(missing.code(), "not_found");
        let wrong_method = t.call(None, Method::PUT, "/api/v1/units", Some(json!({}))).await;
        wrong_method.expect(StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(wrong_method.code(), "method_not_allowed");
        // No route changes or deletes audit records.
        let session = t.signed_in("auditor", &t.tree.city, &[Role::AuditAdmin]).await;
        assert_eq!(t.delete(&session, "/api/v1/audit").await.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(t.delete(&session, "/api/v1/audit/1").await.status, StatusCode::NOT_FOUND);
        // Anything else is a page of the single-page app.
        let page = t.call(None, Method::GET, "/units/tree", None).await;
        page.expect(StatusCode::OK);
        assert!(page.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/html"));
    }

    async fn every_response_carries_security_headers(t: TestApp) {
        for path in ["/healthz", "/api/v1/me", "/", "/api/nothing"] {
            let response = t.call(None, Method::GET, path, None).await;
            let csp = response.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
            assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
            assert!(!csp.contains("unsafe-eval") && !csp.contains("http"), "{path}: {csp}");
            assert_eq!(response.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert_eq!(response.headers[header::REFERRER_POLICY], "no-referrer");
        }
        let api = t.call(None, Method::GET, "/api/v1/me", None).await;
        assert_eq!(api.headers[header::CACHE_CONTROL], "no-store");
    }

    async fn cross_site_writes_are_refused(t: TestApp) {
        let session = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        let body = json!({ "parent_id": t.tree.city, "code": "990105", "name": "新区", "level": "district" }).to_string();
        let request = |origin: Option<&str>, site: Option<&str>| {
            let mut builder = Request::post("/api/v1/units")
                .header(header::HOST, "beacon.city.local")
                .header(header::COOKIE, &session.cookie)
                .header(header::CONTENT_TYPE, "application/json");
            if let Some(origin) = origin {
                builder = builder.header(header::ORIGIN, origin);
            }
            if let Some(site) = site {
                builder = builder.header("sec-fetch-site", site);
            }
            builder.body(Body::from(body.clone())).unwrap()
        };
        let evil = t.send(request(Some("http://evil.example"), None)).await;
        evil.expect(StatusCode::FORBIDDEN);
        assert_eq!(evil.code(), "csrf_rejected");
        let null = t.send(request(Some("null"), None)).await;
        assert_eq!(null.code(), "csrf_rejected");
        let cross = t.send(request(None, Some("cross-site"))).await;
        assert_eq!(cross.code(), "csrf_rejected");
        assert_eq!(t.store.count_units().await.unwrap(), 4, "nothing was created");
        t.send(request(Some("http://beacon.city.local"), Some("same-origin"))).await.expect(StatusCode::CREATED);
        // Reads are never refused, and scripts without the headers pass.
        let read = Request::get("/api/v1/me").header(header::COOKIE, &session.cookie).header("sec-fetch-site", "cross-site").body(Body::empty()).unwrap();
        t.send(read).await.expect(StatusCode::OK);
    }

    async fn bad_bodies_get_clear_errors(t: TestApp) {
        let session = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        let raw = |content_type: &str, body: Vec<u8>| {
            Request::post("/api/v1/units")
                .header(header::COOKIE, &session.cookie)
                .header(header::CONTENT_TYPE, content_type)
                .body(Body::from(body))
                .unwrap()
        };
        let malformed = t.send(raw("application/json", b"{\"code\": ".to_vec())).await;
        malformed.expect(StatusCode::BAD_REQUEST);
        assert_eq!(malformed.code(), "invalid_json");
        let form = t.send(raw("application/x-www-form-urlencoded", b"a=b".to_vec())).await;
        form.expect(StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let mut big = b"{\"name\": \"".to_vec();
        big.extend(std::iter::repeat_n(b'x', 1024 * 1024 + 1));
        big.extend(b"\"}");
        let too_large = t.send(raw("application/json", big)).await;
        too_large.expect(StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(too_large.code(), "payload_too_large");
        let shape = t.post(&session, "/api/v1/units", json!({ "parent_id": t.tree.city, "code": "x", "name": "y", "level": "galaxy" })).await;
        shape.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(shape.json()["fields"]["level"], "invalid_value");
        let missing = t.post(&session, "/api/v1/units", json!({ "parent_id": t.tree.city, "name": "y", "level": "district" })).await;
        assert_eq!(missing.json()["fields"]["code"], "required");
        let extra = t.post(&session, "/api/v1/units", json!({ "parent_id": t.tree.city, "code": "1", "name": "y", "level": "district", "colour": "red" })).await;
        assert_eq!(extra.json()["fields"]["colour"], "unknown_field");
        let page = t.get(&session, "/api/v1/users?per_page=500").await;
        page.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(page.json()["fields"]["per_page"], "out_of_range");
        let kind = t.get(&session, "/api/v1/users?page=abc").await;
        assert_eq!(kind.json()["fields"]["page"], "invalid");
        let role = t.get(&session, "/api/v1/users?role=emperor").await;
        role.expect(StatusCode::UNPROCESSABLE_ENTITY);
        // Ids that cannot exist are simply not found.
        t.get(&session, "/api/v1/units/../../etc/passwd").await.expect(StatusCode::NOT_FOUND);
        t.get(&session, "/api/v1/units/123").await.expect(StatusCode::NOT_FOUND);
    }
}
