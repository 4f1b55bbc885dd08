//! `--hazards-only sqlite|postgres` (issue 15): the hidden-danger ledger at scale.
//!
//! 1. 10,000 rectification deadlines due at once, fired by the API's own scheduler function
//!    (`beacon_api::notify::run_due_deadlines`) on the demo database: each hidden danger is
//!    recorded through the store on the day of its deadline, so only its overdue alert is left;
//!    the store's clock then moves to the next morning.
//! 2. 1,000,000 hidden dangers of 100,000 enterprises (imported through the API) spread over
//!    200 units; the ledger with filters under 64 clients, as the city and as a district.
//! 3. A campaign over the whole register started (its 100,000 targets frozen in one statement),
//!    30,000 of them checked with a finding each; its progress table per territory.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use beacon_core::audit::Actor;
use beacon_core::clock::{Clock, ManualClock};
use beacon_core::danger::{DangerCategory, DangerLevel, DangerOrigin, Party};
use beacon_core::org::{UnitCode, UnitLevel, UnitName};
use beacon_core::scope::Scope;
use beacon_store::danger::DangerWrite;
use beacon_store::enterprise::{EnterpriseFilter, Reach};
use beacon_store::org::NewUnit;
use beacon_store::{Backend, ConnectOptions, Store};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::import::import_register;
use crate::{CLIENTS, list_latency, seeded, sign_in, start_server};

const DEADLINES: usize = 10_000;
const UNITS: usize = 200;
const DANGERS_PER_ENTERPRISE: usize = 10;
const CHECKED: usize = 30_000;

