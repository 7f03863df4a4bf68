//! Real data: 924 NYC 311 requests of 2022-05-01 against the 59 community districts.
//! A correct point-in-polygon join puts about 99.5 % of the located requests in the community
//! district that the request's own `Community Board` field names.

use crate::util::*;
use std::path::Path;

fn pipeline() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nyc/nyc311.toml")
}

/// "09 MANHATTAN" → "109"; `None` for values that name no district ("0 Unspecified", "55 BROOKLYN").
fn board_to_boro_cd(board: &str) -> Option<String> {
    let (num, boro) = board.split_once(' ')?;
    let b = match boro {
        "MANHATTAN" => 1,
        "BRONX" => 2,
        "BROOKLYN" => 3,
        "QUEENS" => 4,
        "STATEN ISLAND" => 5,
        _ => return None,
    };
    let n: u32 = num.parse().ok()?;
    (1..=18).contains(&n).then(|| format!("{}", b * 100 + n))
}

#[test]
fn nyc_requests_land_in_their_own_community_district() {
    let tmp = tempfile::tempdir().unwrap();
    let (o, run) = run_into(&pipeline(), tmp.path());
    assert_eq!(o.code, 0, "{}", o.stderr);
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nyc/nyc311_2022-05-01_pyboot.csv");
    let mut r = csv::Reader::from_path(&src).unwrap();
    let h = r.headers().unwrap().clone();
    let (ki, bi) = (h.iter().position(|c| c == "Unique Key").unwrap(), h.iter().position(|c| c == "Community Board").unwrap());
    let boards: std::collections::BTreeMap<String, String> =
        r.records().map(|rec| rec.unwrap()).map(|rec| (rec[ki].to_string(), rec[bi].to_string())).collect();
    let assigned = read_csv(&run.join("case_assignments.csv"));
    let (mut same, mut comparable) = (0, 0);
    for a in &assigned {
        assert_eq!(a["assigned_by"], "point");
        if let Some(cd) = board_to_boro_cd(&boards[&a["case_id"]]) {
            comparable += 1;
            same += (a["grid_code"] == cd) as usize;
        }
    }
    let share = same as f64 / comparable as f64;
    assert!(comparable > 850, "{comparable}");
    assert!(share >= 0.99, "{same} of {comparable} = {share:.4}");
    // Boroughs play the district level: the five of them account for every assigned request.
    let d = read_csv(&run.join("district.csv"));
    assert_eq!(d.len(), 5);
    let total: u64 = d.iter().map(|r| r["cases"].parse::<u64>().unwrap()).sum();
    assert_eq!(total as usize, assigned.len());
}

#[test]
fn nyc_rows_add_up_and_reasons_are_real() {
    let tmp = tempfile::tempdir().unwrap();
    let (o, run) = run_into(&pipeline(), tmp.path());
    assert_eq!(o.code, 0, "{}", o.stderr);
    let m = json(&run.join("manifest.json"));
    let s = &m["sources"][0];
    assert_eq!(s["rows_read"], 924);
    assert_eq!(s["balanced"], true);
    // 11 requests have no coordinates at all.
    assert_eq!(s["rejects_by_reason"]["no_location"], 11);
    assert_eq!(s["rows_assigned"].as_u64().unwrap() + s["rows_rejected"].as_u64().unwrap(), 924);
}

/// The H3 example: the same requests in H3 resolution-8 cells over the community districts.
#[test]
fn nyc_requests_in_h3_cells() {
    let tmp = tempfile::tempdir().unwrap();
    let pipeline = Path::new(env!("CARGO_MANIFEST_DIR")).join("pipelines/nyc311_h3.toml");
    let (o, run) = run_into(&pipeline, tmp.path());
    assert_eq!(o.code, 0, "{}", o.stderr);
    // Every request placed by its point lies in the cell H3 itself gives that point.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nyc/nyc311_2022-05-01_pyboot.csv");
    let mut r = csv::Reader::from_path(&src).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |name: &str| h.iter().position(|c| c == name).unwrap();
    let (ki, xi, yi) = (col("Unique Key"), col("Longitude"), col("Latitude"));
    let points: std::collections::BTreeMap<String, (f64, f64)> = r
        .records()
        .map(|rec| rec.unwrap())
        .filter_map(|rec| Some((rec[ki].to_string(), (rec[xi].parse().ok()?, rec[yi].parse().ok()?))))
        .collect();
    let assigned = read_csv(&run.join("case_assignments.csv"));
    assert!(assigned.len() > 850, "{}", assigned.len());
    for a in &assigned {
        let (lon, lat) = points[&a["case_id"]];
        let cell = h3o::LatLng::new(lat, lon).unwrap().to_cell(h3o::Resolution::Eight).to_string();
        assert_eq!(a["grid_code"], cell, "{}", a["case_id"]);
    }
    // Cells roll up to the 59 community districts (a few small districts may hold no cell
    // centre) and the five boroughs; the grid layer has one feature per cell.
    let cells = read_csv(&run.join("grid.csv"));
    assert!((1_000..2_500).contains(&cells.len()), "{} cells", cells.len());
    assert!(cells.iter().all(|c| c["grid_code"].len() == 15));
    assert!((55..=59).contains(&read_csv(&run.join("community.csv")).len()));
    assert_eq!(read_csv(&run.join("district.csv")).len(), 5);
    let layer = json(&run.join("grid.geojson"));
    assert_eq!(layer["features"].as_array().unwrap().len(), cells.len());
}
