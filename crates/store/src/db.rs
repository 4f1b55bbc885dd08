//! Connections, transactions and migrations: the part that differs between SQLite and
//! PostgreSQL, fenced here.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use beacon_core::clock::SharedClock;
use chrono::{DateTime, Utc};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Executor, Row};

use crate::error::StoreError;
use crate::sql::Sql;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// A write transaction. On SQLite it holds the database's single write lock from its first
/// statement (`BEGIN IMMEDIATE` on the one writer connection), so concurrent writers queue instead
/// of failing with `SQLITE_BUSY`.
pub type Tx = sqlx::Transaction<'static, Any>;

/// The backend a transaction runs on.
pub(crate) fn backend_of(tx: &mut Tx) -> Backend {
    if tx.backend_name().eq_ignore_ascii_case("sqlite") {
        Backend::Sqlite
    } else {
        Backend::Postgres
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::Url(
                "expected sqlite://PATH or postgres://USER@HOST/DATABASE".to_owned(),
            ))
        }
    }

    /// Serialises the transactions that take the same `key` until they end. SQLite already runs
    /// one write transaction at a time; PostgreSQL takes a transaction-scoped advisory lock.
    /// Used where a check and the write that depends on it must not interleave with another
    /// transaction's (moves in the unit tree, counting failed sign-ins).
    pub(crate) async fn serialize(self, tx: &mut Tx, key: &str) -> Result<(), StoreError> {
        if self == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(lock_key(key))
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Connections for reads (SQLite) or for everything (PostgreSQL).
    pub max_connections: u32,
    /// How long a request waits for a connection (and a first connection may take) before the
    /// store reports the database unreachable.
    pub acquire_timeout: Duration,
    /// Where SQLite keeps attached files (`DATA_DIR/files`); by default `files` beside the
    /// database file. On PostgreSQL files are kept in the database and this directory only
    /// holds uploads while they arrive (the system's temporary directory by default).
    pub files_dir: Option<std::path::PathBuf>,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self { max_connections: 8, acquire_timeout: Duration::from_secs(5), files_dir: None }
    }
}

/// The page cache SQLite's readers share, in KiB: each keeps its part (between 1 and 4 MiB), so
/// resident memory stays bounded whatever the number of readers. Eight readers of 2 MiB served
/// the register's name searches half again as fast as sixteen of 1 MiB, whose caches were a
/// little smaller than one search's pages (docs/benchmarks.md, 2026-12-07, fifth session).
const READERS_CACHE_KIB: u32 = 16 * 1024;

/// How often SQLite's write-ahead log is copied into the database file ([`Store::connect`]).
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// The handle every part of Beacon uses to reach the database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    backend: Backend,
    read: AnyPool,
    write: AnyPool,
    clock: SharedClock,
    counts: Arc<CountCache>,
    /// What modules keep for the life of the store (a queue of writes waiting for their batch,
    /// a relay's cursor), one value per type, made on first use: see [`Store::kept`].
    kept: Arc<Mutex<HashMap<TypeId, Arc<dyn std::any::Any + Send + Sync>>>>,
    /// Attached files (SQLite) and uploads on their way in (both backends): see [`crate::blob`].
    files_dir: Arc<std::path::PathBuf>,
}

/// Totals of list queries, kept briefly. Counting every row of a scope for each page of a list is
/// most of the cost of that page; a total is reused for [`COUNT_TTL`], or longer when it was
/// costly to count ([`count_ttl`]), unless this instance wrote anything since (every write
/// transaction invalidates the cache). Another instance's writes show in totals after at most
/// the TTL; the rows themselves are never cached.
#[derive(Debug, Default)]
struct CountCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Arc<CountSlot>>>,
}

/// One query's last total. When it merely ages past the TTL, the first request to notice
/// recounts while the others keep answering with the old total; after a write, everyone waits
/// for the new one.
#[derive(Debug, Default)]
struct CountSlot {
    last: Mutex<Option<CountEntry>>,
    recount: tokio::sync::Mutex<()>,
}

#[derive(Debug, Clone, Copy)]
struct CountEntry {
    at: Instant,
    generation: u64,
    value: i64,
    /// How long it serves, from what it cost ([`count_ttl`]).
    ttl: Duration,
}

impl CountEntry {
    fn fresh(&self, generation: u64) -> bool {
        self.generation == generation && self.at.elapsed() < self.ttl
    }
}

