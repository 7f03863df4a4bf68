//! Partial runs and their merge: `gridgov run --partial DIR` reads a share of the case files
//! and writes what the record stage holds as a state (`vocab::state`); `gridgov merge` reads
//! the grid layers and every other source itself, absorbs the states in place of the case
//! files, and writes what one run would have written.
//!
//! Only case files are split: they are the millions of rows. Sign-ups, whistles, service
//! orders, members and facilities are thousands, and several of their counts depend on
//! meeting their rows in file order (a project's name is its first row's, a whistle counts on
//! its first row), so the merge reads them whole.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::Pipeline;
use crate::io::inputs::Inputs;
use crate::vocab::error::ReadError;
use crate::vocab::hash::relative;
use crate::vocab::reason::Reason;
use crate::vocab::record::How;
use crate::vocab::state::{IdsState, PlacedRow, SourceState, State};

/// Which case files a partial run reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Group {
    /// These files (each must be a file of a case source).
    Files(Vec<PathBuf>),
    /// Share `k` of `n` (0-based): the case files of every case source, in pipeline and name
    /// order, cut into `n` runs of consecutive files of about equal counts.
    Share { k: usize, n: usize },
}

/// A partial run: its share of the case files, and the folder its state goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partial {
    pub dir: PathBuf,
    pub group: Group,
}

/// Per source, the indices (among the source's files) of the files the partial run reads; an
/// error names a listed file that is no case source's.
pub(super) fn chosen_files(p: &Pipeline, inputs: &Inputs, group: &Group) -> Result<Vec<Vec<usize>>, ReadError> {
    let case: Vec<(usize, usize)> = p
        .sources
        .iter()
        .enumerate()
        .filter(|(_, s)| s.kind == "cases")
        .flat_map(|(si, _)| (0..inputs.sources[si].len()).map(move |f| (si, f)))
        .collect();
    let mut out = vec![Vec::new(); p.sources.len()];
    match group {
        Group::Share { k, n } => {
            let total = case.len();
            for (j, &(si, f)) in case.iter().enumerate() {
                if j * n / total.max(1) == *k {
                    out[si].push(f);
                }
            }
        }
        Group::Files(list) => {
            let canon = |q: &Path| std::fs::canonicalize(q).unwrap_or_else(|_| q.to_path_buf());
            let known: BTreeMap<PathBuf, (usize, usize)> = case.iter().map(|&(si, f)| (canon(&inputs.sources[si][f]), (si, f))).collect();
            for q in list {
                let Some(&(si, f)) = known.get(&canon(q)) else {
                    let sources: Vec<String> = p.sources_of("cases").map(|s| format!("{} ({})", s.name, s.path.display())).collect();
                    return Err(ReadError::NoFiles {
                        path: q.clone(),
                        message: format!(
                            "--files names a file that is not a file of a case source; the case sources are: {}",
                            sources.join(", ")
                        ),
                    });
                };
                if !out[si].contains(&f) {
                    out[si].push(f);
                }
            }
            out.iter_mut().for_each(|v| v.sort_unstable());
        }
    }
    Ok(out)
}

/// Every case file of the pipeline, in the order a run reads them and `--group K/N` cuts
/// (pipeline order, then name order), without reading them: what a scheduler groups.
pub fn case_files(p: &Pipeline) -> Result<Vec<PathBuf>, ReadError> {
    let inputs = crate::io::inputs::find_hashing(p, |_| false)?;
    Ok(p.sources.iter().zip(inputs.sources).filter(|(s, _)| s.kind == "cases").flat_map(|(_, files)| files).collect())
}

/// A state's dimension values numbered as the merge numbers them: `map[d][v]`.
pub(super) fn dim_map(st: &State, dicts: &mut crate::vocab::dictionary::Dictionaries) -> Vec<Vec<u32>> {
    st.header
        .dictionaries
        .iter()
        .enumerate()
        .map(|(d, values)| match dicts.dims.get_mut(d) {
            Some(i) => values.iter().map(|v| i.intern(Some(v))).collect(),
            None => Vec::new(),
        })
        .collect()
}

/// The states read for a merge, checked against the run: the same configuration, every case
/// file in exactly one state, no case id in two states. Fills the case files' hashes into
/// `inputs` from the states.
pub(super) fn check_states(p: &Pipeline, inputs: &mut Inputs, config: &str, states: &[(PathBuf, State)]) -> Result<(), ReadError> {
    let base = p.base_dir();
    let mut errors: Vec<String> = Vec::new();
    for (dir, st) in states {
        if st.header.config != config {
            errors.push(format!(
                "{}: made with another configuration or grid layer (state {}, this pipeline {}): partial runs and the merge need the same pipeline file, as-of date and grid layers",
                dir.display(),
                st.header.config,
                config
            ));
        }
    }
    // Every case file in exactly one state, under the same path.
    let mut owner: BTreeMap<(usize, usize), &Path> = BTreeMap::new();
    for (dir, st) in states {
        for s in &st.header.sources {
            let Some(files) =
                inputs.sources.get(s.index).filter(|_| p.sources.get(s.index).is_some_and(|x| x.kind == "cases" && x.name == s.name))
            else {
                errors.push(format!("{}: names case source {:?} (#{}), which this pipeline does not have", dir.display(), s.name, s.index));
                continue;
            };
            for f in &s.files {
                match files.get(f.index).map(|q| relative(q, &base)) {
                    Some(q) if q == f.path => {}
                    other => {
                        errors.push(format!(
                            "{}: file #{} of source {:?} is {} in the state but {} now: the files changed since the partial runs",
                            dir.display(),
                            f.index,
                            s.name,
                            f.path,
                            other.unwrap_or_else(|| "missing".into())
                        ));
                        continue;
                    }
                }
                if let Some(first) = owner.insert((s.index, f.index), dir) {
                    errors.push(format!("{}: read by two states, {} and {}", f.path, first.display(), dir.display()));
                }
            }
        }
    }
    for (si, src) in p.sources.iter().enumerate().filter(|(_, s)| s.kind == "cases") {
        for (fi, f) in inputs.sources[si].iter().enumerate() {
            if !owner.contains_key(&(si, fi)) {
                errors.push(format!("{}: a file of case source {:?} that no state read", relative(f, &base), src.name));
            }
        }
    }
    if errors.is_empty() {
        errors.extend(duplicate_ids(p, states));
    }
    if !errors.is_empty() {
        return Err(ReadError::State { path: p.file.clone(), message: format!("cannot merge:\n  - {}", errors.join("\n  - ")) });
    }
    // The case files' hashes, as the partial runs found them.
    let mut known: BTreeMap<(String, String), (String, u64)> = BTreeMap::new();
    for (_, st) in states {
        for s in &st.header.sources {
            for f in &s.files {
                known.insert((s.name.clone(), f.path.clone()), (f.sha256.clone(), f.bytes));
            }
        }
    }
    for f in inputs.files.iter_mut().filter(|f| f.kind == "cases") {
        if let Some((sha, bytes)) = known.get(&(f.source.clone(), relative(&f.path, &base))) {
            f.sha256 = sha.clone();
            f.bytes = *bytes;
        }
    }
    Ok(())
}

