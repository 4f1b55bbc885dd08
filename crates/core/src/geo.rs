//! Unit boundaries as GeoJSON (RFC 7946) polygons, validated before they are stored, and the
//! point-in-area test later modules use (an incident's point outside its unit is flagged).

use serde_json::Value;

/// Most vertices a boundary may have. A detailed district outline has a few thousand; this
/// ceiling keeps one unit's outline from weighing megabytes.
pub const MAX_VERTICES: usize = 50_000;

type Ring = Vec<(f64, f64)>;

/// A validated Polygon or MultiPolygon in WGS 84 longitude/latitude.
#[derive(Debug, Clone, PartialEq)]
pub struct Boundary {
    /// Polygons, each an outer ring followed by its holes.
    polygons: Vec<Vec<Ring>>,
    geometry: Value,
}

impl Boundary {
    /// Accepts a GeoJSON geometry (`Polygon`, `MultiPolygon`), a `Feature` carrying one, or a
    /// `FeatureCollection` with exactly one such feature (what most GIS tools export).
    pub fn parse(value: &Value) -> Result<Self, &'static str> {
        let geometry = match value.get("type").and_then(Value::as_str) {
            Some("Feature") => value.get("geometry").ok_or("invalid_geojson")?,
            Some("FeatureCollection") => {
                let features =
                    value.get("features").and_then(Value::as_array).ok_or("invalid_geojson")?;
                match features.as_slice() {
                    [one] => one.get("geometry").ok_or("invalid_geojson")?,
                    _ => return Err("single_feature_required"),
                }
            }
            _ => value,
        };
        let coordinates = geometry.get("coordinates").ok_or("invalid_geojson")?;
        let polygons = match geometry.get("type").and_then(Value::as_str) {
            Some("Polygon") => vec![parse_polygon(coordinates)?],
            Some("MultiPolygon") => coordinates
                .as_array()
                .ok_or("invalid_geojson")?
                .iter()
                .map(parse_polygon)
                .collect::<Result<Vec<_>, _>>()?,
            _ => return Err("polygon_required"),
        };
        if polygons.is_empty() {
            return Err("invalid_geojson");
        }
        let vertices: usize = polygons.iter().flatten().map(Vec::len).sum();
        if vertices > MAX_VERTICES {
            return Err("too_many_vertices");
        }
        let geometry = serde_json::json!({
            "type": geometry.get("type"),
            "coordinates": coordinates,
        });
        Ok(Self { polygons, geometry })
    }

    /// The normalised GeoJSON geometry to store.
    pub fn geometry(&self) -> &Value {
        &self.geometry
    }

    /// Whether the point (longitude, latitude) lies inside the area (on an outer ring counts as
    /// inside, inside a hole as outside).
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        self.polygons.iter().any(|rings| {
            let mut rings = rings.iter();
            let inside_outer = rings.next().is_some_and(|outer| ring_contains(outer, lon, lat));
            inside_outer && !rings.any(|hole| ring_contains(hole, lon, lat))
        })
    }

    /// (min lon, min lat, max lon, max lat).
    pub fn bbox(&self) -> (f64, f64, f64, f64) {
        let mut bbox = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for &(lon, lat) in self.polygons.iter().flatten().flatten() {
            bbox = (bbox.0.min(lon), bbox.1.min(lat), bbox.2.max(lon), bbox.3.max(lat));
        }
        bbox
    }
}

fn parse_polygon(value: &Value) -> Result<Vec<Ring>, &'static str> {
    let rings = value.as_array().ok_or("invalid_geojson")?;
    if rings.is_empty() {
        return Err("invalid_geojson");
    }
    rings.iter().map(parse_ring).collect()
}