const COUNT_TTL: Duration = Duration::from_secs(2);
const COUNT_TTL_MAX: Duration = Duration::from_secs(30);

/// How long a total that took `cost` to count is reused: at least [`COUNT_TTL`], and long enough
/// that recounting takes at most a two-hundredth of one connection's time (a fragment that
/// matches one enterprise in a hundred is counted over the whole name index: 26 ms alone, 90
/// under load, every two seconds), up to [`COUNT_TTL_MAX`]. A write on this instance still
/// invalidates it at once.
fn count_ttl(cost: Duration) -> Duration {
    (cost * 200).clamp(COUNT_TTL, COUNT_TTL_MAX)
}
const COUNT_CACHE_SIZE: usize = 1024;

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish_non_exhaustive()
    }
}

impl Store {
    /// Connects without migrating. For SQLite the file is created if missing.
    pub async fn connect(
        url: &str,
        options: &ConnectOptions,
        clock: SharedClock,
    ) -> Result<Self, StoreError> {
        install_default_drivers();
        let backend = Backend::from_url(url)?;
        let (read, write) = match backend {
            Backend::Sqlite => {
                let url = sqlite_url(url);
                let write = AnyPoolOptions::new()
                    // A ping before every checkout would double the round trips of a request;
                    // a broken connection fails its query and is replaced instead.
                    .test_before_acquire(false)
                    .max_connections(1)
                    .min_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    // Readers share [`READERS_CACHE_KIB`] of pages, and the writer keeps
                    // SQLite's default 2 MiB; the operating system's file cache serves the
                    // rest. Each connection's cache is its own, with no lock shared between
                    // them (`.cargo/config.toml`).
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?;
                let readers = options.max_connections.max(1);
                let cache_kib = (READERS_CACHE_KIB / readers).clamp(1024, 4096);
                let read = AnyPoolOptions::new()
                    // A ping before every checkout would double the round trips of a request;
                    // a broken connection fails its query and is replaced instead.
                    .test_before_acquire(false)
                    .max_connections(readers)
                    // Every reader is opened at start, so memory is level from the first minute
                    // rather than rising as concurrency first reaches each connection.
                    .min_connections(readers)
                    .acquire_timeout(options.acquire_timeout)
                    .after_connect(move |conn, _| {
                        Box::pin(async move {
                            conn.execute(&*format!(
                                "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                                 PRAGMA query_only = ON; PRAGMA cache_size = -{cache_kib};"
                            ))
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?;
                (read, write)
            }
            Backend::Postgres => {
                // One direct attempt first: a pool only reports "timed out", this reports why
                // (refused, unknown database, authentication).
                let first = tokio::time::timeout(
                    options.acquire_timeout,
                    <sqlx::AnyConnection as sqlx::Connection>::connect(url),
                )
                .await
                .map_err(|_| {
                    StoreError::Unavailable(sqlx::Error::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("no answer within {} s", options.acquire_timeout.as_secs()),
                    )))
                })?;
                sqlx::Connection::close(first?).await?;
                let pool = AnyPoolOptions::new()
                    // A ping before every checkout would double the round trips of a request;
                    // a broken connection fails its query and is replaced instead.
                    .test_before_acquire(false)
                    .max_connections(options.max_connections.max(2))
                    .acquire_timeout(options.acquire_timeout)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // Beacon's queries are short lookups whose best plan does not depend
                            // on the parameter values (a scope id, a page); planning them afresh
                            // on every execution cost more than running them (0.6 ms against
                            // 0.35 ms for a page of users). Prepared statements keep one plan.
                            conn.execute("SET plan_cache_mode = force_generic_plan").await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await?;
                (pool.clone(), pool)
            }
        };
        let files_dir = match (&options.files_dir, backend) {
            (Some(dir), _) => dir.clone(),
            (None, Backend::Sqlite) => crate::blob::default_files_dir(url),
            (None, Backend::Postgres) => std::env::temp_dir().join("beacon-uploads"),
        };
        let store = Self {
            backend,
            read,
            write,
            clock,
            counts: Arc::default(),
            kept: Arc::default(),
            files_dir: Arc::new(files_dir),
        };
        if backend == Backend::Sqlite {
            store.spawn_checkpointer(sqlite_url(url));
        }
        Ok(store)
    }

    /// Applies the embedded migrations of this backend that the database has not seen yet.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&self.write).await?;
        // Data that SQL cannot rewrite: the register's search text (see its module).
        crate::enterprise::refresh_search_texts(self).await?;
        Ok(())
    }

    pub async fn connect_and_migrate(
        url: &str,
        options: &ConnectOptions,
        clock: SharedClock,
    ) -> Result<Self, StoreError> {
        let store = Self::connect(url, options, clock).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Refreshes the query planner's statistics. SQLite plans "everyone in scope, first page by
    /// name" as a sort of every row until its tables have statistics, and as an index walk that
    /// stops after one page afterwards. PostgreSQL's autovacuum gathers statistics by itself, but
    /// only a while after large changes; since its connections keep one plan per statement (see
    /// `connect`), fresh statistics after a bulk import matter. Run at start-up, hourly, and
    /// after bulk imports; it samples, so it stays cheap on large tables.
    ///
    /// On PostgreSQL it vacuums Beacon's own tables as it analyzes them, as autovacuum would
    /// (and does not where it is off). Vacuuming marks the pages that every transaction sees,
    /// so that a walk of an index that holds what a query asks answers from the index alone
    /// (the register read in name order, migration 0016: five times faster); rows just
    /// imported are not marked until it runs. It also moves the pending entries of the GIN
    /// indexes (the register's trigram index, migration 0014) into their main structure: rows
    /// written since are kept in a list every search reads in full, and an import of 100,000
    /// enterprises left enough there to slow each name search twofold. Tables held by a
    /// writer are skipped until the next run; pages already marked are not read again.
    pub async fn optimize(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => {
                sqlx::query("PRAGMA optimize = 0x10002").execute(&self.write).await?;
            }
            Backend::Postgres => {
                let tables: Vec<String> = sqlx::query(
                    "SELECT quote_ident(tablename) AS name FROM pg_tables \
                     WHERE schemaname = current_schema() ORDER BY tablename",
                )
                .fetch_all(&self.write)
                .await?
                .iter()
                .map(|r| r.try_get("name"))
                .collect::<Result<_, _>>()?;
                if !tables.is_empty() {
                    // Names quoted by PostgreSQL itself; VACUUM takes no bound parameters.
                    let vacuum = format!("VACUUM (ANALYZE, SKIP_LOCKED) {}", tables.join(", "));
                    sqlx::raw_sql(&vacuum).execute(&self.write).await?;
                }
            }
        }
        Ok(())
    }

    /// The same database read on another clock: the demo seeds a past with it, tests move
    /// time. Shares the connection pools.
    pub fn with_clock(&self, clock: SharedClock) -> Store {
        Store { clock, ..self.clone() }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// See [`ConnectOptions::files_dir`].
    pub fn files_dir(&self) -> &std::path::Path {
        &self.files_dir
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Answers when the database answers (for `/healthz`).
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    /// What is wrong with the database's setting for text search, when something is: on
    /// PostgreSQL a character type that is not UTF-8 (`C`, `POSIX`), under which `pg_trgm` sees
    /// no trigram in Chinese text and every name search reads the whole register.
    pub async fn text_search_warning(&self) -> Result<Option<String>, StoreError> {
        if self.backend != Backend::Postgres {
            return Ok(None);
        }
        let ctype: String = sqlx::query("SELECT current_setting('lc_ctype') AS c")
            .fetch_one(&self.read)
            .await?
            .try_get("c")?;
        let lower = ctype.to_ascii_lowercase();
        if lower.contains("utf-8") || lower.contains("utf8") {
            return Ok(None);
        }
        Ok(Some(format!(
            "the database's character type is {ctype}, not UTF-8: Chinese name fragments are \
             found by reading the whole register (create the database with LC_CTYPE C.UTF-8 or \
             zh_CN.UTF-8)"
        )))
    }

    /// The value of type `T` that this store (and its clones) keeps, made with `T::default()`
    /// the first time a module asks. A module's private type keeps its state here without the
    /// store knowing it.
    pub(crate) fn kept<T: Default + Send + Sync + 'static>(&self) -> Arc<T> {
        let mut kept = self.kept.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let value = kept.entry(TypeId::of::<T>()).or_insert_with(|| Arc::new(T::default()));
        // The entry under `TypeId::of::<T>()` is only ever a `T`.
        Arc::clone(value).downcast::<T>().unwrap_or_else(|_| Arc::new(T::default()))
    }

    pub(crate) fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// The write pool, for a single best-effort statement outside a transaction.
    pub(crate) fn writer(&self) -> &AnyPool {
        &self.write
    }

    /// The single number a `SELECT COUNT(*) AS n …` query returns, from the count cache when
    /// fresh.
    pub(crate) async fn count(&self, sql: Sql) -> Result<i64, StoreError> {
        let key = sql.cache_key();
        let slot = match self.counts.entries.lock() {
            Ok(mut entries) => {
                if entries.len() >= COUNT_CACHE_SIZE {
                    entries.clear();
                }
                entries.entry(key).or_default().clone()
            }
            Err(_) => Arc::default(),
        };
        let last = |slot: &CountSlot| slot.last.lock().ok().and_then(|entry| *entry);
        let generation = self.counts.generation.load(Ordering::Acquire);
        let _recount = match last(&slot) {
            Some(entry) if entry.fresh(generation) => {
                return Ok(entry.value);
            }
            // Only aged: one request recounts, the others answer with the old total meanwhile.
            Some(entry) if entry.generation == generation => match slot.recount.try_lock() {
                Ok(guard) => guard,
                Err(_) => return Ok(entry.value),
            },
            _ => {
                let guard = slot.recount.lock().await;
                if let Some(entry) = last(&slot)
                    && entry.fresh(generation)
                {
                    return Ok(entry.value);
                }
                guard
            }
        };
        let started = Instant::now();
        let value: i64 = sql.fetch_one(&self.read).await?.try_get("n")?;
        let ttl = count_ttl(started.elapsed());
        if let Ok(mut entry) = slot.last.lock() {
            *entry = Some(CountEntry { at: Instant::now(), generation, value, ttl });
        }
        Ok(value)
    }

    /// Starts a write transaction (see [`Tx`]).
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        // Whatever it writes may change a total; the bump comes first so a count that runs
        // concurrently with the write is not kept under the new generation.
        self.counts.generation.fetch_add(1, Ordering::AcqRel);
        let tx = match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.write.begin().await?,
        };
        Ok(tx)
    }