/// Case ids that two states both kept: one run would have quarantined the later rows as
/// duplicates, which sums cannot undo, so the merge stops and names them.
fn duplicate_ids(p: &Pipeline, states: &[(PathBuf, State)]) -> Vec<String> {
    let mut errors = Vec::new();
    for (si, src) in p.sources.iter().enumerate().filter(|(_, s)| s.kind == "cases") {
        let parts: Vec<(usize, &SourceState, &IdsState)> = states
            .iter()
            .enumerate()
            .flat_map(|(k, (_, st))| st.header.sources.iter().zip(&st.ids).filter(|(s, _)| s.index == si).map(move |(s, ids)| (k, s, ids)))
            .collect();
        if parts.len() < 2 {
            continue;
        }
        let mut keys: Vec<(u128, u32, u32)> = Vec::with_capacity(parts.iter().map(|p| p.2.lo.len()).sum());
        for (j, (_, _, ids)) in parts.iter().enumerate() {
            keys.extend((0..ids.lo.len()).map(|i| ((ids.hi[i] as u128) << 64 | ids.lo[i] as u128, j as u32, ids.ord[i])));
        }
        keys.sort_unstable();
        let same: Vec<(&(u128, u32, u32), &(u128, u32, u32))> =
            keys.windows(2).filter(|w| w[0].0 == w[1].0).map(|w| (&w[0], &w[1])).collect();
        if same.is_empty() {
            continue;
        }
        let at = |&(_, j, ord): &(u128, u32, u32)| {
            let (k, s, _) = parts[j as usize];
            // The ordinal counts the state's rows of this source, file after file.
            let mut left = ord as u64;
            for f in &s.files {
                if left < f.rows {
                    return format!("{} row {} ({})", f.path, left + 1, states[k].0.display());
                }
                left -= f.rows;
            }
            format!("row ordinal {ord} ({})", states[k].0.display())
        };
        let shown: Vec<String> = same.iter().take(5).map(|(a, b)| format!("{} and {}", at(a), at(b))).collect();
        errors.push(format!(
            "source {:?}: {} case id(s) kept by two partial runs, which one run would have quarantined as duplicates: {}{}; put every file a case can repeat in into one group",
            src.name,
            same.len(),
            shown.join("; "),
            if same.len() > 5 { "; …" } else { "" }
        ));
    }
    errors
}

/// The rows of source `si` among every state's `rows(state)`, in file and row order (the
/// order one run meets them in).
pub(super) fn rows_of(states: &mut [(PathBuf, State)], si: usize, rows: impl Fn(&mut State) -> &mut Vec<PlacedRow>) -> Vec<PlacedRow> {
    let mut out: Vec<PlacedRow> = Vec::new();
    for (_, st) in states.iter_mut() {
        let v = rows(st);
        let (mine, rest): (Vec<PlacedRow>, Vec<PlacedRow>) = std::mem::take(v).into_iter().partition(|r| r.source as usize == si);
        *v = rest;
        out.extend(mine);
    }
    out.sort_by_key(|r| (r.file, r.row));
    out
}

/// A state's counts of one source as the quarantine keeps them.
pub(super) fn quarantine_counts(s: &SourceState) -> Result<(BTreeMap<Reason, u64>, BTreeMap<(&'static str, Reason), u64>), String> {
    let reason = |r: &str| Reason::parse(r).ok_or_else(|| format!("unknown reason code {r:?}"));
    let mut by_reason = BTreeMap::new();
    for (r, n) in &s.rejects_by_reason {
        by_reason.insert(reason(r)?, *n);
    }
    let mut issues = BTreeMap::new();
    for (field, r, n) in &s.field_issues {
        // Field names are a kind's field names: few, and kept for the whole run anyway.
        let field: &'static str = crate::io::kinds::field_name(field).unwrap_or_else(|| Box::leak(field.clone().into_boxed_str()));
        issues.insert((field, reason(r)?), *n);
    }
    Ok((by_reason, issues))
}

/// `How::as_str` names as `&'static str`.
pub(super) fn how_name(name: &str) -> Option<&'static str> {
    How::names().into_iter().find(|n| *n == name)
}
