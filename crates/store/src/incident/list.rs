//! Finding incidents: the filtered list the console and the ledger show, and the duplicate guard
//! that warns before the same accident is registered twice.

use std::collections::HashMap;

use beacon_core::clock::{from_millis, to_millis};
use beacon_core::incident::{Grade, IncidentKind};
use beacon_core::page::PageRequest;
use beacon_core::scope::Scope;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use super::handle::chain_rules_on;
use super::{COLUMNS, Incident, hop_records, incident_row};
use crate::audit::like_pattern;
use crate::sql::Sql;
use crate::{Page, Store, StoreError, scope};

/// What the list shows; every filter is optional.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// A unit and everything beneath it.
    pub unit_id: Option<String>,
    pub grade: Option<Grade>,
    pub kind: Option<IncidentKind>,
    /// `open` or `closed`.
    pub status: Option<String>,
    /// Occurred at or after.
    pub from: Option<DateTime<Utc>>,
    /// Occurred before.
    pub to: Option<DateTime<Utc>>,
    /// Part of the title, number or place.
    pub text: Option<String>,
    /// Only incidents with a hop addressed to this unit that it has not acknowledged yet.
    pub awaiting_unit_id: Option<String>,
}

/// An open incident that a new report may repeat.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DuplicateCandidate {
    pub id: String,
    pub number: String,
    pub title: String,
    pub unit_name: String,
    pub occurred_at: DateTime<Utc>,
    pub place: String,
    /// Metres between the two points, when both have one.
    pub distance_m: Option<f64>,
}

/// Same kind, open, occurred within this time of the new one…
pub const DUPLICATE_WINDOW_HOURS: i64 = 6;
/// …and within this distance (or, without points, at the same unit).
pub const DUPLICATE_RADIUS_M: f64 = 2000.0;

/// Great-circle distance in metres.
fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (lon1, lat1) = (a.0.to_radians(), a.1.to_radians());
    let (lon2, lat2) = (b.0.to_radians(), b.1.to_radians());
    let h = ((lat2 - lat1) / 2.0).sin().powi(2)
        + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * 6_371_000.0 * h.sqrt().asin()
}

/// Half the width and height, in degrees, of a box around a point at latitude `lat` that holds
/// every point within `radius_m` of it.
fn box_around(lat: f64, radius_m: f64) -> (f64, f64) {
    // A degree of latitude is at least this long; 1% spare for rounding.
    let d_lat = radius_m / 111_194.0 * 1.01;
    let widest = (lat.abs() + d_lat).min(89.0).to_radians().cos();
    (d_lat / widest, d_lat)
}

