//! The incident figures (issue 4): intake latency under [`CLIENTS`] concurrent clients, live
//! delivery of `incident.created` to [`SSE_CLIENTS`] open event streams, and the scheduler
//! firing [`HOPS`] due hop stages at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use beacon_core::audit::Actor;
use beacon_core::clock::ManualClock;
use beacon_core::incident::{Casualties, IncidentKind, Source};
use beacon_core::org::UnitLevel;
use beacon_core::scope::Scope;
use beacon_store::audit::ChainStatus;
use beacon_store::incident::{HOP_DEADLINE, NewIncident};
use beacon_store::{ConnectOptions, Store};
use futures::StreamExt;

use crate::{CLIENTS, KeepAlive, percentile, sign_in};

/// How long the intake load runs.
const INTAKE_DURATION: Duration = Duration::from_secs(10);
/// How long one client registers alone first.
const SINGLE_DURATION: Duration = Duration::from_secs(3);
/// Open event streams of the city's duty desk.
pub const SSE_CLIENTS: usize = 200;
/// Incidents a district desk registers one at a time while the streams listen.
pub const SSE_INCIDENTS: usize = 100;
const SSE_SPACING: Duration = Duration::from_millis(100);
/// Hop stages due at the same moment for the scheduler.
pub const HOPS: usize = 10_000;
/// The scheduler's batches (`beacon_api::notify`): stages read per pass, and claimed and fired
/// per transaction.
const DUE_READ: i64 = 2000;
const FIRE_BATCH: usize = 250;

/// What is measured against a running server.
#[derive(Debug)]
pub struct ServerFigures {
    /// One client alone: the cost of a registration without queueing.
    pub single_p50: Duration,
    pub single_p99: Duration,
    pub intake_p50: Duration,
    pub intake_p99: Duration,
    pub intake_rps: f64,
    pub sse_p50: Duration,
    pub sse_p99: Duration,
    pub sse_max: Duration,
}

/// Intake under load, then live delivery to the city's open streams.
pub async fn server_figures(
    client: &reqwest::Client,
    base: &str,
    database_url: &str,
) -> Result<ServerFigures> {
    let counter = Arc::new(AtomicUsize::new(0));
    let bases = [base.to_owned()];
    let (single_p50, single_p99, single_rps) =
        intake_latency(client, &bases, &counter, 1, SINGLE_DURATION).await?;
    eprintln!("intake alone p50 {single_p50:?} p99 {single_p99:?} ({single_rps:.0}/s)");
    analyze(database_url).await?;
    let (intake_p50, intake_p99, intake_rps) =
        intake_latency(client, &bases, &counter, CLIENTS, INTAKE_DURATION).await?;
    eprintln!(
        "intake p50 {intake_p50:?} p99 {intake_p99:?} ({intake_rps:.0}/s, {} incidents)",
        counter.load(Ordering::Relaxed)
    );
    let (sse_p50, sse_p99, sse_max) = sse_delivery(client, base, base, &counter).await?;
    eprintln!("sse delivery p50 {sse_p50:?} p99 {sse_p99:?} max {sse_max:?}");
    Ok(ServerFigures {
        single_p50,
        single_p99,
        intake_p50,
        intake_p99,
        intake_rps,
        sse_p50,
        sse_p99,
        sse_max,
    })
}

/// On PostgreSQL, gathers the planner's statistics as autovacuum does on a live database
/// (within a minute of a table growing by a tenth). The demo database holds a dozen incidents
/// and the load phase adds thousands within seconds: plans made for the seeded table (a
/// sequential scan of a dozen rows) would otherwise be measured, which a running deployment
/// never keeps.
pub(crate) async fn analyze(database_url: &str) -> Result<()> {
    on_postgres(database_url, "ANALYZE").await
}

