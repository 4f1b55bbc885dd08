//! Special rectification campaigns (docs/campaigns.md): a campaign of an organising unit with its
//! basis, scope (territories and supervised sectors), period and four stages; its target list
//! of enterprises, frozen from the register when it starts and changed one by one with a
//! reason; its checks are inspections of kind `campaign` (`beacon_store::inspection`), and its
//! progress is computed from the target list, those inspections and the hidden dangers their
//! findings became ([`progress`]).
//!
//! Who sees a campaign: the organising unit, the units above it (scope contains it) and the
//! units under it (it lies above their unit), so a township reads the district's campaign it
//! checks for. Who manages it (edit, start, adjust targets, close): regulators whose scope
//! contains the organising unit. Counts are always bounded by the caller's register reach.

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::campaign::{CampaignStatus, StageDates, check_period};
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::error::ValidationErrors;
use beacon_core::id::new_id;
use beacon_core::page::PageRequest;
use beacon_core::scope::Scope;
use beacon_core::text::plain_text;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use utoipa::ToSchema;

use crate::enterprise::{Reach, date_of, iso};
use crate::sql::Sql;
use crate::{Page, Store, StoreError, Tx, audit, numbers, timeline};

mod progress;

pub use progress::{CampaignProgress, ProgressRow};

/// A campaign as the organiser writes it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignWrite {
    pub name: String,
    /// The document that orders it (文件名称和文号).
    pub basis: String,
    /// Supervised sectors in scope (codes of the register); empty: every sector.
    #[serde(default)]
    pub sectors: Vec<String>,
    /// Territorial units in scope (ids, each with everything beneath); empty: the organising
    /// unit's whole territory.
    #[serde(default)]
    pub unit_ids: Vec<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    /// The four stages, in order, with their dates.
    pub stages: Vec<StageDates>,
    /// The version read, for an edit (`stale_version` when someone changed it since).
    pub version: Option<i64>,
}

/// A campaign.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Campaign {
    pub id: String,
    /// ZX-<code of the organising unit>-<year>-<sequence>.
    pub number: String,
    pub name: String,
    pub basis: String,
    pub unit_id: String,
    pub unit_name: String,
    pub sectors: Vec<String>,
    pub unit_ids: Vec<String>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub stages: Vec<StageDates>,
    pub status: CampaignStatus,
    /// Enterprises on the target list now (0 before it starts).
    pub targets: i64,
    pub started_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    pub created_by_name: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
}

/// An enterprise on a campaign's target list.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Target {
    pub enterprise_id: String,
    pub enterprise_name: String,
    pub unit_name: String,
    pub sector: String,
    /// Checked by at least one of the campaign's inspections.
    pub checked: bool,
    /// Why it was added after the start (empty for the frozen list).
    pub added_reason: String,
    pub added_at: DateTime<Utc>,
    pub removed: bool,
    pub removed_reason: Option<String>,
}

/// A change to the target list after the start.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetChange {
    pub enterprise_id: String,
    pub reason: String,
}

const SELECT: &str = "SELECT c.*, u.name AS unit_name, \
     (SELECT COUNT(*) FROM campaign_targets t WHERE t.campaign_id = c.id AND t.removed_at IS NULL) \
     AS target_count FROM campaigns c JOIN units u ON u.id = c.unit_id WHERE 1 = 1";

/// Campaigns the caller sees: organised in its scope, or by a unit above its own.
pub(crate) fn visible(sql: &mut Sql, scope: &Scope) {
    if let Scope::Subtree { root, whole_tree: false } = scope {
        sql.push(" AND (c.unit_id IN (SELECT descendant_id FROM unit_closure WHERE ancestor_id = ")
            .bind(root.clone())
            .push(
                ") OR EXISTS (SELECT 1 FROM unit_closure k WHERE k.ancestor_id = c.unit_id \
                   AND k.descendant_id = ",
            )
            .bind(root.clone())
            .push("))");
    }
}

