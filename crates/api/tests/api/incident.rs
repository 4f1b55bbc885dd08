//! Incidents end to end on both backends: a district desk registers one with the field names
//! other systems rely on, the city's console receives it live and acknowledges it; bad input
//! gets its code; scope and roles hold; the duplicate guard; an enterprise's token; the
//! overdue alert the scheduler raises.
//!
//! The test clock starts at 2026-03-02T01:30:00Z (Monday 09:30 in Beijing).

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use beacon_core::org::Role;
use beacon_store::backend_tests;
use chrono::Duration;
use serde_json::{Value, json};

use crate::TestApp;
use crate::events::Stream;

const CREATED: StatusCode = StatusCode::CREATED;
const INVALID: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;

pub(crate) fn explosion() -> Value {
    json!({
        "kind": "hazardous_chemicals",
        "title": "临江化工储罐爆炸",
        "unit": "990102",
        "occurred_at": "2026-03-02T01:00:00Z",
        "reported_at": "2026-03-02T01:20:00Z",
        "place": "江南化工园区3号罐区",
        "lon": 115.90, "lat": 28.68,
        "enterprise": "临江某化工有限公司",
        "deaths": 3, "missing": 1, "serious_injuries": 4, "minor_injuries": 6,
        "direct_loss_cny": 12_000_000,
        "description": "储罐区发生爆炸并起火",
        "reporter": "李四", "reporter_phone": "13900000000"
    })
}

fn with(mut body: Value, key: &str, value: Value) -> Value {
    body[key] = value;
    body
}

fn field(response: &crate::Response, name: &str) -> String {
    response.json()["fields"][name].as_str().unwrap_or_default().to_owned()
}

