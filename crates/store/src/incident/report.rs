//! Reports up the chain (docs/incidents.md, "Reports"): each issuing unit's initial report,
//! numbered follow-ups and final report about an incident. The desk's officer drafts and edits
//! (every save is a kept version), submits to the duty leader, who returns it with a reason or
//! approves it; approval numbers the document, freezes it and sends it to the desk of the unit
//! above. Drafts are seen by the issuing unit only; approved reports by everyone whose scope
//! holds the incident.

use beacon_core::audit::Actor;
use beacon_core::clock::{from_millis, local_date, local_midnight, to_millis};
use beacon_core::id::new_id;
use beacon_core::incident::{
    ReportFacts, ReportKind, ReportSections, ReportStatus, draft_sections, report_title,
};
use beacon_core::org::Role;
use beacon_core::scope::Scope;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

use super::{Happened, Incident, IncidentUnit, incident_facts, keep, parse};
use crate::notify::{self, Delivery, NewNotification};
use crate::org::unit_users_with_roles;
use crate::{Store, StoreError, Tx};

/// A report as its readers see it: the current version, where it stands, and the list of
/// versions kept.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Report {
    pub id: String,
    pub incident_id: String,
    /// The issuing unit.
    pub unit: IncidentUnit,
    pub kind: ReportKind,
    /// The follow-up's number (1, 2, …); 0 for the initial and the final report.
    pub sequence: u32,
    pub status: ReportStatus,
    /// The current version (1 for a new draft); edits carry it back.
    pub version: i64,
    pub title: String,
    /// 主送: the authority the report goes to.
    pub addressee: String,
    /// 联系人 and telephone, as printed.
    pub contact: String,
    pub sections: ReportSections,
    /// The incident's facts when this version was saved.
    pub facts: ReportFacts,
    pub created_by_name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub submitted_by_name: Option<String>,
    /// Why the leader sent it back (while it is a draft again).
    pub returned_reason: Option<String>,
    pub approved_at: Option<DateTime<Utc>>,
    /// 签发人
    pub approved_by_name: Option<String>,
    /// 文号, given on approval: `江南区应急管理局〔2026〕3号`.
    pub doc_number: Option<String>,
    pub versions: Vec<ReportVersionInfo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReportVersionInfo {
    pub version: i64,
    pub edited_at: DateTime<Utc>,
    pub edited_by_name: String,
}

/// One kept version of a report.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReportVersion {
    pub version: i64,
    pub title: String,
    pub addressee: String,
    pub contact: String,
    pub sections: ReportSections,
    pub facts: ReportFacts,
    pub edited_at: DateTime<Utc>,
    pub edited_by_name: String,
}

/// A new report. What is absent is built from the incident: the title from its kind, the
/// sections from the facts, the addressee from the unit above, the contact from the author.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub kind: ReportKind,
    pub title: Option<String>,
    pub addressee: Option<String>,
    pub contact: Option<String>,
    pub sections: Option<ReportSections>,
}

/// An edit of a draft. `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ReportEdit {
    /// The version the caller read; a save made since is refused (`stale_version`).
    pub version: i64,
    pub title: Option<String>,
    pub addressee: Option<String>,
    pub contact: Option<String>,
    pub sections: Option<ReportSections>,
}

/// A change of a report's status, with what the API pushes live after the commit.
#[derive(Debug, Clone)]
pub struct ReportChanged {
    pub report: Report,
    pub deliveries: Vec<Delivery>,
}

const COLUMNS: &str = "r.id, r.incident_id, r.unit_id, u.code AS unit_code, u.name AS unit_name, \
    r.kind, r.sequence, r.status, r.version, r.title, r.addressee, r.contact, r.sections, \
    r.facts, r.created_by_name, r.created_at, r.updated_at, r.submitted_at, r.submitted_by, \
    r.submitted_by_name, r.returned_reason, r.approved_at, r.approved_by_name, r.doc_number";

fn report_facts(incident: &Incident) -> ReportFacts {
    ReportFacts {
        unit_name: incident.unit.name.clone(),
        enterprise: incident.enterprise.clone(),
        occurred_at: incident.occurred_at,
        place: incident.place.clone(),
        description: incident.description.clone(),
        grade: incident.grade,
        casualties: incident_facts(incident),
    }
}

