//! `beacon-bench`: measures a release `beacon` binary the way an operator would see it, on
//! SQLite and on PostgreSQL. Run it through `bench/run.sh`. Figures vary with the machine; the
//! script prints them with the machine's core count.
//!
//! Measured: cold start to the first `/healthz` 200; resident memory idle and after load;
//! sign-in throughput (bound by Argon2id by design); `GET /api/v1/users` latency under 64
//! concurrent clients with 10,000 users seeded; the duty roster through the engine and the
//! store; incident intake, live delivery of new incidents and the hop scheduler (`incident`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use beacon_core::audit::Actor;
use beacon_core::clock::SystemClock;
use beacon_core::org::{DisplayName, Role, Username};
use beacon_core::scope::Scope;
use beacon_store::org::NewUser;
use beacon_store::testing::TestDatabase;
use beacon_store::{Backend, ConnectOptions, Store};

mod cluster;
mod hazards;
mod import;
mod incident;
mod soak;

const USERS: usize = 10_000;
const CLIENTS: usize = 64;
const LIST_DURATION: Duration = Duration::from_secs(10);
const LOGINS: usize = 200;
const LOGIN_CONCURRENCY: usize = 8;
const DEMO_PASSWORD: &str = "Beacon@2026";
const BENCH_PASSWORD: &str = "Bench-Password-1";

struct Figures {
    backend: &'static str,
    cold_start: Duration,
    rss_idle_kib: u64,
    logins_per_second: f64,
    list_p50: Duration,
    list_p99: Duration,
    list_rps: f64,
    district_p99: Duration,
    rss_loaded_kib: u64,
    roster: RosterFigures,
    now_p50: Duration,
    now_p99: Duration,
    now_rps: f64,
    /// The workbench and the global search of the city's duty leader: p50, p99, per second.
    workbench: (Duration, Duration, f64),
    search: (Duration, Duration, f64),
    incident: incident::ServerFigures,
    rss_incident_kib: u64,
    scheduler: incident::SchedulerFigures,
}