fn parse_ring(value: &Value) -> Result<Ring, &'static str> {
    let positions = value.as_array().ok_or("invalid_geojson")?;
    if positions.len() > MAX_VERTICES {
        return Err("too_many_vertices");
    }
    let ring = positions
        .iter()
        .map(|p| {
            let p = p.as_array().ok_or("invalid_geojson")?;
            let (Some(lon), Some(lat)) =
                (p.first().and_then(Value::as_f64), p.get(1).and_then(Value::as_f64))
            else {
                return Err("invalid_geojson");
            };
            if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                return Err("coordinates_out_of_range");
            }
            Ok((lon, lat))
        })
        .collect::<Result<Ring, _>>()?;
    // RFC 7946 §3.1.6: a linear ring has four or more positions and ends where it starts.
    if ring.len() < 4 {
        return Err("ring_too_short");
    }
    if ring.first() != ring.last() {
        return Err("ring_not_closed");
    }
    Ok(ring)
}

/// Even-odd ray casting; points on an edge count as inside.
fn ring_contains(ring: &[(f64, f64)], x: f64, y: f64) -> bool {
    let mut inside = false;
    for pair in ring.windows(2) {
        let ((x1, y1), (x2, y2)) = (pair[0], pair[1]);
        if on_segment((x1, y1), (x2, y2), (x, y)) {
            return true;
        }
        if (y1 > y) != (y2 > y) {
            let cross_x = x1 + (y - y1) * (x2 - x1) / (y2 - y1);
            if x < cross_x {
                inside = !inside;
            }
        }
    }
    inside
}

fn on_segment(a: (f64, f64), b: (f64, f64), p: (f64, f64)) -> bool {
    let cross = (b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0);
    cross.abs() < 1e-12
        && p.0 >= a.0.min(b.0)
        && p.0 <= a.0.max(b.0)
        && p.1 >= a.1.min(b.1)
        && p.1 <= a.1.max(b.1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn square_with_hole() -> Value {
        json!({
            "type": "Polygon",
            "coordinates": [
                [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0], [0.0, 0.0]],
                [[4.0, 4.0], [6.0, 4.0], [6.0, 6.0], [4.0, 6.0], [4.0, 4.0]]
            ]
        })
    }

    #[test]
    fn contains_respects_holes_and_edges() {
        let b = Boundary::parse(&square_with_hole()).unwrap();
        assert!(b.contains(1.0, 1.0));
        assert!(!b.contains(5.0, 5.0));
        assert!(!b.contains(11.0, 5.0));
        assert!(b.contains(0.0, 5.0));
        assert!(b.contains(10.0, 10.0));
        assert_eq!(b.bbox(), (0.0, 0.0, 10.0, 10.0));
    }

    #[test]
    fn accepts_features_and_multipolygons() {
        let feature =
            json!({ "type": "Feature", "properties": {}, "geometry": square_with_hole() });
        assert!(Boundary::parse(&feature).is_ok());
        let collection = json!({ "type": "FeatureCollection", "features": [feature] });
        let b = Boundary::parse(&collection).unwrap();
        assert_eq!(b.geometry()["type"], "Polygon");
        let multi = json!({
            "type": "MultiPolygon",
            "coordinates": [
                [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]],
                [[[5.0, 5.0], [6.0, 5.0], [6.0, 6.0], [5.0, 5.0]]]
            ]
        });
        let b = Boundary::parse(&multi).unwrap();
        assert!(b.contains(5.9, 5.1));
        assert!(!b.contains(3.0, 3.0));
    }

    #[test]
    fn rejects_bad_shapes() {
        let open = json!({ "type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]] });
        assert_eq!(Boundary::parse(&open), Err("ring_not_closed"));
        let short = json!({ "type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]] });
        assert_eq!(Boundary::parse(&short), Err("ring_too_short"));
        let far = json!({ "type": "Polygon", "coordinates": [[[0, 0], [190, 0], [1, 1], [0, 0]]] });
        assert_eq!(Boundary::parse(&far), Err("coordinates_out_of_range"));
        let point = json!({ "type": "Point", "coordinates": [0, 0] });
        assert_eq!(Boundary::parse(&point), Err("polygon_required"));
        assert_eq!(Boundary::parse(&json!("x")), Err("invalid_geojson"));
        let text = json!({ "type": "Polygon", "coordinates": [[["a", 0]]] });
        assert_eq!(Boundary::parse(&text), Err("invalid_geojson"));
        let two = json!({ "type": "FeatureCollection", "features": [{}, {}] });
        assert_eq!(Boundary::parse(&two), Err("single_feature_required"));
    }
}
