//! A small builder for SQL whose shape depends on input (optional filters, the scope clause).
//! It numbers placeholders `$1, $2, …`, which SQLite and PostgreSQL both accept; sqlx's own
//! `QueryBuilder` emits `?` for the `Any` driver, which PostgreSQL rejects.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Any, Arguments, Encode, Executor, Type};

pub(crate) struct Sql {
    text: String,
    args: AnyArguments<'static>,
    count: usize,
    error: Option<sqlx::error::BoxDynError>,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Self {
        Self { text: text.to_owned(), args: AnyArguments::default(), count: 0, error: None }
    }

    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a placeholder for `value`.
    pub(crate) fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: Encode<'static, Any> + Type<Any> + Send + 'static,
    {
        self.count += 1;
        self.text.push('$');
        self.text.push_str(&self.count.to_string());
        if let Err(error) = self.args.add(value) {
            self.error.get_or_insert(error);
        }
        self
    }

    fn into_parts(self) -> Result<(String, AnyArguments<'static>), sqlx::Error> {
        match self.error {
            Some(error) => Err(sqlx::Error::Encode(error)),
            None => Ok((self.text, self.args)),
        }
    }

    pub(crate) async fn fetch_all<'c, E>(self, executor: E) -> Result<Vec<AnyRow>, sqlx::Error>
    where
        E: Executor<'c, Database = Any>,
    {
        let (text, args) = self.into_parts()?;
        sqlx::query_with(&text, args).fetch_all(executor).await
    }

    pub(crate) async fn execute<'c, E>(self, executor: E) -> Result<u64, sqlx::Error>
    where
        E: Executor<'c, Database = Any>,
    {
        let (text, args) = self.into_parts()?;
        Ok(sqlx::query_with(&text, args).execute(executor).await?.rows_affected())
    }

    pub(crate) async fn fetch_one<'c, E>(self, executor: E) -> Result<AnyRow, sqlx::Error>
    where
        E: Executor<'c, Database = Any>,
    {
        let (text, args) = self.into_parts()?;
        sqlx::query_with(&text, args).fetch_one(executor).await
    }

    pub(crate) async fn fetch_optional<'c, E>(
        self,
        executor: E,
    ) -> Result<Option<AnyRow>, sqlx::Error>
    where
        E: Executor<'c, Database = Any>,
    {
        let (text, args) = self.into_parts()?;
        sqlx::query_with(&text, args).fetch_optional(executor).await
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_placeholders() {
        let mut sql = Sql::new("SELECT 1 WHERE a = ");
        sql.bind(1_i64).push(" AND b = ").bind("x".to_owned());
        let (text, _) = sql.into_parts().unwrap();
        assert_eq!(text, "SELECT 1 WHERE a = $1 AND b = $2");
    }
}
