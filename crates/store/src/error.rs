use beacon_core::error::ValidationErrors;

/// What can go wrong in the store, in terms a handler can answer without looking at driver
/// errors.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No such record, or one outside the caller's scope (the two are indistinguishable).
    #[error("not found")]
    NotFound,
    /// Input that is well-formed but breaks a rule that needs the database to check (a code
    /// already taken, a parent of the wrong level).
    #[error("invalid: {0}")]
    Invalid(ValidationErrors),
    /// The change conflicts with the current state (a unit that still has children); the code is
    /// stable and shown to the user.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// The name is locked after failed sign-ins, until then.
    #[error("locked until {0}")]
    Locked(chrono::DateTime<chrono::Utc>),
    /// The caller may not do this to this record (an administrator account changed through the
    /// API).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("invalid database URL: {0}")]
    Url(String),
    /// A stored value that the code cannot read (a role name from a newer version, say).
    #[error("unreadable stored value: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The database does not answer (connection refused, pool exhausted past its timeout).
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    /// The attached files' directory (SQLite) or an upload's spool file failed.
    #[error("file store: {0}")]
    Io(std::io::Error),
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl StoreError {
    pub fn invalid(field: &str, code: &str) -> Self {
        StoreError::Invalid(ValidationErrors::single(field, code))
    }

    /// A stored value that does not read back (JSON of another shape, a number out of range):
    /// for `map_err`.
    pub(crate) fn corrupt(error: impl std::fmt::Display) -> Self {
        StoreError::Corrupt(error.to_string())
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        match &error {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict("already_exists")
            }
            sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                StoreError::Conflict("still_referenced")
            }
            // PostgreSQL refuses text it cannot store (a NUL character): the input's fault.
            sqlx::Error::Database(db)
                if matches!(db.code().as_deref(), Some("22021") | Some("22P05")) =>
            {
                StoreError::invalid("body", "invalid_characters")
            }
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                StoreError::Unavailable(error)
            }
            // The server went away under a connection: shutting down (57P01–57P03) or a
            // broken connection (class 08). The request failed; nothing was committed.
            sqlx::Error::Database(db)
                if db.code().is_some_and(|c| c.starts_with("57P") || c.starts_with("08")) =>
            {
                StoreError::Unavailable(error)
            }
            _ => StoreError::Database(error),
        }
    }
}