#[tokio::main]
async fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let mut beacon = None;
    let mut roster_only = None;
    let mut incident_only = None;
    let mut import_only = None;
    let mut register_only = None;
    let mut hazards_only = None;
    let mut cluster = false;
    let mut soak = None;
    let mut load = None;
    let backend_of = |flag: &str, value: Option<String>| match value.as_deref() {
        Some("sqlite") => Ok(Backend::Sqlite),
        Some("postgres") => Ok(Backend::Postgres),
        _ => bail!("{flag} takes sqlite or postgres"),
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--beacon" => beacon = args.next().map(PathBuf::from),
            // Only the roster figures, on one backend: for profiling the duty store.
            "--roster-only" => roster_only = Some(backend_of(&arg, args.next())?),
            // Only the incident figures, on one backend.
            "--incident-only" => incident_only = Some(backend_of(&arg, args.next())?),
            // Only the 100,000-row Excel import, on one backend (issue 14).
            "--import-only" => import_only = Some(backend_of(&arg, args.next())?),
            // The register at 100,000 enterprises and 500,000 risk points (issue 14).
            "--register-only" => register_only = Some(backend_of(&arg, args.next())?),
            // The hidden-danger ledger at 1,000,000 rows, a campaign's progress, 10,000
            // deadlines fired (issue 15).
            "--hazards-only" => hazards_only = Some(backend_of(&arg, args.next())?),
            // Two instances on PostgreSQL and NATS against one (issue 12).
            "--cluster" => cluster = true,
            // A long mixed load: minutes, then the backend (issue 12).
            "--soak" => {
                let minutes = args.next().and_then(|m| m.parse().ok()).context("--soak MINUTES")?;
                soak = Some((minutes, backend_of(&arg, args.next())?));
            }
            // One list under 64 clients against a server already running (a kept bench
            // database, for profiling): base address, demo user, path.
            "--load" => {
                let mut next = || args.next().context("--load BASE USER PATH");
                load = Some((next()?, next()?, next()?));
            }
            other => bail!(
                "unknown argument {other}; usage: beacon-bench --beacon PATH [--roster-only sqlite|postgres] [--incident-only sqlite|postgres] [--import-only sqlite|postgres] [--register-only sqlite|postgres] [--hazards-only sqlite|postgres] [--cluster] [--soak MINUTES sqlite|postgres] | --load BASE USER PATH"
            ),
        }
    }
    if let Some((base, user, path)) = load {
        let (p50, p99, rate) = list_latency(&reqwest::Client::new(), &base, &user, &path).await?;
        println!(
            "{path}: p50 {:.1} ms, p99 {:.1} ms, {rate:.0}/s",
            p50.as_secs_f64() * 1000.0,
            p99.as_secs_f64() * 1000.0
        );
        return Ok(());
    }
    if let Some(backend) = roster_only {
        let (database, data) =
            seeded(beacon.as_ref().context("--beacon PATH is required")?, backend).await?;
        println!("{:?}", roster_bench(&database.url).await?);
        let _ = std::fs::remove_dir_all(&data);
        return Ok(());
    }
    if let Some((minutes, backend)) = soak {
        return soak::soak(&beacon.context("--beacon PATH is required")?, minutes, backend).await;
    }
    if cluster {
        return cluster::cluster_run(&beacon.context("--beacon PATH is required")?).await;
    }
    if let Some(backend) = hazards_only {
        return hazards::hazards_run(&beacon.context("--beacon PATH is required")?, backend).await;
    }
    if let Some(backend) = register_only {
        return import::register_run(&beacon.context("--beacon PATH is required")?, backend).await;
    }
    if let Some(backend) = import_only {
        return import::import_run(&beacon.context("--beacon PATH is required")?, backend).await;
    }
    if let Some(backend) = incident_only {
        return incident_only_run(&beacon.context("--beacon PATH is required")?, backend).await;
    }
    let beacon = beacon.context("--beacon PATH of the release binary is required")?;
    let machine = cluster::baseline(&beacon_store::testing::postgres_admin_url()).await?;
    machine.print();
    let mut all = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        eprintln!("--- {} ---", backend.name());
        all.push(measure(&beacon, backend).await?);
    }
    println!("| figure | SQLite | PostgreSQL | floor |");
    println!("|---|---|---|---|");
    let row = |name: &str, f: &dyn Fn(&Figures) -> String, floor: &str| {
        println!("| {name} | {} | {} | {floor} |", f(&all[0]), f(&all[1]));
    };
    row(
        "cold start to first /healthz 200",
        &|f| format!("{} ms", f.cold_start.as_millis()),
        "< 1000 ms",
    );
    row(
        "resident memory, idle",
        &|f| format!("{:.1} MiB", f.rss_idle_kib as f64 / 1024.0),
        "< 60 MiB",
    );
    row(
        "sign-ins per second (Argon2id, 19 MiB, t=2)",
        &|f| format!("{:.0}", f.logins_per_second),
        "bound by Argon2",
    );
    row(
        &format!("GET /api/v1/users p50, {CLIENTS} clients, {USERS} users"),
        &|f| format!("{:.1} ms", f.list_p50.as_secs_f64() * 1000.0),
        "",
    );
    row(
        "GET /api/v1/users p99",
        &|f| format!("{:.1} ms", f.list_p99.as_secs_f64() * 1000.0),
        "< 50 ms",
    );
    row("GET /api/v1/users requests per second", &|f| format!("{:.0}", f.list_rps), "");
    row(
        "GET /api/v1/users p99 as a district administrator (scope filter)",
        &|f| format!("{:.1} ms", f.district_p99.as_secs_f64() * 1000.0),
        "< 50 ms",
    );
    row(
        &format!(
            "one-year roster for {ROSTER_UNITS} units, generated and gap-checked by the engine"
        ),
        &|f| format!("{:.2} s", f.roster.engine.as_secs_f64()),
        "< 2 s",
    );
    row(
        &format!(
            "the same through the store: generated, saved ({} shifts, {} posts) and gap-checked from the database",
            ROSTER_UNITS * 365,
            ROSTER_UNITS * 365 * 4
        ),
        &|f| format!("{:.2} s", f.roster.stored.as_secs_f64()),
        "",
    );
    row(
        "gap check of one unit over a year, p50 / max of 50",
        &|f| {
            format!(
                "{:.1} / {:.1} ms",
                f.roster.gap_p50.as_secs_f64() * 1000.0,
                f.roster.gap_max.as_secs_f64() * 1000.0
            )
        },
        "< 20 ms",
    );
    row(
        &format!("GET /api/v1/duty/now p50 / p99, {CLIENTS} clients"),
        &|f| {
            format!(
                "{:.1} / {:.1} ms ({:.0}/s)",
                f.now_p50.as_secs_f64() * 1000.0,
                f.now_p99.as_secs_f64() * 1000.0,
                f.now_rps
            )
        },
        "",
    );
    let latency = |(p50, p99, rps): (Duration, Duration, f64)| {
        format!(
            "{:.1} / {:.1} ms ({rps:.0}/s)",
            p50.as_secs_f64() * 1000.0,
            p99.as_secs_f64() * 1000.0
        )
    };
    row(
        &format!("GET /api/v1/workbench p50 / p99, {CLIENTS} clients (city duty leader)"),
        &|f| latency(f.workbench),
        "",
    );
    row(
        &format!("GET /api/v1/search?q=江 p50 / p99, {CLIENTS} clients (city duty leader)"),
        &|f| latency(f.search),
        "",
    );
    row(
        "resident memory after the load",
        &|f| format!("{:.1} MiB", f.rss_loaded_kib as f64 / 1024.0),
        "",
    );
    let incident: Vec<_> =
        all.iter().map(|f| incident_rows(&f.incident, f.rss_incident_kib, &f.scheduler)).collect();
    for (i, (name, sqlite, floor)) in incident[0].iter().enumerate() {
        println!("| {name} | {sqlite} | {} | {floor} |", incident[1][i].1);
    }
    for f in &all {
        eprintln!("({} measured)", f.backend);
    }
    Ok(())
}

