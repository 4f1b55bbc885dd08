//! The hops' clocks on the shared deadline mechanism. Each hop that has a due time and is not
//! done has one deadline row (subject `incident_hop`, `{incident id}:{hop}`) with three stages:
//! reminders 30 and 10 minutes before due, and `overdue` at due. Doing the hop finishes the row;
//! nothing else does (closing refuses while a hop is open), so an overdue hop cannot be
//! silenced.

use std::collections::{BTreeSet, HashMap};

use beacon_core::audit::Actor;
use beacon_core::clock::from_millis;
use beacon_core::incident::{Grade, Hop, obligations};
use beacon_core::org::Role;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::Row;

use super::handle::chain_rules_on;
use super::{Happened, keep, parse, sender_unit};
use crate::deadline::{self, DueStage, NewDeadline};
use crate::duty::unit_users_with_roles;
use crate::notify::{self, Delivery, NewNotification};
use crate::{Store, StoreError, Tx};

/// The deadline kind of a hop's clock.
pub const HOP_DEADLINE: &str = "incident.hop";
const SUBJECT: &str = "incident_hop";

fn subject_id(incident_id: &str, hop: Hop) -> String {
    format!("{incident_id}:{}", hop.as_str())
}

/// Makes the running clocks of an incident match its obligations: a clock for every hop that
/// has a due time and is not done, none for the others.
pub(super) async fn sync(
    tx: &mut Tx,
    now: DateTime<Utc>,
    incident_id: &str,
) -> Result<(), StoreError> {
    let row = sqlx::query("SELECT unit_id, grade, occurred_at FROM incidents WHERE id = $1")
        .bind(incident_id.to_owned())
        .fetch_one(&mut **tx)
        .await?;
    let grade: String = row.try_get("grade")?;
    let grade = parse(Grade::parse(&grade), &grade)?;
    let unit_id: String = row.try_get("unit_id")?;
    let occurred_at = from_millis(row.try_get("occurred_at")?);
    let done: Vec<(Hop, DateTime<Utc>)> = sqlx::query(
        "SELECT hop, done_at FROM incident_hops WHERE incident_id = $1 AND done_at IS NOT NULL",
    )
    .bind(incident_id.to_owned())
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| {
        let hop: String = r.try_get("hop")?;
        Ok((parse(Hop::parse(&hop), &hop)?, from_millis(r.try_get("done_at")?)))
    })
    .collect::<Result<_, StoreError>>()?;
    let rules = chain_rules_on(&mut **tx).await?;
    let open: Vec<(Hop, DateTime<Utc>)> = obligations(grade, occurred_at, &done, rules, now)
        .into_iter()
        .filter_map(|o| match (o.due_at, o.done_at) {
            (Some(due), None) => Some((o.hop, due)),
            _ => None,
        })
        .collect();
    let running: BTreeSet<String> = sqlx::query(
        "SELECT subject_id FROM deadlines WHERE subject_type = $1 AND subject_id LIKE $2 \
         AND done_at IS NULL",
    )
    .bind(SUBJECT)
    .bind(format!("{incident_id}:%"))
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| r.try_get("subject_id"))
    .collect::<Result<_, _>>()?;
    for hop in Hop::ALL {
        let id = subject_id(incident_id, hop);
        match open.iter().find(|(h, _)| *h == hop) {
            Some((_, due)) if !running.contains(&id) => {
                let mut stages: Vec<(DateTime<Utc>, &'static str)> = [
                    (*due - Duration::minutes(30), "remind_30"),
                    (*due - Duration::minutes(10), "remind_10"),
                ]
                .into_iter()
                .filter(|(at, _)| *at >= now)
                .collect();
                // The overdue stage fires even when the due time has already passed (a hop
                // recorded late starts the next one's clock in the past).
                stages.push((*due, "overdue"));
                deadline::schedule(
                    tx,
                    now,
                    DateTime::<Utc>::MIN_UTC,
                    NewDeadline {
                        kind: HOP_DEADLINE,
                        subject: (SUBJECT, id),
                        unit_id: Some(unit_id.clone()),
                        due_at: *due,
                        stages,
                    },
                )
                .await?;
            }
            Some(_) => {}
            None if running.contains(&id) => deadline::finish(tx, now, (SUBJECT, &id)).await?,
            None => {}
        }
    }
    Ok(())
}

