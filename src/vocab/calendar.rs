//! Working time: which days are worked (weekends, public holidays, weekend days worked in
//! exchange, 调休), the working hours of a day, and time limits counted in natural hours,
//! working hours or working days.
//!
//! Working time is measured on a table of the working milliseconds before each day, so the
//! working time between two instants, and the instant a working-time limit ends, each cost a
//! lookup and a short walk through one day's working hours.

use chrono::{Datelike, NaiveDate, Offset, TimeZone};
use serde::Serialize;
use std::collections::BTreeSet;

use super::time::{LocalRules, local_stamp};

const DAY_MS: i64 = 86_400_000;

/// A time limit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "unit", content = "value", rename_all = "snake_case")]
pub enum Limit {
    /// Natural hours from receipt (`24h`).
    Hours(f64),
    /// Working hours from receipt (`16wh`).
    WorkingHours(f64),
    /// To the end of the working hours of the n-th working day after the day of receipt
    /// (`3wd`).
    WorkingDays(u32),
}

impl Limit {
    /// Reads `24h`, `16wh`, `3wd` (or a bare number of hours).
    pub fn parse(s: &str) -> Option<Limit> {
        let s = s.trim();
        let num = |t: &str| t.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0);
        if let Some(d) = s.strip_suffix("wd") {
            let v = num(d)?;
            return (v.fract() == 0.0 && v >= 1.0 && v <= 1000.0).then_some(Limit::WorkingDays(v as u32));
        }
        if let Some(h) = s.strip_suffix("wh") {
            return num(h).map(Limit::WorkingHours);
        }
        num(s.strip_suffix('h').unwrap_or(s)).map(Limit::Hours)
    }
}

/// A rule of the time-limit table: the limit of cases of a category, subcategory and urgency
/// (an absent key matches any value).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LimitRule {
    pub category: Option<String>,
    pub subcategory: Option<String>,
    pub urgency: Option<String>,
    pub limit: Limit,
}

/// The time-limit table: the most specific matching rule wins (the one matching the most
/// keys), the first in the file among equally specific ones.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TimeLimits {
    pub rules: Vec<LimitRule>,
}

impl TimeLimits {
    pub fn find(&self, category: Option<&str>, subcategory: Option<&str>, urgency: Option<&str>) -> Option<Limit> {
        let fits = |want: &Option<String>, have: Option<&str>| want.as_deref().is_none_or(|w| Some(w) == have);
        self.rules
            .iter()
            .enumerate()
            .filter(|(_, r)| fits(&r.category, category) && fits(&r.subcategory, subcategory) && fits(&r.urgency, urgency))
            .max_by_key(|(i, r)| {
                let keys = [&r.category, &r.subcategory, &r.urgency].iter().filter(|k| k.is_some()).count();
                (keys, std::cmp::Reverse(*i))
            })
            .map(|(_, r)| r.limit)
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// Which days are worked and when.
#[derive(Debug, Clone)]
pub struct Calendar {
    rules: LocalRules,
    /// Every moment counts (no calendar configured): working time is natural time.
    always: bool,
    /// Working intervals of a working day, seconds after local midnight, sorted.
    hours: Vec<(u32, u32)>,
    first: NaiveDate,
    /// Working milliseconds before each day from `first`, and one more entry for the end.
    cum: Vec<i64>,
}

/// What a calendar is made of.
#[derive(Debug, Clone, Default)]
pub struct CalendarSpec {
    /// Days off on days that would be worked (public holidays).
    pub holidays: BTreeSet<NaiveDate>,
    /// Days worked that would be off (weekend days worked in exchange).
    pub workdays: BTreeSet<NaiveDate>,
    /// Weekdays off, Monday = 0.
    pub weekend: [bool; 7],
    /// Working intervals of a day, seconds after local midnight.
    pub hours: Vec<(u32, u32)>,
}

impl Calendar {
    /// Every day worked around the clock: working time is natural time.
    pub fn always(rules: LocalRules) -> Calendar {
        Calendar { rules, always: true, hours: vec![(0, 86_400)], first: NaiveDate::MIN, cum: Vec::new() }
    }

    /// A calendar over the years 1990–2100 (and the spec's days, if outside them).
    pub fn new(spec: &CalendarSpec, rules: LocalRules) -> Calendar {
        let mut hours = spec.hours.clone();
        hours.sort();
        let per_day: i64 = hours.iter().map(|(a, b)| (b.saturating_sub(*a)) as i64 * 1000).sum();
        let lo = NaiveDate::from_ymd_opt(1990, 1, 1).unwrap_or(NaiveDate::MIN);
        let hi = NaiveDate::from_ymd_opt(2100, 12, 31).unwrap_or(NaiveDate::MAX);
        let first = spec.holidays.iter().chain(&spec.workdays).copied().min().map_or(lo, |d| d.min(lo));
        let last = spec.holidays.iter().chain(&spec.workdays).copied().max().map_or(hi, |d| d.max(hi));
        let mut cum = Vec::with_capacity((last - first).num_days() as usize + 2);
        let mut total = 0i64;
        for day in first.iter_days().take_while(|d| *d <= last) {
            cum.push(total);
            let worked = if spec.holidays.contains(&day) {
                false
            } else {
                spec.workdays.contains(&day) || !spec.weekend[day.weekday().num_days_from_monday() as usize]
            };
            if worked {
                total += per_day;
            }
        }
        cum.push(total);
        Calendar { rules, always: false, hours, first, cum }
    }

    /// Whether `day` is worked.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if self.always {
            return true;
        }
        let i = (day - self.first).num_days();
        i >= 0 && (i as usize) + 1 < self.cum.len() && self.cum[i as usize + 1] > self.cum[i as usize]
    }

