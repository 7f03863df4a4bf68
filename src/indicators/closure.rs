//! Closure and time limits (结案): should-be-closed (应结案数), closed and closed on time, the
//! closure and on-time closure rates, open and overdue open cases at the as-of moment.

use super::family::{Column, CountContext, Derive, Family, RowView};
use crate::config::ShouldBeClosedFile;
use crate::vocab::column::Field;
use crate::vocab::record::CaseFacts;
use crate::vocab::stats::rate;

pub struct Closure;
pub static CLOSURE: Closure = Closure;

const SHOULD_CLOSE: usize = 0;
const CLOSED: usize = 1;
const CLOSED_ON_TIME: usize = 2;
const CANCELLED: usize = 3;
const OPEN: usize = 4;
const OVERDUE_OPEN: usize = 5;

static COLUMNS: &[Column] = &[
    Column::new(
        Field::new("should_close", "应结案数", "cases", "non-cancelled cases owed a closure at as-of (indicators.should_be_closed)"),
        Derive::Count(SHOULD_CLOSE),
    ),
    Column::new(Field::new("closed", "结案数", "cases", "non-cancelled cases closed on or before the as-of moment"), Derive::Count(CLOSED)),
    Column::new(
        Field::new("closed_on_time", "按期结案数", "cases", "closed cases whose closed time ≤ due time"),
        Derive::Count(CLOSED_ON_TIME),
    ),
    Column::new(
        Field::new("closure_rate", "结案率", "share", "closed / should_close"),
        Derive::Float(|r| rate(r.c[CLOSED] as f64, r.c[SHOULD_CLOSE]), 4),
    )
    .per("should_close"),
    Column::new(
        Field::new("on_time_closure_rate", "按期结案率", "share", "closed_on_time / should_close"),
        Derive::Float(|r| rate(r.c[CLOSED_ON_TIME] as f64, r.c[SHOULD_CLOSE]), 4),
    )
    .per("should_close"),
    Column::new(
        Field::new("cancelled", "撤销数", "cases", "cases whose status is a cancelled status (counted in cases only)"),
        Derive::Count(CANCELLED),
    ),
    Column::new(Field::new("open", "未结案数", "cases", "non-cancelled cases not closed at the as-of moment"), Derive::Count(OPEN)),
    Column::new(
        Field::new("overdue_open", "超期未结案数", "cases", "open cases whose due time is before the as-of moment (red light)"),
        Derive::Count(OVERDUE_OPEN),
    ),
    Column::new(Field::new("overdue_open_rate", "超期未结率", "share", "overdue_open / open"), Derive::Float(overdue_open_rate, 4))
        .per("open"),
];

impl Family<CaseFacts> for Closure {
    fn name(&self) -> &'static str {
        "closure and time limits"
    }

    fn counters(&self) -> &'static [&'static str] {
        &["should_close", "closed", "closed_on_time", "cancelled", "open", "overdue_open"]
    }

    fn count(&self, c: &CaseFacts, ctx: &CountContext, n: &mut [u64], _: &mut [Option<i64>]) {
        if c.cancelled {
            // Cancelled cases count in volume only: nothing was owed, nothing can be late.
            n[CANCELLED] += 1;
            return;
        }
        let as_of = ctx.as_of_ms;
        // A case closed after the as-of moment was still open at it.
        let closed = c.closed.filter(|&t| t <= as_of);
        match closed {
            Some(t) => {
                n[CLOSED] += 1;
                if t <= c.due {
                    n[CLOSED_ON_TIME] += 1;
                }
            }
            None => {
                n[OPEN] += 1;
                if c.due < as_of {
                    n[OVERDUE_OPEN] += 1;
                }
            }
        }
        let owed = match ctx.settings.should_be_closed {
            ShouldBeClosedFile::AllReceived => true,
            ShouldBeClosedFile::ExcludeOpenWithinLimit => closed.is_some() || c.due <= as_of,
        };
        n[SHOULD_CLOSE] += owed as u64;
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }
}

/// Share of open cases that are past due at the as-of moment.
fn overdue_open_rate(r: &RowView<'_>) -> Option<f64> {
    rate(r.c[OVERDUE_OPEN] as f64, r.c[OPEN])
}
