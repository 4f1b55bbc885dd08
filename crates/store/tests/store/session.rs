use beacon_core::org::{Role, SecurityPolicy};
use beacon_core::scope::Scope;
use beacon_store::{StoreError, backend_tests};
use chrono::Duration;

use crate::TestStore;

backend_tests! {
    async fn failures_lock_a_name_at_the_threshold_within_the_window(t: TestStore) {
        let tree = t.city().await;
        t.user("east.staff", &tree.east, &[Role::Staff]).await;
        let account = t.store.find_login("east.staff").await.unwrap();
        let policy = SecurityPolicy::default();
        // Four failures, then the window passes: the count starts again.
        for _ in 0..4 {
            let (_, locked) = t.store.record_login_failure("east.staff", account.as_ref(), &policy, None, "bad_password").await.unwrap();
            assert!(locked.is_none());
        }
        t.clock.advance(Duration::minutes(15) + Duration::milliseconds(1));
        let (count, locked) = t.store.record_login_failure("east.staff", account.as_ref(), &policy, None, "bad_password").await.unwrap();
        assert_eq!((count, locked), (1, None));
        for expected in 2..=4 {
            t.clock.advance(Duration::minutes(1));
            let (count, _) = t.store.record_login_failure("east.staff", account.as_ref(), &policy, None, "bad_password").await.unwrap();
            assert_eq!(count, expected);
        }
        let (count, locked) = t.store.record_login_failure("east.staff", account.as_ref(), &policy, None, "bad_password").await.unwrap();
        assert_eq!(count, 5);
        let until = locked.expect("locked at the fifth failure");
        assert_eq!(until, t.store.now() + Duration::minutes(15));
        assert_eq!(t.store.locked_until("east.staff").await.unwrap(), Some(until));
        // The user list shows it to administrators.
        let user = t.store.get_user_by_username(&Scope::Global, "east.staff").await.unwrap();
        assert_eq!(user.locked_until, Some(until));
        // A lock ends on its own.
        t.clock.advance(Duration::minutes(15));
        assert_eq!(t.store.locked_until("east.staff").await.unwrap(), None);
    }

    async fn unknown_names_lock_like_real_ones(t: TestStore) {
        let tree = t.city().await;
        let policy = SecurityPolicy::default();
        for _ in 0..5 {
            t.store.record_login_failure("nobody", None, &policy, Some("10.0.0.9".into()), "unknown_user").await.unwrap();
        }
        assert!(t.store.locked_until("nobody").await.unwrap().is_some());
        // Visible to a security administrator at the top of the tree only.
        let top = t.store.list_locks(&Scope::subtree(&tree.city)).await.unwrap();
        assert_eq!(top.len(), 1);
        assert_eq!(top[0].user_id, None);
        assert!(t.store.list_locks(&Scope::subtree(&tree.east)).await.unwrap().is_empty());
        assert!(matches!(
            t.store.unlock(&Scope::subtree(&tree.east), &TestStore::operator(), "nobody").await,
            Err(StoreError::NotFound)
        ));
        t.store.unlock(&Scope::subtree(&tree.city), &TestStore::operator(), "nobody").await.unwrap();
        assert_eq!(t.store.locked_until("nobody").await.unwrap(), None);
    }

    async fn sessions_carry_the_principal_and_end(t: TestStore) {
        let tree = t.city().await;
        let id = t.user("east.leader", &tree.east, &[Role::Leader, Role::DutyLeader]).await;
        let account = t.store.find_login("east.leader").await.unwrap().unwrap();
        let policy = SecurityPolicy::default();
        t.store.record_login_failure("east.leader", Some(&account), &policy, None, "bad_password").await.unwrap();
        let expires = t.store.now() + Duration::hours(12);
        t.store.start_session(&account, "token-hash", expires, Some("10.1.1.1".into()), Some("test".into())).await.unwrap();
        let principal = t.store.session_principal("token-hash").await.unwrap().unwrap();
        assert_eq!(principal.user_id, id);
        assert_eq!(principal.unit.id, tree.east);
        assert_eq!(principal.roles, vec![beacon_core::org::Role::DutyLeader, beacon_core::org::Role::Leader]);
        assert!(!principal.revoked);
        assert_eq!(principal.expires_at, expires);
        assert!(t.store.session_principal("other").await.unwrap().is_none());
        // A success clears the failures counted so far.
        let (count, _) = t.store.record_login_failure("east.leader", Some(&account), &policy, None, "bad_password").await.unwrap();
        assert_eq!(count, 1);
        t.clock.advance(Duration::minutes(2));
        t.store.touch_session("token-hash").await.unwrap();
        let principal = t.store.session_principal("token-hash").await.unwrap().unwrap();
        assert_eq!(principal.last_seen_at, t.store.now());
        let actor = beacon_core::audit::Actor::caller(Some(&id), "east.leader", Some(&tree.east), None);
        t.store.end_session("token-hash", &actor).await.unwrap();
        assert!(t.store.session_principal("token-hash").await.unwrap().unwrap().revoked);
        let user = t.store.get_user(&Scope::Global, &id).await.unwrap();
        assert!(user.last_login_at.is_some());
    }

    async fn policy_is_stored_validated_and_audited(t: TestStore) {
        assert_eq!(t.store.security_policy().await.unwrap(), SecurityPolicy::default());
        let stricter = SecurityPolicy { password_min_length: 12, lockout_threshold: 3, ..SecurityPolicy::default() };
        t.store.set_security_policy(&TestStore::operator(), &stricter).await.unwrap();
        assert_eq!(t.store.security_policy().await.unwrap(), stricter);
        let weak = SecurityPolicy { password_min_length: 4, ..SecurityPolicy::default() };
        assert!(matches!(
            t.store.set_security_policy(&TestStore::operator(), &weak).await,
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(t.store.security_policy().await.unwrap(), stricter);
    }

    async fn a_session_is_not_opened_for_a_name_locked_meanwhile(t: TestStore) {
        let tree = t.city().await;
        t.user("late.one", &tree.east, &[Role::Staff]).await;
        let account = t.store.find_login("late.one").await.unwrap().unwrap();
        let policy = SecurityPolicy::default();
        for _ in 0..5 {
            t.store.record_login_failure("late.one", Some(&account), &policy, None, "bad_password").await.unwrap();
        }
        let expires = t.store.now() + Duration::hours(1);
        let result = t.store.start_session(&account, "late-hash", expires, None, None).await;
        assert!(matches!(result, Err(StoreError::Locked(_))), "{result:?}");
        assert!(t.store.session_principal("late-hash").await.unwrap().is_none());
    }
}
