//! Faults of a running `beacon serve`, as a data centre sees them: the process killed with
//! `kill -9` while 64 clients register incidents, and a backup taken under write load.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use beacon_store::testing::NatsServer;
use beacon_store::{Backend, backend_tests};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::{Cli, Running, free_port, text};

/// The server runs on the real clock: times in requests are so many minutes ago.
fn ago(minutes: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(minutes)).to_rfc3339()
}

/// One HTTP/1.1 exchange on a fresh connection: status and body, or None when the server is
/// not there.
fn request(port: u16, method: &str, path: &str, cookie: &str, body: &str) -> Option<(u16, String)> {
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(15))).ok()?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Cookie: {cookie}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).ok()?;
    stream.write_all(body.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.get(9..12)?.parse().ok()?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned()).unwrap_or_default();
    Some((status, body))
}

fn sign_in(port: u16, username: &str) -> String {
    let body = json!({ "username": username, "password": "Beacon@2026" }).to_string();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let line = response
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .expect("a session cookie");
    line.split_once(':').unwrap().1.trim().split(';').next().unwrap().to_owned()
}

/// Eight duty officers taking calls into the duty log until finished; each call must be saved.
struct CallLoad {
    stop: Arc<AtomicBool>,
    writers: Vec<std::thread::JoinHandle<()>>,
}

impl CallLoad {
    fn start(port: u16, cookie: &str) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let writers = (0..8)
            .map(|client| {
                let (stop, cookie) = (stop.clone(), cookie.to_owned());
                std::thread::spawn(move || {
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        let body = json!({
                            "received_at": ago(5), "channel": "phone",
                            "category": "accident", "summary": format!("来电{client}-{n}"),
                        })
                        .to_string();
                        let answer = request(port, "POST", "/api/v1/duty/log", &cookie, &body);
                        assert!(matches!(answer, Some((201, _))), "{answer:?}");
                    }
                })
            })
            .collect();
        Self { stop, writers }
    }

    fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        for writer in self.writers {
            writer.join().unwrap();
        }
    }
}

