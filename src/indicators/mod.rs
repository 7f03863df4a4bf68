//! Indicators per unit of every level, for the reporting period and month by month.
//!
//! - [`cases`]: counts, rates, composite score, closure, handling time (one accumulator per unit)
//! - [`signups`]: household sign-up rates and each project's threshold date
//! - [`rank`]: ranking by composite score
//! - [`registry`]: every output column with its Chinese label, unit and formula
//!
//! Roll-ups never average rates: a unit's numerators and denominators are the sums over the cases
//! assigned to it at its level (its children's cases plus cases assigned to it directly by code),
//! and its rates are computed from those sums.

pub mod cases;
pub mod rank;
pub mod registry;
pub mod signups;
pub mod tally;

use chrono::NaiveDate;
use rayon::prelude::*;

use crate::config::resolve::{Month, Pipeline};
use crate::hierarchy::{Hierarchy, Level, Units};
use crate::outputs::frame::{Frame, Values};
use cases::Acc;
use tally::{Quantiles, Tally, grouped_quantiles};

/// The dimensions cases are also tabulated by, in `CaseRow::dims` order.
pub const DIMENSIONS: [&str; 3] = ["category", "department", "channel"];

/// Period and monthly tables of one level.
#[derive(Debug, Clone)]
pub struct LevelTables {
    pub level: Level,
    pub period: Frame,
    pub monthly: Frame,
}

/// Everything the indicator stage computes.
#[derive(Debug, Clone)]
pub struct Results {
    pub levels: Vec<LevelTables>,
    /// The whole city: one row for the period, one per month.
    pub city: Frame,
    pub city_monthly: Frame,
    /// Histogram of the handling hours of the city's cases closed in the period
    /// (`handling_bins`).
    pub city_handling: Vec<(f64, f64, u64)>,
    /// Period tables by category, department and channel (`DIMENSIONS` order).
    pub dimensions: Vec<(&'static str, Frame)>,
    pub signup_projects: Frame,
    pub signup_curve: Frame,
}

/// Where a case falls in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    pub in_period: bool,
    /// Index into the trend months, if the case is in the trend window.
    pub month: Option<usize>,
}

/// Places a case by its received time: the period is `[start, end + 1 day)` in the city's
/// time zone, the months likewise.
pub fn place(received: i64, period: (i64, i64), month_bounds: &[i64]) -> Placement {
    let in_period = received >= period.0 && received < period.1;
    let month = match month_bounds.partition_point(|&b| b <= received) {
        0 => None,
        k if k >= month_bounds.len() => None,
        k => Some(k - 1),
    };
    Placement { in_period, month }
}

/// Bins of the handling-time histogram in log10(hours): 20 bins from 0.1 h to 10,000 h;
/// values below go to the first, above to the last. (lower hour bound, upper hour bound, count).
pub fn handling_bins(hours: impl Iterator<Item = f64>) -> Vec<(f64, f64, u64)> {
    let (lo, hi, k) = (-1.0f64, 4.0f64, 20usize);
    let w = (hi - lo) / k as f64;
    let mut out: Vec<(f64, f64, u64)> = (0..k).map(|i| (10f64.powf(lo + w * i as f64), 10f64.powf(lo + w * (i + 1) as f64), 0)).collect();
    for h in hours {
        let x = h.max(1e-9).log10();
        let i = (((x - lo) / w).floor().max(0.0) as usize).min(k - 1);
        out[i].2 += 1;
    }
    out
}

