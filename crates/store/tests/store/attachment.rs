//! Attachments in the store: contents kept once by their hash, in the files directory (SQLite)
//! or in pieces in the database (PostgreSQL), read back whole; the owner resolved within the
//! caller's reach; removal kept on record and on the owner's timeline.

use beacon_core::attachment::Purpose;
use beacon_core::scope::Scope;
use beacon_store::attachment::NewAttachment;
use beacon_store::blob::CHUNK;
use beacon_store::enterprise::{EnterpriseWrite, Reach};
use beacon_store::{Backend, Store, StoreError, backend_tests};
use futures::TryStreamExt;

use crate::TestStore;

fn enterprise(unit_id: &str) -> EnterpriseWrite {
    serde_json::from_value(serde_json::json!({
        "uscc": "91350100M000100Y43", "name": "甲化工", "unit_id": unit_id,
        "section": "C", "sector": "危险化学品",
    }))
    .unwrap()
}

async fn spooled(store: &Store, bytes: &[u8]) -> beacon_store::blob::Spooled {
    let mut writer = store.spool().await.unwrap();
    // Written in uneven pieces, as a request body arrives.
    for piece in bytes.chunks(70_001) {
        writer.write(piece).await.unwrap();
    }
    writer.finish().await.unwrap()
}

async fn read_all(store: &Store, sha256: &str) -> Vec<u8> {
    let pieces: Vec<Vec<u8>> = store.read_blob(sha256).await.unwrap().try_collect().await.unwrap();
    pieces.concat()
}

backend_tests! {
    async fn contents_are_kept_once_and_read_back_whole(t: TestStore) {
        let tree = t.city().await;
        let op = TestStore::operator();
        let e = t.store.create_enterprise(&Scope::Global, &op, enterprise(&tree.town)).await.unwrap();
        let east = Reach::Scope(Scope::subtree(&tree.east));
        let west = Reach::Scope(Scope::subtree(&tree.west));
        let owner = t.store.attachment_owner(&east, "enterprise", &e.id).await.unwrap();
        assert_eq!(owner.timeline, ("enterprise".to_owned(), e.id.clone()));
        // Outside the reach, and for a kind the register does not own: not found.
        assert!(matches!(t.store.attachment_owner(&west, "enterprise", &e.id).await, Err(StoreError::NotFound)));
        assert!(matches!(t.store.attachment_owner(&east, "petition", &e.id).await, Err(StoreError::NotFound)));

        // Two and a half pieces, so PostgreSQL splits it.
        let bytes: Vec<u8> = (0..(CHUNK * 5 / 2)).map(|i| (i % 251) as u8).collect();
        let new = |content| NewAttachment {
            purpose: Purpose::Document,
            file_name: "记录.pdf".into(),
            content_type: "application/pdf".into(),
            content,
            thumbnail: None,
        };
        let first = t.store.add_attachment(&op, &owner, new(spooled(&t.store, &bytes).await)).await.unwrap();
        let second = t.store.add_attachment(&op, &owner, new(spooled(&t.store, &bytes).await)).await.unwrap();
        assert_ne!(first.id, second.id);
        assert_eq!(first.sha256, second.sha256);
        assert_eq!(first.size, bytes.len() as i64);
        let (blobs, chunks) = t.store.blob_counts().await.unwrap();
        assert_eq!(blobs, 1, "the same content is kept once");
        match t.store.backend() {
            Backend::Postgres => assert_eq!(chunks, 3),
            Backend::Sqlite => {
                assert_eq!(chunks, 0);
                let file = t.store.files_dir().join(&first.sha256[..2]).join(&first.sha256);
                assert_eq!(std::fs::metadata(file).unwrap().len(), bytes.len() as u64);
                // No spool file is left behind.
                let spool = std::fs::read_dir(t.store.files_dir().join("tmp")).unwrap().count();
                assert_eq!(spool, 0);
            }
        }
        assert_eq!(read_all(&t.store, &first.sha256).await, bytes);

        // Removing keeps the row and hides it; the story is on the enterprise's timeline.
        let removed = t.store.remove_attachment(&op, &owner, &first.id, "扫描不清").await.unwrap();
        assert!(removed.removed);
        assert_eq!(removed.removed_reason.as_deref(), Some("扫描不清"));
        let listed = t.store.attachments(&owner, false).await.unwrap();
        assert_eq!(listed.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), [second.id.as_str()]);
        assert_eq!(t.store.attachments(&owner, true).await.unwrap().len(), 2);
        assert!(matches!(
            t.store.remove_attachment(&op, &owner, &first.id, "再次").await,
            Err(StoreError::Conflict("attachment_removed"))
        ));
        assert!(matches!(
            t.store.remove_attachment(&op, &owner, &second.id, " ").await,
            Err(StoreError::Invalid(_))
        ));
        let history = t.store.enterprise_history(&east, &e.id).await.unwrap();
        let kinds: Vec<&str> = history.iter().map(|h| h.kind.as_str()).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "attachment_added").count(), 2, "{kinds:?}");
        assert!(kinds.contains(&"attachment_removed"), "{kinds:?}");
        // The content of a removed attachment stays, still read by the other.
        assert_eq!(read_all(&t.store, &second.sha256).await.len(), bytes.len());
    }
}

backend_tests! {
    async fn uploads_a_crash_left_in_the_spool_are_pruned_once_old(t: TestStore) {
        // A files directory of its own: the PostgreSQL tests' stores share the default one.
        let dir = tempfile::tempdir().unwrap();
        let options = beacon_store::ConnectOptions { files_dir: Some(dir.path().to_path_buf()), ..Default::default() };
        let clock = std::sync::Arc::new(beacon_core::clock::SystemClock);
        let store = Store::connect_and_migrate(&t.db.url, &options, clock).await.unwrap();
        // An upload cut off by a crash: its writer never dropped, its file left behind.
        let mut left = store.spool().await.unwrap();
        left.write(b"half an upload").await.unwrap();
        std::mem::forget(left);
        // One running now, whose file its end removes.
        let running = spooled(&store, b"a whole upload").await;
        let day = std::time::Duration::from_secs(24 * 3600);
        assert_eq!(store.prune_spool(day).await.unwrap(), 0, "nothing is a day old");
        assert!(running.path().exists());
        // Older than the age asked (zero here): both files are gone.
        assert_eq!(store.prune_spool(std::time::Duration::ZERO).await.unwrap(), 2);
        assert!(!running.path().exists());
        drop(running);
        assert_eq!(store.prune_spool(std::time::Duration::ZERO).await.unwrap(), 0);
    }
}
