//! The enterprise register over HTTP: who reaches which enterprise (territory, department, the
//! enterprise itself), 404 before 403, separation of duties, and a licence's reminder reaching
//! its regulators.

use axum::http::StatusCode;
use beacon_core::org::{Role, UnitLevel};
use beacon_store::backend_tests;
use chrono::Duration;
use serde_json::{Value, json};

use crate::TestApp;

fn body(uscc: &str, name: &str, unit_id: &str) -> Value {
    json!({
        "uscc": uscc, "name": name, "unit_id": unit_id, "section": "C",
        "sector": "hazardous_chemicals", "address": "滨江路 8 号", "lon": 120.1, "lat": 30.2,
    })
}

backend_tests! {
    async fn each_side_reaches_its_own_and_no_more(t: TestApp) {
        let inspector = t.signed_in("east.inspector", &t.tree.east, &[Role::Inspector]).await;
        let west = t.signed_in("west.inspector", &t.tree.west, &[Role::Inspector]).await;
        let viewer = t.signed_in("east.viewer", &t.tree.east, &[Role::Viewer]).await;
        let admin = t.signed_in("east.admin", &t.tree.east, &[Role::SystemAdmin]).await;
        let made = t.post(&inspector, "/api/v1/enterprises", body("91350100m000100y43", "临江甲化工", &t.tree.town)).await;
        made.expect(StatusCode::CREATED);
        let a = made.json();
        let id = a["id"].as_str().unwrap().to_owned();
        assert_eq!(a["uscc"], "91350100M000100Y43");
        let path = format!("/api/v1/enterprises/{id}");

        // Bad codes are named by their field and check.
        let bad = t.post(&inspector, "/api/v1/enterprises", body("91350100M000100Y44", "乙", &t.tree.town)).await;
        bad.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.json()["fields"]["uscc"], "check_character");
        let taken = t.post(&inspector, "/api/v1/enterprises", body("91350100M000100Y43", "乙", &t.tree.town)).await;
        assert_eq!(taken.json()["fields"]["uscc"], "already_exists");

        t.get(&viewer, &path).await.expect(StatusCode::OK);
        // Outside the scope: 404, also for a write, before any role is checked.
        t.get(&west, &path).await.expect(StatusCode::NOT_FOUND);
        t.put(&west, &path, body("91350100M000100Y43", "改名", &t.tree.west)).await.expect(StatusCode::NOT_FOUND);
        // In scope but only a reader: 403.
        t.put(&viewer, &path, body("91350100M000100Y43", "改名", &t.tree.town)).await.expect(StatusCode::FORBIDDEN);
        // The administrators do not read the register (separation of duties).
        t.get(&admin, "/api/v1/enterprises").await.expect(StatusCode::FORBIDDEN);

        // A department of the city supervises it once named: its inspector then reaches it.
        let dept = t.unit(Some(&t.tree.city), "990100901", "市危化监管处", UnitLevel::Department).await;
        let dept_inspector = t.signed_in("dept.inspector", &dept, &[Role::Inspector]).await;
        t.get(&dept_inspector, &path).await.expect(StatusCode::NOT_FOUND);
        let mut with_dept = body("91350100M000100Y43", "临江甲化工", &t.tree.town);
        with_dept["department_id"] = json!(dept);
        t.put(&inspector, &path, with_dept).await.expect(StatusCode::OK);
        t.get(&dept_inspector, &path).await.expect(StatusCode::OK);
        let list = t.get(&dept_inspector, "/api/v1/enterprises?q=%E7%94%B2%E5%8C%96").await;
        assert_eq!(list.json()["total"], 1);

        // An enterprise account sees nothing until bound, then only its own enterprise.
        let other = t.post(&inspector, "/api/v1/enterprises", body("91110000802100433B", "临江乙机械", &t.tree.town)).await;
        let other_id = other.json()["id"].as_str().unwrap().to_owned();
        let officer = t.user("jia.safety", &t.tree.town, &[Role::Enterprise]).await;
        let own = t.login("jia.safety", crate::PASSWORD).await.session();
        assert_eq!(t.get(&own, "/api/v1/enterprises").await.json()["total"], 0);
        let bind = t.put(&admin, &format!("/api/v1/users/{officer}/enterprise"), json!({ "enterprise_id": id })).await;
        bind.expect(StatusCode::NO_CONTENT);
        let mine = t.get(&own, "/api/v1/enterprises").await.json();
        assert_eq!(mine["total"], 1);
        assert_eq!(mine["items"][0]["id"], id);
        t.get(&own, &format!("/api/v1/enterprises/{other_id}")).await.expect(StatusCode::NOT_FOUND);
        t.post(&own, "/api/v1/enterprises", body("91440300708461136T", "丙", &t.tree.town)).await.expect(StatusCode::FORBIDDEN);
        // Its own edit of its name waits for the regulator.
        let mut renamed = body("91350100M000100Y43", "临江甲化工股份", &t.tree.town);
        renamed["safety_principal"] = json!("王五");
        let saved = t.put(&own, &path, renamed).await;
        saved.expect(StatusCode::OK);
        let saved = saved.json();
        assert_eq!(saved["enterprise"]["name"], "临江甲化工");
        assert_eq!(saved["enterprise"]["safety_principal"], "王五");
        let change = saved["pending_change"]["id"].as_str().unwrap().to_owned();
        let decide = format!("{path}/changes/{change}/decision");
        t.post(&own, &decide, json!({ "confirm": true })).await.expect(StatusCode::FORBIDDEN);
        t.post(&west, &decide, json!({ "confirm": true })).await.expect(StatusCode::NOT_FOUND);
        t.post(&inspector, &decide, json!({ "confirm": true })).await.expect(StatusCode::OK);
        assert_eq!(t.get(&own, &path).await.json()["name"], "临江甲化工股份");
        // Its risk points are its own to keep; L off its scale is named.
        let points = format!("{path}/risk-points");
        let off = t.post(&own, &points, json!({ "name": "罐区", "accident_types": ["fire"], "l": 2, "e": 6, "c": 7, "control_level": "workshop" })).await;
        assert_eq!(off.json()["fields"]["l"], "not_on_scale");
        let red = t.post(&own, &points, json!({ "name": "罐区", "accident_types": ["fire"], "l": 6, "e": 10, "c": 7, "control_level": "workshop" })).await;
        red.expect(StatusCode::CREATED);
        assert_eq!(red.json()["colour"], "red");
        assert_eq!(t.get(&viewer, &path).await.json()["colour"], "red");
        let map = t.get(&inspector, "/api/v1/risk-map").await.json();
        assert_eq!(map["points"].as_array().unwrap().len(), 2);
        // Only a regulator of the top unit sets the cut-offs.
        let cut = json!({ "red": 300, "orange": 150, "yellow": 60 });
        t.put(&inspector, "/api/v1/risk-cutoffs", cut.clone()).await.expect(StatusCode::FORBIDDEN);
        let city = t.signed_in("city.inspector", &t.tree.city, &[Role::Inspector]).await;
        t.put(&city, "/api/v1/risk-cutoffs", json!({ "red": 100, "orange": 150, "yellow": 60 })).await.expect(StatusCode::UNPROCESSABLE_ENTITY);
        t.put(&city, "/api/v1/risk-cutoffs", cut).await.expect(StatusCode::OK);
        let history = t.get(&inspector, &format!("{path}/history")).await.json();
        let kinds: Vec<&str> = history.as_array().unwrap().iter().map(|h| h["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["registered", "updated", "change_requested", "updated", "change_confirmed", "risk_point_added"]);
        // Named by code and name on the audit page.
        let audited = t.audit_actions("enterprise.created").await;
        assert_eq!(audited.len(), 2);

        // The register as a workbook holds what the caller reaches and no more.
        let sheet = t.get(&inspector, "/api/v1/enterprises.xlsx").await;
        sheet.expect(StatusCode::OK);
        let text = workbook_text(&sheet.bytes);
        assert!(text.contains("临江甲化工股份") && text.contains("临江乙机械") && text.contains("统一社会信用代码"), "{text}");
        let own_sheet = workbook_text(&t.get(&own, "/api/v1/enterprises.xlsx?lang=en").await.bytes);
        assert!(own_sheet.contains("临江甲化工股份") && own_sheet.contains("Credit code"));
        assert!(!own_sheet.contains("临江乙机械"), "another enterprise in its own export");
        t.get(&admin, "/api/v1/enterprises.xlsx").await.expect(StatusCode::FORBIDDEN);
        let bad = t.get(&inspector, "/api/v1/licences.xlsx?state=lost").await;
        assert_eq!(bad.json()["fields"]["state"], "unknown");
    }

    async fn a_licence_reminds_its_regulators_before_it_expires(t: TestApp) {
        let inspector_id = t.user("east.inspector", &t.tree.east, &[Role::Inspector]).await;
        let inspector = t.login("east.inspector", crate::PASSWORD).await.session();
        let a = t.post(&inspector, "/api/v1/enterprises", body("91350100M000100Y43", "临江甲化工", &t.tree.town)).await.json();
        let id = a["id"].as_str().unwrap();
        let today = t.store.now().date_naive();
        let lic = json!({
            "kind": "safety_production", "number": "(浙)WH安许证字〔2024〕0001",
            "issued_on": (today - Duration::days(1000)).to_string(),
            "expires_on": (today + Duration::days(100)).to_string(),
        });
        let bad = t.post(&inspector, &format!("/api/v1/enterprises/{id}/licences"), json!({
            "kind": "safety_production", "number": "1", "issued_on": "2026-05-01", "expires_on": "2026-04-01",
        })).await;
        assert_eq!(bad.json()["fields"]["expires_on"], "before_issued");
        t.post(&inspector, &format!("/api/v1/enterprises/{id}/licences"), lic).await.expect(StatusCode::CREATED);
        let none = t.get(&inspector, "/api/v1/licences?state=expiring").await;
        none.expect(StatusCode::OK);
        assert_eq!(none.json()["total"], 0);
        t.clock.advance(Duration::days(11));
        assert_eq!(beacon_api::notify::run_due_deadlines(&t.state).await.unwrap(), 1);
        let notes = t.store.notifications(&inspector_id, &Default::default(), beacon_core::page::PageRequest::default()).await.unwrap();
        assert_eq!(notes.items.len(), 1);
        assert_eq!(notes.items[0].kind, "enterprise.licence_expiring");
        assert_eq!(notes.items[0].link.as_deref(), Some(format!("/enterprises/{id}").as_str()));
        // Eleven days on, the session has lapsed: sign in again.
        let inspector = t.login("east.inspector", crate::PASSWORD).await.session();
        let ledger = t.get(&inspector, "/api/v1/licences?state=expiring").await.json();
        assert_eq!(ledger["total"], 1);
        assert_eq!(ledger["items"][0]["enterprise_name"], "临江甲化工");
        let sheet = workbook_text(&t.get(&inspector, "/api/v1/licences.xlsx?state=expiring").await.bytes);
        assert!(sheet.contains("临江甲化工") && sheet.contains("即将到期"), "{sheet}");
    }
}

/// The shared strings of an exported workbook (every text cell), joined.
fn workbook_text(bytes: &[u8]) -> String {
    use std::io::Read;
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).expect("an xlsx is a zip");
    let mut text = String::new();
    archive
        .by_name("xl/sharedStrings.xml")
        .expect("shared strings")
        .read_to_string(&mut text)
        .unwrap();
    text
}
