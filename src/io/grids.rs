//! Reads the grid layer (GeoJSON, or any format of `io/gis`) into `geo` MultiPolygons with
//! their hierarchy and population, converted to WGS84.
//!
//! Invalid, empty and duplicate-code grids are reported by code and handled as the pipeline
//! says (`grids.on_invalid`): repaired, skipped or fatal. Skipped grids reach the quarantine.
//! Coordinates that cannot be in the system the layer is read in (metres read as degrees, or
//! degrees read as metres) stop the run with the numbers and a guess of the system.

use geo::{Area, BoundingRect, MakeValid, MultiPolygon, Orient, Polygon, Rect, RemoveRepeatedPoints};
use geojson::JsonValue;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;

use super::gis::{self, LayerFormat};
use crate::config::{GridsConfig, OnInvalid};
use crate::vocab::crs::Crs;
use crate::vocab::error::ReadError;
use crate::vocab::reason::Reason;
use crate::vocab::units::{Grid, GridLayer, GridProblem, UnitRef};

/// Reads and checks the grid layer.
pub fn read_grids(cfg: &GridsConfig) -> Result<GridLayer, ReadError> {
    let layer = match LayerFormat::of(&cfg.path)? {
        LayerFormat::GeoJson => {
            let text = std::fs::read_to_string(&cfg.path).map_err(ReadError::io(&cfg.path))?;
            parse_grids(&cfg.path, &text, cfg)?
        }
        format => {
            let options = gis::ReadOptions { layer: cfg.layer.clone(), encoding: cfg.encoding };
            let read = gis::read(&cfg.path, format, &options)?;
            let (crs, crs_from) = decide_crs(cfg, read.crs);
            let has_level = levels(cfg);
            let features_read = read.features.len();
            let checked: Vec<Checked> = read
                .features
                .into_par_iter()
                .enumerate()
                .map(|(i, f)| check_feature(i, f.properties, Geometry::Geo(f.geometry), cfg, &crs, has_level))
                .collect();
            assemble(&cfg.path, checked, features_read, cfg, has_level, &crs, &crs_from)?
        }
    };
    match cfg.h3 {
        // The layer's polygons are what the H3 cells cover.
        Some(res) => super::h3::cells(&layer, res),
        None => Ok(layer),
    }
}

/// The system coordinates are read in: the pipeline's, else the file's, else WGS84; and
/// where that came from, for the manifest and the messages.
fn decide_crs(cfg: &GridsConfig, declared: Option<(Crs, String)>) -> (Crs, String) {
    match (&cfg.crs, declared) {
        (Some(c), Some((_, from))) => (c.clone(), format!("grids.crs (the file declares {from})")),
        (Some(c), None) => (c.clone(), "grids.crs".into()),
        (None, Some((c, from))) => (c, from),
        (None, None) => (Crs::Wgs84, "not declared: WGS84 assumed".into()),
    }
}

fn levels(cfg: &GridsConfig) -> [bool; 3] {
    let props = &cfg.properties;
    [props.community_code.is_some(), props.street_code.is_some(), props.district_code.is_some()]
}

/// The top level of a layer: the features are kept as raw text and parsed in parallel.
#[derive(serde::Deserialize)]
struct TopLevel<'a> {
    #[serde(rename = "type", borrow)]
    kind: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow)]
    features: Option<Vec<&'a serde_json::value::RawValue>>,
    /// The `crs` member of GeoJSON before RFC 7946 (GDAL still writes it for other systems).
    #[serde(default)]
    crs: Option<serde_json::Value>,
}

/// A feature's geometry as its reader gives it.
enum Geometry {
    GeoJson(Option<geojson::Geometry>),
    Geo(Result<Option<geo::Geometry<f64>>, String>),
}

/// A checked feature: the grid (if kept), its problems, and the extent of its coordinates as
/// written (before any conversion), for telling a layer read in the wrong system.
type Checked = (Option<Grid>, Vec<GridProblem>, Option<Rect<f64>>);

