//! Throwaway databases for tests on both backends (feature `testing`).
//!
//! SQLite tests get a fresh file in a temporary directory; PostgreSQL tests get a fresh database
//! on the server named by `BEACON_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), dropped when the test ends.
#![allow(clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use beacon_core::clock::{Clock, ManualClock};
use chrono::{TimeZone, Utc};
use sqlx::Connection;

use crate::{Backend, ConnectOptions, Store};

/// Generates one test per backend from each `async fn name(x: Type) { … }`, where `Type` has
/// `async fn new(Backend) -> Self`: the tests are `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! backend_tests {
    ($(async fn $name:ident($arg:ident : $ty:ty) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($arg: $ty) $body

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    run(<$ty>::new($crate::Backend::Sqlite).await).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    run(<$ty>::new($crate::Backend::Postgres).await).await
                }
            }
        )*
    };
}

pub fn postgres_admin_url() -> String {
    std::env::var("BEACON_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// A database that exists for one test.
pub struct TestDatabase {
    pub backend: Backend,
    pub url: String,
    dir: Option<tempfile::TempDir>,
    postgres_name: Option<String>,
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}", dir.path().join("beacon.db").display());
                Self { backend, url, dir: Some(dir), postgres_name: None }
            }
            Backend::Postgres => {
                let admin = postgres_admin_url();
                let name = format!("beacon_test_{}", uuid_like());
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL tests need a server at {admin} (set BEACON_TEST_POSTGRES_URL): {e}"
                    )
                });
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await
                    .expect("create test database");
                conn.close().await.ok();
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base);
                let url = format!("{base}/{name}");
                Self { backend, url, dir: None, postgres_name: Some(name) }
            }
        }
    }

    /// A migrated store on this database, with a manual clock at a fixed instant.
    pub async fn store(&self) -> (Store, ManualClock) {
        let clock = ManualClock::new(
            Utc.with_ymd_and_hms(2026, 3, 2, 1, 30, 0).single().unwrap_or_default(),
        );
        let shared: Arc<dyn Clock> = Arc::new(clock.clone());
        let options = ConnectOptions { max_connections: 4, ..ConnectOptions::default() };
        let store = Store::connect_and_migrate(&self.url, &options, shared)
            .await
            .expect("connect and migrate the test database");
        (store, clock)
    }

    pub fn dir(&self) -> Option<&std::path::Path> {
        self.dir.as_ref().map(|d| d.path())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else { return };
        let admin = postgres_admin_url();
        // Drop runs inside the test's runtime; a helper thread with its own runtime does the
        // async work without blocking on that runtime.
        let handle = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread().enable_all().build()
            else {
                return;
            };
            runtime.block_on(async move {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut conn)
                        .await;
                    let _ = conn.close().await;
                }
            });
        });
        let _ = handle.join();
    }
}

fn uuid_like() -> String {
    beacon_core::id::new_id().replace('-', "")
}

/// Creates a unit as an operator and returns its id.
pub async fn add_unit(
    store: &Store,
    parent: Option<&str>,
    code: &str,
    name: &str,
    level: beacon_core::org::UnitLevel,
) -> String {
    use beacon_core::org::{UnitCode, UnitName};
    store
        .create_unit(
            &beacon_core::scope::Scope::Global,
            &beacon_core::audit::Actor::system("test"),
            crate::org::NewUnit {
                parent_id: parent.map(str::to_owned),
                code: UnitCode::parse(code).expect("valid unit code"),
                name: UnitName::parse(name).expect("valid unit name"),
                level,
                sort_order: 0,
                boundary: None,
            },
        )
        .await
        .expect("create the unit")
        .id
}

/// An account to create: the username doubles as the display name.
pub fn new_user(
    username: &str,
    unit_id: &str,
    roles: &[beacon_core::org::Role],
    password_hash: &str,
) -> crate::org::NewUser {
    use beacon_core::org::{DisplayName, Username};
    crate::org::NewUser {
        username: Username::parse(username).expect("valid username"),
        display_name: DisplayName::parse(username).expect("valid display name"),
        phone: None,
        unit_id: unit_id.to_owned(),
        roles: roles.to_vec(),
        password_hash: password_hash.to_owned(),
        must_change_password: false,
    }
}

/// A `nats-server` with JetStream on a free port and storage of its own, for tests that kill and
/// restart it without touching the shared server. Killed when dropped.
pub struct NatsServer {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<std::process::Child>,
}

fn nats_binary() -> std::path::PathBuf {
    ["/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"]
        .into_iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.exists())
        .unwrap_or_else(|| std::path::PathBuf::from("nats-server"))
}

impl NatsServer {
    pub fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut server = Self { port, dir, child: None };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts it (again) on the same port and storage, and waits until it accepts connections.
    pub fn restart(&mut self) {
        let child = std::process::Command::new(nats_binary())
            .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string(), "-sd"])
            .arg(self.dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nats-server (Debian package nats-server) must be installed");
        self.child = Some(child);
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}
