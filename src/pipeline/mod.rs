//! The one function that wires the stages: lock → read grids → read, check, locate and tally
//! every record source batch by batch → compute → gates → write → publish.

mod gates;
mod manifest;
mod networks;
mod partial;
mod stream;

pub use partial::{Group, Partial, case_files};

use std::path::{Path, PathBuf};

use crate::config::{self, Catalog, Overrides, Pipeline};
use crate::indicators::{self, Tallies, registry};
use crate::io::{self, Checker, SourceReader};
use crate::join::{self, GridIndex};
use crate::outputs::manifest::{Manifest, write as write_manifest};
use crate::outputs::publish::RunDir;
use crate::outputs::rejects::{IssuesFile, RejectsFile};
use crate::outputs::write;
use crate::vocab::dictionary::Dictionaries;
use crate::vocab::error::{ConfigError, Error, ReadError};
use crate::vocab::interrupt;
use crate::vocab::stage::{Stage, Timings};
use crate::vocab::units::Hierarchy;
use stream::Stream;

/// Reads and resolves a pipeline file with the command line's overrides: the record kinds and
/// the mappable rates come from the stages that define them.
pub fn load(path: &Path, overrides: &Overrides) -> Result<Pipeline, ConfigError> {
    let mappable = registry::mappable();
    let columns: Vec<&str> = registry::fields().iter().map(|f| f.key).collect();
    config::load(path, overrides, &Catalog { kinds: io::kinds::SPECS, mappable: &mappable, columns: &columns })
}

/// Parses and resolves pipeline-file text (`path` names it in messages and anchors its
/// relative paths), as `load` does a file.
pub fn resolve_text(path: &Path, text: &str, overrides: &Overrides) -> Result<Pipeline, ConfigError> {
    let mappable = registry::mappable();
    let columns: Vec<&str> = registry::fields().iter().map(|f| f.key).collect();
    config::resolve(
        path,
        config::parse(path, text)?,
        overrides,
        &Catalog { kinds: io::kinds::SPECS, mappable: &mappable, columns: &columns },
    )
}

/// What the run does besides computing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Compute and publish a run folder.
    Run,
    /// Read and check everything, compute, write nothing (`validate`, `run --dry-run`).
    Check,
    /// Read a share of the case files and write the record stage's state, not the outputs
    /// (`run --partial`).
    Partial(Partial),
    /// Publish the run folder one run would have, from partial runs' states (in place of the
    /// case files) and every other input (`merge`).
    Merge(Vec<PathBuf>),
}

/// How to run.
pub struct Options<'a> {
    pub mode: Mode,
    /// Rebuild and republish a run whose inputs and configuration are unchanged.
    pub force: bool,
    /// Called with the name of each stage as it starts (the binary's progress display).
    pub progress: &'a (dyn Fn(&'static str) + Sync),
}

impl Options<'_> {
    /// Publish, no progress display.
    pub fn run() -> Options<'static> {
        Options { mode: Mode::Run, force: false, progress: &|_| {} }
    }
    /// Check only, no progress display.
    pub fn check() -> Options<'static> {
        Options { mode: Mode::Check, force: false, progress: &|_| {} }
    }
}

/// What a run (or a check) produced.
pub struct RunReport {
    /// Derived from the inputs' and configuration's hashes (see `io::inputs::run_id`).
    pub run_id: String,
    /// The published run folder: the new one, or the earlier one when `unchanged`; `None` for
    /// a check.
    pub run_dir: Option<PathBuf>,
    /// A run with this id was already published: nothing was read, computed or written.
    pub unchanged: bool,
    /// `None` only when `unchanged`.
    pub manifest: Option<Manifest>,
    /// 0, or 1 when a quality gate failed (for an unchanged run: the published run's code).
    pub exit_code: i32,
    /// What a run would write, relative to its run folder (for a check).
    pub planned_outputs: Vec<String>,
}

