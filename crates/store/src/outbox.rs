//! The events outbox: a change writes the live events it announces in its own transaction, so an
//! event whose change committed cannot be lost, whatever happens to the instance afterwards. A
//! relay (one per instance, see `beacon_api::events::relay`) claims the waiting rows in order,
//! hands them to the bus and deletes them once the bus has taken them. On PostgreSQL the claim
//! skips rows another instance's relay holds, so several relays share the work and a dead
//! instance's events are relayed by the others.

use beacon_core::clock::{from_millis, to_millis};
use beacon_core::event::{CommittedEvent, NewEvent};
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::db::backend_of;
use crate::sql::{Val, insert_batch};
use crate::{Backend, Store, StoreError, Tx};

/// Writes events in the caller's transaction: they are relayed only if it commits.
pub async fn push(tx: &mut Tx, at: DateTime<Utc>, events: Vec<NewEvent>) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let at = to_millis(at);
    let mut rows = Vec::with_capacity(events.len());
    for event in events {
        let text = serde_json::to_string(&event).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        rows.push(vec![Val::Int(at), Val::Text(text)]);
    }
    let backend = backend_of(tx);
    insert_batch(tx, backend, "event_outbox", &["at", "event"], rows).await?;
    Ok(())
}

/// Ids of the unit's ancestors and the unit itself, from the root down, as the caller's
/// transaction sees them (a unit created or moved in it included).
pub async fn unit_path(tx: &mut Tx, unit_id: &str) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT ancestor_id FROM unit_closure WHERE descendant_id = $1 ORDER BY depth DESC",
    )
    .bind(unit_id.to_owned())
    .fetch_all(&mut **tx)
    .await?;
    rows.iter().map(|r| Ok(r.try_get("ancestor_id")?)).collect()
}

/// Writes one event about a record of `unit_id` (the unit's path looked up in the transaction).
pub async fn announce(
    tx: &mut Tx,
    at: DateTime<Utc>,
    unit_id: &str,
    event: impl FnOnce(Vec<String>) -> NewEvent,
) -> Result<(), StoreError> {
    let path = unit_path(tx, unit_id).await?;
    push(tx, at, vec![event(path)]).await
}

/// Writes one event about a record that belongs to several units at once (an enterprise: its
/// territorial unit and its supervising department): it reaches whoever is above any of them.
pub async fn announce_to_units(
    tx: &mut Tx,
    at: DateTime<Utc>,
    unit_ids: &[&str],
    event: impl FnOnce(Vec<String>) -> NewEvent,
) -> Result<(), StoreError> {
    let mut path = Vec::new();
    for unit_id in unit_ids {
        for id in unit_path(tx, unit_id).await? {
            if !path.contains(&id) {
                path.push(id);
            }
        }
    }
    push(tx, at, vec![event(path)]).await
}

/// What one pass of the relay did.
#[derive(Debug, Clone, PartialEq)]
pub enum Relayed {
    /// This many events were taken by the bus and removed from the outbox (0: nothing waited).
    Published(usize),
    /// The bus refused them; they stay in the outbox for the next pass.
    BusFailed(String),
}

