//! Indicators per unit of every level, for the reporting period and month by month.
//!
//! One file per family, each behind [`family::Family`]: its counters, its exact-value stores
//! and its columns with their formulas.
//!
//! - cases: [`volume`], [`followup`] (三率, composite score, rank, grade), [`closure`] (应结案,
//!   按期结案, overdue), [`handling`] (handling-time quantiles)
//! - sign-ups: [`signups`] (签约率 per unit, per-project curves and threshold dates)
//! - whistles: [`whistles`] (吹哨 by type and closure; departments' summonses, report-in and
//!   evaluation, per unit and per department)
//!
//! [`tally`] keeps each kind's running sums while records stream past, [`quantiles`] the exact
//! values any family may keep, [`table`] turns sums into tables, [`registry`] lists every
//! column. Roll-ups never average rates: a unit's numerators and denominators are the sums
//! over the records placed in it at its level (its children's records plus records placed in
//! it directly by code), and its rates are derived from those sums.

pub mod assessment;
pub mod closure;
pub mod coverage;
pub mod disposal;
pub mod family;
pub mod followup;
pub mod handling;
pub mod hotspots;
pub mod members;
pub mod networks;
pub mod overdue;
pub mod quantiles;
pub mod rank;
pub mod registry;
pub mod service_orders;
pub mod signups;
pub mod table;
pub mod tally;
pub mod volume;
pub mod whistles;

use rayon::prelude::*;

use crate::config::Pipeline;
use crate::vocab::dictionary::Dictionaries;
use crate::vocab::frame::Frame;
use crate::vocab::record::{CaseFacts, Fact, Placed, Record};
use crate::vocab::stats::rate;
use crate::vocab::units::{Hierarchy, Level, Units};
use family::{Family, Place};
use quantiles::{Entry, Quantiles, grouped_quantiles};
use service_orders::OrderTally;
use signups::SignupTally;
use table::{Columns, Part, Shape};
use tally::{Facts, Tally};
use whistles::WhistleTally;

/// The families of cases, in column order.
pub static CASE_FAMILIES: &[&dyn Family<CaseFacts>] =
    &[&volume::VOLUME, &followup::FOLLOWUPS, &closure::CLOSURE, &handling::HANDLING, &disposal::DISPOSAL];

/// The dimensions cases are also tabulated by, in `CaseFacts::dims` order.
pub const DIMENSIONS: [&str; 3] = ["category", "department", "channel"];

impl Facts for CaseFacts {
    fn time(&self) -> Option<i64> {
        Some(self.received)
    }
    fn dims(&self) -> &[u32] {
        &self.dims
    }
}

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
    /// (`handling::handling_bins`).
    pub city_handling: Vec<(f64, f64, u64)>,
    /// Period tables by category, department and channel (`DIMENSIONS` order).
    pub dimensions: Vec<(&'static str, Frame)>,
    pub signup_projects: Frame,
    pub signup_curve: Frame,
    /// Summonses, report-in and evaluation per department summoned by a whistle (when the
    /// pipeline has whistle sources).
    pub whistle_departments: Option<Frame>,
    /// The repeat hot spots, largest first, with their centres (`lon`, `lat`), when the
    /// pipeline looks for them.
    pub hotspots: Option<Frame>,
    /// The assessment (考核): per unit, and per unit and component.
    pub assessment: Option<(Frame, Frame)>,
    /// Registered and active members per employing organisation (with a roster source).
    pub member_organisations: Option<Frame>,
    /// The service circle's per-unit items and the facilities, when the pipeline reads
    /// facilities (added by `coverage::apply` after `compute`).
    pub coverage: Option<coverage::Coverage>,
}

/// Where a batch's records fell in time.
#[derive(Debug, Clone, Copy, Default)]
pub struct InTime {
    pub in_period: u64,
    pub in_trend_window: u64,
    pub outside_trend_window: u64,
    /// Received at or after the as-of moment: in no window.
    pub after_as_of: u64,
}

