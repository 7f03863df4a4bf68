//! Tables from sums: one row per unit (and month), the key columns, then every column of every
//! family of the kinds the table shows, in family order, with each family's low-n flags; in
//! monthly tables, the changes of every headline indicator (环比, 同比) last. No column is
//! named here: they are the families' and the registry's.

use chrono::NaiveDate;
use rayon::prelude::*;

use super::family::{Change, Column, Derive, Family, Layout, Only, Place, RowView, TableView};
use super::quantiles::Quantiles;
use super::registry::{self, ChangeOf};
use crate::config::IndicatorSettings;
use crate::config::period::{MOM_BACK, YOY_BACK};
use crate::vocab::frame::{Frame, Values};

/// The rows of one kind in a table: for each table row, the block of counters (`layout.width`
/// each, in `counts`) and of quantiles (`layout.n_stores` each, in `quantiles`) it shows.
pub struct Part<'a, F: 'static> {
    pub families: &'static [&'static dyn Family<F>],
    pub layout: &'a Layout,
    pub counts: &'a [u64],
    pub quantiles: &'a [Quantiles],
    /// Per table row: its block.
    pub rows: Vec<usize>,
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
    /// In a monthly table (rows unit-major, months in order), the counted month of each of a
    /// unit's rows (`Period::compared_months`).
    pub months: Option<&'a [usize]>,
    /// Counted months before this index are history: compared with, not shown.
    pub history: usize,
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
        f.int("grids_without_population", shape.unit_of_row.iter().map(|&u| Some(pl[u].grids_without_population as i64)).collect());
    }
    for monthly_phase in [false, true] {
        for part in parts {
            part.push_columns(&mut f, shape, monthly_phase);
        }
    }
    match shape.months {
        Some(m) if m.first().is_some_and(|&first| first < shape.history) => {
            let shown: Vec<usize> = (0..n).filter(|r| m[r % m.len()] >= shape.history).collect();
            f.keep_rows(&shown)
        }
        _ => f,
    }
}

impl<F: Sync + 'static> Part<'_, F> {
    fn row<'s>(&'s self, t: &'s Shape<'_>, fi: usize, r: usize) -> RowView<'s> {
        let (w, ns) = (self.layout.width, self.layout.n_stores);
        let ((c0, nc), (s0, nq)) = (self.layout.counters[fi], self.layout.stores[fi]);
        let b = self.rows[r];
        RowView {
            c: &self.counts[b * w + c0..b * w + c0 + nc],
            records: self.counts[b * w],
            q: &self.quantiles[b * ns + s0..b * ns + s0 + nq],
            place: t.places.map(|p| &p[t.unit_of_row[r]]),
            s: t.settings,
        }
    }

    /// The unrounded value of a column in row `r` (counts as numbers).
    fn value(&self, c: &Column, row: &RowView<'_>) -> Option<f64> {
        match &c.value {
            Derive::Records => Some(row.records as f64),
            Derive::Count(k) => Some(row.c[*k] as f64),
            Derive::Float(g, _) => g(row),
            _ => None,
        }
    }
}

impl<F: Sync + 'static> Columns for Part<'_, F> {
    fn push_columns(&self, f: &mut Frame, t: &Shape<'_>, monthly_phase: bool) {
        let n = t.unit_of_row.len();
        for (fi, fam) in self.families.iter().enumerate() {
            let row = |r: usize| self.row(t, fi, r);
            let columns: Vec<&Column> = fam
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
                    Derive::Records | Derive::Count(_) => Values::Int((0..n).map(|r| self.value(c, &row(r)).map(|v| v as i64)).collect()),
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
            if monthly_phase {
                if t.months.is_some() {
                    self.push_changes(f, t, fi, *fam);
                }
            } else {
                self.push_low_n(f, t, fi, *fam);
            }
        }
    }
}

impl<F: Sync + 'static> Part<'_, F> {
    /// `<n>_low_n` for each n of the family's rates: the rates keep their values, flagged
    /// where n is below `indicators.min_n`.
    fn push_low_n(&self, f: &mut Frame, t: &Shape<'_>, fi: usize, fam: &dyn Family<F>) {
        let n = t.unit_of_row.len();
        let mut seen: Vec<&str> = Vec::new();
        for c in fam.columns().iter().filter(|c| c.only != Only::Monthly) {
            let Some(key) = c.n else { continue };
            if seen.contains(&key) {
                continue;
            }
            seen.push(key);
            let (Some(of), Some(field)) = (fam.columns().iter().find(|x| x.field.key == key), registry::low_n_field(key)) else { continue };
            let min = t.settings.min_n as f64;
            f.push(field.key, Values::Bool((0..n).map(|r| self.value(of, &self.row(t, fi, r)).map(|v| v < min)).collect()));
        }
    }

    /// The changes of the family's headline indicators: against the month before (环比) and
    /// the same month a year earlier (同比), each unit against itself.
    fn push_changes(&self, f: &mut Frame, t: &Shape<'_>, fi: usize, fam: &dyn Family<F>) {
        let n = t.unit_of_row.len();
        let view = table(t, n, |r| self.row(t, fi, r));
        for c in fam.columns().iter().filter(|c| c.headline.is_some()) {
            let now: Vec<Option<f64>> = view.rows.iter().map(|r| self.value(c, r)).collect();
            let decimals = match (&c.value, c.headline) {
                (Derive::Float(_, d), Some(Change::Difference)) => *d,
                _ => 4,
            };
            for (of, field) in registry::changes_of(c.field.key) {
                let back = match of {
                    ChangeOf::PrevMonth | ChangeOf::MomRate | ChangeOf::MomChange => MOM_BACK,
                    _ => YOY_BACK,
                };
                let then = |r: usize| view.earlier(r, back).and_then(|q| now[q]);
                let values = match of {
                    ChangeOf::PrevMonth | ChangeOf::PrevYear => Values::Int((0..n).map(|r| then(r).map(|v| v as i64)).collect()),
                    ChangeOf::MomRate | ChangeOf::YoyRate => Values::Float(
                        (0..n)
                            .map(|r| then(r).filter(|b| *b > 0.0).and_then(|b| now[r].map(|a| (a - b) / b)).and_then(|x| round(x, 4)))
                            .collect(),
                    ),
                    ChangeOf::MomChange | ChangeOf::YoyChange => {
                        Values::Float((0..n).map(|r| Some(now[r]? - then(r)?).and_then(|x| round(x, decimals))).collect())
                    }
                };
                f.push(field.key, values);
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
