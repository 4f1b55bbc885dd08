//! `--import-only sqlite|postgres`: a 100,000-row register imported through the API into the
//! demo city — the dry run, the commit, the server's peak memory, and a second dry run of the
//! same file, which must find every row unchanged (issue 14: < 60 s and < 300 MiB).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use beacon_core::enterprise::uscc::{Uscc, organisation_check};
use beacon_export::{Cell, Ledger, ledger_xlsx};
use beacon_store::Backend;
use serde_json::Value;

use crate::{CLIENTS, list_latency, seeded, sign_in, start_server};

const ROWS: usize = 100_000;
/// Townships of the demo city the rows are spread over, by name as offices write them.
const TOWNS: [&str; 8] =
    ["滨江街道", "望江街道", "南湖街道", "北门街道", "港口街道", "青山镇", "云岭镇", "溪口镇"];
const SECTORS: [&str; 4] = ["危险化学品", "冶金", "机械", "商贸"];

fn code(i: usize) -> Result<String> {
    let org8 = format!("{:08}", 10_000_000 + i);
    let check = organisation_check(org8.as_bytes()).context("check digit")? as char;
    Ok(Uscc::complete(&format!("91350100{org8}{check}"))
        .context("credit code")?
        .as_str()
        .to_owned())
}

/// Parts of an enterprise name as offices write them: place, trade name (字号, two
/// characters), trade, legal form. Varied like a real register's, so that a fragment's trigrams
/// are as common as in real names: before, every row was 导入测试企业NNNNNN有限公司, and any
/// fragment of the name shared trigrams with every row.
const PLACES: [&str; 16] = [
    "江城", "临川", "清河", "青山", "东湖", "西陵", "南岸", "北塘", "龙泉", "金沙", "白云", "石门",
    "桃源", "松溪", "梅岭", "柳江",
];
const TRADE_CHARS: [char; 48] = [
    '华', '港', '鑫', '盛', '恒', '泰', '丰', '达', '兴', '隆', '昌', '祥', '瑞', '安', '宏', '远',
    '通', '宝', '金', '银', '海', '天', '明', '光', '新', '永', '嘉', '和', '利', '源', '德', '信',
    '诚', '润', '茂', '富', '博', '创', '联', '发', '益', '正', '中', '亚', '美', '康', '顺', '凯',
];
const TRADES: [&str; 24] = [
    "化工", "机械", "建材", "纺织", "食品", "冶金", "有色", "烟花", "矿业", "电子", "塑料", "印染",
    "家具", "物流", "商贸", "造纸", "木业", "铸造", "涂料", "医药", "包装", "五金", "燃气", "石化",
];
const FORMS: [&str; 4] = ["有限公司", "有限责任公司", "股份有限公司", "厂"];

/// The name of row `i`: distinct for every row, spread over the parts by a multiplier prime to
/// the number of combinations (2^17 · 27), so neighbouring rows share little.
fn name(i: usize) -> String {
    let combinations = PLACES.len() * TRADE_CHARS.len().pow(2) * TRADES.len() * FORMS.len();
    let mut n = i * 1_000_003 % combinations;
    let mut take = |len: usize| {
        let part = n % len;
        n /= len;
        part
    };
    let form = FORMS[take(FORMS.len())];
    let trade = TRADES[take(TRADES.len())];
    let first = TRADE_CHARS[take(TRADE_CHARS.len())];
    let second = TRADE_CHARS[take(TRADE_CHARS.len())];
    let place = PLACES[take(PLACES.len())];
    format!("{place}{first}{second}{trade}{form}")
}

fn workbook() -> Result<Vec<u8>> {
    let headers = [
        "统一社会信用代码",
        "企业名称",
        "属地单位",
        "国民经济行业门类",
        "监管行业",
        "地址",
        "从业人员数",
        "经度",
        "纬度",
    ];
    let mut rows = Vec::with_capacity(ROWS);
    for i in 0..ROWS {
        rows.push(vec![
            Cell::Text(code(i)?),
            Cell::Text(name(i)),
            Cell::Text(TOWNS[i % TOWNS.len()].to_owned()),
            Cell::Text("C".to_owned()),
            Cell::Text(SECTORS[i % SECTORS.len()].to_owned()),
            Cell::Text(format!("工业路 {} 号", i % 5000)),
            Cell::Number((i % 900 + 10) as f64),
            Cell::Number(118.0 + (i % 1000) as f64 / 5000.0),
            Cell::Number(30.5 + (i % 777) as f64 / 5000.0),
        ]);
    }
    Ok(ledger_xlsx(&Ledger {
        sheet: "企业", title: "企业导入基准", headers: &headers, rows
    })?)
}

