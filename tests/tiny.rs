//! A hand-made city: four 0.01° grids in two communities of one street, 19 cases in two sources.
//!
//! ```text
//!  39.92 +-----------+-----------+
//!        |  G1 ..001 |  G2 ..002 |    community C1 = 110101001001
//!  39.91 +-----------+-----------+
//!        |  G3 ..001 |  G4 ..002 |    community C2 = 110101001002
//!  39.90 +-----------+-----------+
//!      116.30      116.31      116.32
//! ```
//! Every expected value below is worked out by hand in the comments.

use crate::util::*;
use std::path::Path;

const GRIDS: &[(&str, &str, f64, f64, u32, u32)] = &[
    // code, community, west, south, population, households
    ("110101001001001", "110101001001", 116.30, 39.91, 1000, 400),
    ("110101001001002", "110101001001", 116.31, 39.91, 2000, 800),
    ("110101001002001", "110101001002", 116.30, 39.90, 3000, 1200),
    ("110101001002002", "110101001002", 116.31, 39.90, 4000, 1600),
];

fn grid_layer() -> String {
    let feats: Vec<String> = GRIDS
        .iter()
        .map(|(code, comm, w, s, pop, hh)| {
            let (e, n) = (w + 0.01, s + 0.01);
            format!(
                r#"{{"type":"Feature","properties":{{"code":"{code}","name":"网格{code}","comm":"{comm}","comm_name":"社区{comm}","street":"110101001","street_name":"东华门街道","district":"110101","district_name":"东城区","pop":{pop},"hh":{hh}}},"geometry":{{"type":"Polygon","coordinates":[[[{w:.2},{s:.2}],[{e:.2},{s:.2}],[{e:.2},{n:.2}],[{w:.2},{n:.2}],[{w:.2},{s:.2}]]]}}}}"#
            )
        })
        .collect();
    format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, feats.join(","))
}

const HOTLINE: &str = "\
id,received,closed,due,status,lon,lat,grid,community,contacted,resolved,satisfaction
1,2026-10-02 09:00:00,2026-10-02 19:00:00,2026-10-03 09:00:00,已办结,116.305,39.915,,,是,是,满意
2,2026-10-05 10:00:00,2026-10-09 10:00:00,2026-10-06 10:00:00,已办结,116.305,39.915,,,是,否,不满意
3,2026-10-10 08:00:00,,2026-10-11 08:00:00,办理中,116.315,39.915,,,,,
4,2026-10-31 20:00:00,,2026-11-10 20:00:00,办理中,116.315,39.915,,,,,
5,2026-10-15 12:00:00,2026-10-15 14:00:00,2026-10-16 12:00:00,已办结,116.31,39.915,,,是,是,基本满意
6,2026-10-20 09:00:00,2026-10-21 09:00:00,2026-10-22 09:00:00,已办结,,,110101001002001,,,,
7,2026-10-21 09:00:00,2026-10-21 15:00:00,2026-10-22 09:00:00,已办结,,,,110101001002,,,
8,2026-09-15 09:00:00,2026-09-15 10:00:00,2026-09-16 09:00:00,已办结,116.315,39.905,,,,,
1,2026-10-02 09:00:00,2026-10-02 19:00:00,2026-10-03 09:00:00,已办结,116.305,39.915,,,是,是,满意
10,2026-10-05 10:00:00,2026-10-04 10:00:00,2026-10-06 10:00:00,已办结,116.305,39.915,,,,,
11,2026-10-05 10:00:00,,,办理中,NaN,39.915,,,,,
12,2026-10-05 10:00:00,,,办理中,39.915,116.305,,,,,
13,2026-10-05 10:00:00,,,办理中,,,,,,,
14,2026-10-05 10:00:00,,,办理中,,,999,,,,
15,2026-10-05 10:00:00,,,办理中,116.50,39.95,,,,,
16,2026-13-45 10:00:00,,,办理中,116.305,39.915,,,,,
17,2026-10-05 10:00:00,2026-10-05 11:00:00,,已办结,116.305,39.915,,,是,是,还行
18,2026-10-03 10:00:00,,,已撤销,116.315,39.905,,,,,
";

