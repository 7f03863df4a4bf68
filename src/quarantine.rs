//! The quarantine: every input row or grid that could not be used, with where it came from,
//! why, and its raw fields. Counts per source and reason are what the manifest reports.

use serde::Serialize;
use std::collections::BTreeMap;

/// Every reason code a row or grid can be rejected with (docs/indicators.md explains each).
/// Quality gates per reason name one of these.
pub const REASONS: &[&str] = &[
    "missing_case_id",
    "missing_household_id",
    "missing_project_id",
    "duplicate_case_id",
    "duplicate_household_id",
    "bad_received_at",
    "bad_closed_at",
    "bad_due_at",
    "bad_signed_date",
    "closed_before_received",
    "bad_row",
    "timestamp_in_future",
    "bad_value",
    "bad_coordinate",
    "coordinate_out_of_range",
    "swapped_coordinates",
    "default_coordinate",
    "no_location",
    "unknown_grid_code",
    "unknown_community_code",
    "unknown_street_code",
    "outside_all_grids",
    "ambiguous_boundary",
    "grid_no_code",
    "grid_not_polygon",
    "grid_empty_geometry",
    "grid_invalid_geometry",
    "grid_duplicate_code",
];

/// Reasons that mean "a valid row that could not be placed in a grid", for
/// `quality.max_unassigned_share`.
pub const UNASSIGNED_REASONS: &[&str] =
    &["no_location", "unknown_grid_code", "unknown_community_code", "unknown_street_code", "outside_all_grids", "ambiguous_boundary"];

/// One rejected row.
#[derive(Debug, Clone, Serialize)]
pub struct Reject {
    /// Source name from the pipeline file (`grids` for the grid layer).
    pub source: String,
    /// File the row came from.
    pub file: String,
    /// 1-based data row (the header is not counted); the feature index + 1 for grids.
    pub row: u64,
    /// 1-based line in a CSV file where the row starts (a quoted field may span lines); empty
    /// for Parquet.
    pub line: Option<u64>,
    /// The record's key (case id, household id, grid code), empty when it has none.
    pub key: String,
    /// Machine-readable reason code (see docs/indicators.md, "Quarantine reasons").
    pub reason: &'static str,
    /// What exactly was wrong, for a person.
    pub detail: String,
    /// The mapped fields as they were in the file, as a JSON object.
    pub raw: String,
}

/// The quarantine of a run: counts per source and reason, and the rows themselves, written to
/// `rejects.csv` batch by batch (so memory does not grow with the number of rejects). A check
/// run (`validate`, `--dry-run`) counts without writing.
pub struct Quarantine {
    /// Rejects of the batch being processed, written in row order by `flush`.
    pending: Vec<Reject>,
    /// Per source, in order of first appearance: rejects by reason.
    counts: Vec<(String, BTreeMap<&'static str, u64>)>,
    file: Option<crate::outputs::rejects::RejectsFile>,
}

impl Quarantine {
    /// A quarantine writing to `file`, or only counting.
    pub fn new(file: Option<crate::outputs::rejects::RejectsFile>) -> Quarantine {
        Quarantine { pending: Vec::new(), counts: Vec::new(), file }
    }

    pub fn push(&mut self, r: Reject) {
        let by_reason = match self.counts.iter_mut().position(|(s, _)| *s == r.source) {
            Some(i) => &mut self.counts[i].1,
            None => {
                self.counts.push((r.source.clone(), BTreeMap::new()));
                let last = self.counts.len() - 1;
                &mut self.counts[last].1
            }
        };
        *by_reason.entry(r.reason).or_insert(0) += 1;
        self.pending.push(r);
    }

    pub fn extend(&mut self, rs: impl IntoIterator<Item = Reject>) {
        for r in rs {
            self.push(r);
        }
    }

    /// Writes the pending rejects in row order (they come from one file).
    pub fn flush(&mut self) -> Result<(), crate::error::OutputError> {
        self.pending.sort_by_key(|r| r.row);
        if let Some(f) = &mut self.file {
            f.write_all(&self.pending)?;
        }
        self.pending.clear();
        Ok(())
    }

    /// Flushes and closes the file; its manifest entry.
    pub fn finish(mut self, run_dir: &std::path::Path) -> Result<Option<crate::outputs::manifest::Output>, crate::error::OutputError> {
        self.flush()?;
        self.file.take().map(|f| f.finish(run_dir)).transpose()
    }

    /// Rejected rows of one source.
    pub fn count(&self, source: &str) -> u64 {
        self.by_reason(source).values().sum()
    }

    /// Counts per reason for one source.
    pub fn by_reason(&self, source: &str) -> BTreeMap<&'static str, u64> {
        self.counts.iter().find(|(s, _)| s == source).map(|(_, m)| m.clone()).unwrap_or_default()
    }

    /// Rejected rows of all sources.
    pub fn len(&self) -> u64 {
        self.counts.iter().flat_map(|(_, m)| m.values()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