fn peak_kib(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .context("VmHWM not found")
}

async fn wait(client: &reqwest::Client, base: &str, cookie: &str, id: &str) -> Result<Value> {
    loop {
        let import: Value = client
            .get(format!("{base}/api/v1/imports/{id}"))
            .header("cookie", cookie)
            .send()
            .await?
            .json()
            .await?;
        if !matches!(import["status"].as_str(), Some("checking" | "committing")) {
            return Ok(import);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn upload(client: &reqwest::Client, base: &str, cookie: &str, file: &[u8]) -> Result<String> {
    let response = client
        .post(format!("{base}/api/v1/imports?kind=enterprises&name=bench.xlsx"))
        .header("cookie", cookie)
        .header("content-type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .body(file.to_vec())
        .send()
        .await?;
    if response.status() != reqwest::StatusCode::ACCEPTED {
        bail!("upload: {} {}", response.status(), response.text().await?);
    }
    let body: Value = response.json().await?;
    Ok(body["id"].as_str().context("import id")?.to_owned())
}

/// Risk points per imported enterprise in `--register-only` (500,000 for 100,000 enterprises).
const POINTS_PER_ENTERPRISE: usize = 5;

/// Imports the register through the API (upload, dry run, commit) and waits for the end.
pub(crate) async fn import_register(
    client: &reqwest::Client,
    base: &str,
    cookie: &str,
) -> Result<()> {
    let file = workbook()?;
    let id = upload(client, base, cookie, &file).await?;
    wait(client, base, cookie, &id).await?;
    let response = client
        .post(format!("{base}/api/v1/imports/{id}/commit"))
        .header("cookie", cookie)
        .send()
        .await?;
    if response.status() != reqwest::StatusCode::ACCEPTED {
        bail!("commit: {}", response.text().await?);
    }
    let done = wait(client, base, cookie, &id).await?;
    if done["rows_created"] != ROWS as u64 {
        bail!("import: {done}");
    }
    Ok(())
}

/// Five risk points per imported enterprise, written straight into the database in batches
/// (typing them in through the API would take the benchmark's whole budget), then each
/// enterprise coloured by its highest point as the store does.
async fn seed_risk_points(url: &str) -> Result<usize> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(url).await?;
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM enterprises WHERE uscc LIKE '913501001%' ORDER BY name")
            .fetch_all(&pool)
            .await?;
    let levels = [
        (6.0, 10.0, 7.0, "red"),
        (3.0, 6.0, 15.0, "orange"),
        (3.0, 2.0, 15.0, "yellow"),
        (1.0, 6.0, 3.0, "blue"),
    ];
    let rows: Vec<(String, usize)> = ids
        .iter()
        .enumerate()
        .flat_map(|(i, id)| {
            (0..POINTS_PER_ENTERPRISE).map(move |j| (id.clone(), i * POINTS_PER_ENTERPRISE + j))
        })
        .collect();
    let now = chrono::Utc::now().timestamp_millis();
    for chunk in rows.chunks(1000) {
        let mut sql = String::from(
            "INSERT INTO risk_points (id, enterprise_id, name, place, accident_types, method, l_value, e_value, \
             c_value, d_value, colour, measures, control_level, responsible_person, next_review, retired, version, \
             created_at, updated_at) VALUES ",
        );
        for (k, _) in chunk.iter().enumerate() {
            let b = k * 9;
            if k > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, '', '[\"fire\"]', 'lec', ${}, ${}, ${}, ${}, ${}, '', 'company', '', NULL, ${}, 1, {now}, {now})",
                b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9
            ));
        }
        let mut query = sqlx::query(&sql);
        for (enterprise, n) in chunk {
            // Mostly low risk, as in a real city: one point in 17 red.
            let (l, e, c, colour) =
                levels[[3, 3, 2, 3, 1, 3, 2, 3, 3, 2, 3, 3, 1, 3, 2, 3, 0][n % 17]];
            query = query
                .bind(beacon_core::id::new_id())
                .bind(enterprise.clone())
                .bind(format!("风险点{n}"))
                .bind(l)
                .bind(e)
                .bind(c)
                .bind(l * e * c)
                .bind(colour)
                .bind(false);
        }
        query.execute(&pool).await?;
    }
    sqlx::query(
        "UPDATE enterprises SET colour = (SELECT CASE MAX(CASE r.colour WHEN 'red' THEN 4 WHEN 'orange' THEN 3 \
         WHEN 'yellow' THEN 2 ELSE 1 END) WHEN 4 THEN 'red' WHEN 3 THEN 'orange' WHEN 2 THEN 'yellow' ELSE 'blue' END \
         FROM risk_points r WHERE r.enterprise_id = enterprises.id) WHERE uscc LIKE '913501001%'",
    )
    .execute(&pool)
    .await?;
    pool.close().await;
    // Written around the store, so its refresh of query statistics (which follows a committed
    // import, and runs hourly) is done here as the server would do it: without it PostgreSQL
    // plans the lists by the colours before the seeding (none red) until autovacuum comes by.
    let store = beacon_store::Store::connect(
        url,
        &beacon_store::ConnectOptions::default(),
        std::sync::Arc::new(beacon_core::clock::SystemClock),
    )
    .await?;
    store.optimize().await?;
    store.close().await;
    Ok(rows.len())
}

