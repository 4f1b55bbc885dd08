//! Hidden dangers over HTTP: who reaches and moves one (the register's reach, 404 before 403,
//! the enterprise's own steps and the regulator's), and a major one from record to 销号.

use axum::http::StatusCode;
use beacon_core::clock::Clock;
use beacon_core::org::Role;
use beacon_core::page::PageRequest;
use beacon_store::backend_tests;
use chrono::{Days, Duration};
use serde_json::json;

use crate::TestApp;

/// The kinds of a user's notifications, sorted.
async fn kinds(t: &TestApp, user: &str) -> Vec<String> {
    let page =
        t.store.notifications(user, &Default::default(), PageRequest::default()).await.unwrap();
    let mut kinds: Vec<String> = page.items.into_iter().map(|n| n.kind).collect();
    kinds.sort();
    kinds
}

/// How many hidden dangers the ledger lists for the caller with a filter.
async fn total(t: &TestApp, who: &crate::Session, query: &str) -> Option<i64> {
    t.get(who, &format!("/api/v1/hazards?{query}")).await.json()["total"].as_i64()
}

backend_tests! {
    async fn a_major_hidden_danger_goes_from_record_to_closing_under_each_sides_rights(t: TestApp) {
        let inspector = t.signed_in("east.inspector", &t.tree.east, &[Role::Inspector]).await;
        let west = t.signed_in("west.inspector", &t.tree.west, &[Role::Inspector]).await;
        let viewer = t.signed_in("east.viewer", &t.tree.east, &[Role::Viewer]).await;
        let admin = t.signed_in("east.admin", &t.tree.east, &[Role::SystemAdmin]).await;
        let made = t.post(&inspector, "/api/v1/enterprises", json!({
            "uscc": "91350100M000100Y43", "name": "临江甲化工", "unit_id": t.tree.town,
            "section": "C", "sector": "hazardous_chemicals",
        })).await;
        let enterprise = made.expect(StatusCode::CREATED).json()["id"].as_str().unwrap().to_owned();
        let officer = t.user("jia.safety", &t.tree.town, &[Role::Enterprise]).await;
        t.put(&admin, &format!("/api/v1/users/{officer}/enterprise"), json!({ "enterprise_id": enterprise }))
            .await.expect(StatusCode::NO_CONTENT);
        let own = t.login("jia.safety", crate::PASSWORD).await.session();
        let today = t.clock.now().date_naive();
        let danger = |level: &str, origin: &str| json!({
            "enterprise_id": enterprise, "level": level, "category": "site", "origin": origin,
            "place": "罐区", "description": "液位计失效，未设高液位报警",
            "criterion": "安监总管三〔2017〕121号 第十五条",
            "found_on": today.to_string(), "deadline": (today + Days::new(30)).to_string(),
        });

        // Recording: the west does not know the enterprise; a reader may not record; the
        // enterprise records only what its own checks find.
        t.post(&west, "/api/v1/hazards", danger("major", "inspection")).await.expect(StatusCode::NOT_FOUND);
        t.post(&viewer, "/api/v1/hazards", danger("major", "inspection")).await.expect(StatusCode::FORBIDDEN);
        let wrong = t.post(&own, "/api/v1/hazards", danger("general", "inspection")).await;
        wrong.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(wrong.json()["fields"]["origin"], "self_inspection_only");
        let mut early = danger("general", "inspection");
        early["deadline"] = json!((today - Days::new(1)).to_string());
        assert_eq!(t.post(&inspector, "/api/v1/hazards", early).await.json()["fields"]["deadline"], "before_found");
        t.post(&own, "/api/v1/hazards", danger("general", "self_inspection")).await.expect(StatusCode::CREATED);
        let made = t.post(&inspector, "/api/v1/hazards", danger("major", "inspection")).await;
        let m = made.expect(StatusCode::CREATED).json();
        assert_eq!(m["status"], "awaiting_plan");
        assert_eq!(m["created_by_name"], "east.inspector");
        let id = m["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/hazards/{id}");

        // Reading: the enterprise and the east; not the west, not the administrators.
        t.get(&own, &path).await.expect(StatusCode::OK);
        t.get(&viewer, &path).await.expect(StatusCode::OK);
        t.get(&west, &path).await.expect(StatusCode::NOT_FOUND);
        t.get(&admin, "/api/v1/hazards").await.expect(StatusCode::FORBIDDEN);
        assert_eq!(t.get(&west, "/api/v1/hazards").await.json()["total"], 0);
        assert_eq!(t.get(&own, "/api/v1/hazards?level=major").await.json()["total"], 1);

        // The plan: the enterprise submits it (all five), the regulator approves it.
        let plan = |funds: i64| json!({
            "measures": "停用储罐，加装高液位报警和联锁", "responsible_person": "王安全",
            "funds_fen": funds, "deadline": (today + Days::new(20)).to_string(),
            "contingency_plan": "储罐泄漏现场处置方案", "suspension": "partial",
        });
        let fix = json!({ "kind": "fix", "text": "已加装" });
        assert_eq!(t.post(&own, &format!("{path}/reports"), fix.clone()).await.code(), "plan_not_approved");
        assert_eq!(t.post(&own, &format!("{path}/plan"), plan(0)).await.json()["fields"]["funds_fen"], "required");
        let mut running = plan(800_000);
        running.as_object_mut().unwrap().remove("suspension");
        assert_eq!(t.post(&own, &format!("{path}/plan"), running).await.json()["fields"]["suspension"], "required");
        t.post(&west, &format!("{path}/plan"), plan(800_000)).await.expect(StatusCode::NOT_FOUND);
        t.post(&own, &format!("{path}/plan"), plan(800_000)).await.expect(StatusCode::OK);
        let approve = json!({ "approve": true });
        let by_own = t.post(&own, &format!("{path}/plan/review"), approve.clone()).await;
        by_own.expect(StatusCode::FORBIDDEN);
        assert_eq!(by_own.code(), "enterprise_cannot_review");
        t.post(&viewer, &format!("{path}/plan/review"), approve.clone()).await.expect(StatusCode::FORBIDDEN);
        t.post(&west, &format!("{path}/plan/review"), approve.clone()).await.expect(StatusCode::NOT_FOUND);
        let approved = t.post(&inspector, &format!("{path}/plan/review"), approve).await;
        assert_eq!(approved.expect(StatusCode::OK).json()["status"], "rectifying");

        // Listed by the district; the enterprise cannot list it.
        assert_eq!(t.post(&own, &format!("{path}/listing"), json!({})).await.code(), "enterprise_cannot_list");
        let listed = t.post(&inspector, &format!("{path}/listing"), json!({})).await;
        assert_eq!(listed.expect(StatusCode::OK).json()["listed_level"], "district");
        assert_eq!(t.get(&inspector, "/api/v1/hazards?listed=true").await.json()["total"], 1);

        // The fix, a failed acceptance, the fix again, then 销号 by the regulator only.
        t.post(&own, &format!("{path}/reports"), json!({ "kind": "progress", "text": "设备已到货" })).await.expect(StatusCode::OK);
        t.post(&own, &format!("{path}/reports"), fix.clone()).await.expect(StatusCode::OK);
        let by_own = t.post(&own, &format!("{path}/acceptance"), json!({ "approve": true })).await;
        by_own.expect(StatusCode::FORBIDDEN);
        assert_eq!(by_own.code(), "enterprise_cannot_accept");
        let no_reason = t.post(&inspector, &format!("{path}/acceptance"), json!({ "approve": false })).await;
        assert_eq!(no_reason.json()["fields"]["reason"], "required");
        let failed = t.post(&inspector, &format!("{path}/acceptance"), json!({ "approve": false, "reason": "未做联锁测试" })).await;
        assert_eq!(failed.json()["status"], "rectifying");
        t.post(&own, &format!("{path}/reports"), fix).await.expect(StatusCode::OK);
        let closed = t.post(&inspector, &format!("{path}/acceptance"), json!({ "approve": true })).await;
        let closed = closed.expect(StatusCode::OK).json();
        assert_eq!(closed["status"], "closed");
        assert_eq!(closed["closed_by_name"], "east.inspector");
        assert_eq!(t.post(&own, &format!("{path}/reports"), json!({ "kind": "explanation", "text": "迟" })).await.code(), "danger_closed");

        // Live events: the regulators who read the register hear each step, by number; the west
        // and the enterprise's own account (which reads no register) hear nothing of it.
        t.settle().await;
        let heard = |events: serde_json::Value, kind: &str| {
            events.as_array().unwrap().iter().filter(|e| e["kind"] == kind && e["data"]["id"] == id.as_str()).count()
        };
        let east_events = t.get(&viewer, "/api/v1/events/recent").await.json();
        assert_eq!(heard(east_events.clone(), "danger.recorded"), 1);
        assert!(heard(east_events, "danger.changed") >= 5);
        assert_eq!(heard(t.get(&west, "/api/v1/events/recent").await.json(), "danger.recorded"), 0);
        assert_eq!(heard(t.get(&own, "/api/v1/events/recent").await.json(), "danger.recorded"), 0);

        let history = t.get(&own, &format!("{path}/history")).await.json();
        let kinds: Vec<&str> = history.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["recorded", "plan_submitted", "plan_approved", "listed", "progress_reported",
            "fix_reported", "acceptance_failed", "fix_reported", "accepted"]);
        t.get(&west, &format!("{path}/history")).await.expect(StatusCode::NOT_FOUND);
        // The ledger as Excel: the east's workbook has it, closed, with its funds; the west's
        // has nothing of it; the administrators get no workbook at all.
        let sheet = crate::enterprise::workbook_text(&t.get(&inspector, "/api/v1/hazards.xlsx?level=major").await.bytes);
        assert!(sheet.contains("临江甲化工") && sheet.contains("已销号") && sheet.contains("8000.00"), "{sheet}");
        let english = crate::enterprise::workbook_text(&t.get(&inspector, "/api/v1/hazards.xlsx?lang=en").await.bytes);
        assert!(english.contains("Hidden-danger ledger") && english.contains("Closed"), "{english}");
        let theirs = crate::enterprise::workbook_text(&t.get(&west, "/api/v1/hazards.xlsx").await.bytes);
        assert!(!theirs.contains("临江甲化工"), "{theirs}");
        t.get(&admin, "/api/v1/hazards.xlsx").await.expect(StatusCode::FORBIDDEN);
        // Bad filters are named.
        assert_eq!(t.get(&inspector, "/api/v1/hazards?unit=x%20y").await.json()["fields"]["unit"], "invalid");
    }

    async fn the_ledger_follows_its_enterprise_into_another_territory(t: TestApp) {
        let city = t.signed_in("city.inspector", &t.tree.city, &[Role::Inspector]).await;
        let east = t.signed_in("east.inspector", &t.tree.east, &[Role::Inspector]).await;
        let west = t.signed_in("west.inspector", &t.tree.west, &[Role::Inspector]).await;
        let body = |unit: &str| json!({
            "uscc": "91350100M000100Y43", "name": "临江甲化工", "unit_id": unit,
            "section": "C", "sector": "hazardous_chemicals",
        });
        let made = t.post(&city, "/api/v1/enterprises", body(&t.tree.town)).await;
        let enterprise = made.expect(StatusCode::CREATED).json()["id"].as_str().unwrap().to_owned();
        let today = t.clock.now().date_naive();
        t.post(&city, "/api/v1/hazards", json!({
            "enterprise_id": enterprise, "level": "general", "category": "site", "origin": "inspection",
            "place": "罐区", "description": "液位计失效", "found_on": today.to_string(),
            "deadline": (today + Days::new(10)).to_string(),
        })).await.expect(StatusCode::CREATED);
        assert_eq!((total(&t, &east, "open=true").await, total(&t, &west, "open=true").await), (Some(1), Some(0)));
        let in_town = format!("unit={}", t.tree.town);
        assert_eq!(t.get(&city, &format!("/api/v1/hazards?{in_town}")).await.json()["total"], 1);

        // Moved to the west (any path that changes its territory): the ledger follows at once.
        t.put(&city, &format!("/api/v1/enterprises/{enterprise}"), body(&t.tree.west)).await.expect(StatusCode::OK);
        assert_eq!((total(&t, &east, "open=true").await, total(&t, &west, "open=true").await), (Some(0), Some(1)));
        assert_eq!(t.get(&city, &format!("/api/v1/hazards?{in_town}")).await.json()["total"], 0);
        // Supervised by a department of the east: the east reaches it again through it.
        let dept = t.unit(Some(&t.tree.east), "990102901", "江南区危化科", beacon_core::org::UnitLevel::Department).await;
        let mut supervised = body(&t.tree.west);
        supervised["department_id"] = json!(dept);
        t.put(&city, &format!("/api/v1/enterprises/{enterprise}"), supervised).await.expect(StatusCode::OK);
        assert_eq!((total(&t, &east, "open=true").await, total(&t, &west, "overdue=false").await), (Some(1), Some(1)));
    }

    async fn a_hidden_dangers_clock_reminds_then_raises_the_overdue_one_level_up(t: TestApp) {
        let east_id = t.user("east.inspector", &t.tree.east, &[Role::Inspector]).await;
        let inspector = t.login("east.inspector", crate::PASSWORD).await.session();
        let city = t.user("city.inspector", &t.tree.city, &[Role::Inspector]).await;
        let admin = t.signed_in("east.admin", &t.tree.east, &[Role::SystemAdmin]).await;
        let made = t.post(&inspector, "/api/v1/enterprises", json!({
            "uscc": "91350100M000100Y43", "name": "临江甲化工", "unit_id": t.tree.town,
            "section": "C", "sector": "hazardous_chemicals",
        })).await;
        let enterprise = made.expect(StatusCode::CREATED).json()["id"].as_str().unwrap().to_owned();
        let officer = t.user("jia.safety", &t.tree.town, &[Role::Enterprise]).await;
        t.put(&admin, &format!("/api/v1/users/{officer}/enterprise"), json!({ "enterprise_id": enterprise }))
            .await.expect(StatusCode::NO_CONTENT);
        let today = t.clock.now().date_naive();
        let made = t.post(&inspector, "/api/v1/hazards", json!({
            "enterprise_id": enterprise, "level": "general", "category": "site", "origin": "inspection",
            "place": "配电室", "description": "配电柜前未铺绝缘垫", "found_on": today.to_string(),
            "deadline": (today + Days::new(5)).to_string(),
        })).await;
        let danger = made.expect(StatusCode::CREATED).json();
        // Nothing is due yet; three days before the deadline the enterprise and the district hear.
        assert_eq!(beacon_api::notify::run_due_deadlines(&t.state).await.unwrap(), 0);
        t.clock.advance(Duration::days(3));
        assert_eq!(beacon_api::notify::run_due_deadlines(&t.state).await.unwrap(), 1);
        assert_eq!(kinds(&t, &officer).await, ["danger.deadline_near"]);
        assert_eq!(kinds(&t, &east_id).await, ["danger.deadline_near"]);
        assert!(kinds(&t, &city).await.is_empty(), "a reminder stays with the territory");
        // Past the deadline day: the last reminder and the overdue alert, which also reaches the
        // city; the ledger shows it overdue.
        t.clock.advance(Duration::days(3));
        assert_eq!(beacon_api::notify::run_due_deadlines(&t.state).await.unwrap(), 2);
        assert_eq!(kinds(&t, &city).await, ["danger.overdue"]);
        assert_eq!(kinds(&t, &officer).await, ["danger.deadline_near", "danger.deadline_near", "danger.overdue"]);
        let note = t.store.notifications(&city, &Default::default(), PageRequest::default()).await.unwrap();
        assert_eq!(note.items[0].link.as_deref(), Some(format!("/hazards/{}", danger["id"].as_str().unwrap()).as_str()));
        assert_eq!(note.items[0].data["number"], danger["number"]);
        let inspector = t.login("east.inspector", crate::PASSWORD).await.session();
        let late = t.get(&inspector, "/api/v1/hazards?overdue=true").await.json();
        assert_eq!(late["total"], 1);
        let history = t.get(&inspector, &format!("/api/v1/hazards/{}/history", danger["id"].as_str().unwrap())).await.json();
        assert_eq!(history.as_array().unwrap().last().unwrap()["kind"], "overdue");
        // The workbench: the district's inspector and the city see it overdue; the west, whose
        // reach it is not, sees no card; the enterprise sees it as its own to finish.
        let cards = |bench: serde_json::Value| -> Vec<serde_json::Value> { bench["cards"].as_array().unwrap().clone() };
        let bench = cards(t.get(&inspector, "/api/v1/workbench").await.json());
        let late = bench.iter().find(|c| c["key"] == "danger.overdue").expect("the overdue card");
        assert_eq!(late["count"], 1);
        assert_eq!(late["level"], "danger");
        assert_eq!(late["items"][0]["link"], format!("/hazards/{}", danger["id"].as_str().unwrap()));
        assert_eq!(late["items"][0]["title"], "临江甲化工");
        assert!(late["breakdown"].as_array().unwrap().iter().any(|f| f["key"] == "general" && f["count"] == 1));
        let city_session = t.login("city.inspector", crate::PASSWORD).await.session();
        assert!(cards(t.get(&city_session, "/api/v1/workbench").await.json()).iter().any(|c| c["key"] == "danger.overdue"));
        let west = t.signed_in("west.inspector", &t.tree.west, &[Role::Inspector]).await;
        assert!(!cards(t.get(&west, "/api/v1/workbench").await.json()).iter().any(|c| c["key"].as_str().unwrap().starts_with("danger.")));
        let own = t.login("jia.safety", crate::PASSWORD).await.session();
        let mine = cards(t.get(&own, "/api/v1/workbench").await.json());
        let to_do = mine.iter().find(|c| c["key"] == "danger.to_handle").expect("the enterprise's card");
        assert!(to_do["breakdown"].as_array().unwrap().iter().any(|f| f["key"] == "rectifying" && f["count"] == 1));
        // Closed, its clock stops.
        let other = t.post(&inspector, "/api/v1/hazards", json!({
            "enterprise_id": enterprise, "level": "general", "category": "site", "origin": "inspection",
            "place": "仓库", "description": "消防通道堵塞", "found_on": (today + Days::new(6)).to_string(),
            "deadline": (today + Days::new(10)).to_string(),
        })).await.expect(StatusCode::CREATED).json();
        let other = format!("/api/v1/hazards/{}", other["id"].as_str().unwrap());
        t.post(&inspector, &format!("{other}/reports"), json!({ "kind": "fix", "text": "已清理" })).await.expect(StatusCode::OK);
        t.post(&inspector, &format!("{other}/acceptance"), json!({ "approve": true })).await.expect(StatusCode::OK);
        t.clock.advance(Duration::days(10));
        assert_eq!(beacon_api::notify::run_due_deadlines(&t.state).await.unwrap(), 0);
    }

    async fn photos_before_and_after_are_scoped_like_the_hidden_danger(t: TestApp) {
        let inspector = t.signed_in("east.inspector", &t.tree.east, &[Role::Inspector]).await;
        let west = t.signed_in("west.inspector", &t.tree.west, &[Role::Inspector]).await;
        let viewer = t.signed_in("east.viewer", &t.tree.east, &[Role::Viewer]).await;
        let admin = t.signed_in("east.admin", &t.tree.east, &[Role::SystemAdmin]).await;
        let mut enterprises = Vec::new();
        for (uscc, name) in [("91350100M000100Y43", "临江甲化工"), ("91110000802100433B", "临江乙化工")] {
            let made = t.post(&inspector, "/api/v1/enterprises", json!({
                "uscc": uscc, "name": name, "unit_id": t.tree.town, "section": "C", "sector": "hazardous_chemicals",
            })).await;
            made.expect(StatusCode::CREATED);
            enterprises.push(made.json()["id"].as_str().unwrap().to_owned());
        }
        let officer = t.user("jia.safety", &t.tree.town, &[Role::Enterprise]).await;
        t.put(&admin, &format!("/api/v1/users/{officer}/enterprise"), json!({ "enterprise_id": enterprises[0] }))
            .await.expect(StatusCode::NO_CONTENT);
        let own = t.login("jia.safety", crate::PASSWORD).await.session();
        let today = t.clock.now().date_naive();
        let record = |enterprise: &str| json!({
            "enterprise_id": enterprise, "level": "general", "category": "site", "origin": "inspection",
            "place": "配电室", "description": "配电柜前未铺绝缘垫", "found_on": today.to_string(),
            "deadline": (today + Days::new(5)).to_string(),
        });
        let jia = t.post(&inspector, "/api/v1/hazards", record(&enterprises[0])).await.expect(StatusCode::CREATED).json();
        let yi = t.post(&inspector, "/api/v1/hazards", record(&enterprises[1])).await.expect(StatusCode::CREATED).json();
        let (jia, yi) = (jia["id"].as_str().unwrap(), yi["id"].as_str().unwrap());
        let photo = || crate::attachments::png(8, 8, 3);

        // Before: the inspector's photo; another district, a reader and the enterprise of
        // another danger are refused (404 outside the reach first).
        let up = crate::attachments::upload(&t, &inspector, ("hidden_danger", jia), "photo", "现场.png", photo()).await;
        up.expect(StatusCode::CREATED);
        crate::attachments::upload(&t, &west, ("hidden_danger", jia), "photo", "a.png", photo()).await.expect(StatusCode::NOT_FOUND);
        crate::attachments::upload(&t, &viewer, ("hidden_danger", jia), "photo", "a.png", photo()).await.expect(StatusCode::FORBIDDEN);
        crate::attachments::upload(&t, &own, ("danger_fix", yi), "photo", "a.png", photo()).await.expect(StatusCode::NOT_FOUND);
        let pdf = crate::attachments::upload(&t, &own, ("danger_fix", jia), "photo", "fix.png", b"%PDF-1.4\n".to_vec()).await;
        pdf.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(pdf.json()["fields"]["content"], "file_type_not_allowed");
        // After: the enterprise's photo of its fix, on its own danger.
        crate::attachments::upload(&t, &own, ("danger_fix", jia), "photo", "整改后.png", photo()).await.expect(StatusCode::CREATED);
        let before = t.get(&viewer, &format!("/api/v1/attachments?owner_kind=hidden_danger&owner_id={jia}")).await.json();
        let after = t.get(&own, &format!("/api/v1/attachments?owner_kind=danger_fix&owner_id={jia}")).await.json();
        assert_eq!(before.as_array().unwrap().len(), 1);
        assert_eq!(after[0]["file_name"], "整改后.png");
        t.get(&west, &format!("/api/v1/attachments?owner_kind=danger_fix&owner_id={jia}")).await.expect(StatusCode::NOT_FOUND);
        let history = t.get(&inspector, &format!("/api/v1/hazards/{jia}/history")).await.json();
        let kinds: Vec<&str> = history.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["recorded", "attachment_added", "attachment_added"]);

        // Closed off the ledger, it takes no more files.
        let path = format!("/api/v1/hazards/{jia}");
        t.post(&own, &format!("{path}/reports"), json!({ "kind": "fix", "text": "已铺设" })).await.expect(StatusCode::OK);
        t.post(&inspector, &format!("{path}/acceptance"), json!({ "approve": true })).await.expect(StatusCode::OK);
        let late = crate::attachments::upload(&t, &own, ("danger_fix", jia), "photo", "b.png", photo()).await;
        late.expect(StatusCode::CONFLICT);
        assert_eq!(late.code(), "danger_closed");
    }

    async fn the_dashboard_counts_the_ledger_by_month_state_territory_and_sector(t: TestApp) {
        let city = t.signed_in("city.inspector", &t.tree.city, &[Role::Inspector]).await;
        let west = t.signed_in("west.inspector", &t.tree.west, &[Role::Inspector]).await;
        let mut ids = Vec::new();
        for (uscc, name, unit, sector) in [
            ("91350100M000100Y43", "临江甲化工", &t.tree.town, "hazardous_chemicals"),
            ("91110000802100433B", "江北乙机械", &t.tree.west, "machinery"),
        ] {
            let made = t.post(&city, "/api/v1/enterprises", json!({
                "uscc": uscc, "name": name, "unit_id": unit, "section": "C", "sector": sector,
            })).await;
            ids.push(made.expect(StatusCode::CREATED).json()["id"].as_str().unwrap().to_owned());
        }
        let today = t.clock.now().date_naive();
        let record = |enterprise: &str, level: &str, found: u64, deadline: u64| json!({
            "enterprise_id": enterprise, "level": level, "category": "site", "origin": "inspection",
            "place": "车间", "description": "设备防护罩缺失", "criterion": "第十二项",
            "found_on": (today - Days::new(found)).to_string(), "deadline": (today - Days::new(found) + Days::new(deadline)).to_string(),
        });
        // East: one closed ten days after it was found, one overdue, one major listed. West: one.
        let closed = t.post(&city, "/api/v1/hazards", record(&ids[0], "general", 10, 30)).await.expect(StatusCode::CREATED).json();
        let closed = format!("/api/v1/hazards/{}", closed["id"].as_str().unwrap());
        t.post(&city, &format!("{closed}/reports"), json!({ "kind": "fix", "text": "已整改" })).await.expect(StatusCode::OK);
        t.post(&city, &format!("{closed}/acceptance"), json!({ "approve": true })).await.expect(StatusCode::OK);
        t.post(&city, "/api/v1/hazards", record(&ids[0], "general", 20, 5)).await.expect(StatusCode::CREATED);
        let major = t.post(&city, "/api/v1/hazards", record(&ids[0], "major", 1, 60)).await.expect(StatusCode::CREATED).json();
        t.post(&city, &format!("/api/v1/hazards/{}/listing", major["id"].as_str().unwrap()), json!({})).await.expect(StatusCode::OK);
        t.post(&city, "/api/v1/hazards", record(&ids[1], "general", 2, 30)).await.expect(StatusCode::CREATED);

        let year = today.format("%Y").to_string();
        let stats = t.get(&city, &format!("/api/v1/hazards/stats?year={year}")).await.expect(StatusCode::OK).json();
        let total = &stats["total"];
        assert_eq!((total["total"].as_i64(), total["major"].as_i64(), total["closed"].as_i64()), (Some(4), Some(1), Some(1)));
        assert_eq!((total["overdue"].as_i64(), total["listed"].as_i64(), total["open"].as_i64()), (Some(1), Some(1), Some(3)));
        assert_eq!(stats["closure_rate"], 0.25);
        // From the start of the day found to the moment of 销号: ten days and part of today.
        let days = stats["average_days_to_close"].as_f64().unwrap();
        assert!((10.0..11.0).contains(&days), "{days}");
        let units: Vec<(String, i64)> = stats["units"].as_array().unwrap().iter()
            .map(|u| (u["unit_name"].as_str().unwrap().to_owned(), u["tally"]["total"].as_i64().unwrap())).collect();
        assert_eq!(units, [("江南区".to_owned(), 3), ("江北区".to_owned(), 1)]);
        let sectors: Vec<&str> = stats["sectors"].as_array().unwrap().iter().map(|s| s["sector"].as_str().unwrap()).collect();
        assert_eq!(sectors, ["hazardous_chemicals", "machinery"]);
        let months: i64 = stats["months"].as_array().unwrap().iter().map(|m| m["tally"]["total"].as_i64().unwrap()).sum();
        assert_eq!(months, 4, "every hidden danger found this year falls in a month");
        let states = stats["states"].as_array().unwrap();
        assert_eq!(states.iter().find(|s| s["status"] == "closed").unwrap()["count"], 1);

        // The west counts its own only; a unit of the tree narrows it; bad input is named.
        let theirs = t.get(&west, &format!("/api/v1/hazards/stats?year={year}")).await.json();
        assert_eq!(theirs["total"]["total"], 1);
        let east = t.get(&city, &format!("/api/v1/hazards/stats?year={year}&unit={}", t.tree.east)).await.json();
        assert_eq!(east["total"]["total"], 3);
        assert_eq!(east["units"][0]["unit_name"], "滨江街道", "{east}");
        assert_eq!(t.get(&city, "/api/v1/hazards/stats?year=1999").await.json()["fields"]["year"], "out_of_range");
        let nowhere = format!("/api/v1/hazards/stats?year={year}&unit=00000000-0000-7000-8000-000000000000");
        assert_eq!(t.get(&city, &nowhere).await.json()["fields"]["unit"], "not_found");
    }
}

