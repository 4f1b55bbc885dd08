//! The province deployment (issue 12): two `beacon serve` instances on one PostgreSQL and one
//! NATS JetStream, against one instance alone on the same database and bus; and the machine's
//! own baseline, measured first, so that every figure can also be read as a ratio that travels
//! between machines.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use beacon_store::Backend;
use beacon_store::testing::NatsServer;
use sqlx::Connection;

use crate::incident::{analyze, intake_latency, sse_delivery};
use crate::{CLIENTS, KeepAlive, seeded, start_server_with, tempdir};

/// How long each baseline and each intake phase runs.
const BASELINE: Duration = Duration::from_secs(3);
const INTAKE: Duration = Duration::from_secs(10);
const WARM_UP: Duration = Duration::from_secs(3);

/// What this machine does with no Beacon in the way.
#[derive(Debug, Clone, Copy)]
pub struct Baseline {
    /// Single-row SQLite transactions per second (WAL, synchronous=NORMAL, as Beacon runs it).
    pub sqlite_commits: f64,
    /// Single-row PostgreSQL inserts per second on one connection (pgbench's trivial insert).
    pub pg_inserts: f64,
    /// Requests per second of a loopback HTTP/1.1 echo with kept-alive connections from
    /// [`CLIENTS`] clients (the load generator's and the kernel's share of every request).
    pub echo_rps: f64,
}

impl Baseline {
    pub fn print(&self) {
        println!(
            "machine baseline: SQLite {:.0} commits/s · PostgreSQL {:.0} inserts/s · loopback HTTP echo {:.0} requests/s ({CLIENTS} clients)",
            self.sqlite_commits, self.pg_inserts, self.echo_rps
        );
    }

    /// A throughput as a share of the echo rate, and a latency in units of one echo request
    /// at that rate per client: both should read about the same on any machine.
    pub fn ratios(&self, rps: f64, p99: Duration) -> String {
        let per_client = CLIENTS as f64 / self.echo_rps;
        format!(
            "{:.1} % of echo rate; p99 = {:.0} echo round trips",
            100.0 * rps / self.echo_rps,
            p99.as_secs_f64() / per_client
        )
    }
}

/// Measures the machine: SQLite commits, PostgreSQL inserts and a loopback HTTP echo.
pub async fn baseline(postgres_url: &str) -> Result<Baseline> {
    let dir = tempdir()?;
    let url = format!("sqlite://{}?mode=rwc", dir.join("baseline.db").display());
    let mut sqlite = sqlx::SqliteConnection::connect(&url).await?;
    sqlx::query("PRAGMA journal_mode = WAL").execute(&mut sqlite).await?;
    sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut sqlite).await?;
    sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)")
        .execute(&mut sqlite)
        .await?;
    let sqlite_commits = rate(async || {
        sqlx::query("INSERT INTO t (v) VALUES ($1)").bind("x").execute(&mut sqlite).await?;
        Ok(())
    })
    .await?;
    sqlite.close().await?;
    let _ = std::fs::remove_dir_all(&dir);

    let mut pg = sqlx::PgConnection::connect(postgres_url).await?;
    sqlx::query("CREATE TEMPORARY TABLE beacon_baseline (v TEXT NOT NULL)")
        .execute(&mut pg)
        .await?;
    let pg_inserts = rate(async || {
        sqlx::query("INSERT INTO beacon_baseline (v) VALUES ($1)")
            .bind("x")
            .execute(&mut pg)
            .await?;
        Ok(())
    })
    .await?;
    pg.close().await?;

    Ok(Baseline { sqlite_commits, pg_inserts, echo_rps: echo().await? })
}

