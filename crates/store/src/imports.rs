//! Excel imports, the shared mechanism every ledger uses (docs/imports.md). A workbook is kept as
//! it was uploaded; a dry run reads it row by row and records every problem with its row, column
//! and code; the commit reads it again and writes every row that passes in one transaction, or
//! nothing. What a row means is the owning module's business: it implements [`ImportKind`] and
//! this module drives it.
//!
//! Progress lives in memory on the instance that runs the import (a commit holds its transaction
//! open, so it cannot be written to the database until the end); other instances see the status.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Mutex;

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::error::ValidationErrors;
use beacon_core::id::new_id;
use beacon_core::page::PageRequest;
use beacon_core::scope::Scope;
use beacon_export::sheet::{self, Column, Layout, Row, SheetError, Value};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row as _;
use utoipa::ToSchema;

use crate::db::Tx;
use crate::sql::Sql;
use crate::{Page, Store, StoreError, audit, scope};

/// Rows a workbook may hold (the benchmark's 100,000 with room to spare).
pub const MAX_ROWS: usize = 200_000;
/// Problems kept per import; past it the rows are still refused and counted.
pub const MAX_PROBLEMS: usize = 100_000;
/// An import left `checking` or `committing` this long by an instance that stopped is shown as
/// failed (`interrupted`); a real run of the largest file takes about a minute.
const STALE_MS: i64 = 60 * 60 * 1000;

/// What one row became.
#[derive(Debug, Clone, PartialEq)]
pub enum RowOutcome {
    Created,
    Updated,
    Unchanged,
    /// Refused, with its problems: the field (a column's key, possibly with an index such as
    /// `former_names[1]`) and the code.
    Refused(Vec<(String, String)>),
}

impl RowOutcome {
    pub fn refused(field: &str, code: &str) -> Self {
        RowOutcome::Refused(vec![(field.to_owned(), code.to_owned())])
    }
}

/// What a module tells the driver about its rows.
pub trait ImportKind: Send {
    /// The columns, in template order.
    fn columns(&self) -> &'static [Column];
    /// The key a row's record is known by (a credit code), which a file may hold only once,
    /// with the field it comes from; `None` when the row has none (it is refused by `apply`).
    fn key(&self, row: &Row<'_>) -> Option<(&'static str, String)>;
    /// Checks a row and, when `write`, writes it in `tx`. On a dry run `tx` is a read
    /// transaction that is rolled back.
    fn apply(
        &mut self,
        tx: &mut Tx,
        row: &Row<'_>,
        write: bool,
    ) -> impl Future<Output = Result<RowOutcome, StoreError>> + Send;

    /// Checks a chunk of rows (at most [`CHUNK`], no two with the same key) and, when `write`,
    /// writes them: one outcome per row, in order. By default row by row; a kind whose files
    /// hold many new records overrides it to look them up and insert them with a few statements
    /// per chunk, since on PostgreSQL a commit row by row waits on a round trip per statement.
    fn apply_chunk(
        &mut self,
        tx: &mut Tx,
        rows: &[Row<'_>],
        write: bool,
    ) -> impl Future<Output = Result<Vec<RowOutcome>, StoreError>> + Send {
        async move {
            let mut outcomes = Vec::with_capacity(rows.len());
            for row in rows {
                outcomes.push(self.apply(tx, row, write).await?);
            }
            Ok(outcomes)
        }
    }

    /// Runs after a commit has written the rows (and the statistics are fresh): what a kind
    /// keeps about its records as a whole is brought up to date here. By default nothing.
    fn committed(&self, store: &Store) -> impl Future<Output = Result<(), StoreError>> + Send {
        let _ = store;
        async { Ok(()) }
    }
}

/// A column of a kind's template (`key` as its rows name it, the Chinese and English headers,
/// the other headers offices write, whether a row must fill it, and the hint under it).
pub const fn column(
    key: &'static str,
    zh: &'static str,
    en: &'static str,
    aliases: &'static [&'static str],
    required: bool,
    hint: (&'static str, &'static str),
) -> Column {
    Column { key, zh, en, aliases, required, hint }
}

/// A date cell, with its problem added when unreadable.
pub fn date_in(
    row: &Row<'_>,
    key: &str,
    problems: &mut Vec<(String, String)>,
) -> Option<chrono::NaiveDate> {
    match row.date(key) {
        Ok(d) => d,
        Err(code) => {
            problems.push((key.to_owned(), code.to_owned()));
            None
        }
    }
}