pub async fn hazards_run(beacon: &PathBuf, backend: Backend) -> Result<()> {
    let (database, data) = seeded(beacon, backend).await?;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;

    let deadlines = deadline_bench(&database.url).await?;
    eprintln!("deadlines: {deadlines:?}");

    let client = reqwest::Client::new();
    let (mut server, base, _) = start_server(beacon, &client, &database.url, &data).await?;
    let cookie = sign_in(&client, &base, "inspector").await?;
    import_register(&client, &base, &cookie).await?;
    server.stop();
    let started = Instant::now();
    let (units, enterprises, dangers) = seed_ledger(&database.url).await?;
    eprintln!(
        "{units} units, {enterprises} enterprises, {dangers} hidden dangers in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    // What a running deployment would have: statistics and visibility maps of the bulk-written
    // rows, before the server starts (its own start-up `VACUUM ANALYZE` then finds nothing to
    // do, instead of running under the measured load).
    settle(&database.url).await?;

    let (mut server, base, _) = start_server(beacon, &client, &database.url, &data).await?;
    let cookie = sign_in(&client, &base, "inspector").await?;
    let township = first_township(&database.url).await?;
    // One round of the first list, not counted: a running server has its connections open,
    // its statements prepared and its start-up `VACUUM ANALYZE` of the fresh million rows done.
    list_latency(&client, &base, "inspector", "/api/v1/hazards?open=true&per_page=20").await?;
    let mut lists = Vec::new();
    for (user, path) in [
        ("inspector", "/api/v1/hazards?open=true&per_page=20".to_owned()),
        ("inspector", "/api/v1/hazards?overdue=true&level=major&per_page=20".to_owned()),
        ("inspector", format!("/api/v1/hazards?unit={township}&status=rectifying&per_page=20")),
        ("jiangnan.inspector", "/api/v1/hazards?open=true&per_page=20".to_owned()),
    ] {
        lists.push((user, path.clone(), list_latency(&client, &base, user, &path).await?));
    }

    // The dashboard's map of the open ones as the city sees it at city zoom (clusters).
    let url = format!("{base}/api/v1/hazards/map?bbox=117.0,29.5,119.5,31.5&zoom=9");
    let map = timed_gets(&client, &url, &cookie, 10, |body| {
        if body["points"].as_array().is_none() {
            bail!("map: {body}");
        }
        Ok(())
    })
    .await?;

    let (campaign, start) = start_campaign(&client, &base, &cookie).await?;
    let checked = seed_checks(&database.url, &campaign).await?;
    settle(&database.url).await?;
    let url = format!("{base}/api/v1/campaigns/{campaign}/progress");
    let progress = timed_gets(&client, &url, &cookie, 30, |body| {
        if body["total"]["checked"].as_i64() != Some(checked as i64) {
            bail!("progress counted {} checked, not {checked}", body["total"]["checked"]);
        }
        Ok(())
    })
    .await?;
    server.stop();

    println!(
        "| figure ({dangers} hidden dangers, {enterprises} enterprises, {units} units) | {} | floor |",
        backend.name()
    );
    println!("|---|---|---|");
    for (user, path, (p50, p99, rate)) in lists {
        println!(
            "| `{path}` as {user}, p50 / p99, {CLIENTS} clients | {:.1} / {:.1} ms ({rate:.0}/s) | p99 < 50 ms |",
            ms(p50),
            ms(p99)
        );
    }
    println!(
        "| dashboard map of the open ones, city view (zoom 9), p50 / max of 10, one client | {:.1} / {:.1} ms | |",
        ms(map[5]),
        ms(map[9])
    );
    println!("| campaign start: {enterprises} targets frozen | {:.1} s | |", start.as_secs_f64());
    println!(
        "| campaign progress ({enterprises} targets, {checked} checked), p50 / max of 30, one client | {:.1} / {:.1} ms | < 200 ms |",
        ms(progress[15]),
        ms(progress[29])
    );
    println!(
        "| {DEADLINES} rectification deadlines due at once: fired ({} stages, {} notifications) | {:.2} s | < 2 s |",
        deadlines.fired,
        deadlines.notifications,
        deadlines.fire.as_secs_f64()
    );
    println!(
        "| (set-up: {DEADLINES} hidden dangers recorded through the store) | {:.1} s | |",
        deadlines.setup.as_secs_f64()
    );
    if std::env::var_os("BEACON_BENCH_KEEP").is_some() {
        eprintln!("kept: {} ({})", data.display(), database.url);
        std::mem::forget(database);
    } else {
        let _ = std::fs::remove_dir_all(&data);
    }
    Ok(())
}

/// `VACUUM ANALYZE` on PostgreSQL (statistics and visibility maps of rows written in bulk);
/// SQLite's planner statistics come from the server's own `PRAGMA optimize`.
async fn settle(database_url: &str) -> Result<()> {
    crate::incident::on_postgres(database_url, "VACUUM ANALYZE").await
}

/// `n` GETs of `url` one after the other, each answer checked: their durations, sorted.
async fn timed_gets(
    client: &reqwest::Client,
    url: &str,
    cookie: &str,
    n: usize,
    check: impl Fn(&Value) -> Result<()>,
) -> Result<Vec<Duration>> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let response = client.get(url).header("cookie", cookie).send().await?;
        if !response.status().is_success() {
            bail!("{url}: {}", response.status());
        }
        let body: Value = response.json().await?;
        times.push(started.elapsed());
        check(&body)?;
    }
    times.sort();
    Ok(times)
}

#[derive(Debug)]
struct DeadlineFigures {
    setup: Duration,
    fire: Duration,
    fired: usize,
    notifications: i64,
}

async fn count(store_url: &str, sql: &str) -> Result<i64> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(store_url).await?;
    let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await?;
    pool.close().await;
    Ok(n)
}

/// Fires everything due, pass after pass, as the scheduler does; the stages claimed.
async fn fire_all(state: &beacon_api::AppState) -> Result<usize> {
    let mut fired = 0;
    loop {
        let n = beacon_api::notify::run_due_deadlines(state).await?;
        if n == 0 {
            return Ok(fired);
        }
        fired += n;
    }
}

