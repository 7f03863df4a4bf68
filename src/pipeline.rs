//! The one function that wires the stages: read → join → compute → write.

use geo::{BoundingRect, Coord, Rect};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::config::Pipeline;
use crate::error::{Error, OutputError, ReadError};
use crate::hierarchy::{Hierarchy, Level};
use crate::indicators::cases::CaseFacts;
use crate::indicators::{self, AssignedCase};
use crate::io::cases::{read_cases, Dictionaries, Location, ReadContext, SourceCases};
use crate::io::grids::read_grids;
use crate::io::signups::{read_signups, Household};
use crate::join::{GridIndex, Located};
use crate::outputs::manifest::{self, Gate, GridSummary, Input, JoinSummary, Manifest, Output, SourceAccount};
use crate::outputs::publish::RunDir;
use crate::outputs::charts::{write_charts, MappedLevel};
use crate::outputs::classes::Classes;
use crate::outputs::{geojson, qml, rejects, tables};
use crate::quarantine::{Quarantine, Reject};

/// What a run (or a validation) produced.
pub struct RunReport {
    /// The published run folder; `None` for `validate`.
    pub run_dir: Option<PathBuf>,
    pub manifest: Manifest,
    /// 0, or 1 when a quality gate failed.
    pub exit_code: i32,
}

