//! Several instances on one PostgreSQL and one NATS JetStream (a server this test starts on a
//! free port, with its own storage): live events cross instances, a client that moves resumes
//! without a gap, a client away too long is told to reload, and NATS going down loses nothing.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use beacon_bus::{NatsBus, NatsConfig, SharedBus};
use beacon_core::org::Role;
use beacon_store::Backend;
use beacon_store::testing::NatsServer;
use serde_json::{Value, json};

use crate::events::Stream;
use crate::{Session, TestApp};

pub(crate) async fn nats_bus(config: NatsConfig) -> SharedBus {
    let bus: SharedBus = NatsBus::connect(config).await.unwrap();
    bus
}

fn incident(title: &str) -> Value {
    json!({
        "kind": "fire", "title": title, "unit": "990102",
        "occurred_at": "2026-03-02T01:00:00Z", "reported_at": "2026-03-02T01:20:00Z",
        "place": "江南区", "deaths": 0, "missing": 0, "serious_injuries": 0, "minor_injuries": 1,
        "direct_loss_cny": 10_000, "description": "起火", "allow_duplicate": true
    })
}

async fn register(t: &TestApp, officer: &Session, title: &str) {
    t.post(officer, "/api/v1/incidents", incident(title)).await.expect(StatusCode::CREATED);
}

/// The next event of `kind` on the stream within `wait`, with its id.
async fn next_of(stream: &mut Stream, kind: &str, wait: Duration) -> Option<(u64, Value)> {
    let deadline = Instant::now() + wait;
    while Instant::now() < deadline {
        if let Some((id, event)) = stream.next().await
            && event["kind"] == kind
        {
            return Some((id.and_then(|i| i.parse().ok()).unwrap_or(0), event));
        }
    }
    None
}

