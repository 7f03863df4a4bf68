//! The one function that wires the stages: read → join → compute → write.

use geo::{BoundingRect, Coord, Rect};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::config::Pipeline;
use crate::error::{Error, OutputError, ReadError};
use crate::hierarchy::{Hierarchy, Level};
use crate::indicators;
use crate::indicators::tally::Tally;
use crate::interrupt;
use crate::io::cases::{Dictionaries, ReadContext, SourceBatch, SourceRead, read_cases};
use crate::io::grids::read_grids;
use crate::io::inputs::Inputs;
use crate::io::signups::{Household, read_signups};
use crate::join::{self, GridIndex, assign::Assignment};
use crate::outputs::manifest::{self, Gate, GridSummary, Input, JoinSummary, Manifest, Output, SourceAccount};
use crate::outputs::publish::RunDir;
use crate::outputs::rejects::{self, RejectsFile};
use crate::outputs::write;
use crate::quarantine::{Quarantine, Reject};

/// What the run does besides computing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Compute and publish a run folder.
    Run,
    /// Read and check everything, compute, write nothing (`validate`, `run --dry-run`).
    Check,
}

/// How to run.
pub struct Options<'a> {
    pub mode: Mode,
    /// Rebuild and republish a run whose inputs and configuration are unchanged.
    pub force: bool,
    /// Called with the name of each stage as it starts (the binary's progress display).
    pub progress: &'a (dyn Fn(&'static str) + Sync),
}

impl Options<'_> {
    /// Publish, no progress display.
    pub fn run() -> Options<'static> {
        Options { mode: Mode::Run, force: false, progress: &|_| {} }
    }
    /// Check only, no progress display.
    pub fn check() -> Options<'static> {
        Options { mode: Mode::Check, force: false, progress: &|_| {} }
    }
}

/// What a run (or a check) produced.
pub struct RunReport {
    /// Derived from the inputs' and configuration's hashes (see `io::inputs::run_id`).
    pub run_id: String,
    /// The published run folder: the new one, or the earlier one when `unchanged`; `None` for
    /// a check.
    pub run_dir: Option<PathBuf>,
    /// A run with this id was already published: nothing was read, computed or written.
    pub unchanged: bool,
    /// `None` only when `unchanged`.
    pub manifest: Option<Manifest>,
    /// 0, or 1 when a quality gate failed (for an unchanged run: the published run's code).
    pub exit_code: i32,
    /// What a run would write, relative to its run folder (for a check).
    pub planned_outputs: Vec<String>,
    pub inputs: Inputs,
}