/// A fresh database with the demo city (`beacon seed-demo`), and the data directory used.
async fn seeded(beacon: &PathBuf, backend: Backend) -> Result<(TestDatabase, PathBuf)> {
    let database = TestDatabase::new(backend).await;
    let data = tempdir()?;
    let status = Command::new(beacon)
        .args(["--database", &database.url, "--data-dir", &data.to_string_lossy(), "seed-demo"])
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        bail!("seed-demo failed");
    }
    Ok((database, data))
}

/// Starts `beacon serve` on the database and waits for its first `/healthz` 200; returns the
/// server, its base URL and the cold start.
async fn start_server(
    beacon: &PathBuf,
    client: &reqwest::Client,
    url: &str,
    data: &std::path::Path,
) -> Result<(Server, String, Duration)> {
    start_server_with(beacon, client, url, data, &[]).await
}

/// [`start_server`] with more `serve` flags (`--bus-url`).
async fn start_server_with(
    beacon: &PathBuf,
    client: &reqwest::Client,
    url: &str,
    data: &std::path::Path,
    flags: &[String],
) -> Result<(Server, String, Duration)> {
    let port = free_port()?;
    let started = Instant::now();
    let server = Server(
        Command::new(beacon)
            .args([
                "--database",
                url,
                "--data-dir",
                &data.to_string_lossy(),
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
            ])
            .args(flags)
            .stdout(Stdio::null())
            // Kept in the data directory, which is removed only when the run succeeds.
            .stderr(std::fs::File::create(data.join("server.log"))?)
            .spawn()?,
    );
    let base = format!("http://127.0.0.1:{port}");
    loop {
        if let Ok(response) = client.get(format!("{base}/healthz")).send().await
            && response.status().is_success()
        {
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            bail!("beacon did not become healthy");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Ok((server, base, started.elapsed()))
}

/// `--incident-only`: the incident figures alone, on one backend, printed as a table.
async fn incident_only_run(beacon: &PathBuf, backend: Backend) -> Result<()> {
    let machine = cluster::baseline(&beacon_store::testing::postgres_admin_url()).await?;
    machine.print();
    let (database, data) = seeded(beacon, backend).await?;
    eprintln!("data and server log: {}", data.display());
    let client = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS * 2).build()?;
    let (mut server, base, _) = start_server(beacon, &client, &database.url, &data).await?;
    let figures = incident::server_figures(&client, &base, &database.url).await?;
    let rss_kib = rss_kib(server.0.id())?;
    server.stop();
    let (scheduler_database, scheduler_data) = seeded(beacon, backend).await?;
    let scheduler = incident::scheduler_bench(&scheduler_database.url).await?;
    println!("| figure | {} | floor |", backend.name());
    println!("|---|---|---|");
    for (name, value, floor) in incident_rows(&figures, rss_kib, &scheduler) {
        println!("| {name} | {value} | {floor} |");
    }
    println!(
        "\nintake with {CLIENTS} clients as ratios to this machine: {}",
        machine.ratios(figures.intake_rps, figures.intake_p99)
    );
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::fs::remove_dir_all(&scheduler_data);
    Ok(())
}

/// The incident rows of the table: name, value, floor.
fn incident_rows(
    f: &incident::ServerFigures,
    rss_kib: u64,
    s: &incident::SchedulerFigures,
) -> Vec<(String, String, &'static str)> {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    vec![
        (
            "POST /api/v1/incidents p50 / p99, one client alone".to_owned(),
            format!("{:.1} / {:.1} ms", ms(f.single_p50), ms(f.single_p99)),
            "",
        ),
        (
            format!(
                "POST /api/v1/incidents p50 / p99, {CLIENTS} clients, a district's duty officer"
            ),
            format!("{:.1} / {:.1} ms ({:.0}/s)", ms(f.intake_p50), ms(f.intake_p99), f.intake_rps),
            "p99 < 50 ms",
        ),
        (
            format!(
                "incident.created from the POST to each of {} city streams, p50 / p99 (max) of {}",
                incident::SSE_CLIENTS,
                incident::SSE_CLIENTS * incident::SSE_INCIDENTS
            ),
            format!("{:.1} / {:.1} ms ({:.1})", ms(f.sse_p50), ms(f.sse_p99), ms(f.sse_max)),
            "p99 < 100 ms",
        ),
        (
            "resident memory after the incident load".to_owned(),
            format!("{:.1} MiB", rss_kib as f64 / 1024.0),
            "",
        ),
        (
            format!("{} hop stages due at once, fired by the scheduler", incident::HOPS),
            format!(
                "{:.2} s ({} stages, {} notifications)",
                s.fire.as_secs_f64(),
                s.fired,
                s.notifications
            ),
            "< 5 s",
        ),
        (
            format!(
                "set-up of the above: {} incidents registered through the store, 4 at a time",
                incident::HOPS
            ),
            format!("{:.1} s", s.setup.as_secs_f64()),
            "",
        ),
    ]
}