/// The running sums of a run while records stream: the cases' one per thread (each counts its
/// share of every batch), the sign-ups'.
pub struct Tallies {
    cases: Tally<CaseFacts>,
    /// The other threads' case tallies, added to `cases` at the end.
    more_cases: Vec<Tally<CaseFacts>>,
    signups: SignupTally,
    whistles: WhistleTally,
    orders: OrderTally,
    members: members::MemberTally,
    /// The day bounds of the period and the as-of day, for member activities.
    days: (chrono::NaiveDate, chrono::NaiveDate, chrono::NaiveDate),
    /// The period's cases that can be in a hot spot, with the period's bounds, when the
    /// pipeline looks for hot spots.
    hot: Option<(hotspots::HotPoints, i64, i64)>,
    /// The facilities, when the pipeline has a service circle.
    facilities: Option<(coverage::Facilities, crate::config::CoverageConfig)>,
}

/// The sums of a run once every record is counted.
pub struct Sums {
    pub cases: Tally<CaseFacts>,
    pub signups: SignupTally,
    pub whistles: WhistleTally,
    pub orders: OrderTally,
    pub members: members::MemberTally,
    pub hot: Option<hotspots::HotPoints>,
    pub facilities: Option<coverage::Facilities>,
}

impl Tallies {
    /// Empty sums for the hierarchy. `case_rows`: about how many case rows the run will read
    /// (for sizing the stores); `record_dims`: some case source maps a dimension.
    pub fn new(
        p: &Pipeline,
        h: &Hierarchy,
        calendar: std::sync::Arc<crate::vocab::calendar::Calendar>,
        case_rows: u64,
        record_dims: bool,
    ) -> Tallies {
        let mut cases = Tally::new(p, h, calendar.clone(), CASE_FAMILIES, true, DIMENSIONS.len(), record_dims);
        let mut more_cases: Vec<Tally<CaseFacts>> = (1..rayon::current_num_threads()).map(|_| cases.empty_like()).collect();
        // Each tally counts about its share of the rows; most cases are closed.
        let threads = more_cases.len() + 1;
        let share = (case_rows as usize / threads) + (case_rows as usize / threads) / 50 + 1024;
        cases.reserve(share);
        more_cases.iter_mut().for_each(|t| t.reserve(share));
        let signups = SignupTally::new(Tally::new(p, h, calendar.clone(), signups::FAMILIES, false, 0, false), p.period.as_of);
        let whistles = WhistleTally::new(Tally::new(p, h, calendar.clone(), whistles::FAMILIES, true, whistles::DIMENSIONS.len(), true));
        let orders = OrderTally::new(Tally::new(p, h, calendar, service_orders::FAMILIES, true, 0, false));
        let hot = p.hotspots.as_ref().map(|_| (hotspots::HotPoints::default(), p.period.start_ms(), p.period.end_ms()));
        let days = (p.period.start, p.period.end, p.period.as_of);
        let facilities = p.coverage.clone().map(|c| (coverage::Facilities::default(), c));
        Tallies { cases, more_cases, signups, whistles, orders, members: members::MemberTally::default(), days, hot, facilities }
    }