/// A date cell a row must fill: `required` when blank, its problem when unreadable.
pub fn required_date(
    row: &Row<'_>,
    key: &str,
    problems: &mut Vec<(String, String)>,
) -> Option<chrono::NaiveDate> {
    let date = date_in(row, key, problems);
    if date.is_none() && !problems.iter().any(|(f, _)| f == key) {
        problems.push((key.to_owned(), "required".to_owned()));
    }
    date
}

/// Adds a write's validation errors to a row's problems, except for fields the row already has
/// a problem with (a unit reported unresolved is not reported again as missing).
pub fn add_errors(problems: &mut Vec<(String, String)>, errors: &ValidationErrors) {
    for (field, code) in errors.fields() {
        if !problems.iter().any(|(f, _)| f == field) {
            problems.push((field.clone(), code.clone()));
        }
    }
}

/// Rows handed to [`ImportKind::apply_chunk`] at once.
pub const CHUNK: usize = 1_000;

/// One problem of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ImportProblem {
    /// The sheet row as Excel shows it.
    pub row: u32,
    /// The column's header as the file has it; none for a problem with no column.
    pub column: Option<String>,
    /// The column's letter (`C`), when known.
    pub cell: Option<String>,
    pub field: String,
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Import {
    pub id: String,
    /// `enterprises`, `licences`, `risk_points`, `hidden_dangers`.
    pub kind: String,
    pub file_name: String,
    pub file_size: i64,
    /// `checking`, `checked`, `committing`, `committed` or `failed`.
    pub status: String,
    /// Why the whole file failed (`not_a_workbook`, `no_header`, `column_missing`,
    /// `too_many_rows`, `empty_sheet`, `interrupted`, `internal`).
    pub error: Option<String>,
    pub rows_total: i64,
    /// On a checked import, what a commit would do; on a committed one, what it did.
    pub rows_created: i64,
    pub rows_updated: i64,
    pub rows_unchanged: i64,
    pub rows_refused: i64,
    /// Rows processed so far while it runs (on the instance that runs it).
    pub progress: Option<i64>,
    pub problems_total: i64,
    /// The first problems (at most 500; the annotated workbook has them all).
    pub problems: Vec<ImportProblem>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub committed_by: Option<String>,
    pub committed_at: Option<DateTime<Utc>>,
}

/// Rows processed per running import on this instance.
#[derive(Default)]
struct Progress(Mutex<HashMap<String, i64>>);

impl Progress {
    fn set(&self, id: &str, rows: Option<i64>) {
        let mut map = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match rows {
            Some(n) => map.insert(id.to_owned(), n),
            None => map.remove(id),
        };
    }

    fn get(&self, id: &str) -> Option<i64> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(id).copied()
    }
}

const SHOWN_PROBLEMS: usize = 500;

/// The first `n` problems of a stored list, the rest skipped unread: a page polled while a
/// large import runs (up to 100,000 problems kept) builds 500 of them, not all.
fn first_problems(json: &str, n: usize) -> Result<Vec<ImportProblem>, StoreError> {
    struct First(usize);
    impl<'de> serde::de::Visitor<'de> for First {
        type Value = Vec<ImportProblem>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of problems")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut seq: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(self.0.min(seq.size_hint().unwrap_or(0)));
            while out.len() < self.0 {
                match seq.next_element()? {
                    Some(problem) => out.push(problem),
                    None => return Ok(out),
                }
            }
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok(out)
        }
    }
    let mut reader = serde_json::Deserializer::from_str(json);
    serde::Deserializer::deserialize_seq(&mut reader, First(n))
        .map_err(|e| StoreError::corrupt(e.to_string()))
}