/// Runs a pipeline. With `write = false` (validate) every stage runs but nothing is written.
pub fn run(p: &Pipeline, write: bool) -> Result<RunReport, Error> {
    let started = chrono::Utc::now();
    let mut timings: BTreeMap<&'static str, f64> = BTreeMap::new();
    let mut clock = Instant::now();
    let mut lap = |name: &'static str, timings: &mut BTreeMap<&'static str, f64>| {
        timings.insert(name, clock.elapsed().as_secs_f64());
        clock = Instant::now();
    };
    // Lock before reading, so a concurrent run cannot publish between our read and our write.
    let run_dir = if write { Some(RunDir::begin(&p.output_dir)?) } else { None };
    let base = p.file.parent().map(Path::to_path_buf).unwrap_or_default();

    // 1. Grids and their hierarchy.
    let layer = read_grids(&p.grids)?;
    let h = Hierarchy::build(&layer);
    let mut quarantine = Quarantine::default();
    for g in layer.problems.iter().filter(|g| g.action == "skipped") {
        quarantine.push(Reject {
            source: "grids".into(),
            file: p.grids.path.display().to_string(),
            row: g.feature_index as u64 + 1,
            line: None,
            key: g.code.clone(),
            reason: g.reason,
            detail: g.detail.clone(),
            raw: g.raw.clone(),
        });
    }
    lap("read_grids", &mut timings);

    // 2. Case records: mapping, checks, CRS conversion, code-only locations.
    let extent = layer.grids.iter().filter_map(|g| g.geometry.bounding_rect()).reduce(|a, b| {
        Rect::new(Coord { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) }, Coord { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) })
    });
    let ctx = ReadContext {
        hierarchy: &h,
        extent,
        default_time_limit_ms: (p.indicators.default_time_limit_hours * 3_600_000.0) as i64,
        suspect_points: &p.quality.suspect_points,
        suspect_radius_m: p.quality.suspect_radius_m,
    };
    let mut dicts = Dictionaries::default();
    let mut read_errors = Vec::new();
    let mut sources: Vec<Option<SourceCases>> = Vec::new();
    for s in &p.cases {
        let mut rs = Vec::new();
        match read_cases(s, &ctx, &mut dicts, &mut rs) {
            Ok(sc) => sources.push(Some(sc)),
            Err(e) => {
                read_errors.push(e);
                sources.push(None);
            }
        }
        quarantine.extend(rs);
    }
    let mut households: Vec<Household> = Vec::new();
    let mut signup_rows: Vec<(u64, u64)> = Vec::new();
    for s in &p.signups {
        let mut rs = Vec::new();
        match read_signups(s, &h, &mut rs) {
            Ok(ss) => {
                signup_rows.push((ss.rows_read, ss.households.len() as u64));
                households.extend(ss.households);
            }
            Err(e) => {
                read_errors.push(e);
                signup_rows.push((0, 0));
            }
        }
        quarantine.extend(rs);
    }
    // Report every unreadable input at once, not the first.
    match read_errors.len() {
        0 => {}
        1 => return Err(read_errors.remove(0).into()),
        _ => return Err(ReadError::Several { errors: read_errors.iter().map(|e| e.to_string()).collect() }.into()),
    }
    let sources: Vec<SourceCases> = sources.into_iter().flatten().collect();
    lap("read_records", &mut timings);

    // 3. Spatial join of the points, in parallel over columns.
    let (mut lons, mut lats) = (Vec::new(), Vec::new());
    for sc in &sources {
        for l in &sc.cases.location {
            if let Location::Point { lon, lat } = l {
                lons.push(*lon);
                lats.push(*lat);
            }
        }
    }
    let index = GridIndex::new(layer.grids.iter().map(|g| &g.geometry).collect());
    let join_clock = Instant::now();
    let located = index.locate_all(&lons, &lats, p.boundary_rule);
    let join_seconds = join_clock.elapsed().as_secs_f64();
    let mut assigned: Vec<AssignedCase> = Vec::new();
    // (source, row, how) of every assigned case, for the optional case_assignments table.
    let mut assigned_from: Vec<(usize, u32, &'static str)> = Vec::new();
    let mut accounts: Vec<SourceAccount> = Vec::new();
    let mut k = 0usize;
    let mut points_assigned = 0u64;
    for (si, sc) in sources.iter().enumerate() {
        let src = &p.cases[si];
        let mut by: BTreeMap<&'static str, u64> = BTreeMap::new();
        let c = &sc.cases;
        for i in 0..c.row.len() {
            let (how, units) = match c.location[i] {
                Location::Point { .. } => {
                    let l = located[k];
                    k += 1;
                    match l {
                        Located::Grid(g) => {
                            points_assigned += 1;
                            ("point", h.units_of(Level::Grid, g))
                        }
                        Located::Outside | Located::Ambiguous => {
                            let (reason, detail) = if l == Located::Outside {
                                ("outside_all_grids", "the point lies in no grid's closed area")
                            } else {
                                ("ambiguous_boundary", "the point lies on a boundary shared by several grids (boundary_rule = reject)")
                            };
                            let row = c.row[i];
                            let raw = crate::io::cases::raw_fields(&sc.table, row as usize - 1);
                            let key = sc.table.value("case_id", row as usize - 1).map(|s| s.trim().to_string()).unwrap_or_default();
                            quarantine.push(Reject {
                                source: src.name.clone(),
                                file: src.path.display().to_string(),
                                row: row as u64,
                                line: (src.format == crate::config::FileFormat::Csv).then_some(row as u64 + 1),
                                key,
                                reason,
                                detail: detail.into(),
                                raw,
                            });
                            continue;
                        }
                    }
                }
                Location::ByCode(level, units) => {
                    let how = match level {
                        Level::Grid => "grid_code",
                        Level::Community => "community_code",
                        _ => "street_code",
                    };
                    (how, units)
                }
            };
            *by.entry(how).or_default() += 1;
            assigned_from.push((si, c.row[i], how));
            assigned.push(AssignedCase {
                units,
                facts: CaseFacts { received: c.received[i], closed: c.closed[i], due: c.due[i], cancelled: c.cancelled[i], followup: c.followup[i] },
                dims: [c.category[i], c.department[i], c.channel[i]],
            });
        }
        accounts.push(SourceAccount {
            name: src.name.clone(),
            kind: "cases",
            rows_read: sc.rows_read,
            rows_assigned: by.values().sum(),
            rows_rejected: 0,
            balanced: false,
            assigned_by: by,
            in_period: 0,
            in_trend_window: 0,
            outside_trend_window: 0,
            rejects_by_reason: BTreeMap::new(),
        });
    }
    lap("join", &mut timings);

    // Placement counts per source (cases are in source order in `assigned`).
    let period = (p.period.start_ms(), p.period.end_ms());
    let bounds = p.period.month_bounds_ms();
    let mut offset = 0usize;
    for a in accounts.iter_mut() {
        for c in &assigned[offset..offset + a.rows_assigned as usize] {
            let pl = indicators::place(c.facts.received, period, &bounds);
            a.in_period += pl.in_period as u64;
            if pl.month.is_some() {
                a.in_trend_window += 1;
            } else {
                a.outside_trend_window += 1;
            }
        }
        offset += a.rows_assigned as usize;
    }
    for (s, (read, ok)) in p.signups.iter().zip(&signup_rows) {
        accounts.push(SourceAccount {
            name: s.name.clone(),
            kind: "signups",
            rows_read: *read,
            rows_assigned: *ok,
            rows_rejected: 0,
            balanced: false,
            assigned_by: BTreeMap::from([("grid_code", *ok)]),
            in_period: 0,
            in_trend_window: 0,
            outside_trend_window: 0,
            rejects_by_reason: BTreeMap::new(),
        });
    }
    quarantine.sort();
    for a in accounts.iter_mut() {
        a.rows_rejected = quarantine.count(&a.name);
        a.rejects_by_reason = quarantine.by_reason(&a.name);
        a.balanced = a.rows_read == a.rows_assigned + a.rows_rejected;
    }

    // 4. Indicators for every level, period and months.
    let results = indicators::compute(p, &h, &assigned, &dicts, &households);
    lap("indicators", &mut timings);

    // 5. Quality gates.
    let gates: Vec<Gate> = accounts
        .iter()
        .map(|a| {
            let share = if a.rows_read == 0 { 0.0 } else { a.rows_rejected as f64 / a.rows_read as f64 };
            Gate {
                name: "max_reject_share".into(),
                source: a.name.clone(),
                value: (share * 1e6).round() / 1e6,
                limit: p.quality.max_reject_share,
                passed: share <= p.quality.max_reject_share && a.balanced,
            }
        })
        .collect();
    let exit_code = if gates.iter().all(|g| g.passed) { 0 } else { 1 };

    // 6. Outputs.
    let mut outputs: Vec<Output> = Vec::new();
    let mut published = None;
    if let Some(dir) = run_dir {
        let grid_geoms: Vec<geo::MultiPolygon<f64>> = layer.grids.iter().map(|g| g.geometry.clone()).collect();
        let mut mapped: Vec<(Level, Vec<geo::MultiPolygon<f64>>, Classes, Vec<usize>)> = Vec::new();
        let add = |timings: &mut BTreeMap<&'static str, f64>, stage: &'static str, since: Instant| {
            *timings.entry(stage).or_default() += since.elapsed().as_secs_f64();
        };
        for lt in &results.levels {
            let t = Instant::now();
            let geoms = geojson::level_geometries(&h, lt.level, &grid_geoms);
            add(&mut timings, "dissolve", t);
            let t = Instant::now();
            let lv = lt.level.as_str();
            let path = dir.path.join(format!("{lv}.geojson"));
            // With charts, the layer carries the map classes and gets a QGIS style beside it.
            let classes = p.charts.as_ref().map(|c| map_classes(p, c, &lt.period));
            let mut layer_frame = lt.period.clone();
            if let Some((classes, class_of)) = &classes {
                layer_frame.int("class", class_of.iter().map(|&c| Some(c as i64)).collect());
                layer_frame.str("class_label", class_of.iter().map(|&c| Some(classes.labels[c].clone())).collect());
            }
            let info = geojson::write_layer(&path, &format!("{}_{lv}", p.name), &layer_frame, &format!("{lv}_code"), &geoms)?;
            let mut out = output_of(&path, &dir.path, info.features as u64)?;
            if let Some((classes, class_of)) = classes {
                let qml_path = dir.path.join(format!("{lv}.qml"));
                let keys: Vec<&str> = layer_frame.columns.iter().map(|c| c.key.as_str()).collect();
                qml::write_qml(&qml_path, &classes, &keys)?;
                out.class_breaks = Some(classes.clone());
                outputs.push(out);
                outputs.push(output_of(&qml_path, &dir.path, classes.k() as u64 + 1)?);
                mapped.push((lt.level, geoms, classes, class_of));
            } else {
                outputs.push(out);
            }
            add(&mut timings, "write_geojson", t);
            let t = Instant::now();
            for (stem, f) in [(lv.to_string(), &lt.period), (format!("{lv}_monthly"), &lt.monthly)] {
                for path in tables::write_table(&dir.path, &stem, f)? {
                    outputs.push(output_of(&path, &dir.path, f.height() as u64)?);
                }
            }
            add(&mut timings, "write_tables", t);
        }
        lap("levels_total", &mut timings);
        let mut extra: Vec<(String, &crate::outputs::frame::Frame)> =
            vec![("city".into(), &results.city), ("city_monthly".into(), &results.city_monthly)];
        extra.extend(results.dimensions.iter().map(|(d, f)| (format!("by_{d}"), f)));
        for (stem, f) in extra {
            for path in tables::write_table(&dir.path, &stem, f)? {
                outputs.push(output_of(&path, &dir.path, f.height() as u64)?);
            }
        }
        if !p.signups.is_empty() {
            for (stem, f) in [("signup_projects", &results.signup_projects), ("signup_curve", &results.signup_curve)] {
                for path in tables::write_table(&dir.path, stem, f)? {
                    outputs.push(output_of(&path, &dir.path, f.height() as u64)?);
                }
            }
        }
        lap("write_other_tables", &mut timings);
        if p.outputs.case_assignments {
            let f = assignments_frame(p, &h, &sources, &assigned, &assigned_from);
            for path in tables::write_table(&dir.path, "case_assignments", &f)? {
                outputs.push(output_of(&path, &dir.path, f.height() as u64)?);
            }
        }
        let mut charts = Vec::new();
        if let Some(c) = &p.charts {
            let outlines = mapped.iter().find(|m| m.0 == Level::District).map(|m| m.1.clone()).unwrap_or_default();
            let maps: Vec<MappedLevel<'_>> =
                mapped.iter().map(|(level, geoms, classes, class_of)| MappedLevel { level: *level, geoms, classes, class_of }).collect();
            charts = write_charts(&dir.path.join("charts"), p, c, &results, &maps, &outlines)?;
            for ch in &charts {
                for f in [&ch.svg, &ch.png, &ch.csv] {
                    outputs.push(output_of(f, &dir.path, 1)?);
                }
            }
            lap("charts", &mut timings);
        }
        let dict = dir.path.join("dictionary.csv");
        let n = write_dictionary(&dict, &results)?;
        outputs.push(output_of(&dict, &dir.path, n as u64)?);
        if p.charts.is_some() {
            let path = dir.path.join("report.html");
            crate::outputs::report::write_report(&path, p, &results, &accounts, &charts, &outputs, exit_code)?;
            outputs.push(output_of(&path, &dir.path, charts.len() as u64)?);
        }
        let rej = dir.path.join("rejects.csv");
        let n = rejects::write_rejects(&rej, &quarantine, &base)?;
        outputs.push(output_of(&rej, &dir.path, n as u64)?);
        lap("write_rejects", &mut timings);
        let m = build_manifest(p, &dir.id, started, exit_code, &layer, &h, accounts.clone(), outputs.clone(), gates.clone(), &timings, &lons, points_assigned, join_seconds)?;
        let mpath = dir.path.join("manifest.json");
        let text = serde_json::to_string_pretty(&m).map_err(|e| OutputError::Encode { path: mpath.clone(), message: e.to_string() })?;
        std::fs::write(&mpath, text + "\n").map_err(OutputError::io(&mpath))?;
        published = Some(dir.commit()?);
        return Ok(RunReport { run_dir: published, manifest: m, exit_code });
    }
    let m = build_manifest(p, "validate", started, exit_code, &layer, &h, accounts, outputs, gates, &timings, &lons, points_assigned, join_seconds)?;
    Ok(RunReport { run_dir: published, manifest: m, exit_code })
}

