//! What the duty desk and the leaders do to an incident after intake: record a hop sent to a
//! level outside this deployment, override the grade with a reason, close it; and the chain's
//! time limits as a setting.

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::clock::to_millis;
use beacon_core::incident::{CLOCK_SKEW_SECONDS, ChainRules, Grade, Hop, HopMethod};
use beacon_core::scope::Scope;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::Row;

use super::{
    Happened, Incident, clock, grade_of, incident_facts, keep, record_grade, sender_unit, sync_hops,
};
use crate::{Store, StoreError, audit};

const CHAIN_RULES_KEY: &str = "incident.chain_rules";

/// The chain's time limits in force, on a connection the caller holds.
pub(crate) async fn chain_rules_on<'c, E>(executor: E) -> Result<ChainRules, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    crate::settings::read(executor, CHAIN_RULES_KEY).await
}

/// A hop sent to a level outside this deployment, as the duty officer records it.
#[derive(Debug, Clone)]
pub struct RecordHop {
    pub hop: Hop,
    pub method: HopMethod,
    /// When it was sent (phoned, faxed, entered in the other system).
    pub at: DateTime<Utc>,
    pub note: Option<String>,
}

impl Store {
    pub async fn incident_chain_rules(&self) -> Result<ChainRules, StoreError> {
        chain_rules_on(self.reader()).await
    }

