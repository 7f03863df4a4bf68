//! The nightly run as a scheduler sees it: the same inputs give the same run id and nothing new;
//! one run at a time; a run killed or interrupted mid-write, or out of disk space, leaves the
//! last good run published; daily files; the dry-run plan; JSON logs.

use crate::util::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn tiny(dir: &Path, cases_path: &str) -> PathBuf {
    std::fs::write(
        dir.join("g.geojson"),
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"c":"1"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}]}"#,
    )
    .unwrap();
    if !dir.join("c.csv").exists() {
        std::fs::write(dir.join("c.csv"), "id,t,x,y\n1,2026-10-01 00:00:00,0.5,0.5\n").unwrap();
    }
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
path = "{cases_path}"
format = "csv"
[cases.columns]
case_id = "id"
received_at = "t"
lon = "x"
lat = "y"
[outputs]
keep_runs = 3
[quality]
max_reject_share = 0.5
"#
        ),
    )
    .unwrap();
    p
}

fn run_dirs(out: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(out.join("runs")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn same_inputs_same_run_id_nothing_new_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tiny(tmp.path(), "c.csv");
    let out = tmp.path().join("out");
    let (o1, latest) = run_into(&p, &out);
    assert_eq!(o1.code, 0, "{}", o1.stderr);
    let id = std::fs::read_link(&latest).unwrap();
    let first = data_files(&latest);
    let manifest_before = std::fs::read(latest.join("manifest.json")).unwrap();
    let (o2, _) = run_into(&p, &out);
    assert_eq!(o2.code, 0, "{}", o2.stderr);
    assert!(o2.stderr.contains("already published"), "{}", o2.stderr);
    assert_eq!(run_dirs(&out).len(), 1);
    assert_eq!(std::fs::read(latest.join("manifest.json")).unwrap(), manifest_before, "an unchanged re-run writes nothing");
    // --force rebuilds the same run id with byte-identical data files.
    let o3 = gridgov(&["run", p.to_str().unwrap(), "--output-dir", out.to_str().unwrap(), "--force"]);
    assert_eq!(o3.code, 0, "{}", o3.stderr);
    assert_eq!(std::fs::read_link(&latest).unwrap(), id);
    assert_eq!(data_files(&latest), first);
    assert_eq!(run_dirs(&out).len(), 1);
    // A changed input is a new run; keep_runs = 3 keeps the newest three.
    for (i, day) in ["02", "03", "04"].iter().enumerate() {
        std::fs::write(tmp.path().join("c.csv"), format!("id,t,x,y\n1,2026-10-{day} 00:00:00,0.5,0.5\n")).unwrap();
        let (o, _) = run_into(&p, &out);
        assert_eq!(o.code, 0, "{}", o.stderr);
        assert_eq!(run_dirs(&out).len(), (i + 2).min(3));
    }
    assert!(!run_dirs(&out).contains(&id.file_name().unwrap().to_string_lossy().into_owned()), "the oldest run was pruned");
}

#[test]
fn a_second_run_names_the_lock_holder_and_exits_5() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tiny(tmp.path(), "c.csv");
    let out = tmp.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let lock = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(out.join(".lock")).unwrap();
    lock.lock().unwrap();
    std::fs::write(out.join(".lock"), "pid 4242 on nightly-host, pipeline t, started 2026-11-28T01:00:00Z").unwrap();
    let (o, latest) = run_into(&p, &out);
    assert_eq!(o.code, 5, "{}", o.stderr);
    assert!(o.stderr.contains("holds the lock") && o.stderr.contains("pid 4242 on nightly-host"), "{}", o.stderr);
    assert!(!latest.exists());
    drop(lock);
    let (o, _) = run_into(&p, &out);
    assert_eq!(o.code, 0, "once the holder is gone: {}", o.stderr);
}

