use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use beacon_core::org::Role;
use beacon_store::backend_tests;
use serde_json::json;

use crate::TestApp;

backend_tests! {
    async fn the_three_administrators_cannot_do_each_others_work(t: TestApp) {
        let system = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        let security = t.signed_in("sec.admin", &t.tree.city, &[Role::SecurityAdmin]).await;
        let audit = t.signed_in("aud.admin", &t.tree.city, &[Role::AuditAdmin]).await;
        let policy = t.get(&security, "/api/v1/security/policy").await.json();

        // The system administrator: units and users, not the audit trail or the policy.
        t.get(&system, "/api/v1/audit").await.expect(StatusCode::FORBIDDEN);
        t.get(&system, "/api/v1/security/policy").await.expect(StatusCode::FORBIDDEN);
        t.put(&system, "/api/v1/security/policy", policy.clone()).await.expect(StatusCode::FORBIDDEN);
        t.delete(&system, "/api/v1/security/locks/anyone").await.expect(StatusCode::FORBIDDEN);
        // The security administrator: the policy and locks, not units, users or the audit trail.
        t.post(&security, "/api/v1/units", json!({ "parent_id": t.tree.city, "code": "1", "name": "x", "level": "district" })).await.expect(StatusCode::FORBIDDEN);
        t.post(&security, "/api/v1/users", json!({})).await.expect(StatusCode::FORBIDDEN);
        t.get(&security, "/api/v1/audit").await.expect(StatusCode::FORBIDDEN);
        t.get(&security, "/api/v1/users").await.expect(StatusCode::OK);
        // The audit administrator: reads the trail and nothing else.
        t.get(&audit, "/api/v1/audit").await.expect(StatusCode::OK);
        t.get(&audit, "/api/v1/users").await.expect(StatusCode::FORBIDDEN);
        t.get(&audit, "/api/v1/tokens").await.expect(StatusCode::FORBIDDEN);
        t.get(&audit, "/api/v1/security/policy").await.expect(StatusCode::FORBIDDEN);
        t.post(&audit, "/api/v1/units", json!({ "parent_id": t.tree.city, "code": "1", "name": "x", "level": "district" })).await.expect(StatusCode::FORBIDDEN);
        // Every refusal is in the audit trail.
        let denied = t.audit_actions("access.denied").await;
        assert!(denied.len() >= 10, "{}", denied.len());
        assert!(denied.iter().any(|r| r.actor_name == "aud.admin" && r.detail.contains("/api/v1/units")));
        // Business roles hold none of the three administrators' permissions.
        let officer = t.signed_in("officer", &t.tree.city, &[Role::DutyOfficer, Role::Leader]).await;
        t.get(&officer, "/api/v1/users").await.expect(StatusCode::FORBIDDEN);
        t.get(&officer, "/api/v1/audit").await.expect(StatusCode::FORBIDDEN);
        t.get(&officer, "/api/v1/units").await.expect(StatusCode::OK);
        let me = t.get(&officer, "/api/v1/me").await.json();
        assert_eq!(
            me["permissions"],
            json!([
                "read_duty",
                "manage_duty",
                "read_duty_log",
                "write_duty_log",
                "read_incidents",
                "report_incident",
                "handle_incidents",
                "lead_incidents",
                "read_enterprises",
                "manage_enterprises",
                "handle_tipoffs",
                "approve_rewards"
            ])
        );
        let me = t.get(&audit, "/api/v1/me").await.json();
        assert_eq!(me["permissions"], json!(["read_audit"]));
    }

    async fn the_security_policy_is_edited_within_bounds(t: TestApp) {
        let security = t.signed_in("sec.admin", &t.tree.city, &[Role::SecurityAdmin]).await;
        let mut policy = t.get(&security, "/api/v1/security/policy").await.json();
        assert_eq!(policy["lockout_threshold"], 5);
        policy["lockout_threshold"] = json!(3);
        policy["password_min_length"] = json!(12);
        t.put(&security, "/api/v1/security/policy", policy.clone()).await.expect(StatusCode::OK);
        // The new rules apply at once on this instance.
        let rules = t.call(None, axum::http::Method::GET, "/api/v1/auth/password-rules", None).await.json();
        assert_eq!(rules["min_length"], 12);
        t.user("victim", &t.tree.east, &[Role::Staff]).await;
        for _ in 0..2 {
            t.login("victim", "Wrong-Password-9").await.expect(StatusCode::UNAUTHORIZED);
        }
        t.login("victim", "Wrong-Password-9").await.expect(StatusCode::LOCKED);
        policy["password_min_length"] = json!(4);
        let weak = t.put(&security, "/api/v1/security/policy", policy.clone()).await;
        weak.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(weak.json()["fields"]["password_min_length"], "out_of_range");
        let mut partial = policy.clone();
        partial.as_object_mut().unwrap().remove("idle_timeout_minutes");
        let missing = t.put(&security, "/api/v1/security/policy", partial).await;
        assert_eq!(missing.json()["fields"]["idle_timeout_minutes"], "required");
        let changes = t.audit_actions("security.policy_update").await;
        assert_eq!(changes.len(), 1);
        assert!(changes[0].detail.contains("\"lockout_threshold\":3"));
    }

    async fn api_tokens_act_within_their_unit_and_roles(t: TestApp) {
        let admin = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        let created = t.post(&admin, "/api/v1/tokens", json!({ "name": "雨量站接入", "unit_id": t.tree.east, "roles": ["viewer"] })).await;
        created.expect(StatusCode::CREATED);
        let secret = created.json()["secret"].as_str().unwrap().to_owned();
        let id = created.json()["token"]["id"].as_str().unwrap().to_owned();
        assert!(secret.starts_with("bk_"));
        let bearer = |path: &str, secret: &str| {
            Request::get(path).header(header::AUTHORIZATION, format!("Bearer {secret}")).body(Body::empty()).unwrap()
        };
        let units = t.send(bearer("/api/v1/units", &secret)).await;
        units.expect(StatusCode::OK);
        assert_eq!(units.json().as_array().unwrap().len(), 2, "only the east district's subtree");
        t.send(bearer("/api/v1/users", &secret)).await.expect(StatusCode::FORBIDDEN);
        let me = t.send(bearer("/api/v1/me", &secret)).await.json();
        assert_eq!(me["username"], "token:雨量站接入");
        // Tokens never carry administrator roles.
        let admin_token = t.post(&admin, "/api/v1/tokens", json!({ "name": "x", "unit_id": t.tree.east, "roles": ["system_admin"] })).await;
        assert_eq!(admin_token.json()["fields"]["roles"], "admin_role_not_allowed");
        let past = t.post(&admin, "/api/v1/tokens", json!({ "name": "x", "unit_id": t.tree.east, "roles": ["viewer"], "expires_at": "2000-01-01T00:00:00Z" })).await;
        assert_eq!(past.json()["fields"]["expires_at"], "in_the_past");
        let listed = t.get(&admin, "/api/v1/tokens").await.json();
        assert_eq!(listed.as_array().unwrap().len(), 1);
        assert!(!listed.to_string().contains(&secret), "the secret is never shown again");
        t.delete(&admin, &format!("/api/v1/tokens/{id}")).await.expect(StatusCode::NO_CONTENT);
        let revoked = t.send(bearer("/api/v1/units", &secret)).await;
        revoked.expect(StatusCode::UNAUTHORIZED);
        assert_eq!(revoked.code(), "invalid_token");
        t.send(bearer("/api/v1/units", "bk_made-up")).await.expect(StatusCode::UNAUTHORIZED);
        t.delete(&admin, &format!("/api/v1/tokens/{id}")).await.expect(StatusCode::CONFLICT);
        // An expiring token stops at its time.
        let expiring = t.post(&admin, "/api/v1/tokens", json!({
            "name": "temp", "unit_id": t.tree.city, "roles": ["viewer"],
            "expires_at": (t.store.now() + chrono::Duration::hours(1)).to_rfc3339()
        })).await.json();
        let secret = expiring["secret"].as_str().unwrap().to_owned();
        t.send(bearer("/api/v1/units", &secret)).await.expect(StatusCode::OK);
        t.clock.advance(chrono::Duration::hours(1));
        t.send(bearer("/api/v1/units", &secret)).await.expect(StatusCode::UNAUTHORIZED);
    }

    async fn only_the_top_unit_sets_the_policy(t: TestApp) {
        let district = t.signed_in("east.security", &t.tree.east, &[Role::SecurityAdmin]).await;
        let policy = t.get(&district, "/api/v1/security/policy").await.json();
        let refused = t.put(&district, "/api/v1/security/policy", policy).await;
        refused.expect(StatusCode::FORBIDDEN);
        assert_eq!(refused.code(), "policy_top_unit_only");
        assert!(t.audit_actions("access.denied").await.iter().any(|r| r.detail.contains("policy_top_unit_only")));
    }

    async fn control_characters_in_filters_are_refused(t: TestApp) {
        let system = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        let q = t.get(&system, "/api/v1/users?q=a%00b").await;
        q.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(q.json()["fields"]["q"], "invalid_characters");
        t.get(&system, "/api/v1/users?unit_id=nope").await.expect(StatusCode::UNPROCESSABLE_ENTITY);
        let audit = t.signed_in("aud.admin", &t.tree.city, &[Role::AuditAdmin]).await;
        assert_eq!(t.get(&audit, "/api/v1/audit?actor=%00").await.json()["fields"]["actor"], "invalid_characters");
        let security = t.signed_in("sec.admin", &t.tree.city, &[Role::SecurityAdmin]).await;
        t.delete(&security, "/api/v1/security/locks/a%00b").await.expect(StatusCode::NOT_FOUND);
    }

    async fn a_huge_refused_path_cannot_break_the_export(t: TestApp) {
        let staff = t.signed_in("staff", &t.tree.east, &[Role::Staff]).await;
        let path = format!("/api/v1/users/{}", "a".repeat(40_000));
        t.get(&staff, &path).await.expect(StatusCode::FORBIDDEN);
        let denied = t.audit_actions("access.denied").await;
        assert!(denied[0].detail.len() < 1_000, "{}", denied[0].detail.len());
        let auditor = t.signed_in("aud.admin", &t.tree.city, &[Role::AuditAdmin]).await;
        t.get(&auditor, "/api/v1/audit/export").await.expect(StatusCode::OK);
    }
}