backend_tests! {
    async fn a_district_report_reaches_the_city_live_and_the_city_acknowledges_it(t: TestApp) {
        let east = t.signed_in("east.officer", &t.tree.east, &[Role::DutyOfficer]).await;
        let city = t.signed_in("city.officer", &t.tree.city, &[Role::DutyOfficer]).await;
        let viewer = t.signed_in("city.viewer", &t.tree.city, &[Role::Viewer]).await;
        let west = t.signed_in("west.officer", &t.tree.west, &[Role::DutyOfficer]).await;
        let mut console = Stream::open(&t, &city, None).await;
        let mut west_console = Stream::open(&t, &west, None).await;

        let made = t.post(&east, "/api/v1/incidents", explosion()).await;
        made.expect(CREATED);
        let made = made.json();
        let id = made["id"].as_str().unwrap().to_owned();
        assert_eq!(made["grade"], "relatively_serious");
        assert_eq!(made["number"], "990102-2026-0001");
        assert_eq!(made["obligations"], json!([
            { "hop": "unit_to_county", "due_at": "2026-03-02T02:00:00Z", "done_at": "2026-03-02T01:20:00Z", "status": "done" },
            { "hop": "county_to_city", "due_at": "2026-03-02T03:20:00Z", "done_at": null, "status": "pending" },
            { "hop": "city_to_province", "due_at": null, "done_at": null, "status": "pending" },
        ]));

        let (_, event) = console.next().await.expect("the city's console hears of it");
        assert_eq!((event["kind"].as_str(), event["data"]["id"].as_str()), (Some("incident.created"), Some(id.as_str())));
        assert_eq!(event["data"]["grade"], "relatively_serious");
        assert!(west_console.next().await.is_none(), "another district hears nothing");

        // Waiting for the city; the reporter's phone only for the duty desk.
        let awaiting = t.get(&city, "/api/v1/incidents?awaiting=true").await.json();
        assert_eq!(awaiting["total"], 1);
        assert_eq!(awaiting["items"][0]["reporter_phone"], "13900000000");
        let seen = t.get(&viewer, &format!("/api/v1/incidents/{id}")).await.json();
        assert_eq!((seen["reporter"].clone(), seen["reporter_phone"].clone()), (Value::Null, Value::Null));
        t.get(&west, &format!("/api/v1/incidents/{id}")).await.expect(StatusCode::NOT_FOUND);
        // To another district the incident does not exist, whatever it tries.
        let wrong = t.post(&west, &format!("/api/v1/incidents/{id}/hops/county_to_city/acknowledge"), json!({})).await;
        wrong.expect(StatusCode::NOT_FOUND);
        assert_eq!(wrong.code(), "not_found");
        // The district itself sees it but is not the addressee.
        let own = t.post(&east, &format!("/api/v1/incidents/{id}/hops/county_to_city/acknowledge"), json!({})).await;
        own.expect(StatusCode::FORBIDDEN);
        assert_eq!(own.code(), "not_addressee");
        t.post(&viewer, &format!("/api/v1/incidents/{id}/hops/county_to_city/acknowledge"), json!({})).await.expect(StatusCode::FORBIDDEN);

        t.clock.advance(Duration::minutes(10));
        let acknowledged = t.post(&city, &format!("/api/v1/incidents/{id}/hops/county_to_city/acknowledge"), json!({})).await;
        acknowledged.expect(StatusCode::OK);
        let acknowledged = acknowledged.json();
        assert_eq!(acknowledged["obligations"][1]["done_at"], "2026-03-02T01:40:00Z");
        assert_eq!(acknowledged["obligations"][1]["status"], "done");
        // The province's clock starts: two hours from the city's receipt.
        assert_eq!(acknowledged["obligations"][2]["due_at"], "2026-03-02T03:40:00Z");
        assert_eq!(t.get(&city, "/api/v1/incidents?awaiting=true").await.json()["total"], 0);
        let again = t.post(&city, &format!("/api/v1/incidents/{id}/hops/county_to_city/acknowledge"), json!({})).await;
        assert_eq!(again.code(), "already_done");

        // The district's update re-grades it; the timeline and grade history keep it all.
        let patched = t.patch(&east, &format!("/api/v1/incidents/{id}"), json!({ "deaths": 10, "warning_color": "red", "response_level": "ii" })).await;
        patched.expect(StatusCode::OK);
        let patched = patched.json();
        assert_eq!((patched["grade"].as_str(), patched["warning_color"].as_str(), patched["response_level"].as_str()), (Some("serious"), Some("red"), Some("ii")));
        assert_eq!(patched["obligations"].as_array().unwrap().len(), 4);
        let stale = t.patch(&east, &format!("/api/v1/incidents/{id}"), json!({ "version": 1, "title": "改" })).await;
        stale.expect(StatusCode::CONFLICT);
        assert_eq!(stale.code(), "stale_version");
        let grades = t.get(&city, &format!("/api/v1/incidents/{id}/grades")).await.json();
        assert_eq!(grades.as_array().unwrap().iter().map(|g| g["grade"].as_str().unwrap()).collect::<Vec<_>>(), ["relatively_serious", "serious"]);
        let timeline = t.get(&city, &format!("/api/v1/incidents/{id}/timeline")).await.json();
        let kinds: Vec<&str> = timeline.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["created", "hop_done", "facts_changed"]);
        assert!(!t.audit_actions("incident.hop_acknowledged").await.is_empty());
    }

    async fn bad_input_gets_a_code_and_nothing_is_saved(t: TestApp) {
        let east = t.signed_in("east.officer", &t.tree.east, &[Role::DutyOfficer]).await;
        let post = |body: Value| t.post(&east, "/api/v1/incidents", body);
        for (body, name, code) in [
            (with(explosion(), "deaths", json!(-1)), "deaths", "negative"),
            (with(explosion(), "deaths", json!(100_001)), "deaths", "too_large"),
            (with(explosion(), "direct_loss_cny", json!(10_000_000_000_001_i64)), "direct_loss_cny", "too_large"),
            (with(explosion(), "occurred_at", json!("2026-03-02T02:00:00Z")), "occurred_at", "in_future"),
            (with(explosion(), "occurred_at", json!("2026-03-02T01:25:00Z")), "occurred_at", "after_reported"),
            (with(explosion(), "kind", json!("alien_invasion")), "kind", "unknown_kind"),
            (with(explosion(), "unit", json!("000000")), "unit", "not_found"),
            (with(explosion(), "unit", json!("990103")), "unit", "not_found"),
            (with(explosion(), "title", json!(" ")), "title", "required"),
            (with(explosion(), "lat", json!(95.0)), "lat", "out_of_range"),
            (with(explosion(), "reporter_phone", json!("12ab")), "reporter_phone", "invalid_format"),
            (with(explosion(), "occurred_at", json!("yesterday")), "occurred_at", "invalid_time"),
        ] {
            let response = post(body).await;
            response.expect(INVALID);
            assert_eq!(field(&response, name), code, "{name}");
        }
        assert_eq!(t.get(&east, "/api/v1/incidents").await.json()["total"], 0, "nothing half-saved");

        // A point outside the district is a warning, not a refusal.
        let outside = t.post(&east, "/api/v1/incidents", with(with(explosion(), "lon", json!(100.0)), "lat", json!(20.0))).await;
        outside.expect(CREATED);
        let id = outside.json()["id"].as_str().unwrap().to_owned();
        // The boundary-less test unit contains every point; the flag is false there.
        assert_eq!(outside.json()["outside_unit"], false);

        // The same accident called in again: flagged before saving, saved only when insisted.
        let again = t.post(&east, "/api/v1/incidents", with(with(explosion(), "lon", json!(100.001)), "lat", json!(20.0))).await;
        again.expect(StatusCode::CONFLICT);
        assert_eq!(again.code(), "possible_duplicate");
        let candidates = t.get(&east, "/api/v1/incidents/duplicates?kind=hazardous_chemicals&unit=990102&occurred_at=2026-03-02T01:05:00Z&lon=100.001&lat=20.0").await.json();
        assert_eq!(candidates[0]["id"], id.as_str());
        let insisted = t.post(&east, "/api/v1/incidents", with(with(with(explosion(), "lon", json!(100.001)), "lat", json!(20.0)), "allow_duplicate", json!(true))).await;
        insisted.expect(CREATED);
        assert_eq!(insisted.json()["duplicate_of"], id.as_str());

        // Override needs a leader and a reason; closing needs every hop done and a summary.
        t.post(&east, &format!("/api/v1/incidents/{id}/override"), json!({ "grade": "serious", "reason": "x" })).await.expect(StatusCode::FORBIDDEN);
        let leader = t.signed_in("east.leader", &t.tree.east, &[Role::Leader]).await;
        let no_reason = t.post(&leader, &format!("/api/v1/incidents/{id}/override"), json!({ "grade": "serious", "reason": "" })).await;
        assert_eq!(field(&no_reason, "reason"), "required");
        let open = t.post(&east, &format!("/api/v1/incidents/{id}/close"), json!({ "summary": "处置完毕" })).await;
        open.expect(StatusCode::CONFLICT);
        assert_eq!(open.code(), "hops_open");
        let bad_hop = t.post(&east, &format!("/api/v1/incidents/{id}/hops/city_to_province"), json!({ "method": "pigeon" })).await;
        assert_eq!(field(&bad_hop, "method"), "invalid_value");
    }

    async fn an_enterprise_token_reports_and_the_overdue_hop_alerts_the_leaders(t: TestApp) {
        let admin = t.signed_in("sysadmin", &t.tree.city, &[Role::SystemAdmin]).await;
        let token = t.post(&admin, "/api/v1/tokens", json!({ "name": "化工园区预警系统", "unit_id": t.tree.east, "roles": ["enterprise"] })).await;
        token.expect(CREATED);
        let secret = token.json()["secret"].as_str().unwrap().to_owned();
        let request = Request::post("/api/v1/incidents")
            .header(header::AUTHORIZATION, format!("Bearer {secret}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(with(explosion(), "deaths", json!(0)).to_string()))
            .unwrap();
        let made = t.send(request).await;
        made.expect(CREATED);
        let made = made.json();
        assert_eq!(made["source"], "enterprise");
        let id = made["id"].as_str().unwrap().to_owned();
        // The token cannot read the ledger.
        let read = Request::get("/api/v1/incidents").header(header::AUTHORIZATION, format!("Bearer {secret}")).body(Body::empty()).unwrap();
        t.send(read).await.expect(StatusCode::FORBIDDEN);

        let leader = t.user("east.leader", &t.tree.east, &[Role::Leader]).await;
        t.clock.set(chrono::DateTime::parse_from_rfc3339("2026-03-02T03:20:00Z").unwrap().to_utc());
        let fired = beacon_api::notify::run_due_deadlines(&t.state).await.unwrap();
        assert_eq!(fired, 3, "two reminders and the overdue alert");
        let east = t.signed_in("east.officer", &t.tree.east, &[Role::DutyOfficer]).await;
        let read = t.get(&east, &format!("/api/v1/incidents/{id}")).await.json();
        assert_eq!(read["obligations"][1]["status"], "overdue");
        let alerts = t.store.notifications(&leader, &Default::default(), beacon_core::page::PageRequest::default()).await.unwrap();
        assert_eq!(alerts.items.iter().map(|n| n.kind.as_str()).collect::<Vec<_>>(), ["incident.hop_overdue"]);
        assert!(!t.audit_actions("incident.hop_overdue").await.is_empty());
        assert_eq!(beacon_api::notify::run_due_deadlines(&t.state).await.unwrap(), 0);

        // The time limits are the top unit's leaders' to set.
        let east_leader = t.signed_in("east.duty.leader", &t.tree.east, &[Role::DutyLeader]).await;
        let refused = t.put(&east_leader, "/api/v1/incidents/chain-rules", json!({ "first_hop_minutes": 30, "next_hop_minutes": 60 })).await;
        assert_eq!(refused.code(), "top_unit_only");
        let city_leader = t.signed_in("city.leader", &t.tree.city, &[Role::Leader]).await;
        let out_of_range = t.put(&city_leader, "/api/v1/incidents/chain-rules", json!({ "first_hop_minutes": 0, "next_hop_minutes": 60 })).await;
        assert_eq!(field(&out_of_range, "first_hop_minutes"), "out_of_range");
        t.put(&city_leader, "/api/v1/incidents/chain-rules", json!({ "first_hop_minutes": 30, "next_hop_minutes": 60 })).await.expect(StatusCode::OK);
        assert_eq!(t.get(&east, "/api/v1/incidents/chain-rules").await.json()["next_hop_minutes"], 60);
    }
}

backend_tests! {
    async fn a_report_is_approved_by_the_duty_leader_then_reaches_the_city_and_is_frozen(t: TestApp) {
        let east = t.signed_in("east.officer", &t.tree.east, &[Role::DutyOfficer]).await;
        let leader = t.signed_in("east.leader", &t.tree.east, &[Role::DutyLeader]).await;
        let city = t.signed_in("city.officer", &t.tree.city, &[Role::DutyOfficer]).await;
        let viewer = t.signed_in("east.viewer", &t.tree.east, &[Role::Viewer]).await;
        let id = t.post(&east, "/api/v1/incidents", explosion()).await.json()["id"].as_str().unwrap().to_owned();
        let reports = format!("/api/v1/incidents/{id}/reports");

        // Bad input: an unknown kind, a section too long; a viewer may not write.
        let unknown = t.post(&east, &reports, json!({ "kind": "weekly" })).await;
        unknown.expect(INVALID);
        let long = t.post(&east, &reports, json!({ "kind": "initial", "sections": {
            "unit": "", "time_place": "", "what_happened": "字".repeat(4001), "casualties": "", "measures": "", "other": "" } })).await;
        long.expect(INVALID);
        assert_eq!(field(&long, "sections.what_happened"), "too_long");
        t.post(&viewer, &reports, json!({ "kind": "initial" })).await.expect(StatusCode::FORBIDDEN);
        assert_eq!(t.get(&east, &reports).await.json(), json!([]), "nothing half-saved");

        let draft = t.post(&east, &reports, json!({ "kind": "initial" })).await;
        draft.expect(CREATED);
        let draft = draft.json();
        let report = format!("{reports}/{}", draft["id"].as_str().unwrap());
        assert_eq!((draft["status"].as_str(), draft["addressee"].as_str()), (Some("draft"), Some("临江市")));
        assert!(draft["sections"]["casualties"].as_str().unwrap().contains("3人死亡、1人失踪、4人重伤"));
        let incomplete = t.post(&east, &format!("{report}/submit"), json!({ "version": 1 })).await;
        incomplete.expect(INVALID);
        assert_eq!(field(&incomplete, "sections.measures"), "required");
        let mut sections = draft["sections"].clone();
        sections["measures"] = json!("已调派消防救援力量处置。");
        t.put(&east, &report, json!({ "version": 1, "sections": sections })).await.expect(StatusCode::OK);
        t.post(&east, &format!("{report}/submit"), json!({ "version": 2 })).await.expect(StatusCode::OK);
        t.post(&east, &format!("{report}/approve"), json!({ "version": 2 })).await.expect(StatusCode::FORBIDDEN);
        assert_eq!(t.get(&city, &reports).await.json(), json!([]), "not sent yet");

        let mut console = Stream::open(&t, &city, None).await;
        let approved = t.post(&leader, &format!("{report}/approve"), json!({ "version": 2 })).await;
        approved.expect(StatusCode::OK);
        assert_eq!(approved.json()["doc_number"], "江南区〔2026〕1号");
        let mut received = None;
        while let Some((_, event)) = console.next().await {
            if event["kind"] == "notification" {
                received = Some(event["data"]["kind"].clone());
            }
        }
        assert_eq!(received, Some(json!("incident.report_received")));
        let frozen = t.put(&east, &report, json!({ "version": 2, "title": "改" })).await;
        frozen.expect(StatusCode::CONFLICT);
        assert_eq!(frozen.json()["code"], "report_approved");
        let sent = t.get(&city, &reports).await.json();
        assert_eq!((sent[0]["status"].as_str(), sent[0]["versions"].as_array().map(Vec::len)), (Some("approved"), Some(2)));
        let first = t.get(&city, &format!("{report}/versions/1")).await.json();
        assert_eq!(first["sections"]["measures"], "");
        t.get(&city, &format!("{report}/versions/9")).await.expect(StatusCode::NOT_FOUND);
    }
}

backend_tests! {
    async fn monthly_statistics_count_by_beijing_month_and_export_to_excel(t: TestApp) {
        let east = t.signed_in("east.officer", &t.tree.east, &[Role::DutyOfficer]).await;
        let west = t.signed_in("west.officer", &t.tree.west, &[Role::DutyOfficer]).await;
        let city = t.signed_in("city.officer", &t.tree.city, &[Role::DutyOfficer]).await;
        // 2026-02-28 23:30 in Beijing is February; 00:30 on 1 March is March.
        for (occurred, deaths, kind) in [("2026-02-28T15:30:00Z", 3, "fire"), ("2026-02-28T16:30:00Z", 0, "flood")] {
            let body = with(with(with(explosion(), "occurred_at", json!(occurred)), "deaths", json!(deaths)), "kind", json!(kind));
            let body = with(with(body, "reported_at", json!("2026-03-01T00:00:00Z")), "allow_duplicate", json!(true));
            let body = with(with(body, "serious_injuries", json!(0)), "direct_loss_cny", json!(0));
            t.post(&east, "/api/v1/incidents", body).await.expect(CREATED);
        }
        let stats = t.get(&city, "/api/v1/incidents/stats?year=2026").await;
        stats.expect(StatusCode::OK);
        let stats = stats.json();
        assert_eq!((stats["months"][1]["count"].as_u64(), stats["months"][1]["relatively_serious"].as_u64()), (Some(1), Some(1)));
        assert_eq!((stats["months"][2]["count"].as_u64(), stats["months"][2]["ordinary"].as_u64()), (Some(1), Some(1)));
        assert_eq!((stats["total"]["count"].as_u64(), stats["total"]["deaths"].as_u64()), (Some(2), Some(3)));
        assert_eq!(stats["units"][0]["unit"]["code"], "990102");
        assert_eq!(stats["kinds"].as_array().map(Vec::len), Some(2));
        let fires = t.get(&city, "/api/v1/incidents/stats?year=2026&kind=fire").await.json();
        assert_eq!(fires["total"]["count"], 1);
        // Scope holds: another district counts nothing, and cannot name the first.
        assert_eq!(t.get(&west, "/api/v1/incidents/stats?year=2026").await.json()["total"]["count"], 0);
        let other = t.get(&west, "/api/v1/incidents/stats?year=2026&unit=990102").await;
        assert!(other.status == StatusCode::UNPROCESSABLE_ENTITY || other.status == StatusCode::NOT_FOUND, "{}", other.status);
        let bad = t.get(&city, "/api/v1/incidents/stats?year=1999").await;
        bad.expect(INVALID);
        assert_eq!(field(&bad, "year"), "out_of_range");
        let sheet = t.get(&city, "/api/v1/incidents/stats.xlsx?year=2026&lang=en").await;
        sheet.expect(StatusCode::OK);
        assert!(sheet.bytes.starts_with(b"PK"), "an xlsx is a zip");
    }
}

backend_tests! {
    async fn every_action_on_an_incident_outside_the_scope_answers_like_a_missing_one(t: TestApp) {
        let east = t.signed_in("east.officer", &t.tree.east, &[Role::DutyOfficer]).await;
        // A duty leader of another district: every incident permission, none of the scope.
        let west = t.signed_in("west.leader", &t.tree.west, &[Role::DutyLeader]).await;
        let id = t.post(&east, "/api/v1/incidents", explosion()).await.json()["id"].as_str().unwrap().to_owned();
        let draft = t.post(&east, &format!("/api/v1/incidents/{id}/reports"), json!({ "kind": "initial" })).await;
        draft.expect(CREATED);
        let report = draft.json()["id"].as_str().unwrap().to_owned();
        let missing = "0190a0b0-0000-7000-8000-000000000000";
        let before = t.get(&east, &format!("/api/v1/incidents/{id}")).await.json();

        let actions: Vec<(axum::http::Method, String, Option<Value>)> = {
            use axum::http::Method;
            vec![
                (Method::GET, "/api/v1/incidents/{id}".into(), None),
                (Method::PATCH, "/api/v1/incidents/{id}".into(), Some(json!({ "title": "改" }))),
                (Method::GET, "/api/v1/incidents/{id}/grades".into(), None),
                (Method::GET, "/api/v1/incidents/{id}/timeline".into(), None),
                (Method::POST, "/api/v1/incidents/{id}/hops/county_to_city/acknowledge".into(), Some(json!({}))),
                (Method::POST, "/api/v1/incidents/{id}/hops/city_to_province".into(), Some(json!({ "method": "phone" }))),
                (Method::POST, "/api/v1/incidents/{id}/override".into(), Some(json!({ "grade": "serious", "reason": "核实" }))),
                (Method::POST, "/api/v1/incidents/{id}/close".into(), Some(json!({ "summary": "处置完毕" }))),
                (Method::GET, "/api/v1/incidents/{id}/reports".into(), None),
                (Method::POST, "/api/v1/incidents/{id}/reports".into(), Some(json!({ "kind": "initial" }))),
                (Method::GET, "/api/v1/incidents/{id}/reports/{report}".into(), None),
                (Method::PUT, "/api/v1/incidents/{id}/reports/{report}".into(), Some(json!({ "version": 1, "title": "改" }))),
                (Method::GET, "/api/v1/incidents/{id}/reports/{report}/versions/1".into(), None),
                (Method::POST, "/api/v1/incidents/{id}/reports/{report}/submit".into(), Some(json!({ "version": 1 }))),
                (Method::POST, "/api/v1/incidents/{id}/reports/{report}/return".into(), Some(json!({ "reason": "补充" }))),
                (Method::POST, "/api/v1/incidents/{id}/reports/{report}/approve".into(), Some(json!({ "version": 1 }))),
            ]
        };
        for (method, path, body) in actions {
            let real = path.replace("{id}", &id).replace("{report}", &report);
            let made_up = path.replace("{id}", missing).replace("{report}", missing);
            let outside = t.call(Some(&west), method.clone(), &real, body.clone()).await;
            let nothing = t.call(Some(&west), method.clone(), &made_up, body).await;
            outside.expect(StatusCode::NOT_FOUND);
            assert_eq!(outside.json(), nothing.json(), "{method} {path}");
            assert_eq!(outside.code(), "not_found", "{method} {path}");
        }
        // Nothing was changed, and no refusal names the incident.
        assert_eq!(t.get(&east, &format!("/api/v1/incidents/{id}")).await.json(), before);
        assert!(t.audit_actions("access.denied").await.iter().all(|r| !r.detail.contains("not_addressee")));
    }

    async fn only_readers_of_incidents_see_the_possible_duplicates(t: TestApp) {
        let east = t.signed_in("east.officer", &t.tree.east, &[Role::DutyOfficer]).await;
        let enterprise = t.signed_in("east.plant", &t.tree.east, &[Role::Enterprise]).await;
        let made = t.post(&east, "/api/v1/incidents", explosion()).await.json();
        let number = made["number"].as_str().unwrap().to_owned();
        let query = "/api/v1/incidents/duplicates?kind=hazardous_chemicals&unit=990102&occurred_at=2026-03-02T01:05:00Z&lon=115.9&lat=28.68";

        // The duty desk sees the candidates, in the list and in the 409.
        assert_eq!(t.get(&east, query).await.json()[0]["number"], number.as_str());
        let again = t.post(&east, "/api/v1/incidents", explosion()).await;
        again.expect(StatusCode::CONFLICT);
        assert!(again.json()["message"].as_str().unwrap().contains(&number));

        // An enterprise may report but not read the ledger: no list, and a 409 naming nothing.
        let listed = t.get(&enterprise, query).await;
        listed.expect(StatusCode::FORBIDDEN);
        assert_eq!(listed.code(), "forbidden");
        let refused = t.post(&enterprise, "/api/v1/incidents", with(explosion(), "deaths", json!(0))).await;
        refused.expect(StatusCode::CONFLICT);
        assert_eq!(refused.code(), "possible_duplicate");
        let text = String::from_utf8(refused.bytes.clone()).unwrap();
        for secret in [number.as_str(), "990102-", "临江化工储罐爆炸", "江南化工园区", made["id"].as_str().unwrap()] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(refused.json()["fields"], Value::Null);
        // Saving anyway works; it is kept as a possible duplicate.
        let insisted = t.post(&enterprise, "/api/v1/incidents", with(with(explosion(), "deaths", json!(0)), "allow_duplicate", json!(true))).await;
        insisted.expect(CREATED);
        assert_eq!(insisted.json()["duplicate_of"], Value::Null, "not even the other's id");
        let kept = t.get(&east, &format!("/api/v1/incidents/{}", insisted.json()["id"].as_str().unwrap())).await.json();
        assert_eq!(kept["duplicate_of"], made["id"]);
    }

    async fn a_call_proposes_its_incident_by_the_entry_id(t: TestApp) {
        let city = t.signed_in("city.officer", &t.tree.city, &[Role::DutyOfficer]).await;
        let west = t.signed_in("west.officer", &t.tree.west, &[Role::DutyOfficer]).await;
        let entry = t.post(&city, "/api/v1/duty/log", json!({
            "received_at": "2026-03-02T01:25:00Z", "channel": "phone", "category": "accident",
            "caller_name": "王五", "caller_unit": "", "caller_phone": "13800138000",
            "place": "江南区滨江街道化工园区", "summary": "某化工厂储罐泄漏，现场有刺激性气味，暂无人员伤亡。",
            "actions": "已通知消防", "follow_up": true
        })).await;
        entry.expect(CREATED);
        let id = entry.json()["id"].as_str().unwrap().to_owned();
        let draft = t.get(&city, &format!("/api/v1/incidents/draft?from_log={id}")).await;
        draft.expect(StatusCode::OK);
        let draft = draft.json();
        assert_eq!(draft["title"], "某化工厂储罐泄漏", "the first clause, not the whole summary");
        assert_eq!(draft["kind"], "hazardous_chemicals", "the category and its words");
        assert_eq!(draft["unit"], "990102001", "the unit the call names, not the desk's own");
        assert_eq!(draft["reporter_phone"], "13800138000");
        assert_eq!(draft["duty_log_id"], id.as_str());
        assert_eq!(draft["description"], "某化工厂储罐泄漏，现场有刺激性气味，暂无人员伤亡。\n已通知消防");
        // Another district's desk does not learn that the entry exists; bad ids get their code.
        t.get(&west, &format!("/api/v1/incidents/draft?from_log={id}")).await.expect(StatusCode::NOT_FOUND);
        let bad = t.get(&city, "/api/v1/incidents/draft?from_log=nope").await;
        bad.expect(INVALID);
        assert_eq!(field(&bad, "from_log"), "invalid_format");
        // Without the log (an enterprise may register, not read calls): refused.
        let enterprise = t.signed_in("firm", &t.tree.city, &[Role::Enterprise]).await;
        t.get(&enterprise, &format!("/api/v1/incidents/draft?from_log={id}")).await.expect(StatusCode::FORBIDDEN);
    }
}
