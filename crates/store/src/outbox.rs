//! The events outbox: a change writes the live events it announces in its own transaction, so an
//! event whose change committed cannot be lost, whatever happens to the instance afterwards. A
//! relay (one per instance, see `beacon_api::events::relay`) claims the waiting rows in order,
//! hands them to the bus and deletes them once the bus has taken them. On PostgreSQL the claim
//! skips rows another instance's relay holds, so several relays share the work and a dead
//! instance's events are relayed by the others.

use beacon_core::clock::{from_millis, to_millis};
use beacon_core::event::{CommittedEvent, NewEvent};
use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::db::backend_of;
use crate::sql::{Sql, Val, insert_batch};
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
        let select = "SELECT id, at, event FROM event_outbox ORDER BY id LIMIT $1";
        match self.backend() {
            Backend::Postgres => {
                let mut tx = self.writer().begin().await?;
                let rows = sqlx::query(&format!("{select} FOR UPDATE SKIP LOCKED"))
                    .bind(i64::from(limit))
                    .fetch_all(&mut *tx)
                    .await?;
                let pending = pending_rows(&rows)?;
                if pending.is_empty() {
                    return Ok(Relayed::Published(0));
                }
                let ids: Vec<i64> = pending.iter().map(|p| p.id).collect();
                if let Err(error) = publish(pending).await {
                    return Ok(Relayed::BusFailed(error));
                }
                delete(&mut *tx, &ids).await?;
                tx.commit().await?;
                Ok(Relayed::Published(ids.len()))
            }
            // One instance writes a SQLite file: its relay is the only one, and the write lock
            // is not held while the bus works.
            Backend::Sqlite => {
                let rows =
                    sqlx::query(select).bind(i64::from(limit)).fetch_all(self.reader()).await?;
                let pending = pending_rows(&rows)?;
                if pending.is_empty() {
                    return Ok(Relayed::Published(0));
                }
                let ids: Vec<i64> = pending.iter().map(|p| p.id).collect();
                if let Err(error) = publish(pending).await {
                    return Ok(Relayed::BusFailed(error));
                }
                delete(self.writer(), &ids).await?;
                Ok(Relayed::Published(ids.len()))
            }
        }
    }

    /// Events committed and not yet taken by the bus.
    pub async fn event_backlog(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM event_outbox")
            .fetch_one(self.reader())
            .await?
            .try_get("n")?)
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

async fn delete<'c>(
    executor: impl sqlx::Executor<'c, Database = sqlx::Any>,
    ids: &[i64],
) -> Result<(), StoreError> {
    let mut sql = Sql::new("DELETE FROM event_outbox WHERE id IN (");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            sql.push(", ");
        }
        sql.bind(*id);
    }
    sql.push(")");
    sql.execute(executor).await?;
    Ok(())
}
