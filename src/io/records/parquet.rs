//! The Parquet engine: a file decoded in slices of whole row groups of about
//! [`PARQUET_BATCH_ROWS`], by a thread of its own one slice ahead of the caller, only the mapped
//! columns. Columns keep their types: numbers, booleans, dates and timestamps are read as such
//! ([`Value`]); any other type is cast to text. Polars reads Parquet here and nowhere else.

use polars::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;

use super::table_error;
use crate::vocab::error::ReadError;
use crate::vocab::record::Value;

/// Rows per Parquet batch (whole row groups: more when one row group is larger). About a CSV
/// block's rows; one row group of polars' (263,157 rows) is a batch.
pub const PARQUET_BATCH_ROWS: usize = 1 << 18;

/// A Parquet file's metadata and the mapped columns' names by slot.
#[derive(Clone)]
pub struct Meta {
    metadata: polars::io::parquet::metadata::FileMetadataRef,
    columns: Vec<String>,
}

impl Meta {
    /// Rows in the file.
    pub fn rows(&self) -> u64 {
        self.metadata.num_rows as u64
    }
}

/// The column names of a Parquet file, and its metadata for reading the mapped `columns`.
pub fn header(path: &Path, columns: Vec<String>) -> Result<(Vec<String>, Meta), ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::io(path))?;
    let mut r = ParquetReader::new(file);
    let schema = r.schema().map_err(|e| polars_error(path, e))?;
    let metadata = r.get_metadata().map_err(|e| polars_error(path, e))?.clone();
    let names: Vec<String> = schema.iter_names().map(|s| s.to_string()).collect();
    Ok((names, Meta { metadata, columns }))
}

