//! A small builder for SQL whose shape depends on input (optional filters, the scope clause).
//! It numbers placeholders `$1, $2, …`, which SQLite and PostgreSQL both accept; sqlx's own
//! `QueryBuilder` emits `?` for the `Any` driver, which PostgreSQL rejects.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Any, Arguments, Encode, Executor, Type};

use crate::StoreError;

pub(crate) struct Sql {
    text: String,
    args: AnyArguments<'static>,
    count: usize,
    error: Option<sqlx::error::BoxDynError>,
    /// The bound values as text, so the query and its arguments can key a cache.
    values: String,
    /// Placeholders are anonymous `?` (see [`insert_batch`]).
    anonymous: bool,
    /// Whether the connection keeps the compiled statement for the next run of the same text.
    /// A multi-row insert's text differs with its row count, so keeping each would fill the
    /// statement caches (100 per connection) with large programs rarely run again.
    persistent: bool,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            args: AnyArguments::default(),
            count: 0,
            error: None,
            values: String::new(),
            anonymous: false,
            persistent: true,
        }
    }

    /// A statement with many parameters that runs once: anonymous placeholders on SQLite (see
    /// [`insert_batch`]) and not kept by the connection.
    pub(crate) fn batch(text: &str, backend: crate::Backend) -> Self {
        let mut sql = Self::new(text);
        sql.anonymous = backend == crate::Backend::Sqlite;
        sql.persistent = false;
        sql
    }

    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub(crate) fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: Encode<'static, Any> + Type<Any> + Send + std::fmt::Debug + 'static,
    {
        use std::fmt::Write;
        self.count += 1;
        if self.anonymous {
            // Batched inserts are never cached: no need for the values as text.
            self.text.push('?');
        } else {
            let _ = write!(self.values, "\u{1f}{value:?}");
            self.text.push('$');
            self.text.push_str(&self.count.to_string());
        }
        if let Err(error) = self.args.add(value) {
            self.error.get_or_insert(error);
        }
        self
    }

    /// Binds values separated by commas, for the inside of `IN (…)`.
    pub(crate) fn bind_list<I>(&mut self, values: I) -> &mut Self
    where
        I: IntoIterator<Item = String>,
    {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(value);
        }
        self
    }

    /// Runs the query as subquery `t` of one aggregate and decodes its rows into `T`, in
    /// `order_by` (which may name any column of `t`). Lists are read this way: through sqlx's
    /// `Any` driver every row costs a conversion and a hand-over between threads, one JSON text
    /// costs one. Each row travels as a JSON array of the
    /// columns named as `T`'s fields, in their order, and `T` decodes from it by position: no
    /// keys to write, send or match. On PostgreSQL `json_build_array` of the columns costs less
    /// than `json_agg` of a record of them (which finds every column of every row by walking
    /// the row from its start) and than `json_build_object` (which also writes the keys): a
    /// page of the register 0.44–0.47 ms against 0.53–0.56 ms in `pgbench` (docs/benchmarks.md).
    pub(crate) async fn fetch_rows<'c, T, E>(
        mut self,
        backend: crate::Backend,
        order_by: &str,
        executor: E,
    ) -> Result<Vec<T>, StoreError>
    where
        T: serde::de::DeserializeOwned,
        E: Executor<'c, Database = Any>,
    {
        use sqlx::Row;
        let columns = serde_aux::serde_introspection::serde_introspect::<T>()
            .iter()
            .map(|c| format!("t.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let aggregate = match backend {
            crate::Backend::Sqlite => {
                format!("json_group_array(json_array({columns}) ORDER BY {order_by})")
            }
            crate::Backend::Postgres => {
                format!("json_agg(json_build_array({columns}) ORDER BY {order_by})::text")
            }
        };
        self.text = format!("SELECT {aggregate} AS json_rows FROM ({}) t", self.text);
        let row = self.fetch_one(executor).await?;
        let text: Option<String> = row.try_get("json_rows")?;
        match text {
            None => Ok(Vec::new()),
            Some(text) => serde_json::from_str(&text)
                .map_err(|e| StoreError::Corrupt(format!("aggregated rows: {e}"))),
        }
    }

    /// The query text and its arguments, as one string.
    pub(crate) fn cache_key(&self) -> String {
        format!("{}\u{1e}{}", self.text, self.values)
    }

    fn into_parts(self) -> Result<(String, AnyArguments<'static>, bool), sqlx::Error> {
        match self.error {
            Some(error) => Err(sqlx::Error::Encode(error)),
            None => Ok((self.text, self.args, self.persistent)),
        }
    }

    pub(crate) async fn fetch_all<'c, E>(self, executor: E) -> Result<Vec<AnyRow>, sqlx::Error>
    where
        E: Executor<'c, Database = Any>,
    {
        let (text, args, persistent) = self.into_parts()?;
        sqlx::query_with(&text, args).persistent(persistent).fetch_all(executor).await
    }

    pub(crate) async fn execute<'c, E>(self, executor: E) -> Result<u64, sqlx::Error>
    where
        E: Executor<'c, Database = Any>,
    {
        let (text, args, persistent) = self.into_parts()?;
        Ok(sqlx::query_with(&text, args)
            .persistent(persistent)
            .execute(executor)
            .await?
            .rows_affected())
    }

    pub(crate) async fn fetch_one<'c, E>(self, executor: E) -> Result<AnyRow, sqlx::Error>
    where
        E: Executor<'c, Database = Any>,
    {
        let (text, args, persistent) = self.into_parts()?;
        sqlx::query_with(&text, args).persistent(persistent).fetch_one(executor).await
    }

    pub(crate) async fn fetch_optional<'c, E>(
        self,
        executor: E,
    ) -> Result<Option<AnyRow>, sqlx::Error>
    where
        E: Executor<'c, Database = Any>,
    {
        let (text, args, persistent) = self.into_parts()?;
        sqlx::query_with(&text, args).persistent(persistent).fetch_optional(executor).await
    }
}

