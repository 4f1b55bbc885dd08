use std::collections::BTreeMap;

use beacon_core::calendar::WorkCalendar;
use beacon_core::duty::{DutySettings, GapKind, ShiftDef, SlotDef, SlotKind};
use beacon_core::org::Role;
use beacon_core::scope::Scope;
use beacon_store::deadline::{self, NewDeadline};
use beacon_store::{StoreError, backend_tests};
use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::TestStore;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

/// Day 08:30–17:30 and night 17:30–08:30, a leader and two officers each.
fn day_and_night() -> DutySettings {
    let shift = |key: &str, start: &str, end: &str| ShiftDef {
        key: key.into(),
        name: key.into(),
        start: start.into(),
        end: end.into(),
    };
    let slot = |key: &str, kind, count| SlotDef { key: key.into(), name: key.into(), kind, count };
    DutySettings {
        shifts: vec![shift("day", "08:30", "17:30"), shift("night", "17:30", "08:30")],
        slots: vec![slot("leader", SlotKind::Leader, 1), slot("officer", SlotKind::Officer, 3)],
        ..DutySettings::default()
    }
}

/// A district (leader + 3 staff) with enough people for a day/night rota.
async fn staffed_district(t: &TestStore) -> String {
    let tree = t.city().await;
    let op = TestStore::operator();
    t.store.set_duty_settings(&Scope::Global, &op, &tree.east, day_and_night()).await.unwrap();
    for i in 0..4 {
        t.user(&format!("east.leader{i}"), &tree.east, &[Role::DutyLeader]).await;
    }
    for i in 0..8 {
        t.user(&format!("east.officer{i}"), &tree.east, &[Role::DutyOfficer]).await;
    }
    tree.east
}

