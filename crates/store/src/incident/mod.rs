//! Incidents (docs/incidents.md): intake, grading on every change with its history, and the
//! hops up the reporting chain. Due times are derived by `beacon_core::incident::obligations`
//! from the grade, the time of occurrence and the hops done.

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::event::NewEvent;
use beacon_core::id::new_id;
use beacon_core::incident::{
    Axis, Casualties, ChainRules, Grade, Grading, GradingTable, Hop, HopMethod, IncidentKind,
    Obligation, ResponseLevel, Source, WarningColor, builtin_tables, hops_for, obligations,
    table_for,
};
use beacon_core::org::{Permission, UnitLevel};
use beacon_core::scope::Scope;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

use crate::db::backend_of;
use crate::notify::Delivery;
use crate::sql::{Sql, Val, get_bool, insert_batch};
use crate::{Store, StoreError, Tx, audit, outbox, scope, timeline};

mod clock;
mod handle;
mod intake;
mod list;
mod report;
mod stats;

pub use clock::HOP_DEADLINE;
pub use handle::RecordHop;
pub use intake::Registered;
pub use list::{DUPLICATE_RADIUS_M, DUPLICATE_WINDOW_HOURS, DuplicateCandidate, IncidentFilter};
pub use report::{
    AwaitingReport, NewReport, Report, ReportChanged, ReportEdit, ReportVersion, ReportVersionInfo,
};
pub use stats::{IncidentStats, KindTally, MonthTally, StatsFilter, Tally, UnitTally};

/// The facts of a new incident, already validated (`beacon_core::incident::check_*`).
#[derive(Debug, Clone)]
pub struct NewIncident {
    pub kind: IncidentKind,
    pub title: String,
    pub unit_id: String,
    pub occurred_at: DateTime<Utc>,
    pub reported_at: DateTime<Utc>,
    pub place: String,
    /// `(longitude, latitude)`
    pub point: Option<(f64, f64)>,
    pub enterprise: Option<String>,
    pub casualties: Casualties,
    pub description: String,
    pub source: Source,
    pub reporter: Option<String>,
    pub reporter_phone: Option<String>,
    pub duty_log_id: Option<String>,
    /// Saved although it may repeat this open incident (the caller was shown it).
    pub duplicate_of: Option<String>,
}