impl Store {
    /// Incidents in the caller's scope, newest first, with their obligations as of now.
    pub async fn incidents(
        &self,
        scope: &Scope,
        filter: &IncidentFilter,
        page: PageRequest,
    ) -> Result<Page<Incident>, StoreError> {
        let apply = |sql: &mut Sql| {
            scope::filter(sql, scope, "i.unit_id");
            if let Some(unit) = &filter.unit_id {
                sql.push(" AND i.unit_id IN (SELECT descendant_id FROM unit_closure WHERE ancestor_id = ")
                    .bind(unit.clone())
                    .push(")");
            }
            if let Some(grade) = filter.grade {
                sql.push(" AND i.grade = ").bind(grade.as_str());
            }
            if let Some(kind) = filter.kind {
                sql.push(" AND i.kind = ").bind(kind.as_str());
            }
            if let Some(status) = &filter.status {
                sql.push(" AND i.status = ").bind(status.clone());
            }
            if let Some(from) = filter.from {
                sql.push(" AND i.occurred_at >= ").bind(to_millis(from));
            }
            if let Some(to) = filter.to {
                sql.push(" AND i.occurred_at < ").bind(to_millis(to));
            }
            if let Some(unit) = &filter.awaiting_unit_id {
                sql.push(
                    " AND EXISTS (SELECT 1 FROM incident_hops h WHERE h.incident_id = i.id \
                     AND h.done_at IS NULL AND h.addressee_unit_id = ",
                )
                .bind(unit.clone())
                .push(")");
            }
            if let Some(text) = &filter.text {
                let like = like_pattern(text);
                sql.push(" AND (i.title LIKE ")
                    .bind(like.clone())
                    .push(" ESCAPE '\\' OR i.number LIKE ")
                    .bind(like.clone())
                    .push(" ESCAPE '\\' OR i.place LIKE ")
                    .bind(like)
                    .push(" ESCAPE '\\')");
            }
        };
        let mut conn = self.reader().acquire().await?;
        let mut count = Sql::new("SELECT COUNT(*) AS n FROM incidents i WHERE 1 = 1");
        apply(&mut count);
        let total: i64 = count.fetch_one(&mut *conn).await?.try_get("n")?;
        let mut sql = Sql::new(&format!(
            "SELECT {COLUMNS} FROM incidents i JOIN units n ON n.id = i.unit_id WHERE 1 = 1"
        ));
        apply(&mut sql);
        sql.push(" ORDER BY i.occurred_at DESC, i.id DESC LIMIT ")
            .bind(i64::from(page.per_page))
            .push(" OFFSET ")
            .bind(page.offset());
        let rows = sql.fetch_all(&mut *conn).await?;
        let ids: Vec<String> =
            rows.iter().map(|r| r.try_get("id")).collect::<Result<_, sqlx::Error>>()?;
        let rules = chain_rules_on(&mut *conn).await?;
        let mut hops: HashMap<String, Vec<super::HopRecord>> = HashMap::new();
        for (id, hop) in hop_records(&mut conn, &ids).await? {
            hops.entry(id).or_default().push(hop);
        }
        let now = self.now();
        let items = rows
            .iter()
            .zip(&ids)
            .map(|(row, id)| incident_row(row, hops.remove(id).unwrap_or_default(), rules, now))
            .collect::<Result<_, _>>()?;
        Ok(Page { items, total, page: page.page, per_page: page.per_page })
    }

