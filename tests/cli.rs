//! The command line as a scheduler sees it: exit codes, messages that name the key or file,
//! `validate` writing nothing, and every shipped pipeline file resolving.

use crate::util::*;
use std::path::Path;

fn tiny_config(dir: &Path, extra: &str) -> std::path::PathBuf {
    std::fs::write(dir.join("g.geojson"), r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"c":"1"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}]}"#).unwrap();
    std::fs::write(dir.join("c.csv"), "id,t,x,y\n1,2026-10-01 00:00:00,0.5,0.5\n").unwrap();
    let p = dir.join("p.toml");
    std::fs::write(
        &p,
        format!(
            r#"
name = "t"
output_dir = "out"
[period]
month = "2026-10"
as_of = "2026-11-01"
[grids]
path = "g.geojson"
[grids.properties]
code = "c"
[[cases]]
name = "c"
path = "c.csv"
[cases.columns]
case_id = "id"
received_at = "t"
lon = "x"
lat = "y"
{extra}
"#
        ),
    )
    .unwrap();
    p
}

#[test]
fn unknown_key_is_an_error_with_its_key_path() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tiny_config(tmp.path(), "lonn = \"x\"");
    let o = gridgov(&["run", p.to_str().unwrap()]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("cases[0].columns"), "{}", o.stderr);
    assert!(o.stderr.contains("lonn"), "{}", o.stderr);
    assert!(!tmp.path().join("out").exists(), "nothing is written on a configuration error");
}

#[test]
fn every_problem_is_reported_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tiny_config(
        tmp.path(),
        "[indicators]\nsatisfaction_basic_weight = 1.5\ncomposite_weights = { response = 0.5, resolution = 0.5, satisfaction = 0.5 }\nsignup_threshold = 90\n",
    );
    let o = gridgov(&["validate", p.to_str().unwrap()]);
    assert_eq!(o.code, 2);
    for key in ["indicators.satisfaction_basic_weight", "indicators.composite_weights", "indicators.signup_threshold"] {
        assert!(o.stderr.contains(key), "{key} missing in: {}", o.stderr);
    }
}

#[test]
fn validate_reads_inputs_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tiny_config(tmp.path(), "");
    let o = gridgov(&["validate", p.to_str().unwrap()]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.contains("1 cases read, 1 assigned"), "{}", o.stderr);
    assert!(!tmp.path().join("out").exists());
    // A wrong column name is an input error (exit 3) naming the file, column and field.
    std::fs::write(tmp.path().join("c.csv"), "id,time,x,y\n1,2026-10-01 00:00:00,0.5,0.5\n").unwrap();
    let o = gridgov(&["validate", p.to_str().unwrap()]);
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert!(o.stderr.contains("c.csv") && o.stderr.contains("\"t\"") && o.stderr.contains("received_at"), "{}", o.stderr);
}

#[test]
fn missing_input_file_is_exit_3_and_keeps_the_last_good_run() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tiny_config(tmp.path(), "");
    let (o, latest) = run_into(&p, &tmp.path().join("out"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let good = std::fs::read_link(&latest).unwrap();
    std::fs::remove_file(tmp.path().join("c.csv")).unwrap();
    let (o, latest) = run_into(&p, &tmp.path().join("out"));
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert_eq!(std::fs::read_link(&latest).unwrap(), good);
    // No partial folder is left behind.
    let runs: Vec<_> = std::fs::read_dir(tmp.path().join("out/runs")).unwrap().collect();
    assert_eq!(runs.len(), 1);
}

#[test]
fn as_of_flag_overrides_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tiny_config(tmp.path(), "");
    let o = gridgov(&["validate", p.to_str().unwrap(), "--as-of", "2026-12-01"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.contains("as of 2026-12-01"), "{}", o.stderr);
    let o = gridgov(&["validate", p.to_str().unwrap(), "--as-of", "2026-10-15"]);
    assert_eq!(o.code, 2, "as-of before the period's end: {}", o.stderr);
}

#[test]
fn indicators_lists_formulas() {
    let o = gridgov(&["indicators"]);
    assert_eq!(o.code, 0);
    assert!(
        o.stdout.contains("on_time_closure_rate") && o.stdout.contains("按期结案率") && o.stdout.contains("closed_on_time / should_close")
    );
}

#[test]
fn every_pipeline_file_parses_and_resolves() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in ["pipelines", "tests/fixtures/nyc"] {
        for e in std::fs::read_dir(root.join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "toml") {
                files.push(p);
            }
        }
    }
    assert!(files.iter().any(|p| p.ends_with("pipelines/demo.toml")), "{files:?}");
    for p in files {
        let pl = gridgov::pipeline::load(&p, &Default::default()).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(pl.grids.path.exists(), "{}: {} does not exist", p.display(), pl.grids.path.display());
        for s in &pl.sources {
            assert!(s.path.exists(), "{}: {} does not exist", p.display(), s.path.display());
        }
    }
}