    /// Counts a batch's placed records at their home units.
    pub fn add(&mut self, rows: &[Option<Record>], placed: &[Placed]) -> InTime {
        let first = rows.iter().flatten().next().map(|r| &r.fact);
        if let (Some(Fact::Facility(_)), Some((f, c))) = (first, &mut self.facilities) {
            f.add(c, rows, placed);
            return InTime::default();
        }
        if !matches!(first, None | Some(Fact::Case(_))) {
            // Sign-ups, whistles and service orders are few and counted in file order (a
            // project's name is its first row's; a whistle's own counts are made on its first
            // row).
            let mut c = InTime::default();
            for (r, p) in rows.iter().zip(placed) {
                let (pl, history) = match (r, p) {
                    (Some(Record { fact: Fact::Signup(s), .. }), Placed::Home { level, unit, .. }) => {
                        let home = self.signups.tally.home(*level, *unit);
                        self.signups.add(home, s);
                        continue;
                    }
                    (Some(Record { fact: Fact::Whistle(w), .. }), Placed::Home { level, unit, .. }) => {
                        let home = self.whistles.tally.home(*level, *unit);
                        (self.whistles.add(home, w), self.whistles.tally.history)
                    }
                    (Some(Record { fact: Fact::Member(m), .. }), Placed::Home { level, unit, .. }) => {
                        let home = self.signups.tally.home(*level, *unit);
                        self.members.add_member(home, m, self.days.2);
                        continue;
                    }
                    (Some(Record { fact: Fact::Activity(a), .. }), Placed::Home { level, unit, .. }) => {
                        let home = self.signups.tally.home(*level, *unit);
                        self.members.add_activity(home, a, (self.days.0, self.days.1), self.days.2);
                        continue;
                    }
                    (Some(Record { fact: Fact::Order(o), .. }), Placed::Home { level, unit, .. }) => {
                        let home = self.orders.tally.home(*level, *unit);
                        let as_of = self.cases.as_of_ms();
                        (self.orders.add(home, o, as_of), self.orders.tally.history)
                    }
                    _ => continue,
                };
                c.in_period += pl.in_period as u64;
                if pl.after_as_of {
                    c.after_as_of += 1;
                } else if pl.month.is_some_and(|m| m >= history) {
                    c.in_trend_window += 1;
                } else {
                    c.outside_trend_window += 1;
                }
            }
            return c;
        }
        // Cases: one contiguous range of the batch per thread's tally, counted in parallel.
        let n = rows.len();
        let per = n.div_ceil(self.more_cases.len() + 1).max(1);
        let parts: Vec<InTime> = rayon::iter::once(&mut self.cases)
            .chain(self.more_cases.par_iter_mut())
            .enumerate()
            .map(|(t, tally)| {
                let mut c = InTime::default();
                let range = (t * per).min(n)..((t + 1) * per).min(n);
                for (r, p) in rows[range.clone()].iter().zip(&placed[range]) {
                    let (Some(Record { fact: Fact::Case(f), .. }), Placed::Home { level, unit, .. }) = (r, p) else { continue };
                    let pl = tally.add(tally.home(*level, *unit), f);
                    c.in_period += pl.in_period as u64;
                    if pl.after_as_of {
                        c.after_as_of += 1;
                    } else if pl.month.is_some_and(|m| m >= tally.history) {
                        c.in_trend_window += 1;
                    } else {
                        c.outside_trend_window += 1;
                    }
                }
                c
            })
            .collect();
        if let Some((hot, start, end)) = &mut self.hot {
            hot.add(rows, placed, *start, *end);
        }
        parts.into_iter().fold(InTime::default(), |a, b| InTime {
            in_period: a.in_period + b.in_period,
            in_trend_window: a.in_trend_window + b.in_trend_window,
            outside_trend_window: a.outside_trend_window + b.outside_trend_window,
            after_as_of: a.after_as_of + b.after_as_of,
        })
    }

    /// The threads' sums added up.
    pub fn finish(self) -> Sums {
        let mut cases = self.cases;
        for t in self.more_cases {
            cases.merge(t);
        }
        Sums {
            cases,
            signups: self.signups,
            whistles: self.whistles,
            orders: self.orders,
            members: self.members,
            hot: self.hot.map(|h| h.0),
            facilities: self.facilities.map(|f| f.0),
        }
    }
}

impl Tallies {
    /// The cases' sums (and hot-spot points) as a partial run's state; the threads' sums
    /// added first.
    pub fn cases_state(self) -> crate::vocab::state::TalliesState {
        let sums = self.finish();
        crate::vocab::state::TalliesState {
            cases: sums.cases.to_state(),
            hot: sums.hot.map(|h| h.points.iter().map(|p| (p.lon, p.lat, p.received, p.category, p.grid)).collect()),
        }
    }

    /// Adds a partial run's case sums; `dim_map` renumbers its dimension values.
    pub fn absorb_cases(&mut self, s: crate::vocab::state::TalliesState, dim_map: &[Vec<u32>]) -> Result<(), String> {
        self.cases.absorb(s.cases, dim_map)?;
        match (&mut self.hot, s.hot) {
            (Some((hot, _, _)), Some(points)) => {
                for (lon, lat, received, category, grid) in points {
                    let category = *dim_map
                        .first()
                        .and_then(|m| m.get(category as usize))
                        .ok_or("a hot-spot point names a category its dictionary does not have")?;
                    hot.points.push(hotspots::HotPoint { lon, lat, received, category, grid });
                }
                Ok(())
            }
            (None, None) => Ok(()),
            _ => Err("it was made with another [hotspots] setting".into()),
        }
    }
}

