//! Inspections over HTTP: the shipped checklists and who keeps them; an enforcement inspection
//! needs two inspectors and the enterprise's signatory; findings cite checklist items (a major
//! item makes a major finding); scope (404 outside the reach, 403 for a reader after it); the
//! enterprise records its own self-inspections only; and a finding becomes one hidden danger,
//! once.

use axum::http::StatusCode;
use beacon_core::clock::Clock;
use beacon_core::org::Role;
use beacon_store::backend_tests;
use chrono::Days;
use serde_json::{Value, json};

use crate::TestApp;

/// The shipped chemicals checklist and its item 第十二项 (a major hidden danger).
fn chemicals(lists: &Value) -> (String, String) {
    let list = lists["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["basis"] == "安监总管三〔2017〕121号")
        .expect("shipped");
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["clause"] == "第十二项")
        .expect("item 12");
    assert_eq!(item["major"], true);
    (list["id"].as_str().unwrap().to_owned(), item["id"].as_str().unwrap().to_owned())
}

backend_tests! {
    async fn an_inspection_is_recorded_with_its_findings_and_one_becomes_a_hidden_danger(t: TestApp) {
        let inspector = t.signed_in("east.inspector", &t.tree.east, &[Role::Inspector]).await;
        let city = t.signed_in("city.inspector", &t.tree.city, &[Role::Inspector]).await;
        let west = t.signed_in("west.inspector", &t.tree.west, &[Role::Inspector]).await;
        let viewer = t.signed_in("east.viewer", &t.tree.east, &[Role::Viewer]).await;
        let made = t.post(&inspector, "/api/v1/enterprises", json!({
            "uscc": "91350100M000100Y43", "name": "临江甲化工", "unit_id": t.tree.town,
            "section": "C", "sector": "hazardous_chemicals",
        })).await;
        let enterprise = made.expect(StatusCode::CREATED).json()["id"].as_str().unwrap().to_owned();

        // The checklists shipped: the chemicals criteria's twenty items and four of 令第10号.
        let lists = t.get(&inspector, "/api/v1/checklists").await.json();
        assert_eq!(lists["editable"], false, "a district keeps no reference data");
        let (checklist, major_item) = chemicals(&lists);
        let counts: Vec<usize> = lists["items"].as_array().unwrap().iter().map(|c| c["items"].as_array().unwrap().len()).collect();
        assert_eq!(counts, [20, 4]);
        // The city's regulator adds an item; a district's may not.
        let item = json!({ "clause": "第二十一项", "text": "试验条目", "major": false });
        t.post(&inspector, &format!("/api/v1/checklists/{checklist}/items"), item.clone()).await.expect(StatusCode::FORBIDDEN);
        assert_eq!(t.get(&city, "/api/v1/checklists").await.json()["editable"], true);
        let grown = t.post(&city, &format!("/api/v1/checklists/{checklist}/items"), item).await;
        let grown = grown.expect(StatusCode::OK).json();
        let added = grown["items"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(added["clause"], "第二十一项");
        let retire = json!({ "clause": "第二十一项", "text": "试验条目", "retired": true, "version": added["version"] });
        let path = format!("/api/v1/checklists/{checklist}/items/{}", added["id"].as_str().unwrap());
        t.put(&city, &path, retire.clone()).await.expect(StatusCode::OK);
        assert_eq!(t.put(&city, &path, retire).await.code(), "stale_version");

        let today = t.clock.now().date_naive();
        let record = |inspectors: Value, signatory: &str| json!({
            "enterprise_id": enterprise, "kind": "enforcement", "inspected_on": today.to_string(),
            "inspectors": inspectors, "checklist_id": checklist, "signatory": signatory,
            "summary": "检查储罐区和装卸区",
            "findings": [
                { "item_id": major_item, "place": "液氯罐区", "description": "未设置有毒气体检测报警装置" },
                { "place": "配电室", "description": "配电柜前未铺绝缘垫" },
            ],
        });
        // Bad input, each named: one inspector, no signatory, an unknown item, a future day.
        let one = t.post(&inspector, "/api/v1/inspections", record(json!(["陈检查"]), "王厂长")).await;
        assert_eq!(one.json()["fields"]["inspectors"], "at_least_two");
        let unsigned = t.post(&inspector, "/api/v1/inspections", record(json!(["陈检查", "李执法"]), " ")).await;
        assert_eq!(unsigned.json()["fields"]["signatory"], "required");
        let mut unknown = record(json!(["陈检查", "李执法"]), "王厂长");
        unknown["findings"][1]["item_id"] = json!(added["id"]);
        assert_eq!(t.post(&inspector, "/api/v1/inspections", unknown).await.json()["fields"]["findings[1].item_id"], "unknown", "a retired item is not offered");
        let mut later = record(json!(["陈检查", "李执法"]), "王厂长");
        later["inspected_on"] = json!((today + Days::new(1)).to_string());
        assert_eq!(t.post(&inspector, "/api/v1/inspections", later).await.json()["fields"]["inspected_on"], "in_future");
        // Scope before role: the west does not know the enterprise; a reader may not record.
        t.post(&west, "/api/v1/inspections", record(json!(["甲", "乙"]), "王厂长")).await.expect(StatusCode::NOT_FOUND);
        t.post(&viewer, "/api/v1/inspections", record(json!(["甲", "乙"]), "王厂长")).await.expect(StatusCode::FORBIDDEN);
        assert!(t.audit_actions("inspection.recorded").await.is_empty(), "nothing half-saved");

        let made = t.post(&inspector, "/api/v1/inspections", record(json!(["陈检查", "李执法", "陈检查"]), "王厂长")).await;
        let i = made.expect(StatusCode::CREATED).json();
        assert!(i["number"].as_str().unwrap().starts_with("JC-"));
        assert_eq!(i["inspectors"], json!(["陈检查", "李执法"]));
        assert_eq!(i["findings"][0]["level"], "major", "a major item makes a major finding");
        assert_eq!(i["findings"][1]["level"], "general");
        assert!(i["findings"][0]["criterion"].as_str().unwrap().contains("第十二项"));
        assert_eq!(i["findings_open"], 2);
        let id = i["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/inspections/{id}");
        t.get(&viewer, &path).await.expect(StatusCode::OK);
        t.get(&west, &path).await.expect(StatusCode::NOT_FOUND);
        assert_eq!(t.get(&west, "/api/v1/inspections").await.json()["total"], 0);
        assert_eq!(t.get(&inspector, &format!("/api/v1/inspections?enterprise={enterprise}")).await.json()["total"], 1);
        assert_eq!(t.get(&inspector, "/api/v1/inspections?from=2026-12-02&to=2026-12-01").await.json()["fields"]["to"], "before_start");

        // A finding becomes a hidden danger: found that day by inspection, citing the item.
        let finding = i["findings"][0]["id"].as_str().unwrap().to_owned();
        let to_danger = format!("{path}/findings/{finding}/hazard");
        let deadline = json!({ "deadline": (today + Days::new(60)).to_string(), "responsible_person": "王厂长" });
        t.post(&west, &to_danger, deadline.clone()).await.expect(StatusCode::NOT_FOUND);
        t.post(&viewer, &to_danger, deadline.clone()).await.expect(StatusCode::FORBIDDEN);
        let early = json!({ "deadline": (today - Days::new(1)).to_string() });
        assert_eq!(t.post(&inspector, &to_danger, early).await.json()["fields"]["deadline"], "before_found");
        let linked = t.post(&inspector, &to_danger, deadline.clone()).await.expect(StatusCode::OK).json();
        assert_eq!(linked["findings_open"], 1);
        let danger_id = linked["findings"][0]["danger_id"].as_str().unwrap().to_owned();
        assert!(linked["findings"][0]["danger_number"].as_str().unwrap().starts_with("YH-"));
        let danger = t.get(&inspector, &format!("/api/v1/hazards/{danger_id}")).await.json();
        assert_eq!(danger["level"], "major");
        assert_eq!(danger["origin"], "inspection");
        assert_eq!(danger["status"], "awaiting_plan");
        assert_eq!(danger["found_on"], today.to_string());
        assert!(danger["criterion"].as_str().unwrap().contains("121号"));
        let again = t.post(&inspector, &to_danger, deadline).await;
        again.expect(StatusCode::CONFLICT);
        assert_eq!(again.code(), "finding_already_recorded");
        let history = t.get(&inspector, &format!("/api/v1/hazards/{danger_id}/history")).await.json();
        let kinds: Vec<&str> = history.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["recorded", "from_inspection"]);
        assert_eq!(t.audit_actions("inspection.recorded").await.len(), 1);
        let sheet = crate::enterprise::workbook_text(&t.get(&inspector, "/api/v1/inspections.xlsx").await.bytes);
        assert!(sheet.contains("安全检查台账") && sheet.contains("陈检查、李执法") && sheet.contains("执法检查"), "{sheet}");
        assert!(!crate::enterprise::workbook_text(&t.get(&west, "/api/v1/inspections.xlsx").await.bytes).contains("临江甲化工"));

        // Its photos go with it, under the same reach.
        let photo = crate::attachments::png(8, 8, 1);
        crate::attachments::upload(&t, &inspector, ("inspection", &id), "photo", "现场.png", photo.clone()).await.expect(StatusCode::CREATED);
        crate::attachments::upload(&t, &west, ("inspection", &id), "photo", "现场.png", photo).await.expect(StatusCode::NOT_FOUND);
    }

    async fn an_enterprise_records_its_own_self_inspection_only(t: TestApp) {
        let inspector = t.signed_in("east.inspector", &t.tree.east, &[Role::Inspector]).await;
        let admin = t.signed_in("east.admin", &t.tree.east, &[Role::SystemAdmin]).await;
        let mut ids = Vec::new();
        for (uscc, name) in [("91350100M000100Y43", "临江甲化工"), ("91110000802100433B", "临江乙化工")] {
            let made = t.post(&inspector, "/api/v1/enterprises", json!({
                "uscc": uscc, "name": name, "unit_id": t.tree.town, "section": "C", "sector": "hazardous_chemicals",
            })).await;
            ids.push(made.expect(StatusCode::CREATED).json()["id"].as_str().unwrap().to_owned());
        }
        let officer = t.user("jia.safety", &t.tree.town, &[Role::Enterprise]).await;
        t.put(&admin, &format!("/api/v1/users/{officer}/enterprise"), json!({ "enterprise_id": ids[0] }))
            .await.expect(StatusCode::NO_CONTENT);
        let own = t.login("jia.safety", crate::PASSWORD).await.session();
        let today = t.clock.now().date_naive().to_string();
        let check = |enterprise: &str, kind: &str| json!({
            "enterprise_id": enterprise, "kind": kind, "inspected_on": today, "inspectors": ["吴安全员"],
            "findings": [{ "place": "仓库", "description": "灭火器过期" }],
        });
        let wrong = t.post(&own, "/api/v1/inspections", check(&ids[0], "enforcement")).await;
        assert_eq!(wrong.json()["fields"]["kind"], "self_inspection_only");
        t.post(&own, "/api/v1/inspections", check(&ids[1], "self_inspection")).await.expect(StatusCode::NOT_FOUND);
        let mine = t.post(&own, "/api/v1/inspections", check(&ids[0], "self_inspection")).await;
        let mine = mine.expect(StatusCode::CREATED).json();
        assert_eq!(mine["signatory"], "", "a self-inspection needs no signatory");
        // Its finding becomes its own hidden danger, by self-inspection.
        let finding = mine["findings"][0]["id"].as_str().unwrap();
        let path = format!("/api/v1/inspections/{}/findings/{finding}/hazard", mine["id"].as_str().unwrap());
        let deadline = (t.clock.now().date_naive() + Days::new(7)).to_string();
        let linked = t.post(&own, &path, json!({ "deadline": deadline })).await.expect(StatusCode::OK).json();
        let danger = linked["findings"][0]["danger_id"].as_str().unwrap();
        assert_eq!(t.get(&own, &format!("/api/v1/hazards/{danger}")).await.json()["origin"], "self_inspection");
        // The regulator sees it; the enterprise sees only its own inspections.
        assert_eq!(t.get(&inspector, "/api/v1/inspections").await.json()["total"], 1);
        t.post(&inspector, "/api/v1/inspections", check(&ids[1], "self_inspection")).await.expect(StatusCode::CREATED);
        assert_eq!(t.get(&own, "/api/v1/inspections").await.json()["total"], 1);
    }
}
