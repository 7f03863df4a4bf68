//! Whistles (吹哨报到) on the tiny city of `tiny.rs`: every expected value is worked out by hand.
//!
//! As-of 2026-11-05, so T = 2026-11-06 00:00; the period is 2026-10. In the period, W1 (应急哨,
//! a point in G1) summons 城管 and 交通, W2 (日常哨, grid code G2) summons 城管 and 住建, W3 (攻坚哨,
//! the street's code) summons 住建; W4 (September) is out of the period. Five bad rows.

use crate::tiny::write_fixture;
use crate::util::*;

const WHISTLES: &str = "\
id,whistled,type,dept,summoned,reported,closed,eval,lon,lat,grid,street
W1,2026-10-03 09:00:00,应急哨,城管,2026-10-03 09:00:00,2026-10-03 09:20:00,2026-10-03 20:00:00,90,116.305,39.915,,
W1,2026-10-03 09:00:00,应急哨,交通,2026-10-03 09:05:00,2026-10-03 09:45:00,2026-10-03 20:00:00,70,116.305,39.915,,
W2,2026-10-10 10:00:00,日常哨,城管,,2026-10-11 09:00:00,,85,,,110101001001002,
W2,2026-10-10 10:00:00,日常哨,住建,,,,,,,110101001001002,
W3,2026-10-20 08:00:00,攻坚哨,住建,2026-10-20 08:00:00,2026-10-20 11:00:00,2026-12-01 00:00:00,abc,,,,110101001
W4,2026-09-15 08:00:00,日常哨,城管,,2026-09-15 09:00:00,2026-09-16 08:00:00,100,116.305,39.905,,
W1,2026-10-03 09:00:00,应急哨,城管,2026-10-03 09:00:00,2026-10-03 09:20:00,2026-10-03 20:00:00,90,116.305,39.915,,
,2026-10-05 09:00:00,日常哨,城管,,,,,116.305,39.915,,
W5,待定,日常哨,城管,,,,,116.305,39.915,,
W6,2026-10-06 10:00:00,日常哨,,,,,,116.305,39.915,,
W7,2026-10-07 10:00:00,夜哨,城管,,,,,116.305,39.915,,
";

const SOURCE: &str = r#"
[[sources]]
kind = "whistles"
name = "whistles"
path = "whistles.csv"
timestamp_formats = ["%Y-%m-%d %H:%M:%S"]
[sources.columns]
whistle_id = "id"
whistled_at = "whistled"
whistle_type = "type"
department = "dept"
summoned_at = "summoned"
reported_at = "reported"
closed_at = "closed"
evaluation = "eval"
lon = "lon"
lat = "lat"
grid_code = "grid"
street_code = "street"

[indicators.whistles]
ranking_min_n = 1
"#;