pub fn write_fixture(dir: &Path) -> std::path::PathBuf {
    std::fs::write(dir.join("grids.geojson"), grid_layer()).unwrap();
    std::fs::write(dir.join("hotline.csv"), HOTLINE).unwrap();
    // One app report in GCJ-02: its WGS84 position (116.3075, 39.9050) is in G3, but the raw
    // GCJ-02 numbers lie about 500 m east-north-east, inside G4.
    let (gx, gy) = gridgov::vocab::crs::wgs84_to_gcj02(116.3075, 39.9050);
    assert!(gx > 116.31 && gx < 116.32 && gy < 39.91, "the raw point must fall in G4: {gx} {gy}");
    std::fs::write(
        dir.join("app.csv"),
        // Category and department are citizen text: the report must escape them.
        format!(
            "report_id,reported_at,closed_at,lng,lat,category,department\nA1,2026-10-08T10:00:00+08:00,2026-10-08T12:00:00+08:00,{gx:.7},{gy:.7},<script>alert(1)</script>,\"<img src=x onerror=alert(2)>\"\n"
        ),
    )
    .unwrap();
    let toml = r#"
name = "tiny"
output_dir = "out"

[period]
month = "2026-10"
as_of = "2026-11-05"

[grids]
path = "grids.geojson"
[grids.properties]
code = "code"
name = "name"
community_code = "comm"
community_name = "comm_name"
street_code = "street"
street_name = "street_name"
district_code = "district"
district_name = "district_name"
population = "pop"
households = "hh"

[[cases]]
name = "hotline"
path = "hotline.csv"
timestamp_formats = ["%Y-%m-%d %H:%M:%S"]
[cases.columns]
case_id = "id"
received_at = "received"
closed_at = "closed"
due_at = "due"
status = "status"
lon = "lon"
lat = "lat"
grid_code = "grid"
community_code = "community"
contacted = "contacted"
resolved = "resolved"
satisfaction = "satisfaction"
[cases.values]
cancelled_status = ["已撤销"]

[[cases]]
name = "app"
path = "app.csv"
crs = "gcj02"
timestamp_formats = ["%Y-%m-%dT%H:%M:%S%:z"]
[cases.columns]
case_id = "report_id"
received_at = "reported_at"
closed_at = "closed_at"
lon = "lng"
lat = "lat"
category = "category"
department = "department"

[indicators]
min_n = 1
ranking_min_n = 1

[quality]
max_reject_share = 0.6

[outputs]
case_assignments = true

[charts]
map_indicator = "closure_rate"
breaks = [0.5, 0.9]
top_n = 2
[charts.targets]
resolution_rate = 0.8
"#;
    let p = dir.join("tiny.toml");
    std::fs::write(&p, toml).unwrap();
    p
}

fn f(r: &std::collections::BTreeMap<String, String>, k: &str) -> f64 {
    r[k].parse().unwrap_or_else(|_| panic!("{k} = {:?}", r[k]))
}

