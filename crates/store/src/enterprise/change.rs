//! Changes to an enterprise's identity (its code, name or territorial unit) asked by the
//! enterprise itself: they wait until a regulator who reaches the enterprise confirms or
//! rejects them. A newer request replaces one still waiting.

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::enterprise::Uscc;
use beacon_core::id::new_id;
use beacon_core::text::plain_text;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::Row;
use utoipa::ToSchema;

use super::{Enterprise, Reach, announce, check_unit, code_taken, refresh_search_text};
use crate::{Store, StoreError, Tx, audit, timeline};

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct EnterpriseChange {
    pub id: String,
    pub enterprise_id: String,
    /// Field → the value asked for (`uscc`, `name`, `unit_id`).
    #[schema(value_type = Object)]
    pub fields: Value,
    /// `pending`, `confirmed`, `rejected` or `replaced`.
    pub status: String,
    pub requested_name: String,
    pub requested_at: DateTime<Utc>,
    pub decided_name: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeDecision {
    pub confirm: bool,
    /// Required when rejecting.
    #[serde(default)]
    pub reason: String,
}

pub(super) async fn request(
    tx: &mut Tx,
    now: DateTime<Utc>,
    actor: &Actor,
    before: &Enterprise,
    fields: serde_json::Map<String, Value>,
) -> Result<EnterpriseChange, StoreError> {
    sqlx::query(
        "UPDATE enterprise_changes SET status = 'replaced', decided_at = $1 \
         WHERE enterprise_id = $2 AND status = 'pending'",
    )
    .bind(to_millis(now))
    .bind(before.id.clone())
    .execute(&mut **tx)
    .await?;
    let id = new_id();
    let fields = Value::Object(fields);
    sqlx::query(
        "INSERT INTO enterprise_changes (id, enterprise_id, unit_id, fields, status, requested_by, \
         requested_name, requested_at, reason) VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, '')",
    )
    .bind(id.clone())
    .bind(before.id.clone())
    .bind(before.unit.id.clone())
    .bind(fields.to_string())
    .bind(actor.user_id.clone())
    .bind(actor.name.clone())
    .bind(to_millis(now))
    .execute(&mut **tx)
    .await?;
    timeline::append(
        tx,
        now,
        actor,
        ("enterprise", &before.id),
        Some(&before.unit.id),
        "change_requested",
        json!({ "change_id": id, "fields": fields }),
    )
    .await?;
    audit::append(
        tx,
        now,
        NewAuditRecord::new(actor, "enterprise.change_requested", Outcome::Success)
            .target("enterprise", &before.id)
            .unit(Some(&before.unit.id))
            .detail(json!({ "fields": fields })),
    )
    .await?;
    Ok(EnterpriseChange {
        id,
        enterprise_id: before.id.clone(),
        fields,
        status: "pending".into(),
        requested_name: actor.name.clone(),
        requested_at: now,
        decided_name: None,
        decided_at: None,
        reason: String::new(),
    })
}

fn change_of(r: &sqlx::any::AnyRow) -> Result<EnterpriseChange, StoreError> {
    let fields: String = r.try_get("fields")?;
    Ok(EnterpriseChange {
        id: r.try_get("id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        fields: serde_json::from_str(&fields).map_err(StoreError::corrupt)?,
        status: r.try_get("status")?,
        requested_name: r.try_get("requested_name")?,
        requested_at: from_millis(r.try_get("requested_at")?),
        decided_name: r.try_get("decided_name")?,
        decided_at: r.try_get::<Option<i64>, _>("decided_at")?.map(from_millis),
        reason: r.try_get("reason")?,
    })
}

impl Store {
    /// The identity changes an enterprise asked for, newest first.
    pub async fn enterprise_changes(
        &self,
        reach: &Reach,
        enterprise_id: &str,
    ) -> Result<Vec<EnterpriseChange>, StoreError> {
        self.enterprise(reach, enterprise_id).await?;
        let rows = sqlx::query(
            "SELECT * FROM enterprise_changes WHERE enterprise_id = $1 \
             ORDER BY requested_at DESC LIMIT 200",
        )
        .bind(enterprise_id.to_owned())
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(change_of).collect()
    }

    /// A regulator confirms (the fields apply) or rejects (with a reason) a waiting change.
    pub async fn decide_enterprise_change(
        &self,
        reach: &Reach,
        actor: &Actor,
        enterprise_id: &str,
        change_id: &str,
        decision: ChangeDecision,
    ) -> Result<EnterpriseChange, StoreError> {
        let now = self.now();
        let reason = if decision.confirm {
            String::new()
        } else {
            plain_text(&decision.reason, 500).map_err(|c| StoreError::invalid("reason", c))?
        };
        let mut tx = self.begin().await?;
        let e = self.reached_enterprise(&mut tx, reach, enterprise_id).await?;
        let row =
            sqlx::query("SELECT * FROM enterprise_changes WHERE id = $1 AND enterprise_id = $2")
                .bind(change_id.to_owned())
                .bind(enterprise_id.to_owned())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
        let change = change_of(&row)?;
        if change.status != "pending" {
            return Err(StoreError::Conflict("not_pending"));
        }
        if e.status == "closed" {
            return Err(StoreError::Conflict("enterprise_closed"));
        }
        let status = if decision.confirm { "confirmed" } else { "rejected" };
        let mut unit_id = e.unit_id.clone();
        if decision.confirm {
            let text = |k: &str| change.fields.get(k).and_then(Value::as_str).map(str::to_owned);
            if let Some(code) = text("uscc") {
                let code = Uscc::parse(&code).map_err(|c| StoreError::invalid("uscc", c))?;
                if code_taken(&mut tx, code.as_str(), Some(enterprise_id)).await? {
                    return Err(StoreError::invalid("uscc", "already_exists"));
                }
                set_field(&mut tx, enterprise_id, "uscc", code.as_str()).await?;
            }
            if let Some(name) = text("name") {
                set_field(&mut tx, enterprise_id, "name", &name).await?;
            }
            if let Some(unit) = text("unit_id") {
                // The regulator may move the enterprise only within its own reach.
                let scope = match reach {
                    Reach::Scope(scope) => Some(scope),
                    Reach::Own(_) => return Err(StoreError::NotFound),
                };
                check_unit(&mut tx, scope, "unit_id", &unit, false).await?;
                set_field(&mut tx, enterprise_id, "unit_id", &unit).await?;
                unit_id = unit;
            }
            refresh_search_text(&mut tx, enterprise_id).await?;
        }
        sqlx::query(
            "UPDATE enterprise_changes SET status = $1, decided_name = $2, decided_at = $3, \
             reason = $4 WHERE id = $5",
        )
        .bind(status)
        .bind(actor.name.clone())
        .bind(to_millis(now))
        .bind(reason.clone())
        .bind(change_id.to_owned())
        .execute(&mut *tx)
        .await?;
        let detail = json!({ "change_id": change_id, "fields": change.fields, "reason": reason });
        timeline::append(
            &mut tx,
            now,
            actor,
            ("enterprise", enterprise_id),
            Some(&unit_id),
            if decision.confirm { "change_confirmed" } else { "change_rejected" },
            detail.clone(),
        )
        .await?;
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(
                actor,
                if decision.confirm {
                    "enterprise.change_confirmed"
                } else {
                    "enterprise.change_rejected"
                },
                Outcome::Success,
            )
            .target("enterprise", enterprise_id)
            .unit(Some(&unit_id))
            .detail(detail),
        )
        .await?;
        announce(
            &mut tx,
            now,
            "enterprise.updated",
            enterprise_id,
            &unit_id,
            e.department_id.as_deref(),
        )
        .await?;
        tx.commit().await?;
        let row = sqlx::query("SELECT * FROM enterprise_changes WHERE id = $1")
            .bind(change_id.to_owned())
            .fetch_one(self.reader())
            .await?;
        change_of(&row)
    }
}

/// One identity column (`uscc`, `name` or `unit_id`: never input) set to a confirmed value.
async fn set_field(
    tx: &mut Tx,
    id: &str,
    column: &'static str,
    value: &str,
) -> Result<(), StoreError> {
    let sql = format!("UPDATE enterprises SET {column} = $1, version = version + 1 WHERE id = $2");
    sqlx::query(&sql).bind(value.to_owned()).bind(id.to_owned()).execute(&mut **tx).await?;
    Ok(())
}
