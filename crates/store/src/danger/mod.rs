//! The hidden-danger ledger (docs/hazards.md): hidden dangers of the enterprises a caller
//! reaches, recorded, moved through their rectification by the rules of
//! [`beacon_core::danger`], each step on the timeline. A hidden danger is reached through its
//! enterprise, by the register's one scope rule ([`Reach`]): its territory and its supervising
//! department, or the enterprise's own account.

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::danger::{
    DangerAction, DangerCategory, DangerLevel, DangerOrigin, DangerStatus, ListingLevel, Party,
    TreatmentPlan, check_deadline, earliest_found_on, initial_status, is_overdue, transition,
};
use beacon_core::error::ValidationErrors;
use beacon_core::id::new_id;
use beacon_core::org::UnitLevel;
use beacon_core::page::PageRequest;
use beacon_core::text::{free_text, plain_text};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use utoipa::ToSchema;

use crate::enterprise::{Reach, Reached, announce_for_enterprise, date_of, iso, today};

mod deadline;
mod import;
mod map;
mod stats;

pub use stats::{
    DangerMonth, DangerSectorTally, DangerStateCount, DangerStats, DangerStatsFilter, DangerTally,
    DangerUnitTally,
};

use crate::sql::Sql;
use crate::{Page, Store, StoreError, Tx, audit, numbers, timeline};
pub use deadline::DANGER_DEADLINE;
pub use import::{DANGER_IMPORT_COLUMNS, DangerImport, danger_import_samples};
pub use map::{DangerMap, DangerMapCluster, DangerMapCounts, DangerMapFilter, DangerMapPoint};

/// A hidden danger as recorded (by an inspector, or by the enterprise from its own check).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DangerWrite {
    pub enterprise_id: String,
    pub level: DangerLevel,
    pub category: DangerCategory,
    pub origin: DangerOrigin,
    /// Where in the enterprise (workshop, installation, post).
    pub place: String,
    pub description: String,
    /// The checklist item or rule it is judged by (判定依据); required for a major one.
    #[serde(default)]
    pub criterion: String,
    pub found_on: NaiveDate,
    /// The rectification deadline.
    pub deadline: NaiveDate,
    #[serde(default)]
    pub responsible_person: String,
    /// Rectified while the inspector was there (当场整改); general ones only.
    #[serde(default)]
    pub fixed_on_spot: bool,
}

impl DangerWrite {
    fn validate(mut self, today: NaiveDate) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let mut text = |field: &str, value: &mut String, max: usize, required: bool| {
            let checked = if required { plain_text(value, max) } else { free_text(value, max) };
            match checked {
                Ok(v) => *value = v,
                Err(code) => errors.add(field, code),
            }
        };
        text("place", &mut self.place, 200, true);
        text("description", &mut self.description, 4000, true);
        let major = self.level == DangerLevel::Major;
        text("criterion", &mut self.criterion, 500, major);
        text("responsible_person", &mut self.responsible_person, 64, false);
        if self.found_on > today {
            errors.add("found_on", "in_future");
        } else if self.found_on < earliest_found_on() {
            errors.add("found_on", "out_of_range");
        }
        if let Err(code) = check_deadline(self.found_on, self.deadline) {
            errors.add("deadline", code);
        }
        if major && self.fixed_on_spot {
            errors.add("fixed_on_spot", "major_needs_plan");
        }
        errors.into_result().map(|()| self)
    }
}

/// A step in a hidden danger's rectification, with what it records.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum DangerStep {
    /// The five implementations of a major one.
    SubmitPlan {
        plan: TreatmentPlan,
    },
    /// The regulator's check of the plan; a returned plan says why.
    ReviewPlan {
        approve: bool,
        #[serde(default)]
        reason: String,
    },
    ReportProgress {
        text: String,
    },
    /// The fix is done (photos after are attached to the hidden danger).
    ReportFix {
        text: String,
    },
    /// The regulator's acceptance; a failed one says why.
    Accept {
        pass: bool,
        #[serde(default)]
        reason: String,
    },
    /// Why the deadline was missed (an overdue one only).
    Explain {
        text: String,
    },
    /// Listing for supervision at the regulator's own level.
    List,
    Unlist {
        reason: String,
    },
}

