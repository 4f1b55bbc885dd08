//! The hidden-danger ledger: recording under the register's reach, numbering, a general one's
//! fix and acceptance, a major one's plan → listing → acceptance → 销号, and the refusals.

use beacon_core::audit::Actor;
use beacon_core::danger::{DangerStatus, ListingLevel, Party};
use beacon_core::page::PageRequest;
use beacon_core::scope::Scope;
use beacon_store::danger::{DangerFilter, DangerStep, DangerWrite};
use beacon_store::enterprise::{EnterpriseWrite, Reach};
use beacon_store::{StoreError, backend_tests};
use chrono::{Days, Duration};

use crate::TestStore;

fn enterprise(uscc: &str, name: &str, unit_id: &str) -> EnterpriseWrite {
    serde_json::from_value(serde_json::json!({
        "uscc": uscc, "name": name, "unit_id": unit_id, "section": "C", "sector": "machinery",
    }))
    .unwrap()
}

fn regulator(unit_id: &str, name: &str) -> Actor {
    Actor {
        user_id: Some(format!("user-{name}")),
        name: name.to_owned(),
        unit_id: Some(unit_id.to_owned()),
        ip: None,
        operator: false,
    }
}

fn scope(unit: &str) -> Reach {
    Reach::Scope(Scope::subtree(unit))
}

fn step(value: serde_json::Value) -> DangerStep {
    serde_json::from_value(value).unwrap()
}