    /// Working milliseconds between two instants (0 when `b` is before `a`).
    pub fn working_ms(&self, a: i64, b: i64) -> i64 {
        if self.always {
            return (b - a).max(0);
        }
        (self.position(b) - self.position(a)).max(0)
    }

    /// The instant a limit ends for a case received at `t`.
    pub fn due(&self, t: i64, limit: Limit) -> i64 {
        match limit {
            Limit::Hours(h) => t + (h * 3_600_000.0).round() as i64,
            Limit::WorkingHours(h) if self.always => t + (h * 3_600_000.0).round() as i64,
            Limit::WorkingHours(h) => self.instant_at(self.position(t) + (h * 3_600_000.0).round() as i64),
            Limit::WorkingDays(n) => {
                let (day, _) = self.local(t);
                // The n-th working day after the day of receipt, to the end of its hours.
                let mut d = day;
                let mut left = n;
                while left > 0 {
                    match d.succ_opt() {
                        Some(next) => d = next,
                        None => break,
                    }
                    if self.is_working_day(d) {
                        left -= 1;
                    }
                }
                let end = self.hours.last().map_or(86_400, |h| h.1);
                self.at_local(d, end as i64 * 1000)
            }
        }
    }

    /// Local day and milliseconds after local midnight of an instant.
    fn local(&self, t: i64) -> (NaiveDate, i64) {
        let off = chrono::DateTime::from_timestamp_millis(t)
            .map_or(0, |u| self.rules.tz.offset_from_utc_datetime(&u.naive_utc()).fix().local_minus_utc() as i64);
        let local = t + off * 1000;
        let day = NaiveDate::from_num_days_from_ce_opt((local.div_euclid(DAY_MS) + 719_163) as i32).unwrap_or(NaiveDate::MIN);
        (day, local.rem_euclid(DAY_MS))
    }

    /// The instant of a local day and time (by the zone's rules).
    fn at_local(&self, day: NaiveDate, ms_of_day: i64) -> i64 {
        let local = (day.num_days_from_ce() as i64 - 719_163) * DAY_MS + ms_of_day;
        local_stamp(local, self.rules).map_or(local, |s| s.ms)
    }

    /// Working milliseconds from the calendar's start to an instant.
    fn position(&self, t: i64) -> i64 {
        let (day, ms) = self.local(t);
        let i = (day - self.first).num_days();
        if i < 0 {
            return 0;
        }
        let i = i as usize;
        if i + 1 >= self.cum.len() {
            return *self.cum.last().unwrap_or(&0);
        }
        let before = self.cum[i];
        if self.cum[i + 1] == before {
            return before;
        }
        before + self.hours.iter().map(|&(a, b)| (ms.min(b as i64 * 1000) - a as i64 * 1000).max(0)).sum::<i64>()
    }

    /// The earliest instant at working position `pos`.
    fn instant_at(&self, pos: i64) -> i64 {
        // The day: the last one whose start is below `pos` (so a position at a day's end
        // is that day's last working moment, not the next day's first).
        let i = self.cum.partition_point(|&c| c < pos).saturating_sub(1).min(self.cum.len().saturating_sub(2));
        let day = self.first + chrono::Duration::days(i as i64);
        let mut left = pos - self.cum.get(i).copied().unwrap_or(0);
        for &(a, b) in &self.hours {
            let len = (b - a) as i64 * 1000;
            if left <= len {
                return self.at_local(day, a as i64 * 1000 + left);
            }
            left -= len;
        }
        self.at_local(day, self.hours.last().map_or(0, |h| h.1 as i64 * 1000))
    }
}

