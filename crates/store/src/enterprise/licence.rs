//! Licences and certificates of an enterprise (安全生产许可证, 危险化学品经营许可证, special-work
//! certificates of named people…). Each licence in force has a deadline: reminders 90 and 30
//! days before it expires and an alert on the day, to the enterprise's own accounts and its
//! regulators. Withdrawn licences stay on record.

use beacon_core::audit::Actor;
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::enterprise::{
    LICENCE_KINDS, LICENCE_REMINDER_DAYS, licence_names_holder, reference,
};
use beacon_core::id::new_id;
use beacon_core::page::PageRequest;
use beacon_core::text::free_text;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::Row;
use utoipa::ToSchema;

use super::{
    LedgerOf, Reach, Reached, date_of, iso, people_to_tell, record_under, start_of, today,
};
use crate::deadline::{self, DueStage, NewDeadline};
use crate::notify::{self, Delivery, NewNotification};
use crate::sql::Sql;
use crate::{Page, Store, StoreError, Tx, timeline};

/// The deadline kind of a licence's expiry.
pub const LICENCE_DEADLINE: &str = "enterprise.licence";

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LicenceWrite {
    /// `safety_production`, `hazchem_business`, … (`GET /enterprises/reference`).
    pub kind: String,
    pub number: String,
    #[serde(default)]
    pub issuer: String,
    pub issued_on: NaiveDate,
    pub expires_on: NaiveDate,
    /// What the licence permits (许可范围).
    #[serde(default)]
    pub scope_text: String,
    /// The person a personal certificate names (special work, special equipment).
    #[serde(default)]
    pub holder_name: String,
    /// On update: the version read.
    #[serde(default)]
    pub version: Option<i64>,
}