fn millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn instant(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

/// Excel's column letters: 0 → A, 26 → AA.
pub fn column_letter(mut index: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The whole result of a run, as stored.
struct RunResult {
    header_row: u32,
    total: i64,
    created: i64,
    updated: i64,
    unchanged: i64,
    refused: i64,
    problems: Vec<ImportProblem>,
    /// Problems found, including those past [`MAX_PROBLEMS`] that are not kept.
    problems_total: usize,
    outcomes: String,
}

/// A row read and not yet applied: its number, its cells and, when the driver already refused
/// it (a key the file held before), that outcome.
type Pending = (u32, Vec<Option<Value>>, Option<RowOutcome>);

/// Applies the pending rows in one chunk and records their outcomes in row order.
async fn apply_pending<K: ImportKind>(
    kind: &mut K,
    tx: &mut Tx,
    layout: &Layout,
    pending: &mut Vec<Pending>,
    write: bool,
    result: &mut RunResult,
    headers: &[String],
) -> Result<(), StoreError> {
    let rows: Vec<Row<'_>> = pending
        .iter()
        .filter(|(_, _, decided)| decided.is_none())
        .map(|(number, cells, _)| Row { number: *number, cells, layout })
        .collect();
    let mut applied = kind.apply_chunk(tx, &rows, write).await?.into_iter();
    if applied.len() != rows.len() {
        return Err(StoreError::corrupt("an import chunk's outcomes do not match its rows"));
    }
    drop(rows);
    let columns = kind.columns();
    for (number, _, decided) in pending.drain(..) {
        let outcome = match decided {
            Some(outcome) => outcome,
            None => applied.next().ok_or_else(|| StoreError::corrupt("import chunk"))?,
        };
        result.record(number, outcome, columns, layout, headers);
    }
    Ok(())
}

impl RunResult {
    /// Counts a row's outcome, marks it in the outcomes column and keeps its problems.
    fn record(
        &mut self,
        number: u32,
        outcome: RowOutcome,
        columns: &[Column],
        layout: &Layout,
        headers: &[String],
    ) {
        let gap = number.saturating_sub(self.header_row + 1) as usize;
        while self.outcomes.len() < gap {
            self.outcomes.push('-');
        }
        let mark = match outcome {
            RowOutcome::Created => {
                self.created += 1;
                'c'
            }
            RowOutcome::Updated => {
                self.updated += 1;
                'u'
            }
            RowOutcome::Unchanged => {
                self.unchanged += 1;
                'n'
            }
            RowOutcome::Refused(list) => {
                self.refused += 1;
                for (field, code) in list {
                    self.problems_total += 1;
                    if self.problems.len() >= MAX_PROBLEMS {
                        continue;
                    }
                    let base = field.split(['[', '.']).next().unwrap_or(&field);
                    let index = columns
                        .iter()
                        .position(|c| c.key == base)
                        .and_then(|c| layout.positions.get(c).copied().flatten());
                    self.problems.push(ImportProblem {
                        row: number,
                        column: index.and_then(|i| headers.get(i).cloned()).or_else(|| {
                            columns.iter().find(|c| c.key == base).map(|c| c.zh.to_owned())
                        }),
                        cell: index.map(column_letter),
                        field,
                        code,
                    });
                }
                'r'
            }
        };
        self.outcomes.push(mark);
    }
}

impl Store {
    /// Keeps an uploaded workbook for a dry run (`checking`); the caller starts the run.
    pub async fn create_import(
        &self,
        actor: &Actor,
        unit_id: &str,
        kind: &str,
        file_name: &str,
        content: Vec<u8>,
    ) -> Result<Import, StoreError> {
        let now = millis(self.now());
        let id = new_id();
        let sha = hex_sha(&content);
        let size = i64::try_from(content.len()).unwrap_or(i64::MAX);
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO imports (id, kind, unit_id, file_name, file_size, file_sha256, content, \
             status, created_by, created_by_name, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'checking', $8, $9, $10, $10)",
        )
        .bind(id.clone())
        .bind(kind.to_owned())
        .bind(unit_id.to_owned())
        .bind(file_name.to_owned())
        .bind(size)
        .bind(sha.clone())
        .bind(content)
        .bind(actor.user_id.clone().unwrap_or_default())
        .bind(actor.name.clone())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            self.now(),
            NewAuditRecord::new(actor, "import.uploaded", Outcome::Success)
                .target("import", &id)
                .unit(Some(unit_id))
                .detail(
                    json!({ "kind": kind, "file_name": file_name, "size": size, "sha256": sha }),
                ),
        )
        .await?;
        tx.commit().await?;
        self.import(&Scope::Global, &id).await
    }

    pub async fn import(&self, scope: &Scope, id: &str) -> Result<Import, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM imports i WHERE i.id = "));
        sql.bind(id.to_owned());
        scope::filter(&mut sql, scope, "i.unit_id");
        let row = sql.fetch_optional(self.reader()).await?.ok_or(StoreError::NotFound)?;
        self.import_of(&row, true)
    }

    /// The imports of a scope, newest first.
    pub async fn imports(
        &self,
        scope: &Scope,
        kind: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Import>, StoreError> {
        let mut count = Sql::new("SELECT COUNT(*) AS n FROM imports i WHERE 1 = 1");
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM imports i WHERE 1 = 1"));
        for s in [&mut count, &mut sql] {
            if let Some(k) = kind {
                s.push(" AND i.kind = ").bind(k.to_owned());
            }
            scope::filter(s, scope, "i.unit_id");
        }
        let total = self.count(count).await?;
        sql.push(" ORDER BY i.created_at DESC, i.id LIMIT ")
            .bind(i64::from(page.per_page))
            .push(" OFFSET ")
            .bind(page.offset());
        let rows = sql.fetch_all(self.reader()).await?;
        Ok(Page {
            items: rows.iter().map(|r| self.import_of(r, false)).collect::<Result<_, _>>()?,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    fn import_of(
        &self,
        row: &sqlx::any::AnyRow,
        with_problems: bool,
    ) -> Result<Import, StoreError> {
        let id: String = row.try_get("id")?;
        let mut status: String = row.try_get("status")?;
        let mut error: Option<String> = row.try_get("error")?;
        let updated: i64 = row.try_get("updated_at")?;
        let progress = self.kept::<Progress>().get(&id);
        if matches!(status.as_str(), "checking" | "committing")
            && progress.is_none()
            && millis(self.now()) - updated > STALE_MS
        {
            status = "failed".to_owned();
            error = Some("interrupted".to_owned());
        }
        let problems_json: String = row.try_get("problems")?;
        let shown: Vec<ImportProblem> = if with_problems {
            first_problems(&problems_json, SHOWN_PROBLEMS)?
        } else {
            Vec::new()
        };
        let problems_total: i64 = row.try_get("problems_total")?;
        Ok(Import {
            id,
            kind: row.try_get("kind")?,
            file_name: row.try_get("file_name")?,
            file_size: row.try_get("file_size")?,
            status,
            error,
            rows_total: row.try_get("rows_total")?,
            rows_created: row.try_get("rows_created")?,
            rows_updated: row.try_get("rows_updated")?,
            rows_unchanged: row.try_get("rows_unchanged")?,
            rows_refused: row.try_get("rows_refused")?,
            progress,
            problems_total,
            problems: shown,
            created_by: row.try_get("created_by_name")?,
            created_at: instant(row.try_get("created_at")?),
            committed_by: row.try_get("committed_by_name")?,
            committed_at: row.try_get::<Option<i64>, _>("committed_at")?.map(instant),
        })
    }

    /// The workbook as uploaded, with everything its last run found: the header row, the
    /// problems and one outcome character per row (see the migration).
    pub async fn import_content(
        &self,
        scope: &Scope,
        id: &str,
    ) -> Result<(Import, Vec<u8>, Option<u32>, Vec<ImportProblem>, String), StoreError> {
        let import = self.import(scope, id).await?;
        let row = sqlx::query(
            "SELECT content, header_row, problems, outcomes FROM imports WHERE id = $1",
        )
        .bind(id.to_owned())
        .fetch_one(self.reader())
        .await?;
        let problems: String = row.try_get("problems")?;
        let problems =
            serde_json::from_str(&problems).map_err(|e| StoreError::corrupt(e.to_string()))?;
        let header: Option<i64> = row.try_get("header_row")?;
        Ok((
            import,
            row.try_get("content")?,
            header.and_then(|h| u32::try_from(h).ok()),
            problems,
            row.try_get("outcomes")?,
        ))
    }

    /// Moves a checked import to `committing`; refused unless it is `checked` (`import_not_checked`).
    pub async fn start_commit(&self, scope: &Scope, id: &str) -> Result<Import, StoreError> {
        let import = self.import(scope, id).await?;
        if import.status != "checked" {
            return Err(StoreError::Conflict("import_not_checked"));
        }
        if import.rows_created + import.rows_updated == 0 {
            return Err(StoreError::Conflict("import_nothing_to_write"));
        }
        let n = sqlx::query(
            "UPDATE imports SET status = 'committing', updated_at = $1 WHERE id = $2 AND status = 'checked'",
        )
        .bind(millis(self.now()))
        .bind(id.to_owned())
        .execute(self.writer())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict("import_not_checked"));
        }
        self.import(scope, id).await
    }

    /// Runs an import: the dry run (`write = false`, ends `checked`) or the commit (ends
    /// `committed`, everything in one transaction). A whole-file problem ends it `failed`.
    pub async fn run_import<K: ImportKind>(
        &self,
        actor: &Actor,
        id: &str,
        mut kind: K,
        write: bool,
    ) -> Result<(), StoreError> {
        let progress = self.kept::<Progress>();
        progress.set(id, Some(0));
        let result = self.drive(actor, id, &mut kind, write, &progress).await;
        progress.set(id, None);
        if let Err(e) = &result {
            let code = match e {
                StoreError::Invalid(errors) => {
                    errors.fields().values().next().cloned().unwrap_or_else(|| "internal".into())
                }
                _ => "internal".to_owned(),
            };
            sqlx::query(
                "UPDATE imports SET status = 'failed', error = $1, updated_at = $2 WHERE id = $3",
            )
            .bind(code)
            .bind(millis(self.now()))
            .bind(id.to_owned())
            .execute(self.writer())
            .await?;
            if !matches!(e, StoreError::Invalid(_)) {
                return result;
            }
        }
        Ok(())
    }

    async fn drive<K: ImportKind>(
        &self,
        actor: &Actor,
        id: &str,
        kind: &mut K,
        write: bool,
        progress: &Progress,
    ) -> Result<(), StoreError> {
        let row =
            sqlx::query("SELECT content, unit_id, kind, file_name FROM imports WHERE id = $1")
                .bind(id.to_owned())
                .fetch_one(self.reader())
                .await?;
        let content: Vec<u8> = row.try_get("content")?;
        let unit_id: String = row.try_get("unit_id")?;
        let kind_name: String = row.try_get("kind")?;
        let file_name: String = row.try_get("file_name")?;
        let (sender, mut rows) = tokio::sync::mpsc::channel::<(u32, Vec<Option<Value>>)>(256);
        let reader = tokio::task::spawn_blocking(move || {
            sheet::rows(&content, MAX_ROWS + 10, |n, cells| {
                sender.blocking_send((n, cells)).map_err(|_| SheetError { code: "cancelled" })
            })
        });
        let mut tx = if write { self.begin().await? } else { self.reader().begin().await? };
        let columns = kind.columns();
        let mut layout: Option<Layout> = None;
        let mut seen = 0;
        let mut keys: HashSet<String> = HashSet::new();
        let mut result = RunResult {
            header_row: 0,
            total: 0,
            created: 0,
            updated: 0,
            unchanged: 0,
            refused: 0,
            problems: Vec::new(),
            problems_total: 0,
            outcomes: String::new(),
        };
        let mut headers: Vec<String> = Vec::new();
        let mut pending: Vec<Pending> = Vec::with_capacity(CHUNK);
        let mut whole_file: Option<&'static str> = None;
        while let Some((number, cells)) = rows.recv().await {
            let Some(layout) = layout.as_ref() else {
                seen += 1;
                if let Some(found) = sheet::layout(columns, number, &cells) {
                    headers = cells
                        .iter()
                        .map(|c| c.as_ref().map(sheet::render).unwrap_or_default())
                        .collect();
                    result.header_row = number;
                    for column in &found.missing {
                        result.problems_total += 1;
                        result.problems.push(ImportProblem {
                            row: number,
                            column: Some(column.zh.to_owned()),
                            cell: None,
                            field: column.key.to_owned(),
                            code: "column_missing".to_owned(),
                        });
                    }
                    for (index, column) in &found.duplicated {
                        result.problems_total += 1;
                        result.problems.push(ImportProblem {
                            row: number,
                            column: headers.get(*index).cloned(),
                            cell: Some(column_letter(*index)),
                            field: column.key.to_owned(),
                            code: "column_duplicated".to_owned(),
                        });
                    }
                    if !found.missing.is_empty() || !found.duplicated.is_empty() {
                        whole_file = Some("column_missing");
                        break;
                    }
                    layout = Some(found);
                } else if seen >= 10 {
                    whole_file = Some("no_header");
                    break;
                }
                continue;
            };
            if i64::try_from(MAX_ROWS).unwrap_or(i64::MAX) <= result.total {
                whole_file = Some("too_many_rows");
                break;
            }
            result.total += 1;
            let duplicate = match kind.key(&Row { number, cells: &cells, layout }) {
                Some((field, key)) => (!keys.insert(key)).then_some(field),
                None => None,
            };
            pending.push((
                number,
                cells,
                duplicate.map(|f| RowOutcome::refused(f, "duplicate_in_file")),
            ));
            if pending.len() >= CHUNK {
                apply_pending(kind, &mut tx, layout, &mut pending, write, &mut result, &headers)
                    .await?;
                progress.set(id, Some(result.total));
            }
        }
        if whole_file.is_none()
            && let Some(layout) = layout.as_ref()
        {
            apply_pending(kind, &mut tx, layout, &mut pending, write, &mut result, &headers)
                .await?;
        }
        drop(rows);
        let read = reader.await.map_err(|e| StoreError::corrupt(e.to_string()))?;
        if whole_file.is_none() {
            match read {
                Err(e) if e.code != "cancelled" => whole_file = Some(e.code),
                _ if layout.is_none() => whole_file = Some("no_header"),
                _ => {}
            }
        }
        let now = self.now();
        if let Some(code) = whole_file {
            drop(tx);
            let problems = serde_json::to_string(&result.problems).unwrap_or_else(|_| "[]".into());
            sqlx::query(
                "UPDATE imports SET status = 'failed', error = $1, problems = $2, \
                 problems_total = $3, header_row = $4, updated_at = $5 WHERE id = $6",
            )
            .bind(code.to_owned())
            .bind(problems)
            .bind(i64::try_from(result.problems_total).unwrap_or(i64::MAX))
            .bind(i64::from(result.header_row))
            .bind(millis(now))
            .bind(id.to_owned())
            .execute(self.writer())
            .await?;
            return Ok(());
        }
        let problems = serde_json::to_string(&result.problems).unwrap_or_else(|_| "[]".into());
        let update = format!(
            "UPDATE imports SET status = $1, error = NULL, header_row = $2, rows_total = $3, \
             rows_created = $4, rows_updated = $5, rows_unchanged = $6, rows_refused = $7, \
             problems = $8, problems_total = $9, outcomes = $10, updated_at = $11{} WHERE id = $12",
            if write { ", committed_by_name = $13, committed_at = $11" } else { "" }
        );
        let mut query = sqlx::query(&update)
            .bind(if write { "committed" } else { "checked" })
            .bind(i64::from(result.header_row))
            .bind(result.total)
            .bind(result.created)
            .bind(result.updated)
            .bind(result.unchanged)
            .bind(result.refused)
            .bind(problems)
            .bind(i64::try_from(result.problems_total).unwrap_or(i64::MAX))
            .bind(result.outcomes)
            .bind(millis(now))
            .bind(id.to_owned());
        if write {
            query = query.bind(actor.name.clone());
            query.execute(&mut *tx).await?;
            audit::append(
                &mut tx,
                now,
                NewAuditRecord::new(actor, "import.committed", Outcome::Success)
                    .target("import", id)
                    .unit(Some(&unit_id))
                    .detail(json!({
                        "kind": kind_name,
                        "file_name": file_name,
                        "created": result.created,
                        "updated": result.updated,
                        "unchanged": result.unchanged,
                        "refused": result.refused,
                    })),
            )
            .await?;
            tx.commit().await?;
            // Thousands of new rows change what the query planner should know (which index
            // narrows a filter); bulk user creation does the same.
            if let Err(error) = self.optimize().await {
                tracing::warn!(%error, "refreshing query statistics after an import failed");
            }
            if let Err(error) = kind.committed(self).await {
                tracing::warn!(%error, kind = %kind_name, "bringing an import's kind up to date failed");
            }
        } else {
            drop(tx);
            query.execute(self.writer()).await?;
        }
        Ok(())
    }
}

const COLUMNS: &str = "i.id, i.kind, i.file_name, i.file_size, i.status, i.error, i.rows_total, \
    i.rows_created, i.rows_updated, i.rows_unchanged, i.rows_refused, i.problems, i.problems_total, \
    i.created_by_name, i.created_at, i.committed_by_name, i.committed_at, i.updated_at";

fn hex_sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::{ImportProblem, column_letter, first_problems};

    #[test]
    fn a_poll_reads_the_first_problems_only() {
        let problem = |row: u32| ImportProblem {
            row,
            column: Some("统一社会信用代码".into()),
            cell: Some("A".into()),
            field: "uscc".into(),
            code: "check_character".into(),
        };
        let all: Vec<ImportProblem> = (2..1_002).map(problem).collect();
        let json = serde_json::to_string(&all).unwrap();
        let first = first_problems(&json, 500).unwrap();
        assert_eq!(first.len(), 500);
        assert_eq!((first[0].row, first[499].row), (2, 501));
        assert_eq!(first_problems(&json[..json.len() - 1], 500).map(|p| p.len()).ok(), None);
        assert_eq!(first_problems("[]", 500).unwrap(), Vec::<ImportProblem>::new());
        assert_eq!(
            first_problems(&serde_json::to_string(&all[..3]).unwrap(), 500).unwrap(),
            all[..3]
        );
    }

    #[test]
    fn column_letters_follow_excel() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }
}
