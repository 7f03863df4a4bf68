//! Loads the real reference data (district polygons, streets, communities) and converts the
//! district polygons from GCJ-02 to WGS84 before anything else touches them.

use std::path::{Path, PathBuf};

use geo::orient::{Direction, Orient};
use geo::{Coord, LineString, MultiPolygon, Polygon};
use serde::Deserialize;
use serde_json::Value;

use super::SynthError;
use super::util::{clean_ring, round6};
use crate::vocab::crs;

pub(crate) const DISTRICTS_FILE: &str = "districts_gcj02.geojson";
pub(crate) const STREETS_FILE: &str = "streets.csv";
pub(crate) const COMMUNITIES_FILE: &str = "communities.csv";

pub(crate) struct District {
    pub code: String,
    pub name: String,
    /// WGS84, vertices rounded to 6 decimals, exterior CCW.
    pub shape: MultiPolygon<f64>,
}

pub(crate) struct Street {
    pub code: String,
    pub name: String,
    pub district: usize,
}

pub(crate) struct Community {
    pub code: String,
    pub name: String,
    pub street: usize,
}

pub(crate) struct Reference {
    /// Sorted by code.
    pub districts: Vec<District>,
    /// Sorted by code.
    pub streets: Vec<Street>,
    /// Sorted by code, so "the first m communities of a street" is well defined.
    pub communities: Vec<Community>,
}

fn is_code(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_digit())
}

/// Loads the reference data, keeping only the districts in `only` (all of them when it is
/// empty) with their streets and communities.
pub(crate) fn load(dir: &Path, only: &[String]) -> Result<Reference, SynthError> {
    let path = dir.join(DISTRICTS_FILE);
    let mut districts = load_districts(&path)?;
    if let Some(missing) = only.iter().find(|c| !districts.iter().any(|d| &d.code == *c)) {
        let known: Vec<&str> = districts.iter().map(|d| d.code.as_str()).collect();
        return Err(bad(&path, format!("no district {missing:?} (the districts are {})", known.join(", "))));
    }
    if !only.is_empty() {
        districts.retain(|d| only.contains(&d.code));
    }
    let kept = |district_code: &str| only.is_empty() || only.iter().any(|c| c == district_code);
    let streets = load_streets(&dir.join(STREETS_FILE), &districts, &kept)?;
    let communities = load_communities(&dir.join(COMMUNITIES_FILE), &streets, &kept)?;
    Ok(Reference { districts, streets, communities })
}

fn bad(path: &Path, msg: impl Into<String>) -> SynthError {
    SynthError::Reference { path: path.to_path_buf(), msg: msg.into() }
}

fn load_districts(path: &Path) -> Result<Vec<District>, SynthError> {
    let text = std::fs::read_to_string(path).map_err(|source| SynthError::Read { path: path.to_path_buf(), source })?;
    let root: Value = serde_json::from_str(&text).map_err(|e| bad(path, format!("not JSON: {e}")))?;
    let features = root.get("features").and_then(Value::as_array).ok_or_else(|| bad(path, "no \"features\" array"))?;
    let mut out = Vec::with_capacity(features.len());
    for (i, f) in features.iter().enumerate() {
        let prop = |k: &str| {
            f.get("properties")
                .and_then(|p| p.get(k))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| bad(path, format!("feature {i}: missing string property {k}")))
        };
        let code = prop("district_code")?;
        let name = prop("district_name")?;
        if !is_code(&code, 6) {
            return Err(bad(path, format!("feature {i}: district_code {code:?} is not 6 digits")));
        }
        let geom = f.get("geometry").ok_or_else(|| bad(path, format!("district {code}: no geometry")))?;
        let coords = geom.get("coordinates").ok_or_else(|| bad(path, format!("district {code}: no coordinates")))?;
        let polys = match geom.get("type").and_then(Value::as_str) {
            Some("Polygon") => vec![parse_polygon(coords, path, &code)?],
            Some("MultiPolygon") => coords
                .as_array()
                .ok_or_else(|| bad(path, format!("district {code}: MultiPolygon coordinates not an array")))?
                .iter()
                .map(|p| parse_polygon(p, path, &code))
                .collect::<Result<Vec<_>, _>>()?,
            other => {
                return Err(bad(path, format!("district {code}: unsupported geometry type {other:?}")));
            }
        };
        // No validity check here: geo's check is quadratic in the vertex count (minutes on
        // these 9,000-vertex rings in a debug build). The overlay used for clipping tolerates
        // rounding artefacts, and every cell cut from the district is validated instead.
        let shape = MultiPolygon::new(polys.into_iter().flatten().collect()).orient(Direction::Default);
        if shape.0.is_empty() {
            return Err(bad(path, format!("district {code}: empty geometry")));
        }
        out.push(District { code, name, shape });
    }
    out.sort_by(|a, b| a.code.cmp(&b.code));
    if let Some(w) = out.windows(2).find(|w| w[0].code == w[1].code) {
        return Err(bad(path, format!("district {} appears twice", w[0].code)));
    }
    Ok(out)
}