/// The slices of one file, decoded by a thread of its own one slice ahead (decoding was a
/// quarter of the streamed stage, with both cores waiting for it).
pub(super) struct Slices {
    rx: Option<Receiver<Result<TableBatch, ReadError>>>,
    current: Option<TableBatch>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Slices {
    pub fn start(path: PathBuf, meta: Meta) -> Slices {
        // Slices of whole row groups, so that no row group is decoded twice.
        let mut slices: Vec<(usize, usize)> = Vec::new();
        let (mut start, mut len) = (0usize, 0usize);
        for rg in &meta.metadata.row_groups {
            len += rg.num_rows();
            if len >= PARQUET_BATCH_ROWS {
                slices.push((start, len));
                start += len;
                len = 0;
            }
        }
        if len > 0 {
            slices.push((start, len));
        }
        let (tx, rx) = std::sync::mpsc::sync_channel::<Result<TableBatch, ReadError>>(0);
        let thread = std::thread::spawn(move || {
            for (offset, len) in slices {
                let t = decode_slice(&path, &meta, offset, len);
                let failed = t.is_err();
                if tx.send(t).is_err() || failed {
                    return;
                }
            }
        });
        Slices { rx: Some(rx), current: None, thread: Some(thread) }
    }

    /// Moves to the next slice; false at the end of the file.
    pub fn advance(&mut self) -> Result<bool, ReadError> {
        self.current = None;
        let Some(rx) = &self.rx else { return Ok(false) };
        match rx.recv() {
            Ok(Ok(t)) => {
                self.current = Some(t);
                Ok(true)
            }
            Ok(Err(e)) => {
                self.rx = None;
                Err(e)
            }
            Err(_) => {
                self.rx = None;
                Ok(false)
            }
        }
    }

    /// The slice `advance` moved to.
    pub fn current(&self) -> Option<&TableBatch> {
        self.current.as_ref()
    }
}

impl Drop for Slices {
    fn drop(&mut self) {
        self.rx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn decode_slice(path: &Path, meta: &Meta, offset: usize, len: usize) -> Result<TableBatch, ReadError> {
    let file = std::fs::File::open(path).map_err(ReadError::io(path))?;
    let mut r = ParquetReader::new(file);
    r.set_metadata(meta.metadata.clone());
    let df = r.with_columns(Some(dedup(&meta.columns))).with_slice(Some((offset, len))).finish().map_err(|e| polars_error(path, e))?;
    TableBatch::new(path, &df, &meta.columns)
}

fn dedup(v: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in v {
        if !out.contains(s) {
            out.push(s.clone());
        }
    }
    out
}

fn polars_error(path: &Path, e: PolarsError) -> ReadError {
    match e {
        PolarsError::IO { error, .. } => {
            ReadError::Io { path: path.to_path_buf(), source: std::io::Error::new(error.kind(), error.to_string()) }
        }
        other => table_error(path, "Parquet", other.to_string()),
    }
}

/// A Parquet slice: one typed column per slot.
pub struct TableBatch {
    pub(super) len: usize,
    cols: Vec<TypedColumn>,
}

enum TypedColumn {
    Str(StringChunked),
    Float(Float64Chunked),
    Int(Int64Chunked),
    Bool(BooleanChunked),
    /// Physical values and the factor to milliseconds (negative: divide).
    Timestamp {
        values: Int64Chunked,
        unit: TimeUnit,
        zoned: bool,
    },
    Date(Int32Chunked),
}

impl TableBatch {
    fn new(path: &Path, df: &DataFrame, columns: &[String]) -> Result<TableBatch, ReadError> {
        let err = |c: &str, e: PolarsError| table_error(path, "Parquet", format!("column {c:?}: {e}"));
        let mut cols = Vec::with_capacity(columns.len());
        for c in columns {
            // Not rechunked: a batch of several row groups has several chunks, and copying them
            // into one cost more than looking values up chunk by chunk.
            let col = df.column(c).map_err(|e| err(c, e))?;
            let cast = |dt: &DataType| col.cast(dt).map_err(|e| err(c, e));
            let tc = match col.dtype() {
                DataType::String => TypedColumn::Str(col.str().map_err(|e| err(c, e))?.clone()),
                DataType::Float32 | DataType::Float64 => {
                    TypedColumn::Float(cast(&DataType::Float64)?.f64().map_err(|e| err(c, e))?.clone())
                }
                DataType::Int32 | DataType::Int64 | DataType::UInt32 | DataType::UInt64 => {
                    TypedColumn::Int(cast(&DataType::Int64)?.i64().map_err(|e| err(c, e))?.clone())
                }
                DataType::Boolean => TypedColumn::Bool(col.bool().map_err(|e| err(c, e))?.clone()),
                DataType::Datetime(unit, tz) => TypedColumn::Timestamp {
                    values: cast(&DataType::Int64)?.i64().map_err(|e| err(c, e))?.clone(),
                    unit: *unit,
                    zoned: tz.is_some(),
                },
                DataType::Date => TypedColumn::Date(cast(&DataType::Int32)?.i32().map_err(|e| err(c, e))?.clone()),
                _ => TypedColumn::Str(cast(&DataType::String)?.str().map_err(|e| err(c, e))?.clone()),
            };
            cols.push(tc);
        }
        Ok(TableBatch { len: df.height(), cols })
    }

    pub(super) fn get(&self, slot: usize, i: usize) -> Value<'_> {
        let Some(c) = self.cols.get(slot) else { return Value::Null };
        match c {
            TypedColumn::Str(ca) => ca.get(i).map(Value::Text),
            TypedColumn::Float(ca) => ca.get(i).map(Value::Float),
            TypedColumn::Int(ca) => ca.get(i).map(Value::Int),
            TypedColumn::Bool(ca) => ca.get(i).map(Value::Bool),
            TypedColumn::Timestamp { values, unit, zoned } => values.get(i).map(|v| Value::Timestamp {
                ms: match unit {
                    TimeUnit::Milliseconds => v,
                    TimeUnit::Microseconds => v.div_euclid(1000),
                    TimeUnit::Nanoseconds => v.div_euclid(1_000_000),
                },
                zoned: *zoned,
            }),
            TypedColumn::Date(ca) => ca.get(i).map(Value::Date),
        }
        .unwrap_or(Value::Null)
    }
}
