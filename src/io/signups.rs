//! Reads household sign-up records (签约): one row per household of a renovation project.

use chrono::NaiveDate;
use std::collections::HashSet;

use crate::config::SignupSource;
use crate::error::Error;
use crate::hierarchy::{Hierarchy, Level};
use crate::io::cases::open_all;
use crate::io::records::{self, Batch, Mapping, RecordFile, RowRef, Value};
use crate::quarantine::{Quarantine, Reject};

/// One valid household.
#[derive(Debug, Clone, PartialEq)]
pub struct Household {
    pub project_id: String,
    pub project_name: String,
    /// Index of the grid (hierarchy grid level).
    pub grid: u32,
    pub in_scope: bool,
    pub signed: Option<NaiveDate>,
}

/// Households of one source and its row count.
pub struct SourceSignups {
    pub households: Vec<Household>,
    pub rows_read: u64,
    pub rows_per_file: Vec<u64>,
}

const YES: &[&str] = &["1", "是", "true", "yes", "y"];
const NO: &[&str] = &["0", "否", "false", "no", "n"];

/// Reads and checks one sign-up source; rejected rows go to the quarantine.
/// `files` are the source's files (see `io::files::expand`); a household may appear once per
/// project in the whole source.
pub fn read_signups(
    src: &SignupSource,
    files: &[std::path::PathBuf],
    hierarchy: &Hierarchy,
    quarantine: &mut Quarantine,
) -> Result<SourceSignups, Error> {
    let mapping = Mapping::new(&src.columns);
    let opened = open_all(files, |f| records::open(f, src.format, src.delimiter, src.encoding, &mapping))?;
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut out = SourceSignups { households: Vec::new(), rows_read: 0, rows_per_file: Vec::new() };
    for rf in &opened {
        let rows = rf.for_each_batch(|batch| -> Result<(), Error> {
            for i in 0..batch.len() {
                batch.with_row(i, |r| check_row(src, &mapping, rf, batch, i, r, hierarchy, &mut seen, &mut out.households, quarantine));
            }
            quarantine.flush()?;
            Ok(())
        })?;
        out.rows_read += rows;
        out.rows_per_file.push(rows);
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn check_row(
    src: &SignupSource,
    mapping: &Mapping,
    rf: &RecordFile,
    batch: &Batch<'_>,
    i: usize,
    r: &RowRef<'_, '_>,
    hierarchy: &Hierarchy,
    seen: &mut HashSet<(String, String)>,
    households: &mut Vec<Household>,
    quarantine: &mut Quarantine,
) {
    let get = |field: &str| -> Option<String> { mapping.slot(field).and_then(|k| r.get(k).text()).map(|t| t.into_owned()) };
    let key = get("household_id").unwrap_or_default();
    let reject = |reason: &'static str, detail: String| Reject {
        source: src.name.clone(),
        file: rf.path.display().to_string(),
        row: batch.first_row + i as u64,
        line: batch.line(i),
        key: key.clone(),
        reason,
        detail,
        raw: mapping.raw_json(r),
    };
    if key.is_empty() {
        quarantine.push(reject("missing_household_id", "household_id is empty".into()));
        return;
    }
    let Some(project) = get("project_id") else {
        quarantine.push(reject("missing_project_id", "project_id is empty".into()));
        return;
    };
    let has_scope = mapping.slot("in_scope").is_some();
    let in_scope = match get("in_scope") {
        None if !has_scope => true,
        None => {
            quarantine.push(reject("bad_value", "in_scope is empty".into()));
            return;
        }
        Some(s) if YES.iter().any(|y| y.eq_ignore_ascii_case(&s)) => true,
        Some(s) if NO.iter().any(|y| y.eq_ignore_ascii_case(&s)) => false,
        Some(s) => {
            quarantine.push(reject("bad_value", format!("in_scope {s:?} is neither yes (1/是/true) nor no (0/否/false)")));
            return;
        }
    };
    let signed_date = match mapping.slot("signed_date").map_or(Value::Null, |k| r.get(k)) {
        Value::Date(d) => NaiveDate::from_num_days_from_ce_opt(d + 719_163),
        Value::Timestamp { ms, .. } => chrono::DateTime::from_timestamp_millis(ms).map(|t| t.date_naive()),
        v => match v.text() {
            None => None,
            Some(s) => match src.date_formats.iter().find_map(|f| NaiveDate::parse_from_str(&s, f).ok()) {
                Some(d) => Some(d),
                None => {
                    quarantine.push(reject("bad_signed_date", format!("signed_date {s:?} matches none of the date formats")));
                    return;
                }
            },
        },
    };
    let Some(code) = get("grid_code") else {
        quarantine.push(reject("no_location", "grid_code is empty".into()));
        return;
    };
    let Some(g) = hierarchy.find(Level::Grid, &code) else {
        quarantine.push(reject("unknown_grid_code", format!("grid code {code:?} is not in the grid layer")));
        return;
    };
    if !seen.insert((project.clone(), key.clone())) {
        quarantine.push(reject(
            "duplicate_household_id",
            format!("household {key:?} appears twice in project {project:?}; the first row is kept"),
        ));
        return;
    }
    households.push(Household {
        project_name: get("project_name").unwrap_or_else(|| project.clone()),
        project_id: project,
        grid: g,
        in_scope,
        signed: signed_date,
    });
}
