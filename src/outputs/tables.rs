//! Tables as CSV (UTF-8 with BOM, for Excel), Parquet (zstd) and Arrow IPC.
//!
//! Codes stay text in every format. Timestamps are naive local times; dates are dates. CSV is
//! written straight from the frame (polars' CSV writer took as long as all the other tables
//! together); Parquet and Arrow go through polars.

use polars::prelude::*;
use std::fs::File;
use std::path::{Path, PathBuf};

use crate::vocab::error::OutputError;
use crate::vocab::frame::{Frame, Values};
use crate::vocab::hash::HashingWriter;

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

/// A frame as CSV text: a UTF-8 byte-order mark, a header, one line per row; nulls empty,
/// text quoted only when it holds a comma, quote or line break, floats in their shortest
/// exact form without exponent (`0.625`, `70`), dates `YYYY-MM-DD`, timestamps
/// `YYYY-MM-DDTHH:MM:SS`.
pub fn csv_bytes(f: &Frame) -> Vec<u8> {
    let n = f.height();
    let mut out = Vec::with_capacity(64 + n * f.columns.len() * 8);
    out.extend_from_slice("\u{feff}".as_bytes());
    for (k, c) in f.columns.iter().enumerate() {
        if k > 0 {
            out.push(b',');
        }
        csv_text(&c.key, &mut out);
    }
    out.push(b'\n');
    let mut ib = itoa::Buffer::new();
    let mut fb = ryu::Buffer::new();
    for i in 0..n {
        for (k, c) in f.columns.iter().enumerate() {
            if k > 0 {
                out.push(b',');
            }
            match &c.values {
                Values::Str(v) => {
                    if let Some(s) = &v[i] {
                        csv_text(&spreadsheet_text(s), &mut out);
                    }
                }
                Values::Int(v) => {
                    if let Some(x) = v[i] {
                        out.extend_from_slice(ib.format(x).as_bytes());
                    }
                }
                Values::Float(v) => {
                    if let Some(x) = v[i].filter(|x| x.is_finite()) {
                        csv_float(x, &mut fb, &mut out);
                    }
                }
                Values::Bool(v) => {
                    if let Some(b) = v[i] {
                        out.extend_from_slice(if b { b"true" } else { b"false" });
                    }
                }
                Values::Date(v) => {
                    if let Some(d) = v[i] {
                        out.extend_from_slice(d.format("%Y-%m-%d").to_string().as_bytes());
                    }
                }
                Values::Timestamp(v) => {
                    if let Some(t) = v[i] {
                        out.extend_from_slice(t.format("%Y-%m-%dT%H:%M:%S").to_string().as_bytes());
                    }
                }
            }
        }
        out.push(b'\n');
    }
    out
}

/// Text for a spreadsheet cell: a value that starts with `=`, `+`, `-`, `@`, a tab or a
/// carriage return would be read by Excel as a formula (CSV injection), so it gets a leading
/// apostrophe, as OWASP recommends; everything else is unchanged. Text columns of the tables
/// hold input text (names, categories, departments), so every one is treated so in CSV and
/// XLSX; Parquet and Arrow, read by tools, keep the text as it was.
pub fn spreadsheet_text(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { std::borrow::Cow::Owned(format!("'{s}")) } else { std::borrow::Cow::Borrowed(s) }
}