fn campaign_of(r: &sqlx::any::AnyRow) -> Result<Campaign, StoreError> {
    let date = |column: &str| -> Result<NaiveDate, StoreError> {
        let text: String = r.try_get(column)?;
        date_of(Some(&text))?.ok_or_else(|| StoreError::corrupt(column.to_owned()))
    };
    let json = |column: &str| -> Result<serde_json::Value, StoreError> {
        let text: String = r.try_get(column)?;
        serde_json::from_str(&text).map_err(StoreError::corrupt)
    };
    let status: String = r.try_get("status")?;
    Ok(Campaign {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        name: r.try_get("name")?,
        basis: r.try_get("basis")?,
        unit_id: r.try_get("unit_id")?,
        unit_name: r.try_get("unit_name")?,
        sectors: serde_json::from_value(json("sectors")?).map_err(StoreError::corrupt)?,
        unit_ids: serde_json::from_value(json("unit_ids")?).map_err(StoreError::corrupt)?,
        starts_on: date("starts_on")?,
        ends_on: date("ends_on")?,
        stages: serde_json::from_value(json("stages")?).map_err(StoreError::corrupt)?,
        status: CampaignStatus::parse(&status)
            .ok_or_else(|| StoreError::corrupt(status.clone()))?,
        targets: r.try_get("target_count")?,
        started_at: r.try_get::<Option<i64>, _>("started_at")?.map(from_millis),
        closed_at: r.try_get::<Option<i64>, _>("closed_at")?.map(from_millis),
        created_by_name: r.try_get("created_by_name")?,
        version: r.try_get("version")?,
        created_at: from_millis(r.try_get("created_at")?),
    })
}

impl CampaignWrite {
    fn validate(mut self, sectors: &[&str]) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        match plain_text(&self.name, 200) {
            Ok(v) => self.name = v,
            Err(code) => errors.add("name", code),
        }
        match plain_text(&self.basis, 500) {
            Ok(v) => self.basis = v,
            Err(code) => errors.add("basis", code),
        }
        for (i, s) in self.sectors.iter().enumerate() {
            if !sectors.contains(&s.as_str()) {
                errors.add(format!("sectors[{i}]"), "unknown");
            }
        }
        self.sectors.sort();
        self.sectors.dedup();
        self.unit_ids = self.unit_ids.iter().map(|u| u.to_ascii_lowercase()).collect();
        self.unit_ids.sort();
        self.unit_ids.dedup();
        for (field, code) in check_period(self.starts_on, self.ends_on, &self.stages) {
            errors.add(field, code);
        }
        errors.into_result().map(|()| self)
    }
}

impl Store {
    /// The campaign `id` if the caller sees it (404 otherwise).
    pub async fn campaign(&self, scope: &Scope, id: &str) -> Result<Campaign, StoreError> {
        let mut sql = Sql::new(SELECT);
        sql.push(" AND c.id = ").bind(id.to_owned());
        visible(&mut sql, scope);
        let row = sql.fetch_optional(self.reader()).await?.ok_or(StoreError::NotFound)?;
        campaign_of(&row)
    }

