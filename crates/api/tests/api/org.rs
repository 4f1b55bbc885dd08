use axum::http::StatusCode;
use beacon_core::org::Role;
use beacon_store::backend_tests;
use serde_json::json;

use crate::TestApp;

fn square(x: f64) -> serde_json::Value {
    json!({ "type": "Polygon", "coordinates": [[[x, 30.0], [x + 0.1, 30.0], [x + 0.1, 30.1], [x, 30.1], [x, 30.0]]] })
}

backend_tests! {
    async fn units_are_created_edited_mapped_and_deleted(t: TestApp) {
        let admin = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        let created = t.post(&admin, "/api/v1/units", json!({
            "parent_id": t.tree.city, "code": "990105", "name": "新城区", "level": "district",
            "sort_order": 5, "boundary": square(118.0)
        })).await;
        created.expect(StatusCode::CREATED);
        let id = created.json()["id"].as_str().unwrap().to_owned();
        assert_eq!(created.json()["has_boundary"], true);
        let detail = t.get(&admin, &format!("/api/v1/units/{id}")).await;
        assert_eq!(detail.json()["boundary"]["type"], "Polygon");
        assert_eq!(detail.json()["code"], "990105");

        let renamed = t.patch(&admin, &format!("/api/v1/units/{id}"), json!({ "name": "新城区（改）", "boundary": null })).await;
        renamed.expect(StatusCode::OK);
        assert_eq!(renamed.json()["has_boundary"], false);

        t.patch(&admin, &format!("/api/v1/units/{}", t.tree.east), json!({ "boundary": square(117.0) })).await.expect(StatusCode::OK);
        t.patch(&admin, &format!("/api/v1/units/{}", t.tree.city), json!({ "boundary": square(116.0) })).await.expect(StatusCode::OK);
        let map = t.get(&admin, &format!("/api/v1/units/{}/map", t.tree.city)).await;
        let features = map.json()["features"].as_array().unwrap().clone();
        assert_eq!(features.len(), 2, "the city and its one child with an outline");
        assert!(features.iter().any(|f| f["properties"]["self"] == true));

        let bad = t.post(&admin, "/api/v1/units", json!({
            "parent_id": t.tree.city, "code": "990106", "name": "坏", "level": "district",
            "boundary": { "type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]] }
        })).await;
        bad.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.json()["fields"]["boundary"], "ring_not_closed");
        let dup = t.post(&admin, "/api/v1/units", json!({ "parent_id": t.tree.city, "code": "990102", "name": "重", "level": "district" })).await;
        assert_eq!(dup.json()["fields"]["code"], "already_exists");

        let busy = t.delete(&admin, &format!("/api/v1/units/{}", t.tree.east)).await;
        busy.expect(StatusCode::CONFLICT);
        assert_eq!(busy.code(), "unit_has_children");
        t.delete(&admin, &format!("/api/v1/units/{id}")).await.expect(StatusCode::NO_CONTENT);
        t.get(&admin, &format!("/api/v1/units/{id}")).await.expect(StatusCode::NOT_FOUND);
        let audit = t.audit_actions("unit.").await;
        assert!(audit.iter().any(|r| r.action == "unit.delete" && r.target_id.as_deref() == Some(id.as_str())));
    }

    async fn a_district_never_sees_another(t: TestApp) {
        let east = t.signed_in("east.admin", &t.tree.east, &[Role::SystemAdmin]).await;
        t.user("west.staff", &t.tree.west, &[Role::Staff]).await;
        let units = t.get(&east, "/api/v1/units").await.json();
        let codes: Vec<_> = units.as_array().unwrap().iter().map(|u| u["code"].as_str().unwrap().to_owned()).collect();
        assert_eq!(codes.len(), 2);
        assert!(codes.contains(&"990102".to_owned()) && codes.contains(&"990102001".to_owned()));
        // Outside the scope answers exactly as a record that does not exist.
        let hidden = t.get(&east, &format!("/api/v1/units/{}", t.tree.west)).await;
        let missing = t.get(&east, "/api/v1/units/0190f3c5-0000-7000-8000-000000000000").await;
        assert_eq!((hidden.status, hidden.bytes.clone()), (missing.status, missing.bytes.clone()));
        t.patch(&east, &format!("/api/v1/units/{}", t.tree.west), json!({ "name": "x" })).await.expect(StatusCode::NOT_FOUND);
        t.delete(&east, &format!("/api/v1/units/{}", t.tree.west)).await.expect(StatusCode::NOT_FOUND);
        let foreign_parent = t.post(&east, "/api/v1/units", json!({ "parent_id": t.tree.west, "code": "990103001", "name": "x", "level": "township" })).await;
        assert_eq!(foreign_parent.json()["fields"]["parent_id"], "not_found");
        let users = t.get(&east, "/api/v1/users").await.json();
        assert!(users["items"].as_array().unwrap().iter().all(|u| u["unit"]["code"] != "990103"));
        let west_id = t.store.get_user_by_username(&beacon_core::scope::Scope::Global, "west.staff").await.unwrap().id;
        t.get(&east, &format!("/api/v1/users/{west_id}")).await.expect(StatusCode::NOT_FOUND);
        t.patch(&east, &format!("/api/v1/users/{west_id}"), json!({ "active": false })).await.expect(StatusCode::NOT_FOUND);
        // Nor move the unit at the top of their scope.
        let moved = t.patch(&east, &format!("/api/v1/units/{}", t.tree.east), json!({ "parent_id": t.tree.west })).await;
        moved.expect(StatusCode::FORBIDDEN);
        assert_eq!(moved.code(), "cannot_move_scope_root");
    }

    async fn users_are_managed_within_the_rules(t: TestApp) {
        let admin = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        let created = t.post(&admin, "/api/v1/users", json!({
            "username": "Zhang.San", "display_name": "张三", "phone": "13800138000",
            "unit_id": t.tree.town, "roles": ["duty_officer", "staff"], "password": "Initial-Pass-1"
        })).await;
        created.expect(StatusCode::CREATED);
        let user = created.json();
        let id = user["id"].as_str().unwrap().to_owned();
        assert_eq!(user["username"], "zhang.san");
        assert_eq!(user["roles"], json!(["duty_officer", "staff"]));
        assert_eq!(user["unit"]["code"], "990102001");

        let dup = t.post(&admin, "/api/v1/users", json!({
            "username": "zhang.san", "display_name": "x", "unit_id": t.tree.town, "roles": ["staff"], "password": "Initial-Pass-1"
        })).await;
        assert_eq!(dup.json()["fields"]["username"], "already_exists");
        let invalid = t.post(&admin, "/api/v1/users", json!({
            "username": "a", "display_name": "", "phone": "abc", "unit_id": "nope", "roles": [], "password": "weak"
        })).await;
        invalid.expect(StatusCode::UNPROCESSABLE_ENTITY);
        let fields = invalid.json()["fields"].clone();
        assert_eq!(fields["username"], "too_short");
        assert_eq!(fields["display_name"], "required");
        assert_eq!(fields["phone"], "invalid_format");
        assert_eq!(fields["unit_id"], "not_found");
        assert_eq!(fields["roles"], "required");
        assert_eq!(fields["password"], "password_too_short");
        assert!(invalid.json()["rules"]["password"]["min_length"].as_u64().unwrap() >= 8);
        assert!(invalid.json()["rules"].get("username").is_none(), "only the password names its rule");
        let admin_role = t.post(&admin, "/api/v1/users", json!({
            "username": "new.auditor", "display_name": "x", "unit_id": t.tree.city, "roles": ["audit_admin"], "password": "Initial-Pass-1"
        })).await;
        admin_role.expect(StatusCode::FORBIDDEN);
        assert_eq!(admin_role.code(), "admin_role_cli_only");

        let listed = t.get(&admin, "/api/v1/users?q=zhang&role=staff&per_page=5").await.json();
        assert_eq!(listed["total"], 1);
        assert_eq!(listed["per_page"], 5);
        let by_unit = t.get(&admin, &format!("/api/v1/users?unit_id={}", t.tree.east)).await.json();
        assert_eq!(by_unit["total"], 1);

        let updated = t.patch(&admin, &format!("/api/v1/users/{id}"), json!({
            "display_name": "张三丰", "phone": null, "roles": ["inspector"], "unit_id": t.tree.west
        })).await;
        updated.expect(StatusCode::OK);
        assert_eq!(updated.json()["phone"], serde_json::Value::Null);
        assert_eq!(updated.json()["unit"]["code"], "990103");
        assert_eq!(updated.json()["roles"], json!(["inspector"]));

        t.post(&admin, &format!("/api/v1/users/{id}/password"), json!({ "password": "Reset-Pass-33" })).await.expect(StatusCode::NO_CONTENT);
        let login = t.login("zhang.san", "Reset-Pass-33").await;
        assert_eq!(login.json()["password_change_required"], "initial");
        // Signed in once: it can no longer be deleted, only disabled.
        let refused = t.delete(&admin, &format!("/api/v1/users/{id}")).await;
        refused.expect(StatusCode::CONFLICT);
        assert_eq!(refused.code(), "user_has_signed_in");
        let own = t.store.get_user_by_username(&beacon_core::scope::Scope::Global, "sys.admin").await.unwrap().id;
        // Administrator accounts, one's own included, are managed on the server only.
        let myself = t.patch(&admin, &format!("/api/v1/users/{own}"), json!({ "active": false })).await;
        assert_eq!(myself.code(), "admin_account_cli_only");
    }

    async fn administrator_accounts_are_out_of_the_apis_reach(t: TestApp) {
        let admin = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        let auditor = t.user("aud.admin", &t.tree.city, &[Role::AuditAdmin]).await;
        for body in [json!({ "active": false }), json!({ "roles": ["staff"] })] {
            let response = t.patch(&admin, &format!("/api/v1/users/{auditor}"), body).await;
            assert_eq!(response.code(), "admin_account_cli_only");
        }
        let reset = t.post(&admin, &format!("/api/v1/users/{auditor}/password"), json!({ "password": "Reset-Pass-33" })).await;
        assert_eq!(reset.code(), "admin_account_cli_only");
        let delete = t.delete(&admin, &format!("/api/v1/users/{auditor}")).await;
        assert_eq!(delete.code(), "admin_account_cli_only");
        // Not even one's own password: a stolen session must not become the password.
        let own = t.store.get_user_by_username(&beacon_core::scope::Scope::Global, "sys.admin").await.unwrap().id;
        let reset = t.post(&admin, &format!("/api/v1/users/{own}/password"), json!({ "password": "Reset-Pass-33" })).await;
        reset.expect(StatusCode::FORBIDDEN);
        assert_eq!(reset.code(), "admin_account_cli_only");
        t.login("sys.admin", crate::PASSWORD).await.expect(StatusCode::OK);
        // Refusals the store makes are audited like the others.
        let denied = t.audit_actions("access.denied").await;
        let refusals: Vec<_> = denied.iter().filter(|r| r.detail.contains("admin_account_cli_only")).collect();
        assert_eq!(refusals.len(), 5, "{denied:#?}");
        assert!(denied.iter().any(|r| r.target_id.as_deref() == Some(own.as_str())));
    }
}

