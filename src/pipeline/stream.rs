//! What the record stage of a run carries from batch to batch: the quarantine and its file,
//! the join's totals, the accounts of every source, the case assignments when asked for, and
//! the clocks of the stage's parts.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use crate::config::Pipeline;
use crate::indicators::overdue::OverdueList;
use crate::indicators::{InTime, Sums, Tallies};
use crate::io::inputs::Inputs;
use crate::io::records::{Batch, rows_hint};
use crate::io::{CheckContext, Checker};
use crate::join::place::{self, Assignments, JoinStats};
use crate::join::{BoundaryRule, GridIndex};
use crate::outputs::manifest::{Output, SourceAccount};
use crate::outputs::rejects::{IssuesFile, RejectsFile};
use crate::vocab::calendar::Calendar;
use crate::vocab::dictionary::Dictionaries;
use crate::vocab::error::{Error, OutputError, ReadError};
use crate::vocab::frame::Frame;
use crate::vocab::hash::relative;
use crate::vocab::interrupt;
use crate::vocab::names::NameIndex;
use crate::vocab::quarantine::{Quarantine, Reject};
use crate::vocab::record::{Placed, Record};
use crate::vocab::stage::{Stage, Timings};
use crate::vocab::units::{GridLayer, Hierarchy};

/// One source's account while it is read.
#[derive(Debug, Clone, Default)]
struct Account {
    rows_read: u64,
    rows_per_file: Vec<u64>,
    assigned_by: BTreeMap<&'static str, u64>,
    in_time: InTime,
}

pub(super) struct Stream {
    pub quarantine: Quarantine,
    rejects: Option<RejectsFile>,
    issues: Option<IssuesFile>,
    pub join: JoinStats,
    assignments: Option<Assignments>,
    overdue: OverdueList,
    accounts: Vec<(String, &'static str, Account)>,
    count_seconds: f64,
    crs_seconds: f64,
    ids_bytes: usize,
}

/// What the row checks need besides the row.
pub(super) fn check_context<'a>(
    p: &'a Pipeline,
    h: &'a Hierarchy,
    layer: &GridLayer,
    calendar: &'a Calendar,
    names: Option<&'a NameIndex>,
) -> CheckContext<'a> {
    CheckContext {
        names,
        repair_swapped: p.quality.repair_swapped_coordinates,
        calendar,
        time_limits: &p.indicators.time_limits,
        fold: p.period.rules.fold,
        gap: p.period.rules.gap,
        hierarchy: h,
        extent: layer.extent(),
        default_time_limit_ms: (p.indicators.default_time_limit_hours * 3_600_000.0) as i64,
        as_of_ms: p.period.as_of_ms(),
        suspect_points: &p.quality.suspect_points,
        suspect_radius_m: p.quality.suspect_radius_m,
    }
}

/// The units by name, when a source places records by names: built from the hierarchy and
/// the alias table (`grids.aliases`).
pub(super) fn name_index(p: &Pipeline, h: &Hierarchy) -> Result<Option<NameIndex>, ReadError> {
    let mapped = p.sources.iter().any(|s| ["district_name", "street_name", "community_name"].iter().any(|f| s.columns.contains_key(*f)));
    if !mapped {
        return Ok(None);
    }
    let aliases = match &p.grids.aliases {
        Some(path) => crate::io::aliases::read_aliases(path)?,
        None => Vec::new(),
    };
    NameIndex::build(h, &aliases).map(Some).map_err(|errors| ReadError::Layer {
        path: p.grids.aliases.clone().unwrap_or_default(),
        message: format!("the alias table names units the grid layer does not have:\n  - {}", errors.join("\n  - ")),
    })
}

/// About how many case rows the run will read (for sizing what quantiles keep).
pub(super) fn case_rows_hint(p: &Pipeline, inputs: &Inputs) -> u64 {
    p.sources.iter().zip(&inputs.sources).filter(|(s, _)| s.kind == "cases").map(|(s, f)| rows_hint(s, f)).sum()
}

/// Every source's name, and its files relative to the pipeline file (for tables that name a
/// record's source, file and row).
pub(super) fn source_files(p: &Pipeline, inputs: &Inputs) -> (Vec<String>, Vec<Vec<String>>) {
    let base = p.base_dir();
    let names = p.sources.iter().map(|s| s.name.clone()).collect();
    let files = inputs.sources.iter().map(|fs| fs.iter().map(|f| relative(f, &base)).collect()).collect();
    (names, files)
}

