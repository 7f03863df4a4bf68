//! A partial run's state folder (`gridgov run --partial DIR`): the header `state.json`, the
//! sums and kept values as Arrow IPC tables, and the rows it quarantined as `rejects.csv` and
//! `field_issues.csv` (formatted as a run formats them, so that a merge copies their bytes).
//!
//! The folder is written under a temporary name beside `DIR` and renamed into place, so a
//! reader never sees half a state; a retried or speculative task that finds `DIR` already
//! there with the same header leaves it (a state is a function of its inputs and
//! configuration); an older state of other inputs under that name is replaced.

use polars::prelude::*;
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::vocab::error::OutputError;
use crate::vocab::state::{HEADER, IdsState, PlacedRow, State, StoreState, TallyState};

/// Creates the temporary folder a state is written into, beside `dir`.
pub fn begin(dir: &Path) -> Result<PathBuf, OutputError> {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "state".into());
    let tmp = dir.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp).map_err(OutputError::io(&tmp))?;
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(OutputError::io(parent))?;
    }
    std::fs::create_dir(&tmp).map_err(OutputError::io(&tmp))?;
    Ok(tmp)
}

/// Writes the state's tables and header into `tmp` (from `begin`; its quarantine files are
/// there already), then renames `tmp` to `dir`. Returns whether `dir` was written (`false`:
/// another attempt had written it first, and this one's copy was removed).
pub fn finish(tmp: &Path, dir: &Path, st: &State) -> Result<bool, OutputError> {
    for (n, t) in st.tallies.iter().enumerate() {
        write_tally(tmp, &format!("tally_{n}"), &t.cases)?;
        if let Some(hot) = &t.hot {
            let cols = vec![
                col_f64("lon", hot.iter().map(|h| h.0).collect()),
                col_f64("lat", hot.iter().map(|h| h.1).collect()),
                Column::new("received".into(), hot.iter().map(|h| h.2).collect::<Vec<i64>>()),
                Column::new("category".into(), hot.iter().map(|h| h.3).collect::<Vec<u32>>()),
                Column::new("grid".into(), hot.iter().map(|h| h.4).collect::<Vec<u32>>()),
            ];
            write_ipc(&tmp.join(format!("tally_{n}_hot.arrow")), cols)?;
        }
    }
    write_ipc(&tmp.join("assignments.arrow"), placed_columns(&st.assignments))?;
    for (k, d) in st.differs.iter().enumerate() {
        write_ipc(&tmp.join(format!("differs_{}.arrow", k + 1)), placed_columns(d))?;
    }
    for (src, ids) in st.header.sources.iter().zip(&st.ids) {
        write_ids(&tmp.join(format!("ids_{}.arrow", src.index)), ids)?;
    }
    let header = tmp.join(HEADER);
    let text = serde_json::to_string_pretty(&st.header).map_err(|e| OutputError::encode(&header, e.to_string()))?;
    std::fs::write(&header, text + "\n").map_err(OutputError::io(&header))?;
    sync_dir(tmp)?;
    match std::fs::rename(tmp, dir) {
        Ok(()) => Ok(true),
        // Another attempt of the same task was first: the same header (configuration, files
        // and their hashes, every count) is the same state, and it stays.
        Err(_) if std::fs::read(dir.join(HEADER)).ok() == std::fs::read(&header).ok() => {
            std::fs::remove_dir_all(tmp).map_err(OutputError::io(tmp))?;
            Ok(false)
        }
        // An older state (other inputs or configuration) under the same name: replaced.
        Err(_) if dir.is_dir() => {
            let old = tmp.with_extension("old");
            std::fs::rename(dir, &old).map_err(OutputError::io(dir))?;
            std::fs::rename(tmp, dir).map_err(OutputError::io(dir))?;
            std::fs::remove_dir_all(&old).map_err(OutputError::io(&old))?;
            Ok(true)
        }
        Err(e) => Err(OutputError::Io { path: dir.to_path_buf(), source: e }),
    }
}

fn sync_dir(dir: &Path) -> Result<(), OutputError> {
    for e in std::fs::read_dir(dir).map_err(OutputError::io(dir))? {
        let path = e.map_err(OutputError::io(dir))?.path();
        File::open(&path).and_then(|f| f.sync_all()).map_err(OutputError::io(&path))?;
    }
    Ok(())
}