/// Parses one polygon's rings, converting each vertex GCJ-02 -> WGS84 and rounding to 6 decimals.
/// Returns None if the exterior collapses.
fn parse_polygon(v: &Value, path: &Path, code: &str) -> Result<Option<Polygon<f64>>, SynthError> {
    let rings = v.as_array().ok_or_else(|| bad(path, format!("district {code}: polygon is not an array of rings")))?;
    let mut parsed: Vec<LineString<f64>> = Vec::new();
    for (ri, ring) in rings.iter().enumerate() {
        let pts = ring.as_array().ok_or_else(|| bad(path, format!("district {code}: ring {ri} not an array")))?;
        let mut coords = Vec::with_capacity(pts.len());
        for p in pts {
            let (lon, lat) = match p.as_array().map(|a| (a.first().and_then(Value::as_f64), a.get(1).and_then(Value::as_f64))) {
                Some((Some(x), Some(y))) if x.is_finite() && y.is_finite() => (x, y),
                _ => {
                    return Err(bad(path, format!("district {code}: ring {ri} has a bad position {p}")));
                }
            };
            let (x, y) = crs::gcj02_to_wgs84(lon, lat);
            coords.push(Coord { x: round6(x), y: round6(y) });
        }
        match clean_ring(coords) {
            Some(r) => parsed.push(r),
            None if ri == 0 => return Ok(None),
            None => {}
        }
    }
    let mut it = parsed.into_iter();
    Ok(it.next().map(|ext| Polygon::new(ext, it.collect())))
}

#[derive(Deserialize)]
struct StreetRow {
    street_code: String,
    street_name: String,
    district_code: String,
}

#[derive(Deserialize)]
struct CommunityRow {
    community_code: String,
    community_name: String,
    street_code: String,
}

fn read_csv<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<(u64, T)>, SynthError> {
    let mut rdr = csv::Reader::from_path(path).map_err(|e| csv_err(path, e))?;
    let mut out = Vec::new();
    for rec in rdr.deserialize::<T>() {
        let row = rec.map_err(|e| csv_err(path, e))?;
        // Header is line 1; the position of the next record is not available after
        // deserialising, so count.
        out.push((out.len() as u64 + 2, row));
    }
    Ok(out)
}

fn csv_err(path: &Path, e: csv::Error) -> SynthError {
    SynthError::Reference { path: PathBuf::from(path), msg: e.to_string() }
}

fn load_streets(path: &Path, districts: &[District], kept: &dyn Fn(&str) -> bool) -> Result<Vec<Street>, SynthError> {
    let mut rows = read_csv::<StreetRow>(path)?;
    rows.sort_by(|a, b| a.1.street_code.cmp(&b.1.street_code));
    let mut out: Vec<Street> = Vec::with_capacity(rows.len());
    for (line, r) in rows {
        if !is_code(&r.street_code, 9) || !r.street_code.starts_with(&r.district_code) {
            return Err(bad(
                path,
                format!("line {line}: street_code {:?} is not 9 digits under district {:?}", r.street_code, r.district_code),
            ));
        }
        if out.last().is_some_and(|s| s.code == r.street_code) {
            return Err(bad(path, format!("line {line}: street {} appears twice", r.street_code)));
        }
        if !kept(&r.district_code) {
            continue;
        }
        let district = districts
            .binary_search_by(|d| d.code.as_str().cmp(&r.district_code))
            .map_err(|_| bad(path, format!("line {line}: district {} has no polygon in {DISTRICTS_FILE}", r.district_code)))?;
        out.push(Street { code: r.street_code, name: r.street_name, district });
    }
    Ok(out)
}

fn load_communities(path: &Path, streets: &[Street], kept: &dyn Fn(&str) -> bool) -> Result<Vec<Community>, SynthError> {
    let mut rows = read_csv::<CommunityRow>(path)?;
    rows.sort_by(|a, b| a.1.community_code.cmp(&b.1.community_code));
    let mut out: Vec<Community> = Vec::with_capacity(rows.len());
    for (line, r) in rows {
        if !is_code(&r.community_code, 12) || !r.community_code.starts_with(&r.street_code) {
            return Err(bad(
                path,
                format!("line {line}: community_code {:?} is not 12 digits under street {:?}", r.community_code, r.street_code),
            ));
        }
        if out.last().is_some_and(|c| c.code == r.community_code) {
            return Err(bad(path, format!("line {line}: community {} appears twice", r.community_code)));
        }
        if !kept(&r.street_code[..6]) {
            continue;
        }
        let street = streets
            .binary_search_by(|s| s.code.as_str().cmp(&r.street_code))
            .map_err(|_| bad(path, format!("line {line}: street {} is not in {STREETS_FILE}", r.street_code)))?;
        out.push(Community { code: r.community_code, name: r.community_name, street });
    }
    Ok(out)
}