/// How many times per second `step` runs, over [`BASELINE`].
async fn rate(mut step: impl AsyncFnMut() -> Result<()>) -> Result<f64> {
    let started = Instant::now();
    let mut n = 0_u64;
    while started.elapsed() < BASELINE {
        step().await?;
        n += 1;
    }
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// A minimal HTTP/1.1 server answering every request with `ok`, under [`CLIENTS`] clients.
async fn echo() -> Result<f64> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?.to_string();
    let server = tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let mut stream = tokio::io::BufReader::new(stream);
                let mut line = String::new();
                loop {
                    line.clear();
                    match stream.read_line(&mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) if line == "\r\n" => {
                            let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
                            if stream.get_mut().write_all(answer).await.is_err() {
                                return;
                            }
                        }
                        Ok(_) => {}
                    }
                }
            });
        }
    });
    let request = format!("GET / HTTP/1.1\r\nHost: {address}\r\n\r\n");
    let deadline = Instant::now() + BASELINE;
    let clients = (0..CLIENTS).map(|_| {
        let (address, request) = (address.clone(), request.clone());
        tokio::spawn(async move {
            let mut connection = KeepAlive::connect(&address).await?;
            let mut n = 0_u64;
            while Instant::now() < deadline {
                connection.exchange(request.as_bytes()).await?;
                n += 1;
            }
            anyhow::Ok(n)
        })
    });
    let mut total = 0;
    for client in futures::future::join_all(clients).await {
        total += client??;
    }
    server.abort();
    Ok(total as f64 / BASELINE.as_secs_f64())
}

/// `--cluster`: one instance, then two, on one PostgreSQL and one NATS.
pub async fn cluster_run(beacon: &PathBuf) -> Result<()> {
    let nats = NatsServer::start();
    let (database, data) = seeded(beacon, Backend::Postgres).await?;
    let machine = baseline(&database.url).await?;
    machine.print();
    let client = reqwest::Client::builder().pool_max_idle_per_host(CLIENTS * 2).build()?;
    let bus = ["--bus-url".to_owned(), nats.url()];
    let (mut first, base_a, _) = start_server_with(beacon, &client, &database.url, &data, &bus)
        .await
        .context("instance A")?;
    let counter = Arc::new(AtomicUsize::new(0));
    let one_base = [base_a.clone()];
    intake_latency(&client, &one_base, &counter, CLIENTS, WARM_UP).await?;
    analyze(&database.url).await?;
    let one = intake_latency(&client, &one_base, &counter, CLIENTS, INTAKE).await?;
    eprintln!("one instance: p50 {:?} p99 {:?} ({:.0}/s)", one.0, one.1, one.2);
    let data_b = tempdir()?;
    let (mut second, base_b, _) = start_server_with(beacon, &client, &database.url, &data_b, &bus)
        .await
        .context("instance B")?;
    let both = [base_a.clone(), base_b.clone()];
    intake_latency(&client, &both, &counter, CLIENTS, WARM_UP).await?;
    let two = intake_latency(&client, &both, &counter, CLIENTS, INTAKE).await?;
    eprintln!("two instances: p50 {:?} p99 {:?} ({:.0}/s)", two.0, two.1, two.2);
    let delivery = sse_delivery(&client, &base_b, &base_a, &counter).await?;
    eprintln!("A → B delivery p50 {:?} p99 {:?} max {:?}", delivery.0, delivery.1, delivery.2);
    second.stop();
    first.stop();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!("| figure (PostgreSQL, NATS JetStream) | value | as a ratio to the machine | floor |");
    println!("|---|---|---|---|");
    println!(
        "| POST /api/v1/incidents, {CLIENTS} clients, one instance, p50 / p99 | {:.1} / {:.1} ms ({:.0}/s) | {} | |",
        ms(one.0),
        ms(one.1),
        one.2,
        machine.ratios(one.2, one.1)
    );
    println!(
        "| the same, two instances behind a round robin, p50 / p99 | {:.1} / {:.1} ms ({:.0}/s) | {} | p99 < 50 ms |",
        ms(two.0),
        ms(two.1),
        two.2,
        machine.ratios(two.2, two.1)
    );
    println!("| two instances' intake against one | {:.2}× | | ≥ 1.5× |", two.2 / one.2);
    println!(
        "| incident.created from a POST on A to {} streams on B, p50 / p99 (max) | {:.1} / {:.1} ms ({:.1}) | | p99 < 100 ms |",
        crate::incident::SSE_CLIENTS,
        ms(delivery.0),
        ms(delivery.1),
        ms(delivery.2)
    );
    let _ = std::fs::remove_dir_all(&data);
    let _ = std::fs::remove_dir_all(&data_b);
    Ok(())
}