fn col_f64(name: &str, v: Vec<f64>) -> Column {
    Column::new(name.into(), v)
}

fn write_tally(dir: &Path, stem: &str, t: &TallyState) -> Result<(), OutputError> {
    write_ipc(&dir.join(format!("{stem}.arrow")), vec![Column::new("count".into(), t.counts.clone())])?;
    let dims = vec![
        Column::new("dim".into(), t.dims.iter().map(|d| d.0).collect::<Vec<u32>>()),
        Column::new("value".into(), t.dims.iter().map(|d| d.1).collect::<Vec<u32>>()),
        Column::new("counter".into(), t.dims.iter().map(|d| d.2).collect::<Vec<u32>>()),
        Column::new("count".into(), t.dims.iter().map(|d| d.3).collect::<Vec<u64>>()),
    ];
    write_ipc(&dir.join(format!("{stem}_dims.arrow")), dims)?;
    for (k, s) in t.stores.iter().enumerate() {
        write_ipc(&dir.join(format!("{stem}_store_{k}.arrow")), store_columns(s))?;
    }
    Ok(())
}

fn store_columns(s: &StoreState) -> Vec<Column> {
    let mut cols = vec![
        Column::new("home".into(), s.home.clone()),
        Column::new("tag".into(), s.tag.iter().map(|&t| t as u32).collect::<Vec<u32>>()),
        Column::new("ms".into(), s.ms.clone()),
    ];
    if let Some(d) = &s.dims {
        for k in 0..s.ndims {
            cols.push(Column::new(format!("dim{k}").into(), d.iter().skip(k).step_by(s.ndims).copied().collect::<Vec<u32>>()));
        }
    }
    cols
}

fn placed_columns(rows: &[PlacedRow]) -> Vec<Column> {
    vec![
        Column::new("source".into(), rows.iter().map(|r| r.source).collect::<Vec<u32>>()),
        Column::new("file".into(), rows.iter().map(|r| r.file).collect::<Vec<u32>>()),
        Column::new("row".into(), rows.iter().map(|r| r.row).collect::<Vec<u64>>()),
        Column::new("key".into(), rows.iter().map(|r| r.key.as_str()).collect::<Vec<&str>>()),
        Column::new("how".into(), rows.iter().map(|r| r.how as u32).collect::<Vec<u32>>()),
        Column::new("level".into(), rows.iter().map(|r| r.level as u32).collect::<Vec<u32>>()),
        Column::new("unit".into(), rows.iter().map(|r| r.unit).collect::<Vec<u32>>()),
        Column::new("lon".into(), rows.iter().map(|r| r.point.map(|p| p.0)).collect::<Vec<Option<f64>>>()),
        Column::new("lat".into(), rows.iter().map(|r| r.point.map(|p| p.1)).collect::<Vec<Option<f64>>>()),
        Column::new("other_level".into(), rows.iter().map(|r| r.other.map(|o| o.0 as u32)).collect::<Vec<Option<u32>>>()),
        Column::new("other_unit".into(), rows.iter().map(|r| r.other.map(|o| o.1)).collect::<Vec<Option<u32>>>()),
    ]
}

fn write_ids(path: &Path, ids: &IdsState) -> Result<(), OutputError> {
    let cols = vec![
        Column::new("hi".into(), ids.hi.clone()),
        Column::new("lo".into(), ids.lo.clone()),
        Column::new("ord".into(), ids.ord.clone()),
    ];
    write_ipc(path, cols)
}

fn write_ipc(path: &Path, cols: Vec<Column>) -> Result<(), OutputError> {
    let enc = |e: PolarsError| OutputError::encode(path, e.to_string());
    let mut df = DataFrame::new_infer_height(cols).map_err(enc)?;
    let file = File::create(path).map_err(OutputError::io(path))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, file);
    IpcWriter::new(&mut w).with_compression(Some(IpcCompression::ZSTD(Default::default()))).finish(&mut df).map_err(enc)?;
    std::io::Write::flush(&mut w).map_err(OutputError::io(path))
}
