//! A hidden danger's rectification clock, on the shared deadline mechanism: reminders 3 days
//! and 1 day before the deadline (at the start of the day, counting the deadline day), and the
//! overdue alert when the deadline day has ended (24:00 China time). Reminders go to the
//! enterprise's own accounts and the regulators of its territory, the unit above it and its
//! supervising department; the overdue alert also one level further up.

use beacon_core::audit::Actor;
use beacon_core::danger::{DangerStatus, REMINDER_DAYS};
use beacon_core::org::Role;
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde_json::json;
use sqlx::Row;

use crate::deadline::{self, DueStage, NewDeadline};
use crate::enterprise::start_of;
use crate::notify::{self, Delivery, NewNotification};
use crate::{Store, StoreError, Tx, timeline};

/// The deadline kind of a hidden danger's rectification.
pub const DANGER_DEADLINE: &str = "danger.rectification";

/// (Re)schedules the clock of an open hidden danger whose deadline is `deadline`.
pub(super) async fn schedule(
    tx: &mut Tx,
    now: DateTime<Utc>,
    id: &str,
    unit_id: &str,
    deadline: NaiveDate,
) -> Result<(), StoreError> {
    deadline::finish(tx, now, ("hidden_danger", id)).await?;
    let Some(after) = deadline.checked_add_days(Days::new(1)) else { return Ok(()) };
    let due = start_of(after);
    let mut stages = vec![(due, "overdue")];
    for days in REMINDER_DAYS {
        let stage = if days == 3 { "remind_3" } else { "remind_1" };
        stages.push((due - chrono::Duration::days(i64::try_from(days).unwrap_or(0)), stage));
    }
    deadline::schedule(
        tx,
        now,
        now,
        NewDeadline {
            kind: DANGER_DEADLINE,
            subject: ("hidden_danger", id.to_owned()),
            unit_id: Some(unit_id.to_owned()),
            due_at: due,
            stages,
        },
    )
    .await?;
    Ok(())
}

/// Stops the clock (the hidden danger is closed).
pub(super) async fn stop(tx: &mut Tx, now: DateTime<Utc>, id: &str) -> Result<(), StoreError> {
    deadline::finish(tx, now, ("hidden_danger", id)).await
}

/// The unit above `unit_id`, if any.
async fn parent_of(tx: &mut Tx, unit_id: &str) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query("SELECT parent_id FROM units WHERE id = $1")
        .bind(unit_id.to_owned())
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.try_get("parent_id"))
        .transpose()?
        .flatten())
}

impl Store {
    /// Fires a stage of a hidden danger's clock: the reminder or the overdue alert, to the
    /// enterprise and its regulators; nothing once the hidden danger is closed.
    pub async fn fire_danger_stage(
        &self,
        tx: &mut Tx,
        due: &DueStage,
        mail: bool,
    ) -> Result<Vec<Delivery>, StoreError> {
        let now = self.now();
        let Some(row) = sqlx::query(
            "SELECT h.number, h.status, h.level, h.deadline, h.enterprise_id, \
             e.name AS enterprise_name, e.unit_id, e.department_id \
             FROM hidden_dangers h JOIN enterprises e ON e.id = h.enterprise_id WHERE h.id = $1",
        )
        .bind(due.subject_id.clone())
        .fetch_optional(&mut **tx)
        .await?
        else {
            return Ok(Vec::new());
        };
        let status: String = row.try_get("status")?;
        if status == DangerStatus::Closed.as_str() {
            return Ok(Vec::new());
        }
        let enterprise_id: String = row.try_get("enterprise_id")?;
        let unit_id: String = row.try_get("unit_id")?;
        let department_id: Option<String> = row.try_get("department_id")?;
        let overdue = due.stage == "overdue";
        let mut to = std::collections::BTreeSet::new();
        let own = sqlx::query("SELECT id FROM users WHERE enterprise_id = $1 AND active = $2")
            .bind(enterprise_id.clone())
            .bind(true)
            .fetch_all(&mut **tx)
            .await?;
        for r in own {
            to.insert(r.try_get::<String, _>("id")?);
        }
        let mut units = vec![unit_id.clone()];
        let mut above = parent_of(tx, &unit_id).await?;
        for _ in 0..if overdue { 2 } else { 1 } {
            let Some(unit) = above.take() else { break };
            above = parent_of(tx, &unit).await?;
            units.push(unit);
        }
        units.extend(department_id);
        let regulators = [Role::Inspector, Role::Staff];
        for unit in &units {
            to.extend(crate::org::unit_users_with_roles(tx, unit, &regulators).await?);
        }
        let number: String = row.try_get("number")?;
        let deadline: String = row.try_get("deadline")?;
        let data = json!({
            "number": number,
            "enterprise_name": row.try_get::<String, _>("enterprise_name")?,
            "level": row.try_get::<String, _>("level")?,
            "deadline": deadline,
        });
        if overdue {
            timeline::append(
                tx,
                now,
                &Actor::system("scheduler"),
                ("hidden_danger", &due.subject_id),
                Some(&unit_id),
                "overdue",
                json!({ "deadline": deadline }),
            )
            .await?;
        }
        let kind = if overdue { "danger.overdue" } else { "danger.deadline_near" };
        let notes = to
            .into_iter()
            .map(|user_id| NewNotification {
                user_id,
                kind,
                unit_id: Some(unit_id.clone()),
                // The enterprise's page, until the hidden danger has a page of its own.
                subject: Some(("enterprise", enterprise_id.clone())),
                data: data.clone(),
            })
            .collect();
        notify::send(tx, now, mail, notes).await
    }
}
