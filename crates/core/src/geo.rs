//! Unit boundaries as GeoJSON (RFC 7946) polygons, validated before they are stored, and the
//! geometry later modules use (an incident's point outside its unit is flagged). GeoJSON is read
//! by georust's `geojson`, the geometry is georust's `geo`; this module adds what a unit's
//! outline must satisfy and the stable error codes the web client translates.

use geo::{
    BoundingRect, CoordsIter, Distance, Haversine, Intersects, MultiPolygon, Point, Polygon, Rect,
};
use geojson::{GeoJson, GeometryValue, PolygonType, Position};
use serde::Deserialize;
use serde_json::Value;

/// Most vertices a boundary may have. A detailed district outline has a few thousand; this
/// ceiling keeps one unit's outline from weighing megabytes.
pub const MAX_VERTICES: usize = 50_000;

/// A validated Polygon or MultiPolygon in WGS 84 longitude/latitude.
#[derive(Debug, Clone, PartialEq)]
pub struct Boundary {
    area: MultiPolygon<f64>,
    bbox: Rect<f64>,
    geometry: Value,
}

impl Boundary {
    /// Accepts a GeoJSON geometry (`Polygon`, `MultiPolygon`), a `Feature` carrying one, or a
    /// `FeatureCollection` with exactly one such feature (what most GIS tools export).
    pub fn parse(value: &Value) -> Result<Self, &'static str> {
        // Said before the features are read, so a collection of several (or of none) is told
        // so whatever its features hold.
        if value.get("type").and_then(Value::as_str) == Some("FeatureCollection")
            && value.get("features").and_then(Value::as_array).is_some_and(|f| f.len() != 1)
        {
            return Err("single_feature_required");
        }
        let parsed = GeoJson::deserialize(value).map_err(|_| "invalid_geojson")?;
        // The geometry, and where it sits in the input: that JSON is what gets stored.
        let (geometry, raw) = match parsed {
            GeoJson::Geometry(geometry) => (Some(geometry), Some(value)),
            GeoJson::Feature(feature) => (feature.geometry, value.get("geometry")),
            GeoJson::FeatureCollection(collection) => (
                collection.features.into_iter().next().and_then(|f| f.geometry),
                value.pointer("/features/0/geometry"),
            ),
        };
        let (Some(geometry), Some(raw)) = (geometry, raw) else {
            return Err("invalid_geojson");
        };
        let area = match &geometry.value {
            GeometryValue::Polygon { coordinates } => {
                check_polygon(coordinates)?;
                MultiPolygon::new(vec![
                    Polygon::try_from(&geometry.value).map_err(|_| "invalid_geojson")?,
                ])
            }
            GeometryValue::MultiPolygon { coordinates } => {
                if coordinates.is_empty() {
                    return Err("invalid_geojson");
                }
                coordinates.iter().try_for_each(check_polygon)?;
                MultiPolygon::try_from(&geometry.value).map_err(|_| "invalid_geojson")?
            }
            _ => return Err("polygon_required"),
        };
        if area.coords_count() > MAX_VERTICES {
            return Err("too_many_vertices");
        }
        let bbox = area.bounding_rect().ok_or("invalid_geojson")?;
        let geometry = serde_json::json!({
            "type": geometry.value.type_name(),
            "coordinates": raw.get("coordinates").ok_or("invalid_geojson")?,
        });
        Ok(Self { area, bbox, geometry })
    }

    /// The normalised GeoJSON geometry to store: its type and the coordinates as they came.
    pub fn geometry(&self) -> &Value {
        &self.geometry
    }

    /// Whether the point (longitude, latitude) lies in the area. The area is closed: a point on
    /// any ring, an outer one or a hole's, counts as inside (so a point on the border two
    /// units share is inside both); a point strictly inside a hole is outside.
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        self.area.intersects(&Point::new(lon, lat))
    }

    /// (min lon, min lat, max lon, max lat).
    pub fn bbox(&self) -> (f64, f64, f64, f64) {
        let (min, max) = (self.bbox.min(), self.bbox.max());
        (min.x, min.y, max.x, max.y)
    }
}

/// Great-circle distance in metres between two (longitude, latitude) points in degrees, on a
/// sphere of the Earth's mean radius (haversine; within about 0.5% of the ellipsoid).
pub fn distance_m(from: (f64, f64), to: (f64, f64)) -> f64 {
    Haversine.distance(Point::from(from), Point::from(to))
}

/// What a unit's outline must satisfy beyond being GeoJSON: at least one ring per polygon and,
/// ring by ring, a vertex ceiling, positions in WGS 84 range, four or more positions and the
/// last one the first (RFC 7946 §3.1.6). `geojson` reads rings as they are and `geo` would
/// close an open one silently, so these are checked on the GeoJSON positions.
fn check_polygon(rings: &PolygonType) -> Result<(), &'static str> {
    if rings.is_empty() {
        return Err("invalid_geojson");
    }
    rings.iter().try_for_each(|ring| check_ring(ring))
}

