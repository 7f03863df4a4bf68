//! Record sources of every kind, resolved the same way: path, format, encoding, options, the
//! column mapping checked against the kind's fields, and coded values merged with the kind's
//! built-in spellings.

use chrono_tz::Tz;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::file::{Encoding, FileFormat, SourceFile};
use super::kind::{Catalog, KindSpec, SourceCheck};
use super::period::ser_tz;
use super::resolve::GridProperties;
use crate::vocab::crs::Crs;
use crate::vocab::time::{DEFAULT_TIMESTAMP_FORMATS, valid_format};

/// One resolved record source.
#[derive(Debug, Clone, Serialize)]
pub struct Source {
    /// The record kind (`cases`, `signups`).
    pub kind: &'static str,
    pub name: String,
    pub path: PathBuf,
    pub format: FileFormat,
    pub delimiter: u8,
    pub encoding: Encoding,
    pub crs: Crs,
    pub timestamp_formats: Vec<String>,
    #[serde(serialize_with = "ser_tz")]
    pub time_zone: Tz,
    pub date_formats: Vec<String>,
    /// gridgov field -> file column, only the mapped ones, in field order.
    pub columns: BTreeMap<String, String>,
    /// Value group -> spellings (the kind's built-in ones, then the source's), trimmed.
    pub values: BTreeMap<String, Vec<String>>,
}

impl Source {
    /// The spellings of a value group (empty when the kind has no such group).
    pub fn values(&self, group: &str) -> &[String] {
        self.values.get(group).map_or(&[], |v| v.as_slice())
    }
}

/// Resolves every source: the legacy tables of `[[cases]]` and `[[signups]]` and the general
/// `[[sources]]`, grouped by kind in catalog order, each kind's in file order.
pub(super) fn resolve_all(
    cases: &[SourceFile],
    signups: &[SourceFile],
    sources: &[SourceFile],
    catalog: &Catalog<'_>,
    abs: &dyn Fn(&str) -> PathBuf,
    tz: Tz,
    grid_properties: &GridProperties,
    problems: &mut Vec<String>,
) -> Vec<Source> {
    // (key path, file, kind named by the table or the `kind` key)
    let mut all: Vec<(String, &SourceFile, Option<&str>)> = Vec::new();
    for (table, list) in [("cases", cases), ("signups", signups)] {
        for (i, s) in list.iter().enumerate() {
            let key = format!("{table}[{i}]");
            if let Some(k) = s.kind.as_deref().filter(|k| *k != table) {
                problems.push(format!("{key}.kind: {k:?} in a [[{table}]] table; use [[sources]] for sources of another kind"));
            }
            all.push((key, s, Some(table)));
        }
    }
    for (i, s) in sources.iter().enumerate() {
        let key = format!("sources[{i}]");
        if s.kind.is_none() {
            problems.push(format!("{key}.kind: missing; name the record kind, one of {}", kind_names(catalog)));
        }
        all.push((key, s, s.kind.as_deref()));
    }
    let mut names = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for spec in catalog.kinds {
        for (key, s, kind) in &all {
            if *kind != Some(spec.name) {
                continue;
            }
            if !names.insert(s.name.clone()) {
                problems.push(format!("{key}.name: {:?} is used by another source", s.name));
            }
            out.push(resolve_one(key, s, spec, abs, tz, grid_properties, problems));
        }
    }
    for (key, _, kind) in &all {
        if let Some(k) = kind.filter(|k| !catalog.kinds.iter().any(|s| s.name == *k)) {
            problems.push(format!("{key}.kind: {k:?} is not a record kind; the kinds are {}", kind_names(catalog)));
        }
    }
    out
}

fn kind_names(catalog: &Catalog<'_>) -> String {
    catalog.kinds.iter().map(|k| k.name).collect::<Vec<_>>().join(", ")
}

