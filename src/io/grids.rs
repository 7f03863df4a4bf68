//! Reads the grid layer (GeoJSON) into `geo` MultiPolygons with their hierarchy and population.
//!
//! Invalid, empty and duplicate-code grids are reported by code and handled as the pipeline
//! says (`grids.on_invalid`): repaired, skipped or fatal. Skipped grids reach the quarantine.

use geo::{Area, BoundingRect, GeodesicArea, MakeValid, MultiPolygon, Orient, Polygon, RemoveRepeatedPoints, Validation};
use geojson::{GeoJson, JsonValue};
use serde::Serialize;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::resolve::{GridProperties, GridsConfig};
use crate::config::OnInvalid;
use crate::error::ReadError;

/// Code and name of a parent unit (community, street, district).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct UnitRef {
    pub code: String,
    pub name: String,
}

/// One grid cell, WGS84.
#[derive(Debug, Clone)]
pub struct Grid {
    pub code: String,
    pub name: String,
    /// Parents, in level order community, street, district; `None` where the layer has no such level.
    pub parents: [Option<UnitRef>; 3],
    pub population: Option<f64>,
    pub households: Option<f64>,
    pub geometry: MultiPolygon<f64>,
    /// Geodesic area on the WGS84 ellipsoid, km².
    pub area_km2: f64,
    /// Index of the feature in the input file (0-based), for messages.
    pub feature_index: usize,
}

/// What went wrong with one grid feature and what was done about it.
#[derive(Debug, Clone, Serialize)]
pub struct GridProblem {
    pub feature_index: usize,
    pub code: String,
    /// Reason code: `grid_no_code`, `grid_empty_geometry`, `grid_not_polygon`,
    /// `grid_invalid_geometry`, `grid_duplicate_code`, `grid_bad_population`.
    pub reason: &'static str,
    pub detail: String,
    /// `repaired`, `skipped` or `kept`.
    pub action: &'static str,
    /// The feature's properties as JSON text, for the quarantine.
    #[serde(skip)]
    pub raw: String,
}

/// The grid layer after checks: grids sorted by code (so index order is code order).
#[derive(Debug, Clone)]
pub struct GridLayer {
    pub path: PathBuf,
    pub grids: Vec<Grid>,
    pub features_read: usize,
    pub problems: Vec<GridProblem>,
    /// Which parent levels the layer has (community, street, district).
    pub has_level: [bool; 3],
}

impl GridLayer {
    /// Index of a grid by code.
    pub fn index_of(&self, code: &str) -> Option<usize> {
        self.grids.binary_search_by(|g| g.code.as_str().cmp(code)).ok()
    }
}

/// Reads and checks the grid layer.
pub fn read_grids(cfg: &GridsConfig) -> Result<GridLayer, ReadError> {
    let text = std::fs::read_to_string(&cfg.path).map_err(ReadError::io(&cfg.path))?;
    parse_grids(&cfg.path, &text, cfg)
}

