//! Inspections (docs/inspections.md): the checklists a finding cites (reference data an
//! administrator keeps), and inspections of an enterprise with the people who made them and
//! their findings. A finding becomes a hidden danger with one action, in one transaction with
//! the hidden danger's record (`Store::record_danger`). An inspection is reached through its
//! enterprise by the register's one scope rule, like a hidden danger.

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::danger::{DangerCategory, DangerLevel, Party, earliest_found_on};
use beacon_core::error::ValidationErrors;
use beacon_core::id::{looks_like_id, new_id};
use beacon_core::inspection::{InspectionKind, MAX_FINDINGS, NAME_MAX, check_inspectors};
use beacon_core::page::PageRequest;
use beacon_core::text::{free_text, plain_text};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use utoipa::ToSchema;

use crate::danger::DangerWrite;
use crate::enterprise::{Reach, announce_for_enterprise, date_of, iso, today};
use crate::sql::Sql;
use crate::{Page, Store, StoreError, audit, numbers, timeline};

mod checklist;

pub use checklist::{Checklist, ChecklistItem, ChecklistItemWrite, ChecklistWrite};

/// A finding as the inspector writes it down.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingWrite {
    /// The checklist item it falls under (of the inspection's checklist), if any.
    pub item_id: Option<String>,
    /// Where (workshop, installation, post).
    #[serde(default)]
    pub place: String,
    pub description: String,
    /// General or major; by default major when the item is marked major, general otherwise.
    pub level: Option<DangerLevel>,
}

/// An inspection as recorded, with its findings.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InspectionWrite {
    pub enterprise_id: String,
    pub kind: InspectionKind,
    pub inspected_on: NaiveDate,
    /// The people who made it: at least two for a law-enforcement inspection.
    pub inspectors: Vec<String>,
    /// The checklist used, if any.
    pub checklist_id: Option<String>,
    /// The campaign a `campaign` check belongs to (running, with the enterprise on its list).
    #[serde(default)]
    pub campaign_id: Option<String>,
    /// Who signed the record for the enterprise (required for a law-enforcement inspection).
    #[serde(default)]
    pub signatory: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub findings: Vec<FindingWrite>,
}

/// A finding of an inspection.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Finding {
    pub id: String,
    /// Its place on the record, from 1.
    pub seq: i64,
    pub item_id: Option<String>,
    /// The item as cited when the finding was made: checklist, clause and text.
    pub criterion: String,
    pub place: String,
    pub description: String,
    pub level: DangerLevel,
    /// The hidden danger it became, if it did.
    pub danger_id: Option<String>,
    pub danger_number: Option<String>,
}

/// An inspection as the ledger shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Inspection {
    pub id: String,
    pub number: String,
    pub enterprise_id: String,
    pub enterprise_name: String,
    pub unit_name: String,
    pub kind: InspectionKind,
    pub inspected_on: NaiveDate,
    pub inspectors: Vec<String>,
    pub checklist_id: Option<String>,
    pub checklist_name: Option<String>,
    pub campaign_id: Option<String>,
    pub campaign_name: Option<String>,
    pub signatory: String,
    pub summary: String,
    pub created_by_name: String,
    pub created_at: DateTime<Utc>,
    /// How many findings, and how many of them are not yet hidden dangers.
    pub findings_count: i64,
    pub findings_open: i64,
    /// The findings (in a single inspection; empty in a list).
    pub findings: Vec<Finding>,
}

/// Filters of the inspection ledger.
#[derive(Debug, Clone, Default)]
pub struct InspectionFilter {
    pub enterprise_id: Option<String>,
    /// Inspections of enterprises in this unit's territory (the unit and beneath).
    pub unit_id: Option<String>,
    pub kind: Option<InspectionKind>,
    pub campaign_id: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// What a finding needs to become a hidden danger: its deadline, and optionally who answers
/// for it, its category and a level other than the finding's.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingDanger {
    pub deadline: NaiveDate,
    #[serde(default)]
    pub responsible_person: String,
    pub category: Option<DangerCategory>,
    pub level: Option<DangerLevel>,
}

/// The kinds of an inspection's attachments: its photos and the scanned, signed record.
pub const ATTACHMENT_OWNERS: [&str; 1] = ["inspection"];

