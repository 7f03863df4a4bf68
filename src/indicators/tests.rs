//! Hand-computed answers for the case and sign-up families, and the rule that every column is
//! written in one place: a family's columns are in the tables, the registry and the listing.

use super::family::{CountContext, Derive, Layout, RowView};
use super::quantiles::Quantiles;
use super::*;
use crate::config::ShouldBeClosedFile;
use crate::vocab::record::{Followup, Satisfaction};
use crate::vocab::stats::quantile;

const H: i64 = 3_600_000;

fn settings() -> crate::config::IndicatorSettings {
    crate::config::IndicatorSettings { composite_weights: [0.1, 0.5, 0.4], min_n: 1, ..Default::default() }
}

fn fu(contacted: bool, resolved: bool, s: Satisfaction) -> Followup {
    Followup { valid: true, contacted, resolved, satisfaction: s }
}
const NO_FU: Followup = Followup::NONE;

fn case(received_h: i64, closed_h: Option<i64>, due_h: i64, f: Followup) -> CaseFacts {
    CaseFacts { closed: closed_h.map(|c| c * H), followup: f, ..CaseFacts::received_at(received_h * H, due_h * H) }
}

fn calendar() -> std::sync::Arc<crate::vocab::calendar::Calendar> {
    std::sync::Arc::new(crate::vocab::calendar::Calendar::always(crate::vocab::time::LocalRules::new(chrono_tz::Tz::UTC)))
}

use crate::vocab::dictionary::NO_VALUE;

/// One unit's sums after counting `cases` with every case family, as the tally does.
struct Unit {
    counters: Vec<u64>,
    kept: Vec<f64>,
    s: crate::config::IndicatorSettings,
}

fn count(cases: &[CaseFacts], as_of: i64, rule: ShouldBeClosedFile, min_n: u64) -> Unit {
    let mut s = settings();
    s.should_be_closed = rule;
    s.min_n = min_n;
    let ctx = CountContext { as_of_ms: as_of, as_of: chrono::NaiveDate::MIN, settings: s.clone(), calendar: calendar() };
    let layout = Layout::of(CASE_FAMILIES);
    let mut counters = vec![0u64; layout.width];
    let mut kept = Vec::new();
    for c in cases {
        let mut delta = vec![0u64; layout.width];
        let mut keep = vec![None; layout.n_stores];
        delta[0] = 1;
        for (f, fam) in CASE_FAMILIES.iter().enumerate() {
            let ((c0, nc), (s0, ns)) = (layout.counters[f], layout.stores[f]);
            fam.count(c, &ctx, &mut delta[c0..c0 + nc], &mut keep[s0..s0 + ns]);
        }
        counters.iter_mut().zip(&delta).for_each(|(a, b)| *a += b);
        // The first store: natural handling hours (the working-hours store holds the same
        // values here, with no calendar).
        kept.extend(keep.first().copied().flatten().map(|ms| ms as f64 / H as f64));
    }
    kept.sort_by(f64::total_cmp);
    Unit { counters, kept, s }
}

impl Unit {
    /// A column's value as the table builder derives it (unrounded).
    fn get(&self, key: &str) -> Option<f64> {
        let layout = Layout::of(CASE_FAMILIES);
        // Every store of the test's cases holds the same hours: without a calendar, working
        // time is natural time.
        let stores = layout.stores.iter().map(|(s0, ns)| s0 + ns).max().unwrap_or(0);
        let q = vec![Quantiles { median: quantile(&self.kept, 0.5), p90: quantile(&self.kept, 0.9) }; stores];
        for (f, fam) in CASE_FAMILIES.iter().enumerate() {
            let (c0, nc) = layout.counters[f];
            let (s0, ns) = layout.stores[f];
            let row = RowView { c: &self.counters[c0..c0 + nc], records: self.counters[0], q: &q[s0..s0 + ns], place: None, s: &self.s };
            for col in fam.columns().iter().filter(|c| c.field.key == key) {
                return match &col.value {
                    Derive::Records => Some(self.counters[0] as f64),
                    Derive::Count(k) => Some(row.c[*k] as f64),
                    Derive::Float(g, _) => g(&row),
                    _ => None,
                };
            }
        }
        None
    }

    fn grade(&self) -> Option<String> {
        let layout = Layout::of(CASE_FAMILIES);
        let fam = CASE_FAMILIES.iter().position(|f| f.columns().iter().any(|c| c.field.key == "grade"))?;
        let (c0, nc) = layout.counters[fam];
        let row = RowView { c: &self.counters[c0..c0 + nc], records: self.counters[0], q: &[], place: None, s: &self.s };
        match &CASE_FAMILIES[fam].columns().iter().find(|c| c.field.key == "grade")?.value {
            Derive::Text(g) => g(&row),
            _ => None,
        }
    }