/// The titles of the incident events a stream sends until it falls quiet.
async fn titles(stream: &mut Stream) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    while let Some((id, event)) = stream.next().await {
        assert_ne!(event["kind"], "reset", "no reset expected");
        if event["kind"] == "incident.created" {
            let id = id.and_then(|i| i.parse().ok()).unwrap();
            out.push((id, event["data"]["title"].as_str().unwrap().to_owned()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_cross_instances_and_a_moved_client_resumes_without_a_gap() {
    let nats = NatsServer::start();
    let config = NatsConfig::new(&nats.url());
    let t = TestApp::with_bus(Backend::Postgres, Some(nats_bus(config.clone()).await)).await;
    let b = t.instance(nats_bus(config.clone()).await);
    let east = t.signed_in("east.officer", &t.tree.east, &[Role::DutyOfficer]).await;
    let city = t.signed_in("city.officer", &t.tree.city, &[Role::DutyOfficer]).await;
    let west = t.signed_in("west.officer", &t.tree.west, &[Role::DutyOfficer]).await;

    // A console on B sees what A wrote, within a second; the other district does not.
    let mut on_b = Stream::open_on(&b, &city, None).await;
    let mut west_on_b = Stream::open_on(&b, &west, None).await;
    let mut on_a = Stream::open(&t, &city, None).await;
    let started = Instant::now();
    register(&t, &east, "一号火情").await;
    let (first, event) = next_of(&mut on_b, "incident.created", Duration::from_secs(5))
        .await
        .expect("B's console hears of A's incident");
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
    assert_eq!(event["data"]["title"], "一号火情");
    assert!(west_on_b.next().await.is_none(), "scope holds across instances");
    // Both instances number the event alike: one sequence.
    let (on_a_id, _) =
        next_of(&mut on_a, "incident.created", Duration::from_secs(5)).await.unwrap();
    assert_eq!(on_a_id, first);

    // The client leaves A; two incidents are registered meanwhile; it comes back on B.
    drop(on_a);
    register(&t, &east, "二号火情").await;
    register(&t, &east, "三号火情").await;
    next_of(&mut on_b, "incident.created", Duration::from_secs(5)).await.unwrap();
    next_of(&mut on_b, "incident.created", Duration::from_secs(5)).await.unwrap();
    let mut moved = Stream::open_on(&b, &city, Some(&first.to_string())).await;
    let got = titles(&mut moved).await;
    let names: Vec<&str> = got.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(names, ["二号火情", "三号火情"], "exactly what it missed, in order");
    assert!(got[0].0 > first && got[1].0 > got[0].0);

    // An instance started after those events has none of them in memory: it replays them from
    // the stream.
    let c = t.instance(nats_bus(config.clone()).await);
    let mut on_c = Stream::open_on(&c, &city, Some(&first.to_string())).await;
    let names: Vec<String> = titles(&mut on_c).await.into_iter().map(|(_, t)| t).collect();
    assert_eq!(names, ["二号火情", "三号火情"]);

    // An id from no sequence of this deployment: the client is told to reload.
    let mut stranger = Stream::open_on(&c, &city, Some("999999999")).await;
    let (_, event) = stranger.next().await.unwrap();
    assert_eq!(event["kind"], "reset");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_away_longer_than_the_stream_keeps_is_told_to_reload() {
    let nats = NatsServer::start();
    let mut config = NatsConfig::new(&nats.url());
    config.stream = "BEACON_SHORT".to_owned();
    config.max_events = 3;
    let t = TestApp::with_bus(Backend::Postgres, Some(nats_bus(config.clone()).await)).await;
    let east = t.signed_in("east.officer", &t.tree.east, &[Role::DutyOfficer]).await;
    let city = t.signed_in("city.officer", &t.tree.city, &[Role::DutyOfficer]).await;
    let mut console = Stream::open(&t, &city, None).await;
    register(&t, &east, "早先").await;
    let (first, _) =
        next_of(&mut console, "incident.created", Duration::from_secs(5)).await.unwrap();
    for i in 0..5 {
        register(&t, &east, &format!("后来{i}")).await;
    }
    for _ in 0..5 {
        next_of(&mut console, "incident.created", Duration::from_secs(5)).await.unwrap();
    }
    // A fresh instance holds nothing; the stream no longer has what came after `first`.
    let late = t.instance(nats_bus(config).await);
    let mut back = Stream::open_on(&late, &city, Some(&first.to_string())).await;
    let (_, event) = back.next().await.unwrap();
    assert_eq!(event["kind"], "reset");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_down_loses_nothing_and_health_says_degraded() {
    let mut nats = NatsServer::start();
    let config = NatsConfig::new(&nats.url());
    let t = TestApp::with_bus(Backend::Postgres, Some(nats_bus(config).await)).await;
    let east = t.signed_in("east.officer", &t.tree.east, &[Role::DutyOfficer]).await;
    let city = t.signed_in("city.officer", &t.tree.city, &[Role::DutyOfficer]).await;
    let mut console = Stream::open(&t, &city, None).await;
    register(&t, &east, "停机前").await;
    next_of(&mut console, "incident.created", Duration::from_secs(5)).await.unwrap();

    nats.kill();
    // Writes still succeed; their events wait in the outbox.
    register(&t, &east, "停机中甲").await;
    register(&t, &east, "停机中乙").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let health = loop {
        let health = t.call(None, axum::http::Method::GET, "/healthz", None).await;
        health.expect(StatusCode::OK);
        let body = health.json();
        if body["bus"] == "degraded" && body["event_backlog"].as_i64() >= Some(2) {
            break body;
        }
        assert!(Instant::now() < deadline, "health never said degraded: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["database"], "postgres");

    nats.restart();
    let mut names = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while names.len() < 2 && Instant::now() < deadline {
        if let Some((_, event)) =
            next_of(&mut console, "incident.created", Duration::from_secs(1)).await
        {
            names.push(event["data"]["title"].as_str().unwrap().to_owned());
        }
    }
    assert_eq!(names, ["停机中甲", "停机中乙"], "delivered once NATS is back, in order");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let body = t.call(None, axum::http::Method::GET, "/healthz", None).await.json();
        if body["bus"] == "ok" && body["event_backlog"] == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "health never recovered: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
