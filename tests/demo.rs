//! The shipped demo pipeline on the shipped data, as a new user runs it.

use crate::util::*;
use std::path::Path;

#[test]
fn demo_pipeline_runs_and_accounts_for_every_row() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let (o, run) = run_into(&root.join("pipelines/demo.toml"), tmp.path());
    assert_eq!(o.code, 0, "{}", o.stderr);
    let m = json(&run.join("manifest.json"));
    let sources = m["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 4);
    let mut read = 0;
    for s in sources {
        assert_eq!(s["balanced"], true, "{}", s["name"]);
        assert!(s["rows_rejected"].as_u64().unwrap() > 0, "{}: the demo has deliberate defects", s["name"]);
        if s["kind"] == "cases" {
            read += s["rows_read"].as_u64().unwrap();
        }
    }
    assert_eq!(read, 100_000);
    // Every reason the demo data plants shows up in the quarantine.
    let reasons: std::collections::BTreeSet<String> =
        sources.iter().flat_map(|s| s["rejects_by_reason"].as_object().unwrap().keys().cloned()).collect();
    for r in ["no_location", "closed_before_received", "duplicate_case_id", "swapped_coordinates", "bad_coordinate", "outside_all_grids", "bad_received_at", "missing_case_id", "unknown_grid_code"] {
        assert!(reasons.contains(r), "{r} not in {reasons:?}");
    }
    // Four layers with one feature per unit; streets and districts of the real Beijing.
    let grids = m["grids"]["grids_used"].as_u64().unwrap();
    assert!((2_000..=6_000).contains(&grids), "{grids}");
    assert_eq!(m["grids"]["units"]["district"], 16);
    for level in ["grid", "community", "street", "district"] {
        let out = m["outputs"].as_array().unwrap().iter().find(|o| o["path"] == format!("{level}.geojson")).unwrap();
        assert_eq!(out["count"], m["grids"]["units"][level]);
    }
    // Streets are ranked, and their ranks are a permutation with ties.
    let streets = read_csv(&run.join("street.csv"));
    let ranked = streets.iter().filter(|r| !r["composite_rank"].is_empty()).count();
    assert!(ranked > streets.len() / 2, "{ranked} of {}", streets.len());
    assert!(streets.iter().any(|r| r["composite_rank"] == "1"));
    // Three projects; the one that stalls near 85 % never reaches its threshold.
    let projects = read_csv(&run.join("signup_projects.csv"));
    assert_eq!(projects.len(), 3);
    assert!(projects.iter().any(|p| p["threshold_reached_on"].is_empty()));
    assert!(projects.iter().filter(|p| !p["threshold_reached_on"].is_empty()).count() >= 2);
}
