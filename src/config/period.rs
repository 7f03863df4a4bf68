//! The reporting period, the trend window and the as-of moment.

use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;
use serde::Serialize;

use super::file::PeriodFile;
use crate::vocab::time::{LocalRules, Month, local_midnight_ms};

/// Months counted before the trend window, so that every month of it has its 同比 (the same
/// month a year earlier).
pub const HISTORY_MONTHS: usize = 12;

/// How far back a monthly table compares a month: the month before (环比) and the same month a
/// year earlier (同比).
pub const MOM_BACK: usize = 1;
pub const YOY_BACK: usize = HISTORY_MONTHS;

/// The longest trend window: nine years. A kept duration tags its month slot in 7 bits
/// (`quantiles::NO_MONTH` is 127), so trend and history months together stay below 127.
pub const MAX_TREND_MONTHS: u32 = 108;

/// Reporting period, trend window and as-of moment. Instants are UTC milliseconds; the
/// calendar is the city's time zone.
#[derive(Debug, Clone, Serialize)]
pub struct Period {
    /// First day, inclusive.
    pub start: NaiveDate,
    /// Last day, inclusive.
    pub end: NaiveDate,
    pub as_of: NaiveDate,
    #[serde(serialize_with = "ser_tz")]
    pub time_zone: Tz,
    /// The zone with its rules for the DST fold and gap.
    pub rules: LocalRules,
    /// Months of the trend tables, oldest first, the last one containing `end`.
    pub months: Vec<Month>,
    /// The `HISTORY_MONTHS` months before `months`, counted for 同比 but not shown.
    pub history: Vec<Month>,
}

pub(super) fn ser_tz<S: serde::Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
}

impl Period {
    /// UTC milliseconds of local midnight at the start of `day`.
    pub fn local_midnight_ms(&self, day: NaiveDate) -> i64 {
        local_midnight_ms(self.time_zone, day)
    }
    /// Start of the reporting period (inclusive), UTC ms.
    pub fn start_ms(&self) -> i64 {
        self.local_midnight_ms(self.start)
    }
    /// End of the reporting period (exclusive: midnight after `end`), UTC ms.
    pub fn end_ms(&self) -> i64 {
        self.local_midnight_ms(self.end.succ_opt().unwrap_or(self.end))
    }
    /// The as-of moment: midnight at the end of the as-of day, UTC ms.
    pub fn as_of_ms(&self) -> i64 {
        self.local_midnight_ms(self.as_of.succ_opt().unwrap_or(self.as_of))
    }
    /// The months counted by month: the history, then the trend window.
    pub fn counted_months(&self) -> Vec<Month> {
        self.history.iter().chain(&self.months).copied().collect()
    }
    /// Boundaries of the counted months as UTC ms: one more than `counted_months`.
    pub fn month_bounds_ms(&self) -> Vec<i64> {
        let months = self.counted_months();
        let mut v: Vec<i64> = months.iter().map(|m| self.local_midnight_ms(m.first_day())).collect();
        if let Some(last) = months.last() {
            v.push(self.local_midnight_ms(last.next().first_day()));
        }
        v
    }
    /// The counted months a monthly table shows or compares with, as indices into
    /// `counted_months`, ascending: the trend window, the month before it (环比 of its first
    /// month) and the month a year before each of its months (同比). The other history months
    /// are in no table, so records in them are placed and accounted for but not counted: with a
    /// one-month trend window that is 3 months counted of 13.
    pub fn compared_months(&self) -> Vec<usize> {
        let (h, nm) = (self.history.len(), self.history.len() + self.months.len());
        (0..nm).filter(|&m| m >= h || [MOM_BACK, YOY_BACK].iter().any(|b| (h..nm).contains(&(m + b)))).collect()
    }
    /// Index among the counted months of the month the period is exactly equal to, if it is one.
    pub fn month_index(&self) -> Option<usize> {
        self.counted_months().iter().position(|m| m.first_day() == self.start && m.next().first_day().pred_opt() == Some(self.end))
    }

