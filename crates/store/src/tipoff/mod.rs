//! Public tip-offs (docs/tipoffs.md): received without sign-in, routed to the territorial unit
//! of the place, verified within the bureau's period on the deadline mechanism, concluded as a
//! hidden danger (linked, in the same transaction) or as unfounded with the reasons, answered,
//! and rewarded by the schedule with a leader's approval.
//!
//! A tip-off belongs to its handling unit and is reached by the one scope rule. The reporter's
//! name and phone arrive sealed (the API holds the key) and leave this module only through
//! [`Store::reveal_tipoff_reporter`], which audits every reading in the same transaction.

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::danger::{DangerOrigin, Party};
use beacon_core::event::NewEvent;
use beacon_core::id::new_id;
use beacon_core::org::{Permission, Role};
use beacon_core::page::PageRequest;
use beacon_core::scope::Scope;
use beacon_core::text::{free_text, plain_text};
use beacon_core::tipoff::{
    PublicStatus, RewardStatus, TipoffAction, TipoffSettings, TipoffStatus, check_action,
};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use utoipa::ToSchema;

use crate::danger::DangerWrite;
use crate::enterprise::{Reach, date_of, iso, today};
use crate::sql::Sql;
use crate::{Page, Store, StoreError, Tx, audit, numbers, outbox, scope, settings, timeline};

mod deadline;
mod route;

pub use deadline::TIPOFF_DEADLINE;

const SETTINGS_KEY: &str = "tipoffs";

/// The roles that handle tip-offs (those holding [`Permission::HandleTipoffs`]).
fn handler_roles() -> Vec<Role> {
    Role::ALL.into_iter().filter(|r| r.permits(Permission::HandleTipoffs)).collect()
}

/// A tip-off as the public page sends it, the reporter's identity already sealed.
#[derive(Debug, Clone)]
pub struct NewTipoff {
    pub content: String,
    pub place: String,
    pub point: Option<(f64, f64)>,
    pub enterprise_name: String,
    /// Sealed name and phone; none for an anonymous tip-off.
    pub reporter_sealed: Option<String>,
    pub reporter_phone_hash: Option<String>,
    /// The keyed hash of the sender's address.
    pub source_hash: String,
    /// The hash of the query code given back to the reporter.
    pub code_hash: String,
}

/// What the reporter reads by the query code.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct PublicTipoff {
    pub number: String,
    pub received_at: DateTime<Utc>,
    pub status: PublicStatus,
    pub reply: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
}

/// A reward and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Reward {
    pub status: RewardStatus,
    /// The administrative penalty it is reckoned from, in fen.
    pub penalty_fen: i64,
    pub amount_fen: i64,
    pub proposed_by_name: String,
    pub reviewed_by_name: Option<String>,
    pub review_reason: Option<String>,
    pub paid_on: Option<NaiveDate>,
    pub payment_ref: Option<String>,
}

/// A tip-off as its handlers see it. The reporter's identity is not part of it: whether they
/// gave one, and how many other tip-offs came from the same phone.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Tipoff {
    pub id: String,
    pub number: String,
    pub unit_id: String,
    pub unit_name: String,
    pub content: String,
    pub place: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// The enterprise as the reporter named it.
    pub enterprise_name: String,
    pub anonymous: bool,
    pub status: TipoffStatus,
    /// The last day of the verification period.
    pub verify_by: NaiveDate,
    /// Still being verified after that day.
    pub overdue: bool,
    /// The verification's findings (the reasons, for an unfounded one).
    pub conclusion: String,
    pub danger_id: Option<String>,
    pub danger_number: Option<String>,
    pub concluded_at: Option<DateTime<Utc>>,
    pub concluded_by_name: Option<String>,
    pub reply: String,
    pub replied_at: Option<DateTime<Utc>>,
    pub replied_by_name: Option<String>,
    pub reward: Option<Reward>,
    /// Other tip-offs sent from the same phone number (matched by keyed hash).
    pub same_reporter: i64,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Filters of the inbox.
