//! Disposal and rework (处置, 返工): should-be-disposed, disposed and disposed on time with
//! their rates, under the same rule as closure; the rework rate over a configurable
//! denominator. Only cases whose source says when they were disposed (`disposed_at`), or how
//! often they were reworked (`rework_count`), count here.

use super::closure::{owed, owed_step};
use super::family::{Column, CountContext, Derive, Family};
use crate::config::ReworkDenominator;
use crate::vocab::column::Field;
use crate::vocab::record::CaseFacts;
use crate::vocab::stats::rate;

pub struct Disposal;
pub static DISPOSAL: Disposal = Disposal;

const SHOULD_DISPOSE: usize = 0;
const DISPOSED: usize = 1;
const DISPOSED_ON_TIME: usize = 2;
const REWORK_BASE: usize = 3;
const REWORKED: usize = 4;

static COLUMNS: &[Column] = &[
    Column::new(
        Field::new(
            "should_dispose",
            "应处置数",
            "cases",
            "non-cancelled cases with a known disposal owed one at the as-of moment (the rule of should_close)",
        ),
        Derive::Count(SHOULD_DISPOSE),
    ),
    Column::new(Field::new("disposed", "处置数", "cases", "of them, disposed before the as-of moment"), Derive::Count(DISPOSED)),
    Column::new(
        Field::new("disposed_on_time", "按期处置数", "cases", "disposed cases whose disposed time ≤ due time"),
        Derive::Count(DISPOSED_ON_TIME),
    ),
    Column::new(
        Field::new("disposal_rate", "处置率", "share", "disposed / should_dispose"),
        Derive::Float(|r| rate(r.c[DISPOSED] as f64, r.c[SHOULD_DISPOSE]), 4),
    )
    .per("should_dispose"),
    Column::new(
        Field::new("on_time_disposal_rate", "按期处置率", "share", "disposed_on_time / should_dispose"),
        Derive::Float(|r| rate(r.c[DISPOSED_ON_TIME] as f64, r.c[SHOULD_DISPOSE]), 4),
    )
    .per("should_dispose"),
    Column::new(
        Field::new(
            "rework_base",
            "返工率分母",
            "cases",
            "cases with a known rework count in the rework denominator (indicators.rework_denominator: should_close, registered or disposed)",
        ),
        Derive::Count(REWORK_BASE),
    ),
    Column::new(Field::new("reworked", "返工数", "cases", "of them, cases sent back for rework at least once"), Derive::Count(REWORKED)),
    Column::new(
        Field::new("rework_rate", "返工率", "share", "reworked / rework_base"),
        Derive::Float(|r| rate(r.c[REWORKED] as f64, r.c[REWORK_BASE]), 4),
    )
    .per("rework_base"),
];

impl Family<CaseFacts> for Disposal {
    fn name(&self) -> &'static str {
        "disposal and rework"
    }

    fn counters(&self) -> &'static [&'static str] {
        &["should_dispose", "disposed", "disposed_on_time", "rework_base", "reworked"]
    }

    fn count(&self, c: &CaseFacts, ctx: &CountContext, n: &mut [u64], _: &mut [Option<i64>]) {
        if c.cancelled {
            return;
        }
        let disposed = c.disposed.filter(|&t| t < ctx.as_of_ms);
        if c.disposal_known {
            if let Some(t) = disposed {
                n[DISPOSED] += 1;
                n[DISPOSED_ON_TIME] += (t <= c.due) as u64;
            }
            n[SHOULD_DISPOSE] += owed_step(disposed.is_some(), c.due, ctx) as u64;
        }
        if let Some(reworks) = c.reworks {
            let in_base = match ctx.settings.rework_denominator {
                ReworkDenominator::Registered => true,
                ReworkDenominator::ShouldClose => !c.closed_unknown && owed(c, ctx),
                ReworkDenominator::Disposed => c.disposal_known && disposed.is_some(),
            };
            if in_base {
                n[REWORK_BASE] += 1;
                n[REWORKED] += (reworks > 0) as u64;
            }
        }
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }
}