/// Runs one statement on PostgreSQL (nothing on SQLite).
pub(crate) async fn on_postgres(database_url: &str, statement: &str) -> Result<()> {
    if !database_url.starts_with("postgres") {
        return Ok(());
    }
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(database_url).await?;
    sqlx::raw_sql(statement).execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// The body of the `n`th incident a bench registers. Each has a point of its own on a grid
/// about 3 km apart (and kinds rotate), so the duplicate guard (same kind, 6 h, 2 km) never
/// refuses one and `allow_duplicate` is not needed; every tenth has three deaths
/// (`relatively_serious`, one more hop).
pub(crate) fn incident_body(title: &str, n: usize) -> String {
    let kind = IncidentKind::ALL[n % IncidentKind::ALL.len()];
    let occurred_at = chrono::Utc::now() - chrono::Duration::minutes(10);
    serde_json::json!({
        "kind": kind.as_str(),
        "title": format!("{title}{n}"),
        "occurred_at": occurred_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "place": format!("江南区测试路{n}号"),
        "lon": 116.0 + (n % 200) as f64 * 0.03,
        "lat": 28.0 + (n / 200) as f64 * 0.03,
        "deaths": if n.is_multiple_of(10) { 3 } else { n % 3 },
        "serious_injuries": n % 5,
        "minor_injuries": n % 7,
        "direct_loss_cny": (n % 50) * 100_000,
        "description": "基准测试：现场人员报告情况，已通知相关部门赶赴现场。",
        "reporter": "张三",
        "reporter_phone": "13900000000",
    })
    .to_string()
}

fn post_request(address: &str, cookie: &str, body: &str) -> String {
    format!(
        "POST /api/v1/incidents HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// p50, p99 and throughput of `POST /api/v1/incidents` as a district's duty officer under
/// `clients` clients, each on its own kept-alive connection, for `duration`. With several
/// instances (`bases`), client i talks to instance i mod n, as a round-robin load balancer
/// spreads kept-alive connections.
pub(crate) async fn intake_latency(
    client: &reqwest::Client,
    bases: &[String],
    counter: &Arc<AtomicUsize>,
    clients: usize,
    duration: Duration,
) -> Result<(Duration, Duration, f64)> {
    let cookie = sign_in(client, &bases[0], "jiangnan.officer").await?;
    let deadline = Instant::now() + duration;
    let tasks = (0..clients).map(|i| {
        let address = bases[i % bases.len()].trim_start_matches("http://").to_owned();
        let cookie = cookie.clone();
        let counter = counter.clone();
        tokio::spawn(async move {
            let mut connection = KeepAlive::connect(&address).await?;
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let request = post_request(&address, &cookie, &incident_body("录入测试", n));
                let sent = Instant::now();
                let (status, body) = connection.request(request.as_bytes()).await?;
                if status != 201 {
                    bail!("intake failed: {status} {}", String::from_utf8_lossy(&body));
                }
                latencies.push(sent.elapsed());
            }
            anyhow::Ok(latencies)
        })
    });
    crate::gather(tasks, duration, "no incident registered").await
}

/// p50, p99 and maximum over every delivery of `incident.created` to [`SSE_CLIENTS`] streams
/// of the city's duty officer on instance `read`, from just before the district's `POST` to
/// instance `write` was sent to the moment the stream delivered the event.
pub(crate) async fn sse_delivery(
    client: &reqwest::Client,
    read: &str,
    write: &str,
    counter: &Arc<AtomicUsize>,
) -> Result<(Duration, Duration, Duration)> {
    const TITLE: &str = "推送测试";
    // One session opens every stream: the server sets no limit of streams per session.
    let city = sign_in(client, read, "duty.officer").await?;
    let district = sign_in(client, write, "jiangnan.officer").await?;
    let address = read.trim_start_matches("http://").to_owned();
    let write_address = write.trim_start_matches("http://").to_owned();
    let mut streams = Vec::new();
    for _ in 0..SSE_CLIENTS {
        streams.push(EventStream::open(&address, &city).await?);
    }
    let first = counter.fetch_add(SSE_INCIDENTS, Ordering::Relaxed);
    let listeners: Vec<_> = streams
        .into_iter()
        .map(|mut stream| {
            tokio::spawn(async move {
                let mut received = Vec::with_capacity(SSE_INCIDENTS);
                while received.len() < SSE_INCIDENTS {
                    let data = tokio::time::timeout(Duration::from_secs(10), stream.next_data())
                        .await
                        .context("an event stream fell silent")??;
                    let at = Instant::now();
                    let event: serde_json::Value = serde_json::from_str(&data)?;
                    if event["kind"] != "incident.created" {
                        continue;
                    }
                    let Some(n) = event["data"]["title"]
                        .as_str()
                        .and_then(|t| t.strip_prefix(TITLE))
                        .and_then(|n| n.parse::<usize>().ok())
                    else {
                        continue;
                    };
                    received.push((n - first, at));
                }
                anyhow::Ok(received)
            })
        })
        .collect();
    let mut connection = KeepAlive::connect(&write_address).await?;
    let mut sent = Vec::with_capacity(SSE_INCIDENTS);
    let mut tick = tokio::time::interval(SSE_SPACING);
    for i in 0..SSE_INCIDENTS {
        tick.tick().await;
        let request = post_request(&write_address, &district, &incident_body(TITLE, first + i));
        sent.push(Instant::now());
        let (status, body) = connection.request(request.as_bytes()).await?;
        if status != 201 {
            bail!("intake failed: {status} {}", String::from_utf8_lossy(&body));
        }
    }
    let mut latencies = Vec::with_capacity(SSE_CLIENTS * SSE_INCIDENTS);
    for listener in futures::future::join_all(listeners).await {
        for (i, at) in listener?? {
            latencies.push(at - sent[i]);
        }
    }
    if latencies.len() != SSE_CLIENTS * SSE_INCIDENTS {
        bail!("{} of {} deliveries", latencies.len(), SSE_CLIENTS * SSE_INCIDENTS);
    }
    latencies.sort();
    Ok((percentile(&latencies, 0.50), percentile(&latencies, 0.99), latencies[latencies.len() - 1]))
}

/// `GET /api/v1/events` read straight off the socket (chunked transfer encoding).
pub(crate) struct EventStream {
    stream: tokio::io::BufReader<tokio::net::TcpStream>,
    /// Decoded body not yet split into events.
    pending: Vec<u8>,
}

impl EventStream {
    pub(crate) async fn open(address: &str, cookie: &str) -> Result<Self> {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
        let stream = tokio::net::TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        let mut stream = tokio::io::BufReader::new(stream);
        let request = format!(
            "GET /api/v1/events HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\n\
             Accept: text/event-stream\r\n\r\n"
        );
        stream.get_mut().write_all(request.as_bytes()).await?;
        let mut line = String::new();
        stream.read_line(&mut line).await?;
        if line.split_whitespace().nth(1) != Some("200") {
            bail!("event stream refused: {}", line.trim_end());
        }
        let mut chunked = false;
        loop {
            line.clear();
            stream.read_line(&mut line).await?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':')
                && name.eq_ignore_ascii_case("transfer-encoding")
            {
                chunked = value.trim().eq_ignore_ascii_case("chunked");
            }
        }
        if !chunked {
            bail!("the event stream is not chunked");
        }
        Ok(Self { stream, pending: Vec::new() })
    }

    /// The `data:` of the next event (keep-alive comments skipped).
    pub(crate) async fn next_data(&mut self) -> Result<String> {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt};
        loop {
            if let Some(end) = self.pending.windows(2).position(|w| w == b"\n\n") {
                let event: Vec<u8> = self.pending.drain(..end + 2).collect();
                let event = String::from_utf8(event)?;
                let data: Vec<&str> =
                    event.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim).collect();
                if !data.is_empty() {
                    return Ok(data.join("\n"));
                }
                continue;
            }
            let mut size = String::new();
            self.stream.read_line(&mut size).await?;
            let size = usize::from_str_radix(size.trim(), 16).context("bad chunk size")?;
            if size == 0 {
                bail!("the event stream ended");
            }
            let start = self.pending.len();
            self.pending.resize(start + size + 2, 0);
            self.stream.read_exact(&mut self.pending[start..]).await?;
            self.pending.truncate(start + size);
        }
    }
}

