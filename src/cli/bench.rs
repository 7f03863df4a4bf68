//! `gridgov bench`: a pipeline run several times, each in a fresh process writing to a
//! temporary folder; the median of every stage (named by `vocab::stage::Stage`) with the memory
//! high-water mark after it, the join's throughput and the end-to-end time.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;
use tracing::info;

use gridgov::vocab::stage::Stage;

/// The figures of a run's manifest the harness reads.
#[derive(Deserialize)]
struct Figures {
    timings_seconds: BTreeMap<String, f64>,
    #[serde(default)]
    peak_rss_mb_after: BTreeMap<String, f64>,
    peak_rss_mb: Option<f64>,
    join: JoinFigures,
}

#[derive(Deserialize, serde::Serialize)]
struct JoinFigures {
    points: u64,
    points_per_second: f64,
}

pub fn bench(path: &Path, runs: usize, json: Option<&Path>) -> anyhow::Result<i32> {
    let exe = std::env::current_exe()?;
    let tmp = std::env::temp_dir().join(format!("gridgov-bench-{}", std::process::id()));
    let mut stages: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut peaks: BTreeMap<String, f64> = BTreeMap::new();
    let (mut walls, mut rates, mut rss) = (Vec::new(), Vec::new(), Vec::new());
    let mut points = 0u64;
    let mut all = Vec::new();
    for i in 0..runs.max(1) {
        // A fresh process per run, as a nightly scheduler starts it; --force rebuilds the run.
        let t = std::time::Instant::now();
        let status =
            std::process::Command::new(&exe).arg("-q").arg("run").arg(path).arg("--output-dir").arg(&tmp).arg("--force").status()?;
        let wall = t.elapsed().as_secs_f64();
        if !(status.success() || status.code() == Some(1)) {
            anyhow::bail!("run {} of {} failed with {status}", i + 1, path.display());
        }
        let f: Figures = serde_json::from_str(&std::fs::read_to_string(tmp.join("latest/manifest.json"))?)?;
        for (k, v) in &f.timings_seconds {
            stages.entry(k.clone()).or_default().push(*v);
        }
        for (k, v) in &f.peak_rss_mb_after {
            let e = peaks.entry(k.clone()).or_default();
            *e = e.max(*v);
        }
        rates.push(f.join.points_per_second);
        points = f.join.points;
        rss.push(f.peak_rss_mb.unwrap_or(0.0));
        walls.push(wall);
        info!("run {}: {wall:.3} s", i + 1);
        all.push(serde_json::json!({"wall_s": wall, "timings_seconds": f.timings_seconds, "peak_rss_mb_after": f.peak_rss_mb_after,
            "peak_rss_mb": f.peak_rss_mb, "join": f.join}));
    }
    let _ = std::fs::remove_dir_all(&tmp);
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!("| stage | median s | peak RSS after, MB |\n|---|---:|---:|");
    for stage in Stage::ALL {
        if let Some(v) = stages.get(stage.key()) {
            let peak = peaks.get(stage.key()).map(|p| format!("{p:.0}")).unwrap_or_default();
            println!("| {}{} | {:.3} | {peak} |", "  ".repeat(stage.depth()), stage.label(), median(v));
        }
    }
    let (lo, hi) = (walls.iter().cloned().fold(f64::MAX, f64::min), walls.iter().cloned().fold(0.0, f64::max));
    println!(
        "| **end to end (process)** | **{:.3}** (min {lo:.3}, max {hi:.3}, {} runs) | {:.0} |",
        median(&walls),
        walls.len(),
        median(&rss)
    );
    println!("\njoin: {points} located points, median {:.2} M points/s", median(&rates) / 1e6);
    println!(
        "threads: {} (RAYON_NUM_THREADS), machine: {} CPUs",
        rayon::current_num_threads(),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0)
    );
    if let Some(j) = json {
        std::fs::write(j, serde_json::to_string_pretty(&serde_json::json!({"pipeline": path, "runs": all}))?)?;
    }
    Ok(0)
}
