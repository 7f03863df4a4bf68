//! The one function that wires the stages: read → join → compute → write.

use geo::{BoundingRect, Coord, Rect};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::config::Pipeline;
use crate::error::{Error, OutputError, ReadError};
use crate::hierarchy::{Hierarchy, Level};
use crate::indicators;
use crate::io::cases::{Dictionaries, ReadContext, SourceCases, read_cases};
use crate::io::grids::read_grids;
use crate::io::signups::{Household, read_signups};
use crate::join;
use crate::outputs::manifest::{self, Gate, GridSummary, Input, JoinSummary, Manifest, Output, SourceAccount};
use crate::outputs::publish::RunDir;
use crate::outputs::rejects;
use crate::outputs::write;
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
        Rect::new(
            Coord { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
            Coord { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
        )
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

    // 3. Spatial join of the points (in parallel), code-located rows, quarantine of the rest.
    let assignment = join::assign::assign(p, &h, &layer, &sources, &mut quarantine);
    let mut accounts: Vec<SourceAccount> = sources
        .iter()
        .zip(&p.cases)
        .zip(&assignment.by)
        .map(|((sc, src), by)| SourceAccount::new(&src.name, "cases", sc.rows_read, by.clone()))
        .collect();
    lap("join", &mut timings);

    // Placement counts per source (cases are in source order in `assigned`).
    let period = (p.period.start_ms(), p.period.end_ms());
    let bounds = p.period.month_bounds_ms();
    let mut offset = 0usize;
    for a in accounts.iter_mut() {
        for c in &assignment.cases[offset..offset + a.rows_assigned as usize] {
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
        accounts.push(SourceAccount::new(&s.name, "signups", *read, BTreeMap::from([("grid_code", *ok)])));
    }
    quarantine.sort();
    for a in accounts.iter_mut() {
        a.rows_rejected = quarantine.count(&a.name);
        a.rejects_by_reason = quarantine.by_reason(&a.name);
        a.balanced = a.rows_read == a.rows_assigned + a.rows_rejected;
    }

    // 4. Indicators for every level, period and months.
    let results = indicators::compute(p, &h, &assignment.cases, &dicts, &households);
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

    // 6. Outputs, published by rename with the manifest written last.
    if let Some(dir) = run_dir {
        let outputs = write::write_outputs(
            &dir,
            &write::Inputs {
                p,
                h: &h,
                layer: &layer,
                results: &results,
                accounts: &accounts,
                sources: &sources,
                assignment: &assignment,
                quarantine: &quarantine,
                exit_code,
            },
            &mut timings,
        )?;
        let m = build_manifest(p, &dir.id, started, exit_code, &layer, &h, accounts, outputs, gates, &timings, &assignment)?;
        let mpath = dir.path.join("manifest.json");
        let text = serde_json::to_string_pretty(&m).map_err(|e| OutputError::Encode { path: mpath.clone(), message: e.to_string() })?;
        std::fs::write(&mpath, text + "\n").map_err(OutputError::io(&mpath))?;
        let published = Some(dir.commit()?);
        return Ok(RunReport { run_dir: published, manifest: m, exit_code });
    }
    let m = build_manifest(p, "validate", started, exit_code, &layer, &h, accounts, Vec::new(), gates, &timings, &assignment)?;
    Ok(RunReport { run_dir: None, manifest: m, exit_code })
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
    a: &join::assign::Assignment,
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
            points: a.points,
            assigned: a.points_assigned,
            seconds: (a.seconds * 1e6).round() / 1e6,
            points_per_second: if a.seconds > 0.0 { (a.points as f64 / a.seconds).round() } else { 0.0 },
        },
        outputs,
        gates,
        timings_seconds: timings.iter().map(|(k, v)| (*k, (v * 1e4).round() / 1e4)).collect(),
        peak_rss_mb: manifest::peak_rss_mb(),
        config,
    })
}
