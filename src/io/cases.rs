//! Reads one case source: applies the column mapping, checks every field of every row, converts
//! points to WGS84, and resolves code-only locations through the hierarchy.
//!
//! A row that fails a check goes to the quarantine with its reason; the others become columns of
//! a [`CaseTable`]. Points are located against the grids later, in `join/`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use geo::Rect;
use rayon::prelude::*;
use std::collections::HashMap;

use crate::config::CaseSource;
use crate::error::ReadError;
use crate::hierarchy::{Hierarchy, Level, Units};
use crate::io::table::{TextTable, read_text_table};
use crate::quarantine::Reject;

/// Answer to the satisfaction question of a follow-up call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Satisfaction {
    None,
    Satisfied,
    Basic,
    Unsatisfied,
}

/// Follow-up (回访) of one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Followup {
    /// Counts in the denominators of the three rates.
    pub valid: bool,
    pub contacted: bool,
    pub resolved: bool,
    pub satisfaction: Satisfaction,
}

/// Where a parsed case is, before the spatial join.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Location {
    /// A WGS84 point (already converted from the source's coordinate system).
    Point { lon: f64, lat: f64 },
    /// Assigned by a grid, community or street code; the units at every level.
    ByCode(Level, Units),
}

/// The parsed rows of one source, as columns. Times are UTC milliseconds.
#[derive(Debug, Default)]
pub struct CaseTable {
    /// Index of the file in the source's file list.
    pub file: Vec<u32>,
    /// 1-based data row in the file.
    pub row: Vec<u32>,
    pub received: Vec<i64>,
    pub closed: Vec<Option<i64>>,
    /// Due time: the file's, or received + the default time limit.
    pub due: Vec<i64>,
    pub cancelled: Vec<bool>,
    pub followup: Vec<Followup>,
    /// Interned text (index into `Dictionaries`), `u32::MAX` when empty.
    pub category: Vec<u32>,
    pub department: Vec<u32>,
    pub channel: Vec<u32>,
    pub location: Vec<Location>,
}

/// Distinct category, department and channel texts of all sources, in order of first appearance.
#[derive(Debug, Default)]
pub struct Dictionaries {
    pub category: Interner,
    pub department: Interner,
    pub channel: Interner,
}

#[derive(Debug, Default)]
pub struct Interner {
    ids: HashMap<String, u32>,
    pub values: Vec<String>,
}

impl Interner {
    pub fn intern(&mut self, s: Option<&str>) -> u32 {
        let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else { return u32::MAX };
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.values.len() as u32;
        self.ids.insert(s.to_string(), i);
        self.values.push(s.to_string());
        i
    }
}

/// What the reader needs to know besides the source itself.
pub struct ReadContext<'a> {
    pub hierarchy: &'a Hierarchy,
    /// Extent of the grid layer, for telling swapped coordinates.
    pub extent: Option<Rect<f64>>,
    pub default_time_limit_ms: i64,
    /// The as-of moment (UTC ms): a case cannot have been received or closed after it.
    pub as_of_ms: i64,
    pub suspect_points: &'a [[f64; 2]],
    pub suspect_radius_m: f64,
}

/// A source after reading: its files as text (kept for the quarantine rows of later stages) and
/// the parsed cases of all of them.
pub struct SourceCases {
    /// One table per file, in name order; `CaseTable::file` indexes this.
    pub tables: Vec<TextTable>,
    pub cases: CaseTable,
    pub rows_read: u64,
}

