//! Reads a partial run's state folder (`outputs::state` writes it) for `gridgov merge`: the
//! header first, checked for its format and version, then the tables. Every problem names
//! the folder and the file.

use polars::prelude::*;
use std::fs::File;
use std::path::Path;

use crate::vocab::error::ReadError;
use crate::vocab::state::{FORMAT, HEADER, Header, IdsState, PlacedRow, Span, State, StoreState, TalliesState, TallyState, VERSION};

fn bad(path: &Path, message: impl Into<String>) -> ReadError {
    ReadError::State { path: path.to_path_buf(), message: message.into() }
}

/// The header of the state in `dir`, checked for its format, version and gridgov.
pub fn read_header(dir: &Path) -> Result<Header, ReadError> {
    let path = dir.join(HEADER);
    let text = std::fs::read_to_string(&path).map_err(ReadError::io(&path))?;
    // The format and version first, so that a state of another version says so rather than
    // failing on a field it does not have.
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| bad(&path, format!("not a state header: {e}")))?;
    if v.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
        return Err(bad(&path, format!("not a gridgov partial state (its `format` is not {FORMAT:?})")));
    }
    let version = v.get("version").and_then(|f| f.as_u64()).unwrap_or(0);
    if version != VERSION as u64 {
        return Err(bad(
            &path,
            format!("state format version {version}; this gridgov reads version {VERSION} only: re-run the partial runs with it"),
        ));
    }
    let h: Header = serde_json::from_value(v).map_err(|e| bad(&path, format!("not a state header: {e}")))?;
    if h.gridgov != env!("CARGO_PKG_VERSION") {
        return Err(bad(
            &path,
            format!(
                "written by gridgov {}, merged by gridgov {}: every partial run and the merge must use the same binary",
                h.gridgov,
                env!("CARGO_PKG_VERSION")
            ),
        ));
    }
    Ok(h)
}

/// The whole state in `dir`; `networks` is the number of grid networks of the pipeline.
pub fn read_state(dir: &Path, networks: usize) -> Result<State, ReadError> {
    let header = read_header(dir)?;
    let mut tallies = Vec::with_capacity(networks);
    for n in 0..networks {
        let cases = read_tally(dir, &format!("tally_{n}"))?;
        let hot_path = dir.join(format!("tally_{n}_hot.arrow"));
        let hot = if hot_path.is_file() {
            let df = read_ipc(&hot_path)?;
            let (lon, lat) = (f64s(&df, "lon", &hot_path)?, f64s(&df, "lat", &hot_path)?);
            let received = i64s(&df, "received", &hot_path)?;
            let (category, grid) = (u32s(&df, "category", &hot_path)?, u32s(&df, "grid", &hot_path)?);
            Some(
                (0..lon.len())
                    .map(|i| (lon[i].unwrap_or(f64::NAN), lat[i].unwrap_or(f64::NAN), received[i], category[i], grid[i]))
                    .collect(),
            )
        } else {
            None
        };
        tallies.push(TalliesState { cases, hot });
    }
    let assignments = read_placed(&dir.join("assignments.arrow"))?;
    let differs = (1..networks).map(|k| read_placed(&dir.join(format!("differs_{k}.arrow")))).collect::<Result<Vec<_>, _>>()?;
    let ids = header
        .sources
        .iter()
        .map(|s| {
            let path = dir.join(format!("ids_{}.arrow", s.index));
            let df = read_ipc(&path)?;
            Ok(IdsState { hi: u64s(&df, "hi", &path)?, lo: u64s(&df, "lo", &path)?, ord: u32s(&df, "ord", &path)? })
        })
        .collect::<Result<Vec<_>, ReadError>>()?;
    Ok(State { header, tallies, assignments, differs, ids })
}

/// The bytes of `span` of the state's quarantine file `name` (`rejects.csv`, `field_issues.csv`).
pub fn read_span(dir: &Path, name: &str, span: Span) -> Result<Vec<u8>, ReadError> {
    use std::io::{Read, Seek, SeekFrom};
    let path = dir.join(name);
    if span.end <= span.start {
        return Ok(Vec::new());
    }
    let mut f = File::open(&path).map_err(ReadError::io(&path))?;
    f.seek(SeekFrom::Start(span.start)).map_err(ReadError::io(&path))?;
    let mut buf = vec![0; (span.end - span.start) as usize];
    f.read_exact(&mut buf).map_err(ReadError::io(&path))?;
    Ok(buf)
}

