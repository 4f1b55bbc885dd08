use axum::http::{StatusCode, header};
use beacon_core::org::Role;
use beacon_store::backend_tests;
use chrono::Duration;
use serde_json::json;

use crate::{PASSWORD, TestApp};

backend_tests! {
    async fn sign_in_sets_a_strict_cookie_and_sign_out_revokes_it(t: TestApp) {
        t.user("east.officer", &t.tree.east, &[Role::DutyOfficer]).await;
        let response = t.login("East.Officer", PASSWORD).await;
        let cookie = response.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().to_owned();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"), "{cookie}");
        assert!(!cookie.contains("Secure"), "plain HTTP without a trusted proxy: {cookie}");
        let me = response.json();
        assert_eq!(me["username"], "east.officer");
        assert_eq!(me["unit"]["code"], "990102");
        assert_eq!(me["roles"], json!(["duty_officer"]));
        assert_eq!(me["password_change_required"], serde_json::Value::Null);
        let session = response.session();
        // Only the hash of the token is stored.
        let token = session.cookie.split_once('=').unwrap().1.to_owned();
        let hash = beacon_api::password::token_hash(&token);
        assert!(t.store.session_principal(&hash).await.unwrap().is_some());
        assert!(t.store.session_principal(&token).await.unwrap().is_none());

        let me = t.get(&session, "/api/v1/me").await;
        me.expect(StatusCode::OK);
        assert_eq!(me.json()["username"], "east.officer");
        let out = t.post(&session, "/api/v1/auth/logout", json!({})).await;
        out.expect(StatusCode::NO_CONTENT);
        assert!(out.headers.get(header::SET_COOKIE).unwrap().to_str().unwrap().contains("Max-Age=0"));
        let after = t.get(&session, "/api/v1/me").await;
        after.expect(StatusCode::UNAUTHORIZED);
        assert_eq!(after.code(), "session_expired");
        assert_eq!(t.audit_actions("auth.logout").await.len(), 1);
    }

    async fn five_wrong_passwords_lock_the_account(t: TestApp) {
        t.user("east.leader", &t.tree.east, &[Role::DutyLeader]).await;
        for left in (1..=4).rev() {
            let response = t.login("east.leader", "Wrong-Password-9").await;
            response.expect(StatusCode::UNAUTHORIZED);
            assert_eq!(response.code(), "invalid_credentials");
            assert_eq!(response.json()["remaining_attempts"], left);
        }
        let fifth = t.login("east.leader", "Wrong-Password-9").await;
        fifth.expect(StatusCode::LOCKED);
        assert_eq!(fifth.code(), "account_locked");
        let until = fifth.json()["locked_until"].as_str().unwrap().to_owned();
        // Locked means locked, even with the right password.
        let right = t.login("east.leader", PASSWORD).await;
        right.expect(StatusCode::LOCKED);
        assert_eq!(right.json()["locked_until"].as_str().unwrap(), until);
        assert_eq!(t.audit_actions("auth.lockout").await.len(), 1);
        let failures = t.audit_actions("auth.login").await;
        assert!(failures.iter().filter(|r| r.outcome == "failure").count() >= 5);
        assert!(failures.iter().any(|r| r.outcome == "denied" && r.detail.contains("locked")));
        // The security administrator unlocks it.
        let security = t.signed_in("sec.admin", &t.tree.city, &[Role::SecurityAdmin]).await;
        let locks = t.get(&security, "/api/v1/security/locks").await;
        assert_eq!(locks.json()[0]["username"], "east.leader");
        t.delete(&security, "/api/v1/security/locks/east.leader").await.expect(StatusCode::NO_CONTENT);
        t.login("east.leader", PASSWORD).await.expect(StatusCode::OK);
    }

    async fn a_lock_ends_by_itself(t: TestApp) {
        t.user("town.staff", &t.tree.town, &[Role::Staff]).await;
        for _ in 0..5 {
            t.login("town.staff", "Wrong-Password-9").await;
        }
        t.login("town.staff", PASSWORD).await.expect(StatusCode::LOCKED);
        t.clock.advance(Duration::minutes(15));
        t.login("town.staff", PASSWORD).await.expect(StatusCode::OK);
    }

    async fn unknown_names_look_like_wrong_passwords(t: TestApp) {
        let response = t.login("nobody.here", "Wrong-Password-9").await;
        response.expect(StatusCode::UNAUTHORIZED);
        assert_eq!(response.code(), "invalid_credentials");
        assert_eq!(response.json()["remaining_attempts"], 4);
        for _ in 0..4 {
            t.login("nobody.here", "Wrong-Password-9").await;
        }
        t.login("nobody.here", "Wrong-Password-9").await.expect(StatusCode::LOCKED);
    }

    async fn disabled_accounts_cannot_sign_in(t: TestApp) {
        let id = t.user("west.staff", &t.tree.west, &[Role::Staff]).await;
        let session = t.login("west.staff", PASSWORD).await.session();
        let admin = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        t.patch(&admin, &format!("/api/v1/users/{id}"), json!({ "active": false })).await.expect(StatusCode::OK);
        // Disabling ends the sessions at once.
        t.get(&session, "/api/v1/me").await.expect(StatusCode::UNAUTHORIZED);
        let response = t.login("west.staff", PASSWORD).await;
        response.expect(StatusCode::FORBIDDEN);
        assert_eq!(response.code(), "account_disabled");
        // A wrong password on a disabled account says only "wrong".
        assert_eq!(t.login("west.staff", "Wrong-Password-9").await.code(), "invalid_credentials");
    }

    async fn admin_created_accounts_change_their_password_first(t: TestApp) {
        let admin = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        let created = t.post(&admin, "/api/v1/users", json!({
            "username": "new.officer", "display_name": "新值班员", "unit_id": t.tree.east,
            "roles": ["duty_officer"], "password": "Initial-Pass-1"
        })).await;
        created.expect(StatusCode::CREATED);
        assert_eq!(created.json()["must_change_password"], true);
        let response = t.login("new.officer", "Initial-Pass-1").await;
        assert_eq!(response.json()["password_change_required"], "initial");
        let session = response.session();
        let blocked = t.get(&session, "/api/v1/units").await;
        blocked.expect(StatusCode::FORBIDDEN);
        assert_eq!(blocked.code(), "password_change_required");
        t.get(&session, "/api/v1/me").await.expect(StatusCode::OK);

        let wrong = t.post(&session, "/api/v1/auth/password", json!({ "current_password": "nope", "new_password": "Better-Pass-22" })).await;
        wrong.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(wrong.json()["fields"]["current_password"], "wrong_password");
        let weak = t.post(&session, "/api/v1/auth/password", json!({ "current_password": "Initial-Pass-1", "new_password": "short1A" })).await;
        assert_eq!(weak.json()["fields"]["new_password"], "password_too_short");
        // The rule itself, so the message can say it.
        assert_eq!(weak.json()["rules"]["new_password"]["min_length"], 10);
        assert_eq!(weak.json()["rules"]["new_password"]["min_classes"], 3);
        let simple = t.post(&session, "/api/v1/auth/password", json!({ "current_password": "Initial-Pass-1", "new_password": "alllowercase" })).await;
        assert_eq!(simple.json()["fields"]["new_password"], "password_too_few_classes");
        let same = t.post(&session, "/api/v1/auth/password", json!({ "current_password": "Initial-Pass-1", "new_password": "Initial-Pass-1" })).await;
        assert_eq!(same.json()["fields"]["new_password"], "password_reused");
        let changed = t.post(&session, "/api/v1/auth/password", json!({ "current_password": "Initial-Pass-1", "new_password": "Better-Pass-22" })).await;
        changed.expect(StatusCode::OK);
        assert_eq!(changed.json()["password_change_required"], serde_json::Value::Null);
        // The same session goes on, now unblocked.
        t.get(&session, "/api/v1/units").await.expect(StatusCode::OK);
        t.login("new.officer", "Better-Pass-22").await.expect(StatusCode::OK);
        assert_eq!(t.audit_actions("auth.password_change").await.len(), 1);
    }

    async fn passwords_expire_after_the_maximum_age(t: TestApp) {
        t.user("old.timer", &t.tree.east, &[Role::Staff]).await;
        t.clock.advance(Duration::days(90));
        let response = t.login("old.timer", PASSWORD).await;
        assert_eq!(response.json()["password_change_required"], "expired");
        let session = response.session();
        assert_eq!(t.get(&session, "/api/v1/units").await.code(), "password_change_required");
    }

    async fn idle_sessions_end_after_thirty_minutes(t: TestApp) {
        let session = t.signed_in("idle.user", &t.tree.east, &[Role::Viewer]).await;
        t.clock.advance(Duration::minutes(29));
        t.get(&session, "/api/v1/me").await.expect(StatusCode::OK);
        // Activity restarts the idle clock.
        t.clock.advance(Duration::minutes(29));
        t.get(&session, "/api/v1/me").await.expect(StatusCode::OK);
        t.clock.advance(Duration::minutes(30));
        let response = t.get(&session, "/api/v1/me").await;
        response.expect(StatusCode::UNAUTHORIZED);
        assert_eq!(response.code(), "session_expired");
    }

    async fn sessions_end_after_twelve_hours_whatever_their_use(t: TestApp) {
        let session = t.signed_in("busy.user", &t.tree.east, &[Role::Viewer]).await;
        for _ in 0..35 {
            t.clock.advance(Duration::minutes(20));
            t.get(&session, "/api/v1/me").await.expect(StatusCode::OK);
        }
        t.clock.advance(Duration::minutes(20));
        assert_eq!(t.get(&session, "/api/v1/me").await.code(), "session_expired");
    }

    async fn requests_without_a_session_are_401(t: TestApp) {
        let response = t.call(None, axum::http::Method::GET, "/api/v1/units", None).await;
        response.expect(StatusCode::UNAUTHORIZED);
        assert_eq!(response.code(), "unauthenticated");
        let forged = crate::Session { cookie: "beacon_session=forged".into() };
        assert_eq!(t.get(&forged, "/api/v1/me").await.code(), "unauthenticated");
        // The password rules are public: the sign-in page shows them.
        let rules = t.call(None, axum::http::Method::GET, "/api/v1/auth/password-rules", None).await;
        assert_eq!(rules.json()["min_length"], 10);
    }

    async fn sign_in_input_is_validated(t: TestApp) {
        let empty = t.login("", "").await;
        empty.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(empty.json()["fields"]["username"], "required");
        assert_eq!(empty.json()["fields"]["password"], "required");
        let long = t.login(&"a".repeat(65), "x").await;
        assert_eq!(long.json()["fields"]["username"], "too_long");
        let huge = t.login("someone", &"x".repeat(129)).await;
        assert_eq!(huge.json()["fields"]["password"], "too_long");
    }

    async fn a_flood_of_guesses_is_cut_off_by_the_lock(t: TestApp) {
        t.user("target", &t.tree.east, &[Role::Staff]).await;
        let attempts = (0..30).map(|_| t.login("target", "Wrong-Password-9"));
        let responses = futures::future::join_all(attempts).await;
        let guessed = responses.iter().filter(|r| r.status == StatusCode::UNAUTHORIZED).count();
        let locked = responses.iter().filter(|r| r.status == StatusCode::LOCKED).count();
        assert_eq!(guessed + locked, 30);
        // Only guesses already being checked when the lock fell got an answer on the password.
        assert!(guessed <= 4 + 2 * 8, "{guessed} guesses were checked");
        assert!(locked >= 10, "{locked}");
        t.login("target", PASSWORD).await.expect(StatusCode::LOCKED);
    }

    async fn control_characters_in_a_name_are_refused_not_stored(t: TestApp) {
        let response = t.login("a\u{0}b", "Wrong-Password-9").await;
        response.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(response.json()["fields"]["username"], "invalid_characters");
        assert!(t.audit_actions("auth.login").await.is_empty());
    }
}
