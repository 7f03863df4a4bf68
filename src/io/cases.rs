//! Reads one case source batch by batch: applies the column mapping, checks every field of
//! every row, converts points to WGS84, resolves code-only locations through the hierarchy,
//! and keeps each case id once.
//!
//! A row that fails a check goes to the quarantine with its reason; the others are handed on
//! batch by batch ([`SourceBatch`]) to be located and counted, then dropped.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use geo::Rect;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::config::CaseSource;
use crate::error::{Error, ReadError};
use crate::hierarchy::{Hierarchy, Level};
use crate::io::ids::{IdKey, ShardedIdSet};
use crate::io::records::{self, Batch, Mapping, RecordFile, RowRef, Value};
use crate::quarantine::{Quarantine, Reject};

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
    /// Assigned by a grid, community or street code: the unit of that level it names.
    ByCode(Level, u32),
}

/// A row that passed every read check. Times are UTC milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct CaseRow {
    pub received: i64,
    pub closed: Option<i64>,
    /// Due time: the file's, or received + the default time limit.
    pub due: i64,
    pub cancelled: bool,
    pub followup: Followup,
    pub location: Location,
    /// Interned category, department and channel (`tally::NO_VALUE` when empty).
    pub dims: [u32; 3],
}

/// Distinct category, department and channel texts of all sources, in order of first appearance.
#[derive(Debug, Default)]
pub struct Dictionaries {
    pub category: Interner,
    pub department: Interner,
    pub channel: Interner,
}

impl Dictionaries {
    fn get_mut(&mut self, d: usize) -> &mut Interner {
        match d {
            0 => &mut self.category,
            1 => &mut self.department,
            _ => &mut self.channel,
        }
    }

    fn get(&self, d: usize) -> &Interner {
        match d {
            0 => &self.category,
            1 => &self.department,
            _ => &self.channel,
        }
    }
}

#[derive(Debug, Default)]
pub struct Interner {
    ids: HashMap<String, u32>,
    pub values: Vec<String>,
}

impl Interner {
    pub fn intern(&mut self, s: Option<&str>) -> u32 {
        let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else { return NO_VALUE };
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.values.len() as u32;
        self.ids.insert(s.to_string(), i);
        self.values.push(s.to_string());
        i
    }

    /// The id of a value already interned.
    fn find(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }
}

use crate::indicators::tally::NO_VALUE;
/// A dimension value not in the dictionary yet: interned after the parallel checks.
const TO_INTERN: u32 = NO_VALUE - 1;

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

/// Seconds spent in the streamed stage, for the manifest's timings.
#[derive(Debug, Default)]
pub struct StageClock {
    /// Reading, splitting and checking rows (CRS conversion included).
    pub read_check: f64,
    /// Converting points to WGS84 (a share of `read_check`; 0 for WGS84 sources).
    pub crs: f64,
    crs_nanos: std::sync::atomic::AtomicU64,
}

/// The slots of the fields the checks read (`None`: not mapped).
struct Slots {
    case_id: Option<usize>,
    received_at: Option<usize>,
    closed_at: Option<usize>,
    due_at: Option<usize>,
    status: Option<usize>,
    lon: Option<usize>,
    lat: Option<usize>,
    grid_code: Option<usize>,
    community_code: Option<usize>,
    street_code: Option<usize>,
    followup_valid: Option<usize>,
    contacted: Option<usize>,
    resolved: Option<usize>,
    satisfaction: Option<usize>,
    dims: [Option<usize>; 3],
}

impl Slots {
    fn of(m: &Mapping) -> Slots {
        Slots {
            case_id: m.slot("case_id"),
            received_at: m.slot("received_at"),
            closed_at: m.slot("closed_at"),
            due_at: m.slot("due_at"),
            status: m.slot("status"),
            lon: m.slot("lon"),
            lat: m.slot("lat"),
            grid_code: m.slot("grid_code"),
            community_code: m.slot("community_code"),
            street_code: m.slot("street_code"),
            followup_valid: m.slot("followup_valid"),
            contacted: m.slot("contacted"),
            resolved: m.slot("resolved"),
            satisfaction: m.slot("satisfaction"),
            dims: [m.slot("category"), m.slot("department"), m.slot("channel")],
        }
    }
}