const SELECT: &str = "SELECT i.*, e.name AS enterprise_name, u.name AS unit_name, \
     c.name AS checklist_name, cp.name AS campaign_name, \
     (SELECT COUNT(*) FROM inspection_findings f WHERE f.inspection_id = i.id) AS findings_count, \
     (SELECT COUNT(*) FROM inspection_findings f WHERE f.inspection_id = i.id \
       AND f.danger_id IS NULL) AS findings_open \
     FROM inspections i CROSS JOIN enterprises e CROSS JOIN units u \
     LEFT JOIN checklists c ON c.id = i.checklist_id LEFT JOIN campaigns cp ON cp.id = i.campaign_id \
     WHERE e.id = i.enterprise_id AND u.id = e.unit_id";

fn inspection_of(r: &sqlx::any::AnyRow) -> Result<Inspection, StoreError> {
    let kind: String = r.try_get("kind")?;
    let on: String = r.try_get("inspected_on")?;
    let inspectors: String = r.try_get("inspectors")?;
    Ok(Inspection {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        enterprise_id: r.try_get("enterprise_id")?,
        enterprise_name: r.try_get("enterprise_name")?,
        unit_name: r.try_get("unit_name")?,
        kind: InspectionKind::parse(&kind).ok_or_else(|| StoreError::corrupt(kind.clone()))?,
        inspected_on: date_of(Some(&on))?.ok_or_else(|| StoreError::corrupt(on.clone()))?,
        inspectors: serde_json::from_str(&inspectors).map_err(StoreError::corrupt)?,
        checklist_id: r.try_get("checklist_id")?,
        checklist_name: r.try_get("checklist_name")?,
        campaign_id: r.try_get("campaign_id")?,
        campaign_name: r.try_get("campaign_name")?,
        signatory: r.try_get("signatory")?,
        summary: r.try_get("summary")?,
        created_by_name: r.try_get("created_by_name")?,
        created_at: from_millis(r.try_get("created_at")?),
        findings_count: r.try_get("findings_count")?,
        findings_open: r.try_get("findings_open")?,
        findings: Vec::new(),
    })
}

fn finding_of(r: &sqlx::any::AnyRow) -> Result<Finding, StoreError> {
    let level: String = r.try_get("level")?;
    Ok(Finding {
        id: r.try_get("id")?,
        seq: r.try_get("seq")?,
        item_id: r.try_get("item_id")?,
        criterion: r.try_get("criterion")?,
        place: r.try_get("place")?,
        description: r.try_get("description")?,
        level: DangerLevel::parse(&level).ok_or_else(|| StoreError::corrupt(level.clone()))?,
        danger_id: r.try_get("danger_id")?,
        danger_number: r.try_get("danger_number")?,
    })
}

/// A finding checked, with its item resolved: (item id, criterion, level).
struct CheckedFinding {
    item_id: Option<String>,
    criterion: String,
    place: String,
    description: String,
    level: DangerLevel,
}