/// Runs a pipeline. In [`Mode::Check`] every stage runs but nothing is written.
pub fn run(p: &Pipeline, opts: &Options<'_>) -> Result<RunReport, Error> {
    let started = chrono::Utc::now();
    let mut timings = Timings::default();
    let progress = opts.progress;

    // 1. Lock the output folder, find and hash every input, name the run. A run of the same
    //    inputs and configuration that is already published is not run again.
    let publishes = matches!(opts.mode, Mode::Run | Mode::Merge(_));
    let mut run_dir = if publishes { Some(RunDir::lock(&p.output_dir, &p.name)?) } else { None };
    progress("hashing inputs");
    // A partial run hashes the grid layers and its own case files; a merge takes the case
    // files' hashes from the states, which it reads and checks here.
    let (mut inputs, chosen) = match &opts.mode {
        Mode::Partial(part) => {
            let mut listed = io::inputs::find_hashing(p, |f| f.kind == "grids")?;
            let chosen = partial::chosen_files(p, &listed, &part.group)?;
            let mine: std::collections::BTreeSet<PathBuf> =
                chosen.iter().zip(&listed.sources).flat_map(|(fs, all)| fs.iter().map(|&f| all[f].clone())).collect();
            io::inputs::hash_more(&mut listed, |f| f.kind == "cases" && mine.contains(&f.path))?;
            (listed, Some(chosen))
        }
        Mode::Merge(_) => (io::inputs::find_hashing(p, |f| f.kind != "cases")?, None),
        _ => (io::inputs::find(p)?, None),
    };
    let config_id = io::inputs::config_id(p, &inputs);
    let mut states: Vec<(PathBuf, crate::vocab::state::State)> = Vec::new();
    if let Mode::Merge(dirs) = &opts.mode {
        for d in dirs {
            states.push((d.clone(), io::state::read_state(d, 1 + p.networks.len())?));
        }
        partial::check_states(p, &mut inputs, &config_id, &states)?;
    }
    let inputs = inputs;
    let run_id = io::inputs::run_id(p, &inputs);
    if let Some(dir) = &mut run_dir {
        if let Some(done) = dir.published(&run_id).filter(|_| !opts.force) {
            let exit_code = manifest::published_exit_code(&done.join("manifest.json"));
            let run_dir = Some(done);
            return Ok(RunReport { run_id, run_dir, unchanged: true, manifest: None, exit_code, planned_outputs: Vec::new() });
        }
        dir.start(&run_id)?;
    }
    timings.lap(Stage::HashInputs);
    interrupt::check()?;

    // 2. The grids, their hierarchy and the join index. Skipped grids open the quarantine.
    progress("reading grids");
    let layer = io::grids::read_grids(&p.grids)?;
    let h = Hierarchy::build(&layer);
    let net_layers = networks::read_layers(p)?;
    let calendar = std::sync::Arc::new(io::calendar::read_calendar(p)?);
    // A partial run's quarantine files go into its state folder, written under a temporary
    // name until the state is complete.
    let state_tmp = match &opts.mode {
        Mode::Partial(part) => Some(crate::outputs::state::begin(&part.dir)?),
        _ => None,
    };
    let quarantine_dir = run_dir.as_ref().map(|d| d.path.clone()).or_else(|| state_tmp.clone());
    let files = match &quarantine_dir {
        Some(d) => Some((
            RejectsFile::create(&d.join("rejects.csv"), &p.base_dir())?,
            IssuesFile::create(&d.join("field_issues.csv"), &p.base_dir())?,
        )),
        None => None,
    };
    let mut s = Stream::new(p, files);
    // The grids' quarantine rows are the merge's to write, once.
    if state_tmp.is_none() {
        s.quarantine_grids("grids", &layer)?;
        for (n, l) in p.networks.iter().zip(&net_layers) {
            s.quarantine_grids(&format!("grids:{}", n.name), l)?;
        }
    }
    timings.lap(Stage::ReadGrids);
    let index = GridIndex::new(layer.geometries());
    timings.lap(Stage::JoinIndex);
    interrupt::check()?;

    // 3. Every record source, batch by batch: read → check → locate → tally. A batch is
    //    dropped once counted: nothing of it is kept but sums (and the values exact
    //    quantiles need). Every unreadable source is reported at once, at the end.
    progress("reading, placing and counting records");
    let names = stream::name_index(p, &h)?;
    let ctx = stream::check_context(p, &h, &layer, &calendar, names.as_ref());
    let rows_hint = match &opts.mode {
        Mode::Merge(_) => states.iter().flat_map(|(_, st)| &st.header.sources).flat_map(|s| &s.files).map(|f| f.rows).sum(),
        _ => stream::case_rows_hint(p, &inputs),
    };
    let dims_mapped = stream::case_dims_mapped(p);
    let mut tallies = Tallies::new(p, &h, calendar.clone(), rows_hint, dims_mapped);
    let mut nets: Vec<networks::Network<'_>> = net_layers
        .iter()
        .enumerate()
        .map(|(i, l)| networks::Network::new(p, i, l, |nh| Tallies::new(p, nh, calendar.clone(), rows_hint, dims_mapped)))
        .collect();
    let mut dicts = Dictionaries::new(indicators::DIMENSIONS.len());
    let mut read_errors: Vec<ReadError> = Vec::new();
    // Per case source a partial run read: its ids (for the merge's check across states).
    let mut ids: Vec<(usize, crate::vocab::state::IdsState)> = Vec::new();
    let dim_maps: Vec<Vec<Vec<u32>>> = states.iter().map(|(_, st)| partial::dim_map(st, &mut dicts)).collect();
    for (si, src) in p.sources.iter().enumerate() {
        let is_cases = src.kind == "cases";
        if let (Mode::Merge(_), true) = (&opts.mode, is_cases) {
            let assignments = partial::rows_of(&mut states, si, |st| &mut st.assignments);
            let parts: Vec<(&Path, &crate::vocab::state::SourceState)> = states
                .iter()
                .flat_map(|(d, st)| st.header.sources.iter().filter(|x| x.index == si).map(move |x| (d.as_path(), x)))
                .collect();
            let overdue = states
                .iter()
                .zip(&dim_maps)
                .map(|((_, st), m)| (st.header.overdue.iter().filter(|r| r.source as usize == si).cloned().collect(), m.as_slice()))
                .collect();
            s.absorb_source(si, inputs.sources[si].len(), &parts, assignments, overdue)?;
            continue;
        }
        let all_files = &inputs.sources[si];
        let picked: Vec<PathBuf>;
        let files: &[PathBuf] = match &chosen {
            // A partial run reads its share of the case files, and no other source.
            Some(_) if !is_cases => continue,
            Some(ch) if ch[si].is_empty() => continue,
            Some(ch) => {
                s.read_some(si, ch[si].clone());
                picked = ch[si].iter().map(|&f| all_files[f].clone()).collect();
                &picked
            }
            None => all_files,
        };
        let source = (|| -> Result<(), Error> {
            let mut reader = SourceReader::open(src, files)?;
            let mut checker = Checker::new(src, files, &ctx, reader.rows_hint());
            while let Some(batch) = reader.next_batch()? {
                let rows = checker.check(&batch, &mut s.quarantine, &mut dicts);
                let placed = s.locate(&index, p.boundary_rule, &rows);
                checker.reject_unplaced(&batch, &placed, &mut s.quarantine);
                s.tally(si, &batch, &rows, &placed, &mut tallies, &checker);
                let file = s.global_file(si, batch.file);
                let cases = is_cases.then_some((si as u32, file as u32, batch.first_row));
                for n in nets.iter_mut() {
                    n.add(&h, p.boundary_rule, &rows, &placed, cases, |i| checker.key(&batch, i));
                }
                s.end_batch(si, file)?;
            }
            s.end_source(si, reader.rows_per_file(), &checker);
            if chosen.is_some() {
                ids.push((si, checker.ids_state()));
            }
            Ok(())
        })();
        match source {
            Err(Error::Read(e)) => read_errors.push(e),
            other => other?,
        }
    }
    if !read_errors.is_empty() {
        return Err(if read_errors.len() == 1 {
            read_errors.remove(0).into()
        } else {
            ReadError::Several { errors: read_errors.iter().map(|e| e.to_string()).collect() }.into()
        });
    }
    // A partial run ends here: its state, in place of the outputs.
    if let (Mode::Partial(part), Some(tmp)) = (&opts.mode, &state_tmp) {
        s.finish_timings(&mut timings);
        let written = write_state(p, &inputs, &config_id, s, tallies, nets, &dicts, ids, tmp, &part.dir)?;
        return Ok(RunReport {
            run_id: config_id,
            run_dir: Some(part.dir.clone()),
            unchanged: !written,
            manifest: None,
            exit_code: 0,
            planned_outputs: Vec::new(),
        });
    }
    // A merge adds the states' sums (their order does not matter: sums and unordered values).
    let mut differs: Vec<Vec<crate::vocab::state::PlacedRow>> = vec![Vec::new(); nets.len()];
    for ((dir, st), map) in states.into_iter().zip(&dim_maps) {
        let bad = |m: String| ReadError::State { path: dir.clone(), message: format!("cannot merge: {m}") };
        let mut t = st.tallies.into_iter();
        tallies.absorb_cases(t.next().unwrap_or_default(), map).map_err(bad)?;
        s.absorb_join(st.header.join.first().copied().unwrap_or_default());
        for (k, (n, t)) in nets.iter_mut().zip(t).enumerate() {
            let join = st.header.join.get(k + 1).copied().unwrap_or_default();
            let placed = st.header.networks.get(k).copied().unwrap_or_default();
            n.absorb(t, join, placed, map).map_err(bad)?;
        }
        differs.iter_mut().zip(st.differs).for_each(|(all, d)| all.extend(d));
    }
    for (n, mut d) in nets.iter_mut().zip(differs) {
        // One run meets them source by source, file by file, row by row.
        d.sort_by_key(|r| (r.source, r.file, r.row));
        n.absorb_differs(d).map_err(|m| ReadError::State { path: p.file.clone(), message: format!("cannot merge: {m}") })?;
    }
    let sums = tallies.finish();
    s.finish_timings(&mut timings);
    interrupt::check()?;

    // 4. Indicators for every level, the city, the dimensions and the sign-up projects.
    progress("computing indicators");
    // The service circle: resident points on a lattice, the items each reaches.
    let reach = match (&p.coverage, &sums.facilities) {
        (Some(c), Some(fac)) => {
            let geoms = layer.geometries();
            let points = join::reach::resident_points(&index, &geoms, layer.extent(), c.lattice_m);
            let radii = c.items.iter().map(|it| it.radius_m / c.detour_factor).collect();
            let facilities = join::reach::FacilityIndex::new(fac.points_by_item(c.items.len()), radii);
            Some(join::reach::grid_reach(&points, &facilities, geoms.len()))
        }
        _ => None,
    };
    if reach.is_some() {
        timings.lap(Stage::Coverage);
    }
    let results = indicators::compute(p, &h, &sums, &dicts, reach.as_deref());
    timings.lap(Stage::Indicators);
    // The other grid networks: their tables, the crosswalks, the straddling cells.
    let nets: Vec<networks::Computed<'_>> = nets.into_iter().map(|n| n.compute(p, &dicts)).collect();
    let fusion = (!nets.is_empty()).then(|| {
        let t = std::time::Instant::now();
        let (names, files) = stream::source_files(p, &inputs);
        let names: Vec<&str> = names.iter().map(|s| s.as_str()).collect();
        let f = networks::fuse(&p.grids.name, &layer, &h, &nets, &names, &files);
        (f, t.elapsed().as_secs_f64())
    });
    let fusion = fusion.map(|(f, seconds)| {
        timings.lap(Stage::Networks);
        timings.set(Stage::Crosswalks, seconds);
        f
    });
    interrupt::check()?;

    // 5. Quality gates over the accounts of every source.
    let accounts = s.accounts();
    let gates = gates::quality_gates(p, &accounts);
    let exit_code = if gates.iter().all(|g| g.passed) { 0 } else { 1 };
    let facts = manifest::RunFacts {
        run_id: &run_id,
        started,
        exit_code,
        layer: &layer,
        h: &h,
        inputs: &inputs,
        join: s.join.clone(),
        held: s.held(&index, &sums),
        file_rows: s.file_rows(&layer).into_iter().chain(net_layers.iter().map(|l| l.features_read as u64)).collect(),
    };

    // 6. Outputs into the run folder, the manifest last, then publish by rename.
    let Some(dir) = run_dir else {
        let planned_outputs = write::planned_outputs(p, &results);
        let m = manifest::build(p, &facts, accounts, gates, Vec::new(), &timings)?;
        return Ok(RunReport { run_id, run_dir: None, unchanged: false, manifest: Some(m), exit_code, planned_outputs });
    };
    progress("writing outputs");
    let assignments = s.assignments_frame(p, &h, &inputs);
    let overdue = s.overdue_frame(p, &h, &dicts, &inputs);
    let case_points = s.case_points(p, &h, &inputs);
    let written = write::Inputs {
        p,
        h: &h,
        layer: &layer,
        results: &results,
        accounts: &accounts,
        assignments: assignments.as_ref(),
        case_points: case_points.as_ref(),
        overdue: overdue.as_ref(),
        exit_code,
    };
    let mut outputs = write::write_outputs(&dir, &written, &mut timings)?;
    if let Some(f) = &fusion {
        let outs: Vec<write::NetworkOut<'_>> = nets
            .iter()
            .zip(&f.straddling)
            .map(|(n, st)| write::NetworkOut { name: n.name, h: &n.h, layer: n.layer, results: &n.results, straddling: st })
            .collect();
        outputs.extend(write::write_networks(&dir, p, &outs, &f.tables)?);
    }
    outputs.extend(s.close_rejects(&dir.path)?);
    timings.lap(Stage::OutputsTotal);
    interrupt::check()?;
    let m = manifest::build(p, &facts, accounts, gates, outputs, &timings)?;
    write_manifest(&dir.path.join("manifest.json"), &m)?;
    progress("publishing");
    // A run whose gate failed under `on_fail = "hold"` is kept, but `latest` stays where it is.
    let hold = exit_code != 0 && p.quality.on_fail == crate::config::OnFail::Hold;
    let published = dir.commit(p.outputs.keep_runs, hold)?;
    Ok(RunReport { run_id, run_dir: Some(published), unchanged: false, manifest: Some(m), exit_code, planned_outputs: Vec::new() })
}

