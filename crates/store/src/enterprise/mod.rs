//! The safety-production database (docs/enterprises.md): the register of enterprises, their
//! licences, major hazard sources and risk points. An enterprise belongs to two units at once,
//! its territory (属地) and the department that supervises its industry (行业监管); the scope
//! rule admits a caller above either ([`crate::scope::filter_any`]). An `enterprise` account
//! reaches its own enterprise only ([`Reach::Own`]).

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::clock::{china_offset, from_millis, to_millis};
use beacon_core::enterprise::{
    MARKS, RiskColour, STANDARD_GRADES, STATUSES, Uscc, industry, reference,
};
use beacon_core::error::ValidationErrors;
use beacon_core::event::NewEvent;
use beacon_core::id::new_id;
use beacon_core::org::{Permission, Phone, Role, UnitLevel};
use beacon_core::page::PageRequest;
use beacon_core::scope::Scope;
use beacon_core::text::{free_text, plain_text};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::Row;
use utoipa::ToSchema;

use crate::audit::like_pattern;
use crate::sql::{Sql, Val, insert_batch, json_flag};
use crate::timeline::TimelineEntry;
use crate::{Backend, Page, Store, StoreError, Tx, audit, outbox, scope, timeline};
use search::TextSearch;

mod change;
mod hazard_source;
mod import;
mod licence;
mod risk;
mod search;

pub use change::{ChangeDecision, EnterpriseChange};
pub use hazard_source::{
    HazardSource, HazardSourceFilter, HazardSourceLedgerRow, HazardSourceWrite, HazardSubstance,
    HeldSubstance, HoldingWrite, SubstanceWrite,
};
pub use import::{
    ENTERPRISE_IMPORT_COLUMNS, EnterpriseImport, LICENCE_IMPORT_COLUMNS, LicenceImport,
    RISK_POINT_IMPORT_COLUMNS, RiskPointImport, enterprise_import_samples, licence_import_samples,
    risk_point_import_samples,
};
pub use licence::{LICENCE_DEADLINE, Licence, LicenceFilter, LicenceLedgerRow, LicenceWrite};
pub use risk::{
    Evaluation, MAP_POINT_LIMIT, RiskMap, RiskMapCluster, RiskMapPoint, RiskMapUnit, RiskPoint,
    RiskPointFilter, RiskPointLedgerRow, RiskPointWrite, Viewport,
};

/// Which enterprises a caller reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Those of the territory or supervised by a department in the scope (the regulators).
    Scope(Scope),
    /// One enterprise (an `enterprise` account); `None` when the account is bound to none yet,
    /// which reaches nothing.
    Own(Option<String>),
}

impl Reach {
    /// Appends the rule to a query over `enterprises e`.
    pub(crate) fn filter(&self, sql: &mut Sql) {
        self.filter_on(sql, "e.id", "e.unit_id", "e.department_id");
    }

    /// The rule of [`Reach::filter`] over another table's copy of an enterprise's id,
    /// territory and department (the hidden-danger ledger keeps them on every row).
    pub(crate) fn filter_on(&self, sql: &mut Sql, enterprise: &str, unit: &str, department: &str) {
        match self {
            Reach::Scope(scope) => scope::filter_any(sql, scope, &[unit, department]),
            Reach::Own(id) => {
                sql.push(" AND ").push(enterprise).push(" = ").bind(id.clone().unwrap_or_default());
            }
        }
    }

    /// Whether every enterprise is in reach (a regulator at the top of the tree, or the
    /// system): a query may then skip the filter and the enterprise it would read.
    pub(crate) fn is_whole(&self) -> bool {
        matches!(
            self,
            Reach::Scope(Scope::Global) | Reach::Scope(Scope::Subtree { whole_tree: true, .. })
        )
    }

    /// Whether the caller is an enterprise working on its own record.
    pub fn is_own(&self) -> bool {
        matches!(self, Reach::Own(_))
    }
}

/// The register fields an enterprise sends or a regulator types. Identity fields (`uscc`,
/// `name`, `unit_id`) changed by the enterprise itself wait for its regulator
/// ([`EnterpriseChange`]).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnterpriseWrite {
    /// The unified social credit code; trimmed and upper-cased.
    pub uscc: String,
    pub name: String,
    #[serde(default)]
    pub former_names: Vec<String>,
    #[serde(default)]
    pub legal_representative: String,
    /// The principal responsible for safety (安全负责人).
    #[serde(default)]
    pub safety_principal: String,
    #[serde(default)]
    pub safety_phone: String,
    #[serde(default)]
    pub address: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// The territorial unit (a township or street, or a district for enterprises it keeps).
    pub unit_id: String,
    /// The supervising department (a unit of level `department`).
    pub department_id: Option<String>,
    /// GB/T 4754-2017 section, `A`–`T`.
    pub section: String,
    /// The supervised sector (`hazardous_chemicals`, `metallurgy`, …, `other`).
    pub sector: String,
    #[serde(default)]
    pub employees: u32,
    /// Above designated size (规模以上).
    #[serde(default)]
    pub designated_size: bool,
    /// `operating` or `suspended`; closing is its own action.
    #[serde(default = "operating")]
    pub status: String,
    pub standard_grade: Option<String>,
    pub standard_expires: Option<NaiveDate>,
    #[serde(default)]
    pub marks: Vec<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// On update: the version read; a change made since is refused (`stale_version`).
    #[serde(default)]
    pub version: Option<i64>,
}

fn operating() -> String {
    "operating".to_owned()
}

impl EnterpriseWrite {
    /// Checks and normalises every field; the units are checked against the database later.
    pub fn validate(mut self) -> Result<(Uscc, EnterpriseWrite), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let uscc = errors.check("uscc", Uscc::parse(&self.uscc));
        if let Some(code) = &uscc {
            self.uscc = code.as_str().to_owned();
        }
        match plain_text(&self.name, 128) {
            Ok(v) => self.name = v,
            Err(code) => errors.add("name", code),
        }
        let mut former = Vec::new();
        for (i, n) in self.former_names.iter().enumerate() {
            match plain_text(n, 128) {
                Ok(v) if !former.contains(&v) && v != self.name => former.push(v),
                Ok(_) => {}
                Err(code) => errors.add(format!("former_names[{i}]"), code),
            }
        }
        if former.len() > 20 {
            errors.add("former_names", "too_many");
        }
        self.former_names = former;
        let mut text = |field: &str, value: &mut String, max: usize| match free_text(value, max) {
            Ok(v) => *value = v.replace('\n', " "),
            Err(code) => errors.add(field, code),
        };
        text("legal_representative", &mut self.legal_representative, 64);
        text("safety_principal", &mut self.safety_principal, 64);
        text("address", &mut self.address, 256);
        if !self.safety_phone.trim().is_empty() {
            match Phone::parse(&self.safety_phone) {
                Ok(p) => self.safety_phone = p.as_str().to_owned(),
                Err(code) => errors.add("safety_phone", code),
            }
        } else {
            self.safety_phone = String::new();
        }
        match (self.lon, self.lat) {
            (None, None) => {}
            (Some(lon), Some(lat)) => {
                if !(lon.is_finite() && (-180.0..=180.0).contains(&lon)) {
                    errors.add("lon", "out_of_range");
                }
                if !(lat.is_finite() && (-90.0..=90.0).contains(&lat)) {
                    errors.add("lat", "out_of_range");
                }
            }
            (None, Some(_)) => errors.add("lon", "required"),
            (Some(_), None) => errors.add("lat", "required"),
        }
        match industry::section(&self.section) {
            Some(code) => self.section = code.to_owned(),
            None => errors.add("section", "unknown"),
        }
        match industry::sector(&self.sector) {
            Some(code) => self.sector = code.to_owned(),
            None => errors.add("sector", "unknown"),
        }
        if self.employees > 1_000_000 {
            errors.add("employees", "out_of_range");
        }
        if !["operating", "suspended"].contains(&self.status.as_str()) {
            errors.add("status", if self.status == "closed" { "use_close" } else { "unknown" });
        }
        if let Some(grade) = &self.standard_grade {
            match reference(&STANDARD_GRADES, grade) {
                Some(code) => self.standard_grade = Some(code.to_owned()),
                None => errors.add("standard_grade", "unknown"),
            }
        } else if self.standard_expires.is_some() {
            errors.add("standard_grade", "required");
        }
        let mut marks = Vec::new();
        for (i, m) in self.marks.iter().enumerate() {
            match reference(&MARKS, m) {
                Some(code) if !marks.contains(&code.to_owned()) => marks.push(code.to_owned()),
                Some(_) => {}
                None => errors.add(format!("marks[{i}]"), "unknown"),
            }
        }
        marks.sort();
        self.marks = marks;
        let mut tags = Vec::new();
        for (i, t) in self.tags.iter().enumerate() {
            match plain_text(t, 32) {
                Ok(v) if !tags.contains(&v) => tags.push(v),
                Ok(_) => {}
                Err(code) => errors.add(format!("tags[{i}]"), code),
            }
        }
        if tags.len() > 20 {
            errors.add("tags", "too_many");
        }
        self.tags = tags;
        match (errors.into_result(), uscc) {
            (Ok(()), Some(uscc)) => Ok((uscc, self)),
            (Err(errors), _) => Err(errors),
            (Ok(()), None) => Err(ValidationErrors::single("uscc", "required")),
        }
    }

    fn search_text(&self) -> SearchText {
        search_text(&self.name, &self.uscc, &self.address, &self.former_names)
    }
}

