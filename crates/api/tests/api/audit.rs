use axum::http::{StatusCode, header};
use beacon_core::org::Role;
use beacon_store::backend_tests;
use serde_json::json;

use crate::TestApp;

backend_tests! {
    async fn every_write_and_sign_in_is_audited(t: TestApp) {
        let admin = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        t.login("sys.admin", "Wrong-Password-9").await;
        t.post(&admin, "/api/v1/units", json!({ "parent_id": t.tree.east, "code": "990102002", "name": "望江街道", "level": "township" })).await.expect(StatusCode::CREATED);
        let auditor = t.signed_in("aud.admin", &t.tree.city, &[Role::AuditAdmin]).await;
        let page = t.get(&auditor, "/api/v1/audit?per_page=50").await;
        page.expect(StatusCode::OK);
        let items = page.json()["items"].as_array().unwrap().clone();
        let actions: Vec<_> = items.iter().map(|r| r["action"].as_str().unwrap().to_owned()).collect();
        assert!(actions.contains(&"unit.create".to_owned()));
        let failure = items.iter().find(|r| r["action"] == "auth.login" && r["outcome"] == "failure").unwrap();
        assert_eq!(failure["actor_name"], "sys.admin");
        assert_eq!(failure["detail"]["reason"], "wrong_password");
        let created = items.iter().find(|r| r["action"] == "unit.create" && r["actor_name"] == "sys.admin").unwrap();
        assert_eq!(created["detail"]["after"]["name"], "望江街道");
        assert_eq!(created["outcome"], "success");
        // Filters.
        let logins = t.get(&auditor, "/api/v1/audit?action=auth.&outcome=failure").await.json();
        assert_eq!(logins["total"], 1);
        let by_actor = t.get(&auditor, "/api/v1/audit?actor=sys.adm&action=unit.create").await.json();
        assert_eq!(by_actor["total"], 1);
        let from = (t.store.now() + chrono::Duration::seconds(1)).to_rfc3339();
        let later = t.get(&auditor, &format!("/api/v1/audit?from={}", from.replace('+', "%2B"))).await.json();
        assert_eq!(later["total"], 0);
        let bad = t.get(&auditor, "/api/v1/audit?from=yesterday").await;
        bad.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.json()["fields"]["from"], "invalid_time");
        let verify = t.get(&auditor, "/api/v1/audit/verify").await.json();
        assert_eq!(verify["intact"], true);
        assert!(verify["records"].as_i64().unwrap() >= 8);
    }

    async fn records_name_people_and_records_as_a_person_reads_them(t: TestApp) {
        let mut new = beacon_store::testing::new_user("sys.admin", &t.tree.city, &[Role::SystemAdmin], &t.password_hash);
        new.display_name = beacon_core::org::DisplayName::parse("周管理").unwrap();
        t.store.create_user(&beacon_core::scope::Scope::Global, &beacon_core::audit::Actor::system("test"), new).await.unwrap();
        let admin = t.login("sys.admin", crate::PASSWORD).await.session();
        let made = t.post(&admin, "/api/v1/units", json!({ "parent_id": t.tree.east, "code": "990102003", "name": "临江街道", "level": "township" })).await;
        made.expect(StatusCode::CREATED);
        let unit = made.json()["id"].as_str().unwrap().to_owned();
        t.patch(&admin, &format!("/api/v1/units/{unit}"), json!({ "parent_id": t.tree.west })).await.expect(StatusCode::OK);

        let auditor = t.signed_in("aud.admin", &t.tree.city, &[Role::AuditAdmin]).await;
        let items = t.get(&auditor, "/api/v1/audit?action=unit.&per_page=50").await.json()["items"].as_array().unwrap().clone();
        let created = items.iter().find(|r| r["action"] == "unit.create").unwrap();
        assert_eq!(created["actor_name"], "周管理", "the person by name, not the login name");
        assert!(created["actor_unit_name"].as_str().unwrap().contains("临江"), "{created}");
        assert_eq!(created["target_label"], "990102003 临江街道");
        assert!(created["target_link"].is_null(), "an auditor may not open the units page");
        let moved = items.iter().find(|r| r["action"] == "unit.update").unwrap();
        assert_eq!(moved["names"][&t.tree.west], "990103 江北区", "the new parent by name: {moved}");
        assert_eq!(moved["names"][&t.tree.east], "990102 江南区", "the old parent by name: {moved}");
        // The login name still finds the person's records.
        let by_login = t.get(&auditor, "/api/v1/audit?actor=sys.admin&action=unit.create").await.json();
        assert_eq!(by_login["total"], 1);
    }

    async fn district_audit_administrators_see_their_district(t: TestApp) {
        let city_admin = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        t.post(&city_admin, "/api/v1/units", json!({ "parent_id": t.tree.west, "code": "990103009", "name": "西", "level": "township" })).await.expect(StatusCode::CREATED);
        t.post(&city_admin, "/api/v1/units", json!({ "parent_id": t.tree.east, "code": "990102009", "name": "东", "level": "township" })).await.expect(StatusCode::CREATED);
        t.login("who.is.this", "Wrong-Password-9").await;
        let east_auditor = t.signed_in("east.auditor", &t.tree.east, &[Role::AuditAdmin]).await;
        let page = t.get(&east_auditor, "/api/v1/audit?per_page=200").await.json();
        let items = page["items"].as_array().unwrap();
        assert!(items.iter().any(|r| r["detail"]["after"]["name"] == "东"));
        assert!(!items.iter().any(|r| r["detail"]["after"]["name"] == "西"));
        assert!(!items.iter().any(|r| r["actor_name"] == "who.is.this"), "unassigned records stay at the top");
        let city_auditor = t.signed_in("city.auditor", &t.tree.city, &[Role::AuditAdmin]).await;
        let all = t.get(&city_auditor, "/api/v1/audit?per_page=200").await.json();
        assert!(all["items"].as_array().unwrap().iter().any(|r| r["actor_name"] == "who.is.this"));
    }

    async fn the_trail_exports_to_excel(t: TestApp) {
        let auditor = t.signed_in("aud.admin", &t.tree.city, &[Role::AuditAdmin]).await;
        let export = t.get(&auditor, "/api/v1/audit/export?action=auth.").await;
        export.expect(StatusCode::OK);
        assert_eq!(export.headers[header::CONTENT_TYPE], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        assert!(export.headers[header::CONTENT_DISPOSITION].to_str().unwrap().contains(".xlsx"));
        assert_eq!(&export.bytes[..2], b"PK");
        assert_eq!(t.audit_actions("audit.export").await.len(), 1, "exports are audited");
        let english = t.get(&auditor, "/api/v1/audit/export?lang=en").await;
        english.expect(StatusCode::OK);
        let system = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        t.get(&system, "/api/v1/audit/export").await.expect(StatusCode::FORBIDDEN);
    }
}
