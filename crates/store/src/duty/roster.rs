//! The roster: shifts and the people on them; generation, publishing, hand edits with their
//! history, the gap check, who is on duty now, check-in and the stages of a shift's deadline.

use std::collections::{BTreeMap, BTreeSet};

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::calendar::WorkCalendar;
use beacon_core::clock::{from_millis, local_midnight, to_millis};
use beacon_core::duty::{
    Candidate, DutySettings, Gap, GapShift, RotaInput, SlotKind, find_gaps, generate,
};
use beacon_core::error::ValidationErrors;
use beacon_core::id::new_id;
use beacon_core::org::{Role, Unit};
use beacon_core::scope::Scope;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use utoipa::ToSchema;

use super::unit_in_scope;
use crate::deadline::{self, DueStage, NewDeadline};
use crate::notify::{self, Delivery, NewNotification};
use crate::org::unit_users_with_roles;
use crate::sql::{Sql, Val, insert_batch};
use crate::{Store, StoreError, Tx, audit, scope, timeline};

/// A person on a shift.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ShiftPerson {
    pub assignment_id: String,
    pub user_id: String,
    pub display_name: String,
    /// Shown to those who may see the roster of the unit.
    pub phone: Option<String>,
    pub slot_key: String,
    pub slot_name: String,
    pub slot_kind: SlotKind,
    pub checked_in_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Shift {
    pub id: String,
    pub unit_id: String,
    pub shift_key: String,
    pub shift_name: String,
    /// The local (Beijing) date on which the shift starts.
    pub date: NaiveDate,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// `draft` or `published`.
    pub status: String,
    pub published_at: Option<DateTime<Utc>>,
    /// Set when the incoming shift acknowledged the handover.
    pub closed_at: Option<DateTime<Utc>>,
    pub handover_written_at: Option<DateTime<Utc>>,
    pub people: Vec<ShiftPerson>,
}

/// One post to fill on a shift.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotAssignment {
    pub slot_key: String,
    pub user_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Generation {
    pub shifts_created: usize,
    pub drafts_replaced: usize,
    pub posts_unfilled: usize,
}

/// Who is on duty at a unit now.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct OnDuty {
    pub unit_id: String,
    pub unit_code: String,
    pub unit_name: String,
    pub duty_phone: Option<String>,
    pub shift: Option<Shift>,
}

/// A unit's published duty phone (值班电话).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DirectoryEntry {
    pub unit_id: String,
    pub unit_code: String,
    pub unit_name: String,
    pub parent_id: Option<String>,
    pub duty_phone: Option<String>,
}

/// The staffing requirement shown beside a roster.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Staffing {
    pub leaders: u8,
    pub min_staff: u8,
}

#[derive(Deserialize)]
struct ShiftRow {
    id: String,
    unit_id: String,
    shift_key: String,
    shift_name: String,
    local_date: String,
    starts_at: i64,
    ends_at: i64,
    status: String,
    published_at: Option<i64>,
    closed_at: Option<i64>,
    written_at: Option<i64>,
}

#[derive(Deserialize)]
struct PersonRow {
    id: String,
    shift_id: String,
    user_id: String,
    display_name: String,
    phone: Option<String>,
    slot_key: String,
    slot_kind: String,
    checked_in_at: Option<i64>,
}

