//! Risk points (风险点) and their evaluations, the colour cut-offs, and the four-colour map. A
//! point's colour follows from its evaluation (LEC: D = L·E·C against the cut-offs); an
//! enterprise's is the highest of its points in use; every evaluation is kept.

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::enterprise::risk::{ACCIDENT_TYPES, CONTROL_LEVELS, METHODS};
use beacon_core::enterprise::{Lec, LecCutoffs, RiskColour, reference};
use beacon_core::error::ValidationErrors;
use beacon_core::id::new_id;
use beacon_core::text::{free_text, plain_text};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use utoipa::ToSchema;

use super::{
    EnterpriseFilter, LedgerOf, Reach, Reached, date_of, iso, record_under, refresh_colour, today,
};
use crate::sql::Sql;
use crate::{Page, Store, StoreError, Tx, audit, settings};
use beacon_core::page::PageRequest;

const CUTOFFS_KEY: &str = "enterprise.lec_cutoffs";

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RiskPointWrite {
    /// The place or installation (储罐区, 配电室…).
    pub name: String,
    #[serde(default)]
    pub place: String,
    /// GB 6441 accident types this point may cause.
    pub accident_types: Vec<String>,
    /// `lec` (the only method computed today).
    #[serde(default = "lec")]
    pub method: String,
    pub l: f64,
    pub e: f64,
    pub c: f64,
    /// Control measures (管控措施).
    #[serde(default)]
    pub measures: String,
    /// `company`, `workshop`, `team` or `post`.
    pub control_level: String,
    #[serde(default)]
    pub responsible_person: String,
    pub next_review: Option<NaiveDate>,
    /// On update: the version read.
    #[serde(default)]
    pub version: Option<i64>,
}

fn lec() -> String {
    "lec".to_owned()
}