    fn n(&self, key: &str) -> u64 {
        self.get(key).map_or(u64::MAX, |v| v as u64)
    }
}

const EXCLUDE: ShouldBeClosedFile = ShouldBeClosedFile::ExcludeOpenWithinLimit;

/// The published Tianmen (天门市) December 2016 figures: 应结案 972, 结案 911, 按期结案 737,
/// 结案率 93.72 %, 按期结案率 75.82 %. Rebuilt as 911 closed cases (737 on time, 174 late),
/// 61 open cases past due, and 8 open cases still inside their limit, which the default rule
/// leaves out of the should-be-closed count.
#[test]
fn tianmen_december_2016() {
    let mut v = Vec::new();
    v.extend((0..737).map(|_| case(0, Some(10), 24, NO_FU)));
    v.extend((0..174).map(|_| case(0, Some(50), 24, NO_FU)));
    v.extend((0..61).map(|_| case(0, None, 24, NO_FU)));
    v.extend((0..8).map(|_| case(990, None, 1100, NO_FU)));
    let u = count(&v, 1000 * H, EXCLUDE, 1);
    assert_eq!((u.n("should_close"), u.n("closed"), u.n("closed_on_time")), (972, 911, 737));
    assert_eq!(format!("{:.2}", u.get("closure_rate").expect("a rate") * 100.0), "93.72");
    assert_eq!(format!("{:.2}", u.get("on_time_closure_rate").expect("a rate") * 100.0), "75.82");
    assert_eq!((u.n("open"), u.n("overdue_open")), (69, 61));
}

#[test]
fn should_be_closed_rule_is_configurable() {
    let v = [case(0, Some(5), 24, NO_FU), case(0, None, 24, NO_FU), case(90, None, 200, NO_FU)];
    let a = count(&v, 100 * H, EXCLUDE, 1);
    let b = count(&v, 100 * H, ShouldBeClosedFile::AllReceived, 1);
    assert_eq!(a.n("should_close"), 2);
    assert_eq!(b.n("should_close"), 3);
    assert_eq!(a.get("closure_rate"), Some(0.5));
    assert_eq!(b.get("closure_rate"), Some(1.0 / 3.0));
}

#[test]
fn closure_after_as_of_counts_as_open() {
    let u = count(&[case(0, Some(150), 24, NO_FU)], 100 * H, EXCLUDE, 1);
    assert_eq!((u.n("closed"), u.n("open"), u.n("overdue_open"), u.n("should_close")), (0, 1, 1, 1));
    assert!(u.kept.is_empty(), "no handling time for a case still open at the as-of moment");
}

#[test]
fn three_rates_and_composite_by_hand() {
    // 4 valid follow-ups: contacted 3, resolved 2, satisfied 1, basically satisfied 2, unsatisfied 1.
    let v = [
        case(0, Some(1), 24, fu(true, true, Satisfaction::Satisfied)),
        case(0, Some(2), 24, fu(true, true, Satisfaction::Basic)),
        case(0, Some(3), 24, fu(true, false, Satisfaction::Basic)),
        case(0, Some(4), 24, fu(false, false, Satisfaction::Unsatisfied)),
        case(0, Some(5), 24, NO_FU),
    ];
    let u = count(&v, 100 * H, EXCLUDE, 1);
    assert_eq!(u.n("followups"), 4);
    assert_eq!(u.get("response_rate"), Some(0.75));
    assert_eq!(u.get("resolution_rate"), Some(0.5));
    // (1 + 0.9 × 2) / 4 = 0.7
    assert!((u.get("satisfaction_rate").expect("a rate") - 0.7).abs() < 1e-12);
    assert!((u.get("satisfaction_points").expect("points") - 2.8).abs() < 1e-12);
    // (0.1 × 0.75 + 0.5 × 0.5 + 0.4 × 0.7) × 100 = 60.5
    assert!((u.get("composite_score").expect("a score") - 60.5).abs() < 1e-9);
    assert_eq!(u.grade().as_deref(), Some("C"));
    // Handling hours 1..5: median 3, P90 = 4 + 0.6 × 1 = 4.6 (type 7).
    assert_eq!(u.get("handling_hours_median"), Some(3.0));
    assert!((u.get("handling_hours_p90").expect("a P90") - 4.6).abs() < 1e-12);
}