/// Parses grid-layer text (separate from the file read for tests).
pub fn parse_grids(path: &Path, text: &str, cfg: &GridsConfig) -> Result<GridLayer, ReadError> {
    let not_fc = |message: String| ReadError::GeoJson { path: path.to_path_buf(), message };
    let top: TopLevel<'_> = serde_json::from_str(text).map_err(|e| not_fc(e.to_string()))?;
    let features = match (top.kind.as_deref(), top.features) {
        (Some("FeatureCollection"), Some(f)) => f,
        _ => return Err(not_fc("the top level is not a FeatureCollection".into())),
    };
    // `"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}`
    let declared = match top.crs.as_ref().and_then(|c| c["properties"]["name"].as_str()) {
        Some(name) => match Crs::parse(name) {
            Ok(c) => Some((c, format!("the GeoJSON crs member: {name}"))),
            Err(e) if cfg.crs.is_none() => {
                return Err(ReadError::Crs { path: path.to_path_buf(), message: format!("the GeoJSON crs member: {e}") });
            }
            Err(_) => None,
        },
        None => None,
    };
    let (crs, crs_from) = decide_crs(cfg, declared);
    let has_level = levels(cfg);
    let features_read = features.len();
    // Each feature is parsed, checked (and repaired) on its own, in parallel; validity checks
    // are the costly part for detailed polygons. Results come back in file order.
    let checked: Vec<Result<Checked, ReadError>> = features
        .par_iter()
        .enumerate()
        .map(|(i, raw)| {
            let f: geojson::Feature = serde_json::from_str(raw.get()).map_err(|e| not_fc(at_file_position(text, raw.get(), &e)))?;
            Ok(check_feature(i, f.properties.unwrap_or_default(), Geometry::GeoJson(f.geometry), cfg, &crs, has_level))
        })
        .collect();
    let checked = checked.into_iter().collect::<Result<Vec<_>, ReadError>>()?;
    assemble(path, checked, features_read, cfg, has_level, &crs, &crs_from)
}

/// The checked features as a layer: duplicates merged or skipped, the coordinate system
/// checked against the coordinates, problems in feature order.
fn assemble(
    path: &Path,
    checked: Vec<Checked>,
    features_read: usize,
    cfg: &GridsConfig,
    has_level: [bool; 3],
    crs: &Crs,
    crs_from: &str,
) -> Result<GridLayer, ReadError> {
    check_system(path, &checked, crs, crs_from)?;
    let checked: Vec<(Option<Grid>, Vec<GridProblem>)> = checked.into_iter().map(|(g, p, _)| (g, p)).collect();
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
                let union = canonical(geo::unary_union(parts.iter().copied())).orient(geo::orient::Direction::Default);
                let sum = |f: fn(&Grid) -> Option<f64>| -> Option<f64> { same.iter().map(f).sum::<Option<f64>>() };
                let population = sum(|g| g.population);
                let households = sum(|g| g.households);
                for g in &same[1..] {
                    problems.push(GridProblem {
                        feature_index: g.feature_index,
                        code: code.clone(),
                        reason: Reason::GridDuplicateCode,
                        detail: format!("features {} share this code; merged into one grid", indices.join(", ")),
                        action: "repaired",
                        raw: String::new(),
                    });
                }
                let mut first = same.swap_remove(0);
                first.area_km2 = crate::vocab::area::area_km2(&union);
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
                        reason: Reason::GridDuplicateCode,
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
    Ok(GridLayer { path: path.to_path_buf(), grids, features_read, problems, has_level, crs: format!("{} ({crs_from})", crs.as_str()) })
}

/// Stops a layer read in a system its coordinates cannot be in: most features' coordinates
/// outside lon/lat ranges when read as degrees ("x = 12,950,000 is not a longitude"), or all
/// of them inside when read in metres.
fn check_system(path: &Path, checked: &[Checked], crs: &Crs, crs_from: &str) -> Result<(), ReadError> {
    let extents: Vec<&Rect<f64>> = checked.iter().filter_map(|c| c.2.as_ref()).collect();
    if extents.is_empty() {
        return Ok(());
    }
    let degrees = |r: &Rect<f64>| r.min().x >= -180.0 && r.max().x <= 180.0 && r.min().y >= -90.0 && r.max().y <= 90.0;
    let err = |message: String| Err(ReadError::Crs { path: path.to_path_buf(), message });
    if crs.is_geographic() {
        let outside: Vec<&&Rect<f64>> = extents.iter().filter(|r| !degrees(r)).collect();
        if let Some(r) = outside.first().filter(|_| outside.len() * 2 > extents.len()) {
            let (x, y) = (r.min().x, r.min().y);
            let what = if x.abs() > 180.0 { "a longitude" } else { "a latitude" };
            let shown = if x.abs() > 180.0 {
                format!("x = {}", crate::vocab::crs::grouped(x))
            } else {
                format!("y = {}", crate::vocab::crs::grouped(y))
            };
            return err(format!(
                "{shown} is not {what}: the layer looks {}; set grids.crs (the layer is read as {}: {crs_from}; {} of {} features lie outside lon/lat ranges)",
                crate::vocab::crs::guess_projected(x, y),
                crs.as_str(),
                outside.len(),
                extents.len()
            ));
        }
    } else if extents.iter().all(|r| degrees(r)) {
        let r = extents[0];
        return err(format!(
            "x = {} is not an easting in {}: the coordinates look like longitudes and latitudes; set grids.crs = \"wgs84\" (or the system they are in) (the layer is read as {}: {crs_from})",
            r.min().x,
            crs.as_str(),
            crs.as_str()
        ));
    }
    Ok(())
}

