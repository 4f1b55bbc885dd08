use beacon_core::geo::Boundary;
use beacon_core::org::{Phone, Role, UnitCode, UnitLevel, UnitName};
use beacon_core::page::PageRequest;
use beacon_core::scope::Scope;
use beacon_store::org::{NewUnit, UnitChanges, UserChanges, UserFilter};
use beacon_store::{StoreError, backend_tests};
use serde_json::json;

use crate::{TestStore, new_user};

fn actor_in(user_id: &str, unit_id: &str) -> beacon_core::audit::Actor {
    beacon_core::audit::Actor::caller(Some(user_id), "admin", Some(unit_id), None)
}

fn new_unit(parent: &str, code: &str, level: UnitLevel) -> NewUnit {
    NewUnit {
        parent_id: Some(parent.to_owned()),
        code: UnitCode::parse(code).unwrap(),
        name: UnitName::parse("新单位").unwrap(),
        level,
        sort_order: 0,
        boundary: None,
    }
}

fn invalid_field(result: Result<impl std::fmt::Debug, StoreError>, field: &str) -> String {
    match result {
        Err(StoreError::Invalid(errors)) => errors.get(field).unwrap_or("<none>").to_owned(),
        other => panic!("expected a validation error on {field}, got {other:?}"),
    }
}

