//! Major hazard sources (重大危险源, GB 18218-2018) and the substance reference data they are
//! identified with. Every write recomputes S, R, whether the unit is a major hazard source and
//! its grade with [`beacon_core::enterprise::identify`]; a source keeps the name, q, Q and β of
//! each substance as they were used, so a later correction of the reference data does not
//! silently regrade it (the next edit does). Retired sources (核销) stay on record.

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::enterprise::{HazardGrade, Holding, cas_number, identify};
use beacon_core::error::ValidationErrors;
use beacon_core::id::{looks_like_id, new_id};
use beacon_core::text::{free_text, plain_text};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::Row;
use utoipa::ToSchema;

use super::{LedgerOf, Reach, Reached, announce, date_of, iso, record_under};
use crate::sql::Sql;
use crate::{Page, Store, StoreError, Tx, audit};
use beacon_core::page::PageRequest;

/// Most substances one unit may list: a storage unit holds a handful, a plant a few dozen.
const MAX_HOLDINGS: usize = 50;

/// A hazardous substance with its critical quantity and correction factor. A value nobody has
/// confirmed from the standard is `null` and an identification that needs it is refused.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HazardSubstance {
    pub id: String,
    pub name: String,
    /// CAS registry number; empty for a mixture the standard names without one.
    pub cas: String,
    /// Q, tonnes (GB 18218-2018 Table 1 or 2).
    pub critical_t: Option<f64>,
    /// β (Table 3 or 4).
    pub beta: Option<f64>,
    /// Where Q and β come from (`GB 18218-2018 表1 序号1（Q）；表3（β）`).
    pub source: String,
    /// Both Q and β are known: the substance can be used in an identification.
    pub complete: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A substance as an administrator of the top unit enters or corrects it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubstanceWrite {
    pub name: String,
    #[serde(default)]
    pub cas: String,
    pub critical_t: Option<f64>,
    pub beta: Option<f64>,
    /// The table (and edition) Q and β were taken from; required with either.
    #[serde(default)]
    pub source: String,
    /// On update: the version read.
    #[serde(default)]
    pub version: Option<i64>,
}

impl SubstanceWrite {
    pub fn validate(mut self) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        match plain_text(&self.name, 128) {
            Ok(v) => self.name = v,
            Err(code) => errors.add("name", code),
        }
        if self.cas.trim().is_empty() {
            self.cas = String::new();
        } else if let Some(cas) = errors.check("cas", cas_number(&self.cas)) {
            self.cas = cas;
        }
        for (field, value) in [("critical_t", self.critical_t), ("beta", self.beta)] {
            if value.is_some_and(|v| !(v.is_finite() && v > 0.0)) {
                errors.add(field, "must_be_positive");
            }
        }
        match free_text(&self.source, 200) {
            Ok(v) => self.source = v.replace('\n', " "),
            Err(code) => errors.add("source", code),
        }
        if self.source.is_empty() && (self.critical_t.is_some() || self.beta.is_some()) {
            errors.add("source", "required");
        }
        errors.into_result().map(|()| self)
    }
}

fn substance_of(r: &sqlx::any::AnyRow) -> Result<HazardSubstance, StoreError> {
    let critical_t: Option<f64> = r.try_get("critical_t")?;
    let beta: Option<f64> = r.try_get("beta")?;
    Ok(HazardSubstance {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        cas: r.try_get("cas")?,
        complete: critical_t.is_some() && beta.is_some(),
        critical_t,
        beta,
        source: r.try_get("source")?,
        version: r.try_get("version")?,
        created_at: from_millis(r.try_get("created_at")?),
        updated_at: from_millis(r.try_get("updated_at")?),
    })
}

/// One substance held by a unit, as sent.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldingWrite {
    /// A substance of `GET /hazard-substances`.
    pub substance_id: String,
    /// q, tonnes: the most that can be present (design capacity of the vessels and pipes).
    pub quantity_t: f64,
}

/// A hazard source as sent: the unit, α and what it holds, and its filing (备案).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HazardSourceWrite {
    /// The production or storage unit (罐区, 装置…).
    pub name: String,
    /// α, GB 18218-2018 Table 5 (people who may be exposed outside the plant); > 0.
    pub alpha: f64,
    pub substances: Vec<HoldingWrite>,
    /// The filing number given by the regulator (备案编号).
    #[serde(default)]
    pub filing_number: String,
    pub filing_date: Option<NaiveDate>,
    /// On update: the version read.
    #[serde(default)]
    pub version: Option<i64>,
}

