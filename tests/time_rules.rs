//! The time rules at their boundaries (docs/indicators.md, "Time" and "Field issues"), as a
//! table: each row is one case (or household) in a grid of its own, with its hand-computed
//! effect on that grid's counts. One run of the real binary reads them all; a second run, in
//! New York, takes the daylight-saving rows.
//!
//! Beijing run: as-of day 2026-10-31 (`--as-of`), so T = 2026-11-01 00:00 +08:00; the period
//! is `month = "current"` (October to date: all of October); working hours 09:00–12:00 and
//! 13:30–17:30 on the real mainland-China calendar (1–7 October 2026 off, Saturday 10 October
//! worked in exchange); time limits `1wd` (category 一日件), `2wd` (两日件), `2wh` (两小时件),
//! `24h` (二十四小时件); default limit 360 h; instant closures within 5 minutes; `min_n = 2`.

use crate::util::*;
use std::collections::BTreeMap;
use std::path::Path;

/// One row of the table: the grid it is alone in, its CSV fields, and the columns of that
/// grid's row in `grid.csv` it must produce (every other count of the grid is whatever the
/// row implies; the listed ones are the boundary).
struct Case {
    about: &'static str,
    grid: &'static str,
    /// `received,closed,due,extension,category,status,disposed,rework,contacted,resolved,satisfaction,lon,lat,grid`
    fields: &'static str,
    expect: &'static [(&'static str, &'static str)],
}

const HEADER: &str = "id,received,closed,due,extension,category,status,disposed,rework,contacted,resolved,satisfaction,lon,lat,grid";