fn check_ring(ring: &[Position]) -> Result<(), &'static str> {
    if ring.len() > MAX_VERTICES {
        return Err("too_many_vertices");
    }
    for position in ring {
        let [lon, lat, ..] = *position.as_slice() else {
            return Err("invalid_geojson");
        };
        if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
            return Err("coordinates_out_of_range");
        }
    }
    if ring.len() < 4 {
        return Err("ring_too_short");
    }
    // Closed means the same longitude and latitude; a third member (altitude) is not compared.
    let lon_lat = |p: Option<&Position>| match p.map(Position::as_slice) {
        Some([lon, lat, ..]) => Some((*lon, *lat)),
        _ => None,
    };
    if lon_lat(ring.first()) != lon_lat(ring.last()) {
        return Err("ring_not_closed");
    }
    Ok(())
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

    #[test]
    fn boundary_points_and_holes() {
        let b = Boundary::parse(&square_with_hole()).unwrap();
        // On a hole's edge or vertex: on the area's boundary, so inside, like the outer ring.
        assert!(b.contains(4.0, 5.0));
        assert!(b.contains(6.0, 6.0));
        assert!(b.contains(5.0, 0.0));
        // Just inside the hole, just outside the square.
        assert!(!b.contains(4.001, 5.0));
        assert!(!b.contains(-0.001, 5.0));
        // A point outside the box but level with an edge (the ray of a hand-written test).
        assert!(!b.contains(20.0, 0.0));
    }

    #[test]
    fn bbox_spans_every_polygon() {
        let multi = json!({
            "type": "MultiPolygon",
            "coordinates": [
                [[[116.2, 39.8], [116.5, 39.8], [116.5, 40.1], [116.2, 39.8]]],
                [[[-1.5, -2.0], [0.0, -2.0], [0.0, 0.5], [-1.5, -2.0]]]
            ]
        });
        let b = Boundary::parse(&multi).unwrap();
        assert_eq!(b.bbox(), (-1.5, -2.0, 116.5, 40.1));
        let feature =
            json!({ "type": "Feature", "properties": null, "geometry": square_with_hole() });
        assert_eq!(Boundary::parse(&feature).unwrap().bbox(), (0.0, 0.0, 10.0, 10.0));
    }

    #[test]
    fn distance_in_metres() {
        assert_eq!(distance_m((116.4, 39.9), (116.4, 39.9)), 0.0);
        // One degree of a great circle on the mean-radius sphere is 111,195 m.
        let degree = distance_m((0.0, 0.0), (1.0, 0.0));
        assert!((degree - 111_195.0).abs() < 1.0, "{degree}");
        assert_eq!(distance_m((0.0, 0.0), (0.0, 1.0)), degree);
        // Tian'anmen to Shanghai's Bund: about 1,067 km.
        let far = distance_m((116.3975, 39.9087), (121.4906, 31.2397));
        assert!((1_060_000.0..1_075_000.0).contains(&far), "{far}");
        assert_eq!(far, distance_m((121.4906, 31.2397), (116.3975, 39.9087)));
    }

    #[test]
    fn stores_the_geometry_as_it_came() {
        let feature = json!({
            "type": "Feature",
            "properties": { "name": "east" },
            "geometry": { "type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1, 12.5], [0, 0]]] }
        });
        let b = Boundary::parse(&feature).unwrap();
        assert_eq!(
            b.geometry(),
            &json!({ "type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1, 12.5], [0, 0]]] })
        );
    }

    #[test]
    fn rejects_what_geojson_reads_but_a_boundary_is_not() {
        let position = json!({ "type": "Polygon", "coordinates": [[[0, 0], [1], [1, 1], [0, 0]]] });
        assert_eq!(Boundary::parse(&position), Err("invalid_geojson"));
        let no_rings = json!({ "type": "Polygon", "coordinates": [] });
        assert_eq!(Boundary::parse(&no_rings), Err("invalid_geojson"));
        let no_polygons = json!({ "type": "MultiPolygon", "coordinates": [] });
        assert_eq!(Boundary::parse(&no_polygons), Err("invalid_geojson"));
        let empty_ring = json!({ "type": "Polygon", "coordinates": [[]] });
        assert_eq!(Boundary::parse(&empty_ring), Err("ring_too_short"));
        let no_geometry = json!({ "type": "Feature", "properties": {}, "geometry": null });
        assert_eq!(Boundary::parse(&no_geometry), Err("invalid_geojson"));
        let none = json!({ "type": "FeatureCollection", "features": [] });
        assert_eq!(Boundary::parse(&none), Err("single_feature_required"));
        let line = json!({ "type": "Feature", "properties": {},
            "geometry": { "type": "LineString", "coordinates": [[0, 0], [1, 1]] } });
        assert_eq!(Boundary::parse(&line), Err("polygon_required"));
        let lat = json!({ "type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 91], [0, 0]]] });
        assert_eq!(Boundary::parse(&lat), Err("coordinates_out_of_range"));
        let ring: Vec<[f64; 2]> = (0..=MAX_VERTICES).map(|i| [0.0, i as f64 / 1e4]).collect();
        let big = json!({ "type": "Polygon", "coordinates": [ring] });
        assert_eq!(Boundary::parse(&big), Err("too_many_vertices"));
        let part: Vec<[f64; 2]> =
            (0..MAX_VERTICES / 2).map(|i| [0.0, i as f64 / 1e4]).chain([[0.0, 0.0]]).collect();
        let many = json!({ "type": "MultiPolygon", "coordinates": [[part.clone()], [part]] });
        assert_eq!(Boundary::parse(&many), Err("too_many_vertices"));
    }
}
