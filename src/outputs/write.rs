//! Writes everything of a run into its run folder except the manifest: layers (with classes
//! and QGIS styles when charts are on), tables, charts, report, dictionary and rejects.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;

use crate::config::Pipeline;
use crate::indicators::{Results, registry};
use crate::outputs::charts::{MappedLevel, write_charts};
use crate::outputs::classes::Classes;
use crate::outputs::manifest::{Output, SourceAccount};
use crate::outputs::publish::RunDir;
use crate::outputs::{geojson, gis, qml, tables};
use crate::vocab::error::OutputError;
use crate::vocab::frame::Frame;
use crate::vocab::hash::{relative, sha256_file};
use crate::vocab::lang::Lang;
use crate::vocab::stage::{Stage, Timings};
use crate::vocab::units::{GridLayer, Hierarchy, Level};

/// What the writers read.
pub struct Inputs<'a> {
    pub p: &'a Pipeline,
    pub h: &'a Hierarchy,
    pub layer: &'a GridLayer,
    pub results: &'a Results,
    pub accounts: &'a [SourceAccount],
    /// The `case_assignments` table, when the pipeline asks for it.
    pub assignments: Option<&'a Frame>,
    /// The cases located by a point and their WGS84 points (`[outputs] case_points`).
    pub case_points: Option<&'a (Frame, Vec<(f64, f64)>)>,
    /// The most overdue open cases (`[outputs] overdue_list`).
    pub overdue: Option<&'a Frame>,
    pub exit_code: i32,
}

