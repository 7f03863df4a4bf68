//! Residents' service orders (点单—下单—接单) on the tiny city of `tiny.rs`, worked out by hand.
//!
//! T = 2026-11-06 00:00; period 2026-10; stale after 7 days (ordered before 10-30 00:00).

use crate::tiny::write_fixture;
use crate::util::*;

const ORDERS: &str = "\
id,ordered,dispatched,accepted,completed,status,member,rating,grid
O1,2026-10-02 09:00:00,2026-10-02 10:00:00,2026-10-02 12:00:00,2026-10-03 12:00:00,已完成,M1,5,110101001001001
O2,2026-10-05 09:00:00,2026-10-05 09:30:00,2026-10-06 09:30:00,2026-10-06 11:30:00,已完成,M1,3,110101001001001
O3,2026-10-08 09:00:00,2026-10-08 11:00:00,2026-10-08 12:00:00,,服务中,M2,,110101001001002
O4,2026-10-10 09:00:00,2026-10-10 15:00:00,,,待接单,,,110101001001002
O5,2026-10-12 09:00:00,,,,待下单,,,110101001002001
O6,2026-10-14 09:00:00,,,,已取消,,,110101001002001
O7,2026-11-02 09:00:00,2026-11-02 10:00:00,2026-11-02 11:00:00,2026-11-02 12:00:00,已完成,M3,4,110101001002002
O8,2026-10-20 09:00:00,2026-10-20 10:00:00,2026-10-20 09:00:00,,服务中,M2,,110101001001001
O9,2026-10-22 09:00:00,2026-10-22 10:00:00,2026-10-22 12:00:00,2026-10-23 12:00:00,已完成,M4,abc,110101001002002
,2026-10-22 09:00:00,,,,待下单,,,110101001002002
O1,2026-10-02 09:00:00,2026-10-02 10:00:00,2026-10-02 12:00:00,2026-10-03 12:00:00,已完成,M1,5,110101001001001
O10,待定,,,,待下单,,,110101001002002
";

const SOURCE: &str = r#"
[[sources]]
kind = "service_orders"
name = "orders"
path = "orders.csv"
timestamp_formats = ["%Y-%m-%d %H:%M:%S"]
[sources.columns]
order_id = "id"
ordered_at = "ordered"
dispatched_at = "dispatched"
accepted_at = "accepted"
completed_at = "completed"
status = "status"
member_id = "member"
rating = "rating"
grid_code = "grid"

[indicators.service_orders]
min_members = 3
"#;

fn run() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let p = write_fixture(tmp.path());
    std::fs::write(tmp.path().join("orders.csv"), ORDERS).unwrap();
    std::fs::write(&p, std::fs::read_to_string(&p).unwrap() + SOURCE).unwrap();
    let (o, run) = run_into(&p, &tmp.path().join("out"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    (tmp, run)
}

#[test]
fn service_order_funnel_by_hand() {
    let (_t, run) = run();
    let streets = read_csv(&run.join("street.csv"));
    let s = row(&streets, "street_code", "110101001");
    let expect = [
        // October, not cancelled: O1 O2 O3 O4 O5 O8 O9; O6 cancelled; O7 is November's.
        ("orders", "7"),
        ("orders_cancelled", "1"),
        // O5 was never dispatched; O8's acceptance precedes its dispatch (a field issue).
        ("orders_dispatched", "6"),
        ("orders_accepted", "4"),
        ("orders_completed", "3"),
        ("dispatch_rate", "0.8571"),
        ("acceptance_rate", "0.6667"),
        ("completion_rate", "0.75"),
        ("order_fulfilment_rate", "0.4286"),
        // Dispatch 0.5 1 1 1 2 6 h; accept 1 2 2 24 h; complete 2 24 24 h.
        ("dispatch_hours_median", "1"),
        ("accept_hours_median", "2"),
        ("complete_hours_median", "24"),
        // Ratings 5 and 3 (O9's "abc" is a field issue); satisfied from 4.
        ("order_ratings", "2"),
        ("order_rating_mean", "4"),
        ("order_satisfaction_rate", "0.5"),
        // Not completed and ordered before 10-30: O3 O4 O5 O8.
        ("stale_open_orders", "4"),
        // Accepted with a member: M1 twice, M2, M4: 4 orders by 3 members; the busiest
        // ⌈10 % of 3⌉ = 1 member (M1) took 2 of 4.
        ("active_members", "3"),
        ("orders_per_active_member", "1.33"),
        ("top10_member_share", "0.5"),
    ];
    for (k, v) in expect {
        assert_eq!(s[k], v, "{k}");
    }
    // Fewer active members than min_members (3): no per-member figures.
    let grids = read_csv(&run.join("grid.csv"));
    let g1 = row(&grids, "grid_code", "110101001001001");
    assert_eq!((g1["active_members"].as_str(), g1["orders_per_active_member"].as_str(), g1["top10_member_share"].as_str()), ("1", "", ""));
    // November's order is in the monthly table.
    let monthly = read_csv(&run.join("city_monthly.csv"));
    assert_eq!(monthly.iter().find(|r| r["period"] == "2026-10").unwrap()["orders"], "7");
    // No member id is written anywhere.
    for entry in std::fs::read_dir(&run).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "csv" || e == "geojson" || e == "html") {
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(!text.contains(",M1,") && !text.contains("\"M1\""), "{} names a member", path.display());
        }
    }
    let m = json(&run.join("manifest.json"));
    let src = m["sources"].as_array().unwrap().iter().find(|s| s["name"] == "orders").unwrap();
    assert_eq!((src["rows_read"].as_u64(), src["rows_rejected"].as_u64()), (Some(12), Some(3)));
    for r in ["missing_order_id", "duplicate_order_id", "bad_ordered_at"] {
        assert_eq!(src["rejects_by_reason"][r], 1, "{r}");
    }
    assert_eq!(src["field_issues"]["accepted_at:closed_before_received"], 1, "{}", src["field_issues"]);
    assert_eq!(src["field_issues"]["rating:bad_value"], 1);
}
