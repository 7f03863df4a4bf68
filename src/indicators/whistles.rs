//! Whistles (街乡吹哨、部门报到): per unit, the whistles blown by type and how they were closed
//! (family `WHISTLES`, counted once per whistle, on its first row); per unit and per
//! department, the summonses and how the departments reported in and were evaluated (family
//! `SUMMONS`, counted on every row).
//!
//! A department reports in on time when `reported − summoned ≤` the limit of the whistle's type
//! (`indicators.whistles.report_in_minutes`); a whistle is closed on time when `closed −
//! whistled ≤` its type's `closure_hours`. States are read at the as-of moment T like the
//! cases': reported or closed means before T.

use std::collections::HashSet;

use super::family::{Column, CountContext, Derive, Family};
use super::tally::{Facts, Tally};
use crate::vocab::column::Field;
use crate::vocab::dictionary::Interner;
use crate::vocab::record::{WhistleFacts, WhistleType};
use crate::vocab::stats::rate;

pub struct Whistles;
pub static WHISTLES: Whistles = Whistles;
pub struct Summons;
pub static SUMMONS: Summons = Summons;

const WHISTLES_N: usize = 0;
const DAILY: usize = 1;
const TACKLE: usize = 2;
const EMERGENCY: usize = 3;
const CLOSED: usize = 4;
const CLOSED_ON_TIME: usize = 5;

static WHISTLE_COLUMNS: &[Column] = &[
    Column::new(
        Field::new("whistles", "吹哨数", "whistles", "distinct whistle ids blown in the period (a whistle is counted on its first row)"),
        Derive::Count(WHISTLES_N),
    ),
    Column::new(Field::new("whistles_daily", "日常哨数", "whistles", "whistles of type 日常哨"), Derive::Count(DAILY)),
    Column::new(Field::new("whistles_tackle", "攻坚哨数", "whistles", "whistles of type 攻坚哨"), Derive::Count(TACKLE)),
    Column::new(Field::new("whistles_emergency", "应急哨数", "whistles", "whistles of type 应急哨"), Derive::Count(EMERGENCY)),
    Column::new(
        Field::new("whistles_closed", "吹哨办结数", "whistles", "whistles with closed_at < T (the first row's closed_at)"),
        Derive::Count(CLOSED),
    ),
    Column::new(
        Field::new(
            "whistles_closed_on_time",
            "吹哨按期办结数",
            "whistles",
            "closed whistles with closed − whistled ≤ indicators.whistles.closure_hours of the type",
        ),
        Derive::Count(CLOSED_ON_TIME),
    ),
    Column::new(
        Field::new("whistle_closure_rate", "吹哨办结率", "share", "whistles_closed / whistles"),
        Derive::Float(|r| rate(r.c[CLOSED] as f64, r.c[WHISTLES_N]), 4),
    )
    .per("whistles"),
    Column::new(
        Field::new("whistle_on_time_closure_rate", "吹哨按期办结率", "share", "whistles_closed_on_time / whistles"),
        Derive::Float(|r| rate(r.c[CLOSED_ON_TIME] as f64, r.c[WHISTLES_N]), 4),
    )
    .per("whistles"),
];

impl Family<WhistleFacts> for Whistles {
    fn name(&self) -> &'static str {
        "whistles (吹哨)"
    }

    fn counters(&self) -> &'static [&'static str] {
        &["whistles", "daily", "tackle", "emergency", "closed", "closed_on_time"]
    }

    fn count(&self, w: &WhistleFacts, ctx: &CountContext, n: &mut [u64], _: &mut [Option<i64>]) {
        if !w.first {
            return;
        }
        n[WHISTLES_N] += 1;
        n[match w.whistle_type {
            WhistleType::Daily => DAILY,
            WhistleType::Tackle => TACKLE,
            WhistleType::Emergency => EMERGENCY,
        }] += 1;
        if let Some(c) = w.closed.filter(|&c| c < ctx.as_of_ms) {
            n[CLOSED] += 1;
            n[CLOSED_ON_TIME] += (c - w.whistled <= ctx.settings.whistle_closure_ms[w.whistle_type as usize]) as u64;
        }
    }

    fn columns(&self) -> &'static [Column] {
        WHISTLE_COLUMNS
    }
}

const SUMMONED: usize = 0;
const REPORTED: usize = 1;
const REPORTED_ON_TIME: usize = 2;
const EVALUATIONS: usize = 3;
/// Sum of the evaluations × 100 (counters are integers; two decimals are kept).
const EVALUATION_CENTS: usize = 4;
/// The store of the time to report in (kept in ms; quantiles come back in hours).
const REPORT_IN: usize = 0;