    /// `YYYY-MM` if the period is exactly one calendar month, else `start..end`.
    pub fn label(&self) -> String {
        let m = Month::of(self.start);
        if self.start.day() == 1 && self.end.succ_opt().map(Month::of) == Some(m.next()) && Month::of(self.end) == m {
            m.label()
        } else {
            format!("{}..{}", self.start, self.end)
        }
    }

    /// The trend months as `YYYY-MM` labels.
    pub fn month_labels(&self) -> Vec<String> {
        self.months.iter().map(|m| m.label()).collect()
    }
}

/// Resolves `[period]`; `as_of` from the command line replaces the file's, and without either
/// it is the day before `today` (in the city's zone). Problems are added to `problems`; the
/// period is `None` when it cannot be built. The zone comes back apart: sources default to it
/// even when the period has a problem.
pub(super) fn resolve(f: &PeriodFile, as_of_flag: Option<NaiveDate>, problems: &mut Vec<String>) -> (Option<Period>, Tz) {
    let tz: Tz = match f.time_zone.parse() {
        Ok(tz) => tz,
        Err(_) => {
            problems.push(format!("period.time_zone: {:?} is not an IANA time zone (e.g. \"Asia/Shanghai\")", f.time_zone));
            Tz::UTC
        }
    };
    let date = |key: &str, v: &str, problems: &mut Vec<String>| -> Option<NaiveDate> {
        match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                problems.push(format!("{key}: {v:?} is not a date YYYY-MM-DD"));
                None
            }
        }
    };
    let as_of = match (as_of_flag, &f.as_of) {
        (Some(d), _) => Some(d),
        (None, Some(s)) => date("period.as_of", s, problems),
        // Yesterday where the city is: what a nightly run at 02:30 means.
        (None, None) => chrono::Utc::now().with_timezone(&tz).date_naive().pred_opt(),
    };
    let month_of = |m: Month| (Some(m.first_day()), m.next().first_day().pred_opt());
    let (start, end) = match (&f.month, &f.start, &f.end) {
        (Some(m), None, None) if m == "previous" => match as_of {
            Some(a) => month_of(Month::of(a).prev()),
            None => (None, None),
        },
        (Some(m), None, None) if m == "current" => match as_of {
            // Month to date: the as-of day's month up to the as-of day.
            Some(a) => (Some(Month::of(a).first_day()), Some(a)),
            None => (None, None),
        },
        (Some(m), None, None) => match NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d") {
            Ok(s) => month_of(Month::of(s)),
            Err(_) => {
                problems.push(format!("period.month: {m:?} is not a month YYYY-MM, `previous` or `current`"));
                (None, None)
            }
        },
        (None, Some(s), Some(e)) => (date("period.start", s, problems), date("period.end", e, problems)),
        _ => {
            problems.push("period: give either `month` or both `start` and `end`".into());
            (None, None)
        }
    };
    if let (Some(s), Some(e)) = (start, end) {
        if e < s {
            problems.push(format!("period: end {e} is before start {s}"));
        }
        match (as_of, as_of_flag) {
            (Some(a), Some(_)) if a < e => problems.push(format!("--as-of {a} is before the period's end {e}")),
            (Some(a), None) if a < e => problems
                .push(format!("period.as_of: {a} is before the period's end {e}; states would be evaluated before the period closed")),
            _ => {}
        }
    }
    if f.trend_months == 0 || f.trend_months > MAX_TREND_MONTHS {
        problems.push(format!("period.trend_months: {} must be between 1 and {MAX_TREND_MONTHS}", f.trend_months));
    }
    let mut months = Vec::new();
    if let Some(e) = end {
        let mut m = Month::of(e);
        for _ in 0..f.trend_months.clamp(1, MAX_TREND_MONTHS) as usize + HISTORY_MONTHS {
            months.push(m);
            m = m.prev();
        }
        months.reverse();
    }
    let history: Vec<Month> = months.drain(..HISTORY_MONTHS.min(months.len())).collect();
    let rules = LocalRules { tz, fold: f.dst_fold, gap: f.dst_gap };
    let period = match (start, end, as_of) {
        (Some(start), Some(end), Some(as_of)) => Some(Period { start, end, as_of, time_zone: tz, rules, months, history }),
        _ => None,
    };
    (period, tz)
}