    /// An online copy of the SQLite database (`VACUUM INTO`), consistent even while Beacon runs.
    /// PostgreSQL is backed up with its own tools (`pg_dump`), so this refuses there.
    pub async fn backup_sqlite(&self, out: &std::path::Path) -> Result<(), StoreError> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Conflict("backup_use_pg_dump"));
        }
        let path = out.to_str().ok_or_else(|| StoreError::invalid("out", "not_utf8"))?;
        sqlx::query("VACUUM INTO $1").bind(path.to_owned()).execute(&self.write).await?;
        Ok(())
    }

    /// Copies SQLite's write-ahead log into the database file ten times a second, on a
    /// connection of its own. Left to the writer alone (every 1,000 pages), each checkpoint
    /// copied up to 4 MiB while the write that crossed the mark, and every write queued behind
    /// it, waited: the slowest hundredth of registrations. A passive checkpoint waits for nobody
    /// and nobody waits for it; the writer's own checkpoint then has only the last tenth of a
    /// second's pages left to copy before the log starts over. Ends when the store is closed or
    /// dropped.
    fn spawn_checkpointer(&self, url: String) {
        if tokio::runtime::Handle::try_current().is_err() {
            return;
        }
        let alive = Arc::downgrade(&self.kept);
        let write = self.write.clone();
        tokio::spawn(async move {
            let mut connection: Option<sqlx::AnyConnection> = None;
            loop {
                tokio::time::sleep(CHECKPOINT_EVERY).await;
                if alive.strong_count() == 0 || write.is_closed() {
                    break;
                }
                if connection.is_none() {
                    connection =
                        <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await.ok();
                }
                let Some(conn) = connection.as_mut() else { continue };
                let done = conn
                    .execute("PRAGMA busy_timeout = 1000; PRAGMA wal_checkpoint(PASSIVE);")
                    .await;
                if let Err(error) = done {
                    tracing::debug!(%error, "checkpoint of the write-ahead log failed");
                    connection = None;
                }
            }
            if let Some(conn) = connection {
                let _ = sqlx::Connection::close(conn).await;
            }
        });
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }

    /// Names and declared types of every column, and the index names, per table: what the
    /// schema-parity test compares between the backends.
    ///
    /// Text-search structures differ by design and are left out: on SQLite an FTS5 table and its
    /// keys (`<table>_search…`, with FTS5's own shadow tables), on PostgreSQL a trigram index
    /// (`ix_<table>_search`). Migration 0014 has the first pair.
    pub async fn schema_description(&self) -> Result<Vec<String>, StoreError> {
        let mut lines = Vec::new();
        match self.backend {
            Backend::Sqlite => {
                let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
                    "SELECT m.name, p.name, p.type, p.\"notnull\" \
                     FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
                       AND m.name NOT LIKE '_sqlx%' AND m.name NOT LIKE '%\\_search%' ESCAPE '\\' \
                     ORDER BY m.name, p.cid",
                )
                .fetch_all(&self.read)
                .await?;
                for (table, column, kind, not_null) in rows {
                    lines.push(column_line(&table, &column, &kind, not_null != 0));
                }
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT tbl_name, name FROM sqlite_master WHERE type = 'index' \
                     AND name NOT LIKE 'sqlite_%' AND tbl_name NOT LIKE '%\\_search%' ESCAPE '\\' \
                     ORDER BY tbl_name, name",
                )
                .fetch_all(&self.read)
                .await?;
                for (table, index) in rows {
                    lines.push(format!("{table} index {index}"));
                }
            }
            Backend::Postgres => {
                let rows: Vec<(String, String, String, bool)> = sqlx::query_as(
                    "SELECT c.table_name::text, c.column_name::text, c.data_type::text, \
                     c.is_nullable = 'NO' FROM information_schema.columns c \
                     JOIN information_schema.tables t ON t.table_name = c.table_name \
                       AND t.table_schema = c.table_schema AND t.table_type = 'BASE TABLE' \
                     WHERE c.table_schema = current_schema() AND c.table_name NOT LIKE '_sqlx%' \
                     ORDER BY c.table_name, c.ordinal_position",
                )
                .fetch_all(&self.read)
                .await?;
                for (table, column, kind, not_null) in rows {
                    lines.push(column_line(&table, &column, &kind, not_null));
                }
                let rows: Vec<(String, String)> = sqlx::query_as(
                    "SELECT tablename::text, indexname::text FROM pg_indexes \
                     WHERE schemaname = current_schema() AND indexname NOT LIKE '%_pkey' \
                       AND indexname NOT LIKE 'ix\\_%\\_search' ESCAPE '\\' \
                     ORDER BY tablename, indexname",
                )
                .fetch_all(&self.read)
                .await?;
                for (table, index) in rows {
                    lines.push(format!("{table} index {index}"));
                }
            }
        }
        Ok(lines)
    }
}