/// Runs a pipeline. In [`Mode::Check`] every stage runs but nothing is written.
pub fn run(p: &Pipeline, opts: &Options<'_>) -> Result<RunReport, Error> {
    let started = chrono::Utc::now();
    let mut timings: BTreeMap<&'static str, f64> = BTreeMap::new();
    let mut clock = Instant::now();
    // Peak memory (the process's high-water mark) at the end of each stage.
    let mut peak_after: BTreeMap<&'static str, f64> = BTreeMap::new();
    let mut lap = |name: &'static str, timings: &mut BTreeMap<&'static str, f64>| {
        timings.insert(name, clock.elapsed().as_secs_f64());
        if let Some(mb) = manifest::peak_rss_mb() {
            peak_after.insert(name, mb);
        }
        clock = Instant::now();
    };
    let progress = opts.progress;
    // Lock before reading, so a concurrent run cannot publish between our read and our write.
    let mut run_dir = if opts.mode == Mode::Run { Some(RunDir::lock(&p.output_dir, &p.name)?) } else { None };
    progress("hashing inputs");
    let inputs = crate::io::inputs::find(p)?;
    let run_id = crate::io::inputs::run_id(p, &inputs);
    if let Some(dir) = &mut run_dir {
        if let Some(done) = dir.published(&run_id).filter(|_| !opts.force) {
            let exit_code = published_exit_code(&done.join("manifest.json"));
            return Ok(RunReport {
                run_id,
                run_dir: Some(done),
                unchanged: true,
                manifest: None,
                exit_code,
                planned_outputs: Vec::new(),
                inputs,
            });
        }
        dir.start(&run_id)?;
    }
    lap("hash_inputs", &mut timings);
    interrupt::check()?;
    let base = p.file.parent().map(Path::to_path_buf).unwrap_or_default();

    // 1. Grids, their hierarchy and the join index. Skipped grids open the quarantine, which a
    //    run writes to `rejects.csv` as it goes.
    progress("reading grids");
    let layer = read_grids(&p.grids)?;
    let h = Hierarchy::build(&layer);
    let rejects_file = match &run_dir {
        Some(dir) => Some(RejectsFile::create(&dir.path.join("rejects.csv"), &base)?),
        None => None,
    };
    let mut quarantine = Quarantine::new(rejects_file);
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
    quarantine.flush()?;
    lap("read_grids", &mut timings);
    let index = GridIndex::new(layer.grids.iter().map(|g| &g.geometry).collect());
    lap("join_index", &mut timings);
    interrupt::check()?;

    // 2. Case records, batch by batch: mapping, checks, CRS conversion, code-only locations,
    //    then the spatial join of the batch's points and the counts. No case is kept.
    progress("reading, joining and counting cases");
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
        as_of_ms: p.period.as_of_ms(),
        suspect_points: &p.quality.suspect_points,
        suspect_radius_m: p.quality.suspect_radius_m,
    };
    let dims_mapped = p.cases.iter().any(|s| crate::indicators::DIMENSIONS.iter().any(|d| s.columns.contains_key(*d)));
    // One tally per thread, each counting its share of every batch; summed at the end.
    let mut tallies: Vec<Tally> = {
        let first = Tally::new(p, &h, dims_mapped);
        let mut v: Vec<Tally> = (1..rayon::current_num_threads()).map(|_| first.empty_like()).collect();
        v.insert(0, first);
        // Each tally counts about its share of the rows; most cases are closed.
        let rows: u64 = p.cases.iter().zip(&inputs.cases).map(|(s, f)| crate::io::cases::rows_hint(s, f)).sum();
        let share = (rows as usize / v.len()) + (rows as usize / v.len()) / 50 + 1024;
        v.iter_mut().for_each(|t| t.reserve(share));
        v
    };
    let mut assignment = Assignment::new(p.cases.len(), p.outputs.case_assignments);
    let mut dicts = Dictionaries::default();
    let mut read_errors = Vec::new();
    let mut reads: Vec<SourceRead> = Vec::new();
    let mut stream = crate::io::cases::StageClock::default();
    for (si, (s, files)) in p.cases.iter().zip(&inputs.cases).enumerate() {
        let mut on_batch = |sb: &SourceBatch<'_, '_>, q: &mut Quarantine| {
            join::assign::assign_batch(&index, p.boundary_rule, si, sb, &mut tallies, q, &mut assignment);
        };
        match read_cases(s, files, &ctx, &mut dicts, &mut quarantine, &mut stream, &mut on_batch) {
            Ok(r) => reads.push(r),
            Err(Error::Read(e)) => {
                read_errors.push(e);
                reads.push(SourceRead::default());
            }
            Err(e) => return Err(e),
        }
    }
    let mut households: Vec<Household> = Vec::new();
    let mut signup_rows: Vec<(u64, u64)> = Vec::new();
    let mut signup_file_rows: Vec<u64> = Vec::new();
    for (s, files) in p.signups.iter().zip(&inputs.signups) {
        match read_signups(s, files, &h, &mut quarantine) {
            Ok(ss) => {
                signup_rows.push((ss.rows_read, ss.households.len() as u64));
                signup_file_rows.extend(&ss.rows_per_file);
                households.extend(ss.households);
            }
            Err(Error::Read(e)) => {
                read_errors.push(e);
                signup_rows.push((0, 0));
            }
            Err(e) => return Err(e),
        }
    }
    // Report every unreadable input at once, not the first.
    match read_errors.len() {
        0 => {}
        1 => return Err(read_errors.remove(0).into()),
        _ => return Err(ReadError::Several { errors: read_errors.iter().map(|e| e.to_string()).collect() }.into()),
    }
    let mut tally = tallies.remove(0);
    for t in tallies {
        tally.merge(t);
    }
    // What the run holds for exact indicators and checks, beside the counts (see ARCHITECTURE.md).
    let mb = |b: usize| (b as f64 / 1e5).round() / 10.0;
    let held = BTreeMap::from([
        ("join_index", mb(index.bytes())),
        ("case_ids_largest_source", mb(reads.iter().map(|r| r.id_set_bytes).max().unwrap_or(0))),
        ("handling_times", mb(tally.durations.bytes())),
    ]);
    lap("cases_total", &mut timings);
    // Inside the streamed stage: reading and checking rows (CRS conversion included), locating
    // points, counting cases.
    timings.insert("read_records", stream.read_check);
    timings.insert("crs_conversion", stream.crs);
    timings.insert("join", assignment.seconds);
    timings.insert("count", assignment.count_seconds);
    interrupt::check()?;

    let mut accounts: Vec<SourceAccount> = p
        .cases
        .iter()
        .zip(&reads)
        .zip(&assignment.by_source)
        .map(|((src, r), a)| {
            let mut acc = SourceAccount::new(&src.name, "cases", r.rows_read, a.by.clone());
            acc.in_period = a.in_period;
            acc.in_trend_window = a.in_trend_window;
            acc.outside_trend_window = a.outside_trend_window;
            acc
        })
        .collect();
    for (s, (read, ok)) in p.signups.iter().zip(&signup_rows) {
        accounts.push(SourceAccount::new(&s.name, "signups", *read, BTreeMap::from([("grid_code", *ok)])));
    }
    for a in accounts.iter_mut() {
        a.rows_rejected = quarantine.count(&a.name);
        a.rejects_by_reason = quarantine.by_reason(&a.name);
        a.balanced = a.rows_read == a.rows_assigned + a.rows_rejected;
    }

    // 3. Indicators for every level, period and months, from the counts.
    progress("computing indicators");
    let results = indicators::compute(p, &h, &tally, &dicts, &households);
    lap("indicators", &mut timings);
    interrupt::check()?;

    // 4. Quality gates.
    let totals = case_totals(&accounts);
    let gates = quality_gates(p, &accounts, &totals);
    let exit_code = if gates.iter().all(|g| g.passed) { 0 } else { 1 };

    // Rows read per input file, in the order of `inputs.files`.
    let mut file_rows = vec![layer.features_read as u64];
    file_rows.extend(reads.iter().flat_map(|r| r.rows_per_file.iter().copied()));
    file_rows.extend(signup_file_rows);
    let facts = RunFacts { run_id: &run_id, started, exit_code, layer: &layer, h: &h, inputs: &inputs, file_rows: &file_rows };

    // 5. Outputs, published by rename with the manifest written last.
    if let Some(dir) = run_dir {
        progress("writing outputs");
        let mut outputs = write::write_outputs(
            &dir,
            &write::Inputs {
                p,
                h: &h,
                layer: &layer,
                results: &results,
                accounts: &accounts,
                inputs: &inputs,
                assignment: &assignment,
                exit_code,
            },
            &mut timings,
        )?;
        outputs.extend(quarantine.finish(&dir.path)?);
        lap("outputs_total", &mut timings);
        interrupt::check()?;
        let m = build_manifest(p, &facts, accounts, totals, outputs, gates, &timings, &peak_after, &held, &assignment)?;
        let mpath = dir.path.join("manifest.json");
        let text = serde_json::to_string_pretty(&m).map_err(|e| OutputError::Encode { path: mpath.clone(), message: e.to_string() })?;
        std::fs::write(&mpath, text + "\n").map_err(OutputError::io(&mpath))?;
        progress("publishing");
        let published = Some(dir.commit(p.outputs.keep_runs)?);
        return Ok(RunReport {
            run_id,
            run_dir: published,
            unchanged: false,
            manifest: Some(m),
            exit_code,
            planned_outputs: Vec::new(),
            inputs,
        });
    }
    let planned_outputs = write::planned_outputs(p, &results);
    let m = build_manifest(p, &facts, accounts, totals, Vec::new(), gates, &timings, &peak_after, &held, &assignment)?;
    Ok(RunReport { run_id, run_dir: None, unchanged: false, manifest: Some(m), exit_code, planned_outputs, inputs })
}