fn from_json<T: serde::de::DeserializeOwned>(row: &AnyRow, column: &str) -> Result<T, StoreError> {
    serde_json::from_str(&row.try_get::<String, _>(column)?).map_err(StoreError::corrupt)
}

fn report_row(row: &AnyRow) -> Result<Report, StoreError> {
    let kind: String = row.try_get("kind")?;
    let status: String = row.try_get("status")?;
    let sequence: i64 = row.try_get("sequence")?;
    Ok(Report {
        id: row.try_get("id")?,
        incident_id: row.try_get("incident_id")?,
        unit: IncidentUnit {
            id: row.try_get("unit_id")?,
            code: row.try_get("unit_code")?,
            name: row.try_get("unit_name")?,
        },
        kind: parse(ReportKind::parse(&kind), &kind)?,
        sequence: u32::try_from(sequence).map_err(|_| StoreError::Corrupt(sequence.to_string()))?,
        status: parse(ReportStatus::parse(&status), &status)?,
        version: row.try_get("version")?,
        title: row.try_get("title")?,
        addressee: row.try_get("addressee")?,
        contact: row.try_get("contact")?,
        sections: from_json(row, "sections")?,
        facts: from_json(row, "facts")?,
        created_by_name: row.try_get("created_by_name")?,
        created_at: from_millis(row.try_get("created_at")?),
        updated_at: from_millis(row.try_get("updated_at")?),
        submitted_at: row.try_get::<Option<i64>, _>("submitted_at")?.map(from_millis),
        submitted_by_name: row.try_get("submitted_by_name")?,
        returned_reason: row.try_get("returned_reason")?,
        approved_at: row.try_get::<Option<i64>, _>("approved_at")?.map(from_millis),
        approved_by_name: row.try_get("approved_by_name")?,
        doc_number: row.try_get("doc_number")?,
        versions: Vec::new(),
    })
}

/// Whether `actor` may see a report: an approved one, anyone who may read the incident; a
/// draft or a submitted one, its issuing unit only.
fn visible(actor: &Actor, scope: &Scope, unit_id: &str, status: ReportStatus) -> bool {
    status == ReportStatus::Approved
        || matches!(scope, Scope::Global)
        || actor.unit_id.as_deref() == Some(unit_id)
}

/// The report as stored, checked against the incident and the caller's sight of it.
async fn report_on(
    conn: &mut sqlx::AnyConnection,
    actor: &Actor,
    scope: &Scope,
    incident_id: &str,
    report_id: &str,
) -> Result<(Report, Option<String>), StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM incident_reports r JOIN units u ON u.id = r.unit_id \
         WHERE r.id = $1 AND r.incident_id = $2"
    ))
    .bind(report_id.to_owned())
    .bind(incident_id.to_owned())
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let report = report_row(&row)?;
    if !visible(actor, scope, &report.unit.id, report.status) {
        return Err(StoreError::NotFound);
    }
    Ok((report, row.try_get("submitted_by")?))
}

/// A change of a report under way: the incident, the transaction, the report as stored and who
/// submitted it.
struct Change {
    now: DateTime<Utc>,
    incident: Incident,
    tx: Tx,
    report: Report,
    submitted_by: Option<String>,
}