/// Parses grid-layer text (separate from the file read for tests).
pub fn parse_grids(path: &Path, text: &str, cfg: &GridsConfig) -> Result<GridLayer, ReadError> {
    let gj: GeoJson = text.parse().map_err(|e: geojson::Error| ReadError::GeoJson { path: path.to_path_buf(), message: e.to_string() })?;
    let GeoJson::FeatureCollection(fc) = gj else {
        return Err(ReadError::GeoJson { path: path.to_path_buf(), message: "the top level is not a FeatureCollection".into() });
    };
    let props = &cfg.properties;
    let has_level = [props.community_code.is_some(), props.street_code.is_some(), props.district_code.is_some()];
    let features_read = fc.features.len();
    // Each feature is checked (and repaired) on its own, in parallel; validity checks are the
    // costly part for detailed polygons. Results come back in file order.
    let checked: Vec<(Option<Grid>, Vec<GridProblem>)> =
        fc.features.into_par_iter().enumerate().map(|(i, f)| check_feature(i, f, cfg, has_level)).collect();
    let mut problems = Vec::new();
    // Candidates by code, in file order, so duplicates can be merged or reported.
    let mut by_code: BTreeMap<String, Vec<Grid>> = BTreeMap::new();
    for (grid, ps) in checked {
        problems.extend(ps);
        if let Some(g) = grid {
            by_code.entry(g.code.clone()).or_default().push(g);
        }
    }
    let mut grids = Vec::with_capacity(by_code.len());
    for (code, mut same) in by_code {
        if same.len() == 1 {
            grids.extend(same);
            continue;
        }
        let indices: Vec<String> = same.iter().map(|g| g.feature_index.to_string()).collect();
        match cfg.on_invalid {
            OnInvalid::Repair => {
                // Merge: one grid whose area is the union, attributes from the first feature,
                // population and households summed (each feature described a part).
                let parts: Vec<&MultiPolygon<f64>> = same.iter().map(|g| &g.geometry).collect();
                let union = geo::unary_union(parts.iter().copied()).orient(geo::orient::Direction::Default);
                let sum = |f: fn(&Grid) -> Option<f64>| -> Option<f64> { same.iter().map(f).sum::<Option<f64>>() };
                let population = sum(|g| g.population);
                let households = sum(|g| g.households);
                for g in &same[1..] {
                    problems.push(GridProblem {
                        feature_index: g.feature_index,
                        code: code.clone(),
                        reason: "grid_duplicate_code",
                        detail: format!("features {} share this code; merged into one grid", indices.join(", ")),
                        action: "repaired",
                        raw: String::new(),
                    });
                }
                let mut first = same.swap_remove(0);
                first.area_km2 = union.geodesic_area_unsigned() / 1e6;
                first.geometry = union;
                first.population = population;
                first.households = households;
                grids.push(first);
            }
            OnInvalid::Skip | OnInvalid::Fail => {
                for g in &same {
                    problems.push(GridProblem {
                        feature_index: g.feature_index,
                        code: code.clone(),
                        reason: "grid_duplicate_code",
                        detail: format!("features {} share this code", indices.join(", ")),
                        action: "skipped",
                        raw: String::new(),
                    });
                }
            }
        }
    }
    problems.sort_by_key(|p| p.feature_index);
    if cfg.on_invalid == OnInvalid::Fail {
        let fatal: Vec<String> = problems
            .iter()
            .filter(|p| p.action == "skipped")
            .map(|p| format!("feature {} (code {:?}): {}: {}", p.feature_index, p.code, p.reason, p.detail))
            .collect();
        if !fatal.is_empty() {
            return Err(ReadError::InvalidGrids { path: path.to_path_buf(), problems: fatal });
        }
    }
    if grids.is_empty() {
        return Err(ReadError::NoGrids { path: path.to_path_buf() });
    }
    Ok(GridLayer { path: path.to_path_buf(), grids, features_read, problems, has_level })
}