impl HazardSourceWrite {
    /// Checks what needs no database; the substances are looked up later.
    pub fn validate(mut self) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        match plain_text(&self.name, 128) {
            Ok(v) => self.name = v,
            Err(code) => errors.add("name", code),
        }
        if !(self.alpha.is_finite() && self.alpha > 0.0) {
            errors.add("alpha", "must_be_positive");
        }
        if self.substances.is_empty() {
            errors.add("substances", "required");
        } else if self.substances.len() > MAX_HOLDINGS {
            errors.add("substances", "too_many");
        }
        let mut seen: Vec<String> = Vec::new();
        for (i, h) in self.substances.iter_mut().enumerate() {
            h.substance_id = h.substance_id.trim().to_ascii_lowercase();
            if !looks_like_id(&h.substance_id) {
                errors.add(format!("substances[{i}].substance_id"), "not_found");
            } else if seen.contains(&h.substance_id) {
                errors.add(format!("substances[{i}].substance_id"), "duplicate");
            } else {
                seen.push(h.substance_id.clone());
            }
            if !(h.quantity_t.is_finite() && h.quantity_t >= 0.0) {
                errors.add(format!("substances[{i}].quantity_t"), "must_not_be_negative");
            }
        }
        if self.filing_number.trim().is_empty() {
            self.filing_number = String::new();
        } else {
            match plain_text(&self.filing_number, 64) {
                Ok(v) => self.filing_number = v,
                Err(code) => errors.add("filing_number", code),
            }
        }
        // A filing has both its number and its date, or neither yet.
        match (self.filing_number.is_empty(), self.filing_date.is_some()) {
            (true, true) => errors.add("filing_number", "required"),
            (false, false) => errors.add("filing_date", "required"),
            _ => {}
        }
        errors.into_result().map(|()| self)
    }
}

