//! The audit trail: append-only, hash-chained, written in the same transaction as the change it
//! records. Appends serialise on the `audit_head` row, which also lets a verifier notice a
//! removed tail.

use beacon_core::audit::{AuditRecord, ChainBreak, ChainVerifier, NewAuditRecord, Outcome};
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::page::PageRequest;
use beacon_core::scope::Scope;
use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{FromRow, Row};

use crate::db::backend_of;
use crate::sql::{Sql, Val, insert_batch};
use crate::{Page, Store, StoreError, Tx, scope};

const COLUMNS: &str = "a.seq, a.at, a.actor_id, a.actor_name, a.actor_unit_id, a.unit_id, \
    a.action, a.target_type, a.target_id, a.ip, a.outcome, a.detail, a.prev_hash, a.hash";

/// Appends a record inside the caller's transaction: it commits or rolls back with the change.
pub async fn append(
    tx: &mut Tx,
    at: DateTime<Utc>,
    new: NewAuditRecord,
) -> Result<i64, StoreError> {
    let (seq, prev_hash): (i64, String) =
        sqlx::query_as("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
            .fetch_one(&mut **tx)
            .await?;
    let record = AuditRecord::seal(seq, at, &prev_hash, new);
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(record.hash.clone())
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor_id, actor_name, actor_unit_id, unit_id, action, \
         target_type, target_id, ip, outcome, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
    )
    .bind(record.seq)
    .bind(to_millis(record.at))
    .bind(record.actor_id)
    .bind(record.actor_name)
    .bind(record.actor_unit_id)
    .bind(record.unit_id)
    .bind(record.action)
    .bind(record.target_type)
    .bind(record.target_id)
    .bind(record.ip)
    .bind(record.outcome)
    .bind(record.detail)
    .bind(record.prev_hash)
    .bind(record.hash)
    .execute(&mut **tx)
    .await?;
    Ok(seq)
}

/// Appends several records in the caller's transaction, chained in order exactly as
/// [`append`] chains them one by one, with the chain's head moved once and the rows written
/// with multi-row inserts (the scheduler may raise thousands at once).
pub async fn append_all(
    tx: &mut Tx,
    at: DateTime<Utc>,
    records: Vec<NewAuditRecord>,
) -> Result<(), StoreError> {
    if records.is_empty() {
        return Ok(());
    }
    let count = i64::try_from(records.len()).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    // The head's row lock serialises appends as for one record.
    let (last, mut prev_hash): (i64, String) =
        sqlx::query_as("UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash")
            .bind(count)
            .fetch_one(&mut **tx)
            .await?;
    let mut rows = Vec::with_capacity(records.len());
    for (seq, new) in (last - count + 1..).zip(records) {
        let record = AuditRecord::seal(seq, at, &prev_hash, new);
        prev_hash = record.hash.clone();
        rows.push(vec![
            Val::Int(record.seq),
            Val::Int(to_millis(record.at)),
            Val::MaybeText(record.actor_id),
            Val::Text(record.actor_name),
            Val::MaybeText(record.actor_unit_id),
            Val::MaybeText(record.unit_id),
            Val::Text(record.action),
            Val::MaybeText(record.target_type),
            Val::MaybeText(record.target_id),
            Val::MaybeText(record.ip),
            Val::Text(record.outcome),
            Val::Text(record.detail),
            Val::Text(record.prev_hash),
            Val::Text(record.hash),
        ]);
    }
    sqlx::query("UPDATE audit_head SET hash = $1 WHERE id = 1")
        .bind(prev_hash)
        .execute(&mut **tx)
        .await?;
    let backend = backend_of(tx);
    insert_batch(
        tx,
        backend,
        "audit_log",
        &[
            "seq",
            "at",
            "actor_id",
            "actor_name",
            "actor_unit_id",
            "unit_id",
            "action",
            "target_type",
            "target_id",
            "ip",
            "outcome",
            "detail",
            "prev_hash",
            "hash",
        ],
        rows,
    )
    .await?;
    Ok(())
}

/// Filters of the audit search; all optional and combined with AND.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    /// Part of the actor's name.
    pub actor: Option<String>,
    /// An action or an action prefix (`user.` matches every user action).
    pub action: Option<String>,
    pub outcome: Option<Outcome>,
    pub target_id: Option<String>,
}