impl Store {
    /// Claims up to `limit` waiting events in order, hands them to `publish`, and removes them
    /// when it succeeds. On PostgreSQL the claimed rows stay locked until then, and other
    /// instances' relays skip them.
    pub async fn relay_events(
        &self,
        limit: u32,
        publish: impl AsyncFnOnce(Vec<CommittedEvent>) -> Result<(), String>,
    ) -> Result<Relayed, StoreError> {
        match self.backend() {
            // Claimed by deleting them: the rows stay locked (and other relays skip them) until
            // the bus has taken them and the deletion commits, or return when it does not.
            Backend::Postgres => {
                let mut tx = self.writer().begin().await?;
                let rows = sqlx::query(
                    "DELETE FROM event_outbox WHERE id IN (SELECT id FROM event_outbox \
                     ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING id, at, event",
                )
                .bind(i64::from(limit))
                .fetch_all(&mut *tx)
                .await?;
                let mut pending = pending_rows(&rows)?;
                if pending.is_empty() {
                    return Ok(Relayed::Published(0));
                }
                pending.sort_by_key(|p| p.id);
                let count = pending.len();
                if let Err(error) = publish(pending).await {
                    tx.rollback().await?;
                    return Ok(Relayed::BusFailed(error));
                }
                // The deletion need not wait for the disk: lost in a crash, its rows are
                // published again under the same message id, which the bus drops.
                sqlx::query("SET LOCAL synchronous_commit = off").execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(Relayed::Published(count))
            }
            // One instance writes a SQLite file: its relay is the only one. It reads past a
            // cursor and removes what the bus took now and then, not after every pass: the file
            // has one writer, and a delete after each batch of registrations would queue behind
            // and ahead of every batch. Rows relayed and not yet removed when the instance dies
            // are published again at start, under the same message id (`{id}-{at}`), which
            // the NATS bus drops as a duplicate; a new in-process bus has no subscriber yet.
            Backend::Sqlite => {
                let cursor = self.kept::<SqliteRelay>();
                let after = cursor.relayed_through.load(Ordering::Acquire);
                let rows = sqlx::query(
                    "SELECT id, at, event FROM event_outbox WHERE id > $1 ORDER BY id LIMIT $2",
                )
                .bind(after)
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await?;
                let pending = pending_rows(&rows)?;
                let count = pending.len();
                if let Some(last) = pending.last().map(|p| p.id) {
                    if let Err(error) = publish(pending).await {
                        return Ok(Relayed::BusFailed(error));
                    }
                    cursor.relayed_through.store(last, Ordering::Release);
                }
                cursor.prune(self).await?;
                Ok(Relayed::Published(count))
            }
        }
    }

    /// Events committed and not yet taken by the bus.
    pub async fn event_backlog(&self) -> Result<i64, StoreError> {
        // On SQLite, rows up to the relay's cursor were taken and wait only for removal.
        let after = match self.backend() {
            Backend::Sqlite => self.kept::<SqliteRelay>().relayed_through.load(Ordering::Acquire),
            Backend::Postgres => 0,
        };
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM event_outbox WHERE id > $1")
            .bind(after)
            .fetch_one(self.reader())
            .await?
            .try_get("n")?)
    }
}

/// Relayed rows are removed once this many wait, or once this long has passed.
const PRUNE_ROWS: i64 = 4096;
const PRUNE_AFTER: Duration = Duration::from_secs(1);

/// The SQLite relay's progress: the last row the bus took, and the last row removed.
#[derive(Debug, Default)]
struct SqliteRelay {
    relayed_through: AtomicI64,
    pruned_through: AtomicI64,
    pruned_at: Mutex<Option<Instant>>,
}

impl SqliteRelay {
    async fn prune(&self, store: &Store) -> Result<(), StoreError> {
        let through = self.relayed_through.load(Ordering::Acquire);
        let waiting = through - self.pruned_through.load(Ordering::Acquire);
        if waiting <= 0 {
            return Ok(());
        }
        let due = {
            let mut at = self.pruned_at.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let due = waiting >= PRUNE_ROWS || at.is_none_or(|at| at.elapsed() >= PRUNE_AFTER);
            if due {
                *at = Some(Instant::now());
            }
            due
        };
        if due {
            sqlx::query("DELETE FROM event_outbox WHERE id <= $1")
                .bind(through)
                .execute(store.writer())
                .await?;
            self.pruned_through.fetch_max(through, Ordering::AcqRel);
        }
        Ok(())
    }
}

fn pending_rows(rows: &[sqlx::any::AnyRow]) -> Result<Vec<CommittedEvent>, StoreError> {
    rows.iter()
        .map(|row| {
            let text: String = row.try_get("event")?;
            let event = serde_json::from_str(&text)
                .map_err(|e| StoreError::Corrupt(format!("outbox event: {e}")))?;
            Ok(CommittedEvent {
                id: row.try_get("id")?,
                at: from_millis(row.try_get("at")?),
                event,
            })
        })
        .collect()
}
