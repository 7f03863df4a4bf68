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
use crate::vocab::state::{FileState, OverdueRow, PlacedRow, SourceState, Span};
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
    /// Per source, the index among all of its files of each file read (a partial run reads
    /// some); empty: all, in order.
    read_files: Vec<Vec<usize>>,
    /// A partial run's: per (source, file), its rows of `rejects.csv` and `field_issues.csv`.
    spans: Option<BTreeMap<(usize, usize), (Span, Span)>>,
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
            read_files: vec![Vec::new(); p.sources.len()],
            spans: None,
        }
    }

    /// A partial run reads files `read` (indices among all of source `si`'s files) and keeps
    /// where each file's quarantined rows are.
    pub fn read_some(&mut self, si: usize, read: Vec<usize>) {
        self.read_files[si] = read;
        self.spans.get_or_insert_with(BTreeMap::new);
    }

    /// The index among all of source `si`'s files of the `f`-th file read.
    pub fn global_file(&self, si: usize, f: usize) -> usize {
        self.read_files.get(si).and_then(|m| m.get(f)).copied().unwrap_or(f)
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
            let file = self.read_files.get(si).and_then(|m| m.get(batch.file)).copied().unwrap_or(batch.file);
            if let (Some(asg), "cases") = (&mut self.assignments, *kind) {
                asg.add(si, file, batch.first_row, rows, placed, |i| checker.key(batch, i));
            }
            if *kind == "cases" {
                self.overdue.add(si, file, batch.first_row, rows, placed, |i| checker.key(batch, i));
            }
        }
        self.count_seconds += t.elapsed().as_secs_f64();
    }

    /// After each batch of file `file` (among all its source's) of source `si`: its rejects
    /// written out in row order; a requested stop honoured.
    pub fn end_batch(&mut self, si: usize, file: usize) -> Result<(), Error> {
        let before = self.positions();
        self.write_rejects()?;
        let after = self.positions();
        if let Some(spans) = &mut self.spans {
            let e = spans.entry((si, file)).or_insert_with(|| {
                let at = |(b, _): (u64, u64)| Span { start: b, end: b, rows: 0 };
                (at(before.0), at(before.1))
            });
            e.0.end = after.0.0;
            e.0.rows += after.0.1 - before.0.1;
            e.1.end = after.1.0;
            e.1.rows += after.1.1 - before.1.1;
        }
        interrupt::check()
    }

    fn positions(&self) -> ((u64, u64), (u64, u64)) {
        (self.rejects.as_ref().map_or((0, 0), |f| f.position()), self.issues.as_ref().map_or((0, 0), |f| f.position()))
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

    /// What a partial run holds of case source `si`: its files (path relative to the
    /// pipeline file, hash, rows, where its quarantined rows are) and its accounts.
    pub fn source_state(&self, p: &Pipeline, inputs: &Inputs, si: usize) -> SourceState {
        let (name, _, a) = &self.accounts[si];
        let base = p.base_dir();
        let files = self.read_files[si]
            .iter()
            .enumerate()
            .map(|(k, &f)| {
                let path = &inputs.sources[si][f];
                let input = inputs.files.iter().find(|x| x.source == *name && x.path == *path);
                let (rejects, issues) = self.spans.as_ref().and_then(|m| m.get(&(si, f))).copied().unwrap_or_default();
                FileState {
                    index: f,
                    path: relative(path, &base),
                    sha256: input.map(|x| x.sha256.clone()).unwrap_or_default(),
                    bytes: input.map_or(0, |x| x.bytes),
                    rows: a.rows_per_file.get(k).copied().unwrap_or(0),
                    rejects,
                    issues,
                }
            })
            .collect();
        let t = &a.in_time;
        SourceState {
            index: si,
            name: name.clone(),
            files,
            assigned_by: a.assigned_by.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            in_time: [t.in_period, t.in_trend_window, t.outside_trend_window, t.after_as_of],
            rejects_by_reason: self.quarantine.by_reason(name).into_iter().map(|(r, n)| (r.as_str().to_string(), n)).collect(),
            field_issues: self.quarantine.issues(name).into_iter().map(|((f, r), n)| (f.to_string(), r.as_str().to_string(), n)).collect(),
        }
    }

    /// The case assignments, the most overdue cases and the join's counts, for a partial
    /// run's state.
    pub fn state_rows(&self) -> (Vec<PlacedRow>, Vec<OverdueRow>, (u64, u64)) {
        (
            self.assignments.as_ref().map(|a| a.to_state()).unwrap_or_default(),
            self.overdue.to_state(),
            (self.join.points, self.join.points_assigned),
        )
    }

    /// Takes case source `si` from partial runs' states in place of reading its files: the
    /// quarantined rows (copied in file order), the accounts, the case assignments and the
    /// most overdue cases of that source. `parts`: each state's folder, its part of the
    /// source, and its dimension renumbering. The sums are absorbed by the caller.
    pub fn absorb_source(
        &mut self,
        si: usize,
        files: usize,
        parts: &[(&Path, &SourceState)],
        assignments: Vec<PlacedRow>,
        overdue: Vec<(Vec<OverdueRow>, &[Vec<u32>])>,
    ) -> Result<(), Error> {
        self.write_rejects()?;
        let bad = |dir: &Path, m: String| ReadError::State { path: dir.to_path_buf(), message: m };
        let mut by_file: Vec<Option<(&Path, &FileState)>> = vec![None; files];
        for (dir, s) in parts {
            for f in &s.files {
                if let Some(slot) = by_file.get_mut(f.index) {
                    *slot = Some((dir, f));
                }
            }
            let (by_reason, issues) = super::partial::quarantine_counts(s).map_err(|m| bad(dir, m))?;
            self.quarantine.add_counts(&s.name, &by_reason, &issues);
            let a = &mut self.accounts[si].2;
            for (how, n) in &s.assigned_by {
                let how = super::partial::how_name(how).ok_or_else(|| bad(dir, format!("unknown way of placing {how:?}")))?;
                *a.assigned_by.entry(how).or_insert(0) += n;
            }
            a.in_time.in_period += s.in_time[0];
            a.in_time.in_trend_window += s.in_time[1];
            a.in_time.outside_trend_window += s.in_time[2];
            a.in_time.after_as_of += s.in_time[3];
        }
        let a = &mut self.accounts[si].2;
        a.rows_per_file = by_file.iter().map(|f| f.map_or(0, |(_, f)| f.rows)).collect();
        a.rows_read = a.rows_per_file.iter().sum();
        for (dir, f) in by_file.into_iter().flatten() {
            if let Some(r) = &mut self.rejects {
                let bytes = crate::io::state::read_span(dir, "rejects.csv", f.rejects)?;
                r.append_formatted(&bytes, f.rejects.rows)?;
            }
            if let Some(r) = &mut self.issues {
                let bytes = crate::io::state::read_span(dir, "field_issues.csv", f.issues)?;
                r.append_formatted(&bytes, f.issues.rows)?;
            }
        }
        if let Some(asg) = &mut self.assignments {
            asg.absorb(assignments).map_err(|m| bad(Path::new("assignments.arrow"), m))?;
        }
        for (rows, map) in overdue {
            self.overdue.absorb(rows, map).map_err(|m| bad(Path::new("state.json"), m))?;
        }
        Ok(())
    }

    /// Adds a partial run's join counts (points located, points in a grid).
    pub fn absorb_join(&mut self, (points, assigned): (u64, u64)) {
        self.join.points += points;
        self.join.points_assigned += assigned;
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