static SUMMONS_COLUMNS: &[Column] = &[
    Column::new(Field::new("summons", "召集部门次数", "summonses", "rows: one whistle summoning one department"), Derive::Count(SUMMONED)),
    Column::new(Field::new("reported_in", "报到次数", "summonses", "summonses with reported_at < T"), Derive::Count(REPORTED)),
    Column::new(
        Field::new(
            "reported_in_on_time",
            "按时报到次数",
            "summonses",
            "reported summonses with reported − summoned ≤ indicators.whistles.report_in_minutes of the whistle's type",
        ),
        Derive::Count(REPORTED_ON_TIME),
    ),
    Column::new(
        Field::new("report_in_rate", "报到率", "share", "reported_in / summons"),
        Derive::Float(|r| rate(r.c[REPORTED] as f64, r.c[SUMMONED]), 4),
    )
    .per("summons"),
    Column::new(
        Field::new("on_time_report_in_rate", "按时报到率", "share", "reported_in_on_time / summons"),
        Derive::Float(|r| rate(r.c[REPORTED_ON_TIME] as f64, r.c[SUMMONED]), 4),
    )
    .per("summons"),
    Column::new(
        Field::new(
            "report_in_minutes_median",
            "报到用时中位数",
            "minutes",
            "median of reported − summoned over reported summonses (type-7 quantile)",
        ),
        Derive::Float(|r| r.q[REPORT_IN].median.map(|h| h * 60.0), 1),
    ),
    Column::new(
        Field::new("report_in_minutes_p90", "报到用时P90", "minutes", "90th percentile of reported − summoned (type-7 quantile)"),
        Derive::Float(|r| r.q[REPORT_IN].p90.map(|h| h * 60.0), 1),
    ),
    Column::new(
        Field::new("evaluations", "部门评价数", "summonses", "summonses with an evaluation of the department"),
        Derive::Count(EVALUATIONS),
    ),
    Column::new(
        Field::new("evaluation_mean", "部门评价均分", "points", "mean of the evaluations (on the source's scale)"),
        Derive::Float(|r| rate(r.c[EVALUATION_CENTS] as f64 / 100.0, r.c[EVALUATIONS]), 2),
    )
    .per("evaluations"),
];

impl Family<WhistleFacts> for Summons {
    fn name(&self) -> &'static str {
        "summonses and report-in (部门报到)"
    }

    fn counters(&self) -> &'static [&'static str] {
        &["summoned", "reported", "reported_on_time", "evaluations", "evaluation_cents"]
    }

    fn stores(&self) -> &'static [&'static str] {
        &["report_in_time"]
    }

    fn count(&self, w: &WhistleFacts, ctx: &CountContext, n: &mut [u64], keep: &mut [Option<i64>]) {
        n[SUMMONED] += 1;
        if let Some(r) = w.reported.filter(|&r| r < ctx.as_of_ms) {
            n[REPORTED] += 1;
            let took = r - w.summoned;
            n[REPORTED_ON_TIME] += (took <= ctx.settings.whistle_report_in_ms[w.whistle_type as usize]) as u64;
            keep[REPORT_IN] = Some(took);
        }
        if let Some(e) = w.evaluation {
            n[EVALUATIONS] += 1;
            // Evaluations are scores ≥ 0; a negative one adds nothing rather than wrapping.
            n[EVALUATION_CENTS] += (e * 100.0).round().max(0.0) as u64;
        }
    }

    fn columns(&self) -> &'static [Column] {
        SUMMONS_COLUMNS
    }
}

impl Facts for WhistleFacts {
    fn time(&self) -> Option<i64> {
        Some(self.whistled)
    }
    fn dims(&self) -> &[u32] {
        &self.dims
    }
}

/// The families of whistles: whistle-level, then summons-level.
pub static FAMILIES: &[&dyn Family<WhistleFacts>] = &[&WHISTLES, &SUMMONS];

/// The dimension whistles are tabulated by.
pub const DIMENSIONS: [&str; 1] = ["department"];

/// Whistles per 1,000 cases of a unit: a column of the level tables that has both kinds.
pub static RATE_FIELD: Field = Field::new("whistles_per_1000_cases", "吹哨率", "per 1,000 cases", "whistles / cases × 1,000");

/// The sums of the whistle sources: the tally, which whistles were seen (a whistle's first row
/// carries its whistle-level counts) and the departments' numbers.
pub struct WhistleTally {
    pub tally: Tally<WhistleFacts>,
    seen: HashSet<String>,
    pub departments: Interner,
}

impl WhistleTally {
    pub fn new(tally: Tally<WhistleFacts>) -> WhistleTally {
        WhistleTally { tally, seen: HashSet::new(), departments: Interner::default() }
    }

    /// Adds one summons at its home unit. Rows come in file order, so "first" is the first
    /// row of its whistle in the sources' order.
    pub fn add(&mut self, home: u32, w: &WhistleFacts) -> super::tally::Placement {
        let mut w = w.clone();
        w.first = self.seen.insert(w.whistle_id.clone());
        w.dims = [self.departments.intern(Some(&w.department))];
        self.tally.add(home, &w)
    }
}
