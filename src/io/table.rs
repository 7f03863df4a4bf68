//! Reads a CSV or Parquet record file through polars, keeping only the mapped columns, as text.
//!
//! Every mapped column is read as (or cast to) UTF-8 text so that each row can be checked field by
//! field and a bad value quarantined with the raw text the user sees in the file. This is the
//! only place, with `outputs/tables.rs`, where polars is used.

use polars::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::config::FileFormat;
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
pub fn read_text_table(path: &Path, format: FileFormat, delimiter: u8, mapping: &BTreeMap<String, String>) -> Result<TextTable, ReadError> {
    let (fmt_name, df) = match format {
        FileFormat::Csv => ("CSV", read_csv(path, delimiter)),
        FileFormat::Parquet => ("Parquet", read_parquet(path)),
    };
    let df = df.map_err(|e| match e {
        PolarsError::IO { error, .. } => {
            ReadError::Io { path: path.to_path_buf(), source: std::io::Error::new(error.kind(), error.to_string()) }
        }
        other => ReadError::Table { path: path.to_path_buf(), format: fmt_name, message: other.to_string() },
    })?;
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

fn read_csv(path: &Path, delimiter: u8) -> PolarsResult<DataFrame> {
    // infer_schema_length 0: every column is read as text; the row parser checks the types.
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_raise_if_empty(false)
        .with_parse_options(CsvParseOptions::default().with_separator(delimiter).with_missing_is_null(true))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))?
        .finish()
}

fn read_parquet(path: &Path) -> PolarsResult<DataFrame> {
    let file = std::fs::File::open(path)?;
    ParquetReader::new(file).finish()
}
