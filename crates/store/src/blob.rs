//! File contents kept by their SHA-256, once however often they are attached (docs/decisions.md,
//! "Attachments"). The two backends keep the bytes differently, fenced here:
//!
//! - **SQLite** (one instance): a file `files/<first two hex digits>/<sha256>` under the data
//!   directory, backed up with the database file.
//! - **PostgreSQL** (several instances): rows of `blob_chunks`, 1 MiB each, so every instance
//!   reaches every file and `pg_dump` carries them, with no other service to run.
//!
//! An upload is first spooled to a file (hashed and counted as it streams, never whole in
//! memory), then kept in the transaction that attaches it. Downloads stream a piece at a time.

use std::io;
use std::path::{Path, PathBuf};

use beacon_core::clock::to_millis;
use futures::stream::BoxStream;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::db::{Backend, backend_of};
use crate::{Store, StoreError, Tx};

/// The size of a piece on PostgreSQL, and of a read from a file.
pub const CHUNK: usize = 1024 * 1024;

/// An upload being written to its spool file.
pub struct BlobWriter {
    file: tokio::fs::File,
    spooled: Spooled,
    hasher: Sha256,
}

impl BlobWriter {
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.hasher.update(bytes);
        self.spooled.size += bytes.len() as u64;
        self.file.write_all(bytes).await.map_err(StoreError::Io)
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.spooled.size
    }

    /// Flushes the file to disk and names its content.
    pub async fn finish(mut self) -> Result<Spooled, StoreError> {
        self.file.flush().await.map_err(StoreError::Io)?;
        self.file.sync_all().await.map_err(StoreError::Io)?;
        let mut spooled = std::mem::take(&mut self.spooled);
        spooled.sha256 = hex::encode(self.hasher.finalize_reset());
        Ok(spooled)
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        // An upload refused or broken off leaves nothing behind.
        if !self.spooled.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.spooled.path);
        }
    }
}

/// A whole upload in its spool file, named by its content. The file is removed when this is
/// dropped, unless it was moved into the store.
#[derive(Debug, Default)]
pub struct Spooled {
    path: PathBuf,
    pub sha256: String,
    pub size: u64,
}