backend_tests! {
    async fn tokens_carry_integration_roles_only(t: TestApp) {
        let admin = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        // The administrator who receives the secret must not get a business role through it.
        for roles in [
            json!(["duty_leader"]),
            json!(["duty_officer"]),
            json!(["leader"]),
            json!(["inspector"]),
            json!(["petition_officer"]),
            json!(["staff"]),
            json!(["viewer", "duty_officer"]),
        ] {
            let refused = t.post(&admin, "/api/v1/tokens", json!({ "name": "x", "unit_id": t.tree.east, "roles": roles })).await;
            refused.expect(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(refused.json()["fields"]["roles"], "not_allowed_for_token", "{roles}");
        }
        let admin_role = t.post(&admin, "/api/v1/tokens", json!({ "name": "x", "unit_id": t.tree.east, "roles": ["audit_admin"] })).await;
        assert_eq!(admin_role.json()["fields"]["roles"], "admin_role_not_allowed");
        assert_eq!(t.get(&admin, "/api/v1/tokens").await.json(), json!([]), "none was made");
        assert!(t.audit_actions("token.create").await.is_empty());

        // An enterprise's system and a read-only display are integrations.
        for roles in [json!(["enterprise"]), json!(["viewer"]), json!(["enterprise", "viewer"])] {
            let made = t.post(&admin, "/api/v1/tokens", json!({ "name": "接入", "unit_id": t.tree.east, "roles": roles })).await;
            made.expect(StatusCode::CREATED);
            assert_eq!(made.json()["token"]["roles"], roles);
        }
        // What a token can do is what its roles allow: never the duty log nor a leader's work.
        let made = t.post(&admin, "/api/v1/tokens", json!({ "name": "大屏", "unit_id": t.tree.city, "roles": ["enterprise", "viewer"] })).await.json();
        let secret = made["secret"].as_str().unwrap().to_owned();
        let as_token = |method: axum::http::Method, path: &str| {
            Request::builder().method(method).uri(path).header(header::AUTHORIZATION, format!("Bearer {secret}")).body(Body::empty()).unwrap()
        };
        t.send(as_token(axum::http::Method::GET, "/api/v1/duty/log")).await.expect(StatusCode::FORBIDDEN);
        t.send(as_token(axum::http::Method::GET, "/api/v1/users")).await.expect(StatusCode::FORBIDDEN);
        t.send(as_token(axum::http::Method::GET, "/api/v1/incidents")).await.expect(StatusCode::OK);
        let me = t.send(as_token(axum::http::Method::GET, "/api/v1/me")).await.json();
        assert_eq!(
            me["permissions"],
            json!(["read_duty", "read_incidents", "report_incident", "read_enterprises", "own_enterprise"])
        );
    }

    async fn only_an_administrator_of_the_top_unit_edits_the_holiday_calendar(t: TestApp) {
        let district = t.signed_in("east.admin", &t.tree.east, &[Role::SystemAdmin]).await;
        let top = t.signed_in("city.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        let body = json!({ "holidays": ["2027-01-01"], "workdays": [] });
        // The district administrator: refused, audited, and not offered the edit.
        let put = t.put(&district, "/api/v1/calendar/years/2027", body.clone()).await;
        put.expect(StatusCode::FORBIDDEN);
        assert_eq!(put.code(), "forbidden");
        let delete = t.delete(&district, "/api/v1/calendar/years/2027").await;
        delete.expect(StatusCode::FORBIDDEN);
        assert_eq!(delete.code(), "forbidden");
        let denied = t.audit_actions("access.denied").await;
        assert!(denied.iter().filter(|r| r.actor_name == "east.admin" && r.detail.contains("ManageCalendar")).count() >= 2);
        let me = t.get(&district, "/api/v1/me").await.json();
        assert!(!me["permissions"].as_array().unwrap().iter().any(|p| p == "manage_calendar"), "{me}");
        let years = t.get(&district, "/api/v1/calendar/years").await.json();
        assert!(!years.as_array().unwrap().iter().any(|y| y["year"] == 2027), "nothing saved");
        // The top unit's administrator edits it for everyone, and may reset it.
        let me = t.get(&top, "/api/v1/me").await.json();
        assert!(me["permissions"].as_array().unwrap().iter().any(|p| p == "manage_calendar"));
        t.put(&top, "/api/v1/calendar/years/2027", body).await.expect(StatusCode::OK);
        let years = t.get(&district, "/api/v1/calendar/years").await.json();
        assert!(years.as_array().unwrap().iter().any(|y| y["year"] == 2027));
        t.delete(&district, "/api/v1/calendar/years/2027").await.expect(StatusCode::FORBIDDEN);
        t.delete(&top, "/api/v1/calendar/years/2027").await.expect(StatusCode::NO_CONTENT);
    }
}