    /// Campaigns the caller sees, running first, then the latest.
    pub async fn campaigns(
        &self,
        scope: &Scope,
        status: Option<CampaignStatus>,
        page: PageRequest,
    ) -> Result<Page<Campaign>, StoreError> {
        let apply = |sql: &mut Sql| {
            visible(sql, scope);
            if let Some(status) = status {
                sql.push(" AND c.status = ").bind(status.as_str());
            }
        };
        let mut count = Sql::new("SELECT COUNT(*) AS n FROM campaigns c WHERE 1 = 1");
        apply(&mut count);
        let total: i64 = count.fetch_one(self.reader()).await?.try_get("n")?;
        let mut sql = Sql::new(SELECT);
        apply(&mut sql);
        sql.push(
            " ORDER BY CASE c.status WHEN 'running' THEN 0 WHEN 'draft' THEN 1 ELSE 2 END, \
             c.starts_on DESC, c.id LIMIT ",
        )
        .bind(i64::from(page.per_page))
        .push(" OFFSET ")
        .bind(page.offset());
        let rows = sql.fetch_all(self.reader()).await?;
        Ok(Page {
            items: rows.iter().map(campaign_of).collect::<Result<_, _>>()?,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// A campaign the caller manages: visible, and organised in the caller's scope (403
    /// `not_organiser` for a unit under the organiser).
    async fn managed(&self, tx: &mut Tx, scope: &Scope, id: &str) -> Result<Campaign, StoreError> {
        let mut sql = Sql::new(SELECT);
        sql.push(" AND c.id = ").bind(id.to_owned());
        visible(&mut sql, scope);
        let row = sql.fetch_optional(&mut **tx).await?.ok_or(StoreError::NotFound)?;
        let campaign = campaign_of(&row)?;
        let mut mine = Sql::new("SELECT 1 AS x FROM campaigns c WHERE c.id = ");
        mine.bind(id.to_owned());
        crate::scope::filter(&mut mine, scope, "c.unit_id");
        if mine.fetch_optional(&mut **tx).await?.is_none() {
            return Err(StoreError::Forbidden("not_organiser"));
        }
        Ok(campaign)
    }

    /// Checks that the units in scope lie in the organiser's territory.
    async fn check_units(
        &self,
        tx: &mut Tx,
        organiser: &str,
        ids: &[String],
    ) -> Result<(), StoreError> {
        let mut errors = ValidationErrors::new();
        for (i, id) in ids.iter().enumerate() {
            let found = sqlx::query(
                "SELECT 1 AS x FROM unit_closure WHERE ancestor_id = $1 AND descendant_id = $2",
            )
            .bind(organiser.to_owned())
            .bind(id.clone())
            .fetch_optional(&mut **tx)
            .await?;
            if found.is_none() {
                errors.add(format!("unit_ids[{i}]"), "outside_territory");
            }
        }
        errors.into_result().map_err(StoreError::Invalid)
    }

    /// Prepares a campaign of the caller's unit (a draft).
    pub async fn create_campaign(
        &self,
        actor: &Actor,
        unit_id: &str,
        sectors: &[&str],
        write: CampaignWrite,
    ) -> Result<Campaign, StoreError> {
        let write = write.validate(sectors).map_err(StoreError::Invalid)?;
        let now = self.now();
        let mut tx = self.begin().await?;
        self.check_units(&mut tx, unit_id, &write.unit_ids).await?;
        let code: String = sqlx::query("SELECT code FROM units WHERE id = $1")
            .bind(unit_id.to_owned())
            .fetch_one(&mut *tx)
            .await?
            .try_get("code")?;
        let prefix = format!("ZX-{code}-{}-", write.starts_on.format("%Y"));
        let number = format!("{prefix}{:03}", numbers::take(&mut tx, &prefix, 1).await?);
        let id = new_id();
        sqlx::query(
            "INSERT INTO campaigns (id, number, name, basis, unit_id, sectors, unit_ids, starts_on, \
             ends_on, stages, status, started_at, closed_at, created_by_name, version, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'draft', NULL, NULL, \
             $11, 1, $12, $12)",
        )
        .bind(id.clone())
        .bind(number.clone())
        .bind(write.name.clone())
        .bind(write.basis.clone())
        .bind(unit_id.to_owned())
        .bind(json!(write.sectors).to_string())
        .bind(json!(write.unit_ids).to_string())
        .bind(iso(write.starts_on))
        .bind(iso(write.ends_on))
        .bind(json!(write.stages).to_string())
        .bind(actor.name.clone())
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
        let data = json!({ "number": number, "name": write.name });
        timeline::append(
            &mut tx,
            now,
            actor,
            ("campaign", &id),
            Some(unit_id),
            "created",
            data.clone(),
        )
        .await?;
        let record = NewAuditRecord::new(actor, "campaign.created", Outcome::Success)
            .target("campaign", &id)
            .unit(Some(unit_id))
            .detail(data);
        audit::append(&mut tx, now, record).await?;
        tx.commit().await?;
        self.campaign(&Scope::Global, &id).await
    }

    /// Changes a draft's scope, period or stages.
    pub async fn update_campaign(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: &str,
        sectors: &[&str],
        write: CampaignWrite,
    ) -> Result<Campaign, StoreError> {
        let mut tx = self.begin().await?;
        let before = self.managed(&mut tx, scope, id).await?;
        if before.status != CampaignStatus::Draft {
            return Err(StoreError::Conflict("campaign_started"));
        }
        if write.version.is_some_and(|v| v != before.version) {
            return Err(StoreError::Conflict("stale_version"));
        }
        let write = write.validate(sectors).map_err(StoreError::Invalid)?;
        self.check_units(&mut tx, &before.unit_id, &write.unit_ids).await?;
        let now = self.now();
        sqlx::query(
            "UPDATE campaigns SET name = $1, basis = $2, sectors = $3, unit_ids = $4, \
             starts_on = $5, ends_on = $6, stages = $7, version = version + 1, updated_at = $8 \
             WHERE id = $9",
        )
        .bind(write.name.clone())
        .bind(write.basis.clone())
        .bind(json!(write.sectors).to_string())
        .bind(json!(write.unit_ids).to_string())
        .bind(iso(write.starts_on))
        .bind(iso(write.ends_on))
        .bind(json!(write.stages).to_string())
        .bind(to_millis(now))
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await?;
        let subject = ("campaign", id);
        timeline::append(&mut tx, now, actor, subject, Some(&before.unit_id), "updated", json!({}))
            .await?;
        tx.commit().await?;
        self.campaign(scope, id).await
    }

    /// Starts a draft: the target list is frozen from the register, every enterprise not closed
    /// in the territories and sectors of its scope that the caller's register reach holds.
    pub async fn start_campaign(
        &self,
        scope: &Scope,
        reach: &Reach,
        actor: &Actor,
        id: &str,
    ) -> Result<Campaign, StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let c = self.managed(&mut tx, scope, id).await?;
        if c.status != CampaignStatus::Draft {
            return Err(StoreError::Conflict("campaign_started"));
        }
        let mut sql = Sql::new(
            "INSERT INTO campaign_targets (campaign_id, enterprise_id, unit_id, sector, added_at, \
             added_reason, removed_at, removed_reason) SELECT ",
        );
        sql.bind(id.to_owned())
            .push(", e.id, e.unit_id, e.sector, ")
            .bind(to_millis(now))
            .push(", '', NULL, NULL FROM enterprises e WHERE e.status <> 'closed'");
        let roots =
            if c.unit_ids.is_empty() { vec![c.unit_id.clone()] } else { c.unit_ids.clone() };
        sql.push(
            " AND e.unit_id IN (SELECT descendant_id FROM unit_closure WHERE ancestor_id IN (",
        );
        for (i, root) in roots.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(root.clone());
        }
        sql.push("))");
        if !c.sectors.is_empty() {
            sql.push(" AND e.sector IN (");
            for (i, s) in c.sectors.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(s.clone());
            }
            sql.push(")");
        }
        reach.filter(&mut sql);
        let frozen = sql.execute(&mut *tx).await?;
        sqlx::query("UPDATE campaigns SET status = 'running', started_at = $1, version = version + 1, updated_at = $1 WHERE id = $2")
            .bind(to_millis(now))
            .bind(id.to_owned())
            .execute(&mut *tx)
            .await?;
        let data = json!({ "targets": frozen });
        let subject = ("campaign", id);
        timeline::append(&mut tx, now, actor, subject, Some(&c.unit_id), "started", data.clone())
            .await?;
        let record = NewAuditRecord::new(actor, "campaign.started", Outcome::Success)
            .target("campaign", id)
            .unit(Some(&c.unit_id))
            .detail(json!({ "number": c.number, "targets": frozen }));
        audit::append(&mut tx, now, record).await?;
        tx.commit().await?;
        self.campaign(scope, id).await
    }

