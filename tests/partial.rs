//! Partial runs and their merge (`gridgov run --partial`, `gridgov merge`): the demo split
//! three ways and merged gives the single run's data files byte for byte; a source split
//! across states, file by file, does too; what cannot be merged is refused with the reason.

use crate::util::*;
use std::path::{Path, PathBuf};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn the_demo_split_three_ways_merges_into_the_single_runs_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pipeline = root.join("pipelines/demo.toml");
    let tmp = tempfile::tempdir().unwrap();
    let (o, single) = run_into(&pipeline, &tmp.path().join("single"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let states: Vec<PathBuf> = (1..=3).map(|k| tmp.path().join(format!("state-{k}"))).collect();
    for (k, st) in states.iter().enumerate() {
        let o = gridgov(&["run", s(&pipeline), "--partial", s(st), "--group", &format!("{}/3", k + 1)]);
        assert_eq!(o.code, 0, "{}", o.stderr);
        let h = json(&st.join("state.json"));
        assert_eq!(h["format"], "gridgov-partial-state");
        assert_eq!(h["sources"].as_array().unwrap().len(), 1, "the demo's three case files, one per share");
    }
    let out = tmp.path().join("merged");
    let mut args = vec!["merge", s(&pipeline)];
    args.extend(states.iter().rev().map(|p| s(p)));
    args.extend(["--output-dir", s(&out)]);
    let o = gridgov(&args);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_same_run(&single, &out.join("latest"));
}

/// The demo with the app's cases in a folder of three files, for splits inside a source.
fn split_demo(dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut r = csv::Reader::from_path(root.join("data/cases_app.csv")).unwrap();
    let header = r.byte_headers().unwrap().clone();
    let rows: Vec<csv::ByteRecord> = r.byte_records().map(|x| x.unwrap()).collect();
    std::fs::create_dir_all(dir.join("app")).unwrap();
    let n = rows.len();
    for k in 0..3 {
        let mut w = csv::Writer::from_path(dir.join(format!("app/part{}.csv", k + 1))).unwrap();
        w.write_byte_record(&header).unwrap();
        rows[k * n / 3..(k + 1) * n / 3].iter().for_each(|x| w.write_byte_record(x).unwrap());
        w.flush().unwrap();
    }
    let data = format!("\"{}/", root.join("data").display());
    let text = std::fs::read_to_string(root.join("pipelines/demo.toml"))
        .unwrap()
        .replace("\"../data/cases_app.csv\"", "\"app\"\nformat = \"csv\"")
        .replace("\"../data/", &data)
        .replace("\"../outputs/demo\"", "\"out\"");
    let p = dir.join("p.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn a_source_split_across_states_file_by_file_merges_and_what_cannot_merge_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let p = split_demo(d);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (parquet, inspector) = (root.join("data/cases_12345.parquet"), root.join("data/cases_inspector.csv"));
    let (app1, app2, app3) = (d.join("app/part1.csv"), d.join("app/part2.csv"), d.join("app/part3.csv"));
    let (o, single) = run_into(&p, &d.join("single"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    // Files of one source in both states, interleaved.
    let (a, b) = (d.join("a"), d.join("b"));
    let o = gridgov(&["run", s(&p), "--partial", s(&a), "--files", s(&app3), s(&parquet), s(&app1)]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = gridgov(&["run", s(&p), "--partial", s(&b), "--files", s(&inspector), s(&app2)]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let merged = d.join("merged");
    let o = gridgov(&["merge", s(&p), s(&b), s(&a), "--output-dir", s(&merged)]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_same_run(&single, &merged.join("latest"));

    // A retried task finds its state written and leaves it.
    let before = std::fs::read(b.join("state.json")).unwrap();
    let o = gridgov(&["run", s(&p), "--partial", s(&b), "--files", s(&app2), s(&inspector)]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stderr.contains("already written"), "{}", o.stderr);
    assert_eq!(std::fs::read(b.join("state.json")).unwrap(), before);

    // A file no state read, a file two states read: refused, each named.
    let o = gridgov(&["merge", s(&p), s(&a), "--output-dir", s(&d.join("m2"))]);
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert!(o.stderr.contains("app/part2.csv: a file of case source \"app\" that no state read"), "{}", o.stderr);
    let o = gridgov(&["merge", s(&p), s(&a), s(&b), s(&a), "--output-dir", s(&d.join("m2"))]);
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert!(o.stderr.contains("app/part1.csv: read by two states"), "{}", o.stderr);
    assert!(!d.join("m2/latest").exists(), "nothing is published");

    // A case id in two states: one run would have quarantined the second as a duplicate,
    // which sums cannot undo.
    let mut extra = std::fs::read(&app2).unwrap();
    let first_row = std::fs::read_to_string(&app1).unwrap().lines().nth(1).unwrap().to_string();
    extra.extend_from_slice(format!("{first_row}\n").as_bytes());
    std::fs::write(&app2, extra).unwrap();
    let o = gridgov(&["run", s(&p), "--partial", s(&b), "--files", s(&inspector), s(&app2)]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_ne!(std::fs::read(b.join("state.json")).unwrap(), before, "an older state under the same name is replaced");
    let o = gridgov(&["merge", s(&p), s(&a), s(&b), "--output-dir", s(&d.join("m2"))]);
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert!(o.stderr.contains("1 case id(s) kept by two partial runs"), "{}", o.stderr);
    assert!(o.stderr.contains("app/part1.csv row 1") && o.stderr.contains("app/part2.csv row 6668"), "{}", o.stderr);

    // A state of another configuration (another as-of date).
    let c = d.join("c");
    let o = gridgov(&["run", s(&p), "--partial", s(&c), "--files", s(&inspector), s(&app2), "--as-of", "2026-11-06"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let o = gridgov(&["merge", s(&p), s(&a), s(&c), "--output-dir", s(&d.join("m2"))]);
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert!(o.stderr.contains("made with another configuration"), "{}", o.stderr);

    // A usage error: --partial without a share.
    let o = gridgov(&["run", s(&p), "--partial", s(&c)]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("--partial needs --group K/N or --files"), "{}", o.stderr);
}

/// `gridgov case-files` lists the case files in the order `--group K/N` cuts them: the demo's
/// three sources in pipeline order; the app's folder of three parts in name order.
#[test]
fn case_files_are_listed_in_the_order_shares_are_cut() {
    let tmp = tempfile::tempdir().unwrap();
    let p = split_demo(tmp.path());
    let o = gridgov(&["case-files", s(&p)]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let names: Vec<String> = o.stdout.lines().map(|l| Path::new(l).file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["cases_12345.parquet", "part1.csv", "part2.csv", "part3.csv", "cases_inspector.csv"]);
    for l in o.stdout.lines() {
        assert!(Path::new(l).is_file(), "{l} is not a file");
    }
}
