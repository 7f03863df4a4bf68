//! GeoJSON layers (RFC 7946) that QGIS, ArcGIS, kepler.gl and geopandas open without a warning:
//! WGS84 lon/lat, no `crs`, exterior rings counter-clockwise and holes clockwise, coordinates
//! rounded to 6 decimals, a top-level `name` and `bbox`, integer feature ids stable across runs,
//! and every feature with the same property keys, each key of one JSON type.

use geo::{BoundingRect, Coord, MapCoords, MultiPolygon, Orient, Polygon, Rect};
use rayon::prelude::*;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use crate::error::OutputError;
use crate::hierarchy::{Hierarchy, Level};
use crate::outputs::frame::Frame;

/// Rounds coordinates to 6 decimals (about 10 cm) and orients rings the RFC 7946 way.
pub fn prepare(g: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    g.map_coords(|c| Coord { x: round6(c.x), y: round6(c.y) }).orient(geo::orient::Direction::Default)
}

fn round6(v: f64) -> f64 {
    let r = (v * 1e6).round() / 1e6;
    if r == 0.0 { 0.0 } else { r }
}

/// Geometries of every unit of a level: grids as read; communities, streets and districts as
/// the union of their grids (dissolved in parallel, one unit per task).
pub fn level_geometries(h: &Hierarchy, level: Level, grids: &[MultiPolygon<f64>]) -> Vec<MultiPolygon<f64>> {
    h.units(level)
        .par_iter()
        .map(|u| {
            if level == Level::Grid {
                return prepare(&grids[u.grids[0] as usize]);
            }
            let parts: Vec<&MultiPolygon<f64>> = u.grids.iter().map(|&g| &grids[g as usize]).collect();
            prepare(&geo::unary_union(parts))
        })
        .collect()
}

/// Integer feature id derived from the unit code alone, so it is the same every night:
/// a code of at most 15 digits is its own id (below 2^50); any other code is hashed
/// (FNV-1a) into [2^50, 2^53), which stays exact in JavaScript and never meets a numeric id.
pub fn stable_id(code: &str) -> i64 {
    if !code.is_empty() && code.len() <= 15 && code.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(v) = code.parse::<i64>() {
            return v;
        }
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in code.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let lo = 1u64 << 50;
    (lo + h % ((1u64 << 53) - lo)) as i64
}

/// What a written layer holds, for the manifest.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LayerInfo {
    pub features: usize,
    pub bbox: Option<[f64; 4]>,
}

/// Writes a FeatureCollection: one feature per frame row, properties = frame columns in order.
pub fn write_layer(path: &Path, name: &str, frame: &Frame, code_key: &str, geoms: &[MultiPolygon<f64>]) -> Result<LayerInfo, OutputError> {
    let enc = |message: String| OutputError::encode(path, message);
    let codes = match frame.column(code_key) {
        Some(crate::outputs::frame::Values::Str(v)) => v,
        _ => return Err(enc(format!("the table has no text column {code_key}"))),
    };
    if codes.len() != geoms.len() {
        return Err(enc(format!("{} rows but {} geometries", codes.len(), geoms.len())));
    }
    let mut ids: BTreeMap<i64, &str> = BTreeMap::new();
    for c in codes {
        let c = c.as_deref().unwrap_or("");
        if let Some(other) = ids.insert(stable_id(c), c) {
            return Err(enc(format!("codes {other:?} and {c:?} hash to the same feature id")));
        }
    }
    let bbox = geoms.iter().filter_map(|g| g.bounding_rect()).reduce(|a, b| {
        Rect::new(
            Coord { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
            Coord { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
        )
    });
    let bbox = bbox.map(|r| [round6(r.min().x), round6(r.min().y), round6(r.max().x), round6(r.max().y)]);
    let file = std::fs::File::create(path).map_err(OutputError::io(path))?;
    let mut w = std::io::BufWriter::new(file);
    let io = |e: std::io::Error| OutputError::Io { path: path.to_path_buf(), source: e };
    // Written member by member so key order is fixed: type, name, bbox, features.
    write!(w, "{{\"type\":\"FeatureCollection\",\"name\":{}", Value::String(name.to_string())).map_err(io)?;
    if let Some(b) = bbox {
        write!(w, ",\"bbox\":{}", json!(b)).map_err(io)?;
    }
    write!(w, ",\"features\":[").map_err(io)?;
    for (i, g) in geoms.iter().enumerate() {
        let mut props = Map::new();
        for c in &frame.columns {
            props.insert(c.key.clone(), c.values.json(i));
        }
        let geometry = if g.0.len() == 1 { geojson::Geometry::from(&g.0[0] as &Polygon<f64>) } else { geojson::Geometry::from(g) };
        let feature = json!({
            "type": "Feature",
            "id": stable_id(codes[i].as_deref().unwrap_or("")),
            "properties": Value::Object(props),
            "geometry": geometry,
        });
        if i > 0 {
            w.write_all(b",").map_err(io)?;
        }
        w.write_all(b"\n").map_err(io)?;
        serde_json::to_writer(&mut w, &feature).map_err(|e| enc(e.to_string()))?;
    }
    w.write_all(b"\n]}\n").map_err(io)?;
    w.flush().map_err(io)?;
    Ok(LayerInfo { features: geoms.len(), bbox })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn ids_are_numeric_codes_or_hashes_in_a_separate_range() {
        assert_eq!(stable_id("110101001001001"), 110_101_001_001_001);
        assert_eq!(stable_id("101"), 101);
        let h = stable_id("MANHATTAN 01");
        assert!(h >= 1 << 50 && h < 1 << 53);
        assert_eq!(h, stable_id("MANHATTAN 01"));
        assert_ne!(h, stable_id("MANHATTAN 02"));
        // 16 digits does not fit the numeric range: hashed.
        assert!(stable_id("1101010010010011") >= 1 << 50);
    }

    #[test]
    fn prepare_rounds_and_orients() {
        // Clockwise exterior with float noise.
        let p = polygon![(x: 0.0, y: 0.0), (x: 0.0, y: 1.000_000_4), (x: 1.0, y: 1.0), (x: 1.000_000_000_1, y: 0.0)];
        let g = prepare(&MultiPolygon::new(vec![p]));
        use geo::Winding;
        assert!(g.0[0].exterior().is_ccw());
        assert!(g.0[0].exterior().coords().all(|c| (c.x * 1e6).fract() == 0.0 && (c.y * 1e6).fract() == 0.0));
    }
}