/// A serde error inside one feature, with its line and column in the whole file.
fn at_file_position(text: &str, part: &str, e: &serde_json::Error) -> String {
    let offset = (part.as_ptr() as usize).saturating_sub(text.as_ptr() as usize).min(text.len());
    let before = &text.as_bytes()[..offset];
    let line0 = before.iter().filter(|&&b| b == b'\n').count();
    let col0 = offset - before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let (line, column) = if e.line() <= 1 { (line0 + 1, col0 + e.column()) } else { (line0 + e.line(), e.column()) };
    let msg = e.to_string();
    let msg = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    format!("{msg} at line {line} column {column}")
}

/// Checks one feature: code, geometry type, emptiness, range, validity (repairing it if asked),
/// orientation, parents and population.
fn check_feature(i: usize, p: geojson::JsonObject, geometry: Geometry, cfg: &GridsConfig, crs: &Crs, has_level: [bool; 3]) -> Checked {
    let props = &cfg.properties;
    let mut problems = Vec::new();
    // The properties as JSON text, for the quarantine: only a feature with a problem needs it.
    let problem = |code: &str, reason: Reason, detail: String, action: &'static str| GridProblem {
        feature_index: i,
        code: code.to_string(),
        reason,
        detail,
        action,
        raw: JsonValue::Object(p.clone()).to_string(),
    };
    let Some(code) = text_prop(&p, &props.code).filter(|c| !c.is_empty()) else {
        problems.push(problem("", Reason::GridNoCode, format!("property {:?} is missing or empty", props.code), "skipped"));
        return (None, problems, None);
    };
    let geometry = match geometry {
        Geometry::GeoJson(g) => match geojson_polygons(g.as_ref()) {
            Ok((mp, unclosed)) => {
                if unclosed {
                    problems.push(problem(
                        &code,
                        Reason::GridInvalidGeometry,
                        "a ring is not closed (its last position differs from its first); closed it".into(),
                        "repaired",
                    ));
                }
                mp
            }
            Err((reason, detail)) => {
                problems.push(problem(&code, reason, detail, "skipped"));
                return (None, problems, None);
            }
        },
        Geometry::Geo(g) => match g {
            Ok(None) => None,
            Ok(Some(geo::Geometry::Polygon(p))) => Some(MultiPolygon::new(vec![p])),
            Ok(Some(geo::Geometry::MultiPolygon(mp))) => Some(mp),
            Ok(Some(other)) => {
                let kind = match other {
                    geo::Geometry::Point(_) => "Point",
                    geo::Geometry::MultiPoint(_) => "MultiPoint",
                    geo::Geometry::LineString(_) | geo::Geometry::Line(_) => "LineString",
                    geo::Geometry::MultiLineString(_) => "MultiLineString",
                    geo::Geometry::GeometryCollection(_) => "GeometryCollection",
                    _ => "non-polygon geometry",
                };
                problems.push(problem(
                    &code,
                    Reason::GridNotPolygon,
                    format!("geometry is a {kind}, expected Polygon or MultiPolygon"),
                    "skipped",
                ));
                return (None, problems, None);
            }
            Err(e) => {
                problems.push(problem(&code, Reason::GridNotPolygon, format!("geometry cannot be read: {e}"), "skipped"));
                return (None, problems, None);
            }
        },
    };
    // Empty means nothing to draw: no polygon or a degenerate extent. (Not "zero signed area": a
    // self-intersecting bow-tie has that, and is repairable.)
    let has_extent = |g: &MultiPolygon<f64>| g.bounding_rect().is_some_and(|r| r.width() > 0.0 && r.height() > 0.0);
    let Some(mut geometry) = geometry.filter(|g| !g.0.is_empty() && has_extent(g)) else {
        problems.push(problem(&code, Reason::GridEmptyGeometry, "geometry is null, empty or has zero area".into(), "skipped"));
        return (None, problems, None);
    };
    let extent = geometry.bounding_rect();
    if *crs != Crs::Wgs84 && *crs != Crs::Cgcs2000 {
        use geo::MapCoords;
        geometry = geometry.map_coords(|c| {
            let (x, y) = crs.to_wgs84(c.x, c.y);
            geo::Coord { x, y }
        });
    }
    if let Some(r) = geometry.bounding_rect() {
        if !(r.min().x >= -180.0 && r.max().x <= 180.0 && r.min().y >= -90.0 && r.max().y <= 90.0) {
            let detail = match extent {
                Some(e) if crs.is_geographic() => format!(
                    "coordinates outside lon/lat range (x {} to {}, y {} to {}); read as {}",
                    e.min().x,
                    e.max().x,
                    e.min().y,
                    e.max().y,
                    crs.as_str()
                ),
                _ => format!("coordinates outside lon/lat range once converted from {}: {:?}", crs.as_str(), r),
            };
            problems.push(problem(&code, Reason::GridInvalidGeometry, detail, "skipped"));
            return (None, problems, extent);
        }
    }
    // -0 and 0 become one coordinate: geo's sweep-line algorithms (validity repair, unions)
    // assert that they are (a fuzzed bow-tie with a `-0` panicked in `make_valid`).
    {
        use geo::MapCoordsInPlace;
        geometry.map_coords_in_place(|c| geo::Coord { x: c.x + 0.0, y: c.y + 0.0 });
    }
    geometry = geometry.remove_repeated_points();
    if let Some(detail) = super::validity::problem(&geometry) {
        match cfg.on_invalid {
            OnInvalid::Repair => match repair(&geometry) {
                Some(fixed) => {
                    problems.push(problem(&code, Reason::GridInvalidGeometry, detail, "repaired"));
                    geometry = fixed;
                }
                None => {
                    problems.push(problem(&code, Reason::GridInvalidGeometry, format!("{detail}; repair failed"), "skipped"));
                    return (None, problems, extent);
                }
            },
            OnInvalid::Skip | OnInvalid::Fail => {
                problems.push(problem(&code, Reason::GridInvalidGeometry, detail, "skipped"));
                return (None, problems, extent);
            }
        }
    }
    let geometry = geometry.orient(geo::orient::Direction::Default);
    let parent = |c: &Option<String>, n: &Option<String>| -> Option<UnitRef> {
        let code = text_prop(&p, c.as_ref()?).filter(|c| !c.is_empty())?;
        let name = n.as_ref().and_then(|n| text_prop(&p, n)).unwrap_or_else(|| code.clone());
        Some(UnitRef { code, name })
    };
    let mut parents = [
        parent(&props.community_code, &props.community_name),
        parent(&props.street_code, &props.street_name),
        parent(&props.district_code, &props.district_name),
    ];
    // A level keyed by its names: the code is the names from the highest level down, joined
    // by `/` (`朝阳区/建外街道/永安里社区`), so the same name under two parents stays two units.
    for lvl in (0..3).rev() {
        if props.keyed_by_name[lvl] {
            let above = parents[lvl + 1..].iter().find_map(|p| p.as_ref().map(|u| u.code.clone()));
            if let (Some(u), Some(above)) = (parents[lvl].as_mut(), above) {
                u.code = format!("{above}/{}", u.name);
            }
        }
    }
    for (lvl, (has, p)) in has_level.iter().zip(&parents).enumerate() {
        if *has && p.is_none() {
            let level = ["community", "street", "district"][lvl];
            problems.push(problem(&code, Reason::GridMissingParent, format!("no {level} code; the grid counts in no {level}"), "kept"));
        }
    }
    let mut number = |key: &Option<String>, what: &str| -> Option<f64> {
        let k = key.as_ref()?;
        match p.get(k) {
            None | Some(JsonValue::Null) => None,
            Some(v) => match number_of(v) {
                Some(x) if x >= 0.0 && x.is_finite() => Some(x),
                _ => {
                    problems.push(problem(
                        &code,
                        Reason::GridBadPopulation,
                        format!("{what} {v} is not a non-negative number; left empty"),
                        "kept",
                    ));
                    None
                }
            },
        }
    };
    let population = number(&props.population, "population");
    let households = number(&props.households, "households");
    let name = props.name.as_ref().and_then(|n| text_prop(&p, n)).unwrap_or_else(|| code.clone());
    let area_km2 = crate::vocab::area::area_km2(&geometry);
    let grid = Grid { code, name, parents, population, households, geometry, area_km2, feature_index: i };
    (Some(grid), problems, extent)
}

