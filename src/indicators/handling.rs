//! Handling time (处置时长): median and P90 hours from received to closed, exact (type 7), over
//! the cases closed before the as-of moment, in natural hours and in working hours (the
//! pipeline's `[calendar]`); and the city's histogram of them.

use super::closure::closed_by;
use super::family::{Column, CountContext, Derive, Family};
use super::quantiles::Store;
use crate::vocab::column::Field;
use crate::vocab::record::CaseFacts;

pub struct Handling;
pub static HANDLING: Handling = Handling;

static COLUMNS: &[Column] = &[
    Column::new(
        Field::new(
            "handling_hours_median",
            "处置时长中位数",
            "hours",
            "median of (closed − received) over closed cases, linear interpolation (type 7)",
        ),
        Derive::Float(|r| r.q[0].median, 2),
    ),
    Column::new(
        Field::new("handling_hours_p90", "处置时长P90", "hours", "90th percentile of (closed − received) over closed cases, type 7"),
        Derive::Float(|r| r.q[0].p90, 2),
    ),
    Column::new(
        Field::new(
            "handling_work_hours_median",
            "处置工时中位数",
            "working hours",
            "median of the working hours (calendar) between received and closed, over closed cases, type 7",
        ),
        Derive::Float(|r| r.q[1].median, 2),
    ),
    Column::new(
        Field::new(
            "handling_work_hours_p90",
            "处置工时P90",
            "working hours",
            "90th percentile of the working hours between received and closed, type 7",
        ),
        Derive::Float(|r| r.q[1].p90, 2),
    ),
];

impl Family<CaseFacts> for Handling {
    fn name(&self) -> &'static str {
        "handling time"
    }

    fn stores(&self) -> &'static [&'static str] {
        &["handling", "handling_working"]
    }

    fn count(&self, c: &CaseFacts, ctx: &CountContext, _: &mut [u64], keep: &mut [Option<i64>]) {
        if c.cancelled || c.closed_unknown {
            return;
        }
        // A case closed after the as-of moment was still open at it: no handling time.
        if let Some(t) = closed_by(c, ctx.as_of_ms) {
            keep[0] = Some(t - c.received);
            keep[1] = Some(ctx.calendar.working_ms(c.received, t));
        }
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }
}

/// Bins of the handling-time histogram in log10(hours): 20 bins from 0.1 h to 10,000 h;
/// values below go to the first, above to the last. (lower hour bound, upper hour bound, count).
pub fn handling_bins(hours: impl Iterator<Item = f64>) -> Vec<(f64, f64, u64)> {
    let (lo, hi, k) = (-1.0f64, 4.0f64, 20usize);
    let w = (hi - lo) / k as f64;
    let mut out: Vec<(f64, f64, u64)> = (0..k).map(|i| (10f64.powf(lo + w * i as f64), 10f64.powf(lo + w * (i + 1) as f64), 0)).collect();
    for h in hours {
        let x = h.max(1e-9).log10();
        let i = (((x - lo) / w).floor().max(0.0) as usize).min(k - 1);
        out[i].2 += 1;
    }
    out
}

/// The histogram of the handling hours of the city's cases closed in the period.
pub fn city_histogram(store: &Store) -> Vec<(f64, f64, u64)> {
    handling_bins(store.hours().filter(|(e, _)| e.in_period()).map(|(_, h)| h))
}
