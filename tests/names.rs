//! Cases placed by administrative names, on Beijing's real street and community lists.
//!
//! The grid layer has one small square per real community (7,535 of them, with the real
//! codes and names of communities, streets and districts); 740 cases carry only names,
//! written as exports write them (`fixtures/beijing/name_variants.csv`). The binary places
//! them; the test reports the match rate and every miss with its reason, and fails on a
//! wrong placement, on a miss the quarantine does not explain, or below 95 %.

use crate::util::*;
use std::collections::BTreeMap;
use std::path::Path;

fn fixture(name: &str) -> Vec<BTreeMap<String, String>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/beijing").join(name);
    let mut r = csv::Reader::from_path(&path).unwrap();
    let headers = r.headers().unwrap().clone();
    r.records().map(|rec| headers.iter().zip(rec.unwrap().iter()).map(|(h, v)| (h.to_string(), v.to_string())).collect()).collect()
}

/// The communities as a grid layer: one 0.001° square each, in code order on a lattice.
fn beijing_layer() -> String {
    let streets: BTreeMap<String, BTreeMap<String, String>> =
        fixture("streets.csv").into_iter().map(|s| (s["street_code"].clone(), s)).collect();
    let feats: Vec<String> = fixture("communities.csv")
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let s = &streets[&c["street_code"]];
            let (x, y) = (116.0 + (i % 100) as f64 * 0.002, 39.5 + (i / 100) as f64 * 0.002);
            let props = serde_json::json!({
                "code": format!("{}01", c["community_code"]),
                "community_code": c["community_code"], "community_name": c["community_name"],
                "street_code": c["street_code"], "street_name": s["street_name"],
                "district_code": c["district_code"], "district_name": s["district_name"],
                "population": 1000,
            });
            format!(
                r#"{{"type":"Feature","properties":{props},"geometry":{{"type":"Polygon","coordinates":[[[{x},{y}],[{},{y}],[{},{}],[{x},{}],[{x},{y}]]]}}}}"#,
                x + 0.001,
                x + 0.001,
                y + 0.001,
                y + 0.001
            )
        })
        .collect();
    format!(r#"{{"type":"FeatureCollection","features":[{}]}}"#, feats.join(",\n"))
}

const PIPELINE: &str = r#"
name = "names"
output_dir = "out"
[period]
month = "2026-10"
as_of = "2026-11-05"
time_zone = "Asia/Shanghai"
[grids]
path = "grids.geojson"
aliases = "aliases.csv"
[grids.properties]
code = "code"
community_code = "community_code"
community_name = "community_name"
street_code = "street_code"
street_name = "street_name"
district_code = "district_code"
district_name = "district_name"
population = "population"
[[cases]]
name = "hotline"
path = "cases.csv"
[cases.columns]
case_id = "id"
received_at = "received"
district_name = "district"
street_name = "street"
community_name = "community"
[outputs]
case_assignments = true
formats = ["csv"]
layers = []
[quality]
max_reject_share = 1.0
max_unassigned_share = 1.0
"#;

