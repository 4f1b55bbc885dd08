//! Records as a person reads them: a number and a title instead of an internal id. Each module
//! names its own records (`Store::incident_names`, `Store::user_names`, …) through [`fetch`];
//! the audit page and the global search show these names.

use beacon_core::clock::from_millis;
use chrono::{DateTime, Utc};
use sqlx::Row;

use crate::sql::Sql;
use crate::{Store, StoreError};

/// A record's name: its number when it has one, its title, the unit it belongs to (for the
/// caller's scope check) and, for records that are moments (a shift, a call), when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordName {
    pub id: String,
    pub unit_id: Option<String>,
    pub number: Option<String>,
    pub title: String,
    pub at: Option<DateTime<Utc>>,
}

/// Ids per query.
const CHUNK: usize = 500;

/// Runs `select`, which must yield the columns `id, unit_id, number, title, at` and end in
/// `… IN (`, for the ids, a chunk at a time.
pub(crate) async fn fetch(
    store: &Store,
    select: &str,
    ids: &[String],
) -> Result<Vec<RecordName>, StoreError> {
    let mut names = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let mut sql = Sql::new(select);
        sql.bind_list(chunk.iter().cloned()).push(")");
        for r in sql.fetch_all(store.reader()).await? {
            names.push(RecordName {
                id: r.try_get("id")?,
                unit_id: r.try_get("unit_id")?,
                number: r.try_get("number")?,
                title: r.try_get("title")?,
                at: r.try_get::<Option<i64>, _>("at")?.map(from_millis),
            });
        }
    }
    Ok(names)
}