/// Reads working hours such as `09:00-12:00` (up to `24:00`).
pub fn parse_hours(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once('-')?;
    let t = |x: &str| -> Option<u32> {
        let (h, m) = x.trim().split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 3600 + m * 60)
    };
    let (a, b) = (t(a)?, t(b)?);
    (a < b).then_some((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a date")
    }

    /// Beijing time; the National Day holiday of 2026: 1–7 October off, Saturday 10 October
    /// worked in exchange; hours 09:00–12:00 and 13:30–17:30 (7 working hours a day).
    fn beijing() -> Calendar {
        let spec = CalendarSpec {
            holidays: ["2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"].iter().map(|s| d(s)).collect(),
            workdays: [d("2026-10-10")].into(),
            weekend: [false, false, false, false, false, true, true],
            hours: vec![parse_hours("09:00-12:00").expect("hours"), parse_hours("13:30-17:30").expect("hours")],
        };
        Calendar::new(&spec, LocalRules::new("Asia/Shanghai".parse().expect("a zone")))
    }

    /// UTC ms of a Beijing local time.
    fn bj(s: &str) -> i64 {
        chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("a time").and_utc().timestamp_millis() - 8 * 3_600_000
    }

    const H: i64 = 3_600_000;

    #[test]
    fn limits_parse() {
        assert_eq!(Limit::parse("24h"), Some(Limit::Hours(24.0)));
        assert_eq!(Limit::parse("2"), Some(Limit::Hours(2.0)));
        assert_eq!(Limit::parse("16wh"), Some(Limit::WorkingHours(16.0)));
        assert_eq!(Limit::parse("3wd"), Some(Limit::WorkingDays(3)));
        assert_eq!(Limit::parse("1.5wd"), None);
        assert_eq!(Limit::parse("-2h"), None);
        assert_eq!(parse_hours("13:30-17:30"), Some((48_600, 63_000)));
        assert_eq!(parse_hours("00:00-24:00"), Some((0, 86_400)));
        assert_eq!(parse_hours("12:00-09:00"), None);
    }

    #[test]
    fn working_days_skip_holidays_and_count_exchanged_saturdays() {
        let c = beijing();
        assert!(!c.is_working_day(d("2026-10-05")) && c.is_working_day(d("2026-10-10")) && !c.is_working_day(d("2026-10-11")));
        // Received Wednesday 30 September 16:00: three working days are 8, 9 and Saturday 10
        // October; due at 17:30 on the 10th.
        assert_eq!(c.due(bj("2026-09-30 16:00"), Limit::WorkingDays(3)), bj("2026-10-10 17:30"));
        // Received on a holiday: the working days after it.
        assert_eq!(c.due(bj("2026-10-03 10:00"), Limit::WorkingDays(1)), bj("2026-10-08 17:30"));
    }

    #[test]
    fn working_hours_cross_lunch_nights_and_holidays() {
        let c = beijing();
        // 11:00 + 2 working hours: 1 h to noon, then 13:30 + 1 h = 14:30.
        assert_eq!(c.due(bj("2026-09-29 11:00"), Limit::WorkingHours(2.0)), bj("2026-09-29 14:30"));
        // 16:30 + 2 h: 1 h to 17:30, then 09:00 + 1 h the next working day.
        assert_eq!(c.due(bj("2026-09-29 16:30"), Limit::WorkingHours(2.0)), bj("2026-09-30 10:00"));
        // Exactly to the end of the day stays on that day.
        assert_eq!(c.due(bj("2026-09-29 16:30"), Limit::WorkingHours(1.0)), bj("2026-09-29 17:30"));
        // Across the holiday: Wednesday 30 September 17:00 + 1 h = Thursday 8 October 09:30.
        assert_eq!(c.due(bj("2026-09-30 17:00"), Limit::WorkingHours(1.0)), bj("2026-10-08 09:30"));
        // Received at lunch or at night: the clock starts with the next working hour.
        assert_eq!(c.due(bj("2026-09-29 12:40"), Limit::WorkingHours(1.0)), bj("2026-09-29 14:30"));
        assert_eq!(c.working_ms(bj("2026-09-29 11:00"), bj("2026-09-29 14:30")), 2 * H);
        assert_eq!(c.working_ms(bj("2026-09-30 17:00"), bj("2026-10-08 09:30")), H);
        assert_eq!(c.working_ms(bj("2026-10-03 09:00"), bj("2026-10-03 18:00")), 0);
        // Natural hours ignore the calendar.
        assert_eq!(c.due(bj("2026-09-30 17:00"), Limit::Hours(24.0)), bj("2026-10-01 17:00"));
    }

    #[test]
    fn the_most_specific_rule_wins() {
        let rule = |c: Option<&str>, u: Option<&str>, l| LimitRule {
            category: c.map(String::from),
            subcategory: None,
            urgency: u.map(String::from),
            limit: l,
        };
        let t = TimeLimits {
            rules: vec![
                rule(None, None, Limit::WorkingDays(15)),
                rule(Some("市容环境"), None, Limit::WorkingDays(3)),
                rule(Some("市容环境"), Some("紧急"), Limit::Hours(2.0)),
                rule(None, Some("紧急"), Limit::Hours(24.0)),
            ],
        };
        assert_eq!(t.find(Some("市容环境"), None, Some("紧急")), Some(Limit::Hours(2.0)));
        assert_eq!(t.find(Some("市容环境"), None, None), Some(Limit::WorkingDays(3)));
        assert_eq!(t.find(Some("交通"), None, Some("紧急")), Some(Limit::Hours(24.0)));
        assert_eq!(t.find(Some("交通"), None, None), Some(Limit::WorkingDays(15)));
        assert_eq!(TimeLimits::default().find(Some("x"), None, None), None);
    }

    #[test]
    fn always_is_natural_time() {
        let c = Calendar::always(LocalRules::new("Asia/Shanghai".parse().expect("a zone")));
        assert_eq!(c.working_ms(0, 5 * H), 5 * H);
        assert_eq!(c.due(0, Limit::WorkingHours(3.0)), 3 * H);
    }
}
