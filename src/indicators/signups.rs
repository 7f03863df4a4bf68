//! Sign-up rate (签约率) per unit and per project, each project's cumulative curve by day and the
//! first day it reached its threshold.
//!
//! Rate = in-scope households signed on or before the as-of date / in-scope households. Households
//! marked out of scope are counted apart and never enter the rate.

use chrono::NaiveDate;
use std::collections::BTreeMap;

use crate::config::resolve::Pipeline;
use crate::hierarchy::{Hierarchy, Level};
use crate::io::signups::Household;
use crate::outputs::frame::{Frame, Values};

/// Sign-up counts of one unit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SignupAcc {
    pub in_scope: u64,
    pub signed: u64,
    pub out_of_scope: u64,
}

impl SignupAcc {
    fn add(&mut self, h: &Household, as_of: NaiveDate) {
        if !h.in_scope {
            self.out_of_scope += 1;
            return;
        }
        self.in_scope += 1;
        if h.signed.is_some_and(|d| d <= as_of) {
            self.signed += 1;
        }
    }
}

/// Counts per unit at every level (index = `Level as usize`).
pub fn per_unit(h: &Hierarchy, households: &[Household], as_of: NaiveDate) -> [Vec<SignupAcc>; 4] {
    let mut out: [Vec<SignupAcc>; 4] = Default::default();
    for l in Level::ALL {
        out[l as usize] = vec![SignupAcc::default(); h.units(l).len()];
    }
    for hh in households {
        for (lvl, u) in h.units_of(Level::Grid, hh.grid).iter().enumerate() {
            if let Some(u) = u {
                out[lvl][*u as usize].add(hh, as_of);
            }
        }
    }
    out
}

/// One project's totals and threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectSummary {
    pub project_id: String,
    pub project_name: String,
    pub acc: SignupAcc,
    pub threshold: f64,
    pub first_signed: Option<NaiveDate>,
    /// First day on which cumulative signed / in scope ≥ threshold (on or before as-of).
    pub threshold_reached_on: Option<NaiveDate>,
    /// (day, cumulative signed) from the first signing day to the as-of date.
    pub curve: Vec<(NaiveDate, u64)>,
}

/// Summarises each project (sorted by project id).
pub fn projects(households: &[Household], as_of: NaiveDate, threshold_for: impl Fn(&str) -> f64) -> Vec<ProjectSummary> {
    let mut by_project: BTreeMap<&str, Vec<&Household>> = BTreeMap::new();
    for h in households {
        by_project.entry(h.project_id.as_str()).or_default().push(h);
    }
    by_project
        .into_iter()
        .map(|(id, hs)| {
            let mut acc = SignupAcc::default();
            let mut per_day: BTreeMap<NaiveDate, u64> = BTreeMap::new();
            for h in &hs {
                acc.add(h, as_of);
                if let Some(d) = h.signed.filter(|d| h.in_scope && *d <= as_of) {
                    *per_day.entry(d).or_default() += 1;
                }
            }
            let threshold = threshold_for(id);
            let first_signed = per_day.keys().next().copied();
            let mut curve = Vec::new();
            let mut reached = None;
            if let Some(first) = first_signed {
                let mut cum = 0u64;
                for day in first.iter_days().take_while(|d| *d <= as_of) {
                    cum += per_day.get(&day).copied().unwrap_or(0);
                    curve.push((day, cum));
                    // Integer comparison avoids a float rounding a 90.0 % day down to 89.999…
                    if reached.is_none() && acc.in_scope > 0 && (cum as f64) >= threshold * acc.in_scope as f64 - 1e-9 {
                        reached = Some(day);
                    }
                }
            }
            ProjectSummary {
                project_id: id.to_string(),
                project_name: hs[0].project_name.clone(),
                acc,
                threshold,
                first_signed,
                threshold_reached_on: reached,
                curve,
            }
        })
        .collect()
}

