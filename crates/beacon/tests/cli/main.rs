//! The `beacon` command as an operator runs it: exit codes, messages, passwords from stdin.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::process::{Command, Output, Stdio};

use beacon_store::testing::TestDatabase;

mod faults;
use beacon_store::{Backend, backend_tests};

fn beacon(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_beacon"))
        .args(args)
        .env_remove("BEACON_DATABASE_URL")
        .env_remove("BEACON_DATA_DIR")
        .env_remove("BEACON_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// A database for one test, with the flags that point the CLI at it.
struct Cli {
    db: TestDatabase,
    dir: tempfile::TempDir,
}

impl Cli {
    async fn new(backend: Backend) -> Self {
        Self { db: TestDatabase::new(backend).await, dir: tempfile::tempdir().unwrap() }
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let data = self.dir.path().to_str().unwrap().to_owned();
        let mut all = vec!["--database", self.db.url.as_str(), "--data-dir", data.as_str()];
        all.extend_from_slice(args);
        beacon(&all, stdin)
    }
}

#[test]
fn bad_flags_and_configuration_exit_2() {
    let output = beacon(&["--no-such-flag"], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).contains("unexpected argument"));
    let output = beacon(&["--database", "mysql://localhost/x", "migrate"], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output).contains("database URL"), "{}", text(&output));
}

#[test]
fn an_unreachable_database_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let output = beacon(
        &[
            "--data-dir",
            dir.path().to_str().unwrap(),
            "--database",
            "postgres://nobody@127.0.0.1:1/x",
            "migrate",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output).contains("cannot open the database postgres://nobody@127.0.0.1:1/x"),
        "{}",
        text(&output)
    );
}

#[test]
fn an_unwritable_data_directory_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, b"x").unwrap();
    let inside = file.join("data");
    let output = beacon(&["--data-dir", inside.to_str().unwrap(), "migrate"], None);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output).contains("data directory"), "{}", text(&output));
}

