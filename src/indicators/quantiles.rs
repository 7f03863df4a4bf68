//! Exact medians and P90s: a store keeps one duration per record (with the home unit, a tag of
//! its month and period, and its dimension values), and groups of entries get their type-7
//! quantiles by a counting sort and selection. Any family can keep a store (`Family::stores`);
//! handling times are one.
//!
//! Per entry: its home unit (4 bytes), the value (4 bytes of seconds, or 8 bytes of
//! milliseconds once a value is not whole seconds), the tag (1 byte) and, when a source maps a
//! dimension, its values (4 bytes each).

use crate::vocab::state::StoreState;

/// Tag: the record is in no trend month.
pub const NO_MONTH: u8 = 0x7f;
/// Tag bit: the record is in the reporting period.
pub const IN_PERIOD: u8 = 0x80;

/// The values of a store, in seconds while every one is whole seconds.
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

/// Entries kept by one thread, as columns of equal length.
#[derive(Debug, Clone, Default)]
pub struct StorePart {
    /// Global home-unit index.
    pub home: Vec<u32>,
    /// Month index (or `NO_MONTH`) and the `IN_PERIOD` bit.
    pub tag: Vec<u8>,
    pub values: DurationValues,
    /// Dimension values, `ndims` per entry, only when some source maps a dimension.
    pub dims: Option<Vec<u32>>,
}

/// One entry as the grouping keys see it.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    pub home: u32,
    tag: u8,
    pub dims: Option<&'a [u32]>,
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

/// A store: one part per thread that kept entries (parts are kept apart rather than copied
/// together; quantiles do not depend on the order of entries).
#[derive(Debug, Clone, Default)]
pub struct Store {
    pub parts: Vec<StorePart>,
    ndims: usize,
}

impl Store {
    /// An empty store whose entries carry `ndims` dimension values (0: none).
    pub fn new(ndims: usize) -> Store {
        Store { parts: vec![StorePart { dims: (ndims > 0).then(Vec::new), ..Default::default() }], ndims }
    }

    /// An empty store of the same shape.
    pub fn empty_like(&self) -> Store {
        Store::new(self.ndims)
    }

    pub fn push(&mut self, home: u32, tag: u8, ms: i64, dims: &[u32]) {
        if let Some(part) = self.parts.last_mut() {
            part.home.push(home);
            part.tag.push(tag);
            part.values.push(ms);
            if let Some(d) = &mut part.dims {
                d.extend(dims.iter().take(self.ndims));
            }
        }
    }

    /// Reserves room for `n` more entries (address space only: nothing is touched until used),
    /// so the columns do not grow by doubling and copying.
    pub fn reserve(&mut self, n: usize) {
        if let Some(p) = self.parts.last_mut() {
            p.home.reserve(n);
            p.tag.reserve(n);
            match &mut p.values {
                DurationValues::Secs(v) => v.reserve(n),
                DurationValues::Millis(v) => v.reserve(n),
            }
            if let Some(d) = &mut p.dims {
                d.reserve(n * self.ndims);
            }
        }
    }

    /// Adds another thread's entries.
    pub fn merge(&mut self, o: Store) {
        self.parts.extend(o.parts);
    }

    /// The entries as plain columns (values in milliseconds), for a partial run's state.
    pub fn to_state(&self) -> StoreState {
        let n = self.len();
        let mut s = StoreState {
            home: Vec::with_capacity(n),
            tag: Vec::with_capacity(n),
            ms: Vec::with_capacity(n),
            dims: (self.ndims > 0).then(|| Vec::with_capacity(n * self.ndims)),
            ndims: self.ndims,
        };
        for p in &self.parts {
            s.home.extend(&p.home);
            s.tag.extend(&p.tag);
            match &p.values {
                DurationValues::Secs(v) => s.ms.extend(v.iter().map(|&x| x as u64 * 1000)),
                DurationValues::Millis(v) => s.ms.extend(v),
            }
            if let Some(d) = &mut s.dims {
                match &p.dims {
                    Some(pd) => d.extend(pd),
                    // A part without dimension values (cannot happen in one store): empty ones.
                    None => d.extend(std::iter::repeat_n(crate::vocab::dictionary::NO_VALUE, p.home.len() * self.ndims)),
                }
            }
        }
        s
    }

