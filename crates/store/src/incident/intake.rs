//! Intake: registering incidents (docs/incidents.md, "Intake under load").
//!
//! A registration joins the registrations waiting to be written ([`crate::group`]): one
//! transaction reads their units (with outlines and the units above them) together, then
//! numbers, grades and checks them, gives them their hops and clocks, and keeps them in the
//! timeline and the audit trail, with a handful of multi-row statements for the whole batch. When many officers register at once (several calls
//! about one disaster, an enterprise system sending its backlog), the writes wait for one batch
//! instead of queueing behind each other's round trips.

use std::collections::HashSet;

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::geo::Boundary;
use beacon_core::id::new_id;
use beacon_core::incident::{
    ChainRules, Grading, GradingTable, Hop, HopMethod, done_on_intake, hops_for, obligations,
};
use beacon_core::org::UnitLevel;
use beacon_core::scope::Scope;
use chrono::{DateTime, Datelike, Utc};
use serde_json::json;
use sqlx::Row;

use super::clock;
use super::handle::chain_rules_on;
use super::{
    GRADE_COLUMNS, HopRecord, Incident, IncidentUnit, NewIncident, grade_of, grade_row,
    grading_tables_on, parse,
};
use crate::db::backend_of;
use crate::deadline;
use crate::group::GroupCommit;
use crate::org::boundary_value;
use crate::sql::{Sql, Val, insert_batch};
use crate::timeline::NewEntry;
use crate::{Store, StoreError, Tx, audit, scope, timeline};

/// Registrations written in one transaction at most.
const BATCH_LIMIT: usize = 128;

/// Registrations waiting for their batch; one per store, kept by it.
struct IntakeQueue(GroupCommit<Pending, Result<Registered, StoreError>>);

impl Default for IntakeQueue {
    fn default() -> Self {
        Self(GroupCommit::new(BATCH_LIMIT))
    }
}

/// A registered incident (its live event was written with it).
#[derive(Debug, Clone)]
pub struct Registered {
    pub incident: Incident,
}

/// A registration waiting for its batch.
pub(crate) struct Pending {
    scope: Scope,
    actor: Actor,
    new: NewIncident,
}

/// The registering unit, its outline and the units above it.
struct IntakeUnit {
    boundary: Option<Boundary>,
    /// The unit itself and those above it, nearest first (never empty).
    ancestors: Vec<Ancestor>,
}

impl IntakeUnit {
    /// The registering unit itself.
    fn own(&self) -> &Ancestor {
        &self.ancestors[0]
    }
}

struct Ancestor {
    id: String,
    code: String,
    name: String,
    level: UnitLevel,
}

impl Ancestor {
    fn as_incident_unit(&self) -> IncidentUnit {
        IncidentUnit { id: self.id.clone(), code: self.code.clone(), name: self.name.clone() }
    }
}

/// A registration of the batch that passed its checks, with what the batch worked out for it.
struct Accepted<'a> {
    index: usize,
    pending: &'a Pending,
    unit: &'a IntakeUnit,
    outside_unit: bool,
    id: String,
    grading: Grading,
    table_source: String,
    hops: Vec<Hop>,
    intake: &'static [Hop],
    open: Vec<(Hop, DateTime<Utc>)>,
    prefix: String,
    number: String,
}

impl Accepted<'_> {
    /// The unit inside the deployment that receives `hop`.
    fn addressee(&self, hop: Hop) -> Option<&Ancestor> {
        let level = hop.addressee_level()?;
        self.unit.ancestors.iter().find(|u| u.level == level)
    }
}

const INCIDENT_COLUMNS: &[&str] = &[
    "id",
    "number",
    "unit_id",
    "kind",
    "title",
    "occurred_at",
    "reported_at",
    "place",
    "lon",
    "lat",
    "outside_unit",
    "enterprise",
    "deaths",
    "missing",
    "serious_injuries",
    "minor_injuries",
    "direct_loss_cny",
    "description",
    "source",
    "reporter",
    "reporter_phone",
    "computed_grade",
    "grade",
    "status",
    "duty_log_id",
    "created_by",
    "created_at",
    "updated_at",
    "version",
    "duplicate_of",
];