/// The Beijing table. Lon/lat, when given, are inside the row's grid (see `grid_layer`).
const BEIJING: &[Case] = &[
    // --- closed around T ---
    Case {
        about: "closed 1 s before T: closed, on time",
        grid: "G01",
        fields: "2026-10-30 10:00:00,2026-10-31 23:59:59,2026-11-05 00:00:00,,,,,,,,,,,G01",
        expect: &[("cases", "1"), ("closed", "1"), ("open", "0"), ("should_close", "1"), ("closed_on_time", "1"), ("closure_rate", "1.0")],
    },
    Case {
        about: "closed exactly at T: open at T, not yet due, so not owed",
        grid: "G02",
        fields: "2026-10-30 10:00:00,2026-11-01 00:00:00,2026-11-05 00:00:00,,,,,,,,,,,G02",
        expect: &[("cases", "1"), ("closed", "0"), ("open", "1"), ("should_close", "0"), ("overdue_open", "0"), ("closure_rate", "")],
    },
    Case {
        about: "closed 1 s after T, already overdue: open and overdue, not rejected",
        grid: "G03",
        fields: "2026-10-20 10:00:00,2026-11-01 00:00:01,2026-10-25 00:00:00,,,,,,,,,,,G03",
        expect: &[("cases", "1"), ("closed", "0"), ("open", "1"), ("overdue_open", "1"), ("should_close", "1"), ("closure_rate", "0.0")],
    },
    // --- due times ---
    Case {
        about: "date-only due, closed on the due day at 18:00: on time (the due day ends at midnight)",
        grid: "G05",
        fields: "2026-10-15 10:00:00,2026-10-20 18:00:00,2026-10-20,,,,,,,,,,,G05",
        expect: &[("closed", "1"), ("closed_on_time", "1"), ("on_time_closure_rate", "1.0"), ("due_given", "1")],
    },
    Case {
        about: "date-only due, closed 00:30 the next day: late",
        grid: "G06",
        fields: "2026-10-15 10:00:00,2026-10-21 00:30:00,2026-10-20,,,,,,,,,,,G06",
        expect: &[("closed", "1"), ("closed_on_time", "0"), ("on_time_closure_rate", "0.0")],
    },
    Case {
        about: "open, due exactly at T: not yet passed, so not overdue and not owed",
        grid: "G07",
        fields: "2026-10-25 10:00:00,,2026-11-01 00:00:00,,,,,,,,,,,G07",
        expect: &[("open", "1"), ("overdue_open", "0"), ("should_close", "0"), ("overdue_open_rate", "0.0"), ("overdue_due_rate", "")],
    },
    Case {
        about: "open, due 1 s before T: overdue and owed",
        grid: "G08",
        fields: "2026-10-25 10:00:00,,2026-10-31 23:59:59,,,,,,,,,,,G08",
        expect: &[("open", "1"), ("overdue_open", "1"), ("should_close", "1"), ("overdue_open_rate", "1.0"), ("overdue_due_rate", "1.0")],
    },
    Case {
        about: "open, date-only due on the as-of day: that day has ended at T, so overdue",
        grid: "G09",
        fields: "2026-10-25 10:00:00,,2026-10-31,,,,,,,,,,,G09",
        expect: &[("open", "1"), ("overdue_open", "1"), ("should_close", "1")],
    },
    Case {
        about: "closed exactly at its due time: on time (closed ≤ due)",
        grid: "G04",
        fields: "2026-10-12 09:00:00,2026-10-13 09:00:00,2026-10-13 09:00:00,,,,,,,,,,,G04",
        expect: &[("closed_on_time", "1")],
    },
    // --- working calendar and the time-limit table ---
    Case {
        about: "1wd received on a holiday (1 Oct): due at the end of 8 Oct, the first working day after it; closed 8 Oct 17:00 is on time",
        grid: "G10",
        fields: "2026-10-01 10:00:00,2026-10-08 17:00:00,,,一日件,,,,,,,,,G10",
        expect: &[("closed_on_time", "1"), ("due_from_limits", "1"), ("due_given", "0"), ("due_imputed_share", "1.0")],
    },
    Case {
        about: "2wd received Friday 9 Oct: the exchanged Saturday 10 Oct counts, due Monday 12 Oct 17:30; closed 18:00 is late",
        grid: "G11",
        fields: "2026-10-09 16:00:00,2026-10-12 18:00:00,,,两日件,,,,,,,,,G11",
        expect: &[("closed_on_time", "0"), ("due_from_limits", "1")],
    },
    Case {
        about: "2wd received Friday 9 Oct, closed Monday 12 Oct 17:30 exactly: on time",
        grid: "G12",
        fields: "2026-10-09 16:00:00,2026-10-12 17:30:00,,,两日件,,,,,,,,,G12",
        expect: &[("closed_on_time", "1")],
    },
    Case {
        about: "2wh received 11:00 across the 12:00–13:30 lunch break: due 14:30; closed 14:30 on time; 3.5 h natural, 2 working hours",
        grid: "G13",
        fields: "2026-10-12 11:00:00,2026-10-12 14:30:00,,,两小时件,,,,,,,,,G13",
        expect: &[("closed_on_time", "1"), ("handling_hours_median", "3.5"), ("handling_work_hours_median", "2.0")],
    },
    Case {
        about: "2wh received 11:00, closed 14:31: late",
        grid: "G14",
        fields: "2026-10-12 11:00:00,2026-10-12 14:31:00,,,两小时件,,,,,,,,,G14",
        expect: &[("closed_on_time", "0")],
    },
    Case {
        about: "2wh received on a Saturday evening (not a worked one): starts Monday 09:00, due 11:00; closed 10:59 on time",
        grid: "G15",
        fields: "2026-10-17 20:00:00,2026-10-19 10:59:00,,,两小时件,,,,,,,,,G15",
        expect: &[("closed_on_time", "1"), ("handling_work_hours_median", "1.98")],
    },
    Case {
        about: "24h natural hours over a weekend: received Friday 10:00, closed Saturday 10:00 exactly is on time",
        grid: "G16",
        fields: "2026-10-16 10:00:00,2026-10-17 10:00:00,,,二十四小时件,,,,,,,,,G16",
        expect: &[("closed_on_time", "1"), ("handling_hours_median", "24.0")],
    },
    Case {
        about: "24h, closed 1 s late",
        grid: "G17",
        fields: "2026-10-16 10:00:00,2026-10-17 10:00:01,,,二十四小时件,,,,,,,,,G17",
        expect: &[("closed_on_time", "0")],
    },
    Case {
        about: "an extension of 48 h on a given due (20 Oct 12:00 → 22 Oct 12:00); closed 22 Oct 11:00 is on time",
        grid: "G18",
        fields: "2026-10-19 12:00:00,2026-10-22 11:00:00,2026-10-20 12:00:00,48h,,,,,,,,,,G18",
        expect: &[("closed_on_time", "1"), ("due_extended", "1"), ("due_given", "1")],
    },
    Case {
        about: "no due and no rule: received 1 Oct 00:00 + 360 h = 16 Oct 00:00, open: overdue, due_default",
        grid: "G19",
        fields: "2026-10-01 00:00:00,,,,其他,,,,,,,,,G19",
        expect: &[("open", "1"), ("overdue_open", "1"), ("due_default", "1"), ("due_imputed_share", "1.0")],
    },
    // --- periods ---
    Case {
        about: "received on the period's last day at 23:30 local: in October, open",
        grid: "G20",
        fields: "2026-10-31 23:30:00,,,,,,,,,,,,,G20",
        expect: &[("cases", "1"), ("open", "1"), ("should_close", "0")],
    },
    Case {
        about: "received 30 September 23:59:59: in no October count (the grid has no case)",
        grid: "G21",
        fields: "2026-09-30 23:59:59,2026-10-01 10:00:00,,,,,,,,,,,,G21",
        expect: &[("cases", "0"), ("closed", "0")],
    },
    Case {
        about: "received exactly at T: valid, in no period (counted in the manifest as received after as-of)",
        grid: "G22",
        fields: "2026-11-01 00:00:00,,,,,,,,,,,,,G22",
        expect: &[("cases", "0"), ("open", "0")],
    },
    // --- field issues: the case stays in what the bad field does not touch ---
    Case {
        about: "an unknown satisfaction spelling: in volume and closure, out of the follow-up rates",
        grid: "G23",
        fields: "2026-10-12 09:00:00,2026-10-12 12:00:00,2026-10-13 09:00:00,,,,,,是,是,很满意,,,G23",
        expect: &[("cases", "1"), ("closed", "1"), ("followups", "0"), ("followups_unreadable", "1"), ("response_rate", "")],
    },
    Case {
        about: "an unreadable closed time: in volume and follow-ups, out of closure (closed_unknown)",
        grid: "G24",
        fields: "2026-10-12 09:00:00,2026-10-3x 12:00:00,2026-10-13 09:00:00,,,,,,是,是,满意,,,G24",
        expect: &[
            ("cases", "1"),
            ("closed_unknown", "1"),
            ("closed", "0"),
            ("open", "0"),
            ("should_close", "0"),
            ("followups", "1"),
            ("satisfaction_rate", "1.0"),
            ("handling_hours_median", ""),
        ],
    },
    Case {
        about: "closed before received: kept, closed_unknown",
        grid: "G25",
        fields: "2026-10-12 09:00:00,2026-10-11 09:00:00,,,,,,,,,,,,G25",
        expect: &[("cases", "1"), ("closed_unknown", "1"), ("closed", "0"), ("open", "0")],
    },
    Case {
        about: "coordinates not numbers but a grid code: placed by the code",
        grid: "G26",
        fields: "2026-10-12 09:00:00,,,,,,,,,,,abc,39.905,G26",
        expect: &[("cases", "1")],
    },
    Case {
        about: "swapped coordinates (lat, lon) of a point in G27: swapped back and placed by the point",
        grid: "G27",
        fields: "2026-10-12 09:00:00,,,,,,,,,,,39.905,116.565,",
        expect: &[("cases", "1")],
    },
    Case {
        about: "a known default location with a grid code: placed by the code",
        grid: "G28",
        fields: "2026-10-12 09:00:00,,,,,,,,,,,116.397,39.909,G28",
        expect: &[("cases", "1")],
    },
    // --- instant closures, disposal, rework, cancellation ---
    Case {
        about: "closed exactly 5 minutes after receipt: an instant closure",
        grid: "G29",
        fields: "2026-10-12 10:00:00,2026-10-12 10:05:00,,,,,,,,,,,,G29",
        expect: &[("instant_closures", "1"), ("instant_closure_share", "1.0")],
    },
    Case {
        about: "closed 5 min 1 s after receipt: not instant",
        grid: "G30",
        fields: "2026-10-12 10:00:00,2026-10-12 10:05:01,,,,,,,,,,,,G30",
        expect: &[("instant_closures", "0"), ("instant_closure_share", "0.0")],
    },
    Case {
        about: "disposed before its due, closed after T, reworked twice: disposed on time, reworked, still open",
        grid: "G31",
        fields: "2026-10-20 09:00:00,2026-11-02 09:00:00,2026-10-25 00:00:00,,,,2026-10-24 09:00:00,2,,,,,,G31",
        expect: &[
            ("should_dispose", "1"),
            ("disposed", "1"),
            ("disposed_on_time", "1"),
            ("disposal_rate", "1.0"),
            ("rework_base", "1"),
            ("reworked", "1"),
            ("rework_rate", "1.0"),
            ("open", "1"),
        ],
    },
    Case {
        about: "disposed 1 s after T: not disposed; due passed, so owed a disposal",
        grid: "G32",
        fields: "2026-10-20 09:00:00,,2026-10-25 00:00:00,,,,2026-11-01 00:00:01,0,,,,,,G32",
        expect: &[("should_dispose", "1"), ("disposed", "0"), ("disposal_rate", "0.0"), ("reworked", "0"), ("rework_rate", "0.0")],
    },
    Case {
        about: "a rework count that is not a number: kept, out of the rework rate only",
        grid: "G33",
        fields: "2026-10-20 09:00:00,2026-10-21 09:00:00,2026-10-25 00:00:00,,,,2026-10-21 08:00:00,两次,,,,,,G33",
        expect: &[("closed", "1"), ("rework_base", "0"), ("rework_rate", ""), ("disposed", "1")],
    },
    Case {
        about: "cancelled, closed late: counted in cases and cancelled only",
        grid: "G34",
        fields: "2026-10-12 09:00:00,2026-10-30 09:00:00,2026-10-13 09:00:00,,,已撤销,,,是,是,满意,,,G34",
        expect: &[("cases", "1"), ("cancelled", "1"), ("closed", "0"), ("should_close", "0"), ("followups", "0"), ("due_given", "0")],
    },
    Case {
        about: "one valid follow-up: rates published and flagged low-n (min_n = 2), no composite score",
        grid: "G35",
        fields: "2026-10-12 09:00:00,2026-10-12 12:00:00,2026-10-13 09:00:00,,,,,,是,否,基本满意,,,G35",
        expect: &[
            ("followups", "1"),
            ("response_rate", "1.0"),
            ("resolution_rate", "0.0"),
            ("satisfaction_rate", "0.9"),
            ("followups_low_n", "true"),
            ("composite_score", ""),
            ("composite_rank", ""),
            ("should_close_low_n", "true"),
        ],
    },
];