async fn measure(beacon: &PathBuf, backend: Backend) -> Result<Figures> {
    let (database, data) = seeded(beacon, backend).await?;
    eprintln!("data and server log: {}", data.display());
    seed_users(&database.url).await?;

    let client = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS * 2).build()?;
    let (mut server, base, cold_start) =
        start_server(beacon, &client, &database.url, &data).await?;
    eprintln!("cold start {cold_start:?}");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle_kib = rss_kib(server.0.id())?;

    // Sign-in throughput: distinct bench accounts, a few at a time.
    let started = Instant::now();
    let logins = futures::future::try_join_all((0..LOGIN_CONCURRENCY).map(|worker| {
        let client = client.clone();
        let base = base.clone();
        async move {
            for i in (worker..LOGINS).step_by(LOGIN_CONCURRENCY) {
                let response = client
                    .post(format!("{base}/api/v1/auth/login"))
                    .json(&serde_json::json!({ "username": format!("bench{i:05}"), "password": BENCH_PASSWORD }))
                    .send()
                    .await?;
                if !response.status().is_success() {
                    bail!("sign-in failed: {}", response.status());
                }
            }
            anyhow::Ok(())
        }
    }))
    .await;
    logins?;
    let logins_per_second = LOGINS as f64 / started.elapsed().as_secs_f64();
    eprintln!("sign-ins {logins_per_second:.1}/s");

    // List latency: the system administrator at the top of the tree sees all users; a district's
    // administrator sees the district's share through the scope filter.
    let city = list_latency(&client, &base, "sysadmin", "/api/v1/users").await?;
    eprintln!("list (city) p50 {:?} p99 {:?} ({:.0}/s)", city.0, city.1, city.2);
    let district = list_latency(&client, &base, "jiangnan.admin", "/api/v1/users").await?;
    let on_duty =
        list_latency(&client, &base, "duty.officer", "/api/v1/duty/now?unit=990100").await?;
    eprintln!("duty/now p50 {:?} p99 {:?} ({:.0}/s)", on_duty.0, on_duty.1, on_duty.2);
    eprintln!("list (district) p50 {:?} p99 {:?} ({:.0}/s)", district.0, district.1, district.2);
    let workbench = list_latency(&client, &base, "duty.leader", "/api/v1/workbench").await?;
    eprintln!("workbench p50 {:?} p99 {:?} ({:.0}/s)", workbench.0, workbench.1, workbench.2);
    // "江" matches most units and many incidents: every group of the search is filled.
    let search =
        list_latency(&client, &base, "duty.leader", "/api/v1/search?q=%E6%B1%9F&limit=5").await?;
    eprintln!("search p50 {:?} p99 {:?} ({:.0}/s)", search.0, search.1, search.2);
    let rss_loaded_kib = rss_kib(server.0.id())?;
    // After the figures above, which they would otherwise weigh on (thousands of incidents).
    let incident = incident::server_figures(&client, &base, &database.url).await?;
    let rss_incident_kib = rss_kib(server.0.id())?;
    server.stop();
    // After the server's figures, so that 365,000 new rows (and the database's own upkeep after
    // them) do not weigh on the measurements above.
    let roster = roster_bench(&database.url).await?;
    eprintln!("{roster:?}");
    // The scheduler on a database of its own: the incidents above have clocks running too.
    let (scheduler_database, scheduler_data) = seeded(beacon, backend).await?;
    let scheduler = incident::scheduler_bench(&scheduler_database.url).await?;
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::fs::remove_dir_all(&scheduler_data);
    Ok(Figures {
        backend: backend.name(),
        cold_start,
        rss_idle_kib,
        logins_per_second,
        list_p50: city.0,
        list_p99: city.1,
        list_rps: city.2,
        district_p99: district.1,
        rss_loaded_kib,
        roster,
        now_p50: on_duty.0,
        now_p99: on_duty.1,
        now_rps: on_duty.2,
        workbench,
        search,
        incident,
        rss_incident_kib,
        scheduler,
    })
}