/// Writes the run's files (the quarantine has written `rejects.csv` as the run went); returns
/// each with its hash and count, for the manifest.
pub fn write_outputs(dir: &RunDir, i: &Inputs<'_>, timings: &mut Timings) -> Result<Vec<Output>, OutputError> {
    let Inputs { p, h, layer, results, accounts, assignments, case_points, overdue, exit_code } = *i;
    let mut outputs: Vec<Output> = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |stage: Stage, timings: &mut Timings| {
        timings.set(stage, clock.elapsed().as_secs_f64());
        clock = Instant::now();
    };
    let grid_geoms: Vec<&geo::MultiPolygon<f64>> = layer.grids.iter().map(|g| &g.geometry).collect();
    // Stage seconds summed over the levels, which are written in parallel (one task each).
    let stage = std::sync::Mutex::new(BTreeMap::<Stage, f64>::new());
    let add = |name: Stage, since: Instant| {
        if let Ok(mut m) = stage.lock() {
            *m.entry(name).or_default() += since.elapsed().as_secs_f64();
        }
    };
    type LevelOut = (Vec<Output>, Option<(Level, Vec<geo::MultiPolygon<f64>>, Classes, Vec<usize>)>);
    let per_level: Vec<Result<LevelOut, OutputError>> = results
        .levels
        .par_iter()
        .map(|lt| -> Result<LevelOut, OutputError> {
            let mut outputs = Vec::new();
            let lv = lt.level.as_str();
            let write_layer = p.outputs.layers.iter().any(|l| l == lv);
            // The charts map the grid and street levels and outline the districts.
            // The service-circle map and layer show communities.
            let coverage_layer = results.coverage.is_some() && lt.level == Level::Community;
            let charted = p.charts.is_some() && (matches!(lt.level, Level::Grid | Level::Street | Level::District) || coverage_layer);
            let mut mapped = None;
            let t = Instant::now();
            if write_layer || charted || coverage_layer {
                let geoms = geojson::level_geometries(h, lt.level, &grid_geoms);
                add(Stage::Dissolve, t);
                let t = Instant::now();
                if coverage_layer {
                    let path = dir.path.join("coverage.geojson");
                    let frame = coverage_frame(&lt.period);
                    let name = format!("{}_coverage", p.name);
                    let info = geojson::write_layer(&path, &name, &frame, &[], "community_code", &geoms)?;
                    outputs.push(layer_output(&path, &dir.path, info, None));
                    outputs.extend(other_formats(p, &path, &dir.path, &name, &frame.columns, &[], &geoms)?);
                }
                // With charts, the layer carries the map classes and gets a QGIS style beside it.
                let classes = p
                    .charts
                    .as_ref()
                    .map(|c| Classes::of_table(&lt.period, &c.map_indicator, p.indicators.min_n, c.classes, c.breaks.as_deref()))
                    .map(|(classes, class_of)| (classes.in_lang(p.language), class_of));
                if write_layer {
                    let path = dir.path.join(format!("{lv}.geojson"));
                    let mut extra = Frame::default();
                    if let Some((classes, class_of)) = &classes {
                        extra.int("class", class_of.iter().map(|&c| Some(c as i64)).collect());
                        extra.str("class_label", class_of.iter().map(|&c| Some(classes.labels[c].clone())).collect());
                    }
                    let name = format!("{}_{lv}", p.name);
                    let info = geojson::write_layer(&path, &name, &lt.period, &extra.columns, &format!("{lv}_code"), &geoms)?;
                    outputs.push(layer_output(&path, &dir.path, info, classes.as_ref().map(|(c, _)| c.clone())));
                    outputs.extend(other_formats(p, &path, &dir.path, &name, &lt.period.columns, &extra.columns, &geoms)?);
                    if let Some((classes, _)) = &classes {
                        let qml_path = dir.path.join(format!("{lv}.qml"));
                        let keys: Vec<&str> = lt.period.columns.iter().chain(&extra.columns).map(|c| c.key.as_str()).collect();
                        qml::write_qml(&qml_path, classes, &keys, p.language)?;
                        outputs.push(output_of(&qml_path, &dir.path, classes.k() as u64 + 1)?);
                    }
                }
                if let Some((classes, class_of)) = classes.filter(|_| charted) {
                    mapped = Some((lt.level, geoms, classes, class_of));
                }
                add(Stage::WriteGeojson, t);
            }
            let t = Instant::now();
            for (stem, f) in [(lv.to_string(), &lt.period), (format!("{lv}_monthly"), &lt.monthly)] {
                outputs.extend(write_tables(&dir.path, &dir.path, &stem, f, &p.outputs.formats)?);
            }
            add(Stage::WriteTables, t);
            Ok((outputs, mapped))
        })
        .collect();
    let mut mapped: Vec<(Level, Vec<geo::MultiPolygon<f64>>, Classes, Vec<usize>)> = Vec::new();
    for r in per_level {
        let (outs, m) = r?;
        outputs.extend(outs);
        mapped.extend(m);
    }
    for (k, v) in stage.into_inner().unwrap_or_default() {
        timings.set(k, v);
    }
    lap(Stage::LevelsTotal, timings);
    let mut extra: Vec<(String, &Frame)> = vec![("city".into(), &results.city), ("city_monthly".into(), &results.city_monthly)];
    extra.extend(results.dimensions.iter().map(|(d, f)| (format!("by_{d}"), f)));
    extra.extend(results.whistle_departments.iter().map(|f| ("by_whistle_department".to_string(), f)));
    extra.extend(results.hotspots.iter().map(|f| ("hotspots".to_string(), f)));
    extra.extend(results.member_organisations.iter().map(|f| ("by_member_organisation".to_string(), f)));
    if let Some((units, components)) = &results.assessment {
        extra.push(("assessment".to_string(), units));
        extra.push(("assessment_components".to_string(), components));
    }
    if let Some(c) = &results.coverage {
        extra.push(("coverage_items".to_string(), &c.items));
        extra.push(("facilities".to_string(), &c.facilities));
        // The facilities as a point layer (WGS84).
        let path = dir.path.join("facilities.geojson");
        let name = format!("{}_facilities", p.name);
        let info = geojson::write_points(&path, &name, &c.facilities)?;
        outputs.push(layer_output(&path, &dir.path, info, None));
        outputs.extend(other_point_formats(&p.outputs.layer_formats, &path, &dir.path, &name, &c.facilities)?);
    }
    if let Some(f) = &results.hotspots {
        // The hot spots as a point layer (WGS84), beside the unit layers.
        let path = dir.path.join("hotspots.geojson");
        let name = format!("{}_hotspots", p.name);
        let info = geojson::write_points(&path, &name, f)?;
        outputs.push(layer_output(&path, &dir.path, info, None));
        outputs.extend(other_point_formats(&p.outputs.layer_formats, &path, &dir.path, &name, f)?);
    }
    for (stem, f) in extra {
        outputs.extend(write_tables(&dir.path, &dir.path, &stem, f, &p.outputs.formats)?);
    }
    if p.sources_of("signups").next().is_some() {
        for (stem, f) in [("signup_projects", &results.signup_projects), ("signup_curve", &results.signup_curve)] {
            outputs.extend(write_tables(&dir.path, &dir.path, stem, f, &p.outputs.formats)?);
        }
    }
    if p.outputs.formats.iter().any(|f| f == "xlsx") {
        let path = dir.path.join("tables.xlsx");
        let sheets = workbook_sheets(results, overdue, p.language);
        let w = crate::outputs::excel::write_workbook(&path, &sheets, p.period.as_of, p.language)?;
        outputs.push(written(w, &dir.path, sheets.len() + 1));
    }
    lap(Stage::WriteOtherTables, timings);
    if let Some(f) = assignments {
        outputs.extend(write_tables(&dir.path, &dir.path, "case_assignments", f, &p.outputs.formats)?);
    }
    if let Some((frame, points)) = case_points {
        // The cases as points, in the two formats made for millions of features.
        let mut f = frame.clone();
        f.float("lon", points.iter().map(|p| Some(p.0)).collect(), 6);
        f.float("lat", points.iter().map(|p| Some(p.1)).collect(), 6);
        let formats = ["parquet".to_string(), "fgb".to_string()];
        outputs.extend(other_point_formats(
            &formats,
            &dir.path.join("case_points.geojson"),
            &dir.path,
            &format!("{}_case_points", p.name),
            &f,
        )?);
    }
    if let Some(f) = overdue {
        outputs.extend(write_tables(&dir.path, &dir.path, "overdue_open", f, &p.outputs.formats)?);
    }
    let mut charts = Vec::new();
    let mut map = None;
    if let Some(c) = &p.charts {
        let outlines = mapped.iter().find(|m| m.0 == Level::District).map(|m| m.1.clone()).unwrap_or_default();
        let maps: Vec<MappedLevel<'_>> =
            mapped.iter().map(|(level, geoms, classes, class_of)| MappedLevel { level: *level, geoms, classes, class_of }).collect();
        charts = write_charts(&dir.path.join("charts"), p, c, results, &maps, &outlines)?;
        map = crate::outputs::webmap::map_html(p, results, &maps);
        for ch in &charts {
            for f in [&ch.svg, &ch.png, &ch.csv] {
                outputs.push(output_of(f, &dir.path, 1)?);
            }
        }
        lap(Stage::Charts, timings);
    }
    let dict = dir.path.join("dictionary.csv");
    let n = write_dictionary(&dict, results, overdue)?;
    outputs.push(output_of(&dict, &dir.path, n as u64)?);
    if p.charts.is_some() {
        let path = dir.path.join("report.html");
        crate::outputs::report::write_report(&path, p, results, accounts, &charts, map.as_deref(), &outputs, overdue, exit_code)?;
        outputs.push(output_of(&path, &dir.path, charts.len() as u64)?);
    }
    lap(Stage::WriteReport, timings);
    Ok(outputs)
}

