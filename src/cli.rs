//! Command-line interface: subcommands, logging, progress, signals and exit codes. The only
//! place that uses anyhow.

use chrono::NaiveDate;
use clap::{Parser, Subcommand, ValueEnum};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use tracing::{error, info, warn};

use gridgov::config;
use gridgov::indicators::registry::FIELDS;
use gridgov::pipeline::{self, Mode, Options};

const EXIT_CODES: &str = "\
Exit codes:
  0    success: the run was published (or was already published, unchanged)
  1    finished and published, but a data-quality gate of [quality] failed
  2    usage or configuration error (the pipeline file, an unknown key, a bad flag)
  3    an input is missing or unreadable (wrong format, missing column, bad encoding)
  4    an output could not be written (permissions, full disk)
  5    another gridgov run holds the output folder's lock; try again later
  130  interrupted (SIGINT or SIGTERM); nothing was published

Whatever the code, a failed run leaves the last good run published under <output_dir>/latest.";

#[derive(Parser)]
#[command(
    name = "gridgov",
    version,
    about = "Grid-based urban governance analytics: grid cells x cases -> indicators, GeoJSON layers and tables",
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Only warnings, errors and the final summary line on stderr; no progress display.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Log format on stderr: `text` for people, `json` (one object per line) for schedulers.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run a pipeline and publish a new run folder under its output_dir.
    #[command(after_help = EXIT_CODES)]
    Run {
        /// The pipeline file (TOML).
        pipeline: PathBuf,
        /// Override the as-of date of the pipeline file (YYYY-MM-DD).
        #[arg(long, value_parser = parse_date)]
        as_of: Option<NaiveDate>,
        /// Write the run under this folder instead of the pipeline's output_dir.
        #[arg(long)]
        output_dir: Option<PathBuf>,
        /// Print the plan (inputs with row counts, coordinate conversions, outputs, gates that
        /// would fail) after reading and checking everything; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Rebuild and republish even when a run of the same inputs and configuration (the same
        /// run id) is already published.
        #[arg(long)]
        force: bool,
    },
    /// Same as `run --dry-run`: check the pipeline file and read every input; write nothing.
    #[command(after_help = EXIT_CODES)]
    Validate {
        pipeline: PathBuf,
        #[arg(long, value_parser = parse_date)]
        as_of: Option<NaiveDate>,
    },
    /// List every indicator and output column with its formula.
    Indicators,
    /// Run a pipeline several times, each in a fresh process writing to a temporary folder, and
    /// report each stage's median time and peak memory, the join's throughput, and end-to-end
    /// time. Threads follow RAYON_NUM_THREADS and POLARS_MAX_THREADS.
    Bench {
        pipeline: PathBuf,
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// Also write every run's figures as JSON to this file.
        #[arg(long)]
        json: Option<PathBuf>,
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

/// Logging on stderr (text or JSON lines) and, on a terminal, a progress spinner.
pub struct Ui {
    bar: Option<indicatif::ProgressBar>,
}

impl Ui {
    pub fn init(format: LogFormat, quiet: bool) -> Ui {
        use tracing_subscriber::prelude::*;
        let show_bar = format == LogFormat::Text && !quiet && std::io::stderr().is_terminal();
        let bar = show_bar.then(|| {
            let b = indicatif::ProgressBar::new_spinner();
            b.enable_steady_tick(std::time::Duration::from_millis(120));
            b
        });
        let level = if quiet { tracing::Level::WARN } else { tracing::Level::INFO };
        // The summary line is logged under its own target, kept even with -q.
        let filter = tracing_subscriber::filter::Targets::new().with_target("summary", tracing::Level::INFO).with_default(level);
        let writer = BarWriter(bar.clone());
        let registry = tracing_subscriber::registry();
        match format {
            LogFormat::Json => {
                let layer = tracing_subscriber::fmt::layer().json().flatten_event(true).with_writer(writer).with_filter(filter);
                registry.with(layer).init();
            }
            LogFormat::Text => {
                let ansi = std::io::stderr().is_terminal();
                let layer = tracing_subscriber::fmt::layer().with_ansi(ansi).with_target(false).with_writer(writer).with_filter(filter);
                registry.with(layer).init();
            }
        }
        Ui { bar }
    }

    fn stage(&self, name: &str) {
        if let Some(b) = &self.bar {
            b.set_message(name.to_string());
        }
    }

    fn done(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// stderr, with the spinner lifted while a log line is written.
#[derive(Clone)]
struct BarWriter(Option<indicatif::ProgressBar>);

impl Write for BarWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &self.0 {
            Some(b) => b.suspend(|| std::io::stderr().write(buf)),
            None => std::io::stderr().write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for BarWriter {
    type Writer = BarWriter;
    fn make_writer(&'a self) -> BarWriter {
        self.clone()
    }
}

/// SIGINT / SIGTERM: ask the pipeline to stop at its next stage boundary (it then removes its
/// partial folder and exits 130); if a long stage keeps it from noticing within 10 s, exit 130
/// anyway: the kernel drops the lock and the next run removes the partial folder.
pub fn install_signal_handler() {
    let r = ctrlc::set_handler(|| {
        gridgov::interrupt::request();
        error!("interrupted: stopping; the previous run stays published");
        std::thread::sleep(std::time::Duration::from_secs(10));
        std::process::exit(130);
    });
    if let Err(e) = r {
        warn!("cannot install the signal handler ({e}); an interrupted run exits without cleaning up its partial folder");
    }
}

/// Runs the command; returns the process exit code.
pub fn run(cli: Cli, ui: &Ui) -> anyhow::Result<i32> {
    match cli.command {
        Command::Run { pipeline, as_of, output_dir, dry_run, force } => {
            let mode = if dry_run { Mode::Check } else { Mode::Run };
            run_pipeline(&pipeline, as_of, output_dir, mode, force, ui)
        }
        Command::Validate { pipeline, as_of } => run_pipeline(&pipeline, as_of, None, Mode::Check, false, ui),
        Command::Synth { what: SynthCommand::Demo { reference, out, seed, cases } } => {
            let opts = gridgov::synth::DemoOptions { reference_dir: reference, out_dir: out, seed, cases };
            match gridgov::synth::write_demo(&opts) {
                Ok(summary) => {
                    for (path, n) in &summary.files {
                        info!("wrote {} ({n} rows or features)", path.display());
                    }
                    info!(target: "summary", "gridgov synth demo: {} grids, seed {seed}", summary.grids);
                    Ok(0)
                }
                Err(e) => {
                    error!("{e}");
                    Ok(3)
                }
            }
        }
        Command::Synth { what: SynthCommand::Bench { size, out, seed } } => {
            let Some(sz) = gridgov::synth::bench::SIZES.iter().find(|s| s.name == size) else { return Ok(2) };
            match gridgov::synth::bench::write_bench(sz, &out, seed) {
                Ok(dir) => {
                    info!(target: "summary", "gridgov synth bench: size {size} written to {}", dir.display());
                    Ok(0)
                }
                Err(e) => {
                    error!("{e}");
                    Ok(3)
                }
            }
        }
        Command::Bench { pipeline, runs, json } => bench(&pipeline, runs, json.as_deref()),
        Command::Indicators => {
            println!("{:<24} {:<16} {:<22} formula", "key", "label", "unit");
            for f in FIELDS {
                println!("{:<24} {:<16} {:<22} {}", f.key, f.zh, f.unit, f.formula);
            }
            Ok(0)
        }
    }
}

fn run_pipeline(
    path: &Path,
    as_of: Option<NaiveDate>,
    output_dir: Option<PathBuf>,
    mode: Mode,
    force: bool,
    ui: &Ui,
) -> anyhow::Result<i32> {
    let clock = std::time::Instant::now();
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
    let progress = |stage: &'static str| {
        ui.stage(stage);
        tracing::debug!(stage, "stage started");
    };
    let result = pipeline::run(&p, &Options { mode, force, progress: &progress });
    ui.done();
    let report = match result {
        Ok(r) => r,
        Err(e) => return Ok(report_error(e)),
    };
    let secs = clock.elapsed().as_secs_f64();
    let Some(m) = &report.manifest else {
        let dir = report.run_dir.as_ref().map(|d| d.display().to_string()).unwrap_or_default();
        info!(
            target: "summary",
            "gridgov run: {} {} as of {}: unchanged inputs and configuration, run {} is already published at {dir}; \
             nothing written (use --force to rebuild); {secs:.1} s; exit {}",
            p.name,
            p.period.label(),
            p.period.as_of,
            report.run_id,
            report.exit_code
        );
        return Ok(report.exit_code);
    };
    for a in &m.sources {
        let reasons: Vec<String> = a.rejects_by_reason.iter().map(|(r, n)| format!("{r} {n}")).collect();
        info!(
            source = a.name.as_str(),
            rows_read = a.rows_read,
            rows_assigned = a.rows_assigned,
            rows_rejected = a.rows_rejected,
            "{:<12} read {:>8}  assigned {:>8}  rejected {:>6}{}",
            a.name,
            a.rows_read,
            a.rows_assigned,
            a.rows_rejected,
            if reasons.is_empty() { String::new() } else { format!("  ({})", reasons.join(", ")) }
        );
    }
    for g in m.gates.iter().filter(|g| !g.passed) {
        let cmp = if g.name == "min_cases" { "<" } else { ">" };
        warn!(
            gate = g.name.as_str(),
            source = g.source.as_str(),
            "quality gate failed: {} for {}: {} {cmp} {}",
            g.name,
            g.source,
            g.value,
            g.limit
        );
    }
    if mode == Mode::Check {
        print_plan(&p, &report);
    }
    let verb = if mode == Mode::Run { "run" } else { "dry run" };
    let dir = report.run_dir.as_ref().map(|d| d.display().to_string()).unwrap_or_else(|| "nothing written".into());
    info!(
        target: "summary",
        run_id = report.run_id.as_str(),
        exit_code = report.exit_code,
        "gridgov {verb}: {} {} as of {}: {} cases read, {} assigned, {} rejected; {} grids; {} outputs; {dir}; {secs:.1} s; exit {}",
        m.pipeline,
        p.period.label(),
        p.period.as_of,
        m.totals.get("rows_read").copied().unwrap_or(0),
        m.totals.get("rows_assigned").copied().unwrap_or(0),
        m.totals.get("rows_rejected").copied().unwrap_or(0),
        m.grids.grids_used,
        if mode == Mode::Run { m.outputs.len() } else { report.planned_outputs.len() },
        report.exit_code
    );
    Ok(report.exit_code)
}

/// The dry-run plan, on stdout: inputs, coordinate decisions, outputs, gates.
fn print_plan(p: &config::Pipeline, r: &pipeline::RunReport) {
    let Some(m) = &r.manifest else { return };
    let mut out = String::new();
    let published = p.output_dir.join("runs").join(&r.run_id).join("manifest.json").is_file();
    out.push_str(&format!("plan: pipeline {} ({}), period {}, as of {}\n", p.name, p.title, p.period.label(), p.period.as_of));
    out.push_str(&format!(
        "run id: {}{}\n",
        r.run_id,
        if published { " (already published: `run` would write nothing without --force)" } else { "" }
    ));
    out.push_str("inputs:\n");
    for i in &m.inputs {
        out.push_str(&format!(
            "  {:<8} {:<12} {}  {} {}, {} bytes, sha256 {}…; coordinates {}: {}\n",
            i.kind,
            i.name,
            i.path,
            i.rows_read,
            if i.kind == "grids" { "features" } else { "rows" },
            i.bytes,
            &i.sha256[..12.min(i.sha256.len())],
            i.crs,
            i.transform
        ));
    }
    out.push_str(&format!("outputs, into {}/runs/{}/:\n", p.output_dir.display(), r.run_id));
    for o in &r.planned_outputs {
        out.push_str(&format!("  {o}\n"));
    }
    out.push_str("quality gates:\n");
    for g in &m.gates {
        out.push_str(&format!(
            "  {:<4} {} for {}: {} (limit {})\n",
            if g.passed { "pass" } else { "FAIL" },
            g.name,
            g.source,
            g.value,
            g.limit
        ));
    }
    print!("{out}");
}

/// The stages of a run in the order they happen, as the manifest names them; the indented
/// ones are parts of the stage above.
const BENCH_STAGES: &[(&str, &str)] = &[
    ("hash_inputs", "hash inputs (sha256)"),
    ("read_grids", "read grids (GeoJSON, checks, areas)"),
    ("join_index", "build the join index"),
    ("cases_total", "cases, streamed: read, join, count"),
    ("read_records", "  read and check records"),
    ("crs_conversion", "    of which coordinate conversion"),
    ("join", "  locate points (join)"),
    ("count", "  count cases"),
    ("indicators", "indicators and roll-ups"),
    ("outputs_total", "write outputs"),
    ("dissolve", "  dissolve (summed over levels)"),
    ("write_geojson", "  GeoJSON layers (summed over levels)"),
    ("write_tables", "  level tables (summed over levels)"),
    ("write_other_tables", "  city and dimension tables"),
    ("charts", "  charts"),
    ("write_report", "  report, dictionary"),
];

fn bench(path: &Path, runs: usize, json: Option<&Path>) -> anyhow::Result<i32> {
    if let Err(e) = config::load(path) {
        return Ok(report_error(gridgov::Error::from(e)));
    }
    let exe = std::env::current_exe()?;
    let tmp = std::env::temp_dir().join(format!("gridgov-bench-{}", std::process::id()));
    let mut stages: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
    let mut peaks: std::collections::BTreeMap<String, f64> = Default::default();
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
        let m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(tmp.join("latest/manifest.json"))?)?;
        for (k, v) in m["timings_seconds"].as_object().into_iter().flatten() {
            stages.entry(k.clone()).or_default().push(v.as_f64().unwrap_or(0.0));
        }
        for (k, v) in m["peak_rss_mb_after"].as_object().into_iter().flatten() {
            let e = peaks.entry(k.clone()).or_default();
            *e = e.max(v.as_f64().unwrap_or(0.0));
        }
        rates.push(m["join"]["points_per_second"].as_f64().unwrap_or(0.0));
        points = m["join"]["points"].as_u64().unwrap_or(0);
        rss.push(m["peak_rss_mb"].as_f64().unwrap_or(0.0));
        walls.push(wall);
        info!("run {}: {wall:.3} s", i + 1);
        all.push(serde_json::json!({"wall_s": wall, "timings_seconds": m["timings_seconds"], "peak_rss_mb_after": m["peak_rss_mb_after"],
            "peak_rss_mb": m["peak_rss_mb"], "join": m["join"]}));
    }
    let _ = std::fs::remove_dir_all(&tmp);
    let median = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!("| stage | median s | peak RSS after, MB |\n|---|---:|---:|");
    for (k, label) in BENCH_STAGES {
        if let Some(v) = stages.get(*k) {
            let peak = peaks.get(*k).map(|p| format!("{p:.0}")).unwrap_or_default();
            println!("| {label} | {:.3} | {peak} |", median(v));
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

fn report_error(e: gridgov::Error) -> i32 {
    // Messages already carry their cause (see error.rs), so one line per error is enough.
    let code = e.exit_code();
    error!(exit_code = code, "{e}");
    code
}
