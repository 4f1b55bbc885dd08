//! The duty log (值班日志): every call or message received (接报), with the routine 接、报、传、跟
//! (take it, report it, relay instructions, follow up). An entry belongs to the shift on duty
//! when it was received, and links to the incident opened from it (`incident_id`, set by the
//! incidents module).

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::error::ValidationErrors;
use beacon_core::event::NewEvent;
use beacon_core::id::new_id;
use beacon_core::org::{Permission, Phone};
use beacon_core::page::PageRequest;
use beacon_core::scope::Scope;
use beacon_core::text::free_text;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use utoipa::ToSchema;

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

use super::{display_name, unit_in_scope};
use crate::audit::like_pattern;
use crate::sql::{Sql, json_flag};
use crate::{Page, Store, StoreError, Tx, audit, scope, timeline};

pub const LOG_CHANNELS: [&str; 7] = ["phone", "fax", "sms", "radio", "system", "visit", "other"];
pub const LOG_CATEGORIES: [&str; 9] = [
    "accident",
    "natural_disaster",
    "fire",
    "public_health",
    "public_security",
    "rescue_request",
    "instruction",
    "inquiry",
    "other",
];

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DutyLogWrite {
    pub received_at: DateTime<Utc>,
    pub channel: String,
    pub category: String,
    #[serde(default)]
    pub caller_name: String,
    #[serde(default)]
    pub caller_unit: String,
    #[serde(default)]
    pub caller_phone: String,
    #[serde(default)]
    pub place: String,
    pub summary: String,
    #[serde(default)]
    pub actions: String,
    #[serde(default)]
    pub instructions: String,
    /// Still needs following up (shown in the handover).
    #[serde(default)]
    pub follow_up: bool,
}

impl DutyLogWrite {
    /// Binds the written fields in their column order (`received_at` … `follow_up`), shared by
    /// the insert and the update.
    fn bind_fields<'q>(&self, query: AnyQuery<'q>) -> AnyQuery<'q> {
        query
            .bind(to_millis(self.received_at))
            .bind(self.channel.clone())
            .bind(self.category.clone())
            .bind(self.caller_name.clone())
            .bind(self.caller_unit.clone())
            .bind(self.caller_phone.clone())
            .bind(self.place.clone())
            .bind(self.summary.clone())
            .bind(self.actions.clone())
            .bind(self.instructions.clone())
            .bind(self.follow_up)
    }

    /// Checks an entry received no later than a few minutes from `now` (clocks differ) and at
    /// most a year ago.
    pub fn validate(mut self, now: DateTime<Utc>) -> Result<DutyLogWrite, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if self.received_at > now + Duration::minutes(5) {
            errors.add("received_at", "in_future");
        } else if self.received_at < now - Duration::days(366) {
            errors.add("received_at", "too_old");
        }
        if !LOG_CHANNELS.contains(&self.channel.as_str()) {
            errors.add("channel", "unknown");
        }
        if !LOG_CATEGORIES.contains(&self.category.as_str()) {
            errors.add("category", "unknown");
        }
        let mut text = |field: &str, value: &mut String, max: usize| match free_text(value, max) {
            Ok(v) => *value = v,
            Err(code) => errors.add(field, code),
        };
        text("caller_name", &mut self.caller_name, 64);
        text("caller_unit", &mut self.caller_unit, 128);
        text("place", &mut self.place, 256);
        text("summary", &mut self.summary, 4000);
        text("actions", &mut self.actions, 4000);
        text("instructions", &mut self.instructions, 4000);
        if self.summary.is_empty() && errors.get("summary").is_none() {
            errors.add("summary", "required");
        }
        let phone = self.caller_phone.trim().to_owned();
        if phone.is_empty() {
            self.caller_phone = String::new();
        } else {
            match Phone::parse(&phone) {
                Ok(p) => self.caller_phone = p.as_str().to_owned(),
                Err(code) => errors.add("caller_phone", code),
            }
        }
        errors.into_result().map(|()| self)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DutyLogEntry {
    pub id: String,
    pub unit_id: String,
    pub unit_name: String,
    pub shift_id: Option<String>,
    pub received_at: DateTime<Utc>,
    pub channel: String,
    pub category: String,
    pub caller_name: String,
    pub caller_unit: String,
    pub caller_phone: String,
    pub place: String,
    pub summary: String,
    pub actions: String,
    pub instructions: String,
    pub follow_up: bool,
    /// The incident opened from this entry, once there is one.
    pub incident_id: Option<String>,
    pub recorded_by_name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Default)]
pub struct DutyLogFilter {
    pub unit_id: Option<String>,
    pub shift_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub category: Option<String>,
    pub follow_up: Option<bool>,
    pub q: Option<String>,
}

