//! Monthly statistics of incidents: how many of each grade, with their casualties and loss, per
//! month of the year (Beijing time), per kind and per registering unit. Incidents are counted
//! in the month they occurred, with their grade in force and facts as they stand now.

use std::collections::BTreeMap;

use beacon_core::clock::{from_millis, local_date, local_midnight, to_millis};
use beacon_core::incident::{Grade, IncidentKind};
use beacon_core::scope::Scope;
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use super::{IncidentUnit, casualties, parse};
use crate::sql::Sql;
use crate::{Store, StoreError, scope};

/// Counts and sums of a group of incidents.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Tally {
    pub count: u32,
    pub ordinary: u32,
    pub relatively_serious: u32,
    pub serious: u32,
    pub particularly_serious: u32,
    pub deaths: u64,
    pub missing: u64,
    pub serious_injuries: u64,
    pub minor_injuries: u64,
    pub direct_loss_cny: u64,
}

impl Tally {
    fn add(&mut self, grade: Grade, c: &beacon_core::incident::Casualties) {
        self.count += 1;
        match grade {
            Grade::Ordinary => self.ordinary += 1,
            Grade::RelativelySerious => self.relatively_serious += 1,
            Grade::Serious => self.serious += 1,
            Grade::ParticularlySerious => self.particularly_serious += 1,
        }
        self.deaths += u64::from(c.deaths);
        self.missing += u64::from(c.missing);
        self.serious_injuries += u64::from(c.serious_injuries);
        self.minor_injuries += u64::from(c.minor_injuries);
        self.direct_loss_cny = self.direct_loss_cny.saturating_add(c.direct_loss_cny);
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct MonthTally {
    /// 1 to 12.
    pub month: u32,
    #[serde(flatten)]
    pub tally: Tally,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct KindTally {
    pub kind: IncidentKind,
    #[serde(flatten)]
    pub tally: Tally,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct UnitTally {
    pub unit: IncidentUnit,
    #[serde(flatten)]
    pub tally: Tally,
}

/// A year's statistics: every month (empty ones too), the kinds and units that had incidents
/// (most first), and the year's total.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IncidentStats {
    pub year: i32,
    pub months: Vec<MonthTally>,
    pub kinds: Vec<KindTally>,
    pub units: Vec<UnitTally>,
    pub total: Tally,
}

/// What the statistics cover.
#[derive(Debug, Clone)]
pub struct StatsFilter {
    pub year: i32,
    /// A unit and everything beneath it.
    pub unit_id: Option<String>,
    pub kind: Option<IncidentKind>,
}

impl Store {
    /// A year's statistics of the incidents in the caller's scope.
    pub async fn incident_stats(
        &self,
        scope: &Scope,
        filter: &StatsFilter,
    ) -> Result<IncidentStats, StoreError> {
        let start = |year: i32| {
            NaiveDate::from_ymd_opt(year, 1, 1)
                .map(local_midnight)
                .ok_or(StoreError::invalid("year", "out_of_range"))
        };
        let mut sql = Sql::new(
            "SELECT i.occurred_at, i.kind, i.grade, i.unit_id, n.code AS unit_code, \
             n.name AS unit_name, i.deaths, i.missing, i.serious_injuries, i.minor_injuries, \
             i.direct_loss_cny FROM incidents i JOIN units n ON n.id = i.unit_id \
             WHERE i.occurred_at >= ",
        );
        sql.bind(to_millis(start(filter.year)?));
        sql.push(" AND i.occurred_at < ").bind(to_millis(start(filter.year + 1)?));
        scope::filter(&mut sql, scope, "i.unit_id");
        if let Some(unit) = &filter.unit_id {
            sql.push(
                " AND i.unit_id IN (SELECT descendant_id FROM unit_closure WHERE ancestor_id = ",
            )
            .bind(unit.clone())
            .push(")");
        }
        if let Some(kind) = filter.kind {
            sql.push(" AND i.kind = ").bind(kind.as_str().to_owned());
        }
        let rows = sql.fetch_all(self.reader()).await?;
        let mut months: Vec<MonthTally> =
            (1..=12).map(|month| MonthTally { month, tally: Tally::default() }).collect();
        let mut kinds: BTreeMap<&'static str, KindTally> = BTreeMap::new();
        let mut units: BTreeMap<String, UnitTally> = BTreeMap::new();
        let mut total = Tally::default();
        for r in &rows {
            let grade: String = r.try_get("grade")?;
            let grade = parse(Grade::parse(&grade), &grade)?;
            let kind: String = r.try_get("kind")?;
            let kind = IncidentKind::parse(&kind).map_err(|_| StoreError::Corrupt(kind.clone()))?;
            let facts = casualties(r)?;
            let month = local_date(from_millis(r.try_get("occurred_at")?)).month();
            if let Some(m) = months.get_mut(month as usize - 1) {
                m.tally.add(grade, &facts);
            }
            kinds
                .entry(kind.as_str())
                .or_insert_with(|| KindTally { kind, tally: Tally::default() })
                .tally
                .add(grade, &facts);
            let unit_id: String = r.try_get("unit_id")?;
            let unit = match units.get_mut(&unit_id) {
                Some(u) => u,
                None => units.entry(unit_id.clone()).or_insert(UnitTally {
                    unit: IncidentUnit {
                        id: unit_id,
                        code: r.try_get("unit_code")?,
                        name: r.try_get("unit_name")?,
                    },
                    tally: Tally::default(),
                }),
            };
            unit.tally.add(grade, &facts);
            total.add(grade, &facts);
        }
        let mut kinds: Vec<KindTally> = kinds.into_values().collect();
        kinds.sort_by(|a, b| {
            b.tally.count.cmp(&a.tally.count).then(a.kind.as_str().cmp(b.kind.as_str()))
        });
        let mut units: Vec<UnitTally> = units.into_values().collect();
        units.sort_by(|a, b| b.tally.count.cmp(&a.tally.count).then(a.unit.code.cmp(&b.unit.code)));
        Ok(IncidentStats { year: filter.year, months, kinds, units, total })
    }
}