#[test]
fn min_n_suppresses_the_composite_only() {
    let u = count(&[case(0, Some(1), 24, fu(true, true, Satisfaction::Satisfied))], 100 * H, EXCLUDE, 2);
    assert_eq!(u.get("response_rate"), Some(1.0));
    assert_eq!(u.get("composite_score"), None);
    assert_eq!(u.grade(), None);
}

#[test]
fn cancelled_cases_count_in_volume_only() {
    let mut c = case(0, None, 24, fu(true, true, Satisfaction::Satisfied));
    c.cancelled = true;
    let u = count(&[c], 100 * H, ShouldBeClosedFile::AllReceived, 1);
    assert_eq!((u.n("cases"), u.n("cancelled"), u.n("should_close"), u.n("open"), u.n("followups")), (1, 1, 0, 0, 0));
}

#[test]
fn empty_unit_has_no_rates_not_nan() {
    let u = count(&[], 100 * H, EXCLUDE, 1);
    assert_eq!(u.get("response_rate"), None);
    assert_eq!(u.get("closure_rate"), None);
    assert_eq!(u.get("handling_hours_median"), None);
}

#[test]
fn grade_bands() {
    use super::followup::grade;
    let b = [90.0, 75.0, 60.0, 40.0];
    assert_eq!(grade(90.0, &b), "A");
    assert_eq!(grade(89.996, &b), "A"); // shown as 90.00
    assert_eq!(grade(89.99, &b), "B");
    assert_eq!(grade(59.0, &b), "D");
    assert_eq!(grade(10.0, &b), "E");
}

#[test]
fn counting_in_two_parts_equals_counting_in_one() {
    let v: Vec<CaseFacts> = (0..50)
        .map(|i| case(i, if i % 3 == 0 { None } else { Some(i + i % 7 * 10) }, i + 24, fu(i % 2 == 0, i % 5 == 0, Satisfaction::Basic)))
        .collect();
    let one = count(&v, 60 * H, EXCLUDE, 1);
    let (a, b) = (count(&v[..20], 60 * H, EXCLUDE, 1), count(&v[20..], 60 * H, EXCLUDE, 1));
    let summed: Vec<u64> = a.counters.iter().zip(&b.counters).map(|(x, y)| x + y).collect();
    assert_eq!(summed, one.counters);
}

fn day(s: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("a valid test date")
}

fn signup_tally(households: &[SignupFactsRow]) -> SignupTally {
    let p = test_pipeline();
    let h = Hierarchy::build(&test_layer());
    let mut t = SignupTally::new(Tally::new(&p, &h, calendar(), signups::FAMILIES, false, 0, false), day("2026-03-10"));
    for hh in households {
        t.add(0, &hh.0);
    }
    t
}

struct SignupFactsRow(crate::vocab::record::SignupFacts);

fn hh(p: &str, in_scope: bool, signed: Option<&str>) -> SignupFactsRow {
    SignupFactsRow(crate::vocab::record::SignupFacts {
        project_id: p.into(),
        project_name: format!("{p} name"),
        in_scope,
        signed: signed.map(day),
    })
}

#[test]
fn signup_rate_and_threshold_day_by_hand() {
    // 10 in scope, 1 out of scope; signings: 4 on 1 Mar, 3 on 3 Mar, 2 on 6 Mar, 1 after as-of.
    let mut v = Vec::new();
    v.extend((0..4).map(|_| hh("P", true, Some("2026-03-01"))));
    v.extend((0..3).map(|_| hh("P", true, Some("2026-03-03"))));
    v.extend((0..2).map(|_| hh("P", true, Some("2026-03-06"))));
    v.push(hh("P", true, Some("2026-04-01")));
    v.push(hh("P", false, Some("2026-03-01")));
    let t = signup_tally(&v);
    let ps = t.projects(|_| 0.9, |_| None);
    let p = &ps[0];
    assert_eq!((p.in_scope, p.signed, p.out_of_scope), (10, 9, 1));
    // 4/10, 4, 7/10, 7, 7, 9/10 on 6 Mar: threshold 0.9 reached that day.
    assert_eq!(p.threshold_reached_on, Some(day("2026-03-06")));
    assert_eq!(p.curve.len(), 10);
    assert_eq!(p.curve[2], (day("2026-03-03"), 7));
    assert_eq!(t.projects(|_| 0.95, |_| None)[0].threshold_reached_on, None);
    // The unit's counters say the same.
    assert_eq!(&t.tally.block(0, 0)[..4], &[11, 10, 9, 1]);
}

