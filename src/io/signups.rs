//! Reads household sign-up records (签约): one row per household of a renovation project.

use chrono::NaiveDate;
use std::collections::HashSet;

use crate::config::SignupSource;
use crate::error::ReadError;
use crate::hierarchy::{Hierarchy, Level};
use crate::io::cases::raw_fields;
use crate::io::table::{TextTable, read_text_table};
use crate::quarantine::Reject;

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

/// Reads and checks one sign-up source; rejected rows go to `rejects`.
/// `files` are the source's files (see `io::files::expand`); a household may appear once per
/// project in the whole source.
pub fn read_signups(
    src: &SignupSource,
    files: &[std::path::PathBuf],
    hierarchy: &Hierarchy,
    rejects: &mut Vec<Reject>,
) -> Result<SourceSignups, ReadError> {
    let tables = files
        .iter()
        .map(|f| read_text_table(f, src.format, src.delimiter, src.encoding, &src.columns))
        .collect::<Result<Vec<TextTable>, ReadError>>()?;
    let mut seen: HashSet<(String, String)> = HashSet::new();
    let mut out = SourceSignups { households: Vec::new(), rows_read: 0, rows_per_file: Vec::new() };
    for table in &tables {
        read_file(src, table, hierarchy, &mut seen, &mut out.households, rejects);
        out.rows_read += table.height as u64;
        out.rows_per_file.push(table.height as u64);
    }
    Ok(out)
}

fn read_file(
    src: &SignupSource,
    table: &TextTable,
    hierarchy: &Hierarchy,
    seen: &mut HashSet<(String, String)>,
    households: &mut Vec<Household>,
    rejects: &mut Vec<Reject>,
) {
    let n = table.height;
    let col = |f: &str| table.field(f);
    let get = |c: &Option<Vec<Option<&str>>>, i: usize| -> Option<String> {
        c.as_ref().and_then(|v| v[i]).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
    };
    let hid = col("household_id");
    let pid = col("project_id");
    let pname = col("project_name");
    let grid = col("grid_code");
    let scope = col("in_scope");
    let signed = col("signed_date");
    let file = table.path.display().to_string();
    let is_csv = src.format == crate::config::FileFormat::Csv;
    for i in 0..n {
        let key = get(&hid, i).unwrap_or_default();
        let reject = |reason: &'static str, detail: String| Reject {
            source: src.name.clone(),
            file: file.clone(),
            row: i as u64 + 1,
            line: is_csv.then_some(i as u64 + 2),
            key: key.clone(),
            reason,
            detail,
            raw: raw_fields(table, i),
        };
        if key.is_empty() {
            rejects.push(reject("missing_household_id", "household_id is empty".into()));
            continue;
        }
        let Some(project) = get(&pid, i) else {
            rejects.push(reject("missing_project_id", "project_id is empty".into()));
            continue;
        };
        let in_scope = match get(&scope, i) {
            None if scope.is_none() => true,
            None => {
                rejects.push(reject("bad_value", "in_scope is empty".into()));
                continue;
            }
            Some(s) if YES.iter().any(|y| y.eq_ignore_ascii_case(&s)) => true,
            Some(s) if NO.iter().any(|y| y.eq_ignore_ascii_case(&s)) => false,
            Some(s) => {
                rejects.push(reject("bad_value", format!("in_scope {s:?} is neither yes (1/是/true) nor no (0/否/false)")));
                continue;
            }
        };
        let signed_date = match get(&signed, i) {
            None => None,
            Some(s) => match src.date_formats.iter().find_map(|f| NaiveDate::parse_from_str(&s, f).ok()) {
                Some(d) => Some(d),
                None => {
                    rejects.push(reject("bad_signed_date", format!("signed_date {s:?} matches none of the date formats")));
                    continue;
                }
            },
        };
        let Some(code) = get(&grid, i) else {
            rejects.push(reject("no_location", "grid_code is empty".into()));
            continue;
        };
        let Some(g) = hierarchy.find(Level::Grid, &code) else {
            rejects.push(reject("unknown_grid_code", format!("grid code {code:?} is not in the grid layer")));
            continue;
        };
        if !seen.insert((project.clone(), key.clone())) {
            rejects.push(reject(
                "duplicate_household_id",
                format!("household {key:?} appears twice in project {project:?}; the first row is kept"),
            ));
            continue;
        }
        households.push(Household {
            project_name: get(&pname, i).unwrap_or_else(|| project.clone()),
            project_id: project,
            grid: g,
            in_scope,
            signed: signed_date,
        });
    }
}