/// Result of checking one row.
enum RowResult {
    Ok(ParsedRow),
    Rejected(&'static str, String),
}

struct ParsedRow {
    received: i64,
    closed: Option<i64>,
    due: i64,
    cancelled: bool,
    followup: Followup,
    location: Location,
}

/// Reads and checks one case source made of `files` (see `io::files::expand`). Rejected rows
/// are appended to `rejects`. A case id may appear once in the whole source.
pub fn read_cases(
    src: &CaseSource,
    files: &[std::path::PathBuf],
    ctx: &ReadContext<'_>,
    dicts: &mut Dictionaries,
    rejects: &mut Vec<Reject>,
) -> Result<SourceCases, ReadError> {
    let tables = files
        .iter()
        .map(|f| read_text_table(f, src.format, src.delimiter, src.encoding, &src.columns))
        .collect::<Result<Vec<TextTable>, ReadError>>()?;
    let mut cases = CaseTable::default();
    {
        // First occurrence of each id: (file, row); borrows the ids from the tables.
        let mut seen: HashMap<&str, (u32, u32)> = HashMap::with_capacity(tables.iter().map(|t| t.height).sum());
        for (fi, table) in tables.iter().enumerate() {
            read_file(src, ctx, fi as u32, table, &tables, dicts, &mut seen, &mut cases, rejects);
        }
    }
    let rows_read = tables.iter().map(|t| t.height as u64).sum();
    Ok(SourceCases { tables, cases, rows_read })
}

/// Checks every row of one file of a source and appends the good ones to `cases`.
#[allow(clippy::too_many_arguments)]
fn read_file<'t>(
    src: &CaseSource,
    ctx: &ReadContext<'_>,
    fi: u32,
    table: &'t TextTable,
    all: &[TextTable],
    dicts: &mut Dictionaries,
    seen: &mut HashMap<&'t str, (u32, u32)>,
    cases: &mut CaseTable,
    rejects: &mut Vec<Reject>,
) {
    let n = table.height;
    let col = |f: &str| table.field(f);
    let ids = col("case_id").unwrap_or_else(|| vec![None; n]);
    let received = col("received_at");
    let closed = col("closed_at");
    let due = col("due_at");
    let status = col("status");
    let lon = col("lon");
    let lat = col("lat");
    let grid_code = col("grid_code");
    let community_code = col("community_code");
    let street_code = col("street_code");
    let fu_valid = col("followup_valid");
    let contacted = col("contacted");
    let resolved = col("resolved");
    let satisfaction = col("satisfaction");
    fn get<'t>(c: &Option<Vec<Option<&'t str>>>, i: usize) -> Option<&'t str> {
        c.as_ref().and_then(|v| v[i]).map(str::trim).filter(|s| !s.is_empty())
    }

    // Row checks are independent: run them in parallel, collect in row order.
    let results: Vec<RowResult> = (0..n)
        .into_par_iter()
        .with_min_len(2048)
        .map(|i| {
            let parse_time = |field: &str, v: Option<&str>| -> Result<Option<i64>, (&'static str, String)> {
                match v {
                    None => Ok(None),
                    Some(s) => match parse_timestamp(s, &src.timestamp_formats, src.time_zone) {
                        Some(t) => Ok(Some(t)),
                        None => Err((reason_for_time(field), format!("{field} {s:?} matches none of the timestamp formats"))),
                    },
                }
            };
            let r = (|| -> Result<ParsedRow, (&'static str, String)> {
                let received = match parse_time("received_at", get(&received, i))? {
                    Some(t) => t,
                    None => return Err(("bad_received_at", "received_at is empty".into())),
                };
                let closed_at = parse_time("closed_at", get(&closed, i))?;
                let due_at = parse_time("due_at", get(&due, i))?;
                for (field, t) in [("received_at", Some(received)), ("closed_at", closed_at)] {
                    if let Some(t) = t.filter(|&t| t >= ctx.as_of_ms) {
                        return Err((
                            "timestamp_in_future",
                            format!("{field} is {} h after the end of the as-of day", fmt_hours(t - ctx.as_of_ms)),
                        ));
                    }
                }
                if let Some(c) = closed_at {
                    if c < received {
                        return Err(("closed_before_received", format!("closed {} h before it was received", fmt_hours(received - c))));
                    }
                }
                let cancelled = get(&status, i).is_some_and(|s| src.values.cancelled_status.iter().any(|c| c == s));
                let followup = parse_followup(
                    &src.values,
                    get(&fu_valid, i),
                    get(&contacted, i),
                    get(&resolved, i),
                    get(&satisfaction, i),
                    fu_valid.is_some(),
                )?;
                let location =
                    locate_row(src, ctx, get(&lon, i), get(&lat, i), get(&grid_code, i), get(&community_code, i), get(&street_code, i))?;
                Ok(ParsedRow {
                    received,
                    closed: closed_at,
                    due: due_at.unwrap_or(received + ctx.default_time_limit_ms),
                    cancelled,
                    followup,
                    location,
                })
            })();
            match r {
                Ok(p) => RowResult::Ok(p),
                Err((reason, detail)) => RowResult::Rejected(reason, detail),
            }
        })
        .collect();

    // Sequential pass: ids (first occurrence wins), interning, quarantine.
    let cat = col("category");
    let dep = col("department");
    let chan = col("channel");
    let file = table.path.display().to_string();
    let is_csv = src.format == crate::config::FileFormat::Csv;
    for (i, r) in results.into_iter().enumerate() {
        let row = i as u32 + 1;
        let key = ids[i].map(str::trim).unwrap_or("");
        let reject = |reason: &'static str, detail: String| Reject {
            source: src.name.clone(),
            file: file.clone(),
            row: row as u64,
            line: is_csv.then_some(row as u64 + 1),
            key: key.to_string(),
            reason,
            detail,
            raw: raw_fields(&table, i),
        };
        if key.is_empty() {
            rejects.push(reject("missing_case_id", "case_id is empty".into()));
            continue;
        }
        let p = match r {
            RowResult::Rejected(reason, detail) => {
                rejects.push(reject(reason, detail));
                continue;
            }
            RowResult::Ok(p) => p,
        };
        if let Some(&(ff, fr)) = seen.get(key) {
            let where_ = if ff == fi { format!("row {fr}") } else { format!("row {fr} of {}", all[ff as usize].path.display()) };
            rejects.push(reject("duplicate_case_id", format!("case_id already used by {where_}; the first row is kept")));
            continue;
        }
        seen.insert(key, (fi, row));
        cases.file.push(fi);
        cases.row.push(row);
        cases.received.push(p.received);
        cases.closed.push(p.closed);
        cases.due.push(p.due);
        cases.cancelled.push(p.cancelled);
        cases.followup.push(p.followup);
        cases.category.push(dicts.category.intern(get(&cat, i)));
        cases.department.push(dicts.department.intern(get(&dep, i)));
        cases.channel.push(dicts.channel.intern(get(&chan, i)));
        cases.location.push(p.location);
    }
}