/// `grids` squares of 0.01° side by side from 116.30 E, 39.90 N: G01–G10 in community C1,
/// the rest in C2, all of street S1 and district D1, 1,000 residents each except G02.
fn grid_layer(grids: usize) -> String {
    let feats: Vec<String> = (1..=grids)
        .map(|i| {
            let code = format!("G{i:02}");
            let w = 116.30 + (i - 1) as f64 * 0.01;
            let (e, s, n) = (w + 0.01, 39.90, 39.91);
            let comm = if i <= 10 { "C1" } else { "C2" };
            // G02 has no population: its community's cases per 10k cannot be computed.
            let pop = if i == 2 { "null".to_string() } else { "1000".to_string() };
            format!(
                r#"{{"type":"Feature","properties":{{"code":"{code}","comm":"{comm}","street":"S1","district":"D1","pop":{pop}}},"geometry":{{"type":"Polygon","coordinates":[[[{w:.2},{s:.2}],[{e:.2},{s:.2}],[{e:.2},{n:.2}],[{w:.2},{n:.2}],[{w:.2},{s:.2}]]]}}}}"#
            )
        })
        .collect();
    format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, feats.join(","))
}

const BEIJING_TOML: &str = r#"
name = "rules"
output_dir = "out"
[period]
month = "current"
trend_months = 2
time_zone = "Asia/Shanghai"
[grids]
path = "grids.geojson"
[grids.properties]
code = "code"
community_code = "comm"
street_code = "street"
district_code = "district"
population = "pop"
[[cases]]
name = "cases"
path = "cases.csv"
timestamp_formats = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]
[cases.columns]
case_id = "id"
received_at = "received"
closed_at = "closed"
due_at = "due"
extension = "extension"
category = "category"
status = "status"
disposed_at = "disposed"
rework_count = "rework"
contacted = "contacted"
resolved = "resolved"
satisfaction = "satisfaction"
lon = "lon"
lat = "lat"
grid_code = "grid"
[cases.values]
cancelled_status = ["已撤销"]
[[signups]]
name = "signups"
path = "signups.csv"
date_formats = ["%Y-%m-%d"]
timestamp_formats = ["%Y-%m-%dT%H:%M:%S%:z"]
[signups.columns]
household_id = "hh"
project_id = "project"
grid_code = "grid"
in_scope = "in_scope"
signed_date = "signed"
[indicators]
min_n = 2
default_time_limit_hours = 360
instant_closure_minutes = 5
signup_threshold = 0.5
signup_starts = { P1 = "2026-10-01" }
[[indicators.time_limits]]
category = "一日件"
limit = "1wd"
[[indicators.time_limits]]
category = "两日件"
limit = "2wd"
[[indicators.time_limits]]
category = "两小时件"
limit = "2wh"
[[indicators.time_limits]]
category = "二十四小时件"
limit = "24h"
[calendar]
holidays = "HOLIDAYS"
working_hours = ["09:00-12:00", "13:30-17:30"]
[quality]
max_reject_share = 1.0
suspect_points = [[116.397, 39.909]]
suspect_radius_m = 50
"#;