    /// Sets the chain's time limits. Due times are derived from the limits, so every running
    /// clock follows the change at once: the clocks of open incidents are re-scheduled in the
    /// same transaction.
    pub async fn set_incident_chain_rules(
        &self,
        actor: &Actor,
        rules: ChainRules,
    ) -> Result<ChainRules, StoreError> {
        let rules = rules.validate().map_err(StoreError::Invalid)?;
        let now = self.now();
        let mut tx = self.begin().await?;
        crate::settings::write(&mut tx, now, CHAIN_RULES_KEY, &rules).await?;
        let open: Vec<String> = sqlx::query(
            "SELECT DISTINCT i.id FROM incidents i JOIN incident_hops h ON h.incident_id = i.id \
             WHERE i.status = 'open' AND h.done_at IS NULL",
        )
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
        for id in &open {
            clock::reschedule(&mut tx, now, id).await?;
        }
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "incident.chain_rules_set", Outcome::Success)
                .detail(serde_json::to_value(rules).map_err(StoreError::corrupt)?),
        )
        .await?;
        tx.commit().await?;
        Ok(rules)
    }

    /// Records that a hop to a level outside this deployment was sent, how and when: the hop
    /// is done then. Only the sending unit's desk records it, once the previous hop is done.
    pub async fn record_hop(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: &str,
        record: RecordHop,
    ) -> Result<Incident, StoreError> {
        let now = self.now();
        if !HopMethod::RECORDABLE.contains(&record.method) {
            return Err(StoreError::invalid("method", "unknown"));
        }
        if record.at > now + Duration::seconds(CLOCK_SKEW_SECONDS) {
            return Err(StoreError::invalid("at", "in_future"));
        }
        let before = self.incident(scope, id).await?;
        let Some(this) = before.hops.iter().find(|h| h.hop == record.hop) else {
            return Err(StoreError::invalid("hop", "not_required"));
        };
        if this.done_at.is_some() {
            return Err(StoreError::Conflict("already_done"));
        }
        if this.addressee.is_some() {
            return Err(StoreError::Conflict("addressee_in_beacon"));
        }
        let previous = before
            .obligations
            .iter()
            .take_while(|o| o.hop != record.hop)
            .last()
            .and_then(|o| o.done_at);
        let Some(previous) =
            previous.or_else(|| (record.hop == Hop::UnitToCounty).then_some(before.occurred_at))
        else {
            return Err(StoreError::Conflict("previous_hop_pending"));
        };
        if record.at < previous {
            return Err(StoreError::invalid("at", "before_previous"));
        }
        let mut tx = self.begin().await?;
        let sender = sender_unit(&mut tx, &before.unit.id, record.hop).await?;
        if actor.unit_id.as_deref() != Some(sender.as_str()) {
            return Err(StoreError::Forbidden("not_sender"));
        }
        let n = sqlx::query(
            "UPDATE incident_hops SET done_at = $1, method = $2, done_by = $3, done_by_name = $4, \
             note = $5 WHERE incident_id = $6 AND hop = $7 AND done_at IS NULL",
        )
        .bind(to_millis(record.at))
        .bind(record.method.as_str())
        .bind(actor.user_id.clone())
        .bind(actor.name.clone())
        .bind(record.note.clone())
        .bind(id.to_owned())
        .bind(record.hop.as_str())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict("already_done"));
        }
        clock::sync(&mut tx, now, id).await?;
        let detail = json!({ "hop": record.hop, "method": record.method, "at": record.at,
            "note": record.note });
        keep(
            &mut tx,
            now,
            actor,
            (id, &before.unit.id),
            Happened {
                kind: "hop_done",
                action: "incident.hop_recorded",
                data: detail.clone(),
                detail: Some(detail),
            },
        )
        .await?;
        super::announce(&mut tx, now, "incident.updated", id).await?;
        tx.commit().await?;
        self.incident(scope, id).await
    }

    /// A leader sets the grade (with a reason), or clears the override (`None`) to return to
    /// the computed one. Both grades are kept; the chain follows the grade in force.
    pub async fn override_incident_grade(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: &str,
        grade: Option<Grade>,
        reason: &str,
    ) -> Result<Incident, StoreError> {
        let now = self.now();
        let before = self.incident(scope, id).await?;
        if before.status != "open" {
            return Err(StoreError::Conflict("incident_closed"));
        }
        let tables = self.grading_tables().await?;
        let facts = incident_facts(&before);
        let (grading, source) = grade_of(&tables, before.kind, before.occurred_at, &facts)?;
        let in_force = grade.unwrap_or(grading.grade);
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE incidents SET grade = $1, override_grade = $2, override_reason = $3, \
             override_by = $4, override_at = $5, updated_at = $5, version = version + 1 \
             WHERE id = $6",
        )
        .bind(in_force.as_str())
        .bind(grade.map(Grade::as_str))
        .bind(grade.map(|_| reason.to_owned()))
        .bind(grade.map(|_| actor.name.clone()))
        .bind(to_millis(now))
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await?;
        let cause = if grade.is_some() { "override" } else { "override_cleared" };
        record_grade(
            &mut tx,
            now,
            actor,
            id,
            &grading,
            in_force,
            &facts,
            &source,
            cause,
            Some(reason),
        )
        .await?;
        sync_hops(&mut tx, id, &before.unit.id, in_force).await?;
        clock::sync(&mut tx, now, id).await?;
        let detail = json!({ "grade": in_force, "computed_grade": grading.grade,
            "override": grade, "reason": reason });
        keep(
            &mut tx,
            now,
            actor,
            (id, &before.unit.id),
            Happened {
                kind: "grade_overridden",
                action: "incident.grade_overridden",
                data: detail.clone(),
                detail: Some(detail),
            },
        )
        .await?;
        super::announce(&mut tx, now, "incident.updated", id).await?;
        tx.commit().await?;
        self.incident(scope, id).await
    }

    /// Closes an incident with a summary. Refused while a hop the grade requires is not done:
    /// closing must not silence a clock. Nothing is deleted.
    pub async fn close_incident(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: &str,
        summary: &str,
    ) -> Result<Incident, StoreError> {
        let now = self.now();
        let before = self.incident(scope, id).await?;
        if before.status != "open" {
            return Err(StoreError::Conflict("incident_closed"));
        }
        if before.obligations.iter().any(|o| o.done_at.is_none()) {
            return Err(StoreError::Conflict("hops_open"));
        }
        if before.follow_up_since.is_some() {
            return Err(StoreError::Conflict("follow_up_pending"));
        }
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE incidents SET status = 'closed', closed_at = $1, closing_summary = $2, \
             updated_at = $1, version = version + 1 WHERE id = $3 AND status = 'open'",
        )
        .bind(to_millis(now))
        .bind(summary.to_owned())
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await?;
        keep(
            &mut tx,
            now,
            actor,
            (id, &before.unit.id),
            Happened {
                kind: "closed",
                action: "incident.closed",
                data: json!({ "summary": summary }),
                detail: None,
            },
        )
        .await?;
        super::announce(&mut tx, now, "incident.updated", id).await?;
        tx.commit().await?;
        self.incident(scope, id).await
    }
}
