//! The running sums of a run: what the indicator stage keeps while cases stream past.
//!
//! Cases are not kept. Each assigned case adds to the counts of its *home* unit (the grid its
//! point lies in, or the community or street its code names) for its month and for the
//! period, and to the period counts of its category, department and channel; roll-ups to
//! communities, streets, districts and the city sum home units at the end.
//!
//! What is kept per case is what an exact quantile needs and nothing more: for each case
//! closed by the as-of moment, its home unit (4 bytes), its handling time (4 bytes of seconds,
//! or 8 bytes of milliseconds once a duration is not whole seconds), a tag byte (its month,
//! whether it is in the period) and, when a source maps category, department or channel,
//! their values (4 bytes each). Medians and P90s are then exact (type 7), at every level.

use crate::config::ShouldBeClosedFile;
use crate::hierarchy::{Hierarchy, Level};
use crate::indicators::cases::{Acc, CaseFacts};
use crate::indicators::{Placement, place};

/// Dimension value meaning "empty".
pub const NO_VALUE: u32 = u32::MAX;
/// Tag: the case is in no trend month.
const NO_MONTH: u8 = 0x7f;
/// Tag bit: the case is in the reporting period.
const IN_PERIOD: u8 = 0x80;

/// Handling times of the closed cases, in seconds while every one is whole seconds.
#[derive(Debug, Clone)]
pub enum DurationValues {
    Secs(Vec<u32>),
    Millis(Vec<u64>),
}

impl Default for DurationValues {
    fn default() -> Self {
        DurationValues::Secs(Vec::new())
    }
}

impl DurationValues {
    fn push(&mut self, ms: i64) {
        let ms = ms.max(0) as u64;
        if let DurationValues::Secs(v) = self {
            if ms % 1000 == 0 && ms / 1000 <= u32::MAX as u64 {
                v.push((ms / 1000) as u32);
                return;
            }
            let wide: Vec<u64> = v.iter().map(|&s| s as u64 * 1000).collect();
            *self = DurationValues::Millis(wide);
        }
        if let DurationValues::Millis(v) = self {
            v.push(ms);
        }
    }
}

/// Closed cases' entries for the quantiles, as columns of equal length.
#[derive(Debug, Clone, Default)]
pub struct DurationPart {
    /// Global home-unit index.
    pub home: Vec<u32>,
    /// Month index (or `NO_MONTH`) and the `IN_PERIOD` bit.
    pub tag: Vec<u8>,
    pub values: DurationValues,
    /// Category, department and channel values, only when some source maps one.
    pub dims: Option<Vec<[u32; 3]>>,
}

/// One entry as the quantile keys see it.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub home: u32,
    tag: u8,
    pub dims: Option<&'a [u32; 3]>,
}

impl Entry<'_> {
    /// Month of the entry, if in the trend window.
    pub fn month(&self) -> Option<usize> {
        let m = self.tag & !IN_PERIOD;
        (m != NO_MONTH).then_some(m as usize)
    }

    pub fn in_period(&self) -> bool {
        self.tag & IN_PERIOD != 0
    }
}

/// The closed cases' entries: one part per thread that counted them (parts are kept apart
/// rather than copied together; quantiles do not depend on the order of entries).
#[derive(Debug, Clone, Default)]
pub struct Durations {
    pub parts: Vec<DurationPart>,
}