#[test]
fn no_signings_no_curve() {
    let t = signup_tally(&[hh("Q", true, None)]);
    let ps = t.projects(|_| 0.8, |_| None);
    assert!(ps[0].curve.is_empty());
    assert_eq!(ps[0].threshold_reached_on, None);
}

/// A two-grid layer in one community, street and district.
fn test_layer() -> crate::vocab::units::GridLayer {
    use crate::vocab::units::{Grid, GridLayer, UnitRef};
    use geo::polygon;
    let sq = |x: f64| geo::MultiPolygon::new(vec![polygon![(x: x, y: 0.0), (x: x + 1.0, y: 0.0), (x: x + 1.0, y: 1.0), (x: x, y: 1.0)]]);
    let parent = |c: &str| Some(UnitRef { code: c.into(), name: c.into() });
    let grid = |code: &str, x: f64| Grid {
        code: code.into(),
        name: code.into(),
        parents: [parent("C1"), parent("S1"), parent("D1")],
        population: Some(100.0),
        households: Some(40.0),
        geometry: sq(x),
        area_km2: 1.0,
        feature_index: 0,
    };
    GridLayer {
        path: "t".into(),
        grids: vec![grid("G1", 0.0), grid("G2", 1.0)],
        features_read: 2,
        problems: Vec::new(),
        has_level: [true; 3],
        crs: "wgs84".into(),
    }
}

fn test_pipeline() -> Pipeline {
    let text = r#"
name = "t"
output_dir = "out"
[period]
month = "2026-02"
as_of = "2026-03-10"
trend_months = 2
[grids]
path = "g.geojson"
[grids.properties]
code = "code"
community_code = "c"
street_code = "s"
district_code = "d"
[[cases]]
name = "c"
path = "c.csv"
[cases.columns]
case_id = "id"
received_at = "r"
grid_code = "g"
category = "cat"
[[signups]]
name = "s"
path = "s.csv"
[signups.columns]
household_id = "h"
project_id = "p"
grid_code = "g"
signed_date = "d"
"#;
    let path = std::path::Path::new("/t/pipeline.toml");
    let file = crate::config::parse(path, text).expect("the test pipeline parses");
    let mappable = registry::mappable();
    let columns: Vec<&str> = registry::fields().iter().map(|f| f.key).collect();
    let catalog = crate::config::Catalog { kinds: crate::io::kinds::SPECS, mappable: &mappable, columns: &columns };
    crate::config::resolve(path, file, &Default::default(), &catalog).expect("the test pipeline resolves")
}

/// Every family column is in the tables of its kind (period, monthly, by dimension, city),
/// in the registry and in `gridgov indicators`: a column is written once, in its family.
#[test]
fn every_family_column_reaches_tables_registry_and_listing() {
    let p = test_pipeline();
    let h = Hierarchy::build(&test_layer());
    let mut tallies = Tallies::new(&p, &h, calendar(), 10, true);
    let received = p.period.start_ms() + H;
    let rows = vec![Some(Record {
        fact: Fact::Case(CaseFacts {
            closed: Some(received + H),
            dims: [0, NO_VALUE, NO_VALUE],
            ..CaseFacts::received_at(received, received + 24 * H)
        }),
        location: crate::vocab::record::Location::ByCode { level: Level::Grid, unit: 1, fallback: false },
    })];
    let placed = vec![Placed::Home { level: Level::Grid, unit: 1, how: crate::vocab::record::How::Code(Level::Grid) }];
    let in_time = tallies.add(&rows, &placed);
    assert_eq!((in_time.in_period, in_time.in_trend_window), (1, 1));
    let mut dicts = Dictionaries::new(DIMENSIONS.len());
    dicts.dims[0].intern(Some("roads"));
    let r = compute(&p, &h, &tallies.finish(), &dicts, None);
    let listing = registry::listing();
    let keys = |f: &Frame| f.columns.iter().map(|c| c.key.clone()).collect::<Vec<_>>();
    // A pipeline without whistle sources has no whistle columns (tests/whistles.rs has them).
    let whistle_keys: Vec<&str> = super::whistles::FAMILIES
        .iter()
        .flat_map(|f| f.columns().iter().map(|c| c.field.key))
        .chain(super::service_orders::FAMILIES.iter().flat_map(|f| f.columns().iter().map(|c| c.field.key)))
        .collect();
    for (_, cols) in registry::families() {
        for c in cols {
            let k = c.field.key;
            assert!(registry::field(k).is_some(), "{k} not in the registry");
            assert!(listing.lines().any(|l| l.starts_with(&format!("{k} "))), "{k} not in the listing");
            let grid = &r.levels[0];
            let (period, monthly) = (keys(&grid.period), keys(&grid.monthly));
            if whistle_keys.contains(&k) {
                assert!(!period.iter().any(|x| x == k) && !monthly.iter().any(|x| x == k), "{k} without a whistle source");
                continue;
            }
            match c.only {
                family::Only::Monthly => assert!(monthly.iter().any(|x| x == k) && !period.iter().any(|x| x == k), "{k}"),
                _ => assert!(period.iter().any(|x| x == k), "{k} not in grid.csv"),
            }
        }
    }
    // Table columns come from the families and the keys only; every one is registered.
    for f in
        r.levels.iter().flat_map(|l| [&l.period, &l.monthly]).chain([&r.city, &r.city_monthly]).chain(r.dimensions.iter().map(|(_, f)| f))
    {
        for k in keys(f) {
            assert!(registry::field(&k).is_some(), "{k} is written but not registered");
        }
    }
    // The one case, at grid G2, month and period: counted once everywhere it rolls up to.
    let cases = |f: &Frame| f.floats("cases");
    assert_eq!(cases(&r.levels[0].period), vec![Some(0.0), Some(1.0)]);
    assert_eq!(cases(&r.levels[1].period), vec![Some(1.0)]);
    assert_eq!(cases(&r.city), vec![Some(1.0)]);
    assert_eq!(cases(&r.city_monthly), vec![Some(0.0), Some(1.0)]);
    assert_eq!(r.dimensions[0].1.texts("category"), vec!["roads".to_string()]);
    assert_eq!(r.city.floats("handling_hours_median"), vec![Some(1.0)]);
}

