//! Helpers: run the binary, read the run folder's CSV tables.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Output of one `gridgov` invocation.
pub struct Out {
    pub code: i32,
    pub stderr: String,
    pub stdout: String,
}

pub fn gridgov(args: &[&str]) -> Out {
    let o = Command::new(env!("CARGO_BIN_EXE_gridgov")).args(args).output().expect("gridgov runs");
    Out {
        code: o.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
    }
}

/// Runs a pipeline into `out` and returns the published run folder (`out/latest`).
pub fn run_into(pipeline: &Path, out: &Path) -> (Out, PathBuf) {
    let o = gridgov(&["run", pipeline.to_str().unwrap(), "--output-dir", out.to_str().unwrap()]);
    (o, out.join("latest"))
}

/// A CSV table written by gridgov (UTF-8 with BOM) as rows of column -> text.
pub fn read_csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(bytes.starts_with(b"\xef\xbb\xbf"), "{} has no UTF-8 BOM", path.display());
    let mut r = csv::Reader::from_reader(&bytes[3..]);
    let headers = r.headers().unwrap().clone();
    r.records().map(|rec| headers.iter().zip(rec.unwrap().iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect()).collect()
}

/// The row whose `key` column equals `value`.
pub fn row<'a>(rows: &'a [BTreeMap<String, String>], key: &str, value: &str) -> &'a BTreeMap<String, String> {
    rows.iter().find(|r| r.get(key).map(String::as_str) == Some(value)).unwrap_or_else(|| panic!("no row with {key} = {value}"))
}

pub fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Every file of a run folder (charts included) except the manifest, which holds wall-clock
/// times, with its bytes.
pub fn data_files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().unwrap() != "manifest.json" {
                out.insert(p.strip_prefix(dir).unwrap().display().to_string(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// A merged run folder is the single run's: every data file byte for byte (`cmp`), and the
/// manifest's run id, source accounts and inputs (its times and memory differ).
pub fn assert_same_run(single: &Path, merged: &Path) {
    let (a, b) = (data_files(single), data_files(merged));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>(), "the merge wrote other files");
    let differ: Vec<&String> = a.iter().filter(|(k, v)| b.get(*k) != Some(*v)).map(|(k, _)| k).collect();
    assert!(differ.is_empty(), "files differ between the single run and the merge: {differ:?}");
    assert!(a.len() > 100, "{} files only", a.len());
    let (x, y) = (json(&single.join("manifest.json")), json(&merged.join("manifest.json")));
    assert_eq!(x["run_id"], y["run_id"]);
    assert_eq!(x["sources"], y["sources"]);
    assert_eq!(x["inputs"], y["inputs"]);
}