impl Durations {
    pub fn len(&self) -> usize {
        self.parts.iter().map(|p| p.home.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every entry with its handling hours.
    pub fn hours(&self) -> impl Iterator<Item = (Entry<'_>, f64)> + '_ {
        self.parts.iter().flat_map(|p| {
            (0..p.home.len()).map(move |i| {
                let h = match &p.values {
                    DurationValues::Secs(v) => v[i].hours(),
                    DurationValues::Millis(v) => v[i].hours(),
                };
                (p.entry(i), h)
            })
        })
    }

    /// Bytes of the entries (as stored; reserved room not yet used is not counted).
    pub fn bytes(&self) -> usize {
        self.parts
            .iter()
            .map(|p| {
                let v = match &p.values {
                    DurationValues::Secs(v) => v.len() * 4,
                    DurationValues::Millis(v) => v.len() * 8,
                };
                p.home.len() * 4 + p.tag.len() + v + p.dims.as_ref().map_or(0, |d| d.len() * 12)
            })
            .sum()
    }
}

impl DurationPart {
    fn entry(&self, i: usize) -> Entry<'_> {
        Entry { home: self.home[i], tag: self.tag[i], dims: self.dims.as_ref().map(|d| &d[i]) }
    }
}

/// Counts per home unit and slot, per dimension value, and the closed cases' durations.
#[derive(Debug, Clone)]
pub struct Tally {
    /// Slots: the trend months, then the period when it is not one of them.
    pub slots: usize,
    /// Slot of the period (a month's when the period is one of the trend months).
    pub period_slot: usize,
    /// The period is not one of the trend months: it has a slot of its own.
    pub separate_period: bool,
    /// First global index of each level's units.
    pub level_offset: [u32; 4],
    /// Per global home unit × slot.
    pub accs: Vec<Acc>,
    /// Per dimension, per value (grown as values appear), the period counts; the last entry of
    /// `dims_empty` is the cases without a value.
    pub dims: [Vec<Acc>; 3],
    pub dims_empty: [Acc; 3],
    pub durations: Durations,
    record_dims: bool,
    as_of: i64,
    rule: ShouldBeClosedFile,
    period: (i64, i64),
    bounds: Vec<i64>,
}

impl Tally {
    /// An empty tally for the hierarchy `h`. `record_dims`: some source maps a dimension.
    pub fn new(p: &crate::config::Pipeline, h: &Hierarchy, record_dims: bool) -> Tally {
        let nm = p.period.months.len();
        let same = p.period.month_index();
        let slots = nm + same.is_none() as usize;
        let mut level_offset = [0u32; 4];
        let mut total = 0u32;
        for l in Level::ALL {
            level_offset[l as usize] = total;
            total += h.units(l).len() as u32;
        }
        Tally {
            slots,
            period_slot: same.unwrap_or(nm),
            separate_period: same.is_none(),
            level_offset,
            accs: vec![Acc::default(); total as usize * slots],
            dims: Default::default(),
            dims_empty: Default::default(),
            durations: Durations { parts: vec![DurationPart { dims: record_dims.then(Vec::new), ..Default::default() }] },
            record_dims,
            as_of: p.period.as_of_ms(),
            rule: p.indicators.should_be_closed,
            period: (p.period.start_ms(), p.period.end_ms()),
            bounds: p.period.month_bounds_ms(),
        }
    }

    /// An empty tally of the same shape (for a parallel partial sum).
    pub fn empty_like(&self) -> Tally {
        Tally {
            accs: vec![Acc::default(); self.accs.len()],
            dims: [0, 1, 2].map(|d| vec![Acc::default(); self.dims[d].len()]),
            dims_empty: Default::default(),
            durations: Durations { parts: vec![DurationPart { dims: self.record_dims.then(Vec::new), ..Default::default() }] },
            bounds: self.bounds.clone(),
            ..*self
        }
    }

    /// Reserves room for `n` more closed-case entries (address space only: nothing is touched
    /// until used), so the entry columns do not grow by doubling and copying.
    pub fn reserve(&mut self, n: usize) {
        if let Some(p) = self.durations.parts.last_mut() {
            p.home.reserve(n);
            p.tag.reserve(n);
            match &mut p.values {
                DurationValues::Secs(v) => v.reserve(n),
                DurationValues::Millis(v) => v.reserve(n),
            }
            if let Some(d) = &mut p.dims {
                d.reserve(n);
            }
        }
    }

    /// Global index of unit `u` of `level`.
    pub fn home(&self, level: Level, u: u32) -> u32 {
        self.level_offset[level as usize] + u
    }

    /// Where a case falls in time.
    pub fn place(&self, received: i64) -> Placement {
        place(received, self.period, &self.bounds)
    }

    /// Adds one assigned case at its home unit; `dims` are its interned dimension values.
    pub fn add(&mut self, home: u32, c: &CaseFacts, dims: [u32; 3]) -> Placement {
        let pl = self.place(c.received);
        let base = home as usize * self.slots;
        let mut closed_ms = None;
        if let Some(m) = pl.month {
            closed_ms = self.accs[base + m].add(c, self.as_of, self.rule);
        }
        if pl.in_period {
            if self.separate_period {
                closed_ms = self.accs[base + self.period_slot].add(c, self.as_of, self.rule);
            }
            for (d, &v) in dims.iter().enumerate() {
                let acc = if v == NO_VALUE {
                    &mut self.dims_empty[d]
                } else {
                    let v = v as usize;
                    if self.dims[d].len() <= v {
                        self.dims[d].resize(v + 1, Acc::default());
                    }
                    &mut self.dims[d][v]
                };
                let ms = acc.add(c, self.as_of, self.rule);
                closed_ms = closed_ms.or(ms);
            }
        }
        if let Some(ms) = closed_ms {
            let tag = pl.month.map_or(NO_MONTH, |m| m as u8) | if pl.in_period { IN_PERIOD } else { 0 };
            if let Some(part) = self.durations.parts.last_mut() {
                part.home.push(home);
                part.tag.push(tag);
                part.values.push(ms);
                if let Some(d) = &mut part.dims {
                    d.push(dims);
                }
            }
        }
        pl
    }

    /// Adds a partial tally (of the same shape).
    pub fn merge(&mut self, o: Tally) {
        for (a, b) in self.accs.iter_mut().zip(&o.accs) {
            a.merge(b);
        }
        for d in 0..3 {
            if self.dims[d].len() < o.dims[d].len() {
                self.dims[d].resize(o.dims[d].len(), Acc::default());
            }
            for (a, b) in self.dims[d].iter_mut().zip(&o.dims[d]) {
                a.merge(b);
            }
            self.dims_empty[d].merge(&o.dims_empty[d]);
        }
        self.durations.parts.extend(o.durations.parts);
    }
}

/// Median and P90 of handling hours (type 7) of one group of closed cases.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Quantiles {
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

/// Handling hours of a duration value.
trait Hours: Copy + Ord + Send + Sync {
    fn hours(self) -> f64;
}
impl Hours for u32 {
    fn hours(self) -> f64 {
        self as f64 / 3600.0
    }
}
impl Hours for u64 {
    fn hours(self) -> f64 {
        self as f64 / 3_600_000.0
    }
}

/// Quantiles of `n_keys` groups: an entry belongs to the groups `keys(entry)` yields. A
/// counting sort puts each group's values together; each group's order statistics are then
/// selected in linear time.
pub fn grouped_quantiles(durations: &Durations, n_keys: usize, keys: impl Fn(Entry<'_>) -> [Option<u32>; 2] + Sync) -> Vec<Quantiles> {
    // Seconds while every part has whole seconds; milliseconds otherwise.
    if durations.parts.iter().all(|p| matches!(p.values, DurationValues::Secs(_))) {
        grouped::<u32>(durations, n_keys, keys, |p, i| match &p.values {
            DurationValues::Secs(v) => v[i],
            DurationValues::Millis(_) => 0,
        })
    } else {
        grouped::<u64>(durations, n_keys, keys, |p, i| match &p.values {
            DurationValues::Secs(v) => v[i] as u64 * 1000,
            DurationValues::Millis(v) => v[i],
        })
    }
}

fn grouped<T: Hours + Default>(
    d: &Durations,
    n_keys: usize,
    keys: impl Fn(Entry<'_>) -> [Option<u32>; 2],
    value: impl Fn(&DurationPart, usize) -> T,
) -> Vec<Quantiles> {
    let mut start = vec![0usize; n_keys + 1];
    for p in &d.parts {
        for i in 0..p.home.len() {
            for k in keys(p.entry(i)).into_iter().flatten() {
                start[k as usize + 1] += 1;
            }
        }
    }
    for k in 0..n_keys {
        start[k + 1] += start[k];
    }
    let mut fill = start.clone();
    let mut buf = vec![T::default(); start[n_keys]];
    for p in &d.parts {
        for i in 0..p.home.len() {
            for k in keys(p.entry(i)).into_iter().flatten() {
                buf[fill[k as usize]] = value(p, i);
                fill[k as usize] += 1;
            }
        }
    }
    (0..n_keys).map(|k| quantiles_of(&mut buf[start[k]..start[k + 1]])).collect()
}

/// Type-7 median and P90 of unsorted values (reordered in place).
fn quantiles_of<T: Hours>(v: &mut [T]) -> Quantiles {
    if v.is_empty() {
        return Quantiles::default();
    }
    Quantiles { median: Some(select_quantile(v, 0.5)), p90: Some(select_quantile(v, 0.9)) }
}

/// The type-7 quantile q of `v` (n ≥ 1): linear interpolation between the order statistics
/// at floor and ceil of q·(n−1), in hours, as `cases::quantile` computes it on sorted hours.
fn select_quantile<T: Hours>(v: &mut [T], q: f64) -> f64 {
    let n = v.len();
    let pos = q * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (pos.ceil() as usize).min(n - 1);
    let frac = pos - lo as f64;
    let (_, &mut a, right) = v.select_nth_unstable(lo);
    let a = a.hours();
    let b = if hi > lo { right.iter().copied().min().map_or(a, |x| x.hours()) } else { a };
    a + (b - a) * frac
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::indicators::cases::quantile;

    #[test]
    fn selected_quantiles_equal_sorted_ones() {
        let mut x: u64 = 7;
        for n in [1usize, 2, 3, 10, 11, 57, 1000] {
            let vals: Vec<u32> = (0..n)
                .map(|_| {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((x >> 33) % 500_000) as u32
                })
                .collect();
            let mut hours: Vec<f64> = vals.iter().map(|&s| s.hours()).collect();
            hours.sort_by(f64::total_cmp);
            let mut v = vals.clone();
            let q = quantiles_of(&mut v);
            assert_eq!(q.median, quantile(&hours, 0.5), "n = {n}");
            assert_eq!(q.p90, quantile(&hours, 0.9), "n = {n}");
            // Milliseconds give the same hours as seconds.
            let mut ms: Vec<u64> = vals.iter().map(|&s| s as u64 * 1000).collect();
            assert_eq!(quantiles_of(&mut ms), q);
        }
    }

    #[test]
    fn durations_widen_to_milliseconds_when_needed() {
        let mut d = DurationValues::default();
        d.push(3_600_000);
        d.push(1_500);
        match &d {
            DurationValues::Millis(v) => assert_eq!(v, &vec![3_600_000, 1_500]),
            _ => panic!("expected milliseconds"),
        }
    }

    #[test]
    fn groups_get_their_own_values_across_parts_of_both_units() {
        let part = |home: Vec<u32>, values: DurationValues| DurationPart { tag: vec![0; home.len()], home, values, dims: None };
        let d = Durations {
            parts: vec![
                part(vec![0, 1, 0], DurationValues::Secs(vec![3600, 7200, 10800])),
                part(vec![1, 0], DurationValues::Millis(vec![14_400_000, 18_000_000])),
            ],
        };
        let q = grouped_quantiles(&d, 3, |e| [Some(e.home), Some(2)]);
        assert_eq!(q[0].median, Some(3.0));
        assert_eq!(q[1].median, Some(3.0));
        assert_eq!(q[2].median, Some(3.0));
        assert_eq!(q[2].p90, Some(4.6));
        let none = grouped_quantiles(&d, 4, |e| [Some(e.home), None]);
        assert_eq!(none[3], Quantiles::default());
        assert_eq!(d.len(), 5);
    }
}