/// Facts that change as the picture becomes clearer. `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct FactsChange {
    /// The version the caller read; a change made since is refused (`stale_version`).
    pub version: i64,
    pub title: Option<String>,
    pub place: Option<String>,
    pub enterprise: Option<String>,
    pub casualties: Option<Casualties>,
    pub description: Option<String>,
    /// `Some(None)` clears it.
    pub warning_color: Option<Option<WarningColor>>,
    pub response_level: Option<Option<ResponseLevel>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct IncidentUnit {
    pub id: String,
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Incident {
    pub id: String,
    /// Per registering unit and year: `990102-2026-0007`.
    pub number: String,
    pub unit: IncidentUnit,
    pub kind: IncidentKind,
    pub title: String,
    pub occurred_at: DateTime<Utc>,
    pub reported_at: DateTime<Utc>,
    pub place: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// The point lies outside the unit's boundary (a warning, not a refusal).
    pub outside_unit: bool,
    pub enterprise: Option<String>,
    pub deaths: u32,
    pub missing: u32,
    pub serious_injuries: u32,
    pub minor_injuries: u32,
    pub direct_loss_cny: u64,
    pub description: String,
    pub source: Source,
    pub reporter: Option<String>,
    pub reporter_phone: Option<String>,
    /// The grade in force (the override when there is one).
    pub grade: Grade,
    pub computed_grade: Grade,
    /// A leader's grade, with the reason; `grade` is this one while it is set.
    pub grade_override: Option<GradeOverride>,
    pub warning_color: Option<WarningColor>,
    pub response_level: Option<ResponseLevel>,
    /// `open` or `closed`.
    pub status: String,
    pub closed_at: Option<DateTime<Utc>>,
    pub closing_summary: Option<String>,
    pub duty_log_id: Option<String>,
    /// An open incident this one may repeat (saved after the warning).
    pub duplicate_of: Option<String>,
    /// Since when a follow-up report is required: casualties changed within the re-reporting
    /// window after a report was sent. Cleared by an approved follow-up or final report.
    pub follow_up_since: Option<DateTime<Utc>>,
    pub obligations: Vec<Obligation>,
    /// How each hop was done and who receives it.
    pub hops: Vec<HopRecord>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GradeOverride {
    pub grade: Grade,
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A hop as recorded: its addressee inside this deployment (none for levels outside it), and
/// how, when and by whom it was done.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct HopRecord {
    pub hop: Hop,
    pub addressee: Option<IncidentUnit>,
    pub done_at: Option<DateTime<Utc>>,
    pub method: Option<HopMethod>,
    pub done_by_name: Option<String>,
    pub note: Option<String>,
}

/// One entry of an incident's grade history.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct GradeChange {
    pub at: DateTime<Utc>,
    pub computed_grade: Grade,
    pub grade: Grade,
    pub axes: Vec<Axis>,
    pub facts: Casualties,
    pub table_source: String,
    /// `intake`, `facts` (a change of casualties or loss), `override` or `override_cleared`.
    pub cause: String,
    /// Why a leader overrode the grade.
    pub reason: Option<String>,
    pub actor_name: String,
}

const COLUMNS: &str = "i.id, i.number, i.unit_id, n.code AS unit_code, n.name AS unit_name, \
    i.kind, i.title, i.occurred_at, i.reported_at, i.place, i.lon, i.lat, i.outside_unit, \
    i.enterprise, i.deaths, i.missing, i.serious_injuries, i.minor_injuries, i.direct_loss_cny, \
    i.description, i.source, i.reporter, i.reporter_phone, i.grade, i.computed_grade, \
    i.override_grade, i.override_reason, i.override_by, i.override_at, i.warning_color, \
    i.response_level, i.status, i.closed_at, i.closing_summary, i.duty_log_id, i.duplicate_of, \
    i.follow_up_since, i.created_at, i.updated_at, i.version";

fn parse<T>(value: Option<T>, text: &str) -> Result<T, StoreError> {
    value.ok_or_else(|| StoreError::Corrupt(text.to_owned()))
}

fn count(row: &AnyRow, column: &str) -> Result<u32, StoreError> {
    let n: i64 = row.try_get(column)?;
    u32::try_from(n).map_err(|_| StoreError::Corrupt(format!("{column}: {n}")))
}

fn casualties(row: &AnyRow) -> Result<Casualties, StoreError> {
    let loss: i64 = row.try_get("direct_loss_cny")?;
    Ok(Casualties {
        deaths: count(row, "deaths")?,
        missing: count(row, "missing")?,
        serious_injuries: count(row, "serious_injuries")?,
        minor_injuries: count(row, "minor_injuries")?,
        direct_loss_cny: u64::try_from(loss).map_err(|_| StoreError::Corrupt(loss.to_string()))?,
    })
}

/// The shipped grading tables and those an administrator added.
async fn grading_tables_on<'c, E>(executor: E) -> Result<Vec<GradingTable>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query("SELECT sector, valid_from, source, thresholds FROM grading_tables")
        .fetch_all(executor)
        .await?;
    let mut tables = builtin_tables();
    for r in rows {
        let sector: String = r.try_get("sector")?;
        let valid_from: String = r.try_get("valid_from")?;
        tables.push(GradingTable {
            sector: parse(beacon_core::incident::Sector::parse(&sector), &sector)?,
            valid_from: valid_from.parse().map_err(StoreError::corrupt)?,
            source: r.try_get("source")?,
            thresholds: serde_json::from_str(&r.try_get::<String, _>("thresholds")?)
                .map_err(StoreError::corrupt)?,
        });
    }
    Ok(tables)
}

