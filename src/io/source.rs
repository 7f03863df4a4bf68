//! Reading a source of any kind, written once: its files in name order, batch by batch
//! ([`SourceReader`]), and every row of a batch checked by the source's kind ([`Checker`]):
//! in parallel, then each key kept once in the source (the first row wins), new dimension
//! values numbered in row order, and every rejected row handed to the quarantine with its
//! file, row, line, key, reason and raw fields.

use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::ids::{IdKey, ShardedIdSet};
use super::kinds::{self, CheckContext, FieldProblem, RowCheck};
use super::records::{self, Batch, Batches, Mapping, RecordFile, RowRef};
use crate::config::Source;
use crate::vocab::dictionary::Dictionaries;
use crate::vocab::error::ReadError;
use crate::vocab::quarantine::{FieldIssue, Quarantine, Reject};
use crate::vocab::reason::Reason;
use crate::vocab::record::{Placed, Record};

/// The files of one source, read one after the other, a batch at a time.
pub struct SourceReader {
    files: Vec<RecordFile>,
    /// Index of the file being read, and its batches.
    at: usize,
    current: Option<Batches>,
    rows_per_file: Vec<u64>,
}

impl SourceReader {
    /// Opens every file of the source (every file that cannot be opened is reported at once).
    pub fn open(src: &Source, files: &[PathBuf]) -> Result<SourceReader, ReadError> {
        let mapping = Mapping::new(&src.columns);
        let files = records::open_all(src, files, &mapping)?;
        Ok(SourceReader { files, at: 0, current: None, rows_per_file: Vec::new() })
    }

    /// Rows the files hold (exact for Parquet, estimated for CSV).
    pub fn rows_hint(&self) -> u64 {
        self.files.iter().map(RecordFile::rows_hint).sum()
    }

    /// The next batch of the source; `None` once every file is read.
    pub fn next_batch(&mut self) -> Result<Option<Batch<'_>>, ReadError> {
        loop {
            if self.current.is_none() {
                let Some(f) = self.files.get(self.at) else { return Ok(None) };
                self.current = Some(f.batches());
            }
            if let Some(b) = &mut self.current {
                if b.advance()? {
                    break;
                }
                self.rows_per_file.push(b.rows());
            }
            self.current = None;
            self.at += 1;
        }
        let rows_before: u64 = self.rows_per_file.iter().sum();
        let at = self.at;
        Ok(self.current.as_ref().and_then(Batches::current).map(|mut batch| {
            batch.file = at;
            batch.rows_before = rows_before;
            batch
        }))
    }

    /// Rows read from each file (after the last batch).
    pub fn rows_per_file(&self) -> &[u64] {
        &self.rows_per_file
    }
}

/// The checks of one source: its kind's row checks, the key set for uniqueness, the clock of
/// coordinate conversions.
pub struct Checker<'a> {
    src: &'a Source,
    files: &'a [PathBuf],
    mapping: Mapping,
    kind: Box<dyn RowCheck>,
    ctx: &'a CheckContext<'a>,
    ids: ShardedIdSet,
    key_slot: Option<usize>,
    crs_nanos: AtomicU64,
    /// The source-wide ordinal of each file's first row, as batches arrive.
    starts: Vec<u64>,
}

/// Beside each row's record: the key it must be unique by, or its quarantine row (taken by
/// the quarantine once the batch is through). Kept apart from the records so that a batch
/// needs one vector of records only.
enum Side {
    Key(IdKey, Option<Box<[FieldProblem]>>),
    Rejected(Option<Box<Reject>>),
}