/// Ends every pair of characters in the search text's section of name pairs (a private-use
/// character, which nobody types and which PostgreSQL's trigrams take for a separator).
const PAIR_MARK: char = '\u{e000}';

/// The longest head (in bytes) an enterprise's row keeps in its name index; longer ones are
/// NULL (migration 0016: PostgreSQL's B-tree entries are bounded).
const HEAD_MAX: usize = 1536;

/// What a fragment typed in the search box is matched against (columns `search_text` and
/// `search_head`).
pub(crate) struct SearchText {
    /// The head, then every distinct pair of characters of the names, each between two
    /// [`PAIR_MARK`]s. A trigram index cannot answer a two-character fragment (a trade name
    /// such as 港华, the most common search), but it answers `港华` with its marks around it,
    /// three characters and more: see [`EnterpriseFilter::apply`].
    pub text: String,
    /// The name, the code, the address and the former names, lower-cased: what a fragment read
    /// in name order is checked against, from the name index; `None` when longer than
    /// [`HEAD_MAX`] bytes (the row is then checked on `text`).
    pub head: Option<String>,
}

pub(crate) fn search_text(name: &str, uscc: &str, address: &str, former: &[String]) -> SearchText {
    let mut text = format!("{name} {uscc} {address}");
    for n in former {
        text.push(' ');
        text.push_str(n);
    }
    let mut text = text.replace(PAIR_MARK, "").to_lowercase();
    let head = (text.len() <= HEAD_MAX).then(|| text.clone());
    let mut pairs = std::collections::BTreeSet::new();
    for n in std::iter::once(name).chain(former.iter().map(String::as_str)) {
        let chars: Vec<char> = n.to_lowercase().chars().filter(|c| *c != PAIR_MARK).collect();
        for pair in chars.windows(2) {
            pairs.insert(pair.iter().collect::<String>());
        }
    }
    text.push(' ');
    text.push(PAIR_MARK);
    for pair in pairs {
        text.push_str(&pair);
        text.push(PAIR_MARK);
    }
    SearchText { text, head }
}

/// Selects the enterprises whose search text [`rewrite_search_texts`] rewrites.
const SEARCH_SOURCE: &str = "SELECT id, uscc, name, address, former_names FROM enterprises WHERE ";

