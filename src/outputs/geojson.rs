//! GeoJSON layers (RFC 7946) that QGIS, ArcGIS, kepler.gl and geopandas open without a warning:
//! WGS84 lon/lat, no `crs`, exterior rings counter-clockwise and holes clockwise, coordinates
//! rounded to 6 decimals, a top-level `name` and `bbox`, integer feature ids stable across runs,
//! and every feature with the same property keys, each key of one JSON type.

use geo::{BoundingRect, Coord, MapCoords, MultiPolygon, Orient, Polygon, Rect};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use crate::vocab::error::OutputError;
use crate::vocab::frame::Frame;
use crate::vocab::hash::HashingWriter;
use crate::vocab::units::{Hierarchy, Level};

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
pub fn level_geometries(h: &Hierarchy, level: Level, grids: &[&MultiPolygon<f64>]) -> Vec<MultiPolygon<f64>> {
    h.units(level)
        .par_iter()
        .map(|u| {
            if level == Level::Grid {
                return prepare(grids[u.grids[0] as usize]);
            }
            let parts: Vec<&MultiPolygon<f64>> = u.grids.iter().map(|&g| grids[g as usize]).collect();
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
    pub sha256: String,
    pub bytes: u64,
}

/// Writes a FeatureCollection: one feature per frame row, properties = the frame's columns in
/// order, then `extra` columns. Features are encoded in parallel, straight to bytes (no JSON
/// value tree), a window at a time, and written in order; the file's sha256 is computed as it
/// is written.
pub fn write_layer(
    path: &Path,
    name: &str,
    frame: &Frame,
    extra: &[crate::vocab::frame::Column],
    code_key: &str,
    geoms: &[MultiPolygon<f64>],
) -> Result<LayerInfo, OutputError> {
    let enc = |message: String| OutputError::encode(path, message);
    let codes = match frame.column(code_key) {
        Some(crate::vocab::frame::Values::Str(v)) => v,
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
    // Property keys, escaped once.
    let columns: Vec<&crate::vocab::frame::Column> = frame.columns.iter().chain(extra).collect();
    let keys: Vec<Vec<u8>> = columns
        .iter()
        .map(|c| {
            let mut k = Vec::new();
            crate::vocab::frame::json_str(&c.key, &mut k);
            k.push(b':');
            k
        })
        .collect();
    let feature = |i: usize, out: &mut Vec<u8>| {
        out.extend_from_slice(if i > 0 { b",\n" } else { b"\n" });
        out.extend_from_slice(b"{\"type\":\"Feature\",\"id\":");
        out.extend_from_slice(itoa::Buffer::new().format(stable_id(codes[i].as_deref().unwrap_or(""))).as_bytes());
        out.extend_from_slice(b",\"properties\":{");
        for (k, (key, c)) in keys.iter().zip(&columns).enumerate() {
            if k > 0 {
                out.push(b',');
            }
            out.extend_from_slice(key);
            c.values.write_json(i, out);
        }
        out.extend_from_slice(b"},\"geometry\":");
        write_geometry(&geoms[i], out);
        out.push(b'}');
    };
    let file = std::fs::File::create(path).map_err(OutputError::io(path))?;
    let mut w = HashingWriter::new(std::io::BufWriter::with_capacity(1 << 20, file));
    let io = |e: std::io::Error| OutputError::Io { path: path.to_path_buf(), source: e };
    // Written member by member so key order is fixed: type, name, bbox, features.
    let mut head = Vec::new();
    head.extend_from_slice(b"{\"type\":\"FeatureCollection\",\"name\":");
    crate::vocab::frame::json_str(name, &mut head);
    if let Some(b) = bbox {
        head.extend_from_slice(b",\"bbox\":[");
        for (k, v) in b.iter().enumerate() {
            if k > 0 {
                head.push(b',');
            }
            coordinate(*v, &mut head);
        }
        head.push(b']');
    }
    head.extend_from_slice(b",\"features\":[");
    w.write_all(&head).map_err(io)?;
    // A window of features at a time, in chunks encoded in parallel: memory stays a few
    // megabytes whatever the layer's size.
    const CHUNK: usize = 256;
    const WINDOW: usize = 16 * CHUNK;
    for window in (0..geoms.len()).step_by(WINDOW) {
        let end = (window + WINDOW).min(geoms.len());
        let chunks: Vec<Vec<u8>> = (window..end)
            .step_by(CHUNK)
            .collect::<Vec<usize>>()
            .into_par_iter()
            .map(|c| {
                let mut out = Vec::with_capacity(64 * 1024);
                for i in c..(c + CHUNK).min(end) {
                    feature(i, &mut out);
                }
                out
            })
            .collect();
        for c in &chunks {
            w.write_all(c).map_err(io)?;
        }
    }
    w.write_all(b"\n]}\n").map_err(io)?;
    let (mut buf, sha256, bytes) = w.finish();
    buf.flush().map_err(io)?;
    Ok(LayerInfo { features: geoms.len(), bbox, sha256, bytes })
}

/// A MultiPolygon geometry, coordinates as they are (already rounded and oriented by
/// `prepare`).
fn write_geometry(g: &MultiPolygon<f64>, out: &mut Vec<u8>) {
    let polygon = |p: &Polygon<f64>, out: &mut Vec<u8>| {
        out.push(b'[');
        for (r, ring) in std::iter::once(p.exterior()).chain(p.interiors()).enumerate() {
            if r > 0 {
                out.push(b',');
            }
            out.push(b'[');
            for (k, c) in ring.0.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                out.push(b'[');
                coordinate(c.x, out);
                out.push(b',');
                coordinate(c.y, out);
                out.push(b']');
            }
            out.push(b']');
        }
        out.push(b']');
    };
    // Always a MultiPolygon, even of one part: one geometry type per layer, so QGIS and
    // ArcGIS see a polygon layer rather than "Unknown (any)" geometry.
    out.extend_from_slice(b"{\"type\":\"MultiPolygon\",\"coordinates\":[");
    for (k, p) in g.0.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        polygon(p, out);
    }
    out.push(b']');
    out.push(b'}');
}

/// A coordinate already rounded to 6 decimals, written as serde_json writes it (shortest
/// round-trip form, `.0` for whole numbers): from its integer count of micro-degrees, which
/// gives the same digits for every value of at least 0.001 in magnitude.
fn coordinate(v: f64, out: &mut Vec<u8>) {
    let m = (v * 1e6).round();
    if !(v.abs() >= 1e-3 && m.abs() < 9e15 && m / 1e6 == v) {
        use serde_json::ser::Formatter;
        if v.is_finite() {
            let _ = serde_json::ser::CompactFormatter.write_f64(out, v);
        } else {
            out.extend_from_slice(b"null");
        }
        return;
    }
    let m = m as i64;
    if m < 0 {
        out.push(b'-');
    }
    let a = m.unsigned_abs();
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(a / 1_000_000).as_bytes());
    out.push(b'.');
    let frac = a % 1_000_000;
    if frac == 0 {
        out.push(b'0');
    } else {
        let mut d = [0u8; 6];
        let mut f = frac;
        for k in (0..6).rev() {
            d[k] = b'0' + (f % 10) as u8;
            f /= 10;
        }
        let mut len = 6;
        while d[len - 1] == b'0' {
            len -= 1;
        }
        out.extend_from_slice(&d[..len]);
    }
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
    fn coordinates_print_as_serde_json_prints_them() {
        let mut x: u64 = 1;
        let mut vals = vec![0.0, 116.0, -116.0, 115.9, 39.6, 0.001, -0.001, 0.000_001, 179.999_999, -180.0, 1e-7, 12.5];
        for _ in 0..100_000 {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            vals.push(round6(((x >> 11) as f64 / (1u64 << 53) as f64) * 360.0 - 180.0));
        }
        for v in vals {
            let mut a = Vec::new();
            coordinate(v, &mut a);
            assert_eq!(String::from_utf8(a).expect("ASCII"), serde_json::to_string(&v).expect("a number"), "{v}");
        }
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

/// Writes a point layer: one feature per frame row at (`lon`, `lat`), properties = the frame's
/// other columns, feature ids 1, 2, … in row order (the hot-spot layer, whose ids are ranks).
pub fn write_points(path: &Path, name: &str, frame: &Frame) -> Result<LayerInfo, OutputError> {
    let enc = |message: String| OutputError::encode(path, message);
    let (lon, lat) = (frame.floats("lon"), frame.floats("lat"));
    if frame.column("lon").is_none() || frame.column("lat").is_none() {
        return Err(enc("the table has no lon and lat columns".into()));
    }
    let columns: Vec<&crate::vocab::frame::Column> = frame.columns.iter().filter(|c| c.key != "lon" && c.key != "lat").collect();
    let mut out = Vec::new();
    out.extend_from_slice(b"{\"type\":\"FeatureCollection\",\"name\":");
    crate::vocab::frame::json_str(name, &mut out);
    let pts: Vec<(f64, f64)> = lon.iter().zip(&lat).filter_map(|(x, y)| Some((round6((*x)?), round6((*y)?)))).collect();
    if !pts.is_empty() {
        let (mut a, mut b) = ((f64::MAX, f64::MAX), (f64::MIN, f64::MIN));
        for p in &pts {
            a = (a.0.min(p.0), a.1.min(p.1));
            b = (b.0.max(p.0), b.1.max(p.1));
        }
        let _ = write!(out, ",\"bbox\":[{},{},{},{}]", a.0, a.1, b.0, b.1);
    }
    out.extend_from_slice(b",\"features\":[");
    for i in 0..frame.height() {
        out.extend_from_slice(if i > 0 { b",\n" } else { b"\n" });
        let _ = write!(out, "{{\"type\":\"Feature\",\"id\":{},\"properties\":{{", i + 1);
        for (k, c) in columns.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            crate::vocab::frame::json_str(&c.key, &mut out);
            out.push(b':');
            c.values.write_json(i, &mut out);
        }
        out.extend_from_slice(b"},\"geometry\":");
        match (lon[i], lat[i]) {
            (Some(x), Some(y)) => {
                let _ = write!(out, "{{\"type\":\"Point\",\"coordinates\":[{},{}]}}", round6(x), round6(y));
            }
            _ => out.extend_from_slice(b"null"),
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"\n]}\n");
    let file = std::fs::File::create(path).map_err(OutputError::io(path))?;
    let mut w = HashingWriter::new(std::io::BufWriter::new(file));
    w.write_all(&out).map_err(OutputError::io(path))?;
    let (mut buf, sha256, bytes) = w.finish();
    buf.flush().map_err(OutputError::io(path))?;
    let bbox = (!pts.is_empty()).then(|| {
        let xs = pts.iter().map(|p| p.0);
        let ys = pts.iter().map(|p| p.1);
        [xs.clone().fold(f64::MAX, f64::min), ys.clone().fold(f64::MAX, f64::min), xs.fold(f64::MIN, f64::max), ys.fold(f64::MIN, f64::max)]
    });
    Ok(LayerInfo { features: frame.height(), bbox, sha256, bytes })
}