/// Refuses a change by anyone but the issuing unit's desk, or of a report that is not at
/// `expected`, or of a version since replaced (when the caller names the one it read).
fn check_change(
    actor: &Actor,
    report: &Report,
    expected: ReportStatus,
    version: Option<i64>,
) -> Result<(), StoreError> {
    if actor.unit_id.as_deref() != Some(report.unit.id.as_str()) {
        return Err(StoreError::Forbidden("not_issuing_unit"));
    }
    if report.status != expected {
        return Err(StoreError::Conflict(match report.status {
            ReportStatus::Approved => "report_approved",
            ReportStatus::Submitted => "report_submitted",
            ReportStatus::Draft => "report_not_submitted",
        }));
    }
    if version.is_some_and(|v| v != report.version) {
        return Err(StoreError::Conflict("stale_version"));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn insert_version(
    tx: &mut Tx,
    report_id: &str,
    version: i64,
    (title, addressee, contact): (&str, &str, &str),
    sections: &ReportSections,
    facts: &ReportFacts,
    actor: &Actor,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let name = person_name(tx, actor).await?;
    sqlx::query(
        "INSERT INTO incident_report_versions (report_id, version, title, addressee, contact, \
         sections, facts, edited_by, edited_by_name, edited_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(report_id.to_owned())
    .bind(version)
    .bind(title.to_owned())
    .bind(addressee.to_owned())
    .bind(contact.to_owned())
    .bind(serde_json::to_string(sections).map_err(StoreError::corrupt)?)
    .bind(serde_json::to_string(facts).map_err(StoreError::corrupt)?)
    .bind(actor.user_id.clone())
    .bind(name)
    .bind(to_millis(at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The name of the unit above `unit_id`, the report's default addressee (empty at the top of
/// the tree: the province is outside the deployment and the officer names it).
async fn unit_above(tx: &mut Tx, unit_id: &str) -> Result<Option<(String, String)>, StoreError> {
    let row = sqlx::query(
        "SELECT p.id, p.name FROM units u JOIN units p ON p.id = u.parent_id WHERE u.id = $1",
    )
    .bind(unit_id.to_owned())
    .fetch_optional(&mut **tx)
    .await?;
    Ok(match row {
        Some(r) => Some((r.try_get("id")?, r.try_get("name")?)),
        None => None,
    })
}

/// The name a document carries for the person acting: their display name (the audit trail
/// keeps the account name), or the actor's name for a person without an account.
async fn person_name(tx: &mut Tx, actor: &Actor) -> Result<String, StoreError> {
    let Some(user_id) = &actor.user_id else { return Ok(actor.name.clone()) };
    let row = sqlx::query("SELECT display_name FROM users WHERE id = $1")
        .bind(user_id.clone())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match row {
        Some(r) => r.try_get("display_name")?,
        None => actor.name.clone(),
    })
}

/// Everything the notifications about a report carry.
fn note_data(incident: &Incident, report: &Report) -> serde_json::Value {
    json!({
        "incident_id": incident.id,
        "number": incident.number,
        "title": incident.title,
        "unit_name": report.unit.name,
        "grade": incident.grade,
        "report_id": report.id,
        "report_kind": report.kind,
        "sequence": report.sequence,
        "doc_number": report.doc_number,
    })
}

fn notes(
    to: Vec<String>,
    kind: &'static str,
    incident: &Incident,
    data: &serde_json::Value,
) -> Vec<NewNotification> {
    to.into_iter()
        .map(|user_id| NewNotification {
            user_id,
            kind,
            unit_id: Some(incident.unit.id.clone()),
            subject: Some(("incident", incident.id.clone())),
            data: data.clone(),
        })
        .collect()
}

impl Store {
    /// Begins a change of a report the caller's unit issued, at `expected`.
    async fn change(
        &self,
        scope: &Scope,
        actor: &Actor,
        (incident_id, report_id): (&str, &str),
        expected: ReportStatus,
        version: Option<i64>,
    ) -> Result<Change, StoreError> {
        let now = self.now();
        let incident = self.incident(scope, incident_id).await?;
        let mut tx = self.begin().await?;
        let (report, submitted_by) =
            report_on(&mut tx, actor, scope, incident_id, report_id).await?;
        check_change(actor, &report, expected, version)?;
        Ok(Change { now, incident, tx, report, submitted_by })
    }

    /// Ends a change of a report's status: its notifications written (and mailed when `mail`),
    /// the transaction committed, the report read back for the caller.
    async fn changed(
        &self,
        mut tx: Tx,
        now: DateTime<Utc>,
        (scope, actor): (&Scope, &Actor),
        (incident_id, report_id): (&str, &str),
        (mail, notes): (bool, Vec<NewNotification>),
    ) -> Result<ReportChanged, StoreError> {
        let deliveries = notify::send(&mut tx, now, mail, notes).await?;
        super::announce(&mut tx, now, "incident.updated", incident_id).await?;
        tx.commit().await?;
        let report = self.incident_report(scope, actor, incident_id, report_id).await?;
        Ok(ReportChanged { report, deliveries })
    }

    /// The reports about an incident the caller may see, oldest first, with their versions.
    pub async fn incident_reports(
        &self,
        scope: &Scope,
        actor: &Actor,
        incident_id: &str,
    ) -> Result<Vec<Report>, StoreError> {
        self.incident(scope, incident_id).await?;
        let mut conn = self.reader().acquire().await?;
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM incident_reports r JOIN units u ON u.id = r.unit_id \
             WHERE r.incident_id = $1 ORDER BY r.created_at, r.id"
        ))
        .bind(incident_id.to_owned())
        .fetch_all(&mut *conn)
        .await?;
        let mut reports = Vec::new();
        for row in &rows {
            let report = report_row(row)?;
            if visible(actor, scope, &report.unit.id, report.status) {
                reports.push(report);
            }
        }
        let versions = sqlx::query(
            "SELECT v.report_id, v.version, v.edited_at, v.edited_by_name \
             FROM incident_report_versions v JOIN incident_reports r ON r.id = v.report_id \
             WHERE r.incident_id = $1 ORDER BY v.version",
        )
        .bind(incident_id.to_owned())
        .fetch_all(&mut *conn)
        .await?;
        for v in versions {
            let report_id: String = v.try_get("report_id")?;
            if let Some(report) = reports.iter_mut().find(|r| r.id == report_id) {
                report.versions.push(ReportVersionInfo {
                    version: v.try_get("version")?,
                    edited_at: from_millis(v.try_get("edited_at")?),
                    edited_by_name: v.try_get("edited_by_name")?,
                });
            }
        }
        Ok(reports)
    }

    /// One report the caller may see, with its versions.
    pub async fn incident_report(
        &self,
        scope: &Scope,
        actor: &Actor,
        incident_id: &str,
        report_id: &str,
    ) -> Result<Report, StoreError> {
        self.incident_reports(scope, actor, incident_id)
            .await?
            .into_iter()
            .find(|r| r.id == report_id)
            .ok_or(StoreError::NotFound)
    }

    /// One kept version of a report the caller may see.
    pub async fn incident_report_version(
        &self,
        scope: &Scope,
        actor: &Actor,
        incident_id: &str,
        report_id: &str,
        version: i64,
    ) -> Result<ReportVersion, StoreError> {
        self.incident(scope, incident_id).await?;
        let mut conn = self.reader().acquire().await?;
        report_on(&mut conn, actor, scope, incident_id, report_id).await?;
        let row = sqlx::query(
            "SELECT version, title, addressee, contact, sections, facts, edited_at, \
             edited_by_name FROM incident_report_versions WHERE report_id = $1 AND version = $2",
        )
        .bind(report_id.to_owned())
        .bind(version)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
        Ok(ReportVersion {
            version: row.try_get("version")?,
            title: row.try_get("title")?,
            addressee: row.try_get("addressee")?,
            contact: row.try_get("contact")?,
            sections: from_json(&row, "sections")?,
            facts: from_json(&row, "facts")?,
            edited_at: from_millis(row.try_get("edited_at")?),
            edited_by_name: row.try_get("edited_by_name")?,
        })
    }

    /// Drafts a report of the caller's unit about an open incident in its scope. A unit has
    /// one report in the works at a time; an initial report comes first and once; follow-ups
    /// are numbered; nothing follows a final report.
    pub async fn create_incident_report(
        &self,
        scope: &Scope,
        actor: &Actor,
        incident_id: &str,
        new: NewReport,
    ) -> Result<Report, StoreError> {
        let now = self.now();
        let incident = self.incident(scope, incident_id).await?;
        if incident.status != "open" {
            return Err(StoreError::Conflict("incident_closed"));
        }
        let unit_id = actor.unit_id.clone().ok_or(StoreError::Forbidden("not_issuing_unit"))?;
        let mut tx = self.begin().await?;
        self.backend().serialize(&mut tx, "incident-report").await?;
        let existing = sqlx::query(
            "SELECT kind, sequence, status FROM incident_reports \
             WHERE incident_id = $1 AND unit_id = $2",
        )
        .bind(incident_id.to_owned())
        .bind(unit_id.clone())
        .fetch_all(&mut *tx)
        .await?;
        let mut kinds = Vec::new();
        let mut last_follow_up = 0;
        for r in &existing {
            let kind: String = r.try_get("kind")?;
            let kind = parse(ReportKind::parse(&kind), &kind)?;
            if r.try_get::<String, _>("status")? != ReportStatus::Approved.as_str() {
                return Err(StoreError::Conflict("report_pending"));
            }
            if kind == ReportKind::FollowUp {
                last_follow_up = last_follow_up.max(r.try_get::<i64, _>("sequence")?);
            }
            kinds.push(kind);
        }
        if new.kind != ReportKind::Initial && !kinds.contains(&ReportKind::Initial) {
            return Err(StoreError::Conflict("initial_missing"));
        }
        if kinds.contains(&ReportKind::Final) {
            return Err(StoreError::Conflict("final_sent"));
        }
        if new.kind == ReportKind::Initial && kinds.contains(&ReportKind::Initial) {
            return Err(StoreError::Conflict("report_exists"));
        }
        let sequence = if new.kind == ReportKind::FollowUp { last_follow_up + 1 } else { 0 };
        let sequence_u32 = u32::try_from(sequence).map_err(StoreError::corrupt)?;
        let facts = report_facts(&incident);
        let sections = new.sections.unwrap_or_else(|| draft_sections(&facts));
        let title =
            new.title.unwrap_or_else(|| report_title(new.kind, sequence_u32, &incident.title));
        let addressee = match new.addressee {
            Some(a) => a,
            None => unit_above(&mut tx, &unit_id).await?.map(|(_, name)| name).unwrap_or_default(),
        };
        let author = person_name(&mut tx, actor).await?;
        let contact = new.contact.unwrap_or_else(|| author.clone());
        let id = new_id();
        sqlx::query(
            "INSERT INTO incident_reports (id, incident_id, unit_id, kind, sequence, status, \
             version, title, addressee, contact, sections, facts, created_by_name, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, 'draft', 1, $6, $7, $8, $9, $10, $11, $12, \
             $12)",
        )
        .bind(id.clone())
        .bind(incident_id.to_owned())
        .bind(unit_id.clone())
        .bind(new.kind.as_str())
        .bind(sequence)
        .bind(title.clone())
        .bind(addressee.clone())
        .bind(contact.clone())
        .bind(serde_json::to_string(&sections).map_err(StoreError::corrupt)?)
        .bind(serde_json::to_string(&facts).map_err(StoreError::corrupt)?)
        .bind(author)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
        insert_version(
            &mut tx,
            &id,
            1,
            (&title, &addressee, &contact),
            &sections,
            &facts,
            actor,
            now,
        )
        .await?;
        keep(
            &mut tx,
            now,
            actor,
            (incident_id, &incident.unit.id),
            Happened {
                kind: "report_created",
                action: "incident.report_created",
                data: json!({ "report_id": id, "report_kind": new.kind, "sequence": sequence }),
                detail: Some(json!({ "report_id": id, "report_kind": new.kind })),
            },
        )
        .await?;
        tx.commit().await?;
        self.incident_report(scope, actor, incident_id, &id).await
    }

    /// Saves a draft as a new version, with the incident's facts as they are now. An approved
    /// report is frozen (`report_approved`); a submitted one waits for the leader
    /// (`report_submitted`).
    pub async fn edit_incident_report(
        &self,
        scope: &Scope,
        actor: &Actor,
        incident_id: &str,
        report_id: &str,
        edit: ReportEdit,
    ) -> Result<Report, StoreError> {
        let Change { now, incident, mut tx, report, .. } = self
            .change(scope, actor, (incident_id, report_id), ReportStatus::Draft, Some(edit.version))
            .await?;
        let title = edit.title.unwrap_or(report.title);
        let addressee = edit.addressee.unwrap_or(report.addressee);
        let contact = edit.contact.unwrap_or(report.contact);
        let sections = edit.sections.unwrap_or(report.sections);
        let facts = report_facts(&incident);
        let version = report.version + 1;
        let n = sqlx::query(
            "UPDATE incident_reports SET version = $1, title = $2, addressee = $3, contact = $4, \
             sections = $5, facts = $6, updated_at = $7 WHERE id = $8 AND version = $9 \
             AND status = 'draft'",
        )
        .bind(version)
        .bind(title.clone())
        .bind(addressee.clone())
        .bind(contact.clone())
        .bind(serde_json::to_string(&sections).map_err(StoreError::corrupt)?)
        .bind(serde_json::to_string(&facts).map_err(StoreError::corrupt)?)
        .bind(to_millis(now))
        .bind(report_id.to_owned())
        .bind(report.version)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict("stale_version"));
        }
        insert_version(
            &mut tx,
            report_id,
            version,
            (&title, &addressee, &contact),
            &sections,
            &facts,
            actor,
            now,
        )
        .await?;
        keep(
            &mut tx,
            now,
            actor,
            (incident_id, &incident.unit.id),
            Happened {
                kind: "report_edited",
                action: "incident.report_edited",
                data: json!({ "report_id": report_id, "report_kind": report.kind,
                    "sequence": report.sequence, "version": version }),
                detail: Some(json!({ "report_id": report_id, "version": version })),
            },
        )
        .await?;
        tx.commit().await?;
        self.incident_report(scope, actor, incident_id, report_id).await
    }

    /// The officer submits a complete draft to the unit's duty leaders for approval.
    pub async fn submit_incident_report(
        &self,
        scope: &Scope,
        actor: &Actor,
        incident_id: &str,
        report_id: &str,
        version: i64,
    ) -> Result<ReportChanged, StoreError> {
        let Change { now, incident, mut tx, report, .. } = self
            .change(scope, actor, (incident_id, report_id), ReportStatus::Draft, Some(version))
            .await?;
        let mut errors = match report.sections.check_complete() {
            Ok(()) => beacon_core::error::ValidationErrors::new(),
            Err(e) => e,
        };
        for (field, value) in [("addressee", &report.addressee), ("contact", &report.contact)] {
            if value.trim().is_empty() {
                errors.add(field, "required");
            }
        }
        errors.into_result().map_err(StoreError::Invalid)?;
        sqlx::query(
            "UPDATE incident_reports SET status = 'submitted', submitted_at = $1, \
             submitted_by = $2, submitted_by_name = $3, returned_reason = NULL, updated_at = $1 \
             WHERE id = $4",
        )
        .bind(to_millis(now))
        .bind(actor.user_id.clone())
        .bind(person_name(&mut tx, actor).await?)
        .bind(report_id.to_owned())
        .execute(&mut *tx)
        .await?;
        let leaders = unit_users_with_roles(&mut tx, &report.unit.id, &[Role::DutyLeader]).await?;
        keep(
            &mut tx,
            now,
            actor,
            (incident_id, &incident.unit.id),
            Happened {
                kind: "report_submitted",
                action: "incident.report_submitted",
                data: json!({ "report_id": report_id, "report_kind": report.kind,
                    "sequence": report.sequence, "version": report.version }),
                detail: Some(json!({ "report_id": report_id, "version": report.version })),
            },
        )
        .await?;
        let data = note_data(&incident, &report);
        let notes = notes(leaders, "incident.report_submitted", &incident, &data);
        self.changed(tx, now, (scope, actor), (incident_id, report_id), (false, notes)).await
    }

    /// The duty leader sends a submitted report back to the draft with a reason; the officer
    /// who submitted it is told.
    pub async fn return_incident_report(
        &self,
        scope: &Scope,
        actor: &Actor,
        incident_id: &str,
        report_id: &str,
        reason: &str,
    ) -> Result<ReportChanged, StoreError> {
        let Change { now, incident, mut tx, report, submitted_by } = self
            .change(scope, actor, (incident_id, report_id), ReportStatus::Submitted, None)
            .await?;
        sqlx::query(
            "UPDATE incident_reports SET status = 'draft', returned_reason = $1, updated_at = $2 \
             WHERE id = $3",
        )
        .bind(reason.to_owned())
        .bind(to_millis(now))
        .bind(report_id.to_owned())
        .execute(&mut *tx)
        .await?;
        keep(
            &mut tx,
            now,
            actor,
            (incident_id, &incident.unit.id),
            Happened {
                kind: "report_returned",
                action: "incident.report_returned",
                data: json!({ "report_id": report_id, "report_kind": report.kind,
                    "sequence": report.sequence, "reason": reason }),
                detail: Some(json!({ "report_id": report_id, "reason": reason })),
            },
        )
        .await?;
        let mut data = note_data(&incident, &report);
        data["reason"] = json!(reason);
        let notes =
            notes(submitted_by.into_iter().collect(), "incident.report_returned", &incident, &data);
        self.changed(tx, now, (scope, actor), (incident_id, report_id), (false, notes)).await
    }

    /// The duty leader approves a submitted report: it is numbered, frozen and sent to the duty
    /// desk of the unit above (in its inbox, live and by e-mail). A follow-up or final report
    /// answers a pending follow-up requirement.
    pub async fn approve_incident_report(
        &self,
        scope: &Scope,
        actor: &Actor,
        incident_id: &str,
        report_id: &str,
        version: i64,
    ) -> Result<ReportChanged, StoreError> {
        let Change { now, incident, mut tx, report, .. } = self
            .change(scope, actor, (incident_id, report_id), ReportStatus::Submitted, Some(version))
            .await?;
        self.backend().serialize(&mut tx, "incident-report-number").await?;
        let year = local_date(now).year();
        let year_start = |y: i32| {
            NaiveDate::from_ymd_opt(y, 1, 1)
                .map(local_midnight)
                .ok_or(StoreError::Corrupt(format!("year {y}")))
        };
        let taken: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM incident_reports WHERE unit_id = $1 \
             AND doc_number IS NOT NULL AND approved_at >= $2 AND approved_at < $3",
        )
        .bind(report.unit.id.clone())
        .bind(to_millis(year_start(year)?))
        .bind(to_millis(year_start(year + 1)?))
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        let doc_number = format!("{}〔{year}〕{}号", report.unit.name, taken + 1);
        sqlx::query(
            "UPDATE incident_reports SET status = 'approved', approved_at = $1, \
             approved_by_name = $2, doc_number = $3, updated_at = $1 WHERE id = $4",
        )
        .bind(to_millis(now))
        .bind(person_name(&mut tx, actor).await?)
        .bind(doc_number.clone())
        .bind(report_id.to_owned())
        .execute(&mut *tx)
        .await?;
        let answered = report.kind.answers_follow_up()
            && incident.follow_up_since.is_some_and(|since| since <= now);
        if answered {
            sqlx::query("UPDATE incidents SET follow_up_since = NULL WHERE id = $1")
                .bind(incident_id.to_owned())
                .execute(&mut *tx)
                .await?;
        }
        keep(
            &mut tx,
            now,
            actor,
            (incident_id, &incident.unit.id),
            Happened {
                kind: "report_approved",
                action: "incident.report_approved",
                data: json!({ "report_id": report_id, "report_kind": report.kind,
                    "sequence": report.sequence, "doc_number": doc_number,
                    "follow_up_answered": answered }),
                detail: Some(json!({ "report_id": report_id, "doc_number": doc_number,
                    "version": report.version })),
            },
        )
        .await?;
        let desk = match unit_above(&mut tx, &report.unit.id).await? {
            Some((above, _)) => {
                unit_users_with_roles(&mut tx, &above, &[Role::DutyOfficer, Role::DutyLeader])
                    .await?
            }
            None => Vec::new(),
        };
        let mut data = note_data(&incident, &report);
        data["doc_number"] = json!(doc_number);
        let notes = notes(desk, "incident.report_received", &incident, &data);
        self.changed(tx, now, (scope, actor), (incident_id, report_id), (true, notes)).await
    }
}