#[derive(Deserialize)]
struct Row_ {
    id: String,
    unit_id: String,
    unit_name: String,
    shift_id: Option<String>,
    received_at: i64,
    channel: String,
    category: String,
    caller_name: String,
    caller_unit: String,
    caller_phone: String,
    place: String,
    summary: String,
    actions: String,
    instructions: String,
    #[serde(deserialize_with = "json_flag")]
    follow_up: bool,
    incident_id: Option<String>,
    recorded_by_name: String,
    created_at: i64,
    updated_at: i64,
}

impl From<Row_> for DutyLogEntry {
    fn from(r: Row_) -> Self {
        Self {
            id: r.id,
            unit_id: r.unit_id,
            unit_name: r.unit_name,
            shift_id: r.shift_id,
            received_at: from_millis(r.received_at),
            channel: r.channel,
            category: r.category,
            caller_name: r.caller_name,
            caller_unit: r.caller_unit,
            caller_phone: r.caller_phone,
            place: r.place,
            summary: r.summary,
            actions: r.actions,
            instructions: r.instructions,
            follow_up: r.follow_up,
            incident_id: r.incident_id,
            recorded_by_name: r.recorded_by_name,
            created_at: from_millis(r.created_at),
            updated_at: from_millis(r.updated_at),
        }
    }
}

const SELECT: &str = "SELECT l.id, l.unit_id, u.name AS unit_name, l.shift_id, l.received_at, \
    l.channel, l.category, l.caller_name, l.caller_unit, l.caller_phone, l.place, l.summary, \
    l.actions, l.instructions, l.follow_up, l.incident_id, l.recorded_by_name, l.created_at, \
    l.updated_at FROM duty_log l JOIN units u ON u.id = l.unit_id WHERE 1 = 1";

/// The unit's published shift on duty at an instant: where a call received then is filed.
async fn shift_on_duty(
    tx: &mut Tx,
    unit_id: &str,
    at: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query(
        "SELECT id FROM duty_shifts WHERE unit_id = $1 AND status = 'published' \
         AND starts_at <= $2 AND ends_at > $2 LIMIT 1",
    )
    .bind(unit_id.to_owned())
    .bind(to_millis(at))
    .fetch_optional(&mut **tx)
    .await?
    .map(|r| r.try_get("id"))
    .transpose()?)
}