impl Cli {
    /// `beacon serve` on this test's database and the given NATS, healthy.
    fn serve(&self, port: u16, bus_url: &str) -> Running {
        let data = self.dir.path().to_str().unwrap().to_owned();
        let child = Command::new(env!("CARGO_BIN_EXE_beacon"))
            .args(["--database", self.db.url.as_str(), "--data-dir", data.as_str(), "serve"])
            .args(["--listen", &format!("127.0.0.1:{port}"), "--bus-url", bus_url])
            .env_remove("BEACON_CONFIG")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let running = Running(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while !crate::http_get(port, "/healthz").is_some_and(|r| r.starts_with("HTTP/1.1 200")) {
            assert!(Instant::now() < deadline, "beacon did not become healthy");
            std::thread::sleep(Duration::from_millis(50));
        }
        running
    }
}

/// Every incident's `incident.created` event in the stream: incident id → how many times.
async fn created_events(nats_url: &str) -> HashMap<String, usize> {
    let client = async_nats::connect(nats_url).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let stream = js.get_stream("BEACON_EVENTS").await.unwrap();
    let last = stream.get_info().await.unwrap().state.last_sequence;
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig {
            deliver_policy: async_nats::jetstream::consumer::DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let mut out: HashMap<String, usize> = HashMap::new();
    while let Some(message) =
        tokio::time::timeout(Duration::from_secs(5), messages.next()).await.ok().flatten()
    {
        let message = message.unwrap();
        let seq = message.info().unwrap().stream_sequence;
        let wire: Value = serde_json::from_slice(&message.message.payload).unwrap();
        if wire["event"]["kind"] == "incident.created" {
            let id = wire["event"]["data"]["id"].as_str().unwrap().to_owned();
            *out.entry(id).or_default() += 1;
        }
        if seq >= last {
            break;
        }
    }
    out
}

backend_tests! {
    async fn an_instance_killed_under_load_loses_no_answered_registration(cli: Cli) {
        let nats = NatsServer::start();
        let seeded = cli.run(&["seed-demo"], None);
        assert!(seeded.status.success(), "{}", text(&seeded));
        let port = free_port();
        let server = cli.serve(port, &nats.url());
        let cookie = sign_in(port, "duty.officer");

        // 64 clients register until the server dies under them.
        let answered = Arc::new(Mutex::new(Vec::<String>::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let clients: Vec<_> = (0..64)
            .map(|client| {
                let (answered, stop, cookie) = (answered.clone(), stop.clone(), cookie.clone());
                std::thread::spawn(move || {
                    let mut n = 0;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        let body = json!({
                            "kind": "fire", "title": format!("压测{client}-{n}"), "unit": "990100",
                            "occurred_at": ago(30), "reported_at": ago(10),
                            "place": "城区", "deaths": 0, "missing": 0, "serious_injuries": 0,
                            "minor_injuries": 0, "direct_loss_cny": 1000, "description": "起火",
                            "allow_duplicate": true
                        })
                        .to_string();
                        match request(port, "POST", "/api/v1/incidents", &cookie, &body) {
                            Some((201, body)) => {
                                let made: Value = serde_json::from_str(&body).unwrap();
                                answered.lock().unwrap().push(made["number"].as_str().unwrap().to_owned());
                            }
                            Some((status, body)) => assert!(status < 500, "{status} {body}"),
                            None => std::thread::sleep(Duration::from_millis(20)),
                        }
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        drop(server); // SIGKILL
        tokio::time::sleep(Duration::from_millis(300)).await;
        stop.store(true, Ordering::Relaxed);
        for client in clients {
            client.join().unwrap();
        }
        let answered = answered.lock().unwrap().clone();
        assert!(!answered.is_empty(), "registrations were answered before the kill");

        // Restarted: every answered registration is there, each number once.
        let _server = cli.serve(port, &nats.url());
        let store = cli.db.store().await.0;
        let pool = sqlx::AnyPool::connect(&cli.db.url).await.unwrap();
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT id, number FROM incidents").fetch_all(&pool).await.unwrap();
        let numbers: HashSet<&str> = rows.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(numbers.len(), rows.len(), "no number given twice");
        for number in &answered {
            assert!(numbers.contains(number.as_str()), "answered 201 but lost: {number}");
        }
        // The audit chain verifies.
        let verified = cli.run(&["audit-verify"], None);
        assert_eq!(verified.status.code(), Some(0), "{}", text(&verified));
        // Every registered incident's event reached the stream, once.
        let deadline = Instant::now() + Duration::from_secs(20);
        while store.event_backlog().await.unwrap() > 0 {
            assert!(Instant::now() < deadline, "the outbox was not relayed after the restart");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let events = created_events(&nats.url()).await;
        for (id, _) in &rows {
            assert_eq!(events.get(id), Some(&1), "incident {id}: its event once");
        }
        assert_eq!(events.len(), rows.len());
    }
}

/// `beacon backup` of a SQLite database taken while clients write opens and verifies; restoring
/// it is copying the file back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_under_write_load_verifies_and_restores() {
    let cli = Cli::new(Backend::Sqlite).await;
    let nats = NatsServer::start();
    let seeded = cli.run(&["seed-demo"], None);
    assert!(seeded.status.success(), "{}", text(&seeded));
    let port = free_port();
    let _server = cli.serve(port, &nats.url());
    let cookie = sign_in(port, "duty.officer");
    let load = CallLoad::start(port, &cookie);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let copy = cli.dir.path().join("backup.db");
    let backup = cli.run(&["backup", "--out", copy.to_str().unwrap()], None);
    assert!(backup.status.success(), "{}", text(&backup));
    tokio::time::sleep(Duration::from_millis(200)).await;
    load.finish();
    // The copy is a database of its own whose chain verifies.
    let url = format!("sqlite://{}", copy.display());
    let verified = Command::new(env!("CARGO_BIN_EXE_beacon"))
        .args(["--database", &url, "--data-dir", cli.dir.path().to_str().unwrap(), "audit-verify"])
        .output()
        .unwrap();
    assert_eq!(verified.status.code(), Some(0), "{}", text(&verified));
    // Restored in place of a database (README "Backup and restore"): it serves.
    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(&copy, restored.path().join("beacon.db")).unwrap();
    // With the personal-data key kept apart: without it the database does not open.
    let key = cli.dir.path().join("personal-data.key");
    std::fs::copy(&key, restored.path().join("personal-data.key")).unwrap();
    let restored_port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_beacon"))
        .args(["--data-dir", restored.path().to_str().unwrap(), "serve"])
        .args(["--listen", &format!("127.0.0.1:{restored_port}")])
        .env_remove("BEACON_DATABASE_URL")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _restored = Running(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while !crate::http_get(restored_port, "/healthz").is_some_and(|r| r.starts_with("HTTP/1.1 200"))
    {
        assert!(Instant::now() < deadline, "the restored database did not serve");
        std::thread::sleep(Duration::from_millis(50));
    }
    let officer = sign_in(restored_port, "duty.officer");
    let log = request(restored_port, "GET", "/api/v1/duty/log?per_page=1", &officer, "").unwrap();
    assert_eq!(log.0, 200, "{}", log.1);
}

/// A PostgreSQL deployment is backed up with `pg_dump -Fc` while clients write, and restored with
/// `pg_restore` into an empty database (README "Backup and restore"): the restored chain verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pg_dump_under_write_load_restores_and_verifies() {
    let cli = Cli::new(Backend::Postgres).await;
    let nats = NatsServer::start();
    let seeded = cli.run(&["seed-demo"], None);
    assert!(seeded.status.success(), "{}", text(&seeded));
    let port = free_port();
    let _server = cli.serve(port, &nats.url());
    let cookie = sign_in(port, "duty.officer");
    let load = CallLoad::start(port, &cookie);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let dump = cli.dir.path().join("beacon.dump");
    let dumped = Command::new("pg_dump")
        .args(["-Fc", "--no-owner", "-f", dump.to_str().unwrap(), cli.db.url.as_str()])
        .output()
        .unwrap();
    assert!(dumped.status.success(), "{}", text(&dumped));
    load.finish();
    let target = beacon_store::testing::TestDatabase::new(Backend::Postgres).await;
    let restored = Command::new("pg_restore")
        .args(["--no-owner", "-d", target.url.as_str(), dump.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(restored.status.success(), "{}", text(&restored));
    let verified = Command::new(env!("CARGO_BIN_EXE_beacon"))
        .args([
            "--database",
            &target.url,
            "--data-dir",
            cli.dir.path().to_str().unwrap(),
            "audit-verify",
        ])
        .output()
        .unwrap();
    assert_eq!(verified.status.code(), Some(0), "{}", text(&verified));
}