const HOP_COLUMNS: &[&str] =
    &["incident_id", "hop", "addressee_unit_id", "done_at", "method", "done_by", "done_by_name"];

impl Store {
    /// Registers an incident at a unit in the caller's scope: graded, numbered, and with the
    /// hops its grade requires (those the registering desk has received done at `reported_at`).
    pub async fn create_incident(
        &self,
        scope: &Scope,
        actor: &Actor,
        new: NewIncident,
    ) -> Result<Incident, StoreError> {
        Ok(self.register_incident(scope, actor, new).await?.incident)
    }

    /// [`Store::create_incident`], also answering the path of the incident's unit.
    pub async fn register_incident(
        &self,
        scope: &Scope,
        actor: &Actor,
        new: NewIncident,
    ) -> Result<Registered, StoreError> {
        let pending = Pending { scope: scope.clone(), actor: actor.clone(), new };
        let store = self.clone();
        self.kept::<IntakeQueue>()
            .0
            .submit(pending, move |batch| {
                let store = store.clone();
                async move { store.register_batch(batch).await }
            })
            .await
            .unwrap_or(Err(StoreError::Database(sqlx::Error::WorkerCrashed)))
    }

    /// Writes a batch, one result per registration. A batch that fails as a whole (a database
    /// error) is retried one registration at a time, so that one cannot fail the others.
    async fn register_batch(&self, batch: Vec<Pending>) -> Vec<Result<Registered, StoreError>> {
        let error = match self.write_batch(&batch).await {
            Ok(results) => return results,
            Err(error) if batch.len() == 1 => return vec![Err(error)],
            // The database is gone: one at a time would wait for it once per registration.
            Err(StoreError::Unavailable(error)) => {
                let reason = error.to_string();
                return batch
                    .iter()
                    .map(|_| {
                        Err(StoreError::Unavailable(sqlx::Error::Io(std::io::Error::other(
                            reason.clone(),
                        ))))
                    })
                    .collect();
            }
            Err(error) => error,
        };
        tracing::warn!(%error, registrations = batch.len(), "intake batch failed; one at a time");
        let mut results = Vec::with_capacity(batch.len());
        for pending in &batch {
            results.push(match self.write_batch(std::slice::from_ref(pending)).await {
                Ok(mut one) => one.pop().unwrap_or(Err(StoreError::NotFound)),
                Err(error) => Err(error),
            });
        }
        results
    }

    async fn write_batch(
        &self,
        batch: &[Pending],
    ) -> Result<Vec<Result<Registered, StoreError>>, StoreError> {
        let now = self.now();
        let mut results: Vec<Option<Result<Registered, StoreError>>> =
            batch.iter().map(|_| None).collect();
        let mut tx = self.begin().await?;
        let tables = grading_tables_on(&mut *tx).await?;
        let rules = chain_rules_on(&mut *tx).await?;
        let units = intake_units(&mut tx, batch).await?;
        let mut accepted = Vec::with_capacity(batch.len());
        let mut linked = HashSet::new();
        for (index, pending) in batch.iter().enumerate() {
            let unit = units.iter().find(|u| u.own().id == pending.new.unit_id);
            let check = Checks { tables: &tables, rules, now };
            match accept(&mut tx, index, pending, unit, &check, &mut linked).await? {
                Ok(one) => accepted.push(one),
                Err(refused) => results[index] = Some(Err(refused)),
            }
        }
        number(&mut tx, &mut accepted).await?;
        write_accepted(&mut tx, now, &accepted).await?;
        // What was written is known: the answer and the events are built from it, not read back.
        let mut events = Vec::with_capacity(accepted.len());
        for a in &accepted {
            let unit_path = a.unit.ancestors.iter().rev().map(|u| u.id.clone()).collect();
            let incident = registered_incident(a, rules, now);
            events.push(super::incident_event("incident.created", unit_path, &incident));
            results[a.index] = Some(Ok(Registered { incident }));
        }
        crate::outbox::push(&mut tx, now, events).await?;
        tx.commit().await?;
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or(Err(StoreError::Corrupt("registration unanswered".to_owned()))))
            .collect())
    }
}

