//! The timeline: an append-only history per case-like record (a shift, an incident, a petition),
//! written in the same transaction as the change it describes. The audit trail proves who did
//! what to the system; the timeline tells the story of one record to the people working on it.

use beacon_core::audit::Actor;
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::id::new_id;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::db::backend_of;
use crate::sql::{Val, insert_batch};
use crate::{Store, StoreError, Tx};

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TimelineEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub kind: String,
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// Appends an entry inside the caller's transaction.
pub async fn append(
    tx: &mut Tx,
    at: DateTime<Utc>,
    actor: &Actor,
    subject: (&str, &str),
    unit_id: Option<&str>,
    kind: &str,
    data: serde_json::Value,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO timeline (id, subject_type, subject_id, unit_id, at, actor_id, actor_name, \
         kind, data) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(new_id())
    .bind(subject.0.to_owned())
    .bind(subject.1.to_owned())
    .bind(unit_id.map(str::to_owned))
    .bind(to_millis(at))
    .bind(actor.user_id.clone())
    .bind(actor.name.clone())
    .bind(kind.to_owned())
    .bind(data.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One entry of [`append_all`]: the subject, its unit, the kind and the data.
pub struct NewEntry<'a> {
    pub subject: (&'a str, &'a str),
    pub unit_id: Option<&'a str>,
    pub kind: &'a str,
    pub data: serde_json::Value,
}

/// Appends several entries by one actor in the caller's transaction, with multi-row inserts.
pub async fn append_all(
    tx: &mut Tx,
    at: DateTime<Utc>,
    actor: &Actor,
    entries: Vec<NewEntry<'_>>,
) -> Result<(), StoreError> {
    let at = to_millis(at);
    let rows = entries
        .into_iter()
        .map(|e| {
            vec![
                Val::Text(new_id()),
                Val::Text(e.subject.0.to_owned()),
                Val::Text(e.subject.1.to_owned()),
                Val::MaybeText(e.unit_id.map(str::to_owned)),
                Val::Int(at),
                Val::MaybeText(actor.user_id.clone()),
                Val::Text(actor.name.clone()),
                Val::Text(e.kind.to_owned()),
                Val::Text(e.data.to_string()),
            ]
        })
        .collect();
    let backend = backend_of(tx);
    insert_batch(
        tx,
        backend,
        "timeline",
        &[
            "id",
            "subject_type",
            "subject_id",
            "unit_id",
            "at",
            "actor_id",
            "actor_name",
            "kind",
            "data",
        ],
        rows,
    )
    .await?;
    Ok(())
}

impl Store {
    /// A record's history, oldest first. The caller has already checked that the record is in
    /// scope.
    pub async fn timeline(
        &self,
        subject_type: &str,
        subject_id: &str,
    ) -> Result<Vec<TimelineEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, at, actor_id, actor_name, kind, data FROM timeline \
             WHERE subject_type = $1 AND subject_id = $2 ORDER BY at, id LIMIT 1000",
        )
        .bind(subject_type.to_owned())
        .bind(subject_id.to_owned())
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                let data: String = r.try_get("data")?;
                Ok(TimelineEntry {
                    id: r.try_get("id")?,
                    at: from_millis(r.try_get("at")?),
                    actor_id: r.try_get("actor_id")?,
                    actor_name: r.try_get("actor_name")?,
                    kind: r.try_get("kind")?,
                    data: serde_json::from_str(&data)
                        .map_err(|e| StoreError::Corrupt(format!("timeline: {e}")))?,
                })
            })
            .collect()
    }
}