impl RiskPointWrite {
    pub fn validate(mut self) -> Result<(Lec, Self), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        match plain_text(&self.name, 128) {
            Ok(v) => self.name = v,
            Err(code) => errors.add("name", code),
        }
        let mut text = |field: &str, value: &mut String, max: usize| match free_text(value, max) {
            Ok(v) => *value = v,
            Err(code) => errors.add(field, code),
        };
        text("place", &mut self.place, 256);
        text("measures", &mut self.measures, 4000);
        text("responsible_person", &mut self.responsible_person, 64);
        let mut types = Vec::new();
        for (i, t) in self.accident_types.iter().enumerate() {
            match reference(&ACCIDENT_TYPES, t) {
                Some(code) if !types.contains(&code.to_owned()) => types.push(code.to_owned()),
                Some(_) => {}
                None => errors.add(format!("accident_types[{i}]"), "unknown"),
            }
        }
        if self.accident_types.is_empty() {
            errors.add("accident_types", "required");
        }
        self.accident_types = types;
        if !METHODS.contains(&self.method.as_str()) {
            errors.add("method", "unknown");
        }
        match reference(&CONTROL_LEVELS, &self.control_level) {
            Some(code) => self.control_level = code.to_owned(),
            None => errors.add("control_level", "unknown"),
        }
        let lec = match Lec::new(self.l, self.e, self.c) {
            Ok(lec) => Some(lec),
            Err(list) => {
                for (field, code) in list {
                    errors.add(field, code);
                }
                None
            }
        };
        match (errors.into_result(), lec) {
            (Ok(()), Some(lec)) => Ok((lec, self)),
            (Err(errors), _) => Err(errors),
            (Ok(()), None) => Err(ValidationErrors::single("l", "not_on_scale")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RiskPoint {
    pub id: String,
    pub enterprise_id: String,
    pub name: String,
    pub place: String,
    pub accident_types: Vec<String>,
    pub method: String,
    pub l: f64,
    pub e: f64,
    pub c: f64,
    pub d: f64,
    pub colour: RiskColour,
    pub measures: String,
    pub control_level: String,
    pub responsible_person: String,
    pub next_review: Option<NaiveDate>,
    /// The review date has passed.
    pub review_overdue: bool,
    pub retired: bool,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Evaluation {
    pub method: String,
    pub l: f64,
    pub e: f64,
    pub c: f64,
    pub d: f64,
    pub colour: RiskColour,
    pub evaluated_by: String,
    pub evaluated_at: DateTime<Utc>,
}

/// A row of the risk-point ledger: the point and its enterprise.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RiskPointLedgerRow {
    #[serde(flatten)]
    pub point: RiskPoint,
    pub enterprise_name: String,
    pub enterprise_uscc: String,
    pub unit_name: String,
}

/// Filters of the risk-point ledger (points in use of enterprises not closed).
#[derive(Debug, Clone, Default)]
pub struct RiskPointFilter {
    pub unit_id: Option<String>,
    pub colour: Option<RiskColour>,
    /// `company`, `workshop`, `team` or `post`.
    pub control_level: Option<String>,
    /// Only those whose review date has passed.
    pub review_overdue: bool,
    /// A fragment of the enterprise's name, code or address.
    pub q: Option<String>,
}

fn colour_of(text: &str) -> Result<RiskColour, StoreError> {
    RiskColour::parse(text).ok_or_else(|| StoreError::corrupt(format!("colour {text}")))
}

pub(super) fn point_of(r: &sqlx::any::AnyRow, today: NaiveDate) -> Result<RiskPoint, StoreError> {
    let types: String = r.try_get("accident_types")?;
    let colour: String = r.try_get("colour")?;
    let review: Option<String> = r.try_get("next_review")?;
    let next_review = date_of(review.as_deref())?;
    let retired = crate::sql::get_bool(r, "retired")?;
    Ok(RiskPoint {
        id: r.try_get("id")?,
        enterprise_id: r.try_get("enterprise_id")?,
        name: r.try_get("name")?,
        place: r.try_get("place")?,
        accident_types: serde_json::from_str(&types).map_err(StoreError::corrupt)?,
        method: r.try_get("method")?,
        l: r.try_get("l_value")?,
        e: r.try_get("e_value")?,
        c: r.try_get("c_value")?,
        d: r.try_get("d_value")?,
        colour: colour_of(&colour)?,
        measures: r.try_get("measures")?,
        control_level: r.try_get("control_level")?,
        responsible_person: r.try_get("responsible_person")?,
        review_overdue: !retired && next_review.is_some_and(|d| d < today),
        next_review,
        retired,
        version: r.try_get("version")?,
        created_at: from_millis(r.try_get("created_at")?),
        updated_at: from_millis(r.try_get("updated_at")?),
    })
}

/// An enterprise on the four-colour map.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RiskMapPoint {
    pub id: String,
    pub name: String,
    pub lon: f64,
    pub lat: f64,
    /// None before its first risk point.
    pub colour: Option<RiskColour>,
    pub sector: String,
}

/// What part of the map the client shows: a box in WGS 84 and Leaflet's zoom level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Viewport {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
    pub zoom: f64,
    /// Located enterprises in the box beyond which clusters are answered
    /// ([`MAP_POINT_LIMIT`] through the API).
    pub point_limit: i64,
}

impl Viewport {
    /// The side of a cluster's grid cell in degrees: about 64 screen pixels at this zoom
    /// (a 256-pixel tile spans 360 / 2^zoom degrees of longitude).
    pub fn cell(&self) -> f64 {
        90.0 / 2f64.powf(self.zoom.clamp(0.0, 22.0))
    }
}

/// Enterprises close together on the screen, drawn as one marker with their count by colour.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RiskMapCluster {
    /// Where the marker goes: the mean of its enterprises' points.
    pub lon: f64,
    pub lat: f64,
    pub count: i64,
    pub red: i64,
    pub orange: i64,
    pub yellow: i64,
    pub blue: i64,
    pub none: i64,
}

/// Located enterprises in a viewport beyond which the map gets clusters instead of points.
pub const MAP_POINT_LIMIT: i64 = 2_000;

/// Enterprises of a unit's territory by colour (the choropleth).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RiskMapUnit {
    pub unit_id: String,
    pub unit_name: String,
    pub red: i64,
    pub orange: i64,
    pub yellow: i64,
    pub blue: i64,
    /// Without any risk point yet.
    pub none: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RiskMap {
    /// The enterprises themselves: all of the filter, or those in the viewport when there are
    /// at most [`MAP_POINT_LIMIT`] of them.
    pub points: Vec<RiskMapPoint>,
    /// Instead of points, when a viewport holds more than [`MAP_POINT_LIMIT`].
    pub clusters: Vec<RiskMapCluster>,
    /// Enterprises of the filter without a location (not on the map).
    pub unlocated: i64,
    /// The units under `of`, each with its counts by colour.
    pub units: Vec<RiskMapUnit>,
    pub cutoffs: LecCutoffs,
}

