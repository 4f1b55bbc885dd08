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

    async fn hazard_sources_are_graded_by_the_server_within_reach(t: TestApp) {
        let inspector = t.signed_in("east.inspector", &t.tree.east, &[Role::Inspector]).await;
        let west = t.signed_in("west.inspector", &t.tree.west, &[Role::Inspector]).await;
        let viewer = t.signed_in("east.viewer", &t.tree.east, &[Role::Viewer]).await;
        let city = t.signed_in("city.inspector", &t.tree.city, &[Role::Inspector]).await;
        let a = t.post(&inspector, "/api/v1/enterprises", body("91350100M000100Y43", "临江甲化工", &t.tree.town)).await.json();
        let id = a["id"].as_str().unwrap().to_owned();
        let b = t.post(&inspector, "/api/v1/enterprises", body("91110000802100433B", "临江乙化工", &t.tree.town)).await.json();
        let other = b["id"].as_str().unwrap().to_owned();

        // Everyone who reads the register reads the substances; only the top unit's regulator edits.
        let list = t.get(&viewer, "/api/v1/hazard-substances").await;
        list.expect(StatusCode::OK);
        let list = list.json();
        assert_eq!(list["editable"], false);
        let find = |name: &str| -> Value {
            list["items"].as_array().unwrap().iter().find(|s| s["name"] == name).cloned().unwrap()
        };
        let ammonia = find("氨")["id"].as_str().unwrap().to_owned();
        let chlorine = find("氯")["id"].as_str().unwrap().to_owned();
        let methanol = find("甲醇");
        assert_eq!(methanol["beta"], Value::Null);
        let methanol = methanol["id"].as_str().unwrap().to_owned();
        assert_eq!(t.get(&city, "/api/v1/hazard-substances").await.json()["editable"], true);
        let new = json!({ "name": "某毒性气体", "cas": "", "critical_t": 5.0, "beta": 2.0, "source": "GB 18218-2018 表2 J1；表4 J1" });
        t.post(&inspector, "/api/v1/hazard-substances", new.clone()).await.expect(StatusCode::FORBIDDEN);
        t.post(&city, "/api/v1/hazard-substances", new).await.expect(StatusCode::CREATED);
        let bad_cas = t.put(&city, &format!("/api/v1/hazard-substances/{methanol}"), json!({ "name": "甲醇", "cas": "67-56-2", "critical_t": 500.0 })).await;
        bad_cas.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad_cas.json()["fields"]["cas"], "check_character");
        assert_eq!(bad_cas.json()["fields"]["source"], "required");

        // The server computes S, R and the grade: 40 t chlorine + 30 t ammonia, α 1.5 → 二级.
        let path = format!("/api/v1/enterprises/{id}/hazard-sources");
        let source = json!({
            "name": "罐区", "alpha": 1.5,
            "substances": [{ "substance_id": chlorine, "quantity_t": 40 }, { "substance_id": ammonia, "quantity_t": 30 }],
            "filing_number": "临应急危源备〔2025〕001号", "filing_date": "2025-06-01",
        });
        let made = t.post(&inspector, &path, source.clone()).await;
        made.expect(StatusCode::CREATED);
        let made = made.json();
        assert_eq!((made["s"].as_f64(), made["r"].as_f64()), (Some(11.0), Some(57.0)));
        assert_eq!((made["major"].as_bool(), made["grade"].as_str()), (Some(true), Some("second")));
        let one = format!("{path}/{}", made["id"].as_str().unwrap());
        assert_eq!(t.get(&viewer, &one).await.json()["grade"], "second");

        // A substance without a confirmed β, and bad input, are named by their field.
        let incomplete = t.post(&inspector, &path, json!({ "name": "甲醇罐区", "alpha": 1, "substances": [{ "substance_id": methanol, "quantity_t": 600 }] })).await;
        incomplete.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(incomplete.json()["fields"]["substances[0].substance_id"], "substance_incomplete");
        let negative = t.post(&inspector, &path, json!({ "name": "罐区", "alpha": 0, "substances": [{ "substance_id": ammonia, "quantity_t": -1 }] })).await;
        negative.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(negative.json()["fields"]["alpha"], "must_be_positive");
        assert_eq!(negative.json()["fields"]["substances[0].quantity_t"], "must_not_be_negative");
        let typed = t.post(&inspector, &path, json!({ "name": "罐区", "alpha": "高", "substances": [] })).await;
        typed.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(typed.json()["fields"]["alpha"], "invalid_type");
        let garbled = t.send(
            axum::http::Request::post(path.as_str())
                .header(axum::http::header::COOKIE, &inspector.cookie)
                .header(axum::http::header::CONTENT_TYPE, "application/json")
                .body(axum::body::Body::from("{\"name\": "))
                .unwrap(),
        ).await;
        garbled.expect(StatusCode::BAD_REQUEST);

        // Another district does not learn the enterprise exists, even when it writes; a reader
        // in scope is refused the write.
        t.get(&west, &path).await.expect(StatusCode::NOT_FOUND);
        t.get(&west, &one).await.expect(StatusCode::NOT_FOUND);
        t.post(&west, &path, source.clone()).await.expect(StatusCode::NOT_FOUND);
        t.put(&west, &one, source.clone()).await.expect(StatusCode::NOT_FOUND);
        t.post(&viewer, &path, source.clone()).await.expect(StatusCode::FORBIDDEN);

        // The enterprise's own account keeps its own hazard sources and no one else's.
        let admin = t.signed_in("east.admin", &t.tree.east, &[Role::SystemAdmin]).await;
        let officer = t.user("jia.safety", &t.tree.town, &[Role::Enterprise]).await;
        t.put(&admin, &format!("/api/v1/users/{officer}/enterprise"), json!({ "enterprise_id": id })).await.expect(StatusCode::NO_CONTENT);
        let own = t.login("jia.safety", crate::PASSWORD).await.session();
        t.get(&own, "/api/v1/hazard-substances").await.expect(StatusCode::OK);
        let mut lower = source.clone();
        lower["substances"] = json!([{ "substance_id": ammonia, "quantity_t": 5 }]);
        lower["version"] = made["version"].clone();
        let lowered = t.put(&own, &one, lower).await;
        lowered.expect(StatusCode::OK);
        assert_eq!((lowered.json()["major"].as_bool(), lowered.json()["grade"].clone()), (Some(false), Value::Null));
        t.post(&own, &format!("/api/v1/enterprises/{other}/hazard-sources"), source.clone()).await.expect(StatusCode::NOT_FOUND);
        t.get(&own, &format!("/api/v1/enterprises/{other}/hazard-sources")).await.expect(StatusCode::NOT_FOUND);
        t.post(&own, "/api/v1/hazard-substances", json!({ "name": "又一种", "source": "" })).await.expect(StatusCode::FORBIDDEN);
        let retired = t.post(&own, &format!("{one}/retire"), json!({ "reason": "装置拆除" })).await;
        retired.expect(StatusCode::OK);
        assert_eq!(retired.json()["retired"], true);
        assert_eq!(t.post(&own, &format!("{one}/retire"), json!({ "reason": "再次" })).await.code(), "hazard_source_retired");

        let history = t.get(&inspector, &format!("/api/v1/enterprises/{id}/history")).await.json();
        let kinds: Vec<&str> = history.as_array().unwrap().iter().map(|h| h["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["registered", "hazard_source_added", "hazard_source_updated", "hazard_source_retired"]);
        for action in ["added", "updated", "retired"] {
            assert_eq!(t.audit_actions(&format!("enterprise.hazard_source_{action}")).await.len(), 1, "{action}");
        }
        assert_eq!(t.audit_actions("enterprise.substance_added").await.len(), 1);
    }

    async fn ledgers_span_the_enterprises_in_reach(t: TestApp) {
        let inspector = t.signed_in("east.inspector", &t.tree.east, &[Role::Inspector]).await;
        let west = t.signed_in("west.inspector", &t.tree.west, &[Role::Inspector]).await;
        let admin = t.signed_in("east.admin", &t.tree.east, &[Role::SystemAdmin]).await;
        let city = t.signed_in("city.inspector", &t.tree.city, &[Role::Inspector]).await;
        let a = t.post(&inspector, "/api/v1/enterprises", body("91350100M000100Y43", "临江甲化工", &t.tree.town)).await.json();
        let b = t.post(&west, "/api/v1/enterprises", body("91110000802100433B", "西区乙化工", &t.tree.west)).await.json();
        let (a, b) = (a["id"].as_str().unwrap().to_owned(), b["id"].as_str().unwrap().to_owned());
        let point = |name: &str, l: i32| json!({ "name": name, "accident_types": ["fire", "poisoning_asphyxiation"], "l": l, "e": 10, "c": 7, "control_level": "workshop", "next_review": "2020-01-01" });
        t.post(&inspector, &format!("/api/v1/enterprises/{a}/risk-points"), point("液氯罐区", 6)).await.expect(StatusCode::CREATED);
        t.post(&inspector, &format!("/api/v1/enterprises/{a}/risk-points"), point("配电室", 1)).await.expect(StatusCode::CREATED);
        t.post(&west, &format!("/api/v1/enterprises/{b}/risk-points"), point("西区罐区", 6)).await.expect(StatusCode::CREATED);

        // A regulator names its own departments or those above it, never another district's.
        let city_dept = t.unit(Some(&t.tree.city), "990100901", "市危化监管处", UnitLevel::Department).await;
        let west_dept = t.unit(Some(&t.tree.west), "990103901", "西区应急科", UnitLevel::Department).await;
        let offered = t.get(&inspector, "/api/v1/enterprise-departments").await.json();
        let ids: Vec<&str> = offered.as_array().unwrap().iter().map(|d| d["id"].as_str().unwrap()).collect();
        assert!(ids.contains(&city_dept.as_str()) && !ids.contains(&west_dept.as_str()), "{offered}");
        let mut supervised = body("91350100M000100Y43", "临江甲化工", &t.tree.town);
        supervised["department_id"] = json!(west_dept);
        let refused = t.put(&inspector, &format!("/api/v1/enterprises/{a}"), supervised.clone()).await;
        refused.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(refused.json()["fields"]["department_id"], "not_found");
        supervised["department_id"] = json!(city_dept);
        t.put(&inspector, &format!("/api/v1/enterprises/{a}"), supervised).await.expect(StatusCode::OK);
        t.get(&admin, "/api/v1/enterprise-departments").await.expect(StatusCode::FORBIDDEN);

        // Most severe first, within the caller's reach only; the filters narrow it.
        let ledger = t.get(&inspector, "/api/v1/risk-points").await.json();
        assert_eq!(ledger["total"], 2);
        assert_eq!(ledger["items"][0]["name"], "液氯罐区");
        assert_eq!(ledger["items"][0]["colour"], "red");
        assert_eq!(ledger["items"][0]["enterprise_name"], "临江甲化工");
        assert_eq!(ledger["items"][0]["review_overdue"], true);
        assert_eq!(t.get(&inspector, "/api/v1/risk-points?colour=red").await.json()["total"], 1);
        assert_eq!(t.get(&inspector, "/api/v1/risk-points?review_overdue=true&control_level=team").await.json()["total"], 0);
        assert_eq!(t.get(&city, "/api/v1/risk-points?colour=red").await.json()["total"], 2);
        assert_eq!(t.get(&city, &format!("/api/v1/risk-points?unit={}", t.tree.west)).await.json()["total"], 1);
        // A fragment of the enterprise's name, short or long, as in the register.
        for q in ["%E7%94%B2%E5%8C%96", "%E4%B8%B4%E6%B1%9F%E7%94%B2"] {
            assert_eq!(t.get(&city, &format!("/api/v1/risk-points?q={q}")).await.json()["total"], 2, "{q}");
            assert_eq!(t.get(&city, &format!("/api/v1/licences?q={q}")).await.json()["total"], 0, "{q}");
        }
        assert_eq!(t.get(&city, "/api/v1/risk-points?q=%E8%A5%BF%E5%8C%BA%E4%B9%99").await.json()["items"][0]["name"], "西区罐区");
        // Another district's unit named as a filter finds nothing, rather than its points.
        assert_eq!(t.get(&inspector, &format!("/api/v1/risk-points?unit={}", t.tree.west)).await.json()["total"], 0);
        let bad = t.get(&inspector, "/api/v1/risk-points?colour=purple&control_level=boss").await;
        bad.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.json()["fields"]["colour"], "unknown");
        assert_eq!(bad.json()["fields"]["control_level"], "unknown");
        t.get(&admin, "/api/v1/risk-points").await.expect(StatusCode::FORBIDDEN);
        let sheet = t.get(&inspector, "/api/v1/risk-points.xlsx").await;
        sheet.expect(StatusCode::OK);
        let text = workbook_text(&sheet.bytes);
        assert!(text.contains("安全风险点台账") && text.contains("液氯罐区") && text.contains("火灾") && text.contains("重大风险"), "{text}");
        assert!(!text.contains("西区罐区"), "another district's point in the export");

        // Major hazard sources, highest R first; the unfiled ones on their own.
        let substances = t.get(&inspector, "/api/v1/hazard-substances").await.json();
        let chlorine = substances["items"].as_array().unwrap().iter().find(|s| s["name"] == "氯").unwrap()["id"].clone();
        let source = |name: &str, q: f64, filing: &str| {
            let mut s = json!({ "name": name, "alpha": 1.5, "substances": [{ "substance_id": chlorine, "quantity_t": q }] });
            if !filing.is_empty() {
                s["filing_number"] = json!(filing);
                s["filing_date"] = json!("2025-06-01");
            }
            s
        };
        t.post(&inspector, &format!("/api/v1/enterprises/{a}/hazard-sources"), source("氯气储罐", 80.0, "")).await.expect(StatusCode::CREATED);
        t.post(&inspector, &format!("/api/v1/enterprises/{a}/hazard-sources"), source("钢瓶库", 1.0, "")).await.expect(StatusCode::CREATED);
        t.post(&west, &format!("/api/v1/enterprises/{b}/hazard-sources"), source("西区储罐", 20.0, "西应急危源备〔2025〕9号")).await.expect(StatusCode::CREATED);
        let sources = t.get(&city, "/api/v1/hazard-sources").await.json();
        // 1 t of chlorine is under its critical quantity: not a major source, not on the ledger.
        assert_eq!(sources["total"], 2);
        assert_eq!(sources["items"][0]["name"], "氯气储罐");
        let unfiled = t.get(&city, "/api/v1/hazard-sources?unfiled=true").await.json();
        assert_eq!(unfiled["total"], 1);
        assert_eq!(unfiled["items"][0]["name"], "氯气储罐");
        assert_eq!(t.get(&inspector, "/api/v1/hazard-sources").await.json()["total"], 1);
        let grade = sources["items"][0]["grade"].as_str().unwrap().to_owned();
        assert_eq!(t.get(&city, &format!("/api/v1/hazard-sources?grade={grade}")).await.json()["total"], 1);
        let bad = t.get(&city, "/api/v1/hazard-sources?grade=fifth&unit=..x").await;
        assert_eq!(bad.json()["fields"]["grade"], "unknown");
        assert_eq!(bad.json()["fields"]["unit"], "invalid");
        let long = "x".repeat(101);
        assert_eq!(t.get(&city, &format!("/api/v1/hazard-sources?q={long}")).await.json()["fields"]["q"], "too_long");
        let text = workbook_text(&t.get(&city, "/api/v1/hazard-sources.xlsx?lang=en").await.bytes);
        assert!(text.contains("Major hazard source ledger") && text.contains("氯气储罐") && text.contains("西应急危源备"), "{text}");
        assert!(!text.contains("钢瓶库"));

        // The register's mark follows its major sources: set by the first, off with the last.
        let marks = |e: Value| e["marks"].as_array().unwrap().iter().map(|m| m.as_str().unwrap().to_owned()).collect::<Vec<_>>();
        assert_eq!(marks(t.get(&inspector, &format!("/api/v1/enterprises/{a}")).await.json()), ["major_hazard"]);
        let major = sources["items"][0]["id"].as_str().unwrap().to_owned();
        t.post(&inspector, &format!("/api/v1/enterprises/{a}/hazard-sources/{major}/retire"), json!({ "reason": "装置拆除" })).await.expect(StatusCode::OK);
        assert!(marks(t.get(&inspector, &format!("/api/v1/enterprises/{a}")).await.json()).is_empty());
        let history = t.get(&inspector, &format!("/api/v1/enterprises/{a}/history")).await.json();
        let last = history.as_array().unwrap().last().unwrap().clone();
        assert_eq!(last["kind"], "hazard_source_retired");
        assert_eq!(last["data"]["major_hazard_mark"], false, "{last}");

        // The workbench tells the regulators what the ledgers hold: the west's unfiled source
        // is gone with A's, the late reviews remain; a duty officer, who keeps no register, is
        // not told.
        let bench = t.get(&city, "/api/v1/workbench").await.json();
        let card = |key: &str| bench["cards"].as_array().unwrap().iter().find(|c| c["key"] == key).cloned();
        assert!(card("enterprise.sources_unfiled").is_none(), "{bench}");
        let late = card("enterprise.reviews_overdue").expect("late reviews on the card");
        assert_eq!(late["count"], 3);
        assert_eq!(late["level"], "danger");
        assert_eq!(late["items"][0]["link"].as_str().unwrap().split('?').nth(1), Some("tab=risk"));
        let officer = t.signed_in("east.officer", &t.tree.east, &[Role::DutyOfficer]).await;
        let desk = t.get(&officer, "/api/v1/workbench").await.json();
        assert!(!desk["cards"].as_array().unwrap().iter().any(|c| c["key"].as_str().unwrap().starts_with("enterprise.")), "{desk}");
    }
}

/// The shared strings of an exported workbook (every text cell), joined.
pub(crate) fn workbook_text(bytes: &[u8]) -> String {
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
