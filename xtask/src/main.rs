//! `cargo verify`, `cargo demo`, `cargo xtask openapi` and `cargo xtask fuzz`.
//!
//! Everything is built into one target directory outside the clone
//! (`$CARGO_TARGET_DIR`, default `~/.cache/beacon/target`), so a fresh clone on a machine that
//! built Beacon before reuses the compiled dependencies.

use std::env;
use std::ffi::OsStr;
use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    const USAGE: &str = "usage: cargo verify | cargo demo | cargo xtask openapi | cargo xtask fuzz";
    let result = match args.first().map(String::as_str) {
        Some("verify") => verify(),
        Some("demo") => demo(),
        Some("openapi") => openapi(),
        Some("fuzz") => fuzz(),
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("\nxtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

fn target_dir() -> PathBuf {
    if let Some(dir) = env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let home = env::var_os("HOME").map_or_else(|| root().join(".."), PathBuf::from);
    home.join(".cache/beacon/target")
}

fn web() -> PathBuf {
    root().join("web")
}

/// Runs a command in `dir`, failing with its description when it fails.
fn run(dir: &Path, program: &str, args: &[&str], envs: &[(&str, &OsStr)]) -> Result {
    eprintln!("$ {program} {}", args.join(" "));
    let status = Command::new(program)
        .args(args)
        .current_dir(dir)
        .envs(envs.iter().map(|(k, v)| (*k, *v)))
        .env("CARGO_TARGET_DIR", target_dir())
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{program} {}` failed ({status})", args.join(" ")))
    }
}

fn step(name: &str, f: impl FnOnce() -> Result) -> Result {
    eprintln!("\n=== {name}");
    let started = Instant::now();
    f().map_err(|e| format!("{name}: {e}"))?;
    eprintln!("=== {name}: ok ({:.1} s)", started.elapsed().as_secs_f64());
    Ok(())
}

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

const NO_BROWSER_DOWNLOAD: (&str, &str) = ("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");

/// `npm ci` unless node_modules matches the lock file already.
fn npm_install() -> Result {
    if !have("npm") {
        return Err(
            "npm is missing: install Node.js 20 or later (Debian: apt-get install nodejs npm)"
                .to_owned(),
        );
    }
    let lock = fs::read(web().join("package-lock.json"))
        .map_err(|e| format!("web/package-lock.json: {e}"))?;
    let installed = fs::read(web().join("node_modules/.beacon-lock")).unwrap_or_default();
    if lock == installed && web().join("node_modules").is_dir() {
        eprintln!("web/node_modules is up to date");
        return Ok(());
    }
    let (k, v) = NO_BROWSER_DOWNLOAD;
    run(&web(), "npm", &["ci", "--no-audit", "--no-fund"], &[(k, OsStr::new(v))])?;
    fs::write(web().join("node_modules/.beacon-lock"), lock).map_err(|e| e.to_string())
}

fn npm(args: &[&str]) -> Result {
    let (k, v) = NO_BROWSER_DOWNLOAD;
    run(&web(), "npm", args, &[(k, OsStr::new(v))])
}

const CHROMIUM: &str = "/usr/bin/chromium";

/// Debian's Chromium for the browser tests, installed when missing. Never a downloaded browser.
fn ensure_chromium() -> Result {
    ensure_debian(CHROMIUM, &["chromium", "chromium-driver"])
}

/// The NATS server the multi-instance tests start on a port of their own.
const NATS_SERVER: &str = "/usr/sbin/nats-server";

fn ensure_nats() -> Result {
    if have("nats-server") {
        return Ok(());
    }
    ensure_debian(NATS_SERVER, &["nats-server"])
}

/// Installs Debian packages when `path` is missing.
fn ensure_debian(path: &str, packages: &[&str]) -> Result {
    if Path::new(path).exists() {
        return Ok(());
    }
    eprintln!("{path} is missing; installing Debian's {}", packages.join(" "));
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("cannot run apt-get: {e}"))
    };
    let mut install = vec!["install", "-y", "-qq"];
    install.extend_from_slice(packages);
    let installed = apt(&["update", "-qq"]).is_ok_and(|s| s.success())
        && apt(&install).is_ok_and(|s| s.success());
    if installed && Path::new(path).exists() {
        Ok(())
    } else {
        Err(format!(
            "{path} is missing and could not be installed: run `apt-get install {}` as root",
            packages.join(" ")
        ))
    }
}

fn postgres_url() -> String {
    env::var("BEACON_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

fn ensure_postgres() -> Result {
    let url = postgres_url();
    let host_port =
        url.split('@').nth(1).and_then(|rest| rest.split('/').next()).unwrap_or("127.0.0.1:5432");
    let address =
        if host_port.contains(':') { host_port.to_owned() } else { format!("{host_port}:5432") };
    let reachable = address
        .parse()
        .ok()
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(3)).is_ok());
    if reachable {
        Ok(())
    } else {
        Err(format!(
            "PostgreSQL is not reachable at {address}: the store and API tests run on it too \
             (set BEACON_TEST_POSTGRES_URL to use another server)"
        ))
    }
}

/// The TypeScript API client must match the OpenAPI snapshot.
fn check_client_fresh() -> Result {
    let generated = env::temp_dir().join(format!("beacon-schema-{}.d.ts", std::process::id()));
    let out = generated.to_string_lossy().into_owned();
    npm(&["exec", "--", "openapi-typescript", "../crates/api/openapi.json", "-o", &out])?;
    let fresh = fs::read(&generated).map_err(|e| e.to_string())?;
    let _ = fs::remove_file(&generated);
    let committed = fs::read(web().join("src/api/schema.d.ts")).unwrap_or_default();
    if fresh == committed {
        Ok(())
    } else {
        Err("web/src/api/schema.d.ts is stale: run `cargo xtask openapi` and commit the result"
            .to_owned())
    }
}

fn verify() -> Result {
    let started = Instant::now();
    let root = root();
    step("prerequisites", || {
        npm_install()?;
        ensure_chromium()?;
        ensure_nats()?;
        ensure_schemathesis()?;
        ensure_postgres()
    })?;
    step("format", || run(&root, "cargo", &["fmt", "--all", "--check"], &[]))?;
    step("web: API client matches the OpenAPI snapshot", check_client_fresh)?;
    step("web: type check", || npm(&["run", "typecheck"]))?;
    step("web: unit tests", || npm(&["test"]))?;
    step("web: build", || npm(&["run", "build"]))?;
    step("clippy", || {
        run(
            &root,
            "cargo",
            &["clippy", "--workspace", "--all-targets", "--locked", "--", "-D", "warnings"],
            &[],
        )
    })?;
    step("Rust tests on SQLite and PostgreSQL", || {
        run(&root, "cargo", &["test", "--workspace", "--locked", "--", "--color", "never"], &[])
    })?;
    step("release build", || {
        run(&root, "cargo", &["build", "--release", "--locked", "-p", "beacon"], &[])
    })?;
    step("browser tests (Debian Chromium against the release binary)", browser_tests)?;
    step("API contract under schemathesis (the release binary, signed in)", api_fuzz)?;
    eprintln!("\nverify: everything passed in {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}

fn beacon_binary() -> PathBuf {
    target_dir().join("release/beacon")
}

/// A running `beacon serve` that is stopped when dropped.
struct Server {
    child: Child,
    _data: TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

fn healthy(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request =
        format!("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200")
}

fn start_demo_server() -> Result<(Server, u16)> {
    let data = env::temp_dir().join(format!("beacon-e2e-{}", std::process::id()));
    let _ = fs::remove_dir_all(&data);
    let data = TempDir(data);
    let binary = beacon_binary();
    let data_dir = data.0.to_string_lossy().into_owned();
    let status = Command::new(&binary)
        .args(["--data-dir", &data_dir, "seed-demo"])
        .stdout(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    if !status.success() {
        return Err("seed-demo failed".to_owned());
    }
    let port = free_port()?;
    let listen = format!("127.0.0.1:{port}");
    let child = Command::new(&binary)
        .args(["--data-dir", &data_dir, "serve", "--listen", &listen])
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot start beacon: {e}"))?;
    let server = Server { child, _data: data };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !healthy(port) {
        if Instant::now() > deadline {
            return Err("beacon did not answer /healthz within 20 s".to_owned());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok((server, port))
}

fn browser_tests() -> Result {
    let (_server, port) = start_demo_server()?;
    let url = format!("http://127.0.0.1:{port}");
    let (k, v) = NO_BROWSER_DOWNLOAD;
    run(
        &web(),
        "npm",
        &["run", "e2e"],
        &[
            ("BEACON_URL", OsStr::new(&url)),
            ("CHROMIUM_PATH", OsStr::new(CHROMIUM)),
            (k, OsStr::new(v)),
        ],
    )
}

fn demo() -> Result {
    let root = root();
    step("web: install and build", || {
        npm_install()?;
        npm(&["run", "build"])
    })?;
    step("release build", || run(&root, "cargo", &["build", "--release", "-p", "beacon"], &[]))?;
    let binary = beacon_binary();
    let data = root.join("data");
    fs::create_dir_all(&data).map_err(|e| format!("cannot create {}: {e}", data.display()))?;
    let data_dir = data.to_string_lossy().into_owned();
    let database = format!("sqlite://{}", data.join("demo.db").display());
    let common = ["--data-dir", data_dir.as_str(), "--database", database.as_str()];
    step("demo data", || {
        let status = Command::new(&binary)
            .args(common)
            .arg("seed-demo")
            .status()
            .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
        if status.success() { Ok(()) } else { Err("seed-demo failed".to_owned()) }
    })?;
    eprintln!(
        "\nBeacon demo: open http://127.0.0.1:8080 (Ctrl-C stops it; data stays in ./data/demo.db)\n"
    );
    let status = Command::new(&binary)
        .args(common)
        .args(["serve", "--listen", "127.0.0.1:8080"])
        .status()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    if status.success() { Ok(()) } else { Err(format!("beacon serve stopped ({status})")) }
}

/// Regenerates the OpenAPI snapshot and the TypeScript client from the routes.
fn openapi() -> Result {
    let root = root();
    step("OpenAPI snapshot", || {
        run(
            &root,
            "cargo",
            &["test", "-p", "beacon-api", "--test", "api", "openapi_snapshot"],
            &[("UPDATE_SNAPSHOTS", OsStr::new("1"))],
        )
    })?;
    step("TypeScript client", || {
        npm_install()?;
        npm(&["run", "gen:api"])
    })
}

/// verify's schemathesis step alone, against the release binary built last.
fn fuzz() -> Result {
    step("API contract under schemathesis (the release binary built last)", || {
        ensure_schemathesis()?;
        api_fuzz()
    })
}

/// Schemathesis, pinned, in a virtual environment of its own (installed from PyPI when missing).
const SCHEMATHESIS: &str = "4.32.5";

fn venv() -> PathBuf {
    let home = env::var_os("HOME").map_or_else(|| root().join(".."), PathBuf::from);
    home.join(".cache/beacon/venv")
}

fn schemathesis_binary() -> PathBuf {
    venv().join("bin/schemathesis")
}

fn ensure_schemathesis() -> Result {
    let installed = Command::new(schemathesis_binary()).arg("--version").output().is_ok_and(|o| {
        o.status.success() && String::from_utf8_lossy(&o.stdout).contains(SCHEMATHESIS)
    });
    if installed {
        return Ok(());
    }
    let venv = venv();
    let python = venv.join("bin/python");
    let home = root();
    if !python.exists() {
        let venv_dir = venv.to_string_lossy().into_owned();
        run(&home, "python3", &["-m", "venv", &venv_dir], &[]).map_err(|e| {
            format!("{e}: schemathesis needs Python 3 with venv (Debian: python3-venv)")
        })?;
    }
    let pin = format!("schemathesis=={SCHEMATHESIS}");
    run(&home, &python.to_string_lossy(), &["-m", "pip", "install", "--quiet", &pin], &[])
}

/// Signs `username` in with the demo password over plain HTTP and returns the session cookie
/// (`beacon_session=…`).
fn sign_in(port: u16, username: &str) -> Result<String> {
    let body = format!(r#"{{"username":"{username}","password":"Beacon@2026"}}"#);
    let request = format!(
        "POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: \
         application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream.set_read_timeout(Some(Duration::from_secs(30))).map_err(|e| e.to_string())?;
    stream.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    if !response.starts_with("HTTP/1.1 200") {
        let status = response.lines().next().unwrap_or_default();
        return Err(format!("signing in as {username} failed: {status}"));
    }
    response
        .lines()
        .take_while(|line| !line.is_empty())
        .filter_map(|line| line.split_once(':'))
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, value)| value.trim().split(';').next())
        .find(|cookie| cookie.starts_with("beacon_session="))
        .map(str::to_owned)
        .ok_or_else(|| format!("signing in as {username} set no session cookie"))
}

/// Who fuzzes which operations (by tag): each part of the API as a role that may use it, so the
/// answers a permitted caller gets are checked too, not only the 403 of everyone else. The
/// administrators come last: they may change the policy or the accounts the others use.
const FUZZ_RUNS: [(&str, &[&str]); 4] = [
    ("duty.leader", &["auth", "duty", "incidents", "notify", "search", "system", "workbench"]),
    ("auditor", &["audit"]),
    ("secadmin", &["security"]),
    ("sysadmin", &["org", "calendar"]),
];

/// Schemathesis against the seeded release binary's own document: generated valid and invalid
/// requests to every operation, each answer checked against the document (never a 5xx; status,
/// content type, headers and body as documented). Stateless, seeded and bounded, so it is the
/// same run every time and takes a minute or two; any failure fails verify with schemathesis'
/// report (`st replay` is not available afterwards: the server and its data are gone, but the
/// report prints a `curl` line that reproduces each failure against `cargo demo`).
fn api_fuzz() -> Result {
    let (_server, port) = start_demo_server()?;
    let schema = format!("http://127.0.0.1:{port}/api/openapi.json");
    // Hypothesis keeps a database and schemathesis its reports in the working directory.
    let work = TempDir(env::temp_dir().join(format!("beacon-fuzz-{}", std::process::id())));
    fs::create_dir_all(&work.0).map_err(|e| e.to_string())?;
    let mut failed = Vec::new();
    for (username, tags) in FUZZ_RUNS {
        let cookie = sign_in(port, username)?;
        let mut args = vec![
            "run".to_owned(),
            schema.clone(),
            "--checks".to_owned(),
            FUZZ_CHECKS.join(","),
            // Stateless: no `stateful` phase (the document describes no links between operations).
            "--phases=examples,coverage,fuzzing".to_owned(),
            "--mode=all".to_owned(),
            format!("--max-examples={FUZZ_EXAMPLES}"),
            format!("--seed={FUZZ_SEED}"),
            "--generation-database=none".to_owned(),
            // The session cookie below is the credential; generated ones would replace it.
            "--generation-with-security-parameters=false".to_owned(),
            "--request-timeout=30".to_owned(),
            // One worker: the order of requests stays the same run to run, and schemathesis'
            // threads trip Python 3.11's `SystemError: AST constructor recursion depth mismatch`.
            "--workers=1".to_owned(),
            "--no-color".to_owned(),
            // Not fuzzed: the event stream never ends (each request would only time out);
            // signing out, or changing the password (which ends the other sessions), would
            // end the session the rest of the run uses.
            "--exclude-path=/api/v1/events".to_owned(),
            "--exclude-path=/api/v1/auth/logout".to_owned(),
            "--exclude-path=/api/v1/auth/password".to_owned(),
        ];
        args.extend(tags.iter().map(|tag| format!("--include-tag={tag}")));
        eprintln!(
            "$ schemathesis {} --header 'Cookie: <{username}>'",
            args.iter().map(String::as_str).collect::<Vec<_>>().join(" ")
        );
        args.extend(["--header".to_owned(), format!("Cookie: {cookie}")]);
        let status = Command::new(schemathesis_binary())
            .args(&args)
            .current_dir(&work.0)
            .status()
            .map_err(|e| format!("cannot run schemathesis: {e}"))?;
        if !status.success() {
            failed.push(username);
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "schemathesis found answers the OpenAPI document does not describe (signed in as {}; \
             reports above)",
            failed.join(", ")
        ))
    }
}

/// What every answer is checked for.
const FUZZ_CHECKS: [&str; 5] = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
];

/// Test cases per operation and phase, and the seed: about a minute and a half on two cores.
const FUZZ_EXAMPLES: u32 = 40;
const FUZZ_SEED: u64 = 20_261_202;
