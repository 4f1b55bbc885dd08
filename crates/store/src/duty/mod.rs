//! The duty desk's storage: settings and rules, reinforced periods, leave, the roster (shifts and
//! the people on them), swaps, handovers, the duty log and calendar feeds.

mod feed;
mod handover;
mod log;
mod roster;
mod swap;

pub use feed::{DutyFeed, FeedTarget};
pub use handover::{Handover, HandoverItem, HandoverWrite};
pub use log::{DutyLogEntry, DutyLogFilter, DutyLogWrite, LOG_CATEGORIES, LOG_CHANNELS};
/// What the duty desk does when a person leaves a unit (called by the org module's user move).
pub(crate) use roster::vacate_posts;
pub use roster::{
    DirectoryEntry, Generation, OnDuty, Shift, ShiftPerson, SlotAssignment, Staffing,
};
pub use swap::{Swap, SwapBox, SwapDecision};

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::duty::{DutyRules, DutySettings, Leave, Requirement, RequirementPeriod};
use beacon_core::error::ValidationErrors;
use beacon_core::event::NewEvent;
use beacon_core::id::new_id;
use beacon_core::org::{Permission, Role, Unit};
use beacon_core::scope::Scope;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use utoipa::ToSchema;

use crate::org::roles_column;
pub(crate) use crate::org::unit_in_scope;
use crate::sql::{Sql, get_bool};
use crate::{Store, StoreError, Tx, audit, scope};

/// Settings key of the staffing rules document.
pub const DUTY_RULES_KEY: &str = "duty_rules";

/// A reinforced period (重要时段).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DutyPeriod {
    pub id: String,
    pub unit_id: String,
    pub unit_name: String,
    pub name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub leaders: i64,
    pub min_staff: i64,
    pub leader_on_site: bool,
}

#[derive(Debug, Clone)]
pub struct NewPeriod {
    pub unit_id: String,
    pub name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub leaders: u8,
    pub min_staff: u8,
    pub leader_on_site: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DutyLeave {
    pub id: String,
    pub user_id: String,
    pub display_name: String,
    pub unit_id: String,
    /// `leave` or `unavailable`.
    pub kind: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewLeave {
    pub user_id: String,
    pub kind: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub note: Option<String>,
}

/// A person who can stand duty in a unit.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DutyPerson {
    pub user_id: String,
    pub display_name: String,
    pub roles: Vec<Role>,
}

fn period_row(r: &AnyRow) -> Result<DutyPeriod, StoreError> {
    Ok(DutyPeriod {
        id: r.try_get("id")?,
        unit_id: r.try_get("unit_id")?,
        unit_name: r.try_get("unit_name")?,
        name: r.try_get("name")?,
        starts_at: from_millis(r.try_get("starts_at")?),
        ends_at: from_millis(r.try_get("ends_at")?),
        leaders: r.try_get("leaders")?,
        min_staff: r.try_get("min_staff")?,
        leader_on_site: get_bool(r, "leader_on_site")?,
    })
}

impl Store {
    pub async fn duty_rules(&self) -> Result<DutyRules, StoreError> {
        crate::settings::read(self.reader(), DUTY_RULES_KEY).await
    }