/// p50, p99 and throughput of `GET /api/v1/users` for one account under [`CLIENTS`] clients.
async fn list_latency(
    client: &reqwest::Client,
    base: &str,
    username: &str,
    path: &str,
) -> Result<(Duration, Duration, f64)> {
    let cookie = sign_in(client, base, username).await?;
    let deadline = Instant::now() + LIST_DURATION;
    let address = base.trim_start_matches("http://").to_owned();
    let tasks = (0..CLIENTS).map(|_| {
        let address = address.clone();
        let cookie = cookie.clone();
        let path = path.to_owned();
        tokio::spawn(async move {
            // One kept-alive connection per client, written to directly: a general-purpose
            // client costs more CPU than the server it measures on a two-core machine.
            let mut connection = KeepAlive::connect(&address).await?;
            let request =
                format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\n\r\n");
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let sent = Instant::now();
                let status = connection.exchange(request.as_bytes()).await?;
                if status != 200 {
                    bail!("list failed: {status}");
                }
                latencies.push(sent.elapsed());
            }
            anyhow::Ok(latencies)
        })
    });
    gather(tasks, LIST_DURATION, "no request completed").await
}

/// p50, p99 and throughput of the latencies the client tasks measured over `duration`.
async fn gather(
    tasks: impl IntoIterator<Item = tokio::task::JoinHandle<Result<Vec<Duration>>>>,
    duration: Duration,
    none: &str,
) -> Result<(Duration, Duration, f64)> {
    let mut latencies = Vec::new();
    for task in futures::future::join_all(tasks).await {
        latencies.extend(task??);
    }
    latencies.sort();
    if latencies.is_empty() {
        bail!("{none}");
    }
    Ok((
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        latencies.len() as f64 / duration.as_secs_f64(),
    ))
}

/// Signs a demo account in; returns its session cookie (`name=value`).
async fn sign_in(client: &reqwest::Client, base: &str, username: &str) -> Result<String> {
    let response = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({ "username": username, "password": DEMO_PASSWORD }))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("sign-in of {username} failed: {}", response.status());
    }
    Ok(response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("no session cookie")?
        .to_owned())
}

/// The `p` quantile of sorted, non-empty latencies.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p) as usize).min(sorted.len() - 1)]
}