backend_tests! {
    async fn scope_limits_units_to_the_subtree(t: TestStore) {
        let tree = t.city().await;
        let all = t.store.list_units(&Scope::Global).await.unwrap();
        assert_eq!(all.len(), 4);
        let east = t.store.list_units(&Scope::subtree(&tree.east)).await.unwrap();
        let ids: Vec<_> = east.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids.len(), 2);
        assert!(ids.contains(&tree.east.as_str()) && ids.contains(&tree.town.as_str()));
        // Outside the scope is exactly "not found".
        let err = t.store.get_unit(&Scope::subtree(&tree.east), &tree.west).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound));
        assert_eq!(
            t.store.unit_path(&tree.town).await.unwrap(),
            vec![tree.city.clone(), tree.east.clone(), tree.town.clone()]
        );
    }

    async fn unit_rules_are_checked(t: TestStore) {
        let tree = t.city().await;
        let global = Scope::Global;
        let op = TestStore::operator();
        // A second root is refused.
        let mut root = new_unit(&tree.city, "990200", UnitLevel::City);
        root.parent_id = None;
        assert_eq!(invalid_field(t.store.create_unit(&global, &op, root).await, "parent_id"), "required");
        // Codes are unique.
        let dup = new_unit(&tree.city, "990103", UnitLevel::District);
        assert_eq!(invalid_field(t.store.create_unit(&global, &op, dup).await, "code"), "already_exists");
        // A district cannot sit under a township.
        let upside = new_unit(&tree.town, "990199", UnitLevel::District);
        assert_eq!(
            invalid_field(t.store.create_unit(&global, &op, upside).await, "level"),
            "not_allowed_under_parent"
        );
        // A parent outside the caller's scope does not exist for them.
        let foreign = new_unit(&tree.west, "990103001", UnitLevel::Township);
        assert_eq!(
            invalid_field(t.store.create_unit(&Scope::subtree(&tree.east), &op, foreign).await, "parent_id"),
            "not_found"
        );
        // Departments hang anywhere.
        let dept = new_unit(&tree.town, "990102001-ajb", UnitLevel::Department);
        t.store.create_unit(&global, &op, dept).await.unwrap();
    }

    async fn moving_a_unit_moves_its_subtree(t: TestStore) {
        let tree = t.city().await;
        let op = TestStore::operator();
        let changes = UnitChanges { parent_id: Some(tree.west.clone()), ..Default::default() };
        t.store.update_unit(&Scope::Global, &op, &tree.town, changes).await.unwrap();
        let west = t.store.list_units(&Scope::subtree(&tree.west)).await.unwrap();
        assert!(west.iter().any(|u| u.id == tree.town));
        let east = t.store.list_units(&Scope::subtree(&tree.east)).await.unwrap();
        assert!(!east.iter().any(|u| u.id == tree.town));
        assert_eq!(
            t.store.unit_path(&tree.town).await.unwrap(),
            vec![tree.city.clone(), tree.west.clone(), tree.town.clone()]
        );
        // Under its own descendant: a cycle.
        let cycle = UnitChanges { parent_id: Some(tree.town.clone()), ..Default::default() };
        assert_eq!(
            invalid_field(t.store.update_unit(&Scope::Global, &op, &tree.west, cycle).await, "parent_id"),
            "cycle"
        );
        // A scoped administrator cannot move or delete the root of their own scope.
        let scope = Scope::subtree(&tree.west);
        let away = UnitChanges { parent_id: Some(tree.east.clone()), ..Default::default() };
        assert!(matches!(
            t.store.update_unit(&scope, &op, &tree.west, away).await,
            Err(StoreError::Forbidden("cannot_move_scope_root"))
        ));
        assert!(matches!(
            t.store.delete_unit(&scope, &op, &tree.west).await,
            Err(StoreError::Forbidden("cannot_delete_scope_root"))
        ));
    }

    async fn boundaries_are_stored_and_changes_audited(t: TestStore) {
        let tree = t.city().await;
        let op = TestStore::operator();
        let square = json!({
            "type": "Polygon",
            "coordinates": [[[117.0, 30.0], [117.2, 30.0], [117.2, 30.2], [117.0, 30.2], [117.0, 30.0]]]
        });
        let changes = UnitChanges {
            name: Some(UnitName::parse("东湖新区").unwrap()),
            boundary: Some(Some(Boundary::parse(&square).unwrap())),
            ..Default::default()
        };
        let unit = t.store.update_unit(&Scope::Global, &op, &tree.east, changes).await.unwrap();
        assert!(unit.has_boundary);
        assert_eq!(unit.name, "东湖新区");
        let detail = t.store.get_unit(&Scope::Global, &tree.east).await.unwrap();
        assert_eq!(detail.boundary.unwrap()["type"], "Polygon");
        let map = t.store.unit_with_children(&Scope::Global, &tree.east).await.unwrap();
        assert_eq!(map.len(), 2);
        let filter = beacon_store::audit::AuditFilter {
            action: Some("unit.update".to_owned()),
            ..Default::default()
        };
        let page = t.store.search_audit(&Scope::Global, &filter, PageRequest::default()).await.unwrap();
        assert_eq!(page.total, 1);
        let detail: serde_json::Value = serde_json::from_str(&page.items[0].detail).unwrap();
        assert_eq!(detail["before"]["name"], "东湖区");
        assert_eq!(detail["after"]["name"], "东湖新区");
        assert_eq!(detail["before"]["boundary"], serde_json::Value::Null);
        assert_eq!(detail["after"]["boundary"]["bbox"][0], 117.0);
    }

    async fn non_empty_units_are_not_deleted(t: TestStore) {
        let tree = t.city().await;
        let op = TestStore::operator();
        assert!(matches!(
            t.store.delete_unit(&Scope::Global, &op, &tree.east).await,
            Err(StoreError::Conflict("unit_has_children"))
        ));
        t.user("zhang.san", &tree.west, &[Role::Staff]).await;
        assert!(matches!(
            t.store.delete_unit(&Scope::Global, &op, &tree.west).await,
            Err(StoreError::Conflict("unit_has_users"))
        ));
        t.store.delete_unit(&Scope::Global, &op, &tree.town).await.unwrap();
        assert!(matches!(t.store.get_unit(&Scope::Global, &tree.town).await, Err(StoreError::NotFound)));
        assert_eq!(t.store.unit_path(&tree.east).await.unwrap().len(), 2);
    }

    async fn users_are_listed_within_scope_with_filters(t: TestStore) {
        let tree = t.city().await;
        t.user("city.officer", &tree.city, &[Role::DutyOfficer]).await;
        t.user("east.leader", &tree.east, &[Role::Leader, Role::DutyLeader]).await;
        t.user("town.staff", &tree.town, &[Role::Staff]).await;
        t.user("west.staff", &tree.west, &[Role::Staff]).await;
        let page = PageRequest::default();
        let all = t.store.list_users(&Scope::Global, &UserFilter::default(), page).await.unwrap();
        assert_eq!(all.total, 4);
        let east = t.store.list_users(&Scope::subtree(&tree.east), &UserFilter::default(), page).await.unwrap();
        let names: Vec<_> = east.items.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, vec!["east.leader", "town.staff"]);
        assert_eq!(east.items[0].roles, vec![Role::DutyLeader, Role::Leader]);
        let staff = UserFilter { role: Some(Role::Staff), ..Default::default() };
        assert_eq!(t.store.list_users(&Scope::Global, &staff, page).await.unwrap().total, 2);
        let q = UserFilter { q: Some("TOWN".to_owned()), ..Default::default() };
        assert_eq!(t.store.list_users(&Scope::Global, &q, page).await.unwrap().total, 1);
        let wildcard = UserFilter { q: Some("%".to_owned()), ..Default::default() };
        assert_eq!(t.store.list_users(&Scope::Global, &wildcard, page).await.unwrap().total, 0);
        let in_unit = UserFilter { unit_id: Some(tree.east.clone()), ..Default::default() };
        assert_eq!(t.store.list_users(&Scope::Global, &in_unit, page).await.unwrap().total, 2);
        let second = PageRequest::parse(Some(2), Some(3)).unwrap();
        let paged = t.store.list_users(&Scope::Global, &UserFilter::default(), second).await.unwrap();
        assert_eq!((paged.total, paged.items.len()), (4, 1));
        assert!(matches!(
            t.store.get_user_by_username(&Scope::subtree(&tree.west), "east.leader").await,
            Err(StoreError::NotFound)
        ));
    }

    async fn user_changes_follow_the_separation_of_duties(t: TestStore) {
        let tree = t.city().await;
        let admin = t.user("sys.admin", &tree.city, &[Role::SystemAdmin]).await;
        let auditor = t.user("aud.admin", &tree.city, &[Role::AuditAdmin]).await;
        let staff = t.user("east.staff", &tree.east, &[Role::Staff]).await;
        let scope = Scope::subtree(&tree.city);
        let me = actor_in(&admin, &tree.city);
        // Granting an administrator role through the API is refused.
        let grant = UserChanges { roles: Some(vec![Role::SecurityAdmin]), ..Default::default() };
        assert!(matches!(
            t.store.update_user(&scope, &me, &staff, grant).await,
            Err(StoreError::Forbidden("admin_role_cli_only"))
        ));
        assert!(matches!(
            t.store.create_user(&scope, &me, new_user("new.audit", &tree.city, &[Role::AuditAdmin])).await,
            Err(StoreError::Forbidden("admin_role_cli_only"))
        ));
        // Administrator accounts are not changed through the API.
        let disable = UserChanges { active: Some(false), ..Default::default() };
        assert!(matches!(
            t.store.update_user(&scope, &me, &auditor, disable.clone()).await,
            Err(StoreError::Forbidden("admin_account_cli_only"))
        ));
        // Ordinary accounts are.
        let changes = UserChanges {
            roles: Some(vec![Role::Staff, Role::Inspector]),
            phone: Some(Some(Phone::parse("13800138000").unwrap())),
            unit_id: Some(tree.town.clone()),
            ..Default::default()
        };
        let user = t.store.update_user(&scope, &me, &staff, changes).await.unwrap();
        assert_eq!(user.roles, vec![Role::Inspector, Role::Staff]);
        assert_eq!(user.unit.id, tree.town);
        assert_eq!(user.phone.as_deref(), Some("13800138000"));
        let user = t.store.update_user(&scope, &me, &staff, disable).await.unwrap();
        assert!(!user.active);
        // Moving a user outside the scope is refused like a missing unit.
        let east_admin = Scope::subtree(&tree.east);
        let away = UserChanges { unit_id: Some(tree.west.clone()), ..Default::default() };
        assert_eq!(invalid_field(t.store.update_user(&east_admin, &me, &staff, away).await, "unit_id"), "not_found");
        // The audit record of the phone change carries a masked number only.
        let filter = beacon_store::audit::AuditFilter { target_id: Some(staff.clone()), ..Default::default() };
        let records = t.store.search_audit(&Scope::Global, &filter, PageRequest::default()).await.unwrap();
        assert!(records.items.iter().any(|r| r.detail.contains("138****8000")));
        assert!(!records.items.iter().any(|r| r.detail.contains("13800138000")));
        assert!(records.items.iter().any(|r| r.action == "user.disable"));
    }

    async fn only_unused_accounts_are_deleted(t: TestStore) {
        let tree = t.city().await;
        let op = TestStore::operator();
        let unused = t.user("unused.one", &tree.east, &[Role::Staff]).await;
        t.store.delete_user(&Scope::Global, &op, &unused).await.unwrap();
        assert!(matches!(t.store.get_user(&Scope::Global, &unused).await, Err(StoreError::NotFound)));
        let used = t.user("used.one", &tree.east, &[Role::Staff]).await;
        let account = t.store.find_login("used.one").await.unwrap().unwrap();
        let expires = t.store.now() + chrono::Duration::hours(1);
        t.store.start_session(&account, "hash-1", expires, None, None).await.unwrap();
        assert!(matches!(
            t.store.delete_user(&Scope::Global, &op, &used).await,
            Err(StoreError::Conflict("user_has_signed_in"))
        ));
    }

    async fn concurrent_writers_wait_instead_of_failing(t: TestStore) {
        let tree = t.city().await;
        let mut tasks = Vec::new();
        for i in 0..40 {
            let store = t.store.clone();
            let parent = tree.town.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .create_unit(
                        &Scope::Global,
                        &TestStore::operator(),
                        new_unit(&parent, &format!("990102001{i:03}"), UnitLevel::Community),
                    )
                    .await
            }));
        }
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(t.store.count_units().await.unwrap(), 44);
        assert!(matches!(
            t.store.verify_audit_chain().await.unwrap(),
            beacon_store::audit::ChainStatus::Intact { records: 44, .. }
        ));
    }

    async fn totals_follow_writes_at_once(t: TestStore) {
        let tree = t.city().await;
        let page = PageRequest::default();
        let everyone = Scope::tree_root(&tree.city);
        assert_eq!(t.store.list_users(&everyone, &UserFilter::default(), page).await.unwrap().total, 0);
        t.user("first.one", &tree.east, &[Role::Staff]).await;
        // The cached total of the same query is not served after a write.
        assert_eq!(t.store.list_users(&everyone, &UserFilter::default(), page).await.unwrap().total, 1);
        t.user("second.one", &tree.west, &[Role::Staff]).await;
        let all = t.store.list_users(&everyone, &UserFilter::default(), page).await.unwrap();
        assert_eq!((all.total, all.items.len()), (2, 2));
        // The root's scope holds everything, like the global one; a district's does not.
        assert_eq!(t.store.list_units(&everyone).await.unwrap().len(), 4);
        let east = t.store.list_users(&Scope::subtree(&tree.east), &UserFilter::default(), page).await.unwrap();
        assert_eq!(east.total, 1);
    }

    async fn crossed_moves_cannot_close_a_cycle(t: TestStore) {
        let tree = t.city().await;
        for round in 0..10 {
            let a = t.unit(Some(&tree.west), &format!("99010300{round}1"), "甲", UnitLevel::Township).await;
            let b = t.unit(Some(&tree.west), &format!("99010300{round}2"), "乙", UnitLevel::Township).await;
            let (store_a, store_b) = (t.store.clone(), t.store.clone());
            let (ida, idb) = (a.clone(), b.clone());
            let one = tokio::spawn(async move {
                let changes = UnitChanges { parent_id: Some(idb), level: Some(UnitLevel::Community), ..Default::default() };
                store_a.update_unit(&Scope::Global, &TestStore::operator(), &ida, changes).await
            });
            let (ida, idb) = (a.clone(), b.clone());
            let two = tokio::spawn(async move {
                let changes = UnitChanges { parent_id: Some(ida), level: Some(UnitLevel::Community), ..Default::default() };
                store_b.update_unit(&Scope::Global, &TestStore::operator(), &idb, changes).await
            });
            let results = [one.await.unwrap().is_ok(), two.await.unwrap().is_ok()];
            assert_eq!(results.iter().filter(|ok| **ok).count(), 1, "round {round}: exactly one move wins");
            for id in [&a, &b] {
                let path = t.store.unit_path(id).await.unwrap();
                assert_eq!(path.first(), Some(&tree.city), "round {round}: still under the root");
            }
        }
    }
}

