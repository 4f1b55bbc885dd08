//! Deadlines: every clock in the system is a row with its stages (reminders, the due moment,
//! escalations). The scheduler reads the stages that are due, claims each by advancing the row
//! conditionally, and runs its effect in the same transaction: a stage fires exactly once, even
//! with several instances and across restarts.

use beacon_core::clock::{from_millis, to_millis};
use beacon_core::id::new_id;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::db::backend_of;
use crate::sql::{Val, insert_batch};
use crate::{Store, StoreError, Tx};

#[derive(Debug, Clone)]
pub struct NewDeadline {
    pub kind: &'static str,
    pub subject: (&'static str, String),
    pub unit_id: Option<String>,
    pub due_at: DateTime<Utc>,
    /// `(when, stage name)`; sorted on insert.
    pub stages: Vec<(DateTime<Utc>, &'static str)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Stage {
    at: i64,
    stage: String,
}

/// A stage whose time has come.
#[derive(Debug, Clone)]
pub struct DueStage {
    pub id: String,
    pub kind: String,
    pub subject_type: String,
    pub subject_id: String,
    pub unit_id: Option<String>,
    pub due_at: DateTime<Utc>,
    pub stage: String,
    pub at: DateTime<Utc>,
    index: i64,
    next_at: Option<i64>,
}

/// Schedules a deadline inside the caller's transaction. Stages earlier than `not_before` are
/// dropped (a reminder for a shift that has already begun means nothing).
pub async fn schedule(
    tx: &mut Tx,
    now: DateTime<Utc>,
    not_before: DateTime<Utc>,
    new: NewDeadline,
) -> Result<Option<String>, StoreError> {
    let Some((id, row)) = deadline_row(now, not_before, new)? else { return Ok(None) };
    insert_rows(tx, vec![row]).await?;
    Ok(Some(id))
}

/// Schedules several deadlines with multi-row inserts, as [`schedule`] schedules one.
pub async fn schedule_all(
    tx: &mut Tx,
    now: DateTime<Utc>,
    not_before: DateTime<Utc>,
    deadlines: Vec<NewDeadline>,
) -> Result<(), StoreError> {
    let mut rows = Vec::with_capacity(deadlines.len());
    for new in deadlines {
        if let Some((_, row)) = deadline_row(now, not_before, new)? {
            rows.push(row);
        }
    }
    if !rows.is_empty() {
        insert_rows(tx, rows).await?;
    }
    Ok(())
}

/// The id and row of a deadline; none when no stage is left.
fn deadline_row(
    now: DateTime<Utc>,
    not_before: DateTime<Utc>,
    new: NewDeadline,
) -> Result<Option<(String, Vec<Val>)>, StoreError> {
    let mut stages: Vec<Stage> = new
        .stages
        .iter()
        .filter(|(at, _)| *at >= not_before)
        .map(|(at, stage)| Stage { at: to_millis(*at), stage: (*stage).to_owned() })
        .collect();
    stages.sort_by_key(|s| s.at);
    let Some(first) = stages.first().map(|s| s.at) else { return Ok(None) };
    let id = new_id();
    let now = to_millis(now);
    let row = vec![
        Val::Text(id.clone()),
        Val::Text(new.kind.to_owned()),
        Val::Text(new.subject.0.to_owned()),
        Val::Text(new.subject.1),
        Val::MaybeText(new.unit_id),
        Val::Int(to_millis(new.due_at)),
        Val::Text(serde_json::to_string(&stages).map_err(|e| StoreError::Corrupt(e.to_string()))?),
        Val::Int(0),
        Val::Int(first),
        Val::Int(now),
        Val::Int(now),
    ];
    Ok(Some((id, row)))
}

async fn insert_rows(tx: &mut Tx, rows: Vec<Vec<Val>>) -> Result<(), StoreError> {
    let backend = backend_of(tx);
    insert_batch(
        tx,
        backend,
        "deadlines",
        &[
            "id",
            "kind",
            "subject_type",
            "subject_id",
            "unit_id",
            "due_at",
            "stages",
            "next_stage",
            "next_at",
            "created_at",
            "updated_at",
        ],
        rows,
    )
    .await?;
    Ok(())
}

/// Stops every deadline of a subject (it was done, or the subject is gone).
pub async fn finish(
    tx: &mut Tx,
    now: DateTime<Utc>,
    subject: (&str, &str),
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE deadlines SET next_at = NULL, done_at = $1, updated_at = $1 \
         WHERE subject_type = $2 AND subject_id = $3 AND done_at IS NULL",
    )
    .bind(to_millis(now))
    .bind(subject.0.to_owned())
    .bind(subject.1.to_owned())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Stages due at `now`, oldest first.
    pub async fn due_stages(&self, limit: i64) -> Result<Vec<DueStage>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, kind, subject_type, subject_id, unit_id, due_at, stages, next_stage \
             FROM deadlines WHERE next_at <= $1 ORDER BY next_at LIMIT $2",
        )
        .bind(to_millis(self.now()))
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let stages: String = r.try_get("stages")?;
            let stages: Vec<Stage> = serde_json::from_str(&stages)
                .map_err(|e| StoreError::Corrupt(format!("deadline stages: {e}")))?;
            let index: i64 = r.try_get("next_stage")?;
            let Some(stage) = usize::try_from(index).ok().and_then(|i| stages.get(i)) else {
                continue;
            };
            let next_at = usize::try_from(index + 1).ok().and_then(|i| stages.get(i)).map(|s| s.at);
            out.push(DueStage {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                subject_type: r.try_get("subject_type")?,
                subject_id: r.try_get("subject_id")?,
                unit_id: r.try_get("unit_id")?,
                due_at: from_millis(r.try_get("due_at")?),
                stage: stage.stage.clone(),
                at: from_millis(stage.at),
                index,
                next_at,
            });
        }
        Ok(out)
    }

    /// Claims a due stage inside `tx`: true when this caller is the one to fire it.
    pub async fn claim_stage(&self, tx: &mut Tx, due: &DueStage) -> Result<bool, StoreError> {
        let n = sqlx::query(
            "UPDATE deadlines SET next_stage = next_stage + 1, next_at = $1, updated_at = $2 \
             WHERE id = $3 AND next_stage = $4 AND done_at IS NULL",
        )
        .bind(due.next_at)
        .bind(to_millis(self.now()))
        .bind(due.id.clone())
        .bind(due.index)
        .execute(&mut **tx)
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// Claims several due stages inside `tx` in one statement, as [`Store::claim_stage`] claims
    /// one: the ids of those this caller is the one to fire (the others were claimed meanwhile
    /// by another instance, or finished). On PostgreSQL a statement per stage was a round trip
    /// each: ten thousand overdue alerts spent a second on them.
    pub async fn claim_stages(
        &self,
        tx: &mut Tx,
        due: &[DueStage],
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut claimed = std::collections::HashSet::new();
        for chunk in due.chunks(250) {
            let mut sql = crate::sql::Sql::new(
                "UPDATE deadlines SET next_stage = next_stage + 1, updated_at = ",
            );
            sql.bind(to_millis(self.now())).push(", next_at = CASE id");
            for stage in chunk {
                sql.push(" WHEN ").bind(stage.id.clone()).push(" THEN ").bind(stage.next_at);
            }
            sql.push(" END WHERE done_at IS NULL AND (");
            for (i, stage) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(" OR ");
                }
                sql.push("(id = ")
                    .bind(stage.id.clone())
                    .push(" AND next_stage = ")
                    .bind(stage.index)
                    .push(")");
            }
            sql.push(") RETURNING id");
            for row in sql.fetch_all(&mut **tx).await? {
                claimed.insert(row.try_get("id")?);
            }
        }
        Ok(claimed)
    }

    /// Deadlines still running, for tests and the operator.
    pub async fn pending_deadlines(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM deadlines WHERE next_at IS NOT NULL")
            .fetch_one(self.reader())
            .await?
            .try_get("n")?)
    }
}