    pub async fn set_duty_rules(
        &self,
        actor: &Actor,
        rules: DutyRules,
    ) -> Result<DutyRules, StoreError> {
        let rules = rules.validate().map_err(StoreError::Invalid)?;
        let now = self.now();
        let mut tx = self.begin().await?;
        crate::settings::write(&mut tx, now, DUTY_RULES_KEY, &rules).await?;
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "duty.rules_set", Outcome::Success)
                .detail(serde_json::to_value(&rules).map_err(StoreError::corrupt)?),
        )
        .await?;
        tx.commit().await?;
        Ok(rules)
    }

    /// A unit's duty settings (the defaults until someone sets them).
    pub async fn duty_settings(
        &self,
        scope: &Scope,
        unit_id: &str,
    ) -> Result<DutySettings, StoreError> {
        unit_in_scope(self.reader(), scope, unit_id).await?;
        self.settings_of(unit_id).await
    }

    pub(crate) async fn settings_of(&self, unit_id: &str) -> Result<DutySettings, StoreError> {
        Store::settings_on(self.reader(), unit_id).await
    }

    /// [`Store::settings_of`] on a connection the caller holds: a caller that holds a reader
    /// connection must not ask the pool for a second one, or enough concurrent callers each
    /// hold one and wait for another until the pool times out.
    pub(crate) async fn settings_on<'c, E>(
        executor: E,
        unit_id: &str,
    ) -> Result<DutySettings, StoreError>
    where
        E: sqlx::Executor<'c, Database = sqlx::Any>,
    {
        let row = sqlx::query("SELECT settings FROM duty_settings WHERE unit_id = $1")
            .bind(unit_id.to_owned())
            .fetch_optional(executor)
            .await?;
        match row {
            None => Ok(DutySettings::default()),
            Some(row) => serde_json::from_str(&row.try_get::<String, _>("settings")?)
                .map_err(|e| StoreError::Corrupt(format!("duty settings: {e}"))),
        }
    }

    pub async fn set_duty_settings(
        &self,
        scope: &Scope,
        actor: &Actor,
        unit_id: &str,
        settings: DutySettings,
    ) -> Result<DutySettings, StoreError> {
        let settings = settings.validate().map_err(StoreError::Invalid)?;
        let now = self.now();
        let mut tx = self.begin().await?;
        unit_in_scope(&mut *tx, scope, unit_id).await?;
        sqlx::query(
            "INSERT INTO duty_settings (unit_id, settings, duty_phone, updated_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (unit_id) DO UPDATE \
             SET settings = $2, duty_phone = $3, updated_at = $4",
        )
        .bind(unit_id.to_owned())
        .bind(serde_json::to_string(&settings).map_err(StoreError::corrupt)?)
        .bind(settings.duty_phone.clone())
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "duty.settings_set", Outcome::Success)
                .target("unit", unit_id)
                .unit(Some(unit_id))
                .detail(serde_json::to_value(&settings).map_err(StoreError::corrupt)?),
        )
        .await?;
        tx.commit().await?;
        Ok(settings)
    }

    /// Reinforced periods that apply to a unit (set on it or on any unit above it) and overlap
    /// the window.
    pub async fn duty_periods(
        &self,
        scope: &Scope,
        unit_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DutyPeriod>, StoreError> {
        unit_in_scope(self.reader(), scope, unit_id).await?;
        self.periods_of(unit_id, from, to).await
    }

    pub(crate) async fn periods_of(
        &self,
        unit_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DutyPeriod>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.id, p.unit_id, u.name AS unit_name, p.name, p.starts_at, p.ends_at, \
             p.leaders, p.min_staff, p.leader_on_site FROM duty_periods p \
             JOIN units u ON u.id = p.unit_id \
             WHERE p.unit_id IN (SELECT ancestor_id FROM unit_closure WHERE descendant_id = $1) \
             AND p.starts_at < $2 AND p.ends_at > $3 ORDER BY p.starts_at",
        )
        .bind(unit_id.to_owned())
        .bind(to_millis(to))
        .bind(to_millis(from))
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(period_row).collect()
    }

    pub async fn create_duty_period(
        &self,
        scope: &Scope,
        actor: &Actor,
        new: NewPeriod,
    ) -> Result<DutyPeriod, StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let unit = unit_in_scope(&mut *tx, scope, &new.unit_id).await?;
        let id = new_id();
        sqlx::query(
            "INSERT INTO duty_periods (id, unit_id, name, starts_at, ends_at, leaders, min_staff, \
             leader_on_site, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        )
        .bind(id.clone())
        .bind(new.unit_id.clone())
        .bind(new.name.clone())
        .bind(to_millis(new.starts_at))
        .bind(to_millis(new.ends_at))
        .bind(i64::from(new.leaders))
        .bind(i64::from(new.min_staff))
        .bind(new.leader_on_site)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "duty.period_created", Outcome::Success)
                .target("duty_period", &id)
                .unit(Some(&new.unit_id))
                .detail(
                    json!({ "name": new.name, "leaders": new.leaders, "min_staff": new.min_staff }),
                ),
        )
        .await?;
        tx.commit().await?;
        Ok(DutyPeriod {
            id,
            unit_id: new.unit_id,
            unit_name: unit.name,
            name: new.name,
            starts_at: new.starts_at,
            ends_at: new.ends_at,
            leaders: i64::from(new.leaders),
            min_staff: i64::from(new.min_staff),
            leader_on_site: new.leader_on_site,
        })
    }

    pub async fn delete_duty_period(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: &str,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let row = delete_in_scope(&mut tx, scope, "duty_periods", id, "t.unit_id").await?;
        let unit_id: String = row.try_get("unit_id")?;
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "duty.period_deleted", Outcome::Success)
                .target("duty_period", id)
                .unit(Some(&unit_id)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The active people of a unit, with their roles: who can be put on its roster.
    pub async fn duty_people(
        &self,
        scope: &Scope,
        unit_id: &str,
    ) -> Result<Vec<DutyPerson>, StoreError> {
        unit_in_scope(self.reader(), scope, unit_id).await?;
        self.people_of(unit_id).await
    }

    pub(crate) async fn people_of(&self, unit_id: &str) -> Result<Vec<DutyPerson>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, display_name, roles FROM users WHERE unit_id = $1 AND active = $2 \
             ORDER BY username",
        )
        .bind(unit_id.to_owned())
        .bind(true)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DutyPerson {
                    user_id: r.try_get("id")?,
                    display_name: r.try_get("display_name")?,
                    roles: roles_column(r)?,
                })
            })
            .filter(|p: &Result<DutyPerson, StoreError>| {
                p.as_ref().map_or(true, |p| p.roles.iter().any(|r| !r.is_admin()))
            })
            .collect()
    }

    pub async fn duty_leaves(
        &self,
        scope: &Scope,
        unit_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DutyLeave>, StoreError> {
        unit_in_scope(self.reader(), scope, unit_id).await?;
        let rows = sqlx::query(
            "SELECT l.id, l.user_id, u.display_name, l.unit_id, l.kind, l.starts_at, l.ends_at, \
             l.note FROM duty_leaves l JOIN users u ON u.id = l.user_id \
             WHERE u.unit_id = $1 AND l.starts_at < $2 AND l.ends_at > $3 ORDER BY l.starts_at",
        )
        .bind(unit_id.to_owned())
        .bind(to_millis(to))
        .bind(to_millis(from))
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DutyLeave {
                    id: r.try_get("id")?,
                    user_id: r.try_get("user_id")?,
                    display_name: r.try_get("display_name")?,
                    unit_id: r.try_get("unit_id")?,
                    kind: r.try_get("kind")?,
                    starts_at: from_millis(r.try_get("starts_at")?),
                    ends_at: from_millis(r.try_get("ends_at")?),
                    note: r.try_get("note")?,
                })
            })
            .collect()
    }

    /// Leave of the given people overlapping a window, for the rules.
    pub(crate) async fn leaves_of<'c, E>(
        executor: E,
        unit_id: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Leave>, StoreError>
    where
        E: sqlx::Executor<'c, Database = sqlx::Any>,
    {
        let rows = sqlx::query(
            "SELECT l.user_id, l.starts_at, l.ends_at FROM duty_leaves l \
             JOIN users u ON u.id = l.user_id \
             WHERE u.unit_id = $1 AND l.starts_at < $2 AND l.ends_at > $3",
        )
        .bind(unit_id.to_owned())
        .bind(to_millis(to))
        .bind(to_millis(from))
        .fetch_all(executor)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Leave {
                    user_id: r.try_get("user_id")?,
                    starts_at: from_millis(r.try_get("starts_at")?),
                    ends_at: from_millis(r.try_get("ends_at")?),
                })
            })
            .collect()
    }

    pub async fn create_duty_leave(
        &self,
        scope: &Scope,
        actor: &Actor,
        new: NewLeave,
    ) -> Result<DutyLeave, StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let mut sql = Sql::new("SELECT u.unit_id, u.display_name FROM users u WHERE u.id = ");
        sql.bind(new.user_id.clone());
        scope::filter(&mut sql, scope, "u.unit_id");
        let Some(row) = sql.fetch_optional(&mut *tx).await? else {
            return Err(StoreError::Invalid(ValidationErrors::single("user_id", "not_found")));
        };
        let unit_id: String = row.try_get("unit_id")?;
        let id = new_id();
        sqlx::query(
            "INSERT INTO duty_leaves (id, user_id, unit_id, kind, starts_at, ends_at, note, \
             created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id.clone())
        .bind(new.user_id.clone())
        .bind(unit_id.clone())
        .bind(new.kind.clone())
        .bind(to_millis(new.starts_at))
        .bind(to_millis(new.ends_at))
        .bind(new.note.clone())
        .bind(actor.user_id.clone())
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "duty.leave_created", Outcome::Success)
                .target("user", &new.user_id)
                .unit(Some(&unit_id))
                .detail(json!({ "kind": new.kind })),
        )
        .await?;
        tx.commit().await?;
        Ok(DutyLeave {
            id,
            user_id: new.user_id,
            display_name: row.try_get("display_name")?,
            unit_id,
            kind: new.kind,
            starts_at: new.starts_at,
            ends_at: new.ends_at,
            note: new.note,
        })
    }

    pub async fn delete_duty_leave(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: &str,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let row =
            delete_in_scope(&mut tx, scope, "duty_leaves", id, "t.unit_id, t.user_id").await?;
        let unit_id: String = row.try_get("unit_id")?;
        let user_id: String = row.try_get("user_id")?;
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "duty.leave_deleted", Outcome::Success)
                .target("user", &user_id)
                .unit(Some(&unit_id)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The requirement of a unit's level and the reinforced periods over a window.
    pub(crate) async fn requirements(
        &self,
        unit: &Unit,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<(Requirement, Vec<RequirementPeriod>), StoreError> {
        let rules = self.duty_rules().await?;
        let rule = rules.staffing_for(unit.level);
        let base = Requirement { leaders: rule.leaders, min_staff: rule.min_staff };
        let periods = self
            .periods_of(&unit.id, from, to)
            .await?
            .into_iter()
            .map(|p| RequirementPeriod {
                starts_at: p.starts_at,
                ends_at: p.ends_at,
                requirement: Requirement {
                    leaders: u8::try_from(p.leaders).unwrap_or(u8::MAX),
                    min_staff: u8::try_from(p.min_staff).unwrap_or(u8::MAX),
                },
            })
            .collect();
        Ok((base, periods))
    }
}

/// Deletes row `id` of a unit-owned duty table when its unit lies in the scope, and returns
/// `columns` (of alias `t`) as they were; `NotFound` outside the scope.
async fn delete_in_scope(
    tx: &mut Tx,
    scope: &Scope,
    table: &'static str,
    id: &str,
    columns: &str,
) -> Result<AnyRow, StoreError> {
    let mut sql = Sql::new(&format!("SELECT {columns} FROM {table} t WHERE t.id = "));
    sql.bind(id.to_owned());
    scope::filter(&mut sql, scope, "t.unit_id");
    let row = sql.fetch_optional(&mut **tx).await?.ok_or(StoreError::NotFound)?;
    sqlx::query(&format!("DELETE FROM {table} WHERE id = $1"))
        .bind(id.to_owned())
        .execute(&mut **tx)
        .await?;
    Ok(row)
}

/// The name people know the actor by: their display name, else the actor's name.
pub(crate) async fn display_name(tx: &mut Tx, actor: &Actor) -> Result<String, StoreError> {
    let Some(id) = &actor.user_id else { return Ok(actor.name.clone()) };
    let row = sqlx::query("SELECT display_name FROM users WHERE id = $1")
        .bind(id.clone())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match row {
        Some(r) => r.try_get("display_name")?,
        None => actor.name.clone(),
    })
}