/// Stops an incident's running clocks and starts them again from its obligations (after the
/// chain's time limits changed).
pub(super) async fn reschedule(
    tx: &mut Tx,
    now: DateTime<Utc>,
    incident_id: &str,
) -> Result<(), StoreError> {
    for hop in Hop::ALL {
        deadline::finish(tx, now, (SUBJECT, &subject_id(incident_id, hop))).await?;
    }
    sync(tx, now, incident_id).await
}

/// What a fired stage needs to know about its hop.
struct HopFacts {
    number: String,
    title: String,
    unit_id: String,
    unit_name: String,
    grade: String,
    done: bool,
    addressee_unit_id: Option<String>,
}

impl Store {
    /// Fires due stages of hop clocks inside the caller's transaction (already claimed): the
    /// reminders go to the duty desks of the sending and the receiving unit; `overdue` alerts
    /// the sending unit's duty leaders and leaders, and is kept in the incident's timeline and
    /// the audit trail.
    pub async fn fire_hop_stages(
        &self,
        tx: &mut Tx,
        stages: &[DueStage],
        mail: bool,
    ) -> Result<Vec<Delivery>, StoreError> {
        let now = self.now();
        let mut people: HashMap<(String, bool), Vec<String>> = HashMap::new();
        let mut notes = Vec::new();
        for due in stages {
            let Some((incident_id, hop)) = due.subject_id.split_once(':') else { continue };
            let Some(hop) = Hop::parse(hop) else { continue };
            let Some(facts) = hop_facts(tx, incident_id, hop).await? else { continue };
            if facts.done {
                continue;
            }
            let sender = sender_unit(tx, &facts.unit_id, hop).await?;
            let overdue = due.stage == "overdue";
            let mut to: BTreeSet<String> = BTreeSet::new();
            let mut units = vec![sender.clone()];
            if !overdue && let Some(addressee) = &facts.addressee_unit_id {
                units.push(addressee.clone());
            }
            for unit in units {
                let key = (unit.clone(), overdue);
                if !people.contains_key(&key) {
                    let roles: &[Role] = if overdue {
                        &[Role::DutyLeader, Role::Leader]
                    } else {
                        &[Role::DutyOfficer, Role::DutyLeader]
                    };
                    let found = unit_users_with_roles(tx, &unit, roles).await?;
                    people.insert(key.clone(), found);
                }
                to.extend(people.get(&key).into_iter().flatten().cloned());
            }
            let data = json!({
                "incident_id": incident_id,
                "number": facts.number,
                "title": facts.title,
                "unit_name": facts.unit_name,
                "grade": facts.grade,
                "hop": hop,
                "due_at": due.due_at,
                "minutes_left": (due.due_at - now).num_minutes().max(0),
            });
            if overdue {
                let system = Actor::system("scheduler");
                keep(
                    tx,
                    now,
                    &system,
                    (incident_id, &facts.unit_id),
                    Happened {
                        kind: "hop_overdue",
                        action: "incident.hop_overdue",
                        data: json!({ "hop": hop, "due_at": due.due_at }),
                        detail: Some(json!({ "hop": hop, "due_at": due.due_at })),
                    },
                )
                .await?;
            }
            let kind = if overdue { "incident.hop_overdue" } else { "incident.hop_reminder" };
            notes.extend(to.into_iter().map(|user_id| NewNotification {
                user_id,
                kind,
                unit_id: Some(facts.unit_id.clone()),
                subject: Some(("incident", incident_id.to_owned())),
                data: data.clone(),
            }));
        }
        notify::send(tx, now, mail, notes).await
    }
}

async fn hop_facts(
    tx: &mut Tx,
    incident_id: &str,
    hop: Hop,
) -> Result<Option<HopFacts>, StoreError> {
    let row = sqlx::query(
        "SELECT i.number, i.title, i.unit_id, n.name AS unit_name, i.grade, h.done_at, \
         h.addressee_unit_id FROM incidents i JOIN units n ON n.id = i.unit_id \
         JOIN incident_hops h ON h.incident_id = i.id AND h.hop = $2 WHERE i.id = $1",
    )
    .bind(incident_id.to_owned())
    .bind(hop.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(HopFacts {
        number: r.try_get("number")?,
        title: r.try_get("title")?,
        unit_id: r.try_get("unit_id")?,
        unit_name: r.try_get("unit_name")?,
        grade: r.try_get("grade")?,
        done: r.try_get::<Option<i64>, _>("done_at")?.is_some(),
        addressee_unit_id: r.try_get("addressee_unit_id")?,
    }))
}
