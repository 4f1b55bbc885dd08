//! The hops' clocks on the shared deadline mechanism. Each hop that has a due time and is not
//! done has one deadline row (subject `incident_hop`, `{incident id}:{hop}`) with three stages:
//! reminders 30 and 10 minutes before due, and `overdue` at due. Doing the hop finishes the row;
//! nothing else does (closing refuses while a hop is open), so an overdue hop cannot be
//! silenced.

use std::collections::{BTreeSet, HashMap};

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::clock::from_millis;
use beacon_core::incident::{Grade, Hop, obligations};
use beacon_core::org::Role;
use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use sqlx::Row;

use super::handle::chain_rules_on;
use super::{parse, sender_unit};
use crate::deadline::{self, DueStage, NewDeadline};
use crate::notify::{self, Delivery, NewNotification};
use crate::org::unit_users_with_roles;
use crate::sql::Sql;
use crate::{Store, StoreError, Tx, audit, timeline};

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
    // The incident and its hops done, in one round trip.
    let rows = sqlx::query(
        "SELECT i.unit_id, i.grade, i.occurred_at, h.hop, h.done_at FROM incidents i \
         LEFT JOIN incident_hops h ON h.incident_id = i.id AND h.done_at IS NOT NULL \
         WHERE i.id = $1",
    )
    .bind(incident_id.to_owned())
    .fetch_all(&mut **tx)
    .await?;
    let row = rows.first().ok_or(sqlx::Error::RowNotFound)?;
    let grade: String = row.try_get("grade")?;
    let grade = parse(Grade::parse(&grade), &grade)?;
    let unit_id: String = row.try_get("unit_id")?;
    let occurred_at = from_millis(row.try_get("occurred_at")?);
    let mut done: Vec<(Hop, DateTime<Utc>)> = Vec::new();
    for r in &rows {
        if let (Some(hop), Some(at)) =
            (r.try_get::<Option<String>, _>("hop")?, r.try_get::<Option<i64>, _>("done_at")?)
        {
            done.push((parse(Hop::parse(&hop), &hop)?, from_millis(at)));
        }
    }
    let rules = chain_rules_on(&mut **tx).await?;
    let open = open_hops(grade, occurred_at, &done, rules, now);
    // The four subjects by equality: `LIKE 'id:%'` cannot use the subject index (SQLite's LIKE
    // is case-insensitive, PostgreSQL's collation is not `C`), so it read every hop clock
    // ever scheduled, on every intake.
    let mut query = sqlx::query(
        "SELECT subject_id FROM deadlines WHERE subject_type = $1 \
         AND subject_id IN ($2, $3, $4, $5) AND done_at IS NULL",
    )
    .bind(SUBJECT);
    for hop in Hop::ALL {
        query = query.bind(subject_id(incident_id, hop));
    }
    let running: BTreeSet<String> = query
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| r.try_get("subject_id"))
        .collect::<Result<_, _>>()?;
    apply(tx, now, incident_id, &unit_id, &open, &running).await
}

/// The hops with a due time that are not done, and their due times.
pub(super) fn open_hops(
    grade: Grade,
    occurred_at: DateTime<Utc>,
    done: &[(Hop, DateTime<Utc>)],
    rules: beacon_core::incident::ChainRules,
    now: DateTime<Utc>,
) -> Vec<(Hop, DateTime<Utc>)> {
    obligations(grade, occurred_at, done, rules, now)
        .into_iter()
        .filter_map(|o| match (o.due_at, o.done_at) {
            (Some(due), None) => Some((o.hop, due)),
            _ => None,
        })
        .collect()
}

/// Starts a clock for every open hop not `running`, and stops the running ones no longer open.
pub(super) async fn apply(
    tx: &mut Tx,
    now: DateTime<Utc>,
    incident_id: &str,
    unit_id: &str,
    open: &[(Hop, DateTime<Utc>)],
    running: &BTreeSet<String>,
) -> Result<(), StoreError> {
    let clocks = new_clocks(now, incident_id, unit_id, open, running);
    deadline::schedule_all(tx, now, DateTime::<Utc>::MIN_UTC, clocks).await?;
    for hop in Hop::ALL {
        let id = subject_id(incident_id, hop);
        if running.contains(&id) && !open.iter().any(|(h, _)| *h == hop) {
            deadline::finish(tx, now, (SUBJECT, &id)).await?;
        }
    }
    Ok(())
}

/// The clocks to start for an incident's open hops that have none `running`: reminders 30 and
/// 10 minutes before the due time (those not already past), and the overdue stage.
pub(super) fn new_clocks(
    now: DateTime<Utc>,
    incident_id: &str,
    unit_id: &str,
    open: &[(Hop, DateTime<Utc>)],
    running: &BTreeSet<String>,
) -> Vec<NewDeadline> {
    open.iter()
        .filter_map(|(hop, due)| {
            let id = subject_id(incident_id, *hop);
            if running.contains(&id) {
                return None;
            }
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
            Some(NewDeadline {
                kind: HOP_DEADLINE,
                subject: (SUBJECT, id),
                unit_id: Some(unit_id.to_owned()),
                due_at: *due,
                stages,
            })
        })
        .collect()
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

/// An overdue hop, to be kept in its incident's timeline and the audit trail.
struct Overdue<'a> {
    incident_id: &'a str,
    unit_id: String,
    hop: Hop,
    due_at: DateTime<Utc>,
}