async fn deadline_bench(url: &str) -> Result<DeadlineFigures> {
    let clock = ManualClock::new(chrono::Utc::now());
    let store = Store::connect(url, &ConnectOptions::default(), Arc::new(clock.clone())).await?;
    let bus = Arc::new(beacon_bus::InProcessBus::new(store.clock().clone()));
    let state = beacon_api::AppState::new(store.clone(), bus, beacon_api::ApiConfig::default())?;
    // The demo's own clocks of the coming day first, so that what is measured is ours.
    clock.advance(chrono::Duration::days(1));
    fire_all(&state).await?;
    let all = Reach::Scope(Scope::Global);
    let operating = EnterpriseFilter { status: Some("operating".into()), ..Default::default() };
    let page = beacon_core::page::PageRequest { page: 1, per_page: 200 };
    let mut enterprises = store.enterprises(&all, &operating, page).await?.items;
    enterprises.extend(
        store
            .enterprises(
                &all,
                &operating,
                beacon_core::page::PageRequest { page: 2, per_page: 200 },
            )
            .await?
            .items,
    );
    let today = clock.now().with_timezone(&beacon_core::clock::china_offset()).date_naive();
    let actor = Actor::system("bench");
    let started = Instant::now();
    let made: Vec<Result<String, beacon_store::StoreError>> = futures::stream::iter(0..DEADLINES)
        .map(|n| {
            let (store, all, actor) = (&store, &all, &actor);
            let e = &enterprises[n % enterprises.len()];
            async move {
                let write = DangerWrite {
                    enterprise_id: e.id.clone(),
                    level: DangerLevel::General,
                    category: DangerCategory::Site,
                    origin: DangerOrigin::Inspection,
                    place: format!("测试部位{n}"),
                    description: "消防通道堵塞".to_owned(),
                    criterion: String::new(),
                    found_on: today,
                    deadline: today,
                    responsible_person: String::new(),
                    fixed_on_spot: false,
                };
                store.create_danger(all, actor, Party::Regulator, write).await.map(|d| d.id)
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    for result in made {
        result?;
    }
    let setup = started.elapsed();
    let before = count(url, "SELECT COUNT(*) FROM notifications").await?;
    clock.advance(chrono::Duration::days(1));
    let started = Instant::now();
    let fired = fire_all(&state).await?;
    let fire = started.elapsed();
    let notifications = count(url, "SELECT COUNT(*) FROM notifications").await? - before;
    if fired < DEADLINES {
        bail!("only {fired} stages fired");
    }
    Ok(DeadlineFigures { setup, fire, fired, notifications })
}

/// Units to [`UNITS`] (townships under the demo's districts), the imported enterprises spread
/// over the townships, and [`DANGERS_PER_ENTERPRISE`] hidden dangers each in every state.
async fn seed_ledger(url: &str) -> Result<(usize, usize, usize)> {
    let store =
        Store::connect(url, &ConnectOptions::default(), Arc::new(beacon_core::clock::SystemClock))
            .await?;
    let units = store.list_units(&Scope::Global).await?;
    let districts: Vec<_> =
        units.iter().filter(|u| u.level == UnitLevel::District).cloned().collect();
    let actor = Actor::system("bench");
    for n in units.len()..UNITS {
        let parent = &districts[n % districts.len()];
        store
            .create_unit(
                &Scope::Global,
                &actor,
                NewUnit {
                    parent_id: Some(parent.id.clone()),
                    code: UnitCode::parse(&format!("{}{:03}", parent.code, 500 + n))
                        .map_err(anyhow::Error::msg)?,
                    name: UnitName::parse(&format!("测试街道{n}")).map_err(anyhow::Error::msg)?,
                    level: UnitLevel::Township,
                    sort_order: n as i64,
                    boundary: None,
                },
            )
            .await?;
    }
    let townships: Vec<String> = store
        .list_units(&Scope::Global)
        .await?
        .into_iter()
        .filter(|u| u.level == UnitLevel::Township)
        .map(|u| u.id)
        .collect();
    let total_units = store.count_units().await? as usize;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await?;
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM enterprises WHERE uscc LIKE '913501001%' ORDER BY id")
            .fetch_all(&pool)
            .await?;
    for (k, chunk) in ids.chunks(ids.len().div_ceil(townships.len())).enumerate() {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql =
            format!("UPDATE enterprises SET unit_id = $1 WHERE id IN ({})", placeholders.join(","));
        let mut query = sqlx::query(&sql).bind(townships[k % townships.len()].clone());
        for id in chunk {
            query = query.bind(id.clone());
        }
        query.execute(&pool).await?;
    }
    let today = chrono::Utc::now().with_timezone(&beacon_core::clock::china_offset()).date_naive();
    let now = chrono::Utc::now().timestamp_millis();
    let rows: Vec<(usize, &String)> =
        ids.iter().flat_map(|id| (0..DANGERS_PER_ENTERPRISE).map(move |j| (j, id))).collect();
    let mut written = 0;
    for chunk in rows.chunks(1000) {
        let mut sql = String::from(
            "INSERT INTO hidden_dangers (id, number, enterprise_id, level, category, origin, place, description, \
             criterion, found_on, deadline, responsible_person, status, plan, listed_level, listed_unit_id, \
             listed_at, explanation, closed_at, closed_by_name, created_by_name, version, created_at, updated_at, unit_id, \
             department_id) VALUES ",
        );
        for k in 0..chunk.len() {
            let b = k * 8;
            if k > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, 'site', 'inspection', '车间', '消防通道堵塞', '', ${}, ${}, '', ${}, NULL, NULL, NULL, NULL, '', ${}, NULL, 'bench', 1, {now}, {now}, \
                 (SELECT unit_id FROM enterprises WHERE id = ${}), NULL)",
                b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 3
            ));
        }
        let mut query = sqlx::query(&sql);
        for (i, (j, enterprise)) in chunk.iter().enumerate() {
            let n = written + i;
            let major = n % 25 == 0;
            // Seven in ten closed off the ledger over the past year; the open ones found in
            // the last two months, about half of them past their 30-day deadline.
            let (status, age) = match n % 10 {
                0..=6 => ("closed", (n / 10) % 365),
                7 => ("rectifying", (n / 10) % 60),
                8 => ("awaiting_acceptance", (n / 10) % 60),
                _ if major => ("awaiting_plan", (n / 10) % 60),
                _ => ("rectifying", (n / 10) % 60),
            };
            let found = today - chrono::Days::new(age as u64);
            let deadline = found + chrono::Days::new(30);
            query = query
                .bind(beacon_core::id::new_id())
                .bind(format!("YH-B-{n:07}-{j}"))
                .bind((*enterprise).clone())
                .bind(if major { "major" } else { "general" })
                .bind(found.format("%Y-%m-%d").to_string())
                .bind(deadline.format("%Y-%m-%d").to_string())
                .bind(status)
                .bind((status == "closed").then_some(now));
        }
        query.execute(&pool).await?;
        written += chunk.len();
    }
    pool.close().await;
    Ok((total_units, ids.len(), written))
}

