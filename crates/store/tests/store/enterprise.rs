//! The safety-production database: the register, both sides of the responsibility chain, an
//! enterprise's own reach, licences and their clocks, risk points and colours.

use beacon_core::enterprise::{HazardGrade, LecCutoffs, RiskColour};
use beacon_core::org::UnitLevel;
use beacon_core::page::PageRequest;
use beacon_core::scope::Scope;
use beacon_store::enterprise::{
    ChangeDecision, EnterpriseFilter, EnterpriseWrite, HazardSourceWrite, LicenceFilter,
    LicenceWrite, Reach, RiskPointWrite, SubstanceWrite, Viewport,
};
use beacon_store::{StoreError, backend_tests};

use crate::{TestStore, Tree};

fn write(uscc: &str, name: &str, unit_id: &str, department: Option<&str>) -> EnterpriseWrite {
    serde_json::from_value(serde_json::json!({
        "uscc": uscc,
        "name": name,
        "unit_id": unit_id,
        "department_id": department,
        "section": "C",
        "sector": "危险化学品",
        "address": "滨江路 8 号",
        "safety_phone": "0571-8888 0000",
        "lon": 120.1, "lat": 30.2,
        "marks": ["dust_explosion"],
    }))
    .unwrap()
}

fn point(name: &str, l: f64, e: f64, c: f64) -> RiskPointWrite {
    serde_json::from_value(serde_json::json!({
        "name": name, "accident_types": ["fire", "中毒和窒息"], "l": l, "e": e, "c": c,
        "control_level": "workshop",
    }))
    .unwrap()
}

fn licence(number: &str, issued: &str, expires: &str) -> LicenceWrite {
    serde_json::from_value(serde_json::json!({
        "kind": "safety_production", "number": number, "issued_on": issued, "expires_on": expires,
    }))
    .unwrap()
}

fn hazard(name: &str, alpha: f64, held: &[(&str, f64)]) -> HazardSourceWrite {
    let substances: Vec<_> = held
        .iter()
        .map(|(id, q)| serde_json::json!({ "substance_id": id, "quantity_t": q }))
        .collect();
    serde_json::from_value(serde_json::json!({
        "name": name, "alpha": alpha, "substances": substances,
    }))
    .unwrap()
}

/// The id of a shipped substance by its name in GB 18218-2018.
async fn substance(t: &TestStore, name: &str) -> String {
    t.store.hazard_substances().await.unwrap().into_iter().find(|s| s.name == name).unwrap().id
}

fn scope(unit: &str) -> Reach {
    Reach::Scope(Scope::subtree(unit))
}

fn invalid(result: Result<impl std::fmt::Debug, StoreError>) -> Vec<(String, String)> {
    match result {
        Err(StoreError::Invalid(errors)) => {
            errors.fields().iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        }
        other => panic!("expected invalid, got {other:?}"),
    }
}

/// The city tree plus a city department that supervises hazardous chemicals.
async fn with_department(t: &TestStore) -> (Tree, String) {
    let tree = t.city().await;
    let dept =
        t.unit(Some(&tree.city), "990100900", "市应急管理局危化处", UnitLevel::Department).await;
    (tree, dept)
}

const CODE_A: &str = "91350100M000100Y43";
const CODE_B: &str = "91110000802100433B";

