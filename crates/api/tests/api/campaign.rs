//! Special rectification campaigns over HTTP: who sees and organises one (404 outside, 403
//! under the organiser), the target list frozen from the register at the start and changed one
//! by one with a reason, campaign checks only of targets of a running campaign, and a progress
//! table counted from the list, the checks and the ledger, right to the unit.

use axum::http::StatusCode;
use beacon_core::clock::Clock;
use beacon_core::org::Role;
use beacon_store::backend_tests;
use chrono::Days;
use serde_json::{Value, json};

use crate::TestApp;

backend_tests! {
    async fn a_campaign_freezes_its_targets_and_counts_its_progress_from_the_ledger(t: TestApp) {
        let east = t.signed_in("east.inspector", &t.tree.east, &[Role::Inspector]).await;
        let town = t.signed_in("town.inspector", &t.tree.town, &[Role::Inspector]).await;
        let west = t.signed_in("west.inspector", &t.tree.west, &[Role::Inspector]).await;
        let viewer = t.signed_in("east.viewer", &t.tree.east, &[Role::Viewer]).await;
        let mut ids = Vec::new();
        for (uscc, name, unit, sector) in [
            ("91350100M000100Y43", "临江甲化工", &t.tree.town, "hazardous_chemicals"),
            ("91110000802100433B", "临江乙化工", &t.tree.town, "hazardous_chemicals"),
            ("91350100600079197H", "临江丙机械", &t.tree.town, "machinery"),
            ("91440300708461136T", "江北丁化工", &t.tree.west, "hazardous_chemicals"),
        ] {
            let who = if unit == &t.tree.west { &west } else { &east };
            let made = t.post(who, "/api/v1/enterprises", json!({
                "uscc": uscc, "name": name, "unit_id": unit, "section": "C", "sector": sector,
            })).await;
            ids.push(made.expect(StatusCode::CREATED).json()["id"].as_str().unwrap().to_owned());
        }
        let today = t.clock.now().date_naive();
        let day = |n: u64| (today + Days::new(n)).to_string();
        let stages = json!([
            { "stage": "deploy", "starts_on": day(0), "ends_on": day(5) },
            { "stage": "investigate_rectify", "starts_on": day(5), "ends_on": day(60) },
            { "stage": "supervise_check", "starts_on": day(61), "ends_on": day(80) },
            { "stage": "summarise_accept", "starts_on": day(81), "ends_on": day(90) },
        ]);
        let campaign = |stages: Value, units: Value| json!({
            "name": "危险化学品安全专项整治", "basis": "临应急〔2026〕12号",
            "sectors": ["hazardous_chemicals"], "unit_ids": units,
            "starts_on": day(0), "ends_on": day(90), "stages": stages,
        });

        // Bad input is named: the stages out of order, a territory outside the organiser's.
        let mut swapped = stages.clone();
        swapped.as_array_mut().unwrap().swap(0, 1);
        let bad = t.post(&east, "/api/v1/campaigns", campaign(swapped, json!([]))).await;
        assert_eq!(bad.json()["fields"]["stages"], "incomplete");
        let far = t.post(&east, "/api/v1/campaigns", campaign(stages.clone(), json!([t.tree.west]))).await;
        assert_eq!(far.json()["fields"]["unit_ids[0]"], "outside_territory");
        t.post(&viewer, "/api/v1/campaigns", campaign(stages.clone(), json!([]))).await.expect(StatusCode::FORBIDDEN);

        let made = t.post(&east, "/api/v1/campaigns", campaign(stages.clone(), json!([]))).await;
        let c = made.expect(StatusCode::CREATED).json();
        assert_eq!(c["status"], "draft");
        assert!(c["number"].as_str().unwrap().starts_with("ZX-990102-"));
        let path = format!("/api/v1/campaigns/{}", c["id"].as_str().unwrap());

        // Seen by the township under it, not by the west; only the organiser's side manages it.
        t.get(&town, &path).await.expect(StatusCode::OK);
        t.get(&west, &path).await.expect(StatusCode::NOT_FOUND);
        t.post(&west, &format!("{path}/start"), json!({})).await.expect(StatusCode::NOT_FOUND);
        let under = t.post(&town, &format!("{path}/start"), json!({})).await;
        under.expect(StatusCode::FORBIDDEN);
        assert_eq!(under.code(), "not_organiser");
        t.post(&viewer, &format!("{path}/start"), json!({})).await.expect(StatusCode::FORBIDDEN);

        // Started: the two chemical enterprises of the east are frozen on the list.
        let started = t.post(&east, &format!("{path}/start"), json!({})).await.expect(StatusCode::OK).json();
        assert_eq!((started["status"].as_str(), started["targets"].as_i64()), (Some("running"), Some(2)));
        assert_eq!(t.post(&east, &format!("{path}/start"), json!({})).await.code(), "campaign_started");
        assert_eq!(t.put(&east, &path, campaign(stages.clone(), json!([]))).await.code(), "campaign_started");
        let targets = t.get(&town, &format!("{path}/targets")).await.json();
        let mut names: Vec<&str> = targets["items"].as_array().unwrap().iter().map(|x| x["enterprise_name"].as_str().unwrap()).collect();
        names.sort();
        assert_eq!(names, ["临江乙化工", "临江甲化工"]);

        // A campaign check: of a target only, naming the campaign, by kind.
        let check = |enterprise: &str, kind: &str, campaign: Option<&str>| json!({
            "enterprise_id": enterprise, "kind": kind, "campaign_id": campaign,
            "inspected_on": today.to_string(), "inspectors": ["网格员甲"],
            "findings": [{ "place": "仓库", "description": "危险化学品超量储存" }],
        });
        let cid = c["id"].as_str().unwrap();
        let off = t.post(&town, "/api/v1/inspections", check(&ids[2], "campaign", Some(cid))).await;
        assert_eq!(off.json()["fields"]["enterprise_id"], "not_targeted");
        assert_eq!(t.post(&town, "/api/v1/inspections", check(&ids[0], "campaign", None)).await.json()["fields"]["campaign_id"], "required");
        let wrong = t.post(&town, "/api/v1/inspections", check(&ids[0], "enforcement", Some(cid))).await;
        assert_eq!(wrong.json()["fields"]["campaign_id"], "campaign_kind_only");
        let done = t.post(&town, "/api/v1/inspections", check(&ids[0], "campaign", Some(cid))).await;
        let done = done.expect(StatusCode::CREATED).json();
        assert_eq!(done["campaign_name"], "危险化学品安全专项整治");
        let finding = done["findings"][0]["id"].as_str().unwrap();
        let to_danger = format!("/api/v1/inspections/{}/findings/{finding}/hazard", done["id"].as_str().unwrap());
        let linked = t.post(&town, &to_danger, json!({ "deadline": day(10) })).await.expect(StatusCode::OK).json();
        let danger = linked["findings"][0]["danger_id"].as_str().unwrap().to_owned();
        assert_eq!(t.get(&east, &format!("/api/v1/hazards/{danger}")).await.json()["origin"], "campaign");

        // Progress, right to the unit: one of two checked, one hidden danger found and open.
        let progress = t.get(&east, &format!("{path}/progress")).await.expect(StatusCode::OK).json();
        let total = &progress["total"];
        assert_eq!((total["targeted"].as_i64(), total["checked"].as_i64(), total["dangers"].as_i64()), (Some(2), Some(1), Some(1)));
        assert_eq!(total["check_rate"], 0.5);
        assert_eq!(progress["units"][0]["name"], "滨江街道");
        assert_eq!(progress["units"][0]["targeted"], 2);
        assert_eq!(progress["sectors"][0]["key"], "hazardous_chemicals");
        // Rectified and accepted, it counts as rectified.
        t.post(&town, &format!("/api/v1/hazards/{danger}/reports"), json!({ "kind": "fix", "text": "已清理" })).await.expect(StatusCode::OK);
        t.post(&town, &format!("/api/v1/hazards/{danger}/acceptance"), json!({ "approve": true })).await.expect(StatusCode::OK);
        let progress = t.get(&east, &format!("{path}/progress")).await.json();
        assert_eq!((progress["total"]["rectified"].as_i64(), progress["total"]["rectify_rate"].as_f64()), (Some(1), Some(1.0)));

        // The list changes one by one, with a reason.
        let add = json!({ "enterprise_id": ids[2], "reason": "涉及危险化学品使用" });
        assert_eq!(t.post(&east, &format!("{path}/targets"), json!({ "enterprise_id": ids[2], "reason": " " })).await.json()["fields"]["reason"], "required");
        assert_eq!(t.post(&east, &format!("{path}/targets"), add.clone()).await.expect(StatusCode::OK).json()["targets"], 3);
        assert_eq!(t.post(&east, &format!("{path}/targets"), add).await.code(), "already_targeted");
        let off = json!({ "enterprise_id": ids[1], "reason": "已停产" });
        assert_eq!(t.post(&east, &format!("{path}/targets/remove"), off.clone()).await.expect(StatusCode::OK).json()["targets"], 2);
        assert_eq!(t.post(&east, &format!("{path}/targets/remove"), off).await.json()["fields"]["enterprise_id"], "not_targeted");
        let all = t.get(&east, &format!("{path}/targets?include_removed=true")).await.json();
        assert_eq!(all["total"], 3);

        // The weekly report, then closing: no more campaign checks.
        let sheet = crate::enterprise::workbook_text(&t.get(&east, &format!("{path}/progress.xlsx")).await.bytes);
        assert!(sheet.contains("推进情况统计表") && sheet.contains("滨江街道") && sheet.contains("合计"), "{sheet}");
        t.post(&east, &format!("{path}/close"), json!({})).await.expect(StatusCode::OK);
        let late = t.post(&town, "/api/v1/inspections", check(&ids[0], "campaign", Some(cid))).await;
        late.expect(StatusCode::CONFLICT);
        assert_eq!(late.code(), "campaign_not_running");
        assert_eq!(t.get(&west, "/api/v1/campaigns").await.json()["total"], 0);
        assert_eq!(t.get(&town, "/api/v1/campaigns").await.json()["total"], 1);
    }
}
