//! PostgreSQL killed under load and started again: requests during the outage fail fast with 503
//! `database_unavailable` (no hang, no 500), nothing half-written remains, and Beacon recovers
//! by itself. The test runs its own PostgreSQL (initdb and pg_ctl on a free port) so that it can
//! kill it without touching the shared server.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use beacon_api::{ApiConfig, AppState, PasswordParams};
use beacon_bus::InProcessBus;
use beacon_core::audit::Actor;
use beacon_core::clock::ManualClock;
use beacon_core::org::{Role, UnitLevel};
use beacon_core::scope::Scope;
use beacon_store::audit::ChainStatus;
use beacon_store::testing;
use beacon_store::{ConnectOptions, Store};
use chrono::TimeZone;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

/// A PostgreSQL server of the test's own, in a temporary directory.
struct OwnPostgres {
    dir: tempfile::TempDir,
    port: u16,
}

fn pg_bin(name: &str) -> PathBuf {
    let local = Path::new("/usr/local/bin").join(name);
    if local.exists() {
        return local;
    }
    std::fs::read_dir("/usr/lib/postgresql")
        .ok()
        .and_then(|versions| {
            versions.flatten().map(|v| v.path().join("bin").join(name)).find(|p| p.exists())
        })
        .unwrap_or_else(|| PathBuf::from(name))
}