#[test]
fn grid_indicators_by_hand() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write_fixture(tmp.path());
    let (o, run) = run_into(&p, &tmp.path().join("out"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let grid = read_csv(&run.join("grid.csv"));
    assert_eq!(grid.len(), 4);

    // G1: cases 1, 2 and 5 (5 sits on the G1|G2 edge: smallest code wins), and three kept
    // with a field issue: 10 (closed before received), 12 (swapped coordinates, repaired)
    // and 17 (satisfaction "还行", an unknown spelling).
    let g1 = row(&grid, "grid_code", "110101001001001");
    assert_eq!(g1["cases"], "6");
    assert_eq!(f(g1, "cases_per_10k"), 60.0); // 6 / 1000 × 10,000
    // Follow-ups 1, 2, 5 (17's is unreadable): contacted 3, resolved 2 (1, 5), 满意 1,
    // 基本满意 1, 不满意 1.
    assert_eq!((g1["followups"].as_str(), g1["contacted"].as_str(), g1["resolved"].as_str()), ("3", "3", "2"));
    assert_eq!(f(g1, "response_rate"), 1.0);
    assert_eq!(f(g1, "resolution_rate"), 0.6667);
    assert_eq!(f(g1, "satisfaction_points"), 1.9); // 1 + 0.9 × 1
    assert_eq!(f(g1, "satisfaction_rate"), 0.6333); // 1.9 / 3
    // (0.1 × 1 + 0.5 × 2/3 + 0.4 × 1.9/3) × 100 = 68.6667
    assert_eq!(f(g1, "composite_score"), 68.67);
    assert_eq!(g1["composite_rank"], "1");
    assert_eq!(g1["grade"], "C");
    assert_eq!(g1["followups_unreadable"], "1");
    // Closed: 1, 2, 5 and 17 (2 after its due time); 12 open past its default due time
    // (5 Oct 10:00 + 360 h = 20 Oct 10:00), so owed; 10's closing is unknown (in neither).
    assert_eq!((g1["should_close"].as_str(), g1["closed"].as_str(), g1["closed_on_time"].as_str()), ("5", "4", "3"));
    assert_eq!((g1["open"].as_str(), g1["overdue_open"].as_str(), g1["closed_unknown"].as_str()), ("1", "1", "1"));
    assert_eq!(f(g1, "closure_rate"), 0.8);
    assert_eq!(f(g1, "on_time_closure_rate"), 0.6);
    // Hours 10, 96, 2, 1 → sorted 1, 2, 10, 96: median 6, P90 at 2.7 → 10 + 0.7 × 86 = 70.2.
    assert_eq!(f(g1, "handling_hours_median"), 6.0);
    assert_eq!(f(g1, "handling_hours_p90"), 70.2);

    // G2: case 3 open past due (owed), case 4 open inside its limit (not owed).
    let g2 = row(&grid, "grid_code", "110101001001002");
    assert_eq!((g2["cases"].as_str(), g2["should_close"].as_str(), g2["closed"].as_str()), ("2", "1", "0"));
    assert_eq!((g2["open"].as_str(), g2["overdue_open"].as_str()), ("2", "1"));
    assert_eq!(f(g2, "closure_rate"), 0.0);
    assert_eq!(g2["composite_score"], "", "no follow-ups, no score");
    assert_eq!(g2["composite_rank"], "");

    // G3: case 6 by grid code, and the GCJ-02 app report once converted to WGS84.
    let g3 = row(&grid, "grid_code", "110101001002001");
    assert_eq!(g3["cases"], "2");
    assert_eq!(f(g3, "handling_hours_median"), 13.0); // 24 and 2

    // G4: the cancelled case 18 only (case 8 is in September).
    let g4 = row(&grid, "grid_code", "110101001002002");
    assert_eq!((g4["cases"].as_str(), g4["cancelled"].as_str(), g4["should_close"].as_str()), ("1", "1", "0"));
}

#[test]
fn roll_ups_sum_numerators_and_denominators() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write_fixture(tmp.path());
    let (o, run) = run_into(&p, &tmp.path().join("out"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let grid = read_csv(&run.join("grid.csv"));
    let comm = read_csv(&run.join("community.csv"));
    let street = read_csv(&run.join("street.csv"));
    let district = read_csv(&run.join("district.csv"));
    let sum =
        |rows: &[&std::collections::BTreeMap<String, String>], k: &str| -> i64 { rows.iter().map(|r| r[k].parse::<i64>().unwrap()).sum() };
    let c1 = row(&comm, "community_code", "110101001001");
    let c1_grids: Vec<_> = grid.iter().filter(|r| r["community_code"] == "110101001001").collect();
    for k in [
        "cases",
        "followups",
        "contacted",
        "resolved",
        "satisfied",
        "should_close",
        "closed",
        "closed_on_time",
        "open",
        "overdue_open",
        "population",
    ] {
        assert_eq!(c1[k].parse::<i64>().unwrap(), sum(&c1_grids, k), "community C1 {k}");
    }
    // C1's rates come from its sums, not from the average of its grids' rates:
    // closure 4 / 6 = 0.6667 (G1 0.8 and G2 0.0 would average 0.4).
    assert_eq!(f(c1, "closure_rate"), 0.6667);
    // C2 = G3 (2) + G4 (1) + case 7, assigned to the community directly by its code.
    let c2 = row(&comm, "community_code", "110101001002");
    assert_eq!(c2["cases"], "4");
    let s = &street[0];
    assert_eq!(s["cases"], "12");
    assert_eq!(s["cases"], district[0]["cases"]);
    assert_eq!(s["population"], "10000");
    assert_eq!(f(s, "area_km2"), f(&district[0], "area_km2"));
    // Geodesic area of 0.02° × 0.02° at 39.9° N is about 2.22 km × 1.71 km ≈ 3.80 km².
    assert!((f(s, "area_km2") - 3.80).abs() < 0.05, "{}", s["area_km2"]);
}

#[test]
fn every_row_is_accounted_for() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write_fixture(tmp.path());
    let (o, run) = run_into(&p, &tmp.path().join("out"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let m = json(&run.join("manifest.json"));
    let hot = m["sources"].as_array().unwrap().iter().find(|s| s["name"] == "hotline").unwrap();
    assert_eq!(hot["rows_read"], 18);
    assert_eq!(hot["rows_assigned"], 12);
    assert_eq!(hot["rows_rejected"], 6);
    assert_eq!(hot["balanced"], true);
    assert_eq!(hot["in_period"], 11);
    assert_eq!(hot["assigned_by"], serde_json::json!({"community_code": 1, "grid_code": 1, "point": 10}));
    let reasons = &hot["rejects_by_reason"];
    for (reason, n) in [
        ("duplicate_case_id", 1),
        ("bad_coordinate", 1),
        ("no_location", 1),
        ("unknown_grid_code", 1),
        ("outside_all_grids", 1),
        ("bad_received_at", 1),
    ] {
        assert_eq!(reasons[reason], n, "{reason}");
    }
    assert_eq!(reasons.as_object().unwrap().len(), 6, "{reasons}");
    // Kept with a field issue: 10, 12 and 17.
    assert_eq!(
        hot["field_issues"],
        serde_json::json!({"closed_at:closed_before_received": 1, "lon:swapped_coordinates": 1, "satisfaction:bad_value": 1})
    );
    let issues = read_csv(&run.join("field_issues.csv"));
    assert_eq!(issues.iter().map(|r| r["record_key"].as_str()).collect::<Vec<_>>(), ["10", "12", "17"]);
    let rejects = read_csv(&run.join("rejects.csv"));
    assert_eq!(rejects.len(), 6);
    let dup = row(&rejects, "reason", "duplicate_case_id");
    assert_eq!(
        (dup["source"].as_str(), dup["row"].as_str(), dup["line"].as_str(), dup["record_key"].as_str()),
        ("hotline", "9", "10", "1")
    );
    assert_eq!(dup["file"], "hotline.csv");
    assert!(dup["raw"].contains("\"lon\":\"116.305\""), "{}", dup["raw"]);
    // The manifest lists every input with its hash and every output with its hash.
    assert_eq!(m["inputs"].as_array().unwrap().len(), 3);
    assert!(m["outputs"].as_array().unwrap().iter().any(|o| o["path"] == "grid.geojson" && o["count"] == 4));
    // The GCJ-02 report was converted before the join.
    let asg = read_csv(&run.join("case_assignments.csv"));
    assert_eq!(row(&asg, "case_id", "A1")["grid_code"], "110101001002001");
}

#[test]
fn layers_follow_rfc7946_conventions() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write_fixture(tmp.path());
    let (o, run) = run_into(&p, &tmp.path().join("out"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    for level in ["grid", "community", "street", "district"] {
        let text = std::fs::read_to_string(run.join(format!("{level}.geojson"))).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["type"], "FeatureCollection");
        assert_eq!(v["name"], format!("tiny_{level}"));
        assert!(v.get("crs").is_none());
        assert_eq!(v["bbox"], serde_json::json!([116.3, 39.9, 116.32, 39.92]));
        let feats = v["features"].as_array().unwrap();
        let keys: Vec<&String> = feats[0]["properties"].as_object().unwrap().keys().collect();
        for ft in feats {
            assert!(ft["id"].is_i64(), "integer id");
            let code = ft["properties"][format!("{level}_code")].as_str().unwrap();
            assert_eq!(ft["id"].as_i64().unwrap(), code.parse::<i64>().unwrap(), "id = numeric code");
            assert_eq!(ft["properties"].as_object().unwrap().keys().collect::<Vec<_>>(), keys);
            // One geometry type per layer (QGIS reads "Unknown (any)" otherwise): MultiPolygon,
            // of one polygon here (the union of adjacent squares), exterior counter-clockwise.
            assert_eq!(ft["geometry"]["type"], "MultiPolygon", "{level} {code}");
            let ring = ft["geometry"]["coordinates"][0][0].as_array().unwrap();
            let area2: f64 = ring
                .windows(2)
                .map(|w| w[0][0].as_f64().unwrap() * w[1][1].as_f64().unwrap() - w[1][0].as_f64().unwrap() * w[0][1].as_f64().unwrap())
                .sum();
            assert!(area2 > 0.0, "{level} {code}: exterior ring is clockwise");
        }
        assert!(!text.contains("NaN"));
    }
    // The street is the union of the four grids: one square, 5 positions once dissolved.
    let street: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("street.geojson")).unwrap()).unwrap();
    assert_eq!(street["features"][0]["geometry"]["type"], "MultiPolygon");
    assert_eq!(street["features"][0]["geometry"]["coordinates"][0][0].as_array().unwrap().len(), 5);
}

#[test]
fn monthly_tables_hold_the_trend_window() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write_fixture(tmp.path());
    let (o, run) = run_into(&p, &tmp.path().join("out"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let m = read_csv(&run.join("grid_monthly.csv"));
    assert_eq!(m.len(), 4 * 12);
    let g4: Vec<_> = m.iter().filter(|r| r["grid_code"] == "110101001002002").collect();
    assert_eq!(g4.first().unwrap()["period"], "2025-11");
    assert_eq!(g4.last().unwrap()["period"], "2026-10");
    let sep = g4.iter().find(|r| r["period"] == "2026-09").unwrap();
    assert_eq!(sep["cases"], "1");
    assert_eq!(sep["period_start"], "2026-09-01T00:00:00");
    let oct = g4.iter().find(|r| r["period"] == "2026-10").unwrap();
    assert_eq!(oct["cases_prev_month"], "1");
    assert_eq!(f(oct, "cases_mom_rate"), 0.0);
}

#[test]
fn same_inputs_give_byte_identical_data_files() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write_fixture(tmp.path());
    let (o1, r1) = run_into(&p, &tmp.path().join("a"));
    let (o2, r2) = run_into(&p, &tmp.path().join("b"));
    assert_eq!((o1.code, o2.code), (0, 0));
    let (a, b) = (data_files(&r1), data_files(&r2));
    assert!(a.len() >= 20, "{:?}", a.keys());
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{name} differs between two runs");
    }
}