async fn first_township(url: &str) -> Result<String> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await?;
    let id: String = sqlx::query_scalar(
        "SELECT unit_id FROM enterprises WHERE uscc LIKE '913501001%' GROUP BY unit_id ORDER BY unit_id LIMIT 1",
    )
    .fetch_one(&pool)
    .await?;
    pool.close().await;
    Ok(id)
}

/// A city campaign over every sector and territory, started: its target list frozen.
async fn start_campaign(
    client: &reqwest::Client,
    base: &str,
    cookie: &str,
) -> Result<(String, Duration)> {
    let today = chrono::Utc::now().with_timezone(&beacon_core::clock::china_offset()).date_naive();
    let day = |n: u64| (today + chrono::Days::new(n)).format("%Y-%m-%d").to_string();
    let body = json!({
        "name": "基准测试专项整治", "basis": "基准测试", "sectors": [], "unit_ids": [],
        "starts_on": day(0), "ends_on": day(90),
        "stages": [
            { "stage": "deploy", "starts_on": day(0), "ends_on": day(5) },
            { "stage": "investigate_rectify", "starts_on": day(5), "ends_on": day(60) },
            { "stage": "supervise_check", "starts_on": day(61), "ends_on": day(80) },
            { "stage": "summarise_accept", "starts_on": day(81), "ends_on": day(90) },
        ],
    });
    let response = client
        .post(format!("{base}/api/v1/campaigns"))
        .header("cookie", cookie)
        .json(&body)
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("campaign: {}", response.text().await?);
    }
    let id = response.json::<Value>().await?["id"].as_str().context("campaign id")?.to_owned();
    let started = Instant::now();
    let response = client
        .post(format!("{base}/api/v1/campaigns/{id}/start"))
        .header("cookie", cookie)
        .json(&json!({}))
        .send()
        .await?;
    if !response.status().is_success() {
        bail!("campaign start: {}", response.text().await?);
    }
    Ok((id, started.elapsed()))
}

