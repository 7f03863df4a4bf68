//! In-service members reporting to communities (在职党员回社区报到) on the tiny city of `tiny.rs`,
//! worked out by hand. Period 2026-10, as-of 2026-11-05; yearly requirement: 2 activities or 6
//! hours in 2026; no per-member figures below 3 members.

use crate::tiny::write_fixture;
use crate::util::*;

const ROSTER: &str = "\
member,org,community,registered
M1,区财政局,110101001001,2025-03-01
M2,区财政局,110101001001,2026-06-01
M3,市供电公司,110101001001,
M4,市供电公司,110101001002,2026-09-01
M5,区财政局,110101001002,2026-12-01
M1,区财政局,110101001002,2025-03-01
,区财政局,110101001002,2025-03-01
";

const ACTIVITIES: &str = "\
member,date,community,hours,type
M1,2026-10-03,110101001001,2,巡逻
M1,2026-10-10,110101001002,3,环境整治
M1,2026-10-10,110101001002,3,环境整治
M2,2026-03-01,110101001001,8,助老
M2,2026-10-20,110101001001,abc,助老
M4,2026-10-25,110101001002,1.5,巡逻
M9,2026-10-05,110101001002,2,巡逻
M3,2026-11-20,110101001001,4,巡逻
M3,2026-13-01,110101001001,4,巡逻
";

const SOURCES: &str = r#"
[[sources]]
kind = "member_roster"
name = "roster"
path = "roster.csv"
date_formats = ["%Y-%m-%d"]
[sources.columns]
member_id = "member"
organisation = "org"
community_code = "community"
registered_date = "registered"

[[sources]]
kind = "member_activities"
name = "activities"
path = "activities.csv"
date_formats = ["%Y-%m-%d"]
[sources.columns]
member_id = "member"
date = "date"
community_code = "community"
hours = "hours"
activity_type = "type"

[indicators.members]
yearly_activities = 2
yearly_hours = 6
min_members = 3
"#;

#[test]
fn member_indicators_by_hand_and_no_member_written() {
    let tmp = tempfile::tempdir().unwrap();
    let p = write_fixture(tmp.path());
    std::fs::write(tmp.path().join("roster.csv"), ROSTER).unwrap();
    std::fs::write(tmp.path().join("activities.csv"), ACTIVITIES).unwrap();
    std::fs::write(&p, std::fs::read_to_string(&p).unwrap() + SOURCES).unwrap();
    let (o, run) = run_into(&p, &tmp.path().join("out"));
    assert_eq!(o.code, 0, "{}", o.stderr);

    // C1: M1, M2, M3 (no date: registered). C2: M4 (M5 registers after the as-of day; M1's
    // second row is a duplicate, the empty id a reject).
    let comms = read_csv(&run.join("community.csv"));
    let c1 = row(&comms, "community_code", "110101001001");
    let c2 = row(&comms, "community_code", "110101001002");
    // October: M1 twice (2 h in C1, 3 h in C2 — counted where M1 is registered; the repeated
    // row is a duplicate), M2 once (hours "abc" count 0). M3's November activity is after the
    // period and the as-of day.
    let expect_c1 = [
        ("registered_members", "3"),
        ("members_active", "2"),
        ("member_activity_rate", "0.6667"),
        ("member_activities", "3"),
        ("member_service_hours", "5"),
        ("member_hours_per_member", "1.67"),
        // 2026: M1 2 activities (meets), M2 8 h in March + 0 (meets), M3 none.
        ("members_meeting_requirement", "2"),
        ("member_requirement_rate", "0.6667"),
        ("member_activities_unregistered", "0"),
        // Population of C1's grids: 1,000 + 2,000.
        ("members_per_1000_residents", "1"),
    ];
    for (k, v) in expect_c1 {
        assert_eq!(c1[k], v, "C1 {k}");
    }
    // C2: one member, below min_members: counts shown, per-member figures empty; M9 is on no
    // roster: one unregistered activity where it took place.
    let expect_c2 = [
        ("registered_members", "1"),
        ("members_active", "1"),
        ("member_activity_rate", ""),
        ("member_hours_per_member", ""),
        ("member_requirement_rate", ""),
        ("member_activities_unregistered", "1"),
    ];
    for (k, v) in expect_c2 {
        assert_eq!(c2[k], v, "C2 {k}");
    }
    let orgs = read_csv(&run.join("by_member_organisation.csv"));
    let fin = row(&orgs, "organisation", "区财政局");
    assert_eq!((fin["registered_members"].as_str(), fin["members_active"].as_str(), fin["member_active_share"].as_str()), ("2", "2", ""));
    // Rejects: the duplicate roster row, the empty id, the repeated activity, the bad date.
    let m = json(&run.join("manifest.json"));
    let reasons = |name: &str| m["sources"].as_array().unwrap().iter().find(|s| s["name"] == name).unwrap()["rejects_by_reason"].clone();
    assert_eq!(reasons("roster"), serde_json::json!({"duplicate_member": 1, "missing_member_id": 1}));
    assert_eq!(reasons("activities"), serde_json::json!({"bad_activity_date": 1, "duplicate_activity": 1}));
    // No member id anywhere in the run's files.
    for entry in std::fs::read_dir(&run).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "csv" || e == "geojson" || e == "html" || e == "json") {
            let text = std::fs::read_to_string(&path).unwrap();
            for id in ["M1", "M2", "M4", "M9"] {
                assert!(!text.contains(&format!("\"{id}\"")) && !text.contains(&format!(",{id},")), "{} names {id}", path.display());
            }
        }
    }
}
