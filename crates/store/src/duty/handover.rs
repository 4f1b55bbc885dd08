//! Handover (交接班): the outgoing shift writes what is still open, the incoming shift
//! acknowledges it, each by their own session; the acknowledgement closes the outgoing shift.

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::scope::Scope;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

use super::display_name;
use super::roster::unit_name;
use crate::notify::{self, Delivery, NewNotification};
use crate::{Store, StoreError, audit, deadline, timeline};

/// One open matter handed over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoverItem {
    /// `incident`, `follow_up`, `instruction` or `other`.
    pub kind: String,
    pub text: String,
    /// The duty-log entry (or, later, the incident) it refers to.
    #[serde(default)]
    pub ref_id: Option<String>,
}

pub const ITEM_KINDS: [&str; 4] = ["incident", "follow_up", "instruction", "other"];

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandoverWrite {
    pub open_items: Vec<HandoverItem>,
    #[serde(default)]
    pub notes: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Handover {
    pub shift_id: String,
    pub unit_id: String,
    pub open_items: Vec<HandoverItem>,
    pub notes: String,
    pub written_by: String,
    pub written_by_name: String,
    pub written_at: DateTime<Utc>,
    pub next_shift_id: Option<String>,
    pub acknowledged_by_name: Option<String>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

fn handover_row(r: &AnyRow) -> Result<Handover, StoreError> {
    let items: String = r.try_get("open_items")?;
    Ok(Handover {
        shift_id: r.try_get("shift_id")?,
        unit_id: r.try_get("unit_id")?,
        open_items: serde_json::from_str(&items).map_err(StoreError::corrupt)?,
        notes: r.try_get("notes")?,
        written_by: r.try_get("written_by")?,
        written_by_name: r.try_get("written_by_name")?,
        written_at: from_millis(r.try_get("written_at")?),
        next_shift_id: r.try_get("next_shift_id")?,
        acknowledged_by_name: r.try_get("acknowledged_by_name")?,
        acknowledged_at: r.try_get::<Option<i64>, _>("acknowledged_at")?.map(from_millis),
    })
}

async fn read(
    conn: &mut sqlx::AnyConnection,
    shift_id: &str,
) -> Result<Option<Handover>, StoreError> {
    sqlx::query("SELECT * FROM duty_handovers WHERE shift_id = $1")
        .bind(shift_id.to_owned())
        .fetch_optional(conn)
        .await?
        .as_ref()
        .map(handover_row)
        .transpose()
}

impl HandoverWrite {
    pub fn validate(mut self) -> Result<HandoverWrite, beacon_core::error::ValidationErrors> {
        let mut errors = beacon_core::error::ValidationErrors::new();
        if self.open_items.len() > 50 {
            errors.add("open_items", "too_many");
        }
        for (i, item) in self.open_items.iter_mut().enumerate() {
            if !ITEM_KINDS.contains(&item.kind.as_str()) {
                errors.add(format!("open_items.{i}.kind"), "unknown");
            }
            match beacon_core::text::free_text(&item.text, 1000) {
                Ok(t) if !t.is_empty() => item.text = t,
                Ok(_) => errors.add(format!("open_items.{i}.text"), "required"),
                Err(code) => errors.add(format!("open_items.{i}.text"), code),
            }
            if item.ref_id.as_deref().is_some_and(|r| !beacon_core::id::looks_like_id(r)) {
                errors.add(format!("open_items.{i}.ref_id"), "invalid");
            }
        }
        match beacon_core::text::free_text(&self.notes, 4000) {
            Ok(t) => self.notes = t,
            Err(code) => errors.add("notes", code),
        }
        errors.into_result().map(|()| self)
    }
}

impl Store {
    pub async fn handover(
        &self,
        scope: &Scope,
        shift_id: &str,
    ) -> Result<Option<Handover>, StoreError> {
        self.duty_shift(scope, shift_id).await?;
        let mut conn = self.reader().acquire().await?;
        read(&mut conn, shift_id).await
    }

    /// Writes (or rewrites, until acknowledged) the handover of a shift. Only someone on the
    /// shift may write it, once the shift has begun.
    pub async fn write_handover(
        &self,
        scope: &Scope,
        actor: &Actor,
        mail: bool,
        shift_id: &str,
        write: HandoverWrite,
    ) -> Result<(Handover, Vec<Delivery>), StoreError> {
        let now = self.now();
        let me = actor.user_id.clone().ok_or(StoreError::Forbidden("person_only"))?;
        let mut tx = self.begin().await?;
        let shift = self.shift_in_tx(&mut tx, scope, shift_id).await?;
        if !shift.people.iter().any(|p| p.user_id == me) {
            return Err(StoreError::Forbidden("not_on_shift"));
        }
        if shift.status != "published" {
            return Err(StoreError::Conflict("shift_not_published"));
        }
        if now < shift.starts_at {
            return Err(StoreError::Conflict("shift_not_started"));
        }
        if let Some(existing) = read(&mut tx, shift_id).await?
            && existing.acknowledged_at.is_some()
        {
            return Err(StoreError::Conflict("handover_acknowledged"));
        }
        let next: Option<String> = sqlx::query(
            "SELECT id FROM duty_shifts WHERE unit_id = $1 AND starts_at = $2 AND status = 'published'",
        )
        .bind(shift.unit_id.clone())
        .bind(to_millis(shift.ends_at))
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get("id"))
        .transpose()?;
        let items = serde_json::to_string(&write.open_items).map_err(StoreError::corrupt)?;
        let writer = display_name(&mut tx, actor).await?;
        sqlx::query(
            "INSERT INTO duty_handovers (shift_id, unit_id, open_items, notes, written_by, \
             written_by_name, written_at, next_shift_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (shift_id) DO UPDATE SET open_items = $3, notes = $4, written_by = $5, \
             written_by_name = $6, written_at = $7, next_shift_id = $8",
        )
        .bind(shift.id.clone())
        .bind(shift.unit_id.clone())
        .bind(items)
        .bind(write.notes.clone())
        .bind(me.clone())
        .bind(writer)
        .bind(to_millis(now))
        .bind(next.clone())
        .execute(&mut *tx)
        .await?;
        timeline::append(
            &mut tx,
            now,
            actor,
            ("duty_shift", &shift.id),
            Some(&shift.unit_id),
            "handover_written",
            json!({ "open_items": write.open_items.len() }),
        )
        .await?;
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "duty.handover_written", Outcome::Success)
                .target("duty_shift", &shift.id)
                .unit(Some(&shift.unit_id)),
        )
        .await?;
        let mut deliveries = Vec::new();
        if let Some(next_id) = &next {
            let incoming = self.shift_in_tx(&mut tx, scope, next_id).await?;
            let unit = unit_name(&mut tx, &shift.unit_id).await?;
            let notes = incoming
                .people
                .iter()
                .map(|p| NewNotification {
                    user_id: p.user_id.clone(),
                    kind: "duty.handover_written",
                    unit_id: Some(shift.unit_id.clone()),
                    subject: Some(("duty_shift", shift.id.clone())),
                    data: json!({ "unit_name": unit, "starts_at": incoming.starts_at, "from_shift": shift.id }),
                })
                .collect();
            deliveries = notify::send(&mut tx, now, mail, notes).await?;
        }
        let out = read(&mut tx, shift_id).await?.ok_or(StoreError::NotFound)?;
        tx.commit().await?;
        Ok((out, deliveries))
    }

    /// The incoming shift acknowledges the handover, which closes the outgoing shift.
    pub async fn acknowledge_handover(
        &self,
        scope: &Scope,
        actor: &Actor,
        shift_id: &str,
    ) -> Result<Handover, StoreError> {
        let now = self.now();
        let me = actor.user_id.clone().ok_or(StoreError::Forbidden("person_only"))?;
        let mut tx = self.begin().await?;
        let shift = self.shift_in_tx(&mut tx, scope, shift_id).await?;
        let handover =
            read(&mut tx, shift_id).await?.ok_or(StoreError::Conflict("handover_missing"))?;
        if handover.acknowledged_at.is_some() {
            return Err(StoreError::Conflict("handover_acknowledged"));
        }
        let Some(next_id) = &handover.next_shift_id else {
            return Err(StoreError::Conflict("no_next_shift"));
        };
        let incoming = self.shift_in_tx(&mut tx, scope, next_id).await?;
        if !incoming.people.iter().any(|p| p.user_id == me) {
            return Err(StoreError::Forbidden("not_on_next_shift"));
        }
        if handover.written_by == me {
            return Err(StoreError::Forbidden("own_handover"));
        }
        let reader = display_name(&mut tx, actor).await?;
        sqlx::query(
            "UPDATE duty_handovers SET acknowledged_by = $1, acknowledged_by_name = $2, \
             acknowledged_at = $3 WHERE shift_id = $4",
        )
        .bind(me.clone())
        .bind(reader)
        .bind(to_millis(now))
        .bind(shift_id.to_owned())
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE duty_shifts SET closed_at = $1, updated_at = $1 WHERE id = $2")
            .bind(to_millis(now))
            .bind(shift_id.to_owned())
            .execute(&mut *tx)
            .await?;
        deadline::finish(&mut tx, now, ("duty_shift", shift_id)).await?;
        timeline::append(
            &mut tx,
            now,
            actor,
            ("duty_shift", shift_id),
            Some(&shift.unit_id),
            "handover_acknowledged",
            json!({ "next_shift_id": next_id }),
        )
        .await?;
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "duty.handover_acknowledged", Outcome::Success)
                .target("duty_shift", shift_id)
                .unit(Some(&shift.unit_id)),
        )
        .await?;
        let out = read(&mut tx, shift_id).await?.ok_or(StoreError::NotFound)?;
        super::announce_roster(&mut tx, now, "duty.roster_changed", &shift.unit_id, Some(shift_id))
            .await?;
        tx.commit().await?;
        Ok(out)
    }
}