#[test]
fn daily_files_in_a_folder_are_all_read_and_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let daily = tmp.path().join("daily");
    std::fs::create_dir(&daily).unwrap();
    std::fs::write(daily.join("2026-10-01.csv"), "id,t,x,y\n1,2026-10-01 08:00:00,0.5,0.5\n2,2026-10-01 09:00:00,0.5,0.5\n").unwrap();
    std::fs::write(daily.join("2026-10-02.csv"), "id,t,x,y\n3,2026-10-02 08:00:00,0.5,0.5\n1,2026-10-02 09:00:00,0.5,0.5\n").unwrap();
    std::fs::write(daily.join(".2026-10-03.csv.part"), "still downloading").unwrap();
    let p = tiny(tmp.path(), "daily");
    let (o, latest) = run_into(&p, &tmp.path().join("out"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let m = json(&latest.join("manifest.json"));
    let files: Vec<(String, u64)> = m["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "cases")
        .map(|i| (i["path"].as_str().unwrap().to_string(), i["rows_read"].as_u64().unwrap()))
        .collect();
    assert_eq!(files, [("daily/2026-10-01.csv".to_string(), 2), ("daily/2026-10-02.csv".to_string(), 2)]);
    assert!(m["inputs"].as_array().unwrap().iter().all(|i| i["sha256"].as_str().unwrap().len() == 64));
    assert_eq!(m["sources"][0]["rows_read"], 4);
    assert_eq!(m["sources"][0]["rows_assigned"], 3);
    // The id repeated on the second day is rejected, naming the first day's file and row.
    let rejects = read_csv(&latest.join("rejects.csv"));
    assert_eq!(rejects.len(), 1, "{rejects:?}");
    assert_eq!(rejects[0]["file"], "daily/2026-10-02.csv");
    assert_eq!(rejects[0]["row"], "2");
    assert!(rejects[0]["detail"].contains("row 1 of") && rejects[0]["detail"].contains("2026-10-01.csv"), "{rejects:?}");
    // A glob picks the same files.
    let p = tiny(tmp.path(), "daily/2026-10-*.csv");
    let o = gridgov(&["run", p.to_str().unwrap(), "--dry-run"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(o.stdout.contains("daily/2026-10-01.csv") && o.stdout.contains("daily/2026-10-02.csv"), "{}", o.stdout);
}

#[test]
fn dry_run_prints_the_plan_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tiny(tmp.path(), "c.csv");
    std::fs::write(tmp.path().join("p.toml"), std::fs::read_to_string(&p).unwrap() + "min_cases = 5\n").unwrap();
    let o = gridgov(&["run", p.to_str().unwrap(), "--dry-run"]);
    assert_eq!(o.code, 1, "min_cases fails: {}", o.stderr);
    assert!(!tmp.path().join("out").exists(), "a dry run writes nothing");
    for text in [
        "run id: 2026-11-01-",
        "c.csv  1 rows",
        "coordinates wgs84",
        "grid.geojson",
        "grid.csv",
        "rejects.csv",
        "FAIL min_cases for cases: 1 (limit 5)",
    ] {
        assert!(o.stdout.contains(text), "{text:?} not in the plan:\n{}", o.stdout);
    }
    // The plan lists what a run writes (charts aside, which depend on the data).
    std::fs::write(tmp.path().join("p.toml"), std::fs::read_to_string(&p).unwrap().replace("min_cases = 5", "min_cases = 1")).unwrap();
    let (o, latest) = run_into(&p, &tmp.path().join("out"));
    assert_eq!(o.code, 0, "{}", o.stderr);
    let plan = gridgov(&["run", p.to_str().unwrap(), "--dry-run", "--output-dir", tmp.path().join("out").to_str().unwrap()]);
    assert!(plan.stdout.contains("already published"), "{}", plan.stdout);
    let m = json(&latest.join("manifest.json"));
    for out in m["outputs"].as_array().unwrap() {
        let path = out["path"].as_str().unwrap();
        assert!(plan.stdout.contains(&format!("  {path}\n")), "{path} missing from the plan:\n{}", plan.stdout);
    }
}

#[test]
fn json_logs_are_one_object_per_line() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tiny(tmp.path(), "c.csv");
    let o = gridgov(&["--log-format", "json", "run", p.to_str().unwrap()]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let lines: Vec<serde_json::Value> =
        o.stderr.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    let last = lines.last().unwrap();
    assert_eq!(last["exit_code"], 0);
    assert!(last["run_id"].as_str().unwrap().starts_with("2026-11-01-"));
    // -q keeps the summary line only.
    std::fs::write(tmp.path().join("c.csv"), "id,t,x,y\n1,2026-10-02 00:00:00,0.5,0.5\n").unwrap();
    let o = gridgov(&["-q", "run", p.to_str().unwrap()]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
    assert!(o.stderr.contains("gridgov run: t 2026-10"), "{}", o.stderr);
}

/// The demo pipeline's write stage takes long enough (seconds in the debug build) to be caught.
fn demo_run(out: &Path, as_of: &str) -> std::process::Child {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Command::new(env!("CARGO_BIN_EXE_gridgov"))
        .args(["-q", "run", root.join("pipelines/demo.toml").to_str().unwrap(), "--output-dir", out.to_str().unwrap(), "--as-of", as_of])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the partial folder of the run as of `as_of` has some file in it (the write
/// stage), or panics. (A killed run's partial folder has another as-of date in its name.)
fn wait_for_write_stage(out: &Path, child: &mut std::process::Child, as_of: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(300) {
        if let Ok(entries) = std::fs::read_dir(out.join("runs")) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with(&format!(".{as_of}-"))
                    && name.ends_with(".partial")
                    && std::fs::read_dir(e.path()).map(|mut d| d.next().is_some()).unwrap_or(false)
                {
                    return;
                }
            }
        }
        assert!(child.try_wait().unwrap().is_none(), "the run ended before its write stage was seen");
        std::thread::sleep(Duration::from_millis(2));
    }
    panic!("no write stage within 300 s");
}

#[test]
fn kill_9_and_sigint_during_the_write_stage_leave_the_last_good_run() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = demo_run(&out, "2026-11-05").wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let good = std::fs::read_link(out.join("latest")).unwrap();
    let good_files = data_files(&out.join("latest"));

    // kill -9: no handler runs; the partial folder stays until the next run removes it.
    let mut child = demo_run(&out, "2026-11-06");
    wait_for_write_stage(&out, &mut child, "2026-11-06");
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    let status = child.wait().unwrap();
    assert_eq!(status.code(), None, "killed by a signal");
    assert_eq!(std::fs::read_link(out.join("latest")).unwrap(), good);
    assert_eq!(data_files(&out.join("latest")), good_files);

    // SIGINT: the run stops at its next check, removes its partial folder and exits 130.
    let mut child = demo_run(&out, "2026-11-07");
    wait_for_write_stage(&out, &mut child, "2026-11-07");
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("interrupted"));
    assert_eq!(std::fs::read_link(out.join("latest")).unwrap(), good);

    // A re-run succeeds and cleans up what the killed run left.
    let o = demo_run(&out, "2026-11-06").wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_ne!(std::fs::read_link(out.join("latest")).unwrap(), good);
    assert!(run_dirs(&out).iter().all(|d| !d.starts_with('.')), "{:?}", run_dirs(&out));
}

/// A tmpfs mounted for the test (CI runs as root), unmounted on drop.
struct Mount(PathBuf);

impl Mount {
    fn tmpfs(dir: &Path, options: &str) -> Mount {
        std::fs::create_dir_all(dir).unwrap();
        let ok = Command::new("mount").args(["-t", "tmpfs", "-o", options, "tmpfs", dir.to_str().unwrap()]).status();
        assert!(ok.is_ok_and(|s| s.success()), "mounting a tmpfs needs root (CI runs as root)");
        Mount(dir.to_path_buf())
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_is_exit_4_and_keeps_the_last_good_run() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tiny(tmp.path(), "c.csv");
    let out = tmp.path().join("out");
    let _m = Mount::tmpfs(&out, "size=2m");
    let (o, latest) = run_into(&p, &out);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let good = std::fs::read_link(&latest).unwrap();
    // Fill the disk, leaving a few kilobytes: not enough for a run.
    let mut f = std::fs::File::create(out.join("filler")).unwrap();
    let block = vec![0u8; 4096];
    while std::io::Write::write_all(&mut f, &block).is_ok() {}
    drop(f);
    let len = std::fs::metadata(out.join("filler")).unwrap().len();
    std::fs::OpenOptions::new().write(true).open(out.join("filler")).unwrap().set_len(len - 16 * 1024).unwrap();
    std::fs::write(tmp.path().join("c.csv"), "id,t,x,y\n1,2026-10-02 00:00:00,0.5,0.5\n").unwrap();
    let (o, latest) = run_into(&p, &out);
    assert_eq!(o.code, 4, "{}", o.stderr);
    assert!(o.stderr.contains("No space left on device"), "{}", o.stderr);
    assert_eq!(std::fs::read_link(&latest).unwrap(), good);
    assert!(run_dirs(&out).iter().all(|d| !d.starts_with('.')), "no partial folder left: {:?}", run_dirs(&out));
}

#[test]
fn a_read_only_output_folder_is_exit_4() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tiny(tmp.path(), "c.csv");
    let out = tmp.path().join("out");
    let _m = Mount::tmpfs(&out, "ro,size=1m");
    let (o, _) = run_into(&p, &out);
    assert_eq!(o.code, 4, "{}", o.stderr);
    assert!(o.stderr.contains("Read-only file system") && o.stderr.contains("out"), "{}", o.stderr);
}
