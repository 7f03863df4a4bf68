//! The running sums of one record kind: what the indicator stage keeps while records stream
//! past.
//!
//! Records are not kept. Each placed record adds to the counters of its *home* unit (the grid
//! its point lies in, or the unit its code names) for its month and for the period, and to the
//! period counters of its dimension values; roll-ups to communities, streets, districts and the
//! city sum home units at the end. The families of the kind decide what a record adds
//! (`Family::count`, computed once per record and added to each of its slots) and which values
//! are kept exactly for quantiles (`quantiles::Store`).

use super::family::{CountContext, Family, Layout};
use super::quantiles::{IN_PERIOD, NO_MONTH, Store};
use crate::config::Pipeline;
use crate::vocab::dictionary::NO_VALUE;
use crate::vocab::state::TallyState;
use crate::vocab::units::{Hierarchy, Level};

/// What the tally needs of a kind's facts.
pub trait Facts {
    /// When the record happened (UTC ms), for kinds counted by month; `None` for kinds whose
    /// records are states at the as-of moment (counted in the period only).
    fn time(&self) -> Option<i64>;
    /// Its dimension values (`NO_VALUE` for empty).
    fn dims(&self) -> &[u32];
}

/// Where a record falls in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Placement {
    pub in_period: bool,
    /// Index into the counted months (the history, then the trend window), if the record is
    /// in one.
    pub month: Option<usize>,
    /// The record happened at or after the as-of moment: it is in no window.
    pub after_as_of: bool,
}

/// Places a record by its time: the period is `[start, end + 1 day)` in the city's time zone,
/// the months likewise.
pub fn place(t: i64, period: (i64, i64), month_bounds: &[i64]) -> Placement {
    let in_period = t >= period.0 && t < period.1;
    let month = match month_bounds.partition_point(|&b| b <= t) {
        0 => None,
        k if k >= month_bounds.len() => None,
        k => Some(k - 1),
    };
    Placement { in_period, month, after_as_of: false }
}

/// Counters of one dimension: per value (grown as values appear) and for records without one.
#[derive(Debug, Clone, Default)]
pub struct DimCounts {
    pub values: Vec<u64>,
    pub empty: Vec<u64>,
}

impl DimCounts {
    /// The counters (`w` of them) of value `v`, or of the records without one; grown as
    /// values appear.
    fn block_mut(&mut self, v: u32, w: usize) -> &mut [u64] {
        if v == NO_VALUE {
            return &mut self.empty[..];
        }
        let v = v as usize;
        if self.values.len() < (v + 1) * w {
            self.values.resize((v + 1) * w, 0);
        }
        &mut self.values[v * w..(v + 1) * w]
    }
}

/// The running sums of one kind.
pub struct Tally<F: 'static> {
    pub families: &'static [&'static dyn Family<F>],
    pub layout: Layout,
    /// Slots: the compared months, then the period when it is not one of them (a kind counted
    /// in the period only has one slot).
    pub slots: usize,
    /// Slot of the period (a month's when the period is one of the trend months).
    pub period_slot: usize,
    /// How many months have slots (slots `0..months`).
    pub months: usize,
    /// The counted month (index into `Period::counted_months`: the history months first, then
    /// the trend window) of each month slot: the months the tables show or compare with.
    pub compared: Vec<usize>,
    /// The slot of each counted month, `None` for a history month no table compares with.
    pub month_slot: Vec<Option<usize>>,
    /// How many of the counted months are history (before the trend window, not shown).
    pub history: usize,
    /// The period is not one of the trend months: it has a slot of its own.
    pub separate_period: bool,
    /// First global index of each level's units.
    pub level_offset: [u32; 4],
    /// Per global home unit × slot, `layout.width` counters.
    pub counts: Vec<u64>,
    /// Per dimension of the kind, the period's counters by value.
    pub dims: Vec<DimCounts>,
    /// One per store of the families, in layout order.
    pub stores: Vec<Store>,
    ctx: CountContext,
    /// Period and month bounds (UTC ms) for timed kinds.
    timed: Option<((i64, i64), Vec<i64>)>,
    delta: Vec<u64>,
    keep: Vec<Option<i64>>,
}