backend_tests! {
    async fn a_roster_across_the_year_end_has_no_gaps_until_a_shift_goes(t: TestStore) {
        let east = staffed_district(&t).await;
        let op = TestStore::operator();
        let calendar = WorkCalendar::builtin();
        let made = t.store.generate_roster(&Scope::Global, &op, &east, date("2026-12-30"), date("2027-01-02"), false, &calendar).await.unwrap();
        assert_eq!((made.shifts_created, made.posts_unfilled), (8, 0));
        let (from, to) = (at("2026-12-30T00:30:00Z"), at("2027-01-03T00:30:00Z"));
        assert_eq!(t.store.duty_gaps(&Scope::Global, &east, from, to).await.unwrap(), vec![]);

        // The night shift of New Year's Eve runs across midnight and the year end; without it
        // the gap is exactly 17:30 on Dec 31 to 08:30 on Jan 1, Beijing time.
        let shifts = t.store.duty_shifts(&Scope::Global, &east, from, to).await.unwrap();
        let eve = shifts.iter().find(|s| s.date == date("2026-12-31") && s.shift_key == "night").unwrap();
        assert_eq!((eve.starts_at, eve.ends_at), (at("2026-12-31T09:30:00Z"), at("2027-01-01T00:30:00Z")));
        t.store.delete_draft_shift(&Scope::Global, &op, &eve.id).await.unwrap();
        let gaps = t.store.duty_gaps(&Scope::Global, &east, from, to).await.unwrap();
        assert_eq!(gaps.len(), 1);
        assert_eq!(gaps[0].kind, GapKind::Uncovered);
        assert_eq!((gaps[0].starts_at, gaps[0].ends_at), (eve.starts_at, eve.ends_at));

        // Generation leaves a date that still has a shift alone; once the date is empty it
        // fills it again. Publishing tells everyone on the roster.
        let again = t.store.generate_roster(&Scope::Global, &op, &east, date("2026-12-30"), date("2027-01-02"), false, &calendar).await.unwrap();
        assert_eq!(again.shifts_created, 0);
        let day = shifts.iter().find(|s| s.date == date("2026-12-31") && s.shift_key == "day").unwrap();
        t.store.delete_draft_shift(&Scope::Global, &op, &day.id).await.unwrap();
        let again = t.store.generate_roster(&Scope::Global, &op, &east, date("2026-12-30"), date("2027-01-02"), false, &calendar).await.unwrap();
        assert_eq!(again.shifts_created, 2);
        // With both neighbours fixed, eight officers cannot fill Dec 31's two shifts without
        // back-to-back duty: the gap check says so and publishing needs an acknowledgement.
        let gaps = t.store.duty_gaps(&Scope::Global, &east, from, to).await.unwrap();
        assert!(!gaps.is_empty() && gaps.iter().all(|g| g.starts_at >= eve.starts_at - Duration::hours(9) && g.ends_at <= eve.ends_at));
        let refused = t.store.publish_roster(&Scope::Global, &op, false, &east, date("2026-12-30"), date("2027-01-02"), false).await;
        assert!(matches!(refused, Err(StoreError::Conflict("roster_has_gaps"))));
        let (published, deliveries) = t.store.publish_roster(&Scope::Global, &op, false, &east, date("2026-12-30"), date("2027-01-02"), true).await.unwrap();
        assert_eq!(published, 8);
        let mut told: BTreeMap<String, usize> = BTreeMap::new();
        for d in &deliveries {
            *told.entry(d.user_id.clone()).or_default() += 1;
            assert_eq!(d.notification.kind, "duty.roster_published");
        }
        assert!(told.values().all(|n| *n == 1), "one notification per person");
        assert_eq!(t.store.pending_deadlines().await.unwrap(), 8, "one clock per shift");
        let nothing = t.store.publish_roster(&Scope::Global, &op, false, &east, date("2026-12-30"), date("2027-01-02"), false).await;
        assert!(matches!(nothing, Err(StoreError::Conflict("nothing_to_publish"))));
    }

    async fn many_concurrent_readers_of_shifts_do_not_exhaust_the_pool(t: TestStore) {
        // Each read of shifts holds one reader connection; it once asked the pool for a second
        // (the unit's settings) while holding the first, so as many concurrent reads as the
        // pool has connections waited on each other until the pool timed out (a 503 for
        // `duty/now` under load).
        let east = staffed_district(&t).await;
        let op = TestStore::operator();
        let calendar = WorkCalendar::builtin();
        t.store.generate_roster(&Scope::Global, &op, &east, date("2026-05-01"), date("2026-05-07"), false, &calendar).await.unwrap();
        let (from, to) = (at("2026-05-01T00:30:00Z"), at("2026-05-08T00:30:00Z"));
        let mut reads = tokio::task::JoinSet::new();
        for _ in 0..32 {
            let (store, east) = (t.store.clone(), east.clone());
            reads.spawn(async move { store.duty_gaps(&Scope::Global, &east, from, to).await });
        }
        while let Some(read) = reads.join_next().await {
            assert_eq!(read.unwrap().unwrap(), vec![]);
        }
    }

    async fn a_roster_is_invisible_outside_the_scope(t: TestStore) {
        let east = staffed_district(&t).await;
        let west = t.store.get_unit_by_code(&Scope::Global, "990103").await.unwrap().id;
        let calendar = WorkCalendar::builtin();
        let op = TestStore::operator();
        t.store.generate_roster(&Scope::Global, &op, &east, date("2026-05-01"), date("2026-05-02"), false, &calendar).await.unwrap();
        let west_scope = Scope::subtree(&west);
        let (from, to) = (at("2026-05-01T00:00:00Z"), at("2026-05-03T00:00:00Z"));
        assert!(matches!(t.store.duty_shifts(&west_scope, &east, from, to).await, Err(StoreError::NotFound)));
        assert!(matches!(t.store.duty_gaps(&west_scope, &east, from, to).await, Err(StoreError::NotFound)));
        let shifts = t.store.duty_shifts(&Scope::Global, &east, from, to).await.unwrap();
        assert!(matches!(t.store.duty_shift(&west_scope, &shifts[0].id).await, Err(StoreError::NotFound)));
    }

    async fn a_deadline_stage_fires_once(t: TestStore) {
        let tree = t.city().await;
        let now = t.store.now();
        let mut tx = t.store.begin().await.unwrap();
        deadline::schedule(&mut tx, now, now, NewDeadline {
            kind: "test.kind",
            subject: ("test", "subject-1".into()),
            unit_id: Some(tree.city.clone()),
            due_at: now + Duration::minutes(10),
            stages: vec![(now + Duration::minutes(10), "due"), (now - Duration::minutes(1), "past"), (now + Duration::minutes(5), "remind")],
        }).await.unwrap();
        tx.commit().await.unwrap();
        assert!(t.store.due_stages(10).await.unwrap().is_empty(), "past stages are dropped");
        t.clock.advance(Duration::minutes(5));
        let due = t.store.due_stages(10).await.unwrap();
        assert_eq!(due.iter().map(|d| d.stage.as_str()).collect::<Vec<_>>(), vec!["remind"]);
        let mut first = t.store.begin().await.unwrap();
        assert!(t.store.claim_stage(&mut first, &due[0]).await.unwrap());
        first.commit().await.unwrap();
        let mut second = t.store.begin().await.unwrap();
        assert!(!t.store.claim_stage(&mut second, &due[0]).await.unwrap(), "claimed already");
        second.rollback().await.unwrap();
        t.clock.advance(Duration::minutes(5));
        let due = t.store.due_stages(10).await.unwrap();
        assert_eq!(due[0].stage, "due");
        let mut tx = t.store.begin().await.unwrap();
        assert!(t.store.claim_stage(&mut tx, &due[0]).await.unwrap());
        tx.commit().await.unwrap();
        assert_eq!(t.store.pending_deadlines().await.unwrap(), 0);
    }
}