impl DangerStep {
    fn action(&self) -> DangerAction {
        match self {
            DangerStep::SubmitPlan { .. } => DangerAction::SubmitPlan,
            DangerStep::ReviewPlan { approve, .. } => {
                DangerAction::ReviewPlan { approve: *approve }
            }
            DangerStep::ReportProgress { .. } => DangerAction::ReportProgress,
            DangerStep::ReportFix { .. } => DangerAction::ReportFix,
            DangerStep::Accept { pass, .. } => DangerAction::Accept { pass: *pass },
            DangerStep::Explain { .. } => DangerAction::Explain,
            DangerStep::List => DangerAction::List,
            DangerStep::Unlist { .. } => DangerAction::Unlist,
        }
    }

    /// The timeline kind of the step.
    fn kind(&self) -> &'static str {
        match self {
            DangerStep::SubmitPlan { .. } => "plan_submitted",
            DangerStep::ReviewPlan { approve: true, .. } => "plan_approved",
            DangerStep::ReviewPlan { approve: false, .. } => "plan_returned",
            DangerStep::ReportProgress { .. } => "progress_reported",
            DangerStep::ReportFix { .. } => "fix_reported",
            DangerStep::Accept { pass: true, .. } => "accepted",
            DangerStep::Accept { pass: false, .. } => "acceptance_failed",
            DangerStep::Explain { .. } => "explained",
            DangerStep::List => "listed",
            DangerStep::Unlist { .. } => "unlisted",
        }
    }
}

/// A hidden danger as the ledger shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Danger {
    pub id: String,
    pub number: String,
    pub enterprise_id: String,
    pub enterprise_name: String,
    pub unit_name: String,
    pub level: DangerLevel,
    pub category: DangerCategory,
    pub origin: DangerOrigin,
    pub place: String,
    pub description: String,
    pub criterion: String,
    pub found_on: NaiveDate,
    pub deadline: NaiveDate,
    pub responsible_person: String,
    pub status: DangerStatus,
    /// Open and past its deadline, as of today.
    pub overdue: bool,
    pub plan: Option<TreatmentPlan>,
    pub listed_level: Option<ListingLevel>,
    pub listed_at: Option<DateTime<Utc>>,
    pub explanation: String,
    pub closed_at: Option<DateTime<Utc>>,
    pub closed_by_name: Option<String>,
    pub created_by_name: String,
    /// The number an office's own ledger gave it, when it was imported from one (原台账编号).
    pub source_number: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A territory of at most this many units has a page of one state read unit by unit and merged
/// (a township, a district of a few dozen); a larger one walks the state's index.
const MERGED_UNITS: usize = 64;

/// Filters of the ledger.
#[derive(Debug, Clone, Default)]
pub struct DangerFilter {
    pub enterprise_id: Option<String>,
    /// Hidden dangers of enterprises in this unit's territory (the unit and beneath).
    pub unit_id: Option<String>,
    pub level: Option<DangerLevel>,
    pub status: Option<DangerStatus>,
    /// Open ones only.
    pub open: bool,
    /// Open and past the deadline.
    pub overdue: bool,
    /// Listed for supervision (at any level).
    pub listed: bool,
}

const SELECT: &str = "SELECT h.*, e.name AS enterprise_name, u.name AS unit_name \
     FROM hidden_dangers h CROSS JOIN enterprises e CROSS JOIN units u \
     WHERE e.id = h.enterprise_id AND u.id = e.unit_id";

/// The hidden danger `id`, if `reach` reaches it.
fn one(reach: &Reach, id: &str) -> Sql {
    let mut sql = Sql::new(SELECT);
    sql.push(" AND h.id = ").bind(id.to_owned());
    reach.filter(&mut sql);
    sql
}

fn parse<T>(value: &str, of: fn(&str) -> Option<T>, what: &str) -> Result<T, StoreError> {
    of(value).ok_or_else(|| StoreError::corrupt(format!("{what}: {value}")))
}

