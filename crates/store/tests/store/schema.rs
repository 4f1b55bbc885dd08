use beacon_store::Backend;

use crate::TestStore;

/// The two migration sets must define the same tables, columns (with portable types and
/// nullability) and indexes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_schemas_match() {
    let sqlite = TestStore::new(Backend::Sqlite).await;
    let postgres = TestStore::new(Backend::Postgres).await;
    let a = sqlite.store.schema_description().await.unwrap();
    let b = postgres.store.schema_description().await.unwrap();
    assert!(a.iter().any(|l| l == "audit_log.hash text not null"), "{a:#?}");
    assert!(a.iter().any(|l| l == "users.active bool not null"), "{a:#?}");
    assert!(!a.iter().any(|l| l.contains(" other ")), "unmapped column type: {a:#?}");
    let mut only_sqlite: Vec<_> = a.iter().filter(|l| !b.contains(l)).collect();
    let mut only_postgres: Vec<_> = b.iter().filter(|l| !a.contains(l)).collect();
    only_sqlite.sort();
    only_postgres.sort();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "schemas differ\nonly in SQLite: {only_sqlite:#?}\nonly in PostgreSQL: {only_postgres:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrations_are_idempotent() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let t = TestStore::new(backend).await;
        t.store.migrate().await.unwrap();
        t.store.ping().await.unwrap();
    }
}
