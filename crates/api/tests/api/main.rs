//! API tests, in process (no sockets): every test runs on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod attachments;
mod audit;
mod auth;
mod campaign;
mod cluster;
mod contract;
mod danger;
mod duty;
mod enterprise;
mod events;
mod faults;
mod http;
mod imports;
mod incident;
mod inspection;
mod openapi;
mod org;
mod proxy;
mod robustness;
mod search;
mod server;
mod tipoff;
mod workbench;

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use beacon_api::{ApiConfig, AppState, PasswordParams};
use beacon_bus::{InProcessBus, SharedBus};
use beacon_core::audit::Actor;
use beacon_core::clock::ManualClock;
use beacon_core::org::{Role, UnitLevel};
use beacon_core::scope::Scope;
use beacon_store::testing::{self, TestDatabase};
use beacon_store::{Backend, Store};
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub const PASSWORD: &str = "Test-Password-1";

pub struct TestApp {
    pub db: TestDatabase,
    pub store: Store,
    pub clock: ManualClock,
    pub state: AppState,
    pub router: Router,
    pub tree: Tree,
    password_hash: String,
}

pub struct Tree {
    pub city: String,
    pub east: String,
    pub west: String,
    pub town: String,
}

impl TestApp {
    /// A city with two districts and a township under the first.
    pub async fn new(backend: Backend) -> Self {
        Self::with_bus(backend, None).await
    }

    /// The same on another bus (default: the in-process bus).
    pub async fn with_bus(backend: Backend, bus: Option<SharedBus>) -> Self {
        let db = TestDatabase::new(backend).await;
        let (store, clock) = db.store().await;
        let bus = bus.unwrap_or_else(|| Arc::new(InProcessBus::new(store.clock().clone())));
        let state = AppState::new(store.clone(), bus, Self::config()).unwrap();
        let router = beacon_api::app(state.clone());
        let password_hash = state.passwords().hash(PASSWORD.to_owned()).await.unwrap();
        let mut app = Self {
            db,
            store,
            clock,
            state,
            router,
            tree: Tree {
                city: String::new(),
                east: String::new(),
                west: String::new(),
                town: String::new(),
            },
            password_hash,
        };
        let city = app.unit(None, "990100", "临江市", UnitLevel::City).await;
        let east = app.unit(Some(&city), "990102", "江南区", UnitLevel::District).await;
        let west = app.unit(Some(&city), "990103", "江北区", UnitLevel::District).await;
        let town = app.unit(Some(&east), "990102001", "滨江街道", UnitLevel::Township).await;
        app.tree = Tree { city, east, west, town };
        app
    }

    pub fn config() -> ApiConfig {
        ApiConfig {
            password_params: PasswordParams::insecure_fast(),
            stream_check: std::time::Duration::from_millis(100),
            ..ApiConfig::default()
        }
    }

    /// Another instance of the application on the same database, with its own bus client.
    pub fn instance(&self, bus: SharedBus) -> Router {
        let state = AppState::new(self.store.clone(), bus, Self::config()).unwrap();
        beacon_api::app(state)
    }

    pub async fn unit(
        &self,
        parent: Option<&str>,
        code: &str,
        name: &str,
        level: UnitLevel,
    ) -> String {
        let id = testing::add_unit(&self.store, parent, code, name, level).await;
        self.settle().await;
        id
    }

    /// An account with the test password that need not be changed.
    pub async fn user(&self, username: &str, unit_id: &str, roles: &[Role]) -> String {
        let new = testing::new_user(username, unit_id, roles, &self.password_hash);
        let id =
            self.store.create_user(&Scope::Global, &Actor::system("test"), new).await.unwrap().id;
        self.settle().await;
        id
    }

    /// Waits until the events of what was written straight into the store have gone to the bus,
    /// so a stream opened afterwards does not receive them.
    pub async fn settle(&self) {
        for _ in 0..400 {
            self.state.nudge_events();
            if self.store.event_backlog().await.unwrap() == 0 {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        panic!("the events outbox never drained");
    }

    /// Creates an account and signs it in.
    pub async fn signed_in(&self, username: &str, unit_id: &str, roles: &[Role]) -> Session {
        self.user(username, unit_id, roles).await;
        self.login(username, PASSWORD).await.session()
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.send(
            Request::post("/api/v1/auth/login")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    serde_json::json!({ "username": username, "password": password }).to_string(),
                ))
                .unwrap(),
        )
        .await
    }

    pub async fn send(&self, request: Request<Body>) -> Response {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes().to_vec();
        Response { status, headers, bytes }
    }

    /// A request as a signed-in browser or an anonymous client sends it.
    pub async fn call(
        &self,
        session: Option<&Session>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Response {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(session) = session {
            builder = builder.header(header::COOKIE, &session.cookie);
        }
        let body = match body {
            Some(json) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        self.send(builder.body(body).unwrap()).await
    }

    pub async fn get(&self, session: &Session, path: &str) -> Response {
        self.call(Some(session), Method::GET, path, None).await
    }

    pub async fn post(&self, session: &Session, path: &str, body: Value) -> Response {
        self.call(Some(session), Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, session: &Session, path: &str, body: Value) -> Response {
        self.call(Some(session), Method::PATCH, path, Some(body)).await
    }

    pub async fn put(&self, session: &Session, path: &str, body: Value) -> Response {
        self.call(Some(session), Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, session: &Session, path: &str) -> Response {
        self.call(Some(session), Method::DELETE, path, None).await
    }

    /// Audit records matching an action, newest first (read straight from the store).
    pub async fn audit_actions(&self, action: &str) -> Vec<beacon_core::audit::AuditRecord> {
        let filter = beacon_store::audit::AuditFilter {
            action: Some(action.to_owned()),
            ..Default::default()
        };
        let page = beacon_core::page::PageRequest::parse(Some(1), Some(200)).unwrap();
        self.store.search_audit(&Scope::Global, &filter, page).await.unwrap().items
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub cookie: String,
}

#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.bytes)))
    }

    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn expect(&self, status: StatusCode) -> &Self {
        assert_eq!(self.status, status, "body: {}", String::from_utf8_lossy(&self.bytes));
        self
    }

    #[track_caller]
    pub fn session(&self) -> Session {
        self.expect(StatusCode::OK);
        let set_cookie =
            self.headers.get(header::SET_COOKIE).expect("Set-Cookie").to_str().unwrap();
        let cookie = set_cookie.split(';').next().unwrap().to_owned();
        Session { cookie }
    }
}