backend_tests! {
    async fn the_dashboard_map_counts_each_enterprises_open_hidden_dangers_in_reach(t: TestApp) {
        let inspector = t.signed_in("east.inspector", &t.tree.east, &[Role::Inspector]).await;
        let west = t.signed_in("west.inspector", &t.tree.west, &[Role::Inspector]).await;
        let register = |uscc: &str, located: bool| {
            let mut body = json!({
                "uscc": uscc, "name": format!("企业{uscc}"), "unit_id": t.tree.town,
                "section": "C", "sector": "hazardous_chemicals",
            });
            if located {
                body["lon"] = json!(118.2);
                body["lat"] = json!(30.6);
            }
            body
        };
        let located = t.post(&inspector, "/api/v1/enterprises", register("91350100M000100Y43", true)).await;
        let located = located.expect(StatusCode::CREATED).json()["id"].as_str().unwrap().to_owned();
        let unlocated = t.post(&inspector, "/api/v1/enterprises", register("91110000802100433B", false)).await;
        let unlocated = unlocated.expect(StatusCode::CREATED).json()["id"].as_str().unwrap().to_owned();
        let today = t.clock.now().date_naive();
        let record = |enterprise: &str, level: &str, found: u64, due: u64| json!({
            "enterprise_id": enterprise, "level": level, "category": "site", "origin": "inspection",
            "place": "罐区", "description": "液位计失效", "criterion": "第十五条",
            "found_on": (today - Days::new(found)).to_string(),
            "deadline": (today - Days::new(found) + Days::new(due)).to_string(),
        });
        for body in [
            record(&located, "major", 0, 30),
            record(&located, "general", 10, 5),
            record(&located, "general", 0, 10),
            record(&unlocated, "general", 0, 10),
        ] {
            t.post(&inspector, "/api/v1/hazards", body).await.expect(StatusCode::CREATED);
        }
        // A closed one is off the map.
        let fixed = t.post(&inspector, "/api/v1/hazards", json!({
            "enterprise_id": located, "level": "general", "category": "site", "origin": "inspection",
            "place": "车间", "description": "当场整改", "found_on": today.to_string(),
            "deadline": today.to_string(), "fixed_on_spot": true,
        })).await;
        assert_eq!(fixed.expect(StatusCode::CREATED).json()["status"], "closed");

        let map = t.get(&inspector, "/api/v1/hazards/map").await.json();
        assert_eq!(map["points"].as_array().unwrap().len(), 1, "{map}");
        let point = &map["points"][0];
        assert_eq!(point["id"], located.as_str());
        assert_eq!(point["counts"], json!({ "open": 3, "major": 1, "overdue": 1, "listed": 0 }));
        assert_eq!(map["unlocated"], 1);
        let major = t.get(&inspector, "/api/v1/hazards/map?level=major").await.json();
        assert_eq!(major["points"][0]["counts"]["open"], 1);
        assert_eq!(major["unlocated"], 0);
        let late = t.get(&inspector, "/api/v1/hazards/map?overdue=true").await.json();
        assert_eq!(late["points"][0]["counts"]["open"], 1);
        // A viewport elsewhere holds nothing; a bad one is refused by field.
        let away = t.get(&inspector, "/api/v1/hazards/map?bbox=100,20,101,21&zoom=10").await.json();
        assert_eq!(away["points"].as_array().unwrap().len(), 0);
        assert_eq!(t.get(&inspector, "/api/v1/hazards/map?bbox=118,30,119,31").await.json()["fields"]["zoom"], "required");
        assert_eq!(t.get(&inspector, "/api/v1/hazards/map?unit=..").await.json()["fields"]["unit"], "invalid");
        // The west's map has none of them.
        let theirs = t.get(&west, "/api/v1/hazards/map").await.json();
        assert_eq!((theirs["points"].as_array().unwrap().len(), theirs["unlocated"].as_i64()), (0, Some(0)));
    }
}