/// Computes every table from the tally: each level's units (in parallel), the city, the
/// dimensions, and the sign-up tables.
pub fn compute(
    p: &Pipeline,
    h: &Hierarchy,
    tally: &Tally,
    dicts: &crate::io::cases::Dictionaries,
    households: &[crate::io::signups::Household],
) -> Results {
    // The units of every home unit at every level (a home is a unit of any level).
    let homes: Vec<Units> = Level::ALL.iter().flat_map(|&l| (0..h.units(l).len() as u32).map(move |i| h.units_of(l, i))).collect();
    let signup_units = signups::per_unit(h, households, p.period.as_of);
    let levels: Vec<LevelTables> = Level::ALL
        .par_iter()
        .filter(|l| h.present[**l as usize])
        .map(|&level| level_tables(p, h, level, tally, &homes, &signup_units[level as usize]))
        .collect();
    let (signup_projects, signup_curve) = signups::project_tables(p, households);
    let (city, city_monthly) = city_tables(p, h, tally, &signup_units);
    let city_handling = city_handling(tally);
    let values = [&dicts.category.values, &dicts.department.values, &dicts.channel.values];
    let dimensions = (0..3).into_par_iter().map(|d| (DIMENSIONS[d], dimension_table(p, d, values[d], tally))).collect();
    Results { levels, city, city_monthly, city_handling, dimensions, signup_projects, signup_curve }
}

/// The handling-time histogram of the city's cases closed in the period.
fn city_handling(t: &Tally) -> Vec<(f64, f64, u64)> {
    handling_bins(t.durations.hours().filter(|(e, _)| e.in_period()).map(|(_, h)| h))
}

/// The slot of a duration entry's month, and of the period when it has a slot of its own.
fn entry_slots(t: &Tally, e: tally::Entry<'_>) -> [Option<u32>; 2] {
    let month = e.month().map(|m| m as u32);
    let period = (t.separate_period && e.in_period()).then_some(t.period_slot as u32);
    [month, period]
}

/// Every assigned case, whatever level it was assigned at, in one unit: the city.
fn city_tables(p: &Pipeline, h: &Hierarchy, t: &Tally, signup: &[Vec<signups::SignupAcc>; 4]) -> (Frame, Frame) {
    let nm = p.period.months.len();
    let mut slots = vec![Acc::default(); t.slots];
    for (i, a) in t.accs.iter().enumerate() {
        slots[i % t.slots].merge(a);
    }
    let q = grouped_quantiles(&t.durations, t.slots, |e| entry_slots(t, e));
    let grids = h.units(Level::Grid);
    let sum = |f: fn(&crate::hierarchy::Unit) -> Option<f64>| {
        grids.iter().filter_map(f).fold(None, |a: Option<f64>, v| Some(a.unwrap_or(0.0) + v))
    };
    let info = UnitsInfo {
        key_columns: vec![("city_name".to_string(), vec![Some(p.title.clone())])],
        codes: vec![p.name.clone()],
        places: Some(Places {
            population: vec![sum(|u| u.population)],
            households: vec![sum(|u| u.households)],
            area_km2: vec![grids.iter().map(|u| u.area_km2).sum()],
        }),
    };
    let total = signup[Level::Grid as usize].iter().fold(signups::SignupAcc::default(), |mut a, s| {
        a.in_scope += s.in_scope;
        a.signed += s.signed;
        a.out_of_scope += s.out_of_scope;
        a
    });
    let ps = t.period_slot;
    period_and_monthly(p, &info, &[slots[ps]], &[q[ps]], &slots[..nm], &q[..nm], Some(std::slice::from_ref(&total)))
}

/// Period indicators per value of one dimension (category, department or channel), sorted by
/// value; cases without a value form one row with an empty key.
fn dimension_table(p: &Pipeline, dim: usize, values: &[String], t: &Tally) -> Frame {
    // Slot `values.len()` holds the cases without a value.
    let n = values.len();
    let mut accs: Vec<Acc> = (0..n).map(|v| t.dims[dim].get(v).copied().unwrap_or_default()).collect();
    accs.push(t.dims_empty[dim]);
    let q = grouped_quantiles(&t.durations, n + 1, |e| {
        if !e.in_period() {
            return [None, None];
        }
        // No source maps a dimension: every case is in the row without a value.
        let v = e.dims.map_or(tally::NO_VALUE, |d| d[dim]);
        [Some(if v == tally::NO_VALUE { n as u32 } else { v }), None]
    });
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| values[*a].cmp(&values[*b]));
    if accs[n].cases > 0 {
        order.push(n);
    }
    let keys: Vec<Option<String>> = order.iter().map(|&i| values.get(i).cloned()).collect();
    let info = UnitsInfo {
        codes: keys.iter().map(|k| k.clone().unwrap_or_default()).collect(),
        key_columns: vec![(DIMENSIONS[dim].to_string(), keys)],
        places: None,
    };
    let accs: Vec<Acc> = order.iter().map(|&i| accs[i]).collect();
    let quants: Vec<Quantiles> = order.iter().map(|&i| q[i]).collect();
    let label = p.period.label();
    let rows: Vec<usize> = (0..accs.len()).collect();
    frame(p, &info, &rows, &accs, &quants, |_| (label.clone(), p.period.start), None, None)
}

