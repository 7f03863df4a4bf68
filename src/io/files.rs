//! The files behind a source path: a file, a folder of files (one export per day, as they
//! arrive) or a glob pattern. Expanded once per run, before anything is read, so that the
//! manifest's hashes and the rows read describe the same files.

use std::path::{Path, PathBuf};

use crate::config::FileFormat;
use crate::vocab::error::ReadError;

/// The files a source path names, in name order.
///
/// A folder yields its non-hidden files with the format's extensions (`.csv`, `.tsv`, `.txt`;
/// `.parquet`, `.pq`); a pattern with `*`, `?` or `[` is a glob. Either must match at least one
/// file: an empty folder at night usually means an export did not arrive.
pub fn expand(path: &Path, format: FileFormat) -> Result<Vec<PathBuf>, ReadError> {
    let text = path.to_string_lossy();
    let mut files: Vec<PathBuf> = if path.is_dir() {
        let exts: &[&str] = match format {
            FileFormat::Csv => &["csv", "tsv", "txt"],
            FileFormat::Parquet => &["parquet", "pq"],
        };
        let entries = std::fs::read_dir(path).map_err(ReadError::io(path))?;
        let mut v = Vec::new();
        for e in entries {
            let p = e.map_err(ReadError::io(path))?.path();
            let hidden = p.file_name().and_then(|n| n.to_str()).is_none_or(|n| n.starts_with('.'));
            let ext_ok = p.extension().and_then(|e| e.to_str()).is_some_and(|e| exts.contains(&e.to_ascii_lowercase().as_str()));
            if !hidden && ext_ok && p.is_file() {
                v.push(p);
            }
        }
        if v.is_empty() {
            return Err(ReadError::NoFiles {
                path: path.to_path_buf(),
                message: format!("the folder has no .{} file (hidden files are ignored)", exts.join(" / .")),
            });
        }
        v
    } else if text.contains(['*', '?', '[']) {
        let paths = glob::glob(&text)
            .map_err(|e| ReadError::NoFiles { path: path.to_path_buf(), message: format!("not a valid glob pattern: {e}") })?;
        let mut v = Vec::new();
        for p in paths {
            let p = p.map_err(|e| ReadError::Io { path: e.path().to_path_buf(), source: std::io::Error::other(e.to_string()) })?;
            if p.is_file() {
                v.push(p);
            }
        }
        if v.is_empty() {
            return Err(ReadError::NoFiles { path: path.to_path_buf(), message: "the pattern matches no file".into() });
        }
        v
    } else {
        // A plain file: opening it here gives the usual "No such file or directory" early.
        std::fs::File::open(path).map_err(ReadError::io(path))?;
        vec![path.to_path_buf()]
    };
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_glob_and_file() {
        let tmp = tempfile::tempdir().expect("temp dir");
        let d = tmp.path();
        for f in ["b-2026-10-02.csv", "a-2026-10-01.csv", ".partial.csv", "notes.md", "c.parquet"] {
            std::fs::write(d.join(f), "x\n").expect("temp file");
        }
        std::fs::create_dir(d.join("sub.csv")).expect("temp dir");
        let names = |v: Vec<PathBuf>| -> Vec<String> {
            v.iter().map(|p| p.file_name().and_then(|n| n.to_str()).unwrap_or("?").to_string()).collect()
        };
        assert_eq!(names(expand(d, FileFormat::Csv).expect("csv files")), ["a-2026-10-01.csv", "b-2026-10-02.csv"]);
        assert_eq!(names(expand(d, FileFormat::Parquet).expect("parquet file")), ["c.parquet"]);
        assert_eq!(names(expand(&d.join("b-*.csv"), FileFormat::Csv).expect("glob")), ["b-2026-10-02.csv"]);
        assert_eq!(names(expand(&d.join("notes.md"), FileFormat::Csv).expect("a named file")), ["notes.md"]);
        assert!(matches!(expand(&d.join("z-*.csv"), FileFormat::Csv), Err(ReadError::NoFiles { .. })));
        assert!(matches!(expand(&d.join("missing.csv"), FileFormat::Csv), Err(ReadError::Io { .. })));
        let empty = d.join("empty");
        std::fs::create_dir(&empty).expect("temp dir");
        let e = expand(&empty, FileFormat::Csv).expect_err("an empty folder");
        assert!(e.to_string().contains("no .csv"), "{e}");
    }
}