fn read_tally(dir: &Path, stem: &str) -> Result<TallyState, ReadError> {
    let path = dir.join(format!("{stem}.arrow"));
    let counts = u64s(&read_ipc(&path)?, "count", &path)?;
    let path = dir.join(format!("{stem}_dims.arrow"));
    let df = read_ipc(&path)?;
    let (d, v, k, c) = (u32s(&df, "dim", &path)?, u32s(&df, "value", &path)?, u32s(&df, "counter", &path)?, u64s(&df, "count", &path)?);
    let dims = (0..d.len()).map(|i| (d[i], v[i], k[i], c[i])).collect();
    let mut stores = Vec::new();
    for k in 0.. {
        let path = dir.join(format!("{stem}_store_{k}.arrow"));
        if !path.is_file() {
            break;
        }
        let df = read_ipc(&path)?;
        let ndims = df.get_column_names().iter().filter(|n| n.starts_with("dim")).count();
        let home = u32s(&df, "home", &path)?;
        let dims = if ndims > 0 {
            let cols = (0..ndims).map(|j| u32s(&df, &format!("dim{j}"), &path)).collect::<Result<Vec<_>, _>>()?;
            Some((0..home.len()).flat_map(|i| cols.iter().map(move |c| c[i])).collect())
        } else {
            None
        };
        let tag = u32s(&df, "tag", &path)?.into_iter().map(|t| t as u8).collect();
        stores.push(StoreState { home, tag, ms: u64s(&df, "ms", &path)?, dims, ndims });
    }
    Ok(TallyState { counts, dims, stores })
}

fn read_placed(path: &Path) -> Result<Vec<PlacedRow>, ReadError> {
    let df = read_ipc(path)?;
    let (source, file, row) = (u32s(&df, "source", path)?, u32s(&df, "file", path)?, u64s(&df, "row", path)?);
    let keys = df.column("key").and_then(|c| c.str().cloned()).map_err(|e| bad(path, format!("column key: {e}")))?;
    let (how, level, unit) = (u32s(&df, "how", path)?, u32s(&df, "level", path)?, u32s(&df, "unit", path)?);
    let (lon, lat) = (f64s(&df, "lon", path)?, f64s(&df, "lat", path)?);
    let (ol, ou) = (opt_u32s(&df, "other_level", path)?, opt_u32s(&df, "other_unit", path)?);
    Ok((0..source.len())
        .map(|i| PlacedRow {
            source: source[i],
            file: file[i],
            row: row[i],
            key: keys.get(i).unwrap_or_default().to_string(),
            how: how[i] as u8,
            level: level[i] as u8,
            unit: unit[i],
            point: lon[i].zip(lat[i]),
            other: ol[i].zip(ou[i]).map(|(l, u)| (l as u8, u)),
        })
        .collect())
}

fn read_ipc(path: &Path) -> Result<DataFrame, ReadError> {
    let file = File::open(path).map_err(ReadError::io(path))?;
    IpcReader::new(file).finish().map_err(|e| bad(path, format!("cannot read as Arrow IPC: {e}")))
}

fn column<'a>(df: &'a DataFrame, name: &str, path: &Path) -> Result<&'a Column, ReadError> {
    df.column(name).map_err(|_| bad(path, format!("no column {name:?}: the state is damaged or of another version")))
}

/// A primitive column's values (`$get` the dtype's accessor): `$opt` with nulls kept,
/// `$all` refusing them.
macro_rules! primitive {
    ($opt:ident, $all:ident, $get:ident, $t:ty) => {
        #[allow(dead_code)]
        fn $opt(df: &DataFrame, name: &str, path: &Path) -> Result<Vec<Option<$t>>, ReadError> {
            let ca = column(df, name, path)?.$get().map_err(|e| bad(path, format!("column {name}: {e}")))?;
            Ok(ca.downcast_iter().flat_map(|a| a.iter().map(|v| v.copied())).collect())
        }
        #[allow(dead_code)]
        fn $all(df: &DataFrame, name: &str, path: &Path) -> Result<Vec<$t>, ReadError> {
            let ca = column(df, name, path)?.$get().map_err(|e| bad(path, format!("column {name}: {e}")))?;
            if ca.null_count() > 0 {
                return Err(bad(path, format!("column {name}: {} null(s)", ca.null_count())));
            }
            Ok(ca.downcast_iter().flat_map(|a| a.values().iter().copied()).collect())
        }
    };
}

primitive!(opt_u64s, u64s, u64, u64);
primitive!(opt_u32s, u32s, u32, u32);
primitive!(opt_i64s, i64s, i64, i64);
primitive!(f64s, all_f64s, f64, f64);
