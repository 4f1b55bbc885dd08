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
use crate::enterprise::{people_to_tell_many, start_of};
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
    /// Fires stages of hidden dangers' clocks claimed in the caller's transaction: the
    /// reminders and the overdue alerts, to each enterprise and its regulators; nothing for one
    /// already closed. The hidden dangers are read in one statement, each distinct set of
    /// people once, and the timeline entries and notifications written in multi-row inserts:
    /// ten thousand deadlines falling due on the same morning are one batch per 250.
    pub async fn fire_danger_stages(
        &self,
        tx: &mut Tx,
        due: &[DueStage],
        mail: bool,
    ) -> Result<Vec<Delivery>, StoreError> {
        if due.is_empty() {
            return Ok(Vec::new());
        }
        let now = self.now();
        let mut sql = crate::sql::Sql::new(
            "SELECT h.id, h.number, h.status, h.level, h.deadline, h.enterprise_id, \
             e.name AS enterprise_name, e.unit_id, e.department_id \
             FROM hidden_dangers h JOIN enterprises e ON e.id = h.enterprise_id WHERE h.id IN (",
        );
        for (i, stage) in due.iter().enumerate() {
            if i > 0 {
                sql.push(", ");
            }
            sql.bind(stage.subject_id.clone());
        }
        sql.push(")");
        let rows = sql.fetch_all(&mut **tx).await?;
        let mut found = std::collections::HashMap::new();
        for row in &rows {
            found.insert(row.try_get::<String, _>("id")?, row);
        }
        // Who hears of each enterprise's clock: the reminders' people, and the overdue alerts'
        // one level further up, each read for the whole batch at once.
        let mut near = Vec::new();
        let mut late = Vec::new();
        for stage in due {
            let Some(row) = found.get(&stage.subject_id) else { continue };
            let whom = (
                row.try_get::<String, _>("enterprise_id")?,
                row.try_get::<String, _>("unit_id")?,
                row.try_get::<Option<String>, _>("department_id")?,
            );
            if stage.stage == "overdue" { late.push(whom) } else { near.push(whom) }
        }
        let near = people_to_tell_many(tx, &near, 1).await?;
        let late = people_to_tell_many(tx, &late, 2).await?;
        let mut entries = Vec::new();
        let mut notes = Vec::new();
        for stage in due {
            let Some(row) = found.get(&stage.subject_id) else { continue };
            let status: String = row.try_get("status")?;
            if status == DangerStatus::Closed.as_str() {
                continue;
            }
            let enterprise_id: String = row.try_get("enterprise_id")?;
            let unit_id: String = row.try_get("unit_id")?;
            let overdue = stage.stage == "overdue";
            let people = if overdue { &late } else { &near };
            let deadline: String = row.try_get("deadline")?;
            let data = json!({
                "number": row.try_get::<String, _>("number")?,
                "enterprise_name": row.try_get::<String, _>("enterprise_name")?,
                "level": row.try_get::<String, _>("level")?,
                "deadline": deadline,
            });
            if overdue {
                entries.push((stage.subject_id.clone(), unit_id.clone(), deadline.clone()));
            }
            let kind = if overdue { "danger.overdue" } else { "danger.deadline_near" };
            for user_id in people.get(&enterprise_id).into_iter().flatten() {
                notes.push(NewNotification {
                    user_id: user_id.clone(),
                    kind,
                    unit_id: Some(unit_id.clone()),
                    subject: Some(("hidden_danger", stage.subject_id.clone())),
                    data: data.clone(),
                });
            }
        }
        let timeline_entries = entries
            .iter()
            .map(|(id, unit_id, deadline)| timeline::NewEntry {
                subject: ("hidden_danger", id.as_str()),
                unit_id: Some(unit_id.as_str()),
                kind: "overdue",
                data: json!({ "deadline": deadline }),
            })
            .collect::<Vec<_>>();
        if !timeline_entries.is_empty() {
            timeline::append_all(tx, now, &Actor::system("scheduler"), timeline_entries).await?;
        }
        notify::send(tx, now, mail, notes).await
    }
}