/// Grades `facts` of an incident of `kind` that occurred at `occurred_at`.
fn grade_of(
    tables: &[GradingTable],
    kind: IncidentKind,
    occurred_at: DateTime<Utc>,
    facts: &Casualties,
) -> Result<(Grading, String), StoreError> {
    let date = beacon_core::clock::local_date(occurred_at);
    let table = table_for(tables, kind.sector(), date)
        .ok_or(StoreError::invalid("occurred_at", "no_grading_table"))?;
    Ok((table.grade(facts), table.source.clone()))
}

impl Store {
    /// The shipped grading tables and those an administrator added.
    pub async fn grading_tables(&self) -> Result<Vec<GradingTable>, StoreError> {
        grading_tables_on(self.reader()).await
    }

    /// An incident in the caller's scope, with its obligations as of now.
    pub async fn incident(&self, scope: &Scope, id: &str) -> Result<Incident, StoreError> {
        let mut conn = self.reader().acquire().await?;
        incident_on(&mut conn, scope, id, self.now()).await
    }

    /// An incident's grade history, oldest first.
    pub async fn incident_grades(
        &self,
        scope: &Scope,
        id: &str,
    ) -> Result<Vec<GradeChange>, StoreError> {
        self.incident(scope, id).await?;
        let rows = sqlx::query(
            "SELECT at, computed_grade, grade, axes, facts, table_source, cause, reason, \
             actor_name FROM incident_grades WHERE incident_id = $1 ORDER BY at, id",
        )
        .bind(id.to_owned())
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                let computed: String = r.try_get("computed_grade")?;
                let grade: String = r.try_get("grade")?;
                Ok(GradeChange {
                    at: from_millis(r.try_get("at")?),
                    computed_grade: parse(Grade::parse(&computed), &computed)?,
                    grade: parse(Grade::parse(&grade), &grade)?,
                    axes: serde_json::from_str(&r.try_get::<String, _>("axes")?)
                        .map_err(StoreError::corrupt)?,
                    facts: serde_json::from_str(&r.try_get::<String, _>("facts")?)
                        .map_err(StoreError::corrupt)?,
                    table_source: r.try_get("table_source")?,
                    cause: r.try_get("cause")?,
                    reason: r.try_get("reason")?,
                    actor_name: r.try_get("actor_name")?,
                })
            })
            .collect()
    }

    /// Changes the facts of an open incident. A change of casualties or loss re-grades it (the
    /// change kept in the history) and extends or shortens the chain to what the new grade
    /// requires; the override, when a leader set one, stays in force. A change of casualties or
    /// of the grade after a report was sent, within the re-reporting window, requires a
    /// follow-up report;
    /// the desk's notifications are returned for live delivery.
    pub async fn change_incident_facts(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: &str,
        change: FactsChange,
    ) -> Result<(Incident, Vec<Delivery>), StoreError> {
        let now = self.now();
        let before = self.incident(scope, id).await?;
        if before.status != "open" {
            return Err(StoreError::Conflict("incident_closed"));
        }
        let facts = change.casualties.unwrap_or_else(|| incident_facts(&before));
        let tables = self.grading_tables().await?;
        let (grading, source) = grade_of(&tables, before.kind, before.occurred_at, &facts)?;
        let grade = before.grade_override.as_ref().map_or(grading.grade, |o| o.grade);
        let mut tx = self.begin().await?;
        let keep_color = change.warning_color.is_none();
        let keep_level = change.response_level.is_none();
        let n = sqlx::query(
            "UPDATE incidents SET deaths = $1, missing = $2, serious_injuries = $3, \
             minor_injuries = $4, direct_loss_cny = $5, description = COALESCE($6, description), \
             computed_grade = $7, grade = $8, updated_at = $9, version = version + 1, \
             title = COALESCE($10, title), place = COALESCE($11, place), \
             enterprise = COALESCE($12, enterprise), \
             warning_color = CASE WHEN $13 THEN warning_color ELSE $14 END, \
             response_level = CASE WHEN $15 THEN response_level ELSE $16 END \
             WHERE id = $17 AND version = $18",
        )
        .bind(i64::from(facts.deaths))
        .bind(i64::from(facts.missing))
        .bind(i64::from(facts.serious_injuries))
        .bind(i64::from(facts.minor_injuries))
        .bind(i64::try_from(facts.direct_loss_cny).map_err(StoreError::corrupt)?)
        .bind(change.description.clone())
        .bind(grading.grade.as_str())
        .bind(grade.as_str())
        .bind(to_millis(now))
        .bind(change.title.clone())
        .bind(change.place.clone())
        .bind(change.enterprise.clone())
        .bind(keep_color)
        .bind(change.warning_color.flatten().map(|c| c.as_str()))
        .bind(keep_level)
        .bind(change.response_level.flatten().map(|l| l.as_str()))
        .bind(id.to_owned())
        .bind(change.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict("stale_version"));
        }
        if grading.grade != before.computed_grade {
            record_grade(&mut tx, now, actor, id, &grading, grade, &facts, &source, "facts", None)
                .await?;
        }
        sync_hops(&mut tx, id, &before.unit.id, grade).await?;
        clock::sync(&mut tx, now, id).await?;
        let before_facts = incident_facts(&before);
        let mut changed = serde_json::Map::new();
        if facts != before_facts {
            changed.insert("before".into(), json!(before_facts));
            changed.insert("after".into(), json!(facts));
        }
        for (key, value) in [
            ("title", change.title.as_ref().map(|v| json!(v))),
            ("place", change.place.as_ref().map(|v| json!(v))),
            ("enterprise", change.enterprise.as_ref().map(|v| json!(v))),
            ("description", change.description.as_ref().map(|v| json!(v))),
            ("warning_color", change.warning_color.map(|v| json!(v))),
            ("response_level", change.response_level.map(|v| json!(v))),
        ] {
            if let Some(value) = value {
                changed.insert(key.into(), value);
            }
        }
        changed.insert("grade".into(), json!(grade));
        let detail = serde_json::Value::Object(changed);
        // Casualties changed, or the loss moved the grade: the level above must be told.
        let reportable =
            (facts.deaths, facts.missing, facts.serious_injuries, facts.minor_injuries)
                != (before.deaths, before.missing, before.serious_injuries, before.minor_injuries)
                || grade != before.grade;
        keep(
            &mut tx,
            now,
            actor,
            (id, &before.unit.id),
            Happened {
                kind: "facts_changed",
                action: "incident.facts_changed",
                data: detail.clone(),
                detail: Some(detail),
            },
        )
        .await?;
        let deliveries = if reportable {
            report::require_follow_up(&mut tx, now, actor, &before).await?
        } else {
            Vec::new()
        };
        announce(&mut tx, now, "incident.updated", id).await?;
        tx.commit().await?;
        Ok((self.incident(scope, id).await?, deliveries))
    }

    /// The addressee's duty desk acknowledges a hop's report: the hop is done now. Only the
    /// addressee unit may do it; the previous hop need not be done (Art. 11 allows a report
    /// to skip a level). An incident outside the caller's scope is not found, like one that
    /// does not exist: the scope is checked before who the addressee is.
    pub async fn acknowledge_hop(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: &str,
        hop: Hop,
    ) -> Result<Incident, StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let mut sql = Sql::new(
            "SELECT h.addressee_unit_id, h.done_at, i.unit_id FROM incident_hops h \
             JOIN incidents i ON i.id = h.incident_id WHERE h.incident_id = ",
        );
        sql.bind(id.to_owned()).push(" AND h.hop = ").bind(hop.as_str().to_owned());
        scope::filter(&mut sql, scope, "i.unit_id");
        let row = sql.fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound)?;
        let addressee: Option<String> = row.try_get("addressee_unit_id")?;
        let unit_id: String = row.try_get("unit_id")?;
        if addressee.is_none() || addressee != actor.unit_id {
            return Err(StoreError::Forbidden("not_addressee"));
        }
        if row.try_get::<Option<i64>, _>("done_at")?.is_some() {
            return Err(StoreError::Conflict("already_done"));
        }
        sqlx::query(
            "UPDATE incident_hops SET done_at = $1, method = 'acknowledged', done_by = $2, \
             done_by_name = $3 WHERE incident_id = $4 AND hop = $5",
        )
        .bind(to_millis(now))
        .bind(actor.user_id.clone())
        .bind(actor.name.clone())
        .bind(id.to_owned())
        .bind(hop.as_str())
        .execute(&mut *tx)
        .await?;
        clock::sync(&mut tx, now, id).await?;
        keep(
            &mut tx,
            now,
            actor,
            (id, &unit_id),
            Happened {
                kind: "hop_done",
                action: "incident.hop_acknowledged",
                data: json!({ "hop": hop, "method": "acknowledged" }),
                detail: Some(json!({ "hop": hop })),
            },
        )
        .await?;
        announce(&mut tx, now, "incident.acknowledged", id).await?;
        tx.commit().await?;
        self.incident(scope, id).await
    }
}