/// The units of a batch's registrations with their outlines and the units above them, in one
/// query (a batch is mostly of one unit).
async fn intake_units(tx: &mut Tx, batch: &[Pending]) -> Result<Vec<IntakeUnit>, StoreError> {
    let mut ids: Vec<String> = Vec::new();
    for pending in batch {
        if !ids.contains(&pending.new.unit_id) {
            ids.push(pending.new.unit_id.clone());
        }
    }
    let mut sql = Sql::new(
        "SELECT u.id, CASE WHEN c.depth = 0 THEN u.boundary END AS boundary, \
         a.id AS a_id, a.code AS a_code, a.name AS a_name, a.level AS a_level FROM units u \
         JOIN unit_closure c ON c.descendant_id = u.id JOIN units a ON a.id = c.ancestor_id \
         WHERE u.id IN (",
    );
    sql.bind_list(ids).push(") ORDER BY u.id, c.depth");
    let mut units: Vec<IntakeUnit> = Vec::new();
    for row in sql.fetch_all(&mut **tx).await? {
        let id: String = row.try_get("id")?;
        let level: String = row.try_get("a_level")?;
        let ancestor = Ancestor {
            id: row.try_get("a_id")?,
            code: row.try_get("a_code")?,
            name: row.try_get("a_name")?,
            level: parse(UnitLevel::parse(&level), &level)?,
        };
        match units.last_mut() {
            Some(unit) if unit.own().id == id => unit.ancestors.push(ancestor),
            // The first row of a unit is the unit itself (depth 0), with its outline.
            _ => {
                let boundary = match boundary_value(&row)? {
                    Some(value) => Some(
                        Boundary::parse(&value).map_err(|e| StoreError::Corrupt(e.to_owned()))?,
                    ),
                    None => None,
                };
                units.push(IntakeUnit { boundary, ancestors: vec![ancestor] });
            }
        }
    }
    Ok(units)
}

/// What every registration of a batch is checked and graded against.
struct Checks<'a> {
    tables: &'a [GradingTable],
    rules: ChainRules,
    now: DateTime<Utc>,
}