/// Households of project P1 in G40, in scope. Read in Beijing time: the 07:00 +08:00 signing
/// is on 8 October (read as UTC it would be the 7th); the 00:30 +08:00 signing on 1 November
/// is after the as-of day (as UTC it would be 31 October).
const SIGNUPS: &str = "hh,project,grid,in_scope,signed
H1,P1,G40,是,2026-10-08T07:00:00+08:00
H2,P1,G40,是,2026-10-31T23:30:00+08:00
H3,P1,G40,是,2026-11-01T00:30:00+08:00
H4,P1,G40,是,
";

/// Cases outside the table's grids: October 2025 in G38 (the 同比 base of G38's October 2026
/// pair), and a case received two days after T (in no period).
const EXTRA: &str = "\
Y1,2025-10-15 09:00:00,,,,,,,,,,,,,G38
Y2,2026-10-05 09:00:00,,,,,,,,,,,,,G38
Y3,2026-10-06 09:00:00,,,,,,,,,,,,,G38
X1,2026-11-03 09:00:00,,,,,,,,,,,,,G39
";

fn write_beijing(dir: &Path) -> std::path::PathBuf {
    std::fs::write(dir.join("grids.geojson"), grid_layer(40)).unwrap();
    let mut csv = format!("{HEADER}\n");
    for (i, c) in BEIJING.iter().enumerate() {
        assert_eq!(c.fields.split(',').count(), HEADER.split(',').count() - 1, "{}: a field too many or too few", c.about);
        csv += &format!("R{:02},{}\n", i + 1, c.fields);
    }
    csv += EXTRA;
    std::fs::write(dir.join("cases.csv"), csv).unwrap();
    std::fs::write(dir.join("signups.csv"), SIGNUPS).unwrap();
    let holidays = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/calendars/cn_holidays_2015_2026.csv");
    let toml = BEIJING_TOML.replace("HOLIDAYS", holidays.to_str().unwrap());
    std::fs::write(dir.join("rules.toml"), toml).unwrap();
    dir.join("rules.toml")
}