async fn insert_evaluation(
    tx: &mut Tx,
    now: DateTime<Utc>,
    actor: &Actor,
    point_id: &str,
    method: &str,
    lec: &Lec,
    colour: RiskColour,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO risk_evaluations (id, risk_point_id, method, l_value, e_value, c_value, \
         d_value, colour, evaluated_by, evaluated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(new_id())
    .bind(point_id.to_owned())
    .bind(method.to_owned())
    .bind(lec.l)
    .bind(lec.e)
    .bind(lec.c)
    .bind(lec.d())
    .bind(colour.as_str())
    .bind(actor.name.clone())
    .bind(to_millis(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// The colour cut-offs in force.
    pub async fn lec_cutoffs(&self) -> Result<LecCutoffs, StoreError> {
        settings::read(self.reader(), CUTOFFS_KEY).await
    }

    /// Sets the cut-offs and recolours every risk point and enterprise in the same transaction.
    pub async fn set_lec_cutoffs(
        &self,
        actor: &Actor,
        cutoffs: LecCutoffs,
    ) -> Result<LecCutoffs, StoreError> {
        let cutoffs = cutoffs.validate().map_err(|c| StoreError::invalid("cutoffs", c))?;
        let now = self.now();
        let mut tx = self.begin().await?;
        let before: LecCutoffs = settings::read(&mut *tx, CUTOFFS_KEY).await?;
        settings::write(&mut tx, now, CUTOFFS_KEY, &cutoffs).await?;
        let mut sql = Sql::new("UPDATE risk_points SET colour = CASE WHEN d_value >= ");
        sql.bind(cutoffs.red)
            .push(" THEN 'red' WHEN d_value >= ")
            .bind(cutoffs.orange)
            .push(" THEN 'orange' WHEN d_value >= ")
            .bind(cutoffs.yellow)
            .push(" THEN 'yellow' ELSE 'blue' END");
        sql.execute(&mut *tx).await?;
        let mut recolour = String::from("UPDATE enterprises SET colour = CASE");
        for colour in RiskColour::ALL {
            recolour.push_str(&format!(
                " WHEN EXISTS (SELECT 1 FROM risk_points p WHERE p.enterprise_id = enterprises.id \
                 AND p.retired = $1 AND p.colour = '{}') THEN '{}'",
                colour.as_str(),
                colour.as_str()
            ));
        }
        recolour.push_str(" ELSE NULL END");
        sqlx::query(&recolour).bind(false).execute(&mut *tx).await?;
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "enterprise.cutoffs_changed", Outcome::Success)
                .target("setting", CUTOFFS_KEY)
                .detail(json!({ "before": before, "after": cutoffs })),
        )
        .await?;
        tx.commit().await?;
        Ok(cutoffs)
    }

    pub async fn risk_points(
        &self,
        reach: &Reach,
        enterprise_id: &str,
    ) -> Result<Vec<RiskPoint>, StoreError> {
        self.enterprise(reach, enterprise_id).await?;
        let today = today(self.now());
        let rows = sqlx::query(
            "SELECT * FROM risk_points WHERE enterprise_id = $1 ORDER BY retired, d_value DESC, id \
             LIMIT 2000",
        )
        .bind(enterprise_id.to_owned())
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(|r| point_of(r, today)).collect()
    }

    /// Risk points across the enterprises the caller reaches, the most severe first: the
    /// district's red and orange points, and the reviews that are late.
    pub async fn risk_point_ledger(
        &self,
        reach: &Reach,
        filter: &RiskPointFilter,
        page: PageRequest,
    ) -> Result<Page<RiskPointLedgerRow>, StoreError> {
        let today = today(self.now());
        let apply = |sql: &mut Sql| {
            sql.push(" AND x.retired = ").bind(false);
            if let Some(colour) = filter.colour {
                sql.push(" AND x.colour = ").bind(colour.as_str().to_owned());
            }
            if let Some(level) = &filter.control_level {
                sql.push(" AND x.control_level = ").bind(level.clone());
            }
            if filter.review_overdue {
                sql.push(" AND x.next_review < ").bind(iso(today));
            }
        };
        self.enterprise_ledger(
            reach,
            LedgerOf {
                table: "risk_points",
                unit_id: filter.unit_id.as_deref(),
                q: filter.q.as_deref(),
                order: "x.d_value DESC, e.name, x.id",
            },
            apply,
            page,
            |r, holder| {
                Ok(RiskPointLedgerRow {
                    point: point_of(r, today)?,
                    enterprise_name: holder.enterprise_name,
                    enterprise_uscc: holder.enterprise_uscc,
                    unit_name: holder.unit_name,
                })
            },
        )
        .await
    }

    pub async fn risk_evaluations(
        &self,
        reach: &Reach,
        enterprise_id: &str,
        point_id: &str,
    ) -> Result<Vec<Evaluation>, StoreError> {
        self.enterprise(reach, enterprise_id).await?;
        let rows = sqlx::query(
            "SELECT v.* FROM risk_evaluations v JOIN risk_points p ON p.id = v.risk_point_id \
             WHERE p.id = $1 AND p.enterprise_id = $2 ORDER BY v.evaluated_at DESC, v.id LIMIT 500",
        )
        .bind(point_id.to_owned())
        .bind(enterprise_id.to_owned())
        .fetch_all(self.reader())
        .await?;
        if rows.is_empty() {
            // Every point has its first evaluation: none means no such point here.
            return Err(StoreError::NotFound);
        }
        rows.iter()
            .map(|r| {
                let colour: String = r.try_get("colour")?;
                Ok(Evaluation {
                    method: r.try_get("method")?,
                    l: r.try_get("l_value")?,
                    e: r.try_get("e_value")?,
                    c: r.try_get("c_value")?,
                    d: r.try_get("d_value")?,
                    colour: colour_of(&colour)?,
                    evaluated_by: r.try_get("evaluated_by")?,
                    evaluated_at: from_millis(r.try_get("evaluated_at")?),
                })
            })
            .collect()
    }

    pub async fn create_risk_point(
        &self,
        reach: &Reach,
        actor: &Actor,
        enterprise_id: &str,
        write: RiskPointWrite,
    ) -> Result<RiskPoint, StoreError> {
        let (lec, write) = write.validate().map_err(StoreError::Invalid)?;
        let now = self.now();
        let mut tx = self.begin().await?;
        let e = self.reached_enterprise(&mut tx, reach, enterprise_id).await?;
        if e.status == "closed" {
            return Err(StoreError::Conflict("enterprise_closed"));
        }
        let id = add_risk_point(&mut tx, now, actor, &e, &lec, &write).await?;
        tx.commit().await?;
        self.risk_point(self.reader(), enterprise_id, &id).await
    }

    /// Rewrites a risk point; new L, E or C values are a re-evaluation, kept with the others.
    pub async fn update_risk_point(
        &self,
        reach: &Reach,
        actor: &Actor,
        enterprise_id: &str,
        id: &str,
        write: RiskPointWrite,
    ) -> Result<RiskPoint, StoreError> {
        let (lec, write) = write.validate().map_err(StoreError::Invalid)?;
        let now = self.now();
        let mut tx = self.begin().await?;
        let e = self.reached_enterprise(&mut tx, reach, enterprise_id).await?;
        let before = self.risk_point(&mut *tx, enterprise_id, id).await?;
        if before.retired {
            return Err(StoreError::Conflict("risk_point_retired"));
        }
        if let Some(v) = write.version
            && v != before.version
        {
            return Err(StoreError::Conflict("stale_version"));
        }
        change_risk_point(&mut tx, now, actor, &e, id, &before, &lec, &write).await?;
        tx.commit().await?;
        self.risk_point(self.reader(), enterprise_id, id).await
    }

    /// Retires a risk point (the installation is gone); it stays on record without colouring
    /// the enterprise.
    pub async fn retire_risk_point(
        &self,
        reach: &Reach,
        actor: &Actor,
        enterprise_id: &str,
        id: &str,
        reason: &str,
    ) -> Result<RiskPoint, StoreError> {
        let reason = plain_text(reason, 500).map_err(|c| StoreError::invalid("reason", c))?;
        let now = self.now();
        let mut tx = self.begin().await?;
        let e = self.reached_enterprise(&mut tx, reach, enterprise_id).await?;
        let before = self.risk_point(&mut *tx, enterprise_id, id).await?;
        if before.retired {
            return Err(StoreError::Conflict("risk_point_retired"));
        }
        sqlx::query("UPDATE risk_points SET retired = $1, version = version + 1, updated_at = $2 WHERE id = $3")
            .bind(true)
            .bind(to_millis(now))
            .bind(id.to_owned())
            .execute(&mut *tx)
            .await?;
        refresh_colour(&mut tx, enterprise_id).await?;
        record_under(
            &mut tx,
            now,
            actor,
            &e,
            "risk_point_retired",
            ("risk_point_id", id),
            json!({
                "name": before.name, "reason": reason,
            }),
        )
        .await?;
        tx.commit().await?;
        self.risk_point(self.reader(), enterprise_id, id).await
    }

    /// One risk point of the enterprise, read through `executor` (the reader, or
    /// the transaction that is changing it).
    async fn risk_point<'c, E>(
        &self,
        executor: E,
        enterprise_id: &str,
        id: &str,
    ) -> Result<RiskPoint, StoreError>
    where
        E: sqlx::Executor<'c, Database = sqlx::Any>,
    {
        let row = sqlx::query("SELECT * FROM risk_points WHERE id = $1 AND enterprise_id = $2")
            .bind(id.to_owned())
            .bind(enterprise_id.to_owned())
            .fetch_optional(executor)
            .await?
            .ok_or(StoreError::NotFound)?;
        point_of(&row, today(self.now()))
    }

    /// The four-colour map: every located enterprise of the filter as a point, and the counts
    /// by colour of each unit directly under `of` (the caller's unit by default).
    pub async fn risk_map(
        &self,
        reach: &Reach,
        filter: &EnterpriseFilter,
        of: &str,
        viewport: Option<Viewport>,
    ) -> Result<RiskMap, StoreError> {
        let text = self.text_search(filter.q.as_deref()).await?;
        let today = today(self.now());
        let located = |select: &str| {
            let mut sql = Sql::new(select);
            sql.push(" FROM enterprises e WHERE e.lon IS NOT NULL AND e.status <> 'closed'");
            if let Some(v) = viewport {
                sql.push(" AND e.lon >= ").bind(v.min_lon).push(" AND e.lon <= ").bind(v.max_lon);
                sql.push(" AND e.lat >= ").bind(v.min_lat).push(" AND e.lat <= ").bind(v.max_lat);
            }
            filter.apply(&mut sql, &text, today);
            reach.filter(&mut sql);
            sql
        };
        // The map's parts are independent: read them at once (the pool has readers to spare).
        let marks = async {
            // The clusters count the viewport's enterprises as they group them: one pass over
            // the place index (migration 0015) tells whether points would be too many.
            let mut clusters = Vec::new();
            if let Some(v) = viewport {
                clusters = self.clusters(v, located).await?;
                if clusters.iter().map(|c| c.count).sum::<i64>() <= v.point_limit {
                    clusters.clear();
                }
            }
            let mut sql = located("SELECT e.id, e.name, e.lon, e.lat, e.colour, e.sector");
            if !clusters.is_empty() {
                sql.push(" AND 1 = 0");
            }
            #[derive(Deserialize)]
            struct P {
                id: String,
                name: String,
                lon: f64,
                lat: f64,
                colour: Option<String>,
                sector: String,
            }
            let rows: Vec<P> = sql.fetch_rows(self.backend(), "t.id", self.reader()).await?;
            let points = rows
                .into_iter()
                .map(|p| RiskMapPoint {
                    colour: p.colour.as_deref().and_then(RiskColour::parse),
                    id: p.id,
                    name: p.name,
                    lon: p.lon,
                    lat: p.lat,
                    sector: p.sector,
                })
                .collect();
            Ok::<_, StoreError>((points, clusters))
        };
        let unlocated = async {
            let mut unlocated = Sql::new(
                "SELECT COUNT(*) AS n FROM enterprises e WHERE e.lon IS NULL AND e.status <> 'closed'",
            );
            filter.apply(&mut unlocated, &text, today);
            reach.filter(&mut unlocated);
            let unlocated = self.count(unlocated).await?;
            Ok::<_, StoreError>(unlocated)
        };
        let units = async {
            // Counted per territorial unit and colour first (one pass over an index that holds
            // every column read), then summed up the unit tree: joining each enterprise to its
            // ancestors before counting read the register once per level.
            let mut sql = Sql::new(
                "SELECT c.ancestor_id AS unit_id, x.name AS unit_name, g.colour, CAST(SUM(g.n) AS BIGINT) AS n \
                 FROM (SELECT e.unit_id, e.colour, COUNT(*) AS n FROM enterprises e \
                 WHERE e.status <> 'closed'",
            );
            filter.apply(&mut sql, &text, today);
            reach.filter(&mut sql);
            sql.push(
                " GROUP BY e.unit_id, e.colour) g \
                 JOIN unit_closure c ON c.descendant_id = g.unit_id \
                 JOIN units x ON x.id = c.ancestor_id WHERE x.parent_id = ",
            )
            .bind(of.to_owned())
            .push(" GROUP BY c.ancestor_id, x.name, g.colour");
            let mut units: Vec<RiskMapUnit> = Vec::new();
            for r in sql.fetch_all(self.reader()).await? {
                let unit_id: String = r.try_get("unit_id")?;
                let colour: Option<String> = r.try_get("colour")?;
                let n: i64 = r.try_get("n")?;
                let at = match units.iter().position(|u| u.unit_id == unit_id) {
                    Some(i) => i,
                    None => {
                        units.push(RiskMapUnit {
                            unit_id,
                            unit_name: r.try_get("unit_name")?,
                            red: 0,
                            orange: 0,
                            yellow: 0,
                            blue: 0,
                            none: 0,
                        });
                        units.len() - 1
                    }
                };
                let u = &mut units[at];
                match colour.as_deref() {
                    Some("red") => u.red += n,
                    Some("orange") => u.orange += n,
                    Some("yellow") => u.yellow += n,
                    Some("blue") => u.blue += n,
                    _ => u.none += n,
                }
            }
            units.sort_by(|a, b| a.unit_name.cmp(&b.unit_name));
            Ok::<_, StoreError>(units)
        };
        let ((points, clusters), unlocated, units, cutoffs) =
            futures::try_join!(marks, unlocated, units, self.lec_cutoffs())?;
        Ok(RiskMap { points, clusters, unlocated, units, cutoffs })
    }

    /// The viewport's enterprises grouped by grid cell and colour, in SQL.
    async fn clusters(
        &self,
        v: Viewport,
        located: impl Fn(&str) -> Sql,
    ) -> Result<Vec<RiskMapCluster>, StoreError> {
        let cell = v.cell();
        // Both offsets are at least 0 inside the box, where a cast truncates like a floor;
        // PostgreSQL's cast rounds, so it floors first.
        let index = |column: &str, origin: f64| match self.backend() {
            crate::Backend::Sqlite => format!("CAST((e.{column} - {origin}) / {cell} AS INTEGER)"),
            crate::Backend::Postgres => {
                format!("CAST(FLOOR((e.{column} - {origin}) / {cell}) AS BIGINT)")
            }
        };
        let (gx, gy) = (index("lon", v.min_lon), index("lat", v.min_lat));
        let mut sql = located(&format!(
            "SELECT {gx} AS gx, {gy} AS gy, e.colour, COUNT(*) AS n, SUM(e.lon) AS sx, SUM(e.lat) AS sy"
        ));
        sql.push(&format!(" GROUP BY {gx}, {gy}, e.colour"));
        let mut cells: std::collections::BTreeMap<(i64, i64), (RiskMapCluster, f64, f64)> =
            std::collections::BTreeMap::new();
        for r in sql.fetch_all(self.reader()).await? {
            let key = (r.try_get::<i64, _>("gx")?, r.try_get::<i64, _>("gy")?);
            let n: i64 = r.try_get("n")?;
            let colour: Option<String> = r.try_get("colour")?;
            let entry = cells.entry(key).or_insert_with(|| {
                (
                    RiskMapCluster {
                        lon: 0.0,
                        lat: 0.0,
                        count: 0,
                        red: 0,
                        orange: 0,
                        yellow: 0,
                        blue: 0,
                        none: 0,
                    },
                    0.0,
                    0.0,
                )
            });
            entry.0.count += n;
            entry.1 += r.try_get::<f64, _>("sx")?;
            entry.2 += r.try_get::<f64, _>("sy")?;
            match colour.as_deref() {
                Some("red") => entry.0.red += n,
                Some("orange") => entry.0.orange += n,
                Some("yellow") => entry.0.yellow += n,
                Some("blue") => entry.0.blue += n,
                _ => entry.0.none += n,
            }
        }
        Ok(cells
            .into_values()
            .map(|(mut c, sx, sy)| {
                let n = c.count.max(1) as f64;
                c.lon = sx / n;
                c.lat = sy / n;
                c
            })
            .collect())
    }
}