impl LicenceWrite {
    pub fn validate(mut self) -> Result<Self, beacon_core::error::ValidationErrors> {
        let mut errors = beacon_core::error::ValidationErrors::new();
        match reference(&LICENCE_KINDS, &self.kind) {
            Some(k) => self.kind = k.to_owned(),
            None => errors.add("kind", "unknown"),
        }
        let mut text = |field: &str, value: &mut String, max: usize, required: bool| match free_text(
            value, max,
        ) {
            Ok(v) if required && v.is_empty() => errors.add(field, "required"),
            Ok(v) => *value = v.replace('\n', " "),
            Err(code) => errors.add(field, code),
        };
        text("number", &mut self.number, 64, true);
        text("issuer", &mut self.issuer, 128, false);
        text("scope_text", &mut self.scope_text, 1000, false);
        let needs_holder = licence_names_holder(&self.kind);
        text("holder_name", &mut self.holder_name, 64, needs_holder);
        if self.expires_on <= self.issued_on {
            errors.add("expires_on", "before_issued");
        }
        errors.into_result().map(|()| self)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Licence {
    pub id: String,
    pub enterprise_id: String,
    pub kind: String,
    pub number: String,
    pub issuer: String,
    pub issued_on: NaiveDate,
    pub expires_on: NaiveDate,
    pub scope_text: String,
    pub holder_name: String,
    pub withdrawn: bool,
    /// `valid`, `expiring` (within 90 days), `expired` or `withdrawn`, as of today.
    pub state: String,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A row of the licence ledger: the licence and its enterprise.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LicenceLedgerRow {
    #[serde(flatten)]
    pub licence: Licence,
    pub enterprise_name: String,
    pub enterprise_uscc: String,
    pub unit_name: String,
}

#[derive(Debug, Clone, Default)]
pub struct LicenceFilter {
    /// `expiring` (in force, expires within `within_days`), `expired` (in force, past).
    pub state: Option<String>,
    pub within_days: Option<u32>,
    pub kind: Option<String>,
    pub unit_id: Option<String>,
    /// A fragment of the enterprise's name, code or address.
    pub q: Option<String>,
}

pub(super) fn state_of(withdrawn: bool, expires_on: NaiveDate, today: NaiveDate) -> &'static str {
    if withdrawn {
        "withdrawn"
    } else if expires_on < today {
        "expired"
    } else if expires_on < today + chrono::Days::new(90) {
        "expiring"
    } else {
        "valid"
    }
}

pub(super) fn licence_of(r: &sqlx::any::AnyRow, today: NaiveDate) -> Result<Licence, StoreError> {
    let withdrawn = crate::sql::get_bool(r, "withdrawn")?;
    let issued: String = r.try_get("issued_on")?;
    let expires: String = r.try_get("expires_on")?;
    let expires_on = date_of(Some(&expires))?.ok_or_else(|| StoreError::corrupt("expires_on"))?;
    Ok(Licence {
        id: r.try_get("id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        kind: r.try_get("kind")?,
        number: r.try_get("number")?,
        issuer: r.try_get("issuer")?,
        issued_on: date_of(Some(&issued))?.ok_or_else(|| StoreError::corrupt("issued_on"))?,
        expires_on,
        scope_text: r.try_get("scope_text")?,
        holder_name: r.try_get("holder_name")?,
        withdrawn,
        state: state_of(withdrawn, expires_on, today).to_owned(),
        version: r.try_get("version")?,
        created_at: from_millis(r.try_get("created_at")?),
        updated_at: from_millis(r.try_get("updated_at")?),
    })
}

/// The expiry clock of a licence in force: reminders 90 and 30 days ahead, the alert on the day.
async fn schedule_expiry(
    tx: &mut Tx,
    now: DateTime<Utc>,
    id: &str,
    unit_id: &str,
    expires_on: NaiveDate,
) -> Result<(), StoreError> {
    deadline::finish(tx, now, ("enterprise_licence", id)).await?;
    let due = start_of(expires_on);
    let mut stages = vec![(due, "expired")];
    for days in LICENCE_REMINDER_DAYS {
        let stage = if days == 90 { "remind_90" } else { "remind_30" };
        stages.push((due - chrono::Duration::days(days), stage));
    }
    deadline::schedule(
        tx,
        now,
        now,
        NewDeadline {
            kind: LICENCE_DEADLINE,
            subject: ("enterprise_licence", id.to_owned()),
            unit_id: Some(unit_id.to_owned()),
            due_at: due,
            stages,
        },
    )
    .await?;
    Ok(())
}

impl Store {
    pub async fn licences(
        &self,
        reach: &Reach,
        enterprise_id: &str,
    ) -> Result<Vec<Licence>, StoreError> {
        self.enterprise(reach, enterprise_id).await?;
        let today = today(self.now());
        let rows = sqlx::query(
            "SELECT * FROM enterprise_licences WHERE enterprise_id = $1 \
             ORDER BY withdrawn, expires_on, id LIMIT 500",
        )
        .bind(enterprise_id.to_owned())
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(|r| licence_of(r, today)).collect()
    }

    /// Licences across the enterprises the caller reaches: the expiring and expired ledger.
    pub async fn licence_ledger(
        &self,
        reach: &Reach,
        filter: &LicenceFilter,
        page: PageRequest,
    ) -> Result<Page<LicenceLedgerRow>, StoreError> {
        let today = today(self.now());
        let apply = |sql: &mut Sql| {
            sql.push(" AND x.withdrawn = ").bind(false);
            match filter.state.as_deref() {
                Some("expired") => {
                    sql.push(" AND x.expires_on < ").bind(iso(today));
                }
                Some("expiring") => {
                    let days = u64::from(filter.within_days.unwrap_or(90).min(3660));
                    sql.push(" AND x.expires_on >= ")
                        .bind(iso(today))
                        .push(" AND x.expires_on < ")
                        .bind(iso(today + chrono::Days::new(days)));
                }
                _ => {}
            }
            if let Some(kind) = &filter.kind {
                sql.push(" AND x.kind = ").bind(kind.clone());
            }
        };
        self.enterprise_ledger(
            reach,
            LedgerOf {
                table: "enterprise_licences",
                unit_id: filter.unit_id.as_deref(),
                q: filter.q.as_deref(),
                order: "x.expires_on, x.id",
            },
            apply,
            page,
            |r, holder| {
                Ok(LicenceLedgerRow {
                    licence: licence_of(r, today)?,
                    enterprise_name: holder.enterprise_name,
                    enterprise_uscc: holder.enterprise_uscc,
                    unit_name: holder.unit_name,
                })
            },
        )
        .await
    }

    pub async fn create_licence(
        &self,
        reach: &Reach,
        actor: &Actor,
        enterprise_id: &str,
        write: LicenceWrite,
    ) -> Result<Licence, StoreError> {
        let write = write.validate().map_err(StoreError::Invalid)?;
        let now = self.now();
        let mut tx = self.begin().await?;
        let e = self.reached_enterprise(&mut tx, reach, enterprise_id).await?;
        if e.status == "closed" {
            return Err(StoreError::Conflict("enterprise_closed"));
        }
        let id = add_licence(&mut tx, now, actor, &e, &write).await?;
        tx.commit().await?;
        self.licence(self.reader(), enterprise_id, &id).await
    }

    pub async fn update_licence(
        &self,
        reach: &Reach,
        actor: &Actor,
        enterprise_id: &str,
        id: &str,
        write: LicenceWrite,
    ) -> Result<Licence, StoreError> {
        let write = write.validate().map_err(StoreError::Invalid)?;
        let now = self.now();
        let mut tx = self.begin().await?;
        let e = self.reached_enterprise(&mut tx, reach, enterprise_id).await?;
        let before = self.licence(&mut *tx, enterprise_id, id).await?;
        if before.withdrawn {
            return Err(StoreError::Conflict("licence_withdrawn"));
        }
        if let Some(v) = write.version
            && v != before.version
        {
            return Err(StoreError::Conflict("stale_version"));
        }
        change_licence(&mut tx, now, actor, &e, id, &before, &write).await?;
        tx.commit().await?;
        self.licence(self.reader(), enterprise_id, id).await
    }

    /// Withdraws a licence (revoked, replaced, surrendered): it stays on record, its clock stops.
    pub async fn withdraw_licence(
        &self,
        reach: &Reach,
        actor: &Actor,
        enterprise_id: &str,
        id: &str,
        reason: &str,
    ) -> Result<Licence, StoreError> {
        let reason = beacon_core::text::plain_text(reason, 500)
            .map_err(|c| StoreError::invalid("reason", c))?;
        let now = self.now();
        let mut tx = self.begin().await?;
        let e = self.reached_enterprise(&mut tx, reach, enterprise_id).await?;
        let before = self.licence(&mut *tx, enterprise_id, id).await?;
        if before.withdrawn {
            return Err(StoreError::Conflict("licence_withdrawn"));
        }
        sqlx::query(
            "UPDATE enterprise_licences SET withdrawn = $1, version = version + 1, updated_at = $2 \
             WHERE id = $3",
        )
        .bind(true)
        .bind(to_millis(now))
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await?;
        deadline::finish(&mut tx, now, ("enterprise_licence", id)).await?;
        record_under(
            &mut tx,
            now,
            actor,
            &e,
            "licence_withdrawn",
            ("licence_id", id),
            json!({
                "kind": before.kind, "number": before.number, "reason": reason,
            }),
        )
        .await?;
        tx.commit().await?;
        self.licence(self.reader(), enterprise_id, id).await
    }

    /// One licence of the enterprise, read through `executor` (the reader, or
    /// the transaction that is changing it).
    async fn licence<'c, E>(
        &self,
        executor: E,
        enterprise_id: &str,
        id: &str,
    ) -> Result<Licence, StoreError>
    where
        E: sqlx::Executor<'c, Database = sqlx::Any>,
    {
        let row =
            sqlx::query("SELECT * FROM enterprise_licences WHERE id = $1 AND enterprise_id = $2")
                .bind(id.to_owned())
                .bind(enterprise_id.to_owned())
                .fetch_optional(executor)
                .await?
                .ok_or(StoreError::NotFound)?;
        licence_of(&row, today(self.now()))
    }

    /// Fires a licence's reminder or expiry: tells the enterprise's accounts and the
    /// regulators of its territory (the unit and the one above) and of its department.
    pub async fn fire_licence_stage(
        &self,
        tx: &mut Tx,
        due: &DueStage,
        mail: bool,
    ) -> Result<Vec<Delivery>, StoreError> {
        let now = self.now();
        let Some(row) = sqlx::query(
            "SELECT l.*, e.name AS enterprise_name, e.unit_id AS unit_id, \
             e.department_id AS department_id, e.status AS enterprise_status \
             FROM enterprise_licences l JOIN enterprises e ON e.id = l.enterprise_id WHERE l.id = $1",
        )
        .bind(due.subject_id.clone())
        .fetch_optional(&mut **tx)
        .await?
        else {
            return Ok(Vec::new());
        };
        let licence = licence_of(&row, today(now))?;
        let status: String = row.try_get("enterprise_status")?;
        if licence.withdrawn || status == "closed" {
            return Ok(Vec::new());
        }
        let enterprise_name: String = row.try_get("enterprise_name")?;
        let unit_id: String = row.try_get("unit_id")?;
        let department_id: Option<String> = row.try_get("department_id")?;
        let to = people_to_tell(tx, &licence.enterprise_id, &unit_id, department_id.as_deref(), 1)
            .await?;
        let kind = if due.stage == "expired" {
            "enterprise.licence_expired"
        } else {
            "enterprise.licence_expiring"
        };
        let data = json!({
            "enterprise_name": enterprise_name,
            "licence_kind": licence.kind,
            "number": licence.number,
            "expires_on": licence.expires_on,
        });
        timeline::append(
            tx,
            now,
            &Actor::system("scheduler"),
            ("enterprise", &licence.enterprise_id),
            Some(&unit_id),
            if due.stage == "expired" { "licence_expired" } else { "licence_expiring" },
            json!({ "licence_id": licence.id, "kind": licence.kind, "number": licence.number,
                    "expires_on": licence.expires_on }),
        )
        .await?;
        let notes = to
            .into_iter()
            .map(|user_id| NewNotification {
                user_id,
                kind,
                unit_id: Some(unit_id.clone()),
                subject: Some(("enterprise", licence.enterprise_id.clone())),
                data: data.clone(),
            })
            .collect();
        notify::send(tx, now, mail, notes).await
    }
}

/// Adds a licence to a reached enterprise in `tx`: the row, its expiry clock, the timeline and
/// the audit record. Returns its id.
pub(super) async fn add_licence(
    tx: &mut Tx,
    now: DateTime<Utc>,
    actor: &Actor,
    e: &Reached,
    write: &LicenceWrite,
) -> Result<String, StoreError> {
    let enterprise_id = e.id.as_str();
    let id = new_id();
    sqlx::query(
        "INSERT INTO enterprise_licences (id, enterprise_id, kind, number, issuer, issued_on, \
             expires_on, scope_text, holder_name, withdrawn, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $11)",
    )
    .bind(id.clone())
    .bind(enterprise_id.to_owned())
    .bind(write.kind.clone())
    .bind(write.number.clone())
    .bind(write.issuer.clone())
    .bind(iso(write.issued_on))
    .bind(iso(write.expires_on))
    .bind(write.scope_text.clone())
    .bind(write.holder_name.clone())
    .bind(false)
    .bind(to_millis(now))
    .execute(&mut **tx)
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::Conflict("already_exists") => StoreError::invalid("number", "already_exists"),
        other => other,
    })?;
    schedule_expiry(tx, now, &id, &e.unit_id, write.expires_on).await?;
    record_under(
        tx,
        now,
        actor,
        e,
        "licence_added",
        ("licence_id", &id),
        json!({
            "kind": write.kind, "number": write.number, "expires_on": write.expires_on,
        }),
    )
    .await?;
    Ok(id)
}