/// Writes a partial run's state: the case sums of every network, the case sources' accounts
/// and ids, the assignments, the most overdue cases, the disagreements.
#[allow(clippy::too_many_arguments)]
fn write_state(
    p: &Pipeline,
    inputs: &io::inputs::Inputs,
    config_id: &str,
    mut s: Stream,
    tallies: Tallies,
    nets: Vec<networks::Network<'_>>,
    dicts: &Dictionaries,
    ids: Vec<(usize, crate::vocab::state::IdsState)>,
    tmp: &Path,
    dir: &Path,
) -> Result<bool, Error> {
    use crate::vocab::state::{FORMAT, Header, State, VERSION};
    s.close_rejects(tmp)?;
    let (assignments, overdue, join) = s.state_rows();
    let sources = ids.iter().map(|(si, _)| s.source_state(p, inputs, *si)).collect();
    let mut all = vec![tallies.cases_state()];
    let mut joins = vec![join];
    let mut counts = Vec::new();
    let mut differs = Vec::new();
    for n in nets {
        let (t, j, c, d) = n.into_state();
        all.push(t);
        joins.push(j);
        counts.push(c);
        differs.push(d);
    }
    let header = Header {
        format: FORMAT.into(),
        version: VERSION,
        gridgov: env!("CARGO_PKG_VERSION").into(),
        config: config_id.into(),
        sources,
        dictionaries: dicts.dims.iter().map(|d| d.values.clone()).collect(),
        join: joins,
        networks: counts,
        overdue,
    };
    let st = State { header, tallies: all, assignments, differs, ids: ids.into_iter().map(|(_, i)| i).collect() };
    Ok(crate::outputs::state::finish(tmp, dir, &st)?)
}