/// Adds a risk point to a reached enterprise in `tx`: the row, its first evaluation, the
/// enterprise's colour, the timeline and the audit record. Returns its id.
pub(super) async fn add_risk_point(
    tx: &mut Tx,
    now: DateTime<Utc>,
    actor: &Actor,
    e: &Reached,
    lec: &Lec,
    write: &RiskPointWrite,
) -> Result<String, StoreError> {
    let enterprise_id = e.id.as_str();
    let cutoffs: LecCutoffs = settings::read(&mut **tx, CUTOFFS_KEY).await?;
    let colour = cutoffs.colour(lec.d());
    let id = new_id();
    sqlx::query(
        "INSERT INTO risk_points (id, enterprise_id, name, place, accident_types, method, \
             l_value, e_value, c_value, d_value, colour, measures, control_level, \
             responsible_person, next_review, retired, version, created_at, updated_at) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 1, $17, $17)",
    )
    .bind(id.clone())
    .bind(enterprise_id.to_owned())
    .bind(write.name.clone())
    .bind(write.place.clone())
    .bind(serde_json::to_string(&write.accident_types).map_err(StoreError::corrupt)?)
    .bind(write.method.clone())
    .bind(lec.l)
    .bind(lec.e)
    .bind(lec.c)
    .bind(lec.d())
    .bind(colour.as_str())
    .bind(write.measures.clone())
    .bind(write.control_level.clone())
    .bind(write.responsible_person.clone())
    .bind(write.next_review.map(iso))
    .bind(false)
    .bind(to_millis(now))
    .execute(&mut **tx)
    .await?;
    insert_evaluation(tx, now, actor, &id, &write.method, lec, colour).await?;
    refresh_colour(tx, enterprise_id).await?;
    record_under(
        tx,
        now,
        actor,
        e,
        "risk_point_added",
        ("risk_point_id", &id),
        json!({
            "name": write.name, "d": lec.d(), "colour": colour,
        }),
    )
    .await?;
    Ok(id)
}

