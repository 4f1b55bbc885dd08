//! Behind a reverse proxy: the client address and HTTPS are believed only from trusted proxies.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Request, header};
use beacon_api::{ApiConfig, AppState, PasswordParams};
use beacon_bus::InProcessBus;
use beacon_core::org::Role;
use beacon_store::backend_tests;
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::{PASSWORD, TestApp};

/// Signs in through a router that sees `peer` as the connecting address.
async fn login_from(t: &TestApp, peer: &str, trusted: &str) -> (String, Option<String>) {
    let config = ApiConfig {
        password_params: PasswordParams::insecure_fast(),
        trusted_proxies: vec![trusted.parse().unwrap()],
        ..ApiConfig::default()
    };
    let state = AppState::new(
        t.store.clone(),
        Arc::new(InProcessBus::new(t.store.clock().clone())),
        config,
    )
    .unwrap();
    let peer: SocketAddr = peer.parse().unwrap();
    let router = beacon_api::app(state).layer(MockConnectInfo(peer));
    let request = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .header("x-forwarded-for", "203.0.113.9, 10.1.2.3")
        .header("x-forwarded-proto", "https")
        .body(Body::from(
            serde_json::json!({ "username": "proxied", "password": PASSWORD }).to_string(),
        ))
        .unwrap();
    let response = router.oneshot(request).await.unwrap();
    let cookie = response.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
    let _ = response.into_body().collect().await;
    let login = t.audit_actions("auth.login").await;
    (cookie, login.first().and_then(|r| r.ip.clone()))
}

backend_tests! {
    async fn forwarded_headers_count_only_from_trusted_proxies(t: TestApp) {
        t.user("proxied", &t.tree.east, &[Role::Staff]).await;
        // Through the trusted proxy: the right-most address it did not add, and a Secure cookie.
        let (cookie, ip) = login_from(&t, "10.0.0.1:50000", "10.0.0.0/8").await;
        assert!(cookie.contains("; Secure"), "{cookie}");
        assert_eq!(ip.as_deref(), Some("203.0.113.9"));
        // From anyone else the headers are ignored.
        let (cookie, ip) = login_from(&t, "192.0.2.7:50000", "10.0.0.0/8").await;
        assert!(!cookie.contains("Secure"), "{cookie}");
        assert_eq!(ip.as_deref(), Some("192.0.2.7"));
    }
}
