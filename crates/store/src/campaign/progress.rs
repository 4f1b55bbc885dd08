//! A campaign's progress (推进情况): per territory (the units directly under the chosen one)
//! and per supervised sector, the enterprises targeted and checked, the hidden dangers its
//! checks found (general and major), rectified (closed off the ledger), overdue and listed.
//! Every figure is counted from the target list, the campaign's inspections and the ledger, in
//! the caller's register reach: two grouped statements, rolled up in memory. What links them
//! (a target checked, a hidden danger found by the campaign's check) is kept on the target and
//! on the hidden danger by triggers on the inspections and their findings (migration 0023).

use std::collections::{BTreeMap, HashMap};

use beacon_core::scope::Scope;
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use crate::enterprise::{Reach, iso, today};
use crate::sql::Sql;
use crate::{Store, StoreError};

/// One row of the progress table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct ProgressRow {
    /// A unit's id, or a sector's code.
    pub key: String,
    /// The unit's name (empty for a sector: the web names it).
    pub name: String,
    pub targeted: i64,
    pub checked: i64,
    /// Checked of targeted, 0 to 1.
    pub check_rate: f64,
    pub dangers: i64,
    pub general: i64,
    pub major: i64,
    /// Closed off the ledger (销号).
    pub rectified: i64,
    /// Rectified of found, 0 to 1.
    pub rectify_rate: f64,
    pub overdue: i64,
    pub listed: i64,
}

impl ProgressRow {
    fn absorb(&mut self, other: &ProgressRow) {
        self.targeted += other.targeted;
        self.checked += other.checked;
        self.dangers += other.dangers;
        self.general += other.general;
        self.major += other.major;
        self.rectified += other.rectified;
        self.overdue += other.overdue;
        self.listed += other.listed;
    }