#[test]
fn the_openapi_document_is_printed() {
    let output = beacon(&["export-openapi"], None);
    assert!(output.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(doc["paths"]["/api/v1/auth/login"].is_object());
}

backend_tests! {
    async fn administrators_are_created_with_passwords_from_stdin(cli: Cli) {
        let weak = cli.run(&["create-admin", "--username", "admin"], Some("short\n"));
        assert_eq!(weak.status.code(), Some(1));
        assert!(text(&weak).contains("does not meet the policy"), "{}", text(&weak));
        let created = cli.run(&["create-admin", "--username", "admin", "--root-code", "990100", "--root-name", "临江市"], Some("Strong-Pass-123\n"));
        assert!(created.status.success(), "{}", text(&created));
        assert!(text(&created).contains("created the root unit 临江市"));
        let auditor = cli.run(&["create-admin", "--username", "auditor", "--role", "audit-admin"], Some("Audit-Pass-123\n"));
        assert!(auditor.status.success(), "{}", text(&auditor));
        let user = cli.run(&["create-user", "--username", "officer", "--unit", "990100", "--role", "duty_officer", "--role", "staff"], Some("Duty-Pass-2026\n"));
        assert!(user.status.success(), "{}", text(&user));
        assert!(text(&user).contains("duty_officer, staff"));
        let bad_role = cli.run(&["create-user", "--username", "x.y", "--unit", "990100", "--role", "emperor"], Some("Duty-Pass-2026\n"));
        assert_eq!(bad_role.status.code(), Some(1));
        assert!(text(&bad_role).contains("unknown role"));
        let mixed = cli.run(&["create-user", "--username", "x.y", "--unit", "990100", "--role", "audit_admin", "--role", "staff"], Some("Duty-Pass-2026\n"));
        assert!(text(&mixed).contains("admin_roles_exclusive"), "{}", text(&mixed));
        let unit = cli.run(&["create-user", "--username", "x.y", "--unit", "nowhere", "--role", "staff"], Some("Duty-Pass-2026\n"));
        assert!(text(&unit).contains("no unit with code nowhere"));
        let duplicate = cli.run(&["create-admin", "--username", "admin"], Some("Strong-Pass-123\n"));
        assert!(text(&duplicate).contains("already_exists"), "{}", text(&duplicate));

        let (store, _) = cli.db.store().await;
        let admin = store.find_login("admin").await.unwrap().unwrap();
        assert!(!admin.must_change_password);
        let officer = store.find_login("officer").await.unwrap().unwrap();
        assert!(officer.must_change_password, "an operator set it for someone else");
        let reset = cli.run(&["reset-password", "--username", "admin"], Some("Newer-Pass-456\n"));
        assert!(reset.status.success(), "{}", text(&reset));
        assert!(store.find_login("admin").await.unwrap().unwrap().must_change_password);
        assert!(cli.run(&["audit-verify"], None).status.success());
    }

    async fn the_demo_seed_is_idempotent_and_the_audit_chain_verified(cli: Cli) {
        let first = cli.run(&["seed-demo"], None);
        assert!(first.status.success(), "{}", text(&first));
        assert!(text(&first).contains("15 new demo users"));
        assert!(text(&first).contains("Demo hidden dangers: 459 recorded"), "{}", text(&first));
        assert!(text(&first).contains("sysadmin"));
        let second = cli.run(&["seed-demo"], None);
        assert!(text(&second).contains("0 new demo users"), "{}", text(&second));
        let verified = cli.run(&["audit-verify"], None);
        assert!(verified.status.success());
        assert!(text(&verified).contains("audit trail intact"));
        let check = cli.run(&["check-config"], None);
        assert!(check.status.success(), "{}", text(&check));
        assert!(text(&check).contains("database: reachable"));
    }

    async fn audit_verify_names_the_altered_record(cli: Cli) {
        assert!(cli.run(&["seed-demo"], None).status.success());
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&cli.db.url).await.unwrap();
        let unlock = match cli.db.backend {
            Backend::Sqlite => "DROP TRIGGER audit_log_no_update",
            Backend::Postgres => "DROP TRIGGER audit_log_no_change ON audit_log",
        };
        sqlx::query(unlock).execute(&mut conn).await.unwrap();
        sqlx::query("UPDATE audit_log SET actor_name = 'nobody' WHERE seq = 7").execute(&mut conn).await.unwrap();
        let output = cli.run(&["audit-verify"], None);
        assert_eq!(output.status.code(), Some(3));
        assert!(text(&output).contains("audit record #7 was altered"), "{}", text(&output));
    }

    async fn the_database_stays_bound_to_its_personal_data_key(cli: Cli) {
        // The first start creates the key (its owner's only) and binds the database to it.
        let first = cli.run(&["seed-demo"], None);
        assert!(first.status.success(), "{}", text(&first));
        let key = cli.dir.path().join("personal-data.key");
        let kept = std::fs::read_to_string(&key).unwrap();
        assert_eq!(kept.trim().len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        }
        // Another key does not open it: refused, whatever the command that seals.
        std::fs::write(&key, format!("{}\n", "ab".repeat(32))).unwrap();
        let refused = cli.run(&["seed-demo"], None);
        assert!(!refused.status.success());
        assert!(text(&refused).contains("is not the one this database"), "{}", text(&refused));
        std::fs::write(&key, "not a key").unwrap();
        assert!(text(&cli.run(&["seed-demo"], None)).contains("64 hex digits"));
        std::fs::write(&key, kept).unwrap();
        assert!(cli.run(&["seed-demo"], None).status.success());
    }

    async fn backups(cli: Cli) {
        assert!(cli.run(&["migrate"], None).status.success());
        let out = cli.dir.path().join("copy.db");
        let output = cli.run(&["backup", "--out", out.to_str().unwrap()], None);
        match cli.db.backend {
            Backend::Sqlite => {
                assert!(output.status.success(), "{}", text(&output));
                assert!(out.exists());
                let again = cli.run(&["backup", "--out", out.to_str().unwrap()], None);
                assert!(text(&again).contains("refusing to overwrite"));
            }
            Backend::Postgres => {
                assert_eq!(output.status.code(), Some(2));
                assert!(text(&output).contains("pg_dump"));
                assert!(!out.exists());
            }
        }
    }
}

/// A plain HTTP/1.1 GET; returns the whole response as text.
fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    Some(response)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn serve_answers_on_its_port_and_metrics_on_another() {
    let dir = tempfile::tempdir().unwrap();
    let (port, metrics) = (free_port(), free_port());
    let _server = Running(
        Command::new(env!("CARGO_BIN_EXE_beacon"))
            .args(["--data-dir", dir.path().to_str().unwrap(), "--log-format", "json", "serve"])
            .args([
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--metrics-listen",
                &format!("127.0.0.1:{metrics}"),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if http_get(port, "/healthz").is_some_and(|r| r.starts_with("HTTP/1.1 200")) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "beacon did not become healthy");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let me = http_get(port, "/api/v1/me").unwrap();
    assert!(me.starts_with("HTTP/1.1 401"), "{me}");
    assert!(me.to_lowercase().contains("content-security-policy: default-src 'self'"), "{me}");
    let scraped = http_get(metrics, "/metrics").unwrap();
    assert!(scraped.contains("beacon_http_requests_total"), "{scraped}");
    assert!(scraped.contains("route=\"/api/v1/me\""), "{scraped}");
    // Metrics are not on the public port.
    let public = http_get(port, "/metrics").unwrap();
    assert!(!public.contains("beacon_http_requests_total"));
    // A second server cannot take the same port, and says so.
    let clash = beacon(
        &[
            "--data-dir",
            dir.path().to_str().unwrap(),
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
        ],
        None,
    );
    assert_eq!(clash.status.code(), Some(1));
    assert!(text(&clash).contains("cannot listen on"), "{}", text(&clash));
}