fn reason_for_time(field: &str) -> &'static str {
    match field {
        "received_at" => "bad_received_at",
        "closed_at" => "bad_closed_at",
        _ => "bad_due_at",
    }
}

fn fmt_hours(ms: i64) -> String {
    format!("{:.1}", ms as f64 / 3_600_000.0)
}

/// The mapped fields of row `i` as a JSON object `{column: value}`.
pub fn raw_fields(table: &TextTable, i: usize) -> String {
    let mut m = serde_json::Map::new();
    for (field, column) in table.mapped() {
        let v = table.value(field, i).map(|s| serde_json::Value::String(s.to_string()));
        m.insert(column.to_string(), v.unwrap_or(serde_json::Value::Null));
    }
    serde_json::Value::Object(m).to_string()
}

/// Parses a timestamp with the first matching format; returns UTC milliseconds. Naive times are
/// local times in `tz`; formats with `%z` carry their own offset.
pub fn parse_timestamp(s: &str, formats: &[String], tz: Tz) -> Option<i64> {
    for f in formats {
        // The common export formats are parsed by hand: chrono's general parser took most of
        // the read stage on large files. The result is the same (checked by a test).
        // Anything the fast path does not take (say an unpadded hour) goes to chrono.
        if let Some(t) = fixed_format(f).and_then(|sep| parse_fixed(s.as_bytes(), sep)) {
            return local_ms(t, tz);
        }
        if f.contains("%z") || f.contains("%:z") || f.contains("%#z") {
            if let Ok(t) = DateTime::parse_from_str(s, f) {
                return Some(t.timestamp_millis());
            }
        } else if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return local_ms(t, tz);
        } else if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            return local_ms(d.and_hms_opt(0, 0, 0)?, tz);
        }
    }
    None
}