impl Sums {
    /// Bytes of the values kept for exact quantiles.
    pub fn stores_bytes(&self) -> usize {
        self.cases.stores_bytes()
    }
}

/// Computes every table from the sums: each level's units (in parallel), the city, the
/// dimensions, and the sign-up tables. `reach`: the service circle's reach per grid
/// (`join::reach`), when the pipeline reads facilities.
pub fn compute(p: &Pipeline, h: &Hierarchy, sums: &Sums, dicts: &Dictionaries, reach: Option<&[crate::join::reach::GridReach]>) -> Results {
    // The units of every home unit at every level (a home is a unit of any level).
    let homes: Vec<Units> = Level::ALL.iter().flat_map(|&l| (0..h.units(l).len() as u32).map(move |i| h.units_of(l, i))).collect();
    let levels: Vec<LevelTables> =
        Level::ALL.par_iter().filter(|l| h.present[**l as usize]).map(|&level| level_tables(p, h, level, sums, &homes)).collect();
    let (signup_projects, signup_curve) = sums.signups.project_tables(p);
    let (city, city_monthly) = city_tables(p, h, sums);
    let handling = store_index(CASE_FAMILIES, "handling").and_then(|i| sums.cases.stores.get(i));
    let city_handling = handling.map(handling::city_histogram).unwrap_or_else(|| handling::handling_bins(std::iter::empty()));
    let dimensions = (0..DIMENSIONS.len())
        .into_par_iter()
        .map(|d| (DIMENSIONS[d], dimension_table(p, d, DIMENSIONS[d], dicts.values(d), &sums.cases)))
        .collect();
    let whistle_departments = has_kind(p, "whistles").then(|| {
        let w = &sums.whistles;
        let f = dimension_table(p, 0, "department", &w.departments.values, &w.tally);
        // Whistle-level counts belong to places, not to one of the departments a whistle summons.
        let whistle_keys: Vec<&str> = whistles::WHISTLES.columns().iter().map(|c| c.field.key).chain(["whistles_low_n"]).collect();
        let mut f = f;
        f.columns.retain(|c| !whistle_keys.contains(&c.key.as_str()));
        f
    });
    let mut levels = levels;
    let mut city = city;
    let hotspots = match (&p.hotspots, &sums.hot) {
        (Some(s), Some(hot)) => {
            let spots = hotspots::find(&hot.points, s);
            for lt in levels.iter_mut() {
                let n = h.units(lt.level).len();
                let grid_unit = |g: u32| homes[g as usize][lt.level as usize].map(|u| u as usize);
                hotspot_columns(&mut lt.period, &spots, n, grid_unit);
            }
            hotspot_columns(&mut city, &spots, 1, |_| Some(0));
            Some(hotspot_table(p, h, dicts, &spots))
        }
        _ => None,
    };
    let member_organisations = has_kind(p, "member_roster").then(|| {
        let s = &p.indicators.members;
        for lt in levels.iter_mut() {
            let n = h.units(lt.level).len();
            let population = lt.period.floats("population");
            let level = lt.level;
            sums.members.columns(&mut lt.period, n, s, &population, |home| homes[home as usize][level as usize].map(|u| u as usize));
        }
        let population = city.floats("population");
        sums.members.columns(&mut city, 1, s, &population, |_| Some(0));
        sums.members.organisation_table(s)
    });
    let coverage = match (&p.coverage, &sums.facilities, reach) {
        (Some(c), Some(fac), Some(reach)) => {
            let by_population = p.grids.properties.population.is_some();
            let mut tables: Vec<(Level, &mut Frame)> = levels.iter_mut().map(|lt| (lt.level, &mut lt.period)).collect();
            Some(coverage::apply(c, h, reach, fac, by_population, &mut tables, &mut city, p.language))
        }
        _ => None,
    };
    let assessment = p.assessment.as_ref().map(|a| assessment::assess(a, &levels, &p.indicators.grade_bands));
    Results {
        levels,
        city,
        city_monthly,
        city_handling,
        dimensions,
        signup_projects,
        signup_curve,
        whistle_departments,
        hotspots,
        assessment,
        member_organisations,
        coverage,
    }
}