/// A value of a row inserted in a batch ([`insert_batch`]).
#[derive(Debug, Clone)]
pub(crate) enum Val {
    Text(String),
    Int(i64),
    MaybeText(Option<String>),
    MaybeInt(Option<i64>),
    MaybeFloat(Option<f64>),
    Bool(bool),
}

/// Inserts rows with multi-row `INSERT … VALUES (…), (…)` statements: through the `Any` driver
/// each statement costs a round trip to the driver's thread, so a roster of a year is a few
/// statements instead of thousands.
///
/// On SQLite the placeholders are anonymous `?`: the driver looks up a numbered placeholder's
/// name with a linear scan of the statement's names, so binding `$1…$8000` cost the square of
/// the count (60% of a year's roster generation went there). One JSON parameter unpacked by
/// `json_each` was measured too, and was slower on both backends.
pub(crate) async fn insert_batch(
    tx: &mut crate::Tx,
    backend: crate::Backend,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Val>>,
) -> Result<(), sqlx::Error> {
    // Well under SQLite's limit of 32766 bound parameters per statement.
    let per_statement = (8000 / columns.len().max(1)).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut sql =
            Sql::batch(&format!("INSERT INTO {table} ({}) VALUES ", columns.join(", ")), backend);
        for (i, row) in rows.by_ref().take(per_statement).enumerate() {
            sql.push(if i == 0 { "(" } else { ", (" });
            for (j, value) in row.into_iter().enumerate() {
                if j > 0 {
                    sql.push(", ");
                }
                match value {
                    Val::Text(v) => sql.bind(v),
                    Val::Int(v) => sql.bind(v),
                    Val::MaybeText(v) => sql.bind(v),
                    Val::MaybeInt(v) => sql.bind(v),
                    Val::MaybeFloat(v) => sql.bind(v),
                    Val::Bool(v) => sql.bind(v),
                };
            }
            sql.push(")");
        }
        sql.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Reads a boolean that SQLite returns as an integer for computed columns and PostgreSQL as a
/// boolean.
pub(crate) fn get_bool(row: &AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    use sqlx::Row;
    match row.try_get::<bool, _>(column) {
        Ok(value) => Ok(value),
        Err(_) => Ok(row.try_get::<i64, _>(column)? != 0),
    }
}

/// Booleans inside aggregated JSON: `true`/`false` from PostgreSQL, `1`/`0` from SQLite.
pub(crate) fn json_flag<'de, D>(deserializer: D) -> Result<bool, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::Deserialize;
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Flag {
        Bool(bool),
        Int(i64),
    }
    Ok(match Flag::deserialize(deserializer)? {
        Flag::Bool(b) => b,
        Flag::Int(i) => i != 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_placeholders() {
        let mut sql = Sql::new("SELECT 1 WHERE a = ");
        sql.bind(1_i64).push(" AND b = ").bind("x".to_owned());
        let (text, _, _) = sql.into_parts().unwrap();
        assert_eq!(text, "SELECT 1 WHERE a = $1 AND b = $2");
    }
}