/// `Some(date separator)` for `%Y-%m-%d %H:%M:%S` and `%Y/%m/%d %H:%M:%S`.
fn fixed_format(f: &str) -> Option<u8> {
    match f {
        "%Y-%m-%d %H:%M:%S" => Some(b'-'),
        "%Y/%m/%d %H:%M:%S" => Some(b'/'),
        _ => None,
    }
}

/// `YYYY-MM-DD HH:MM:SS` (19 bytes, zero-padded, as chrono's `%Y-%m-%d %H:%M:%S` accepts
/// for four-digit years) with calendar and clock ranges checked.
fn parse_fixed(b: &[u8], sep: u8) -> Option<NaiveDateTime> {
    if b.len() != 19 || b[4] != sep || b[7] != sep || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as u32))
    };
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    date.and_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?)
}

fn local_ms(t: NaiveDateTime, tz: Tz) -> Option<i64> {
    use chrono::{Offset, Timelike};
    // The offset of a local hour is looked up once per thread and hour: time-zone lookups were
    // the other large cost of reading timestamps. Hours that contain an offset change are not
    // cached and take the general path.
    thread_local! {
        static LAST: std::cell::Cell<Option<(Tz, NaiveDateTime, i64)>> = const { std::cell::Cell::new(None) };
    }
    let hour = t.date().and_hms_opt(t.hour(), 0, 0)?;
    if let Some((ctz, h, off)) = LAST.with(|c| c.get()) {
        if ctz == tz && h == hour {
            return Some(t.and_utc().timestamp_millis() - off * 1000);
        }
    }
    let single = |n: NaiveDateTime| match tz.from_local_datetime(&n) {
        chrono::LocalResult::Single(x) => Some(x.offset().fix().local_minus_utc() as i64),
        _ => None,
    };
    if let (Some(a), Some(b)) = (single(hour), single(hour + chrono::Duration::seconds(3599))) {
        if a == b {
            LAST.with(|c| c.set(Some((tz, hour, a))));
            return Some(t.and_utc().timestamp_millis() - a * 1000);
        }
    }
    // In a DST fold the earlier instant is taken; in a DST gap the time does not exist and the
    // row is rejected as unparseable.
    tz.from_local_datetime(&t).earliest().map(|t| t.timestamp_millis())
}

