//! The map of the hidden-danger dashboard: every located enterprise with open hidden dangers in
//! the caller's reach, as a point with its counts (open, major, overdue, listed), or, when a
//! viewport holds more of them than a map can draw, as clusters on a grid of about 64 screen
//! pixels. Counted from the ledger in one `GROUP BY` over the open ones' index; sql on the
//! grid here (the enterprises with open hidden dangers are a small part of the register).

use std::collections::HashMap;

use beacon_core::danger::DangerLevel;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::enterprise::{Reach, Viewport, iso, today};
use crate::sql::Sql;
use crate::{Store, StoreError};

/// Filters of the map.
#[derive(Debug, Clone, Default)]
pub struct DangerMapFilter {
    /// Hidden dangers of enterprises in this unit's territory (the unit and beneath).
    pub unit_id: Option<String>,
    pub level: Option<DangerLevel>,
    /// Only enterprises with an overdue one.
    pub overdue: bool,
}

/// Open hidden dangers of a group (an enterprise, or a cluster of them).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DangerMapCounts {
    pub open: i64,
    pub major: i64,
    pub overdue: i64,
    pub listed: i64,
}

impl DangerMapCounts {
    fn add(&mut self, other: &DangerMapCounts) {
        self.open += other.open;
        self.major += other.major;
        self.overdue += other.overdue;
        self.listed += other.listed;
    }
}

/// An enterprise with open hidden dangers.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DangerMapPoint {
    /// The enterprise.
    pub id: String,
    pub name: String,
    pub lon: f64,
    pub lat: f64,
    pub counts: DangerMapCounts,
}

/// Enterprises close together on the screen, as one marker.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DangerMapCluster {
    /// The mean of its enterprises' points.
    pub lon: f64,
    pub lat: f64,
    /// Enterprises in it.
    pub enterprises: i64,
    pub counts: DangerMapCounts,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DangerMap {
    pub points: Vec<DangerMapPoint>,
    pub clusters: Vec<DangerMapCluster>,
    /// Enterprises with open hidden dangers (of the filter) that have no point.
    pub unlocated: i64,
}

#[derive(Deserialize)]
struct Located {
    id: String,
    name: String,
    lon: Option<f64>,
    lat: Option<f64>,
    open: i64,
    major: i64,
    overdue: i64,
    listed: i64,
}

impl Store {
    /// The open hidden dangers of the caller's reach on the map (see the module).
    pub async fn danger_map(
        &self,
        reach: &Reach,
        filter: &DangerMapFilter,
        viewport: Option<Viewport>,
    ) -> Result<DangerMap, StoreError> {
        let today = iso(today(self.now()));
        let mut sql = Sql::new(
            "SELECT e.id, e.name, e.lon, e.lat, g.open, g.major, g.overdue, g.listed FROM (\
             SELECT h.enterprise_id, COUNT(*) AS open, \
             CAST(SUM(CASE WHEN h.level = 'major' THEN 1 ELSE 0 END) AS BIGINT) AS major, \
             CAST(SUM(CASE WHEN h.deadline < ",
        );
        sql.bind(today.clone()).push(
            " THEN 1 ELSE 0 END) AS BIGINT) AS overdue, \
                 CAST(SUM(CASE WHEN h.listed_level IS NULL THEN 0 ELSE 1 END) AS BIGINT) AS listed \
                 FROM hidden_dangers h WHERE h.status <> 'closed'",
        );
        if let Some(unit) = &filter.unit_id {
            let units = crate::scope::territory(self.reader(), unit).await?;
            crate::scope::filter_units(&mut sql, "h.unit_id", &units);
        }
        if let Some(level) = filter.level {
            sql.push(" AND h.level = ").bind(level.as_str());
        }
        if filter.overdue {
            sql.push(" AND h.deadline < ").bind(today);
        }
        reach.filter_on(&mut sql, "h.enterprise_id", "h.unit_id", "h.department_id");
        sql.push(" GROUP BY h.enterprise_id) g JOIN enterprises e ON e.id = g.enterprise_id");
        let rows: Vec<Located> = sql.fetch_rows(self.backend(), "t.id", self.reader()).await?;
        let mut unlocated = 0;
        let mut points = Vec::new();
        for r in rows {
            let (Some(lon), Some(lat)) = (r.lon, r.lat) else {
                unlocated += 1;
                continue;
            };
            let outside = viewport.as_ref().is_some_and(|v| {
                !(v.min_lon..=v.max_lon).contains(&lon) || !(v.min_lat..=v.max_lat).contains(&lat)
            });
            if outside {
                continue;
            }
            let counts = DangerMapCounts {
                open: r.open,
                major: r.major,
                overdue: r.overdue,
                listed: r.listed,
            };
            points.push(DangerMapPoint { id: r.id, name: r.name, lon, lat, counts });
        }
        let clusters = match viewport {
            Some(v) if i64::try_from(points.len()).unwrap_or(i64::MAX) > v.point_limit => {
                cluster(&std::mem::take(&mut points), v.cell())
            }
            _ => Vec::new(),
        };
        // The most urgent on top: drawn last.
        points.sort_by_key(|p| (p.counts.major, p.counts.overdue, p.counts.open));
        Ok(DangerMap { points, clusters, unlocated })
    }
}

/// Groups points by grid cell of side `cell` degrees.
fn cluster(points: &[DangerMapPoint], cell: f64) -> Vec<DangerMapCluster> {
    let mut cells: HashMap<(i64, i64), (f64, f64, DangerMapCluster)> = HashMap::new();
    for p in points {
        // Cast after the floor: a cell index, far inside i64 for any longitude.
        let key = ((p.lon / cell).floor() as i64, (p.lat / cell).floor() as i64);
        let entry = cells.entry(key).or_insert_with(|| {
            let empty = DangerMapCluster {
                lon: 0.0,
                lat: 0.0,
                enterprises: 0,
                counts: DangerMapCounts::default(),
            };
            (0.0, 0.0, empty)
        });
        entry.0 += p.lon;
        entry.1 += p.lat;
        entry.2.enterprises += 1;
        entry.2.counts.add(&p.counts);
    }
    let mut out: Vec<DangerMapCluster> = cells
        .into_values()
        .map(|(lon, lat, mut c)| {
            let n = c.enterprises as f64;
            c.lon = lon / n;
            c.lat = lat / n;
            c
        })
        .collect();
    out.sort_by(|a, b| a.lon.total_cmp(&b.lon).then(a.lat.total_cmp(&b.lat)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(lon: f64, lat: f64, open: i64, major: i64) -> DangerMapPoint {
        DangerMapPoint {
            id: format!("{lon},{lat}"),
            name: String::new(),
            lon,
            lat,
            counts: DangerMapCounts { open, major, overdue: 0, listed: 0 },
        }
    }

    #[test]
    fn near_points_share_a_cluster_and_its_counts() {
        let points =
            [point(118.01, 30.01, 2, 1), point(118.02, 30.02, 3, 0), point(119.5, 30.5, 1, 0)];
        let clusters = cluster(&points, 0.5);
        assert_eq!(clusters.len(), 2);
        assert_eq!(clusters[0].enterprises, 2);
        assert_eq!((clusters[0].counts.open, clusters[0].counts.major), (5, 1));
        assert!((clusters[0].lon - 118.015).abs() < 1e-9);
        assert_eq!(clusters[1].enterprises, 1);
    }
}
