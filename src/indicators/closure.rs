//! Closure and time limits (结案): should-be-closed (应结案数), closed and closed on time, the
//! closure and on-time closure rates, open and overdue cases at the as-of moment, instant
//! closures, and where the due times came from.
//!
//! One rule for every state: an event has happened at the as-of moment T when its time is
//! before T (T is the midnight ending the as-of day); a due time has passed when it is before
//! T. A case is closed on time when its closing time is at or before its due time.

use super::family::{Change, Column, CountContext, Derive, Family, RowView};
use crate::config::ShouldBeClosedFile;
use crate::vocab::column::Field;
use crate::vocab::record::{CaseFacts, DueSource};
use crate::vocab::stats::rate;

pub struct Closure;
pub static CLOSURE: Closure = Closure;

const SHOULD_CLOSE: usize = 0;
const CLOSED: usize = 1;
const CLOSED_ON_TIME: usize = 2;
const CANCELLED: usize = 3;
const OPEN: usize = 4;
const OVERDUE_OPEN: usize = 5;
const CLOSED_UNKNOWN: usize = 6;
const INSTANT: usize = 7;
const DUE_GIVEN: usize = 8;
const DUE_LIMITS: usize = 9;
const DUE_DEFAULT: usize = 10;
const DUE_EXTENDED: usize = 11;

static COLUMNS: &[Column] = &[
    Column::new(
        Field::new(
            "should_close",
            "应结案数",
            "cases",
            "non-cancelled cases owed a closure at the as-of moment (indicators.should_be_closed)",
        ),
        Derive::Count(SHOULD_CLOSE),
    ),
    Column::new(Field::new("closed", "结案数", "cases", "non-cancelled cases closed before the as-of moment"), Derive::Count(CLOSED)),
    Column::new(
        Field::new("closed_on_time", "按期结案数", "cases", "closed cases whose closed time ≤ due time"),
        Derive::Count(CLOSED_ON_TIME),
    ),
    Column::new(
        Field::new("closure_rate", "结案率", "share", "closed / should_close"),
        Derive::Float(|r| rate(r.c[CLOSED] as f64, r.c[SHOULD_CLOSE]), 4),
    )
    .per("should_close")
    .headline(Change::Difference),
    Column::new(
        Field::new("on_time_closure_rate", "按期结案率", "share", "closed_on_time / should_close"),
        Derive::Float(|r| rate(r.c[CLOSED_ON_TIME] as f64, r.c[SHOULD_CLOSE]), 4),
    )
    .per("should_close")
    .headline(Change::Difference),
    Column::new(
        Field::new("cancelled", "撤销数", "cases", "cases whose status is a cancelled status (counted in cases only)"),
        Derive::Count(CANCELLED),
    ),
    Column::new(Field::new("open", "未结案数", "cases", "non-cancelled cases not closed before the as-of moment"), Derive::Count(OPEN)),
    Column::new(
        Field::new("overdue_open", "超期未结案数", "cases", "open cases whose due time is before the as-of moment (red light)"),
        Derive::Count(OVERDUE_OPEN),
    ),
    Column::new(
        Field::new("overdue_open_rate", "超期未结率", "share", "overdue_open / open: the share of open cases that are overdue"),
        Derive::Float(|r| rate(r.c[OVERDUE_OPEN] as f64, r.c[OPEN]), 4),
    )
    .per("open"),
    Column::new(
        Field::new(
            "overdue_due_rate",
            "超期待处置率",
            "share",
            "overdue_open / should_close: overdue open cases among the cases owed a closure",
        ),
        Derive::Float(|r| rate(r.c[OVERDUE_OPEN] as f64, r.c[SHOULD_CLOSE]), 4),
    )
    .per("should_close"),
    Column::new(
        Field::new(
            "closed_unknown",
            "结案时间无效数",
            "cases",
            "non-cancelled cases whose closed_at could not be read or lies before received_at: left out of closure, disposal and handling time",
        ),
        Derive::Count(CLOSED_UNKNOWN),
    ),
    Column::new(
        Field::new("instant_closures", "秒结数", "cases", "closed cases closed within indicators.instant_closure_minutes of their receipt"),
        Derive::Count(INSTANT),
    ),
    Column::new(
        Field::new("instant_closure_share", "秒结占比", "share", "instant_closures / closed (a data-quality signal)"),
        Derive::Float(|r| rate(r.c[INSTANT] as f64, r.c[CLOSED]), 4),
    )
    .per("closed"),
    Column::new(
        Field::new("due_given", "时限来自工单数", "cases", "non-cancelled cases with their own due time"),
        Derive::Count(DUE_GIVEN),
    ),
    Column::new(
        Field::new("due_from_limits", "时限按规则数", "cases", "non-cancelled cases whose due time comes from indicators.time_limits"),
        Derive::Count(DUE_LIMITS),
    ),
    Column::new(
        Field::new(
            "due_default",
            "时限按默认数",
            "cases",
            "non-cancelled cases whose due time is received + indicators.default_time_limit_hours",
        ),
        Derive::Count(DUE_DEFAULT),
    ),
    Column::new(
        Field::new(
            "due_imputed_share",
            "时限推定占比",
            "share",
            "(due_from_limits + due_default) / (due_given + due_from_limits + due_default)",
        ),
        Derive::Float(due_imputed_share, 4),
    ),
    Column::new(
        Field::new("due_extended", "延期数", "cases", "non-cancelled cases whose due time was extended (延期)"),
        Derive::Count(DUE_EXTENDED),
    ),
];

