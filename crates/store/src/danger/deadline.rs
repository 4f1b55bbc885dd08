//! A hidden danger's rectification clock, on the shared deadline mechanism: reminders 3 days
//! and 1 day before the deadline (at the start of the day, counting the deadline day), and the
//! overdue alert when the deadline day has ended (24:00 China time). Reminders go to the
//! enterprise's own accounts and the regulators of its territory, the unit above it and its
//! supervising department; the overdue alert also one level further up.

use beacon_core::audit::Actor;
use beacon_core::danger::{DangerStatus, REMINDER_DAYS};
use chrono::{DateTime, Days, NaiveDate, Utc};
use serde_json::json;
use sqlx::Row;

use crate::deadline::{self, DueStage, NewDeadline};
use crate::enterprise::{people_to_tell, start_of};
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
        // The overdue alert goes one level further up than the reminders.
        let levels_up = if overdue { 2 } else { 1 };
        let to = people_to_tell(tx, &enterprise_id, &unit_id, department_id.as_deref(), levels_up)
            .await?;
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
                subject: Some(("hidden_danger", due.subject_id.clone())),
                data: data.clone(),
            })
            .collect();
        notify::send(tx, now, mail, notes).await
    }
}