/// One row per assigned case: where it came from and the unit it counts in at every level.
fn assignments_frame(
    p: &Pipeline,
    h: &Hierarchy,
    sources: &[SourceCases],
    assigned: &[AssignedCase],
    from: &[(usize, u32, &'static str)],
) -> crate::outputs::frame::Frame {
    let mut f = crate::outputs::frame::Frame::default();
    f.str("source", from.iter().map(|(s, _, _)| Some(p.cases[*s].name.clone())).collect());
    f.int("row", from.iter().map(|(_, r, _)| Some(*r as i64)).collect());
    let ids: Vec<Option<Vec<Option<&str>>>> = sources.iter().map(|s| s.table.field("case_id")).collect();
    f.str(
        "case_id",
        from.iter().map(|(s, r, _)| ids[*s].as_ref().and_then(|v| v[*r as usize - 1]).map(|v| v.trim().to_string())).collect(),
    );
    f.str("assigned_by", from.iter().map(|(_, _, how)| Some(how.to_string())).collect());
    for level in Level::ALL {
        if !h.present[level as usize] {
            continue;
        }
        let units = h.units(level);
        f.str(
            &format!("{}_code", level.as_str()),
            assigned.iter().map(|a| a.units[level as usize].map(|u| units[u as usize].code.clone())).collect(),
        );
    }
    f
}

fn output_of(path: &Path, dir: &Path, count: u64) -> Result<Output, OutputError> {
    let sha256 = manifest::sha256_file(path).map_err(OutputError::io(path))?;
    let bytes = std::fs::metadata(path).map_err(OutputError::io(path))?.len();
    Ok(Output { path: rejects::relative(path, dir), sha256, bytes, count, class_breaks: None })
}

/// Classes of the mapped indicator for one level's period table, and each unit's class.
/// Units whose denominator is below `indicators.min_n` fall in the no-data class.
fn map_classes(p: &Pipeline, c: &crate::config::file::ChartsFile, f: &crate::outputs::frame::Frame) -> (Classes, Vec<usize>) {
    let n_key = crate::config::resolve::MAPPABLE.iter().find(|(k, _)| *k == c.map_indicator).map(|(_, n)| *n).unwrap_or("followups");
    let n = f.floats(n_key);
    let values: Vec<Option<f64>> =
        f.floats(&c.map_indicator).into_iter().zip(n).map(|(v, n)| v.filter(|_| n.unwrap_or(0.0) >= p.indicators.min_n as f64)).collect();
    let classes = Classes::build(&c.map_indicator, &values, c.classes, c.breaks.as_deref(), true);
    let class_of = values.iter().map(|v| classes.class_of(*v)).collect();
    (classes, class_of)
}

/// `dictionary.csv`: every column of every table with its Chinese label, unit and formula.
fn write_dictionary(path: &Path, r: &indicators::Results) -> Result<usize, OutputError> {
    let mut keys: Vec<&str> = Vec::new();
    let frames = r
        .levels
        .iter()
        .flat_map(|l| [&l.period, &l.monthly])
        .chain([&r.city, &r.city_monthly, &r.signup_projects, &r.signup_curve])
        .chain(r.dimensions.iter().map(|(_, f)| f));
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
        let f = indicators::registry::field(k);
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

#[allow(clippy::too_many_arguments)]
fn build_manifest(
    p: &Pipeline,
    run_id: &str,
    started: chrono::DateTime<chrono::Utc>,
    exit_code: i32,
    layer: &crate::io::grids::GridLayer,
    h: &Hierarchy,
    sources: Vec<SourceAccount>,
    outputs: Vec<Output>,
    gates: Vec<Gate>,
    timings: &BTreeMap<&'static str, f64>,
    points: &[f64],
    points_assigned: u64,
    join_seconds: f64,
) -> Result<Manifest, Error> {
    let base = p.file.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut inputs = Vec::new();
    let hash = |path: &Path| -> Result<(String, u64), Error> {
        let sha = manifest::sha256_file(path).map_err(ReadError::io(path))?;
        let bytes = std::fs::metadata(path).map_err(ReadError::io(path))?.len();
        Ok((sha, bytes))
    };
    let (sha, bytes) = hash(&p.grids.path)?;
    inputs.push(Input {
        kind: "grids",
        name: "grids".into(),
        path: rejects::relative(&p.grids.path, &base),
        format: "geojson".into(),
        sha256: sha,
        bytes,
        rows_read: layer.features_read as u64,
        crs: p.grids.crs.as_str().into(),
        transform: p.grids.crs.transform_description().into(),
    });
    for (s, a) in p.cases.iter().zip(&sources) {
        let (sha, bytes) = hash(&s.path)?;
        inputs.push(Input {
            kind: "cases",
            name: s.name.clone(),
            path: rejects::relative(&s.path, &base),
            format: format!("{:?}", s.format).to_lowercase(),
            sha256: sha,
            bytes,
            rows_read: a.rows_read,
            crs: s.crs.as_str().into(),
            transform: s.crs.transform_description().into(),
        });
    }
    for (s, a) in p.signups.iter().zip(sources.iter().filter(|a| a.kind == "signups")) {
        let (sha, bytes) = hash(&s.path)?;
        inputs.push(Input {
            kind: "signups",
            name: s.name.clone(),
            path: rejects::relative(&s.path, &base),
            format: format!("{:?}", s.format).to_lowercase(),
            sha256: sha,
            bytes,
            rows_read: a.rows_read,
            crs: "-".into(),
            transform: "assigned by grid code".into(),
        });
    }
    let mut problems: BTreeMap<&'static str, BTreeMap<&'static str, u64>> = BTreeMap::new();
    for g in &layer.problems {
        *problems.entry(g.reason).or_default().entry(g.action).or_default() += 1;
    }
    let units = Level::ALL.iter().filter(|l| h.present[**l as usize]).map(|l| (l.as_str(), h.units(*l).len())).collect();
    let mut totals = BTreeMap::new();
    for key in ["rows_read", "rows_assigned", "rows_rejected", "in_period"] {
        let v: u64 = sources
            .iter()
            .filter(|a| a.kind == "cases")
            .map(|a| match key {
                "rows_read" => a.rows_read,
                "rows_assigned" => a.rows_assigned,
                "rows_rejected" => a.rows_rejected,
                _ => a.in_period,
            })
            .sum();
        totals.insert(key, v);
    }
    let config = serde_json::to_value(p).map_err(|e| OutputError::Encode { path: p.file.clone(), message: e.to_string() })?;
    let config_sha256 = manifest::sha256_bytes(config.to_string().as_bytes());
    let mut period = BTreeMap::new();
    period.insert("label", serde_json::json!(p.period.label()));
    period.insert("start", serde_json::json!(p.period.start.to_string()));
    period.insert("end", serde_json::json!(p.period.end.to_string()));
    period.insert("as_of", serde_json::json!(p.period.as_of.to_string()));
    period.insert("time_zone", serde_json::json!(p.period.time_zone.name()));
    period.insert("months", serde_json::json!(indicators::month_labels(&p.period.months)));
    Ok(Manifest {
        gridgov_version: env!("CARGO_PKG_VERSION"),
        polars_version: "0.55.2",
        run_id: run_id.to_string(),
        status: if exit_code == 0 { "success" } else { "quality_gate_failed" },
        exit_code,
        started_at: started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        pipeline: p.name.clone(),
        config_sha256,
        period,
        inputs,
        grids: GridSummary { features_read: layer.features_read, grids_used: layer.grids.len(), problems, units },
        sources,
        totals,
        join: JoinSummary {
            boundary_rule: p.boundary_rule,
            points: points.len() as u64,
            assigned: points_assigned,
            seconds: (join_seconds * 1e6).round() / 1e6,
            points_per_second: if join_seconds > 0.0 { (points.len() as f64 / join_seconds).round() } else { 0.0 },
        },
        outputs,
        gates,
        timings_seconds: timings.iter().map(|(k, v)| (*k, (v * 1e4).round() / 1e4)).collect(),
        peak_rss_mb: manifest::peak_rss_mb(),
        config,
    })
}
