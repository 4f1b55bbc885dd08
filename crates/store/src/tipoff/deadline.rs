//! A tip-off's verification clock, on the shared deadline mechanism: a reminder three days
//! before the period ends and the overdue alert when it has ended (24:00 of its last day), to
//! the handlers of the handling unit; the overdue alert also to those of the unit above.

use beacon_core::audit::Actor;
use beacon_core::org::Role;
use beacon_core::tipoff::TipoffStatus;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Row;

use crate::deadline::{self, DueStage, NewDeadline};
use crate::notify::{self, Delivery, NewNotification};
use crate::org::unit_users_with_roles;
use crate::{Store, StoreError, Tx, timeline};

/// The deadline kind of a tip-off's verification.
pub const TIPOFF_DEADLINE: &str = "tipoff.verification";

pub(super) async fn schedule(
    tx: &mut Tx,
    now: DateTime<Utc>,
    id: &str,
    unit_id: &str,
    due: DateTime<Utc>,
) -> Result<(), StoreError> {
    let stages = vec![(due - chrono::Duration::days(3), "remind_3"), (due, "overdue")];
    deadline::schedule(
        tx,
        now,
        now,
        NewDeadline {
            kind: TIPOFF_DEADLINE,
            subject: ("tipoff", id.to_owned()),
            unit_id: Some(unit_id.to_owned()),
            due_at: due,
            stages,
        },
    )
    .await?;
    Ok(())
}

pub(super) async fn stop(tx: &mut Tx, now: DateTime<Utc>, id: &str) -> Result<(), StoreError> {
    deadline::finish(tx, now, ("tipoff", id)).await
}

/// The clock follows a transferred tip-off to its new unit.
pub(super) async fn move_to(tx: &mut Tx, id: &str, unit_id: &str) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE deadlines SET unit_id = $1 WHERE subject_type = 'tipoff' AND subject_id = $2 \
         AND done_at IS NULL",
    )
    .bind(unit_id.to_owned())
    .bind(id.to_owned())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The handlers of `unit_id` and of `levels_up` units above it.
async fn handlers(tx: &mut Tx, unit_id: &str, levels_up: i64) -> Result<Vec<String>, StoreError> {
    let units = sqlx::query(
        "SELECT ancestor_id FROM unit_closure WHERE descendant_id = $1 AND depth <= $2",
    )
    .bind(unit_id.to_owned())
    .bind(levels_up)
    .fetch_all(&mut **tx)
    .await?;
    let mut out = Vec::new();
    for unit in units {
        let unit: String = unit.try_get("ancestor_id")?;
        for user in unit_users_with_roles(tx, &unit, &super::handler_roles()).await? {
            if !out.contains(&user) {
                out.push(user);
            }
        }
    }
    Ok(out)
}

/// Notifies the handlers of a unit (and `levels_up` above) of a tip-off, by its number.
pub(super) async fn tell_handlers(
    tx: &mut Tx,
    now: DateTime<Utc>,
    unit_id: &str,
    levels_up: i64,
    kind: &'static str,
    id: &str,
    number: &str,
) -> Result<Vec<Delivery>, StoreError> {
    let to = handlers(tx, unit_id, levels_up).await?;
    send(tx, now, to, kind, unit_id, id, json!({ "number": number }), false).await
}

/// Notifies the leaders of a unit that a reward waits for their approval.
pub(super) async fn tell_leaders(
    tx: &mut Tx,
    now: DateTime<Utc>,
    unit_id: &str,
    id: &str,
    number: &str,
) -> Result<Vec<Delivery>, StoreError> {
    let to = unit_users_with_roles(tx, unit_id, &[Role::Leader]).await?;
    let data = json!({ "number": number });
    send(tx, now, to, "tipoff.reward_proposed", unit_id, id, data, false).await
}

#[allow(clippy::too_many_arguments)]
async fn send(
    tx: &mut Tx,
    now: DateTime<Utc>,
    to: Vec<String>,
    kind: &'static str,
    unit_id: &str,
    id: &str,
    data: serde_json::Value,
    mail: bool,
) -> Result<Vec<Delivery>, StoreError> {
    let notes = to
        .into_iter()
        .map(|user_id| NewNotification {
            user_id,
            kind,
            unit_id: Some(unit_id.to_owned()),
            subject: Some(("tipoff", id.to_owned())),
            data: data.clone(),
        })
        .collect();
    notify::send(tx, now, mail, notes).await
}

impl Store {
    /// Fires a stage of a tip-off's verification clock; nothing once it is concluded.
    pub async fn fire_tipoff_stage(
        &self,
        tx: &mut Tx,
        due: &DueStage,
        mail: bool,
    ) -> Result<Vec<Delivery>, StoreError> {
        let now = self.now();
        let Some(row) =
            sqlx::query("SELECT number, status, unit_id, verify_by FROM tipoffs WHERE id = $1")
                .bind(due.subject_id.clone())
                .fetch_optional(&mut **tx)
                .await?
        else {
            return Ok(Vec::new());
        };
        let status: String = row.try_get("status")?;
        if status != TipoffStatus::Received.as_str() {
            return Ok(Vec::new());
        }
        let unit_id: String = row.try_get("unit_id")?;
        let number: String = row.try_get("number")?;
        let verify_by: String = row.try_get("verify_by")?;
        let overdue = due.stage == "overdue";
        if overdue {
            timeline::append(
                tx,
                now,
                &Actor::system("scheduler"),
                ("tipoff", &due.subject_id),
                Some(&unit_id),
                "overdue",
                json!({ "verify_by": verify_by }),
            )
            .await?;
        }
        let to = handlers(tx, &unit_id, if overdue { 1 } else { 0 }).await?;
        let kind = if overdue { "tipoff.overdue" } else { "tipoff.deadline_near" };
        let data = json!({ "number": number, "verify_by": verify_by });
        send(tx, now, to, kind, &unit_id, &due.subject_id, data, mail).await
    }
}