fn parse_followup(
    v: &crate::config::resolve::Values,
    valid: Option<&str>,
    contacted: Option<&str>,
    resolved: Option<&str>,
    satisfaction: Option<&str>,
    has_valid_column: bool,
) -> Result<Followup, (&'static str, String)> {
    let yes_no = |field: &str, s: Option<&str>| -> Result<Option<bool>, (&'static str, String)> {
        match s {
            None => Ok(None),
            Some(s) if v.yes.iter().any(|y| y.eq_ignore_ascii_case(s)) => Ok(Some(true)),
            Some(s) if v.no.iter().any(|y| y.eq_ignore_ascii_case(s)) => Ok(Some(false)),
            Some(s) => {
                Err(("bad_value", format!("{field} {s:?} is neither a yes nor a no spelling (add it under values.yes / values.no)")))
            }
        }
    };
    let valid_v = yes_no("followup_valid", valid)?;
    let c = yes_no("contacted", contacted)?;
    let r = yes_no("resolved", resolved)?;
    let sat = match satisfaction {
        None => Satisfaction::None,
        Some(s) if v.satisfied.iter().any(|x| x.eq_ignore_ascii_case(s)) => Satisfaction::Satisfied,
        Some(s) if v.basically_satisfied.iter().any(|x| x.eq_ignore_ascii_case(s)) => Satisfaction::Basic,
        Some(s) if v.unsatisfied.iter().any(|x| x.eq_ignore_ascii_case(s)) => Satisfaction::Unsatisfied,
        Some(s) => {
            return Err((
                "bad_value",
                format!("satisfaction {s:?} is not a known answer (add it under values.satisfied / basically_satisfied / unsatisfied)"),
            ));
        }
    };
    let valid = if has_valid_column { valid_v == Some(true) } else { c.is_some() || r.is_some() || sat != Satisfaction::None };
    Ok(Followup {
        valid,
        contacted: valid && c == Some(true),
        resolved: valid && r == Some(true),
        satisfaction: if valid { sat } else { Satisfaction::None },
    })
}

/// Checks the coordinates (or the codes, when there are none) of one row.
fn locate_row(
    src: &CaseSource,
    ctx: &ReadContext<'_>,
    lon: Option<&str>,
    lat: Option<&str>,
    grid: Option<&str>,
    community: Option<&str>,
    street: Option<&str>,
) -> Result<Location, (&'static str, String)> {
    match (lon, lat) {
        (None, None) => {}
        (Some(x), Some(y)) => return check_point(src, ctx, x, y),
        (Some(_), None) | (None, Some(_)) => {
            return Err(("bad_coordinate", format!("only one of lon/lat is given (lon {lon:?}, lat {lat:?})")));
        }
    }
    let h = ctx.hierarchy;
    for (level, code, reason) in [
        (Level::Grid, grid, "unknown_grid_code"),
        (Level::Community, community, "unknown_community_code"),
        (Level::Street, street, "unknown_street_code"),
    ] {
        let Some(code) = code else { continue };
        return match h.find(level, code) {
            Some(i) => Ok(Location::ByCode(level, h.units_of(level, i))),
            None => Err((reason, format!("no coordinates, and {} code {code:?} is not in the grid layer", level.as_str()))),
        };
    }
    Err(("no_location", "no coordinates and no grid, community or street code".into()))
}