fn danger_of(r: &sqlx::any::AnyRow, today: NaiveDate) -> Result<Danger, StoreError> {
    let date = |column: &str| -> Result<NaiveDate, StoreError> {
        let text: String = r.try_get(column)?;
        date_of(Some(&text))?.ok_or_else(|| StoreError::corrupt(column.to_owned()))
    };
    let status = parse(&r.try_get::<String, _>("status")?, DangerStatus::parse, "status")?;
    let deadline = date("deadline")?;
    let plan: Option<String> = r.try_get("plan")?;
    let listed_level: Option<String> = r.try_get("listed_level")?;
    Ok(Danger {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        enterprise_id: r.try_get("enterprise_id")?,
        enterprise_name: r.try_get("enterprise_name")?,
        unit_name: r.try_get("unit_name")?,
        level: parse(&r.try_get::<String, _>("level")?, DangerLevel::parse, "level")?,
        category: parse(&r.try_get::<String, _>("category")?, DangerCategory::parse, "category")?,
        origin: parse(&r.try_get::<String, _>("origin")?, DangerOrigin::parse, "origin")?,
        place: r.try_get("place")?,
        description: r.try_get("description")?,
        criterion: r.try_get("criterion")?,
        found_on: date("found_on")?,
        deadline,
        responsible_person: r.try_get("responsible_person")?,
        status,
        overdue: is_overdue(status, deadline, today),
        plan: plan.map(|p| serde_json::from_str(&p)).transpose().map_err(StoreError::corrupt)?,
        listed_level: listed_level
            .map(|l| parse(&l, ListingLevel::parse, "listed_level"))
            .transpose()?,
        listed_at: r.try_get::<Option<i64>, _>("listed_at")?.map(from_millis),
        explanation: r.try_get("explanation")?,
        closed_at: r.try_get::<Option<i64>, _>("closed_at")?.map(from_millis),
        closed_by_name: r.try_get("closed_by_name")?,
        created_by_name: r.try_get("created_by_name")?,
        source_number: r.try_get("source_number")?,
        version: r.try_get("version")?,
        created_at: from_millis(r.try_get("created_at")?),
        updated_at: from_millis(r.try_get("updated_at")?),
    })
}

/// Writes a new hidden danger's row, numbered `YH-<code of the enterprise's unit>-<year of
/// `numbered_on`>-<sequence>`, closed at `closed` (when and by whom) when it starts closed; its
/// id and number. The caller puts it on the timeline and starts its clock.
#[allow(clippy::too_many_arguments)]
async fn insert_danger(
    tx: &mut Tx,
    now: DateTime<Utc>,
    actor: &Actor,
    e: &Reached,
    write: &DangerWrite,
    status: DangerStatus,
    closed: Option<(DateTime<Utc>, String)>,
    numbered_on: NaiveDate,
    source_number: &str,
) -> Result<(String, String), StoreError> {
    let code: String = sqlx::query("SELECT code FROM units WHERE id = $1")
        .bind(e.unit_id.clone())
        .fetch_one(&mut **tx)
        .await?
        .try_get("code")?;
    let prefix = format!("YH-{code}-{}-", numbered_on.format("%Y"));
    let number = format!("{prefix}{:05}", numbers::take(tx, &prefix, 1).await?);
    let id = new_id();
    let (closed_at, closed_by) = closed.unzip();
    sqlx::query(
        "INSERT INTO hidden_dangers (id, number, enterprise_id, level, category, origin, \
         place, description, criterion, found_on, deadline, responsible_person, status, \
         plan, listed_level, listed_unit_id, listed_at, explanation, closed_at, \
         closed_by_name, created_by_name, version, created_at, updated_at, unit_id, \
         department_id, source_number) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
         $12, $13, NULL, NULL, NULL, NULL, '', $14, $15, $16, 1, $17, $17, $18, $19, $20)",
    )
    .bind(id.clone())
    .bind(number.clone())
    .bind(e.id.clone())
    .bind(write.level.as_str())
    .bind(write.category.as_str())
    .bind(write.origin.as_str())
    .bind(write.place.clone())
    .bind(write.description.clone())
    .bind(write.criterion.clone())
    .bind(iso(write.found_on))
    .bind(iso(write.deadline))
    .bind(write.responsible_person.clone())
    .bind(status.as_str())
    .bind(closed_at.map(to_millis))
    .bind(closed_by)
    .bind(actor.name.clone())
    .bind(to_millis(now))
    .bind(e.unit_id.clone())
    .bind(e.department_id.clone())
    .bind(source_number.to_owned())
    .execute(&mut **tx)
    .await?;
    Ok((id, number))
}

