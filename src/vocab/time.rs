//! Time as records carry it: timestamps parsed from text (naive local times or with an
//! offset) into UTC milliseconds, local midnights of a time zone, calendar months.
//!
//! Instants are UTC milliseconds since the epoch throughout gridgov; calendars (days, months,
//! the as-of day) are the city's time zone.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }
    pub fn next(self) -> Month {
        if self.month == 12 { Month { year: self.year + 1, month: 1 } } else { Month { year: self.year, month: self.month + 1 } }
    }
    pub fn prev(self) -> Month {
        if self.month == 1 { Month { year: self.year - 1, month: 12 } } else { Month { year: self.year, month: self.month - 1 } }
    }
    pub fn of(d: NaiveDate) -> Month {
        Month { year: d.year(), month: d.month() }
    }
    /// `YYYY-MM`.
    pub fn label(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

/// UTC ms of local midnight; on a DST gap the earliest valid local time is used.
pub fn local_midnight_ms(tz: Tz, day: NaiveDate) -> i64 {
    let naive = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => t.timestamp_millis(),
        chrono::LocalResult::Ambiguous(a, _) => a.timestamp_millis(),
        chrono::LocalResult::None => {
            // Midnight skipped by a DST change: take 01:00 local.
            let later = naive + chrono::Duration::hours(1);
            tz.from_local_datetime(&later).earliest().map(|t| t.timestamp_millis()).unwrap_or_else(|| naive.and_utc().timestamp_millis())
        }
    }
}

/// Default timestamp formats tried when a source lists none.
pub const DEFAULT_TIMESTAMP_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%:z",
    "%Y-%m-%dT%H:%M:%S%.f%:z",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
];

/// Whether a chrono format string parses as one.
pub fn valid_format(fmt: &str) -> bool {
    !chrono::format::StrftimeItems::new(fmt).any(|it| matches!(it, chrono::format::Item::Error))
}

/// How a local time that a daylight-saving change repeats (the autumn fold) is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DstFold {
    /// The first of the two instants (the offset before the change).
    #[default]
    Earlier,
    /// The second (the offset after the change).
    Later,
}

/// How a local time that a daylight-saving change skips (the spring gap) is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DstGap {
    /// With the offset before the change, as clocks that were not yet moved show it: 02:30 in
    /// a gap from 02:00 to 03:00 is 03:30 of the new offset.
    #[default]
    ShiftForward,
    /// Not a time: the value is unreadable.
    Reject,
}

/// A city's time zone and its rules for the daylight-saving hours.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LocalRules {
    #[serde(serialize_with = "ser_tz")]
    pub tz: Tz,
    pub fold: DstFold,
    pub gap: DstGap,
}

fn ser_tz<S: serde::Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
}

impl LocalRules {
    /// The zone with the default rules (earlier instant in a fold, shifted forward in a gap).
    pub fn new(tz: Tz) -> LocalRules {
        LocalRules { tz, fold: DstFold::default(), gap: DstGap::default() }
    }
}

/// A timestamp read from a record: its instant (UTC ms) by the zone's rules, the other instant
/// when a fold made the local time ambiguous, and whether the value was a date alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    pub ms: i64,
    /// In a DST fold: the instant the other reading gives.
    pub other: Option<i64>,
    /// The value had no time of day (a date column, or a format without one).
    pub date_only: bool,
}

impl Stamp {
    pub fn at(ms: i64) -> Stamp {
        Stamp { ms, other: None, date_only: false }
    }
}