/// Something that happened to an incident: a timeline entry (what the UI shows) and an audit
/// record (the evidence), always written together.
pub(super) struct Happened<'a> {
    /// The timeline entry's kind.
    kind: &'a str,
    /// The audit action.
    action: &'a str,
    data: serde_json::Value,
    /// The audit record's detail, when it has one.
    detail: Option<serde_json::Value>,
}

/// Writes what happened to an incident inside the caller's transaction.
pub(super) async fn keep(
    tx: &mut Tx,
    now: DateTime<Utc>,
    actor: &Actor,
    (incident_id, unit_id): (&str, &str),
    happened: Happened<'_>,
) -> Result<(), StoreError> {
    timeline::append(
        tx,
        now,
        actor,
        ("incident", incident_id),
        Some(unit_id),
        happened.kind,
        happened.data,
    )
    .await?;
    let mut record = NewAuditRecord::new(actor, happened.action, Outcome::Success)
        .target("incident", incident_id)
        .unit(Some(unit_id));
    if let Some(detail) = happened.detail {
        record = record.detail(detail);
    }
    audit::append(tx, now, record).await?;
    Ok(())
}

fn incident_facts(incident: &Incident) -> Casualties {
    Casualties {
        deaths: incident.deaths,
        missing: incident.missing,
        serious_injuries: incident.serious_injuries,
        minor_injuries: incident.minor_injuries,
        direct_loss_cny: incident.direct_loss_cny,
    }
}