    /// Closes a running campaign (总结验收 done): its list and checks no longer change.
    pub async fn close_campaign(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: &str,
    ) -> Result<Campaign, StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let c = self.managed(&mut tx, scope, id).await?;
        if c.status != CampaignStatus::Running {
            return Err(StoreError::Conflict("campaign_not_running"));
        }
        sqlx::query("UPDATE campaigns SET status = 'closed', closed_at = $1, version = version + 1, updated_at = $1 WHERE id = $2")
            .bind(to_millis(now))
            .bind(id.to_owned())
            .execute(&mut *tx)
            .await?;
        let subject = ("campaign", id);
        timeline::append(&mut tx, now, actor, subject, Some(&c.unit_id), "closed", json!({}))
            .await?;
        let record = NewAuditRecord::new(actor, "campaign.closed", Outcome::Success)
            .target("campaign", id)
            .unit(Some(&c.unit_id))
            .detail(json!({ "number": c.number }));
        audit::append(&mut tx, now, record).await?;
        tx.commit().await?;
        self.campaign(scope, id).await
    }

    /// Adds an enterprise of the caller's reach to a running campaign's list, with the reason
    /// (it may have been removed before: it comes back).
    pub async fn add_target(
        &self,
        scope: &Scope,
        reach: &Reach,
        actor: &Actor,
        id: &str,
        change: TargetChange,
    ) -> Result<Campaign, StoreError> {
        let reason =
            plain_text(&change.reason, 500).map_err(|code| StoreError::invalid("reason", code))?;
        let now = self.now();
        let mut tx = self.begin().await?;
        let c = self.managed(&mut tx, scope, id).await?;
        if c.status != CampaignStatus::Running {
            return Err(StoreError::Conflict("campaign_not_running"));
        }
        let e = self
            .reached_enterprise(&mut tx, reach, &change.enterprise_id)
            .await
            .map_err(|_| StoreError::invalid("enterprise_id", "not_found"))?;
        let sector: String = sqlx::query("SELECT sector FROM enterprises WHERE id = $1")
            .bind(e.id.clone())
            .fetch_one(&mut *tx)
            .await?
            .try_get("sector")?;
        let existing = sqlx::query(
            "SELECT removed_at FROM campaign_targets WHERE campaign_id = $1 AND enterprise_id = $2",
        )
        .bind(id.to_owned())
        .bind(e.id.clone())
        .fetch_optional(&mut *tx)
        .await?;
        match existing {
            Some(row) if row.try_get::<Option<i64>, _>("removed_at")?.is_none() => {
                return Err(StoreError::Conflict("already_targeted"));
            }
            Some(_) => {
                sqlx::query(
                    "UPDATE campaign_targets SET removed_at = NULL, removed_reason = NULL, \
                     added_at = $1, added_reason = $2 WHERE campaign_id = $3 AND enterprise_id = $4",
                )
                .bind(to_millis(now))
                .bind(reason.clone())
                .bind(id.to_owned())
                .bind(e.id.clone())
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query(
                    "INSERT INTO campaign_targets (campaign_id, enterprise_id, unit_id, sector, \
                     added_at, added_reason, removed_at, removed_reason) \
                     VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL)",
                )
                .bind(id.to_owned())
                .bind(e.id.clone())
                .bind(e.unit_id.clone())
                .bind(sector)
                .bind(to_millis(now))
                .bind(reason.clone())
                .execute(&mut *tx)
                .await?;
            }
        }
        let data = json!({ "enterprise": e.name, "reason": reason });
        let subject = ("campaign", id);
        timeline::append(&mut tx, now, actor, subject, Some(&c.unit_id), "target_added", data)
            .await?;
        tx.commit().await?;
        self.campaign(scope, id).await
    }

    /// Takes an enterprise off a running campaign's list, with the reason (its checks stay).
    pub async fn remove_target(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: &str,
        change: TargetChange,
    ) -> Result<Campaign, StoreError> {
        let reason =
            plain_text(&change.reason, 500).map_err(|code| StoreError::invalid("reason", code))?;
        let now = self.now();
        let mut tx = self.begin().await?;
        let c = self.managed(&mut tx, scope, id).await?;
        if c.status != CampaignStatus::Running {
            return Err(StoreError::Conflict("campaign_not_running"));
        }
        let done = sqlx::query(
            "UPDATE campaign_targets SET removed_at = $1, removed_reason = $2 \
             WHERE campaign_id = $3 AND enterprise_id = $4 AND removed_at IS NULL",
        )
        .bind(to_millis(now))
        .bind(reason.clone())
        .bind(id.to_owned())
        .bind(change.enterprise_id.to_ascii_lowercase())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::invalid("enterprise_id", "not_targeted"));
        }
        let name: String = sqlx::query("SELECT name FROM enterprises WHERE id = $1")
            .bind(change.enterprise_id.to_ascii_lowercase())
            .fetch_one(&mut *tx)
            .await?
            .try_get("name")?;
        let data = json!({ "enterprise": name, "reason": reason });
        let subject = ("campaign", id);
        timeline::append(&mut tx, now, actor, subject, Some(&c.unit_id), "target_removed", data)
            .await?;
        tx.commit().await?;
        self.campaign(scope, id).await
    }

    /// A page of a campaign's target list in the caller's reach, by territory and name.
    pub async fn campaign_targets(
        &self,
        scope: &Scope,
        reach: &Reach,
        id: &str,
        include_removed: bool,
        page: PageRequest,
    ) -> Result<Page<Target>, StoreError> {
        self.campaign(scope, id).await?;
        let apply = |sql: &mut Sql| {
            sql.push(" AND t.campaign_id = ").bind(id.to_owned());
            if !include_removed {
                sql.push(" AND t.removed_at IS NULL");
            }
            reach.filter(sql);
        };
        let mut count = Sql::new(
            "SELECT COUNT(*) AS n FROM campaign_targets t CROSS JOIN enterprises e \
             WHERE e.id = t.enterprise_id",
        );
        apply(&mut count);
        let total: i64 = count.fetch_one(self.reader()).await?.try_get("n")?;
        let mut sql = Sql::new(
            "SELECT t.*, e.name AS enterprise_name, u.name AS unit_name, \
             EXISTS (SELECT 1 FROM inspections i WHERE i.campaign_id = t.campaign_id \
               AND i.enterprise_id = t.enterprise_id) AS checked \
             FROM campaign_targets t CROSS JOIN enterprises e CROSS JOIN units u \
             WHERE e.id = t.enterprise_id AND u.id = t.unit_id",
        );
        apply(&mut sql);
        sql.push(" ORDER BY u.name, e.name, e.id LIMIT ")
            .bind(i64::from(page.per_page))
            .push(" OFFSET ")
            .bind(page.offset());
        let rows = sql.fetch_all(self.reader()).await?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(Target {
                    enterprise_id: r.try_get("enterprise_id")?,
                    enterprise_name: r.try_get("enterprise_name")?,
                    unit_name: r.try_get("unit_name")?,
                    sector: r.try_get("sector")?,
                    checked: crate::sql::get_bool(r, "checked")?,
                    added_reason: r.try_get("added_reason")?,
                    added_at: from_millis(r.try_get("added_at")?),
                    removed: r.try_get::<Option<i64>, _>("removed_at")?.is_some(),
                    removed_reason: r.try_get("removed_reason")?,
                })
            })
            .collect::<Result<_, StoreError>>()?;
        Ok(Page { items, total, page: page.page, per_page: page.per_page })
    }

    /// For an inspection of kind `campaign`: the campaign is one the caller sees, running, and
    /// the enterprise is on its list (the inspection module asks, in its transaction).
    pub(crate) async fn campaign_check_allowed(
        &self,
        tx: &mut Tx,
        scope: &Scope,
        campaign_id: &str,
        enterprise_id: &str,
    ) -> Result<(), StoreError> {
        let mut sql = Sql::new("SELECT c.status FROM campaigns c WHERE c.id = ");
        sql.bind(campaign_id.to_owned());
        visible(&mut sql, scope);
        let row = sql
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::invalid("campaign_id", "unknown"))?;
        let status: String = row.try_get("status")?;
        if status != CampaignStatus::Running.as_str() {
            return Err(StoreError::Conflict("campaign_not_running"));
        }
        let target = sqlx::query(
            "SELECT 1 AS x FROM campaign_targets WHERE campaign_id = $1 AND enterprise_id = $2 \
             AND removed_at IS NULL",
        )
        .bind(campaign_id.to_owned())
        .bind(enterprise_id.to_owned())
        .fetch_optional(&mut **tx)
        .await?;
        if target.is_none() {
            return Err(StoreError::invalid("enterprise_id", "not_targeted"));
        }
        Ok(())
    }
}