impl<'a> Checker<'a> {
    /// `rows_hint` sizes the key set for the rows the source holds.
    pub fn new(src: &'a Source, files: &'a [PathBuf], ctx: &'a CheckContext<'a>, rows_hint: u64) -> Checker<'a> {
        let mapping = Mapping::new(&src.columns);
        let kind = kinds::row_checks(src, &mapping);
        let key_slot = mapping.slot(kind.spec().key);
        Checker {
            src,
            files,
            kind,
            ctx,
            ids: ShardedIdSet::with_capacity(rows_hint as usize),
            key_slot,
            crs_nanos: AtomicU64::new(0),
            starts: Vec::new(),
            mapping,
        }
    }

    /// Checks every row of a batch. Rejected rows go to the quarantine; the others come back
    /// in row order (`None` where a row was rejected).
    pub fn check(&mut self, batch: &Batch<'_>, quarantine: &mut Quarantine, dicts: &mut Dictionaries) -> Vec<Option<Record>> {
        if self.starts.len() <= batch.file {
            // A file without rows has no batch: it starts where the next one does.
            self.starts.resize(batch.file + 1, batch.rows_before);
        }
        // 1. In parallel: every check, and the quarantine row of every row that fails one.
        let dict_view: &Dictionaries = dicts;
        let (mut rows, sides): (Vec<Option<Record>>, Vec<Side>) = (0..batch.len())
            .into_par_iter()
            .with_min_len(records::TASK_ROWS)
            .map(|i| {
                batch.with_row(i, |r| match self.kind.check(r, self.ctx, dict_view, &self.crs_nanos) {
                    Ok(c) => {
                        let issues = (!c.issues.is_empty()).then(|| c.issues.into_boxed_slice());
                        (Some(Record { fact: c.fact, location: c.location }), Side::Key(c.id, issues))
                    }
                    Err((reason, detail)) => (None, Side::Rejected(Some(Box::new(self.reject_row(batch, r, reason, detail))))),
                })
            })
            .unzip();
        // 2. Each key once in the source (the first row wins): the key set is sharded by key,
        //    and the shards take their rows in parallel, each in row order.
        let ord0 = batch.rows_before + batch.first_row - 1;
        let keys: Vec<(u32, IdKey)> = sides
            .par_iter()
            .enumerate()
            .filter_map(|(i, c)| match c {
                Side::Key(k, _) => Some((i as u32, *k)),
                Side::Rejected(_) => None,
            })
            .collect();
        let dups = self.ids.insert_all(&keys, |i| (ord0 + i as u64).min(u32::MAX as u64) as u32);
        let mut dup = dups.into_iter().peekable();
        // 3. In row order: the quarantine, new dimension values.
        for (i, (row, side)) in rows.iter_mut().zip(sides).enumerate() {
            match side {
                Side::Rejected(r) => {
                    if let Some(r) = r {
                        quarantine.push(*r);
                    }
                }
                Side::Key(_, issues) => {
                    if let Some(&(_, first)) = dup.peek().filter(|d| d.0 as usize == i) {
                        dup.next();
                        let first = self.row_named(batch.file, first);
                        let (reason, detail) = batch.with_row(i, |r| self.kind.duplicate(r, &first));
                        quarantine.push(self.reject(batch, i, reason, detail));
                        *row = None;
                        continue;
                    }
                    // A kept row's field problems, with where the row is.
                    for p in issues.into_iter().flat_map(|v| v.into_vec()) {
                        let (file, row, line) = (self.path(batch).display().to_string(), batch.first_row + i as u64, batch.line(i));
                        let key = self.key(batch, i);
                        quarantine.push_issue(FieldIssue {
                            source: self.src.name.clone(),
                            file,
                            row,
                            line,
                            key,
                            field: p.field,
                            value: p.value,
                            reason: p.reason,
                            action: p.action,
                            detail: p.detail,
                        });
                    }
                    // Rows are split again only for a value the dictionaries did not have.
                    if let Some(record) = row.as_mut().filter(|r| r.fact.needs_interning()) {
                        batch.with_row(i, |r| self.kind.intern(&mut record.fact, r, dicts));
                    }
                }
            }
        }
        rows
    }

    /// Quarantines the rows the join could not place.
    pub fn reject_unplaced(&self, batch: &Batch<'_>, placed: &[Placed], quarantine: &mut Quarantine) {
        let rejects: Vec<Reject> = placed
            .par_iter()
            .enumerate()
            .filter_map(|(i, p)| match p {
                Placed::Outside => Some(self.reject(batch, i, Reason::OutsideAllGrids, "the point lies in no grid's closed area".into())),
                Placed::Ambiguous => Some(self.reject(
                    batch,
                    i,
                    Reason::AmbiguousBoundary,
                    "the point lies on a boundary shared by several grids (boundary_rule = reject)".into(),
                )),
                _ => None,
            })
            .collect();
        quarantine.extend(rejects);
    }

    /// Seconds spent converting points to WGS84 so far.
    pub fn crs_seconds(&self) -> f64 {
        self.crs_nanos.load(Ordering::Relaxed) as f64 / 1e9
    }

    /// Bytes held by the key set.
    pub fn ids_bytes(&self) -> usize {
        self.ids.bytes()
    }

    /// The source's ids seen so far, for a partial run's state.
    pub fn ids_state(&self) -> crate::vocab::state::IdsState {
        self.ids.to_state()
    }

    /// "row N" of the current file, or "row N of FILE" of an earlier one, for a source-wide
    /// row ordinal.
    fn row_named(&self, current: usize, ordinal: u32) -> String {
        let ordinal = ordinal as u64;
        let file = self.starts.partition_point(|&s| s <= ordinal).saturating_sub(1);
        let row = ordinal - self.starts.get(file).copied().unwrap_or(0) + 1;
        match self.files.get(file) {
            Some(path) if file != current => format!("row {row} of {}", path.display()),
            _ => format!("row {row}"),
        }
    }

    /// The record key (its id) of row `i` of a batch, trimmed; empty when it has none.
    pub fn key(&self, batch: &Batch<'_>, i: usize) -> String {
        batch.with_row(i, |r| self.key_text(r))
    }

    fn key_text(&self, r: &RowRef<'_, '_>) -> String {
        self.key_slot.and_then(|s| r.get(s).text().map(|t| t.into_owned())).unwrap_or_default()
    }

    /// The quarantine row of row `i` of a batch.
    pub fn reject(&self, batch: &Batch<'_>, i: usize, reason: Reason, detail: String) -> Reject {
        batch.with_row(i, |r| self.reject_row(batch, r, reason, detail))
    }

    fn reject_row(&self, batch: &Batch<'_>, r: &RowRef<'_, '_>, reason: Reason, detail: String) -> Reject {
        let i = r.index();
        Reject {
            source: self.src.name.clone(),
            file: self.path(batch).display().to_string(),
            row: batch.first_row + i as u64,
            line: batch.line(i),
            key: self.key_text(r),
            reason,
            detail,
            raw: self.mapping.raw_json(r),
        }
    }

    fn path(&self, batch: &Batch<'_>) -> &Path {
        self.files.get(batch.file).map_or(Path::new(""), |p| p.as_path())
    }
}
