//! Sign-ups (签约): the sign-up rate per unit, and per project its totals, its cumulative
//! curve by day and the first day it reached its threshold.
//!
//! Rate = in-scope households signed on or before the as-of date / in-scope households.
//! Households marked out of scope are counted apart and never enter the rate.

use chrono::NaiveDate;
use std::collections::BTreeMap;

use super::family::{Column, CountContext, Derive, Family};
use super::tally::{Facts, Tally};
use crate::config::Pipeline;
use crate::vocab::column::Field;
use crate::vocab::frame::{Frame, Values};
use crate::vocab::record::SignupFacts;
use crate::vocab::stats::rate;

pub struct Signups;
pub static SIGNUPS: Signups = Signups;

const IN_SCOPE: usize = 0;
const SIGNED: usize = 1;
const OUT_OF_SCOPE: usize = 2;

static COLUMNS: &[Column] = &[
    Column::new(
        Field::new("signup_households", "应签约户数", "households", "in-scope households of all projects in the unit"),
        Derive::Count(IN_SCOPE),
    ),
    Column::new(
        Field::new("signup_signed", "已签约户数", "households", "in-scope households signed on or before as-of"),
        Derive::Count(SIGNED),
    ),
    Column::new(
        Field::new("signup_out_of_scope", "范围外户数", "households", "households marked out of scope (not in the rate)"),
        Derive::Count(OUT_OF_SCOPE),
    ),
    Column::new(
        Field::new("signup_rate", "签约率", "share", "signup_signed / signup_households"),
        Derive::Float(|r| rate(r.c[SIGNED] as f64, r.c[IN_SCOPE]), 4),
    )
    .per("signup_households"),
];

/// The columns of the project table and the curve table.
pub static PROJECT_FIELDS: &[Field] = &[
    Field::new("project_id", "项目编号", "", "renovation project id"),
    Field::new("project_name", "项目名称", "", "renovation project name"),
    Field::new("households_in_scope", "应签约户数", "households", "in-scope households of the project"),
    Field::new("households_out_of_scope", "范围外户数", "households", "out-of-scope households of the project"),
    Field::new("signed", "已签约户数", "households", "in-scope households signed on or before as-of"),
    Field::new("threshold", "生效比例", "share", "sign-up share at which the project takes effect"),
    Field::new("first_signed", "首签日期", "date", "first signing day"),
    Field::new("threshold_reached_on", "达到生效比例日期", "date", "first day cumulative signed / households_in_scope ≥ threshold"),
    Field::new("signing_start", "签约开始日期", "date", "first day of the signing period (indicators.signup_starts; else first_signed)"),
    Field::new("days_to_threshold", "达标用时", "days", "threshold_reached_on − signing_start"),
    Field::new("date", "日期", "date", "calendar day"),
    Field::new("signed_cumulative", "累计签约户数", "households", "in-scope households signed on or before the day"),
    Field::new("signup_rate_cumulative", "累计签约率", "share", "signed_cumulative / households_in_scope"),
];

impl Family<SignupFacts> for Signups {
    fn name(&self) -> &'static str {
        "sign-ups (签约)"
    }

    fn counters(&self) -> &'static [&'static str] {
        &["in_scope", "signed", "out_of_scope"]
    }

    fn count(&self, h: &SignupFacts, ctx: &CountContext, n: &mut [u64], _: &mut [Option<i64>]) {
        if !h.in_scope {
            n[OUT_OF_SCOPE] += 1;
            return;
        }
        n[IN_SCOPE] += 1;
        if h.signed.is_some_and(|d| d <= ctx.as_of) {
            n[SIGNED] += 1;
        }
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }
}

impl Facts for SignupFacts {
    fn time(&self) -> Option<i64> {
        None
    }
    fn dims(&self) -> &[u32] {
        &[]
    }
}

/// The families of sign-ups.
pub static FAMILIES: &[&dyn Family<SignupFacts>] = &[&SIGNUPS];

/// One project's counts and its signings per day.
#[derive(Debug, Clone, Default)]
struct ProjectAcc {
    name: String,
    in_scope: u64,
    signed: u64,
    out_of_scope: u64,
    per_day: BTreeMap<NaiveDate, u64>,
}

/// The sums of the sign-up sources: per unit (the tally) and per project.
pub struct SignupTally {
    pub tally: Tally<SignupFacts>,
    projects: BTreeMap<String, ProjectAcc>,
    as_of: NaiveDate,
}

impl SignupTally {
    pub fn new(tally: Tally<SignupFacts>, as_of: NaiveDate) -> SignupTally {
        SignupTally { tally, projects: BTreeMap::new(), as_of }
    }