/// Which shifts to load.
enum Which<'a> {
    Unit { unit_id: &'a str, from: DateTime<Utc>, to: DateTime<Utc>, published_only: bool },
    One(&'a str),
    User { user_id: &'a str, from: DateTime<Utc>, to: DateTime<Utc> },
}

impl Store {
    async fn read_shifts(&self, which: Which<'_>) -> Result<Vec<Shift>, StoreError> {
        let mut conn = self.reader().acquire().await?;
        self.load_shifts(&mut conn, which).await
    }

    async fn load_shifts(
        &self,
        conn: &mut sqlx::AnyConnection,
        which: Which<'_>,
    ) -> Result<Vec<Shift>, StoreError> {
        let backend = self.backend();
        let mut sql = Sql::new(
            "SELECT s.id, s.unit_id, s.shift_key, s.shift_name, s.local_date, s.starts_at, \
             s.ends_at, s.status, s.published_at, s.closed_at, h.written_at \
             FROM duty_shifts s LEFT JOIN duty_handovers h ON h.shift_id = s.id WHERE ",
        );
        let mut people = Sql::new(
            "SELECT a.id, a.shift_id, a.user_id, u.display_name, u.phone, a.slot_key, \
             a.slot_kind, a.checked_in_at FROM duty_assignments a \
             JOIN users u ON u.id = a.user_id WHERE ",
        );
        match &which {
            Which::Unit { unit_id, from, to, published_only } => {
                sql.push("s.unit_id = ").bind((*unit_id).to_owned());
                sql.push(" AND s.starts_at < ").bind(to_millis(*to));
                sql.push(" AND s.ends_at > ").bind(to_millis(*from));
                if *published_only {
                    sql.push(" AND s.status = 'published'");
                }
                // Through the shifts' unit index, then the assignments' shift index: the same
                // shifts as the query above, without a third index on every assignment.
                people
                    .push("a.shift_id IN (SELECT id FROM duty_shifts WHERE unit_id = ")
                    .bind((*unit_id).to_owned())
                    .push(" AND starts_at < ")
                    .bind(to_millis(*to))
                    .push(" AND ends_at > ")
                    .bind(to_millis(*from))
                    .push(")");
            }
            Which::One(id) => {
                sql.push("s.id = ").bind((*id).to_owned());
                people.push("a.shift_id = ").bind((*id).to_owned());
            }
            Which::User { user_id, from, to } => {
                sql.push(
                    "s.status = 'published' AND s.id IN (SELECT shift_id FROM duty_assignments \
                     WHERE user_id = ",
                )
                .bind((*user_id).to_owned())
                .push(" AND starts_at < ")
                .bind(to_millis(*to))
                .push(" AND ends_at > ")
                .bind(to_millis(*from))
                .push(")");
                people
                    .push("a.shift_id IN (SELECT shift_id FROM duty_assignments WHERE user_id = ")
                    .bind((*user_id).to_owned())
                    .push(" AND starts_at < ")
                    .bind(to_millis(*to))
                    .push(" AND ends_at > ")
                    .bind(to_millis(*from))
                    .push(")");
            }
        }
        let shifts: Vec<ShiftRow> =
            sql.fetch_rows(backend, "t.starts_at, t.id", &mut *conn).await?;
        if shifts.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<PersonRow> =
            people.fetch_rows(backend, "t.shift_id, t.slot_kind, t.id", &mut *conn).await?;
        let mut by_shift: BTreeMap<String, Vec<PersonRow>> = BTreeMap::new();
        for row in rows {
            by_shift.entry(row.shift_id.clone()).or_default().push(row);
        }
        let mut settings_cache: BTreeMap<String, DutySettings> = BTreeMap::new();
        let mut out = Vec::with_capacity(shifts.len());
        for s in shifts {
            if !settings_cache.contains_key(&s.unit_id) {
                let settings = Store::settings_on(&mut *conn, &s.unit_id).await?;
                settings_cache.insert(s.unit_id.clone(), settings);
            }
            let settings = settings_cache.get(&s.unit_id);
            let mut people: Vec<ShiftPerson> = by_shift
                .remove(&s.id)
                .unwrap_or_default()
                .into_iter()
                .map(|p| {
                    let kind = SlotKind::parse(&p.slot_kind)
                        .ok_or_else(|| StoreError::Corrupt(p.slot_kind.clone()))?;
                    let slot_name = settings
                        .and_then(|st| st.slot(&p.slot_key))
                        .map_or_else(|| p.slot_key.clone(), |slot| slot.name.clone());
                    Ok(ShiftPerson {
                        assignment_id: p.id,
                        user_id: p.user_id,
                        display_name: p.display_name,
                        phone: p.phone,
                        slot_key: p.slot_key,
                        slot_name,
                        slot_kind: kind,
                        checked_in_at: p.checked_in_at.map(from_millis),
                    })
                })
                .collect::<Result<_, StoreError>>()?;
            people.sort_by(|a, b| {
                (a.slot_kind, &a.slot_key, &a.display_name).cmp(&(
                    b.slot_kind,
                    &b.slot_key,
                    &b.display_name,
                ))
            });
            out.push(Shift {
                id: s.id,
                unit_id: s.unit_id,
                shift_key: s.shift_key,
                shift_name: s.shift_name,
                date: s.local_date.parse().map_err(StoreError::corrupt)?,
                starts_at: from_millis(s.starts_at),
                ends_at: from_millis(s.ends_at),
                status: s.status,
                published_at: s.published_at.map(from_millis),
                closed_at: s.closed_at.map(from_millis),
                handover_written_at: s.written_at.map(from_millis),
                people,
            });
        }
        Ok(out)
    }

    /// The shifts of a unit overlapping a window, drafts included.
    pub async fn duty_shifts(
        &self,
        scope: &Scope,
        unit_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Shift>, StoreError> {
        unit_in_scope(self.reader(), scope, unit_id).await?;
        self.read_shifts(Which::Unit { unit_id, from, to, published_only: false }).await
    }

    /// The published shifts of a unit, for its calendar feed.
    pub async fn published_shifts(
        &self,
        unit_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Shift>, StoreError> {
        self.read_shifts(Which::Unit { unit_id, from, to, published_only: true }).await
    }

    /// A person's published shifts (in any unit), for their calendar feed.
    pub async fn shifts_of_user(
        &self,
        user_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Shift>, StoreError> {
        self.read_shifts(Which::User { user_id, from, to }).await
    }

    pub async fn duty_shift(&self, scope: &Scope, id: &str) -> Result<Shift, StoreError> {
        let shift = self.read_shifts(Which::One(id)).await?.pop().ok_or(StoreError::NotFound)?;
        unit_in_scope(self.reader(), scope, &shift.unit_id).await?;
        Ok(shift)
    }

    /// The shift in scope with this id, read inside a transaction.
    pub(crate) async fn shift_in_tx(
        &self,
        tx: &mut Tx,
        scope: &Scope,
        id: &str,
    ) -> Result<Shift, StoreError> {
        let shift =
            self.load_shifts(tx, Which::One(id)).await?.pop().ok_or(StoreError::NotFound)?;
        unit_in_scope(&mut **tx, scope, &shift.unit_id).await?;
        Ok(shift)
    }

    /// Every gap and conflict of a unit's roster in a window (drafts included: the point is to
    /// see them before publishing).
    pub async fn duty_gaps(
        &self,
        scope: &Scope,
        unit_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Gap>, StoreError> {
        let unit = unit_in_scope(self.reader(), scope, unit_id).await?;
        self.gaps_of(&unit, from, to).await
    }

    async fn gaps_of(
        &self,
        unit: &Unit,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Gap>, StoreError> {
        let settings = self.settings_of(&unit.id).await?;
        // Shifts just outside the window matter for runs of consecutive shifts.
        let margin = Duration::days(i64::from(settings.max_consecutive) + 1);
        let shifts = gap_shifts(self.reader(), &unit.id, from - margin, to + margin).await?;
        let (base, periods) = self.requirements(unit, from, to).await?;
        let leaves = Store::leaves_of(self.reader(), &unit.id, from - margin, to + margin).await?;
        let mut gaps =
            find_gaps(from, to, &shifts, base, &periods, &leaves, settings.max_consecutive);
        // Conflicts found through the margin but lying wholly outside the window are not ours.
        gaps.retain(|g| g.starts_at < to && g.ends_at > from);
        Ok(gaps)
    }

    /// Generates draft shifts for the dates of a period that have none (after removing the
    /// period's drafts when `replace_drafts`), filling posts by the rotation.
    #[allow(clippy::too_many_arguments)]
    pub async fn generate_roster(
        &self,
        scope: &Scope,
        actor: &Actor,
        unit_id: &str,
        from: NaiveDate,
        to: NaiveDate,
        replace_drafts: bool,
        calendar: &WorkCalendar,
    ) -> Result<Generation, StoreError> {
        beacon_core::duty::check_period(from, to)
            .map_err(|code| StoreError::Invalid(ValidationErrors::single("to", code)))?;
        let now = self.now();
        let unit = unit_in_scope(self.reader(), scope, unit_id).await?;
        let settings = self.settings_of(unit_id).await?;
        let rules = self.duty_rules().await?;
        let window_from = local_midnight(from) - Duration::days(1);
        let window_to = local_midnight(to) + Duration::days(2);
        let (base, periods) = self.requirements(&unit, window_from, window_to).await?;
        let people = self.people_of(unit_id).await?;

        let mut tx = self.begin().await?;
        self.backend().serialize(&mut tx, "duty-roster").await?;
        let mut replaced = 0;
        if replace_drafts {
            let mut del = Sql::new("DELETE FROM duty_shifts WHERE unit_id = ");
            del.bind(unit_id.to_owned())
                .push(" AND status = 'draft' AND local_date >= ")
                .bind(from.to_string())
                .push(" AND local_date <= ")
                .bind(to.to_string());
            replaced = del.execute(&mut *tx).await?;
        }
        let existing_rows = sqlx::query(
            "SELECT local_date, shift_key FROM duty_shifts WHERE unit_id = $1 \
             AND local_date >= $2 AND local_date <= $3",
        )
        .bind(unit_id.to_owned())
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(&mut *tx)
        .await?;
        // A date that has any shift is left alone, whatever its shifts' keys: after a change of
        // pattern, new shifts must not pile on top of the old ones.
        let mut existing = BTreeSet::new();
        for r in existing_rows {
            let date: NaiveDate =
                r.try_get::<String, _>("local_date")?.parse().map_err(StoreError::corrupt)?;
            for def in &settings.shifts {
                existing.insert((date, def.key.clone()));
            }
        }
        let leaves = Store::leaves_of(&mut *tx, unit_id, window_from, window_to).await?;
        let ids: Vec<String> = people.iter().map(|p| p.user_id.clone()).collect();
        let busy = busy_of(&mut tx, &ids, window_from, window_to).await?;
        let candidates: Vec<Candidate> =
            people.into_iter().map(|p| Candidate { user_id: p.user_id, roles: p.roles }).collect();
        let generated = generate(&RotaInput {
            settings: &settings,
            rules: &rules,
            base,
            periods: &periods,
            candidates: &candidates,
            leaves: &leaves,
            busy: &busy,
            existing: &existing,
            calendar,
            from,
            to,
        });
        let at = to_millis(now);
        let mut shift_rows = Vec::with_capacity(generated.shifts.len());
        let mut person_rows = Vec::new();
        for s in &generated.shifts {
            let shift_id = new_id();
            shift_rows.push(vec![
                Val::Text(shift_id.clone()),
                Val::Text(unit_id.to_owned()),
                Val::Text(s.shift_key.clone()),
                Val::Text(s.shift_name.clone()),
                Val::Text(s.date.to_string()),
                Val::Int(to_millis(s.starts_at)),
                Val::Int(to_millis(s.ends_at)),
                Val::Text("draft".to_owned()),
                Val::Int(at),
                Val::Int(at),
            ]);
            for (slot_key, kind, user_id) in &s.assignments {
                person_rows.push(vec![
                    Val::Text(new_id()),
                    Val::Text(shift_id.clone()),
                    Val::Text(unit_id.to_owned()),
                    Val::Text(user_id.clone()),
                    Val::Text(slot_key.clone()),
                    Val::Text(kind.as_str().to_owned()),
                    Val::Int(to_millis(s.starts_at)),
                    Val::Int(to_millis(s.ends_at)),
                    Val::Int(at),
                ]);
            }
        }
        insert_batch(
            &mut tx,
            self.backend(),
            "duty_shifts",
            &[
                "id",
                "unit_id",
                "shift_key",
                "shift_name",
                "local_date",
                "starts_at",
                "ends_at",
                "status",
                "created_at",
                "updated_at",
            ],
            shift_rows,
        )
        .await?;
        insert_batch(
            &mut tx,
            self.backend(),
            "duty_assignments",
            &[
                "id",
                "shift_id",
                "unit_id",
                "user_id",
                "slot_key",
                "slot_kind",
                "starts_at",
                "ends_at",
                "created_at",
            ],
            person_rows,
        )
        .await?;
        let result = Generation {
            shifts_created: generated.shifts.len(),
            drafts_replaced: usize::try_from(replaced).unwrap_or(usize::MAX),
            posts_unfilled: generated.unfilled,
        };
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "duty.roster_generated", Outcome::Success)
                .target("unit", unit_id)
                .unit(Some(unit_id))
                .detail(json!({
                    "from": from, "to": to,
                    "shifts": result.shifts_created,
                    "replaced": result.drafts_replaced,
                    "unfilled": result.posts_unfilled,
                })),
        )
        .await?;
        super::announce_roster(&mut tx, now, "duty.roster_changed", unit_id, None).await?;
        tx.commit().await?;
        Ok(result)
    }

    /// Publishes the drafts of a period: people are told, reminders and check-in clocks are
    /// set. A roster with gaps is published only when the caller acknowledges them; the
    /// acknowledgement is audited with the count.
    #[allow(clippy::too_many_arguments)]
    pub async fn publish_roster(
        &self,
        scope: &Scope,
        actor: &Actor,
        mail: bool,
        unit_id: &str,
        from: NaiveDate,
        to: NaiveDate,
        acknowledge_gaps: bool,
    ) -> Result<(usize, Vec<Delivery>), StoreError> {
        beacon_core::duty::check_period(from, to)
            .map_err(|code| StoreError::Invalid(ValidationErrors::single("to", code)))?;
        let now = self.now();
        let unit = unit_in_scope(self.reader(), scope, unit_id).await?;
        let settings = self.settings_of(unit_id).await?;
        // The shifts of the period start on its dates; the last may run into the next day.
        let window = (local_midnight(from), local_midnight(to) + Duration::days(2));
        let mut tx = self.begin().await?;
        self.backend().serialize(&mut tx, "duty-roster").await?;
        let drafts = self
            .load_shifts(
                &mut tx,
                Which::Unit { unit_id, from: window.0, to: window.1, published_only: false },
            )
            .await?
            .into_iter()
            .filter(|s| s.status == "draft" && s.date >= from && s.date <= to)
            .collect::<Vec<_>>();
        let (Some(first), Some(last)) =
            (drafts.iter().map(|s| s.starts_at).min(), drafts.iter().map(|s| s.ends_at).max())
        else {
            return Err(StoreError::Conflict("nothing_to_publish"));
        };
        // Checked over the span of the drafts: from the first one's start to the last one's end.
        let gaps = self.gaps_of(&unit, first, last).await?;
        if !gaps.is_empty() && !acknowledge_gaps {
            return Err(StoreError::Conflict("roster_has_gaps"));
        }
        let mut update = Sql::new("UPDATE duty_shifts SET status = 'published', published_at = ");
        update
            .bind(to_millis(now))
            .push(", updated_at = ")
            .bind(to_millis(now))
            .push(" WHERE unit_id = ")
            .bind(unit_id.to_owned())
            .push(" AND status = 'draft' AND local_date >= ")
            .bind(from.to_string())
            .push(" AND local_date <= ")
            .bind(to.to_string());
        update.execute(&mut *tx).await?;
        let mut per_person: BTreeMap<String, usize> = BTreeMap::new();
        for shift in &drafts {
            for p in &shift.people {
                *per_person.entry(p.user_id.clone()).or_default() += 1;
            }
            schedule_shift(&mut tx, now, &settings, shift).await?;
        }
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "duty.roster_published", Outcome::Success)
                .target("unit", unit_id)
                .unit(Some(unit_id))
                .detail(json!({
                    "from": from, "to": to, "shifts": drafts.len(), "gaps_acknowledged": gaps.len(),
                })),
        )
        .await?;
        let notes = per_person
            .into_iter()
            .map(|(user_id, n)| NewNotification {
                user_id,
                kind: "duty.roster_published",
                unit_id: Some(unit_id.to_owned()),
                subject: Some(("unit", unit_id.to_owned())),
                data: json!({ "unit_name": unit.name, "from": from, "to": to, "shifts": n }),
            })
            .collect();
        let deliveries = notify::send(&mut tx, now, mail, notes).await?;
        super::announce_roster(&mut tx, now, "duty.roster_changed", unit_id, None).await?;
        tx.commit().await?;
        Ok((drafts.len(), deliveries))
    }

    /// Replaces the people on a shift. Each person must be an active member of the unit,
    /// eligible for the post, free at that time and not on leave. On a published shift the
    /// change is kept in the shift's timeline and the people concerned are told.
    pub async fn set_shift_people(
        &self,
        scope: &Scope,
        actor: &Actor,
        mail: bool,
        shift_id: &str,
        wanted: Vec<SlotAssignment>,
    ) -> Result<(Shift, Vec<Delivery>), StoreError> {
        let now = self.now();
        let rules = self.duty_rules().await?;
        let mut tx = self.begin().await?;
        self.backend().serialize(&mut tx, "duty-roster").await?;
        let shift = self.shift_in_tx(&mut tx, scope, shift_id).await?;
        if shift.closed_at.is_some() {
            return Err(StoreError::Conflict("shift_closed"));
        }
        let settings = self.settings_of(&shift.unit_id).await?;
        let members = self.people_of(&shift.unit_id).await?;
        let leaves =
            Store::leaves_of(&mut *tx, &shift.unit_id, shift.starts_at, shift.ends_at).await?;
        let mut errors = ValidationErrors::new();
        if wanted.len() > 40 {
            errors.add("people", "too_many");
        }
        let mut seen = BTreeSet::new();
        for (i, w) in wanted.iter().enumerate() {
            let field = format!("people.{i}");
            let Some(slot) = settings.slot(&w.slot_key) else {
                errors.add(format!("{field}.slot_key"), "unknown_slot");
                continue;
            };
            let Some(member) = members.iter().find(|m| m.user_id == w.user_id) else {
                errors.add(format!("{field}.user_id"), "not_in_unit");
                continue;
            };
            if !seen.insert(w.user_id.clone()) {
                errors.add(format!("{field}.user_id"), "duplicate");
                continue;
            }
            if !rules.eligible(slot.kind, &member.roles) {
                let code = if slot.kind == SlotKind::Leader {
                    "leader_role_required"
                } else {
                    "not_eligible"
                };
                errors.add(format!("{field}.user_id"), code);
                continue;
            }
            if leaves.iter().any(|l| {
                l.user_id == w.user_id && l.starts_at < shift.ends_at && l.ends_at > shift.starts_at
            }) {
                errors.add(format!("{field}.user_id"), "on_leave");
                continue;
            }
            if overlapping_shift(&mut tx, &w.user_id, &shift, None).await? {
                errors.add(format!("{field}.user_id"), "overlapping_shift");
            }
        }
        errors.into_result().map_err(StoreError::Invalid)?;

        let key = |slot: &str, user: &str| format!("{slot}\u{1f}{user}");
        let before: BTreeMap<String, &super::ShiftPerson> =
            shift.people.iter().map(|p| (key(&p.slot_key, &p.user_id), p)).collect();
        let after: BTreeSet<String> = wanted.iter().map(|w| key(&w.slot_key, &w.user_id)).collect();
        for (k, p) in &before {
            if !after.contains(k) {
                sqlx::query("DELETE FROM duty_assignments WHERE id = $1")
                    .bind(p.assignment_id.clone())
                    .execute(&mut *tx)
                    .await?;
            }
        }
        for w in &wanted {
            if before.contains_key(&key(&w.slot_key, &w.user_id)) {
                continue;
            }
            let kind = settings.slot(&w.slot_key).map_or(SlotKind::Officer, |s| s.kind);
            insert_assignment(&mut tx, now, &shift, &w.slot_key, kind, &w.user_id).await?;
        }
        sqlx::query("UPDATE duty_shifts SET updated_at = $1 WHERE id = $2")
            .bind(to_millis(now))
            .bind(shift.id.clone())
            .execute(&mut *tx)
            .await?;
        let removed: BTreeSet<&str> = before
            .iter()
            .filter(|(k, _)| !after.contains(*k))
            .map(|(_, p)| p.user_id.as_str())
            .collect();
        let added: BTreeSet<&str> = wanted
            .iter()
            .filter(|w| !before.contains_key(&key(&w.slot_key, &w.user_id)))
            .map(|w| w.user_id.as_str())
            .collect();
        let detail = json!({
            "before": shift.people.iter().map(|p| json!({"slot": p.slot_key, "user_id": p.user_id, "name": p.display_name})).collect::<Vec<_>>(),
            "after": wanted.iter().map(|w| json!({"slot": w.slot_key, "user_id": w.user_id})).collect::<Vec<_>>(),
        });
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "duty.shift_people_set", Outcome::Success)
                .target("duty_shift", &shift.id)
                .unit(Some(&shift.unit_id))
                .detail(detail.clone()),
        )
        .await?;
        let mut deliveries = Vec::new();
        if shift.status == "published" && (!removed.is_empty() || !added.is_empty()) {
            timeline::append(
                &mut tx,
                now,
                actor,
                ("duty_shift", &shift.id),
                Some(&shift.unit_id),
                "people_changed",
                detail,
            )
            .await?;
            let unit_name = unit_name(&mut tx, &shift.unit_id).await?;
            let notes = removed
                .union(&added)
                .map(|u| NewNotification {
                    user_id: (*u).to_owned(),
                    kind: "duty.assignment_changed",
                    unit_id: Some(shift.unit_id.clone()),
                    subject: Some(("duty_shift", shift.id.clone())),
                    data: json!({
                        "unit_name": unit_name,
                        "starts_at": shift.starts_at,
                        "shift_name": shift.shift_name,
                        "on_shift": added.contains(u),
                    }),
                })
                .collect();
            deliveries = notify::send(&mut tx, now, mail, notes).await?;
        }
        let shift = self.shift_in_tx(&mut tx, scope, shift_id).await?;
        super::announce_roster(
            &mut tx,
            now,
            "duty.roster_changed",
            &shift.unit_id,
            Some(&shift.id),
        )
        .await?;
        tx.commit().await?;
        Ok((shift, deliveries))
    }

    /// Removes a draft shift.
    pub async fn delete_draft_shift(
        &self,
        scope: &Scope,
        actor: &Actor,
        shift_id: &str,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let shift = self.shift_in_tx(&mut tx, scope, shift_id).await?;
        if shift.status != "draft" {
            return Err(StoreError::Conflict("shift_published"));
        }
        sqlx::query("DELETE FROM duty_shifts WHERE id = $1")
            .bind(shift.id.clone())
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "duty.shift_deleted", Outcome::Success)
                .target("duty_shift", &shift.id)
                .unit(Some(&shift.unit_id)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Who is on duty now at a unit and, with `children`, at each unit directly beneath it.
    pub async fn duty_now(
        &self,
        scope: &Scope,
        unit_id: &str,
        children: bool,
    ) -> Result<Vec<OnDuty>, StoreError> {
        let now = self.now();
        let mut units = Sql::new(
            "SELECT u.id, u.code, u.name, d.duty_phone FROM units u \
             LEFT JOIN duty_settings d ON d.unit_id = u.id WHERE (u.id = ",
        );
        units.bind(unit_id.to_owned());
        if children {
            units.push(" OR u.parent_id = ").bind(unit_id.to_owned());
        }
        units.push(")");
        scope::filter(&mut units, scope, "u.id");
        units.push(" ORDER BY CASE WHEN u.id = ").bind(unit_id.to_owned());
        units.push(" THEN 0 ELSE 1 END, u.sort_order, u.code");
        let rows = units.fetch_all(self.reader()).await?;
        if !rows.iter().any(|r| r.try_get::<String, _>("id").is_ok_and(|id| id == unit_id)) {
            return Err(StoreError::NotFound);
        }
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: String = r.try_get("id")?;
            let shift = self
                .read_shifts(Which::Unit {
                    unit_id: &id,
                    from: now,
                    to: now + Duration::milliseconds(1),
                    published_only: true,
                })
                .await?
                .into_iter()
                .next();
            out.push(OnDuty {
                unit_id: id,
                unit_code: r.try_get("code")?,
                unit_name: r.try_get("name")?,
                duty_phone: r.try_get("duty_phone")?,
                shift,
            });
        }
        Ok(out)
    }

    /// Every unit's published duty phone: public to anyone signed in, as the regulations
    /// require the duty phone to be published.
    pub async fn duty_directory(&self) -> Result<Vec<DirectoryEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.code, u.name, u.parent_id, d.duty_phone FROM units u \
             LEFT JOIN duty_settings d ON d.unit_id = u.id ORDER BY u.code",
        )
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DirectoryEntry {
                    unit_id: r.try_get("id")?,
                    unit_code: r.try_get("code")?,
                    unit_name: r.try_get("name")?,
                    parent_id: r.try_get("parent_id")?,
                    duty_phone: r.try_get("duty_phone")?,
                })
            })
            .collect()
    }

    /// Checks the caller in on their post (到岗签到): from 30 minutes before the shift until its
    /// end. Checking in twice keeps the first time.
    pub async fn check_in(&self, actor: &Actor, assignment_id: &str) -> Result<Shift, StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "SELECT a.shift_id, a.user_id, a.unit_id, a.starts_at, a.ends_at, a.checked_in_at, \
             s.status FROM duty_assignments a JOIN duty_shifts s ON s.id = a.shift_id \
             WHERE a.id = $1",
        )
        .bind(assignment_id.to_owned())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        let user_id: String = row.try_get("user_id")?;
        if actor.user_id.as_deref() != Some(user_id.as_str()) {
            // Someone else's post is as invisible as a missing one.
            return Err(StoreError::NotFound);
        }
        let shift_id: String = row.try_get("shift_id")?;
        let status: String = row.try_get("status")?;
        let starts_at = from_millis(row.try_get("starts_at")?);
        let ends_at = from_millis(row.try_get("ends_at")?);
        if status != "published" {
            return Err(StoreError::Conflict("shift_not_published"));
        }
        if now < starts_at - Duration::minutes(30) {
            return Err(StoreError::Conflict("check_in_not_open"));
        }
        if now >= ends_at {
            return Err(StoreError::Conflict("shift_over"));
        }
        let checked: Option<i64> = row.try_get("checked_in_at")?;
        if checked.is_none() {
            let unit_id: String = row.try_get("unit_id")?;
            sqlx::query("UPDATE duty_assignments SET checked_in_at = $1 WHERE id = $2")
                .bind(to_millis(now))
                .bind(assignment_id.to_owned())
                .execute(&mut *tx)
                .await?;
            let late = now > starts_at;
            timeline::append(
                &mut tx,
                now,
                actor,
                ("duty_shift", &shift_id),
                Some(&unit_id),
                "checked_in",
                json!({ "user_id": user_id, "late": late }),
            )
            .await?;
            audit::append(
                &mut tx,
                now,
                NewAuditRecord::new(actor, "duty.checked_in", Outcome::Success)
                    .target("duty_shift", &shift_id)
                    .unit(Some(&unit_id)),
            )
            .await?;
        }
        let shift = self
            .load_shifts(&mut tx, Which::One(&shift_id))
            .await?
            .pop()
            .ok_or(StoreError::NotFound)?;
        super::announce_roster(&mut tx, now, "duty.checked_in", &shift.unit_id, Some(&shift.id))
            .await?;
        tx.commit().await?;
        Ok(shift)
    }

    /// Runs a stage of a shift's deadline (`duty.shift`): reminders to the people on it, and
    /// at the check-in deadline an alert about whoever has not checked in, to the shift's
    /// leader and the unit's leaders.
    pub async fn fire_shift_stage(
        &self,
        tx: &mut Tx,
        due: &DueStage,
        mail: bool,
    ) -> Result<Vec<Delivery>, StoreError> {
        let now = self.now();
        let Some(shift) = self.load_shifts(tx, Which::One(&due.subject_id)).await?.pop() else {
            return Ok(Vec::new());
        };
        if shift.status != "published" {
            return Ok(Vec::new());
        }
        let unit_name = unit_name(tx, &shift.unit_id).await?;
        let base = json!({
            "unit_name": unit_name,
            "shift_name": shift.shift_name,
            "starts_at": shift.starts_at,
            "ends_at": shift.ends_at,
        });
        let notes: Vec<NewNotification> = match due.stage.as_str() {
            "remind_evening" | "remind_before" => shift
                .people
                .iter()
                .map(|p| {
                    let mut data = base.clone();
                    data["slot_name"] = json!(p.slot_name);
                    NewNotification {
                        user_id: p.user_id.clone(),
                        kind: "duty.shift_reminder",
                        unit_id: Some(shift.unit_id.clone()),
                        subject: Some(("duty_shift", shift.id.clone())),
                        data,
                    }
                })
                .collect(),
            "check_in" => {
                let missing: Vec<&super::ShiftPerson> =
                    shift.people.iter().filter(|p| p.checked_in_at.is_none()).collect();
                if missing.is_empty() {
                    return Ok(Vec::new());
                }
                let names: Vec<&str> = missing.iter().map(|p| p.display_name.as_str()).collect();
                let mut to: BTreeSet<String> = shift
                    .people
                    .iter()
                    .filter(|p| p.slot_kind == SlotKind::Leader)
                    .map(|p| p.user_id.clone())
                    .collect();
                to.extend(unit_users_with_roles(tx, &shift.unit_id, &[Role::Leader]).await?);
                let mut data = base.clone();
                data["missing"] = json!(names.join("、"));
                timeline::append(
                    tx,
                    now,
                    &Actor::system("scheduler"),
                    ("duty_shift", &shift.id),
                    Some(&shift.unit_id),
                    "check_in_missed",
                    json!({ "missing": names }),
                )
                .await?;
                to.into_iter()
                    .map(|user_id| NewNotification {
                        user_id,
                        kind: "duty.check_in_missed",
                        unit_id: Some(shift.unit_id.clone()),
                        subject: Some(("duty_shift", shift.id.clone())),
                        data: data.clone(),
                    })
                    .collect()
            }
            _ => Vec::new(),
        };
        notify::send(tx, now, mail, notes).await
    }
}