/// `--register-only`: the register at scale — 100,000 enterprises imported, 500,000 risk points —
/// then the list with filters and the name search under 64 clients, and the whole city's map.
pub async fn register_run(beacon: &PathBuf, backend: Backend) -> Result<()> {
    let (database, data) = seeded(beacon, backend).await?;
    let client = reqwest::Client::new();
    let (mut server, base, _) = start_server(beacon, &client, &database.url, &data).await?;
    let cookie = sign_in(&client, &base, "inspector").await?;
    import_register(&client, &base, &cookie).await?;
    let points = seed_risk_points(&database.url).await?;
    eprintln!("{ROWS} enterprises imported, {points} risk points written");
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let filtered = list_latency(
        &client,
        &base,
        "inspector",
        "/api/v1/enterprises?sector=hazardous_chemicals&colour=red&per_page=20",
    )
    .await?;
    // Fragments of a name as users type them (see `name`): three characters across the trade
    // name and the trade (about 90 match), a two-character trade name (about 40 match, looked
    // up as a pair of the names), a whole name but its place (2 match; four of its six
    // trigrams are in most rows), and the trade with the legal form most names end in (about
    // 1,000 match; every trigram is in one row in fifty or more).
    let mut searches = Vec::new();
    for (label, q) in [
        ("华化工", "%E5%8D%8E%E5%8C%96%E5%B7%A5"),
        ("港华", "%E6%B8%AF%E5%8D%8E"),
        (
            "港华化工有限公司",
            "%E6%B8%AF%E5%8D%8E%E5%8C%96%E5%B7%A5%E6%9C%89%E9%99%90%E5%85%AC%E5%8F%B8",
        ),
        ("化工有限公司", "%E5%8C%96%E5%B7%A5%E6%9C%89%E9%99%90%E5%85%AC%E5%8F%B8"),
    ] {
        let path = format!("/api/v1/enterprises?q={q}&per_page=20");
        searches.push((label, list_latency(&client, &base, "inspector", &path).await?));
    }
    let mut map = Vec::new();
    for _ in 0..30 {
        let started = Instant::now();
        let response = client
            .get(format!("{base}/api/v1/risk-map?bbox=117.0,29.5,119.5,31.5&zoom=8"))
            .header("cookie", &cookie)
            .send()
            .await?;
        if !response.status().is_success() {
            bail!("risk map: {}", response.status());
        }
        let body: Value = response.json().await?;
        map.push(started.elapsed());
        if body["clusters"].as_array().is_none_or(Vec::is_empty) {
            bail!("the city map answered no clusters");
        }
    }
    map.sort();
    server.stop();
    println!("| figure ({ROWS} enterprises, {points} risk points) | {} | floor |", backend.name());
    println!("|---|---|---|");
    println!(
        "| `GET /enterprises` sector + colour, p50 / p99, {CLIENTS} clients | {:.1} / {:.1} ms ({:.0}/s) | p99 < 50 ms |",
        ms(filtered.0),
        ms(filtered.1),
        filtered.2
    );
    for (label, search) in searches {
        println!(
            "| `GET /enterprises?q={label}`, p50 / p99, {CLIENTS} clients | {:.1} / {:.1} ms ({:.0}/s) | p99 < 50 ms |",
            ms(search.0),
            ms(search.1),
            search.2
        );
    }
    println!(
        "| `GET /risk-map` whole city (clusters), p50 / max of 30, one client | {:.1} / {:.1} ms | < 200 ms |",
        ms(map[15]),
        ms(map[29])
    );
    // BEACON_BENCH_KEEP=1 keeps the database for a look at the query plans.
    if std::env::var_os("BEACON_BENCH_KEEP").is_some() {
        eprintln!("kept: {} ({})", data.display(), database.url);
        std::mem::forget(database);
    } else {
        let _ = std::fs::remove_dir_all(&data);
    }
    Ok(())
}