fn csv_text(s: &str, out: &mut Vec<u8>) {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        out.extend_from_slice(s.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

/// Rust's `{}` of a finite f64 (shortest round-trip digits, never an exponent), from ryu's
/// digits when ryu writes no exponent.
fn csv_float(x: f64, fb: &mut ryu::Buffer, out: &mut Vec<u8>) {
    let s = fb.format_finite(x);
    if s.contains('e') {
        out.extend_from_slice(format!("{x}").as_bytes());
    } else {
        out.extend_from_slice(s.strip_suffix(".0").unwrap_or(s).as_bytes());
    }
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
            0 => std::io::Write::write_all(&mut w, &csv_bytes(f)).map_err(OutputError::io(path))?,
            1 => {
                // Min, max and null counts per column chunk; distinct counts (`full()`) cost a
                // hash set per column and no reader we target uses them.
                ParquetWriter::new(&mut w)
                    .with_compression(ParquetCompression::Zstd(None))
                    .with_statistics(StatisticsOptions::default())
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

/// Writes a GeoParquet 1.1 layer: the frame's columns, then `geometry` (WKB, little endian)
/// with the `geo` metadata (`geo_json`) that names it; zstd like every Parquet table.
pub fn write_geoparquet(path: &Path, f: &Frame, wkb: Vec<Option<Vec<u8>>>, geo_json: String) -> Result<Written, OutputError> {
    let enc = |e: PolarsError| OutputError::encode(path, e.to_string());
    let mut df = to_polars(f).map_err(enc)?;
    let geometry = Series::new("geometry".into(), wkb);
    if df.width() == 0 {
        df = DataFrame::new_infer_height(vec![geometry.into()]).map_err(enc)?;
    } else {
        df.with_column(geometry.into()).map_err(enc)?;
    }
    let file = File::create(path).map_err(OutputError::io(path))?;
    let mut w = HashingWriter::new(std::io::BufWriter::with_capacity(1 << 20, file));
    ParquetWriter::new(&mut w)
        .with_compression(ParquetCompression::Zstd(None))
        .with_statistics(StatisticsOptions::default())
        .with_key_value_metadata(Some(KeyValueMetadata::from_static(vec![("geo".into(), geo_json)])))
        .finish(&mut df)
        .map_err(enc)?;
    let (mut buf, sha256, bytes) = w.finish();
    std::io::Write::flush(&mut buf).map_err(OutputError::io(path))?;
    Ok(Written { path: path.to_path_buf(), sha256, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The CSV writer gives polars' bytes (the writer it replaced) on every kind of value.
    #[test]
    fn csv_matches_polars() {
        let mut f = Frame::default();
        f.str("code", vec![Some("a".into()), Some("b,c".into()), Some("say \"hi\"".into()), None, Some("多行\n文本".into())]);
        f.int("n", vec![Some(1), Some(-20), None, Some(i64::MAX), Some(0)]);
        f.float("r", vec![Some(0.625), Some(70.0), Some(1e-7), None, Some(123456789.125)], 9);
        f.float("big", vec![Some(1e21), Some(-0.0), Some(0.1 + 0.2), Some(2.5e-5), Some(1e300)], 20);
        f.push("b", Values::Bool(vec![Some(true), Some(false), None, Some(true), None]));
        let d = chrono::NaiveDate::from_ymd_opt(2026, 11, 5);
        f.push("d", Values::Date(vec![d, None, d, d, None]));
        f.push(
            "t",
            Values::Timestamp(vec![d.and_then(|d| d.and_hms_opt(0, 0, 0)), None, None, d.and_then(|d| d.and_hms_opt(23, 59, 59)), None]),
        );
        let mut df = to_polars(&f).expect("a frame");
        let mut want = Vec::new();
        CsvWriter::new(&mut want)
            .include_bom(true)
            .include_header(true)
            .with_datetime_format(Some("%Y-%m-%dT%H:%M:%S".into()))
            .with_date_format(Some("%Y-%m-%d".into()))
            .with_float_scientific(Some(false))
            .finish(&mut df)
            .expect("polars writes CSV");
        assert_eq!(String::from_utf8_lossy(&csv_bytes(&f)), String::from_utf8_lossy(&want));
    }

    /// Citizen text that Excel would run as a formula is neutralised; other text is not.
    #[test]
    fn formulas_in_text_are_neutralised() {
        let mut f = Frame::default();
        let texts = ["=HYPERLINK(\"http://x\")", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "道路", "a=b", ""];
        f.str("category", texts.iter().map(|t| Some(t.to_string())).collect());
        let csv = String::from_utf8(csv_bytes(&f)).expect("UTF-8");
        let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').split('\n').collect();
        assert_eq!(lines[1], "\"'=HYPERLINK(\"\"http://x\"\")\"");
        assert_eq!(&lines[2..6], ["'+1", "'-2", "'@SUM(A1)", "'\tx"]);
        assert_eq!(lines[6], "\"'\rx\"");
        assert_eq!(&lines[7..9], ["道路", "a=b"]);
    }
}