fn check_point(src: &CaseSource, ctx: &ReadContext<'_>, xs: &str, ys: &str) -> Result<Location, (&'static str, String)> {
    let (Ok(x), Ok(y)) = (xs.parse::<f64>(), ys.parse::<f64>()) else {
        return Err(("bad_coordinate", format!("lon {xs:?} / lat {ys:?} is not a pair of numbers")));
    };
    if !(x.is_finite() && y.is_finite()) {
        return Err(("bad_coordinate", format!("lon {xs:?} / lat {ys:?} is not finite")));
    }
    let in_range = |x: f64, y: f64| x.abs() <= 180.0 && y.abs() <= 90.0;
    let near_extent = |x: f64, y: f64| {
        ctx.extent.is_some_and(|r| {
            // A margin of 0.1° tolerates points just outside the layer (they will be
            // `outside_all_grids`) while still telling a swapped pair.
            x >= r.min().x - 0.1 && x <= r.max().x + 0.1 && y >= r.min().y - 0.1 && y <= r.max().y + 0.1
        })
    };
    if !in_range(x, y) {
        if in_range(y, x) {
            return Err(("swapped_coordinates", format!("lon {xs} / lat {ys}: latitude out of range, swapped lon/lat would be valid")));
        }
        return Err(("coordinate_out_of_range", format!("lon {xs} / lat {ys} is outside -180..180 / -90..90")));
    }
    if ctx.extent.is_some() && !near_extent(x, y) && near_extent(y, x) {
        return Err(("swapped_coordinates", format!("lon {xs} / lat {ys} lies in the grid layer's extent only when swapped")));
    }
    let (lon, lat) = src.crs.to_wgs84(x, y);
    for p in ctx.suspect_points {
        let dy = (lat - p[1]) * 111_320.0;
        let dx = (lon - p[0]) * 111_320.0 * lat.to_radians().cos();
        if (dx * dx + dy * dy).sqrt() <= ctx.suspect_radius_m {
            return Err(("default_coordinate", format!("lon {xs} / lat {ys} is a known default location ({}, {})", p[0], p[1])));
        }
    }
    Ok(Location::Point { lon, lat })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_naive_offset_and_date() {
        let tz: Tz = "Asia/Shanghai".parse().expect("a timestamp the test expects to parse");
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let naive = parse_timestamp("2026-10-01 08:00:00", &f(&["%Y-%m-%d %H:%M:%S"]), tz).expect("a timestamp the test expects to parse");
        let off =
            parse_timestamp("2026-10-01T08:00:00+08:00", &f(&["%Y-%m-%dT%H:%M:%S%:z"]), tz).expect("a timestamp the test expects to parse");
        let utc =
            parse_timestamp("2026-10-01T00:00:00+00:00", &f(&["%Y-%m-%dT%H:%M:%S%:z"]), tz).expect("a timestamp the test expects to parse");
        assert_eq!(naive, off);
        assert_eq!(naive, utc);
        let day = parse_timestamp("2026/10/01", &f(&["%Y-%m-%d %H:%M:%S", "%Y/%m/%d"]), tz).expect("a timestamp the test expects to parse");
        assert_eq!(day, naive - 8 * 3_600_000);
        assert!(parse_timestamp("2026-13-45 25:00:00", &f(&["%Y-%m-%d %H:%M:%S"]), tz).is_none());
        // 12-hour clock with AM/PM, as in NYC 311 exports (UTC-4 in May).
        let ny: Tz = "America/New_York".parse().expect("a timestamp the test expects to parse");
        let pm =
            parse_timestamp("05/01/2022 12:30:00 PM", &f(&["%m/%d/%Y %I:%M:%S %p"]), ny).expect("a timestamp the test expects to parse");
        let iso =
            parse_timestamp("2022-05-01T16:30:00+00:00", &f(&["%Y-%m-%dT%H:%M:%S%:z"]), ny).expect("a timestamp the test expects to parse");
        assert_eq!(pm, iso);
    }

    /// The hand-written parser and the offset cache give chrono's answers, including invalid
    /// dates, DST gaps and folds, and a change of zone between calls.
    #[test]
    fn fast_path_matches_chrono() {
        let slow = |s: &str, tz: Tz| -> Option<i64> {
            let t = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok()?;
            tz.from_local_datetime(&t).earliest().map(|t| t.timestamp_millis())
        };
        let fmt = vec!["%Y-%m-%d %H:%M:%S".to_string()];
        let ny: Tz = "America/New_York".parse().expect("a timestamp the test expects to parse");
        let sh: Tz = "Asia/Shanghai".parse().expect("a timestamp the test expects to parse");
        let cases = [
            "2026-10-01 08:00:00",
            "2026-10-01 08:59:59",
            "2024-02-29 12:00:00",
            "2023-02-29 12:00:00",
            "2026-13-01 00:00:00",
            "2026-10-01 24:00:00",
            "2026-10-01 8:00:00",
            "2026-10-01T08:00:00",
            "２026-10-01 08:00:00",
            "2026-03-08 02:30:00", // New York: in the spring-forward gap
            "2026-11-01 01:30:00", // New York: in the fall-back fold
            "2026-11-01 00:59:59",
            "2026-11-01 02:00:00",
        ];
        for _ in 0..2 {
            for tz in [ny, sh] {
                for c in cases {
                    assert_eq!(parse_timestamp(c, &fmt, tz), slow(c, tz), "{c} in {tz}");
                }
            }
        }
    }
}