fn code<T: std::fmt::Debug>(result: Result<T, StoreError>) -> String {
    match result {
        Err(StoreError::Conflict(code) | StoreError::Forbidden(code)) => code.to_owned(),
        Err(StoreError::Invalid(errors)) => errors.to_string(),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

const CODE_A: &str = "91350100M000100Y43";
const CODE_B: &str = "91110000802100433B";

backend_tests! {
    async fn a_general_one_is_fixed_and_accepted_and_a_major_one_goes_through_its_plan(t: TestStore) {
        let tree = t.city().await;
        let op = TestStore::operator();
        let a = t.store.create_enterprise(&Scope::Global, &op, enterprise(CODE_A, "甲机械", &tree.town)).await.unwrap();
        let b = t.store.create_enterprise(&Scope::Global, &op, enterprise(CODE_B, "乙机械", &tree.west)).await.unwrap();
        let today = t.store.now().date_naive();
        let inspector = regulator(&tree.east, "陈检查");
        let east = scope(&tree.east);
        let own = Reach::Own(Some(a.id.clone()));
        let write = |level: &str, enterprise: &str, deadline_days: u64| -> DangerWrite {
            serde_json::from_value(serde_json::json!({
                "enterprise_id": enterprise, "level": level, "category": "site",
                "origin": "inspection", "place": "二号车间", "description": "冲床光电保护失效",
                "criterion": if level == "major" { "令第10号 第三条（一）" } else { "" },
                "found_on": today.to_string(),
                "deadline": (today + Days::new(deadline_days)).to_string(),
            }))
            .unwrap()
        };

        // Out of reach: the west district's enterprise does not exist for the east.
        assert!(matches!(t.store.create_danger(&east, &inspector, Party::Regulator, write("general", &b.id, 7)).await,
            Err(StoreError::NotFound)));
        // A deadline before discovery; a major one without its criterion or fixed on the spot.
        let mut early = write("general", &a.id, 0);
        early.deadline = today - Days::new(1);
        assert_eq!(code(t.store.create_danger(&east, &inspector, Party::Regulator, early).await), "deadline: before_found");
        let mut bare = write("major", &a.id, 30);
        bare.criterion = String::new();
        bare.fixed_on_spot = true;
        assert_eq!(code(t.store.create_danger(&east, &inspector, Party::Regulator, bare).await),
            "criterion: required, fixed_on_spot: major_needs_plan");

        // A general one: the enterprise reports the fix, it cannot accept it, the regulator does.
        let g = t.store.create_danger(&east, &inspector, Party::Regulator, write("general", &a.id, 7)).await.unwrap();
        assert_eq!(g.number, format!("YH-990102001-{}-00001", today.format("%Y")));
        assert_eq!(g.status, DangerStatus::Rectifying);
        assert_eq!(g.unit_name, "湖滨街道");
        assert_eq!(g.created_by_name, "陈检查");
        let fixed = t.store.act_on_danger(&own, &op, Party::Enterprise, &g.id, step(serde_json::json!({ "action": "report_fix", "text": "已更换光电保护装置" }))).await.unwrap();
        assert_eq!(fixed.status, DangerStatus::AwaitingAcceptance);
        assert_eq!(code(t.store.act_on_danger(&own, &op, Party::Enterprise, &g.id, step(serde_json::json!({ "action": "accept", "pass": true }))).await), "enterprise_cannot_accept");
        assert_eq!(code(t.store.act_on_danger(&east, &inspector, Party::Regulator, &g.id, step(serde_json::json!({ "action": "accept", "pass": false }))).await), "reason: required");
        let closed = t.store.act_on_danger(&east, &inspector, Party::Regulator, &g.id, step(serde_json::json!({ "action": "accept", "pass": true }))).await.unwrap();
        assert_eq!(closed.status, DangerStatus::Closed);
        assert_eq!(closed.closed_by_name.as_deref(), Some("陈检查"));
        assert_eq!(code(t.store.act_on_danger(&east, &inspector, Party::Regulator, &g.id, step(serde_json::json!({ "action": "report_fix", "text": "再报" }))).await), "danger_closed");

        // A major one: no fix before an approved plan; a plan missing one of the five.
        let m = t.store.create_danger(&east, &inspector, Party::Regulator, write("major", &a.id, 30)).await.unwrap();
        assert_eq!(m.number, format!("YH-990102001-{}-00002", today.format("%Y")));
        assert_eq!(m.status, DangerStatus::AwaitingPlan);
        assert_eq!(code(t.store.act_on_danger(&own, &op, Party::Enterprise, &m.id, step(serde_json::json!({ "action": "report_fix", "text": "已整改" }))).await), "plan_not_approved");
        assert_eq!(code(t.store.act_on_danger(&east, &inspector, Party::Regulator, &m.id, step(serde_json::json!({ "action": "accept", "pass": true }))).await), "plan_not_approved");
        let plan = |funds: i64| step(serde_json::json!({ "action": "submit_plan", "plan": {
            "measures": "停用冲床，更换双手操作装置", "responsible_person": "王安全", "funds_fen": funds,
            "deadline": (today + Days::new(20)).to_string(), "contingency_plan": "机械伤害现场处置方案", "suspension": "whole",
        }}));
        assert_eq!(code(t.store.act_on_danger(&own, &op, Party::Enterprise, &m.id, plan(0)).await), "funds_fen: required");
        let submitted = t.store.act_on_danger(&own, &op, Party::Enterprise, &m.id, plan(5_000_000)).await.unwrap();
        assert_eq!(submitted.status, DangerStatus::PlanSubmitted);
        assert_eq!(submitted.deadline, today + Days::new(20), "the plan's deadline is the rectification's");
        assert_eq!(code(t.store.act_on_danger(&own, &op, Party::Enterprise, &m.id, step(serde_json::json!({ "action": "review_plan", "approve": true }))).await), "enterprise_cannot_review");
        let rectifying = t.store.act_on_danger(&east, &inspector, Party::Regulator, &m.id, step(serde_json::json!({ "action": "review_plan", "approve": true }))).await.unwrap();
        assert_eq!(rectifying.status, DangerStatus::Rectifying);
        assert_eq!(rectifying.plan.as_ref().unwrap().funds_fen, 5_000_000);

        // Listed at the lister's level; the enterprise cannot list; the west cannot see it.
        assert_eq!(code(t.store.act_on_danger(&own, &op, Party::Enterprise, &m.id, step(serde_json::json!({ "action": "list" }))).await), "enterprise_cannot_list");
        let listed = t.store.act_on_danger(&east, &inspector, Party::Regulator, &m.id, step(serde_json::json!({ "action": "list" }))).await.unwrap();
        assert_eq!(listed.listed_level, Some(ListingLevel::District));
        assert_eq!(code(t.store.act_on_danger(&east, &inspector, Party::Regulator, &m.id, step(serde_json::json!({ "action": "list" }))).await), "already_listed");
        assert!(matches!(t.store.act_on_danger(&scope(&tree.west), &regulator(&tree.west, "李检查"), Party::Regulator, &m.id, step(serde_json::json!({ "action": "list" }))).await,
            Err(StoreError::NotFound)));
        let listed_only = DangerFilter { listed: true, ..DangerFilter::default() };
        let page = t.store.dangers(&scope(&tree.city), &listed_only, PageRequest::default()).await.unwrap();
        assert_eq!(page.items.iter().map(|d| d.number.as_str()).collect::<Vec<_>>(), [m.number.as_str()]);

        // Overdue: the deadline day is in time, the next one is not; the enterprise explains.
        assert_eq!(code(t.store.act_on_danger(&own, &op, Party::Enterprise, &m.id, step(serde_json::json!({ "action": "explain", "text": "设备到货延迟" }))).await), "not_overdue");
        t.clock.advance(Duration::days(21));
        let overdue = DangerFilter { overdue: true, ..DangerFilter::default() };
        let late = t.store.dangers(&east, &overdue, PageRequest::default()).await.unwrap();
        assert_eq!(late.total, 1);
        assert!(late.items[0].overdue);
        let explained = t.store.act_on_danger(&own, &op, Party::Enterprise, &m.id, step(serde_json::json!({ "action": "explain", "text": "设备到货延迟" }))).await.unwrap();
        assert_eq!(explained.explanation, "设备到货延迟");

        // Progress, fix, a failed acceptance sends it back, the second passes: 销号.
        t.store.act_on_danger(&own, &op, Party::Enterprise, &m.id, step(serde_json::json!({ "action": "report_progress", "text": "新装置已到货" }))).await.unwrap();
        t.store.act_on_danger(&own, &op, Party::Enterprise, &m.id, step(serde_json::json!({ "action": "report_fix", "text": "已安装调试" }))).await.unwrap();
        let back = t.store.act_on_danger(&east, &inspector, Party::Regulator, &m.id, step(serde_json::json!({ "action": "accept", "pass": false, "reason": "未做联锁测试" }))).await.unwrap();
        assert_eq!(back.status, DangerStatus::Rectifying);
        t.store.act_on_danger(&own, &op, Party::Enterprise, &m.id, step(serde_json::json!({ "action": "report_fix", "text": "联锁测试合格" }))).await.unwrap();
        let done = t.store.act_on_danger(&east, &inspector, Party::Regulator, &m.id, step(serde_json::json!({ "action": "accept", "pass": true }))).await.unwrap();
        assert_eq!(done.status, DangerStatus::Closed);
        assert!(!done.overdue, "a closed one is never overdue");

        // The enterprise sees its own; the ledger of the east holds both, the west none.
        let all = DangerFilter::default();
        assert_eq!(t.store.dangers(&own, &all, PageRequest::default()).await.unwrap().total, 2);
        assert_eq!(t.store.dangers(&east, &all, PageRequest::default()).await.unwrap().total, 2);
        assert_eq!(t.store.dangers(&scope(&tree.west), &all, PageRequest::default()).await.unwrap().total, 0);
        assert!(matches!(t.store.danger(&Reach::Own(Some(b.id.clone())), &m.id).await, Err(StoreError::NotFound)));
        let steps: Vec<String> = t.store.timeline("hidden_danger", &m.id).await.unwrap().into_iter().map(|e| e.kind).collect();
        assert_eq!(steps, ["recorded", "plan_submitted", "plan_approved", "listed", "explained",
            "progress_reported", "fix_reported", "acceptance_failed", "fix_reported", "accepted"]);
        let audited = t.store.search_audit(&Scope::Global, &beacon_store::audit::AuditFilter {
            action: Some("danger.".into()), target_id: Some(m.id.clone()), ..Default::default()
        }, PageRequest::default()).await.unwrap();
        let mut actions: Vec<String> = audited.items.into_iter().map(|r| r.action).collect();
        actions.sort();
        assert_eq!(actions, ["danger.accepted", "danger.listed", "danger.recorded"]);
    }
}