#[derive(Debug, Clone, Default)]
pub struct TipoffFilter {
    pub status: Option<TipoffStatus>,
    /// Handled by this unit or one beneath it.
    pub unit_id: Option<String>,
    /// Still being verified past the period.
    pub overdue: bool,
    /// Concluded but not yet answered.
    pub unanswered: bool,
    pub reward: Option<RewardStatus>,
}

/// The outcome of a tip-off's verification.
#[derive(Debug, Clone)]
pub enum Conclusion {
    /// True: it becomes this hidden danger (origin `tipoff`).
    Founded { findings: String, hazard: DangerWrite },
    /// Untrue, with the reasons.
    Unfounded { reasons: String },
}

/// A step of a tip-off's handling.
#[derive(Debug, Clone)]
pub enum TipoffStep {
    Conclude {
        conclusion: Conclusion,
    },
    /// Hands it to another unit in the caller's scope (转办).
    Transfer {
        unit_id: String,
        reason: String,
    },
    /// The answer the reporter reads by the query code.
    Reply {
        text: String,
    },
    /// A reward reckoned by the schedule from the penalty imposed (in fen).
    ProposeReward {
        penalty_fen: i64,
    },
    ReviewReward {
        approve: bool,
        reason: String,
    },
    RecordPayment {
        paid_on: NaiveDate,
        /// The voucher or transfer number.
        reference: String,
    },
}

impl TipoffStep {
    fn action(&self) -> TipoffAction {
        match self {
            TipoffStep::Conclude { .. } => TipoffAction::Conclude,
            TipoffStep::Transfer { .. } => TipoffAction::Transfer,
            TipoffStep::Reply { .. } => TipoffAction::Reply,
            TipoffStep::ProposeReward { .. } => TipoffAction::ProposeReward,
            TipoffStep::ReviewReward { .. } => TipoffAction::ReviewReward,
            TipoffStep::RecordPayment { .. } => TipoffAction::RecordPayment,
        }
    }
}

const SELECT: &str = "SELECT t.*, u.name AS unit_name, h.number AS danger_number, \
     (SELECT COUNT(*) FROM tipoffs o WHERE o.reporter_phone_hash = t.reporter_phone_hash \
      AND o.id <> t.id) AS same_reporter \
     FROM tipoffs t JOIN units u ON u.id = t.unit_id \
     LEFT JOIN hidden_dangers h ON h.id = t.danger_id WHERE 1 = 1";

fn one(scope: &Scope, id: &str) -> Sql {
    let mut sql = Sql::new(SELECT);
    sql.push(" AND t.id = ").bind(id.to_owned());
    scope::filter(&mut sql, scope, "t.unit_id");
    sql
}

fn tipoff_of(r: &sqlx::any::AnyRow, today: NaiveDate) -> Result<Tipoff, StoreError> {
    let text = |column: &str| -> Result<String, StoreError> { Ok(r.try_get(column)?) };
    let status = text("status")?;
    let status = TipoffStatus::parse(&status)
        .ok_or_else(|| StoreError::corrupt(format!("status: {status}")))?;
    let verify_by =
        date_of(Some(&text("verify_by")?))?.ok_or_else(|| StoreError::corrupt("verify_by"))?;
    let reward = match r.try_get::<Option<String>, _>("reward_status")? {
        None => None,
        Some(s) => Some(Reward {
            status: RewardStatus::parse(&s)
                .ok_or_else(|| StoreError::corrupt(format!("reward_status: {s}")))?,
            penalty_fen: r.try_get::<Option<i64>, _>("penalty_fen")?.unwrap_or(0),
            amount_fen: r.try_get::<Option<i64>, _>("reward_fen")?.unwrap_or(0),
            proposed_by_name: r
                .try_get::<Option<String>, _>("reward_proposed_by_name")?
                .unwrap_or_default(),
            reviewed_by_name: r.try_get("reward_reviewed_by_name")?,
            review_reason: r.try_get("reward_review_reason")?,
            paid_on: date_of(r.try_get::<Option<String>, _>("reward_paid_on")?.as_deref())?,
            payment_ref: r.try_get("reward_payment_ref")?,
        }),
    };
    Ok(Tipoff {
        id: text("id")?,
        number: text("number")?,
        unit_id: text("unit_id")?,
        unit_name: text("unit_name")?,
        content: text("content")?,
        place: text("place")?,
        lon: r.try_get("lon")?,
        lat: r.try_get("lat")?,
        enterprise_name: text("enterprise_name")?,
        anonymous: crate::sql::get_bool(r, "anonymous")?,
        status,
        verify_by,
        overdue: status == TipoffStatus::Received && verify_by < today,
        conclusion: text("conclusion")?,
        danger_id: r.try_get("danger_id")?,
        danger_number: r.try_get("danger_number")?,
        concluded_at: r.try_get::<Option<i64>, _>("concluded_at")?.map(from_millis),
        concluded_by_name: r.try_get("concluded_by_name")?,
        reply: text("reply")?,
        replied_at: r.try_get::<Option<i64>, _>("replied_at")?.map(from_millis),
        replied_by_name: r.try_get("replied_by_name")?,
        reward,
        same_reporter: r.try_get("same_reporter")?,
        version: r.try_get("version")?,
        created_at: from_millis(r.try_get("created_at")?),
        updated_at: from_millis(r.try_get("updated_at")?),
    })
}