fn incident_row(
    row: &AnyRow,
    hops: Vec<HopRecord>,
    rules: ChainRules,
    now: DateTime<Utc>,
) -> Result<Incident, StoreError> {
    let kind: String = row.try_get("kind")?;
    let kind = IncidentKind::parse(&kind).map_err(|_| StoreError::Corrupt(kind.clone()))?;
    let source: String = row.try_get("source")?;
    let grade: String = row.try_get("grade")?;
    let computed: String = row.try_get("computed_grade")?;
    let grade = parse(Grade::parse(&grade), &grade)?;
    let occurred_at = from_millis(row.try_get("occurred_at")?);
    let facts = casualties(row)?;
    let done: Vec<(Hop, DateTime<Utc>)> =
        hops.iter().filter_map(|h| h.done_at.map(|at| (h.hop, at))).collect();
    let grade_override = match row.try_get::<Option<String>, _>("override_grade")? {
        Some(g) => Some(GradeOverride {
            grade: parse(Grade::parse(&g), &g)?,
            reason: row.try_get::<Option<String>, _>("override_reason")?.unwrap_or_default(),
            by: row.try_get::<Option<String>, _>("override_by")?.unwrap_or_default(),
            at: from_millis(row.try_get::<Option<i64>, _>("override_at")?.unwrap_or_default()),
        }),
        None => None,
    };
    let color: Option<String> = row.try_get("warning_color")?;
    let level: Option<String> = row.try_get("response_level")?;
    Ok(Incident {
        id: row.try_get("id")?,
        number: row.try_get("number")?,
        unit: IncidentUnit {
            id: row.try_get("unit_id")?,
            code: row.try_get("unit_code")?,
            name: row.try_get("unit_name")?,
        },
        kind,
        title: row.try_get("title")?,
        occurred_at,
        reported_at: from_millis(row.try_get("reported_at")?),
        place: row.try_get("place")?,
        lon: row.try_get("lon")?,
        lat: row.try_get("lat")?,
        outside_unit: get_bool(row, "outside_unit")?,
        enterprise: row.try_get("enterprise")?,
        deaths: facts.deaths,
        missing: facts.missing,
        serious_injuries: facts.serious_injuries,
        minor_injuries: facts.minor_injuries,
        direct_loss_cny: facts.direct_loss_cny,
        description: row.try_get("description")?,
        source: parse(Source::parse(&source), &source)?,
        reporter: row.try_get("reporter")?,
        reporter_phone: row.try_get("reporter_phone")?,
        grade,
        computed_grade: parse(Grade::parse(&computed), &computed)?,
        grade_override,
        warning_color: match color {
            Some(c) => Some(parse(WarningColor::parse(&c), &c)?),
            None => None,
        },
        response_level: match level {
            Some(l) => Some(parse(ResponseLevel::parse(&l), &l)?),
            None => None,
        },
        status: row.try_get("status")?,
        closed_at: row.try_get::<Option<i64>, _>("closed_at")?.map(from_millis),
        closing_summary: row.try_get("closing_summary")?,
        duty_log_id: row.try_get("duty_log_id")?,
        duplicate_of: row.try_get("duplicate_of")?,
        follow_up_since: row.try_get::<Option<i64>, _>("follow_up_since")?.map(from_millis),
        obligations: obligations(grade, occurred_at, &done, rules, now),
        hops,
        created_at: from_millis(row.try_get("created_at")?),
        updated_at: from_millis(row.try_get("updated_at")?),
        version: row.try_get("version")?,
    })
}

