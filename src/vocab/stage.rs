//! The stages of a run as the manifest's `timings_seconds` and `peak_rss_mb_after` name them,
//! and `gridgov bench` lists them: one enum, so the two never disagree.

use std::collections::BTreeMap;
use std::time::Instant;

/// A stage, or a part of one (see `depth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    HashInputs,
    ReadGrids,
    JoinIndex,
    RecordsTotal,
    ReadRecords,
    CrsConversion,
    Join,
    Count,
    Coverage,
    Indicators,
    Networks,
    Crosswalks,
    OutputsTotal,
    LevelsTotal,
    Dissolve,
    WriteGeojson,
    WriteTables,
    WriteOtherTables,
    Charts,
    WriteReport,
}

impl Stage {
    /// Every stage in the order a run goes through them.
    pub const ALL: [Stage; 20] = [
        Stage::HashInputs,
        Stage::ReadGrids,
        Stage::JoinIndex,
        Stage::RecordsTotal,
        Stage::ReadRecords,
        Stage::CrsConversion,
        Stage::Join,
        Stage::Count,
        Stage::Coverage,
        Stage::Indicators,
        Stage::Networks,
        Stage::Crosswalks,
        Stage::OutputsTotal,
        Stage::LevelsTotal,
        Stage::Dissolve,
        Stage::WriteGeojson,
        Stage::WriteTables,
        Stage::WriteOtherTables,
        Stage::Charts,
        Stage::WriteReport,
    ];

    /// The key in the manifest.
    pub fn key(self) -> &'static str {
        match self {
            Stage::HashInputs => "hash_inputs",
            Stage::ReadGrids => "read_grids",
            Stage::JoinIndex => "join_index",
            Stage::RecordsTotal => "cases_total",
            Stage::ReadRecords => "read_records",
            Stage::CrsConversion => "crs_conversion",
            Stage::Join => "join",
            Stage::Count => "count",
            Stage::Coverage => "coverage",
            Stage::Indicators => "indicators",
            Stage::Networks => "networks",
            Stage::Crosswalks => "crosswalks",
            Stage::OutputsTotal => "outputs_total",
            Stage::LevelsTotal => "levels_total",
            Stage::Dissolve => "dissolve",
            Stage::WriteGeojson => "write_geojson",
            Stage::WriteTables => "write_tables",
            Stage::WriteOtherTables => "write_other_tables",
            Stage::Charts => "charts",
            Stage::WriteReport => "write_report",
        }
    }

    /// What the stage does, for `gridgov bench`.
    pub fn label(self) -> &'static str {
        match self {
            Stage::HashInputs => "hash inputs (sha256)",
            Stage::ReadGrids => "read grids (GeoJSON, checks, areas)",
            Stage::JoinIndex => "build the join index",
            Stage::RecordsTotal => "records, streamed: read, join, count",
            Stage::ReadRecords => "read and check records",
            Stage::CrsConversion => "of which coordinate conversion",
            Stage::Join => "locate points (join)",
            Stage::Count => "count records",
            Stage::Coverage => "service circle: resident lattice and facility reach",
            Stage::Indicators => "indicators and roll-ups",
            Stage::Networks => "other grid networks: tables, crosswalks, straddling cells",
            Stage::Crosswalks => "crosswalks and straddling cells",
            Stage::OutputsTotal => "write outputs",
            Stage::LevelsTotal => "layers and level tables",
            Stage::Dissolve => "dissolve (summed over levels)",
            Stage::WriteGeojson => "GeoJSON layers (summed over levels)",
            Stage::WriteTables => "level tables (summed over levels)",
            Stage::WriteOtherTables => "city and dimension tables",
            Stage::Charts => "charts",
            Stage::WriteReport => "report, dictionary",
        }
    }

    /// 0 for a stage, 1 for a part of the stage above, 2 for a part of a part.
    pub fn depth(self) -> usize {
        match self {
            Stage::ReadRecords | Stage::Join | Stage::Count | Stage::LevelsTotal => 1,
            Stage::WriteOtherTables | Stage::Charts | Stage::WriteReport | Stage::Crosswalks => 1,
            Stage::CrsConversion | Stage::Dissolve | Stage::WriteGeojson | Stage::WriteTables => 2,
            _ => 0,
        }
    }

    pub fn from_key(key: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.key() == key)
    }
}

/// Seconds per stage and the process's memory high-water mark after each, as the run goes.
#[derive(Debug, Clone)]
pub struct Timings {
    pub seconds: BTreeMap<&'static str, f64>,
    pub peak_rss_mb_after: BTreeMap<&'static str, f64>,
    clock: Instant,
}

impl Default for Timings {
    fn default() -> Self {
        Timings { seconds: BTreeMap::new(), peak_rss_mb_after: BTreeMap::new(), clock: Instant::now() }
    }
}

impl Timings {
    /// Ends `stage` now: its seconds since the last lap and the memory high-water mark.
    pub fn lap(&mut self, stage: Stage) {
        self.seconds.insert(stage.key(), self.clock.elapsed().as_secs_f64());
        if let Some(mb) = peak_rss_mb() {
            self.peak_rss_mb_after.insert(stage.key(), mb);
        }
        self.clock = Instant::now();
    }

    /// Records the seconds of a part measured elsewhere.
    pub fn set(&mut self, stage: Stage, seconds: f64) {
        self.seconds.insert(stage.key(), seconds);
    }

    /// Adds seconds to a part measured in pieces.
    pub fn add(&mut self, stage: Stage, seconds: f64) {
        *self.seconds.entry(stage.key()).or_default() += seconds;
    }
}

/// Peak resident set size of this process in MB, from `/proc/self/status` (Linux only).
pub fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kb / 1024.0 * 10.0).round() / 10.0)
}
