//! The quarantine: every input row or grid that could not be used, with where it came from,
//! why, and its raw fields. Counts per source and reason are what the manifest reports.
//!
//! The quarantine only counts and holds the rows of the batch at hand; the pipeline hands
//! them to the writer of `rejects.csv` (`outputs::rejects`) after each batch, so memory does
//! not grow with the number of rejects.

use serde::Serialize;
use std::collections::BTreeMap;

use super::reason::Reason;

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
    pub reason: Reason,
    /// What exactly was wrong, for a person.
    pub detail: String,
    /// The mapped fields as they were in the file, as a JSON object.
    pub raw: String,
}

/// A field of a row that could not be used as it was, while the row itself was kept: the
/// field was left out (its indicators too), imputed, repaired, or the row was placed another
/// way.
#[derive(Debug, Clone, Serialize)]
pub struct FieldIssue {
    pub source: String,
    pub file: String,
    pub row: u64,
    pub line: Option<u64>,
    pub key: String,
    /// The gridgov field (`closed_at`, `satisfaction`, `lon` …).
    pub field: &'static str,
    /// The value as it was in the file.
    pub value: String,
    pub reason: Reason,
    /// What was done: `ignored`, `imputed`, `repaired` or `placed_by_code`.
    pub action: &'static str,
    pub detail: String,
}

/// The quarantine of a run: counts per source and reason, and the rejects (and kept rows'
/// field issues) of the batch being processed.
#[derive(Debug, Default)]
pub struct Quarantine {
    pending: Vec<Reject>,
    /// Per source, in order of first appearance: rejects by reason.
    counts: Vec<(String, BTreeMap<Reason, u64>)>,
    pending_issues: Vec<FieldIssue>,
    /// Per source: field issues by field and reason.
    issue_counts: Vec<(String, BTreeMap<(&'static str, Reason), u64>)>,
}

impl Quarantine {
    pub fn new() -> Quarantine {
        Quarantine::default()
    }

    pub fn push(&mut self, r: Reject) {
        *counts_of(&mut self.counts, &r.source).entry(r.reason).or_insert(0) += 1;
        self.pending.push(r);
    }

    pub fn extend(&mut self, rs: impl IntoIterator<Item = Reject>) {
        for r in rs {
            self.push(r);
        }
    }

    /// The pending rejects in row order (they come from one file), leaving none pending.
    pub fn drain(&mut self) -> Vec<Reject> {
        self.pending.sort_by_key(|r| r.row);
        std::mem::take(&mut self.pending)
    }

    /// Records a field issue of a kept row.
    pub fn push_issue(&mut self, i: FieldIssue) {
        *counts_of(&mut self.issue_counts, &i.source).entry((i.field, i.reason)).or_insert(0) += 1;
        self.pending_issues.push(i);
    }

    /// The pending field issues in row order, leaving none pending.
    pub fn drain_issues(&mut self) -> Vec<FieldIssue> {
        self.pending_issues.sort_by_key(|r| r.row);
        std::mem::take(&mut self.pending_issues)
    }

    /// Adds a partial run's counts of one source: rejects by reason, field issues by field
    /// and reason (their rows are in the partial run's files).
    pub fn add_counts(&mut self, source: &str, by_reason: &BTreeMap<Reason, u64>, issues: &BTreeMap<(&'static str, Reason), u64>) {
        if !by_reason.is_empty() {
            let m = counts_of(&mut self.counts, source);
            by_reason.iter().for_each(|(r, n)| *m.entry(*r).or_insert(0) += n);
        }
        if !issues.is_empty() {
            let m = counts_of(&mut self.issue_counts, source);
            issues.iter().for_each(|(k, n)| *m.entry(*k).or_insert(0) += n);
        }
    }

    /// Field issues of one source by field and reason.
    pub fn issues(&self, source: &str) -> BTreeMap<(&'static str, Reason), u64> {
        self.issue_counts.iter().find(|(s, _)| s == source).map(|(_, m)| m.clone()).unwrap_or_default()
    }

    /// Rejected rows of one source.
    pub fn count(&self, source: &str) -> u64 {
        self.by_reason(source).values().sum()
    }

    /// Counts per reason for one source.
    pub fn by_reason(&self, source: &str) -> BTreeMap<Reason, u64> {
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

/// A source's counts in a list kept in order of first appearance, added when new.
fn counts_of<'a, K>(list: &'a mut Vec<(String, BTreeMap<K, u64>)>, source: &str) -> &'a mut BTreeMap<K, u64> {
    let i = match list.iter().position(|(s, _)| s == source) {
        Some(i) => i,
        None => {
            list.push((source.to_string(), BTreeMap::new()));
            list.len() - 1
        }
    };
    &mut list[i].1
}