/// The hop records of some incidents, in chain order, keyed by incident id.
async fn hop_records(
    conn: &mut sqlx::AnyConnection,
    ids: &[String],
) -> Result<Vec<(String, HopRecord)>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = Sql::new(
        "SELECT h.incident_id, h.hop, h.done_at, h.method, h.done_by_name, h.note, \
         u.id AS a_id, u.code AS a_code, u.name AS a_name FROM incident_hops h \
         LEFT JOIN units u ON u.id = h.addressee_unit_id WHERE h.incident_id IN (",
    );
    sql.bind_list(ids.iter().cloned()).push(")");
    let mut out = Vec::new();
    for r in sql.fetch_all(&mut *conn).await? {
        let hop: String = r.try_get("hop")?;
        let method: Option<String> = r.try_get("method")?;
        let addressee = match r.try_get::<Option<String>, _>("a_id")? {
            Some(id) => {
                Some(IncidentUnit { id, code: r.try_get("a_code")?, name: r.try_get("a_name")? })
            }
            None => None,
        };
        out.push((
            r.try_get("incident_id")?,
            HopRecord {
                hop: parse(Hop::parse(&hop), &hop)?,
                addressee,
                done_at: r.try_get::<Option<i64>, _>("done_at")?.map(from_millis),
                method: match method {
                    Some(m) => Some(parse(HopMethod::parse(&m), &m)?),
                    None => None,
                },
                done_by_name: r.try_get("done_by_name")?,
                note: r.try_get("note")?,
            },
        ));
    }
    out.sort_by(|a, b| (&a.0, a.1.hop).cmp(&(&b.0, b.1.hop)));
    Ok(out)
}

