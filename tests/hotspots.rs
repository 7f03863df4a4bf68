//! Repeat hot spots on the tiny city of `tiny.rs`: six noise complaints within 28 m of each
//! other in October make one hot spot in G1; one 167 m away, one of another category and one
//! in September do not join it.

use crate::tiny::write_fixture;
use crate::util::*;

const REPEAT: &str = "\
id,received,category,lon,lat
R1,2026-10-02 21:00:00,噪声,116.305,39.915
R2,2026-10-05 22:00:00,噪声,116.305,39.91505
R3,2026-10-09 23:00:00,噪声,116.305,39.9151
R4,2026-10-12 21:30:00,噪声,116.305,39.91515
R5,2026-10-20 22:10:00,噪声,116.305,39.9152
R6,2026-10-28 21:45:00,噪声,116.305,39.91525
R7,2026-10-15 21:00:00,噪声,116.305,39.9165
R8,2026-10-16 21:00:00,占道,116.305,39.9151
R9,2026-09-29 21:00:00,噪声,116.305,39.9151
";

const SOURCE: &str = r#"
[[cases]]
name = "repeat"
path = "repeat.csv"
timestamp_formats = ["%Y-%m-%d %H:%M:%S"]
[cases.columns]
case_id = "id"
received_at = "received"
category = "category"
lon = "lon"
lat = "lat"

[hotspots]
radius_m = 50
window_days = 30
min_cases = 5
"#;

#[test]
fn a_hot_spot_of_six_cases_in_a_table_a_layer_and_the_units() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write_fixture(tmp.path());
    std::fs::write(tmp.path().join("repeat.csv"), REPEAT).unwrap();
    std::fs::write(&p, std::fs::read_to_string(&p).unwrap() + SOURCE).unwrap();
    let (o, run) = run_into(&p, &tmp.path().join("out"));
    assert_eq!(o.code, 0, "{}", o.stderr);

    let spots = read_csv(&run.join("hotspots.csv"));
    assert_eq!(spots.len(), 1, "{spots:?}");
    let s = &spots[0];
    assert_eq!(
        (s["hotspot_id"].as_str(), s["category"].as_str(), s["cases"].as_str(), s["first_received"].as_str(), s["last_received"].as_str()),
        ("H001", "噪声", "6", "2026-10-02", "2026-10-28")
    );
    // The centre is the mean of the six points: lat 39.915 + 0.000125.
    assert_eq!((s["lon"].as_str(), s["lat"].as_str()), ("116.305", "39.915125"));
    assert_eq!(s["grid_code"], "110101001001001");

    let grids = read_csv(&run.join("grid.csv"));
    let g1 = row(&grids, "grid_code", "110101001001001");
    assert_eq!((g1["hotspots"].as_str(), g1["repeat_cases"].as_str()), ("1", "6"));
    let cases: f64 = g1["cases"].parse().unwrap();
    assert_eq!(g1["repeat_case_rate"].parse::<f64>().unwrap(), ((6.0 / cases) * 1e4f64).round() / 1e4);
    assert_eq!(row(&grids, "grid_code", "110101001001002")["repeat_cases"], "0");
    let city = &read_csv(&run.join("city.csv"))[0];
    assert_eq!((city["hotspots"].as_str(), city["repeat_cases"].as_str()), ("1", "6"));

    // The point layer: RFC 7946, one Point feature per hot spot, integer ids.
    let layer = json(&run.join("hotspots.geojson"));
    assert_eq!(layer["type"], "FeatureCollection");
    let f = &layer["features"][0];
    assert_eq!((f["id"].as_i64(), f["geometry"]["type"].as_str()), (Some(1), Some("Point")));
    assert_eq!(f["geometry"]["coordinates"], serde_json::json!([116.305, 39.915125]));
    assert_eq!(f["properties"]["cases"], 6);
    let dict = read_csv(&run.join("dictionary.csv"));
    for k in ["hotspot_id", "repeat_case_rate", "first_received"] {
        assert!(dict.iter().any(|r| r["key"] == k), "{k} not in dictionary.csv");
    }
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(html.contains("重复诉求热点"));
    // The map chart of the hot spots, with its data.
    let chart = read_csv(&run.join("charts/map_hotspots.csv"));
    assert_eq!((chart.len(), chart[0]["hotspot_id"].as_str(), chart[0]["cases"].as_str()), (1, "H001", "6"));
    assert!(run.join("charts/map_hotspots.png").exists());
}