/// Units of the roster benchmark, each with 3 duty leaders and 8 duty officers.
const ROSTER_UNITS: usize = 200;

#[derive(Debug)]
struct RosterFigures {
    /// A year for every unit, generated and gap-checked in memory.
    engine: Duration,
    /// The same through the store: generated, saved and gap-checked from the database.
    stored: Duration,
    gap_p50: Duration,
    gap_max: Duration,
}

/// Generates and gap-checks a year of roster for [`ROSTER_UNITS`] new units, by the engine
/// alone and through the store (as the API does), then times the gap check of one unit over
/// the year.
async fn roster_bench(url: &str) -> Result<RosterFigures> {
    use beacon_core::org::{UnitCode, UnitLevel, UnitName};
    use beacon_store::org::NewUnit;
    let store = Store::connect(url, &ConnectOptions::default(), Arc::new(SystemClock)).await?;
    let actor = Actor::system("bench");
    let scope = Scope::Global;
    let city = store.get_unit_by_code(&scope, "990100").await?.id;
    let hash =
        beacon_api::Passwords::new(Default::default())?.hash(BENCH_PASSWORD.to_owned()).await?;
    let mut units = Vec::new();
    let mut people = Vec::new();
    for i in 0..ROSTER_UNITS {
        let unit = store
            .create_unit(
                &scope,
                &actor,
                NewUnit {
                    parent_id: Some(city.clone()),
                    code: UnitCode::parse(&format!("990100-R{i:03}"))
                        .map_err(anyhow::Error::msg)?,
                    name: UnitName::parse(&format!("排班测试单位{i}"))
                        .map_err(anyhow::Error::msg)?,
                    level: UnitLevel::Department,
                    sort_order: 1000 + i as i64,
                    boundary: None,
                },
            )
            .await?;
        for p in 0..11 {
            people.push(NewUser {
                username: Username::parse(&format!("r{i:03}.{p:02}"))
                    .map_err(anyhow::Error::msg)?,
                display_name: DisplayName::parse(&format!("排班{i}-{p}"))
                    .map_err(anyhow::Error::msg)?,
                phone: None,
                unit_id: unit.id.clone(),
                roles: vec![if p < 3 { Role::DutyLeader } else { Role::DutyOfficer }],
                password_hash: hash.clone(),
                must_change_password: false,
            });
        }
        units.push(unit.id);
    }
    for chunk in people.chunks(1000) {
        store.bulk_create_users(&actor, chunk).await?;
    }
    let calendar = store.work_calendar().await?;
    let from = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).context("date")?;
    let to = chrono::NaiveDate::from_ymd_opt(2026, 12, 31).context("date")?;
    let window = (
        chrono::DateTime::parse_from_rfc3339("2026-01-01T00:30:00Z")?.to_utc(),
        chrono::DateTime::parse_from_rfc3339("2027-01-01T00:30:00Z")?.to_utc(),
    );
    let started = Instant::now();
    for unit in &units {
        store.generate_roster(&scope, &actor, unit, from, to, false, &calendar).await?;
        let gaps = store.duty_gaps(&scope, unit, window.0, window.1).await?;
        if !gaps.is_empty() {
            bail!("the generated roster has {} gaps", gaps.len());
        }
    }
    let year = started.elapsed();
    let mut samples = Vec::new();
    for _ in 0..50 {
        let started = Instant::now();
        store.duty_gaps(&scope, &units[0], window.0, window.1).await?;
        samples.push(started.elapsed());
    }
    samples.sort();
    store.close().await;
    Ok(RosterFigures {
        engine: roster_engine_bench(&calendar)?,
        stored: year,
        gap_p50: samples[samples.len() / 2],
        gap_max: samples[samples.len() - 1],
    })
}