/// The last walk of the chain, kept per instance ([`Store::last_audit_check`]).
#[derive(Default)]
struct ChainCheck {
    last: std::sync::Mutex<Option<(DateTime<Utc>, ChainStatus)>>,
    running: std::sync::atomic::AtomicBool,
}

/// Result of walking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainStatus {
    Intact { records: i64, head_hash: String },
    Broken(ChainBreak),
}

impl Store {
    /// Records an event that changes nothing else (a failed sign-in, a refused request).
    pub async fn audit(&self, new: NewAuditRecord) -> Result<i64, StoreError> {
        let mut tx = self.begin().await?;
        let seq = append(&mut tx, self.now(), new).await?;
        tx.commit().await?;
        Ok(seq)
    }

    pub async fn search_audit(
        &self,
        scope: &Scope,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditRecord>, StoreError> {
        let mut count = Sql::new("SELECT COUNT(*) AS n FROM audit_log a WHERE 1 = 1");
        where_clause(&mut count, scope, filter);
        let total = self.count(count).await?;
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM audit_log a WHERE 1 = 1"));
        where_clause(&mut sql, scope, filter);
        sql.push(" ORDER BY a.seq DESC LIMIT ")
            .bind(page.limit())
            .push(" OFFSET ")
            .bind(page.offset());
        let items =
            sql.fetch_all(self.reader()).await?.iter().map(record).collect::<Result<_, _>>()?;
        Ok(Page { items, total, page: page.page, per_page: page.per_page })
    }

    /// The newest `limit` matching records, newest first, for export.
    pub async fn export_audit(
        &self,
        scope: &Scope,
        filter: &AuditFilter,
        limit: i64,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM audit_log a WHERE 1 = 1"));
        where_clause(&mut sql, scope, filter);
        sql.push(" ORDER BY a.seq DESC LIMIT ").bind(limit);
        sql.fetch_all(self.reader()).await?.iter().map(record).collect()
    }

    /// Walks the whole chain in order, in batches, and compares its end with the head.
    /// The last walk of the chain this instance made, and when: the workbench shows it without
    /// walking the chain on every page load.
    pub fn last_audit_check(&self) -> Option<(DateTime<Utc>, ChainStatus)> {
        self.kept::<ChainCheck>()
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Walks the chain in the background when the last walk is older than `max_age` (or there
    /// was none), unless a walk is under way. Returns at once.
    pub fn refresh_audit_check(&self, max_age: chrono::Duration) {
        let check = self.kept::<ChainCheck>();
        let fresh = self.last_audit_check().is_some_and(|(at, _)| self.now() - at < max_age);
        if fresh || check.running.swap(true, std::sync::atomic::Ordering::AcqRel) {
            return;
        }
        let store = self.clone();
        tokio::spawn(async move {
            if let Err(error) = store.verify_audit_chain().await {
                tracing::warn!(%error, "audit chain check");
            }
            store.kept::<ChainCheck>().running.store(false, std::sync::atomic::Ordering::Release);
        });
    }

    pub async fn verify_audit_chain(&self) -> Result<ChainStatus, StoreError> {
        let status = self.walk_audit_chain().await?;
        *self.kept::<ChainCheck>().last.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
            Some((self.now(), status.clone()));
        Ok(status)
    }

    async fn walk_audit_chain(&self) -> Result<ChainStatus, StoreError> {
        // The head is read first: records appended during the walk lie beyond it and are left
        // for the next run instead of being mistaken for a mismatch.
        let (head_seq, head_hash): (i64, String) =
            sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1")
                .fetch_one(self.reader())
                .await?;
        let mut verifier = ChainVerifier::default();
        let mut after = 0_i64;
        loop {
            let rows = sqlx::query(&format!(
                "SELECT {COLUMNS} FROM audit_log a WHERE a.seq > $1 AND a.seq <= $2 \
                 ORDER BY a.seq LIMIT 1000"
            ))
            .bind(after)
            .bind(head_seq)
            .fetch_all(self.reader())
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("seq")?;
            for row in &rows {
                if let Err(broken) = verifier.push(&record(row)?) {
                    return Ok(ChainStatus::Broken(broken));
                }
            }
        }
        Ok(match verifier.finish(head_seq, &head_hash) {
            Ok(records) => ChainStatus::Intact { records, head_hash },
            Err(broken) => ChainStatus::Broken(broken),
        })
    }
}

fn where_clause(sql: &mut Sql, scope: &Scope, filter: &AuditFilter) {
    scope::filter_with_unassigned(sql, scope, "a.unit_id");
    if let Some(from) = filter.from {
        sql.push(" AND a.at >= ").bind(to_millis(from));
    }
    if let Some(to) = filter.to {
        sql.push(" AND a.at < ").bind(to_millis(to));
    }
    if let Some(actor) = &filter.actor {
        // By the name the record keeps, or by the login name of the account behind it.
        let pattern = like_pattern(&actor.to_lowercase());
        sql.push(" AND (LOWER(a.actor_name) LIKE ").bind(pattern.clone());
        sql.push(" ESCAPE '\\' OR a.actor_id IN (SELECT id FROM users WHERE LOWER(username) LIKE ");
        sql.bind(pattern).push(" ESCAPE '\\'))");
    }
    if let Some(action) = &filter.action {
        if action.ends_with('.') {
            sql.push(" AND a.action LIKE ").bind(format!("{}%", escape_like(action)));
            sql.push(" ESCAPE '\\'");
        } else {
            sql.push(" AND a.action = ").bind(action.clone());
        }
    }
    if let Some(outcome) = filter.outcome {
        sql.push(" AND a.outcome = ").bind(outcome.as_str().to_owned());
    }
    if let Some(target) = &filter.target_id {
        sql.push(" AND a.target_id = ").bind(target.clone());
    }
}

/// `%text%` with the LIKE wildcards in `text` escaped by `\`.
pub(crate) fn like_pattern(text: &str) -> String {
    format!("%{}%", escape_like(text))
}

pub(crate) fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

#[derive(FromRow)]
struct AuditRow {
    seq: i64,
    at: i64,
    actor_id: Option<String>,
    actor_name: String,
    actor_unit_id: Option<String>,
    unit_id: Option<String>,
    action: String,
    target_type: Option<String>,
    target_id: Option<String>,
    ip: Option<String>,
    outcome: String,
    detail: String,
    prev_hash: String,
    hash: String,
}

fn record(row: &AnyRow) -> Result<AuditRecord, StoreError> {
    let r = AuditRow::from_row(row)?;
    Ok(AuditRecord {
        seq: r.seq,
        at: from_millis(r.at),
        actor_id: r.actor_id,
        actor_name: r.actor_name,
        actor_unit_id: r.actor_unit_id,
        unit_id: r.unit_id,
        action: r.action,
        target_type: r.target_type,
        target_id: r.target_id,
        ip: r.ip,
        outcome: r.outcome,
        detail: r.detail,
        prev_hash: r.prev_hash,
        hash: r.hash,
    })
}

/// The before/after of the fields a change touched, for an audit record's detail.
#[derive(Debug, Default)]
pub(crate) struct Diff {
    before: serde_json::Map<String, serde_json::Value>,
    after: serde_json::Map<String, serde_json::Value>,
}

impl Diff {
    /// Records the field when its value changes.
    pub(crate) fn note(&mut self, field: &str, old: serde_json::Value, new: serde_json::Value) {
        if old != new {
            self.set(field, old, new);
        }
    }

    /// Records the field even when the two values look alike (a masked value, a summary).
    pub(crate) fn set(&mut self, field: &str, old: serde_json::Value, new: serde_json::Value) {
        self.before.insert(field.to_owned(), old);
        self.after.insert(field.to_owned(), new);
    }

    /// `{"before": …, "after": …}` plus any context fields (a username, say).
    pub(crate) fn into_detail(self, context: &[(&str, serde_json::Value)]) -> serde_json::Value {
        let mut detail: serde_json::Map<String, serde_json::Value> =
            context.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
        detail.insert("before".to_owned(), serde_json::Value::Object(self.before));
        detail.insert("after".to_owned(), serde_json::Value::Object(self.after));
        serde_json::Value::Object(detail)
    }
}