/// A unit's shifts in a window with only what the gap check needs: one row per shift, its
/// posts aggregated as `kind user,kind user`. Reading whole shifts (names, phones, check-ins as
/// JSON) took three quarters of a year's gap check on PostgreSQL.
async fn gap_shifts<'c, E>(
    executor: E,
    unit_id: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<GapShift>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT s.id, s.starts_at, s.ends_at, \
         string_agg(a.slot_kind || ' ' || a.user_id, ',') AS people \
         FROM duty_shifts s LEFT JOIN duty_assignments a ON a.shift_id = s.id \
         WHERE s.unit_id = $1 AND s.starts_at < $2 AND s.ends_at > $3 \
         GROUP BY s.id, s.starts_at, s.ends_at",
    )
    .bind(unit_id.to_owned())
    .bind(to_millis(to))
    .bind(to_millis(from))
    .fetch_all(executor)
    .await?;
    rows.iter()
        .map(|r| {
            let people: Option<String> = r.try_get("people")?;
            let people = people
                .as_deref()
                .unwrap_or_default()
                .split(',')
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let (kind, user) = p.split_once(' ').unwrap_or((p, ""));
                    let kind =
                        SlotKind::parse(kind).ok_or_else(|| StoreError::Corrupt(p.to_owned()))?;
                    Ok((kind, user.to_owned()))
                })
                .collect::<Result<_, StoreError>>()?;
            Ok(GapShift {
                id: r.try_get("id")?,
                starts_at: from_millis(r.try_get("starts_at")?),
                ends_at: from_millis(r.try_get("ends_at")?),
                people,
            })
        })
        .collect()
}