#[derive(Debug)]
pub struct SchedulerFigures {
    /// Registering the incidents through the store (set-up, not measured against a floor).
    pub setup: Duration,
    /// The scheduler's passes over everything due.
    pub fire: Duration,
    /// Stages fired: the [`HOPS`] hop stages and any other stage due in the same minutes.
    pub fired: usize,
    pub notifications: usize,
}

/// [`HOPS`] incidents registered through the store at the demo's districts and townships, each
/// with its report to the city (`county_to_city`) due five minutes after the store's clock, so
/// that only its `overdue` stage is left (the reminders were already past at scheduling); the
/// clock then moves six minutes on and the scheduler's passes fire everything due.
pub async fn scheduler_bench(url: &str) -> Result<SchedulerFigures> {
    let clock = ManualClock::new(chrono::Utc::now());
    let store = Store::connect(url, &ConnectOptions::default(), Arc::new(clock.clone())).await?;
    // Whatever the demo left due (its open incident, the roster's reminders) first.
    fire_due(&store).await?;
    let units: Vec<String> = store
        .list_units(&Scope::Global)
        .await?
        .into_iter()
        .filter(|u| matches!(u.level, UnitLevel::District | UnitLevel::Township))
        .map(|u| u.id)
        .collect();
    let now = store.now();
    // Registered at a district or township, the first hop is done at intake; the report to
    // the city is due 120 minutes after that.
    let reported_at = now - chrono::Duration::minutes(115);
    let started = Instant::now();
    let actor = Actor::system("bench");
    let created: Vec<Result<String>> = futures::stream::iter(0..HOPS)
        .map(|n| {
            let store = &store;
            let actor = &actor;
            let unit_id = units[n % units.len()].clone();
            async move {
                let incident = store
                    .create_incident(
                        &Scope::Global,
                        actor,
                        NewIncident {
                            kind: IncidentKind::ALL[n % IncidentKind::ALL.len()],
                            title: format!("调度测试{n}"),
                            unit_id,
                            occurred_at: reported_at - chrono::Duration::minutes(20),
                            reported_at,
                            place: format!("测试地点{n}"),
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
                    .await?;
                if incident.obligations.iter().filter(|o| o.done_at.is_none()).count() != 1 {
                    bail!("expected one open hop: {:?}", incident.obligations);
                }
                Ok(incident.id)
            }
        })
        .buffer_unordered(4)
        .collect()
        .await;
    let ids = created.into_iter().collect::<Result<std::collections::HashSet<String>>>()?;
    let setup = started.elapsed();
    eprintln!("{HOPS} incidents registered through the store in {setup:?}");
    clock.advance(chrono::Duration::minutes(6));
    let due = store.due_stages(10 * HOPS as i64).await?;
    let hops = due
        .iter()
        .filter(|d| {
            d.kind == HOP_DEADLINE
                && d.stage == "overdue"
                && d.subject_id.split_once(':').is_some_and(|(id, _)| ids.contains(id))
        })
        .count();
    if hops != HOPS {
        bail!("{hops} hop stages due, expected {HOPS}");
    }
    let started = Instant::now();
    let (fired, notifications) = fire_due(&store).await?;
    let fire = started.elapsed();
    if due.len() > HOPS {
        eprintln!("({} other stages were due in the same minutes)", due.len() - HOPS);
    }
    if fired != due.len() {
        bail!("{fired} stages fired of {} due", due.len());
    }
    if !store.due_stages(1).await?.is_empty() {
        bail!("stages still due after the scheduler's run");
    }
    // The overdue hops' audit records are chained in batches: the chain must still verify.
    let chain = store.verify_audit_chain().await?;
    if !matches!(chain, ChainStatus::Intact { .. }) {
        bail!("audit chain after the scheduler's run: {chain:?}");
    }
    store.close().await;
    Ok(SchedulerFigures { setup, fire, fired, notifications })
}

/// What `beacon_api::notify::run_due_deadlines` does, with the store's own functions (the
/// bench has no `AppState`): read due stages, claim and fire them [`FIRE_BATCH`] to a
/// transaction, and turn the deliveries into the live events' payloads. Returns the stages
/// fired and the notifications written.
async fn fire_due(store: &Store) -> Result<(usize, usize)> {
    let mut fired = 0;
    let mut notifications = 0;
    loop {
        let due = store.due_stages(DUE_READ).await?;
        if due.is_empty() {
            return Ok((fired, notifications));
        }
        let mut claimed_any = false;
        for chunk in due.chunks(FIRE_BATCH) {
            let mut tx = store.begin().await?;
            let mut hops = Vec::new();
            let mut deliveries = Vec::new();
            let mut claimed = 0;
            for stage in chunk {
                if !store.claim_stage(&mut tx, stage).await? {
                    continue;
                }
                claimed += 1;
                match stage.kind.as_str() {
                    "duty.shift" => {
                        deliveries.extend(store.fire_shift_stage(&mut tx, stage, false).await?)
                    }
                    HOP_DEADLINE => hops.push(stage.clone()),
                    other => bail!("deadline of unknown kind {other}"),
                }
            }
            if !hops.is_empty() {
                deliveries.extend(store.fire_hop_stages(&mut tx, &hops, false).await?);
            }
            tx.commit().await?;
            notifications += deliveries.len();
            for d in deliveries {
                std::hint::black_box(serde_json::to_value(&d.notification)?);
            }
            claimed_any |= claimed > 0;
            fired += claimed;
        }
        if !claimed_any {
            return Ok((fired, notifications));
        }
    }
}
