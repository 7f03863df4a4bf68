//! `rejects.csv`: the quarantine as a file (UTF-8 with BOM, one row per rejected input row).

use std::io::Write;
use std::path::Path;

use crate::error::OutputError;
use crate::quarantine::Quarantine;

pub const HEADER: [&str; 8] = ["source", "file", "row", "line", "record_key", "reason", "detail", "raw"];

/// Writes every rejected row; file paths are made relative to `base` where possible.
pub fn write_rejects(path: &Path, q: &Quarantine, base: &Path) -> Result<usize, OutputError> {
    let io = |e: std::io::Error| OutputError::Io { path: path.to_path_buf(), source: e };
    let enc = |e: csv::Error| OutputError::encode(path, e.to_string());
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).map_err(io)?);
    file.write_all("\u{feff}".as_bytes()).map_err(io)?;
    let mut w = csv::Writer::from_writer(file);
    w.write_record(HEADER).map_err(enc)?;
    for r in q.rows() {
        let file = relative(Path::new(&r.file), base);
        w.write_record([
            r.source.as_str(),
            file.as_str(),
            &r.row.to_string(),
            &r.line.map(|l| l.to_string()).unwrap_or_default(),
            &r.key,
            r.reason,
            &r.detail,
            &r.raw,
        ])
        .map_err(enc)?;
    }
    w.flush().map_err(io)?;
    Ok(q.len())
}

/// `path` relative to `base` when it lies below it (so outputs do not depend on where the
/// checkout is), else as it is.
pub fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base).map(|p| p.display().to_string()).unwrap_or_else(|_| path.display().to_string())
}