#[test]
fn a_failed_gate_exits_1_but_publishes() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write_fixture(tmp.path());
    let strict = std::fs::read_to_string(&p).unwrap().replace("max_reject_share = 0.6", "max_reject_share = 0.1");
    std::fs::write(&p, strict).unwrap();
    let (o, run) = run_into(&p, &tmp.path().join("out"));
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stderr.contains("quality gate failed: max_reject_share for hotline"), "{}", o.stderr);
    let m = json(&run.join("manifest.json"));
    assert_eq!(m["status"], "quality_gate_failed");
    assert_eq!(m["exit_code"], 1);
}

#[test]
fn every_column_is_in_the_dictionary_and_tables_by_dimension_add_up() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write_fixture(tmp.path());
    let (o, run) = run_into(&p, &tmp.path().join("out"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let dict = read_csv(&run.join("dictionary.csv"));
    for d in &dict {
        assert!(!d["label_zh"].is_empty() && !d["formula"].is_empty(), "{} has no entry in indicators/registry.rs", d["key"]);
    }
    for table in ["grid.csv", "grid_monthly.csv", "city.csv", "city_monthly.csv", "by_category.csv", "by_department.csv"] {
        let rows = read_csv(&run.join(table));
        if let Some(r) = rows.first() {
            for k in r.keys() {
                assert!(dict.iter().any(|d| &d["key"] == k), "{table}: {k} not in dictionary.csv");
            }
        }
    }
    // The city row holds every assigned case of the period: 11 hotline + 1 app.
    let city = read_csv(&run.join("city.csv"));
    assert_eq!(city[0]["cases"], "12");
    assert_eq!(city[0]["population"], "10000");
    // Only the app report has a category; the 11 hotline cases form the row with an empty key.
    let cat = read_csv(&run.join("by_category.csv"));
    assert_eq!(cat.len(), 2);
    assert_eq!((cat[0]["category"].as_str(), cat[0]["cases"].as_str()), ("<script>alert(1)</script>", "1"));
    assert_eq!((cat[1]["category"].as_str(), cat[1]["cases"].as_str()), ("", "11"));
}

#[test]
fn a_month_given_as_start_and_end_gives_the_same_tables() {
    // month = "2026-10" takes the one-pass path (period = a trend month); a period given by days
    // that is not exactly a month takes the general path. Both must agree on the days they share.
    let tmp = tempfile::tempdir().unwrap();
    let p = write_fixture(tmp.path());
    let (o, run) = run_into(&p, &tmp.path().join("a"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let text = std::fs::read_to_string(&p).unwrap().replace("month = \"2026-10\"", "start = \"2026-10-01\"\nend = \"2026-10-31\"");
    std::fs::write(&p, text).unwrap();
    let (o, run2) = run_into(&p, &tmp.path().join("b"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    for t in ["grid.csv", "street.csv", "city.csv", "grid_monthly.csv"] {
        assert_eq!(std::fs::read(run.join(t)).unwrap(), std::fs::read(run2.join(t)).unwrap(), "{t}");
    }
    // One day short of the month: the general path, with case 4 (31 Oct) left out of G2.
    let text = std::fs::read_to_string(&p).unwrap().replace("end = \"2026-10-31\"", "end = \"2026-10-30\"");
    std::fs::write(&p, text).unwrap();
    let (o, run3) = run_into(&p, &tmp.path().join("c"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let grid = read_csv(&run3.join("grid.csv"));
    assert_eq!(row(&grid, "grid_code", "110101001001002")["cases"], "1");
    assert_eq!(row(&grid, "grid_code", "110101001001001")["cases"], "6");
}

#[test]
fn outputs_can_be_limited_to_some_layers_and_formats() {
    // Only the street layer and CSV tables: the grid table and its numbers are the same as a
    // full run's; no other layer, no Parquet or Arrow file is written, and the manifest lists
    // exactly the files there are.
    let tmp = tempfile::tempdir().unwrap();
    let p = write_fixture(tmp.path());
    let (o, full) = run_into(&p, &tmp.path().join("full"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let text = std::fs::read_to_string(&p)
        .unwrap()
        .replace("case_assignments = true", "case_assignments = true\nlayers = [\"street\"]\nformats = [\"csv\"]");
    std::fs::write(&p, text).unwrap();
    let (o, some) = run_into(&p, &tmp.path().join("some"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(std::fs::read(full.join("grid.csv")).unwrap(), std::fs::read(some.join("grid.csv")).unwrap());
    let files: Vec<String> = std::fs::read_dir(&some).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(files.contains(&"street.geojson".to_string()) && files.contains(&"street.qml".to_string()), "{files:?}");
    for absent in ["grid.geojson", "community.geojson", "district.geojson", "grid.parquet", "grid.arrow", "city.parquet"] {
        assert!(!files.contains(&absent.to_string()), "{absent} written: {files:?}");
    }
    // The charts still draw the grid and street maps.
    assert!(some.join("charts/map_grid_closure_rate.png").is_file());
    let m = json(&some.join("manifest.json"));
    let mut listed: Vec<String> = m["outputs"].as_array().unwrap().iter().map(|o| o["path"].as_str().unwrap().to_string()).collect();
    listed.sort();
    let mut present: Vec<String> = data_files(&some).into_keys().collect();
    present.sort();
    assert_eq!(listed, present);
    // A format that does not exist is a configuration error.
    let text = std::fs::read_to_string(&p).unwrap().replace("formats = [\"csv\"]", "formats = [\"xls\"]");
    std::fs::write(&p, text).unwrap();
    let o = gridgov(&["validate", p.to_str().unwrap()]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("outputs.formats[0]: \"xls\" is not one of csv, parquet, arrow, xlsx"), "{}", o.stderr);
    // The workbook alone is not enough: the monthly tables have no sheet.
    let text = std::fs::read_to_string(&p).unwrap().replace("formats = [\"xls\"]", "formats = [\"xlsx\"]");
    std::fs::write(&p, text).unwrap();
    let o = gridgov(&["validate", p.to_str().unwrap()]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("outputs.formats: name at least one of csv, parquet, arrow"), "{}", o.stderr);
}

#[test]
fn without_any_dimension_mapped_the_one_row_by_dimension_is_the_city() {
    // No source maps category or department: by_category and by_department hold one row (no
    // value), whose counts and handling-time quantiles are the city's for the period.
    let tmp = tempfile::tempdir().unwrap();
    let p = write_fixture(tmp.path());
    let text = std::fs::read_to_string(&p).unwrap().replace("category = \"category\"\n", "").replace("department = \"department\"\n", "");
    std::fs::write(&p, text).unwrap();
    let (o, run) = run_into(&p, &tmp.path().join("out"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let city = &read_csv(&run.join("city.csv"))[0];
    for t in ["by_category.csv", "by_department.csv", "by_channel.csv"] {
        let rows = read_csv(&run.join(t));
        assert_eq!(rows.len(), 1, "{t}");
        for k in ["cases", "closed", "handling_hours_median", "handling_hours_p90"] {
            assert_eq!(rows[0][k], city[k], "{t} {k}");
        }
        assert!(!rows[0]["handling_hours_median"].is_empty(), "{t}: the city has closed cases");
    }
}

/// A second grid network over the tiny city: two cells, west and east, each over a grid of
/// each community (so both straddle the communities), both declared in community …001, and a
/// feature without a code.
#[test]
fn a_second_network_is_placed_crosswalked_and_its_bad_feature_quarantined() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write_fixture(tmp.path());
    let cell = |code: &str, w: f64| {
        let e = w + 0.01;
        format!(
            r#"{{"type":"Feature","properties":{{"code":"{code}","comm":"110101001001","street":"110101001"}},"geometry":{{"type":"Polygon","coordinates":[[[{w:.2},39.90],[{e:.2},39.90],[{e:.2},39.92],[{w:.2},39.92],[{w:.2},39.90]]]}}}}"#
        )
    };
    let bad = r#"{"type":"Feature","properties":{"comm":"110101001001"},"geometry":{"type":"Polygon","coordinates":[[[116.30,39.90],[116.31,39.90],[116.31,39.91],[116.30,39.90]]]}}"#;
    std::fs::write(
        tmp.path().join("net.geojson"),
        format!(r#"{{"type":"FeatureCollection","features":[{},{},{bad}]}}"#, cell("W", 116.30), cell("E", 116.31)),
    )
    .unwrap();
    let toml = std::fs::read_to_string(&p).unwrap().replacen("[grids]\npath", "[[grids]]\nname = \"grid\"\npath", 1).replacen(
        "\n[[cases]]",
        "\n[[grids]]\nname = \"net\"\npath = \"net.geojson\"\n[grids.properties]\ncode = \"code\"\ncommunity_code = \"comm\"\nstreet_code = \"street\"\n\n[[cases]]",
        1,
    );
    std::fs::write(&p, toml).unwrap();
    let (o, run) = run_into(&p, &tmp.path().join("out2"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    // Each cell holds two grids whole: share_of_a 1, share_of_b one half (to the sphere's
    // difference between the two rows of grids).
    let cw = read_csv(&run.join("crosswalk_grid_net.csv"));
    assert_eq!(cw.len(), 4, "{cw:?}");
    for r in &cw {
        assert!((f(r, "share_of_a") - 1.0).abs() < 1e-6 && (f(r, "share_of_b") - 0.5).abs() < 1e-3, "{r:?}");
    }
    let st = read_csv(&run.join("networks/net/straddling_cells.csv"));
    assert_eq!(st.iter().map(|r| r["cell_code"].as_str()).collect::<Vec<_>>(), ["E", "W"]);
    assert!(st.iter().all(|r| r["communities_overlapped"] == "2" && r["streets_overlapped"] == "1"));
    // The cases placed by a point in the southern grids (community …002) sit in cells of …001.
    let mut differs: Vec<String> = read_csv(&run.join("network_disagreements.csv")).iter().map(|r| r["case_id"].clone()).collect();
    differs.sort();
    assert_eq!(differs, ["18", "8", "A1"]);
    let nets = read_csv(&run.join("networks.csv"));
    assert_eq!((nets[1]["network"].as_str(), nets[1]["cells"].as_str(), nets[1]["cases_community_differs"].as_str()), ("net", "2", "3"));
    // The feature without a code is in the quarantine under the network's name.
    let rejects = std::fs::read_to_string(run.join("rejects.csv")).unwrap();
    assert!(rejects.lines().any(|l| l.contains("grids:net") && l.contains("grid_no_code")), "{rejects}");
}
