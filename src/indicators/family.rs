//! An indicator family: the one place its counters, its exact-value stores and its columns
//! (key, Chinese label, unit, formula, and how the value is derived) are written. Tables,
//! `dictionary.csv`, `gridgov indicators`, the map's choices and the charts' labels are all
//! read off the families.
//!
//! A family counts records of one kind (`F`, the kind's facts): for each record it adds to
//! its counters (integers, so roll-ups and parallel merges only sum) and may keep one value
//! per store (for exact medians and P90s, `quantiles.rs`). Its columns derive each unit's
//! values from those sums.

use chrono::NaiveDate;

use std::sync::Arc;

use super::quantiles::Quantiles;
use crate::config::IndicatorSettings;
use crate::vocab::calendar::Calendar;
use crate::vocab::column::Field;

/// What counting a record may depend on besides the record.
#[derive(Debug, Clone)]
pub struct CountContext {
    /// The as-of moment, UTC ms: an event counts as happened when it is before it.
    pub as_of_ms: i64,
    /// The as-of day: dated states (signed) count on or before it.
    pub as_of: NaiveDate,
    pub settings: IndicatorSettings,
    /// Working days and hours.
    pub calendar: Arc<Calendar>,
}

/// An indicator family over records with facts `F`.
pub trait Family<F>: Sync {
    /// The family's name (a heading of `gridgov indicators`).
    fn name(&self) -> &'static str;

    /// Its counters, in the order `count` and the columns index them.
    fn counters(&self) -> &'static [&'static str] {
        &[]
    }

    /// Its stores of exact values (one value per record at most), in the order `count` and the
    /// columns index them.
    fn stores(&self) -> &'static [&'static str] {
        &[]
    }

    /// Counts one record: adds to `c` (this family's counters, all zero on entry) and puts the
    /// value it keeps for a store in `keep` (this family's stores, all `None` on entry).
    fn count(&self, fact: &F, ctx: &CountContext, c: &mut [u64], keep: &mut [Option<i64>]);

    /// Its columns, in output order.
    fn columns(&self) -> &'static [Column];
}

/// One column of a family.
pub struct Column {
    pub field: Field,
    /// The count that is this rate's n (its denominator): maps show the rate only where n is
    /// large enough, and tables flag it (`<n>_low_n`).
    pub n: Option<&'static str>,
    /// The tables that have the column.
    pub only: Only,
    pub value: Derive,
    /// A headline indicator: monthly tables compare it with the month before (环比) and the
    /// same month a year earlier (同比).
    pub headline: Option<Change>,
}

/// How a headline indicator is compared with an earlier month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A count: the earlier value and the relative change, (now − then) / then.
    Relative,
    /// A rate or score: the difference, now − then (in shares or points).
    Difference,
}

/// Which tables a column is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Only {
    /// Every table of the family's kind.
    All,
    /// Tables of places (units and the city), not those by category or department.
    Places,
    /// Monthly tables only (changes against the month before), after every other column.
    Monthly,
}

/// How a column's values are derived from a unit's sums.
pub enum Derive {
    /// The records counted (every family's kind counts them).
    Records,
    /// One of the family's counters.
    Count(usize),
    /// A number of the unit, rounded to the given decimals.
    Float(fn(&RowView<'_>) -> Option<f64>, i32),
    Text(fn(&RowView<'_>) -> Option<String>),
    /// Columns that need other rows of the table (ranks, changes against the month before).
    TableInt(fn(&TableView<'_>) -> Vec<Option<i64>>),
    TableFloat(fn(&TableView<'_>) -> Vec<Option<f64>>, i32),
}

/// Population, households and area of a place.
#[derive(Debug, Clone, Copy, Default)]
pub struct Place {
    pub population: Option<f64>,
    pub households: Option<f64>,
    pub area_km2: f64,
    /// Grids of the place without a population.
    pub grids_without_population: u64,
}

/// What a column sees of one row: the family's counters and quantiles for the row's unit and
/// period, the records counted, the place (for tables of places) and the settings.
#[derive(Clone, Copy)]
pub struct RowView<'a> {
    pub c: &'a [u64],
    pub records: u64,
    pub q: &'a [Quantiles],
    pub place: Option<&'a Place>,
    pub s: &'a IndicatorSettings,
}

/// What a whole-table column sees: every row, each row's unit code and, for monthly tables,
/// the months per unit (rows are unit-major, months in order, the history months first).
pub struct TableView<'a> {
    pub rows: Vec<RowView<'a>>,
    pub codes: Vec<&'a str>,
    /// In a monthly table, the counted month of each of a unit's rows (rows are unit-major).
    pub months: Option<&'a [usize]>,
}

impl TableView<'_> {
    /// The row of the same unit `back` months earlier, in a monthly table, if that month is
    /// one of the table's.
    pub fn earlier(&self, r: usize, back: usize) -> Option<usize> {
        let months = self.months?;
        let j = r % months.len();
        let then = months[j].checked_sub(back)?;
        months[..j].binary_search(&then).ok().map(|i| r - j + i)
    }

    /// The month group of row `r`: 0 in a period table, the row's month in a monthly one.
    pub fn group(&self, r: usize) -> usize {
        self.months.map_or(0, |m| r % m.len())
    }

    /// How many month groups the table has.
    pub fn groups(&self) -> usize {
        self.months.map_or(1, <[usize]>::len)
    }
}

impl Column {
    pub const fn new(field: Field, value: Derive) -> Column {
        Column { field, n: None, only: Only::All, value, headline: None }
    }

    /// The same column, compared month on month and year on year in monthly tables.
    pub const fn headline(self, change: Change) -> Column {
        Column { headline: Some(change), ..self }
    }

    /// The same column, with `n` as its denominator.
    pub const fn per(self, n: &'static str) -> Column {
        Column { n: Some(n), ..self }
    }

    /// The same column, in the given tables only.
    pub const fn only(self, only: Only) -> Column {
        Column { only, ..self }
    }
}

/// Where each family's counters and stores sit in a kind's block: counter 0 is the records
/// counted, then each family's counters; stores likewise.
#[derive(Debug, Clone)]
pub struct Layout {
    /// Per family: first counter and number of counters.
    pub counters: Vec<(usize, usize)>,
    /// Per family: first store and number of stores.
    pub stores: Vec<(usize, usize)>,
    /// Counters per block, records included.
    pub width: usize,
    pub n_stores: usize,
}

impl Layout {
    pub fn of<F>(families: &[&dyn Family<F>]) -> Layout {
        let (mut c, mut s) = (1usize, 0usize);
        let mut counters = Vec::new();
        let mut stores = Vec::new();
        for f in families {
            counters.push((c, f.counters().len()));
            stores.push((s, f.stores().len()));
            c += f.counters().len();
            s += f.stores().len();
        }
        Layout { counters, stores, width: c, n_stores: s }
    }
}