fn level_tables(p: &Pipeline, h: &Hierarchy, level: Level, t: &Tally, homes: &[Units], signup: &[signups::SignupAcc]) -> LevelTables {
    let n = h.units(level).len();
    let (nm, slots) = (p.period.months.len(), t.slots);
    // Roll-up: a unit's counts are the sums over the home units it contains (its grids, and
    // itself or its communities for cases assigned by code).
    let mut accs = vec![Acc::default(); n * slots];
    for (home, up) in homes.iter().enumerate() {
        let Some(u) = up[level as usize] else { continue };
        for s in 0..slots {
            accs[u as usize * slots + s].merge(&t.accs[home * slots + s]);
        }
    }
    let q = grouped_quantiles(&t.durations, n * slots, |e| {
        let Some(u) = homes[e.home as usize][level as usize] else { return [None, None] };
        entry_slots(t, e).map(|s| s.map(|s| u * slots as u32 + s))
    });
    let ps = t.period_slot;
    let period_acc: Vec<Acc> = (0..n).map(|u| accs[u * slots + ps]).collect();
    let period_q: Vec<Quantiles> = (0..n).map(|u| q[u * slots + ps]).collect();
    let month_acc: Vec<Acc> = (0..n).flat_map(|u| (0..nm).map(move |m| u * slots + m)).map(|k| accs[k]).collect();
    let month_q: Vec<Quantiles> = (0..n).flat_map(|u| (0..nm).map(move |m| u * slots + m)).map(|k| q[k]).collect();
    let info = UnitsInfo::of_level(h, level);
    let (period, monthly) = period_and_monthly(p, &info, &period_acc, &period_q, &month_acc, &month_q, Some(signup));
    LevelTables { level, period, monthly }
}

/// The period table (one row per unit) and the monthly table (unit-major, months in order, so
/// the previous month of the same unit feeds 环比).
fn period_and_monthly(
    p: &Pipeline,
    info: &UnitsInfo,
    period_acc: &[Acc],
    period_q: &[Quantiles],
    month_acc: &[Acc],
    month_q: &[Quantiles],
    signup: Option<&[signups::SignupAcc]>,
) -> (Frame, Frame) {
    let nm = p.period.months.len();
    let n = info.codes.len();
    let period_label = p.period.label();
    let all: Vec<usize> = (0..n).collect();
    let period = frame(p, info, &all, period_acc, period_q, |_| (period_label.clone(), p.period.start), signup, None);
    let months = &p.period.months;
    let rows: Vec<usize> = (0..n * nm).map(|r| r / nm).collect();
    let monthly = frame(p, info, &rows, month_acc, month_q, |r| (months[r % nm].label(), months[r % nm].first_day()), None, Some(nm));
    (period, monthly)
}

/// The units a table is about: its key columns, and per unit the population, households and
/// area when the units are places (`None` for categories and departments).
struct UnitsInfo {
    key_columns: Vec<(String, Vec<Option<String>>)>,
    codes: Vec<String>,
    places: Option<Places>,
}

struct Places {
    population: Vec<Option<f64>>,
    households: Vec<Option<f64>>,
    area_km2: Vec<f64>,
}