/// A GeoJSON geometry's polygons (`None`: null or empty), and whether a ring was left open;
/// or why it is not a polygon.
fn geojson_polygons(g: Option<&geojson::Geometry>) -> Result<(Option<MultiPolygon<f64>>, bool), (Reason, String)> {
    // RFC 7946 rings repeat their first position at the end; geo closes an open ring itself,
    // so an open one is reported as repaired.
    let open = |r: &Vec<geojson::Position>| r.len() >= 2 && r.first() != r.last();
    let unclosed = g.is_some_and(|g| match &g.value {
        geojson::GeometryValue::Polygon { coordinates } => coordinates.iter().any(open),
        geojson::GeometryValue::MultiPolygon { coordinates } => coordinates.iter().flatten().any(open),
        _ => false,
    });
    // Only Polygon and MultiPolygon are converted, and only once every position has two numbers
    // and every polygon a ring: the geojson crate's conversion indexes them and would panic.
    let polygons: Vec<&Vec<Vec<geojson::Position>>> = match g.map(|g| &g.value) {
        None => Vec::new(),
        Some(geojson::GeometryValue::Polygon { coordinates }) => vec![coordinates],
        Some(geojson::GeometryValue::MultiPolygon { coordinates }) => coordinates.iter().collect(),
        Some(other) => {
            return Err((Reason::GridNotPolygon, format!("geometry is a {}, expected Polygon or MultiPolygon", other.type_name())));
        }
    };
    if polygons.iter().flat_map(|p| p.iter().flatten()).any(|pos| pos.len() < 2) {
        return Err((Reason::GridNotPolygon, "a position has fewer than two numbers (lon, lat)".into()));
    }
    if polygons.is_empty() || polygons.iter().any(|p| p.is_empty()) {
        return Ok((None, unclosed));
    }
    match g.map(|g| geo::Geometry::<f64>::try_from(&g.value)) {
        Some(Ok(geo::Geometry::Polygon(p))) => Ok((Some(MultiPolygon::new(vec![p])), unclosed)),
        Some(Ok(geo::Geometry::MultiPolygon(mp))) => Ok((Some(mp), unclosed)),
        Some(Err(e)) => Err((Reason::GridNotPolygon, format!("geometry cannot be read: {e}"))),
        _ => Ok((None, unclosed)),
    }
}