/// PostgreSQL refuses to run as root: as root, its tools run as the `postgres` account.
fn as_postgres(program: &Path) -> Command {
    let root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0"));
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

impl OwnPostgres {
    fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let _ = Command::new("chown").args(["-R", "postgres"]).arg(dir.path()).status();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let status = as_postgres(&pg_bin("initdb"))
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
            .arg(dir.path().join("data"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("initdb (Debian package postgresql) must be installed");
        assert!(status.success(), "initdb failed");
        let server = Self { dir, port };
        server.run();
        server
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server and waits until it accepts connections.
    fn run(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let status = as_postgres(&pg_bin("pg_ctl"))
            .args(["-w", "-t", "30", "-o", &options, "-l"])
            .arg(self.dir.path().join("log"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .arg("start")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "pg_ctl start failed");
    }

    /// `kill -9` of the postmaster: its backends go down with it.
    fn kill(&self) {
        let pid = std::fs::read_to_string(self.dir.path().join("data/postmaster.pid")).unwrap();
        let pid = pid.lines().next().unwrap().trim().to_owned();
        let _ = Command::new("kill").args(["-9", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(Instant::now() < deadline, "PostgreSQL did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
        // Backends notice their postmaster's death within moments.
        std::thread::sleep(Duration::from_millis(500));
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = as_postgres(&pg_bin("pg_ctl"))
            .args(["-m", "immediate", "-D"])
            .arg(self.dir.path().join("data"))
            .arg("stop")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

async fn send(
    router: &Router,
    cookie: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(path).header(header::COOKIE, cookie);
    let body = match body {
        Some(json) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    let response = router.clone().oneshot(request.body(body).unwrap()).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

fn incident(n: usize) -> Value {
    json!({
        "kind": "fire", "title": format!("火情{n}"), "unit": "990100",
        "occurred_at": "2026-03-02T01:00:00Z", "reported_at": "2026-03-02T01:20:00Z",
        "place": "城区", "deaths": 0, "missing": 0, "serious_injuries": 0, "minor_injuries": 0,
        "direct_loss_cny": 1000, "description": "起火", "allow_duplicate": true
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_under_load_fails_fast_and_recovers() {
    let postgres = OwnPostgres::start();
    let clock =
        Arc::new(ManualClock::new(chrono::Utc.with_ymd_and_hms(2026, 3, 2, 1, 30, 0).unwrap()));
    let options = ConnectOptions {
        max_connections: 8,
        acquire_timeout: Duration::from_secs(2),
        ..ConnectOptions::default()
    };
    let store = Store::connect_and_migrate(&postgres.url(), &options, clock.clone()).await.unwrap();
    let city = testing::add_unit(&store, None, "990100", "临江市", UnitLevel::City).await;
    let config =
        ApiConfig { password_params: PasswordParams::insecure_fast(), ..ApiConfig::default() };
    let bus = Arc::new(InProcessBus::new(store.clock().clone()));
    let state = AppState::new(store.clone(), bus, config).unwrap();
    let hash = state.passwords().hash(crate::PASSWORD.to_owned()).await.unwrap();
    let officer = testing::new_user("city.officer", &city, &[Role::DutyOfficer], &hash);
    store.create_user(&Scope::Global, &Actor::system("test"), officer).await.unwrap();
    let router = beacon_api::app(state);
    let login = Request::post("/api/v1/auth/login")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({ "username": "city.officer", "password": crate::PASSWORD }).to_string(),
        ))
        .unwrap();
    let response = router.clone().oneshot(login).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    let mut registered = 0;
    for n in 0..5 {
        let (status, _) =
            send(&router, &cookie, "POST", "/api/v1/incidents", Some(incident(n))).await;
        assert_eq!(status, StatusCode::CREATED);
        registered += 1;
    }

    // 16 clients keep registering while the database goes away.
    let load = {
        let router = router.clone();
        let cookie = cookie.clone();
        tokio::spawn(async move {
            let mut outcomes = Vec::new();
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(4) {
                let batch = (0..16).map(|i| {
                    let router = router.clone();
                    let cookie = cookie.clone();
                    async move {
                        let began = Instant::now();
                        let (status, body) = send(
                            &router,
                            &cookie,
                            "POST",
                            "/api/v1/incidents",
                            Some(incident(100 + i)),
                        )
                        .await;
                        (
                            status,
                            body["code"].as_str().unwrap_or_default().to_owned(),
                            began.elapsed(),
                        )
                    }
                });
                outcomes.extend(futures::future::join_all(batch).await);
            }
            outcomes
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    tokio::task::block_in_place(|| postgres.kill());
    let outcomes = load.await.unwrap();
    let mut unavailable = 0;
    for (status, code, took) in &outcomes {
        assert!(
            *status == StatusCode::CREATED || *status == StatusCode::SERVICE_UNAVAILABLE,
            "{status} {code}"
        );
        if *status == StatusCode::CREATED {
            registered += 1;
        } else {
            assert_eq!(code, "database_unavailable");
            unavailable += 1;
        }
        assert!(*took < Duration::from_secs(5), "a request hung for {took:?}");
    }
    assert!(unavailable > 0, "the outage was seen");
    let (status, _) = send(&router, &cookie, "GET", "/healthz", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);

    // Back: Beacon recovers by itself, with what was answered 201 and nothing else.
    tokio::task::block_in_place(|| postgres.run());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, _) =
            send(&router, &cookie, "POST", "/api/v1/incidents", Some(incident(999))).await;
        if status == StatusCode::CREATED {
            registered += 1;
            break;
        }
        assert!(Instant::now() < deadline, "Beacon did not recover: {status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, _) = send(&router, &cookie, "GET", "/healthz", None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, list) = send(&router, &cookie, "GET", "/api/v1/incidents?per_page=1", None).await;
    assert_eq!(list["total"], registered, "every 201 is there, and nothing else");
    assert!(matches!(store.verify_audit_chain().await.unwrap(), ChainStatus::Intact { .. }));
}

/// Two instances run the deadline scheduler over the same 1,200 due stages; one is killed in the
/// middle of a batch (its transaction dies with it). Every stage fires exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_schedulers_one_killed_mid_batch_fire_each_stage_once() {
    use beacon_core::incident::{Casualties, IncidentKind, Source};
    use beacon_store::incident::NewIncident;

    const INCIDENTS: usize = 400;
    let t = crate::TestApp::new(beacon_store::Backend::Postgres).await;
    // One duty officer at each end of the hop: both desks get every reminder.
    let east = t.user("east.officer", &t.tree.east, &[Role::DutyOfficer]).await;
    let city = t.user("city.officer", &t.tree.city, &[Role::DutyOfficer]).await;
    let now = t.store.now();
    // The report to the city is due 120 minutes after this: its reminders (30 and 10 minutes
    // before) and its overdue alert all lie ahead.
    let reported_at = now - chrono::Duration::minutes(89);
    let mut ids = Vec::new();
    for n in 0..INCIDENTS {
        let incident = t
            .store
            .create_incident(
                &Scope::Global,
                &Actor::system("test"),
                NewIncident {
                    kind: IncidentKind::Fire,
                    title: format!("调度{n}"),
                    unit_id: t.tree.east.clone(),
                    occurred_at: reported_at - chrono::Duration::minutes(20),
                    reported_at,
                    place: "江南区".to_owned(),
                    point: None,
                    enterprise: None,
                    casualties: Casualties { deaths: 1, ..Casualties::default() },
                    description: String::new(),
                    source: Source::Phone,
                    reporter: None,
                    reporter_phone: None,
                    duty_log_id: None,
                    duplicate_of: None,
                },
            )
            .await
            .unwrap();
        ids.push(incident.id);
    }
    // Both reminders and the overdue alert of every hop are due now.
    t.clock.advance(chrono::Duration::minutes(32));
    // One clock per hop, each with three stages due (1,200 in all), fired in turn.
    let due = t.store.due_stages(10_000).await.unwrap();
    assert_eq!(due.len(), INCIDENTS, "one clock per incident");

    let other = AppState::new(
        t.store.clone(),
        Arc::new(InProcessBus::new(t.store.clock().clone())),
        crate::TestApp::config(),
    )
    .unwrap();
    let killed = tokio::spawn({
        let state = t.state.clone();
        async move { beacon_api::notify::run_due_deadlines(&state).await }
    });
    // The instance to be killed starts first, so it holds claims when it dies.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let survivor = tokio::spawn(async move { beacon_api::notify::run_due_deadlines(&other).await });
    tokio::time::sleep(Duration::from_millis(130)).await;
    if killed.is_finished() {
        panic!("killed while it works: {:?}", killed.await);
    }
    killed.abort();
    let _ = killed.await;
    survivor.await.unwrap().unwrap();
    // What the killed instance had claimed was rolled back with it: due again, fired now.
    beacon_api::notify::run_due_deadlines(&t.state).await.unwrap();
    assert!(t.store.due_stages(10).await.unwrap().is_empty(), "nothing left due");

    for id in &ids {
        let overdue = t
            .store
            .timeline("incident", id)
            .await
            .unwrap()
            .iter()
            .filter(|entry| entry.kind == "hop_overdue")
            .count();
        assert_eq!(overdue, 1, "incident {id}: one overdue alert");
    }
    let page = beacon_core::page::PageRequest::parse(Some(1), Some(1)).unwrap();
    for desk in [&east, &city] {
        let inbox = t.store.notifications(desk, &Default::default(), page).await.unwrap();
        let reminders = 2 * INCIDENTS as i64;
        assert_eq!(inbox.total, reminders, "each reminder once at each desk");
    }
}