/// `hotspots`, `repeat_cases` and `repeat_case_rate` of a period table whose rows are `n`
/// units; `unit(grid)` is the row of a grid.
fn hotspot_columns(f: &mut Frame, spots: &[hotspots::Spot], n: usize, unit: impl Fn(u32) -> Option<usize>) {
    let (mut seeds, mut members) = (vec![0i64; n], vec![0i64; n]);
    for s in spots {
        if let Some(u) = unit(s.grid) {
            seeds[u] += 1;
        }
        for &g in &s.member_grids {
            if let Some(u) = unit(g) {
                members[u] += 1;
            }
        }
    }
    let cases = f.floats("cases");
    let share =
        members.iter().zip(&cases).map(|(m, c)| rate(*m as f64, c.unwrap_or(0.0) as u64).map(|x| (x * 1e4).round() / 1e4)).collect();
    f.int("hotspots", seeds.into_iter().map(Some).collect());
    f.int("repeat_cases", members.into_iter().map(Some).collect());
    f.float("repeat_case_rate", share, 4);
}

/// The hot-spot table: id, category, cases, first and last dates, centre, the seed's units.
fn hotspot_table(p: &Pipeline, h: &Hierarchy, dicts: &Dictionaries, spots: &[hotspots::Spot]) -> Frame {
    let tz = p.period.time_zone;
    let date = |ms: i64| crate::vocab::time::local_date(ms, tz);
    let categories = dicts.values(0);
    let mut f = Frame::default();
    f.str("hotspot_id", (1..=spots.len()).map(|i| Some(format!("H{i:03}"))).collect());
    f.str("category", spots.iter().map(|s| categories.get(s.category as usize).cloned()).collect());
    f.int("cases", spots.iter().map(|s| Some(s.cases as i64)).collect());
    f.push("first_received", crate::vocab::frame::Values::Date(spots.iter().map(|s| date(s.first)).collect()));
    f.push("last_received", crate::vocab::frame::Values::Date(spots.iter().map(|s| date(s.last)).collect()));
    f.float("lon", spots.iter().map(|s| Some(s.lon)).collect(), 6);
    f.float("lat", spots.iter().map(|s| Some(s.lat)).collect(), 6);
    for level in Level::ALL {
        if !h.present[level as usize] {
            continue;
        }
        let units = h.units(level);
        let unit = |s: &hotspots::Spot| h.units_of(Level::Grid, s.grid)[level as usize].map(|u| &units[u as usize]);
        f.str(&format!("{}_code", level.as_str()), spots.iter().map(|s| unit(s).map(|u| u.code.clone())).collect());
        f.str(&format!("{}_name", level.as_str()), spots.iter().map(|s| unit(s).map(|u| u.name.clone())).collect());
    }
    f
}

/// The pipeline reads a kind: the level tables carry its columns.
fn has_kind(p: &Pipeline, kind: &str) -> bool {
    p.sources_of(kind).next().is_some()
}

/// A timed kind's counters and quantiles rolled up to the `n` units of a level (per unit ×
/// slot), or nothing when the pipeline does not read the kind.
fn timed_kind<'t, F: Facts + Sync>(
    t: &'t Tally<F>,
    on: bool,
    homes: &[Units],
    level: Level,
    n: usize,
) -> (std::borrow::Cow<'t, [u64]>, Vec<Quantiles>) {
    if !on {
        return (std::borrow::Cow::Owned(Vec::new()), Vec::new());
    }
    let slots = t.slots;
    let quants = store_quantiles(t, n * slots, |e| {
        let Some(u) = homes[e.home as usize][level as usize] else { return [None, None] };
        entry_slots(t, e).map(|s| s.map(|s| u * slots as u32 + s))
    });
    (roll_up(t, homes, level, n), quants)
}

