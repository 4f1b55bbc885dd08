use beacon_core::audit::{ChainBreak, NewAuditRecord, Outcome};
use beacon_core::org::{Role, UnitLevel};
use beacon_core::page::PageRequest;
use beacon_core::scope::Scope;
use beacon_store::audit::{AuditFilter, ChainStatus};
use beacon_store::{Backend, backend_tests};

use crate::TestStore;

/// Runs raw SQL as a database administrator would, around the append-only triggers.
async fn tamper(t: &TestStore, statements: &[&str]) {
    let url = t.db.url.clone();
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await.unwrap();
    let unlock: &[&str] = match t.db.backend {
        Backend::Sqlite => {
            &["DROP TRIGGER audit_log_no_update", "DROP TRIGGER audit_log_no_delete"]
        }
        Backend::Postgres => &["DROP TRIGGER audit_log_no_change ON audit_log"],
    };
    for sql in unlock.iter().chain(statements) {
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
}

backend_tests! {
    async fn the_chain_verifies_and_records_are_searchable(t: TestStore) {
        let tree = t.city().await;
        t.user("east.staff", &tree.east, &[Role::Staff]).await;
        let ChainStatus::Intact { records, .. } = t.store.verify_audit_chain().await.unwrap() else {
            panic!("chain broken")
        };
        assert_eq!(records, 5);
        let page = t.store.search_audit(&Scope::Global, &AuditFilter::default(), PageRequest::default()).await.unwrap();
        assert_eq!(page.total, 5);
        assert_eq!(page.items[0].action, "user.create", "newest first");
        let units = AuditFilter { action: Some("unit.".to_owned()), ..Default::default() };
        assert_eq!(t.store.search_audit(&Scope::Global, &units, PageRequest::default()).await.unwrap().total, 4);
        // A district audit administrator sees their district's records only.
        let east = t.store.search_audit(&Scope::subtree(&tree.east), &AuditFilter::default(), PageRequest::default()).await.unwrap();
        assert_eq!(east.total, 3, "{:#?}", east.items);
        let actor = AuditFilter { actor: Some("SYSTEM:".to_owned()), outcome: Some(Outcome::Success), ..Default::default() };
        assert_eq!(t.store.search_audit(&Scope::Global, &actor, PageRequest::default()).await.unwrap().total, 5);
        let later = AuditFilter { from: Some(t.store.now() + chrono::Duration::seconds(1)), ..Default::default() };
        assert_eq!(t.store.search_audit(&Scope::Global, &later, PageRequest::default()).await.unwrap().total, 0);
    }

    async fn the_database_refuses_to_change_audit_records(t: TestStore) {
        t.city().await;
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&t.db.url).await.unwrap();
        assert!(sqlx::query("UPDATE audit_log SET outcome = 'failure'").execute(&mut conn).await.is_err());
        assert!(sqlx::query("DELETE FROM audit_log").execute(&mut conn).await.is_err());
    }

    async fn an_altered_record_is_named(t: TestStore) {
        t.city().await;
        tamper(&t, &["UPDATE audit_log SET actor_name = 'someone.else' WHERE seq = 2"]).await;
        assert_eq!(
            t.store.verify_audit_chain().await.unwrap(),
            ChainStatus::Broken(ChainBreak::Altered { seq: 2 })
        );
    }

    async fn a_removed_record_is_named(t: TestStore) {
        t.city().await;
        tamper(&t, &["DELETE FROM audit_log WHERE seq = 3"]).await;
        assert_eq!(
            t.store.verify_audit_chain().await.unwrap(),
            ChainStatus::Broken(ChainBreak::Removed { seq: 3, found: Some(4) })
        );
    }

    async fn a_removed_tail_is_named(t: TestStore) {
        t.city().await;
        tamper(&t, &["DELETE FROM audit_log WHERE seq = 4"]).await;
        assert_eq!(
            t.store.verify_audit_chain().await.unwrap(),
            ChainStatus::Broken(ChainBreak::Removed { seq: 4, found: None })
        );
    }

    async fn a_failed_change_leaves_no_trace(t: TestStore) {
        let tree = t.city().await;
        // A duplicate code fails validation: neither the unit nor an audit record is written.
        let result = t.store.create_unit(
            &Scope::Global,
            &TestStore::operator(),
            beacon_store::org::NewUnit {
                parent_id: Some(tree.city.clone()),
                code: beacon_core::org::UnitCode::parse("990102").unwrap(),
                name: beacon_core::org::UnitName::parse("重复").unwrap(),
                level: UnitLevel::District,
                sort_order: 0,
                boundary: None,
            },
        ).await;
        assert!(result.is_err());
        assert_eq!(t.store.count_units().await.unwrap(), 4);
        assert!(matches!(t.store.verify_audit_chain().await.unwrap(), ChainStatus::Intact { records: 4, .. }));
        // A standalone record extends the chain.
        let actor = TestStore::operator();
        t.store.audit(NewAuditRecord::new(&actor, "auth.login", Outcome::Failure)).await.unwrap();
        assert!(matches!(t.store.verify_audit_chain().await.unwrap(), ChainStatus::Intact { records: 5, .. }));
    }

    async fn sqlite_backup_is_a_working_copy(t: TestStore) {
        t.city().await;
        if t.db.backend == Backend::Postgres {
            let out = std::env::temp_dir().join("never.db");
            assert!(matches!(t.store.backup_sqlite(&out).await, Err(beacon_store::StoreError::Conflict("backup_use_pg_dump"))));
            return;
        }
        let out = t.db.dir().unwrap().join("backup.db");
        t.store.backup_sqlite(&out).await.unwrap();
        let url = format!("sqlite://{}", out.display());
        let clock: std::sync::Arc<dyn beacon_core::clock::Clock> = std::sync::Arc::new(t.clock.clone());
        let copy = beacon_store::Store::connect(&url, &Default::default(), clock).await.unwrap();
        assert_eq!(copy.count_units().await.unwrap(), 4);
        assert!(matches!(copy.verify_audit_chain().await.unwrap(), ChainStatus::Intact { records: 4, .. }));
    }
}