const GRADE_COLUMNS: &[&str] = &[
    "id",
    "incident_id",
    "at",
    "computed_grade",
    "grade",
    "axes",
    "facts",
    "table_source",
    "cause",
    "actor_name",
    "reason",
];

/// A row of an incident's grade history.
#[allow(clippy::too_many_arguments)]
fn grade_row(
    at: DateTime<Utc>,
    actor: &Actor,
    incident_id: &str,
    grading: &Grading,
    grade: Grade,
    facts: &Casualties,
    table_source: &str,
    cause: &str,
    reason: Option<&str>,
) -> Result<Vec<Val>, StoreError> {
    Ok(vec![
        Val::Text(new_id()),
        Val::Text(incident_id.to_owned()),
        Val::Int(to_millis(at)),
        Val::Text(grading.grade.as_str().to_owned()),
        Val::Text(grade.as_str().to_owned()),
        Val::Text(serde_json::to_string(&grading.axes).map_err(StoreError::corrupt)?),
        Val::Text(serde_json::to_string(facts).map_err(StoreError::corrupt)?),
        Val::Text(table_source.to_owned()),
        Val::Text(cause.to_owned()),
        Val::Text(actor.name.clone()),
        Val::MaybeText(reason.map(str::to_owned)),
    ])
}

#[allow(clippy::too_many_arguments)]
async fn record_grade(
    tx: &mut Tx,
    at: DateTime<Utc>,
    actor: &Actor,
    incident_id: &str,
    grading: &Grading,
    grade: Grade,
    facts: &Casualties,
    table_source: &str,
    cause: &str,
    reason: Option<&str>,
) -> Result<(), StoreError> {
    let row =
        grade_row(at, actor, incident_id, grading, grade, facts, table_source, cause, reason)?;
    let backend = backend_of(tx);
    insert_batch(tx, backend, "incident_grades", GRADE_COLUMNS, vec![row]).await?;
    Ok(())
}

