//! Command-line interface: subcommands and their arguments, and the one place a failure
//! becomes an exit code ([`Failure::exit_code`]). The only place that uses anyhow. The
//! terminal is `ui.rs`'s, the dry-run plan `plan.rs`'s, the bench harness `bench.rs`'s.

mod bench;
mod plan;
mod ui;

use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use tracing::{info, warn};

use gridgov::config::Overrides;
use gridgov::indicators::registry;
use gridgov::pipeline::{self, Group, Mode, Options, Partial};
pub use ui::{LogFormat, Ui, install_signal_handler};

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
        /// Read only a share of the case files (`--group` or `--files`) and write the run's
        /// state into this folder instead of the outputs, for `gridgov merge`.
        #[arg(long, value_name = "DIR", conflicts_with = "dry_run")]
        partial: Option<PathBuf>,
        /// With --partial: share K of N (K from 1): the case files of every case source, in
        /// pipeline and name order, cut into N runs of consecutive files.
        #[arg(long, value_name = "K/N", requires = "partial", value_parser = parse_group, conflicts_with = "files")]
        group: Option<(usize, usize)>,
        /// With --partial: exactly these case files.
        #[arg(long, value_name = "FILE", num_args = 1.., requires = "partial")]
        files: Vec<PathBuf>,
    },
    /// Combine partial runs' states (`run --partial`) into the run folder one run over every
    /// file would have published: byte-identical data files. Every case file must be in
    /// exactly one state; the other sources and the grid layers are read here.
    #[command(after_help = EXIT_CODES)]
    Merge {
        /// The pipeline file the partial runs were made with.
        pipeline: PathBuf,
        /// The partial runs' state folders.
        #[arg(required = true)]
        states: Vec<PathBuf>,
        #[arg(long, value_parser = parse_date)]
        as_of: Option<NaiveDate>,
        #[arg(long)]
        output_dir: Option<PathBuf>,
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
    /// Print the pipeline's case files, one per line, in the order a run reads them (pipeline
    /// order, then name order): the list `run --partial --group K/N` cuts into shares, for a
    /// scheduler that groups them itself (`--files`).
    CaseFiles {
        pipeline: PathBuf,
    },
    /// Convert points between a coordinate system and WGS84 as gridgov does when it reads
    /// (`EPSG:4527`, `+proj=...`, `gcj02`, ...): one `x,y` pair per line of stdin, `lon,lat`
    /// (or with `--to`, `x,y`) per line of stdout, 10 decimals (degrees) or 6 (metres).
    Crs {
        /// The system the input points are in (or, with `--to`, the one to convert to).
        system: String,
        /// Convert WGS84 lon/lat into `system` instead.
        #[arg(long)]
        to: bool,
    },
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
        #[arg(long, default_value_t = 200_000)]
        cases: usize,
        /// District codes to build the city from, comma-separated, or `all`. The default is
        /// the capital's core area (东城区, 西城区), dense enough for a month's street review.
        #[arg(long, default_value = "110101,110102", value_delimiter = ',')]
        districts: Vec<String>,
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
        /// `lattice`: gridgov's own case files (9 columns, plain timestamps, random order);
        /// `export`: shaped like a hotline export (12 columns, ISO 8601 `+08:00`, text
        /// category/channel/department, `true`/`false`, 1 % missing coordinates, rows in time
        /// order, a dense core; Parquet row groups of 2^20, tz-aware µs), into `<size>-export/`.
        #[arg(long, default_value = "lattice", value_parser = ["lattice", "export"])]
        shape: String,
    },
}

fn parse_group(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("{s:?} is not K/N with 1 <= K <= N (for example 2/10)");
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let (k, n): (usize, usize) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if k == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("{s:?} is not a date YYYY-MM-DD"))
}

/// Why a command failed; each kind of failure has its exit code.
pub enum Failure {
    /// A run failed: configuration (2), inputs (3), outputs (4), the lock (5), interrupted (130).
    Run(gridgov::Error),
    /// The synthetic data could not be generated (3).
    Synth(gridgov::synth::SynthError),
    /// Anything else, such as the bench harness failing to start a run (4).
    Other(anyhow::Error),
    /// A command given what it cannot use: an unknown coordinate system, a line that is not
    /// a pair of numbers (2, as a configuration error).
    Usage(String),
}

impl Failure {
    /// The process's exit code for this failure: the one place failures become codes.
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Run(e) => e.exit_code(),
            Failure::Synth(_) => 3,
            Failure::Other(_) => 4,
            Failure::Usage(_) => 2,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Run(e) => write!(f, "{e}"),
            Failure::Synth(e) => write!(f, "{e}"),
            Failure::Other(e) => write!(f, "{e:#}"),
            Failure::Usage(m) => write!(f, "{m}"),
        }
    }
}

impl<E: Into<gridgov::Error>> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure::Run(e.into())
    }
}

