//! `rejects.csv`: the quarantine as a file (UTF-8 with BOM, one row per rejected input row),
//! written as the run goes, in source order and, within a source, in file and row order.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::OutputError;
use crate::outputs::manifest::{HashingWriter, Output};
use crate::quarantine::Reject;

pub const HEADER: [&str; 8] = ["source", "file", "row", "line", "record_key", "reason", "detail", "raw"];

/// The open quarantine file of a run.
pub struct RejectsFile {
    path: PathBuf,
    /// Input paths are written relative to this folder (the pipeline file's).
    base: PathBuf,
    w: csv::Writer<HashingWriter<std::io::BufWriter<std::fs::File>>>,
    rows: u64,
}

impl RejectsFile {
    /// Creates `path` and writes the header.
    pub fn create(path: &Path, base: &Path) -> Result<RejectsFile, OutputError> {
        let file = std::fs::File::create(path).map_err(OutputError::io(path))?;
        let mut hw = HashingWriter::new(std::io::BufWriter::with_capacity(1 << 20, file));
        hw.write_all("\u{feff}".as_bytes()).map_err(OutputError::io(path))?;
        let mut w = csv::Writer::from_writer(hw);
        w.write_record(HEADER).map_err(|e| OutputError::encode(path, e.to_string()))?;
        Ok(RejectsFile { path: path.to_path_buf(), base: base.to_path_buf(), w, rows: 0 })
    }

    pub fn write(&mut self, r: &Reject) -> Result<(), OutputError> {
        let file = relative(Path::new(&r.file), &self.base);
        let mut itoa = itoa::Buffer::new();
        let row = itoa.format(r.row).to_string();
        let line = r.line.map(|l| l.to_string()).unwrap_or_default();
        self.w
            .write_record([r.source.as_str(), file.as_str(), &row, &line, &r.key, r.reason, &r.detail, &r.raw])
            .map_err(|e| OutputError::encode(&self.path, e.to_string()))?;
        self.rows += 1;
        Ok(())
    }

    /// Flushes the file; its manifest entry (path relative to `run_dir`).
    pub fn finish(self, run_dir: &Path) -> Result<Output, OutputError> {
        let path = self.path.clone();
        let hw = self.w.into_inner().map_err(|e| OutputError::encode(&path, e.to_string()))?;
        let (mut buf, sha256, bytes) = hw.finish();
        buf.flush().map_err(OutputError::io(&path))?;
        Ok(Output { path: relative(&path, run_dir), sha256, bytes, count: self.rows, class_breaks: None })
    }
}

/// `path` relative to `base` when it lies below it (so outputs do not depend on where the
/// checkout is), else as it is.
pub fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base).map(|p| p.display().to_string()).unwrap_or_else(|_| path.display().to_string())
}
