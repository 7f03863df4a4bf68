//! `rejects.csv`, the quarantine as a file (one row per rejected input row), and
//! `field_issues.csv` (one row per field a kept row was used without): UTF-8 with BOM,
//! written as the run goes, in source order and, within a source, in file and row order.

use rayon::prelude::*;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::outputs::manifest::Output;
use crate::vocab::error::OutputError;
use crate::vocab::hash::{HashingWriter, relative};
use crate::vocab::quarantine::{FieldIssue, Reject};

pub const HEADER: [&str; 8] = ["source", "file", "row", "line", "record_key", "reason", "detail", "raw"];
pub const ISSUES_HEADER: [&str; 10] = ["source", "file", "row", "line", "record_key", "field", "value", "reason", "action", "detail"];

/// A row of one of the two files.
pub trait QuarantineRow: Sync {
    const HEADER: &'static [&'static str];
    fn file(&self) -> &str;
    fn row(&self) -> u64;
    fn line(&self) -> Option<u64>;
    /// The record's fields, given its relative file, row and line as text.
    fn fields<'a>(&'a self, file: &'a str, row: &'a str, line: &'a str) -> Vec<&'a str>;
}

impl QuarantineRow for Reject {
    const HEADER: &'static [&'static str] = &HEADER;
    fn file(&self) -> &str {
        &self.file
    }
    fn row(&self) -> u64 {
        self.row
    }
    fn line(&self) -> Option<u64> {
        self.line
    }
    fn fields<'a>(&'a self, file: &'a str, row: &'a str, line: &'a str) -> Vec<&'a str> {
        vec![self.source.as_str(), file, row, line, &self.key, self.reason.as_str(), &self.detail, &self.raw]
    }
}

impl QuarantineRow for FieldIssue {
    const HEADER: &'static [&'static str] = &ISSUES_HEADER;
    fn file(&self) -> &str {
        &self.file
    }
    fn row(&self) -> u64 {
        self.row
    }
    fn line(&self) -> Option<u64> {
        self.line
    }
    fn fields<'a>(&'a self, file: &'a str, row: &'a str, line: &'a str) -> Vec<&'a str> {
        vec![self.source.as_str(), file, row, line, &self.key, self.field, &self.value, self.reason.as_str(), self.action, &self.detail]
    }
}

/// `rejects.csv`.
pub type RejectsFile = RowsFile<Reject>;
/// `field_issues.csv`.
pub type IssuesFile = RowsFile<FieldIssue>;

/// An open quarantine file of a run.
pub struct RowsFile<T: QuarantineRow> {
    _rows: std::marker::PhantomData<T>,
    path: PathBuf,
    /// Input paths are written relative to this folder (the pipeline file's).
    base: PathBuf,
    w: HashingWriter<std::io::BufWriter<std::fs::File>>,
    rows: u64,
}

/// Rejects per piece formatted on one thread.
const CHUNK: usize = 4096;

impl<T: QuarantineRow> RowsFile<T> {
    /// Creates `path` and writes the header.
    pub fn create(path: &Path, base: &Path) -> Result<RowsFile<T>, OutputError> {
        let file = std::fs::File::create(path).map_err(OutputError::io(path))?;
        let mut w = HashingWriter::new(std::io::BufWriter::with_capacity(1 << 20, file));
        w.write_all("\u{feff}".as_bytes()).map_err(OutputError::io(path))?;
        let mut header = csv::Writer::from_writer(Vec::new());
        header.write_record(T::HEADER).map_err(|e| OutputError::encode(path, e.to_string()))?;
        let header = header.into_inner().map_err(|e| OutputError::encode(path, e.to_string()))?;
        w.write_all(&header).map_err(OutputError::io(path))?;
        Ok(RowsFile { _rows: std::marker::PhantomData, path: path.to_path_buf(), base: base.to_path_buf(), w, rows: 0 })
    }

