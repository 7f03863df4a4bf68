//! Reads a CSV or Parquet record file through polars, keeping only the mapped columns, as text.
//!
//! Every mapped column is read as (or cast to) UTF-8 text so that each row can be checked field by
//! field and a bad value quarantined with the raw text the user sees in the file. This is the
//! only place, with `outputs/tables.rs`, where polars is used.

use polars::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::{Encoding, FileFormat};
use crate::error::ReadError;

/// The mapped columns of one record file, as text.
pub struct TextTable {
    pub path: PathBuf,
    pub height: usize,
    /// gridgov field -> (file column name, values).
    columns: BTreeMap<String, (String, StringChunked)>,
}

impl TextTable {
    /// Values of a field, or `None` when the field is not mapped.
    pub fn field(&self, field: &str) -> Option<Vec<Option<&str>>> {
        self.columns.get(field).map(|(_, ca)| ca.iter().collect())
    }

    /// One value of a field (the columns are single-chunk, so this is a direct lookup).
    pub fn value(&self, field: &str, row: usize) -> Option<&str> {
        self.columns.get(field).and_then(|(_, ca)| ca.get(row))
    }

    /// Name of the file column mapped to a field.
    pub fn column_name(&self, field: &str) -> Option<&str> {
        self.columns.get(field).map(|(c, _)| c.as_str())
    }

    /// Mapped (field, column) pairs in field order.
    pub fn mapped(&self) -> impl Iterator<Item = (&str, &str)> {
        self.columns.iter().map(|(f, (c, _))| (f.as_str(), c.as_str()))
    }
}

/// Reads `path`, checks that every mapped column exists, and returns the mapped columns as text.
pub fn read_text_table(
    path: &Path,
    format: FileFormat,
    delimiter: u8,
    encoding: Encoding,
    mapping: &BTreeMap<String, String>,
) -> Result<TextTable, ReadError> {
    let (fmt_name, df) = match (format, encoding) {
        (FileFormat::Csv, Encoding::Utf8) => ("CSV", read_csv(path, delimiter)),
        (FileFormat::Csv, Encoding::Gbk) => ("CSV", read_gbk_csv(path, delimiter)?),
        (FileFormat::Parquet, _) => ("Parquet", read_parquet(path)),
    };
    let df = df.map_err(|e| match e {
        PolarsError::IO { error, .. } => {
            ReadError::Io { path: path.to_path_buf(), source: std::io::Error::new(error.kind(), error.to_string()) }
        }
        other => {
            // Polars says only "invalid utf-8 sequence"; say where, and what to do about it.
            if format == FileFormat::Csv && encoding == Encoding::Utf8 {
                if let Some(e) = utf8_problem(path) {
                    return e;
                }
            }
            ReadError::Table { path: path.to_path_buf(), format: fmt_name, message: other.to_string() }
        }
    })?;
    if df.width() == 0 {
        return Err(ReadError::Table {
            path: path.to_path_buf(),
            format: fmt_name,
            message: "the file is empty (not even a header row)".into(),
        });
    }
    let names: Vec<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
    let missing: Vec<(&String, &String)> = mapping.iter().filter(|(_, c)| !names.contains(c)).collect();
    if !missing.is_empty() {
        return Err(ReadError::MissingColumn {
            path: path.to_path_buf(),
            column: missing.iter().map(|(_, c)| c.as_str()).collect::<Vec<_>>().join("\", \""),
            field: missing.iter().map(|(f, _)| f.as_str()).collect::<Vec<_>>().join("`, `"),
            available: names.join(", "),
        });
    }
    let mut columns = BTreeMap::new();
    for (field, col) in mapping {
        let c = df.column(col).and_then(|c| c.cast(&DataType::String)).map_err(|e| ReadError::Table {
            path: path.to_path_buf(),
            format: fmt_name,
            message: format!("column {col:?}: {e}"),
        })?;
        let ca = c
            .str()
            .map_err(|e| ReadError::Table { path: path.to_path_buf(), format: fmt_name, message: format!("column {col:?}: {e}") })?
            .rechunk()
            .into_owned();
        columns.insert(field.clone(), (col.clone(), ca));
    }
    Ok(TextTable { path: path.to_path_buf(), height: df.height(), columns })
}

fn csv_options(delimiter: u8) -> CsvReadOptions {
    // infer_schema_length 0: every column is read as text; the row parser checks the types.
    // Polars skips a UTF-8 byte-order mark.
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(false)
        .with_parse_options(CsvParseOptions::default().with_separator(delimiter).with_missing_is_null(true))
}

fn read_csv(path: &Path, delimiter: u8) -> PolarsResult<DataFrame> {
    csv_options(delimiter).try_into_reader_with_file_path(Some(path.to_path_buf()))?.finish()
}

/// Decodes a GBK / GB18030 file to UTF-8 in memory and reads that. A byte sequence that is not
/// GB18030 is an error naming its line, not a silent replacement character.
fn read_gbk_csv(path: &Path, delimiter: u8) -> Result<PolarsResult<DataFrame>, ReadError> {
    let bytes = std::fs::read(path).map_err(ReadError::io(path))?;
    let (text, had_errors) = encoding_rs::GB18030.decode_without_bom_handling(&bytes);
    if had_errors {
        let bad = text.find('\u{FFFD}').unwrap_or(0);
        let line = text[..bad].matches('\n').count() + 1;
        return Err(ReadError::Encoding {
            path: path.to_path_buf(),
            message: format!("line {line} is not valid GBK/GB18030 text although the source declares encoding = \"gbk\""),
        });
    }
    let cursor = std::io::Cursor::new(text.into_owned().into_bytes());
    Ok(csv_options(delimiter).into_reader_with_file_handle(cursor).finish())
}

/// When `path` is not valid UTF-8: an error naming the line and byte, and suggesting the
/// encoding setting (Chinese exports are often GBK).
fn utf8_problem(path: &Path) -> Option<ReadError> {
    let bytes = std::fs::read(path).ok()?;
    let e = std::str::from_utf8(&bytes).err()?;
    let at = e.valid_up_to();
    let line = bytes[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    let gbk_ok = !encoding_rs::GB18030.decode_without_bom_handling(&bytes).1;
    let hint = if gbk_ok {
        "it reads as GBK/GB18030: set encoding = \"gbk\" on the source"
    } else {
        "save it as UTF-8, or set encoding = \"gbk\" if it is GBK"
    };
    Some(ReadError::Encoding { path: path.to_path_buf(), message: format!("not valid UTF-8 at line {line} (byte {at}); {hint}") })
}

fn read_parquet(path: &Path) -> PolarsResult<DataFrame> {
    let file = std::fs::File::open(path)?;
    ParquetReader::new(file).finish()
}