impl Family<CaseFacts> for Closure {
    fn name(&self) -> &'static str {
        "closure and time limits"
    }

    fn counters(&self) -> &'static [&'static str] {
        &[
            "should_close",
            "closed",
            "closed_on_time",
            "cancelled",
            "open",
            "overdue_open",
            "closed_unknown",
            "instant_closures",
            "due_given",
            "due_from_limits",
            "due_default",
            "due_extended",
        ]
    }

    fn count(&self, c: &CaseFacts, ctx: &CountContext, n: &mut [u64], _: &mut [Option<i64>]) {
        if c.cancelled {
            // Cancelled cases count in volume only: nothing was owed, nothing can be late.
            n[CANCELLED] += 1;
            return;
        }
        n[match c.due_source {
            DueSource::Given => DUE_GIVEN,
            DueSource::Limits => DUE_LIMITS,
            DueSource::Default => DUE_DEFAULT,
        }] += 1;
        n[DUE_EXTENDED] += c.extended as u64;
        if c.closed_unknown {
            n[CLOSED_UNKNOWN] += 1;
            return;
        }
        let as_of = ctx.as_of_ms;
        match closed_by(c, as_of) {
            Some(t) => {
                n[CLOSED] += 1;
                n[CLOSED_ON_TIME] += (t <= c.due) as u64;
                n[INSTANT] += (t - c.received <= ctx.settings.instant_closure_ms) as u64;
            }
            None => {
                n[OPEN] += 1;
                n[OVERDUE_OPEN] += (c.due < as_of) as u64;
            }
        }
        n[SHOULD_CLOSE] += owed(c, ctx) as u64;
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }
}

/// The closing time of a case closed before the as-of moment (a later closing leaves it open
/// at that moment).
pub fn closed_by(c: &CaseFacts, as_of: i64) -> Option<i64> {
    c.closed.filter(|&t| t < as_of)
}

/// Whether a (non-cancelled) case is owed a closure at the as-of moment.
pub fn owed(c: &CaseFacts, ctx: &CountContext) -> bool {
    owed_step(closed_by(c, ctx.as_of_ms).is_some(), c.due, ctx)
}

/// Whether a step of a case (closure, disposal) is owed at the as-of moment: always
/// (`all_received`), or when it was done or its due time has passed
/// (`exclude_open_within_limit`).
pub fn owed_step(done: bool, due: i64, ctx: &CountContext) -> bool {
    match ctx.settings.should_be_closed {
        ShouldBeClosedFile::AllReceived => true,
        ShouldBeClosedFile::ExcludeOpenWithinLimit => done || due < ctx.as_of_ms,
    }
}

fn due_imputed_share(r: &RowView<'_>) -> Option<f64> {
    let all = r.c[DUE_GIVEN] + r.c[DUE_LIMITS] + r.c[DUE_DEFAULT];
    rate((r.c[DUE_LIMITS] + r.c[DUE_DEFAULT]) as f64, all)
}