/// The exit code recorded in a published run's manifest (1 if it cannot be read: the run
/// cannot vouch for its data).
fn published_exit_code(manifest: &Path) -> i32 {
    std::fs::read_to_string(manifest)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("exit_code").and_then(|c| c.as_i64()))
        .map(|c| c as i32)
        .unwrap_or(1)
}

/// Sums over the case sources.
fn case_totals(accounts: &[SourceAccount]) -> BTreeMap<&'static str, u64> {
    let mut totals = BTreeMap::new();
    for a in accounts.iter().filter(|a| a.kind == "cases") {
        *totals.entry("rows_read").or_insert(0) += a.rows_read;
        *totals.entry("rows_assigned").or_insert(0) += a.rows_assigned;
        *totals.entry("rows_rejected").or_insert(0) += a.rows_rejected;
        *totals.entry("in_period").or_insert(0) += a.in_period;
        let unassigned: u64 =
            a.rejects_by_reason.iter().filter(|(r, _)| crate::quarantine::UNASSIGNED_REASONS.contains(r)).map(|(_, n)| n).sum();
        *totals.entry("rows_unassigned").or_insert(0) += unassigned;
    }
    for key in ["rows_read", "rows_assigned", "rows_rejected", "in_period", "rows_unassigned"] {
        totals.entry(key).or_insert(0);
    }
    totals
}