/// `whistles_per_1000_cases` after the whistle columns of a table that has both kinds.
fn add_whistle_rate(f: &mut Frame) {
    let (whistles, cases) = (f.floats("whistles"), f.floats("cases"));
    if f.column("whistles").is_none() || f.column("cases").is_none() {
        return;
    }
    let v = whistles.iter().zip(&cases).map(|(w, c)| rate(w.unwrap_or(0.0) * 1000.0, c.unwrap_or(0.0) as u64)).collect();
    f.float(whistles::RATE_FIELD.key, v, 2);
}

/// The slot of a stored entry's month, and of the period when it has a slot of its own.
fn entry_slots<F: Facts>(t: &Tally<F>, e: Entry<'_>) -> [Option<u32>; 2] {
    let month = e.month().map(|m| m as u32);
    let period = (t.separate_period && e.in_period()).then_some(t.period_slot as u32);
    [month, period]
}

/// A kind's counters rolled up to the units of a level: per unit × slot. The grid level is
/// the grid home units themselves (cases placed by a code of a higher level are in no grid).
fn roll_up<'t, F: Facts>(t: &'t Tally<F>, homes: &[Units], level: Level, n: usize) -> std::borrow::Cow<'t, [u64]> {
    let (w, slots) = (t.layout.width, t.slots);
    if level == Level::Grid && t.level_offset[0] == 0 && homes.len() == t.homes() {
        return std::borrow::Cow::Borrowed(&t.counts[..n * slots * w]);
    }
    let mut out = vec![0u64; n * slots * w];
    for (home, up) in homes.iter().enumerate() {
        let Some(u) = up[level as usize] else { continue };
        for s in 0..slots {
            let dst = &mut out[(u as usize * slots + s) * w..(u as usize * slots + s + 1) * w];
            dst.iter_mut().zip(t.block(home, s)).for_each(|(a, b)| *a += b);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Quantiles of every store of a kind, per key `0..n_keys`: `[key × stores]`.
fn store_quantiles<F: Facts>(t: &Tally<F>, n_keys: usize, keys: impl Fn(Entry<'_>) -> [Option<u32>; 2] + Sync) -> Vec<Quantiles> {
    let per_store: Vec<Vec<Quantiles>> = t.stores.iter().map(|s| grouped_quantiles(s, n_keys, &keys)).collect();
    (0..n_keys).flat_map(|k| per_store.iter().map(move |q| q[k])).collect()
}

/// The blocks `rows` of a kind's counters and quantiles as a table part.
fn part<'a, F: Facts>(t: &'a Tally<F>, counts: &'a [u64], quants: &'a [Quantiles], rows: Vec<usize>) -> Part<'a, F> {
    Part { families: t.families, layout: &t.layout, counts, quantiles: quants, rows }
}

fn level_tables(p: &Pipeline, h: &Hierarchy, level: Level, sums: &Sums, homes: &[Units]) -> LevelTables {
    let n = h.units(level).len();
    let t = &sums.cases;
    let (nm, slots, ps) = (t.months, t.slots, t.period_slot);
    // Roll-up: a unit's counts are the sums over the home units it contains (its grids, and
    // itself or its communities for cases placed by code).
    let counts = roll_up(t, homes, level, n);
    let quants = store_quantiles(t, n * slots, |e| {
        let Some(u) = homes[e.home as usize][level as usize] else { return [None, None] };
        entry_slots(t, e).map(|s| s.map(|s| u * slots as u32 + s))
    });
    let s = &sums.signups.tally;
    let signup_counts = roll_up(s, homes, level, n);
    let (w, o) = (&sums.whistles.tally, &sums.orders.tally);
    let (with_whistles, with_orders) = (has_kind(p, "whistles"), has_kind(p, "service_orders"));
    let (whistle_counts, whistle_quants) = timed_kind(w, with_whistles, homes, level, n);
    let (order_counts, order_quants) = timed_kind(o, with_orders, homes, level, n);
    let info = UnitsInfo::of_level(h, level);
    let units: Vec<usize> = (0..n).collect();
    let period_rows: Vec<usize> = (0..n).map(|u| u * slots + ps).collect();
    let case_part = part(t, &counts, &quants, period_rows.clone());
    let signup_part = part(s, &signup_counts, &[], units.clone());
    let whistle_part = part(w, &whistle_counts, &whistle_quants, period_rows.clone());
    let order_part = part(o, &order_counts, &order_quants, period_rows);
    let mut parts: Vec<&dyn Columns> = vec![&case_part, &signup_part];
    if with_whistles {
        parts.push(&whistle_part);
    }
    if with_orders {
        parts.push(&order_part);
    }
    let mut period = table::build(&info.shape(p, &units, None), &parts);
    // Monthly rows: the compared months of each unit (slots `0..nm`).
    let month_units: Vec<usize> = (0..n * nm).map(|r| r / nm).collect();
    let month_rows: Vec<usize> = (0..n).flat_map(|u| (0..nm).map(move |m| u * slots + m)).collect();
    let case_months = part(t, &counts, &quants, month_rows.clone());
    let whistle_months = part(w, &whistle_counts, &whistle_quants, month_rows.clone());
    let order_months = part(o, &order_counts, &order_quants, month_rows);
    let mut monthly_parts: Vec<&dyn Columns> = vec![&case_months];
    if with_whistles {
        monthly_parts.push(&whistle_months);
    }
    if with_orders {
        monthly_parts.push(&order_months);
    }
    let mut monthly = table::build(&info.shape(p, &month_units, Some(&t.compared)), &monthly_parts);
    if with_whistles {
        add_whistle_rate(&mut period);
        add_whistle_rate(&mut monthly);
    }
    if with_orders {
        sums.orders.member_columns(&mut period, n, p.indicators.order_min_members, |home| {
            homes[home as usize][level as usize].map(|u| u as usize)
        });
    }
    LevelTables { level, period, monthly }
}

/// Every placed record, whatever level it was placed at, in one unit: the city.
fn city_tables(p: &Pipeline, h: &Hierarchy, sums: &Sums) -> (Frame, Frame) {
    let t = &sums.cases;
    let (nm, slots, ps) = (t.months, t.slots, t.period_slot);
    let all: Vec<Units> = vec![[Some(0), Some(0), Some(0), Some(0)]; t.homes()];
    let counts = roll_up(t, &all, Level::District, 1);
    let quants = store_quantiles(t, slots, |e| entry_slots(t, e));
    let s = &sums.signups.tally;
    let signup_counts = roll_up(s, &all, Level::District, 1);
    let grids = h.units(Level::Grid);
    let sum = |f: fn(&crate::vocab::units::Unit) -> Option<f64>| {
        grids.iter().filter_map(f).fold(None, |a: Option<f64>, v| Some(a.unwrap_or(0.0) + v))
    };
    let info = UnitsInfo {
        key_columns: vec![("city_name".to_string(), vec![Some(p.title.clone())])],
        codes: vec![p.name.clone()],
        places: Some(vec![Place {
            population: sum(|u| u.population),
            households: sum(|u| u.households),
            area_km2: grids.iter().map(|u| u.area_km2).sum(),
            grids_without_population: grids.iter().filter(|u| u.population.is_none()).count() as u64,
        }]),
    };
    let (w, o) = (&sums.whistles.tally, &sums.orders.tally);
    let (with_whistles, with_orders) = (has_kind(p, "whistles"), has_kind(p, "service_orders"));
    let (whistle_counts, whistle_quants) = timed_kind(w, with_whistles, &all, Level::District, 1);
    let (order_counts, order_quants) = timed_kind(o, with_orders, &all, Level::District, 1);
    let case_part = part(t, &counts, &quants, vec![ps]);
    let signup_part = part(s, &signup_counts, &[], vec![0]);
    let whistle_part = part(w, &whistle_counts, &whistle_quants, vec![ps]);
    let order_part = part(o, &order_counts, &order_quants, vec![ps]);
    let mut parts: Vec<&dyn Columns> = vec![&case_part, &signup_part];
    if with_whistles {
        parts.push(&whistle_part);
    }
    if with_orders {
        parts.push(&order_part);
    }
    let mut period = table::build(&info.shape(p, &[0], None), &parts);
    let case_months = part(t, &counts, &quants, (0..nm).collect());
    let whistle_months = part(w, &whistle_counts, &whistle_quants, (0..nm).collect());
    let order_months = part(o, &order_counts, &order_quants, (0..nm).collect());
    let mut monthly_parts: Vec<&dyn Columns> = vec![&case_months];
    if with_whistles {
        monthly_parts.push(&whistle_months);
    }
    if with_orders {
        monthly_parts.push(&order_months);
    }
    let mut monthly = table::build(&info.shape(p, &vec![0; nm], Some(&t.compared)), &monthly_parts);
    if with_whistles {
        add_whistle_rate(&mut period);
        add_whistle_rate(&mut monthly);
    }
    if with_orders {
        sums.orders.member_columns(&mut period, 1, p.indicators.order_min_members, |_| Some(0));
    }
    (period, monthly)
}

/// Period indicators per value of one dimension (category, department or channel), sorted by
/// value; cases without a value form one row with an empty key.
fn dimension_table<F: Facts + Sync>(p: &Pipeline, dim: usize, name: &str, values: &[String], t: &Tally<F>) -> Frame {
    let w = t.layout.width;
    // Row `values.len()` holds the cases without a value.
    let n = values.len();
    let dc = &t.dims[dim];
    let mut counts: Vec<u64> = (0..n).flat_map(|v| (0..w).map(move |k| dc.values.get(v * w + k).copied().unwrap_or(0))).collect();
    counts.extend(&dc.empty);
    let quants = store_quantiles(t, n + 1, |e| {
        if !e.in_period() {
            return [None, None];
        }
        // No source maps a dimension: every case is in the row without a value.
        let v = e.dims.map_or(crate::vocab::dictionary::NO_VALUE, |d| d[dim]);
        [Some(if v == crate::vocab::dictionary::NO_VALUE { n as u32 } else { v }), None]
    });
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|a, b| values[*a].cmp(&values[*b]));
    if counts[n * w] > 0 {
        order.push(n);
    }
    let keys: Vec<Option<String>> = order.iter().map(|&i| values.get(i).cloned()).collect();
    let info = UnitsInfo {
        codes: keys.iter().map(|k| k.clone().unwrap_or_default()).collect(),
        key_columns: vec![(name.to_string(), keys)],
        places: None,
    };
    let units: Vec<usize> = (0..order.len()).collect();
    table::build(&info.shape(p, &units, None), &[&part(t, &counts, &quants, order) as &dyn Columns])
}