/// Rewrites the search text of the enterprises `rows` (of [`SEARCH_SOURCE`]) from their
/// columns.
async fn rewrite_search_texts(tx: &mut Tx, rows: &[sqlx::any::AnyRow]) -> Result<(), StoreError> {
    for row in rows {
        let former: String = row.try_get("former_names")?;
        let former: Vec<String> = serde_json::from_str(&former).map_err(StoreError::corrupt)?;
        let text = search_text(
            &row.try_get::<String, _>("name")?,
            &row.try_get::<String, _>("uscc")?,
            &row.try_get::<String, _>("address")?,
            &former,
        );
        sqlx::query("UPDATE enterprises SET search_text = $1, search_head = $2 WHERE id = $3")
            .bind(text.text)
            .bind(text.head)
            .bind(row.try_get::<String, _>("id")?)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Rewrites the search text of enterprise `id` after a change to its name, code, address or
/// former names.
pub(crate) async fn refresh_search_text(tx: &mut Tx, id: &str) -> Result<(), StoreError> {
    let rows = sqlx::query(&format!("{SEARCH_SOURCE}id = $1"))
        .bind(id.to_owned())
        .fetch_all(&mut **tx)
        .await?;
    rewrite_search_texts(tx, &rows).await
}

/// Rewrites the search text of enterprises written before it had its section of name pairs
/// (SQL cannot cut a name into pairs, so no migration does it), a thousand at a time. Run
/// when the store migrates; with nothing to rewrite it is one read of the register.
pub(crate) async fn refresh_search_texts(store: &Store) -> Result<u64, StoreError> {
    let stale = format!("{SEARCH_SOURCE}search_text NOT LIKE $1 LIMIT 1000");
    let mut done = 0;
    loop {
        let rows =
            sqlx::query(&stale).bind(format!("%{PAIR_MARK}%")).fetch_all(store.reader()).await?;
        if rows.is_empty() {
            return Ok(done);
        }
        let mut tx = store.begin().await?;
        rewrite_search_texts(&mut tx, &rows).await?;
        tx.commit().await?;
        done += rows.len() as u64;
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct UnitName {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Enterprise {
    pub id: String,
    pub uscc: String,
    pub name: String,
    pub former_names: Vec<String>,
    pub legal_representative: String,
    pub safety_principal: String,
    pub safety_phone: String,
    pub address: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub unit: UnitName,
    pub department: Option<UnitName>,
    pub section: String,
    pub sector: String,
    pub employees: u32,
    pub designated_size: bool,
    /// `operating`, `suspended` or `closed`.
    pub status: String,
    pub standard_grade: Option<String>,
    pub standard_expires: Option<NaiveDate>,
    pub marks: Vec<String>,
    pub tags: Vec<String>,
    /// The highest colour of its risk points in use; none without any.
    pub colour: Option<RiskColour>,
    /// Licences in force that expired (flagged on the register).
    pub expired_licences: i64,
    /// Licences in force that expire within 90 days.
    pub expiring_licences: i64,
    /// A change to its identity waits for the regulator.
    pub pending_change: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct EnterpriseRow {
    id: String,
    uscc: String,
    name: String,
    former_names: String,
    legal_representative: String,
    safety_principal: String,
    safety_phone: String,
    address: String,
    lon: Option<f64>,
    lat: Option<f64>,
    unit_id: String,
    unit_name: String,
    department_id: Option<String>,
    department_name: Option<String>,
    section: String,
    sector: String,
    employees: i64,
    #[serde(deserialize_with = "json_flag")]
    designated_size: bool,
    status: String,
    standard_grade: Option<String>,
    standard_expires: Option<String>,
    marks: String,
    tags: String,
    colour: Option<String>,
    /// The expiry dates of its licences in force, ISO dates separated by commas.
    licence_expiries: String,
    pending_changes: i64,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

fn list_of(text: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(text).map_err(StoreError::corrupt)
}

pub(crate) fn date_of(text: Option<&str>) -> Result<Option<NaiveDate>, StoreError> {
    text.map(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(StoreError::corrupt)).transpose()
}

/// How many of `expiries` (a row's `licence_expiries`) are expired and how many expiring on
/// `today` (the states of [`licence::state_of`]).
fn licence_counts(expiries: &str, today: NaiveDate) -> Result<(i64, i64), StoreError> {
    let (mut expired, mut expiring) = (0, 0);
    for day in expiries.split(',').filter(|d| !d.is_empty()) {
        match date_of(Some(day))?.map(|day| licence::state_of(false, day, today)) {
            Some("expired") => expired += 1,
            Some("expiring") => expiring += 1,
            _ => {}
        }
    }
    Ok((expired, expiring))
}

impl EnterpriseRow {
    /// The enterprise, with its licences counted on `today`.
    fn into_enterprise(self, today: NaiveDate) -> Result<Enterprise, StoreError> {
        let r = self;
        let (expired_licences, expiring_licences) = licence_counts(&r.licence_expiries, today)?;
        Ok(Enterprise {
            former_names: list_of(&r.former_names)?,
            marks: list_of(&r.marks)?,
            tags: list_of(&r.tags)?,
            standard_expires: date_of(r.standard_expires.as_deref())?,
            colour: r.colour.as_deref().and_then(RiskColour::parse),
            unit: UnitName { id: r.unit_id, name: r.unit_name },
            department: match (r.department_id, r.department_name) {
                (Some(id), Some(name)) => Some(UnitName { id, name }),
                _ => None,
            },
            id: r.id,
            uscc: r.uscc,
            name: r.name,
            legal_representative: r.legal_representative,
            safety_principal: r.safety_principal,
            safety_phone: r.safety_phone,
            address: r.address,
            lon: r.lon,
            lat: r.lat,
            section: r.section,
            sector: r.sector,
            employees: u32::try_from(r.employees).unwrap_or(0),
            designated_size: r.designated_size,
            status: r.status,
            standard_grade: r.standard_grade,
            expired_licences,
            expiring_licences,
            pending_change: r.pending_changes > 0,
            version: r.version,
            created_at: from_millis(r.created_at),
            updated_at: from_millis(r.updated_at),
        })
    }
}

/// The select of [`Enterprise`]; binds today and the day 90 days ahead (ISO dates) first.
/// The register's columns of `enterprises e` with its unit's and department's names; `only`
/// limits it to those enterprises (a page, or one). The licences in force and the changes that
/// wait are read from the enterprise's own row (`licence_expiries`, `pending_changes`, kept by
/// triggers: migration 0024), not counted here.
fn select(only: Option<&[String]>) -> Sql {
    select_after(Sql::new(""), only.map_or(Only::All, Only::Ids))
}

/// Which enterprises [`select_after`] selects.
enum Only<'a> {
    All,
    Ids(&'a [String]),
    /// The ids of a `page` the query text before the select makes (`WITH page AS …`).
    Page,
}

/// [`select`] after the text `sql` already holds (a `WITH` clause).
fn select_after(mut sql: Sql, only: Only<'_>) -> Sql {
    // The enterprises drive the join and the units are looked up by key: SQLite keeps a
    // `CROSS JOIN`'s order, PostgreSQL plans it as any inner join. Left to choose, SQLite read
    // each unit's enterprises through the unit index when its statistics were those of a small
    // register (a chunk of an import right after a large commit: 190 ms instead of 10 ms).
    sql.push(
        "SELECT e.id, e.uscc, e.name, e.former_names, e.legal_representative, e.safety_principal, \
         e.safety_phone, e.address, e.lon, e.lat, e.unit_id, u.name AS unit_name, \
         e.department_id, d.name AS department_name, e.section, e.sector, e.employees, \
         e.designated_size, e.status, e.standard_grade, e.standard_expires, e.marks, e.tags, \
         e.colour, e.licence_expiries, e.pending_changes, e.version, e.created_at, \
         e.updated_at, e.name AS name_order \
         FROM enterprises e CROSS JOIN units u \
         LEFT JOIN units d ON d.id = e.department_id WHERE u.id = e.unit_id",
    );
    match only {
        Only::All => {}
        Only::Ids(ids) => {
            sql.push(" AND e.id IN (").bind_list(ids.to_vec()).push(")");
        }
        Only::Page => {
            sql.push(" AND e.id IN (SELECT id FROM page)");
        }
    }
    sql
}

pub(crate) fn iso(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// Who hears of an enterprise's clocks (a licence's expiry, a hidden danger's deadline): its own
/// active accounts and the regulators (inspectors, staff) of its territory, of `levels_up`
/// units above it and of its supervising department.
pub(crate) async fn people_to_tell(
    tx: &mut Tx,
    enterprise_id: &str,
    unit_id: &str,
    department_id: Option<&str>,
    levels_up: usize,
) -> Result<std::collections::BTreeSet<String>, StoreError> {
    let whom = [(enterprise_id.to_owned(), unit_id.to_owned(), department_id.map(str::to_owned))];
    let mut all = people_to_tell_many(tx, &whom, levels_up).await?;
    Ok(all.remove(enterprise_id).unwrap_or_default())
}

/// [`people_to_tell`] for many enterprises at once (`(enterprise, territory, department)`), in
/// three statements whatever their number: a morning's batch of clocks falling due reads the
/// accounts once, not once per enterprise.
pub(crate) async fn people_to_tell_many(
    tx: &mut Tx,
    enterprises: &[(String, String, Option<String>)],
    levels_up: usize,
) -> Result<std::collections::HashMap<String, std::collections::BTreeSet<String>>, StoreError> {
    use std::collections::{BTreeSet, HashMap};
    let mut out: HashMap<String, BTreeSet<String>> = HashMap::new();
    if enterprises.is_empty() {
        return Ok(out);
    }
    for chunk in enterprises.chunks(500) {
        let mut sql = Sql::new("SELECT id, enterprise_id FROM users WHERE active = ");
        sql.bind(true).push(" AND enterprise_id IN (");
        sql.bind_list(chunk.iter().map(|(e, _, _)| e.clone())).push(")");
        for r in sql.fetch_all(&mut **tx).await? {
            let enterprise: String = r.try_get("enterprise_id")?;
            out.entry(enterprise).or_default().insert(r.try_get("id")?);
        }
    }
    // Each territory and the units up to `levels_up` above it.
    let mut territories: Vec<String> = enterprises.iter().map(|(_, u, _)| u.clone()).collect();
    territories.sort_unstable();
    territories.dedup();
    let mut above: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in territories.chunks(500) {
        let mut sql =
            Sql::new("SELECT descendant_id, ancestor_id FROM unit_closure WHERE depth <= ");
        sql.bind(i64::try_from(levels_up).unwrap_or(i64::MAX)).push(" AND descendant_id IN (");
        sql.bind_list(chunk.iter().cloned()).push(")");
        for r in sql.fetch_all(&mut **tx).await? {
            above.entry(r.try_get("descendant_id")?).or_default().push(r.try_get("ancestor_id")?);
        }
    }
    let mut units: Vec<String> = above.values().flatten().cloned().collect();
    units.extend(enterprises.iter().filter_map(|(_, _, d)| d.clone()));
    units.sort_unstable();
    units.dedup();
    let regulators = [Role::Inspector, Role::Staff];
    let mut staff: HashMap<String, Vec<String>> = HashMap::new();
    for chunk in units.chunks(500) {
        let mut sql = Sql::new("SELECT id, unit_id, roles FROM users WHERE active = ");
        sql.bind(true).push(" AND unit_id IN (");
        sql.bind_list(chunk.iter().cloned()).push(")");
        for r in sql.fetch_all(&mut **tx).await? {
            if crate::org::roles_column(&r)?.iter().any(|role| regulators.contains(role)) {
                staff.entry(r.try_get("unit_id")?).or_default().push(r.try_get("id")?);
            }
        }
    }
    for (enterprise, unit, department) in enterprises {
        let to = out.entry(enterprise.clone()).or_default();
        let reached = above.get(unit).into_iter().flatten().chain(department.iter());
        for unit in reached {
            to.extend(staff.get(unit).into_iter().flatten().cloned());
        }
    }
    Ok(out)
}

/// Midnight at the start of a Chinese calendar day.
pub(crate) fn start_of(date: NaiveDate) -> DateTime<Utc> {
    use chrono::TimeZone;
    china_offset()
        .from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// Today in China (dates on licences and reviews are Chinese calendar days).
pub(crate) fn today(now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&china_offset()).date_naive()
}

/// Filters of the register.
#[derive(Debug, Clone, Default)]
pub struct EnterpriseFilter {
    /// Enterprises of this unit's territory (the unit and beneath).
    pub unit_id: Option<String>,
    pub department_id: Option<String>,
    pub section: Option<String>,
    pub sector: Option<String>,
    pub colour: Option<RiskColour>,
    pub status: Option<String>,
    pub mark: Option<String>,
    /// Only those with an expired licence in force.
    pub expired_licence: bool,
    /// A fragment of the name, a former name, the code or the address.
    pub q: Option<String>,
}

impl EnterpriseFilter {
    fn apply(&self, sql: &mut Sql, text: &TextSearch, today: NaiveDate) {
        if let Some(unit) = &self.unit_id {
            sql.push(
                " AND e.unit_id IN (SELECT descendant_id FROM unit_closure WHERE ancestor_id = ",
            )
            .bind(unit.clone())
            .push(")");
        }
        if let Some(department) = &self.department_id {
            sql.push(" AND e.department_id = ").bind(department.clone());
        }
        if let Some(section) = &self.section {
            sql.push(" AND e.section = ").bind(section.clone());
        }
        if let Some(sector) = &self.sector {
            sql.push(" AND e.sector = ").bind(sector.clone());
        }
        if let Some(colour) = self.colour {
            sql.push(" AND e.colour = ").bind(colour.as_str().to_owned());
        }
        if let Some(status) = &self.status {
            sql.push(" AND e.status = ").bind(status.clone());
        }
        if let Some(mark) = &self.mark {
            sql.push(" AND e.marks LIKE ")
                .bind(like_pattern(&format!("\"{mark}\"")))
                .push(" ESCAPE '\\'");
        }
        if self.expired_licence {
            sql.push(
                " AND EXISTS (SELECT 1 FROM enterprise_licences l WHERE l.enterprise_id = e.id \
                 AND l.withdrawn = ",
            )
            .bind(false)
            .push(" AND l.expires_on < ")
            .bind(iso(today))
            .push(")");
        }
        if let Some(q) = self.q.as_deref().map(search::fragment).filter(|q| !q.is_empty()) {
            // A fragment of three characters or more is answered by the trigram index
            // (migration 0014): SQLite's FTS5 table as a phrase, PostgreSQL's GIN index serving
            // the LIKE itself; by its rare part when it has common trigrams, and then checked
            // whole (see `search`). Two characters are looked up as a pair of the names' section
            // of pairs (see `search_text`), marks included: three characters and more. One
            // character, or a fragment whose trigrams are all common, reads the register in
            // name order (the first page stops early): a list that reads `FROM` its
            // `TextSearch` walks the kept names of the fragment's rarest indexed trigram.
            let (index, check) = match q.chars().count() {
                1 => (None, true),
                2 => (Some(format!("{PAIR_MARK}{q}{PAIR_MARK}")), false),
                _ => match search::lookup(&q, |t| text.is_common(t)) {
                    search::Lookup::Whole => (Some(q.clone()), false),
                    search::Lookup::Part(part) => (Some(part), true),
                    search::Lookup::Scan => (None, true),
                },
            };
            match (text.backend, index) {
                // Read by the names of the fragment's rarest indexed trigram (migration 0025),
                // which hold each row's head as the name index does. The check is written as
                // two conditions so that the first, on the names alone, skips an entry before
                // its row is read.
                (backend, None) if text.walk().is_some() => {
                    let find = match backend {
                        Backend::Postgres => "strpos",
                        Backend::Sqlite => "instr",
                    };
                    sql.push(" AND g.trigram = ")
                        .bind(text.walk().unwrap_or_default().to_owned())
                        .push(&format!(" AND (g.head IS NULL OR {find}(g.head, "))
                        .bind(q.clone())
                        .push(&format!(") > 0) AND (g.head IS NOT NULL OR {find}(e.search_text, "))
                        .bind(q)
                        .push(") > 0)");
                }
                (Backend::Sqlite, Some(phrase)) => {
                    sql.push(
                        " AND e.id IN (SELECT k.enterprise_id FROM enterprise_search \
                         JOIN enterprise_search_keys k ON k.n = enterprise_search.rowid \
                         WHERE enterprise_search MATCH ",
                    )
                    .bind(format!("\"{}\"", phrase.replace('"', "\"\"")))
                    .push(")");
                    if check {
                        sql.push(" AND instr(e.search_text, ").bind(q).push(") > 0");
                    }
                }
                (Backend::Postgres, Some(phrase)) => {
                    sql.push(" AND e.search_text LIKE ")
                        .bind(like_pattern(&phrase))
                        .push(" ESCAPE '\\'");
                    // PostgreSQL keeps one generic plan per statement (`plan_cache_mode`),
                    // which for a LIKE is the trigram index whatever the pattern: the check
                    // is `strpos`, which the plan cannot take for a second index condition.
                    if check {
                        sql.push(" AND strpos(e.search_text, ").bind(q).push(") > 0");
                    }
                }
                // Read in name order: the name index holds each row's head (migration 0016),
                // so the walk checks the fragment without reading the table; the few rows
                // whose head is too long for the index are checked on their whole text. On
                // PostgreSQL `strpos`, not a LIKE, whose generic plan would read the whole
                // trigram index for a fragment with no rare trigram.
                (backend, None) => {
                    let find = match backend {
                        Backend::Postgres => "strpos",
                        Backend::Sqlite => "instr",
                    };
                    sql.push(&format!(" AND ({find}(e.search_head, "))
                        .bind(q.clone())
                        .push(&format!(
                            ") > 0 OR (e.search_head IS NULL AND e.id IN (SELECT x.id \
                             FROM enterprises x WHERE x.search_head IS NULL \
                             AND {find}(x.search_text, "
                        ))
                        .bind(q)
                        .push(") > 0)))");
                }
            }
        }
    }
}

/// Narrows `units u` to the supervising departments a caller of `scope` may name on an
/// enterprise: those in its subtree and those of the units above it (a district's regulator
/// names its own departments or the city's), never another district's.
pub(crate) fn nameable_departments(sql: &mut Sql, scope: &Scope) {
    sql.push(" AND u.level = 'department'");
    if let Scope::Subtree { root, whole_tree: false } = scope {
        sql.push(" AND (u.id IN (SELECT descendant_id FROM unit_closure WHERE ancestor_id = ")
            .bind(root.clone())
            .push(
                ") OR u.parent_id IN (SELECT ancestor_id FROM unit_closure WHERE descendant_id = ",
            )
            .bind(root.clone())
            .push("))");
    }
}

/// A unit the caller names on a record: it must exist, be in the caller's scope (`in_scope`)
/// or, for a department, be one the caller may name ([`nameable_departments`]).
async fn check_unit(
    tx: &mut Tx,
    scope: Option<&Scope>,
    field: &str,
    unit_id: &str,
    department: bool,
) -> Result<(), StoreError> {
    let row = sqlx::query("SELECT level FROM units WHERE id = $1")
        .bind(unit_id.to_owned())
        .fetch_optional(&mut **tx)
        .await?;
    let Some(row) = row else { return Err(StoreError::invalid(field, "not_found")) };
    let level: String = row.try_get("level")?;
    let is_department = level == UnitLevel::Department.as_str();
    if department != is_department {
        return Err(StoreError::invalid(
            field,
            if department { "not_a_department" } else { "is_a_department" },
        ));
    }
    let Some(scope) = scope else { return Ok(()) };
    let reachable = if department {
        let mut sql = Sql::new("SELECT COUNT(*) AS n FROM units u WHERE u.id = ");
        sql.bind(unit_id.to_owned());
        nameable_departments(&mut sql, scope);
        sql.fetch_one(&mut **tx).await?.try_get::<i64, _>("n")? > 0
    } else {
        scope::contains(&mut **tx, scope, unit_id).await?
    };
    if !reachable {
        return Err(StoreError::invalid(field, "not_found"));
    }
    Ok(())
}

/// The enterprise a row of a cross-enterprise ledger belongs to, as a reader names it.
pub(crate) struct Holder {
    pub enterprise_name: String,
    pub enterprise_uscc: String,
    pub unit_name: String,
}

/// Which rows a cross-enterprise ledger reads: its table, the territory asked for, its order.
pub(crate) struct LedgerOf<'a> {
    pub table: &'a str,
    pub unit_id: Option<&'a str>,
    /// A fragment of the enterprise's name, code or address, found as the register finds it.
    pub q: Option<&'a str>,
    pub order: &'a str,
}

impl Holder {
    fn of(r: &sqlx::any::AnyRow) -> Result<Self, StoreError> {
        Ok(Self {
            enterprise_name: r.try_get("enterprise_name")?,
            enterprise_uscc: r.try_get("enterprise_uscc")?,
            unit_name: r.try_get("unit_name")?,
        })
    }
}

impl Store {
    /// A page of a ledger across the enterprises the caller reaches (licences, risk points,
    /// hazard sources): rows of the ledger's table as `x`, each with its [`Holder`], of
    /// enterprises not closed, in the unit's territory when given, under the ledger's own
    /// conditions (`apply`, which may name `x` and `e`) and in its order.
    pub(crate) async fn enterprise_ledger<T>(
        &self,
        reach: &Reach,
        of: LedgerOf<'_>,
        apply: impl Fn(&mut Sql),
        page: PageRequest,
        row: impl Fn(&sqlx::any::AnyRow, Holder) -> Result<T, StoreError>,
    ) -> Result<Page<T>, StoreError> {
        let LedgerOf { table, unit_id, q, order } = of;
        let search = EnterpriseFilter { q: q.map(str::to_owned), ..EnterpriseFilter::default() };
        let text = self.text_search(q).await?;
        let today = today(self.now());
        let from = format!(
            " FROM {table} x JOIN enterprises e ON e.id = x.enterprise_id \
             JOIN units u ON u.id = e.unit_id WHERE e.status <> 'closed'"
        );
        let conditions = |sql: &mut Sql| {
            if let Some(unit) = unit_id {
                sql.push(
                    " AND e.unit_id IN (SELECT descendant_id FROM unit_closure WHERE ancestor_id = ",
                )
                .bind(unit.to_owned())
                .push(")");
            }
            search.apply(sql, &text, today);
            apply(sql);
            reach.filter(sql);
        };
        let mut count = Sql::new(&format!("SELECT COUNT(*) AS n{from}"));
        conditions(&mut count);
        let total = self.count(count).await?;
        let mut sql = Sql::new(&format!(
            "SELECT x.*, e.name AS enterprise_name, e.uscc AS enterprise_uscc, \
             u.name AS unit_name{from}"
        ));
        conditions(&mut sql);
        sql.push(&format!(" ORDER BY {order} LIMIT "))
            .bind(i64::from(page.per_page))
            .push(" OFFSET ")
            .bind(page.offset());
        let items = sql
            .fetch_all(self.reader())
            .await?
            .iter()
            .map(|r| row(r, Holder::of(r)?))
            .collect::<Result<_, _>>()?;
        Ok(Page { items, total, page: page.page, per_page: page.per_page })
    }
}

impl Store {
    /// The supervising departments the caller may name on an enterprise (the register form's
    /// choices), by name.
    pub async fn nameable_departments(&self, scope: &Scope) -> Result<Vec<UnitName>, StoreError> {
        let mut sql = Sql::new("SELECT u.id, u.name FROM units u WHERE 1 = 1");
        nameable_departments(&mut sql, scope);
        sql.push(" ORDER BY u.sort_order, u.code");
        sql.fetch_all(self.reader())
            .await?
            .iter()
            .map(|r| Ok(UnitName { id: r.try_get("id")?, name: r.try_get("name")? }))
            .collect()
    }

    pub async fn enterprises(
        &self,
        reach: &Reach,
        filter: &EnterpriseFilter,
        page: PageRequest,
    ) -> Result<Page<Enterprise>, StoreError> {
        let text = self.text_search(filter.q.as_deref()).await?.walking(filter.q.as_deref());
        let today = today(self.now());
        let from = format!(" FROM {} WHERE {}", text.from(), text.join());
        let mut count = Sql::new(&format!("SELECT COUNT(*) AS n{from}"));
        filter.apply(&mut count, &text, today);
        reach.filter(&mut count);
        let total = self.count(count).await?;
        // The page's ids first, over the enterprises table alone (its name index gives the
        // order), then the columns and the licence counts of those rows only: with 100,000
        // enterprises, counting licences for every match before sorting was most of the time.
        // One statement: the ids are a materialized `WITH` whose page size is written in, so
        // that PostgreSQL's generic plan expects a page of rows, not a tenth of the register.
        let mut sql = Sql::new(&format!("WITH page AS MATERIALIZED (SELECT e.id{from}"));
        filter.apply(&mut sql, &text, today);
        reach.filter(&mut sql);
        sql.push(&format!(" ORDER BY {} LIMIT {} OFFSET ", text.order(), page.per_page))
            .bind(page.offset())
            .push(") ");
        let rows: Vec<EnterpriseRow> = select_after(sql, Only::Page)
            .fetch_rows(self.backend(), "t.name_order, t.id", self.reader())
            .await?;
        Ok(Page {
            items: rows.into_iter().map(|r| r.into_enterprise(today)).collect::<Result<_, _>>()?,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    /// Every enterprise of a filter, for an export (at most `limit`).
    pub async fn enterprises_all(
        &self,
        reach: &Reach,
        filter: &EnterpriseFilter,
        limit: u32,
    ) -> Result<Vec<Enterprise>, StoreError> {
        let text = self.text_search(filter.q.as_deref()).await?;
        let today = today(self.now());
        let mut sql = select(None);
        filter.apply(&mut sql, &text, today);
        reach.filter(&mut sql);
        sql.push(" ORDER BY e.name, e.id LIMIT ").bind(i64::from(limit));
        let rows: Vec<EnterpriseRow> =
            sql.fetch_rows(self.backend(), "t.name_order, t.id", self.reader()).await?;
        rows.into_iter().map(|r| r.into_enterprise(today)).collect()
    }

    pub async fn enterprise(&self, reach: &Reach, id: &str) -> Result<Enterprise, StoreError> {
        let mut sql = select(Some(&[id.to_owned()]));
        reach.filter(&mut sql);
        let rows: Vec<EnterpriseRow> =
            sql.fetch_rows(self.backend(), "t.id", self.reader()).await?;
        let today = today(self.now());
        rows.into_iter().next().ok_or(StoreError::NotFound)?.into_enterprise(today)
    }

    /// The enterprise's units, when the caller reaches it: what every write under it checks first.
    pub(crate) async fn reached_enterprise(
        &self,
        tx: &mut Tx,
        reach: &Reach,
        id: &str,
    ) -> Result<Reached, StoreError> {
        let mut sql = Sql::new(
            "SELECT e.id, e.unit_id, e.department_id, e.status, e.name \
             FROM enterprises e WHERE e.id = ",
        );
        sql.bind(id.to_owned());
        reach.filter(&mut sql);
        let row = sql.fetch_optional(&mut **tx).await?.ok_or(StoreError::NotFound)?;
        Ok(Reached {
            id: row.try_get("id")?,
            unit_id: row.try_get("unit_id")?,
            department_id: row.try_get("department_id")?,
            status: row.try_get("status")?,
            name: row.try_get("name")?,
        })
    }

    /// Registers an enterprise in a unit of the caller's scope.
    pub async fn create_enterprise(
        &self,
        scope: &Scope,
        actor: &Actor,
        write: EnterpriseWrite,
    ) -> Result<Enterprise, StoreError> {
        let (uscc, write) = write.validate().map_err(StoreError::Invalid)?;
        let now = self.now();
        let mut tx = self.begin().await?;
        check_unit(&mut tx, Some(scope), "unit_id", &write.unit_id, false).await?;
        if let Some(d) = &write.department_id {
            check_unit(&mut tx, Some(scope), "department_id", d, true).await?;
        }
        if code_taken(&mut tx, uscc.as_str(), None).await? {
            return Err(StoreError::invalid("uscc", "already_exists"));
        }
        let id = new_id();
        let new = [(id.clone(), write)];
        insert_enterprises(&mut tx, now, &new).await?;
        let [(_, write)] = new;
        timeline::append(
            &mut tx,
            now,
            actor,
            ("enterprise", &id),
            Some(&write.unit_id),
            "registered",
            json!({ "uscc": write.uscc, "name": write.name }),
        )
        .await?;
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "enterprise.created", Outcome::Success)
                .target("enterprise", &id)
                .unit(Some(&write.unit_id))
                .detail(json!({ "uscc": write.uscc, "name": write.name })),
        )
        .await?;
        announce(
            &mut tx,
            now,
            "enterprise.created",
            &id,
            &write.unit_id,
            write.department_id.as_deref(),
        )
        .await?;
        tx.commit().await?;
        self.enterprise(&Reach::Scope(Scope::Global), &id).await
    }

    /// Rewrites an enterprise's register data. A regulator's change applies at once; the
    /// enterprise's own change to its identity (code, name, unit) waits for the regulator and
    /// the rest applies. Returns the enterprise and the change that waits, if any.
    pub async fn update_enterprise(
        &self,
        reach: &Reach,
        scope: &Scope,
        actor: &Actor,
        id: &str,
        write: EnterpriseWrite,
    ) -> Result<(Enterprise, Option<EnterpriseChange>), StoreError> {
        let now = self.now();
        let before = self.enterprise(reach, id).await?;
        let (uscc, mut write) = write.validate().map_err(StoreError::Invalid)?;
        if before.status == "closed" {
            return Err(StoreError::Conflict("enterprise_closed"));
        }
        if let Some(v) = write.version
            && v != before.version
        {
            return Err(StoreError::Conflict("stale_version"));
        }
        let mut tx = self.begin().await?;
        let mut waiting = None;
        if reach.is_own() {
            // Identity fields wait; the department and marks are the regulator's.
            let asked = identity_diff(&before, &write);
            write.uscc = before.uscc.clone();
            write.name = before.name.clone();
            write.unit_id = before.unit.id.clone();
            write.department_id = before.department.as_ref().map(|d| d.id.clone());
            write.marks = before.marks.clone();
            if !asked.is_empty() {
                if asked.contains_key("uscc")
                    && code_taken(&mut tx, uscc.as_str(), Some(id)).await?
                {
                    return Err(StoreError::invalid("uscc", "already_exists"));
                }
                if let Some(unit) = asked.get("unit_id").and_then(Value::as_str) {
                    check_unit(&mut tx, None, "unit_id", unit, false).await?;
                }
                waiting = Some(change::request(&mut tx, now, actor, &before, asked).await?);
            }
        } else {
            if write.unit_id != before.unit.id {
                check_unit(&mut tx, Some(scope), "unit_id", &write.unit_id, false).await?;
            }
            if write.department_id != before.department.as_ref().map(|d| d.id.clone())
                && let Some(d) = &write.department_id
            {
                check_unit(&mut tx, Some(scope), "department_id", d, true).await?;
            }
            if uscc.as_str() != before.uscc && code_taken(&mut tx, uscc.as_str(), Some(id)).await? {
                return Err(StoreError::invalid("uscc", "already_exists"));
            }
        }
        let diff = register_diff(&before, &write);
        if !diff.is_empty() {
            update_row(&mut tx, now, id, &write).await?;
            timeline::append(
                &mut tx,
                now,
                actor,
                ("enterprise", id),
                Some(&write.unit_id),
                "updated",
                Value::Object(diff.clone()),
            )
            .await?;
            audit::append(
                &mut tx,
                now,
                NewAuditRecord::new(actor, "enterprise.updated", Outcome::Success)
                    .target("enterprise", id)
                    .unit(Some(&write.unit_id))
                    .detail(Value::Object(diff)),
            )
            .await?;
            announce(
                &mut tx,
                now,
                "enterprise.updated",
                id,
                &write.unit_id,
                write.department_id.as_deref(),
            )
            .await?;
        }
        tx.commit().await?;
        Ok((self.enterprise(reach, id).await?, waiting))
    }

    /// Closes an enterprise (it stopped trading or was shut down); the record stays.
    pub async fn set_enterprise_status(
        &self,
        reach: &Reach,
        actor: &Actor,
        id: &str,
        status: &str,
        reason: &str,
    ) -> Result<Enterprise, StoreError> {
        if !STATUSES.contains(&status) {
            return Err(StoreError::invalid("status", "unknown"));
        }
        let reason = plain_text(reason, 500).map_err(|c| StoreError::invalid("reason", c))?;
        let now = self.now();
        let mut tx = self.begin().await?;
        let e = self.reached_enterprise(&mut tx, reach, id).await?;
        if e.status == status {
            return Err(StoreError::Conflict("status_unchanged"));
        }
        sqlx::query(
            "UPDATE enterprises SET status = $1, version = version + 1, updated_at = $2 WHERE id = $3",
        )
        .bind(status.to_owned())
        .bind(to_millis(now))
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await?;
        let detail = json!({ "status": { "before": e.status, "after": status }, "reason": reason });
        timeline::append(
            &mut tx,
            now,
            actor,
            ("enterprise", id),
            Some(&e.unit_id),
            "status",
            detail.clone(),
        )
        .await?;
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "enterprise.status_changed", Outcome::Success)
                .target("enterprise", id)
                .unit(Some(&e.unit_id))
                .detail(detail),
        )
        .await?;
        announce(&mut tx, now, "enterprise.updated", id, &e.unit_id, e.department_id.as_deref())
            .await?;
        tx.commit().await?;
        self.enterprise(reach, id).await
    }

    /// The enterprise's history (registration, every change, licences, risk points), oldest
    /// first.
    pub async fn enterprise_history(
        &self,
        reach: &Reach,
        id: &str,
    ) -> Result<Vec<TimelineEntry>, StoreError> {
        self.enterprise(reach, id).await?;
        self.timeline("enterprise", id).await
    }

    /// Ties an `enterprise` account to one enterprise (or frees it): the township or district
    /// administrator's act. Both must be in the administrator's scope.
    pub async fn bind_enterprise_account(
        &self,
        scope: &Scope,
        actor: &Actor,
        user_id: &str,
        enterprise_id: Option<&str>,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let mut sql = Sql::new("SELECT id, unit_id, roles FROM users u WHERE u.id = ");
        sql.bind(user_id.to_owned());
        scope::filter(&mut sql, scope, "u.unit_id");
        let user = sql.fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound)?;
        let roles = crate::org::roles_column(&user)?;
        if !roles.contains(&beacon_core::org::Role::Enterprise) {
            return Err(StoreError::invalid("user_id", "not_an_enterprise_account"));
        }
        let unit_id: String = user.try_get("unit_id")?;
        let mut name = None;
        if let Some(e) = enterprise_id {
            let reached = self
                .reached_enterprise(&mut tx, &Reach::Scope(scope.clone()), e)
                .await
                .map_err(|err| match err {
                StoreError::NotFound => StoreError::invalid("enterprise_id", "not_found"),
                other => other,
            })?;
            name = Some(reached.name);
        }
        sqlx::query("UPDATE users SET enterprise_id = $1, updated_at = $2 WHERE id = $3")
            .bind(enterprise_id.map(str::to_owned))
            .bind(to_millis(now))
            .bind(user_id.to_owned())
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "user.enterprise_bound", Outcome::Success)
                .target("user", user_id)
                .unit(Some(&unit_id))
                .detail(json!({ "enterprise_id": enterprise_id, "enterprise_name": name })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The enterprise an account is bound to.
    pub async fn account_enterprise(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT enterprise_id FROM users WHERE id = $1")
            .bind(user_id.to_owned())
            .fetch_optional(self.reader())
            .await?;
        Ok(match row {
            Some(r) => r.try_get("enterprise_id")?,
            None => None,
        })
    }

    /// Names of enterprises for the audit page and the search: the code as the number.
    pub async fn enterprise_names(
        &self,
        ids: &[String],
    ) -> Result<Vec<crate::names::RecordName>, StoreError> {
        crate::names::fetch(
            self,
            "SELECT id, unit_id, uscc AS number, name AS title, NULL AS at FROM enterprises \
             WHERE id IN (",
            ids,
        )
        .await
    }
}

/// What a write under an enterprise needs to know about it.
#[derive(Debug, Clone)]
pub(crate) struct Reached {
    pub id: String,
    pub unit_id: String,
    pub department_id: Option<String>,
    pub status: String,
    pub name: String,
}

/// The enterprise an imported row names by its credit code, when the caller reaches it and it
/// is not closed; the code's own
/// problem otherwise (`not_found` also for one outside the reach: it is not told apart).
pub(crate) async fn enterprise_by_code(
    tx: &mut Tx,
    reach: &Reach,
    code: &str,
) -> Result<Result<Reached, (String, String)>, StoreError> {
    let uscc = match Uscc::parse(code) {
        Ok(u) => u,
        Err(c) => return Ok(Err(("uscc".to_owned(), c.to_owned()))),
    };
    let mut sql = Sql::new(
        "SELECT e.id, e.unit_id, e.department_id, e.status, e.name FROM enterprises e WHERE e.uscc = ",
    );
    sql.bind(uscc.as_str().to_owned());
    reach.filter(&mut sql);
    let Some(row) = sql.fetch_optional(&mut **tx).await? else {
        return Ok(Err(("uscc".to_owned(), "not_found".to_owned())));
    };
    let e = Reached {
        id: row.try_get("id")?,
        unit_id: row.try_get("unit_id")?,
        department_id: row.try_get("department_id")?,
        status: row.try_get("status")?,
        name: row.try_get("name")?,
    };
    if e.status == "closed" {
        return Ok(Err(("uscc".to_owned(), "enterprise_closed".to_owned())));
    }
    Ok(Ok(e))
}

async fn code_taken(tx: &mut Tx, uscc: &str, except: Option<&str>) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT id FROM enterprises WHERE uscc = $1")
        .bind(uscc.to_owned())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match row {
        Some(r) => except != Some(r.try_get::<String, _>("id")?.as_str()),
        None => false,
    })
}

fn json_list(list: &[String]) -> String {
    serde_json::to_string(list).unwrap_or_else(|_| "[]".to_owned())
}

/// The register's columns an insert writes, in the order of [`insert_enterprises`]' values.
const INSERT_COLUMNS: [&str; 27] = [
    "id",
    "uscc",
    "name",
    "former_names",
    "legal_representative",
    "safety_principal",
    "safety_phone",
    "address",
    "lon",
    "lat",
    "unit_id",
    "department_id",
    "section",
    "sector",
    "employees",
    "designated_size",
    "status",
    "standard_grade",
    "standard_expires",
    "marks",
    "tags",
    "colour",
    "search_text",
    "search_head",
    "version",
    "created_at",
    "updated_at",
];

/// Inserts new enterprises, each with its id, with multi-row inserts (an import writes a
/// thousand at a time).
pub(crate) async fn insert_enterprises(
    tx: &mut Tx,
    now: DateTime<Utc>,
    new: &[(String, EnterpriseWrite)],
) -> Result<(), StoreError> {
    let at = to_millis(now);
    let rows = new
        .iter()
        .map(|(id, w)| {
            let search = w.search_text();
            vec![
                Val::Text(id.clone()),
                Val::Text(w.uscc.clone()),
                Val::Text(w.name.clone()),
                Val::Text(json_list(&w.former_names)),
                Val::Text(w.legal_representative.clone()),
                Val::Text(w.safety_principal.clone()),
                Val::Text(w.safety_phone.clone()),
                Val::Text(w.address.clone()),
                Val::MaybeFloat(w.lon),
                Val::MaybeFloat(w.lat),
                Val::Text(w.unit_id.clone()),
                Val::MaybeText(w.department_id.clone()),
                Val::Text(w.section.clone()),
                Val::Text(w.sector.clone()),
                Val::Int(i64::from(w.employees)),
                Val::Bool(w.designated_size),
                Val::Text(w.status.clone()),
                Val::MaybeText(w.standard_grade.clone()),
                Val::MaybeText(w.standard_expires.map(iso)),
                Val::Text(json_list(&w.marks)),
                Val::Text(json_list(&w.tags)),
                Val::MaybeText(None),
                Val::Text(search.text),
                Val::MaybeText(search.head),
                Val::Int(1),
                Val::Int(at),
                Val::Int(at),
            ]
        })
        .collect();
    let backend = crate::db::backend_of(tx);
    insert_batch(tx, backend, "enterprises", &INSERT_COLUMNS, rows).await?;
    Ok(())
}

pub(crate) async fn update_row(
    tx: &mut Tx,
    now: DateTime<Utc>,
    id: &str,
    w: &EnterpriseWrite,
) -> Result<(), StoreError> {
    let search = w.search_text();
    sqlx::query(
        "UPDATE enterprises SET uscc = $1, name = $2, former_names = $3, \
         legal_representative = $4, safety_principal = $5, safety_phone = $6, address = $7, \
         lon = $8, lat = $9, unit_id = $10, department_id = $11, section = $12, sector = $13, \
         employees = $14, designated_size = $15, status = $16, standard_grade = $17, \
         standard_expires = $18, marks = $19, tags = $20, search_text = $21, search_head = $22, \
         version = version + 1, updated_at = $23 WHERE id = $24",
    )
    .bind(w.uscc.clone())
    .bind(w.name.clone())
    .bind(json_list(&w.former_names))
    .bind(w.legal_representative.clone())
    .bind(w.safety_principal.clone())
    .bind(w.safety_phone.clone())
    .bind(w.address.clone())
    .bind(w.lon)
    .bind(w.lat)
    .bind(w.unit_id.clone())
    .bind(w.department_id.clone())
    .bind(w.section.clone())
    .bind(w.sector.clone())
    .bind(i64::from(w.employees))
    .bind(w.designated_size)
    .bind(w.status.clone())
    .bind(w.standard_grade.clone())
    .bind(w.standard_expires.map(iso))
    .bind(json_list(&w.marks))
    .bind(json_list(&w.tags))
    .bind(search.text)
    .bind(search.head)
    .bind(to_millis(now))
    .bind(id.to_owned())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The identity fields an enterprise asks to change: field → new value.
fn identity_diff(before: &Enterprise, w: &EnterpriseWrite) -> serde_json::Map<String, Value> {
    let mut asked = serde_json::Map::new();
    if w.uscc != before.uscc {
        asked.insert("uscc".into(), json!(w.uscc));
    }
    if w.name != before.name {
        asked.insert("name".into(), json!(w.name));
    }
    if w.unit_id != before.unit.id {
        asked.insert("unit_id".into(), json!(w.unit_id));
    }
    asked
}

/// Field → {before, after} for every register field that changes.
fn register_diff(before: &Enterprise, w: &EnterpriseWrite) -> serde_json::Map<String, Value> {
    let mut diff = serde_json::Map::new();
    let mut pair = |field: &str, old: Value, new: Value| {
        if old != new {
            diff.insert(field.to_owned(), json!({ "before": old, "after": new }));
        }
    };
    pair("uscc", json!(before.uscc), json!(w.uscc));
    pair("name", json!(before.name), json!(w.name));
    pair("former_names", json!(before.former_names), json!(w.former_names));
    pair("legal_representative", json!(before.legal_representative), json!(w.legal_representative));
    pair("safety_principal", json!(before.safety_principal), json!(w.safety_principal));
    pair("safety_phone", json!(before.safety_phone), json!(w.safety_phone));
    pair("address", json!(before.address), json!(w.address));
    pair("lon", json!(before.lon), json!(w.lon));
    pair("lat", json!(before.lat), json!(w.lat));
    pair("unit_id", json!(before.unit.id), json!(w.unit_id));
    pair("department_id", json!(before.department.as_ref().map(|d| &d.id)), json!(w.department_id));
    pair("section", json!(before.section), json!(w.section));
    pair("sector", json!(before.sector), json!(w.sector));
    pair("employees", json!(before.employees), json!(w.employees));
    pair("designated_size", json!(before.designated_size), json!(w.designated_size));
    pair("status", json!(before.status), json!(w.status));
    pair("standard_grade", json!(before.standard_grade), json!(w.standard_grade));
    pair("standard_expires", json!(before.standard_expires), json!(w.standard_expires));
    pair("marks", json!(before.marks), json!(w.marks));
    pair("tags", json!(before.tags), json!(w.tags));
    diff
}

/// Tells the enterprise's readers (the territory's and the department's) that it changed. Only
/// holders of [`Permission::ReadEnterprises`] hear it: enterprise accounts do not read the
/// register, so they hear nothing of their neighbours.
async fn announce(
    tx: &mut Tx,
    now: DateTime<Utc>,
    kind: &str,
    id: &str,
    unit_id: &str,
    department_id: Option<&str>,
) -> Result<(), StoreError> {
    announce_for_enterprise(tx, now, kind, json!({ "id": id }), unit_id, department_id).await
}

/// Tells the readers of an enterprise's records (its territory's and its department's holders
/// of [`Permission::ReadEnterprises`]) that one changed: the register's own records and the
/// modules' that hang on an enterprise (a hidden danger, an inspection). `data` names the
/// record by its id and number, never by what is in it.
pub(crate) async fn announce_for_enterprise(
    tx: &mut Tx,
    now: DateTime<Utc>,
    kind: &str,
    data: serde_json::Value,
    unit_id: &str,
    department_id: Option<&str>,
) -> Result<(), StoreError> {
    let mut units = vec![unit_id];
    units.extend(department_id);
    outbox::announce_to_units(tx, now, &units, |path| {
        NewEvent::new(kind, path, data).for_readers(Permission::ReadEnterprises)
    })
    .await
}

/// The timeline entry on the enterprise and its audit record (`enterprise.<entry>`) for a change
/// to something it holds (a licence, a risk point), whose id the entry names under `child.0`.
pub(crate) async fn record_under(
    tx: &mut Tx,
    now: DateTime<Utc>,
    actor: &Actor,
    e: &Reached,
    entry: &str,
    child: (&str, &str),
    detail: Value,
) -> Result<(), StoreError> {
    let mut data = detail.clone();
    data[child.0] = json!(child.1);
    timeline::append(tx, now, actor, ("enterprise", &e.id), Some(&e.unit_id), entry, data).await?;
    audit::append(
        tx,
        now,
        NewAuditRecord::new(actor, &format!("enterprise.{entry}"), Outcome::Success)
            .target("enterprise", &e.id)
            .unit(Some(&e.unit_id))
            .detail(detail),
    )
    .await?;
    Ok(())
}

/// Recomputes an enterprise's colour from its risk points in use.
pub(crate) async fn refresh_colour(tx: &mut Tx, enterprise_id: &str) -> Result<(), StoreError> {
    let rows = sqlx::query(
        "SELECT DISTINCT colour FROM risk_points WHERE enterprise_id = $1 AND retired = $2",
    )
    .bind(enterprise_id.to_owned())
    .bind(false)
    .fetch_all(&mut **tx)
    .await?;
    let mut highest: Option<RiskColour> = None;
    for r in rows {
        let c: String = r.try_get("colour")?;
        let c = RiskColour::parse(&c).ok_or_else(|| StoreError::corrupt(format!("colour {c}")))?;
        highest = highest.max(Some(c));
    }
    sqlx::query("UPDATE enterprises SET colour = $1 WHERE id = $2")
        .bind(highest.map(|c| c.as_str().to_owned()))
        .bind(enterprise_id.to_owned())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The kinds of the register's records that take attachments.
pub const ATTACHMENT_OWNERS: [&str; 4] = ["enterprise", "licence", "risk_point", "hazard_source"];

impl Store {
    /// A record of the register that files are attached to (`kind` one of
    /// [`ATTACHMENT_OWNERS`]), when the caller reaches its enterprise; not found otherwise. Its
    /// files tell their story on the enterprise's timeline; a closed enterprise takes no new
    /// files.
    pub async fn attachment_owner(
        &self,
        reach: &Reach,
        kind: &str,
        id: &str,
    ) -> Result<crate::attachment::Owner, StoreError> {
        let table = match kind {
            "enterprise" => None,
            "licence" => Some("enterprise_licences"),
            "risk_point" => Some("risk_points"),
            "hazard_source" => Some("hazard_sources"),
            _ => return Err(StoreError::NotFound),
        };
        let mut sql = match table {
            None => Sql::new("SELECT e.id, e.unit_id, e.status FROM enterprises e WHERE e.id = "),
            Some(table) => Sql::new(&format!(
                "SELECT e.id, e.unit_id, e.status FROM {table} x \
                 JOIN enterprises e ON e.id = x.enterprise_id WHERE x.id = "
            )),
        };
        sql.bind(id.to_owned());
        reach.filter(&mut sql);
        let row = sql.fetch_optional(self.reader()).await?.ok_or(StoreError::NotFound)?;
        let enterprise: String = row.try_get("id")?;
        let status: String = row.try_get("status")?;
        Ok(crate::attachment::Owner {
            kind: kind.to_owned(),
            id: id.to_owned(),
            unit_id: row.try_get("unit_id")?,
            timeline: ("enterprise".to_owned(), enterprise),
            frozen: (status == "closed").then_some("enterprise_closed"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licences_are_counted_on_the_readers_day() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        assert_eq!(licence_counts("", today).unwrap(), (0, 0));
        // Past the day before, within 90 days from the day itself, not from the 90th day on.
        let expiries = "2026-12-06,2026-12-07,2027-03-06,2027-03-07";
        assert_eq!(licence_counts(expiries, today).unwrap(), (1, 2));
        assert!(licence_counts("2026-13-01", today).is_err());
    }
}