/// [`CHECKED`] targets checked by the campaign, one finding each made one of the enterprise's
/// hidden dangers (which becomes found by the campaign).
async fn seed_checks(url: &str, campaign: &str) -> Result<usize> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await?;
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT t.enterprise_id, MIN(h.id) FROM campaign_targets t JOIN hidden_dangers h ON h.enterprise_id = t.enterprise_id \
         WHERE t.campaign_id = $1 AND h.number LIKE 'YH-B-%' GROUP BY t.enterprise_id ORDER BY t.enterprise_id",
    )
    .bind(campaign.to_owned())
    .fetch_all(&pool)
    .await?;
    let rows = &rows[..CHECKED.min(rows.len())];
    let today = chrono::Utc::now().with_timezone(&beacon_core::clock::china_offset()).date_naive();
    let now = chrono::Utc::now().timestamp_millis();
    for (c, chunk) in rows.chunks(1000).enumerate() {
        let mut inspections = String::from(
            "INSERT INTO inspections (id, number, enterprise_id, kind, inspected_on, inspectors, checklist_id, signatory, \
             summary, created_by_name, created_at, campaign_id) VALUES ",
        );
        let mut findings = String::from(
            "INSERT INTO inspection_findings (id, inspection_id, seq, item_id, criterion, place, description, level, danger_id) VALUES ",
        );
        let ids: Vec<(String, String)> =
            chunk.iter().map(|_| (beacon_core::id::new_id(), beacon_core::id::new_id())).collect();
        for k in 0..chunk.len() {
            let sep = if k > 0 { "," } else { "" };
            inspections.push_str(&format!(
                "{sep}(${}, ${}, ${}, 'campaign', '{}', '[\"甲\",\"乙\"]', NULL, '', '', 'bench', {now}, ${})",
                k * 4 + 1, k * 4 + 2, k * 4 + 3, today.format("%Y-%m-%d"), k * 4 + 4
            ));
            findings.push_str(&format!(
                "{sep}(${}, ${}, 1, NULL, '', '车间', '消防通道堵塞', 'general', ${})",
                k * 3 + 1,
                k * 3 + 2,
                k * 3 + 3
            ));
        }
        let mut query = sqlx::query(&inspections);
        for (k, (enterprise, _)) in chunk.iter().enumerate() {
            query = query
                .bind(ids[k].0.clone())
                .bind(format!("JC-B-{c:03}-{k:04}"))
                .bind(enterprise.clone())
                .bind(campaign.to_owned());
        }
        query.execute(&pool).await?;
        let mut query = sqlx::query(&findings);
        for (k, (_, danger)) in chunk.iter().enumerate() {
            query = query.bind(ids[k].1.clone()).bind(ids[k].0.clone()).bind(danger.clone());
        }
        query.execute(&pool).await?;
    }
    pool.close().await;
    Ok(rows.len())
}
