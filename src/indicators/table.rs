//! Tables from sums: one row per unit (and month), the key columns, then every column of every
//! family of the kinds the table shows, in family order, the monthly changes last. No column is
//! named here: they are the families'.

use chrono::NaiveDate;
use rayon::prelude::*;

use super::family::{Derive, Family, Layout, Only, Place, RowView, TableView};
use super::quantiles::Quantiles;
use crate::config::IndicatorSettings;
use crate::vocab::frame::{Frame, Values};

/// The rows of one kind in a table: each row's counters (`layout.width` per row) and its
/// quantiles (`layout.n_stores` per row).
pub struct Part<'a, F: 'static> {
    pub families: &'static [&'static dyn Family<F>],
    pub layout: &'a Layout,
    pub counts: Vec<u64>,
    pub quantiles: Vec<Quantiles>,
}

/// Type-erased view of a part, for the builder.
pub trait Columns: Sync {
    /// Pushes the part's columns of one phase (every column but the monthly ones, or the
    /// monthly ones) onto `f`.
    fn push_columns(&self, f: &mut Frame, t: &Shape<'_>, monthly_phase: bool);
}

/// What a table is about, besides its sums.
pub struct Shape<'a> {
    /// Key columns per unit (codes, names, parents; or a dimension value).
    pub keys: &'a [(String, Vec<Option<String>>)],
    /// Per unit: the code ranks break ties on.
    pub codes: &'a [String],
    /// Per unit: population, households, area; `None` for tables that are not of places.
    pub places: Option<&'a [Place]>,
    /// The unit of each row.
    pub unit_of_row: &'a [usize],
    /// The period of each row: its label and first day.
    pub periods: Vec<(String, NaiveDate)>,
    pub as_of: NaiveDate,
    /// Months per unit in a monthly table (rows unit-major, months in order).
    pub months: Option<usize>,
    pub settings: &'a IndicatorSettings,
}

/// Builds a table: the key columns, period and as-of, the places' attributes, then every part.
pub fn build(shape: &Shape<'_>, parts: &[&dyn Columns]) -> Frame {
    let n = shape.unit_of_row.len();
    let mut f = Frame::default();
    for (key, values) in shape.keys {
        f.str(key, shape.unit_of_row.iter().map(|&u| values[u].clone()).collect());
    }
    f.str("period", shape.periods.iter().map(|(l, _)| Some(l.clone())).collect());
    f.push("period_start", Values::Timestamp(shape.periods.iter().map(|(_, d)| d.and_hms_opt(0, 0, 0)).collect()));
    f.push("as_of", Values::Date(vec![Some(shape.as_of); n]));
    if let Some(pl) = shape.places {
        f.int("population", shape.unit_of_row.iter().map(|&u| pl[u].population.map(|v| v.round() as i64)).collect());
        f.int("households", shape.unit_of_row.iter().map(|&u| pl[u].households.map(|v| v.round() as i64)).collect());
        f.float("area_km2", shape.unit_of_row.iter().map(|&u| Some(pl[u].area_km2)).collect(), 4);
    }
    for monthly_phase in [false, true] {
        for part in parts {
            part.push_columns(&mut f, shape, monthly_phase);
        }
    }
    f
}

impl<F: Sync + 'static> Columns for Part<'_, F> {
    fn push_columns(&self, f: &mut Frame, t: &Shape<'_>, monthly_phase: bool) {
        let (w, ns) = (self.layout.width, self.layout.n_stores);
        let n = t.unit_of_row.len();
        for (fi, fam) in self.families.iter().enumerate() {
            let ((c0, nc), (s0, nq)) = (self.layout.counters[fi], self.layout.stores[fi]);
            let row = |r: usize| RowView {
                c: &self.counts[r * w + c0..r * w + c0 + nc],
                records: self.counts[r * w],
                q: &self.quantiles[r * ns + s0..r * ns + s0 + nq],
                place: t.places.map(|p| &p[t.unit_of_row[r]]),
                s: t.settings,
            };
            let columns: Vec<_> = fam
                .columns()
                .iter()
                .filter(|c| match c.only {
                    Only::All => !monthly_phase,
                    Only::Places => !monthly_phase && t.places.is_some(),
                    Only::Monthly => monthly_phase && t.months.is_some(),
                })
                .collect();
            // Columns are independent of each other: computed in parallel, pushed in order.
            let values: Vec<Values> = columns
                .par_iter()
                .map(|c| match &c.value {
                    Derive::Records => Values::Int((0..n).map(|r| Some(self.counts[r * w] as i64)).collect()),
                    Derive::Count(k) => Values::Int((0..n).map(|r| Some(self.counts[r * w + c0 + k] as i64)).collect()),
                    Derive::Float(g, d) => Values::Float((0..n).into_par_iter().map(|r| g(&row(r)).and_then(|x| round(x, *d))).collect()),
                    Derive::Text(g) => Values::Str((0..n).map(|r| g(&row(r))).collect()),
                    Derive::TableInt(g) => Values::Int(g(&table(t, n, row))),
                    Derive::TableFloat(g, d) => {
                        Values::Float(g(&table(t, n, row)).into_iter().map(|x| x.and_then(|x| round(x, *d))).collect())
                    }
                })
                .collect();
            for (c, v) in columns.iter().zip(values) {
                f.push(c.field.key, v);
            }
        }
    }
}

fn table<'a>(t: &'a Shape<'_>, n: usize, row: impl Fn(usize) -> RowView<'a>) -> TableView<'a> {
    TableView { rows: (0..n).map(row).collect(), codes: t.unit_of_row.iter().map(|&u| t.codes[u].as_str()).collect(), months: t.months }
}

fn round(x: f64, decimals: i32) -> Option<f64> {
    crate::vocab::frame::round(x, decimals)
}