/// Runs the command; returns the process exit code of a command that ran to its end.
pub fn run(cli: Cli, ui: &Ui) -> Result<i32, Failure> {
    match cli.command {
        Command::Run { pipeline, as_of, output_dir, dry_run, force, partial, group, files } => {
            let mode = match (partial, group) {
                (Some(dir), Some((k, n))) => Mode::Partial(Partial { dir, group: Group::Share { k: k - 1, n } }),
                (Some(_), None) if files.is_empty() => {
                    return Err(Failure::Usage("--partial needs --group K/N or --files FILE... (which case files this run reads)".into()));
                }
                (Some(dir), None) => Mode::Partial(Partial { dir, group: Group::Files(files) }),
                (None, _) if dry_run => Mode::Check,
                (None, _) => Mode::Run,
            };
            run_pipeline(&pipeline, Overrides { as_of, output_dir }, mode, force, ui)
        }
        Command::Merge { pipeline, states, as_of, output_dir, force } => {
            run_pipeline(&pipeline, Overrides { as_of, output_dir }, Mode::Merge(states), force, ui)
        }
        Command::Validate { pipeline, as_of } => run_pipeline(&pipeline, Overrides { as_of, output_dir: None }, Mode::Check, false, ui),
        Command::Synth { what: SynthCommand::Demo { reference, out, seed, cases, districts } } => {
            let districts = if districts.iter().any(|d| d == "all") { Vec::new() } else { districts };
            let opts = gridgov::synth::DemoOptions { reference_dir: reference, out_dir: out, seed, cases, districts };
            let report = gridgov::synth::write_demo_report(&opts).map_err(Failure::Synth)?;
            let summary = &report.summary;
            for (path, n) in &summary.files {
                info!("wrote {} ({n} rows or features)", path.display());
            }
            // The figures data/README.md quotes, so that a new data set can be documented.
            for (code, name, n) in &report.grids_per_district {
                info!("district {code} {name}: {n} grids");
            }
            info!(
                "{} MultiPolygon grids, {} grids with a hole, {} slivers merged",
                report.multipolygon_grids, report.grids_with_holes, report.slivers_merged
            );
            for (file, defect, n) in &report.defects {
                info!("{file}: {n} rows with {defect}");
            }
            info!(target: "summary", "gridgov synth demo: {} grids, seed {seed}", summary.grids);
            Ok(0)
        }
        Command::Synth { what: SynthCommand::Bench { size, out, seed, shape } } => {
            let Some(sz) = gridgov::synth::bench::SIZES.iter().find(|s| s.name == size) else { return Ok(2) };
            let shape = if shape == "export" { gridgov::synth::bench::Shape::Export } else { gridgov::synth::bench::Shape::Lattice };
            let dir = gridgov::synth::bench::write_bench_shaped(sz, &out, seed, shape).map_err(Failure::Synth)?;
            info!(target: "summary", "gridgov synth bench: size {size} written to {}", dir.display());
            Ok(0)
        }
        Command::Bench { pipeline, runs, json } => {
            pipeline::load(&pipeline, &Overrides::default())?;
            bench::bench(&pipeline, runs, json.as_deref()).map_err(Failure::Other)
        }
        Command::CaseFiles { pipeline } => {
            let p = pipeline::load(&pipeline, &Overrides::default())?;
            let files = pipeline::case_files(&p)?;
            print!("{}", files.iter().map(|f| format!("{}\n", f.display())).collect::<String>());
            Ok(0)
        }
        Command::Indicators => {
            print!("{}", registry::listing());
            Ok(0)
        }
        Command::Crs { system, to } => convert_points(&system, to),
    }
}

/// `gridgov crs`: points from stdin through one coordinate conversion to stdout. The system
/// is described on stderr (its PROJ string), so a user can see what gridgov made of it.
fn convert_points(system: &str, to: bool) -> Result<i32, Failure> {
    use std::io::{BufRead, Write};
    let crs = gridgov::vocab::crs::Crs::parse(system).map_err(Failure::Usage)?;
    eprintln!("{}: {}", crs.as_str(), crs.transform_description());
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let metres = to && !crs.is_geographic();
    for (n, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line.map_err(|e| Failure::Usage(format!("stdin: {e}")))?;
        if line.trim().is_empty() {
            continue;
        }
        let nums: Vec<f64> = line.split([',', ' ', '\t']).filter(|s| !s.is_empty()).filter_map(|s| s.parse().ok()).collect();
        let [x, y] = nums[..] else {
            return Err(Failure::Usage(format!("stdin line {}: {line:?} is not a pair of numbers x,y", n + 1)));
        };
        let (a, b) = if to { crs.from_wgs84(x, y) } else { crs.to_wgs84(x, y) };
        let _ = if metres { writeln!(out, "{a:.6},{b:.6}") } else { writeln!(out, "{a:.10},{b:.10}") };
    }
    let _ = out.flush();
    Ok(0)
}

fn run_pipeline(path: &Path, overrides: Overrides, mode: Mode, force: bool, ui: &Ui) -> Result<i32, Failure> {
    let clock = std::time::Instant::now();
    let p = pipeline::load(path, &overrides)?;
    let progress = |stage: &'static str| {
        ui.stage(stage);
        tracing::debug!(stage, "stage started");
    };
    let result = pipeline::run(&p, &Options { mode: mode.clone(), force, progress: &progress });
    ui.done();
    let report = result?;
    let secs = clock.elapsed().as_secs_f64();
    if let Mode::Partial(part) = &mode {
        let what = if report.unchanged { "already written by another attempt, left as it is" } else { "written" };
        info!(
            target: "summary",
            "gridgov run --partial: {} {} as of {}: state {} {what}; merge every part with `gridgov merge`; {secs:.1} s; exit 0",
            p.name,
            p.period.label(),
            p.period.as_of,
            part.dir.display()
        );
        return Ok(0);
    }
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
        plan::print_plan(&p, &report);
    }
    let verb = match mode {
        Mode::Run => "run",
        Mode::Merge(_) => "merge",
        _ => "dry run",
    };
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
        if mode == Mode::Check { report.planned_outputs.len() } else { m.outputs.len() },
        report.exit_code
    );
    Ok(report.exit_code)
}