impl Store {
    pub async fn duty_log(
        &self,
        scope: &Scope,
        filter: &DutyLogFilter,
        page: PageRequest,
    ) -> Result<Page<DutyLogEntry>, StoreError> {
        let apply = |sql: &mut Sql| {
            if let Some(unit) = &filter.unit_id {
                sql.push(" AND l.unit_id IN (SELECT descendant_id FROM unit_closure WHERE ancestor_id = ")
                    .bind(unit.clone())
                    .push(")");
            }
            if let Some(shift) = &filter.shift_id {
                sql.push(" AND l.shift_id = ").bind(shift.clone());
            }
            if let Some(from) = filter.from {
                sql.push(" AND l.received_at >= ").bind(to_millis(from));
            }
            if let Some(to) = filter.to {
                sql.push(" AND l.received_at < ").bind(to_millis(to));
            }
            if let Some(category) = &filter.category {
                sql.push(" AND l.category = ").bind(category.clone());
            }
            if let Some(follow_up) = filter.follow_up {
                sql.push(" AND l.follow_up = ").bind(follow_up);
            }
            if let Some(q) = filter.q.as_deref().filter(|q| !q.is_empty()) {
                let pattern = like_pattern(q);
                sql.push(" AND (l.summary LIKE ")
                    .bind(pattern.clone())
                    .push(" ESCAPE '\\' OR l.caller_name LIKE ")
                    .bind(pattern.clone())
                    .push(" ESCAPE '\\' OR l.caller_unit LIKE ")
                    .bind(pattern.clone())
                    .push(" ESCAPE '\\' OR l.place LIKE ")
                    .bind(pattern)
                    .push(" ESCAPE '\\')");
            }
            scope::filter(sql, scope, "l.unit_id");
        };
        let mut count = Sql::new(
            "SELECT COUNT(*) AS n FROM duty_log l JOIN units u ON u.id = l.unit_id WHERE 1 = 1",
        );
        apply(&mut count);
        let total = self.count(count).await?;
        let mut sql = Sql::new(SELECT);
        apply(&mut sql);
        sql.push(" ORDER BY l.received_at DESC, l.id DESC LIMIT ")
            .bind(i64::from(page.per_page))
            .push(" OFFSET ")
            .bind(page.offset());
        let rows: Vec<Row_> =
            sql.fetch_rows(self.backend(), "t.received_at DESC, t.id DESC", self.reader()).await?;
        Ok(Page {
            items: rows.into_iter().map(DutyLogEntry::from).collect(),
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    pub async fn duty_log_entry(
        &self,
        scope: &Scope,
        id: &str,
    ) -> Result<DutyLogEntry, StoreError> {
        let mut sql = Sql::new(SELECT);
        sql.push(" AND l.id = ").bind(id.to_owned());
        scope::filter(&mut sql, scope, "l.unit_id");
        let rows: Vec<Row_> = sql.fetch_rows(self.backend(), "t.id", self.reader()).await?;
        rows.into_iter().next().map(DutyLogEntry::from).ok_or(StoreError::NotFound)
    }

    /// Records a call or message at a unit; it is filed under the shift on duty at the time.
    pub async fn create_duty_log(
        &self,
        scope: &Scope,
        actor: &Actor,
        unit_id: &str,
        write: DutyLogWrite,
    ) -> Result<DutyLogEntry, StoreError> {
        let now = self.now();
        let write = write.validate(now).map_err(StoreError::Invalid)?;
        let mut tx = self.begin().await?;
        unit_in_scope(&mut *tx, scope, unit_id).await?;
        let shift = shift_on_duty(&mut tx, unit_id, write.received_at).await?;
        let id = new_id();
        let recorder = display_name(&mut tx, actor).await?;
        let insert = sqlx::query(
            "INSERT INTO duty_log (id, unit_id, shift_id, received_at, channel, category, \
             caller_name, caller_unit, caller_phone, place, summary, actions, instructions, \
             follow_up, recorded_by, recorded_by_name, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17)",
        )
        .bind(id.clone())
        .bind(unit_id.to_owned())
        .bind(shift.clone());
        write
            .bind_fields(insert)
            .bind(actor.user_id.clone().unwrap_or_default())
            .bind(recorder)
            .bind(to_millis(now))
            .execute(&mut *tx)
            .await?;
        if let Some(shift) = &shift {
            timeline::append(
                &mut tx,
                now,
                actor,
                ("duty_shift", shift),
                Some(unit_id),
                "log_entry",
                json!({ "entry_id": id, "category": write.category }),
            )
            .await?;
        }
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "duty.log_created", Outcome::Success)
                .target("duty_log", &id)
                .unit(Some(unit_id))
                .detail(json!({ "category": write.category, "channel": write.channel })),
        )
        .await?;
        // The log holds callers' names and phones: only its readers hear of a new entry.
        crate::outbox::announce(&mut tx, now, unit_id, |path| {
            NewEvent::new("duty.log_created", path, json!({ "id": id }))
                .for_readers(Permission::ReadDutyLog)
        })
        .await?;
        tx.commit().await?;
        self.duty_log_entry(scope, &id).await
    }

    /// Rewrites an entry (the caller sends every field). The audit keeps what changed.
    pub async fn update_duty_log(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: &str,
        write: DutyLogWrite,
    ) -> Result<DutyLogEntry, StoreError> {
        let now = self.now();
        let write = write.validate(now).map_err(StoreError::Invalid)?;
        let before = self.duty_log_entry(scope, id).await?;
        let mut tx = self.begin().await?;
        // A changed time may belong to another shift (or to none).
        let shift = shift_on_duty(&mut tx, &before.unit_id, write.received_at).await?;
        let update = sqlx::query(
            "UPDATE duty_log SET received_at = $1, channel = $2, category = $3, caller_name = $4, \
             caller_unit = $5, caller_phone = $6, place = $7, summary = $8, actions = $9, \
             instructions = $10, follow_up = $11, updated_at = $12, shift_id = $14 WHERE id = $13",
        );
        write
            .bind_fields(update)
            .bind(to_millis(now))
            .bind(id.to_owned())
            .bind(shift)
            .execute(&mut *tx)
            .await?;
        let mut diff = serde_json::Map::new();
        let pairs = [
            ("summary", &before.summary, &write.summary),
            ("actions", &before.actions, &write.actions),
            ("instructions", &before.instructions, &write.instructions),
            ("place", &before.place, &write.place),
            ("category", &before.category, &write.category),
        ];
        for (field, old, new) in pairs {
            if old != new {
                diff.insert(field.to_owned(), json!({ "before": old, "after": new }));
            }
        }
        if before.follow_up != write.follow_up {
            diff.insert(
                "follow_up".into(),
                json!({ "before": before.follow_up, "after": write.follow_up }),
            );
        }
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "duty.log_updated", Outcome::Success)
                .target("duty_log", id)
                .unit(Some(&before.unit_id))
                .detail(serde_json::Value::Object(diff)),
        )
        .await?;
        tx.commit().await?;
        self.duty_log_entry(scope, id).await
    }
}
