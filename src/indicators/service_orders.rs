//! Residents' service orders (居民点单—支部下单—党员接单): the funnel ordered → dispatched →
//! accepted → completed with each step's rate and the median time of each step, the residents'
//! ratings, stale open orders; and, per unit of a period table, the party members who took
//! orders: how many were active, how many orders each took and how concentrated they were.
//!
//! Member ids are hashed when read and never written: no output row is about one member, and a
//! unit with fewer active members than `indicators.service_orders.min_members` shows no
//! per-member figure.

use std::collections::HashMap;

use super::family::{Column, CountContext, Derive, Family};
use super::tally::{Facts, Placement, Tally};
use crate::vocab::column::Field;
use crate::vocab::frame::Frame;
use crate::vocab::record::OrderFacts;
use crate::vocab::stats::rate;

pub struct Orders;
pub static ORDERS: Orders = Orders;

const ORDERED: usize = 0;
const CANCELLED: usize = 1;
const DISPATCHED: usize = 2;
const ACCEPTED: usize = 3;
const COMPLETED: usize = 4;
const RATINGS: usize = 5;
const RATING_CENTS: usize = 6;
const SATISFIED: usize = 7;
const STALE: usize = 8;

static COLUMNS: &[Column] = &[
    Column::new(Field::new("orders", "点单数", "orders", "service orders not cancelled, by ordered_at"), Derive::Count(ORDERED)),
    Column::new(
        Field::new("orders_cancelled", "取消点单数", "orders", "orders whose status is a cancelled status (in no other column)"),
        Derive::Count(CANCELLED),
    ),
    Column::new(Field::new("orders_dispatched", "支部下单数", "orders", "orders with dispatched_at < T"), Derive::Count(DISPATCHED)),
    Column::new(Field::new("orders_accepted", "党员接单数", "orders", "dispatched orders with accepted_at < T"), Derive::Count(ACCEPTED)),
    Column::new(Field::new("orders_completed", "完成数", "orders", "accepted orders with completed_at < T"), Derive::Count(COMPLETED)),
    Column::new(
        Field::new("dispatch_rate", "下单率", "share", "orders_dispatched / orders"),
        Derive::Float(|r| rate(r.c[DISPATCHED] as f64, r.c[ORDERED]), 4),
    )
    .per("orders"),
    Column::new(
        Field::new("acceptance_rate", "接单率", "share", "orders_accepted / orders_dispatched"),
        Derive::Float(|r| rate(r.c[ACCEPTED] as f64, r.c[DISPATCHED]), 4),
    )
    .per("orders_dispatched"),
    Column::new(
        Field::new("completion_rate", "完成率", "share", "orders_completed / orders_accepted"),
        Derive::Float(|r| rate(r.c[COMPLETED] as f64, r.c[ACCEPTED]), 4),
    )
    .per("orders_accepted"),
    Column::new(
        Field::new("order_fulfilment_rate", "点单办结率", "share", "orders_completed / orders: the whole funnel"),
        Derive::Float(|r| rate(r.c[COMPLETED] as f64, r.c[ORDERED]), 4),
    )
    .per("orders"),
    Column::new(
        Field::new("dispatch_hours_median", "下单用时中位数", "hours", "median of dispatched − ordered (type-7 quantile)"),
        Derive::Float(|r| r.q[0].median, 2),
    ),
    Column::new(
        Field::new("accept_hours_median", "接单用时中位数", "hours", "median of accepted − dispatched (type-7 quantile)"),
        Derive::Float(|r| r.q[1].median, 2),
    ),
    Column::new(
        Field::new("complete_hours_median", "服务用时中位数", "hours", "median of completed − accepted (type-7 quantile)"),
        Derive::Float(|r| r.q[2].median, 2),
    ),
    Column::new(Field::new("order_ratings", "评价数", "orders", "completed orders with a rating"), Derive::Count(RATINGS)),
    Column::new(
        Field::new("order_rating_mean", "评价均分", "points", "mean rating (on the source's scale)"),
        Derive::Float(|r| rate(r.c[RATING_CENTS] as f64 / 100.0, r.c[RATINGS]), 2),
    )
    .per("order_ratings"),
    Column::new(
        Field::new("order_satisfaction_rate", "点单满意率", "share", "ratings ≥ indicators.service_orders.satisfied_min / order_ratings"),
        Derive::Float(|r| rate(r.c[SATISFIED] as f64, r.c[RATINGS]), 4),
    )
    .per("order_ratings"),
    Column::new(
        Field::new(
            "stale_open_orders",
            "超期未完成点单数",
            "orders",
            "orders not completed at T and ordered more than indicators.service_orders.stale_days before T",
        ),
        Derive::Count(STALE),
    ),
];

