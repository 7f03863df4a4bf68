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
    assert_eq!(sources.len(), 9, "three case sources, sign-ups, whistles, service orders, member roster and activities, facilities");
    let mut read = 0;
    for s in sources {
        assert_eq!(s["balanced"], true, "{}", s["name"]);
        assert!(s["rows_rejected"].as_u64().unwrap() > 0, "{}: the demo has deliberate defects", s["name"]);
        if s["kind"] == "cases" {
            read += s["rows_read"].as_u64().unwrap();
        }
    }
    assert_eq!(read, 200_000);
    // Every reason the demo data plants shows up in the quarantine.
    let reasons: std::collections::BTreeSet<String> =
        sources.iter().flat_map(|s| s["rejects_by_reason"].as_object().unwrap().keys().cloned()).collect();
    for r in [
        "no_location",
        "duplicate_case_id",
        "bad_coordinate",
        "outside_all_grids",
        "bad_received_at",
        "missing_case_id",
        "unknown_grid_code",
    ] {
        assert!(reasons.contains(r), "{r} not in {reasons:?}");
    }
    // The defects that leave a case usable are field issues, not rejects: the case is kept.
    let issues: std::collections::BTreeSet<String> =
        sources.iter().flat_map(|s| s["field_issues"].as_object().unwrap().keys().cloned()).collect();
    for i in ["closed_at:closed_before_received", "lon:swapped_coordinates", "lon:bad_coordinate"] {
        assert!(issues.contains(i), "{i} not in {issues:?}");
    }
    assert!(!reasons.contains("closed_before_received") && !reasons.contains("swapped_coordinates"), "{reasons:?}");
    // Cases with bad coordinates and a code are placed by the code.
    let fallback: u64 = sources
        .iter()
        .flat_map(|s| {
            s["assigned_by"].as_object().unwrap().iter().filter(|(k, _)| k.ends_with("_code_fallback")).map(|(_, v)| v.as_u64().unwrap())
        })
        .sum();
    assert!(fallback > 0, "no case placed by its code after bad coordinates");
    // Four layers with one feature per unit; the streets of Beijing's core area (东城区, 西城区).
    let grids = m["grids"]["grids_used"].as_u64().unwrap();
    assert!((300..=1_000).contains(&grids), "{grids}");
    assert_eq!(m["grids"]["units"]["district"], 2);
    assert_eq!(m["grids"]["units"]["street"], 32);
    for level in ["grid", "community", "street", "district"] {
        let out = m["outputs"].as_array().unwrap().iter().find(|o| o["path"] == format!("{level}.geojson")).unwrap();
        assert_eq!(out["count"], m["grids"]["units"][level]);
    }
    // Streets with at least min_n (5) follow-ups have a score; with ranking_min_n (30), a rank,
    // by score descending, equal published scores sharing one.
    let streets = read_csv(&run.join("street.csv"));
    let mut ranked: Vec<(u32, f64)> = Vec::new();
    for r in &streets {
        let n: u64 = r["followups"].parse().unwrap();
        assert_eq!(r["composite_score"].is_empty(), n < 5, "{} with {n} follow-ups", r["street_code"]);
        assert_eq!(r["composite_rank"].is_empty(), n < 30, "{} with {n} follow-ups", r["street_code"]);
        if n >= 30 {
            ranked.push((r["composite_rank"].parse().unwrap(), r["composite_score"].parse().unwrap()));
        }
    }
    // Dense enough for a month's review: nearly every street reaches ranking_min_n, and most
    // grids have a resolution rate to map.
    assert!(ranked.len() * 10 >= streets.len() * 9, "{} of {} streets ranked", ranked.len(), streets.len());
    let grid_rows = read_csv(&run.join("grid.csv"));
    let scored = grid_rows.iter().filter(|r| !r["resolution_rate"].is_empty()).count();
    assert!(scored * 3 >= grid_rows.len() * 2, "{scored} of {} grids have a resolution rate", grid_rows.len());
    ranked.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
    assert!(!ranked.is_empty());
    assert_eq!(ranked[0].0, 1);
    assert!(ranked.windows(2).all(|w| w[0].1 >= w[1].1), "scores fall as ranks rise");
    assert!(ranked.windows(2).all(|w| (w[0].0 == w[1].0) == (w[0].1 == w[1].1)), "equal scores, and only they, share a rank");
    // The 红榜 and 黑榜 never list the same street.
    let lists = read_csv(&run.join("charts/redblack_street.csv"));
    let names = |l: &str| lists.iter().filter(|r| r["list"] == l).map(|r| r["name"].clone()).collect::<std::collections::BTreeSet<_>>();
    assert!(!names("red").is_empty() && names("red").is_disjoint(&names("black")), "{lists:?}");
    // The report, one file with its embedded charts and its interactive map (Leaflet and
    // simplified geometries of the 431 grids), stays within its 4 MB budget.
    let report = std::fs::metadata(run.join("report.html")).unwrap().len();
    assert!(report <= 4_000_000, "report.html is {report} bytes");
    // The oldest overdue open cases: as many as [outputs] overdue_list (50) asks, most overdue first.
    let overdue = read_csv(&run.join("overdue_open.csv"));
    assert_eq!(overdue.len(), 50);
    let days: Vec<f64> = overdue.iter().map(|r| r["overdue_days"].parse().unwrap()).collect();
    assert!(days.windows(2).all(|w| w[0] >= w[1]) && days[49] > 0.0, "{days:?}");
    // Whistles: every street of the core area blows some; departments report in mostly, not always.
    for r in &streets {
        assert!(r["whistles"].parse::<u32>().unwrap() > 0, "{} blew no whistle", r["street_code"]);
    }
    let depts = read_csv(&run.join("by_whistle_department.csv"));
    assert_eq!(depts.len(), 20, "ten bureaus in each of two districts");
    let rate: f64 = read_csv(&run.join("district.csv"))[0]["report_in_rate"].parse().unwrap();
    assert!((0.8..1.0).contains(&rate), "report-in rate {rate}");
    assert!(run.join("charts/redblack_whistle_department.png").exists());
    // Service orders: a funnel that narrows, members who served, no member named anywhere.
    let city = &read_csv(&run.join("city.csv"))[0];
    let step = |k: &str| city[k].parse::<u64>().unwrap();
    assert!(step("orders") > step("orders_dispatched") && step("orders_dispatched") > step("orders_accepted"));
    assert!(step("orders_accepted") > step("orders_completed") && step("orders_completed") > 0);
    assert!(run.join("charts/funnel_service_orders.png").exists());
    let rejects = std::fs::read_to_string(run.join("rejects.csv")).unwrap();
    assert!(!rejects.contains("DY0"), "a member id in rejects.csv");
    // Repeat hot spots: the demo's single sites show up, largest first, with a layer.
    let spots = read_csv(&run.join("hotspots.csv"));
    assert!(spots.len() >= 20, "{} hot spots", spots.len());
    let sizes: Vec<u64> = spots.iter().map(|s| s["cases"].parse().unwrap()).collect();
    assert!(sizes.windows(2).all(|w| w[0] >= w[1]) && sizes[0] >= 20, "{sizes:?}");
    assert_eq!(json(&run.join("hotspots.geojson"))["features"].as_array().unwrap().len(), spots.len());
    // Members: registered in every street, some serving; no member id in any file.
    assert!(streets.iter().all(|r| r["registered_members"].parse::<u32>().unwrap() > 0));
    assert!(!rejects.contains("ZD0"), "a member id in rejects.csv");
    // The assessment: every street and district scored on all five components and ranked.
    let assessed = read_csv(&run.join("assessment.csv"));
    assert_eq!(assessed.len(), 32 + 2);
    assert!(assessed.iter().all(|r| r["assessment_coverage"] == "1" && !r["assessment_rank"].is_empty()), "{assessed:?}");
    assert_eq!(read_csv(&run.join("assessment_components.csv")).len(), (32 + 2) * 5);
    // The service circle: most communities fully covered, a few lacking an item (the demo's
    // gap zones), every facility in the point layer, the community layer and the map.
    let full: f64 = city["community_full_coverage_rate"].parse().unwrap();
    assert!((0.8..0.98).contains(&full), "community coverage {full}");
    let comms = read_csv(&run.join("community.csv"));
    let short: Vec<&std::collections::BTreeMap<String, String>> = comms.iter().filter(|r| r["service_circle"] != "full").collect();
    assert!(!short.is_empty() && short.iter().all(|r| !r["service_items_missing"].is_empty()));
    let facilities = read_csv(&run.join("facilities.csv"));
    assert_eq!(json(&run.join("facilities.geojson"))["features"].as_array().unwrap().len(), facilities.len());
    assert_eq!(city["facilities"].parse::<usize>().unwrap(), facilities.len());
    assert_eq!(json(&run.join("coverage.geojson"))["features"].as_array().unwrap().len(), comms.len());
    assert!(run.join("charts/map_coverage.png").exists());
    assert_eq!(read_csv(&run.join("coverage_items.csv")).len(), (grid_rows.len() + comms.len()) * 8);
    // Three grid networks: the social network merges community grids (no cell straddles a
    // community, every case keeps its community, the crosswalk with the community grids
    // covers every cell whole); the 250 m squares straddle communities and split cases.
    let nets = read_csv(&run.join("networks.csv"));
    assert_eq!(nets.iter().map(|r| r["network"].as_str()).collect::<Vec<_>>(), ["grid", "cityops", "social"]);
    assert_eq!((nets[2]["cells_straddling_community"].as_str(), nets[2]["cases_community_differs"].as_str()), ("0", "0"));
    assert!(nets[1]["cells_straddling_community"].parse::<u32>().unwrap() > 100);
    assert!(nets[1]["cases_community_differs"].parse::<u32>().unwrap() > 0);
    let differs = read_csv(&run.join("network_disagreements.csv"));
    assert_eq!(differs.len(), nets[1]["cases_community_differs"].parse::<usize>().unwrap());
    assert!(differs.iter().all(|r| r["community_code"] != r["network_community_code"]));
    let mut cover: std::collections::BTreeMap<String, f64> = std::collections::BTreeMap::new();
    for r in read_csv(&run.join("crosswalk_grid_social.csv")) {
        *cover.entry(r["cell_b"].clone()).or_default() += r["share_of_b"].parse::<f64>().unwrap();
    }
    assert_eq!(cover.len(), nets[2]["cells"].parse::<usize>().unwrap());
    assert!(cover.values().all(|s| (s - 1.0).abs() < 1e-4), "{cover:?}");
    for (net, cells) in [("cityops", &nets[1]), ("social", &nets[2])] {
        let grid = read_csv(&run.join(format!("networks/{net}/grid.csv")));
        assert_eq!(grid.len(), cells["cells"].parse::<usize>().unwrap());
        let placed: u64 = grid.iter().map(|r| r["cases"].parse::<u64>().unwrap()).sum();
        assert!(placed > 0);
        assert!(run.join(format!("networks/{net}/grid.geojson")).exists());
    }
    // Three projects; the one that stalls near 85 % never reaches its threshold.
    let projects = read_csv(&run.join("signup_projects.csv"));
    assert_eq!(projects.len(), 3);
    assert!(projects.iter().any(|p| p["threshold_reached_on"].is_empty()));
    assert!(projects.iter().filter(|p| !p["threshold_reached_on"].is_empty()).count() >= 2);
}