/// Announces a change of a unit's roster (a shift's people, a generation, a publication, a swap,
/// a check-in or a handover) to the consoles that may read rosters, in the change's transaction.
pub(crate) async fn announce_roster(
    tx: &mut Tx,
    at: DateTime<Utc>,
    kind: &str,
    unit_id: &str,
    shift_id: Option<&str>,
) -> Result<(), StoreError> {
    let data = match shift_id {
        Some(id) => json!({ "shift_id": id }),
        None => json!({}),
    };
    crate::outbox::announce(tx, at, unit_id, |path| {
        NewEvent::new(kind, path, data).for_readers(Permission::ReadDuty)
    })
    .await
}

/// Duty records as a person reads them ([`crate::names`]). A call in the duty log is named by
/// its unit and time only: its summary may hold a caller's personal data.
impl Store {
    pub async fn shift_names(
        &self,
        ids: &[String],
    ) -> Result<Vec<crate::names::RecordName>, StoreError> {
        crate::names::fetch(
            self,
            "SELECT s.id, s.unit_id, CAST(NULL AS TEXT) AS number, \
             n.name || ' · ' || s.shift_name AS title, s.starts_at AS at \
             FROM duty_shifts s JOIN units n ON n.id = s.unit_id WHERE s.id IN (",
            ids,
        )
        .await
    }