/// One batch of a source after the read checks: the rows that passed, for the join.
pub struct SourceBatch<'b, 'a> {
    /// The source's name and the file's index among its files and path.
    pub source: &'b str,
    pub file: u32,
    pub path: &'b Path,
    pub batch: &'b Batch<'a>,
    pub mapping: &'b Mapping,
    /// Every row of the batch: the ones that passed every read check, and the rejected ones
    /// (already in the quarantine).
    pub rows: &'b [Checked],
}

/// A row after the read checks: its row and id key, or its quarantine row (taken by the
/// quarantine once the batch is through).
pub enum Checked {
    Ok(CaseRow, IdKey),
    Rejected(Option<Box<Reject>>),
}

impl SourceBatch<'_, '_> {
    /// A quarantine row for row `i` of the batch.
    pub fn reject(&self, i: usize, reason: &'static str, detail: String) -> Reject {
        reject_of(self.source, self.path, self.batch, self.mapping, i, reason, detail)
    }

    /// The trimmed case id of row `i`.
    pub fn case_id(&self, i: usize) -> String {
        let slot = self.mapping.slot("case_id");
        self.batch.with_row(i, |r| slot.and_then(|s| r.get(s).text().map(|t| t.into_owned())).unwrap_or_default())
    }
}

fn reject_of(source: &str, path: &Path, batch: &Batch<'_>, mapping: &Mapping, i: usize, reason: &'static str, detail: String) -> Reject {
    batch.with_row(i, |r| reject_row(source, path, batch, mapping, r, reason, detail))
}

/// The quarantine row of a row already at hand (`r` is row `r.index()` of `batch`).
fn reject_row(
    source: &str,
    path: &Path,
    batch: &Batch<'_>,
    mapping: &Mapping,
    r: &RowRef<'_, '_>,
    reason: &'static str,
    detail: String,
) -> Reject {
    let i = r.index();
    Reject {
        source: source.to_string(),
        file: path.display().to_string(),
        row: batch.first_row + i as u64,
        line: batch.line(i),
        key: mapping.slot("case_id").and_then(|s| r.get(s).text().map(|t| t.into_owned())).unwrap_or_default(),
        reason,
        detail,
        raw: mapping.raw_json(r),
    }
}

/// Rows read from a source, in all and per file, and the bytes its id set held.
#[derive(Debug, Clone, Default)]
pub struct SourceRead {
    pub rows_read: u64,
    pub rows_per_file: Vec<u64>,
    pub id_set_bytes: usize,
}