/// The shift's reminders and check-in clock.
async fn schedule_shift(
    tx: &mut Tx,
    now: DateTime<Utc>,
    settings: &DutySettings,
    shift: &Shift,
) -> Result<(), StoreError> {
    let mut stages = Vec::new();
    if let Some(hour) = settings.remind_evening_hour {
        let eve =
            shift.date.pred_opt().map(|d| local_midnight(d) + Duration::hours(i64::from(hour)));
        if let Some(eve) = eve.filter(|e| *e < shift.starts_at) {
            stages.push((eve, "remind_evening"));
        }
    }
    if settings.remind_before_minutes > 0 {
        stages.push((
            shift.starts_at - Duration::minutes(i64::from(settings.remind_before_minutes)),
            "remind_before",
        ));
    }
    let check = shift.starts_at + Duration::minutes(i64::from(settings.check_in_grace_minutes));
    stages.push((check, "check_in"));
    deadline::schedule(
        tx,
        now,
        now,
        NewDeadline {
            kind: "duty.shift",
            subject: ("duty_shift", shift.id.clone()),
            unit_id: Some(shift.unit_id.clone()),
            due_at: check,
            stages,
        },
    )
    .await?;
    Ok(())
}

/// Takes a person who leaves a unit off the posts of that unit's shifts that have not begun,
/// drafts and published alike, in the caller's transaction (the move of the account). The
/// shifts stay on the unit's roster with the posts open, so the gap check shows them to be
/// filled; shifts already begun stay as they were, as history. A published shift keeps the
/// change in its timeline; one audit record lists every post given up. Returns how many.
///
/// Without this a moved person would go on seeing the old unit's coming shifts, with their
/// colleagues' names, in their own shifts and calendar feed.
pub(crate) async fn vacate_posts(
    tx: &mut Tx,
    now: DateTime<Utc>,
    actor: &Actor,
    user_id: &str,
    unit_id: &str,
) -> Result<usize, StoreError> {
    // The same lock as every roster edit: no one puts them on a post meanwhile.
    crate::db::backend_of(tx).serialize(tx, "duty-roster").await?;
    let rows = sqlx::query(
        "SELECT a.id, a.shift_id, a.slot_key, s.status, s.starts_at, s.shift_name, \
         u.display_name FROM duty_assignments a JOIN duty_shifts s ON s.id = a.shift_id \
         JOIN users u ON u.id = a.user_id \
         WHERE a.user_id = $1 AND s.unit_id = $2 AND s.starts_at > $3 ORDER BY s.starts_at, s.id",
    )
    .bind(user_id.to_owned())
    .bind(unit_id.to_owned())
    .bind(to_millis(now))
    .fetch_all(&mut **tx)
    .await?;
    if rows.is_empty() {
        return Ok(0);
    }
    let mut assignments = Vec::with_capacity(rows.len());
    let mut shifts = BTreeSet::new();
    let mut posts = Vec::with_capacity(rows.len());
    for row in &rows {
        let shift_id: String = row.try_get("shift_id")?;
        let slot: String = row.try_get("slot_key")?;
        let status: String = row.try_get("status")?;
        let starts_at = from_millis(row.try_get("starts_at")?);
        if status == "published" {
            let name: String = row.try_get("display_name")?;
            timeline::append(
                tx,
                now,
                actor,
                ("duty_shift", &shift_id),
                Some(unit_id),
                "people_changed",
                json!({
                    "removed": [{ "slot": slot, "user_id": user_id, "name": name }],
                    "reason": "moved_to_another_unit",
                }),
            )
            .await?;
        }
        posts.push(json!({ "shift_id": shift_id, "slot": slot, "status": status,
            "starts_at": starts_at, "shift_name": row.try_get::<String, _>("shift_name")? }));
        assignments.push(row.try_get::<String, _>("id")?);
        shifts.insert(shift_id);
    }
    let mut delete = Sql::new("DELETE FROM duty_assignments WHERE id IN (");
    delete.bind_list(assignments.iter().cloned()).push(")");
    delete.execute(&mut **tx).await?;
    let mut touch = Sql::new("UPDATE duty_shifts SET updated_at = ");
    touch.bind(to_millis(now)).push(" WHERE id IN (").bind_list(shifts).push(")");
    touch.execute(&mut **tx).await?;
    audit::append(
        tx,
        now,
        NewAuditRecord::new(actor, "duty.posts_vacated", Outcome::Success)
            .target("user", user_id)
            .unit(Some(unit_id))
            .detail(json!({ "reason": "moved_to_another_unit", "posts": posts })),
    )
    .await?;
    Ok(assignments.len())
}

