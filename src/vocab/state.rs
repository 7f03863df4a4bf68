//! A partial run's state (`gridgov run --partial`, `gridgov merge`): what the record stage of
//! a run holds once it has read some of the case files, as plain columns. The stage that owns
//! each part makes it and absorbs it (`indicators`, `join::place`, `pipeline`);
//! `outputs::state` writes a state folder (Arrow IPC tables and a JSON header), `io::state`
//! reads one back. The format is versioned: a merge refuses a state of another version, of
//! another gridgov, or of another configuration.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The header's `format`.
pub const FORMAT: &str = "gridgov-partial-state";
/// The state format's version; a merge reads this version only.
pub const VERSION: u32 = 1;
/// The header's file name in a state folder.
pub const HEADER: &str = "state.json";

/// The sums of one record kind's tally, as columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TallyState {
    /// Per home unit × slot, `width` counters.
    pub counts: Vec<u64>,
    /// The period's counters by dimension value, non-zero ones only: dimension, value
    /// (`dictionary::NO_VALUE` for records without one), counter, count.
    pub dims: Vec<(u32, u32, u32, u64)>,
    /// One per store of the kind's families.
    pub stores: Vec<StoreState>,
}

/// The exact values one store keeps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreState {
    pub home: Vec<u32>,
    pub tag: Vec<u8>,
    /// Milliseconds.
    pub ms: Vec<u64>,
    /// `ndims` values per entry, when the store keeps dimension values.
    pub dims: Option<Vec<u32>>,
    pub ndims: usize,
}

/// What the case tallies of one grid network hold: the counts and stores, and (first network
/// only) the period's points for hot spots.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TalliesState {
    pub cases: TallyState,
    /// lon, lat, received (UTC ms), category, grid.
    pub hot: Option<Vec<(f64, f64, i64, u32, u32)>>,
}

/// A record placed in a unit, with where it came from (case assignments, network
/// disagreements).
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedRow {
    pub source: u32,
    /// The file's index among all of its source's files.
    pub file: u32,
    pub row: u64,
    pub key: String,
    /// `record::How::code`.
    pub how: u8,
    pub level: u8,
    pub unit: u32,
    /// The WGS84 point of a record placed by its point.
    pub point: Option<(f64, f64)>,
    /// A network disagreement's unit in the other network (level, unit).
    pub other: Option<(u8, u32)>,
}

/// One of the most overdue open cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverdueRow {
    pub due: i64,
    pub received: i64,
    pub source: u32,
    pub file: u32,
    pub row: u64,
    pub key: String,
    pub level: u8,
    pub unit: u32,
    pub dims: [u32; 3],
}

/// The header of a state folder.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u32,
    /// The gridgov version that wrote it.
    pub gridgov: String,
    /// The configuration and the grid layers it was made with (`io::inputs::config_id`).
    pub config: String,
    /// The case sources this state read files of.
    pub sources: Vec<SourceState>,
    /// The dimension values, numbered as the state's tables number them.
    pub dictionaries: Vec<Vec<String>>,
    /// Points located and points in a grid, per grid network (the first network first).
    pub join: Vec<(u64, u64)>,
    /// Records placed and not placed in each other network.
    pub networks: Vec<(u64, u64)>,
    pub overdue: Vec<OverdueRow>,
}

/// What a state holds of one case source.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceState {
    /// Index of the source in the pipeline's sources.
    pub index: usize,
    pub name: String,
    pub files: Vec<FileState>,
    /// Records placed, by how (`record::How::as_str`).
    pub assigned_by: BTreeMap<String, u64>,
    /// In the period, in the trend window, outside it, received after the as-of moment.
    pub in_time: [u64; 4],
    /// Rejected rows by reason code.
    pub rejects_by_reason: BTreeMap<String, u64>,
    /// Kept rows' field issues: field, reason code, count.
    pub field_issues: Vec<(String, String, u64)>,
}

/// One file a state read.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileState {
    /// The file's index among all of its source's files (name order).
    pub index: usize,
    /// Relative to the pipeline file, as tables write it.
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    pub rows: u64,
    /// Its rows of the state's `rejects.csv` and `field_issues.csv`: byte range and rows.
    pub rejects: Span,
    pub issues: Span,
}

/// A byte range of a quarantine file and the rows in it.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Span {
    pub start: u64,
    pub end: u64,
    pub rows: u64,
}

/// The ids of one source a state kept, for the check that no id is in two states: the key
/// (`io::ids::IdKey` as 128 bits) and the source-wide ordinal of its first row in the state.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdsState {
    pub hi: Vec<u64>,
    pub lo: Vec<u64>,
    pub ord: Vec<u32>,
}

/// Everything a state folder holds.
#[derive(Debug, Clone)]
pub struct State {
    pub header: Header,
    /// Per grid network, the first first.
    pub tallies: Vec<TalliesState>,
    /// Case assignments (when the pipeline writes them or the case point layer).
    pub assignments: Vec<PlacedRow>,
    /// Per other network, its disagreements with the first.
    pub differs: Vec<Vec<PlacedRow>>,
    /// Per source of `header.sources`, in that order.
    pub ids: Vec<IdsState>,
}
