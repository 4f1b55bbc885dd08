//! Singleton documents edited through the UI (the security policy, the staffing rules, the
//! reporting time limits), kept as JSON in the `settings` table under a key.

use beacon_core::clock::to_millis;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;

use crate::{StoreError, Tx};

/// The stored text of a document, on a connection the caller holds.
pub(crate) async fn read_text<'c, E>(executor: E, key: &str) -> Result<Option<String>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query("SELECT value FROM settings WHERE key = $1")
        .bind(key.to_owned())
        .fetch_optional(executor)
        .await?;
    Ok(match row {
        Some(row) => Some(row.try_get("value")?),
        None => None,
    })
}

/// A document, or its default until someone sets it.
pub(crate) async fn read<'c, E, T>(executor: E, key: &str) -> Result<T, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
    T: DeserializeOwned + Default,
{
    match read_text(executor, key).await? {
        None => Ok(T::default()),
        Some(text) => serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("setting {key}: {e}"))),
    }
}

/// Stores a document inside the caller's transaction (which also writes its audit record).
pub(crate) async fn write<T: Serialize>(
    tx: &mut Tx,
    now: DateTime<Utc>,
    key: &str,
    value: &T,
) -> Result<(), StoreError> {
    let text = serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO settings (key, value, updated_at) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET value = $2, updated_at = $3",
    )
    .bind(key.to_owned())
    .bind(text)
    .bind(to_millis(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl crate::Store {
    /// Binds the database to one personal-data key: the first call keeps the key's fingerprint
    /// (a keyed hash, which reveals nothing of the key), later calls answer whether the key in
    /// hand is that one. An instance started with another key would seal what the others cannot
    /// open, and open nothing they sealed.
    pub async fn check_personal_key(&self, fingerprint: &str) -> Result<bool, StoreError> {
        const KEY: &str = "personal_key_fingerprint";
        let mut tx = self.begin().await?;
        let kept: Option<String> = read(&mut *tx, KEY).await?;
        match kept {
            Some(kept) => Ok(kept == fingerprint),
            None => {
                write(&mut tx, self.now(), KEY, &fingerprint).await?;
                tx.commit().await?;
                Ok(true)
            }
        }
    }
}
