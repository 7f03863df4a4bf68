//! Command-line interface: subcommands and their output. The only place that uses anyhow.

use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

use gridgov::config;
use gridgov::indicators::registry::FIELDS;
use gridgov::pipeline;

#[derive(Parser)]
#[command(
    name = "gridgov",
    version,
    about = "Grid-based urban governance analytics: grid cells x cases -> indicators, GeoJSON layers and tables"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Only warnings and errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run a pipeline and publish a new run folder under its output_dir.
    Run {
        /// The pipeline file (TOML).
        pipeline: PathBuf,
        /// Override the as-of date of the pipeline file (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date)]
        as_of: Option<NaiveDate>,
        /// Write the run under this folder instead of the pipeline's output_dir.
        #[arg(long)]
        output_dir: Option<PathBuf>,
    },
    /// Check the pipeline file and read every input; write nothing.
    Validate {
        pipeline: PathBuf,
        #[arg(long, value_parser = parse_date)]
        as_of: Option<NaiveDate>,
    },
    /// List every indicator and output column with its formula.
    Indicators,
    /// Run a pipeline several times into a temporary folder and report each stage's median
    /// time, the join's throughput, end-to-end time and peak memory.
    Bench {
        pipeline: PathBuf,
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Generate synthetic data sets.
    Synth {
        #[command(subcommand)]
        what: SynthCommand,
    },
}

#[derive(Subcommand)]
pub enum SynthCommand {
    /// The demo data in data/: a Beijing-like city built on the real districts, streets and
    /// communities (seeded: the same seed gives byte-identical files).
    Demo {
        /// Folder with districts_gcj02.geojson, streets.csv and communities.csv.
        #[arg(long, default_value = "data/reference")]
        reference: PathBuf,
        /// Folder to write the data set into.
        #[arg(long, default_value = "data")]
        out: PathBuf,
        #[arg(long, default_value_t = 20261127)]
        seed: u64,
        /// Case rows over the three case files, defective rows included.
        #[arg(long, default_value_t = 100_000)]
        cases: usize,
    },
    /// Benchmark data: S = 2,000 grids × 200,000 cases, M = 30,000 × 2,000,000,
    /// L = 30,000 × 10,000,000, XL = 30,000 × 100,000,000 (Parquet only, in 5 M-row files).
    Bench {
        #[arg(long, value_parser = ["S", "M", "L", "XL"])]
        size: String,
        #[arg(long, default_value = "bench-data")]
        out: PathBuf,
        #[arg(long, default_value_t = 20261127)]
        seed: u64,
    },
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("{s:?} is not a date YYYY-MM-DD"))
}

/// Runs the command; returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Run { pipeline, as_of, output_dir } => run_pipeline(&pipeline, as_of, output_dir, true, cli.quiet),
        Command::Validate { pipeline, as_of } => run_pipeline(&pipeline, as_of, None, false, cli.quiet),
        Command::Synth { what: SynthCommand::Demo { reference, out, seed, cases } } => {
            let opts = gridgov::synth::DemoOptions { reference_dir: reference, out_dir: out, seed, cases };
            match gridgov::synth::write_demo(&opts) {
                Ok(summary) => {
                    for (path, n) in &summary.files {
                        eprintln!("wrote {} ({n} rows or features)", path.display());
                    }
                    eprintln!("gridgov synth demo: {} grids, seed {seed}", summary.grids);
                    Ok(0)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(3)
                }
            }
        }
        Command::Synth { what: SynthCommand::Bench { size, out, seed } } => {
            let Some(sz) = gridgov::synth::bench::SIZES.iter().find(|s| s.name == size) else { return Ok(2) };
            match gridgov::synth::bench::write_bench(sz, &out, seed) {
                Ok(dir) => {
                    eprintln!("gridgov synth bench: size {size} written to {}", dir.display());
                    Ok(0)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(3)
                }
            }
        }
        Command::Bench { pipeline, runs } => bench(&pipeline, runs),
        Command::Indicators => {
            println!("{:<24} {:<16} {:<22} formula", "key", "label", "unit");
            for f in FIELDS {
                println!("{:<24} {:<16} {:<22} {}", f.key, f.zh, f.unit, f.formula);
            }
            Ok(0)
        }
    }
}