/// Grades a registration and checks its duty-log entry; the outer error fails the batch, the
/// inner one refuses this registration alone.
async fn accept<'a>(
    tx: &mut Tx,
    index: usize,
    pending: &'a Pending,
    unit: Option<&'a IntakeUnit>,
    check: &Checks<'_>,
    linked: &mut HashSet<String>,
) -> Result<Result<Accepted<'a>, StoreError>, StoreError> {
    let new = &pending.new;
    // A unit outside the caller's scope is one that does not exist.
    let Some(unit) =
        unit.filter(|u| scope::admits(&pending.scope, u.ancestors.iter().map(|a| a.id.as_str())))
    else {
        return Ok(Err(StoreError::NotFound));
    };
    let outside_unit = match (new.point, &unit.boundary) {
        (Some((lon, lat)), Some(boundary)) => !boundary.contains(lon, lat),
        _ => false,
    };
    let graded = grade_of(check.tables, new.kind, new.occurred_at, &new.casualties);
    let (grading, table_source) = match graded {
        Ok(graded) => graded,
        Err(refused) => return Ok(Err(refused)),
    };
    if let Some(entry) = &new.duty_log_id {
        // The call this incident came from, in the caller's scope, linked to one incident.
        let mut sql = Sql::new("SELECT incident_id FROM duty_log WHERE id = ");
        sql.bind(entry.clone());
        scope::filter(&mut sql, &pending.scope, "unit_id");
        let Some(row) = sql.fetch_optional(&mut **tx).await? else {
            return Ok(Err(StoreError::invalid("duty_log_id", "not_found")));
        };
        if row.try_get::<Option<String>, _>("incident_id")?.is_some()
            || !linked.insert(entry.clone())
        {
            return Ok(Err(StoreError::invalid("duty_log_id", "already_linked")));
        }
    }
    let intake = done_on_intake(unit.own().level);
    let mut hops: Vec<Hop> = intake.to_vec();
    hops.extend(hops_for(grading.grade).iter().filter(|h| !intake.contains(h)));
    hops.sort();
    let done: Vec<(Hop, DateTime<Utc>)> = intake.iter().map(|h| (*h, new.reported_at)).collect();
    let open = clock::open_hops(grading.grade, new.occurred_at, &done, check.rules, check.now);
    let year = beacon_core::clock::local_date(new.reported_at).year();
    Ok(Ok(Accepted {
        index,
        pending,
        unit,
        outside_unit,
        id: new_id(),
        grading,
        table_source,
        hops,
        intake,
        open,
        prefix: format!("{}-{year}-", unit.own().code),
        number: String::new(),
    }))
}

/// Numbers the accepted registrations in arrival order, per registering unit and year.
async fn number(tx: &mut Tx, accepted: &mut [Accepted<'_>]) -> Result<(), StoreError> {
    let mut prefixes: Vec<String> = Vec::new();
    for a in accepted.iter() {
        if !prefixes.contains(&a.prefix) {
            prefixes.push(a.prefix.clone());
        }
    }
    for prefix in prefixes {
        let count = accepted.iter().filter(|a| a.prefix == prefix).count();
        let count = i64::try_from(count).map_err(StoreError::corrupt)?;
        let last = take_numbers(tx, &prefix, count).await?;
        for (n, a) in (last - count + 1..).zip(accepted.iter_mut().filter(|a| a.prefix == prefix)) {
            a.number = format!("{prefix}{n:04}");
        }
    }
    Ok(())
}

/// Hands out `count` numbers of `prefix`: the last one is returned. The counter row's lock
/// keeps numbers in order across transactions and instances.
async fn take_numbers(tx: &mut Tx, prefix: &str, count: i64) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "UPDATE incident_numbers SET last = last + $1 WHERE prefix = $2 RETURNING last",
    )
    .bind(count)
    .bind(prefix.to_owned())
    .fetch_optional(&mut **tx)
    .await?;
    if let Some(row) = row {
        return Ok(row.try_get("last")?);
    }
    // The prefix's first use since the counter was introduced: its incidents are counted once
    // (numbers are the prefix and digits; `~` sorts after every digit).
    let row = sqlx::query(
        "INSERT INTO incident_numbers (prefix, last) \
         SELECT $1, COUNT(*) + $2 FROM incidents WHERE number > $3 AND number < $4 \
         ON CONFLICT (prefix) DO UPDATE SET last = incident_numbers.last + $2 RETURNING last",
    )
    .bind(prefix.to_owned())
    .bind(count)
    .bind(prefix.to_owned())
    .bind(format!("{prefix}~"))
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get("last")?)
}