/// Parses a timestamp with the first matching format. Naive times are local times by `rules`;
/// formats with `%z` carry their own offset.
pub fn parse_timestamp(s: &str, formats: &[String], rules: LocalRules) -> Option<Stamp> {
    for f in formats {
        // The common export formats are parsed by hand: chrono's general parser took most of
        // the read stage on large files. The result is the same (checked by a test).
        // Anything the fast path does not take (say an unpadded hour) goes to chrono.
        if let Some(t) = fixed_format(f).and_then(|sep| parse_fixed(s.as_bytes(), sep)) {
            return local_stamp(t * 1000, rules);
        }
        if f.contains("%z") || f.contains("%:z") || f.contains("%#z") {
            if let Ok(t) = DateTime::parse_from_str(s, f) {
                return Some(Stamp::at(t.timestamp_millis()));
            }
        } else if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return local_stamp(t.and_utc().timestamp_millis(), rules);
        } else if let Ok(d) = NaiveDate::parse_from_str(s, f) {
            let t = d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis();
            return local_stamp(t, rules).map(|s| Stamp { date_only: true, ..s });
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

/// The local date of the instant `ms` in `tz`.
pub fn local_date(ms: i64, tz: Tz) -> Option<NaiveDate> {
    DateTime::from_timestamp_millis(ms).map(|u| u.with_timezone(&tz).date_naive())
}

/// The last millisecond of the local day of `ms`: a due date without a time means the end of
/// that day.
pub fn end_of_local_day(ms: i64, tz: Tz) -> i64 {
    let day = local_date(ms, tz).unwrap_or(NaiveDate::MIN);
    local_midnight_ms(tz, day.succ_opt().unwrap_or(day)) - 1
}

/// The local midnight starting a date column's day (days since 1970-01-01).
pub fn date_stamp(days: i32, rules: LocalRules) -> Option<Stamp> {
    local_stamp(days as i64 * 86_400_000, rules).map(|s| Stamp { date_only: true, ..s })
}

/// A wall-clock time (milliseconds of that time read as UTC) as an instant by `rules`.
pub fn local_stamp(local: i64, rules: LocalRules) -> Option<Stamp> {
    use chrono::Offset;
    let tz = rules.tz;
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
        return Some(Stamp::at(local - off * 1000));
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
            return Some(Stamp::at(local - a * 1000));
        }
    }
    match tz.from_local_datetime(&t) {
        chrono::LocalResult::Single(x) => Some(Stamp::at(x.timestamp_millis())),
        chrono::LocalResult::Ambiguous(a, b) => {
            let (a, b) = (a.timestamp_millis(), b.timestamp_millis());
            Some(match rules.fold {
                DstFold::Earlier => Stamp { ms: a, other: Some(b), date_only: false },
                DstFold::Later => Stamp { ms: b, other: Some(a), date_only: false },
            })
        }
        chrono::LocalResult::None => match rules.gap {
            DstGap::Reject => None,
            DstGap::ShiftForward => {
                // The offset in force before the gap (three hours earlier is before any gap).
                let before = tz.from_local_datetime(&(t - chrono::Duration::hours(3))).earliest()?;
                Some(Stamp::at(local - before.offset().fix().local_minus_utc() as i64 * 1000))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tz(name: &str) -> Tz {
        name.parse().expect("a time zone")
    }

    fn ms(s: &str, formats: &[String], tz: Tz) -> Option<i64> {
        parse_timestamp(s, formats, LocalRules::new(tz)).map(|s| s.ms)
    }

    #[test]
    fn timestamps_naive_offset_and_date() {
        let sh = tz("Asia/Shanghai");
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let parse_timestamp = ms;
        let naive = parse_timestamp("2026-10-01 08:00:00", &f(&["%Y-%m-%d %H:%M:%S"]), sh).expect("a timestamp");
        let off = parse_timestamp("2026-10-01T08:00:00+08:00", &f(&["%Y-%m-%dT%H:%M:%S%:z"]), sh).expect("a timestamp");
        let utc = parse_timestamp("2026-10-01T00:00:00+00:00", &f(&["%Y-%m-%dT%H:%M:%S%:z"]), sh).expect("a timestamp");
        assert_eq!(naive, off);
        assert_eq!(naive, utc);
        let day = parse_timestamp("2026/10/01", &f(&["%Y-%m-%d %H:%M:%S", "%Y/%m/%d"]), sh).expect("a timestamp");
        assert_eq!(day, naive - 8 * 3_600_000);
        assert!(parse_timestamp("2026-13-45 25:00:00", &f(&["%Y-%m-%d %H:%M:%S"]), sh).is_none());
        // 12-hour clock with AM/PM, as in NYC 311 exports (UTC-4 in May).
        let ny = tz("America/New_York");
        let pm = parse_timestamp("05/01/2022 12:30:00 PM", &f(&["%m/%d/%Y %I:%M:%S %p"]), ny).expect("a timestamp");
        let iso = parse_timestamp("2022-05-01T16:30:00+00:00", &f(&["%Y-%m-%dT%H:%M:%S%:z"]), ny).expect("a timestamp");
        assert_eq!(pm, iso);
    }

    /// The hand-written parser and the offset cache give chrono's answers, including invalid
    /// dates, DST folds (the earlier instant), gaps (shifted forward) and a change of zone
    /// between calls.
    #[test]
    fn fast_path_matches_chrono() {
        let parse_timestamp = ms;
        let slow = |s: &str, tz: Tz| -> Option<i64> {
            let t = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").ok()?;
            match tz.from_local_datetime(&t) {
                // A gap: shifted forward by its length (New York: 02:30 is 03:30 EDT).
                chrono::LocalResult::None => {
                    tz.from_local_datetime(&(t + chrono::Duration::hours(1))).earliest().map(|t| t.timestamp_millis())
                }
                r => r.earliest().map(|t| t.timestamp_millis()),
            }
        };
        let fmt = vec!["%Y-%m-%d %H:%M:%S".to_string()];
        let (ny, sh) = (tz("America/New_York"), tz("Asia/Shanghai"));
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

    /// New York, 2026: clocks go forward at 02:00 on 8 March and back at 02:00 on 1 November.
    #[test]
    fn dst_folds_and_gaps_follow_the_rules() {
        let ny = tz("America/New_York");
        let f = vec!["%Y-%m-%d %H:%M:%S".to_string()];
        let at = |s: &str, fold, gap| parse_timestamp(s, &f, LocalRules { tz: ny, fold, gap });
        let utc = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").map(|t| t.and_utc().timestamp_millis()).ok();
        // 01:50 in the fold: 05:50Z (EDT) or 06:50Z (EST).
        let e = at("2026-11-01 01:50:00", DstFold::Earlier, DstGap::ShiftForward).expect("a time");
        assert_eq!((Some(e.ms), e.other), (utc("2026-11-01 05:50:00"), utc("2026-11-01 06:50:00")));
        let l = at("2026-11-01 01:50:00", DstFold::Later, DstGap::ShiftForward).expect("a time");
        assert_eq!((Some(l.ms), l.other), (utc("2026-11-01 06:50:00"), utc("2026-11-01 05:50:00")));
        // 02:30 in the gap: 07:30Z (read with EST, shown 03:30 EDT), or unreadable.
        let g = at("2026-03-08 02:30:00", DstFold::Earlier, DstGap::ShiftForward).expect("a time");
        assert_eq!((Some(g.ms), g.other), (utc("2026-03-08 07:30:00"), None));
        assert_eq!(at("2026-03-08 02:30:00", DstFold::Earlier, DstGap::Reject), None);
        // Dates alone are marked.
        let d = parse_timestamp("2026-10-01", &["%Y-%m-%d".to_string()], LocalRules::new(tz("Asia/Shanghai"))).expect("a date");
        assert!(d.date_only);
        assert!(!at("2026-10-01 00:00:00", DstFold::Earlier, DstGap::ShiftForward).expect("a time").date_only);
    }

    #[test]
    fn months_step_over_year_ends() {
        let m = Month { year: 2026, month: 12 };
        assert_eq!(m.next(), Month { year: 2027, month: 1 });
        assert_eq!(m.next().prev(), m);
        assert_eq!(m.label(), "2026-12");
    }
}