backend_tests! {
    async fn an_administrator_renames_the_unit_at_the_top_of_its_scope_without_moving_it(t: TestApp) {
        let east = t.signed_in("east.admin", &t.tree.east, &[Role::SystemAdmin]).await;
        let city = t.signed_in("city.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        // Its own district: the name, and the parent sent back unchanged as a form does.
        let renamed = t.patch(&east, &format!("/api/v1/units/{}", t.tree.east), json!({ "name": "江南新区" })).await;
        renamed.expect(StatusCode::OK);
        assert_eq!(renamed.json()["name"], "江南新区");
        assert_eq!(renamed.json()["parent_id"], t.tree.city.as_str());
        let same_place = t.patch(&east, &format!("/api/v1/units/{}", t.tree.east), json!({ "name": "江南区", "parent_id": t.tree.city, "level": "district", "sort_order": 3 })).await;
        same_place.expect(StatusCode::OK);
        assert_eq!(same_place.json()["sort_order"], 3);
        // The top of the tree too.
        t.patch(&city, &format!("/api/v1/units/{}", t.tree.city), json!({ "name": "临江市（新）" })).await.expect(StatusCode::OK);
        // Moving or re-levelling its own unit stays refused, and so does moving a unit out of
        // its scope.
        let moved = t.patch(&east, &format!("/api/v1/units/{}", t.tree.east), json!({ "name": "x", "parent_id": t.tree.west })).await;
        moved.expect(StatusCode::FORBIDDEN);
        assert_eq!(moved.code(), "cannot_move_scope_root");
        let relevel = t.patch(&east, &format!("/api/v1/units/{}", t.tree.east), json!({ "level": "township" })).await;
        assert_eq!(relevel.code(), "cannot_move_scope_root");
        let away = t.patch(&east, &format!("/api/v1/units/{}", t.tree.town), json!({ "parent_id": t.tree.west })).await;
        away.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(away.json()["fields"]["parent_id"], "not_found");
        let up = t.patch(&east, &format!("/api/v1/units/{}", t.tree.town), json!({ "parent_id": t.tree.city })).await;
        assert_eq!(up.json()["fields"]["parent_id"], "not_found");
        let units = t.get(&city, "/api/v1/units").await.json();
        let east_now = units.as_array().unwrap().iter().find(|u| u["id"] == t.tree.east.as_str()).unwrap().clone();
        assert_eq!((east_now["name"].as_str(), east_now["parent_id"].as_str()), (Some("江南区"), Some(t.tree.city.as_str())));
        let town = units.as_array().unwrap().iter().find(|u| u["id"] == t.tree.town.as_str()).unwrap().clone();
        assert_eq!(town["parent_id"], t.tree.east.as_str());
        let renames = t.audit_actions("unit.update").await;
        assert_eq!(renames.len(), 3, "two renames of the district and one of the city");
    }
}