    pub async fn swap_names(
        &self,
        ids: &[String],
    ) -> Result<Vec<crate::names::RecordName>, StoreError> {
        crate::names::fetch(
            self,
            "SELECT w.id, w.unit_id, CAST(NULL AS TEXT) AS number, \
             n.name || ' · ' || s.shift_name AS title, s.starts_at AS at \
             FROM duty_swaps w JOIN duty_assignments a ON a.id = w.assignment_id \
             JOIN duty_shifts s ON s.id = a.shift_id JOIN units n ON n.id = w.unit_id \
             WHERE w.id IN (",
            ids,
        )
        .await
    }

    pub async fn log_entry_names(
        &self,
        ids: &[String],
    ) -> Result<Vec<crate::names::RecordName>, StoreError> {
        crate::names::fetch(
            self,
            "SELECT l.id, l.unit_id, CAST(NULL AS TEXT) AS number, n.name AS title, \
             l.received_at AS at FROM duty_log l JOIN units n ON n.id = l.unit_id WHERE l.id IN (",
            ids,
        )
        .await
    }

    pub async fn period_names(
        &self,
        ids: &[String],
    ) -> Result<Vec<crate::names::RecordName>, StoreError> {
        crate::names::fetch(
            self,
            "SELECT id, unit_id, CAST(NULL AS TEXT) AS number, name AS title, starts_at AS at \
             FROM duty_periods WHERE id IN (",
            ids,
        )
        .await
    }

    pub async fn feed_names(
        &self,
        ids: &[String],
    ) -> Result<Vec<crate::names::RecordName>, StoreError> {
        crate::names::fetch(
            self,
            "SELECT id, unit_id, CAST(NULL AS TEXT) AS number, name AS title, \
             CAST(NULL AS BIGINT) AS at FROM duty_feeds WHERE id IN (",
            ids,
        )
        .await
    }
}