fn by_grid(rows: &[BTreeMap<String, String>]) -> BTreeMap<String, BTreeMap<String, String>> {
    rows.iter().map(|r| (r["grid_code"].clone(), r.clone())).collect()
}

/// A table value equals the expected text, numbers by value (`1` is `1.0`).
fn same(got: &str, want: &str) -> bool {
    match (got.parse::<f64>(), want.parse::<f64>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => got == want,
    }
}

/// Checks every row of a table; all failures are reported together.
fn check_rows(table: &[Case], grids: &BTreeMap<String, BTreeMap<String, String>>) -> Vec<String> {
    let mut failures = Vec::new();
    for c in table {
        let Some(row) = grids.get(c.grid) else {
            failures.push(format!("{} ({}): no row for the grid", c.about, c.grid));
            continue;
        };
        for (col, want) in c.expect {
            match row.get(*col) {
                None => failures.push(format!("{} ({}): no column {col}", c.about, c.grid)),
                Some(got) if !same(got, want) => failures.push(format!("{} ({}): {col} = {got:?}, expected {want:?}", c.about, c.grid)),
                Some(_) => {}
            }
        }
    }
    failures
}

#[test]
fn beijing_boundaries() {
    assert!(BEIJING.len() + 2 + 3 >= 30, "the table holds at least 30 boundary rows");
    let dir = tempfile::tempdir().unwrap();
    let pipeline = write_beijing(dir.path());
    let out = dir.path().join("out");
    let o = gridgov(&["run", pipeline.to_str().unwrap(), "--as-of", "2026-10-31", "--output-dir", out.to_str().unwrap()]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let run = out.join("latest");

    let grid = read_csv(&run.join("grid.csv"));
    let grids = by_grid(&grid);
    let mut failures = check_rows(BEIJING, &grids);

    // The period: `month = "current"` with as-of 31 October is October.
    if grid[0]["period"] != "2026-10" {
        failures.push(format!("period {:?}, expected 2026-10", grid[0]["period"]));
    }

    // 同比 and 环比: G38 had 1 case in October 2025 (a history month, not shown), none in
    // September 2026 and 2 in October 2026.
    let monthly = read_csv(&run.join("grid_monthly.csv"));
    let months: std::collections::BTreeSet<&str> = monthly.iter().map(|r| r["period"].as_str()).collect();
    if months.iter().copied().collect::<Vec<_>>() != ["2026-09", "2026-10"] {
        failures.push(format!("monthly periods {months:?}, expected only the 2-month window"));
    }
    let g38 = monthly.iter().find(|r| r["grid_code"] == "G38" && r["period"] == "2026-10").expect("G38 in October");
    for (col, want) in
        [("cases", "2"), ("cases_prev_year", "1"), ("cases_yoy_rate", "1.0"), ("cases_prev_month", "0"), ("cases_mom_rate", "")]
    {
        if !same(&g38[col], want) {
            failures.push(format!("G38 October 2026: {col} = {:?}, expected {want:?}", g38[col]));
        }
    }

    // Cases per 10k: C1 has a grid without population (G02), so none; C2 has 30 grids of
    // 1,000 residents and these October cases: G11–G20 (10: G21's is September, G22's after
    // T), G23–G35 (13), G38 (2) = 25 → 25 / 30,000 × 10,000 = 8.33.
    let comm = read_csv(&run.join("community.csv"));
    let c1 = row(&comm, "community_code", "C1");
    let c2 = row(&comm, "community_code", "C2");
    if c1["cases_per_10k"] != "" || c1["grids_without_population"] != "1" {
        failures.push(format!(
            "C1 cases_per_10k {:?} (grids without population {:?}), expected empty",
            c1["cases_per_10k"], c1["grids_without_population"]
        ));
    }
    if !same(&c2["cases"], "25") || !same(&c2["cases_per_10k"], "8.33") {
        failures.push(format!("C2: cases {:?}, cases_per_10k {:?}, expected 25 and 8.33", c2["cases"], c2["cases_per_10k"]));
    }

    // Sign-ups in Beijing time: H1 on 8 October, H2 on 31 October (signed), H3 on 1 November
    // (after the as-of day, not signed); 2 of 4 reach the 0.5 threshold on 31 October, 30 days
    // after the signing start (1 October).
    let projects = read_csv(&run.join("signup_projects.csv"));
    let p1 = row(&projects, "project_id", "P1");
    for (col, want) in [
        ("signed", "2"),
        ("households_in_scope", "4"),
        ("first_signed", "2026-10-08"),
        ("signing_start", "2026-10-01"),
        ("threshold_reached_on", "2026-10-31"),
        ("days_to_threshold", "30"),
    ] {
        if !same(&p1[col], want) {
            failures.push(format!("project P1: {col} = {:?}, expected {want:?}", p1[col]));
        }
    }

    // The manifest balances: 37 + 4 case rows read, none rejected; two received after T
    // (R22, X1); the field issues by field and reason; how each case was placed.
    let m = json(&run.join("manifest.json"));
    let src = m["sources"].as_array().unwrap().iter().find(|s| s["name"] == "cases").unwrap();
    let read = (BEIJING.len() + 4) as u64;
    let expect_json = |failures: &mut Vec<String>, path: &str, v: &serde_json::Value, want: serde_json::Value| {
        if *v != want {
            failures.push(format!("manifest {path} = {v}, expected {want}"));
        }
    };
    expect_json(&mut failures, "rows_read", &src["rows_read"], read.into());
    expect_json(&mut failures, "rows_rejected", &src["rows_rejected"], 0.into());
    expect_json(&mut failures, "rows_assigned", &src["rows_assigned"], read.into());
    expect_json(&mut failures, "received_after_as_of", &src["received_after_as_of"], 2.into());
    expect_json(
        &mut failures,
        "field_issues",
        &src["field_issues"],
        serde_json::json!({
            "closed_at:bad_closed_at": 1,
            "closed_at:closed_before_received": 1,
            "lon:bad_coordinate": 1,
            "lon:default_coordinate": 1,
            "lon:swapped_coordinates": 1,
            "rework_count:bad_value": 1,
            "satisfaction:bad_value": 1
        }),
    );
    expect_json(&mut failures, "assigned_by.grid_code_fallback", &src["assigned_by"]["grid_code_fallback"], 2.into());
    expect_json(&mut failures, "assigned_by.point", &src["assigned_by"]["point"], 1.into());

    // Each field issue names its row, field, value and what was done.
    let issues = read_csv(&run.join("field_issues.csv"));
    let find = |key: &str, field: &str| issues.iter().find(|r| r["record_key"] == key && r["field"] == field);
    for (key, field, value, action) in [
        ("R23", "satisfaction", "很满意", "ignored"),
        ("R24", "closed_at", "2026-10-3x 12:00:00", "ignored"),
        ("R26", "lon", "abc / 39.905", "placed_by_code"),
        ("R27", "lon", "39.905 / 116.565", "repaired"),
    ] {
        match find(key, field) {
            Some(r) if r["value"] == value && r["action"] == action => {}
            other => failures.push(format!("field_issues.csv {key} {field}: {other:?}, expected value {value:?}, action {action:?}")),
        }
    }
    assert!(failures.is_empty(), "{} failure(s):\n{}", failures.len(), failures.join("\n"));
}

/// New York: the autumn fold (1 November 2026, 01:00–02:00 happens twice) and the spring gap
/// (8 March 2026, 02:00–03:00 does not happen), with the default policy (`earlier`,
/// `shift_forward`). The period is `month = "previous"` with as-of 1 December: November.
const NEW_YORK: &[Case] = &[
    Case {
        about: "received 01:50 EDT, closed 01:10 EST (20 minutes later, in the fold): kept, 0.33 h",
        grid: "G01",
        fields: "2026-11-01 01:50:00,2026-11-01 01:10:00,,,,,,,,,,,,G01",
        expect: &[("cases", "1"), ("closed", "1"), ("closed_unknown", "0"), ("handling_hours_median", "0.33")],
    },
    Case {
        about: "received 01:10, closed 01:50, both in the fold: the earlier readings, 40 minutes",
        grid: "G02",
        fields: "2026-11-01 01:10:00,2026-11-01 01:50:00,,,,,,,,,,,,G02",
        expect: &[("cases", "1"), ("closed", "1"), ("handling_hours_median", "0.67")],
    },
    Case {
        about: "received 00:30 EDT, closed 01:30 (earlier reading, EDT): 1 h",
        grid: "G03",
        fields: "2026-11-01 00:30:00,2026-11-01 01:30:00,,,,,,,,,,,,G03",
        expect: &[("handling_hours_median", "1.0")],
    },
    Case {
        about: "received 30 November 23:30 local (04:30 UTC on 1 December): in November",
        grid: "G04",
        fields: "2026-11-30 23:30:00,,,,,,,,,,,,,G04",
        expect: &[("cases", "1"), ("open", "1")],
    },
];

/// The spring-gap case lies in March, a month of the monthly table (trend window of 12
/// months): received 02:30 (skipped; read as 02:30 EST = 03:30 EDT), closed 04:00 EDT: 0.5 h.
const SPRING: &str = "S1,2026-03-08 02:30:00,2026-03-08 04:00:00,,,,,,,,,,,,G05\n";

#[test]
fn new_york_daylight_saving() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("grids.geojson"), grid_layer(5)).unwrap();
    let mut csv = format!("{HEADER}\n");
    for (i, c) in NEW_YORK.iter().enumerate() {
        csv += &format!("N{:02},{}\n", i + 1, c.fields);
    }
    csv += SPRING;
    std::fs::write(d.join("cases.csv"), csv).unwrap();
    let toml = BEIJING_TOML
        .replace("month = \"current\"", "month = \"previous\"\nas_of = \"2026-12-01\"")
        .replace("trend_months = 2", "trend_months = 12")
        .replace("Asia/Shanghai", "America/New_York")
        .split("[[signups]]")
        .next()
        .unwrap()
        .to_string()
        + "[quality]\nmax_reject_share = 1.0\n";
    std::fs::write(d.join("ny.toml"), toml).unwrap();
    let (o, run) = run_into(&d.join("ny.toml"), &d.join("out"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let grid = read_csv(&run.join("grid.csv"));
    let mut failures = check_rows(NEW_YORK, &by_grid(&grid));
    if grid[0]["period"] != "2026-11" {
        failures.push(format!("period {:?}, expected 2026-11 (`previous` of as-of 1 December)", grid[0]["period"]));
    }
    let monthly = read_csv(&run.join("grid_monthly.csv"));
    match monthly.iter().find(|r| r["grid_code"] == "G05" && r["period"] == "2026-03") {
        Some(r) if same(&r["closed"], "1") && same(&r["handling_hours_median"], "0.5") => {}
        other => failures.push(format!("the spring-gap case in March: {other:?}")),
    }
    let m = json(&run.join("manifest.json"));
    if m["sources"][0]["rows_rejected"] != 0 {
        failures.push(format!("rejected {}", m["sources"][0]["rows_rejected"]));
    }
    assert!(failures.is_empty(), "{} failure(s):\n{}", failures.len(), failures.join("\n"));
}

/// `on_fail = "hold"`: a run whose gate fails is kept under `runs/`, exits 1, and `latest`
/// stays on the last good run. With `publish` the failed run becomes `latest`.
#[test]
fn a_failed_gate_holds_latest_on_the_last_good_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("grids.geojson"), grid_layer(2)).unwrap();
    std::fs::write(d.join("cases.csv"), format!("{HEADER}\nA,2026-10-12 09:00:00,,,,,,,,,,,,,G01\n")).unwrap();
    let base = BEIJING_TOML
        .replace("month = \"current\"", "month = \"2026-10\"\nas_of = \"2026-10-31\"")
        .split("[[signups]]")
        .next()
        .unwrap()
        .to_string();
    let out = d.join("out");
    let run = |name: &str, quality: &str| {
        std::fs::write(d.join(name), format!("{base}[quality]\n{quality}\n")).unwrap();
        gridgov(&["run", d.join(name).to_str().unwrap(), "--output-dir", out.to_str().unwrap()])
    };
    let latest = || std::fs::canonicalize(out.join("latest")).unwrap();

    let good = run("good.toml", "min_cases = 1");
    assert_eq!(good.code, 0, "{}", good.stderr);
    let good_run = latest();

    let held = run("held.toml", "min_cases = 5\non_fail = \"hold\"");
    assert_eq!(held.code, 1, "a failed gate exits 1: {}", held.stderr);
    assert_eq!(latest(), good_run, "latest stays on the good run");
    let runs: Vec<_> = std::fs::read_dir(out.join("runs")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(runs.len(), 2, "the held run is kept under runs/: {runs:?}");
    let held_run = runs.iter().find(|p| std::fs::canonicalize(p).unwrap() != good_run).unwrap();
    let m = json(&held_run.join("manifest.json"));
    assert!(m["gates"].as_array().unwrap().iter().any(|g| g["name"] == "min_cases" && g["passed"] == false), "{m}");

    let published = run("published.toml", "min_cases = 5");
    assert_eq!(published.code, 1);
    assert_ne!(latest(), good_run, "with on_fail = publish the failed run becomes latest");
}
