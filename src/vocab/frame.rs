//! A small, polars-free column table: what indicators produce and every writer consumes.
//!
//! The GeoJSON writer and the table writers read the same `Frame`, so a layer and its table
//! always have the same keys, types and values. Floats are rounded when the frame is built
//! (serde would otherwise print float noise such as 0.30000000000000004).

use chrono::{NaiveDate, NaiveDateTime};

/// Values of one column; `None` is a null.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Str(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Bool(Vec<Option<bool>>),
    Date(Vec<Option<NaiveDate>>),
    /// Naive local timestamps (no offset: an offset shifts 1 May 00:00 into 30 April in some readers).
    Timestamp(Vec<Option<NaiveDateTime>>),
}

impl Values {
    pub fn len(&self) -> usize {
        match self {
            Values::Str(v) => v.len(),
            Values::Int(v) => v.len(),
            Values::Float(v) => v.len(),
            Values::Bool(v) => v.len(),
            Values::Date(v) => v.len(),
            Values::Timestamp(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of row `i` as JSON (dates as `YYYY-MM-DD`, timestamps as `YYYY-MM-DDTHH:MM:SS`).
    pub fn json(&self, i: usize) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Values::Str(v) => v[i].clone().map(J::String).unwrap_or(J::Null),
            Values::Int(v) => v[i].map(|x| J::from(x)).unwrap_or(J::Null),
            Values::Float(v) => v[i].and_then(serde_json::Number::from_f64).map(J::Number).unwrap_or(J::Null),
            Values::Bool(v) => v[i].map(J::Bool).unwrap_or(J::Null),
            Values::Date(v) => v[i].map(|d| J::String(d.format("%Y-%m-%d").to_string())).unwrap_or(J::Null),
            Values::Timestamp(v) => v[i].map(|d| J::String(d.format("%Y-%m-%dT%H:%M:%S").to_string())).unwrap_or(J::Null),
        }
    }
}

impl Values {
    /// Appends the value of row `i` as JSON, exactly as `serde_json` writes `self.json(i)`,
    /// without building a `serde_json::Value`.
    pub fn write_json(&self, i: usize, out: &mut Vec<u8>) {
        use serde_json::ser::Formatter;
        let mut f = serde_json::ser::CompactFormatter;
        let null = |out: &mut Vec<u8>| out.extend_from_slice(b"null");
        match self {
            Values::Str(v) => match &v[i] {
                Some(s) => json_str(s, out),
                None => null(out),
            },
            Values::Int(v) => match v[i] {
                Some(x) => out.extend_from_slice(itoa::Buffer::new().format(x).as_bytes()),
                None => null(out),
            },
            Values::Float(v) => match v[i].filter(|x| x.is_finite()) {
                Some(x) => {
                    let _ = f.write_f64(out, x);
                }
                None => null(out),
            },
            Values::Bool(v) => match v[i] {
                Some(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
                None => null(out),
            },
            Values::Date(v) => match v[i] {
                Some(d) => json_str(&d.format("%Y-%m-%d").to_string(), out),
                None => null(out),
            },
            Values::Timestamp(v) => match v[i] {
                Some(d) => json_str(&d.format("%Y-%m-%dT%H:%M:%S").to_string(), out),
                None => null(out),
            },
        }
    }
}

/// A JSON string literal, escaped as serde_json escapes it.
pub fn json_str(s: &str, out: &mut Vec<u8>) {
    let _ = serde_json::to_writer(&mut *out, s);
}

/// A named column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub key: String,
    pub values: Values,
}

/// A table: equally long columns, rows already in output order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Frame {
    pub columns: Vec<Column>,
}

impl Frame {
    pub fn height(&self) -> usize {
        self.columns.first().map(|c| c.values.len()).unwrap_or(0)
    }

    pub fn push(&mut self, key: &str, values: Values) {
        debug_assert!(self.columns.is_empty() || values.len() == self.height(), "column {key} has the wrong length");
        self.columns.push(Column { key: key.to_string(), values });
    }

    pub fn str(&mut self, key: &str, v: Vec<Option<String>>) {
        self.push(key, Values::Str(v));
    }
    pub fn int(&mut self, key: &str, v: Vec<Option<i64>>) {
        self.push(key, Values::Int(v));
    }
    /// Adds a float column rounded to `decimals`; non-finite values become null.
    pub fn float(&mut self, key: &str, v: Vec<Option<f64>>, decimals: i32) {
        self.push(key, Values::Float(v.into_iter().map(|x| x.and_then(|x| round(x, decimals))).collect()));
    }

    pub fn column(&self, key: &str) -> Option<&Values> {
        self.columns.iter().find(|c| c.key == key).map(|c| &c.values)
    }

    /// The table with only the rows `rows` (in that order).
    pub fn keep_rows(self, rows: &[usize]) -> Frame {
        fn pick<T: Clone>(v: &[T], rows: &[usize]) -> Vec<T> {
            rows.iter().map(|&r| v[r].clone()).collect()
        }
        let columns = self
            .columns
            .into_iter()
            .map(|c| Column {
                key: c.key,
                values: match &c.values {
                    Values::Str(v) => Values::Str(pick(v, rows)),
                    Values::Int(v) => Values::Int(pick(v, rows)),
                    Values::Float(v) => Values::Float(pick(v, rows)),
                    Values::Bool(v) => Values::Bool(pick(v, rows)),
                    Values::Date(v) => Values::Date(pick(v, rows)),
                    Values::Timestamp(v) => Values::Timestamp(pick(v, rows)),
                },
            })
            .collect();
        Frame { columns }
    }

    /// A numeric column as floats (ints converted); `None` entries for nulls or a missing column.
    pub fn floats(&self, key: &str) -> Vec<Option<f64>> {
        match self.column(key) {
            Some(Values::Float(v)) => v.clone(),
            Some(Values::Int(v)) => v.iter().map(|x| x.map(|x| x as f64)).collect(),
            _ => vec![None; self.height()],
        }
    }

    /// A text column; empty strings for nulls or a missing column.
    pub fn texts(&self, key: &str) -> Vec<String> {
        match self.column(key) {
            Some(Values::Str(v)) => v.iter().map(|x| x.clone().unwrap_or_default()).collect(),
            _ => vec![String::new(); self.height()],
        }
    }
}

/// Rounds to `decimals`; `None` for NaN and infinities. -0.0 becomes 0.0.
pub fn round(x: f64, decimals: i32) -> Option<f64> {
    if !x.is_finite() {
        return None;
    }
    let f = 10f64.powi(decimals);
    let r = (x * f).round() / f;
    // A value too large to scale has no digits to round off.
    let r = if r.is_finite() { r } else { x };
    Some(if r == 0.0 { 0.0 } else { r })
}