/// A substance as a hazard source used it: the reference values of the day it was written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HeldSubstance {
    pub substance_id: String,
    pub name: String,
    pub cas: String,
    /// q, tonnes.
    pub quantity_t: f64,
    /// Q, tonnes, as used.
    pub critical_t: f64,
    /// β, as used.
    pub beta: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HazardSource {
    pub id: String,
    pub enterprise_id: String,
    pub name: String,
    pub alpha: f64,
    pub substances: Vec<HeldSubstance>,
    /// S = Σ q/Q.
    pub s: f64,
    /// R = α·Σ β·q/Q.
    pub r: f64,
    /// S ≥ 1: a major hazard source.
    pub major: bool,
    /// The grade from R, when major.
    pub grade: Option<HazardGrade>,
    pub filing_number: String,
    pub filing_date: Option<NaiveDate>,
    /// Retired (核销): kept on record, no longer in use.
    pub retired: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A row of the major hazard source ledger: the source and its enterprise.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HazardSourceLedgerRow {
    #[serde(flatten)]
    pub source: HazardSource,
    pub enterprise_name: String,
    pub enterprise_uscc: String,
    pub unit_name: String,
}

/// Filters of the major hazard source ledger (major sources in use of enterprises not closed).
#[derive(Debug, Clone, Default)]
pub struct HazardSourceFilter {
    pub unit_id: Option<String>,
    pub grade: Option<HazardGrade>,
    /// Only those without a filing (备案) number.
    pub unfiled: bool,
    /// A fragment of the enterprise's name, code or address.
    pub q: Option<String>,
}

fn source_of(r: &sqlx::any::AnyRow) -> Result<HazardSource, StoreError> {
    let substances: String = r.try_get("substances")?;
    let grade: Option<String> = r.try_get("grade")?;
    let filing_date: Option<String> = r.try_get("filing_date")?;
    Ok(HazardSource {
        id: r.try_get("id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        name: r.try_get("name")?,
        alpha: r.try_get("alpha")?,
        substances: serde_json::from_str(&substances).map_err(StoreError::corrupt)?,
        s: r.try_get("s_value")?,
        r: r.try_get("r_value")?,
        major: crate::sql::get_bool(r, "major")?,
        grade: grade
            .map(|g| {
                HazardGrade::parse(&g).ok_or_else(|| StoreError::corrupt(format!("grade {g}")))
            })
            .transpose()?,
        filing_number: r.try_get("filing_number")?,
        filing_date: date_of(filing_date.as_deref())?,
        retired: crate::sql::get_bool(r, "retired")?,
        version: r.try_get("version")?,
        created_at: from_millis(r.try_get("created_at")?),
        updated_at: from_millis(r.try_get("updated_at")?),
    })
}

/// What a write computes: the substances as used and the identification.
struct Computed {
    held: Vec<HeldSubstance>,
    s: f64,
    r: f64,
    major: bool,
    grade: Option<HazardGrade>,
}

/// Looks every substance up and identifies the unit. A substance that does not exist is
/// `not_found`, one whose Q or β is still unknown is `substance_incomplete`, both on
/// `substances[i].substance_id`.
async fn compute(tx: &mut Tx, write: &HazardSourceWrite) -> Result<Computed, StoreError> {
    let mut errors = ValidationErrors::new();
    let mut held = Vec::with_capacity(write.substances.len());
    for (i, h) in write.substances.iter().enumerate() {
        let row = sqlx::query("SELECT * FROM hazard_substances WHERE id = $1")
            .bind(h.substance_id.clone())
            .fetch_optional(&mut **tx)
            .await?;
        let field = format!("substances[{i}].substance_id");
        let Some(row) = row else {
            errors.add(field, "not_found");
            continue;
        };
        let substance = substance_of(&row)?;
        match (substance.critical_t, substance.beta) {
            (Some(critical_t), Some(beta)) => held.push(HeldSubstance {
                substance_id: substance.id,
                name: substance.name,
                cas: substance.cas,
                quantity_t: h.quantity_t,
                critical_t,
                beta,
            }),
            _ => errors.add(field, "substance_incomplete"),
        }
    }
    errors.into_result().map_err(StoreError::Invalid)?;
    let holdings: Vec<Holding> = held
        .iter()
        .map(|h| Holding { quantity_t: h.quantity_t, critical_t: h.critical_t, beta: h.beta })
        .collect();
    let found = identify(write.alpha, &holdings).map_err(|list| {
        let mut errors = ValidationErrors::new();
        for (field, code) in list {
            errors.add(field, code);
        }
        StoreError::Invalid(errors)
    })?;
    Ok(Computed { held, s: found.s, r: found.r, major: found.major, grade: found.grade })
}

fn json_text(value: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(StoreError::corrupt)
}

/// The timeline entry and audit record of a change to a hazard source, and the live event that
/// the enterprise changed.
async fn record(
    tx: &mut Tx,
    now: DateTime<Utc>,
    actor: &Actor,
    e: &Reached,
    entry: &str,
    id: &str,
    detail: Value,
) -> Result<(), StoreError> {
    let mut detail = detail;
    if let Some(marked) = follow_major_mark(tx, now, &e.id).await? {
        detail["major_hazard_mark"] = json!(marked);
    }
    record_under(tx, now, actor, e, entry, ("hazard_source_id", id), detail).await?;
    announce(tx, now, "enterprise.updated", &e.id, &e.unit_id, e.department_id.as_deref()).await
}

/// The enterprise's `major_hazard` mark follows its hazard sources: a change to one sets the
/// mark while a source in use is major and takes it off when none is (the last retired, or
/// under its critical quantities since). A mark set by hand before any source is entered stays
/// until a source changes. Answers the mark's new state when it changed.
async fn follow_major_mark(
    tx: &mut Tx,
    now: DateTime<Utc>,
    enterprise_id: &str,
) -> Result<Option<bool>, StoreError> {
    let majors: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM hazard_sources WHERE enterprise_id = $1 AND major = $2 \
         AND retired = $3",
    )
    .bind(enterprise_id.to_owned())
    .bind(true)
    .bind(false)
    .fetch_one(&mut **tx)
    .await?
    .try_get("n")?;
    let marks: String = sqlx::query("SELECT marks FROM enterprises WHERE id = $1")
        .bind(enterprise_id.to_owned())
        .fetch_one(&mut **tx)
        .await?
        .try_get("marks")?;
    let mut marks: Vec<String> = serde_json::from_str(&marks).map_err(StoreError::corrupt)?;
    let marked = marks.iter().any(|m| m == MAJOR_HAZARD_MARK);
    if marked == (majors > 0) {
        return Ok(None);
    }
    if marked {
        marks.retain(|m| m != MAJOR_HAZARD_MARK);
    } else {
        marks.push(MAJOR_HAZARD_MARK.to_owned());
    }
    sqlx::query(
        "UPDATE enterprises SET marks = $1, version = version + 1, updated_at = $2 WHERE id = $3",
    )
    .bind(json_text(&marks)?)
    .bind(to_millis(now))
    .bind(enterprise_id.to_owned())
    .execute(&mut **tx)
    .await?;
    Ok(Some(!marked))
}

/// The register's mark of an enterprise with a major hazard source.
const MAJOR_HAZARD_MARK: &str = "major_hazard";

impl Store {
    /// The substance reference data, in the order of the standard's Table 1 and then as added.
    pub async fn hazard_substances(&self) -> Result<Vec<HazardSubstance>, StoreError> {
        let rows =
            sqlx::query("SELECT * FROM hazard_substances ORDER BY created_at, name LIMIT 2000")
                .fetch_all(self.reader())
                .await?;
        rows.iter().map(substance_of).collect()
    }

    /// Adds a substance (an administrator of the top unit).
    pub async fn create_hazard_substance(
        &self,
        actor: &Actor,
        write: SubstanceWrite,
    ) -> Result<HazardSubstance, StoreError> {
        let write = write.validate().map_err(StoreError::Invalid)?;
        let now = self.now();
        let mut tx = self.begin().await?;
        let id = new_id();
        sqlx::query(
            "INSERT INTO hazard_substances (id, name, cas, critical_t, beta, source, version, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $7)",
        )
        .bind(id.clone())
        .bind(write.name.clone())
        .bind(write.cas.clone())
        .bind(write.critical_t)
        .bind(write.beta)
        .bind(write.source.clone())
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict("already_exists") => StoreError::invalid("name", "already_exists"),
            other => other,
        })?;
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "enterprise.substance_added", Outcome::Success)
                .target("hazard_substance", &id)
                .detail(json!({
                    "name": write.name, "cas": write.cas, "critical_t": write.critical_t,
                    "beta": write.beta, "source": write.source,
                })),
        )
        .await?;
        tx.commit().await?;
        self.hazard_substance(self.reader(), &id).await
    }

    /// Corrects a substance. Hazard sources keep the values they were identified with until
    /// they are next written.
    pub async fn update_hazard_substance(
        &self,
        actor: &Actor,
        id: &str,
        write: SubstanceWrite,
    ) -> Result<HazardSubstance, StoreError> {
        let write = write.validate().map_err(StoreError::Invalid)?;
        let now = self.now();
        let mut tx = self.begin().await?;
        let before = self.hazard_substance(&mut *tx, id).await?;
        if let Some(v) = write.version
            && v != before.version
        {
            return Err(StoreError::Conflict("stale_version"));
        }
        sqlx::query(
            "UPDATE hazard_substances SET name = $1, cas = $2, critical_t = $3, beta = $4, \
             source = $5, version = version + 1, updated_at = $6 WHERE id = $7",
        )
        .bind(write.name.clone())
        .bind(write.cas.clone())
        .bind(write.critical_t)
        .bind(write.beta)
        .bind(write.source.clone())
        .bind(to_millis(now))
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict("already_exists") => StoreError::invalid("name", "already_exists"),
            other => other,
        })?;
        let mut diff = serde_json::Map::new();
        let mut pair = |field: &str, old: Value, new: Value| {
            if old != new {
                diff.insert(field.to_owned(), json!({ "before": old, "after": new }));
            }
        };
        pair("name", json!(before.name), json!(write.name));
        pair("cas", json!(before.cas), json!(write.cas));
        pair("critical_t", json!(before.critical_t), json!(write.critical_t));
        pair("beta", json!(before.beta), json!(write.beta));
        pair("source", json!(before.source), json!(write.source));
        diff.entry("name").or_insert(json!(write.name));
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "enterprise.substance_updated", Outcome::Success)
                .target("hazard_substance", id)
                .detail(Value::Object(diff)),
        )
        .await?;
        tx.commit().await?;
        self.hazard_substance(self.reader(), id).await
    }

    async fn hazard_substance<'c, E>(
        &self,
        executor: E,
        id: &str,
    ) -> Result<HazardSubstance, StoreError>
    where
        E: sqlx::Executor<'c, Database = sqlx::Any>,
    {
        let row = sqlx::query("SELECT * FROM hazard_substances WHERE id = $1")
            .bind(id.to_owned())
            .fetch_optional(executor)
            .await?
            .ok_or(StoreError::NotFound)?;
        substance_of(&row)
    }

    /// The enterprise's hazard sources: those in use first, the highest R first.
    pub async fn hazard_sources(
        &self,
        reach: &Reach,
        enterprise_id: &str,
    ) -> Result<Vec<HazardSource>, StoreError> {
        self.enterprise(reach, enterprise_id).await?;
        let rows = sqlx::query(
            "SELECT * FROM hazard_sources WHERE enterprise_id = $1 \
             ORDER BY retired, r_value DESC, id LIMIT 500",
        )
        .bind(enterprise_id.to_owned())
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(source_of).collect()
    }

    /// Major hazard sources across the enterprises the caller reaches, the highest R first
    /// (so by grade): the ledger a regulator keeps and files upward.
    pub async fn hazard_source_ledger(
        &self,
        reach: &Reach,
        filter: &HazardSourceFilter,
        page: PageRequest,
    ) -> Result<Page<HazardSourceLedgerRow>, StoreError> {
        let apply = |sql: &mut Sql| {
            sql.push(" AND x.retired = ").bind(false).push(" AND x.major = ").bind(true);
            if let Some(grade) = filter.grade {
                sql.push(" AND x.grade = ").bind(grade.as_str().to_owned());
            }
            if filter.unfiled {
                sql.push(" AND x.filing_number = ''");
            }
        };
        self.enterprise_ledger(
            reach,
            LedgerOf {
                table: "hazard_sources",
                unit_id: filter.unit_id.as_deref(),
                q: filter.q.as_deref(),
                order: "x.r_value DESC, e.name, x.id",
            },
            apply,
            page,
            |r, holder| {
                Ok(HazardSourceLedgerRow {
                    source: source_of(r)?,
                    enterprise_name: holder.enterprise_name,
                    enterprise_uscc: holder.enterprise_uscc,
                    unit_name: holder.unit_name,
                })
            },
        )
        .await
    }

    pub async fn hazard_source(
        &self,
        reach: &Reach,
        enterprise_id: &str,
        id: &str,
    ) -> Result<HazardSource, StoreError> {
        self.enterprise(reach, enterprise_id).await?;
        self.hazard_source_row(self.reader(), enterprise_id, id).await
    }

    /// Registers a hazard source; S, R, major and grade are computed here.
    pub async fn create_hazard_source(
        &self,
        reach: &Reach,
        actor: &Actor,
        enterprise_id: &str,
        write: HazardSourceWrite,
    ) -> Result<HazardSource, StoreError> {
        let write = write.validate().map_err(StoreError::Invalid)?;
        let now = self.now();
        let mut tx = self.begin().await?;
        let e = self.reached_enterprise(&mut tx, reach, enterprise_id).await?;
        if e.status == "closed" {
            return Err(StoreError::Conflict("enterprise_closed"));
        }
        let c = compute(&mut tx, &write).await?;
        let id = new_id();
        sqlx::query(
            "INSERT INTO hazard_sources (id, enterprise_id, name, alpha, substances, s_value, \
             r_value, major, grade, filing_number, filing_date, retired, version, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13, $13)",
        )
        .bind(id.clone())
        .bind(enterprise_id.to_owned())
        .bind(write.name.clone())
        .bind(write.alpha)
        .bind(json_text(&c.held)?)
        .bind(c.s)
        .bind(c.r)
        .bind(c.major)
        .bind(c.grade.map(|g| g.as_str().to_owned()))
        .bind(write.filing_number.clone())
        .bind(write.filing_date.map(iso))
        .bind(false)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
        let detail = json!({
            "name": write.name, "s": c.s, "r": c.r, "major": c.major, "grade": c.grade,
        });
        record(&mut tx, now, actor, &e, "hazard_source_added", &id, detail).await?;
        tx.commit().await?;
        self.hazard_source_row(self.reader(), enterprise_id, &id).await
    }

    /// Rewrites a hazard source with the reference values of today; the identification follows.
    pub async fn update_hazard_source(
        &self,
        reach: &Reach,
        actor: &Actor,
        enterprise_id: &str,
        id: &str,
        write: HazardSourceWrite,
    ) -> Result<HazardSource, StoreError> {
        let write = write.validate().map_err(StoreError::Invalid)?;
        let now = self.now();
        let mut tx = self.begin().await?;
        let e = self.reached_enterprise(&mut tx, reach, enterprise_id).await?;
        if e.status == "closed" {
            return Err(StoreError::Conflict("enterprise_closed"));
        }
        let before = self.hazard_source_row(&mut *tx, enterprise_id, id).await?;
        if before.retired {
            return Err(StoreError::Conflict("hazard_source_retired"));
        }
        if let Some(v) = write.version
            && v != before.version
        {
            return Err(StoreError::Conflict("stale_version"));
        }
        let c = compute(&mut tx, &write).await?;
        sqlx::query(
            "UPDATE hazard_sources SET name = $1, alpha = $2, substances = $3, s_value = $4, \
             r_value = $5, major = $6, grade = $7, filing_number = $8, filing_date = $9, \
             version = version + 1, updated_at = $10 WHERE id = $11",
        )
        .bind(write.name.clone())
        .bind(write.alpha)
        .bind(json_text(&c.held)?)
        .bind(c.s)
        .bind(c.r)
        .bind(c.major)
        .bind(c.grade.map(|g| g.as_str().to_owned()))
        .bind(write.filing_number.clone())
        .bind(write.filing_date.map(iso))
        .bind(to_millis(now))
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await?;
        let mut diff = serde_json::Map::new();
        let mut pair = |field: &str, old: Value, new: Value| {
            if old != new {
                diff.insert(field.to_owned(), json!({ "before": old, "after": new }));
            }
        };
        pair("name", json!(before.name), json!(write.name));
        pair("alpha", json!(before.alpha), json!(write.alpha));
        pair("s", json!(before.s), json!(c.s));
        pair("r", json!(before.r), json!(c.r));
        pair("grade", json!(before.grade), json!(c.grade));
        pair("filing_number", json!(before.filing_number), json!(write.filing_number));
        pair("filing_date", json!(before.filing_date), json!(write.filing_date));
        let names = |list: &[HeldSubstance]| -> Vec<String> {
            list.iter().map(|h| format!("{} {}t", h.name, h.quantity_t)).collect()
        };
        pair("substances", json!(names(&before.substances)), json!(names(&c.held)));
        diff.entry("name").or_insert(json!(write.name));
        record(&mut tx, now, actor, &e, "hazard_source_updated", id, Value::Object(diff)).await?;
        tx.commit().await?;
        self.hazard_source_row(self.reader(), enterprise_id, id).await
    }

    /// Retires a hazard source (核销: the unit is dismantled or no longer holds the
    /// substances); it stays on record.
    pub async fn retire_hazard_source(
        &self,
        reach: &Reach,
        actor: &Actor,
        enterprise_id: &str,
        id: &str,
        reason: &str,
    ) -> Result<HazardSource, StoreError> {
        let reason = plain_text(reason, 500).map_err(|c| StoreError::invalid("reason", c))?;
        let now = self.now();
        let mut tx = self.begin().await?;
        let e = self.reached_enterprise(&mut tx, reach, enterprise_id).await?;
        let before = self.hazard_source_row(&mut *tx, enterprise_id, id).await?;
        if before.retired {
            return Err(StoreError::Conflict("hazard_source_retired"));
        }
        sqlx::query(
            "UPDATE hazard_sources SET retired = $1, version = version + 1, updated_at = $2 \
             WHERE id = $3",
        )
        .bind(true)
        .bind(to_millis(now))
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await?;
        let detail = json!({ "name": before.name, "reason": reason });
        record(&mut tx, now, actor, &e, "hazard_source_retired", id, detail).await?;
        tx.commit().await?;
        self.hazard_source_row(self.reader(), enterprise_id, id).await
    }

    /// One hazard source of the enterprise, read through `executor` (the reader, or the
    /// transaction that is changing it).
    async fn hazard_source_row<'c, E>(
        &self,
        executor: E,
        enterprise_id: &str,
        id: &str,
    ) -> Result<HazardSource, StoreError>
    where
        E: sqlx::Executor<'c, Database = sqlx::Any>,
    {
        let row = sqlx::query("SELECT * FROM hazard_sources WHERE id = $1 AND enterprise_id = $2")
            .bind(id.to_owned())
            .bind(enterprise_id.to_owned())
            .fetch_optional(executor)
            .await?
            .ok_or(StoreError::NotFound)?;
        source_of(&row)
    }
}