pub async fn import_run(beacon: &PathBuf, backend: Backend) -> Result<()> {
    let (database, data) = seeded(beacon, backend).await?;
    let client = reqwest::Client::new();
    let (mut server, base, _) = start_server(beacon, &client, &database.url, &data).await?;
    let pid = server.0.id();
    let cookie = sign_in(&client, &base, "inspector").await?;
    let file = workbook()?;
    let baseline = crate::rss_kib(pid)?;

    let started = Instant::now();
    let id = upload(&client, &base, &cookie, &file).await?;
    let checked = wait(&client, &base, &cookie, &id).await?;
    let dry_run = started.elapsed();
    if checked["status"] != "checked" || checked["rows_created"] != ROWS as u64 {
        bail!("dry run: {checked}");
    }
    let started = Instant::now();
    let response = client
        .post(format!("{base}/api/v1/imports/{id}/commit"))
        .header("cookie", &cookie)
        .send()
        .await?;
    if response.status() != reqwest::StatusCode::ACCEPTED {
        bail!("commit: {}", response.text().await?);
    }
    let committed = wait(&client, &base, &cookie, &id).await?;
    let commit = started.elapsed();
    if committed["status"] != "committed" || committed["rows_created"] != ROWS as u64 {
        bail!("commit: {committed}");
    }
    let peak = peak_kib(pid)?;

    // The same file again: every row unchanged.
    let started = Instant::now();
    let again = upload(&client, &base, &cookie, &file).await?;
    let again = wait(&client, &base, &cookie, &again).await?;
    let second = started.elapsed();
    if again["rows_unchanged"] != ROWS as u64 {
        bail!("second dry run: {again}");
    }
    let peak_after = peak_kib(pid)?;
    server.stop();

    let mib = |k: u64| k as f64 / 1024.0;
    println!(
        "| figure ({} rows, {:.1} MiB workbook) | {} | floor |",
        ROWS,
        file.len() as f64 / 1048576.0,
        backend.name()
    );
    println!("|---|---|---|");
    println!("| upload + dry run | {:.1} s | |", dry_run.as_secs_f64());
    println!("| commit (one transaction) | {:.1} s | |", commit.as_secs_f64());
    println!("| upload + dry run + commit | {:.1} s | < 60 s |", (dry_run + commit).as_secs_f64());
    println!(
        "| server peak resident memory (VmHWM; {:.0} MiB before) | {:.0} MiB | < 300 MiB |",
        mib(baseline),
        mib(peak)
    );
    println!(
        "| second dry run of the same file (all unchanged) | {:.1} s (peak {:.0} MiB) | |",
        second.as_secs_f64(),
        mib(peak_after)
    );
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}