    /// Adds a household at its grid's home unit (records come in file order: a project's name
    /// is its first household's).
    pub fn add(&mut self, home: u32, h: &SignupFacts) {
        self.tally.add(home, h);
        let p =
            self.projects.entry(h.project_id.clone()).or_insert_with(|| ProjectAcc { name: h.project_name.clone(), ..Default::default() });
        if !h.in_scope {
            p.out_of_scope += 1;
            return;
        }
        p.in_scope += 1;
        if let Some(d) = h.signed.filter(|d| *d <= self.as_of) {
            p.signed += 1;
            *p.per_day.entry(d).or_default() += 1;
        }
    }
}

/// One project's totals and threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectSummary {
    pub project_id: String,
    pub project_name: String,
    pub in_scope: u64,
    pub signed: u64,
    pub out_of_scope: u64,
    pub threshold: f64,
    pub first_signed: Option<NaiveDate>,
    /// First day of the signing period: configured, else the first signing day.
    pub start: Option<NaiveDate>,
    /// First day on which cumulative signed / in scope ≥ threshold (on or before as-of).
    pub threshold_reached_on: Option<NaiveDate>,
    /// (day, cumulative signed) from the first signing day to the as-of date.
    pub curve: Vec<(NaiveDate, u64)>,
}

impl SignupTally {
    /// Each project's summary, sorted by project id.
    pub fn projects(&self, threshold_for: impl Fn(&str) -> f64, start_for: impl Fn(&str) -> Option<NaiveDate>) -> Vec<ProjectSummary> {
        self.projects
            .iter()
            .map(|(id, p)| {
                let threshold = threshold_for(id);
                let first_signed = p.per_day.keys().next().copied();
                let start = start_for(id).or(first_signed);
                let mut curve = Vec::new();
                let mut reached = None;
                // The curve runs from the signing period's start (or the first signing, if
                // earlier) to the as-of day.
                if let Some(first) = first_signed.map(|f| start.map_or(f, |s| s.min(f))) {
                    let mut cum = 0u64;
                    for day in first.iter_days().take_while(|d| *d <= self.as_of) {
                        cum += p.per_day.get(&day).copied().unwrap_or(0);
                        curve.push((day, cum));
                        // Integer comparison avoids a float rounding a 90.0 % day down to 89.999…
                        if reached.is_none() && p.in_scope > 0 && (cum as f64) >= threshold * p.in_scope as f64 - 1e-9 {
                            reached = Some(day);
                        }
                    }
                }
                ProjectSummary {
                    project_id: id.clone(),
                    project_name: p.name.clone(),
                    in_scope: p.in_scope,
                    signed: p.signed,
                    out_of_scope: p.out_of_scope,
                    threshold,
                    first_signed,
                    start,
                    threshold_reached_on: reached,
                    curve,
                }
            })
            .collect()
    }

    /// The project table and the curve table.
    pub fn project_tables(&self, p: &Pipeline) -> (Frame, Frame) {
        let ps = self.projects(|id| p.indicators.threshold_for(id), |id| p.indicators.signup_starts.get(id).copied());
        let mut f = Frame::default();
        f.str("project_id", ps.iter().map(|s| Some(s.project_id.clone())).collect());
        f.str("project_name", ps.iter().map(|s| Some(s.project_name.clone())).collect());
        f.push("as_of", Values::Date(vec![Some(p.period.as_of); ps.len()]));
        f.int("households_in_scope", ps.iter().map(|s| Some(s.in_scope as i64)).collect());
        f.int("households_out_of_scope", ps.iter().map(|s| Some(s.out_of_scope as i64)).collect());
        f.int("signed", ps.iter().map(|s| Some(s.signed as i64)).collect());
        f.float("signup_rate", ps.iter().map(|s| rate(s.signed as f64, s.in_scope)).collect(), 4);
        f.float("threshold", ps.iter().map(|s| Some(s.threshold)).collect(), 4);
        f.push("first_signed", Values::Date(ps.iter().map(|s| s.first_signed).collect()));
        f.push("threshold_reached_on", Values::Date(ps.iter().map(|s| s.threshold_reached_on).collect()));
        f.push("signing_start", Values::Date(ps.iter().map(|s| s.start).collect()));
        f.int("days_to_threshold", ps.iter().map(|s| Some((s.threshold_reached_on? - s.start?).num_days())).collect());
        let mut c = Frame::default();
        let rows: Vec<(&ProjectSummary, NaiveDate, u64)> = ps.iter().flat_map(|s| s.curve.iter().map(move |(d, n)| (s, *d, *n))).collect();
        c.str("project_id", rows.iter().map(|r| Some(r.0.project_id.clone())).collect());
        c.push("date", Values::Date(rows.iter().map(|r| Some(r.1)).collect()));
        c.int("signed_cumulative", rows.iter().map(|r| Some(r.2 as i64)).collect());
        c.int("households_in_scope", rows.iter().map(|r| Some(r.0.in_scope as i64)).collect());
        c.float("signup_rate_cumulative", rows.iter().map(|r| rate(r.2 as f64, r.0.in_scope)).collect(), 4);
        c.float("threshold", rows.iter().map(|r| Some(r.0.threshold)).collect(), 4);
        (f, c)
    }
}