fn resolve_one(
    key: &str,
    s: &SourceFile,
    spec: &KindSpec,
    abs: &dyn Fn(&str) -> PathBuf,
    tz: Tz,
    grid_properties: &GridProperties,
    problems: &mut Vec<String>,
) -> Source {
    let path = abs(&s.path);
    let format = format_of(key, s.format, &path, problems);
    let delimiter = delimiter_of(key, s.delimiter.as_deref(), problems);
    if format == FileFormat::Parquet && s.encoding != Encoding::Utf8 {
        problems.push(format!("{key}.encoding: Parquet text is always UTF-8; `encoding` applies to CSV files only"));
    }
    // Options the kind does not read are errors, as an unknown key is: they would be ignored.
    let o = spec.options;
    for (option, given, applies) in [
        ("crs", s.crs.is_some(), o.crs),
        ("timestamp_formats", s.timestamp_formats.is_some(), o.timestamps),
        ("time_zone", s.time_zone.is_some(), o.timestamps),
        ("date_formats", s.date_formats.is_some(), o.dates),
    ] {
        if given && !applies {
            problems.push(format!("{key}.{option}: not an option of {} sources", spec.name));
        }
    }
    let time_zone = match &s.time_zone {
        None => tz,
        Some(z) => z.parse().unwrap_or_else(|_| {
            problems.push(format!("{key}.time_zone: {z:?} is not an IANA time zone"));
            tz
        }),
    };
    let timestamp_formats: Vec<String> = match &s.timestamp_formats {
        Some(v) if !v.is_empty() => v.clone(),
        _ if o.timestamps => DEFAULT_TIMESTAMP_FORMATS.iter().map(|s| s.to_string()).collect(),
        _ => Vec::new(),
    };
    for (j, fmt) in timestamp_formats.iter().enumerate() {
        if !valid_format(fmt) {
            problems.push(format!("{key}.timestamp_formats[{j}]: {fmt:?} is not a valid strftime format"));
        }
    }
    let date_formats: Vec<String> = match &s.date_formats {
        Some(v) if !v.is_empty() => v.clone(),
        _ if o.dates => vec!["%Y-%m-%d".to_string()],
        _ => Vec::new(),
    };
    for (j, fmt) in date_formats.iter().enumerate() {
        if !valid_format(fmt) {
            problems.push(format!("{key}.date_formats[{j}]: {fmt:?} is not a valid strftime format"));
        }
    }

    // The column mapping: known fields only, the required ones present.
    for field in s.columns.keys() {
        if spec.field(field).is_none() {
            let known: Vec<&str> = spec.fields.iter().map(|f| f.name).collect();
            problems.push(format!("{key}.columns.{field}: unknown field `{field}`; {} fields are {}", spec.name, known.join(", ")));
        }
    }
    for f in spec.fields.iter().filter(|f| f.required) {
        if !s.columns.contains_key(f.name) {
            problems.push(format!("{key}.columns: missing field `{}` ({})", f.name, f.about));
        }
    }
    (spec.check)(&SourceCheck { key, columns: &s.columns, grid_properties }, problems);

    // Coded values: the kind's built-in spellings, then the source's own.
    for group in s.values.keys() {
        if !spec.values.iter().any(|g| g.name == group) {
            let known: Vec<&str> = spec.values.iter().map(|g| g.name).collect();
            problems.push(format!("{key}.values.{group}: unknown field `{group}`; {} value groups are {}", spec.name, known.join(", ")));
        }
    }
    let values: BTreeMap<String, Vec<String>> = spec
        .values
        .iter()
        .map(|g| {
            let mut v: Vec<String> = g.builtin.iter().map(|s| s.to_string()).collect();
            v.extend(s.values.get(g.name).into_iter().flatten().map(|x| x.trim().to_string()));
            (g.name.to_string(), v)
        })
        .collect();
    for (x, y) in spec.exclusive {
        let (vx, vy) = (&values[*x], &values[*y]);
        if let Some(v) = vx.iter().find(|v| vy.contains(v)) {
            problems.push(format!("{key}.values: {v:?} is listed both as `{x}` and as `{y}`"));
        }
    }
    Source {
        kind: spec.name,
        name: s.name.clone(),
        path,
        format,
        delimiter,
        encoding: s.encoding,
        crs: s.crs.clone().unwrap_or_default(),
        timestamp_formats,
        time_zone,
        date_formats,
        columns: s.columns.clone(),
        values,
    }
}

fn format_of(key: &str, given: Option<FileFormat>, path: &Path, problems: &mut Vec<String>) -> FileFormat {
    if let Some(f) = given {
        return f;
    }
    match path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref() {
        Some("csv") | Some("txt") | Some("tsv") => FileFormat::Csv,
        Some("parquet") | Some("pq") => FileFormat::Parquet,
        _ => {
            problems.push(format!("{key}.format: cannot tell from {:?}; set format = \"csv\" or \"parquet\"", path.display().to_string()));
            FileFormat::Csv
        }
    }
}

fn delimiter_of(key: &str, given: Option<&str>, problems: &mut Vec<String>) -> u8 {
    match given {
        None => b',',
        Some("\\t") | Some("\t") => b'\t',
        Some(s) if s.len() == 1 && s.is_ascii() => s.as_bytes()[0],
        Some(s) => {
            problems.push(format!("{key}.delimiter: {s:?} must be one ASCII character"));
            b','
        }
    }
}
