//! Record numbers a person reads and says (YH-330102-2026-00017): a sequence per prefix, handed
//! out inside the transaction that creates the records, so that a number is never skipped by a
//! rollback nor given twice across instances (the counter row stays locked until the commit).
//! Incidents keep their own counter (`incident_numbers`, with its fallback for registers older
//! than it); every module numbering its records from now on uses this one.

use sqlx::Row;

use crate::{StoreError, Tx};

/// Takes `count` numbers of `prefix` and returns the last one (the first is `last - count + 1`).
pub(crate) async fn take(tx: &mut Tx, prefix: &str, count: i64) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "INSERT INTO record_numbers (prefix, last) VALUES ($1, $2) \
         ON CONFLICT (prefix) DO UPDATE SET last = record_numbers.last + $2 RETURNING last",
    )
    .bind(prefix.to_owned())
    .bind(count)
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get("last")?)
}
