//! The events outbox: events are written with their change, relayed in order, and stay until
//! the bus takes them.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use beacon_core::event::CommittedEvent;
use beacon_core::org::{Role, UnitLevel};
use beacon_store::outbox::Relayed;
use beacon_store::{Backend, backend_tests};

use crate::TestStore;

/// Everything waiting, taken by a bus that accepts it.
async fn drain(t: &TestStore) -> Vec<CommittedEvent> {
    let taken = Arc::new(Mutex::new(Vec::new()));
    loop {
        let sink = taken.clone();
        let outcome = t
            .store
            .relay_events(100, async move |events| {
                sink.lock().unwrap().extend(events);
                Ok(())
            })
            .await
            .unwrap();
        if outcome == Relayed::Published(0) {
            break;
        }
    }
    taken.lock().unwrap().clone()
}

backend_tests! {
    async fn a_change_and_its_events_commit_together(t: TestStore) {
        let tree = t.city().await;
        drain(&t).await;
        t.user("someone", &tree.east, &[Role::Staff]).await;
        let events = drain(&t).await;
        assert_eq!(events.len(), 1);
        let event = &events[0].event;
        assert_eq!(event.kind, "user.created");
        assert_eq!(event.unit_path, vec![tree.city.clone(), tree.east.clone()]);
        // Only account administrators hear of accounts.
        assert!(event.roles.contains(&Role::SystemAdmin));
        assert!(!event.roles.contains(&Role::Staff));

        // A change that fails leaves no event behind.
        let duplicate = t
            .store
            .create_user(
                &beacon_core::scope::Scope::Global,
                &TestStore::operator(),
                crate::new_user("someone", &tree.east, &[Role::Staff]),
            )
            .await;
        assert!(duplicate.is_err());
        assert!(drain(&t).await.is_empty());
        assert_eq!(t.store.event_backlog().await.unwrap(), 0);
    }

    async fn events_wait_until_the_bus_takes_them(t: TestStore) {
        let tree = t.city().await;
        drain(&t).await;
        t.unit(Some(&tree.west), "990103001", "西湖街道", UnitLevel::Township).await;
        t.unit(Some(&tree.west), "990103002", "西岭街道", UnitLevel::Township).await;
        assert_eq!(t.store.event_backlog().await.unwrap(), 2);
        let refused = t
            .store
            .relay_events(100, async |_| Err("bus down".to_owned()))
            .await
            .unwrap();
        assert_eq!(refused, Relayed::BusFailed("bus down".to_owned()));
        assert_eq!(t.store.event_backlog().await.unwrap(), 2, "nothing is lost");
        let events = drain(&t).await;
        let names: Vec<&str> =
            events.iter().map(|e| e.event.data["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["西湖街道", "西岭街道"], "in the order they were written");
        assert!(events[0].id < events[1].id);
        assert_eq!(t.store.event_backlog().await.unwrap(), 0);
    }

    async fn relayed_events_leave_the_outbox_and_are_never_relayed_twice(t: TestStore) {
        let tree = t.city().await;
        drain(&t).await;
        t.unit(Some(&tree.west), "990103001", "西湖街道", UnitLevel::Township).await;
        assert_eq!(drain(&t).await.len(), 1);
        // SQLite removes relayed rows at most once a second (or every few thousand rows).
        tokio::time::sleep(Duration::from_millis(1100)).await;
        t.unit(Some(&tree.west), "990103002", "西岭街道", UnitLevel::Township).await;
        let second = drain(&t).await;
        assert_eq!(second.len(), 1, "the first event is not relayed again");
        assert_eq!(second[0].event.data["name"], "西岭街道");
        // The rows the bus took are gone: a new instance's relay finds at most what the last
        // pass took since the last removal, and nothing older.
        let (other, _) = t.db.store().await;
        let taken = Arc::new(Mutex::new(Vec::new()));
        let sink = taken.clone();
        other
            .relay_events(100, async move |events| {
                sink.lock().unwrap().extend(events);
                Ok(())
            })
            .await
            .unwrap();
        let names: Vec<String> = taken
            .lock()
            .unwrap()
            .iter()
            .map(|e| e.event.data["name"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert!(!names.iter().any(|n| n == "西湖街道"), "relayed rows were removed: {names:?}");
        assert_eq!(other.event_backlog().await.unwrap(), 0);
        other.close().await;
    }
}

/// Two relays of two instances on one PostgreSQL share the outbox: each event is claimed by one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_relays_never_take_the_same_event() {
    let t = TestStore::new(Backend::Postgres).await;
    let tree = t.city().await;
    drain(&t).await;
    for i in 0..40 {
        t.unit(
            Some(&tree.west),
            &format!("9901039{i:02}"),
            &format!("街道{i}"),
            UnitLevel::Township,
        )
        .await;
    }
    let taken = Arc::new(Mutex::new(Vec::new()));
    let relay = |limit: u32| {
        let store = t.store.clone();
        let sink = taken.clone();
        async move {
            loop {
                let sink = sink.clone();
                let outcome = store
                    .relay_events(limit, async move |events| {
                        // A slow bus: the other relay runs meanwhile.
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        sink.lock().unwrap().extend(events.into_iter().map(|e| e.id));
                        Ok(())
                    })
                    .await
                    .unwrap();
                if outcome == Relayed::Published(0) {
                    break;
                }
            }
        }
    };
    tokio::join!(relay(3), relay(5));
    let mut ids = taken.lock().unwrap().clone();
    assert_eq!(ids.len(), 40);
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 40, "no event relayed twice");
}