backend_tests! {
    async fn a_territorys_page_of_one_state_merges_its_units_in_deadline_order(t: TestApp) {
        let city = t.signed_in("city.inspector", &t.tree.city, &[Role::Inspector]).await;
        let today = t.clock.now().date_naive();
        let mut ids = Vec::new();
        for (uscc, unit) in [("91350100M000100Y43", &t.tree.east), ("91110000802100433B", &t.tree.town)] {
            let made = t.post(&city, "/api/v1/enterprises", json!({
                "uscc": uscc, "name": format!("企业{uscc}"), "unit_id": unit,
                "section": "C", "sector": "machinery",
            })).await;
            ids.push(made.expect(StatusCode::CREATED).json()["id"].as_str().unwrap().to_owned());
        }
        // Deadlines interleaved between the district's own enterprise and the township's.
        let mut numbers = Vec::new();
        for (n, days) in [(0, 9), (1, 3), (0, 5), (1, 7), (0, 1)] {
            let made = t.post(&city, "/api/v1/hazards", json!({
                "enterprise_id": ids[n], "level": "general", "category": "site", "origin": "inspection",
                "place": "车间", "description": format!("期限 {days} 天"), "found_on": today.to_string(),
                "deadline": (today + Days::new(days)).to_string(),
            })).await;
            numbers.push((days, made.expect(StatusCode::CREATED).json()["number"].as_str().unwrap().to_owned()));
        }
        numbers.sort();
        let page = |n: u32| format!("/api/v1/hazards?unit={}&status=rectifying&per_page=2&page={n}", t.tree.east);
        let mut seen = Vec::new();
        for n in 1..=3 {
            let body = t.get(&city, &page(n)).await.json();
            assert_eq!(body["total"], 5);
            seen.extend(body["items"].as_array().unwrap().iter().map(|d| d["number"].as_str().unwrap().to_owned()));
        }
        assert_eq!(seen, numbers.iter().map(|(_, n)| n.clone()).collect::<Vec<_>>());
        // The township alone, and a state none is in.
        let town = t.get(&city, &format!("/api/v1/hazards?unit={}&status=rectifying", t.tree.town)).await.json();
        assert_eq!(town["total"], 2);
        assert_eq!(town["items"][0]["description"], "期限 3 天");
        let none = t.get(&city, &format!("/api/v1/hazards?unit={}&status=awaiting_plan", t.tree.east)).await.json();
        assert_eq!((none["total"].as_i64(), none["items"].as_array().map(Vec::len)), (Some(0), Some(0)));
    }
}