impl<F: Facts + 'static> Tally<F> {
    /// An empty tally for the hierarchy `h`: by month and period when `timed`, else the period
    /// only. `ndims`: dimensions of the kind; `record_dims`: some source maps one, so stored
    /// values carry them.
    pub fn new(
        p: &Pipeline,
        h: &Hierarchy,
        calendar: std::sync::Arc<crate::vocab::calendar::Calendar>,
        families: &'static [&'static dyn Family<F>],
        timed: bool,
        ndims: usize,
        record_dims: bool,
    ) -> Tally<F> {
        let layout = Layout::of(families);
        let compared = if timed { p.period.compared_months() } else { Vec::new() };
        let mut month_slot = vec![None; if timed { p.period.counted_months().len() } else { 0 }];
        compared.iter().enumerate().for_each(|(s, &m)| month_slot[m] = Some(s));
        let nm = compared.len();
        // The period, when it is a month, is the trend window's last: always compared.
        let same = p.period.month_index().and_then(|m| month_slot.get(m).copied().flatten());
        let (slots, period_slot, separate_period) =
            if timed { (nm + same.is_none() as usize, same.unwrap_or(nm), same.is_none()) } else { (1, 0, true) };
        let mut level_offset = [0u32; 4];
        let mut total = 0u32;
        for l in Level::ALL {
            level_offset[l as usize] = total;
            total += h.units(l).len() as u32;
        }
        let w = layout.width;
        Tally {
            families,
            slots,
            months: nm,
            compared,
            month_slot,
            history: if timed { p.period.history.len() } else { 0 },
            period_slot,
            separate_period,
            level_offset,
            counts: vec![0; total as usize * slots * w],
            dims: vec![DimCounts { values: Vec::new(), empty: vec![0; w] }; ndims],
            stores: (0..layout.n_stores).map(|_| Store::new(if record_dims { ndims } else { 0 })).collect(),
            ctx: CountContext { as_of_ms: p.period.as_of_ms(), as_of: p.period.as_of, settings: p.indicators.clone(), calendar },
            timed: timed.then(|| ((p.period.start_ms(), p.period.end_ms()), p.period.month_bounds_ms())),
            delta: vec![0; w],
            keep: vec![None; layout.n_stores],
            layout,
        }
    }

    /// An empty tally of the same shape (for a parallel partial sum).
    pub fn empty_like(&self) -> Tally<F> {
        Tally {
            counts: vec![0; self.counts.len()],
            dims: self.dims.iter().map(|d| DimCounts { values: vec![0; d.values.len()], empty: vec![0; self.layout.width] }).collect(),
            stores: self.stores.iter().map(Store::empty_like).collect(),
            ..self.clone_shape()
        }
    }

    fn clone_shape(&self) -> Tally<F> {
        Tally {
            families: self.families,
            layout: self.layout.clone(),
            slots: self.slots,
            months: self.months,
            compared: self.compared.clone(),
            month_slot: self.month_slot.clone(),
            history: self.history,
            period_slot: self.period_slot,
            separate_period: self.separate_period,
            level_offset: self.level_offset,
            counts: Vec::new(),
            dims: Vec::new(),
            stores: Vec::new(),
            ctx: self.ctx.clone(),
            timed: self.timed.clone(),
            delta: self.delta.clone(),
            keep: self.keep.clone(),
        }
    }

    /// Reserves room for `n` more kept values in every store.
    pub fn reserve(&mut self, n: usize) {
        self.stores.iter_mut().for_each(|s| s.reserve(n));
    }

    /// Global index of unit `u` of `level`.
    pub fn home(&self, level: Level, u: u32) -> u32 {
        self.level_offset[level as usize] + u
    }

    /// The counters of a home unit in a slot.
    pub fn block(&self, home: usize, slot: usize) -> &[u64] {
        let w = self.layout.width;
        &self.counts[(home * self.slots + slot) * w..(home * self.slots + slot + 1) * w]
    }

    /// Adds one placed record at its home unit.
    pub fn add(&mut self, home: u32, fact: &F) -> Placement {
        let pl = match (&self.timed, fact.time()) {
            // What happened at or after the as-of moment is not known at it: in no window.
            (Some(_), Some(t)) if t >= self.ctx.as_of_ms => Placement { after_as_of: true, ..Default::default() },
            (Some((period, bounds)), Some(t)) => place(t, *period, bounds),
            _ => Placement { in_period: true, month: None, after_as_of: false },
        };
        // A month no table shows or compares with is not counted (the placement still says
        // where the record fell, for the source's account).
        let slot = pl.month.and_then(|m| self.month_slot[m]);
        if slot.is_none() && !pl.in_period {
            return pl;
        }
        // What the record adds, once; then added to each slot it counts in.
        let (w, lay) = (self.layout.width, &self.layout);
        self.delta.iter_mut().for_each(|d| *d = 0);
        self.keep.iter_mut().for_each(|k| *k = None);
        self.delta[0] = 1;
        for (f, fam) in self.families.iter().enumerate() {
            let ((c0, nc), (s0, ns)) = (lay.counters[f], lay.stores[f]);
            fam.count(fact, &self.ctx, &mut self.delta[c0..c0 + nc], &mut self.keep[s0..s0 + ns]);
        }
        let base = home as usize * self.slots;
        let add = |dst: &mut [u64], delta: &[u64]| dst.iter_mut().zip(delta).for_each(|(a, b)| *a += b);
        if let Some(m) = slot {
            add(&mut self.counts[(base + m) * w..(base + m + 1) * w], &self.delta);
        }
        if pl.in_period {
            if self.separate_period {
                let s = base + self.period_slot;
                add(&mut self.counts[s * w..(s + 1) * w], &self.delta);
            }
            for (d, &v) in fact.dims().iter().enumerate().take(self.dims.len()) {
                add(self.dims[d].block_mut(v, w), &self.delta);
            }
        }
        let tag = slot.map_or(NO_MONTH, |m| m as u8) | if pl.in_period { IN_PERIOD } else { 0 };
        for (s, k) in self.keep.iter().enumerate() {
            if let Some(v) = k {
                self.stores[s].push(home, tag, *v, fact.dims());
            }
        }
        pl
    }

    /// The as-of moment the tally counts states at (UTC ms).
    pub fn as_of_ms(&self) -> i64 {
        self.ctx.as_of_ms
    }

    /// Adds a partial tally of the same shape.
    pub fn merge(&mut self, o: Tally<F>) {
        self.counts.iter_mut().zip(&o.counts).for_each(|(a, b)| *a += b);
        for (a, b) in self.dims.iter_mut().zip(o.dims) {
            if a.values.len() < b.values.len() {
                a.values.resize(b.values.len(), 0);
            }
            a.values.iter_mut().zip(&b.values).for_each(|(x, y)| *x += y);
            a.empty.iter_mut().zip(&b.empty).for_each(|(x, y)| *x += y);
        }
        for (a, b) in self.stores.iter_mut().zip(o.stores) {
            a.merge(b);
        }
    }

    /// The sums as plain columns, for a partial run's state.
    pub fn to_state(&self) -> TallyState {
        let w = self.layout.width;
        let mut dims = Vec::new();
        for (d, dc) in self.dims.iter().enumerate() {
            let blocks = dc.values.chunks(w).enumerate().map(|(v, b)| (v as u32, b)).chain(std::iter::once((NO_VALUE, &dc.empty[..])));
            for (v, block) in blocks {
                dims.extend(block.iter().enumerate().filter(|(_, c)| **c > 0).map(|(k, c)| (d as u32, v, k as u32, *c)));
            }
        }
        TallyState { counts: self.counts.clone(), dims, stores: self.stores.iter().map(Store::to_state).collect() }
    }

    /// Adds a partial run's sums. `dim_map[d][v]` is this run's number of the state's value
    /// `v` of dimension `d`. A state of another shape (another configuration or grid layer)
    /// is refused.
    pub fn absorb(&mut self, s: TallyState, dim_map: &[Vec<u32>]) -> Result<(), String> {
        let w = self.layout.width;
        if s.counts.len() != self.counts.len() || s.stores.len() != self.stores.len() {
            return Err(format!(
                "its sums have {} counters and {} stores where this configuration has {} and {}",
                s.counts.len(),
                s.stores.len(),
                self.counts.len(),
                self.stores.len()
            ));
        }
        self.counts.iter_mut().zip(&s.counts).for_each(|(a, b)| *a += b);
        for (d, v, k, c) in s.dims {
            let (Some(dc), true) = (self.dims.get_mut(d as usize), (k as usize) < w) else {
                return Err(format!("its dimension counts name dimension {d}, counter {k}, which this configuration does not have"));
            };
            let v = match v {
                NO_VALUE => NO_VALUE,
                v => *dim_map
                    .get(d as usize)
                    .and_then(|m| m.get(v as usize))
                    .ok_or_else(|| format!("its dimension counts name value {v} of dimension {d}, which its dictionary does not have"))?,
            };
            dc.block_mut(v, w)[k as usize] += c;
        }
        for (store, st) in self.stores.iter_mut().zip(s.stores) {
            store.absorb(st, dim_map)?;
        }
        Ok(())
    }

    /// Bytes of the kept values.
    pub fn stores_bytes(&self) -> usize {
        self.stores.iter().map(Store::bytes).sum()
    }

    /// The number of global home units.
    pub fn homes(&self) -> usize {
        self.counts.len() / (self.slots * self.layout.width).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_by_time() {
        let bounds = [0, 10, 20, 30];
        let at = |in_period, month| Placement { in_period, month, after_as_of: false };
        assert_eq!(place(-1, (10, 20), &bounds), at(false, None));
        assert_eq!(place(0, (10, 20), &bounds), at(false, Some(0)));
        assert_eq!(place(10, (10, 20), &bounds), at(true, Some(1)));
        assert_eq!(place(19, (10, 20), &bounds), at(true, Some(1)));
        assert_eq!(place(20, (10, 20), &bounds), at(false, Some(2)));
        assert_eq!(place(30, (10, 20), &bounds), at(false, None));
    }
}