/// The roster engine alone (`beacon_core::duty`): generates and gap-checks a year for
/// [`ROSTER_UNITS`] units of 3 duty leaders and 8 duty officers, in memory, with the same
/// default pattern and staffing rules as the store's run.
fn roster_engine_bench(calendar: &beacon_core::calendar::WorkCalendar) -> Result<Duration> {
    use beacon_core::duty::{
        Candidate, DutyRules, DutySettings, GapShift, Requirement, RotaInput, find_gaps, generate,
    };
    use beacon_core::org::UnitLevel;
    let settings = DutySettings::default();
    let rules = DutyRules::default();
    let rule = rules.staffing_for(UnitLevel::Department);
    let base = Requirement { leaders: rule.leaders, min_staff: rule.min_staff };
    let from = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).context("date")?;
    let to = chrono::NaiveDate::from_ymd_opt(2026, 12, 31).context("date")?;
    let existing = Default::default();
    let started = Instant::now();
    for i in 0..ROSTER_UNITS {
        let candidates: Vec<Candidate> = (0..11)
            .map(|p| Candidate {
                user_id: format!("r{i:03}.{p:02}"),
                roles: vec![if p < 3 { Role::DutyLeader } else { Role::DutyOfficer }],
            })
            .collect();
        let generated = generate(&RotaInput {
            settings: &settings,
            rules: &rules,
            base,
            periods: &[],
            candidates: &candidates,
            leaves: &[],
            busy: &[],
            existing: &existing,
            calendar,
            from,
            to,
        });
        let shifts: Vec<GapShift> = generated
            .shifts
            .iter()
            .enumerate()
            .map(|(n, s)| GapShift {
                id: n.to_string(),
                starts_at: s.starts_at,
                ends_at: s.ends_at,
                people: s.assignments.iter().map(|(_, kind, user)| (*kind, user.clone())).collect(),
            })
            .collect();
        let (Some(first), Some(last)) = (shifts.first(), shifts.last()) else {
            bail!("the engine generated no shifts");
        };
        let gaps = find_gaps(
            first.starts_at,
            last.ends_at,
            &shifts,
            base,
            &[],
            &[],
            settings.max_consecutive,
        );
        if !gaps.is_empty() {
            bail!("the engine's roster has {} gaps", gaps.len());
        }
    }
    Ok(started.elapsed())
}

/// 10,000 accounts spread over the demo units, with one precomputed password hash.
async fn seed_users(url: &str) -> Result<()> {
    let store = Store::connect(url, &ConnectOptions::default(), Arc::new(SystemClock)).await?;
    let units: Vec<String> =
        store.list_units(&Scope::Global).await?.into_iter().map(|u| u.id).collect();
    let hash =
        beacon_api::Passwords::new(Default::default())?.hash(BENCH_PASSWORD.to_owned()).await?;
    let roles = [Role::Staff, Role::DutyOfficer, Role::Inspector, Role::Viewer];
    let users: Vec<NewUser> = (0..USERS)
        .map(|i| {
            Ok(NewUser {
                username: Username::parse(&format!("bench{i:05}")).map_err(anyhow::Error::msg)?,
                display_name: DisplayName::parse(&format!("测试用户{i}"))
                    .map_err(anyhow::Error::msg)?,
                phone: None,
                unit_id: units[i % units.len()].clone(),
                roles: vec![roles[i % roles.len()]],
                password_hash: hash.clone(),
                must_change_password: false,
            })
        })
        .collect::<Result<_>>()?;
    for chunk in users.chunks(1000) {
        store.bulk_create_users(&Actor::system("bench"), chunk).await?;
    }
    store.close().await;
    Ok(())
}

struct Server(Child);

impl Server {
    fn stop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn rss_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("VmRSS not found")
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn tempdir() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "beacon-bench-{}-{}",
        std::process::id(),
        beacon_core::id::new_id()
    ));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// A minimal HTTP/1.1 keep-alive connection for the latency measurement.
struct KeepAlive {
    stream: tokio::io::BufReader<tokio::net::TcpStream>,
}

impl KeepAlive {
    async fn connect(address: &str) -> Result<Self> {
        let stream = tokio::net::TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        Ok(Self { stream: tokio::io::BufReader::new(stream) })
    }

    /// Sends one request and reads the whole response; returns its status.
    async fn exchange(&mut self, request: &[u8]) -> Result<u16> {
        Ok(self.request(request).await?.0)
    }

    /// Sends one request and reads the whole response; returns its status and body.
    async fn request(&mut self, request: &[u8]) -> Result<(u16, Vec<u8>)> {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
        self.stream.get_mut().write_all(request).await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("bad status line")?;
        let mut length = 0_usize;
        loop {
            line.clear();
            self.stream.read_line(&mut line).await?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse()?;
            }
        }
        let mut body = vec![0; length];
        self.stream.read_exact(&mut body).await?;
        Ok((status, body))
    }
}