/// One grid network besides the first, for `write_networks`.
pub struct NetworkOut<'a> {
    pub name: &'a str,
    pub h: &'a Hierarchy,
    pub layer: &'a GridLayer,
    pub results: &'a Results,
    /// Its cells that straddle the first network's communities or streets.
    pub straddling: &'a Frame,
}

/// Each other network's level tables, layers and straddling cells in `networks/<name>/`, and
/// the tables of all networks together (crosswalks, disagreements, summary) at the top.
pub fn write_networks(dir: &RunDir, p: &Pipeline, nets: &[NetworkOut<'_>], top: &[(String, Frame)]) -> Result<Vec<Output>, OutputError> {
    let mut outputs = Vec::new();
    let table = |folder: &Path, stem: &str, f: &Frame, outputs: &mut Vec<Output>| -> Result<(), OutputError> {
        outputs.extend(write_tables(folder, &dir.path, stem, f, &p.outputs.formats)?);
        Ok(())
    };
    for n in nets {
        let folder = dir.path.join("networks").join(n.name);
        std::fs::create_dir_all(&folder).map_err(OutputError::io(&folder))?;
        let grid_geoms: Vec<&geo::MultiPolygon<f64>> = n.layer.grids.iter().map(|g| &g.geometry).collect();
        for lt in &n.results.levels {
            let lv = lt.level.as_str();
            if p.outputs.layers.iter().any(|l| l == lv) {
                let geoms = geojson::level_geometries(n.h, lt.level, &grid_geoms);
                let path = folder.join(format!("{lv}.geojson"));
                let name = format!("{}_{}_{lv}", p.name, n.name);
                let info = geojson::write_layer(&path, &name, &lt.period, &[], &format!("{lv}_code"), &geoms)?;
                outputs.push(layer_output(&path, &dir.path, info, None));
                outputs.extend(other_formats(p, &path, &dir.path, &name, &lt.period.columns, &[], &geoms)?);
            }
            table(&folder, lv, &lt.period, &mut outputs)?;
            table(&folder, &format!("{lv}_monthly"), &lt.monthly, &mut outputs)?;
        }
        table(&folder, "city", &n.results.city, &mut outputs)?;
        table(&folder, "straddling_cells", n.straddling, &mut outputs)?;
    }
    for (stem, f) in top {
        table(&dir.path, stem, f, &mut outputs)?;
    }
    Ok(outputs)
}

/// The sheets of `tables.xlsx`: the period table of each level, of the city and of each
/// dimension (the dictionary sheet is added after them).
fn workbook_sheets<'a>(r: &'a Results, overdue: Option<&'a Frame>, lang: Lang) -> Vec<(&'static str, &'a Frame)> {
    let mut v: Vec<(&'static str, &Frame)> = r
        .levels
        .iter()
        .map(|l| {
            let name = match l.level {
                Level::Grid => lang.pick("网格 grid", "grid"),
                Level::Community => lang.pick("社区 community", "community"),
                Level::Street => lang.pick("街道 street", "street"),
                Level::District => lang.pick("区 district", "district"),
            };
            (name, &l.period)
        })
        .collect();
    v.push((lang.pick("全市 city", "city"), &r.city));
    for (d, f) in &r.dimensions {
        let name = match *d {
            "category" => lang.pick("类别 category", "category"),
            "department" => lang.pick("部门 department", "department"),
            _ => lang.pick("渠道 channel", "channel"),
        };
        v.push((name, f));
    }
    if let Some(f) = &r.whistle_departments {
        v.push((lang.pick("吹哨报到部门 whistle departments", "whistle departments"), f));
    }
    if let Some(f) = &r.hotspots {
        v.push((lang.pick("重复诉求热点 hot spots", "hot spots"), f));
    }
    if let Some(f) = &r.member_organisations {
        v.push((lang.pick("党员所在单位 organisations", "member organisations"), f));
    }
    if let Some((units, components)) = &r.assessment {
        v.push((lang.pick("考核 assessment", "assessment"), units));
        v.push((lang.pick("考核明细 components", "assessment components"), components));
    }
    if let Some(c) = &r.coverage {
        v.push((lang.pick("服务圈业态 service items", "service items"), &c.items));
        v.push((lang.pick("便民设施 facilities", "facilities"), &c.facilities));
    }
    if let Some(f) = overdue {
        v.push((lang.pick("超期未结 overdue", "overdue open"), f));
    }
    v
}

/// The columns of the service-circle layer: the community's keys and its coverage.
fn coverage_frame(f: &Frame) -> Frame {
    let keep = [
        "community_code",
        "community_name",
        "street_code",
        "street_name",
        "district_code",
        "district_name",
        "population",
        "facilities",
        "service_items_reached",
        "service_items_missing",
        "service_circle",
        "population_all_items_rate",
    ];
    Frame { columns: f.columns.iter().filter(|c| keep.contains(&c.key.as_str())).cloned().collect() }
}

/// The files a run writes, relative to its run folder, for `run --dry-run`. Charts are listed
/// as one entry per kind: which of them are drawn depends on the data.
pub fn planned_outputs(p: &Pipeline, results: &Results) -> Vec<String> {
    let mut v = Vec::new();
    let tables = |v: &mut Vec<String>, stem: &str| {
        v.extend(["csv", "parquet", "arrow"].iter().filter(|e| p.outputs.formats.iter().any(|f| f == *e)).map(|e| format!("{stem}.{e}")))
    };
    for lt in &results.levels {
        let lv = lt.level.as_str();
        if p.outputs.layers.iter().any(|l| l == lv) {
            v.push(format!("{lv}.geojson"));
            v.extend(gis::FORMATS.iter().filter(|(f, _)| p.outputs.layer_formats.iter().any(|x| x == f)).map(|(_, e)| format!("{lv}.{e}")));
            if p.charts.is_some() {
                v.push(format!("{lv}.qml"));
            }
        }
        tables(&mut v, lv);
        tables(&mut v, &format!("{lv}_monthly"));
    }
    tables(&mut v, "city");
    tables(&mut v, "city_monthly");
    for (d, _) in &results.dimensions {
        tables(&mut v, &format!("by_{d}"));
    }
    if p.sources_of("whistles").next().is_some() {
        tables(&mut v, "by_whistle_department");
    }
    if p.sources_of("member_roster").next().is_some() {
        tables(&mut v, "by_member_organisation");
    }
    if p.assessment.is_some() {
        tables(&mut v, "assessment");
        tables(&mut v, "assessment_components");
    }
    if !p.networks.is_empty() {
        let mut names = vec![p.grids.name.as_str()];
        names.extend(p.networks.iter().map(|n| n.name.as_str()));
        for n in &p.networks {
            for lt in &results.levels {
                let lv = lt.level.as_str();
                if p.outputs.layers.iter().any(|l| l == lv) {
                    v.push(format!("networks/{}/{lv}.geojson", n.name));
                }
                tables(&mut v, &format!("networks/{}/{lv}", n.name));
                tables(&mut v, &format!("networks/{}/{lv}_monthly", n.name));
            }
            tables(&mut v, &format!("networks/{}/city", n.name));
            tables(&mut v, &format!("networks/{}/straddling_cells", n.name));
        }
        for i in 0..names.len() {
            for j in i + 1..names.len() {
                tables(&mut v, &format!("crosswalk_{}_{}", names[i], names[j]));
            }
        }
        tables(&mut v, "network_disagreements");
        tables(&mut v, "networks");
    }
    if p.coverage.is_some() {
        tables(&mut v, "coverage_items");
        tables(&mut v, "facilities");
        v.push("facilities.geojson".into());
        v.push("coverage.geojson".into());
    }
    if p.hotspots.is_some() {
        tables(&mut v, "hotspots");
        v.push("hotspots.geojson".into());
    }
    if p.sources_of("signups").next().is_some() {
        tables(&mut v, "signup_projects");
        tables(&mut v, "signup_curve");
    }
    if p.outputs.case_points {
        v.push("case_points.geo.parquet".into());
        v.push("case_points.fgb".into());
    }
    if p.outputs.case_assignments {
        tables(&mut v, "case_assignments");
    }
    if p.outputs.overdue_list > 0 && p.sources_of("cases").next().is_some() {
        tables(&mut v, "overdue_open");
    }
    if p.outputs.formats.iter().any(|f| f == "xlsx") {
        v.push("tables.xlsx".into());
    }
    if p.charts.is_some() {
        v.push("charts/ (ranking, red/black list, trend, Pareto, handling time, map and sign-up charts the data allows; .svg, .png, .csv each)".into());
        v.push("report.html".into());
    }
    v.extend(["dictionary.csv".into(), "rejects.csv".into(), "field_issues.csv".into(), "manifest.json".into()]);
    v
}

/// Writes a table in every format the pipeline asks for; the manifest entries, relative to the
/// run folder `run_dir` (the table may go to a sub-folder, `folder`).
fn write_tables(folder: &Path, run_dir: &Path, stem: &str, f: &Frame, formats: &[String]) -> Result<Vec<Output>, OutputError> {
    Ok(tables::write_table(folder, stem, f, formats)?.into_iter().map(|w| written(w, run_dir, f.height())).collect())
}

/// A polygon layer in each format of `[outputs] layer_formats` besides GeoJSON, beside the
/// GeoJSON file `geojson_path` (same stem); `geoms` are prepared (rounded, oriented).
fn other_formats(
    p: &Pipeline,
    geojson_path: &Path,
    run_dir: &Path,
    name: &str,
    columns: &[crate::vocab::frame::Column],
    extra: &[crate::vocab::frame::Column],
    geoms: &[geo::MultiPolygon<f64>],
) -> Result<Vec<Output>, OutputError> {
    let wanted = wanted_formats(&p.outputs.layer_formats);
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let cols: Vec<&crate::vocab::frame::Column> = columns.iter().chain(extra).collect();
    let gs: Vec<geo::Geometry<f64>> = geoms.iter().map(|g| geo::Geometry::MultiPolygon(g.clone())).collect();
    write_formats(&wanted, geojson_path, run_dir, name, &cols, &gs, true)
}

/// The GIS formats (and their extensions) of `formats` besides GeoJSON.
fn wanted_formats(formats: &[String]) -> Vec<&'static (&'static str, &'static str)> {
    gis::FORMATS.iter().filter(|(f, _)| formats.iter().any(|x| x == f)).collect()
}