/// The benchmark harness as the README runs it: `synth bench` writes a size's data and its four
/// pipelines; `bench` runs one in fresh processes and reports every stage, the join's rate and
/// memory, and writes the runs as JSON.
#[test]
fn the_benchmark_harness_runs_and_reports_every_stage() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("bench-data");
    let o = gridgov(&["synth", "bench", "--size", "S", "--out", out.to_str().unwrap()]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let s = out.join("S");
    for f in [
        "grids.geojson",
        "cases.csv",
        "cases.parquet",
        "pipeline_csv.toml",
        "pipeline_parquet.toml",
        "pipeline_csv_table.toml",
        "pipeline_parquet_table.toml",
    ] {
        assert!(s.join(f).is_file(), "{f} missing");
    }
    let json = tmp.path().join("runs.json");
    let p = s.join("pipeline_parquet_table.toml");
    let o = gridgov(&["bench", p.to_str().unwrap(), "--runs", "1", "--json", json.to_str().unwrap()]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    for stage in [
        "hash inputs",
        "read grids",
        "build the join index",
        "read and check records",
        "coordinate conversion",
        "locate points",
        "count records",
        "indicators and roll-ups",
        "write outputs",
        "end to end",
    ] {
        assert!(o.stdout.contains(stage), "no {stage} in:\n{}", o.stdout);
    }
    assert!(o.stdout.contains("join: 194047 located points"), "{}", o.stdout);
    let runs = serde_json::from_str::<serde_json::Value>(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let run = &runs["runs"][0];
    assert!(run["wall_s"].as_f64().unwrap() > 0.0);
    assert!(run["peak_rss_mb"].as_f64().unwrap() > 10.0);
    assert!(run["timings_seconds"]["cases_total"].as_f64().is_some());
    assert!(run["peak_rss_mb_after"]["read_grids"].as_f64().is_some());
}

/// `gridgov indicators` and docs/indicators.md say the same: every key it prints is defined
/// on the page, literally or (for the columns derived from another) as the page's pattern
/// `<n>_low_n`, `<k>_mom_change`, `<k>_yoy_change` with its base key defined.
#[test]
fn every_listed_indicator_is_defined_in_the_docs() {
    let o = gridgov(&["indicators"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let docs = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/indicators.md")).unwrap();
    let defined = |k: &str| docs.contains(&format!("`{k}`"));
    let keys: Vec<&str> = o.stdout.lines().skip(1).filter_map(|l| l.split_whitespace().next()).collect();
    assert!(keys.len() > 80, "the listing: {}", o.stdout);
    let missing: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| {
            if defined(k) {
                return false;
            }
            for (suffix, pattern) in [("_low_n", "`<n>_low_n`"), ("_mom_change", "`<k>_mom_change`"), ("_yoy_change", "`<k>_yoy_change`")] {
                if let Some(base) = k.strip_suffix(suffix) {
                    return !(docs.contains(pattern) && defined(base));
                }
            }
            true
        })
        .collect();
    assert!(missing.is_empty(), "printed by `gridgov indicators` but not defined in docs/indicators.md: {missing:?}");
}