/// Tells the handlers of a tip-off's unit and the units above it that it changed (by number:
/// never the content or the reporter).
async fn announce(
    tx: &mut Tx,
    now: DateTime<Utc>,
    kind: &str,
    unit_id: &str,
    id: &str,
    number: &str,
) -> Result<(), StoreError> {
    let data = json!({ "id": id, "number": number });
    outbox::announce(tx, now, unit_id, |path| {
        NewEvent::new(kind, path, data).for_readers(Permission::HandleTipoffs)
    })
    .await
}

impl Store {
    /// The bureau's tip-off settings (defaults until someone sets them).
    pub async fn tipoff_settings(&self) -> Result<TipoffSettings, StoreError> {
        settings::read(self.reader(), SETTINGS_KEY).await
    }

    pub async fn set_tipoff_settings(
        &self,
        actor: &Actor,
        value: TipoffSettings,
    ) -> Result<TipoffSettings, StoreError> {
        let value = value.validate().map_err(StoreError::Invalid)?;
        let now = self.now();
        let mut tx = self.begin().await?;
        let before: TipoffSettings = settings::read(&mut *tx, SETTINGS_KEY).await?;
        settings::write(&mut tx, now, SETTINGS_KEY, &value).await?;
        let record = NewAuditRecord::new(actor, "tipoff.settings_changed", Outcome::Success)
            .detail(json!({ "before": before, "after": value }));
        audit::append(&mut tx, now, record).await?;
        tx.commit().await?;
        Ok(value)
    }