/// Writes one layer in each of `wanted`, beside the GeoJSON file (same stem); their entries.
fn write_formats(
    wanted: &[&(&str, &str)],
    geojson_path: &Path,
    run_dir: &Path,
    name: &str,
    cols: &[&crate::vocab::frame::Column],
    gs: &[geo::Geometry<f64>],
    polygons: bool,
) -> Result<Vec<Output>, OutputError> {
    let mut out = Vec::new();
    for (format, ext) in wanted {
        let path = geojson_path.with_extension(ext);
        let info = gis::write(format, &path, name, cols, gs, polygons)?;
        out.push(layer_output(&path, run_dir, info, None));
    }
    Ok(out)
}

/// A point layer (a frame with `lon` and `lat`) in each of `formats` besides GeoJSON; rows
/// without a point are left out, as in no GIS format a point layer has them.
fn other_point_formats(
    formats: &[String],
    geojson_path: &Path,
    run_dir: &Path,
    name: &str,
    frame: &Frame,
) -> Result<Vec<Output>, OutputError> {
    let wanted = wanted_formats(formats);
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let (lon, lat) = (frame.floats("lon"), frame.floats("lat"));
    let keep: Vec<usize> =
        (0..frame.height()).filter(|&i| lon.get(i).copied().flatten().is_some() && lat.get(i).copied().flatten().is_some()).collect();
    let round = |v: f64| (v * 1e6).round() / 1e6;
    let gs: Vec<geo::Geometry<f64>> =
        keep.iter().filter_map(|&i| Some(geo::Geometry::Point(geo::Point::new(round(lon[i]?), round(lat[i]?))))).collect();
    let kept = frame.clone().keep_rows(&keep);
    let cols: Vec<&crate::vocab::frame::Column> = kept.columns.iter().filter(|c| c.key != "lon" && c.key != "lat").collect();
    write_formats(&wanted, geojson_path, run_dir, name, &cols, &gs, false)
}