    /// Adds a partial run's entries as a part of their own (the order of entries does not
    /// matter), its dimension values renumbered by `dim_map[d][v]`.
    pub fn absorb(&mut self, s: StoreState, dim_map: &[Vec<u32>]) -> Result<(), String> {
        if s.home.len() != s.tag.len() || s.home.len() != s.ms.len() || s.ndims != self.ndims {
            return Err(format!(
                "a store of {} entries with {} dimension values each does not fit this configuration's",
                s.home.len(),
                s.ndims
            ));
        }
        let values = if s.ms.iter().all(|&m| m % 1000 == 0 && m / 1000 <= u32::MAX as u64) {
            DurationValues::Secs(s.ms.iter().map(|&m| (m / 1000) as u32).collect())
        } else {
            DurationValues::Millis(s.ms)
        };
        let dims = match (s.dims, self.ndims) {
            (_, 0) => None,
            (Some(d), n) if d.len() == s.home.len() * n => Some(
                d.iter()
                    .enumerate()
                    .map(|(i, &v)| {
                        if v == crate::vocab::dictionary::NO_VALUE {
                            Ok(v)
                        } else {
                            dim_map
                                .get(i % n)
                                .and_then(|m| m.get(v as usize))
                                .copied()
                                .ok_or_else(|| format!("a stored value names dimension value {v}, which its dictionary does not have"))
                        }
                    })
                    .collect::<Result<Vec<u32>, String>>()?,
            ),
            _ => return Err("a store's dimension values do not match its entries".into()),
        };
        self.parts.push(StorePart { home: s.home, tag: s.tag, values, dims });
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.parts.iter().map(|p| p.home.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every entry with its value in hours.
    pub fn hours(&self) -> impl Iterator<Item = (Entry<'_>, f64)> + '_ {
        self.parts.iter().flat_map(move |p| {
            (0..p.home.len()).map(move |i| {
                let h = match &p.values {
                    DurationValues::Secs(v) => v[i].hours(),
                    DurationValues::Millis(v) => v[i].hours(),
                };
                (self.entry(p, i), h)
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
                p.home.len() * 4 + p.tag.len() + v + p.dims.as_ref().map_or(0, |d| d.len() * 4)
            })
            .sum()
    }

    fn entry<'a>(&self, p: &'a StorePart, i: usize) -> Entry<'a> {
        let nd = self.ndims;
        Entry { home: p.home[i], tag: p.tag[i], dims: p.dims.as_ref().map(|d| &d[i * nd..(i + 1) * nd]) }
    }
}

/// Median and P90 (type 7) of one group, in hours.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Quantiles {
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

/// Hours of a stored value.
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
pub fn grouped_quantiles(store: &Store, n_keys: usize, keys: impl Fn(Entry<'_>) -> [Option<u32>; 2] + Sync) -> Vec<Quantiles> {
    // Seconds while every part has whole seconds; milliseconds otherwise.
    if store.parts.iter().all(|p| matches!(p.values, DurationValues::Secs(_))) {
        grouped::<u32>(store, n_keys, keys, |p, i| match &p.values {
            DurationValues::Secs(v) => v[i],
            DurationValues::Millis(_) => 0,
        })
    } else {
        grouped::<u64>(store, n_keys, keys, |p, i| match &p.values {
            DurationValues::Secs(v) => v[i] as u64 * 1000,
            DurationValues::Millis(v) => v[i],
        })
    }
}

fn grouped<T: Hours + Default>(
    d: &Store,
    n_keys: usize,
    keys: impl Fn(Entry<'_>) -> [Option<u32>; 2],
    value: impl Fn(&StorePart, usize) -> T,
) -> Vec<Quantiles> {
    let mut start = vec![0usize; n_keys + 1];
    for p in &d.parts {
        for i in 0..p.home.len() {
            for k in keys(d.entry(p, i)).into_iter().flatten() {
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
            for k in keys(d.entry(p, i)).into_iter().flatten() {
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
/// at floor and ceil of q·(n−1), in hours, as `vocab::stats::quantile` computes it on sorted
/// hours.
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
    use crate::vocab::stats::quantile;

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
    fn values_widen_to_milliseconds_when_needed() {
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
        let part = |home: Vec<u32>, values: DurationValues| StorePart { tag: vec![0; home.len()], home, values, dims: None };
        let d = Store {
            parts: vec![
                part(vec![0, 1, 0], DurationValues::Secs(vec![3600, 7200, 10800])),
                part(vec![1, 0], DurationValues::Millis(vec![14_400_000, 18_000_000])),
            ],
            ndims: 0,
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