    /// How many tip-offs came from the address (by its keyed hash) since `since`.
    pub async fn tipoffs_from_source(
        &self,
        source_hash: &str,
        since: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "SELECT COUNT(*) AS n FROM tipoffs WHERE source_hash = $1 AND created_at >= $2",
        )
        .bind(source_hash.to_owned())
        .bind(to_millis(since))
        .fetch_one(self.reader())
        .await?;
        Ok(row.try_get("n")?)
    }

    /// Receives a tip-off: routes it by its place, numbers it
    /// `JB-<unit code>-<year>-<sequence>`, starts its verification clock and tells the
    /// handling unit, in one transaction. Its number.
    pub async fn submit_tipoff(&self, new: NewTipoff) -> Result<String, StoreError> {
        let now = self.now();
        let mut errors = beacon_core::error::ValidationErrors::new();
        let content = errors.check("content", plain_text(&new.content, 4000));
        let place = errors.check("place", free_text(&new.place, 200));
        let enterprise_name = errors.check("enterprise_name", free_text(&new.enterprise_name, 200));
        if let Some((lon, lat)) = new.point
            && !((-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat))
        {
            errors.add("point", "out_of_range");
        }
        if new.point.is_none() && place.as_deref().is_some_and(str::is_empty) {
            errors.add("place", "required");
        }
        errors.into_result().map_err(StoreError::Invalid)?;
        let settings = self.tipoff_settings().await?;
        let unit_id = route::route(self, new.point, &handler_roles()).await?;
        let mut tx = self.begin().await?;
        let code: String = sqlx::query("SELECT code FROM units WHERE id = $1")
            .bind(unit_id.clone())
            .fetch_one(&mut *tx)
            .await?
            .try_get("code")?;
        let prefix = format!("JB-{code}-{}-", today(now).format("%Y"));
        let number = format!("{prefix}{:05}", numbers::take(&mut tx, &prefix, 1).await?);
        let calendar = self.work_calendar().await?;
        let due = calendar.add_calendar_days(now, settings.verify_days);
        let verify_by = beacon_core::calendar::WorkCalendar::local_date(due);
        let id = new_id();
        let (lon, lat) = new.point.unzip();
        sqlx::query(
            "INSERT INTO tipoffs (id, number, code_hash, unit_id, content, place, lon, lat, \
             enterprise_name, enterprise_id, anonymous, reporter_sealed, reporter_phone_hash, \
             source_hash, status, verify_by, conclusion, reply, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $11, $12, $13, $14, $15, '', \
             '', 1, $16, $16)",
        )
        .bind(id.clone())
        .bind(number.clone())
        .bind(new.code_hash)
        .bind(unit_id.clone())
        .bind(content.unwrap_or_default())
        .bind(place.unwrap_or_default())
        .bind(lon)
        .bind(lat)
        .bind(enterprise_name.unwrap_or_default())
        .bind(new.reporter_sealed.is_none())
        .bind(new.reporter_sealed)
        .bind(new.reporter_phone_hash)
        .bind(new.source_hash)
        .bind(TipoffStatus::Received.as_str())
        .bind(iso(verify_by))
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
        let actor = public_actor();
        let data = json!({ "number": number, "verify_by": iso(verify_by) });
        timeline::append(&mut tx, now, &actor, ("tipoff", &id), Some(&unit_id), "received", data)
            .await?;
        deadline::schedule(&mut tx, now, &id, &unit_id, due).await?;
        let record = NewAuditRecord::new(&actor, "tipoff.received", Outcome::Success)
            .target("tipoff", &id)
            .unit(Some(&unit_id))
            .detail(json!({ "number": number }));
        audit::append(&mut tx, now, record).await?;
        announce(&mut tx, now, "tipoff.received", &unit_id, &id, &number).await?;
        deadline::tell_handlers(&mut tx, now, &unit_id, 0, "tipoff.received", &id, &number).await?;
        tx.commit().await?;
        Ok(number)
    }

    /// What the reporter may read, by the hash of the query code; none for a code that names
    /// nothing (the API answers it exactly as it answers a wrong code).
    pub async fn public_tipoff(&self, code_hash: &str) -> Result<Option<PublicTipoff>, StoreError> {
        let row = sqlx::query(
            "SELECT number, created_at, reply, replied_at FROM tipoffs WHERE code_hash = $1",
        )
        .bind(code_hash.to_owned())
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let replied_at: Option<i64> = row.try_get("replied_at")?;
        let reply: String = row.try_get("reply")?;
        Ok(Some(PublicTipoff {
            number: row.try_get("number")?,
            received_at: from_millis(row.try_get("created_at")?),
            status: if replied_at.is_some() {
                PublicStatus::Answered
            } else {
                PublicStatus::Processing
            },
            reply: replied_at.map(|_| reply),
            replied_at: replied_at.map(from_millis),
        }))
    }

    /// The tip-off with the query code, for the reporter's photos: its id and unit, while it is
    /// still being verified and no older than `within`.
    pub async fn tipoff_for_photos(
        &self,
        code_hash: &str,
        within: chrono::Duration,
    ) -> Result<Option<crate::attachment::Owner>, StoreError> {
        let row =
            sqlx::query("SELECT id, unit_id, status, created_at FROM tipoffs WHERE code_hash = $1")
                .bind(code_hash.to_owned())
                .fetch_optional(self.reader())
                .await?;
        let Some(row) = row else { return Ok(None) };
        let created = from_millis(row.try_get("created_at")?);
        let status: String = row.try_get("status")?;
        if self.now() - created > within || status != TipoffStatus::Received.as_str() {
            return Ok(None);
        }
        let id: String = row.try_get("id")?;
        Ok(Some(crate::attachment::Owner {
            kind: "tipoff".to_owned(),
            id: id.clone(),
            unit_id: row.try_get("unit_id")?,
            timeline: ("tipoff".to_owned(), id),
            frozen: None,
        }))
    }

    /// A tip-off in the caller's scope (404 otherwise).
    pub async fn tipoff(&self, scope: &Scope, id: &str) -> Result<Tipoff, StoreError> {
        let row = one(scope, id).fetch_optional(self.reader()).await?;
        tipoff_of(&row.ok_or(StoreError::NotFound)?, today(self.now()))
    }

    pub async fn tipoff_history(
        &self,
        scope: &Scope,
        id: &str,
    ) -> Result<Vec<timeline::TimelineEntry>, StoreError> {
        self.tipoff(scope, id).await?;
        self.timeline("tipoff", id).await
    }

    /// A page of the inbox: those being verified first, by the end of their period; then the
    /// rest, the latest first.
    pub async fn tipoffs(
        &self,
        scope: &Scope,
        filter: &TipoffFilter,
        page: PageRequest,
    ) -> Result<Page<Tipoff>, StoreError> {
        let today = today(self.now());
        let apply = |sql: &mut Sql| {
            if let Some(status) = filter.status {
                sql.push(" AND t.status = ").bind(status.as_str());
            }
            if let Some(unit) = &filter.unit_id {
                sql.push(
                    " AND t.unit_id IN (SELECT descendant_id FROM unit_closure WHERE ancestor_id = ",
                )
                .bind(unit.clone())
                .push(")");
            }
            if filter.overdue {
                sql.push(" AND t.status = ")
                    .bind(TipoffStatus::Received.as_str())
                    .push(" AND t.verify_by < ")
                    .bind(iso(today));
            }
            if filter.unanswered {
                sql.push(" AND t.status <> ")
                    .bind(TipoffStatus::Received.as_str())
                    .push(" AND t.replied_at IS NULL");
            }
            if let Some(reward) = filter.reward {
                sql.push(" AND t.reward_status = ").bind(reward.as_str());
            }
            scope::filter(sql, scope, "t.unit_id");
        };
        let mut count = Sql::new("SELECT COUNT(*) AS n FROM tipoffs t WHERE 1 = 1");
        apply(&mut count);
        let total: i64 = count.fetch_one(self.reader()).await?.try_get("n")?;
        let mut sql = Sql::new(SELECT);
        apply(&mut sql);
        sql.push(" ORDER BY CASE WHEN t.status = ")
            .bind(TipoffStatus::Received.as_str())
            .push(" THEN 0 ELSE 1 END, CASE WHEN t.status = ")
            .bind(TipoffStatus::Received.as_str())
            .push(" THEN t.verify_by ELSE '' END, t.created_at DESC, t.id LIMIT ")
            .bind(i64::from(page.per_page))
            .push(" OFFSET ")
            .bind(page.offset());
        let rows = sql.fetch_all(self.reader()).await?;
        Ok(Page {
            items: rows.iter().map(|r| tipoff_of(r, today)).collect::<Result<_, _>>()?,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// The sealed identity of a tip-off's reporter, for a handler of its unit (the API checks
    /// who may ask): every reading is audited in the same transaction, and an anonymous
    /// tip-off answers none (also audited: someone looked).
    pub async fn reveal_tipoff_reporter(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: &str,
    ) -> Result<Option<String>, StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let mut sql =
            Sql::new("SELECT t.number, t.unit_id, t.reporter_sealed FROM tipoffs t WHERE t.id = ");
        sql.bind(id.to_owned());
        scope::filter(&mut sql, scope, "t.unit_id");
        let row = sql.fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound)?;
        let unit_id: String = row.try_get("unit_id")?;
        let number: String = row.try_get("number")?;
        let sealed: Option<String> = row.try_get("reporter_sealed")?;
        let record = NewAuditRecord::new(actor, "tipoff.reporter_viewed", Outcome::Success)
            .target("tipoff", id)
            .unit(Some(&unit_id))
            .detail(json!({ "number": number }));
        audit::append(&mut tx, now, record).await?;
        tx.commit().await?;
        Ok(sealed)
    }

    /// The sealed identity of a tip-off's reporter, for masking on the handling unit's screen
    /// (the caller has resolved the tip-off in its scope; a full reading goes through
    /// [`Store::reveal_tipoff_reporter`]).
    pub async fn tipoff_sealed_reporter(&self, id: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT reporter_sealed FROM tipoffs WHERE id = $1")
            .bind(id.to_owned())
            .fetch_one(self.reader())
            .await?;
        Ok(row.try_get("reporter_sealed")?)
    }

    /// Takes a step on a tip-off in the caller's scope: 404 outside it first; then the rule of
    /// [`check_action`] (409 with its code); then what the step records. A founded conclusion
    /// records the hidden danger through the ledger's own function, in this transaction, within
    /// the caller's reach of the register (`reach`). `version` guards against a step taken
    /// meanwhile by someone else (409 `changed_meanwhile`).
    pub async fn act_on_tipoff(
        &self,
        scope: &Scope,
        reach: &Reach,
        actor: &Actor,
        id: &str,
        version: Option<i64>,
        step: TipoffStep,
    ) -> Result<Tipoff, StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let before = one(scope, id).fetch_optional(&mut *tx).await?;
        let before = tipoff_of(&before.ok_or(StoreError::NotFound)?, today(now))?;
        if version.is_some_and(|v| v != before.version) {
            return Err(StoreError::Conflict("changed_meanwhile"));
        }
        let proposer: Option<String> =
            sqlx::query("SELECT reward_proposed_by FROM tipoffs WHERE id = $1")
                .bind(id.to_owned())
                .fetch_one(&mut *tx)
                .await?
                .try_get("reward_proposed_by")?;
        let proposer_is_me = proposer.is_some() && proposer == actor.user_id;
        check_action(
            step.action(),
            before.status,
            before.replied_at.is_some(),
            before.reward.as_ref().map(|r| r.status),
            proposer_is_me,
        )
        .map_err(StoreError::Conflict)?;
        let text = |field: &str, value: &str, max: usize| {
            plain_text(value, max).map_err(|code| StoreError::invalid(field, code))
        };
        let mut unit_id = before.unit_id.clone();
        let mut set = Sql::new("UPDATE tipoffs SET version = version + 1, updated_at = ");
        set.bind(to_millis(now));
        let (kind, data, audited) = match step {
            TipoffStep::Conclude { conclusion: Conclusion::Unfounded { reasons } } => {
                let reasons = text("reasons", &reasons, 2000)?;
                set.push(", status = ")
                    .bind(TipoffStatus::Unfounded.as_str())
                    .push(", conclusion = ")
                    .bind(reasons.clone());
                concluded(&mut set, now, actor);
                ("concluded_unfounded", json!({ "reasons": reasons }), Some("tipoff.concluded"))
            }
            TipoffStep::Conclude { conclusion: Conclusion::Founded { findings, hazard } } => {
                let findings = free_text(&findings, 2000)
                    .map_err(|code| StoreError::invalid("findings", code))?;
                let mut hazard = hazard;
                hazard.origin = DangerOrigin::Tipoff;
                let enterprise_id = hazard.enterprise_id.clone();
                let danger_id = self
                    .record_danger(&mut tx, reach, actor, Party::Regulator, hazard)
                    .await
                    .map_err(|e| match e {
                        StoreError::NotFound => {
                            StoreError::invalid("hazard.enterprise_id", "not_found")
                        }
                        StoreError::Invalid(errors) => StoreError::Invalid(prefixed(errors)),
                        other => other,
                    })?;
                let number: String = sqlx::query("SELECT number FROM hidden_dangers WHERE id = $1")
                    .bind(danger_id.clone())
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("number")?;
                set.push(", status = ")
                    .bind(TipoffStatus::Founded.as_str())
                    .push(", conclusion = ")
                    .bind(findings.clone())
                    .push(", danger_id = ")
                    .bind(danger_id.clone())
                    .push(", enterprise_id = ")
                    .bind(enterprise_id);
                concluded(&mut set, now, actor);
                let data = json!({ "findings": findings, "danger_id": danger_id, "danger_number": number });
                ("concluded_founded", data, Some("tipoff.concluded"))
            }
            TipoffStep::Transfer { unit_id: to, reason } => {
                let reason = text("reason", &reason, 500)?;
                if to == before.unit_id {
                    return Err(StoreError::invalid("unit_id", "same_unit"));
                }
                if !scope::contains(&mut *tx, scope, &to).await? {
                    return Err(StoreError::invalid("unit_id", "not_found"));
                }
                set.push(", unit_id = ").bind(to.clone());
                unit_id = to.clone();
                let to_name: String = sqlx::query("SELECT name FROM units WHERE id = $1")
                    .bind(to.clone())
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("name")?;
                let data = json!({ "from": before.unit_name, "to": to_name, "reason": reason });
                ("transferred", data, Some("tipoff.transferred"))
            }
            TipoffStep::Reply { text: reply } => {
                let reply = text("text", &reply, 2000)?;
                set.push(", reply = ")
                    .bind(reply.clone())
                    .push(", replied_at = ")
                    .bind(to_millis(now))
                    .push(", replied_by_name = ")
                    .bind(actor.name.clone());
                ("replied", json!({ "text": reply }), Some("tipoff.replied"))
            }
            TipoffStep::ProposeReward { penalty_fen } => {
                let level: String = sqlx::query("SELECT level FROM hidden_dangers WHERE id = $1")
                    .bind(before.danger_id.clone().unwrap_or_default())
                    .fetch_one(&mut *tx)
                    .await?
                    .try_get("level")?;
                let schedule: TipoffSettings = settings::read(&mut *tx, SETTINGS_KEY).await?;
                let rule =
                    if level == "major" { schedule.reward.major } else { schedule.reward.general };
                let penalty = u64::try_from(penalty_fen)
                    .map_err(|_| StoreError::invalid("penalty_fen", "out_of_range"))?;
                let amount = rule.amount_fen(penalty).map_err(|code| {
                    if code == "no_reward_rule" {
                        StoreError::Conflict(code)
                    } else {
                        StoreError::invalid("penalty_fen", code)
                    }
                })?;
                let amount = i64::try_from(amount).unwrap_or(i64::MAX);
                set.push(", reward_status = ")
                    .bind(RewardStatus::Proposed.as_str())
                    .push(", penalty_fen = ")
                    .bind(penalty_fen)
                    .push(", reward_fen = ")
                    .bind(amount)
                    .push(", reward_proposed_by = ")
                    .bind(actor.user_id.clone())
                    .push(", reward_proposed_by_name = ")
                    .bind(actor.name.clone())
                    .push(", reward_reviewed_by_name = NULL, reward_review_reason = NULL");
                let data =
                    json!({ "penalty_fen": penalty_fen, "amount_fen": amount, "level": level });
                ("reward_proposed", data, Some("tipoff.reward_proposed"))
            }
            TipoffStep::ReviewReward { approve, reason } => {
                let reason = if approve {
                    free_text(&reason, 500).map_err(|code| StoreError::invalid("reason", code))?
                } else {
                    text("reason", &reason, 500)?
                };
                let next = if approve { RewardStatus::Approved } else { RewardStatus::Rejected };
                set.push(", reward_status = ")
                    .bind(next.as_str())
                    .push(", reward_reviewed_by_name = ")
                    .bind(actor.name.clone())
                    .push(", reward_review_reason = ")
                    .bind(reason.clone());
                let amount = before.reward.as_ref().map_or(0, |r| r.amount_fen);
                let kind = if approve { "reward_approved" } else { "reward_rejected" };
                let data = json!({ "reason": reason, "amount_fen": amount });
                (kind, data, Some("tipoff.reward_reviewed"))
            }
            TipoffStep::RecordPayment { paid_on, reference } => {
                let reference = text("reference", &reference, 100)?;
                if paid_on > today(now) {
                    return Err(StoreError::invalid("paid_on", "in_future"));
                }
                if paid_on < beacon_core::clock::local_date(before.created_at) {
                    return Err(StoreError::invalid("paid_on", "before_received"));
                }
                set.push(", reward_status = ")
                    .bind(RewardStatus::Paid.as_str())
                    .push(", reward_paid_on = ")
                    .bind(iso(paid_on))
                    .push(", reward_payment_ref = ")
                    .bind(reference.clone());
                let amount = before.reward.as_ref().map_or(0, |r| r.amount_fen);
                let data = json!({ "paid_on": iso(paid_on), "reference": reference, "amount_fen": amount });
                ("reward_paid", data, Some("tipoff.reward_paid"))
            }
        };
        set.push(" WHERE id = ").bind(id.to_owned()).push(" AND version = ").bind(before.version);
        if set.execute(&mut *tx).await? == 0 {
            return Err(StoreError::Conflict("changed_meanwhile"));
        }
        if kind.starts_with("concluded") {
            deadline::stop(&mut tx, now, id).await?;
        }
        timeline::append(&mut tx, now, actor, ("tipoff", id), Some(&unit_id), kind, data.clone())
            .await?;
        if let Some(action) = audited {
            let mut detail = data;
            detail["number"] = json!(before.number);
            let record = NewAuditRecord::new(actor, action, Outcome::Success)
                .target("tipoff", id)
                .unit(Some(&unit_id))
                .detail(detail);
            audit::append(&mut tx, now, record).await?;
        }
        announce(&mut tx, now, "tipoff.changed", &unit_id, id, &before.number).await?;
        if kind == "transferred" {
            deadline::move_to(&mut tx, id, &unit_id).await?;
            deadline::tell_handlers(
                &mut tx,
                now,
                &unit_id,
                0,
                "tipoff.received",
                id,
                &before.number,
            )
            .await?;
        }
        if kind == "reward_proposed" {
            deadline::tell_leaders(&mut tx, now, &unit_id, id, &before.number).await?;
        }
        tx.commit().await?;
        self.tipoff(scope, id).await
    }
}