/// Writes the accepted registrations with multi-row inserts: the incidents, their first grade,
/// their hops and clocks, the duty-log links, and the timeline and audit records.
async fn write_accepted(
    tx: &mut Tx,
    now: DateTime<Utc>,
    accepted: &[Accepted<'_>],
) -> Result<(), StoreError> {
    if accepted.is_empty() {
        return Ok(());
    }
    let backend = backend_of(tx);
    let mut incidents = Vec::with_capacity(accepted.len());
    let mut grades = Vec::with_capacity(accepted.len());
    let mut hops = Vec::new();
    let mut clocks = Vec::new();
    for a in accepted {
        incidents.push(incident_row(a, now)?);
        let new = &a.pending.new;
        grades.push(grade_row(
            now,
            &a.pending.actor,
            &a.id,
            &a.grading,
            a.grading.grade,
            &new.casualties,
            &a.table_source,
            "intake",
            None,
        )?);
        for hop in &a.hops {
            hops.push(hop_row(a, *hop));
        }
        clocks.extend(clock::new_clocks(
            now,
            &a.id,
            &a.unit.own().id,
            &a.open,
            &Default::default(),
        ));
    }
    insert_batch(tx, backend, "incidents", INCIDENT_COLUMNS, incidents).await?;
    insert_batch(tx, backend, "incident_grades", GRADE_COLUMNS, grades).await?;
    for a in accepted {
        if let Some(entry) = &a.pending.new.duty_log_id {
            sqlx::query("UPDATE duty_log SET incident_id = $1 WHERE id = $2")
                .bind(a.id.clone())
                .bind(entry.clone())
                .execute(&mut **tx)
                .await?;
        }
    }
    insert_batch(tx, backend, "incident_hops", HOP_COLUMNS, hops).await?;
    deadline::schedule_all(tx, now, DateTime::<Utc>::MIN_UTC, clocks).await?;
    keep_all(tx, now, accepted).await
}

fn incident_row(a: &Accepted<'_>, now: DateTime<Utc>) -> Result<Vec<Val>, StoreError> {
    let new = &a.pending.new;
    let c = &new.casualties;
    let grade = a.grading.grade.as_str().to_owned();
    Ok(vec![
        Val::Text(a.id.clone()),
        Val::Text(a.number.clone()),
        Val::Text(a.unit.own().id.clone()),
        Val::Text(new.kind.as_str().to_owned()),
        Val::Text(new.title.clone()),
        Val::Int(to_millis(new.occurred_at)),
        Val::Int(to_millis(new.reported_at)),
        Val::Text(new.place.clone()),
        Val::MaybeFloat(new.point.map(|p| p.0)),
        Val::MaybeFloat(new.point.map(|p| p.1)),
        Val::Bool(a.outside_unit),
        Val::MaybeText(new.enterprise.clone()),
        Val::Int(i64::from(c.deaths)),
        Val::Int(i64::from(c.missing)),
        Val::Int(i64::from(c.serious_injuries)),
        Val::Int(i64::from(c.minor_injuries)),
        Val::Int(i64::try_from(c.direct_loss_cny).map_err(StoreError::corrupt)?),
        Val::Text(new.description.clone()),
        Val::Text(new.source.as_str().to_owned()),
        Val::MaybeText(new.reporter.clone()),
        Val::MaybeText(new.reporter_phone.clone()),
        Val::Text(grade.clone()),
        Val::Text(grade),
        Val::Text("open".to_owned()),
        Val::MaybeText(new.duty_log_id.clone()),
        Val::Text(a.pending.actor.name.clone()),
        Val::Int(to_millis(now)),
        Val::Int(to_millis(now)),
        Val::Int(1),
        Val::MaybeText(new.duplicate_of.clone()),
    ])
}

/// A hop's row: its addressee inside the deployment, and done at `reported_at` when the
/// registering desk has received it.
fn hop_row(a: &Accepted<'_>, hop: Hop) -> Vec<Val> {
    let addressee = a.addressee(hop).map(|u| u.id.clone());
    let done = a.intake.contains(&hop);
    let actor = &a.pending.actor;
    vec![
        Val::Text(a.id.clone()),
        Val::Text(hop.as_str().to_owned()),
        Val::MaybeText(addressee),
        Val::MaybeInt(done.then(|| to_millis(a.pending.new.reported_at))),
        Val::MaybeText(done.then(|| "intake".to_owned())),
        Val::MaybeText(if done { actor.user_id.clone() } else { None }),
        Val::MaybeText(done.then(|| actor.name.clone())),
    ]
}

/// The incident as [`Store::incident`] reads it after the batch: every time as stored (to the
/// millisecond), no override, colour or response level yet, and the obligations as of `now`.
fn registered_incident(a: &Accepted<'_>, rules: ChainRules, now: DateTime<Utc>) -> Incident {
    let new = &a.pending.new;
    let stored = |at: DateTime<Utc>| from_millis(to_millis(at));
    let (occurred_at, reported_at, now) =
        (stored(new.occurred_at), stored(new.reported_at), stored(now));
    let hops: Vec<HopRecord> = a
        .hops
        .iter()
        .map(|hop| {
            let done = a.intake.contains(hop);
            HopRecord {
                hop: *hop,
                addressee: a.addressee(*hop).map(Ancestor::as_incident_unit),
                done_at: done.then_some(reported_at),
                method: done.then_some(HopMethod::Intake),
                done_by_name: done.then(|| a.pending.actor.name.clone()),
                note: None,
            }
        })
        .collect();
    let done: Vec<(Hop, DateTime<Utc>)> =
        hops.iter().filter_map(|h| h.done_at.map(|at| (h.hop, at))).collect();
    let c = new.casualties;
    Incident {
        id: a.id.clone(),
        number: a.number.clone(),
        unit: a.unit.own().as_incident_unit(),
        kind: new.kind,
        title: new.title.clone(),
        occurred_at,
        reported_at,
        place: new.place.clone(),
        lon: new.point.map(|p| p.0),
        lat: new.point.map(|p| p.1),
        outside_unit: a.outside_unit,
        enterprise: new.enterprise.clone(),
        deaths: c.deaths,
        missing: c.missing,
        serious_injuries: c.serious_injuries,
        minor_injuries: c.minor_injuries,
        direct_loss_cny: c.direct_loss_cny,
        description: new.description.clone(),
        source: new.source,
        reporter: new.reporter.clone(),
        reporter_phone: new.reporter_phone.clone(),
        grade: a.grading.grade,
        computed_grade: a.grading.grade,
        grade_override: None,
        warning_color: None,
        response_level: None,
        status: "open".to_owned(),
        closed_at: None,
        closing_summary: None,
        duty_log_id: new.duty_log_id.clone(),
        duplicate_of: new.duplicate_of.clone(),
        follow_up_since: None,
        obligations: obligations(a.grading.grade, occurred_at, &done, rules, now),
        hops,
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// The timeline entries (one multi-row insert per actor) and the audit records (chained in
/// arrival order) of the batch.
async fn keep_all(
    tx: &mut Tx,
    now: DateTime<Utc>,
    accepted: &[Accepted<'_>],
) -> Result<(), StoreError> {
    let mut actors: Vec<&Actor> = Vec::new();
    for a in accepted {
        if !actors.contains(&&a.pending.actor) {
            actors.push(&a.pending.actor);
        }
    }
    for actor in actors {
        let entries = accepted
            .iter()
            .filter(|a| a.pending.actor == *actor)
            .map(|a| NewEntry {
                subject: ("incident", &a.id),
                unit_id: Some(&a.unit.own().id),
                kind: "created",
                data: json!({
                    "number": a.number,
                    "grade": a.grading.grade,
                    "kind": a.pending.new.kind,
                }),
            })
            .collect();
        timeline::append_all(tx, now, actor, entries).await?;
    }
    let records = accepted
        .iter()
        .map(|a| {
            NewAuditRecord::new(&a.pending.actor, "incident.created", Outcome::Success)
                .target("incident", &a.id)
                .unit(Some(&a.unit.own().id))
                .detail(json!({ "number": a.number, "grade": a.grading.grade }))
        })
        .collect();
    audit::append_all(tx, now, records).await
}