/// The manifest entry of a written layer.
fn layer_output(path: &Path, run_dir: &Path, info: geojson::LayerInfo, class_breaks: Option<Classes>) -> Output {
    Output { path: relative(path, run_dir), sha256: info.sha256, bytes: info.bytes, count: info.features as u64, class_breaks }
}

fn written(w: tables::Written, dir: &Path, count: usize) -> Output {
    Output { path: relative(&w.path, dir), sha256: w.sha256, bytes: w.bytes, count: count as u64, class_breaks: None }
}

fn output_of(path: &Path, dir: &Path, count: u64) -> Result<Output, OutputError> {
    let sha256 = sha256_file(path).map_err(OutputError::io(path))?;
    let bytes = std::fs::metadata(path).map_err(OutputError::io(path))?.len();
    Ok(Output { path: relative(path, dir), sha256, bytes, count, class_breaks: None })
}

/// `dictionary.csv`: every column of every table with its Chinese label, unit and formula.
fn write_dictionary(path: &Path, r: &Results, overdue: Option<&Frame>) -> Result<usize, OutputError> {
    let mut keys: Vec<&str> = Vec::new();
    let frames = r
        .levels
        .iter()
        .flat_map(|l| [&l.period, &l.monthly])
        .chain([&r.city, &r.city_monthly, &r.signup_projects, &r.signup_curve])
        .chain(r.dimensions.iter().map(|(_, f)| f))
        .chain(r.whistle_departments.as_ref())
        .chain(r.hotspots.as_ref())
        .chain(r.member_organisations.as_ref())
        .chain(r.assessment.iter().flat_map(|(a, b)| [a, b]))
        .chain(r.coverage.iter().flat_map(|c| [&c.items, &c.facilities]))
        .chain(overdue);
    for f in frames {
        for c in &f.columns {
            if !keys.contains(&c.key.as_str()) {
                keys.push(&c.key);
            }
        }
    }
    let mut out = String::from("\u{feff}key,label_zh,unit,formula\n");
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    for k in &keys {
        let f = registry::field(k);
        out.push_str(&format!(
            "{},{},{},{}\n",
            k,
            q(f.map(|f| f.zh).unwrap_or("")),
            q(f.map(|f| f.unit).unwrap_or("")),
            q(f.map(|f| f.formula).unwrap_or(""))
        ));
    }
    std::fs::write(path, out).map_err(OutputError::io(path))?;
    Ok(keys.len())
}
