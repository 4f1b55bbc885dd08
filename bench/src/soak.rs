//! `--soak MINUTES [sqlite|postgres]`: a long mixed load an operator runs before a deployment
//! (issue 12): duty officers read lists and the duty board, register incidents and take calls,
//! the city's consoles hold event streams, and the server's scheduler fires the clocks those
//! incidents start. Reported: requests, errors (any answer but the expected one, any stream
//! that breaks), and the server's resident memory (medians of the first and of the last minute
//! after the warm-up, sampled every ten seconds). Floor: no
//! errors, memory growth under 10 %.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use beacon_store::Backend;

use crate::{KeepAlive, rss_kib, seeded, sign_in, start_server};

/// Clients of each kind.
const READERS: usize = 16;
const WRITERS: usize = 4;
const STREAMS: usize = 20;
/// Memory is measured from the end of the warm-up: five minutes, or a quarter of a shorter run.
/// SQLite's page caches (2 MiB per connection, 18 connections) fill during the first minutes of
/// load and then stay; measured from the first minute, that filling would read as growth.
const WARM_UP: Duration = Duration::from_secs(300);

pub async fn soak(beacon: &PathBuf, minutes: u64, backend: Backend) -> Result<()> {
    let (database, data) = seeded(beacon, backend).await?;
    let client = reqwest::Client::new();
    let (mut server, base, _) = start_server(beacon, &client, &database.url, &data).await?;
    let address = base.trim_start_matches("http://").to_owned();
    let officer = sign_in(&client, &base, "jiangnan.officer").await?;
    let city = sign_in(&client, &base, "duty.officer").await?;
    let requests = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let counter = Arc::new(AtomicUsize::new(0));
    let total = Duration::from_secs(minutes * 60);
    let deadline = Instant::now() + total;
    eprintln!("soak: {minutes} min on {}; server log in {}", backend.name(), data.display());

    let mut tasks = Vec::new();
    for i in 0..READERS {
        let (address, cookie, requests, errors) =
            (address.clone(), officer.clone(), requests.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut connection = KeepAlive::connect(&address).await?;
            let paths = [
                "/api/v1/incidents?per_page=50",
                "/api/v1/duty/now?unit=990102",
                "/api/v1/duty/log?per_page=20",
                "/api/v1/notifications?per_page=20",
            ];
            let mut n = i;
            while Instant::now() < deadline {
                let path = paths[n % paths.len()];
                n += 1;
                let request =
                    format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\n\r\n");
                let status = connection.exchange(request.as_bytes()).await?;
                requests.fetch_add(1, Ordering::Relaxed);
                if status != 200 {
                    errors.fetch_add(1, Ordering::Relaxed);
                    eprintln!("soak: GET {path} answered {status}");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            anyhow::Ok(())
        }));
    }
    for _ in 0..WRITERS {
        let (address, cookie, requests, errors, counter) =
            (address.clone(), officer.clone(), requests.clone(), errors.clone(), counter.clone());
        tasks.push(tokio::spawn(async move {
            let mut connection = KeepAlive::connect(&address).await?;
            while Instant::now() < deadline {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let (path, body, expected) = if n.is_multiple_of(2) {
                    ("/api/v1/incidents", crate::incident::incident_body("耐久测试", n), 201)
                } else {
                    let received = chrono::Utc::now() - chrono::Duration::minutes(1);
                    let body = serde_json::json!({
                        "received_at": received.to_rfc3339(), "channel": "phone",
                        "category": "accident", "summary": format!("耐久来电{n}"),
                    });
                    ("/api/v1/duty/log", body.to_string(), 201)
                };
                let request = format!(
                    "POST {path} HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\n\
                     Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let status = connection.exchange(request.as_bytes()).await?;
                requests.fetch_add(1, Ordering::Relaxed);
                if status != expected {
                    errors.fetch_add(1, Ordering::Relaxed);
                    eprintln!("soak: POST {path} answered {status}");
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            anyhow::Ok(())
        }));
    }
    for _ in 0..STREAMS {
        let (address, cookie, errors) = (address.clone(), city.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut stream = crate::incident::EventStream::open(&address, &cookie).await?;
            while Instant::now() < deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                match tokio::time::timeout(left, stream.next_data()).await {
                    Err(_) => break,
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        eprintln!("soak: an event stream broke: {error}");
                        break;
                    }
                }
            }
            anyhow::Ok(())
        }));
    }
    tokio::time::sleep(WARM_UP.min(total / 4)).await;
    let warm = requests.load(Ordering::Relaxed);
    // Resident memory every ten seconds, printed each minute. One reading swings by a tenth with
    // the allocator's timing; the median of the first minute after the warm-up against the
    // median of the last is what tells growth from noise.
    let samples = Arc::new(std::sync::Mutex::new(Vec::<u64>::new()));
    let sampler = {
        let pid = server.0.id();
        let requests = requests.clone();
        let samples = samples.clone();
        tokio::spawn(async move {
            for n in 1_u64.. {
                let Ok(rss) = rss_kib(pid) else { break };
                samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(rss);
                if n % 6 == 0 {
                    eprintln!(
                        "soak: minute {} after warm-up: {:.1} MiB, {} requests",
                        n / 6,
                        rss as f64 / 1024.0,
                        requests.load(Ordering::Relaxed)
                    );
                }
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
        })
    };
    for task in futures::future::join_all(tasks).await {
        if let Err(error) = task? {
            errors.fetch_add(1, Ordering::Relaxed);
            eprintln!("soak: a client failed: {error}");
        }
    }
    sampler.abort();
    server.stop();
    let samples = samples.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let median = |part: &[u64]| {
        let mut part = part.to_vec();
        part.sort_unstable();
        part.get(part.len() / 2).copied().unwrap_or(0)
    };
    let minute = samples.len().clamp(1, 6);
    let rss_start = median(&samples[..minute.min(samples.len())]);
    let rss_end = median(&samples[samples.len().saturating_sub(minute)..]);
    let peak = samples.iter().copied().max().unwrap_or(0);
    let requests = requests.load(Ordering::Relaxed);
    let errors = errors.load(Ordering::Relaxed);
    let growth = 100.0 * (rss_end as f64 - rss_start as f64) / rss_start.max(1) as f64;
    println!("| soak ({minutes} min, {}) | value | floor |", backend.name());
    println!("|---|---|---|");
    println!("| requests (after warm-up) | {requests} ({}) | |", requests - warm);
    println!("| errors | {errors} | 0 |");
    println!(
        "| resident memory, median of the first minute after warm-up → of the last (peak) | {:.1} → {:.1} MiB ({growth:+.1} %; {:.1}) | < 10 % growth |",
        rss_start as f64 / 1024.0,
        rss_end as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    let _ = std::fs::remove_dir_all(&data);
    if errors > 0 || growth >= 10.0 {
        bail!("the soak failed its floor");
    }
    Ok(())
}