/// The project table and the curve table.
pub fn project_tables(p: &Pipeline, households: &[Household]) -> (Frame, Frame) {
    let ps = projects(households, p.period.as_of, |id| p.indicators.threshold_for(id));
    let mut f = Frame::default();
    f.str("project_id", ps.iter().map(|s| Some(s.project_id.clone())).collect());
    f.str("project_name", ps.iter().map(|s| Some(s.project_name.clone())).collect());
    f.push("as_of", Values::Date(vec![Some(p.period.as_of); ps.len()]));
    f.int("households_in_scope", ps.iter().map(|s| Some(s.acc.in_scope as i64)).collect());
    f.int("households_out_of_scope", ps.iter().map(|s| Some(s.acc.out_of_scope as i64)).collect());
    f.int("signed", ps.iter().map(|s| Some(s.acc.signed as i64)).collect());
    f.float("signup_rate", ps.iter().map(|s| super::cases::rate(s.acc.signed as f64, s.acc.in_scope)).collect(), 4);
    f.float("threshold", ps.iter().map(|s| Some(s.threshold)).collect(), 4);
    f.push("first_signed", Values::Date(ps.iter().map(|s| s.first_signed).collect()));
    f.push("threshold_reached_on", Values::Date(ps.iter().map(|s| s.threshold_reached_on).collect()));
    f.int("days_to_threshold", ps.iter().map(|s| Some((s.threshold_reached_on? - s.first_signed?).num_days())).collect());
    let mut c = Frame::default();
    let rows: Vec<(&ProjectSummary, NaiveDate, u64)> = ps.iter().flat_map(|s| s.curve.iter().map(move |(d, n)| (s, *d, *n))).collect();
    c.str("project_id", rows.iter().map(|r| Some(r.0.project_id.clone())).collect());
    c.push("date", Values::Date(rows.iter().map(|r| Some(r.1)).collect()));
    c.int("signed_cumulative", rows.iter().map(|r| Some(r.2 as i64)).collect());
    c.int("households_in_scope", rows.iter().map(|r| Some(r.0.acc.in_scope as i64)).collect());
    c.float("signup_rate_cumulative", rows.iter().map(|r| super::cases::rate(r.2 as f64, r.0.acc.in_scope)).collect(), 4);
    c.float("threshold", rows.iter().map(|r| Some(r.0.threshold)).collect(), 4);
    (f, c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a valid test date")
    }

    fn hh(p: &str, in_scope: bool, signed: Option<&str>) -> Household {
        Household { project_id: p.into(), project_name: format!("{p} name"), grid: 0, in_scope, signed: signed.map(d) }
    }

    #[test]
    fn rate_and_threshold_day_by_hand() {
        // 10 in scope, 1 out of scope; signings: 4 on 1 Mar, 3 on 3 Mar, 2 on 6 Mar, 1 after as-of.
        let mut v = Vec::new();
        v.extend((0..4).map(|_| hh("P", true, Some("2026-03-01"))));
        v.extend((0..3).map(|_| hh("P", true, Some("2026-03-03"))));
        v.extend((0..2).map(|_| hh("P", true, Some("2026-03-06"))));
        v.push(hh("P", true, Some("2026-04-01")));
        v.push(hh("P", false, Some("2026-03-01")));
        let ps = projects(&v, d("2026-03-10"), |_| 0.9);
        let p = &ps[0];
        assert_eq!(p.acc, SignupAcc { in_scope: 10, signed: 9, out_of_scope: 1 });
        // 4/10, 4, 7/10, 7, 7, 9/10 on 6 Mar: threshold 0.9 reached that day.
        assert_eq!(p.threshold_reached_on, Some(d("2026-03-06")));
        assert_eq!(p.curve.len(), 10);
        assert_eq!(p.curve[2], (d("2026-03-03"), 7));
        let ps = projects(&v, d("2026-03-10"), |_| 0.95);
        assert_eq!(ps[0].threshold_reached_on, None);
    }

    #[test]
    fn no_signings_no_curve() {
        let ps = projects(&[hh("Q", true, None)], d("2026-03-10"), |_| 0.8);
        assert!(ps[0].curve.is_empty());
        assert_eq!(ps[0].threshold_reached_on, None);
    }
}
