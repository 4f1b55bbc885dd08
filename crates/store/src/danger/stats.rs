//! The hidden-danger dashboard: a year's hidden dangers (by the day found) in the caller's
//! reach, counted by month, state, territory (the units directly under the chosen one) and
//! supervised sector, with the closure rate and the average days from finding to 销号. Every
//! figure is a count of the ledger in SQL (`GROUP BY`), never a typed number.

use std::collections::BTreeMap;

use beacon_core::clock::to_millis;
use beacon_core::danger::{DangerLevel, DangerStatus};
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::enterprise::{Reach, date_of, iso, today};
use crate::sql::Sql;
use crate::{Store, StoreError};

/// Counts of a group of hidden dangers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct DangerTally {
    pub total: i64,
    pub general: i64,
    pub major: i64,
    /// Not yet closed off the ledger.
    pub open: i64,
    pub closed: i64,
    /// Open and past the deadline, today.
    pub overdue: i64,
    /// Open and listed for supervision.
    pub listed: i64,
}

impl DangerTally {
    fn add(&mut self, row: &Grouped) {
        self.total += row.n;
        match row.level {
            DangerLevel::General => self.general += row.n,
            DangerLevel::Major => self.major += row.n,
        }
        if row.status == DangerStatus::Closed {
            self.closed += row.n;
        } else {
            self.open += row.n;
            self.overdue += row.overdue;
            self.listed += row.listed;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DangerMonth {
    /// 1 to 12.
    pub month: u32,
    pub tally: DangerTally,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DangerUnitTally {
    pub unit_id: String,
    pub unit_name: String,
    pub tally: DangerTally,
    /// Closed of all, 0 to 1 (0 when there are none).
    pub closure_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DangerSectorTally {
    /// The supervised sector's code (`hazardous_chemicals`…).
    pub sector: String,
    pub tally: DangerTally,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DangerStateCount {
    pub status: DangerStatus,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DangerStats {
    pub year: i32,
    pub total: DangerTally,
    /// Closed of all, 0 to 1 (0 when there are none).
    pub closure_rate: f64,
    /// Average days from the start of the day found to the moment of 销号, of the closed ones,
    /// to a tenth; none when none is closed.
    pub average_days_to_close: Option<f64>,
    pub months: Vec<DangerMonth>,
    pub states: Vec<DangerStateCount>,
    /// By the units directly under the chosen unit (the enterprises' territory), most first;
    /// the chosen unit's own enterprises under its own name.
    pub units: Vec<DangerUnitTally>,
    pub sectors: Vec<DangerSectorTally>,
}

/// What the dashboard covers.
#[derive(Debug, Clone)]
pub struct DangerStatsFilter {
    pub year: i32,
    /// The unit whose territory is counted, broken down by the units directly under it.
    pub unit_id: String,
}

/// One group of the ledger as SQL counted it.
struct Grouped {
    key: String,
    level: DangerLevel,
    status: DangerStatus,
    n: i64,
    overdue: i64,
    listed: i64,
}

fn rate(t: &DangerTally) -> f64 {
    if t.total == 0 { 0.0 } else { t.closed as f64 / t.total as f64 }
}

impl Store {
    /// A year's dashboard of the hidden dangers the caller reaches in a unit's territory.
    pub async fn danger_stats(
        &self,
        reach: &Reach,
        filter: &DangerStatsFilter,
    ) -> Result<DangerStats, StoreError> {
        let first = NaiveDate::from_ymd_opt(filter.year, 1, 1)
            .ok_or(StoreError::invalid("year", "out_of_range"))?;
        let last = NaiveDate::from_ymd_opt(filter.year, 12, 31)
            .ok_or(StoreError::invalid("year", "out_of_range"))?;
        let today = iso(today(self.now()));
        // The year's hidden dangers in reach and in the unit's territory, grouped by `key` (an
        // expression without parameters: PostgreSQL matches GROUP BY to SELECT by its text).
        let grouped = |key: &str, joins: &str| {
            let mut sql = Sql::new(&format!(
                "SELECT {key} AS k, h.level, h.status, COUNT(*) AS n, \
                 SUM(CASE WHEN h.status <> 'closed' AND h.deadline < "
            ));
            sql.bind(today.clone())
                .push(
                    " THEN 1 ELSE 0 END) AS overdue, \
                     SUM(CASE WHEN h.status <> 'closed' AND h.listed_level IS NOT NULL \
                     THEN 1 ELSE 0 END) AS listed \
                     FROM hidden_dangers h CROSS JOIN enterprises e ",
                )
                .push(joins);
            sql
        };
        let finish = |mut sql: Sql, key: &str| {
            sql.push(" WHERE e.id = h.enterprise_id AND h.found_on >= ")
                .bind(iso(first))
                .push(" AND h.found_on <= ")
                .bind(iso(last))
                .push(
                    " AND e.unit_id IN (SELECT descendant_id FROM unit_closure WHERE ancestor_id = ",
                )
                .bind(filter.unit_id.clone())
                .push(")");
            reach.filter(&mut sql);
            sql.push(&format!(" GROUP BY {key}, h.level, h.status"));
            sql
        };
        let read = |rows: Vec<sqlx::any::AnyRow>| -> Result<Vec<Grouped>, StoreError> {
            rows.iter()
                .map(|r| {
                    let level: String = r.try_get("level")?;
                    let status: String = r.try_get("status")?;
                    Ok(Grouped {
                        key: r.try_get::<Option<String>, _>("k")?.unwrap_or_default(),
                        level: DangerLevel::parse(&level)
                            .ok_or_else(|| StoreError::corrupt(level.clone()))?,
                        status: DangerStatus::parse(&status)
                            .ok_or_else(|| StoreError::corrupt(status.clone()))?,
                        n: r.try_get("n")?,
                        overdue: r.try_get::<Option<i64>, _>("overdue")?.unwrap_or(0),
                        listed: r.try_get::<Option<i64>, _>("listed")?.unwrap_or(0),
                    })
                })
                .collect()
        };

        // By month (of the day found).
        let month = "SUBSTR(h.found_on, 6, 2)";
        let by_month = read(finish(grouped(month, ""), month).fetch_all(self.reader()).await?)?;
        let mut months: Vec<DangerMonth> =
            (1..=12).map(|month| DangerMonth { month, tally: DangerTally::default() }).collect();
        let mut total = DangerTally::default();
        let mut states: BTreeMap<&'static str, i64> = BTreeMap::new();
        for g in &by_month {
            let month: usize = g.key.parse().unwrap_or(0);
            if let Some(m) = months.get_mut(month.wrapping_sub(1)) {
                m.tally.add(g);
            }
            total.add(g);
            *states.entry(g.status.as_str()).or_default() += g.n;
        }

        // By the units directly under the chosen one: each enterprise's territory rolls up to
        // the one of them it lies in (or to the chosen unit itself).
        let mut sql = grouped(
            "uc.ancestor_id",
            "LEFT JOIN unit_closure uc ON uc.descendant_id = e.unit_id AND uc.ancestor_id IN \
             (SELECT id FROM units WHERE parent_id = ",
        );
        sql.bind(filter.unit_id.clone()).push(")");
        let by_unit = read(finish(sql, "uc.ancestor_id").fetch_all(self.reader()).await?)?;
        let mut units: BTreeMap<String, DangerTally> = BTreeMap::new();
        for g in &by_unit {
            // No unit under the chosen one: the enterprise is the chosen unit's own.
            let key = if g.key.is_empty() { filter.unit_id.clone() } else { g.key.clone() };
            units.entry(key).or_default().add(g);
        }
        let names: BTreeMap<String, String> = if units.is_empty() {
            BTreeMap::new()
        } else {
            let mut sql = Sql::new("SELECT id, name FROM units WHERE id IN (");
            for (i, id) in units.keys().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(id.clone());
            }
            sql.push(")");
            sql.fetch_all(self.reader())
                .await?
                .iter()
                .map(|r| Ok((r.try_get("id")?, r.try_get("name")?)))
                .collect::<Result<_, StoreError>>()?
        };
        let mut units: Vec<DangerUnitTally> = units
            .into_iter()
            .map(|(id, tally)| DangerUnitTally {
                unit_name: names.get(&id).cloned().unwrap_or_default(),
                unit_id: id,
                closure_rate: rate(&tally),
                tally,
            })
            .collect();
        units.sort_by(|a, b| b.tally.total.cmp(&a.tally.total).then(a.unit_name.cmp(&b.unit_name)));

        // By supervised sector.
        let by_sector =
            read(finish(grouped("e.sector", ""), "e.sector").fetch_all(self.reader()).await?)?;
        let mut sectors: BTreeMap<String, DangerTally> = BTreeMap::new();
        for g in &by_sector {
            sectors.entry(g.key.clone()).or_default().add(g);
        }
        let mut sectors: Vec<DangerSectorTally> = sectors
            .into_iter()
            .map(|(sector, tally)| DangerSectorTally { sector, tally })
            .collect();
        sectors.sort_by_key(|s| std::cmp::Reverse(s.tally.total));

        // Days to close: per day found, the sum of the closing times (at most 366 rows).
        let mut sql = Sql::new(
            "SELECT h.found_on, CAST(SUM(h.closed_at) AS BIGINT) AS closed_sum, COUNT(*) AS n \
             FROM hidden_dangers h CROSS JOIN enterprises e WHERE e.id = h.enterprise_id \
             AND h.closed_at IS NOT NULL AND h.found_on >= ",
        );
        sql.bind(iso(first))
            .push(" AND h.found_on <= ")
            .bind(iso(last))
            .push(" AND e.unit_id IN (SELECT descendant_id FROM unit_closure WHERE ancestor_id = ")
            .bind(filter.unit_id.clone())
            .push(")");
        reach.filter(&mut sql);
        sql.push(" GROUP BY h.found_on");
        let mut days = 0.0;
        let mut closed = 0i64;
        for r in sql.fetch_all(self.reader()).await? {
            let found: String = r.try_get("found_on")?;
            let Some(found) = date_of(Some(&found))? else { continue };
            let start = crate::enterprise::start_of(found);
            let n: i64 = r.try_get("n")?;
            let sum = sum_of(&r)?;
            days += (sum - n as f64 * to_millis(start) as f64) / 86_400_000.0;
            closed += n;
        }
        Ok(DangerStats {
            year: filter.year,
            closure_rate: rate(&total),
            average_days_to_close: (closed > 0)
                .then(|| (days / closed as f64 * 10.0).round() / 10.0),
            total,
            months,
            states: DangerStatus::ALL
                .iter()
                .map(|s| DangerStateCount {
                    status: *s,
                    count: states.get(s.as_str()).copied().unwrap_or(0),
                })
                .collect(),
            units,
            sectors,
        })
    }
}

/// A `SUM` of milliseconds, cast to a big integer on both databases.
fn sum_of(r: &sqlx::any::AnyRow) -> Result<f64, StoreError> {
    Ok(r.try_get::<i64, _>("closed_sum")? as f64)
}