fn run_pipeline(path: &PathBuf, as_of: Option<NaiveDate>, output_dir: Option<PathBuf>, write: bool, quiet: bool) -> anyhow::Result<i32> {
    let mut p = match config::load(path) {
        Ok(p) => p,
        Err(e) => return Ok(report_error(gridgov::Error::from(e))),
    };
    if let Some(dir) = output_dir {
        p.output_dir = std::path::absolute(&dir)?;
    }
    let p = match as_of.map(|d| p.clone().with_as_of(d)).transpose() {
        Ok(Some(p)) => p,
        Ok(None) => p,
        Err(e) => return Ok(report_error(e.into())),
    };
    let report = match pipeline::run(&p, write) {
        Ok(r) => r,
        Err(e) => return Ok(report_error(e)),
    };
    let m = &report.manifest;
    for a in &m.sources {
        if !quiet || a.rows_rejected > 0 {
            let reasons: Vec<String> = a.rejects_by_reason.iter().map(|(r, n)| format!("{r} {n}")).collect();
            eprintln!(
                "{:<12} read {:>8}  assigned {:>8}  rejected {:>6}{}",
                a.name,
                a.rows_read,
                a.rows_assigned,
                a.rows_rejected,
                if reasons.is_empty() { String::new() } else { format!("  ({})", reasons.join(", ")) }
            );
        }
    }
    for g in m.gates.iter().filter(|g| !g.passed) {
        eprintln!("quality gate failed: {} rejected share {:.4} > {} (or rows do not add up)", g.source, g.value, g.limit);
    }
    let verb = if write { "run" } else { "validate" };
    let dir = report.run_dir.as_ref().map(|d| d.display().to_string()).unwrap_or_else(|| "nothing written".into());
    eprintln!(
        "gridgov {verb}: {} {} as of {}: {} cases assigned, {} rejected, {} grids; {}; exit {}",
        m.pipeline,
        p.period.label(),
        p.period.as_of,
        m.totals.get("rows_assigned").copied().unwrap_or(0),
        m.totals.get("rows_rejected").copied().unwrap_or(0),
        m.grids.grids_used,
        dir,
        report.exit_code
    );
    Ok(report.exit_code)
}

fn bench(path: &PathBuf, runs: usize) -> anyhow::Result<i32> {
    let mut p = match config::load(path) {
        Ok(p) => p,
        Err(e) => return Ok(report_error(gridgov::Error::from(e))),
    };
    let tmp = std::env::temp_dir().join(format!("gridgov-bench-{}", std::process::id()));
    p.output_dir = tmp.clone();
    let mut stages: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    let (mut walls, mut rates) = (Vec::new(), Vec::new());
    let mut points = 0;
    for i in 0..runs.max(1) {
        let t = std::time::Instant::now();
        let report = match pipeline::run(&p, true) {
            Ok(r) => r,
            Err(e) => return Ok(report_error(e)),
        };
        walls.push(t.elapsed().as_secs_f64());
        let m = &report.manifest;
        for (k, v) in &m.timings_seconds {
            stages.entry(k.to_string()).or_default().push(*v);
        }
        rates.push(m.join.points_per_second);
        points = m.join.points;
        eprintln!("run {}: {:.3} s", i + 1, walls[i]);
    }
    let _ = std::fs::remove_dir_all(&tmp);
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!("| stage | median s |\n|---|---|");
    for (k, mut v) in stages {
        println!("| {k} | {:.4} |", median(&mut v));
    }
    let (lo, hi) = (walls.iter().cloned().fold(f64::MAX, f64::min), walls.iter().cloned().fold(0.0, f64::max));
    println!("| **end to end** | {:.4} (min {lo:.4}, max {hi:.4}, {} runs) |", median(&mut walls), walls.len());
    println!("\njoin: {points} located points, median {:.2} M points/s", median(&mut rates) / 1e6);
    println!("peak RSS: {} MB", gridgov::outputs::manifest::peak_rss_mb().map(|m| m.to_string()).unwrap_or_else(|| "n/a".into()));
    println!("threads: {}", rayon::current_num_threads());
    Ok(0)
}

fn report_error(e: gridgov::Error) -> i32 {
    // Messages already carry their cause (see error.rs), so one line per error is enough.
    eprintln!("error: {e}");
    e.exit_code()
}