/// With a two-month window (January and February 2026), the history months counted are those
/// the window compares with: January and February 2025 (同比) and December 2025 (环比 of
/// January). A case in June 2025 is placed and accounted for outside the window but counted
/// nowhere; the changes come out as by hand.
#[test]
fn only_the_compared_history_months_are_counted() {
    let p = test_pipeline();
    assert_eq!(p.period.compared_months(), vec![0, 1, 11, 12, 13]);
    let h = Hierarchy::build(&test_layer());
    let mut tallies = Tallies::new(&p, &h, calendar(), 10, true);
    let at = |y: i32, m: u32| p.period.local_midnight_ms(chrono::NaiveDate::from_ymd_opt(y, m, 10).unwrap());
    // 2025-01: 1, 2025-06: 1 (compared with nothing), 2025-12: 1, 2026-01: 2, 2026-02: 3.
    let times = [at(2025, 1), at(2025, 6), at(2025, 12), at(2026, 1), at(2026, 1), at(2026, 2), at(2026, 2), at(2026, 2)];
    let rows: Vec<Option<Record>> = times
        .iter()
        .map(|&t| {
            Some(Record {
                fact: Fact::Case(CaseFacts { dims: [NO_VALUE; 3], ..CaseFacts::received_at(t, t + 24 * H) }),
                location: crate::vocab::record::Location::ByCode { level: Level::Grid, unit: 1, fallback: false },
            })
        })
        .collect();
    let placed = vec![Placed::Home { level: Level::Grid, unit: 1, how: crate::vocab::record::How::Code(Level::Grid) }; rows.len()];
    let in_time = tallies.add(&rows, &placed);
    assert_eq!((in_time.in_period, in_time.in_trend_window, in_time.outside_trend_window), (3, 5, 3));
    let sums = tallies.finish();
    assert_eq!((sums.cases.slots, sums.cases.period_slot), (5, 4), "five month slots, the period is February's");
    let r = compute(&p, &h, &sums, &Dictionaries::new(DIMENSIONS.len()), None);
    let m = &r.levels[0].monthly;
    // Rows: grid G1 Jan, Feb, then G2 Jan, Feb (the history rows are not shown).
    assert_eq!(m.texts("period"), ["2026-01", "2026-02", "2026-01", "2026-02"]);
    assert_eq!(m.floats("cases")[2..], [Some(2.0), Some(3.0)]);
    assert_eq!(m.floats("cases_prev_month")[2..], [Some(1.0), Some(2.0)]);
    assert_eq!(m.floats("cases_mom_rate")[2..], [Some(1.0), Some(0.5)]);
    assert_eq!(m.floats("cases_prev_year")[2..], [Some(1.0), Some(0.0)]);
    assert_eq!(m.floats("cases_yoy_rate")[2..], [Some(1.0), None]);
    assert_eq!(r.city_monthly.floats("cases_prev_year"), [Some(1.0), Some(0.0)]);
}
