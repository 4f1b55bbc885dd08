//! `cargo verify`, `cargo demo` and `cargo xtask openapi`.
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
    let result = match args.first().map(String::as_str) {
        Some("verify") => verify(),
        Some("demo") => demo(),
        Some("openapi") => openapi(),
        _ => Err("usage: cargo verify | cargo demo | cargo xtask openapi".to_owned()),
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