/// The units a table is about: its key columns, codes, and per unit the population,
/// households and area when the units are places (`None` for categories and departments).
struct UnitsInfo {
    key_columns: Vec<(String, Vec<Option<String>>)>,
    codes: Vec<String>,
    places: Option<Vec<Place>>,
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
            places: Some(
                units
                    .iter()
                    .map(|u| Place {
                        population: u.population,
                        households: u.households,
                        area_km2: u.area_km2,
                        grids_without_population: u.grids_without_population,
                    })
                    .collect(),
            ),
        }
    }

    /// The shape of a table of these units: `unit_of_row` gives each row's unit; a monthly
    /// table has a row per unit and month of `months` (counted months), in order.
    fn shape<'a>(&'a self, p: &'a Pipeline, unit_of_row: &'a [usize], months: Option<&'a [usize]>) -> Shape<'a> {
        let counted = p.period.counted_months();
        let periods = match months {
            None => vec![(p.period.label(), p.period.start); unit_of_row.len()],
            Some(m) => (0..unit_of_row.len()).map(|r| counted[m[r % m.len()]]).map(|c| (c.label(), c.first_day())).collect(),
        };
        Shape {
            keys: &self.key_columns,
            codes: &self.codes,
            places: self.places.as_deref(),
            unit_of_row,
            periods,
            as_of: p.period.as_of,
            months,
            history: p.period.history.len(),
            settings: &p.indicators,
        }
    }
}

/// Which quantile store a family keeps, by the store's name, in a kind's layout (for tests).
pub fn store_index<F>(families: &[&dyn Family<F>], name: &str) -> Option<usize> {
    families.iter().flat_map(|f| f.stores().iter()).position(|s| *s == name)
}

#[cfg(test)]
mod tests;