/// The unit of `level` at or above `unit_id`, if the deployment has one.
async fn ancestor_at(
    tx: &mut Tx,
    unit_id: &str,
    level: UnitLevel,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query(
        "SELECT u.id FROM unit_closure c JOIN units u ON u.id = c.ancestor_id \
         WHERE c.descendant_id = $1 AND u.level = $2 ORDER BY c.depth LIMIT 1",
    )
    .bind(unit_id.to_owned())
    .bind(level.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(match row {
        Some(r) => Some(r.try_get("id")?),
        None => None,
    })
}

/// The unit whose desk must send a hop's report: the incident's ancestor at the hop's sending
/// level, else (a level this deployment does not hold, such as the province in a city's
/// Beacon) the top of the incident's tree, whose desk speaks for the deployment.
pub(crate) async fn sender_unit(
    tx: &mut Tx,
    incident_unit_id: &str,
    hop: Hop,
) -> Result<String, StoreError> {
    let Some(level) = hop.sender_level() else { return Ok(incident_unit_id.to_owned()) };
    if let Some(unit) = ancestor_at(tx, incident_unit_id, level).await? {
        return Ok(unit);
    }
    let row = sqlx::query(
        "SELECT ancestor_id FROM unit_closure WHERE descendant_id = $1 ORDER BY depth DESC LIMIT 1",
    )
    .bind(incident_unit_id.to_owned())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(match row {
        Some(r) => r.try_get("ancestor_id")?,
        None => incident_unit_id.to_owned(),
    })
}

/// Adds the row of a hop (with its addressee inside the deployment) if it is missing.
async fn set_hop(
    tx: &mut Tx,
    incident_id: &str,
    unit_id: &str,
    hop: Hop,
) -> Result<(), StoreError> {
    let exists =
        sqlx::query("SELECT 1 AS x FROM incident_hops WHERE incident_id = $1 AND hop = $2")
            .bind(incident_id.to_owned())
            .bind(hop.as_str())
            .fetch_optional(&mut **tx)
            .await?;
    if exists.is_some() {
        return Ok(());
    }
    let addressee = match hop.addressee_level() {
        Some(level) => ancestor_at(tx, unit_id, level).await?,
        None => None,
    };
    sqlx::query(
        "INSERT INTO incident_hops (incident_id, hop, addressee_unit_id) VALUES ($1, $2, $3)",
    )
    .bind(incident_id.to_owned())
    .bind(hop.as_str())
    .bind(addressee)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Makes the hop rows what `grade` requires: missing ones added, ones no longer required and
/// not done removed (a hop done stays: what was reported is a fact).
async fn sync_hops(
    tx: &mut Tx,
    incident_id: &str,
    unit_id: &str,
    grade: Grade,
) -> Result<(), StoreError> {
    let required = hops_for(grade);
    for hop in required {
        set_hop(tx, incident_id, unit_id, *hop).await?;
    }
    for hop in Hop::ALL.iter().filter(|h| !required.contains(h)) {
        sqlx::query(
            "DELETE FROM incident_hops WHERE incident_id = $1 AND hop = $2 AND done_at IS NULL",
        )
        .bind(incident_id.to_owned())
        .bind(hop.as_str())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// An incident in `scope`, with its obligations as of `now`, as `conn` (a transaction included)
/// sees it.
async fn incident_on(
    conn: &mut sqlx::AnyConnection,
    scope: &Scope,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Incident, StoreError> {
    let mut sql = Sql::new(&format!(
        "SELECT {COLUMNS} FROM incidents i JOIN units n ON n.id = i.unit_id WHERE i.id = "
    ));
    sql.bind(id.to_owned());
    scope::filter(&mut sql, scope, "i.unit_id");
    let row = sql.fetch_optional(&mut *conn).await?.ok_or(StoreError::NotFound)?;
    let rules = handle::chain_rules_on(&mut *conn).await?;
    let hops = hop_records(conn, &[id.to_owned()]).await?;
    incident_row(&row, hops.into_iter().map(|(_, h)| h).collect(), rules, now)
}

/// An incident's live event: only roles that may read incidents receive it.
pub(super) fn incident_event(kind: &str, unit_path: Vec<String>, incident: &Incident) -> NewEvent {
    let data = json!({
        "id": incident.id,
        "number": incident.number,
        "title": incident.title,
        "kind": incident.kind,
        "grade": incident.grade,
        "unit_name": incident.unit.name,
        "status": incident.status,
    });
    NewEvent::new(kind, unit_path, data).for_readers(Permission::ReadIncidents)
}

/// Tells the consoles in whose scope the incident lies that it changed, in the change's
/// transaction (the incident as the transaction left it).
pub(super) async fn announce(
    tx: &mut Tx,
    now: DateTime<Utc>,
    kind: &str,
    id: &str,
) -> Result<(), StoreError> {
    let incident = incident_on(tx, &Scope::Global, id, now).await?;
    let path = outbox::unit_path(tx, &incident.unit.id).await?;
    outbox::push(tx, now, vec![incident_event(kind, path, &incident)]).await
}

impl Store {
    /// Incidents by number and title ([`crate::names`]).
    pub async fn incident_names(
        &self,
        ids: &[String],
    ) -> Result<Vec<crate::names::RecordName>, StoreError> {
        crate::names::fetch(
            self,
            "SELECT id, unit_id, number, title, CAST(NULL AS BIGINT) AS at FROM incidents \
             WHERE id IN (",
            ids,
        )
        .await
    }
}