/// Rewrites a licence of a reached enterprise in `tx`, with its clock, timeline and audit.
pub(super) async fn change_licence(
    tx: &mut Tx,
    now: DateTime<Utc>,
    actor: &Actor,
    e: &Reached,
    id: &str,
    before: &Licence,
    write: &LicenceWrite,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE enterprise_licences SET kind = $1, number = $2, issuer = $3, issued_on = $4, \
             expires_on = $5, scope_text = $6, holder_name = $7, version = version + 1, \
             updated_at = $8 WHERE id = $9",
    )
    .bind(write.kind.clone())
    .bind(write.number.clone())
    .bind(write.issuer.clone())
    .bind(iso(write.issued_on))
    .bind(iso(write.expires_on))
    .bind(write.scope_text.clone())
    .bind(write.holder_name.clone())
    .bind(to_millis(now))
    .bind(id.to_owned())
    .execute(&mut **tx)
    .await
    .map_err(|e| match StoreError::from(e) {
        StoreError::Conflict("already_exists") => StoreError::invalid("number", "already_exists"),
        other => other,
    })?;
    if before.expires_on != write.expires_on {
        schedule_expiry(tx, now, id, &e.unit_id, write.expires_on).await?;
    }
    let mut diff = serde_json::Map::new();
    let mut pair = |field: &str, old: Value, new: Value| {
        if old != new {
            diff.insert(field.to_owned(), json!({ "before": old, "after": new }));
        }
    };
    pair("kind", json!(before.kind), json!(write.kind));
    pair("number", json!(before.number), json!(write.number));
    pair("issuer", json!(before.issuer), json!(write.issuer));
    pair("issued_on", json!(before.issued_on), json!(write.issued_on));
    pair("expires_on", json!(before.expires_on), json!(write.expires_on));
    pair("scope_text", json!(before.scope_text), json!(write.scope_text));
    pair("holder_name", json!(before.holder_name), json!(write.holder_name));
    diff.insert("number_now".into(), json!(write.number));
    record_under(tx, now, actor, e, "licence_updated", ("licence_id", id), Value::Object(diff))
        .await?;
    Ok(())
}