backend_tests! {
    async fn the_register_checks_codes_units_and_duplicates(t: TestStore) {
        let (tree, dept) = with_department(&t).await;
        let op = TestStore::operator();
        let east = Scope::subtree(&tree.east);
        let mut bad = write("91350100M000100Y44", "甲化工", &tree.town, Some(&dept));
        bad.section = "Z".into();
        bad.marks.push("unknown_mark".into());
        assert_eq!(
            invalid(t.store.create_enterprise(&east, &op, bad).await),
            [
                ("marks[1]".to_owned(), "unknown".to_owned()),
                ("section".to_owned(), "unknown".to_owned()),
                ("uscc".to_owned(), "check_character".to_owned()),
            ]
        );
        // A unit outside the caller's scope does not exist for it; a department must be one.
        let west_unit = write(CODE_A, "甲化工", &tree.west, None);
        assert_eq!(invalid(t.store.create_enterprise(&east, &op, west_unit).await),
            [("unit_id".to_owned(), "not_found".to_owned())]);
        let not_dept = write(CODE_A, "甲化工", &tree.town, Some(&tree.west));
        assert_eq!(invalid(t.store.create_enterprise(&east, &op, not_dept).await),
            [("department_id".to_owned(), "not_a_department".to_owned())]);

        let lower = write(&CODE_A.to_lowercase(), "临江甲化工有限公司", &tree.town, Some(&dept));
        let a = t.store.create_enterprise(&east, &op, lower).await.unwrap();
        assert_eq!(a.uscc, CODE_A);
        assert_eq!(a.safety_phone, "0571-8888 0000");
        assert_eq!(a.colour, None);
        let again = write(CODE_A, "另一家", &tree.town, None);
        assert_eq!(invalid(t.store.create_enterprise(&east, &op, again).await),
            [("uscc".to_owned(), "already_exists".to_owned())]);
        let history = t.store.enterprise_history(&scope(&tree.east), &a.id).await.unwrap();
        assert_eq!(history.iter().map(|h| h.kind.as_str()).collect::<Vec<_>>(), ["registered"]);
    }

    async fn both_sides_of_the_chain_see_an_enterprise_and_nobody_else(t: TestStore) {
        let (tree, dept) = with_department(&t).await;
        let op = TestStore::operator();
        let a = t.store.create_enterprise(&Scope::Global, &op, write(CODE_A, "甲化工", &tree.town, Some(&dept))).await.unwrap();
        let mut second = write(CODE_B, "乙机械", &tree.west, None);
        second.address = "工业园区 2 号".into();
        let b = t.store.create_enterprise(&Scope::Global, &op, second).await.unwrap();
        let all = EnterpriseFilter::default();
        let names = |page: beacon_store::Page<beacon_store::enterprise::Enterprise>| {
            page.items.into_iter().map(|e| e.name).collect::<Vec<_>>()
        };
        let p = PageRequest::default();
        assert_eq!(names(t.store.enterprises(&scope(&tree.east), &all, p).await.unwrap()), ["甲化工"]);
        assert_eq!(names(t.store.enterprises(&scope(&tree.west), &all, p).await.unwrap()), ["乙机械"]);
        // The department sees what it supervises, wherever it lies, and nothing else.
        assert_eq!(names(t.store.enterprises(&scope(&dept), &all, p).await.unwrap()), ["甲化工"]);
        assert!(matches!(t.store.enterprise(&scope(&dept), &b.id).await, Err(StoreError::NotFound)));
        assert!(matches!(t.store.enterprise(&scope(&tree.west), &a.id).await, Err(StoreError::NotFound)));
        // An enterprise account reaches its own enterprise only; an unbound one reaches none.
        let own = Reach::Own(Some(a.id.clone()));
        assert_eq!(names(t.store.enterprises(&own, &all, p).await.unwrap()), ["甲化工"]);
        assert!(matches!(t.store.enterprise(&own, &b.id).await, Err(StoreError::NotFound)));
        assert_eq!(t.store.enterprises(&Reach::Own(None), &all, p).await.unwrap().total, 0);
        // A fragment of the name, the code (any case) or the address finds it.
        for q in ["甲化", "m000100", "滨江路"] {
            let f = EnterpriseFilter { q: Some(q.into()), ..EnterpriseFilter::default() };
            assert_eq!(names(t.store.enterprises(&Reach::Scope(Scope::Global), &f, p).await.unwrap()), ["甲化工"], "{q}");
        }
        // The test databases are made as Beacon's must be (UTF-8), so the trigram index serves.
        assert_eq!(t.store.text_search_warning().await.unwrap(), None);
        // Characters that mean something to LIKE or to a full-text query are only characters; a
        // fragment found nowhere finds nothing, at every length.
        for q in ["\"", "%", "_", "甲\"化工", "化工 OR 机械", "甲*", "乙化", "不存在的企业"] {
            let f = EnterpriseFilter { q: Some(q.into()), ..EnterpriseFilter::default() };
            assert_eq!(t.store.enterprises(&Reach::Scope(Scope::Global), &f, p).await.unwrap().total, 0, "{q}");
        }
        let f = EnterpriseFilter { q: Some("工业园区 2".into()), ..EnterpriseFilter::default() };
        assert_eq!(names(t.store.enterprises(&Reach::Scope(Scope::Global), &f, p).await.unwrap()), ["乙机械"]);
        // Two characters are pairs of the names (a trade name), found through the index; one
        // character reads the register. A pair of the address or across two names is no pair.
        let found = |q: &str| EnterpriseFilter { q: Some(q.into()), ..EnterpriseFilter::default() };
        for (q, expected) in [("化工", vec!["甲化工"]), ("机械", vec!["乙机械"]), ("甲", vec!["甲化工"]), ("工乙", vec![]), ("园区", vec![]), ("化\u{e000}工", vec!["甲化工"])] {
            assert_eq!(names(t.store.enterprises(&Reach::Scope(Scope::Global), &found(q), p).await.unwrap()), expected, "{q}");
        }
        // Enterprises written before the pairs were kept get them when the store migrates.
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&t.db.url).await.unwrap();
        sqlx::query("UPDATE enterprises SET search_text = 'old'").execute(&mut conn).await.unwrap();
        assert!(t.store.enterprises(&Reach::Scope(Scope::Global), &found("化工"), p).await.unwrap().items.is_empty());
        t.store.migrate().await.unwrap();
        assert_eq!(names(t.store.enterprises(&Reach::Scope(Scope::Global), &found("化工"), p).await.unwrap()), ["甲化工"]);
        assert_eq!(names(t.store.enterprises(&Reach::Scope(Scope::Global), &found("滨江路"), p).await.unwrap()), ["甲化工"]);
        let f = EnterpriseFilter { mark: Some("dust_explosion".into()), unit_id: Some(tree.west.clone()), ..EnterpriseFilter::default() };
        assert_eq!(names(t.store.enterprises(&Reach::Scope(Scope::Global), &f, p).await.unwrap()), ["乙机械"]);
    }

    async fn a_fragment_of_common_trigrams_is_found_by_its_rare_part(t: TestStore) {
        let (tree, _) = with_department(&t).await;
        let op = TestStore::operator();
        t.store.create_enterprise(&Scope::Global, &op, write(CODE_A, "临江甲化工有限公司", &tree.town, None)).await.unwrap();
        // 600 more that end as most names do, written straight in (the store's own writes would
        // take the test's time); the register's trigrams are counted on the first search.
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&t.db.url).await.unwrap();
        sqlx::query(
            "INSERT INTO enterprises (id, uscc, name, former_names, legal_representative, safety_principal, \
             safety_phone, address, lon, lat, unit_id, department_id, section, sector, employees, designated_size, \
             status, standard_grade, standard_expires, marks, tags, colour, search_text, version, created_at, updated_at) \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600) \
             SELECT 'bulk-' || i, 'BULK' || i, '企业' || i || '有限公司', '[]', '', '', '', '工业路', NULL, NULL, $1, \
             NULL, 'C', 'other', 0, $2, 'operating', NULL, NULL, '[]', '[]', NULL, \
             '企业' || i || '有限公司 bulk' || i || ' 工业路', 1, 0, 0 FROM n",
        )
        .bind(tree.town.clone())
        .bind(false)
        .execute(&mut conn)
        .await
        .unwrap();
        // Written straight in, they have no head in the name index (as if too long for it), so a
        // fragment read in name order checks their whole text. One more has a head over the
        // index's bound: twenty long former names, one with a character no other name has.
        let mut long = write(CODE_B, "远山有限公司", &tree.town, None);
        long.former_names = (0..20).map(|i| format!("旧称{i}{}", if i == 7 { "曌" } else { "" }).repeat(30)).collect();
        t.store.create_enterprise(&Scope::Global, &op, long).await.unwrap();
        // As after an import: statistics, and on PostgreSQL pages marked for index-only reads.
        t.store.optimize().await.unwrap();
        let p = PageRequest::default();
        let found = |q: &str| EnterpriseFilter { q: Some(q.into()), ..EnterpriseFilter::default() };
        let all = Reach::Scope(Scope::Global);
        for (q, total) in [("化工有限公司", 1), ("甲化工有限公司x", 0), ("企业12有限", 1), ("有限公司", 602), ("限公司", 602), ("企业1", 111), ("曌", 1), ("甲", 1)] {
            assert_eq!(t.store.enterprises(&all, &found(q), p).await.unwrap().total, total, "{q}");
        }
        let page = t.store.enterprises(&all, &found("化工有限公司"), p).await.unwrap();
        assert_eq!(page.items.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["临江甲化工有限公司"]);
        let page = t.store.enterprises(&all, &found("企业12有限"), p).await.unwrap();
        assert_eq!(page.items[0].name, "企业12有限公司");
        let page = t.store.enterprises(&all, &found("曌"), p).await.unwrap();
        assert_eq!(page.items.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(), ["远山有限公司"]);
        // Page by page in name order, a fragment most names have finds each kind of row once.
        let mut seen = std::collections::BTreeSet::new();
        for page in 1..=7 {
            let p = PageRequest { page, per_page: 100 };
            seen.extend(t.store.enterprises(&all, &found("有限公司"), p).await.unwrap().items.into_iter().map(|e| e.name));
        }
        assert_eq!(seen.len(), 602);
        assert!(seen.contains("远山有限公司") && seen.contains("临江甲化工有限公司") && seen.contains("企业600有限公司"));
    }

    async fn a_fragment_of_common_trigrams_walks_the_names_of_its_rarest(t: TestStore) {
        let (tree, _) = with_department(&t).await;
        let op = TestStore::operator();
        let a = t.store.create_enterprise(&Scope::Global, &op, write(CODE_A, "临江甲化工有限公司", &tree.town, None)).await.unwrap();
        // 4,500 more (written straight in, without a head in the name index): every one ends in
        // 有限公司 (in too many rows to index), one in nine is of one trade (化工有, 工有限: in
        // one row in nine, indexed).
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&t.db.url).await.unwrap();
        let bulk = |from: i64, to: i64, prefix: &str| {
            format!(
                "INSERT INTO enterprises (id, uscc, name, former_names, legal_representative, safety_principal, \
                 safety_phone, address, lon, lat, unit_id, department_id, section, sector, employees, designated_size, \
                 status, standard_grade, standard_expires, marks, tags, colour, search_text, version, created_at, updated_at) \
                 WITH RECURSIVE n(i) AS (SELECT {from} UNION ALL SELECT i + 1 FROM n WHERE i < {to}), \
                 b(i, name) AS (SELECT i, '{prefix}' || i || CASE WHEN i % 9 = 0 THEN '化工' ELSE '' END || '有限公司' FROM n) \
                 SELECT 'bulk-' || i, 'BULK' || i, name, '[]', '', '', '', '工业路', NULL, NULL, $1, \
                 NULL, 'C', 'other', 0, $2, 'operating', NULL, NULL, '[]', '[]', NULL, \
                 name || ' bulk' || i || ' 工业路', 1, 0, 0 FROM b"
            )
        };
        sqlx::query(&bulk(1, 4_500, "企业")).bind(tree.town.clone()).bind(false).execute(&mut conn).await.unwrap();
        t.store.optimize().await.unwrap();
        assert!(t.store.index_register_text().await.unwrap() >= 2);
        let kept = |trigram: &str| format!("SELECT enterprise_id FROM enterprise_trigram_names WHERE trigram = '{trigram}'");
        assert_eq!(sqlx::query(&kept("化工有")).fetch_all(&mut conn).await.unwrap().len(), 501);
        assert!(sqlx::query(&kept("有限公")).fetch_all(&mut conn).await.unwrap().is_empty(), "in every row");
        assert_eq!(t.store.index_register_text().await.unwrap(), 0, "indexed once");
        let all = Reach::Scope(Scope::Global);
        let found = |q: &str| EnterpriseFilter { q: Some(q.into()), ..EnterpriseFilter::default() };
        // Every page of a search, in the store's order.
        let pages = async |q: &str| {
            let mut names = Vec::new();
            for page in 1.. {
                let items = t.store.enterprises(&all, &found(q), PageRequest { page, per_page: 100 }).await.unwrap().items;
                names.extend(items.iter().map(|e| e.name.clone()));
                if items.len() < 100 {
                    return names;
                }
            }
            unreachable!()
        };
        // The names in the database's own order, as the name index reads them.
        let expected = async |conn: &mut sqlx::AnyConnection| -> Vec<String> {
            sqlx::query("SELECT name FROM enterprises WHERE search_text LIKE '%化工有限公司%' ORDER BY name, id")
                .fetch_all(&mut *conn)
                .await
                .unwrap()
                .iter()
                .map(|r| sqlx::Row::get(r, "name"))
                .collect()
        };
        let names = pages("化工有限公司").await;
        assert_eq!(names.len(), 501);
        assert_eq!(names, expected(&mut conn).await);
        assert_eq!(t.store.enterprises(&all, &found("化工有限公司"), PageRequest::default()).await.unwrap().total, 501);
        assert!(pages("化工有限公司x").await.is_empty());
        // Kept by every write: a new enterprise, a renamed one, a multi-row insert.
        t.store.create_enterprise(&Scope::Global, &op, write(CODE_B, "滨海化工有限公司", &tree.town, None)).await.unwrap();
        let mut renamed = write(CODE_A, "临江甲机械有限公司", &tree.town, None);
        renamed.version = Some(a.version);
        t.store.update_enterprise(&all, &Scope::Global, &op, &a.id, renamed).await.unwrap();
        sqlx::query(&bulk(9_001, 9_018, "新企业")).bind(tree.town.clone()).bind(false).execute(&mut conn).await.unwrap();
        let names = pages("化工有限公司").await;
        assert_eq!(names.len(), 503);
        assert!(names.contains(&"滨海化工有限公司".to_owned()) && names.contains(&"新企业9009化工有限公司".to_owned()));
        assert!(!names.iter().any(|n| n.starts_with("临江甲")));
        assert_eq!(names, expected(&mut conn).await);
        // The walk reads the kept names: without an enterprise's, it is not found.
        sqlx::query("DELETE FROM enterprise_trigram_names WHERE name = '滨海化工有限公司'").execute(&mut conn).await.unwrap();
        assert!(!pages("化工有限公司").await.contains(&"滨海化工有限公司".to_owned()));
    }

    async fn an_enterprise_edits_its_data_but_its_identity_waits(t: TestStore) {
        let (tree, dept) = with_department(&t).await;
        let op = TestStore::operator();
        let a = t.store.create_enterprise(&Scope::Global, &op, write(CODE_A, "甲化工", &tree.town, Some(&dept))).await.unwrap();
        let own = Reach::Own(Some(a.id.clone()));
        let mut mine = write(CODE_A, "甲化工（新名）", &tree.town, None);
        mine.safety_principal = "王五".into();
        mine.version = Some(a.version);
        let (saved, waiting) = t.store.update_enterprise(&own, &Scope::Global, &op, &a.id, mine).await.unwrap();
        assert_eq!(saved.name, "甲化工");
        assert_eq!(saved.safety_principal, "王五");
        // The department is the regulator's to set: the enterprise's omission changes nothing.
        assert_eq!(saved.department.as_ref().map(|d| d.id.as_str()), Some(dept.as_str()));
        assert!(saved.pending_change);
        let change = waiting.unwrap();
        assert_eq!(change.fields, serde_json::json!({ "name": "甲化工（新名）" }));
        // The enterprise cannot decide its own change; the department can.
        let reject = ChangeDecision { confirm: false, reason: String::new() };
        assert_eq!(invalid(t.store.decide_enterprise_change(&scope(&dept), &op, &a.id, &change.id, reject).await),
            [("reason".to_owned(), "required".to_owned())]);
        let confirm = ChangeDecision { confirm: true, reason: String::new() };
        let decided = t.store.decide_enterprise_change(&scope(&dept), &op, &a.id, &change.id, confirm).await.unwrap();
        assert_eq!(decided.status, "confirmed");
        let after = t.store.enterprise(&own, &a.id).await.unwrap();
        assert_eq!(after.name, "甲化工（新名）");
        assert!(!after.pending_change);
        // The search follows the new name (the trigram index is kept by the database itself).
        let found = |q: &str| EnterpriseFilter { q: Some(q.into()), ..EnterpriseFilter::default() };
        assert_eq!(t.store.enterprises(&own, &found("工（新名"), PageRequest::default()).await.unwrap().total, 1);
        let stale = write(CODE_A, "甲化工（新名）", &tree.town, Some(&dept));
        let mut stale = stale;
        stale.version = Some(a.version);
        assert!(matches!(t.store.update_enterprise(&scope(&tree.city), &Scope::subtree(&tree.city), &op, &a.id, stale).await,
            Err(StoreError::Conflict("stale_version"))));
        let closed = t.store.set_enterprise_status(&scope(&tree.east), &op, &a.id, "closed", "注销").await.unwrap();
        assert_eq!(closed.status, "closed");
        let kinds: Vec<String> = t.store.enterprise_history(&own, &a.id).await.unwrap().into_iter().map(|h| h.kind).collect();
        assert_eq!(kinds, ["registered", "change_requested", "updated", "change_confirmed", "status"]);
    }

    async fn risk_points_colour_their_enterprise(t: TestStore) {
        let (tree, _) = with_department(&t).await;
        let op = TestStore::operator();
        let a = t.store.create_enterprise(&Scope::Global, &op, write(CODE_A, "甲化工", &tree.town, None)).await.unwrap();
        let r = scope(&tree.east);
        assert_eq!(invalid(t.store.create_risk_point(&r, &op, &a.id, point("罐区", 2.0, 4.0, 7.0)).await),
            [("e".to_owned(), "not_on_scale".to_owned()), ("l".to_owned(), "not_on_scale".to_owned())]);
        let yellow = t.store.create_risk_point(&r, &op, &a.id, point("配电室", 10.0, 1.0, 7.0)).await.unwrap();
        assert_eq!((yellow.d, yellow.colour), (70.0, RiskColour::Yellow));
        let red = t.store.create_risk_point(&r, &op, &a.id, point("罐区", 6.0, 10.0, 7.0)).await.unwrap();
        assert_eq!((red.d, red.colour), (420.0, RiskColour::Red));
        assert_eq!(t.store.enterprise(&r, &a.id).await.unwrap().colour, Some(RiskColour::Red));
        // Re-evaluation is kept; the enterprise takes the highest colour left.
        let mut lower = point("罐区", 3.0, 6.0, 7.0);
        lower.version = Some(red.version);
        let lowered = t.store.update_risk_point(&r, &op, &a.id, &red.id, lower).await.unwrap();
        assert_eq!((lowered.d, lowered.colour), (126.0, RiskColour::Yellow));
        assert_eq!(t.store.risk_evaluations(&r, &a.id, &red.id).await.unwrap().len(), 2);
        assert_eq!(t.store.enterprise(&r, &a.id).await.unwrap().colour, Some(RiskColour::Yellow));
        // New cut-offs recolour every point and enterprise at once.
        let strict = LecCutoffs { red: 120.0, orange: 90.0, yellow: 50.0 };
        t.store.set_lec_cutoffs(&op, strict).await.unwrap();
        assert_eq!(t.store.enterprise(&r, &a.id).await.unwrap().colour, Some(RiskColour::Red));
        // What is left (D = 70) is yellow under the stricter cut-offs (50 ≤ D < 90).
        t.store.retire_risk_point(&r, &op, &a.id, &red.id, "拆除").await.unwrap();
        assert_eq!(t.store.enterprise(&r, &a.id).await.unwrap().colour, Some(RiskColour::Yellow));
        let map = t.store.risk_map(&scope(&tree.city), &EnterpriseFilter::default(), &tree.city, None).await.unwrap();
        assert_eq!(map.points.len(), 1);
        assert_eq!(map.points[0].colour, Some(RiskColour::Yellow));
        let east = map.units.iter().find(|u| u.unit_id == tree.east).unwrap();
        assert_eq!((east.yellow, east.red), (1, 0));
        assert!(map.units.iter().all(|u| u.unit_id != tree.west));
        // A point of another enterprise is not found through this one.
        let b = t.store.create_enterprise(&Scope::Global, &op, write(CODE_B, "乙", &tree.town, None)).await.unwrap();
        assert!(matches!(t.store.risk_evaluations(&r, &b.id, &yellow.id).await, Err(StoreError::NotFound)));
    }

    async fn licences_expire_on_their_clock(t: TestStore) {
        let (tree, _) = with_department(&t).await;
        let op = TestStore::operator();
        let a = t.store.create_enterprise(&Scope::Global, &op, write(CODE_A, "甲化工", &tree.town, None)).await.unwrap();
        let r = scope(&tree.east);
        assert_eq!(invalid(t.store.create_licence(&r, &op, &a.id, licence("X-1", "2026-06-01", "2026-06-01")).await),
            [("expires_on".to_owned(), "before_issued".to_owned())]);
        // The test clock is 2026-03-02: one expired, one expiring within 90 days, one valid.
        let now = t.store.now().date_naive();
        let d = |days: i64| (now + chrono::Duration::days(days)).to_string();
        t.store.create_licence(&r, &op, &a.id, licence("OLD", &d(-1000), &d(-2))).await.unwrap();
        let soon = t.store.create_licence(&r, &op, &a.id, licence("SOON", &d(-300), &d(40))).await.unwrap();
        let later = t.store.create_licence(&r, &op, &a.id, licence("LATER", &d(-300), &d(400))).await.unwrap();
        assert_eq!(soon.state, "expiring");
        assert_eq!(invalid(t.store.create_licence(&r, &op, &a.id, licence("SOON", &d(-1), &d(10))).await),
            [("number".to_owned(), "already_exists".to_owned())]);
        let e = t.store.enterprise(&r, &a.id).await.unwrap();
        assert_eq!((e.expired_licences, e.expiring_licences), (1, 1));
        let expiring = LicenceFilter { state: Some("expiring".into()), ..LicenceFilter::default() };
        let ledger = t.store.licence_ledger(&r, &expiring, PageRequest::default()).await.unwrap();
        assert_eq!(ledger.items.iter().map(|l| l.licence.number.as_str()).collect::<Vec<_>>(), ["SOON"]);
        assert_eq!(t.store.licence_ledger(&scope(&tree.west), &expiring, PageRequest::default()).await.unwrap().total, 0);
        // The expiring licence's 90-day reminder is already past: its 30-day one and the day
        // itself remain; the later one keeps all three; the expired one has none left.
        assert_eq!(t.store.pending_deadlines().await.unwrap(), 2);
        t.clock.advance(chrono::Duration::days(15));
        let due = t.store.due_stages(10).await.unwrap();
        assert_eq!(due.iter().map(|s| s.stage.as_str()).collect::<Vec<_>>(), ["remind_30"]);
        // Withdrawing stops the clock.
        t.store.withdraw_licence(&r, &op, &a.id, &soon.id, "换证").await.unwrap();
        assert_eq!(t.store.pending_deadlines().await.unwrap(), 1);
        // The counts follow a withdrawal, in the enterprise and in the register's list.
        let e = t.store.enterprise(&r, &a.id).await.unwrap();
        assert_eq!((e.expired_licences, e.expiring_licences), (1, 0));
        let page = t.store.enterprises(&r, &EnterpriseFilter::default(), PageRequest::default()).await.unwrap();
        let listed = page.items.iter().find(|x| x.id == a.id).unwrap();
        assert_eq!((listed.expired_licences, listed.expiring_licences), (1, 0));
        // And a changed expiry: the later licence now ends within 90 days.
        t.store.update_licence(&r, &op, &a.id, &later.id, licence("LATER", &d(-300), &d(30))).await.unwrap();
        let e = t.store.enterprise(&r, &a.id).await.unwrap();
        assert_eq!((e.expired_licences, e.expiring_licences), (1, 1));
    }

    async fn hazard_sources_are_identified_and_graded(t: TestStore) {
        let (tree, _) = with_department(&t).await;
        let op = TestStore::operator();
        let a = t.store.create_enterprise(&Scope::Global, &op, write(CODE_A, "甲化工", &tree.town, None)).await.unwrap();
        let r = scope(&tree.east);
        // The shipped reference data: Q of Table 1 and β of Table 3 where confirmed.
        let shipped = t.store.hazard_substances().await.unwrap();
        let ammonia = shipped.iter().find(|s| s.name == "氨").unwrap();
        assert_eq!((ammonia.cas.as_str(), ammonia.critical_t, ammonia.beta), ("7664-41-7", Some(10.0), Some(2.0)));
        assert!(ammonia.source.starts_with("GB 18218-2018 表1"));
        let methanol = shipped.iter().find(|s| s.name == "甲醇").unwrap();
        assert_eq!((methanol.critical_t, methanol.beta, methanol.complete), (Some(500.0), None, false));
        let chlorine = substance(&t, "氯").await;
        let ammonia = ammonia.id.clone();

        // 40 t of chlorine (Q 5, β 4) and 30 t of ammonia (Q 10, β 2), α 1.5:
        // S = 8 + 3 = 11, R = 1.5 · (4·8 + 2·3) = 57, 二级.
        let made = t.store.create_hazard_source(&r, &op, &a.id, hazard("液氯液氨罐区", 1.5, &[(&chlorine, 40.0), (&ammonia, 30.0)])).await.unwrap();
        assert_eq!((made.s, made.r, made.major, made.grade), (11.0, 57.0, true, Some(HazardGrade::Second)));
        assert_eq!(made.substances[0].name, "氯");
        assert_eq!((made.substances[0].critical_t, made.substances[0].beta), (5.0, 4.0));
        // Below the threshold: recorded, not a major hazard source, no grade.
        let small = t.store.create_hazard_source(&r, &op, &a.id, hazard("氨水配制", 1.0, &[(&ammonia, 9.0)])).await.unwrap();
        assert_eq!((small.s, small.major, small.grade), (0.9, false, None));
        // Exactly at R = 100: 一级 (62.5 t of chlorine with α 2: R = 2·4·12.5).
        let first = t.store.create_hazard_source(&r, &op, &a.id, hazard("液氯库", 2.0, &[(&chlorine, 62.5)])).await.unwrap();
        assert_eq!((first.r, first.grade), (100.0, Some(HazardGrade::First)));

        // A substance whose β nobody confirmed yet is refused, naming the holding.
        let methanol = substance(&t, "甲醇").await;
        assert_eq!(invalid(t.store.create_hazard_source(&r, &op, &a.id, hazard("甲醇罐区", 1.0, &[(&ammonia, 1.0), (&methanol, 600.0)])).await),
            [("substances[1].substance_id".to_owned(), "substance_incomplete".to_owned())]);
        // Once the administrator enters β with its source, the same unit is identified.
        let mut entered: SubstanceWrite = serde_json::from_value(serde_json::json!({
            "name": "甲醇", "cas": "67-56-1", "critical_t": 500.0, "beta": 1.0,
            "source": "GB 18218-2018 表1（Q）；表4 W5.3（β）",
        })).unwrap();
        entered.version = Some(1);
        let edited = t.store.update_hazard_substance(&op, &methanol, entered.clone()).await.unwrap();
        assert!(edited.complete);
        assert!(matches!(t.store.update_hazard_substance(&op, &methanol, entered).await, Err(StoreError::Conflict("stale_version"))));
        let mixed = t.store.create_hazard_source(&r, &op, &a.id, hazard("甲醇罐区", 1.0, &[(&methanol, 600.0)])).await.unwrap();
        assert_eq!((mixed.s, mixed.r, mixed.grade), (1.2, 1.2, Some(HazardGrade::Fourth)));

        // Input errors are named by field; a substance listed twice, a negative quantity.
        let mut bad = hazard("", 0.0, &[(&ammonia, -1.0), (&ammonia, 1.0)]);
        bad.filing_number = "临危源备 001".into();
        assert_eq!(invalid(t.store.create_hazard_source(&r, &op, &a.id, bad).await), [
            ("alpha".to_owned(), "must_be_positive".to_owned()),
            ("filing_date".to_owned(), "required".to_owned()),
            ("name".to_owned(), "required".to_owned()),
            ("substances[0].quantity_t".to_owned(), "must_not_be_negative".to_owned()),
            ("substances[1].substance_id".to_owned(), "duplicate".to_owned()),
        ]);
        let unknown = "0193f000-0000-7000-8000-999999999999";
        assert_eq!(invalid(t.store.create_hazard_source(&r, &op, &a.id, hazard("罐区", 1.0, &[(unknown, 1.0)])).await),
            [("substances[0].substance_id".to_owned(), "not_found".to_owned())]);

        // Outside the reach: not found, for reading and writing alike; the enterprise's own
        // account reaches its own.
        assert!(matches!(t.store.hazard_sources(&scope(&tree.west), &a.id).await, Err(StoreError::NotFound)));
        assert!(matches!(t.store.create_hazard_source(&scope(&tree.west), &op, &a.id, hazard("罐区", 1.0, &[(&ammonia, 1.0)])).await, Err(StoreError::NotFound)));
        let own = Reach::Own(Some(a.id.clone()));
        assert_eq!(t.store.hazard_sources(&own, &a.id).await.unwrap().len(), 4);
        assert!(matches!(t.store.hazard_sources(&Reach::Own(None), &a.id).await, Err(StoreError::NotFound)));

        // A rewrite is identified again; a stale version is refused; retiring keeps the record.
        let mut more = hazard("液氯液氨罐区", 1.5, &[(&chlorine, 10.0)]);
        more.filing_number = "临应急危源备〔2025〕001号".into();
        more.filing_date = Some(chrono::NaiveDate::from_ymd_opt(2025, 6, 1).unwrap());
        more.version = Some(made.version);
        let updated = t.store.update_hazard_source(&own, &op, &a.id, &made.id, more.clone()).await.unwrap();
        assert_eq!((updated.s, updated.r, updated.grade), (2.0, 12.0, Some(HazardGrade::Third)));
        assert_eq!(updated.filing_number, "临应急危源备〔2025〕001号");
        assert!(matches!(t.store.update_hazard_source(&own, &op, &a.id, &made.id, more.clone()).await, Err(StoreError::Conflict("stale_version"))));
        let retired = t.store.retire_hazard_source(&r, &op, &a.id, &small.id, "装置拆除").await.unwrap();
        assert!(retired.retired);
        let mut again = more;
        again.version = Some(retired.version);
        assert!(matches!(t.store.update_hazard_source(&r, &op, &a.id, &small.id, again).await, Err(StoreError::Conflict("hazard_source_retired"))));
        let listed = t.store.hazard_sources(&r, &a.id).await.unwrap();
        assert_eq!(listed.last().map(|h| h.id.as_str()), Some(small.id.as_str()));

        // Every change is on the enterprise's timeline and in the audit trail.
        let kinds: Vec<String> = t.store.enterprise_history(&r, &a.id).await.unwrap().into_iter().map(|h| h.kind).collect();
        assert_eq!(kinds, ["registered", "hazard_source_added", "hazard_source_added", "hazard_source_added", "hazard_source_added", "hazard_source_updated", "hazard_source_retired"]);
        let audited = t.store.search_audit(&Scope::Global, &beacon_store::audit::AuditFilter {
            action: Some("enterprise.hazard_source_added".into()), ..Default::default()
        }, PageRequest::default()).await.unwrap();
        assert_eq!(audited.total, 4);
    }

    async fn substances_are_checked_and_named_once(t: TestStore) {
        let op = TestStore::operator();
        let write = |name: &str, cas: &str, q: Option<f64>, source: &str| -> SubstanceWrite {
            serde_json::from_value(serde_json::json!({ "name": name, "cas": cas, "critical_t": q, "source": source })).unwrap()
        };
        assert_eq!(invalid(t.store.create_hazard_substance(&op, write("某物质", "7664-41-8", Some(0.0), "")).await), [
            ("cas".to_owned(), "check_character".to_owned()),
            ("critical_t".to_owned(), "must_be_positive".to_owned()),
            ("source".to_owned(), "required".to_owned()),
        ]);
        assert_eq!(invalid(t.store.create_hazard_substance(&op, write("氨", "", None, "")).await),
            [("name".to_owned(), "already_exists".to_owned())]);
        // Without Q or β yet: kept, but not usable until they are entered.
        let added = t.store.create_hazard_substance(&op, write("某混合物", "", None, "")).await.unwrap();
        assert!(!added.complete);
        assert_eq!(t.store.hazard_substances().await.unwrap().last().map(|s| s.id.clone()), Some(added.id));
    }

    async fn a_crowded_map_answers_clusters_by_colour(t: TestStore) {
        let (tree, _) = with_department(&t).await;
        let op = TestStore::operator();
        let at = |code: &str, name: &str, lon: f64, lat: f64| {
            let mut w = write(code, name, &tree.town, None);
            (w.lon, w.lat) = (Some(lon), Some(lat));
            w
        };
        let a = t.store.create_enterprise(&Scope::Global, &op, at(CODE_A, "甲", 118.10, 30.55)).await.unwrap();
        t.store.create_enterprise(&Scope::Global, &op, at(CODE_B, "乙", 118.11, 30.56)).await.unwrap();
        t.store.create_enterprise(&Scope::Global, &op, at("91440300708461136T", "丙", 119.50, 31.50)).await.unwrap();
        let r = scope(&tree.city);
        t.store.create_risk_point(&r, &op, &a.id, point("罐区", 6.0, 10.0, 7.0)).await.unwrap();
        let view = |zoom: f64, point_limit: i64| Viewport {
            min_lon: 117.0, min_lat: 30.0, max_lon: 120.0, max_lat: 32.0, zoom, point_limit,
        };
        let filter = EnterpriseFilter::default();
        // Few enough: the points themselves.
        let map = t.store.risk_map(&r, &filter, &tree.city, Some(view(8.0, 10))).await.unwrap();
        assert_eq!((map.points.len(), map.clusters.len()), (3, 0));
        // Too many for the limit at zoom 8 (cells of 0.35°): the two neighbours share a cell.
        let map = t.store.risk_map(&r, &filter, &tree.city, Some(view(8.0, 2))).await.unwrap();
        assert!(map.points.is_empty());
        let mut counts: Vec<(i64, i64, i64)> = map.clusters.iter().map(|c| (c.count, c.red, c.none)).collect();
        counts.sort();
        assert_eq!(counts, vec![(1, 0, 1), (2, 1, 1)]);
        let pair = map.clusters.iter().find(|c| c.count == 2).unwrap();
        assert!((pair.lon - 118.105).abs() < 1e-9 && (pair.lat - 30.555).abs() < 1e-9, "{pair:?}");
        // Closer in, every enterprise has a cell of its own; outside the box nothing counts.
        let map = t.store.risk_map(&r, &filter, &tree.city, Some(view(16.0, 2))).await.unwrap();
        assert_eq!(map.clusters.len(), 3);
        let small = Viewport { min_lon: 119.0, min_lat: 31.0, max_lon: 120.0, max_lat: 32.0, zoom: 8.0, point_limit: 2 };
        let map = t.store.risk_map(&r, &filter, &tree.city, Some(small)).await.unwrap();
        assert_eq!(map.points.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), vec!["丙"]);
    }
}