/// Repairs an invalid (Multi)Polygon; `None` when nothing valid with an area is left.
fn repair(g: &MultiPolygon<f64>) -> Option<MultiPolygon<f64>> {
    // Signed zeros are gone already (`check_feature`); what still panics inside geo's repair is
    // a repair that failed, not a crash.
    let fixed = std::panic::catch_unwind(|| g.make_valid()).ok()?.ok()?;
    let fixed: MultiPolygon<f64> = MultiPolygon::new(fixed.0.into_iter().filter(|p: &Polygon<f64>| p.unsigned_area() > 0.0).collect());
    (super::validity::problem(&fixed).is_none() && !fixed.0.is_empty()).then(|| canonical(fixed))
}

/// The same area written one way: every ring starts at its smallest position (by lon, then
/// lat), holes and polygons come in the order of their first positions. geo's `make_valid`
/// walks hash sets seeded per process, so the rings it returns start anywhere and come in any
/// order; the layers written from them must be the same bytes on every run.
fn canonical(mp: MultiPolygon<f64>) -> MultiPolygon<f64> {
    let key = |c: &geo::Coord<f64>| (c.x, c.y);
    let cmp = |a: (f64, f64), b: (f64, f64)| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1));
    let ring = |ls: geo::LineString<f64>| {
        let mut c = ls.0;
        if c.len() > 1 && c.first() == c.last() {
            c.pop();
        }
        if let Some(k) = (0..c.len()).min_by(|&a, &b| cmp(key(&c[a]), key(&c[b]))) {
            c.rotate_left(k);
        }
        // `Polygon::new` closes the ring again.
        geo::LineString::new(c)
    };
    let first = |ls: &geo::LineString<f64>| ls.0.first().map_or((f64::INFINITY, f64::INFINITY), key);
    let mut polygons: Vec<Polygon<f64>> =
        mp.0.into_iter()
            .map(|p| {
                let (exterior, holes) = p.into_inner();
                let mut holes: Vec<geo::LineString<f64>> = holes.into_iter().map(ring).collect();
                holes.sort_by(|a, b| cmp(first(a), first(b)));
                Polygon::new(ring(exterior), holes)
            })
            .collect();
    polygons.sort_by(|a, b| cmp(first(a.exterior()), first(b.exterior())));
    MultiPolygon::new(polygons)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::GridProperties;
    use crate::vocab::crs::Crs;

    fn cfg(on_invalid: OnInvalid) -> GridsConfig {
        let mut properties = GridProperties::code_only("code");
        properties.population = Some("pop".into());
        GridsConfig {
            name: "grid".into(),
            h3: None,
            path: "test.geojson".into(),
            crs: Some(Crs::Wgs84),
            layer: None,
            encoding: None,
            aliases: None,
            on_invalid,
            properties,
        }
    }

    /// Feature 0 valid; 1 a bow-tie (self-intersecting); 2 null geometry; 3 a Point;
    /// 4 and 5 share code "D" (two adjacent squares); 6 has no code; 7 has a bad population.
    fn layer() -> String {
        let sq = |x: f64| format!("[[[{x},0],[{},0],[{},1],[{x},1],[{x},0]]]", x + 1.0, x + 1.0);
        let f = |code: &str, geom: &str, pop: &str| {
            format!(r#"{{"type":"Feature","properties":{{"code":{code},"pop":{pop}}},"geometry":{geom}}}"#)
        };
        let feats = [
            f("\"A\"", &format!(r#"{{"type":"Polygon","coordinates":{}}}"#, sq(0.0)), "100"),
            f("\"B\"", r#"{"type":"Polygon","coordinates":[[[2,0],[3,1],[3,0],[2,1],[2,0]]]}"#, "100"),
            f("\"C\"", "null", "100"),
            f("\"P\"", r#"{"type":"Point","coordinates":[5,5]}"#, "100"),
            f("\"D\"", &format!(r#"{{"type":"Polygon","coordinates":{}}}"#, sq(10.0)), "10"),
            f("\"D\"", &format!(r#"{{"type":"Polygon","coordinates":{}}}"#, sq(11.0)), "20"),
            f("null", &format!(r#"{{"type":"Polygon","coordinates":{}}}"#, sq(20.0)), "1"),
            f("7", &format!(r#"{{"type":"Polygon","coordinates":{}}}"#, sq(30.0)), "\"many\""),
        ];
        format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, feats.join(","))
    }

    fn reasons(l: &GridLayer) -> Vec<(usize, &str, &str, &str)> {
        l.problems.iter().map(|p| (p.feature_index, p.code.as_str(), p.reason.as_str(), p.action)).collect()
    }

    #[test]
    fn repaired_rings_are_written_one_way() {
        // A bow-tie with a hole, repaired many times (each repair walks freshly seeded hash
        // sets) and given with its rings rotated: always the same positions in the same order.
        let ring = |pts: &[(f64, f64)]| geo::LineString::from(pts.to_vec());
        let outer = [(0.0, 0.0), (2.0, 2.0), (2.0, 0.0), (0.0, 2.0), (0.0, 0.0)];
        let hole = [(1.6, 0.8), (1.8, 0.8), (1.8, 1.2), (1.6, 1.2), (1.6, 0.8)];
        let bow = MultiPolygon::new(vec![Polygon::new(ring(&outer), vec![ring(&hole)])]);
        let first = repair(&bow).expect("a repair");
        for _ in 0..30 {
            assert_eq!(repair(&bow).expect("a repair"), first);
        }
        let rotated = MultiPolygon::new(
            first
                .0
                .iter()
                .rev()
                .map(|p| {
                    let rot = |r: &geo::LineString<f64>| {
                        let mut c = r.0[..r.0.len() - 1].to_vec();
                        let half = c.len() / 2;
                        c.rotate_left(half);
                        geo::LineString::new(c)
                    };
                    Polygon::new(rot(p.exterior()), p.interiors().iter().rev().map(rot).collect())
                })
                .collect(),
        );
        assert_ne!(rotated, first);
        assert_eq!(canonical(rotated), first);
        assert!((first.unsigned_area() - (2.0 - 0.08)).abs() < 1e-9, "{}", first.unsigned_area());
    }

    #[test]
    fn a_bow_tie_with_a_negative_zero_is_repaired_not_a_panic() {
        let text = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"G1","pop":1},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[-0,1],[0,0]]]}}]}"#;
        let l = parse_grids(Path::new("t"), text, &cfg(OnInvalid::Repair)).expect("a layer");
        assert_eq!(l.grids.len(), 1);
        assert!((l.grids[0].geometry.unsigned_area() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn repair_fixes_what_it_can_and_reports_every_grid_by_code() {
        let l = parse_grids(Path::new("t"), &layer(), &cfg(OnInvalid::Repair)).expect("the test layer");
        let codes: Vec<&str> = l.grids.iter().map(|g| g.code.as_str()).collect();
        assert_eq!(codes, vec!["7", "A", "B", "D"], "sorted by code; numeric codes kept as text");
        assert_eq!(
            reasons(&l),
            vec![
                (1, "B", "grid_invalid_geometry", "repaired"),
                (2, "C", "grid_empty_geometry", "skipped"),
                (3, "P", "grid_not_polygon", "skipped"),
                (5, "D", "grid_duplicate_code", "repaired"),
                (6, "", "grid_no_code", "skipped"),
                (7, "7", "grid_bad_population", "kept"),
            ]
        );
        let b = &l.grids[l.index_of("B").expect("the test layer")];
        assert_eq!(super::super::validity::problem(&b.geometry), None);
        // The bow-tie's two triangles keep their area (2 × 0.25 square degrees).
        assert!((b.geometry.unsigned_area() - 0.5).abs() < 1e-9, "{}", b.geometry.unsigned_area());
        // Duplicates merge into one grid: the union of both squares, populations summed.
        let d = &l.grids[l.index_of("D").expect("the test layer")];
        assert!((d.geometry.unsigned_area() - 2.0).abs() < 1e-9);
        assert_eq!(d.population, Some(30.0));
        assert_eq!(l.grids[l.index_of("7").expect("the test layer")].population, None);
        // Rings come out counter-clockwise.
        use geo::Winding;
        assert!(l.grids.iter().all(|g| g.geometry.0.iter().all(|p| p.exterior().is_ccw())));
    }

    #[test]
    fn skip_leaves_invalid_and_duplicate_grids_out() {
        let l = parse_grids(Path::new("t"), &layer(), &cfg(OnInvalid::Skip)).expect("the test layer");
        let codes: Vec<&str> = l.grids.iter().map(|g| g.code.as_str()).collect();
        assert_eq!(codes, vec!["7", "A"]);
        assert!(l.problems.iter().any(|p| p.code == "B" && p.action == "skipped"));
        assert_eq!(l.problems.iter().filter(|p| p.code == "D" && p.action == "skipped").count(), 2);
    }

    #[test]
    fn fail_names_every_bad_grid() {
        let e = parse_grids(Path::new("t"), &layer(), &cfg(OnInvalid::Fail)).unwrap_err().to_string();
        for code in ["\"B\"", "\"C\"", "\"P\"", "\"D\""] {
            assert!(e.contains(code), "{code} not in: {e}");
        }
    }

    #[test]
    fn not_a_feature_collection_is_an_error_not_a_panic() {
        assert!(parse_grids(Path::new("t"), "{\"type\":\"Point\",\"coordinates\":[1,2]}", &cfg(OnInvalid::Repair)).is_err());
        assert!(parse_grids(Path::new("t"), "not json", &cfg(OnInvalid::Repair)).is_err());
        let empty = r#"{"type":"FeatureCollection","features":[]}"#;
        assert!(matches!(parse_grids(Path::new("t"), empty, &cfg(OnInvalid::Repair)), Err(ReadError::NoGrids { .. })));
    }
}