/// Reads and checks one case source made of `files` (see `io::files::expand`), batch by
/// batch. Rejected rows go to the quarantine; each batch's accepted rows go to `on_batch`,
/// which may quarantine more of them; the batch's rejects are then written out in row order.
/// A case id may appear once in the whole source (the first row wins).
pub fn read_cases(
    src: &CaseSource,
    files: &[PathBuf],
    ctx: &ReadContext<'_>,
    dicts: &mut Dictionaries,
    quarantine: &mut Quarantine,
    clock: &mut StageClock,
    on_batch: &mut dyn FnMut(&SourceBatch<'_, '_>, &mut Quarantine),
) -> Result<SourceRead, Error> {
    let started = std::time::Instant::now();
    let mut in_batches = 0.0;
    let mapping = Mapping::new(&src.columns);
    let opened: Vec<RecordFile> = open_all(files, |f| records::open(f, src.format, src.delimiter, src.encoding, &mapping))?;
    let slots = Slots::of(&mapping);
    // Sized for the rows the files hold (Parquet says; CSV is estimated from its first lines).
    let mut seen = ShardedIdSet::with_capacity(opened.iter().map(RecordFile::rows_hint).sum::<u64>() as usize);
    // Global row ordinals start at 0 for each file's first row: `starts[f]`.
    let mut starts: Vec<u64> = Vec::with_capacity(files.len());
    let mut read = SourceRead::default();
    for (fi, rf) in opened.iter().enumerate() {
        starts.push(read.rows_read);
        let base = read.rows_read;
        let first_row_of = |ord: u32| -> (usize, u64) {
            let f = starts.partition_point(|&s| s <= ord as u64).saturating_sub(1);
            (f, ord as u64 - starts[f] + 1)
        };
        let rows = rf.for_each_batch(|batch| {
            // 1. In parallel: every check, and the quarantine row of every row that fails one.
            let dict_view: &Dictionaries = dicts;
            let mut rows: Vec<Checked> = batch.map_rows(|r| {
                let reject = |reason: &'static str, detail: String| {
                    Checked::Rejected(Some(Box::new(reject_row(&src.name, &rf.path, batch, &mapping, r, reason, detail))))
                };
                let Some(id) = slots.case_id.and_then(|s| r.get(s).text()) else {
                    return reject("missing_case_id", "case_id is empty".into());
                };
                match check_row(src, ctx, &slots, dict_view, &clock.crs_nanos, r) {
                    Ok(row) => Checked::Ok(row, crate::io::ids::key(&id)),
                    Err((reason, detail)) => reject(reason, detail),
                }
            });
            // 2. Each id once in the source (the first row wins): the id set is sharded by key,
            //    and the shards take their rows in parallel, each in row order.
            let ord0 = base + batch.first_row - 1;
            let keys: Vec<(u32, IdKey)> = rows
                .par_iter()
                .enumerate()
                .filter_map(|(i, p)| match p {
                    Checked::Ok(_, k) => Some((i as u32, *k)),
                    Checked::Rejected(_) => None,
                })
                .collect();
            let dups = seen.insert_all(&keys, |i| (ord0 + i as u64).min(u32::MAX as u64) as u32);
            let mut dup = dups.into_iter().peekable();
            // 3. In row order: the quarantine, new dimension values.
            for (i, c) in rows.iter_mut().enumerate() {
                match c {
                    Checked::Rejected(r) => {
                        if let Some(r) = r.take() {
                            quarantine.push(*r);
                        }
                    }
                    Checked::Ok(row, _) => {
                        if let Some(&(_, first)) = dup.peek().filter(|d| d.0 as usize == i) {
                            dup.next();
                            let (ff, fr) = first_row_of(first);
                            let where_ = if ff == fi { format!("row {fr}") } else { format!("row {fr} of {}", files[ff].display()) };
                            let detail = format!("case_id already used by {where_}; the first row is kept");
                            quarantine.push(reject_of(&src.name, &rf.path, batch, &mapping, i, "duplicate_case_id", detail));
                            *c = Checked::Rejected(None);
                            continue;
                        }
                        for (d, slot) in slots.dims.iter().enumerate() {
                            if row.dims[d] == TO_INTERN {
                                let text = batch.with_row(i, |r| slot.and_then(|s| r.get(s).text().map(|t| t.into_owned())));
                                row.dims[d] = dicts.get_mut(d).intern(text.as_deref());
                            }
                        }
                    }
                }
            }
            let sb = SourceBatch { source: &src.name, file: fi as u32, path: &rf.path, batch, mapping: &mapping, rows: &rows };
            let t = std::time::Instant::now();
            on_batch(&sb, quarantine);
            in_batches += t.elapsed().as_secs_f64();
            quarantine.flush()?;
            crate::interrupt::check()?;
            Ok::<(), Error>(())
        })?;
        read.rows_read += rows;
        read.rows_per_file.push(rows);
    }
    read.id_set_bytes = seen.bytes();
    clock.read_check += started.elapsed().as_secs_f64() - in_batches;
    clock.crs = clock.crs_nanos.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1e9;
    Ok(read)
}