impl Store {
    /// Records a hidden danger of an enterprise the caller reaches, numbered
    /// `YH-<code of the enterprise's unit>-<year>-<sequence>`.
    pub async fn create_danger(
        &self,
        reach: &Reach,
        actor: &Actor,
        party: Party,
        write: DangerWrite,
    ) -> Result<Danger, StoreError> {
        let mut tx = self.begin().await?;
        let id = self.record_danger(&mut tx, reach, actor, party, write).await?;
        tx.commit().await?;
        self.danger(reach, &id).await
    }

    /// Records a hidden danger in the caller's transaction (another module's record that
    /// becomes one, such as an inspection's finding, links it in the same transaction); its id.
    pub(crate) async fn record_danger(
        &self,
        tx: &mut Tx,
        reach: &Reach,
        actor: &Actor,
        party: Party,
        write: DangerWrite,
    ) -> Result<String, StoreError> {
        let now = self.now();
        let write = write.validate(today(now)).map_err(StoreError::Invalid)?;
        let status = initial_status(write.level, write.fixed_on_spot, party)
            .map_err(|code| StoreError::invalid("fixed_on_spot", code))?;
        // An enterprise records what its own checks find; the rest is the regulators'.
        if party == Party::Enterprise && write.origin != DangerOrigin::SelfInspection {
            return Err(StoreError::invalid("origin", "self_inspection_only"));
        }
        let e = self.reached_enterprise(tx, reach, &write.enterprise_id).await?;
        if e.status == "closed" {
            return Err(StoreError::Conflict("enterprise_closed"));
        }
        let closed = (status == DangerStatus::Closed).then(|| (now, actor.name.clone()));
        let (id, number) =
            insert_danger(tx, now, actor, &e, &write, status, closed, today(now), "").await?;
        let closed = status == DangerStatus::Closed;
        let data = json!({
            "number": number, "level": write.level, "status": status,
            "fixed_on_spot": write.fixed_on_spot,
        });
        timeline::append(
            tx,
            now,
            actor,
            ("hidden_danger", &id),
            Some(&e.unit_id),
            "recorded",
            data,
        )
        .await?;
        if !closed {
            deadline::schedule(tx, now, &id, &e.unit_id, write.deadline).await?;
        }
        let record = NewAuditRecord::new(actor, "danger.recorded", Outcome::Success)
            .target("hidden_danger", &id)
            .detail(json!({ "number": number, "enterprise": e.name, "level": write.level }));
        audit::append(tx, now, record).await?;
        let event = json!({ "id": id, "number": number });
        let department = e.department_id.as_deref();
        announce_for_enterprise(tx, now, "danger.recorded", event, &e.unit_id, department).await?;
        Ok(id)
    }

    /// A hidden danger the caller reaches (404 otherwise, whatever it is).
    pub async fn danger(&self, reach: &Reach, id: &str) -> Result<Danger, StoreError> {
        let row = one(reach, id).fetch_optional(self.reader()).await?;
        danger_of(&row.ok_or(StoreError::NotFound)?, today(self.now()))
    }

    /// Every step of a hidden danger the caller reaches, oldest first.
    pub async fn danger_history(
        &self,
        reach: &Reach,
        id: &str,
    ) -> Result<Vec<timeline::TimelineEntry>, StoreError> {
        self.danger(reach, id).await?;
        self.timeline("hidden_danger", id).await
    }