impl InspectionWrite {
    /// Checks what the form sent against today and the checklist's items (id → (cited
    /// criterion, major)).
    fn validate(
        mut self,
        today: NaiveDate,
        items: &std::collections::HashMap<String, (String, bool)>,
    ) -> Result<(Self, Vec<CheckedFinding>), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if self.inspected_on > today {
            errors.add("inspected_on", "in_future");
        } else if self.inspected_on < earliest_found_on() {
            errors.add("inspected_on", "out_of_range");
        }
        match check_inspectors(self.kind, &self.inspectors) {
            Ok(names) => self.inspectors = names,
            Err(code) => errors.add("inspectors", code),
        }
        let enforcement = self.kind == InspectionKind::Enforcement;
        let signatory = if enforcement {
            plain_text(&self.signatory, NAME_MAX)
        } else {
            free_text(&self.signatory, NAME_MAX)
        };
        match signatory {
            Ok(v) => self.signatory = v,
            Err(code) => errors.add("signatory", code),
        }
        match free_text(&self.summary, 4000) {
            Ok(v) => self.summary = v,
            Err(code) => errors.add("summary", code),
        }
        self.campaign_id = match (self.kind, self.campaign_id.take()) {
            (InspectionKind::Campaign, None) => {
                errors.add("campaign_id", "required");
                None
            }
            (InspectionKind::Campaign, Some(id)) if !looks_like_id(&id) => {
                errors.add("campaign_id", "unknown");
                None
            }
            (InspectionKind::Campaign, Some(id)) => Some(id.to_ascii_lowercase()),
            (_, Some(_)) => {
                errors.add("campaign_id", "campaign_kind_only");
                None
            }
            (_, None) => None,
        };
        if self.findings.len() > MAX_FINDINGS {
            errors.add("findings", "too_many");
        }
        let mut checked = Vec::new();
        for (i, f) in self.findings.iter().enumerate().take(MAX_FINDINGS) {
            let description = plain_text(&f.description, 4000)
                .map_err(|code| errors.add(format!("findings[{i}].description"), code))
                .ok();
            let place = free_text(&f.place, 200)
                .map_err(|code| errors.add(format!("findings[{i}].place"), code))
                .ok();
            let item = match &f.item_id {
                None => Some(None),
                Some(id) => match items.get(&id.to_ascii_lowercase()) {
                    Some(found) => Some(Some((id.to_ascii_lowercase(), found.clone()))),
                    None => {
                        errors.add(format!("findings[{i}].item_id"), "unknown");
                        None
                    }
                },
            };
            if let (Some(description), Some(place), Some(item)) = (description, place, item) {
                let major = item.as_ref().is_some_and(|(_, (_, major))| *major);
                let default = if major { DangerLevel::Major } else { DangerLevel::General };
                checked.push(CheckedFinding {
                    criterion: item.as_ref().map(|(_, (c, _))| c.clone()).unwrap_or_default(),
                    item_id: item.map(|(id, _)| id),
                    place,
                    description,
                    level: f.level.unwrap_or(default),
                });
            }
        }
        errors.into_result().map(|()| (self, checked))
    }
}

/// The inspection `id`, if `reach` reaches it.
fn one(reach: &Reach, id: &str) -> Sql {
    let mut sql = Sql::new(SELECT);
    sql.push(" AND i.id = ").bind(id.to_owned());
    reach.filter(&mut sql);
    sql
}