/// One column in backend-neutral words: SQLite's declared type and PostgreSQL's data type are
/// mapped onto the same small vocabulary.
fn column_line(table: &str, column: &str, kind: &str, not_null: bool) -> String {
    let kind = match kind.to_ascii_lowercase().as_str() {
        "text" => "text",
        "bigint" | "integer" => "int64",
        "boolean" | "boolint" => "bool",
        "real" | "double precision" => "float64",
        "blob" | "bytea" => "bytes",
        _ => "other",
    };
    let null = if not_null { "not null" } else { "null" };
    format!("{table}.{column} {kind} {null}")
}

/// A stable 64-bit key for an advisory lock (FNV-1a).
fn lock_key(key: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in key.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// Adds `mode=rwc` so a missing database file is created.
fn sqlite_url(url: &str) -> String {
    if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sqlx::{Connection, Row};

    #[test]
    fn a_costly_total_is_reused_longer_within_bounds() {
        assert_eq!(super::count_ttl(Duration::from_millis(1)), super::COUNT_TTL);
        assert_eq!(super::count_ttl(Duration::from_millis(50)), Duration::from_secs(10));
        assert_eq!(super::count_ttl(Duration::from_secs(1)), super::COUNT_TTL_MAX);
    }

    /// SQLite is built without STAT4 (`.cargo/config.toml`): with it, a statement comparing an
    /// indexed column to a bound value is compiled again whenever the value changes.
    #[tokio::test]
    async fn sqlite_keeps_its_compiled_statements() {
        super::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect("sqlite::memory:").await.unwrap();
        let options: Vec<String> = sqlx::query("PRAGMA compile_options")
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| r.try_get::<String, _>(0).unwrap())
            .collect();
        assert!(options.iter().any(|o| o.starts_with("THREADSAFE")), "{options:?}");
        assert!(!options.iter().any(|o| o.contains("STAT4")), "built with STAT4: {options:?}");
        // Connections' page caches share no lock, and allocations count nothing.
        assert!(!options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"), "{options:?}");
        assert!(options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"), "{options:?}");
    }
}