/// Rewrites a risk point in `tx`; new L, E or C values are a re-evaluation, kept with the others.
#[allow(clippy::too_many_arguments)]
pub(super) async fn change_risk_point(
    tx: &mut Tx,
    now: DateTime<Utc>,
    actor: &Actor,
    e: &Reached,
    id: &str,
    before: &RiskPoint,
    lec: &Lec,
    write: &RiskPointWrite,
) -> Result<(), StoreError> {
    let enterprise_id = e.id.as_str();
    let cutoffs: LecCutoffs = settings::read(&mut **tx, CUTOFFS_KEY).await?;
    let colour = cutoffs.colour(lec.d());
    sqlx::query(
        "UPDATE risk_points SET name = $1, place = $2, accident_types = $3, method = $4, \
             l_value = $5, e_value = $6, c_value = $7, d_value = $8, colour = $9, measures = $10, \
             control_level = $11, responsible_person = $12, next_review = $13, \
             version = version + 1, updated_at = $14 WHERE id = $15",
    )
    .bind(write.name.clone())
    .bind(write.place.clone())
    .bind(serde_json::to_string(&write.accident_types).map_err(StoreError::corrupt)?)
    .bind(write.method.clone())
    .bind(lec.l)
    .bind(lec.e)
    .bind(lec.c)
    .bind(lec.d())
    .bind(colour.as_str())
    .bind(write.measures.clone())
    .bind(write.control_level.clone())
    .bind(write.responsible_person.clone())
    .bind(write.next_review.map(iso))
    .bind(to_millis(now))
    .bind(id.to_owned())
    .execute(&mut **tx)
    .await?;
    let re_evaluated = (before.l, before.e, before.c, before.method.as_str())
        != (lec.l, lec.e, lec.c, write.method.as_str());
    if re_evaluated {
        insert_evaluation(tx, now, actor, id, &write.method, lec, colour).await?;
        refresh_colour(tx, enterprise_id).await?;
    }
    let mut detail = json!({ "name": write.name });
    if re_evaluated {
        detail["d"] = json!({ "before": before.d, "after": lec.d() });
        detail["colour"] = json!({ "before": before.colour, "after": colour });
    }
    record_under(tx, now, actor, e, "risk_point_updated", ("risk_point_id", id), detail).await?;
    Ok(())
}
