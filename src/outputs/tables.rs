//! Tables as CSV (UTF-8 with BOM, for Excel), Parquet (zstd) and Arrow IPC, through polars.
//!
//! Codes stay text in every format. Timestamps are naive local times; dates are dates.

use polars::prelude::*;
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::error::OutputError;
use crate::outputs::frame::{Frame, Values};
use crate::outputs::manifest::HashingWriter;

/// Converts a frame to a polars DataFrame.
pub fn to_polars(f: &Frame) -> PolarsResult<DataFrame> {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    let mut cols: Vec<Column> = Vec::with_capacity(f.columns.len());
    for c in &f.columns {
        let name: PlSmallStr = c.key.as_str().into();
        let s = match &c.values {
            Values::Str(v) => Series::new(name, v),
            Values::Int(v) => Series::new(name, v),
            Values::Float(v) => Series::new(name, v),
            Values::Bool(v) => Series::new(name, v),
            Values::Date(v) => {
                let days: Vec<Option<i32>> = v.iter().map(|d| d.map(|d| (d - epoch).num_days() as i32)).collect();
                Series::new(name, days).cast(&DataType::Date)?
            }
            Values::Timestamp(v) => {
                let ms: Vec<Option<i64>> = v.iter().map(|t| t.map(|t| t.and_utc().timestamp_millis())).collect();
                Series::new(name, ms).cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?
            }
        };
        cols.push(s.into());
    }
    DataFrame::new_infer_height(cols)
}

/// A file written: its path, sha256 and size (hashed as it was written).
pub struct Written {
    pub path: PathBuf,
    pub sha256: String,
    pub bytes: u64,
}

/// Writes `<dir>/<stem>.<format>` for each of `formats` (`csv`, `parquet`, `arrow`), at once.
pub fn write_table(dir: &Path, stem: &str, f: &Frame, formats: &[String]) -> Result<Vec<Written>, OutputError> {
    let enc = |path: &Path, e: PolarsError| OutputError::encode(path, e.to_string());
    let df = to_polars(f).map_err(|e| enc(&dir.join(stem), e))?;
    let write = |path: &Path, kind: u8| -> Result<Written, OutputError> {
        let mut df = df.clone();
        let file = File::create(path).map_err(OutputError::io(path))?;
        let mut w = HashingWriter::new(std::io::BufWriter::with_capacity(1 << 20, file));
        match kind {
            0 => CsvWriter::new(&mut w)
                .include_bom(true)
                .include_header(true)
                .with_datetime_format(Some("%Y-%m-%dT%H:%M:%S".into()))
                .with_date_format(Some("%Y-%m-%d".into()))
                .with_float_scientific(Some(false))
                .finish(&mut df)
                .map_err(|e| enc(path, e))?,
            1 => {
                ParquetWriter::new(&mut w)
                    .with_compression(ParquetCompression::Zstd(None))
                    .with_statistics(StatisticsOptions::full())
                    .finish(&mut df)
                    .map_err(|e| enc(path, e))?;
            }
            _ => IpcWriter::new(&mut w)
                .with_compression(Some(IpcCompression::ZSTD(Default::default())))
                .finish(&mut df)
                .map_err(|e| enc(path, e))?,
        }
        let (mut buf, sha256, bytes) = w.finish();
        std::io::Write::flush(&mut buf).map_err(OutputError::io(path))?;
        Ok(Written { path: path.to_path_buf(), sha256, bytes })
    };
    use rayon::prelude::*;
    let kinds: Vec<(u8, &str)> =
        [(0, "csv"), (1, "parquet"), (2, "arrow")].into_iter().filter(|(_, e)| formats.iter().any(|f| f == e)).collect();
    kinds.par_iter().map(|&(k, ext)| write(&dir.join(format!("{stem}.{ext}")), k)).collect()
}