impl Store {
    /// Fires due stages of hop clocks inside the caller's transaction (already claimed): the
    /// reminders go to the duty desks of the sending and the receiving unit; `overdue` alerts
    /// the sending unit's duty leaders and leaders, and is kept in the incident's timeline and
    /// the audit trail.
    ///
    /// A batch costs a handful of statements whatever its size: the hops' facts are read
    /// together, each (unit, hop)'s sender and each (unit, stage)'s people once, and the
    /// timeline entries, audit records and notifications are written with multi-row inserts.
    /// (A few statements per stage made 10,000 overdue hops take 8 s on PostgreSQL.)
    pub async fn fire_hop_stages(
        &self,
        tx: &mut Tx,
        stages: &[DueStage],
        mail: bool,
    ) -> Result<Vec<Delivery>, StoreError> {
        let now = self.now();
        let wanted: Vec<(&DueStage, &str, Hop)> = stages
            .iter()
            .filter_map(|due| {
                let (incident_id, hop) = due.subject_id.split_once(':')?;
                Some((due, incident_id, Hop::parse(hop)?))
            })
            .collect();
        let facts = hop_facts(tx, wanted.iter().map(|(_, id, _)| *id)).await?;
        let mut senders: HashMap<(String, Hop), String> = HashMap::new();
        let mut people: HashMap<(String, bool), Vec<String>> = HashMap::new();
        let mut notes = Vec::new();
        let mut overdue_hops = Vec::new();
        for (due, incident_id, hop) in wanted {
            let Some(facts) = facts.get(&(incident_id.to_owned(), hop)) else { continue };
            if facts.done {
                continue;
            }
            let key = (facts.unit_id.clone(), hop);
            let sender = match senders.get(&key) {
                Some(sender) => sender.clone(),
                None => {
                    let sender = sender_unit(tx, &facts.unit_id, hop).await?;
                    senders.insert(key, sender.clone());
                    sender
                }
            };
            let overdue = due.stage == "overdue";
            let mut to: BTreeSet<String> = BTreeSet::new();
            let mut units = vec![sender];
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
                overdue_hops.push(Overdue {
                    incident_id,
                    unit_id: facts.unit_id.clone(),
                    hop,
                    due_at: due.due_at,
                });
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
        keep_overdue(tx, now, &overdue_hops).await?;
        notify::send(tx, now, mail, notes).await
    }
}

/// The facts of every hop of some incidents, keyed by (incident id, hop).
async fn hop_facts<'a>(
    tx: &mut Tx,
    incident_ids: impl Iterator<Item = &'a str>,
) -> Result<HashMap<(String, Hop), HopFacts>, StoreError> {
    let ids: BTreeSet<&str> = incident_ids.collect();
    let ids: Vec<&str> = ids.into_iter().collect();
    let mut out = HashMap::new();
    for chunk in ids.chunks(500) {
        let mut sql = Sql::new(
            "SELECT i.id, i.number, i.title, i.unit_id, n.name AS unit_name, i.grade, h.hop, \
             h.done_at, h.addressee_unit_id FROM incidents i JOIN units n ON n.id = i.unit_id \
             JOIN incident_hops h ON h.incident_id = i.id WHERE i.id IN (",
        );
        sql.bind_list(chunk.iter().map(|id| (*id).to_owned())).push(")");
        for r in sql.fetch_all(&mut **tx).await? {
            let hop: String = r.try_get("hop")?;
            out.insert(
                (r.try_get("id")?, parse(Hop::parse(&hop), &hop)?),
                HopFacts {
                    number: r.try_get("number")?,
                    title: r.try_get("title")?,
                    unit_id: r.try_get("unit_id")?,
                    unit_name: r.try_get("unit_name")?,
                    grade: r.try_get("grade")?,
                    done: r.try_get::<Option<i64>, _>("done_at")?.is_some(),
                    addressee_unit_id: r.try_get("addressee_unit_id")?,
                },
            );
        }
    }
    Ok(out)
}

/// What `keep` writes for each overdue hop (a `hop_overdue` timeline entry and an
/// `incident.hop_overdue` audit record by the scheduler), for a batch of them.
async fn keep_overdue(
    tx: &mut Tx,
    now: DateTime<Utc>,
    overdue: &[Overdue<'_>],
) -> Result<(), StoreError> {
    if overdue.is_empty() {
        return Ok(());
    }
    let actor = Actor::system("scheduler");
    let mut entries = Vec::with_capacity(overdue.len());
    let mut records = Vec::with_capacity(overdue.len());
    for o in overdue {
        let detail = json!({ "hop": o.hop, "due_at": o.due_at });
        entries.push(timeline::NewEntry {
            subject: ("incident", o.incident_id),
            unit_id: Some(&o.unit_id),
            kind: "hop_overdue",
            data: detail.clone(),
        });
        records.push(
            NewAuditRecord::new(&actor, "incident.hop_overdue", Outcome::Success)
                .target("incident", o.incident_id)
                .unit(Some(&o.unit_id))
                .detail(detail),
        );
    }
    timeline::append_all(tx, now, &actor, entries).await?;
    audit::append_all(tx, now, records).await
}