    fn rates(mut self) -> Self {
        let ratio = |a: i64, b: i64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        self.check_rate = ratio(self.checked, self.targeted);
        self.rectify_rate = ratio(self.rectified, self.dangers);
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct CampaignProgress {
    /// The unit whose territory is broken down.
    pub unit_id: String,
    pub unit_name: String,
    /// The units directly under it that have targets, ranked: the highest check rate first,
    /// then the highest rectification rate.
    pub units: Vec<ProgressRow>,
    /// By supervised sector, most targeted first.
    pub sectors: Vec<ProgressRow>,
    pub total: ProgressRow,
}

impl Store {
    /// The progress of a campaign the caller sees, in its reach, broken down under `unit_id`
    /// (the organising unit by default).
    pub async fn campaign_progress(
        &self,
        scope: &Scope,
        reach: &Reach,
        id: &str,
        unit_id: Option<&str>,
    ) -> Result<CampaignProgress, StoreError> {
        let campaign = self.campaign(scope, id).await?;
        let root = unit_id.map_or_else(|| campaign.unit_id.clone(), str::to_owned);
        let today = iso(today(self.now()));

        // Targeted and checked, by the target's unit and sector: `checked` is kept on the target
        // from the campaign's inspections by triggers (migration 0023).
        let mut sql = Sql::new(
            "SELECT t.unit_id, t.sector, COUNT(*) AS targeted, \
             SUM(CASE WHEN t.checked THEN 1 ELSE 0 END) AS checked FROM campaign_targets t",
        );
        // Every enterprise is in a whole tree's reach: no need to read one per target.
        let whole = reach.is_whole();
        if !whole {
            sql.push(" CROSS JOIN enterprises e WHERE e.id = t.enterprise_id AND");
        } else {
            sql.push(" WHERE");
        }
        sql.push(" t.removed_at IS NULL AND t.campaign_id = ").bind(id.to_owned());
        if !whole {
            reach.filter(&mut sql);
        }
        sql.push(" GROUP BY t.unit_id, t.sector");
        let mut cells: Vec<(String, String, ProgressRow)> = Vec::new();
        for r in sql.fetch_all(self.reader()).await? {
            let row = ProgressRow {
                targeted: r.try_get("targeted")?,
                checked: r.try_get::<Option<i64>, _>("checked")?.unwrap_or(0),
                ..ProgressRow::default()
            };
            cells.push((r.try_get("unit_id")?, r.try_get("sector")?, row));
        }

        // Hidden dangers its checks found, by the target's unit and sector: each knows the
        // campaign whose check found it, kept by triggers on the findings (migration 0023).
        let mut sql = Sql::new(
            "SELECT t.unit_id, t.sector, h.level, COUNT(*) AS n, \
             SUM(CASE WHEN h.status = 'closed' THEN 1 ELSE 0 END) AS rectified, \
             SUM(CASE WHEN h.status <> 'closed' AND h.deadline < ",
        );
        sql.bind(today)
            .push(
                " THEN 1 ELSE 0 END) AS overdue, \
                 SUM(CASE WHEN h.status <> 'closed' AND h.listed_level IS NOT NULL THEN 1 ELSE 0 END) \
                 AS listed \
                 FROM hidden_dangers h JOIN campaign_targets t ON t.campaign_id = h.campaign_id \
                 AND t.enterprise_id = h.enterprise_id",
            );
        if !whole {
            sql.push(" CROSS JOIN enterprises e WHERE e.id = h.enterprise_id AND");
        } else {
            sql.push(" WHERE");
        }
        sql.push(" t.removed_at IS NULL AND h.campaign_id = ").bind(id.to_owned());
        if !whole {
            reach.filter(&mut sql);
        }
        sql.push(" GROUP BY t.unit_id, t.sector, h.level");
        for r in sql.fetch_all(self.reader()).await? {
            let n: i64 = r.try_get("n")?;
            let level: String = r.try_get("level")?;
            let major = level == "major";
            let row = ProgressRow {
                dangers: n,
                general: if major { 0 } else { n },
                major: if major { n } else { 0 },
                rectified: r.try_get::<Option<i64>, _>("rectified")?.unwrap_or(0),
                overdue: r.try_get::<Option<i64>, _>("overdue")?.unwrap_or(0),
                listed: r.try_get::<Option<i64>, _>("listed")?.unwrap_or(0),
                ..ProgressRow::default()
            };
            cells.push((r.try_get("unit_id")?, r.try_get("sector")?, row));
        }

        // Each target's unit rolls up to the unit directly under the root that holds it (or to
        // the root itself).
        let children = sqlx::query(
            "SELECT k.ancestor_id, k.descendant_id FROM unit_closure k \
             JOIN units c ON c.id = k.ancestor_id WHERE c.parent_id = $1",
        )
        .bind(root.clone())
        .fetch_all(self.reader())
        .await?;
        let mut under: HashMap<String, String> = HashMap::new();
        for r in &children {
            under.insert(r.try_get("descendant_id")?, r.try_get("ancestor_id")?);
        }
        let inside = sqlx::query("SELECT descendant_id FROM unit_closure WHERE ancestor_id = $1")
            .bind(root.clone())
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>("descendant_id"))
            .collect::<Result<std::collections::HashSet<String>, _>>()?;
        let mut units: BTreeMap<String, ProgressRow> = BTreeMap::new();
        let mut sectors: BTreeMap<String, ProgressRow> = BTreeMap::new();
        let mut total = ProgressRow { key: root.clone(), ..ProgressRow::default() };
        for (unit, sector, row) in &cells {
            if !inside.contains(unit) {
                continue;
            }
            let key = under.get(unit).cloned().unwrap_or_else(|| root.clone());
            units.entry(key).or_default().absorb(row);
            sectors.entry(sector.clone()).or_default().absorb(row);
            total.absorb(row);
        }
        let mut names: HashMap<String, String> = HashMap::new();
        for r in sqlx::query("SELECT id, name FROM units WHERE id = $1 OR parent_id = $1")
            .bind(root.clone())
            .fetch_all(self.reader())
            .await?
        {
            names.insert(r.try_get("id")?, r.try_get("name")?);
        }
        let mut units: Vec<ProgressRow> = units
            .into_iter()
            .map(|(key, row)| {
                ProgressRow { name: names.get(&key).cloned().unwrap_or_default(), key, ..row }
                    .rates()
            })
            .collect();
        units.sort_by(|a, b| {
            b.check_rate
                .total_cmp(&a.check_rate)
                .then(b.rectify_rate.total_cmp(&a.rectify_rate))
                .then(a.name.cmp(&b.name))
        });
        let mut sectors: Vec<ProgressRow> =
            sectors.into_iter().map(|(key, row)| ProgressRow { key, ..row }.rates()).collect();
        sectors.sort_by_key(|s| std::cmp::Reverse(s.targeted));
        Ok(CampaignProgress {
            unit_name: names.get(&root).cloned().unwrap_or_default(),
            unit_id: root,
            units,
            sectors,
            total: total.rates(),
        })
    }
}