/// Some case source maps a dimension (category, department, channel).
pub(super) fn case_dims_mapped(p: &Pipeline) -> bool {
    p.sources_of("cases").any(|s| crate::indicators::DIMENSIONS.iter().any(|d| s.columns.contains_key(*d)))
}

impl Stream {
    pub fn new(p: &Pipeline, files: Option<(RejectsFile, IssuesFile)>) -> Stream {
        let (rejects, issues) = files.map_or((None, None), |(r, i)| (Some(r), Some(i)));
        Stream {
            quarantine: Quarantine::new(),
            rejects,
            issues,
            join: JoinStats::default(),
            assignments: (p.outputs.case_assignments || p.outputs.case_points).then(Assignments::default),
            overdue: OverdueList::new(p.outputs.overdue_list, p.period.as_of_ms()),
            accounts: p.sources.iter().map(|s| (s.name.clone(), s.kind, Account::default())).collect(),
            count_seconds: 0.0,
            crs_seconds: 0.0,
            ids_bytes: 0,
        }
    }

    /// The grids the layer check left out go to the quarantine: the first network's as source
    /// `grids`, another network's as `grids:<name>`.
    pub fn quarantine_grids(&mut self, source: &str, layer: &GridLayer) -> Result<(), OutputError> {
        for g in layer.problems.iter().filter(|g| g.action == "skipped") {
            self.quarantine.push(Reject {
                source: source.into(),
                file: layer.path.display().to_string(),
                row: g.feature_index as u64 + 1,
                line: None,
                key: g.code.clone(),
                reason: g.reason,
                detail: g.detail.clone(),
                raw: g.raw.clone(),
            });
        }
        self.write_rejects()
    }

    /// Places a batch's records.
    pub fn locate(&mut self, index: &GridIndex<'_>, rule: BoundaryRule, rows: &[Option<Record>]) -> Vec<Placed> {
        place::place(index, rule, rows, &mut self.join)
    }

    /// Counts a batch's placed records, in the tallies and in the source's account.
    pub fn tally(
        &mut self,
        si: usize,
        batch: &Batch<'_>,
        rows: &[Option<Record>],
        placed: &[Placed],
        tallies: &mut Tallies,
        checker: &Checker<'_>,
    ) {
        let t = Instant::now();
        let in_time = tallies.add(rows, placed);
        if let Some((_, kind, a)) = self.accounts.get_mut(si) {
            place::count_by_how(placed, &mut a.assigned_by);
            a.in_time.in_period += in_time.in_period;
            a.in_time.in_trend_window += in_time.in_trend_window;
            a.in_time.outside_trend_window += in_time.outside_trend_window;
            a.in_time.after_as_of += in_time.after_as_of;
            if let (Some(asg), "cases") = (&mut self.assignments, *kind) {
                asg.add(si, batch.file, batch.first_row, rows, placed, |i| checker.key(batch, i));
            }
            if *kind == "cases" {
                self.overdue.add(si, batch.file, batch.first_row, rows, placed, |i| checker.key(batch, i));
            }
        }
        self.count_seconds += t.elapsed().as_secs_f64();
    }

    /// After each batch: its rejects written out in row order; a requested stop honoured.
    pub fn end_batch(&mut self) -> Result<(), Error> {
        self.write_rejects()?;
        interrupt::check()
    }

    /// After a source's last batch: rows read, and what its checks held and took.
    pub fn end_source(&mut self, si: usize, rows_per_file: &[u64], checker: &Checker<'_>) {
        if let Some((_, _, a)) = self.accounts.get_mut(si) {
            a.rows_per_file = rows_per_file.to_vec();
            a.rows_read = rows_per_file.iter().sum();
        }
        self.crs_seconds += checker.crs_seconds();
        self.ids_bytes = self.ids_bytes.max(checker.ids_bytes());
    }

    /// The record stage's time and its parts: reading and checking rows (coordinate
    /// conversion included), locating points, counting.
    pub fn finish_timings(&self, timings: &mut Timings) {
        timings.lap(Stage::RecordsTotal);
        let total = timings.seconds.get(Stage::RecordsTotal.key()).copied().unwrap_or(0.0);
        timings.set(Stage::ReadRecords, total - self.join.seconds - self.count_seconds);
        timings.set(Stage::CrsConversion, self.crs_seconds);
        timings.set(Stage::Join, self.join.seconds);
        timings.set(Stage::Count, self.count_seconds);
    }