/// The data-quality gates of `[quality]`: reject shares per source and for all record sources
/// together (in all and per configured reason), the unassigned share and the minimum number of
/// cases. A source whose rows do not add up fails its gate whatever the share.
fn quality_gates(p: &Pipeline, accounts: &[SourceAccount], totals: &BTreeMap<&'static str, u64>) -> Vec<Gate> {
    let q = &p.quality;
    let share = |n: u64, d: u64| if d == 0 { 0.0 } else { n as f64 / d as f64 };
    let gate = |name: String, source: &str, value: f64, limit: f64, passed: bool| Gate {
        name,
        source: source.to_string(),
        value: (value * 1e6).round() / 1e6,
        limit,
        passed,
    };
    let total = |k: &str| totals.get(k).copied().unwrap_or(0);
    let mut gates = Vec::new();
    let all_read: u64 = accounts.iter().map(|a| a.rows_read).sum();
    let all_rejected: u64 = accounts.iter().map(|a| a.rows_rejected).sum();
    let mut scopes: Vec<(&str, u64, u64, bool, BTreeMap<&'static str, u64>)> =
        accounts.iter().map(|a| (a.name.as_str(), a.rows_read, a.rows_rejected, a.balanced, a.rejects_by_reason.clone())).collect();
    if accounts.len() > 1 {
        let mut by_reason: BTreeMap<&'static str, u64> = BTreeMap::new();
        for a in accounts {
            for (r, n) in &a.rejects_by_reason {
                *by_reason.entry(r).or_default() += n;
            }
        }
        scopes.push(("all", all_read, all_rejected, accounts.iter().all(|a| a.balanced), by_reason));
    }
    for (name, read, rejected, balanced, by_reason) in scopes {
        let v = share(rejected, read);
        gates.push(gate("max_reject_share".into(), name, v, q.max_reject_share, v <= q.max_reject_share && balanced));
        for (reason, limit) in &q.max_reject_share_by_reason {
            let v = share(by_reason.get(reason.as_str()).copied().unwrap_or(0), read);
            gates.push(gate(format!("max_reject_share_by_reason.{reason}"), name, v, *limit, v <= *limit));
        }
    }
    if let Some(limit) = q.max_unassigned_share {
        let v = share(total("rows_unassigned"), total("rows_read"));
        gates.push(gate("max_unassigned_share".into(), "cases", v, limit, v <= limit));
    }
    if let Some(min) = q.min_cases {
        let v = total("in_period");
        gates.push(gate("min_cases".into(), "cases", v as f64, min as f64, v >= min));
    }
    gates
}

/// What the manifest says about the run besides accounts, outputs and gates.
struct RunFacts<'a> {
    run_id: &'a str,
    started: chrono::DateTime<chrono::Utc>,
    exit_code: i32,
    layer: &'a crate::io::grids::GridLayer,
    h: &'a Hierarchy,
    inputs: &'a Inputs,
    /// Rows (features) read from each of `inputs.files`.
    file_rows: &'a [u64],
}

#[allow(clippy::too_many_arguments)]
fn build_manifest(
    p: &Pipeline,
    f: &RunFacts<'_>,
    sources: Vec<SourceAccount>,
    totals: BTreeMap<&'static str, u64>,
    outputs: Vec<Output>,
    gates: Vec<Gate>,
    timings: &BTreeMap<&'static str, f64>,
    peak_after: &BTreeMap<&'static str, f64>,
    held: &BTreeMap<&'static str, f64>,
    a: &Assignment,
) -> Result<Manifest, Error> {
    let RunFacts { run_id, started, exit_code, layer, h, inputs: found, file_rows } = *f;
    let base = p.file.parent().map(Path::to_path_buf).unwrap_or_default();
    let inputs: Vec<Input> = found
        .files
        .iter()
        .zip(file_rows.iter().chain(std::iter::repeat(&0)))
        .map(|(f, rows)| Input {
            kind: f.kind,
            name: f.source.clone(),
            path: rejects::relative(&f.path, &base),
            format: f.format.clone(),
            sha256: f.sha256.clone(),
            bytes: f.bytes,
            rows_read: *rows,
            crs: f.crs.clone(),
            transform: f.transform.clone(),
        })
        .collect();
    let mut problems: BTreeMap<&'static str, BTreeMap<&'static str, u64>> = BTreeMap::new();
    for g in &layer.problems {
        *problems.entry(g.reason).or_default().entry(g.action).or_default() += 1;
    }
    let units = Level::ALL.iter().filter(|l| h.present[**l as usize]).map(|l| (l.as_str(), h.units(*l).len())).collect();
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
        peak_rss_mb_after: peak_after.clone(),
        held_mb: held.clone(),
        config,
    })
}