/// Checks one feature: code, geometry type, emptiness, range, validity (repairing it if asked),
/// orientation, parents and population.
fn check_feature(i: usize, f: geojson::Feature, cfg: &GridsConfig, has_level: [bool; 3]) -> (Option<Grid>, Vec<GridProblem>) {
    let props = &cfg.properties;
    let mut problems = Vec::new();
    let p = f.properties.clone().unwrap_or_default();
    let raw = JsonValue::Object(p.clone()).to_string();
    let problem = |code: &str, reason: &'static str, detail: String, action: &'static str| GridProblem {
        feature_index: i,
        code: code.to_string(),
        reason,
        detail,
        action,
        raw: raw.clone(),
    };
    let Some(code) = text_prop(&p, &props.code).filter(|c| !c.is_empty()) else {
        problems.push(problem("", "grid_no_code", format!("property {:?} is missing or empty", props.code), "skipped"));
        return (None, problems);
    };
    let geometry = match f.geometry.as_ref().map(|g| geo::Geometry::<f64>::try_from(&g.value)) {
        None => None,
        Some(Ok(geo::Geometry::Polygon(p))) => Some(MultiPolygon::new(vec![p])),
        Some(Ok(geo::Geometry::MultiPolygon(mp))) => Some(mp),
        Some(Ok(other)) => {
            let kind = format!("{other:?}");
            let kind = kind.split('(').next().unwrap_or("?").to_string();
            problems.push(problem(&code, "grid_not_polygon", format!("geometry is a {kind}, expected Polygon or MultiPolygon"), "skipped"));
            return (None, problems);
        }
        Some(Err(e)) => {
            problems.push(problem(&code, "grid_not_polygon", format!("geometry cannot be read: {e}"), "skipped"));
            return (None, problems);
        }
    };
    let Some(mut geometry) = geometry.filter(|g| !g.0.is_empty() && g.unsigned_area() > 0.0) else {
        problems.push(problem(&code, "grid_empty_geometry", "geometry is null, empty or has zero area".into(), "skipped"));
        return (None, problems);
    };
    if cfg.crs != crate::crs::Crs::Wgs84 {
        use geo::MapCoords;
        geometry = geometry.map_coords(|c| {
            let (x, y) = cfg.crs.to_wgs84(c.x, c.y);
            geo::Coord { x, y }
        });
    }
    if let Some(r) = geometry.bounding_rect() {
        if !(r.min().x >= -180.0 && r.max().x <= 180.0 && r.min().y >= -90.0 && r.max().y <= 90.0) {
            problems.push(problem(&code, "grid_invalid_geometry", format!("coordinates outside lon/lat range: {:?}", r), "skipped"));
            return (None, problems);
        }
    }
    geometry = geometry.remove_repeated_points();
    if let Err(e) = geometry.check_validation() {
        let detail = e.to_string();
        match cfg.on_invalid {
            OnInvalid::Repair => match repair(&geometry) {
                Some(fixed) => {
                    problems.push(problem(&code, "grid_invalid_geometry", detail, "repaired"));
                    geometry = fixed;
                }
                None => {
                    problems.push(problem(&code, "grid_invalid_geometry", format!("{detail}; repair failed"), "skipped"));
                    return (None, problems);
                }
            },
            OnInvalid::Skip | OnInvalid::Fail => {
                problems.push(problem(&code, "grid_invalid_geometry", detail, "skipped"));
                return (None, problems);
            }
        }
    }
    let geometry = geometry.orient(geo::orient::Direction::Default);
    let parent = |c: &Option<String>, n: &Option<String>| -> Option<UnitRef> {
        let code = text_prop(&p, c.as_ref()?)?;
        let name = n.as_ref().and_then(|n| text_prop(&p, n)).unwrap_or_else(|| code.clone());
        Some(UnitRef { code, name })
    };
    let parents = [
        parent(&props.community_code, &props.community_name),
        parent(&props.street_code, &props.street_name),
        parent(&props.district_code, &props.district_name),
    ];
    for (lvl, (has, p)) in has_level.iter().zip(&parents).enumerate() {
        if *has && p.is_none() {
            let level = ["community", "street", "district"][lvl];
            problems.push(problem(&code, "grid_missing_parent", format!("no {level} code; the grid counts in no {level}"), "kept"));
        }
    }
    let mut number = |key: &Option<String>, what: &str| -> Option<f64> {
        let k = key.as_ref()?;
        match p.get(k) {
            None | Some(JsonValue::Null) => None,
            Some(v) => match number_of(v) {
                Some(x) if x >= 0.0 && x.is_finite() => Some(x),
                _ => {
                    problems.push(problem(&code, "grid_bad_population", format!("{what} {v} is not a non-negative number; left empty"), "kept"));
                    None
                }
            },
        }
    };
    let population = number(&props.population, "population");
    let households = number(&props.households, "households");
    let name = props.name.as_ref().and_then(|n| text_prop(&p, n)).unwrap_or_else(|| code.clone());
    let area_km2 = geometry.geodesic_area_unsigned() / 1e6;
    let grid = Grid {
        code,
        name,
        parents,
        population,
        households,
        geometry,
        area_km2,
        feature_index: i,
    };
    (Some(grid), problems)
}

/// Repairs an invalid (Multi)Polygon; `None` when nothing valid with an area is left.
fn repair(g: &MultiPolygon<f64>) -> Option<MultiPolygon<f64>> {
    let fixed = g.make_valid().ok()?;
    let fixed: MultiPolygon<f64> = MultiPolygon::new(fixed.0.into_iter().filter(|p: &Polygon<f64>| p.unsigned_area() > 0.0).collect());
    (fixed.is_valid() && !fixed.0.is_empty()).then_some(fixed)
}

/// A property as text: strings as they are (trimmed), integers without a decimal point.
fn text_prop(p: &geojson::JsonObject, key: &str) -> Option<String> {
    match p.get(key)? {
        JsonValue::String(s) => Some(s.trim().to_string()),
        JsonValue::Number(n) => Some(match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            _ => n.to_string(),
        }),
        JsonValue::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn number_of(v: &JsonValue) -> Option<f64> {
    match v {
        JsonValue::Number(n) => n.as_f64(),
        JsonValue::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Grid properties of a layer as configured, for tests and tools.
pub fn default_properties(code: &str) -> GridProperties {
    GridProperties {
        code: code.into(),
        name: None,
        community_code: None,
        community_name: None,
        street_code: None,
        street_name: None,
        district_code: None,
        district_name: None,
        population: None,
        households: None,
    }
}