impl Store {
    /// Records an inspection of an enterprise the caller reaches, with its findings, numbered
    /// `JC-<code of the enterprise's unit>-<year>-<sequence>`. The enterprise's own account
    /// records its self-inspections only.
    pub async fn create_inspection(
        &self,
        reach: &Reach,
        actor: &Actor,
        party: Party,
        write: InspectionWrite,
    ) -> Result<Inspection, StoreError> {
        let now = self.now();
        if party == Party::Enterprise && write.kind != InspectionKind::SelfInspection {
            return Err(StoreError::invalid("kind", "self_inspection_only"));
        }
        let checklist = match &write.checklist_id {
            Some(id) if looks_like_id(id) => Some(
                self.checklist(&id.to_ascii_lowercase())
                    .await
                    .map_err(|_| StoreError::invalid("checklist_id", "unknown"))?,
            ),
            Some(_) => return Err(StoreError::invalid("checklist_id", "unknown")),
            None => None,
        };
        let items = checklist
            .as_ref()
            .map(|c| {
                c.items
                    .iter()
                    .filter(|i| !i.retired)
                    .map(|i| (i.id.clone(), (format!("{} {}", c.basis, i.clause), i.major)))
                    .collect()
            })
            .unwrap_or_default();
        let (write, findings) = write.validate(today(now), &items).map_err(StoreError::Invalid)?;
        let mut tx = self.begin().await?;
        let e = self.reached_enterprise(&mut tx, reach, &write.enterprise_id).await?;
        if e.status == "closed" {
            return Err(StoreError::Conflict("enterprise_closed"));
        }
        if let Some(campaign) = &write.campaign_id {
            let Reach::Scope(scope) = reach else {
                return Err(StoreError::invalid("kind", "self_inspection_only"));
            };
            self.campaign_check_allowed(&mut tx, scope, campaign, &e.id).await?;
        }
        let code: String = sqlx::query("SELECT code FROM units WHERE id = $1")
            .bind(e.unit_id.clone())
            .fetch_one(&mut *tx)
            .await?
            .try_get("code")?;
        let prefix = format!("JC-{code}-{}-", write.inspected_on.format("%Y"));
        let number = format!("{prefix}{:05}", numbers::take(&mut tx, &prefix, 1).await?);
        let id = new_id();
        let inspectors = serde_json::to_string(&write.inspectors).map_err(StoreError::corrupt)?;
        sqlx::query(
            "INSERT INTO inspections (id, number, enterprise_id, kind, inspected_on, inspectors, \
             checklist_id, signatory, summary, created_by_name, created_at, campaign_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(id.clone())
        .bind(number.clone())
        .bind(e.id.clone())
        .bind(write.kind.as_str())
        .bind(iso(write.inspected_on))
        .bind(inspectors)
        .bind(checklist.as_ref().map(|c| c.id.clone()))
        .bind(write.signatory.clone())
        .bind(write.summary.clone())
        .bind(actor.name.clone())
        .bind(to_millis(now))
        .bind(write.campaign_id.clone())
        .execute(&mut *tx)
        .await?;
        for (seq, f) in findings.iter().enumerate() {
            sqlx::query(
                "INSERT INTO inspection_findings (id, inspection_id, seq, item_id, criterion, \
                 place, description, level, danger_id) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL)",
            )
            .bind(new_id())
            .bind(id.clone())
            .bind(seq as i64 + 1)
            .bind(f.item_id.clone())
            .bind(f.criterion.clone())
            .bind(f.place.clone())
            .bind(f.description.clone())
            .bind(f.level.as_str())
            .execute(&mut *tx)
            .await?;
        }
        let data = json!({
            "number": number, "inspected_on": iso(write.inspected_on), "findings": findings.len(),
        });
        let subject = ("enterprise", e.id.as_str());
        timeline::append(&mut tx, now, actor, subject, Some(&e.unit_id), "inspected", data).await?;
        let record = NewAuditRecord::new(actor, "inspection.recorded", Outcome::Success)
            .target("inspection", &id)
            .unit(Some(&e.unit_id))
            .detail(json!({ "number": number, "enterprise": e.name, "findings": findings.len() }));
        audit::append(&mut tx, now, record).await?;
        let event = json!({ "id": id, "number": number });
        let department = e.department_id.as_deref();
        let kind = "inspection.recorded";
        announce_for_enterprise(&mut tx, now, kind, event, &e.unit_id, department).await?;
        tx.commit().await?;
        self.inspection(reach, &id).await
    }

    /// An inspection the caller reaches, with its findings (404 otherwise).
    pub async fn inspection(&self, reach: &Reach, id: &str) -> Result<Inspection, StoreError> {
        let row = one(reach, id).fetch_optional(self.reader()).await?;
        let mut inspection = inspection_of(&row.ok_or(StoreError::NotFound)?)?;
        let rows = sqlx::query(
            "SELECT f.*, h.number AS danger_number FROM inspection_findings f \
             LEFT JOIN hidden_dangers h ON h.id = f.danger_id \
             WHERE f.inspection_id = $1 ORDER BY f.seq",
        )
        .bind(id.to_owned())
        .fetch_all(self.reader())
        .await?;
        inspection.findings = rows.iter().map(finding_of).collect::<Result<_, _>>()?;
        Ok(inspection)
    }

    /// A page of the inspection ledger: the inspections the caller reaches, latest first.
    pub async fn inspections(
        &self,
        reach: &Reach,
        filter: &InspectionFilter,
        page: PageRequest,
    ) -> Result<Page<Inspection>, StoreError> {
        let apply = |sql: &mut Sql| {
            reach.filter(sql);
            if let Some(id) = &filter.enterprise_id {
                sql.push(" AND i.enterprise_id = ").bind(id.clone());
            }
            if let Some(unit) = &filter.unit_id {
                sql.push(
                    " AND e.unit_id IN (SELECT descendant_id FROM unit_closure WHERE ancestor_id = ",
                )
                .bind(unit.clone())
                .push(")");
            }
            if let Some(kind) = filter.kind {
                sql.push(" AND i.kind = ").bind(kind.as_str());
            }
            if let Some(campaign) = &filter.campaign_id {
                sql.push(" AND i.campaign_id = ").bind(campaign.clone());
            }
            if let Some(from) = filter.from {
                sql.push(" AND i.inspected_on >= ").bind(iso(from));
            }
            if let Some(to) = filter.to {
                sql.push(" AND i.inspected_on <= ").bind(iso(to));
            }
        };
        let mut count = Sql::new(
            "SELECT COUNT(*) AS n FROM inspections i CROSS JOIN enterprises e \
             WHERE e.id = i.enterprise_id",
        );
        apply(&mut count);
        let total: i64 = count.fetch_one(self.reader()).await?.try_get("n")?;
        let mut sql = Sql::new(SELECT);
        apply(&mut sql);
        sql.push(" ORDER BY i.inspected_on DESC, i.created_at DESC, i.id LIMIT ")
            .bind(i64::from(page.per_page))
            .push(" OFFSET ")
            .bind(page.offset());
        let rows = sql.fetch_all(self.reader()).await?;
        Ok(Page {
            items: rows.iter().map(inspection_of).collect::<Result<_, _>>()?,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// Makes a finding a hidden danger (found on the inspection's day, by its kind's origin,
    /// citing its item), linked to the finding in the same transaction: a finding becomes one
    /// hidden danger at most (`finding_already_recorded`).
    pub async fn finding_to_danger(
        &self,
        reach: &Reach,
        actor: &Actor,
        party: Party,
        inspection_id: &str,
        finding_id: &str,
        body: FindingDanger,
    ) -> Result<Inspection, StoreError> {
        let inspection = self.inspection(reach, inspection_id).await?;
        let finding =
            inspection.findings.iter().find(|f| f.id == finding_id).ok_or(StoreError::NotFound)?;
        if finding.danger_id.is_some() {
            return Err(StoreError::Conflict("finding_already_recorded"));
        }
        let write = DangerWrite {
            enterprise_id: inspection.enterprise_id.clone(),
            level: body.level.unwrap_or(finding.level),
            category: body.category.unwrap_or(DangerCategory::Site),
            origin: inspection.kind.origin(),
            place: if finding.place.is_empty() { "—".to_owned() } else { finding.place.clone() },
            description: finding.description.clone(),
            criterion: finding.criterion.clone(),
            found_on: inspection.inspected_on,
            deadline: body.deadline,
            responsible_person: body.responsible_person,
            fixed_on_spot: false,
        };
        let mut tx = self.begin().await?;
        let danger = self.record_danger(&mut tx, reach, actor, party, write).await?;
        let linked = sqlx::query(
            "UPDATE inspection_findings SET danger_id = $1 WHERE id = $2 AND danger_id IS NULL",
        )
        .bind(danger.clone())
        .bind(finding_id.to_owned())
        .execute(&mut *tx)
        .await?;
        if linked.rows_affected() != 1 {
            return Err(StoreError::Conflict("finding_already_recorded"));
        }
        let unit: String = sqlx::query("SELECT unit_id FROM enterprises WHERE id = $1")
            .bind(inspection.enterprise_id.clone())
            .fetch_one(&mut *tx)
            .await?
            .try_get("unit_id")?;
        let data = json!({ "inspection": inspection.number, "finding": finding.seq });
        let subject = ("hidden_danger", danger.as_str());
        timeline::append(&mut tx, self.now(), actor, subject, Some(&unit), "from_inspection", data)
            .await?;
        tx.commit().await?;
        self.inspection(reach, inspection_id).await
    }

    /// An inspection that files are attached to (its photos, the signed record), when the
    /// caller reaches it; not found otherwise.
    pub async fn inspection_attachment_owner(
        &self,
        reach: &Reach,
        kind: &str,
        id: &str,
    ) -> Result<crate::attachment::Owner, StoreError> {
        if !ATTACHMENT_OWNERS.contains(&kind) {
            return Err(StoreError::NotFound);
        }
        let mut sql = Sql::new(
            "SELECT i.id, e.unit_id FROM inspections i CROSS JOIN enterprises e \
             WHERE e.id = i.enterprise_id AND i.id = ",
        );
        sql.bind(id.to_owned());
        reach.filter(&mut sql);
        let row = sql.fetch_optional(self.reader()).await?.ok_or(StoreError::NotFound)?;
        Ok(crate::attachment::Owner {
            kind: kind.to_owned(),
            id: id.to_owned(),
            unit_id: row.try_get("unit_id")?,
            timeline: ("inspection".to_owned(), id.to_owned()),
            frozen: None,
        })
    }
}
