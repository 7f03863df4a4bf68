//! The manifest's assembly from what the run read, counted, checked and wrote.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::Pipeline;
use crate::io::inputs::Inputs;
use crate::join::place::JoinStats;
use crate::outputs::manifest::{Gate, GridSummary, Input, JoinSummary, Manifest, Output, SourceAccount};
use crate::vocab::error::{Error, OutputError};
use crate::vocab::hash::{relative, sha256_bytes};
use crate::vocab::reason::Reason;
use crate::vocab::stage::{Timings, peak_rss_mb};
use crate::vocab::units::{GridLayer, Hierarchy, Level};

/// What the manifest says about the run besides accounts, outputs and gates.
pub(super) struct RunFacts<'a> {
    pub run_id: &'a str,
    pub started: chrono::DateTime<chrono::Utc>,
    pub exit_code: i32,
    pub layer: &'a GridLayer,
    pub h: &'a Hierarchy,
    pub inputs: &'a Inputs,
    pub join: JoinStats,
    /// MB held beside the counts.
    pub held: BTreeMap<&'static str, f64>,
    /// Rows (features) read from each of `inputs.files`.
    pub file_rows: Vec<u64>,
}

/// The exit code recorded in a published run's manifest (1 if it cannot be read: the run
/// cannot vouch for its data).
pub(super) fn published_exit_code(manifest: &Path) -> i32 {
    std::fs::read_to_string(manifest)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v.get("exit_code").and_then(|c| c.as_i64()))
        .map(|c| c as i32)
        .unwrap_or(1)
}

pub(super) fn build(
    p: &Pipeline,
    f: &RunFacts<'_>,
    sources: Vec<SourceAccount>,
    gates: Vec<Gate>,
    outputs: Vec<Output>,
    timings: &Timings,
) -> Result<Manifest, Error> {
    let base = p.base_dir();
    let inputs: Vec<Input> = f
        .inputs
        .files
        .iter()
        .zip(f.file_rows.iter().chain(std::iter::repeat(&0)))
        .map(|(file, rows)| Input {
            kind: file.kind,
            name: file.source.clone(),
            path: relative(&file.path, &base),
            format: file.format.clone(),
            sha256: file.sha256.clone(),
            bytes: file.bytes,
            rows_read: *rows,
            crs: file.crs.clone(),
            transform: file.transform.clone(),
        })
        .collect();
    let mut problems: BTreeMap<Reason, BTreeMap<&'static str, u64>> = BTreeMap::new();
    for g in &f.layer.problems {
        *problems.entry(g.reason).or_default().entry(g.action).or_default() += 1;
    }
    let h = f.h;
    let units = Level::ALL.iter().filter(|l| h.present[**l as usize]).map(|l| (l.as_str(), h.units(*l).len())).collect();
    let config = serde_json::to_value(p).map_err(|e| OutputError::Encode { path: p.file.clone(), message: e.to_string() })?;
    let config_sha256 = sha256_bytes(config.to_string().as_bytes());
    let mut period = BTreeMap::new();
    period.insert("label", serde_json::json!(p.period.label()));
    period.insert("start", serde_json::json!(p.period.start.to_string()));
    period.insert("end", serde_json::json!(p.period.end.to_string()));
    period.insert("as_of", serde_json::json!(p.period.as_of.to_string()));
    period.insert("time_zone", serde_json::json!(p.period.time_zone.name()));
    period.insert("months", serde_json::json!(p.period.month_labels()));
    let j = &f.join;
    Ok(Manifest {
        gridgov_version: env!("CARGO_PKG_VERSION"),
        polars_version: "0.55.2",
        run_id: f.run_id.to_string(),
        status: if f.exit_code == 0 { "success" } else { "quality_gate_failed" },
        exit_code: f.exit_code,
        started_at: f.started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        finished_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        pipeline: p.name.clone(),
        config_sha256,
        period,
        inputs,
        grids: GridSummary {
            features_read: f.layer.features_read,
            crs: f.layer.crs.clone(),
            grids_used: f.layer.grids.len(),
            problems,
            units,
        },
        totals: super::gates::case_totals(&sources),
        sources,
        join: JoinSummary {
            boundary_rule: p.boundary_rule,
            points: j.points,
            assigned: j.points_assigned,
            seconds: (j.seconds * 1e6).round() / 1e6,
            points_per_second: if j.seconds > 0.0 { (j.points as f64 / j.seconds).round() } else { 0.0 },
        },
        outputs,
        gates,
        timings_seconds: timings.seconds.iter().map(|(k, v)| (*k, (v * 1e4).round() / 1e4)).collect(),
        peak_rss_mb: peak_rss_mb(),
        peak_rss_mb_after: timings.peak_rss_mb_after.clone(),
        held_mb: f.held.clone(),
        config,
    })
}