    /// Every source's account: rows read = rows assigned + rows rejected.
    pub fn accounts(&self) -> Vec<SourceAccount> {
        self.accounts
            .iter()
            .map(|(name, kind, a)| {
                let mut acc = SourceAccount::new(name, kind, a.rows_read, a.assigned_by.clone());
                if *kind == "cases" {
                    acc.in_period = a.in_time.in_period;
                    acc.in_trend_window = a.in_time.in_trend_window;
                    acc.outside_trend_window = a.in_time.outside_trend_window;
                    acc.received_after_as_of = a.in_time.after_as_of;
                }
                acc.field_issues = self.quarantine.issues(name).into_iter().map(|((f, r), n)| (format!("{f}:{r}"), n)).collect();
                acc.rows_rejected = self.quarantine.count(name);
                acc.rejects_by_reason = self.quarantine.by_reason(name);
                acc.balanced = acc.rows_read == acc.rows_assigned + acc.rows_rejected;
                acc
            })
            .collect()
    }

    /// Rows read from every input file, in the order of `inputs.files` (the grid layer's
    /// features first).
    pub fn file_rows(&self, layer: &GridLayer) -> Vec<u64> {
        let mut v = vec![layer.features_read as u64];
        v.extend(self.accounts.iter().flat_map(|(_, _, a)| a.rows_per_file.iter().copied()));
        v
    }

    /// What the run holds for exact indicators and checks, beside the counts, in MB.
    pub fn held(&self, index: &GridIndex<'_>, sums: &Sums) -> BTreeMap<&'static str, f64> {
        let mb = |b: usize| (b as f64 / 1e5).round() / 10.0;
        BTreeMap::from([
            ("join_index", mb(index.bytes())),
            ("case_ids_largest_source", mb(self.ids_bytes)),
            ("handling_times", mb(sums.stores_bytes())),
        ])
    }

    /// The `case_assignments` table, when the pipeline asks for it.
    pub fn assignments_frame(&self, p: &Pipeline, h: &Hierarchy, inputs: &Inputs) -> Option<Frame> {
        let a = self.assignments.as_ref().filter(|_| p.outputs.case_assignments)?;
        let (names, files) = source_files(p, inputs);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        Some(a.frame(h, &names, &files))
    }

    /// The `case_points` layer's table and points, when the pipeline asks for it.
    pub fn case_points(&self, p: &Pipeline, h: &Hierarchy, inputs: &Inputs) -> Option<(Frame, Vec<(f64, f64)>)> {
        let a = self.assignments.as_ref().filter(|_| p.outputs.case_points)?;
        let (names, files) = source_files(p, inputs);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        Some(a.points(h, &names, &files))
    }

    /// The most overdue open cases (`overdue_open.*`), when the pipeline asks for any.
    pub fn overdue_frame(&self, p: &Pipeline, h: &Hierarchy, dicts: &Dictionaries, inputs: &Inputs) -> Option<Frame> {
        if p.outputs.overdue_list == 0 || p.sources_of("cases").next().is_none() {
            return None;
        }
        let (names, files) = source_files(p, inputs);
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        Some(self.overdue.frame(h, dicts, p.period.time_zone, &names, &files))
    }

    /// Closes `rejects.csv` and `field_issues.csv`; their manifest entries.
    pub fn close_rejects(&mut self, run_dir: &Path) -> Result<Vec<Output>, OutputError> {
        self.write_rejects()?;
        let mut out: Vec<Output> = self.rejects.take().map(|f| f.finish(run_dir)).transpose()?.into_iter().collect();
        out.extend(self.issues.take().map(|f| f.finish(run_dir)).transpose()?);
        Ok(out)
    }

    fn write_rejects(&mut self) -> Result<(), OutputError> {
        let rows = self.quarantine.drain();
        let issues = self.quarantine.drain_issues();
        if let Some(f) = &mut self.rejects {
            f.write_all(&rows)?;
        }
        if let Some(f) = &mut self.issues {
            f.write_all(&issues)?;
        }
        Ok(())
    }
}