    /// A page of the ledger, the most urgent first (earliest deadline of the open ones, then
    /// the closed ones, the latest found first).
    pub async fn dangers(
        &self,
        reach: &Reach,
        filter: &DangerFilter,
        page: PageRequest,
    ) -> Result<Page<Danger>, StoreError> {
        let today = today(self.now());
        // The territory's units named in the statement: a township's page then reads the
        // township's own entries of `(unit_id, status, deadline, …)` in order (migration 0022).
        let territory = match &filter.unit_id {
            Some(unit) => Some(crate::scope::territory(self.reader(), unit).await?),
            None => None,
        };
        // The filters, the territory's but for a statement that names one unit at a time.
        let apply = |sql: &mut Sql, territory: Option<&[String]>| {
            if let Some(enterprise) = &filter.enterprise_id {
                sql.push(" AND h.enterprise_id = ").bind(enterprise.clone());
            }
            if let Some(units) = territory {
                crate::scope::filter_units(sql, "h.unit_id", units);
            }
            if let Some(level) = filter.level {
                sql.push(" AND h.level = ").bind(level.as_str());
            }
            if let Some(status) = filter.status {
                sql.push(" AND h.status = ").bind(status.as_str());
            }
            // Written in, not bound: the partial index of the open ones (migration 0021) is
            // used only when the query's condition is its own.
            if filter.open || filter.overdue {
                sql.push(" AND h.status <> 'closed'");
            }
            if filter.overdue {
                sql.push(" AND h.deadline < ").bind(iso(today));
            }
            if filter.listed {
                sql.push(" AND h.listed_level IS NOT NULL");
            }
            // The ledger's own copy of each enterprise's territory and department (migration
            // 0021): checked from the indexes the page is read from.
            reach.filter_on(sql, "h.enterprise_id", "h.unit_id", "h.department_id");
        };
        let mut count = Sql::new("SELECT COUNT(*) AS n FROM hidden_dangers h WHERE 1 = 1");
        apply(&mut count, territory.as_deref());
        // Kept until the next write (the count cache): under a million rows a total costs
        // more than its page.
        let total = self.count(count).await?;
        // Only open ones asked for (or one open state): by deadline, read in order from the
        // open ones' index (or the state's) and stopped at the page's end. Otherwise the open
        // ones first by deadline, then the closed, the latest found first.
        let only_open = filter.open
            || filter.overdue
            || filter.status.is_some_and(|s| s != DangerStatus::Closed);
        let order = if only_open {
            " ORDER BY h.deadline, h.found_on DESC, h.id"
        } else {
            " ORDER BY CASE WHEN h.status = 'closed' THEN 1 ELSE 0 END, CASE WHEN h.status \
             = 'closed' THEN '' ELSE h.deadline END, h.found_on DESC, h.id"
        };
        // One statement: the page's ids first, as a materialized `WITH` read from the index
        // alone (its size written in, so that PostgreSQL's generic plan expects a page), then
        // their rows, enterprises and units. Reading whole rows while walking the index made
        // PostgreSQL fetch thousands of rows for a township's page of twenty.
        let mut sql = Sql::new("WITH page AS MATERIALIZED (");
        // One state of a territory of a few units: each unit's page read in order from its own
        // entries of `(unit_id, status, deadline, …)` (migration 0022) and merged, instead of
        // walking the state's whole index for the territory's few rows (PostgreSQL chose the walk
        // even for a list of units: 1 ms a page against 0.15 ms merged).
        let units = territory.as_deref().unwrap_or_default();
        let single_state = filter.status.is_some_and(|s| s != DangerStatus::Closed);
        if single_state && (1..=MERGED_UNITS).contains(&units.len()) {
            let first = i64::from(page.per_page).saturating_add(page.offset());
            sql.push("SELECT x.id FROM (");
            for (i, unit) in units.iter().enumerate() {
                if i > 0 {
                    sql.push(" UNION ALL ");
                }
                sql.push(
                    "SELECT * FROM (SELECT h.id, h.deadline, h.found_on FROM hidden_dangers h \
                     WHERE h.unit_id = ",
                )
                .bind(unit.clone());
                apply(&mut sql, None);
                sql.push(order).push(&format!(" LIMIT {first}) u{i}"));
            }
            sql.push(") x ORDER BY x.deadline, x.found_on DESC, x.id");
        } else {
            sql.push("SELECT h.id FROM hidden_dangers h WHERE 1 = 1");
            apply(&mut sql, territory.as_deref());
            sql.push(order);
        }
        sql.push(&format!(" LIMIT {} OFFSET ", page.per_page))
            .bind(page.offset())
            .push(
                ") SELECT h.*, e.name AS enterprise_name, u.name AS unit_name FROM page p \
                 CROSS JOIN hidden_dangers h CROSS JOIN enterprises e CROSS JOIN units u \
                 WHERE h.id = p.id AND e.id = h.enterprise_id AND u.id = e.unit_id",
            )
            .push(order);
        let rows = sql.fetch_all(self.reader()).await?;
        Ok(Page {
            items: rows.iter().map(|r| danger_of(r, today)).collect::<Result<_, _>>()?,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// Takes a step on a hidden danger the caller reaches: 404 outside the reach before any
    /// other check; then the rule of [`transition`] (409 with its code; 403 for a step that is
    /// the regulator's); then what the step records.
    pub async fn act_on_danger(
        &self,
        reach: &Reach,
        actor: &Actor,
        party: Party,
        id: &str,
        step: DangerStep,
    ) -> Result<Danger, StoreError> {
        let now = self.now();
        let today = today(now);
        let mut tx = self.begin().await?;
        let before = one(reach, id).fetch_optional(&mut *tx).await?;
        let before = danger_of(&before.ok_or(StoreError::NotFound)?, today)?;
        let next =
            transition(before.level, before.status, step.action(), party).map_err(|code| {
                if code.starts_with("enterprise_cannot") {
                    StoreError::Forbidden(code)
                } else {
                    StoreError::Conflict(code)
                }
            })?;
        let reason = |field: &str, text: &str, required: bool| {
            let checked = if required { plain_text(text, 2000) } else { free_text(text, 2000) };
            checked.map_err(|code| StoreError::invalid(field, code))
        };
        let mut data = json!({ "from": before.status, "to": next });
        let mut set = Sql::new("UPDATE hidden_dangers SET status = ");
        set.bind(next.as_str());
        match &step {
            DangerStep::SubmitPlan { plan } => {
                let plan = plan.clone().validate(before.found_on).map_err(StoreError::Invalid)?;
                let text = serde_json::to_string(&plan).map_err(StoreError::corrupt)?;
                set.push(", plan = ").bind(text).push(", deadline = ").bind(iso(plan.deadline));
                data["plan"] = json!(plan);
            }
            DangerStep::ReviewPlan { approve, reason: why } => {
                data["reason"] = json!(reason("reason", why, !approve)?);
            }
            DangerStep::ReportProgress { text } | DangerStep::ReportFix { text } => {
                data["text"] = json!(reason("text", text, true)?);
            }
            DangerStep::Accept { pass, reason: why } => {
                data["reason"] = json!(reason("reason", why, !pass)?);
                if *pass {
                    set.push(", closed_at = ")
                        .bind(to_millis(now))
                        .push(", closed_by_name = ")
                        .bind(actor.name.clone());
                }
            }
            DangerStep::Explain { text } => {
                if !before.overdue {
                    return Err(StoreError::Conflict("not_overdue"));
                }
                let text = reason("text", text, true)?;
                set.push(", explanation = ").bind(text.clone());
                data["text"] = json!(text);
            }
            DangerStep::List => {
                if before.listed_level.is_some() {
                    return Err(StoreError::Conflict("already_listed"));
                }
                let (unit_id, level) = self.listing_unit(&mut tx, actor).await?;
                set.push(", listed_level = ")
                    .bind(level.as_str())
                    .push(", listed_unit_id = ")
                    .bind(unit_id)
                    .push(", listed_at = ")
                    .bind(to_millis(now));
                data["level"] = json!(level);
            }
            DangerStep::Unlist { reason: why } => {
                if before.listed_level.is_none() {
                    return Err(StoreError::Conflict("not_listed"));
                }
                data["reason"] = json!(reason("reason", why, true)?);
                set.push(", listed_level = NULL, listed_unit_id = NULL, listed_at = NULL");
            }
        }
        set.push(", version = version + 1, updated_at = ")
            .bind(to_millis(now))
            .push(" WHERE id = ")
            .bind(id.to_owned());
        set.execute(&mut *tx).await?;
        let owner = sqlx::query("SELECT unit_id, department_id FROM enterprises WHERE id = $1")
            .bind(before.enterprise_id.clone())
            .fetch_one(&mut *tx)
            .await?;
        let unit: String = owner.try_get("unit_id")?;
        let department: Option<String> = owner.try_get("department_id")?;
        let event = json!({ "id": id, "number": before.number });
        let kind = "danger.changed";
        announce_for_enterprise(&mut tx, now, kind, event, &unit, department.as_deref()).await?;
        match &step {
            DangerStep::SubmitPlan { plan } => {
                deadline::schedule(&mut tx, now, id, &unit, plan.deadline).await?;
            }
            _ if next == DangerStatus::Closed => deadline::stop(&mut tx, now, id).await?,
            _ => {}
        }
        timeline::append(
            &mut tx,
            now,
            actor,
            ("hidden_danger", id),
            Some(&unit),
            step.kind(),
            data,
        )
        .await?;
        let audited = match &step {
            DangerStep::Accept { pass: true, .. } => {
                Some(NewAuditRecord::new(actor, "danger.accepted", Outcome::Success))
            }
            DangerStep::List => Some(NewAuditRecord::new(actor, "danger.listed", Outcome::Success)),
            DangerStep::Unlist { .. } => {
                Some(NewAuditRecord::new(actor, "danger.unlisted", Outcome::Success))
            }
            _ => None,
        };
        if let Some(record) = audited {
            let record =
                record.target("hidden_danger", id).detail(json!({ "number": before.number }));
            audit::append(&mut tx, now, record).await?;
        }
        tx.commit().await?;
        self.danger(reach, id).await
    }

    /// The unit and level a regulator lists at: its own unit, a district or the city.
    async fn listing_unit(
        &self,
        tx: &mut Tx,
        actor: &Actor,
    ) -> Result<(String, ListingLevel), StoreError> {
        let unit = actor.unit_id.clone().ok_or(StoreError::Forbidden("cannot_list"))?;
        let level: String = sqlx::query("SELECT level FROM units WHERE id = $1")
            .bind(unit.clone())
            .fetch_optional(&mut **tx)
            .await?
            .ok_or(StoreError::Forbidden("cannot_list"))?
            .try_get("level")?;
        let level = match UnitLevel::parse(&level) {
            Some(UnitLevel::District) => ListingLevel::District,
            Some(UnitLevel::City) => ListingLevel::City,
            _ => return Err(StoreError::Forbidden("cannot_list")),
        };
        Ok((unit, level))
    }
}

/// The kinds of a hidden danger's attachments: `hidden_danger` for the photos of what was found
/// (before), `danger_fix` for the photos of the fix (after).
pub const ATTACHMENT_OWNERS: [&str; 2] = ["hidden_danger", "danger_fix"];

impl Store {
    /// A hidden danger that files are attached to (`kind` one of [`ATTACHMENT_OWNERS`]), when
    /// the caller reaches it; not found otherwise. Its files tell their story on its own
    /// timeline; one closed off the ledger (销号) takes no new files nor removals.
    pub async fn danger_attachment_owner(
        &self,
        reach: &Reach,
        kind: &str,
        id: &str,
    ) -> Result<crate::attachment::Owner, StoreError> {
        if !ATTACHMENT_OWNERS.contains(&kind) {
            return Err(StoreError::NotFound);
        }
        let mut sql = Sql::new(
            "SELECT h.id, h.status, e.unit_id FROM hidden_dangers h CROSS JOIN enterprises e \
             WHERE e.id = h.enterprise_id AND h.id = ",
        );
        sql.bind(id.to_owned());
        reach.filter(&mut sql);
        let row = sql.fetch_optional(self.reader()).await?.ok_or(StoreError::NotFound)?;
        let status: String = row.try_get("status")?;
        Ok(crate::attachment::Owner {
            kind: kind.to_owned(),
            id: id.to_owned(),
            unit_id: row.try_get("unit_id")?,
            timeline: ("hidden_danger".to_owned(), id.to_owned()),
            frozen: (status == DangerStatus::Closed.as_str()).then_some("danger_closed"),
        })
    }
}