pub(crate) async fn unit_name(tx: &mut Tx, unit_id: &str) -> Result<String, StoreError> {
    Ok(sqlx::query("SELECT name FROM units WHERE id = $1")
        .bind(unit_id.to_owned())
        .fetch_one(&mut **tx)
        .await?
        .try_get("name")?)
}

pub(crate) async fn insert_assignment(
    tx: &mut Tx,
    now: DateTime<Utc>,
    shift: &Shift,
    slot_key: &str,
    kind: SlotKind,
    user_id: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO duty_assignments (id, shift_id, unit_id, user_id, slot_key, slot_kind, \
         starts_at, ends_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(new_id())
    .bind(shift.id.clone())
    .bind(shift.unit_id.clone())
    .bind(user_id.to_owned())
    .bind(slot_key.to_owned())
    .bind(kind.as_str())
    .bind(to_millis(shift.starts_at))
    .bind(to_millis(shift.ends_at))
    .bind(to_millis(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Whether the person has another shift (in any unit) overlapping this one; `ignoring` an
/// assignment about to be given away.
pub(crate) async fn overlapping_shift(
    tx: &mut Tx,
    user_id: &str,
    shift: &Shift,
    ignoring: Option<&str>,
) -> Result<bool, StoreError> {
    let mut sql = Sql::new("SELECT 1 FROM duty_assignments WHERE user_id = ");
    sql.bind(user_id.to_owned())
        .push(" AND starts_at < ")
        .bind(to_millis(shift.ends_at))
        .push(" AND ends_at > ")
        .bind(to_millis(shift.starts_at))
        .push(" AND shift_id <> ")
        .bind(shift.id.clone());
    if let Some(id) = ignoring {
        sql.push(" AND id <> ").bind(id.to_owned());
    }
    sql.push(" LIMIT 1");
    Ok(sql.fetch_optional(&mut **tx).await?.is_some())
}

async fn busy_of(
    tx: &mut Tx,
    users: &[String],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(String, DateTime<Utc>, DateTime<Utc>)>, StoreError> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql =
        Sql::new("SELECT user_id, starts_at, ends_at FROM duty_assignments WHERE user_id IN (");
    sql.bind_list(users.iter().cloned())
        .push(") AND starts_at < ")
        .bind(to_millis(to))
        .push(" AND ends_at > ")
        .bind(to_millis(from));
    let rows = sql.fetch_all(&mut **tx).await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("user_id")?,
                from_millis(r.try_get("starts_at")?),
                from_millis(r.try_get("ends_at")?),
            ))
        })
        .collect()
}
