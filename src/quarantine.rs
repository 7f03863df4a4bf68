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
    /// 1-based line in a CSV file (row + 1), assuming no quoted field spans lines; empty otherwise.
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

/// All rejects of a run, in source order then row order.
#[derive(Debug, Default)]
pub struct Quarantine {
    rows: Vec<Reject>,
}

impl Quarantine {
    pub fn push(&mut self, r: Reject) {
        self.rows.push(r);
    }

    pub fn extend(&mut self, rs: impl IntoIterator<Item = Reject>) {
        self.rows.extend(rs);
    }

    /// Rows sorted by (source order of first appearance, row), which is deterministic.
    pub fn rows(&self) -> &[Reject] {
        &self.rows
    }

    /// Sorts rows by source (in order of first appearance) and row, for stable output.
    pub fn sort(&mut self) {
        let mut order: Vec<String> = Vec::new();
        for r in &self.rows {
            if !order.contains(&r.source) {
                order.push(r.source.clone());
            }
        }
        self.rows.sort_by_key(|r| (order.iter().position(|s| s == &r.source).unwrap_or(usize::MAX), r.row));
    }

    /// Rejected rows of one source.
    pub fn count(&self, source: &str) -> u64 {
        self.rows.iter().filter(|r| r.source == source).count() as u64
    }

    /// Counts per reason for one source.
    pub fn by_reason(&self, source: &str) -> BTreeMap<&'static str, u64> {
        let mut m = BTreeMap::new();
        for r in self.rows.iter().filter(|r| r.source == source) {
            *m.entry(r.reason).or_insert(0) += 1;
        }
        m
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}