    /// Open incidents in the caller's scope that a new report of `kind` at `unit_id` (and
    /// `point`) occurred at `occurred_at` may repeat: the same kind, within
    /// [`DUPLICATE_WINDOW_HOURS`], and within [`DUPLICATE_RADIUS_M`] (or at the same unit when
    /// either has no point). Nearest first.
    pub async fn possible_duplicates(
        &self,
        scope: &Scope,
        kind: IncidentKind,
        unit_id: &str,
        point: Option<(f64, f64)>,
        occurred_at: DateTime<Utc>,
    ) -> Result<Vec<DuplicateCandidate>, StoreError> {
        let window = Duration::hours(DUPLICATE_WINDOW_HOURS);
        // Only what can be near is read, through the partial indexes of open incidents: those
        // with a point in a box around this one that holds the radius (the distance itself is
        // checked below), ranged by longitude; and those of the same unit without a point (a
        // point is saved with both coordinates or none). SQLite is told the index: without
        // statistics it weighs `ix_incidents_kind` alike, and that one reads the kind's whole
        // window.
        let sqlite = self.backend() == crate::Backend::Sqlite;
        let part = |sql: &mut Sql, index: &str, near: &dyn Fn(&mut Sql)| {
            sql.push(
                "SELECT i.id, i.number, i.title, n.name AS unit_name, i.occurred_at, i.place, \
                 i.unit_id, i.lon, i.lat FROM incidents i ",
            );
            if sqlite {
                sql.push("INDEXED BY ").push(index).push(" ");
            }
            sql.push("JOIN units n ON n.id = i.unit_id WHERE i.status = 'open' AND i.kind = ")
                .bind(kind.as_str());
            near(sql);
            sql.push(" AND i.occurred_at >= ")
                .bind(to_millis(occurred_at - window))
                .push(" AND i.occurred_at <= ")
                .bind(to_millis(occurred_at + window));
            scope::filter(sql, scope, "i.unit_id");
        };
        let mut sql = Sql::new("SELECT * FROM (");
        let same_unit = |sql: &mut Sql| {
            sql.push(" AND i.lon IS NULL AND i.unit_id = ").bind(unit_id.to_owned());
        };
        match point {
            Some((lon, lat)) => {
                let (d_lon, d_lat) = box_around(lat, DUPLICATE_RADIUS_M);
                part(&mut sql, "ix_incidents_open_point", &|sql: &mut Sql| {
                    sql.push(" AND i.lon BETWEEN ")
                        .bind(lon - d_lon)
                        .push(" AND ")
                        .bind(lon + d_lon)
                        .push(" AND i.lat BETWEEN ")
                        .bind(lat - d_lat)
                        .push(" AND ")
                        .bind(lat + d_lat);
                });
            }
            // Without a point, every incident of the unit is near, with a point or without.
            None => part(&mut sql, "ix_incidents_open_point", &|sql: &mut Sql| {
                sql.push(" AND i.lon IS NOT NULL AND i.unit_id = ").bind(unit_id.to_owned());
            }),
        }
        sql.push(" UNION ALL ");
        part(&mut sql, "ix_incidents_open_unit", &same_unit);
        sql.push(") t ORDER BY occurred_at DESC LIMIT 200");
        let rows = sql.fetch_all(self.reader()).await?;
        let mut out = Vec::new();
        for r in rows {
            let lon: Option<f64> = r.try_get("lon")?;
            let lat: Option<f64> = r.try_get("lat")?;
            let other_unit: String = r.try_get("unit_id")?;
            let distance = match (point, lon.zip(lat)) {
                (Some(a), Some(b)) => Some(distance_m(a, b)),
                _ => None,
            };
            let near = match distance {
                Some(d) => d <= DUPLICATE_RADIUS_M,
                None => other_unit == unit_id,
            };
            if near {
                out.push(DuplicateCandidate {
                    id: r.try_get("id")?,
                    number: r.try_get("number")?,
                    title: r.try_get("title")?,
                    unit_name: r.try_get("unit_name")?,
                    occurred_at: from_millis(r.try_get("occurred_at")?),
                    place: r.try_get("place")?,
                    distance_m: distance.map(|d| d.round()),
                });
            }
        }
        out.sort_by(|a, b| {
            a.distance_m.unwrap_or(f64::MAX).total_cmp(&b.distance_m.unwrap_or(f64::MAX))
        });
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::{box_around, distance_m};

    #[test]
    fn distance_is_in_metres() {
        // One thousandth of a degree of latitude is about 111 m.
        let d = distance_m((120.0, 30.0), (120.0, 30.001));
        assert!((d - 111.2).abs() < 0.5, "{d}");
        assert!(distance_m((120.0, 30.0), (120.0, 30.0)) < 1e-6);
    }

    #[test]
    fn the_box_holds_the_radius_at_every_bearing() {
        for lat in [0.0, 28.6, 45.0, 53.5, -30.0] {
            let (d_lon, d_lat) = box_around(lat, 2000.0);
            for step in 0..360 {
                // A point 2 km away on this bearing, found by bisection along the bearing.
                let bearing = f64::from(step).to_radians();
                let (mut near, mut far) = (0.0, 0.1);
                for _ in 0..60 {
                    let mid = (near + far) / 2.0;
                    let p = (
                        120.0 + mid * bearing.sin() / lat.to_radians().cos(),
                        lat + mid * bearing.cos(),
                    );
                    if distance_m((120.0, lat), p) < 2000.0 { near = mid } else { far = mid }
                }
                let (dx, dy) =
                    (near * bearing.sin() / lat.to_radians().cos(), near * bearing.cos());
                assert!(dx.abs() <= d_lon && dy.abs() <= d_lat, "lat {lat}, bearing {step}");
            }
        }
    }
}