/// Who concluded, and when.
fn concluded(set: &mut Sql, now: DateTime<Utc>, actor: &Actor) {
    set.push(", concluded_at = ")
        .bind(to_millis(now))
        .push(", concluded_by_name = ")
        .bind(actor.name.clone());
}

/// The hidden danger's field errors under `hazard.`, as the request names them.
fn prefixed(errors: beacon_core::error::ValidationErrors) -> beacon_core::error::ValidationErrors {
    let mut out = beacon_core::error::ValidationErrors::new();
    for (field, code) in errors.fields() {
        out.add(format!("hazard.{field}"), code.clone());
    }
    out
}

/// The one who sends a tip-off: nobody signed in, and no address kept in the clear.
pub fn public_actor() -> Actor {
    Actor {
        user_id: None,
        name: "public:reporter".to_owned(),
        unit_id: None,
        ip: None,
        operator: false,
    }
}

/// The kind of a tip-off's attachments (the reporter's photos).
pub const ATTACHMENT_OWNER: &str = "tipoff";

impl Store {
    /// A tip-off that files are attached to, when it is in the caller's scope.
    pub async fn tipoff_attachment_owner(
        &self,
        scope: &Scope,
        id: &str,
    ) -> Result<crate::attachment::Owner, StoreError> {
        let tipoff = self.tipoff(scope, id).await?;
        Ok(crate::attachment::Owner {
            kind: ATTACHMENT_OWNER.to_owned(),
            id: tipoff.id.clone(),
            unit_id: tipoff.unit_id,
            timeline: ("tipoff".to_owned(), tipoff.id),
            frozen: None,
        })
    }
}