impl Spooled {
    /// The spooled bytes (for a thumbnail, made from the upload before it is kept).
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Spooled {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Where SQLite's files live by default: `files` beside the database file.
pub(crate) fn default_files_dir(url: &str) -> PathBuf {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or_default();
    match Path::new(path).parent() {
        Some(parent) if !path.is_empty() && !path.contains(":memory:") => parent.join("files"),
        _ => std::env::temp_dir().join("beacon-files"),
    }
}

impl Store {
    fn spool_dir(&self) -> PathBuf {
        self.files_dir().join("tmp")
    }

    /// Where SQLite keeps a content.
    fn blob_path(&self, sha256: &str) -> PathBuf {
        self.files_dir().join(sha256.get(..2).unwrap_or("00")).join(sha256)
    }

    /// A new spool file for an upload.
    pub async fn spool(&self) -> Result<BlobWriter, StoreError> {
        let dir = self.spool_dir();
        tokio::fs::create_dir_all(&dir).await.map_err(StoreError::Io)?;
        let path = dir.join(beacon_core::id::new_id());
        let file = tokio::fs::File::create(&path).await.map_err(StoreError::Io)?;
        Ok(BlobWriter {
            file,
            spooled: Spooled { path, sha256: String::new(), size: 0 },
            hasher: Sha256::new(),
        })
    }

    /// Spools bytes already in memory (a thumbnail).
    pub async fn spool_bytes(&self, bytes: &[u8]) -> Result<Spooled, StoreError> {
        let mut writer = self.spool().await?;
        writer.write(bytes).await?;
        writer.finish().await
    }

    /// Keeps a spooled content in the caller's transaction, unless the same content is kept
    /// already. On SQLite the file moves into place at once: a file whose transaction rolls back
    /// is an orphan named by its content, harmless, and taken by the next upload of the same
    /// bytes.
    pub(crate) async fn keep_blob(&self, tx: &mut Tx, blob: &Spooled) -> Result<(), StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO blobs (sha256, size, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (sha256) DO NOTHING",
        )
        .bind(blob.sha256.clone())
        .bind(i64::try_from(blob.size).unwrap_or(i64::MAX))
        .bind(to_millis(self.now()))
        .execute(&mut **tx)
        .await?
        .rows_affected()
            == 1;
        match backend_of(tx) {
            Backend::Sqlite => {
                let target = self.blob_path(&blob.sha256);
                if tokio::fs::try_exists(&target).await.unwrap_or(false) {
                    return Ok(());
                }
                if let Some(dir) = target.parent() {
                    tokio::fs::create_dir_all(dir).await.map_err(StoreError::Io)?;
                }
                // The spool directory is inside the files directory: the same file system, so
                // the move is atomic and a reader never sees half a file.
                tokio::fs::rename(&blob.path, &target).await.map_err(StoreError::Io)?;
            }
            Backend::Postgres if inserted => {
                let mut file = tokio::fs::File::open(&blob.path).await.map_err(StoreError::Io)?;
                let mut seq: i64 = 0;
                loop {
                    let piece = read_piece(&mut file).await.map_err(StoreError::Io)?;
                    if piece.is_empty() {
                        break;
                    }
                    sqlx::query("INSERT INTO blob_chunks (sha256, seq, data) VALUES ($1, $2, $3)")
                        .bind(blob.sha256.clone())
                        .bind(seq)
                        .bind(piece)
                        .execute(&mut **tx)
                        .await?;
                    seq += 1;
                }
            }
            Backend::Postgres => {}
        }
        Ok(())
    }

    /// The content of a kept blob, a piece at a time. Fails before the first byte when the
    /// content is missing, so an answer never starts and then breaks off for that reason.
    pub async fn read_blob(
        &self,
        sha256: &str,
    ) -> Result<BoxStream<'static, Result<Vec<u8>, io::Error>>, StoreError> {
        match self.backend() {
            Backend::Sqlite => {
                let file = tokio::fs::File::open(self.blob_path(sha256)).await.map_err(|e| {
                    if e.kind() == io::ErrorKind::NotFound {
                        StoreError::corrupt(format!("the file of blob {sha256} is missing"))
                    } else {
                        StoreError::Io(e)
                    }
                })?;
                Ok(Box::pin(futures::stream::try_unfold(file, |mut file| async move {
                    let piece = read_piece(&mut file).await?;
                    Ok((!piece.is_empty()).then_some((piece, file)))
                })))
            }
            Backend::Postgres => {
                let store = self.clone();
                let sha256 = sha256.to_owned();
                let exists = sqlx::query("SELECT 1 FROM blobs WHERE sha256 = $1")
                    .bind(sha256.clone())
                    .fetch_optional(self.reader())
                    .await?;
                if exists.is_none() {
                    return Err(StoreError::corrupt(format!("blob {sha256} is missing")));
                }
                Ok(Box::pin(futures::stream::try_unfold(0_i64, move |seq| {
                    let store = store.clone();
                    let sha256 = sha256.clone();
                    async move {
                        let row: Option<(Vec<u8>,)> = sqlx::query_as(
                            "SELECT data FROM blob_chunks WHERE sha256 = $1 AND seq = $2",
                        )
                        .bind(sha256)
                        .bind(seq)
                        .fetch_optional(store.reader())
                        .await
                        .map_err(io::Error::other)?;
                        Ok(row.map(|(data,)| (data, seq + 1)))
                    }
                })))
            }
        }
    }

    /// Removes spool files older than `age`: uploads a crash or a kill left behind (a running
    /// upload's file is removed when it ends, kept or refused). Spool files have no owner in the
    /// database; instances on one machine may share the directory, so only files older than any
    /// upload could last are taken (the server passes a day, hourly). Returns how many.
    pub async fn prune_spool(&self, age: std::time::Duration) -> Result<u64, StoreError> {
        let mut entries = match tokio::fs::read_dir(self.spool_dir()).await {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(StoreError::Io(e)),
        };
        let mut removed = 0;
        while let Some(entry) = entries.next_entry().await.map_err(StoreError::Io)? {
            let Ok(meta) = entry.metadata().await else { continue };
            let old = meta.modified().ok().and_then(|m| m.elapsed().ok()).is_some_and(|e| e >= age);
            if meta.is_file() && old && tokio::fs::remove_file(entry.path()).await.is_ok() {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// How many contents are kept, and in how many pieces (de-duplication is checked with it).
    pub async fn blob_counts(&self) -> Result<(i64, i64), StoreError> {
        let (blobs,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM blobs").fetch_one(self.reader()).await?;
        let (chunks,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM blob_chunks").fetch_one(self.reader()).await?;
        Ok((blobs, chunks))
    }
}

/// Up to [`CHUNK`] bytes; empty at the end.
async fn read_piece(file: &mut tokio::fs::File) -> io::Result<Vec<u8>> {
    let mut piece = Vec::with_capacity(CHUNK);
    while piece.len() < CHUNK {
        let read = (&mut *file).take((CHUNK - piece.len()) as u64).read_to_end(&mut piece).await?;
        if read == 0 {
            break;
        }
    }
    Ok(piece)
}
