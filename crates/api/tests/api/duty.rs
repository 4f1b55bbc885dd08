//! The duty desk end to end, on both backends: settings and scope, generation and the gap check,
//! refused edits, swaps, check-in and handover on a manual clock, the deadlines the scheduler
//! fires, the duty log, iCalendar feeds and the working-day calendar.
//!
//! The test clock starts at 2026-03-02T01:30:00Z (Monday 09:30 in Beijing). Sessions time out
//! after 30 idle minutes of that clock, so every test signs in again after moving it.

use std::collections::BTreeSet;
use std::str::FromStr;

use axum::http::{Method, StatusCode, header};
use beacon_core::org::Role;
use beacon_store::backend_tests;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use icalendar::{CalendarDateTime, Component, DatePerhapsTime};
use serde_json::{Value, json};

use crate::{PASSWORD, Session, TestApp};

const OK: StatusCode = StatusCode::OK;
const INVALID: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;
const EAST: &str = "990102";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn next_day(date: &str) -> String {
    let d: NaiveDate = date.parse().unwrap();
    d.succ_opt().unwrap().to_string()
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// One 24-hour shift from 08:30 with a duty leader and three officers: the district minimum
/// (a leader plus 3 staff) exactly, so every gap the tests make is a real one.
fn settings() -> Value {
    json!({
        "duty_phone": "13800138000",
        "shifts": [{ "key": "day", "name": "24小时班", "start": "08:30", "end": "08:30" }],
        "slots": [
            { "key": "leader", "name": "带班领导", "kind": "leader", "count": 1 },
            { "key": "officer", "name": "值班员", "kind": "officer", "count": 3 }
        ],
        "max_consecutive": 1,
        "check_in_grace_minutes": 15,
        "remind_before_minutes": 60,
        "remind_evening_hour": 20
    })
}

/// The east district's duty desk: a city leader who manages rosters and stands no duty there,
/// three duty leaders and eight duty officers of the district. A display name is the username.
struct Desk {
    boss: Session,
    leaders: Vec<String>,
    officers: Vec<String>,
}

async fn desk(t: &TestApp) -> Desk {
    let boss = t.signed_in("city.boss", &t.tree.city, &[Role::Leader]).await;
    t.put(&boss, "/api/v1/duty/settings?unit=990102", settings()).await.expect(OK);
    let mut leaders = Vec::new();
    for i in 1..=3 {
        leaders.push(t.user(&format!("e.lead{i}"), &t.tree.east, &[Role::DutyLeader]).await);
    }
    let mut officers = Vec::new();
    for i in 1..=8 {
        officers.push(t.user(&format!("e.off{i}"), &t.tree.east, &[Role::DutyOfficer]).await);
    }
    Desk { boss, leaders, officers }
}

async fn login(t: &TestApp, username: &str) -> Session {
    t.login(username, PASSWORD).await.session()
}

async fn generate(t: &TestApp, s: &Session, unit: &str, from: &str, to: &str) -> Value {
    let r = t
        .post(s, "/api/v1/duty/roster/generate", json!({ "unit": unit, "from": from, "to": to }))
        .await;
    r.expect(OK);
    r.json()
}

async fn publish(t: &TestApp, s: &Session, from: &str, to: &str, ack: bool) -> crate::Response {
    t.post(
        s,
        "/api/v1/duty/roster/publish",
        json!({ "unit": EAST, "from": from, "to": to, "acknowledge_gaps": ack }),
    )
    .await
}

/// The east district's shifts overlapping `[from, to)` (dates are Beijing midnights).
async fn shifts(t: &TestApp, s: &Session, from: &str, to: &str) -> Vec<Value> {
    let r = t.get(s, &format!("/api/v1/duty/shifts?unit={EAST}&from={from}&to={to}")).await;
    r.expect(OK);
    r.json().as_array().unwrap().clone()
}

/// The east district's shift starting on a local date.
async fn shift_on(t: &TestApp, s: &Session, date: &str) -> Value {
    shifts(t, s, date, &next_day(date))
        .await
        .into_iter()
        .find(|x| x["date"] == date)
        .unwrap_or_else(|| panic!("no shift on {date}"))
}

async fn shift(t: &TestApp, s: &Session, id: &str) -> Value {
    let r = t.get(s, &format!("/api/v1/duty/shifts/{id}")).await;
    r.expect(OK);
    r.json()
}

fn people(shift: &Value) -> Vec<Value> {
    shift["people"].as_array().unwrap().clone()
}

fn user_ids(shift: &Value) -> BTreeSet<String> {
    people(shift).iter().map(|p| p["user_id"].as_str().unwrap().to_owned()).collect()
}

/// `(slot, user, assignment)` of everyone on a shift, to compare before and after an edit.
fn posts(shift: &Value) -> Vec<(String, String, String)> {
    let mut out: Vec<_> = people(shift)
        .iter()
        .map(|p| {
            (
                p["slot_key"].as_str().unwrap().to_owned(),
                p["user_id"].as_str().unwrap().to_owned(),
                p["assignment_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn of_kind(shift: &Value, kind: &str) -> Vec<Value> {
    people(shift).into_iter().filter(|p| p["slot_kind"] == kind).collect()
}

fn name_of(shift: &Value, user_id: &str) -> String {
    people(shift).iter().find(|p| p["user_id"] == user_id).unwrap()["display_name"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// A person's inbox (signing them in at the current clock).
async fn inbox(t: &TestApp, username: &str) -> Vec<Value> {
    let s = login(t, username).await;
    let r = t.get(&s, "/api/v1/notifications?per_page=200").await;
    r.expect(OK);
    r.json()["items"].as_array().unwrap().clone()
}

fn count(notes: &[Value], kind: &str) -> usize {
    notes.iter().filter(|n| n["kind"] == kind).count()
}

async fn history(t: &TestApp, s: &Session, id: &str) -> Vec<Value> {
    let r = t.get(s, &format!("/api/v1/duty/shifts/{id}/history")).await;
    r.expect(OK);
    r.json().as_array().unwrap().clone()
}

async fn check_in(t: &TestApp, s: &Session, assignment: &str) -> crate::Response {
    t.call(Some(s), Method::POST, &format!("/api/v1/duty/assignments/{assignment}/check-in"), None)
        .await
}

/// Records leave and returns its id.
async fn leave(t: &TestApp, s: &Session, user: &str, from: &str, to: &str) -> String {
    let r = t
        .post(
            s,
            "/api/v1/duty/leaves",
            json!({ "user_id": user, "kind": "leave", "starts_at": from, "ends_at": to, "note": "病假" }),
        )
        .await;
    r.expect(StatusCode::CREATED);
    r.json()["id"].as_str().unwrap().to_owned()
}

async fn decide(t: &TestApp, who: &Session, swap: &str, what: &str) -> crate::Response {
    t.call(Some(who), Method::POST, &format!("/api/v1/duty/swaps/{swap}/{what}"), None).await
}

async fn run_deadlines(t: &TestApp) -> usize {
    beacon_api::notify::run_due_deadlines(&t.state).await.unwrap()
}

fn log_entry(received_at: &str, summary: &str) -> Value {
    json!({
        "received_at": received_at,
        "channel": "phone",
        "category": "accident",
        "caller_name": "王五",
        "caller_unit": "滨江街道办事处",
        "caller_phone": "13800138000",
        "place": "滨江路",
        "summary": summary,
        "actions": "已通知街道派人查看",
        "follow_up": true
    })
}

fn vevents(text: &str) -> Vec<icalendar::Event> {
    let parsed = icalendar::Calendar::from_str(text).unwrap();
    parsed.components.iter().filter_map(|c| c.as_event()).cloned().collect()
}

fn beijing(local: &str) -> Option<DatePerhapsTime> {
    Some(DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone {
        date_time: local.parse().unwrap(),
        tzid: "Asia/Shanghai".to_owned(),
    }))
}

fn edited_again() -> serde_json::Value {
    let mut edited = log_entry("2026-03-02T01:25:00Z", "滨江路河堤出现渗水，街道已派人查看");
    edited["instructions"] = json!("注意安全，随时报告");
    edited
}

backend_tests! {
    async fn settings_must_tile_the_day_and_stay_in_scope(t: TestApp) {
        let boss = t.signed_in("city.boss", &t.tree.city, &[Role::Leader]).await;
        let saved = t.put(&boss, "/api/v1/duty/settings?unit=990102", settings()).await;
        saved.expect(OK);
        assert_eq!(saved.json()["duty_phone"], "13800138000");
        assert_eq!(t.get(&boss, "/api/v1/duty/settings?unit=990102").await.json(), saved.json());

        // A hole between 17:30 and 18:00; an overlap; one shift shorter than the day.
        let tilings = [
            json!([{ "key": "day", "name": "白班", "start": "08:30", "end": "17:30" },
                   { "key": "night", "name": "夜班", "start": "18:00", "end": "08:30" }]),
            json!([{ "key": "day", "name": "白班", "start": "08:00", "end": "20:00" },
                   { "key": "night", "name": "夜班", "start": "19:00", "end": "08:00" }]),
            json!([{ "key": "day", "name": "白班", "start": "08:30", "end": "20:30" }]),
        ];
        for shifts in tilings {
            let mut body = settings();
            body["shifts"] = shifts;
            let refused = t.put(&boss, "/api/v1/duty/settings?unit=990102", body).await;
            refused.expect(INVALID);
            assert_eq!(refused.json()["fields"]["shifts"], "not_tiling_day");
        }
        // Two shifts that do tile the day are kept, sorted by start.
        let mut two = settings();
        two["shifts"] = json!([{ "key": "night", "name": "夜班", "start": "17:30", "end": "08:30" },
                               { "key": "day", "name": "白班", "start": "08:30", "end": "17:30" }]);
        let kept = t.put(&boss, "/api/v1/duty/settings?unit=990102", two).await;
        kept.expect(OK);
        assert_eq!(kept.json()["shifts"][0]["key"], "day");

        let unknown = t.put(&boss, "/api/v1/duty/settings?unit=990199", settings()).await;
        unknown.expect(INVALID);
        assert_eq!(unknown.json()["fields"]["unit"], "not_found");

        // The other district's duty leader: the east code looks exactly like an unknown one.
        let west = t.signed_in("w.lead", &t.tree.west, &[Role::DutyLeader]).await;
        let peek = t.get(&west, "/api/v1/duty/settings?unit=990102").await;
        peek.expect(INVALID);
        assert_eq!(peek.json()["fields"]["unit"], "not_found");
        let missing = t.get(&west, "/api/v1/duty/settings?unit=990199").await;
        assert_eq!(peek.bytes, missing.bytes);
        let mut overwrite = settings();
        overwrite["duty_phone"] = json!("13900139000");
        let write = t.put(&west, "/api/v1/duty/settings?unit=990102", overwrite.clone()).await;
        write.expect(INVALID);
        assert_eq!(write.json()["fields"]["unit"], "not_found");
        // Their own unit (the default without a code) they may set.
        let own = t.put(&west, "/api/v1/duty/settings", overwrite).await;
        own.expect(OK);
        let east = t.get(&boss, "/api/v1/duty/settings?unit=990102").await.json();
        assert_eq!(east["duty_phone"], "13800138000", "east untouched");
        assert_eq!(east["shifts"].as_array().unwrap().len(), 2);
        let west_settings = t.get(&boss, "/api/v1/duty/settings?unit=990103").await.json();
        assert_eq!(west_settings["duty_phone"], "13900139000");

        // Reading is for every business role, writing for leaders only.
        let officer = t.signed_in("e.off", &t.tree.east, &[Role::DutyOfficer]).await;
        assert_eq!(t.get(&officer, "/api/v1/duty/settings").await.json()["duty_phone"], "13800138000");
        t.put(&officer, "/api/v1/duty/settings", settings()).await.expect(StatusCode::FORBIDDEN);
    }

    async fn a_generated_month_has_no_gaps_until_a_leader_is_taken_off(t: TestApp) {
        let d = desk(&t).await;
        let generated = generate(&t, &d.boss, EAST, "2026-04-01", "2026-04-30").await;
        assert_eq!(generated, json!({ "shifts_created": 30, "drafts_replaced": 0, "posts_unfilled": 0 }));
        let month = shifts(&t, &d.boss, "2026-04-01", "2026-05-01").await;
        assert_eq!(month.len(), 30);
        assert_eq!(month[0]["starts_at"], "2026-04-01T00:30:00Z", "08:30 in Beijing");
        assert_eq!(month[29]["ends_at"], "2026-05-01T00:30:00Z");
        for s in &month {
            assert_eq!(s["status"], "draft");
            assert_eq!(of_kind(s, "leader").len(), 1, "{s}");
            assert_eq!(of_kind(s, "officer").len(), 3, "{s}");
            assert!(of_kind(s, "leader").iter().all(|p| d.leaders.iter().any(|l| *l == p["user_id"])));
        }

        let gaps_url = "/api/v1/duty/gaps?unit=990102&from=2026-04-01T00:30:00Z&to=2026-05-01T00:30:00Z";
        assert_eq!(t.get(&d.boss, gaps_url).await.json(), json!([]));
        // From Beijing midnight, the 8.5 hours before the first shift are uncovered, to the minute.
        let from_midnight = t.get(&d.boss, "/api/v1/duty/gaps?unit=990102&from=2026-04-01&to=2026-05-01").await.json();
        let from_midnight = from_midnight.as_array().unwrap();
        assert_eq!(from_midnight.len(), 1, "{from_midnight:?}");
        assert_eq!(from_midnight[0]["kind"], "uncovered");
        assert_eq!(from_midnight[0]["starts_at"], "2026-03-31T16:00:00Z");
        assert_eq!(from_midnight[0]["ends_at"], "2026-04-01T00:30:00Z");

        // Take the leader off the 10th.
        let tenth = month.iter().find(|s| s["date"] == "2026-04-10").unwrap().clone();
        let id = tenth["id"].as_str().unwrap().to_owned();
        let officers_only: Vec<Value> = of_kind(&tenth, "officer")
            .iter()
            .map(|p| json!({ "slot_key": p["slot_key"], "user_id": p["user_id"] }))
            .collect();
        let edited = t.put(&d.boss, &format!("/api/v1/duty/shifts/{id}/people"), json!({ "people": officers_only })).await;
        edited.expect(OK);
        assert!(of_kind(&edited.json(), "leader").is_empty());
        assert_eq!(of_kind(&edited.json(), "officer").len(), 3);
        let gaps = t.get(&d.boss, gaps_url).await.json();
        let gaps = gaps.as_array().unwrap();
        assert_eq!(gaps.len(), 1, "{gaps:?}");
        assert_eq!(gaps[0]["kind"], "no_leader");
        assert_eq!(gaps[0]["starts_at"], "2026-04-10T00:30:00Z");
        assert_eq!(gaps[0]["ends_at"], "2026-04-11T00:30:00Z");
        assert_eq!(gaps[0]["shift_ids"], json!([id]));
        assert_eq!((gaps[0]["required"].clone(), gaps[0]["actual"].clone()), (json!(1), json!(0)));

        // Publishing waits for the gap to be acknowledged.
        let refused = publish(&t, &d.boss, "2026-04-01", "2026-04-30", false).await;
        refused.expect(StatusCode::CONFLICT);
        assert_eq!(refused.code(), "roster_has_gaps");
        assert!(shifts(&t, &d.boss, "2026-04-01", "2026-05-01").await.iter().all(|s| s["status"] == "draft"));
        let month = shifts(&t, &d.boss, "2026-04-01", "2026-05-01").await;
        let on_roster: BTreeSet<String> = month.iter().flat_map(user_ids).collect();
        let published = publish(&t, &d.boss, "2026-04-01", "2026-04-30", true).await;
        published.expect(OK);
        assert_eq!(published.json(), json!({ "shifts_published": 30, "people_notified": on_roster.len() }));
        let month = shifts(&t, &d.boss, "2026-04-01", "2026-05-01").await;
        assert!(month.iter().all(|s| s["status"] == "published" && s["published_at"] == "2026-03-02T01:30:00Z"));
        let audit = t.audit_actions("duty.roster_published").await;
        assert_eq!(audit.len(), 1);
        assert!(audit[0].detail.contains("\"gaps_acknowledged\":1"), "{}", audit[0].detail);

        // Everyone on the roster is told how many shifts they have.
        let officer = of_kind(&tenth, "officer")[0].clone();
        let theirs = month.iter().filter(|s| user_ids(s).contains(officer["user_id"].as_str().unwrap())).count();
        let notes = inbox(&t, officer["display_name"].as_str().unwrap()).await;
        let told: Vec<&Value> = notes.iter().filter(|n| n["kind"] == "duty.roster_published").collect();
        assert_eq!(told.len(), 1);
        assert_eq!(told[0]["data"]["shifts"], theirs);
        assert_eq!(told[0]["data"]["from"], "2026-04-01");
        assert_eq!(told[0]["data"]["to"], "2026-04-30");
        let nothing = publish(&t, &d.boss, "2026-04-01", "2026-04-30", true).await;
        nothing.expect(StatusCode::CONFLICT);
        assert_eq!(nothing.code(), "nothing_to_publish");

        // At most 366 days at once.
        let long = t.post(&d.boss, "/api/v1/duty/roster/generate", json!({ "unit": EAST, "from": "2026-04-01", "to": "2027-04-02" })).await;
        long.expect(INVALID);
        assert_eq!(long.json()["fields"]["to"], "period_too_long");
        let long = publish(&t, &d.boss, "2026-04-01", "2027-04-02", true).await;
        long.expect(INVALID);
        assert_eq!(long.json()["fields"]["to"], "period_too_long");
        let long = t.get(&d.boss, "/api/v1/duty/gaps?unit=990102&from=2026-04-01&to=2027-04-03").await;
        long.expect(INVALID);
        assert_eq!(long.json()["fields"]["to"], "period_too_long");
        let backwards = t.post(&d.boss, "/api/v1/duty/roster/generate", json!({ "unit": EAST, "from": "2026-04-02", "to": "2026-04-01" })).await;
        assert_eq!(backwards.json()["fields"]["to"], "before_start");
        assert_eq!(shifts(&t, &d.boss, "2026-03-01", "2027-03-01").await.len(), 30, "nothing more generated");
    }

    async fn bad_edits_are_refused_whole(t: TestApp) {
        let d = desk(&t).await;
        let viewer = t.user("e.viewer", &t.tree.east, &[Role::Viewer]).await;
        let outsider = t.user("w.off", &t.tree.west, &[Role::DutyOfficer]).await;
        generate(&t, &d.boss, EAST, "2026-04-10", "2026-04-10").await;
        let before = shift_on(&t, &d.boss, "2026-04-10").await;
        let id = before["id"].as_str().unwrap().to_owned();
        let url = format!("/api/v1/duty/shifts/{id}/people");
        let leader = of_kind(&before, "leader")[0]["user_id"].as_str().unwrap().to_owned();
        let on: Vec<String> = of_kind(&before, "officer").iter().map(|p| p["user_id"].as_str().unwrap().to_owned()).collect();
        let free: Vec<String> = d.officers.iter().filter(|o| !on.contains(o)).cloned().collect();
        let post = |slot: &str, user: &str| json!({ "slot_key": slot, "user_id": user });

        // A duty officer in the duty leader's post.
        let r = t.put(&d.boss, &url, json!({ "people": [post("leader", &on[0]), post("officer", &on[1])] })).await;
        r.expect(INVALID);
        assert_eq!(r.json()["fields"], json!({ "people.0.user_id": "leader_role_required" }));
        assert_eq!(posts(&shift(&t, &d.boss, &id).await), posts(&before), "nothing half-saved");

        // Every error at once, the first post being fine.
        let r = t.put(&d.boss, &url, json!({ "people": [
            post("leader", &leader),
            post("officer", &viewer),
            post("dispatch", &free[0]),
            post("officer", &outsider),
            post("officer", &leader),
        ] })).await;
        r.expect(INVALID);
        assert_eq!(r.json()["fields"], json!({
            "people.1.user_id": "not_eligible",
            "people.2.slot_key": "unknown_slot",
            "people.3.user_id": "not_in_unit",
            "people.4.user_id": "duplicate",
        }));
        assert_eq!(posts(&shift(&t, &d.boss, &id).await), posts(&before), "nothing half-saved");

        // On leave for part of the shift.
        leave(&t, &d.boss, &free[0], "2026-04-10T06:00:00Z", "2026-04-10T10:00:00Z").await;
        let r = t.put(&d.boss, &url, json!({ "people": [
            post("leader", &leader), post("officer", &on[0]), post("officer", &on[1]), post("officer", &free[0]),
        ] })).await;
        r.expect(INVALID);
        assert_eq!(r.json()["fields"], json!({ "people.3.user_id": "on_leave" }));
        assert_eq!(posts(&shift(&t, &d.boss, &id).await), posts(&before), "nothing half-saved");

        // A valid replacement goes through and keeps the untouched posts' assignments.
        let r = t.put(&d.boss, &url, json!({ "people": [
            post("leader", &leader), post("officer", &on[0]), post("officer", &on[1]), post("officer", &free[1]),
        ] })).await;
        r.expect(OK);
        let after = r.json();
        assert_eq!(user_ids(&after), BTreeSet::from([leader.clone(), on[0].clone(), on[1].clone(), free[1].clone()]));
        let kept = of_kind(&before, "officer").into_iter().find(|p| p["user_id"] == on[0].as_str()).unwrap();
        assert!(people(&after).iter().any(|p| p["assignment_id"] == kept["assignment_id"]));

        // Two units' shifts at the same time: on[0] moves to the west district, which has a shift
        // at the same hours; they may not take it while on the east one. (They move once the
        // east shift has begun: it stays theirs, as only shifts to come are given up.)
        generate(&t, &d.boss, "990103", "2026-04-10", "2026-04-10").await;
        let west_shift = t.get(&d.boss, "/api/v1/duty/shifts?unit=990103&from=2026-04-10&to=2026-04-11").await.json()[0].clone();
        let west_id = west_shift["id"].as_str().unwrap().to_owned();
        let begun = chrono::DateTime::parse_from_rfc3339(after["starts_at"].as_str().unwrap()).unwrap().to_utc();
        t.clock.set(begun + chrono::Duration::minutes(30));
        let d = Desk { boss: login(&t, "city.boss").await, ..d };
        let changes = beacon_store::org::UserChanges { unit_id: Some(t.tree.west.clone()), ..Default::default() };
        t.store
            .update_user(&beacon_core::scope::Scope::Global, &beacon_core::audit::Actor::system("test"), &on[0], changes)
            .await
            .unwrap();
        let west_url = format!("/api/v1/duty/shifts/{west_id}/people");
        let r = t.put(&d.boss, &west_url, json!({ "people": [post("officer", &on[0])] })).await;
        r.expect(INVALID);
        assert_eq!(r.json()["fields"], json!({ "people.0.user_id": "overlapping_shift" }));
        assert_eq!(posts(&shift(&t, &d.boss, &west_id).await), posts(&west_shift), "nothing half-saved");
        // The west officer can be put there.
        let r = t.put(&d.boss, &west_url, json!({ "people": [post("officer", &outsider)] })).await;
        r.expect(OK);
        assert_eq!(user_ids(&r.json()), BTreeSet::from([outsider.clone()]));
    }

    async fn cover_is_asked_accepted_and_approved(t: TestApp) {
        let d = desk(&t).await;
        let viewer = t.user("e.viewer", &t.tree.east, &[Role::Viewer]).await;
        generate(&t, &d.boss, EAST, "2026-04-10", "2026-04-11").await;
        // No gaps, so no acknowledgement needed.
        publish(&t, &d.boss, "2026-04-10", "2026-04-11", false).await.expect(OK);
        let s = shift_on(&t, &d.boss, "2026-04-10").await;
        let next = shift_on(&t, &d.boss, "2026-04-11").await;
        let id = s["id"].as_str().unwrap().to_owned();
        let mine = of_kind(&s, "officer")[0].clone();
        let other_on_s = of_kind(&s, "officer")[1]["user_id"].as_str().unwrap().to_owned();
        let requester_id = mine["user_id"].as_str().unwrap().to_owned();
        let assignment = mine["assignment_id"].as_str().unwrap().to_owned();
        let requester = login(&t, mine["display_name"].as_str().unwrap()).await;
        let free: Vec<String> = d.officers.iter().filter(|o| !user_ids(&s).contains(*o) && !user_ids(&next).contains(*o)).cloned().collect();
        let colleague = free[0].clone();
        let colleague_name = format!("e.off{}", d.officers.iter().position(|o| *o == colleague).unwrap() + 1);
        let away = d.officers.iter().find(|o| !user_ids(&s).contains(*o) && **o != colleague).unwrap().clone();
        leave(&t, &d.boss, &away, "2026-04-09T00:00:00Z", "2026-04-12T00:00:00Z").await;
        let ask = |target: &str| json!({ "assignment_id": assignment, "target_user_id": target, "reason": "家中有事" });

        for (target, code) in [
            (viewer.as_str(), "not_eligible"),
            (away.as_str(), "on_leave"),
            (other_on_s.as_str(), "already_on_shift"),
            (requester_id.as_str(), "same_person"),
        ] {
            let refused = t.post(&requester, "/api/v1/duty/swaps", ask(target)).await;
            refused.expect(INVALID);
            assert_eq!(refused.json()["fields"]["target_user_id"], code, "{target}");
        }
        let created = t.post(&requester, "/api/v1/duty/swaps", ask(&colleague)).await;
        created.expect(StatusCode::CREATED);
        let swap = created.json();
        let swap_id = swap["id"].as_str().unwrap().to_owned();
        assert_eq!(swap["status"], "requested");
        assert_eq!(swap["target_user_id"], colleague.as_str());
        assert_eq!(swap["target_assignment_id"], Value::Null, "cover, not a trade");
        let again = t.post(&requester, "/api/v1/duty/swaps", ask(&colleague)).await;
        again.expect(StatusCode::CONFLICT);
        assert_eq!(again.code(), "swap_pending");
        let notes = inbox(&t, &colleague_name).await;
        assert!(notes.iter().any(|n| n["kind"] == "duty.swap_requested" && n["subject_id"] == swap_id.as_str()));

        // Only the colleague asked accepts; nobody party to it approves.
        let r = decide(&t, &requester, &swap_id, "accept").await;
        r.expect(StatusCode::FORBIDDEN);
        assert_eq!(r.code(), "not_yours_to_decide");
        let r = decide(&t, &requester, &swap_id, "approve").await;
        r.expect(StatusCode::FORBIDDEN);
        assert_eq!(r.code(), "own_swap");
        let target = login(&t, &colleague_name).await;
        let accepted = decide(&t, &target, &swap_id, "accept").await;
        accepted.expect(OK);
        assert_eq!(accepted.json()["status"], "accepted");
        for party in [&requester, &target] {
            let r = decide(&t, party, &swap_id, "approve").await;
            r.expect(StatusCode::FORBIDDEN);
            assert_eq!(r.code(), "own_swap");
        }
        let bystander = login(&t, &name_of(&s, &other_on_s)).await;
        let r = decide(&t, &bystander, &swap_id, "approve").await;
        r.expect(StatusCode::FORBIDDEN);
        assert_eq!(r.code(), "not_yours_to_decide", "an officer does not approve");
        assert_eq!(shift(&t, &d.boss, &id).await["people"], s["people"], "nothing changes before approval");

        let leader = login(&t, "e.lead1").await;
        let approved = decide(&t, &leader, &swap_id, "approve").await;
        approved.expect(OK);
        assert_eq!(approved.json()["status"], "approved");
        assert_eq!(approved.json()["decided_by_name"], "e.lead1");
        let now = shift(&t, &d.boss, &id).await;
        let post = people(&now).into_iter().find(|p| p["assignment_id"] == assignment.as_str()).unwrap();
        assert_eq!(post["user_id"], colleague.as_str());
        assert!(!user_ids(&now).contains(&requester_id));
        assert_eq!(user_ids(&now).len(), 4);
        let swapped: Vec<Value> = history(&t, &d.boss, &id).await.into_iter().filter(|h| h["kind"] == "swapped").collect();
        assert_eq!(swapped.len(), 1);
        assert_eq!(swapped[0]["data"]["from_user_id"], requester_id.as_str());
        assert_eq!(swapped[0]["data"]["to_user_id"], colleague.as_str());
        assert_eq!(swapped[0]["actor_name"], "e.lead1");
        let notes = inbox(&t, mine["display_name"].as_str().unwrap()).await;
        assert!(notes.iter().any(|n| n["kind"] == "duty.swap_decided" && n["data"]["status"] == "approved"));
        let r = decide(&t, &leader, &swap_id, "approve").await;
        r.expect(StatusCode::CONFLICT);
        assert_eq!(r.code(), "swap_not_open");
        let mine_box = t.get(&target, "/api/v1/duty/swaps").await.json();
        assert_eq!(mine_box[0]["id"], swap_id.as_str());
        assert_eq!(mine_box[0]["status"], "approved");

        // Once the shift has begun it is too late to ask.
        t.clock.set(at("2026-04-11T01:00:00Z"));
        let next_post = of_kind(&next, "officer")[0]["assignment_id"].as_str().unwrap().to_owned();
        let next_owner = of_kind(&next, "officer")[0]["display_name"].as_str().unwrap().to_owned();
        let late = t.post(&login(&t, &next_owner).await, "/api/v1/duty/swaps", json!({ "assignment_id": next_post, "target_user_id": free[1] })).await;
        late.expect(StatusCode::CONFLICT);
        assert_eq!(late.code(), "shift_started");
    }

    async fn check_in_opens_before_the_shift_and_handover_closes_it(t: TestApp) {
        let d = desk(&t).await;
        generate(&t, &d.boss, EAST, "2026-04-10", "2026-04-11").await;
        publish(&t, &d.boss, "2026-04-10", "2026-04-11", false).await.expect(OK);
        let first = shift_on(&t, &d.boss, "2026-04-10").await;
        let second = shift_on(&t, &d.boss, "2026-04-11").await;
        let (s1, s2) = (first["id"].as_str().unwrap().to_owned(), second["id"].as_str().unwrap().to_owned());
        assert_eq!(first["starts_at"], "2026-04-10T00:30:00Z");
        let officers = of_kind(&first, "officer");
        let name = |p: &Value| p["display_name"].as_str().unwrap().to_owned();
        let assignment = |p: &Value| p["assignment_id"].as_str().unwrap().to_owned();
        let (p, q) = (officers[0].clone(), officers[1].clone());
        let incoming = of_kind(&second, "officer")[0].clone();

        // 31 minutes early.
        t.clock.set(at("2026-04-09T23:59:00Z"));
        let ps = login(&t, &name(&p)).await;
        let early = check_in(&t, &ps, &assignment(&p)).await;
        early.expect(StatusCode::CONFLICT);
        assert_eq!(early.code(), "check_in_not_open");
        let too_soon = t.put(&ps, &format!("/api/v1/duty/shifts/{s1}/handover"), json!({ "open_items": [] })).await;
        too_soon.expect(StatusCode::CONFLICT);
        assert_eq!(too_soon.code(), "shift_not_started");

        // At the start.
        t.clock.set(at("2026-04-10T00:30:00Z"));
        let boss = login(&t, "city.boss").await;
        let ps = login(&t, &name(&p)).await;
        let qs = login(&t, &name(&q)).await;
        t.call(Some(&qs), Method::POST, &format!("/api/v1/duty/assignments/{}/check-in", assignment(&p)), None)
            .await
            .expect(StatusCode::NOT_FOUND);
        let done = check_in(&t, &ps, &assignment(&p)).await;
        done.expect(OK);
        let mine = |s: &Value| people(s).into_iter().find(|x| x["assignment_id"] == p["assignment_id"]).unwrap();
        assert_eq!(mine(&done.json())["checked_in_at"], "2026-04-10T00:30:00Z");
        assert_eq!(mine(&done.json())["checked_in_at"], mine(&shift(&t, &boss, &s1).await)["checked_in_at"]);
        t.clock.advance(Duration::minutes(5));
        let twice = check_in(&t, &ps, &assignment(&p)).await;
        twice.expect(OK);
        assert_eq!(mine(&twice.json())["checked_in_at"], "2026-04-10T00:30:00Z", "the first time is kept");
        let checked: Vec<Value> = history(&t, &boss, &s1).await.into_iter().filter(|h| h["kind"] == "checked_in").collect();
        assert_eq!(checked.len(), 1);
        assert_eq!(checked[0]["data"]["late"], false);

        // Handover near the end of the first shift.
        t.clock.set(at("2026-04-10T23:00:00Z"));
        let boss = login(&t, "city.boss").await;
        let ps = login(&t, &name(&p)).await;
        let qs = login(&t, &name(&q)).await;
        let rs = login(&t, &name(&incoming)).await;
        let body = json!({ "open_items": [{ "kind": "follow_up", "text": "滨江路河堤渗水，继续观察" }], "notes": "夜间平稳" });
        let url = format!("/api/v1/duty/shifts/{s1}/handover");
        let not_on = t.put(&rs, &url, body.clone()).await;
        not_on.expect(StatusCode::FORBIDDEN);
        assert_eq!(not_on.code(), "not_on_shift");
        let written = t.put(&ps, &url, body.clone()).await;
        written.expect(OK);
        assert_eq!(written.json()["next_shift_id"], s2.as_str());
        assert_eq!(written.json()["written_by_name"], name(&p));
        assert_eq!(written.json()["open_items"][0]["text"], "滨江路河堤渗水，继续观察");
        let view = t.get(&boss, &url).await.json();
        assert_eq!(view["handover"]["notes"], "夜间平稳");
        assert!(inbox(&t, &name(&incoming)).await.iter().any(|n| n["kind"] == "duty.handover_written"));
        let rs = login(&t, &name(&incoming)).await;

        let ack = format!("/api/v1/duty/shifts/{s1}/handover/acknowledge");
        for outsider in [&qs, &ps] {
            let r = t.call(Some(outsider), Method::POST, &ack, None).await;
            r.expect(StatusCode::FORBIDDEN);
            assert_eq!(r.code(), "not_on_next_shift");
        }
        assert_eq!(shift(&t, &boss, &s1).await["closed_at"], Value::Null);
        let acknowledged = t.call(Some(&rs), Method::POST, &ack, None).await;
        acknowledged.expect(OK);
        assert_eq!(acknowledged.json()["acknowledged_by_name"], name(&incoming));
        assert_eq!(acknowledged.json()["acknowledged_at"], "2026-04-10T23:00:00Z");
        let closed = shift(&t, &boss, &s1).await;
        assert_eq!(closed["closed_at"], "2026-04-10T23:00:00Z");
        assert_eq!(closed["handover_written_at"], "2026-04-10T23:00:00Z");
        let again = t.call(Some(&rs), Method::POST, &ack, None).await;
        again.expect(StatusCode::CONFLICT);
        assert_eq!(again.code(), "handover_acknowledged");
        let rewrite = t.put(&ps, &url, body).await;
        rewrite.expect(StatusCode::CONFLICT);
        assert_eq!(rewrite.code(), "handover_acknowledged");
        let edit = t.put(&boss, &format!("/api/v1/duty/shifts/{s1}/people"), json!({ "people": [] })).await;
        edit.expect(StatusCode::CONFLICT);
        assert_eq!(edit.code(), "shift_closed");
        let kinds: Vec<Value> = history(&t, &boss, &s1).await.iter().map(|h| h["kind"].clone()).collect();
        assert!(kinds.contains(&json!("handover_written")) && kinds.contains(&json!("handover_acknowledged")), "{kinds:?}");

        // After the end.
        t.clock.set(at("2026-04-11T00:30:00Z"));
        let boss = login(&t, "city.boss").await;
        let qs = login(&t, &name(&q)).await;
        let over = check_in(&t, &qs, &assignment(&q)).await;
        over.expect(StatusCode::CONFLICT);
        assert_eq!(over.code(), "shift_over");
        assert_eq!(mine(&shift(&t, &boss, &s1).await)["checked_in_at"], "2026-04-10T00:30:00Z");
    }

    async fn reminders_and_the_missed_check_in_alert_fire_once(t: TestApp) {
        let d = desk(&t).await;
        generate(&t, &d.boss, EAST, "2026-03-05", "2026-03-05").await;
        publish(&t, &d.boss, "2026-03-05", "2026-03-05", false).await.expect(OK);
        let s = shift_on(&t, &d.boss, "2026-03-05").await;
        let id = s["id"].as_str().unwrap().to_owned();
        assert_eq!(s["starts_at"], "2026-03-05T00:30:00Z");
        let names: Vec<String> = people(&s).iter().map(|p| p["display_name"].as_str().unwrap().to_owned()).collect();
        let leader = of_kind(&s, "leader")[0]["display_name"].as_str().unwrap().to_owned();
        let punctual = of_kind(&s, "officer")[0].clone();
        let punctual_name = punctual["display_name"].as_str().unwrap().to_owned();
        assert_eq!(run_deadlines(&t).await, 0);

        // The evening before at 20:00 Beijing, and an hour before the start.
        t.clock.set(at("2026-03-04T11:59:00Z"));
        assert_eq!(run_deadlines(&t).await, 0);
        assert_eq!(count(&inbox(&t, &leader).await, "duty.shift_reminder"), 0);
        t.clock.set(at("2026-03-04T12:00:00Z"));
        assert_eq!(run_deadlines(&t).await, 1);
        for name in &names {
            let notes = inbox(&t, name).await;
            assert_eq!(count(&notes, "duty.shift_reminder"), 1, "{name}");
            let reminder = notes.iter().find(|n| n["kind"] == "duty.shift_reminder").unwrap();
            assert_eq!(reminder["subject_id"], id.as_str());
            assert_eq!(reminder["data"]["starts_at"], "2026-03-05T00:30:00Z");
        }
        t.clock.set(at("2026-03-04T23:29:00Z"));
        assert_eq!(run_deadlines(&t).await, 0);
        t.clock.set(at("2026-03-04T23:30:00Z"));
        assert_eq!(run_deadlines(&t).await, 1);
        for name in &names {
            assert_eq!(count(&inbox(&t, name).await, "duty.shift_reminder"), 2, "{name}");
        }

        // One officer checks in; the others do not within the 15 minutes' grace.
        t.clock.set(at("2026-03-05T00:30:00Z"));
        let ps = login(&t, &punctual_name).await;
        check_in(&t, &ps, punctual["assignment_id"].as_str().unwrap()).await.expect(OK);
        // The workbench offers the others a one-click check-in for the running shift.
        let late_name = names.iter().find(|n| **n != punctual_name && **n != leader).unwrap().clone();
        let late = login(&t, &late_name).await;
        let bench = t.get(&late, "/api/v1/workbench").await.json();
        let mine = bench["cards"].as_array().unwrap().iter().find(|c| c["key"] == "duty.my_shifts").unwrap().clone();
        let action = mine["items"][0]["action"].clone();
        assert_eq!(action["kind"], "check_in", "{mine}");
        let path = action["path"].as_str().unwrap().to_owned();
        assert!(path.starts_with("/api/v1/duty/assignments/") && path.ends_with("/check-in"), "{path}");
        t.call(Some(&ps), Method::POST, &path, None).await.expect(StatusCode::NOT_FOUND);
        let bench = t.get(&late, "/api/v1/workbench").await.json();
        let mine = bench["cards"].as_array().unwrap().iter().find(|c| c["key"] == "duty.my_shifts").unwrap().clone();
        assert!(mine["items"][0]["action"].is_object(), "another's check-in is refused and changes nothing");
        t.clock.set(at("2026-03-05T00:44:00Z"));
        assert_eq!(run_deadlines(&t).await, 0);
        assert_eq!(count(&inbox(&t, &leader).await, "duty.check_in_missed"), 0);
        t.clock.set(at("2026-03-05T00:46:00Z"));
        assert_eq!(run_deadlines(&t).await, 1);
        let notes = inbox(&t, &leader).await;
        let alerts: Vec<&Value> = notes.iter().filter(|n| n["kind"] == "duty.check_in_missed").collect();
        assert_eq!(alerts.len(), 1);
        let missing = alerts[0]["data"]["missing"].as_str().unwrap();
        for name in names.iter().filter(|n| **n != punctual_name) {
            assert!(missing.split('、').any(|m| m == name), "{name} in {missing}");
        }
        assert!(!missing.split('、').any(|m| m == punctual_name), "{missing}");
        assert_eq!(count(&inbox(&t, &punctual_name).await, "duty.check_in_missed"), 0, "the officers are not alerted");
        let boss = login(&t, "city.boss").await;
        let missed: Vec<Value> = history(&t, &boss, &id).await.into_iter().filter(|h| h["kind"] == "check_in_missed").collect();
        assert_eq!(missed.len(), 1);

        // Each notification leads to its shift; the inbox filters by kind, family, state and period.
        assert_eq!(alerts[0]["link"], format!("/duty/roster?shift={id}"));
        let ls = login(&t, &leader).await;
        let only = |q: &str| {
            let (t, ls) = (&t, &ls);
            let path = format!("/api/v1/notifications?{q}");
            async move {
                let r = t.get(ls, &path).await;
                r.expect(OK);
                r.json()["items"].as_array().unwrap().iter().map(|n| n["kind"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
            }
        };
        assert_eq!(only("kind=duty.check_in_missed").await, ["duty.check_in_missed"]);
        let all = only("").await;
        assert!(all.len() >= 3, "two reminders and the alert at least: {all:?}");
        assert_eq!(only("kind=duty.").await, all, "all of the leader's are about duty");
        assert!(only("kind=incident.").await.is_empty());
        assert_eq!(only("from=2026-03-04T23:00:00Z&to=2026-03-05T00:00:00Z").await, ["duty.shift_reminder"]);
        assert_eq!(only("unread=true").await, all);
        t.call(Some(&ls), Method::POST, "/api/v1/notifications/read-all", None).await.expect(OK);
        assert!(only("unread=true").await.is_empty());
        let bad = t.get(&ls, "/api/v1/notifications?kind=DROP%20TABLE").await;
        bad.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.json()["fields"]["kind"], "invalid_format");
        let reversed = t.get(&ls, "/api/v1/notifications?from=2026-03-05T00:00:00Z&to=2026-03-04T00:00:00Z").await;
        assert_eq!(reversed.json()["fields"]["to"], "before_from");

        // Exactly once.
        assert_eq!(run_deadlines(&t).await, 0);
        t.clock.advance(Duration::days(1));
        assert_eq!(run_deadlines(&t).await, 0);
        assert_eq!(count(&inbox(&t, &leader).await, "duty.check_in_missed"), 1);
        assert_eq!(t.store.pending_deadlines().await.unwrap(), 0);
    }

    async fn the_duty_log_files_calls_under_the_shift_on_duty(t: TestApp) {
        let d = desk(&t).await;
        // The shift of today began an hour ago (08:30 Beijing; the clock is at 09:30).
        generate(&t, &d.boss, EAST, "2026-03-02", "2026-03-02").await;
        publish(&t, &d.boss, "2026-03-02", "2026-03-02", false).await.expect(OK);
        let current = shift_on(&t, &d.boss, "2026-03-02").await;
        let shift_id = current["id"].as_str().unwrap().to_owned();
        let officer = login(&t, "e.off1").await;
        let viewer = t.signed_in("e.viewer", &t.tree.east, &[Role::Viewer]).await;

        let mut empty = log_entry("2026-03-02T01:20:00Z", "");
        let r = t.post(&officer, "/api/v1/duty/log", empty.clone()).await;
        r.expect(INVALID);
        assert_eq!(r.json()["fields"], json!({ "summary": "required" }));
        empty["summary"] = json!("   ");
        assert_eq!(t.post(&officer, "/api/v1/duty/log", empty).await.json()["fields"]["summary"], "required");
        let future = t.post(&officer, "/api/v1/duty/log", log_entry("2026-03-02T02:30:00Z", "明天的来电")).await;
        future.expect(INVALID);
        assert_eq!(future.json()["fields"], json!({ "received_at": "in_future" }));
        let mut bad_phone = log_entry("2026-03-02T01:20:00Z", "来电");
        bad_phone["caller_phone"] = json!("abc");
        let r = t.post(&officer, "/api/v1/duty/log", bad_phone).await;
        r.expect(INVALID);
        assert_eq!(r.json()["fields"], json!({ "caller_phone": "invalid_format" }));
        let mut bad_kind = log_entry("2026-03-02T01:20:00Z", "来电");
        bad_kind["channel"] = json!("pigeon");
        bad_kind["category"] = json!("gossip");
        assert_eq!(t.post(&officer, "/api/v1/duty/log", bad_kind).await.json()["fields"], json!({ "channel": "unknown", "category": "unknown" }));

        let created = t.post(&officer, "/api/v1/duty/log", log_entry("2026-03-02T01:20:00Z", "滨江路河堤出现渗水，请求派人查看")).await;
        created.expect(StatusCode::CREATED);
        let entry = created.json();
        assert_eq!(entry["shift_id"], shift_id.as_str());
        assert_eq!(entry["unit_id"], t.tree.east.as_str());
        assert_eq!(entry["recorded_by_name"], "e.off1");
        // Before this morning's shift: no published shift, so no shift to file it under.
        let mut earlier = log_entry("2026-03-01T12:00:00Z", "询问值班电话");
        earlier["follow_up"] = json!(false);
        let earlier = t.post(&officer, "/api/v1/duty/log", earlier).await;
        earlier.expect(StatusCode::CREATED);
        assert_eq!(earlier.json()["shift_id"], Value::Null);

        // An edit within the same shift: rewritten, filed where it was, the change audited.
        let mut edited = log_entry("2026-03-02T01:25:00Z", "滨江路河堤出现渗水，街道已派人查看");
        edited["instructions"] = json!("注意安全，随时报告");
        let entry_url = format!("/api/v1/duty/log/{}", entry["id"].as_str().unwrap());
        let updated = t.put(&officer, &entry_url, edited).await;
        updated.expect(OK);
        assert_eq!(updated.json()["summary"], "滨江路河堤出现渗水，街道已派人查看");
        assert_eq!(updated.json()["received_at"], "2026-03-02T01:25:00Z");
        assert_eq!(updated.json()["shift_id"], shift_id.as_str());
        let audit = t.audit_actions("duty.log_updated").await;
        assert_eq!(audit.len(), 1);
        assert!(audit[0].detail.contains("街道已派人查看") && audit[0].detail.contains("instructions"), "{}", audit[0].detail);
        // Moving the time outside every published shift refiles the entry under none.
        let mut moved = log_entry("2026-03-01T12:00:00Z", "滨江路河堤出现渗水，街道已派人查看");
        moved["instructions"] = json!("注意安全，随时报告");
        let refiled = t.put(&officer, &entry_url, moved).await;
        refiled.expect(OK);
        assert_eq!(refiled.json()["shift_id"], serde_json::Value::Null);
        let updated = t.put(&officer, &entry_url, edited_again()).await;
        updated.expect(OK);
        assert_eq!(updated.json()["shift_id"], shift_id.as_str());
        let entry = updated.json();

        let found = t.get(&officer, &format!("/api/v1/duty/log?q={}", encode("渗水"))).await;
        found.expect(OK);
        assert_eq!(found.json()["total"], 1);
        assert_eq!(found.json()["items"][0]["id"], entry["id"]);
        let by_shift = t.get(&officer, &format!("/api/v1/duty/log?shift={shift_id}")).await.json();
        assert_eq!(by_shift["total"], 1);
        assert_eq!(t.get(&officer, "/api/v1/duty/log").await.json()["total"], 2);
        assert_eq!(t.get(&d.boss, "/api/v1/duty/log?unit=990102").await.json()["total"], 2, "leaders read it");
        assert_eq!(t.get(&d.boss, "/api/v1/duty/log?unit=990103").await.json()["total"], 0);
        let history = history(&t, &d.boss, &shift_id).await;
        assert!(history.iter().any(|h| h["kind"] == "log_entry" && h["data"]["entry_id"] == entry["id"]));
        // What still needs following up is carried into the handover view.
        let handover = t.get(&officer, &format!("/api/v1/duty/shifts/{shift_id}/handover")).await.json();
        let open: Vec<&Value> = handover["open_log"].as_array().unwrap().iter().collect();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0]["id"], entry["id"]);

        // The log holds callers' names and phones: not for viewers.
        t.get(&viewer, "/api/v1/duty/log").await.expect(StatusCode::FORBIDDEN);
        t.get(&viewer, &format!("/api/v1/duty/log/{}", entry["id"].as_str().unwrap())).await.expect(StatusCode::FORBIDDEN);
        t.post(&viewer, "/api/v1/duty/log", log_entry("2026-03-02T01:20:00Z", "来电")).await.expect(StatusCode::FORBIDDEN);
        t.post(&d.boss, "/api/v1/duty/log", log_entry("2026-03-02T01:20:00Z", "来电")).await.expect(StatusCode::FORBIDDEN);

        let xlsx = t.get(&officer, "/api/v1/duty/log.xlsx").await;
        xlsx.expect(OK);
        assert!(xlsx.bytes.starts_with(b"PK"), "a zip");
        assert_eq!(
            xlsx.headers[header::CONTENT_TYPE],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        );
        t.get(&viewer, "/api/v1/duty/log.xlsx").await.expect(StatusCode::FORBIDDEN);
    }

    async fn calendars_show_published_shifts_in_beijing_time(t: TestApp) {
        let d = desk(&t).await;
        generate(&t, &d.boss, EAST, "2026-03-03", "2026-03-05").await;
        publish(&t, &d.boss, "2026-03-03", "2026-03-05", false).await.expect(OK);
        generate(&t, &d.boss, EAST, "2026-03-06", "2026-03-06").await; // stays a draft
        let published = shifts(&t, &d.boss, "2026-03-03", "2026-03-06").await;
        assert_eq!(published.len(), 3);

        let r = t.get(&d.boss, "/api/v1/duty/calendar.ics?unit=990102").await;
        r.expect(OK);
        assert!(r.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/calendar"));
        let text = String::from_utf8(r.bytes.clone()).unwrap();
        let unfolded = icalendar::parser::unfold(&text);
        let raw = icalendar::parser::read_calendar(&unfolded).unwrap();
        let tz = raw.components.iter().find(|c| c.name == "VTIMEZONE").expect("VTIMEZONE");
        assert_eq!(tz.find_prop("TZID").map(|p| p.val.as_str()), Some("Asia/Shanghai"));
        let events = vevents(&text);
        assert_eq!(events.len(), 3, "one per published shift, the draft left out");
        for (event, (shift, day)) in events.iter().zip(published.iter().zip(["03", "04", "05"])) {
            assert_eq!(event.get_uid(), Some(format!("{}@beacon", shift["id"].as_str().unwrap()).as_str()));
            assert_eq!(event.get_start(), beijing(&format!("2026-03-{day}T08:30:00")));
            let next = format!("{:02}", day.parse::<u32>().unwrap() + 1);
            assert_eq!(event.get_end(), beijing(&format!("2026-03-{next}T08:30:00")));
            assert!(text.contains(&format!("DTSTART;TZID=Asia/Shanghai:202603{day}T083000\r\n")));
            let description = event.get_description().unwrap();
            for p in people(shift) {
                assert!(description.contains(p["display_name"].as_str().unwrap()), "{description}");
            }
        }

        // A person's own calendar: only the published shifts they are on.
        let officer = of_kind(&published[0], "officer")[0].clone();
        let officer_id = officer["user_id"].as_str().unwrap();
        let theirs = published.iter().filter(|s| user_ids(s).contains(officer_id)).count();
        let os = login(&t, officer["display_name"].as_str().unwrap()).await;
        let own = t.get(&os, "/api/v1/duty/calendar.ics").await;
        own.expect(OK);
        assert_eq!(vevents(&String::from_utf8(own.bytes.clone()).unwrap()).len(), theirs);

        // A subscription link works without a session until revoked.
        let created = t.post(&d.boss, "/api/v1/duty/feeds", json!({ "unit": EAST, "name": "江南区值班表" })).await;
        created.expect(StatusCode::CREATED);
        let path = created.json()["path"].as_str().unwrap().to_owned();
        let feed_id = created.json()["feed"]["id"].as_str().unwrap().to_owned();
        assert!(path.starts_with("/api/v1/duty/feeds/") && path.ends_with("/calendar.ics"), "{path}");
        let anonymous = t.call(None, Method::GET, &path, None).await;
        anonymous.expect(OK);
        assert!(anonymous.headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/calendar"));
        let feed_events = vevents(&String::from_utf8(anonymous.bytes.clone()).unwrap());
        assert_eq!(feed_events.len(), 3);
        assert_eq!(feed_events[0].get_start(), beijing("2026-03-03T08:30:00"));
        let listed = t.get(&d.boss, "/api/v1/duty/feeds").await.json();
        assert_eq!(listed[0]["id"], feed_id.as_str());
        assert_eq!(listed[0]["last_used_at"], "2026-03-02T01:30:00Z");
        // A guessed secret of the right shape is unknown.
        let guessed = format!("/api/v1/duty/feeds/{}/calendar.ics", "A".repeat(43));
        t.call(None, Method::GET, &guessed, None).await.expect(StatusCode::NOT_FOUND);
        // Someone else cannot revoke it.
        t.delete(&os, &format!("/api/v1/duty/feeds/{feed_id}")).await.expect(StatusCode::NOT_FOUND);
        t.call(None, Method::GET, &path, None).await.expect(OK);
        t.delete(&d.boss, &format!("/api/v1/duty/feeds/{feed_id}")).await.expect(StatusCode::NO_CONTENT);
        t.call(None, Method::GET, &path, None).await.expect(StatusCode::NOT_FOUND);
        t.delete(&d.boss, &format!("/api/v1/duty/feeds/{feed_id}")).await.expect(StatusCode::NOT_FOUND);
    }

    async fn deadlines_count_working_days_and_only_the_system_admin_edits_years(t: TestApp) {
        let officer = t.signed_in("e.off", &t.tree.east, &[Role::DutyOfficer]).await;
        // 1 January 2026 is a holiday through the 3rd; Sunday the 4th is a make-up working day.
        let answer = t.get(&officer, "/api/v1/calendar/deadline?start=2025-12-31T02:00:00Z&days=1&kind=working").await;
        answer.expect(OK);
        assert_eq!(answer.json(), json!({ "ends_at": "2026-01-04T16:00:00Z", "known_years": true }));
        let calendar_days = t.get(&officer, "/api/v1/calendar/deadline?start=2025-12-31T02:00:00Z&days=1&kind=calendar").await;
        assert_eq!(calendar_days.json()["ends_at"], "2026-01-04T16:00:00Z", "extended past the rest days");
        let unknown_kind = t.get(&officer, "/api/v1/calendar/deadline?start=2025-12-31T02:00:00Z&days=1&kind=lunar").await;
        unknown_kind.expect(INVALID);
        assert_eq!(unknown_kind.json()["fields"]["kind"], "unknown");
        // 2027 is not known yet: 1 January counts as a working day.
        let before = t.get(&officer, "/api/v1/calendar/deadline?start=2026-12-31T02:00:00Z&days=1&kind=working").await.json();
        assert_eq!(before, json!({ "ends_at": "2027-01-01T16:00:00Z", "known_years": false }));

        let admin = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        // 3 March 2027 is a Wednesday.
        let weekday = t.put(&admin, "/api/v1/calendar/years/2027", json!({ "holidays": ["2027-01-01"], "workdays": ["2027-03-03"] })).await;
        weekday.expect(INVALID);
        assert_eq!(weekday.json()["fields"]["workdays"], "not_weekend");
        let body = json!({ "holidays": ["2027-01-01"], "workdays": [] });
        let leader = t.signed_in("city.boss", &t.tree.city, &[Role::Leader]).await;
        let security = t.signed_in("sec.admin", &t.tree.city, &[Role::SecurityAdmin]).await;
        for other in [&officer, &leader, &security] {
            t.put(other, "/api/v1/calendar/years/2027", body.clone()).await.expect(StatusCode::FORBIDDEN);
        }
        let saved = t.put(&admin, "/api/v1/calendar/years/2027", body).await;
        saved.expect(OK);
        // Friday 1 January a holiday, then the weekend: Monday the 4th.
        let after = t.get(&officer, "/api/v1/calendar/deadline?start=2026-12-31T02:00:00Z&days=1&kind=working").await.json();
        assert_eq!(after, json!({ "ends_at": "2027-01-04T16:00:00Z", "known_years": true }));
        let years = t.get(&officer, "/api/v1/calendar/years").await.json();
        assert!(years.as_array().unwrap().iter().any(|y| y["year"] == 2027), "{years}");
    }
}

backend_tests! {
    async fn leave_during_a_shift_is_a_gap_to_the_minute(t: TestApp) {
        let d = desk(&t).await;
        generate(&t, &d.boss, EAST, "2026-04-10", "2026-04-11").await;
        let s = shift_on(&t, &d.boss, "2026-04-10").await;
        let id = s["id"].as_str().unwrap().to_owned();
        let away = of_kind(&s, "officer")[0]["user_id"].as_str().unwrap().to_owned();
        let gaps_url = "/api/v1/duty/gaps?unit=990102&from=2026-04-10T00:30:00Z&to=2026-04-12T00:30:00Z";
        assert_eq!(t.get(&d.boss, gaps_url).await.json(), json!([]));
        // Leave from the evening before until 14:00 Beijing on the 10th.
        let leave_id = leave(&t, &d.boss, &away, "2026-04-09T20:00:00Z", "2026-04-10T06:00:00Z").await;
        let leaves = t.get(&d.boss, "/api/v1/duty/leaves?unit=990102&from=2026-04-01&to=2026-05-01").await.json();
        assert_eq!(leaves.as_array().unwrap().len(), 1);
        assert_eq!(leaves[0]["user_id"], away.as_str());
        let gaps = t.get(&d.boss, gaps_url).await.json();
        assert_eq!(gaps, json!([
            { "kind": "understaffed", "starts_at": "2026-04-10T00:30:00Z", "ends_at": "2026-04-10T06:00:00Z",
              "user_id": null, "shift_ids": [id], "required": 3, "actual": 2 },
            { "kind": "on_leave", "starts_at": "2026-04-10T00:30:00Z", "ends_at": "2026-04-10T06:00:00Z",
              "user_id": away, "shift_ids": [id], "required": null, "actual": null },
        ]));
        let refused = publish(&t, &d.boss, "2026-04-10", "2026-04-11", false).await;
        refused.expect(StatusCode::CONFLICT);
        assert_eq!(refused.code(), "roster_has_gaps");
        t.delete(&d.boss, &format!("/api/v1/duty/leaves/{leave_id}")).await.expect(StatusCode::NO_CONTENT);
        assert_eq!(t.get(&d.boss, gaps_url).await.json(), json!([]));
        publish(&t, &d.boss, "2026-04-10", "2026-04-11", false).await.expect(OK);
        // Only leaders record leave.
        let officer = login(&t, "e.off1").await;
        let r = t.post(&officer, "/api/v1/duty/leaves", json!({ "user_id": away, "kind": "leave", "starts_at": "2026-04-10T01:00:00Z", "ends_at": "2026-04-10T02:00:00Z" })).await;
        r.expect(StatusCode::FORBIDDEN);
    }

    async fn a_trade_is_checked_again_at_approval(t: TestApp) {
        let d = desk(&t).await;
        generate(&t, &d.boss, EAST, "2026-04-10", "2026-04-11").await;
        publish(&t, &d.boss, "2026-04-10", "2026-04-11", false).await.expect(OK);
        let first = shift_on(&t, &d.boss, "2026-04-10").await;
        let second = shift_on(&t, &d.boss, "2026-04-11").await;
        let (s1, s2) = (first["id"].as_str().unwrap().to_owned(), second["id"].as_str().unwrap().to_owned());
        let a = of_kind(&first, "officer")[0].clone();
        let b = of_kind(&second, "officer")[0].clone();
        let (a_id, b_id) = (a["user_id"].as_str().unwrap().to_owned(), b["user_id"].as_str().unwrap().to_owned());
        let sa = login(&t, a["display_name"].as_str().unwrap()).await;
        let sb = login(&t, b["display_name"].as_str().unwrap()).await;

        // The duty leader's post goes only to someone who may lead.
        let lead = of_kind(&first, "leader")[0].clone();
        let sl = login(&t, lead["display_name"].as_str().unwrap()).await;
        let r = t.post(&sl, "/api/v1/duty/swaps", json!({ "assignment_id": lead["assignment_id"], "target_user_id": b_id })).await;
        r.expect(INVALID);
        assert_eq!(r.json()["fields"]["target_user_id"], "leader_role_required");
        // Nobody gives away someone else's post.
        let r = t.post(&sb, "/api/v1/duty/swaps", json!({ "assignment_id": a["assignment_id"], "target_user_id": b_id })).await;
        r.expect(StatusCode::NOT_FOUND);

        let r = t.post(&sa, "/api/v1/duty/swaps", json!({
            "assignment_id": a["assignment_id"], "target_user_id": b_id, "target_assignment_id": b["assignment_id"]
        })).await;
        r.expect(StatusCode::CREATED);
        let swap = r.json();
        let swap_id = swap["id"].as_str().unwrap().to_owned();
        assert_eq!(swap["target_shift_starts_at"], "2026-04-11T00:30:00Z");
        decide(&t, &sb, &swap_id, "accept").await.expect(OK);
        let leader = login(&t, "e.lead3").await;
        let approvals = t.get(&leader, "/api/v1/duty/swaps?box=approval").await.json();
        assert_eq!(approvals[0]["id"], swap_id.as_str());
        t.get(&sa, "/api/v1/duty/swaps?box=approval").await.expect(StatusCode::FORBIDDEN);
        // A leader of the other district does not see it.
        let west = t.signed_in("w.lead", &t.tree.west, &[Role::DutyLeader]).await;
        decide(&t, &west, &swap_id, "approve").await.expect(StatusCode::NOT_FOUND);

        // Leave recorded after the colleague accepted: approval checks the rules again.
        let leave_id = leave(&t, &d.boss, &b_id, "2026-04-10T01:00:00Z", "2026-04-10T02:00:00Z").await;
        let r = decide(&t, &leader, &swap_id, "approve").await;
        r.expect(INVALID);
        assert_eq!(r.json()["fields"]["target_user_id"], "on_leave");
        assert_eq!(posts(&shift(&t, &d.boss, &s1).await), posts(&first), "nothing half-saved");
        assert_eq!(posts(&shift(&t, &d.boss, &s2).await), posts(&second), "nothing half-saved");
        let still = t.get(&sa, "/api/v1/duty/swaps").await.json();
        assert_eq!(still[0]["status"], "accepted");

        t.delete(&d.boss, &format!("/api/v1/duty/leaves/{leave_id}")).await.expect(StatusCode::NO_CONTENT);
        let approved = decide(&t, &leader, &swap_id, "approve").await;
        approved.expect(OK);
        assert_eq!(approved.json()["status"], "approved");
        let one = shift(&t, &d.boss, &s1).await;
        let two = shift(&t, &d.boss, &s2).await;
        assert!(user_ids(&one).contains(&b_id) && !user_ids(&one).contains(&a_id));
        assert!(user_ids(&two).contains(&a_id) && !user_ids(&two).contains(&b_id));
        for (id, from, to) in [(&s1, &a_id, &b_id), (&s2, &b_id, &a_id)] {
            let swapped: Vec<Value> = history(&t, &d.boss, id).await.into_iter().filter(|h| h["kind"] == "swapped").collect();
            assert_eq!(swapped.len(), 1);
            assert_eq!(swapped[0]["data"]["from_user_id"], from.as_str());
            assert_eq!(swapped[0]["data"]["to_user_id"], to.as_str());
        }
        let r = decide(&t, &sa, &swap_id, "cancel").await;
        r.expect(StatusCode::CONFLICT);
        assert_eq!(r.code(), "swap_not_open");
    }

    async fn a_new_shift_pattern_applies_to_dates_without_shifts(t: TestApp) {
        let d = desk(&t).await;
        generate(&t, &d.boss, EAST, "2026-04-10", "2026-04-10").await;
        let mut two = settings();
        two["shifts"] = json!([{ "key": "am", "name": "白班", "start": "08:30", "end": "20:30" },
                               { "key": "pm", "name": "夜班", "start": "20:30", "end": "08:30" }]);
        t.put(&d.boss, "/api/v1/duty/settings?unit=990102", two).await.expect(OK);
        generate(&t, &d.boss, EAST, "2026-04-10", "2026-04-11").await;
        let all = shifts(&t, &d.boss, "2026-04-10", "2026-04-12").await;
        let eleventh: Vec<(String, String, String)> = all
            .iter()
            .filter(|s| s["date"] == "2026-04-11")
            .map(|s| (s["shift_key"].as_str().unwrap().to_owned(), s["starts_at"].as_str().unwrap().to_owned(), s["ends_at"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(eleventh, vec![
            ("am".to_owned(), "2026-04-11T00:30:00Z".to_owned(), "2026-04-11T12:30:00Z".to_owned()),
            ("pm".to_owned(), "2026-04-11T12:30:00Z".to_owned(), "2026-04-12T00:30:00Z".to_owned()),
        ]);
        assert!(all.iter().any(|s| s["date"] == "2026-04-10" && s["shift_key"] == "day"), "the existing shift is kept");
        // A date that has a shift gets no new ones under the new pattern.
        assert!(!all.iter().any(|s| s["date"] == "2026-04-10" && s["shift_key"] != "day"), "no double cover");
    }

    async fn several_schedulers_fire_each_stage_once(t: TestApp) {
        let d = desk(&t).await;
        generate(&t, &d.boss, EAST, "2026-03-05", "2026-03-09").await;
        publish(&t, &d.boss, "2026-03-05", "2026-03-09", false).await.expect(OK);
        let week = shifts(&t, &d.boss, "2026-03-05", "2026-03-10").await;
        assert_eq!(week.len(), 5);
        assert_eq!(t.store.pending_deadlines().await.unwrap(), 5);
        // Past every stage of every shift (evening before, an hour before, check-in), nobody
        // having checked in; three schedulers at once.
        t.clock.set(at("2026-03-10T00:00:00Z"));
        let (a, b, c) = tokio::join!(run_deadlines(&t), run_deadlines(&t), run_deadlines(&t));
        assert_eq!(a + b + c, 15, "5 shifts with 3 stages each: {a} + {b} + {c}");
        assert_eq!(run_deadlines(&t).await, 0);
        assert_eq!(t.store.pending_deadlines().await.unwrap(), 0);
        let everyone: BTreeSet<String> = week.iter().flat_map(people).map(|p| p["display_name"].as_str().unwrap().to_owned()).collect();
        for name in everyone {
            let on: Vec<&Value> = week.iter().filter(|s| people(s).iter().any(|p| p["display_name"] == name.as_str())).collect();
            let leading = on.iter().filter(|s| of_kind(s, "leader").iter().any(|p| p["display_name"] == name.as_str())).count();
            let notes = inbox(&t, &name).await;
            assert_eq!(count(&notes, "duty.shift_reminder"), 2 * on.len(), "{name}");
            assert_eq!(count(&notes, "duty.check_in_missed"), leading, "{name}");
        }
    }
}

backend_tests! {
    async fn a_person_moved_away_leaves_the_old_units_coming_shifts_as_gaps(t: TestApp) {
        let d = desk(&t).await;
        generate(&t, &d.boss, EAST, "2026-03-03", "2026-03-08").await;
        publish(&t, &d.boss, "2026-03-03", "2026-03-08", true).await.expect(OK);
        generate(&t, &d.boss, EAST, "2026-03-09", "2026-03-09").await; // stays a draft
        // The 3 March shift has begun (08:30 Beijing); the later ones are to come.
        t.clock.set(at("2026-03-03T02:00:00Z"));
        let d = Desk { boss: login(&t, "city.boss").await, ..d };
        let admin = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        let east_admin = t.signed_in("east.admin", &t.tree.east, &[Role::SystemAdmin]).await;
        let begun = shift_on(&t, &d.boss, "2026-03-03").await;
        let mover = of_kind(&begun, "officer")[0]["user_id"].as_str().unwrap().to_owned();
        let name = name_of(&begun, &mover);
        let all = shifts(&t, &d.boss, "2026-03-03", "2026-03-10").await;
        let coming: Vec<String> = all
            .iter()
            .filter(|s| s["id"] != begun["id"] && user_ids(s).contains(&mover))
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect();
        assert!(!coming.is_empty(), "the mover has shifts to come");
        let gaps_url = "/api/v1/duty/gaps?unit=990102&from=2026-03-03&to=2026-03-10";
        let gap_of = |gaps: &Value, id: &str| {
            gaps.as_array().unwrap().iter().any(|g| g["kind"] == "understaffed" && g["shift_ids"].as_array().unwrap().iter().any(|s| s == id))
        };
        let gaps = t.get(&d.boss, gaps_url).await.json();
        assert!(coming.iter().all(|id| !gap_of(&gaps, id)), "fully staffed before: {gaps}");

        // A move refused (the west district is outside the east administrator's scope) changes
        // nothing on the roster.
        let refused = t.patch(&east_admin, &format!("/api/v1/users/{mover}"), json!({ "unit_id": t.tree.west })).await;
        refused.expect(INVALID);
        assert_eq!(refused.json()["fields"]["unit_id"], "not_found");
        assert_eq!(shifts(&t, &d.boss, "2026-03-03", "2026-03-10").await, all, "nothing half-done");

        let moved = t.patch(&admin, &format!("/api/v1/users/{mover}"), json!({ "unit_id": t.tree.west })).await;
        moved.expect(OK);
        // They are off every post to come, drafts included; the begun shift stays as history.
        let after = shifts(&t, &d.boss, "2026-03-03", "2026-03-10").await;
        assert_eq!(after.len(), all.len(), "the shifts stay on the roster");
        for s in &after {
            let on = user_ids(s).contains(&mover);
            assert_eq!(on, s["id"] == begun["id"], "{}", s["date"]);
        }
        assert_eq!(shift_on(&t, &d.boss, "2026-03-03").await, begun);
        // The posts are gaps to fill, and each published shift's history says why.
        let gaps = t.get(&d.boss, gaps_url).await.json();
        for id in &coming {
            assert!(gap_of(&gaps, id), "{id} in {gaps}");
            let shift = shift(&t, &d.boss, id).await;
            if shift["status"] == "published" {
                let history = history(&t, &d.boss, id).await;
                let change = history.iter().find(|h| h["kind"] == "people_changed").expect("kept in the history");
                assert_eq!(change["data"]["removed"][0]["user_id"], mover.as_str());
            }
        }
        let vacated = t.audit_actions("duty.posts_vacated").await;
        assert_eq!(vacated.len(), 1);
        assert!(vacated[0].detail.contains("moved_to_another_unit"));
        assert_eq!(vacated[0].detail.matches("\"shift_id\"").count(), coming.len(), "{}", vacated[0].detail);

        // What the moved person sees: the begun shift only, in their list and their own feed.
        let s = login(&t, &name).await;
        let mine = t.get(&s, "/api/v1/duty/mine?from=2026-03-03T00:00:00Z&to=2026-03-10T00:00:00Z").await;
        mine.expect(OK);
        let mine: Vec<Value> = mine.json().as_array().unwrap().clone();
        assert_eq!(mine.iter().map(|m| m["id"].clone()).collect::<Vec<_>>(), vec![begun["id"].clone()]);
        let feed = t.get(&s, "/api/v1/duty/calendar.ics").await;
        feed.expect(OK);
        let text = String::from_utf8(feed.bytes.clone()).unwrap();
        for id in &coming {
            assert!(!text.contains(id.as_str()), "{id} still in the feed");
        }
    }
}
