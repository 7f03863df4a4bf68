//! `manifest.json`, written last: what was read (with sha256 and row counts), how every row was
//! accounted for, what was written (with sha256 and feature/row counts), the quality gates, the
//! versions, the timings and the resolved configuration. Wall-clock times live here only, never
//! in data files. The pipeline assembles it (`pipeline::manifest`); this module is its shape
//! and its writer.

use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

use crate::vocab::boundary::BoundaryRule;
use crate::vocab::error::OutputError;
use crate::vocab::reason::Reason;

#[derive(Debug, Clone, Serialize)]
pub struct Input {
    /// `grids`, or the record kind of the source (`cases`, `signups`).
    pub kind: &'static str,
    pub name: String,
    pub path: String,
    pub format: String,
    pub sha256: String,
    pub bytes: u64,
    pub rows_read: u64,
    pub crs: String,
    pub transform: String,
}

/// How the rows of one source were accounted for: rows_read = rows_assigned + rows_rejected.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SourceAccount {
    pub name: String,
    pub kind: &'static str,
    pub rows_read: u64,
    pub rows_assigned: u64,
    pub rows_rejected: u64,
    /// True when rows_read = rows_assigned + rows_rejected.
    pub balanced: bool,
    /// Assigned rows by how they were placed: `point`, `grid_code`, `community_code`, `street_code`.
    pub assigned_by: BTreeMap<&'static str, u64>,
    /// Assigned rows received in the reporting period / in the trend window / outside it /
    /// at or after the as-of moment (in no window).
    pub in_period: u64,
    pub in_trend_window: u64,
    pub outside_trend_window: u64,
    pub received_after_as_of: u64,
    pub rejects_by_reason: BTreeMap<Reason, u64>,
    /// Kept rows' fields that could not be used, by `field:reason` (`field_issues.csv`).
    pub field_issues: BTreeMap<String, u64>,
}

impl SourceAccount {
    /// A source's account before the quarantine is counted (`rows_rejected` and `balanced`
    /// are filled in once every stage has run).
    pub fn new(name: &str, kind: &'static str, rows_read: u64, assigned_by: BTreeMap<&'static str, u64>) -> SourceAccount {
        SourceAccount {
            name: name.to_string(),
            kind,
            rows_read,
            rows_assigned: assigned_by.values().sum(),
            rows_rejected: 0,
            balanced: false,
            assigned_by,
            in_period: 0,
            in_trend_window: 0,
            outside_trend_window: 0,
            received_after_as_of: 0,
            rejects_by_reason: BTreeMap::new(),
            field_issues: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Output {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    /// Features of a layer or rows of a table.
    pub count: u64,
    /// For a mapped layer: the classes of its `class` property.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class_breaks: Option<crate::outputs::classes::Classes>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Gate {
    pub name: String,
    pub source: String,
    pub value: f64,
    pub limit: f64,
    pub passed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct GridSummary {
    pub features_read: usize,
    /// The coordinate system the layer was read in, and where that came from.
    pub crs: String,
    pub grids_used: usize,
    /// reason -> action -> count
    pub problems: BTreeMap<Reason, BTreeMap<&'static str, u64>>,
    pub units: BTreeMap<&'static str, usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct JoinSummary {
    pub boundary_rule: BoundaryRule,
    pub points: u64,
    pub assigned: u64,
    pub seconds: f64,
    pub points_per_second: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub gridgov_version: &'static str,
    pub polars_version: &'static str,
    pub run_id: String,
    /// `success` or `quality_gate_failed`.
    pub status: &'static str,
    pub exit_code: i32,
    pub started_at: String,
    pub finished_at: String,
    pub pipeline: String,
    pub config_sha256: String,
    pub period: BTreeMap<&'static str, serde_json::Value>,
    pub inputs: Vec<Input>,
    pub grids: GridSummary,
    pub sources: Vec<SourceAccount>,
    pub totals: BTreeMap<&'static str, u64>,
    pub join: JoinSummary,
    pub outputs: Vec<Output>,
    pub gates: Vec<Gate>,
    pub timings_seconds: BTreeMap<&'static str, f64>,
    /// Peak resident memory of the process so far (Linux `VmHWM`), MB; `None` elsewhere.
    pub peak_rss_mb: Option<f64>,
    /// The same high-water mark at the end of each stage of `timings_seconds` (Linux only).
    pub peak_rss_mb_after: BTreeMap<&'static str, f64>,
    /// MB held beside the counts: the join index, the largest source's case-id set, the
    /// closed cases' handling times (what exact quantiles need).
    pub held_mb: BTreeMap<&'static str, f64>,
    pub config: serde_json::Value,
}

/// Writes the manifest (pretty JSON, a line end at the end).
pub fn write(path: &Path, m: &Manifest) -> Result<(), OutputError> {
    let text = serde_json::to_string_pretty(m).map_err(|e| OutputError::Encode { path: path.to_path_buf(), message: e.to_string() })?;
    std::fs::write(path, text + "\n").map_err(OutputError::io(path))
}