fn run() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let p = write_fixture(tmp.path());
    std::fs::write(tmp.path().join("whistles.csv"), WHISTLES).unwrap();
    let toml = std::fs::read_to_string(&p).unwrap() + SOURCE;
    std::fs::write(&p, toml).unwrap();
    let (o, run) = run_into(&p, &tmp.path().join("out"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    (tmp, run)
}

#[test]
fn whistle_indicators_by_hand() {
    let (_t, run) = run();
    let streets = read_csv(&run.join("street.csv"));
    let s = row(&streets, "street_code", "110101001");
    let expect = [
        // W1, W2, W3: one of each type.
        ("whistles", "3"),
        ("whistles_daily", "1"),
        ("whistles_tackle", "1"),
        ("whistles_emergency", "1"),
        // W1 closed after 11 h (limit 24 h); W2 has no closing; W3 closes after T.
        ("whistles_closed", "1"),
        ("whistles_closed_on_time", "1"),
        ("whistle_closure_rate", "0.3333"),
        ("whistle_on_time_closure_rate", "0.3333"),
        ("summons", "5"),
        // 城管 of W1 in 20 min (≤ 30), 交通 of W1 in 40 min (> 30), 城管 of W2 in 23 h
        // (≤ 24 h, summoned when whistled), 住建 of W3 in 180 min (> 120); 住建 of W2 never.
        ("reported_in", "4"),
        ("reported_in_on_time", "2"),
        ("report_in_rate", "0.8"),
        ("on_time_report_in_rate", "0.4"),
        // Minutes 20, 40, 180, 1380: median (40 + 180) / 2; P90 at 2.7: 180 + 0.7 × 1200.
        ("report_in_minutes_median", "110"),
        ("report_in_minutes_p90", "1020"),
        // 90, 70, 85 (W3's "abc" is a field issue, W2 住建 has none).
        ("evaluations", "3"),
        ("evaluation_mean", "81.67"),
        // 12 cases of the tiny city in the period: 3 / 12 × 1000.
        ("cases", "12"),
        ("whistles_per_1000_cases", "250"),
    ];
    for (k, v) in expect {
        assert_eq!(s[k], v, "{k}");
    }
    // Places: W1 in G1, W2 in G2 by its code; W3 by the street's code counts in no grid.
    let grids = read_csv(&run.join("grid.csv"));
    assert_eq!(row(&grids, "grid_code", "110101001001001")["whistles"], "1");
    assert_eq!(row(&grids, "grid_code", "110101001001002")["summons"], "2");
    assert_eq!(grids.iter().map(|g| g["whistles"].parse::<u32>().unwrap()).sum::<u32>(), 2);
    // The month before: W4 alone, in the monthly table.
    let monthly = read_csv(&run.join("street_monthly.csv"));
    let sept = monthly.iter().find(|r| r["period"] == "2026-09").unwrap();
    assert_eq!((sept["whistles"].as_str(), sept["summons"].as_str(), sept["report_in_rate"].as_str()), ("1", "1", "1"));

    // Per department, summons-level columns only.
    let depts = read_csv(&run.join("by_whistle_department.csv"));
    assert!(!depts[0].contains_key("whistles"), "whistle-level columns belong to places");
    let d = |name: &str, k: &str| row(&depts, "department", name)[k].clone();
    assert_eq!(
        (d("城管", "summons"), d("城管", "on_time_report_in_rate"), d("城管", "report_in_minutes_median")),
        ("2".into(), "1".into(), "700".into())
    );
    assert_eq!((d("城管", "report_in_minutes_p90"), d("城管", "evaluation_mean")), ("1244".into(), "87.5".into()));
    assert_eq!(
        (d("交通", "reported_in"), d("交通", "reported_in_on_time"), d("交通", "evaluation_mean")),
        ("1".into(), "0".into(), "70".into())
    );
    assert_eq!((d("住建", "summons"), d("住建", "report_in_rate"), d("住建", "evaluation_mean")), ("2".into(), "0.5".into(), "".into()));

    // The departments' 红黑榜: 城管 first; 交通 and 住建 tie at 0 % and share rank 2.
    let lists = read_csv(&run.join("charts/redblack_whistle_department.csv"));
    let red: Vec<(&str, &str)> =
        lists.iter().filter(|r| r["list"] == "red").map(|r| (r["rank"].as_str(), r["department"].as_str())).collect();
    assert_eq!(red, [("1", "城管")]);
    assert!(lists.iter().any(|r| r["list"] == "black" && r["rank"] == "2"));

    // Every new column is in the dictionary; the report has the section.
    let dict = read_csv(&run.join("dictionary.csv"));
    for k in ["whistles", "on_time_report_in_rate", "whistles_per_1000_cases", "evaluation_mean"] {
        assert!(dict.iter().any(|r| r["key"] == k), "{k} not in dictionary.csv");
    }
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(html.contains("街乡吹哨、部门报到"));
}

#[test]
fn bad_whistle_rows_are_quarantined_with_reasons() {
    let (_t, run) = run();
    let m = json(&run.join("manifest.json"));
    let src = m["sources"].as_array().unwrap().iter().find(|s| s["name"] == "whistles").unwrap();
    assert_eq!(src["rows_read"], 11);
    assert_eq!(src["rows_rejected"], 5);
    assert_eq!(src["balanced"], true);
    let reasons = &src["rejects_by_reason"];
    for r in ["duplicate_whistle_summons", "missing_whistle_id", "bad_whistled_at", "missing_department", "bad_value"] {
        assert_eq!(reasons[r], 1, "{r}: {reasons}");
    }
    assert_eq!(src["field_issues"]["evaluation:bad_value"], 1, "{}", src["field_issues"]);
    let rejects = read_csv(&run.join("rejects.csv"));
    let w7 = rejects.iter().find(|r| r["record_key"] == "W7").unwrap();
    assert!(w7["detail"].contains("夜哨"), "{w7:?}");
}

/// The same whistles as Parquet, and as two daily CSV files read through a glob, give the same
/// tables as the one CSV file: reading is the same for every kind.
#[test]
fn whistles_read_from_parquet_and_daily_folders_alike() {
    let street_of = |setup: &dyn Fn(&std::path::Path) -> &'static str| -> Vec<String> {
        let tmp = tempfile::tempdir().unwrap();
        let p = write_fixture(tmp.path());
        let path = setup(tmp.path());
        let toml = std::fs::read_to_string(&p).unwrap() + &SOURCE.replace("path = \"whistles.csv\"", &format!("path = \"{path}\""));
        std::fs::write(&p, toml).unwrap();
        let (o, run) = run_into(&p, &tmp.path().join("out"));
        assert_eq!(o.code, 0, "{}", o.stderr);
        let streets = read_csv(&run.join("street.csv"));
        let s = row(&streets, "street_code", "110101001");
        ["whistles", "summons", "reported_in_on_time", "report_in_minutes_p90", "evaluation_mean", "whistles_per_1000_cases"]
            .iter()
            .map(|k| s[*k].clone())
            .collect()
    };
    let csv = street_of(&|dir| {
        std::fs::write(dir.join("whistles.csv"), WHISTLES).unwrap();
        "whistles.csv"
    });
    let parquet = street_of(&|dir| {
        use polars::prelude::*;
        let lines: Vec<Vec<&str>> = WHISTLES.lines().map(|l| l.split(',').collect()).collect();
        let columns: Vec<Column> = (0..lines[0].len())
            .map(|j| {
                let v: Vec<Option<&str>> = lines[1..].iter().map(|r| Some(r[j]).filter(|s| !s.is_empty())).collect();
                Column::new(lines[0][j].into(), v)
            })
            .collect();
        let mut df = DataFrame::new(lines.len() - 1, columns).unwrap();
        ParquetWriter::new(std::fs::File::create(dir.join("whistles.parquet")).unwrap()).finish(&mut df).unwrap();
        "whistles.parquet"
    });
    let daily = street_of(&|dir| {
        let day = dir.join("daily");
        std::fs::create_dir_all(&day).unwrap();
        let (head, rows) = WHISTLES.split_once('\n').unwrap();
        let rows: Vec<&str> = rows.lines().collect();
        std::fs::write(day.join("2026-10-a.csv"), format!("{head}\n{}\n", rows[..4].join("\n"))).unwrap();
        std::fs::write(day.join("2026-10-b.csv"), format!("{head}\n{}\n", rows[4..].join("\n"))).unwrap();
        "daily/*.csv"
    });
    assert_eq!(csv, ["3", "5", "2", "1020", "81.67", "250"]);
    assert_eq!(parquet, csv);
    assert_eq!(daily, csv);
}