#[test]
fn beijing_names_as_exports_write_them_are_placed_or_explained() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("grids.geojson"), beijing_layer()).unwrap();
    std::fs::write(dir.join("pipeline.toml"), PIPELINE).unwrap();
    // An alias table: an old name of a real community, and a district's colloquial name.
    std::fs::write(dir.join("aliases.csv"), "level,name,code\ncommunity,老多福巷,110101001001\ndistrict,东城老城,110101\n").unwrap();
    let variants = fixture("name_variants.csv");
    let mut cases = csv::Writer::from_writer(Vec::new());
    cases.write_record(["id", "received", "district", "street", "community"]).unwrap();
    for (i, v) in variants.iter().enumerate() {
        cases.write_record([&format!("N{i:04}"), "2026-10-10 09:00:00", &v["district"], &v["street"], &v["community"]]).unwrap();
    }
    cases.write_record(["A1", "2026-10-10 09:00:00", "东城老城", "", "老多福巷社区"]).unwrap();
    cases.write_record(["X1", "2026-10-10 09:00:00", "东城区", "东华门街道", "不存在社区"]).unwrap();
    std::fs::write(dir.join("cases.csv"), cases.into_inner().unwrap()).unwrap();

    let (o, run) = run_into(&dir.join("pipeline.toml"), &dir.join("out"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let placed: BTreeMap<String, String> =
        read_csv(&run.join("case_assignments.csv")).into_iter().map(|r| (r["case_id"].clone(), r["community_code"].clone())).collect();
    let rejects: BTreeMap<String, (String, String)> = read_csv(&run.join("rejects.csv"))
        .into_iter()
        .filter(|r| r["source"] == "hotline")
        .map(|r| (r["record_key"].clone(), (r["reason"].clone(), r["detail"].clone())))
        .collect();

    let (mut hits, mut wrong, mut misses) = (0, Vec::new(), Vec::new());
    for (i, v) in variants.iter().enumerate() {
        let id = format!("N{i:04}");
        let expected = &v["expected_community_code"];
        match (placed.get(&id), rejects.get(&id)) {
            (Some(got), _) if got == expected => hits += 1,
            (Some(got), _) => wrong.push(format!("{id} {v:?}: placed in {got}, expected {expected}")),
            (None, Some((reason, detail))) => {
                // An explained miss: ambiguous, with the right community among the candidates.
                assert!(reason == "ambiguous_name" || reason == "unknown_name", "{id}: {reason}");
                misses.push((id, v["variant"].clone(), reason.clone(), detail.clone(), detail.contains(expected.as_str())));
            }
            (None, None) => panic!("{id} is neither placed nor quarantined"),
        }
    }
    let rate = hits as f64 / variants.len() as f64;
    eprintln!(
        "name matching on {} written variants of real Beijing communities: {hits} placed right ({:.1} %), {} misses, {} wrong",
        variants.len(),
        rate * 100.0,
        misses.len(),
        wrong.len()
    );
    for (id, variant, reason, detail, listed) in &misses {
        eprintln!("  miss {id} [{variant}] {reason}: {detail}{}", if *listed { "" } else { "  (expected code not among the candidates)" });
    }
    assert!(wrong.is_empty(), "wrong placements:\n{}", wrong.join("\n"));
    // Every miss is a name that really is ambiguous as written, and says which units it could be.
    for (id, variant, reason, detail, listed) in &misses {
        assert_eq!(reason, "ambiguous_name", "{id} [{variant}]: {detail}");
        assert!(variant.contains("ambiguous"), "{id} [{variant}] is not one of the fixture's inherently ambiguous rows: {detail}");
        assert!(listed, "{id}: the expected community is not among the candidates: {detail}");
    }
    assert!(rate >= 0.95, "match rate {rate}");
    // The alias table places what no normalisation could; an unknown name lists the closest.
    assert_eq!(placed.get("A1").map(String::as_str), Some("110101001001"));
    let (reason, detail) = &rejects["X1"];
    assert_eq!(reason, "unknown_name");
    assert!(detail.contains("不存在社区") && detail.contains("东华门街道"), "{detail}");
    // The manifest counts the cases by how they were placed.
    let m = json(&run.join("manifest.json"));
    let by = &m["sources"][0]["assigned_by"];
    assert_eq!(by["community_name"].as_u64(), Some(hits as u64 + 1), "{by}");
}

/// A layer whose levels have names but no codes: the units are keyed by their names, and the
/// same community name under two streets stays two communities.
#[test]
fn levels_keyed_by_names_when_the_layer_has_no_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let sq = |x: f64| format!("[[[{x},39.9],[{},39.9],[{},39.91],[{x},39.91],[{x},39.9]]]", x + 0.01, x + 0.01);
    let f = |code: &str, comm: &str, street: &str, x: f64| {
        format!(
            r#"{{"type":"Feature","properties":{{"code":"{code}","社区":"{comm}","街道":"{street}","区":"东城区"}},"geometry":{{"type":"Polygon","coordinates":{}}}}}"#,
            sq(x)
        )
    };
    let layer = format!(
        r#"{{"type":"FeatureCollection","features":[{},{},{}]}}"#,
        f("G1", "和平里社区", "和平里街道", 116.40),
        f("G2", "和平里社区", "安定门街道", 116.41),
        f("G3", "交道口社区", "安定门街道", 116.42)
    );
    std::fs::write(dir.join("grids.geojson"), layer).unwrap();
    std::fs::write(
        dir.join("cases.csv"),
        "id,received,lon,lat,street,community\n1,2026-10-10 09:00:00,116.405,39.905,,\n2,2026-10-10 09:00:00,116.415,39.905,,\n3,2026-10-10 09:00:00,,,安定门,和平里\n4,2026-10-10 09:00:00,,,,和平里社区居委会\n",
    )
    .unwrap();
    let pipeline = PIPELINE
        .replace("aliases = \"aliases.csv\"\n", "")
        .replace(
            "code = \"code\"\ncommunity_code = \"community_code\"\ncommunity_name = \"community_name\"\nstreet_code = \"street_code\"\nstreet_name = \"street_name\"\ndistrict_code = \"district_code\"\ndistrict_name = \"district_name\"\npopulation = \"population\"",
            "code = \"code\"\ncommunity_name = \"社区\"\nstreet_name = \"街道\"\ndistrict_name = \"区\"",
        )
        .replace("district_name = \"district\"\n", "")
        .replace("received_at = \"received\"\n", "received_at = \"received\"\nlon = \"lon\"\nlat = \"lat\"\n")
        // A street office's whistles, placed by names too.
        + "[[sources]]\nkind = \"whistles\"\nname = \"whistles\"\npath = \"whistles.csv\"\n[sources.columns]\nwhistle_id = \"id\"\ndepartment = \"dept\"\nwhistled_at = \"at\"\nstreet_name = \"street\"\ncommunity_name = \"community\"\n";
    std::fs::write(dir.join("pipeline.toml"), pipeline).unwrap();
    std::fs::write(
        dir.join("whistles.csv"),
        "id,dept,at,street,community\nW1,城管委,2026-10-12 10:00:00,安定门街道办事处,交道口社区居委会\n",
    )
    .unwrap();
    let (o, run) = run_into(&dir.join("pipeline.toml"), &dir.join("out"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let communities = read_csv(&run.join("community.csv"));
    let codes: Vec<&str> = communities.iter().map(|r| r["community_code"].as_str()).collect();
    assert_eq!(codes, vec!["东城区/和平里街道/和平里社区", "东城区/安定门街道/交道口社区", "东城区/安定门街道/和平里社区"]);
    let placed: BTreeMap<String, String> =
        read_csv(&run.join("case_assignments.csv")).into_iter().map(|r| (r["case_id"].clone(), r["community_code"].clone())).collect();
    assert_eq!(placed["1"], "东城区/和平里街道/和平里社区");
    assert_eq!(placed["2"], "东城区/安定门街道/和平里社区");
    assert_eq!(placed["3"], "东城区/安定门街道/和平里社区");
    assert_eq!(row(&communities, "community_code", "东城区/安定门街道/交道口社区")["whistles"], "1");
    // Without its street, 和平里 is two communities: quarantined with both.
    let rejects = read_csv(&run.join("rejects.csv"));
    let r = row(&rejects, "record_key", "4");
    assert_eq!(r["reason"], "ambiguous_name");
    assert!(r["detail"].contains("和平里街道") && r["detail"].contains("安定门街道"), "{}", r["detail"]);
}