impl UnitsInfo {
    fn of_level(h: &Hierarchy, level: Level) -> UnitsInfo {
        let units = h.units(level);
        let lv = level.as_str();
        let mut key_columns = vec![
            (format!("{lv}_code"), units.iter().map(|u| Some(u.code.clone())).collect()),
            (format!("{lv}_name"), units.iter().map(|u| Some(u.name.clone())).collect()),
        ];
        for (pi, plevel) in [Level::Community, Level::Street, Level::District].into_iter().enumerate() {
            if plevel <= level || !h.present[plevel as usize] {
                continue;
            }
            let pl = plevel.as_str();
            key_columns.push((format!("{pl}_code"), units.iter().map(|u| u.parents[pi].as_ref().map(|r| r.code.clone())).collect()));
            key_columns.push((format!("{pl}_name"), units.iter().map(|u| u.parents[pi].as_ref().map(|r| r.name.clone())).collect()));
        }
        UnitsInfo {
            key_columns,
            codes: units.iter().map(|u| u.code.clone()).collect(),
            places: Some(Places {
                population: units.iter().map(|u| u.population).collect(),
                households: units.iter().map(|u| u.households).collect(),
                area_km2: units.iter().map(|u| u.area_km2).collect(),
            }),
        }
    }
}

/// Builds a table: one row per entry of `unit_of_row`, with `accs[row]` and `quants[row]`.
#[allow(clippy::too_many_arguments)]
fn frame(
    p: &Pipeline,
    info: &UnitsInfo,
    unit_of_row: &[usize],
    accs: &[Acc],
    quants: &[Quantiles],
    period_of_row: impl Fn(usize) -> (String, NaiveDate),
    signup: Option<&[signups::SignupAcc]>,
    months_per_unit: Option<usize>,
) -> Frame {
    let s = &p.indicators;
    let n = unit_of_row.len();
    let derived: Vec<cases::Derived> = accs.par_iter().zip(quants).map(|(a, q)| a.derive(s, *q)).collect();
    let mut f = Frame::default();
    for (key, values) in &info.key_columns {
        f.str(key, unit_of_row.iter().map(|&u| values[u].clone()).collect());
    }
    let periods: Vec<(String, NaiveDate)> = (0..n).map(&period_of_row).collect();
    f.str("period", periods.iter().map(|(l, _)| Some(l.clone())).collect());
    f.push("period_start", Values::Timestamp(periods.iter().map(|(_, d)| d.and_hms_opt(0, 0, 0)).collect()));
    f.push("as_of", Values::Date(vec![Some(p.period.as_of); n]));
    let int = |get: fn(&Acc) -> u64| -> Vec<Option<i64>> { accs.iter().map(|a| Some(get(a) as i64)).collect() };
    if let Some(pl) = &info.places {
        let pop: Vec<Option<f64>> = unit_of_row.iter().map(|&u| pl.population[u]).collect();
        f.int("population", pop.iter().map(|x| x.map(|v| v.round() as i64)).collect());
        f.int("households", unit_of_row.iter().map(|&u| pl.households[u].map(|v| v.round() as i64)).collect());
        f.float("area_km2", unit_of_row.iter().map(|&u| Some(pl.area_km2[u])).collect(), 4);
        f.int("cases", int(|a| a.cases));
        f.float(
            "cases_per_10k",
            accs.iter().zip(&pop).map(|(a, p)| p.filter(|p| *p > 0.0).map(|p| a.cases as f64 / p * 10_000.0)).collect(),
            2,
        );
        f.float(
            "density_per_km2",
            accs.iter().zip(unit_of_row).map(|(a, &u)| (pl.area_km2[u] > 0.0).then(|| a.cases as f64 / pl.area_km2[u])).collect(),
            2,
        );
    } else {
        f.int("cases", int(|a| a.cases));
    }
    f.int("followups", int(|a| a.followups));
    f.int("contacted", int(|a| a.contacted));
    f.int("resolved", int(|a| a.resolved));
    f.int("satisfied", int(|a| a.satisfied));
    f.int("basically_satisfied", int(|a| a.basic));
    f.int("unsatisfied", int(|a| a.unsatisfied));
    f.float("satisfaction_points", derived.iter().map(|d| Some(d.satisfaction_points)).collect(), 2);
    f.float("response_rate", derived.iter().map(|d| d.response_rate).collect(), 4);
    f.float("resolution_rate", derived.iter().map(|d| d.resolution_rate).collect(), 4);
    f.float("satisfaction_rate", derived.iter().map(|d| d.satisfaction_rate).collect(), 4);
    f.float("composite_score", derived.iter().map(|d| d.composite_score).collect(), 2);
    let code = |r: usize| info.codes[unit_of_row[r]].as_str();
    let ranks = match months_per_unit {
        None => rank::rank_groups(&derived, accs, code, |_| 0),
        Some(nm) => rank::rank_by_group(&derived, accs, nm, code),
    };
    f.int("composite_rank", ranks.iter().map(|r| r.map(|r| r as i64)).collect());
    f.str("grade", derived.iter().map(|d| d.grade.map(str::to_string)).collect());
    f.int("should_close", int(|a| a.should_close));
    f.int("closed", int(|a| a.closed));
    f.int("closed_on_time", int(|a| a.closed_on_time));
    f.float("closure_rate", derived.iter().map(|d| d.closure_rate).collect(), 4);
    f.float("on_time_closure_rate", derived.iter().map(|d| d.on_time_closure_rate).collect(), 4);
    f.int("cancelled", int(|a| a.cancelled));
    f.int("open", int(|a| a.open));
    f.int("overdue_open", int(|a| a.overdue_open));
    f.float("overdue_open_rate", derived.iter().map(|d| d.overdue_open_rate).collect(), 4);
    f.float("handling_hours_median", derived.iter().map(|d| d.hours_median).collect(), 2);
    f.float("handling_hours_p90", derived.iter().map(|d| d.hours_p90).collect(), 2);
    if let Some(nm) = months_per_unit {
        // 环比: change against the previous month of the same unit (null in the first month).
        let prev = |r: usize| (r % nm > 0).then(|| r - 1);
        f.int("cases_prev_month", (0..n).map(|r| prev(r).map(|q| accs[q].cases as i64)).collect());
        f.float(
            "cases_mom_rate",
            (0..n)
                .map(|r| {
                    prev(r).and_then(|q| (accs[q].cases > 0).then(|| (accs[r].cases as f64 - accs[q].cases as f64) / accs[q].cases as f64))
                })
                .collect(),
            4,
        );
        f.float(
            "composite_mom_change",
            (0..n).map(|r| prev(r).and_then(|q| Some(derived[r].composite_score? - derived[q].composite_score?))).collect(),
            2,
        );
    }
    if let Some(sg) = signup {
        f.int("signup_households", unit_of_row.iter().map(|&u| Some(sg[u].in_scope as i64)).collect());
        f.int("signup_signed", unit_of_row.iter().map(|&u| Some(sg[u].signed as i64)).collect());
        f.int("signup_out_of_scope", unit_of_row.iter().map(|&u| Some(sg[u].out_of_scope as i64)).collect());
        f.float("signup_rate", unit_of_row.iter().map(|&u| cases::rate(sg[u].signed as f64, sg[u].in_scope)).collect(), 4);
    }
    f
}

/// Months of the trend window as labels (for tests and charts).
pub fn month_labels(months: &[Month]) -> Vec<String> {
    months.iter().map(|m| m.label()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placement_by_received_time() {
        let bounds = [0, 10, 20, 30];
        assert_eq!(place(-1, (10, 20), &bounds), Placement { in_period: false, month: None });
        assert_eq!(place(0, (10, 20), &bounds), Placement { in_period: false, month: Some(0) });
        assert_eq!(place(10, (10, 20), &bounds), Placement { in_period: true, month: Some(1) });
        assert_eq!(place(19, (10, 20), &bounds), Placement { in_period: true, month: Some(1) });
        assert_eq!(place(20, (10, 20), &bounds), Placement { in_period: false, month: Some(2) });
        assert_eq!(place(30, (10, 20), &bounds), Placement { in_period: false, month: None });
    }
}