impl Family<OrderFacts> for Orders {
    fn name(&self) -> &'static str {
        "service orders (点单—下单—接单)"
    }

    fn counters(&self) -> &'static [&'static str] {
        &["ordered", "cancelled", "dispatched", "accepted", "completed", "ratings", "rating_cents", "satisfied", "stale"]
    }

    fn stores(&self) -> &'static [&'static str] {
        &["to_dispatch", "to_accept", "to_complete"]
    }

    fn count(&self, o: &OrderFacts, ctx: &CountContext, n: &mut [u64], keep: &mut [Option<i64>]) {
        if o.cancelled {
            n[CANCELLED] += 1;
            return;
        }
        let t = ctx.as_of_ms;
        n[ORDERED] += 1;
        // Each step is reached before T, after the step before it (the checks hold the order).
        let dispatched = o.dispatched.filter(|&d| d < t);
        let accepted = o.accepted.filter(|&a| a < t && dispatched.is_some());
        let completed = o.completed.filter(|&c| c < t && accepted.is_some());
        if let Some(d) = dispatched {
            n[DISPATCHED] += 1;
            keep[0] = Some(d - o.ordered);
        }
        if let (Some(a), Some(d)) = (accepted, dispatched) {
            n[ACCEPTED] += 1;
            keep[1] = Some(a - d);
        }
        if let (Some(c), Some(a)) = (completed, accepted) {
            n[COMPLETED] += 1;
            keep[2] = Some(c - a);
            if let Some(x) = o.rating {
                n[RATINGS] += 1;
                n[RATING_CENTS] += (x * 100.0).round().max(0.0) as u64;
                n[SATISFIED] += (x >= ctx.settings.order_satisfied_min) as u64;
            }
        }
        if completed.is_none() && o.ordered < t - ctx.settings.order_stale_ms {
            n[STALE] += 1;
        }
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }
}

impl Facts for OrderFacts {
    fn time(&self) -> Option<i64> {
        Some(self.ordered)
    }
    fn dims(&self) -> &[u32] {
        &[]
    }
}

pub static FAMILIES: &[&dyn Family<OrderFacts>] = &[&ORDERS];

/// The per-member columns of period tables (not a family's: they need distinct members).
pub static MEMBER_FIELDS: &[Field] = &[
    Field::new("active_members", "接单党员数", "members", "distinct members who accepted an order of the period before T"),
    Field::new(
        "orders_per_active_member",
        "人均接单数",
        "orders",
        "accepted orders of the period with a member / active_members; empty below indicators.service_orders.min_members",
    ),
    Field::new(
        "top10_member_share",
        "前10%党员接单占比",
        "share",
        "share of those orders taken by the busiest ⌈10 % × active_members⌉ members; empty below min_members",
    ),
];

/// The sums of the service-order sources: the tally and, for the period's accepted orders,
/// their home unit and the member's hash.
pub struct OrderTally {
    pub tally: Tally<OrderFacts>,
    members: Vec<(u32, u64)>,
}

impl OrderTally {
    pub fn new(tally: Tally<OrderFacts>) -> OrderTally {
        OrderTally { tally, members: Vec::new() }
    }

    pub fn add(&mut self, home: u32, o: &OrderFacts, as_of_ms: i64) -> Placement {
        let pl = self.tally.add(home, o);
        let accepted = o.dispatched.is_some_and(|d| d < as_of_ms) && o.accepted.is_some_and(|a| a < as_of_ms);
        if let (true, false, true, Some(m)) = (pl.in_period, o.cancelled, accepted, o.member) {
            self.members.push((home, m));
        }
        pl
    }

    /// The per-member columns of a table whose rows are units: `unit_of_home(home)` is the
    /// row of a home unit (`None`: in no row).
    pub fn member_columns(&self, f: &mut Frame, rows: usize, min_members: u64, unit_of_home: impl Fn(u32) -> Option<usize>) {
        let mut per_unit: Vec<HashMap<u64, u64>> = vec![HashMap::new(); rows];
        for &(home, m) in &self.members {
            if let Some(u) = unit_of_home(home) {
                *per_unit[u].entry(m).or_default() += 1;
            }
        }
        let mut active = Vec::with_capacity(rows);
        let mut per_member = Vec::with_capacity(rows);
        let mut top = Vec::with_capacity(rows);
        for counts in &per_unit {
            let k = counts.len() as u64;
            active.push(Some(k as i64));
            if k < min_members.max(1) {
                per_member.push(None);
                top.push(None);
                continue;
            }
            let mut c: Vec<u64> = counts.values().copied().collect();
            c.sort_unstable_by(|a, b| b.cmp(a));
            let total: u64 = c.iter().sum();
            let busiest = (k as usize).div_ceil(10);
            per_member.push(rate(total as f64, k));
            top.push(rate(c[..busiest].iter().sum::<u64>() as f64, total));
        }
        f.int(MEMBER_FIELDS[0].key, active);
        f.float(MEMBER_FIELDS[1].key, per_member.into_iter().map(|x| x.map(|v| (v * 100.0).round() / 100.0)).collect(), 2);
        f.float(MEMBER_FIELDS[2].key, top.into_iter().map(|x| x.map(|v| (v * 1e4).round() / 1e4)).collect(), 4);
    }
}