/// After a change of casualties or of the grade: when a report was already sent and the change
/// falls within the re-reporting window (30 days, 7 for road traffic and fire), a follow-up
/// report is required. The incident is flagged and its desk told; the flag stays until a follow-up or
/// final report is approved.
pub(super) async fn require_follow_up(
    tx: &mut Tx,
    now: DateTime<Utc>,
    actor: &Actor,
    incident: &Incident,
) -> Result<Vec<Delivery>, StoreError> {
    let window = beacon_core::incident::follow_up_required(
        incident.kind.sector(),
        incident.occurred_at,
        now,
    );
    if !window || incident.follow_up_since.is_some() {
        return Ok(Vec::new());
    }
    let sent = sqlx::query(
        "SELECT 1 AS x FROM incident_reports WHERE incident_id = $1 AND status = 'approved' \
         LIMIT 1",
    )
    .bind(incident.id.clone())
    .fetch_optional(&mut **tx)
    .await?;
    if sent.is_none() {
        return Ok(Vec::new());
    }
    sqlx::query("UPDATE incidents SET follow_up_since = $1 WHERE id = $2")
        .bind(to_millis(now))
        .bind(incident.id.clone())
        .execute(&mut **tx)
        .await?;
    keep(
        tx,
        now,
        actor,
        (&incident.id, &incident.unit.id),
        Happened {
            kind: "follow_up_required",
            action: "incident.follow_up_required",
            data: json!({}),
            detail: None,
        },
    )
    .await?;
    let desk = unit_users_with_roles(tx, &incident.unit.id, &[Role::DutyOfficer, Role::DutyLeader])
        .await?;
    let data = json!({
        "incident_id": incident.id,
        "number": incident.number,
        "title": incident.title,
        "unit_name": incident.unit.name,
        "grade": incident.grade,
    });
    notify::send(tx, now, true, notes(desk, "incident.follow_up_required", incident, &data)).await
}