backend_tests! {
    async fn tokens_hold_integration_roles_only_even_when_made_before_the_rule(t: TestStore) {
        let tree = t.city().await;
        let op = TestStore::operator();
        let token = |roles: Vec<Role>, hash: &str| beacon_store::org::NewToken {
            name: "接入".into(),
            unit_id: tree.east.clone(),
            roles,
            expires_at: None,
            token_hash: hash.into(),
        };
        let refused = t.store.create_token(&Scope::Global, &op, token(vec![Role::DutyLeader], "h0")).await;
        assert_eq!(invalid_field(refused, "roles"), "not_allowed_for_token");
        let refused = t.store.create_token(&Scope::Global, &op, token(vec![Role::SystemAdmin], "h0")).await;
        assert_eq!(invalid_field(refused, "roles"), "admin_role_not_allowed");
        let made = t.store.create_token(&Scope::Global, &op, token(vec![Role::Viewer], "h1")).await.unwrap();
        let only_business = t.store.create_token(&Scope::Global, &op, token(vec![Role::Enterprise], "h2")).await.unwrap();
        // Tokens written before the rule, with business roles: those roles no longer count.
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&t.db.url).await.unwrap();
        sqlx::query("UPDATE api_tokens SET roles = '[\"duty_leader\",\"viewer\"]' WHERE id = $1")
            .bind(made.id.clone())
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("UPDATE api_tokens SET roles = '[\"duty_officer\"]' WHERE id = $1")
            .bind(only_business.id.clone())
            .execute(&mut conn)
            .await
            .unwrap();
        let mixed = t.store.token_principal("h1").await.unwrap().unwrap();
        assert_eq!(mixed.roles, vec![Role::Viewer]);
        let none = t.store.token_principal("h2").await.unwrap().unwrap();
        assert!(none.roles.is_empty(), "refused at sign-in as holding no role: {:?}", none.roles);
    }
}