/// About how many rows the files of a source hold (exact for Parquet, estimated for CSV);
/// 0 for files that cannot be opened (reading them will say why).
pub fn rows_hint(src: &CaseSource, files: &[PathBuf]) -> u64 {
    let mapping = Mapping::new(&src.columns);
    files.iter().filter_map(|f| records::open(f, src.format, src.delimiter, src.encoding, &mapping).ok()).map(|r| r.rows_hint()).sum()
}

/// Opens every file of a source; every file that cannot be opened is reported at once.
pub fn open_all(files: &[PathBuf], open: impl Fn(&Path) -> Result<RecordFile, ReadError>) -> Result<Vec<RecordFile>, ReadError> {
    let mut opened = Vec::new();
    let mut errors = Vec::new();
    for f in files {
        match open(f) {
            Ok(r) => opened.push(r),
            Err(e) => errors.push(e),
        }
    }
    match errors.len() {
        0 => Ok(opened),
        1 => Err(errors.remove(0)),
        _ => Err(ReadError::Several { errors: errors.iter().map(|e| e.to_string()).collect() }),
    }
}

/// Checks one row: timestamps, states, follow-up answers, location. Dimension values are
/// looked up in the dictionaries as they stand (`TO_INTERN` when new).
fn check_row(
    src: &CaseSource,
    ctx: &ReadContext<'_>,
    s: &Slots,
    dicts: &Dictionaries,
    crs_nanos: &std::sync::atomic::AtomicU64,
    r: &RowRef<'_, '_>,
) -> Result<CaseRow, (&'static str, String)> {
    let get = |slot: Option<usize>| slot.map_or(Value::Null, |k| r.get(k));
    let text = |slot: Option<usize>| slot.and_then(|k| r.get(k).text());
    let extra = r.extra_fields();
    if extra > 0 {
        return Err(("bad_row", format!("the row has {extra} non-empty field(s) more than the header: its columns are shifted")));
    }
    let time = |field: &str, slot: Option<usize>| -> Result<Option<i64>, (&'static str, String)> {
        let v = get(slot);
        let t = match v {
            Value::Null => return Ok(None),
            Value::Timestamp { ms, zoned: true } => Some(ms),
            Value::Timestamp { ms, zoned: false } => local_to_utc_ms(ms, src.time_zone),
            Value::Date(d) => NaiveDate::from_num_days_from_ce_opt(d + 719_163)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .and_then(|t| local_ms(t, src.time_zone)),
            other => match other.text() {
                None => return Ok(None),
                Some(t) => parse_timestamp(&t, &src.timestamp_formats, src.time_zone),
            },
        };
        match t {
            Some(t) => Ok(Some(t)),
            None => {
                Err((reason_for_time(field), format!("{field} {:?} matches none of the timestamp formats", v.raw().unwrap_or_default())))
            }
        }
    };
    let received = match time("received_at", s.received_at)? {
        Some(t) => t,
        None => return Err(("bad_received_at", "received_at is empty".into())),
    };
    let closed = time("closed_at", s.closed_at)?;
    let due = time("due_at", s.due_at)?;
    for (field, t) in [("received_at", Some(received)), ("closed_at", closed)] {
        if let Some(t) = t.filter(|&t| t >= ctx.as_of_ms) {
            return Err(("timestamp_in_future", format!("{field} is {} h after the end of the as-of day", fmt_hours(t - ctx.as_of_ms))));
        }
    }
    if let Some(c) = closed {
        if c < received {
            return Err(("closed_before_received", format!("closed {} h before it was received", fmt_hours(received - c))));
        }
    }
    let cancelled = text(s.status).is_some_and(|st| src.values.cancelled_status.iter().any(|c| *c == *st));
    let followup = parse_followup(
        &src.values,
        text(s.followup_valid).as_deref(),
        text(s.contacted).as_deref(),
        text(s.resolved).as_deref(),
        text(s.satisfaction).as_deref(),
        s.followup_valid.is_some(),
    )?;
    let location = locate_row(
        src,
        ctx,
        crs_nanos,
        get(s.lon),
        get(s.lat),
        text(s.grid_code).as_deref(),
        text(s.community_code).as_deref(),
        text(s.street_code).as_deref(),
    )?;
    let mut dims = [NO_VALUE; 3];
    for (d, slot) in s.dims.iter().enumerate() {
        if let Some(t) = text(*slot) {
            dims[d] = dicts.get(d).find(&t).unwrap_or(TO_INTERN);
        }
    }
    Ok(CaseRow { received, closed, due: due.unwrap_or(received + ctx.default_time_limit_ms), cancelled, followup, location, dims })
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

/// Parses a timestamp with the first matching format; returns UTC milliseconds. Naive times are
/// local times in `tz`; formats with `%z` carry their own offset.
pub fn parse_timestamp(s: &str, formats: &[String], tz: Tz) -> Option<i64> {
    for f in formats {
        // The common export formats are parsed by hand: chrono's general parser took most of
        // the read stage on large files. The result is the same (checked by a test).
        // Anything the fast path does not take (say an unpadded hour) goes to chrono.
        if let Some(t) = fixed_format(f).and_then(|sep| parse_fixed(s.as_bytes(), sep)) {
            return local_to_utc_ms(t * 1000, tz);
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
/// for four-digit years) with calendar and clock ranges checked: seconds since the epoch of
/// that wall-clock time.
fn parse_fixed(b: &[u8], sep: u8) -> Option<i64> {
    if b.len() != 19 || b[4] != sep || b[7] != sep || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        b[r].iter().try_fold(0i64, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + (c - b'0') as i64))
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&m) || d < 1 || d > month_days[m as usize - 1] || hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn local_ms(t: NaiveDateTime, tz: Tz) -> Option<i64> {
    local_to_utc_ms(t.and_utc().timestamp_millis(), tz)
}

/// A wall-clock time in `tz` (milliseconds of that time read as UTC) as a UTC instant.
fn local_to_utc_ms(local: i64, tz: Tz) -> Option<i64> {
    use chrono::Offset;
    // The offset of a local hour is looked up once per thread and hour, in a small
    // direct-mapped cache: time-zone lookups were the other large cost of reading timestamps.
    // Hours that contain an offset change are not cached and take the general path.
    const SLOTS: usize = 4096;
    thread_local! {
        static CACHE: std::cell::RefCell<Vec<Option<(Tz, i64, i64)>>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let key = local.div_euclid(3_600_000);
    let slot = key.rem_euclid(SLOTS as i64) as usize;
    let hit = CACHE.with(|c| c.borrow().get(slot).copied().flatten()).filter(|&(ctz, k, _)| ctz == tz && k == key);
    if let Some((_, _, off)) = hit {
        return Some(local - off * 1000);
    }
    let t = DateTime::from_timestamp_millis(local)?.naive_utc();
    let hour = DateTime::from_timestamp(key * 3600, 0)?.naive_utc();
    let single = |n: NaiveDateTime| match tz.from_local_datetime(&n) {
        chrono::LocalResult::Single(x) => Some(x.offset().fix().local_minus_utc() as i64),
        _ => None,
    };
    if let (Some(a), Some(b)) = (single(hour), single(hour + chrono::Duration::seconds(3599))) {
        if a == b {
            CACHE.with(|c| {
                let mut c = c.borrow_mut();
                if c.is_empty() {
                    c.resize(SLOTS, None);
                }
                c[slot] = Some((tz, key, a));
            });
            return Some(local - a * 1000);
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

/// A coordinate field: `None` when empty, `Err` when it is not a number.
fn coordinate(v: Value<'_>) -> Option<Result<f64, ()>> {
    match v {
        Value::Null => None,
        Value::Float(x) => Some(Ok(x)),
        Value::Int(x) => Some(Ok(x as f64)),
        Value::Text(s) => {
            let t = s.trim();
            (!t.is_empty()).then(|| t.parse::<f64>().map_err(|_| ()))
        }
        _ => Some(Err(())),
    }
}

/// Checks the coordinates (or the codes, when there are none) of one row.
fn locate_row(
    src: &CaseSource,
    ctx: &ReadContext<'_>,
    crs_nanos: &std::sync::atomic::AtomicU64,
    lon: Value<'_>,
    lat: Value<'_>,
    grid: Option<&str>,
    community: Option<&str>,
    street: Option<&str>,
) -> Result<Location, (&'static str, String)> {
    match (coordinate(lon), coordinate(lat)) {
        (None, None) => {}
        (Some(x), Some(y)) => return check_point(src, ctx, crs_nanos, x, y, lon, lat),
        (Some(_), None) | (None, Some(_)) => {
            return Err(("bad_coordinate", format!("only one of lon/lat is given (lon {:?}, lat {:?})", lon.raw(), lat.raw())));
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
            Some(i) => Ok(Location::ByCode(level, i)),
            None => Err((reason, format!("no coordinates, and {} code {code:?} is not in the grid layer", level.as_str()))),
        };
    }
    Err(("no_location", "no coordinates and no grid, community or street code".into()))
}

fn check_point(
    src: &CaseSource,
    ctx: &ReadContext<'_>,
    crs_nanos: &std::sync::atomic::AtomicU64,
    x: Result<f64, ()>,
    y: Result<f64, ()>,
    xv: Value<'_>,
    yv: Value<'_>,
) -> Result<Location, (&'static str, String)> {
    let shown = |v: Value<'_>| v.raw().unwrap_or_default();
    let (Ok(x), Ok(y)) = (x, y) else {
        return Err(("bad_coordinate", format!("lon {:?} / lat {:?} is not a pair of numbers", shown(xv), shown(yv))));
    };
    if !(x.is_finite() && y.is_finite()) {
        return Err(("bad_coordinate", format!("lon {:?} / lat {:?} is not finite", shown(xv), shown(yv))));
    }
    let in_range = |x: f64, y: f64| x.abs() <= 180.0 && y.abs() <= 90.0;
    let near_extent = |x: f64, y: f64| {
        ctx.extent.is_some_and(|r| {
            // A margin of 0.1° tolerates points just outside the layer (they will be
            // `outside_all_grids`) while still telling a swapped pair.
            x >= r.min().x - 0.1 && x <= r.max().x + 0.1 && y >= r.min().y - 0.1 && y <= r.max().y + 0.1
        })
    };
    // Texts for the messages only: the usual row needs none.
    let texts = || (shown(xv).trim().to_string(), shown(yv).trim().to_string());
    if !in_range(x, y) {
        let (xs, ys) = texts();
        if in_range(y, x) {
            return Err(("swapped_coordinates", format!("lon {xs} / lat {ys}: latitude out of range, swapped lon/lat would be valid")));
        }
        return Err(("coordinate_out_of_range", format!("lon {xs} / lat {ys} is outside -180..180 / -90..90")));
    }
    if ctx.extent.is_some() && !near_extent(x, y) && near_extent(y, x) {
        let (xs, ys) = texts();
        return Err(("swapped_coordinates", format!("lon {xs} / lat {ys} lies in the grid layer's extent only when swapped")));
    }
    let (lon, lat) = if src.crs.needs_transform() {
        let t = std::time::Instant::now();
        let converted = src.crs.to_wgs84(x, y);
        crs_nanos.fetch_add(t.elapsed().as_nanos() as u64, std::sync::atomic::Ordering::Relaxed);
        converted
    } else {
        (x, y)
    };
    for p in ctx.suspect_points {
        let dy = (lat - p[1]) * 111_320.0;
        let dx = (lon - p[0]) * 111_320.0 * lat.to_radians().cos();
        if (dx * dx + dy * dy).sqrt() <= ctx.suspect_radius_m {
            let (xs, ys) = texts();
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
            "2000-02-29 12:00:00",
            "2100-02-29 12:00:00",
            "1900-02-29 00:00:00",
            "1969-12-31 23:59:59",
            "0001-01-01 00:00:00",
            "2026-10-01 23:60:00",
            "2026-10-01 12:00:60",
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