    /// Appends rows in the order given. They are formatted in parallel, a piece per thread,
    /// each piece by its own CSV writer (records are quoted field by field, so the bytes are
    /// those of one writer), and written in order: a batch's quarantine rows cost the reading
    /// thread a copy only.
    pub fn write_all(&mut self, rs: &[T]) -> Result<(), OutputError> {
        let path = &self.path;
        let base = &self.base;
        let pieces: Vec<Result<Vec<u8>, OutputError>> = rs
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut w = csv::Writer::from_writer(Vec::with_capacity(chunk.len() * 256));
                // The rows of a batch share their file: its relative path is made once.
                let mut file: Option<(&str, String)> = None;
                let (mut row, mut line) = (itoa::Buffer::new(), itoa::Buffer::new());
                for r in chunk {
                    if file.as_ref().is_none_or(|(f, _)| *f != r.file()) {
                        file = Some((r.file(), relative(Path::new(r.file()), base)));
                    }
                    let rel = file.as_ref().map_or("", |(_, rel)| rel.as_str());
                    let line = r.line().map_or("", |l| line.format(l));
                    // Keys and values are input text: neutralised for spreadsheets like the tables.
                    let fields = r.fields(rel, row.format(r.row()), line);
                    w.write_record(fields.iter().map(|f| crate::outputs::tables::spreadsheet_text(f).into_owned()))
                        .map_err(|e| OutputError::encode(path, e.to_string()))?;
                }
                w.into_inner().map_err(|e| OutputError::encode(path, e.to_string()))
            })
            .collect();
        for piece in pieces {
            self.w.write_all(&piece?).map_err(OutputError::io(path))?;
        }
        self.rows += rs.len() as u64;
        Ok(())
    }

    /// Bytes and rows written so far (the header included in the bytes).
    pub fn position(&self) -> (u64, u64) {
        (self.w.bytes(), self.rows)
    }

    /// Appends rows already formatted by a writer of this kind (a partial run's, see
    /// `outputs::state`): bytes as they are, `rows` of them.
    pub fn append_formatted(&mut self, bytes: &[u8], rows: u64) -> Result<(), OutputError> {
        self.w.write_all(bytes).map_err(OutputError::io(&self.path))?;
        self.rows += rows;
        Ok(())
    }

    /// Flushes the file; its manifest entry (path relative to `run_dir`).
    pub fn finish(self, run_dir: &Path) -> Result<Output, OutputError> {
        let path = self.path.clone();
        let (mut buf, sha256, bytes) = self.w.finish();
        buf.flush().map_err(OutputError::io(&path))?;
        Ok(Output { path: relative(&path, run_dir), sha256, bytes, count: self.rows, class_breaks: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_formatted_in_pieces_are_the_bytes_of_one_writer() {
        // More rows than a piece, with fields that need quoting, two files and empty lines.
        let dir = tempfile::tempdir().expect("a temporary folder");
        let base = dir.path().join("pipelines");
        let rs: Vec<Reject> = (0..3 * CHUNK as u64 + 17)
            .map(|i| Reject {
                source: "hotline".into(),
                file: base.join(if i < 5000 { "a.csv" } else { "b,\"c\".csv" }).display().to_string(),
                row: i + 1,
                line: (i % 3 != 0).then_some(i + 2),
                key: format!("C{i}"),
                reason: crate::vocab::reason::Reason::BadReceivedAt,
                detail: if i % 2 == 0 { "say \"no\", twice".into() } else { "two\nlines".into() },
                raw: format!("{{\"case_id\":\"C{i}\",\"lon\":null}}"),
            })
            .collect();
        let path = dir.path().join("rejects.csv");
        let mut f = RejectsFile::create(&path, &base).expect("the file");
        f.write_all(&rs[..100]).expect("rows");
        f.write_all(&rs[100..]).expect("rows");
        let out = f.finish(dir.path()).expect("the file");
        assert_eq!(out.count, rs.len() as u64);

        let mut one = csv::Writer::from_writer(Vec::from("\u{feff}".as_bytes()));
        one.write_record(HEADER).expect("the header");
        for r in &rs {
            let line = r.line.map(|l| l.to_string()).unwrap_or_default();
            let rel = relative(Path::new(&r.file), &base);
            one.write_record([r.source.as_str(), &rel, &r.row.to_string(), &line, &r.key, r.reason.as_str(), &r.detail, &r.raw])
                .expect("a row");
        }
        let want = one.into_inner().expect("the bytes");
        let got = std::fs::read(&path).expect("the file");
        assert!(got == want, "rejects.csv differs from one writer's bytes");
        assert_eq!(out.bytes, want.len() as u64);
    }
}
