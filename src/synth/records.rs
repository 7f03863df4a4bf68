//! The three case files, each in its own export format, with deliberate bad rows.
//!
//! Every defect is put on a different row (a row carries at most one defect, and duplicates copy
//! clean rows), so the counts in data/README.md are exact counts of rows a correct pipeline must
//! flag or drop, by reason.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::path::Path;

use chrono::{NaiveDateTime, TimeDelta};
use polars::prelude::*;
use rand::Rng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use super::SynthError;
use super::cases::{CATEGORIES, CHANNELS, Case, Outcome, Satisfaction, World};
use super::util::{rng_for, round6};
use crate::vocab::crs;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Defect {
    /// No coordinates and no administrative code at all.
    NoLocation,
    ClosedBeforeReceived,
    /// An extra, exact copy of another row (same id).
    Duplicate,
    SwappedLatLon,
    /// Coordinates that do not parse ("abc") or are NaN.
    BadCoordinates,
    /// (0, 0) or a point in Shanghai.
    FarOutside,
    /// Received time that does not parse.
    BadTimestamp,
    MissingId,
    /// A well-formed grid code that no grid has.
    UnknownGrid,
    /// The export's fallback point (the city government at 正义路), not the real place.
    DefaultLocation,
}

impl Defect {
    pub fn label(self) -> &'static str {
        match self {
            Defect::NoLocation => "no coordinates and no codes",
            Defect::ClosedBeforeReceived => "closed before received",
            Defect::Duplicate => "exact duplicate row (same id)",
            Defect::SwappedLatLon => "swapped lat/lon",
            Defect::BadCoordinates => "unparseable coordinates",
            Defect::FarOutside => "point far outside Beijing",
            Defect::BadTimestamp => "unparseable received time",
            Defect::MissingId => "missing id",
            Defect::UnknownGrid => "grid code that does not exist",
            Defect::DefaultLocation => "default location (city hall 116.407526, 39.904030)",
        }
    }
}

/// Share of a file's rows per defect.
const HOTLINE_DEFECTS: &[(Defect, f64)] = &[
    (Defect::NoLocation, 0.008),
    (Defect::ClosedBeforeReceived, 0.004),
    (Defect::Duplicate, 0.005),
    (Defect::SwappedLatLon, 0.003),
    (Defect::BadCoordinates, 0.002),
    (Defect::FarOutside, 0.002),
    (Defect::BadTimestamp, 0.002),
    (Defect::MissingId, 0.002),
    (Defect::UnknownGrid, 0.003),
    (Defect::DefaultLocation, 0.002),
];
const APP_DEFECTS: &[(Defect, f64)] = &[
    (Defect::NoLocation, 0.006),
    (Defect::ClosedBeforeReceived, 0.004),
    (Defect::Duplicate, 0.006),
    (Defect::SwappedLatLon, 0.004),
    (Defect::BadCoordinates, 0.004),
    (Defect::FarOutside, 0.003),
    (Defect::BadTimestamp, 0.003),
    (Defect::MissingId, 0.002),
];
const INSPECTOR_DEFECTS: &[(Defect, f64)] = &[
    (Defect::NoLocation, 0.005),
    (Defect::ClosedBeforeReceived, 0.004),
    (Defect::Duplicate, 0.005),
    (Defect::SwappedLatLon, 0.003),
    (Defect::BadCoordinates, 0.003),
    (Defect::FarOutside, 0.002),
    (Defect::BadTimestamp, 0.003),
    (Defect::MissingId, 0.002),
    (Defect::UnknownGrid, 0.005),
];

/// Shanghai People's Square: a plausible wrong city.
const SHANGHAI: (f64, f64) = (121.473701, 31.230416);
/// Where hotline exports put cases they could not geocode (pipelines/demo.toml suspect_points).
const CITY_HALL: (f64, f64) = (116.407526, 39.904030);

/// Rows per defect for a file of `n` rows: at least one of each once the file is big enough to
/// make the test data meaningful.
fn defect_counts(n: usize, plan: &[(Defect, f64)]) -> Vec<(Defect, usize)> {
    plan.iter()
        .map(|&(d, rate)| {
            let c = (rate * n as f64).round() as usize;
            (d, if n >= 100 { c.max(1) } else { c })
        })
        .collect()
}

/// Chooses the rows that carry each defect. Returns the defect of each base row and the base rows
/// to duplicate.
fn assign_defects(cases: &[Case], counts: &[(Defect, usize)], rng: &mut ChaCha8Rng) -> (Vec<Option<Defect>>, Vec<usize>) {
    let mut order: Vec<usize> = (0..cases.len()).collect();
    order.shuffle(rng);
    let mut defect: Vec<Option<Defect>> = vec![None; cases.len()];
    let mut dup_sources = Vec::new();
    for &(d, count) in counts {
        let mut taken = 0;
        for &i in &order {
            if taken == count {
                break;
            }
            let eligible = defect[i].is_none()
                && !dup_sources.contains(&i)
                && match d {
                    Defect::ClosedBeforeReceived => matches!(cases[i].outcome, Outcome::Closed(_)),
                    _ => true,
                };
            if eligible {
                if d == Defect::Duplicate {
                    dup_sources.push(i);
                } else {
                    defect[i] = Some(d);
                }
                taken += 1;
            }
        }
    }
    dup_sources.sort_unstable();
    (defect, dup_sources)
}

/// Signature shared by the three case writers: (path, world, rows, seed) -> (rows, defects).
pub(crate) type Writer = fn(&Path, &World, usize, u64) -> Result<(usize, DefectTally), SynthError>;

/// Defect counts actually written, per file, in a fixed order.
pub type DefectTally = BTreeMap<Defect, usize>;

fn tally(defects: &[Option<Defect>], dups: &[usize]) -> DefectTally {
    let mut t = DefectTally::new();
    for d in defects.iter().flatten() {
        *t.entry(*d).or_insert(0) += 1;
    }
    if !dups.is_empty() {
        t.insert(Defect::Duplicate, dups.len());
    }
    t
}

/// Per-day sequence numbers in received order: "GD" + date + 0001...
fn daily_ids(prefix: &str, cases: &[Case]) -> Vec<String> {
    let mut out = Vec::with_capacity(cases.len());
    let mut current = None;
    let mut seq = 0;
    for c in cases {
        let d = c.received.date();
        if current != Some(d) {
            current = Some(d);
            seq = 0;
        }
        seq += 1;
        out.push(format!("{prefix}{}{seq:04}", d.format("%Y%m%d")));
    }
    out
}

fn unknown_grid_code(world: &World, c: &Case, rng: &mut ChaCha8Rng, existing: &HashSet<&str>) -> String {
    let comm = &world.reference.communities[world.grids[c.grid].community].code;
    // Sequence 9xx: no community here has more than a few dozen grids.
    loop {
        let code = format!("{comm}{}", rng.random_range(900..1000));
        if !existing.contains(code.as_str()) {
            return code;
        }
    }
}

/// Splits base rows and their duplicates back into one list, each copy right after its original
/// (a double submission).
fn with_duplicates<T: Clone>(rows: Vec<T>, dups: &[usize]) -> Vec<T> {
    let mut out = Vec::with_capacity(rows.len() + dups.len());
    let mut d = dups.iter().peekable();
    for (i, r) in rows.into_iter().enumerate() {
        out.push(r.clone());
        while d.peek() == Some(&&i) {
            out.push(r.clone());
            d.next();
        }
    }
    out
}

fn closed_before(c: &Case, rng: &mut ChaCha8Rng) -> NaiveDateTime {
    c.received - TimeDelta::minutes(rng.random_range(60..48 * 60))
}

// ---------------------------------------------------------------------------------------------
// 12345 hotline (Parquet)

#[derive(Clone)]
struct HotlineRow {
    id: Option<String>,
    received: Option<String>,
    closed: Option<String>,
    due: Option<String>,
    status: &'static str,
    channel: &'static str,
    category: &'static str,
    subcategory: &'static str,
    department: String,
    lon: Option<f64>,
    lat: Option<f64>,
    grid: Option<String>,
    community: Option<String>,
    street: Option<String>,
    valid: Option<&'static str>,
    contacted: Option<&'static str>,
    resolved: Option<&'static str>,
    satisfaction: Option<&'static str>,
}

const HOTLINE_TS: &str = "%Y-%m-%d %H:%M:%S";
const HOTLINE_BAD_TS: [&str; 4] = ["2026-02-30 09:12:00", "待补录", "2026-13-05 10:00:00", "2026-04-31 25:61:00"];

fn yes_no(b: bool) -> &'static str {
    if b { "是" } else { "否" }
}

pub(crate) fn write_hotline(path: &Path, world: &World, n: usize, seed: u64) -> Result<(usize, DefectTally), SynthError> {
    let counts = defect_counts(n, HOTLINE_DEFECTS);
    let n_dup = counts.iter().find(|c| c.0 == Defect::Duplicate).map_or(0, |c| c.1).min(n / 2);
    let cases = super::cases::generate(world, super::cases::Source::Hotline, n - n_dup, seed);
    let mut rng = rng_for(seed, 0x4E01);
    let (defects, dups) = assign_defects(&cases, &counts, &mut rng);
    let ids = daily_ids("GD", &cases);
    let existing: HashSet<&str> = world.grids.iter().map(|g| g.code.as_str()).collect();

    let mut rows = Vec::with_capacity(cases.len());
    for (i, c) in cases.iter().enumerate() {
        let g = &world.grids[c.grid];
        let grid_code = g.code.clone();
        let comm_code = world.reference.communities[g.community].code.clone();
        let street_code = world.reference.streets[g.street].code.clone();
        // Real 12345 exports locate a quarter of the cases only by administrative unit.
        let (lon, lat, grid, community, street) = if rng.random::<f64>() < 0.25 {
            if rng.random::<f64>() < 0.6 {
                (None, None, None, Some(comm_code), Some(street_code))
            } else {
                (None, None, None, None, Some(street_code))
            }
        } else {
            let grid = (rng.random::<f64>() < 0.55).then_some(grid_code);
            let community = (rng.random::<f64>() < 0.85).then_some(comm_code);
            (Some(c.lon), Some(c.lat), grid, community, Some(street_code))
        };
        let (status, closed) = match c.outcome {
            Outcome::Closed(t) => ("已办结", Some(t.format(HOTLINE_TS).to_string())),
            Outcome::Open => ("办理中", None),
            Outcome::Cancelled => ("已撤销", None),
        };
        let f = c.followup;
        let answered = f.filter(|f| f.valid);
        let cat = &CATEGORIES[c.cat];
        let mut row = HotlineRow {
            id: Some(ids[i].clone()),
            received: Some(c.received.format(HOTLINE_TS).to_string()),
            closed,
            due: Some(c.due.format(HOTLINE_TS).to_string()),
            status,
            channel: CHANNELS[c.channel].0,
            category: cat.name,
            subcategory: cat.subs[c.sub].name,
            department: world.department(c.cat, c.grid),
            lon,
            lat,
            grid,
            community,
            street,
            valid: f.map(|f| yes_no(f.valid)),
            contacted: answered.map(|f| yes_no(f.contacted)),
            resolved: answered.map(|f| yes_no(f.resolved)),
            satisfaction: answered.map(|f| match f.satisfaction {
                Satisfaction::Satisfied => "满意",
                Satisfaction::Basic => "基本满意",
                Satisfaction::Unsatisfied => "不满意",
            }),
        };
        match defects[i] {
            None | Some(Defect::Duplicate) => {}
            Some(Defect::NoLocation) => {
                (row.lon, row.lat, row.grid, row.community, row.street) = (None, None, None, None, None);
            }
            Some(Defect::ClosedBeforeReceived) => row.closed = Some(closed_before(c, &mut rng).format(HOTLINE_TS).to_string()),
            Some(Defect::SwappedLatLon) => (row.lon, row.lat) = (Some(c.lat), Some(c.lon)),
            Some(Defect::BadCoordinates) => (row.lon, row.lat) = (Some(f64::NAN), Some(f64::NAN)),
            Some(Defect::FarOutside) => {
                let p = if i % 2 == 0 { (0.0, 0.0) } else { SHANGHAI };
                (row.lon, row.lat) = (Some(p.0), Some(p.1));
            }
            Some(Defect::BadTimestamp) => row.received = Some(HOTLINE_BAD_TS[i % HOTLINE_BAD_TS.len()].to_owned()),
            Some(Defect::MissingId) => row.id = None,
            Some(Defect::UnknownGrid) => row.grid = Some(unknown_grid_code(world, c, &mut rng, &existing)),
            Some(Defect::DefaultLocation) => {
                // The geocoder gave up: no grid code either, only what the caller said.
                (row.lon, row.lat, row.grid) = (Some(CITY_HALL.0), Some(CITY_HALL.1), None);
            }
        }
        rows.push(row);
    }
    let rows = with_duplicates(rows, &dups);

    let col_s = |name: &str, f: &dyn Fn(&HotlineRow) -> Option<String>| Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>());
    let col_f = |name: &str, f: &dyn Fn(&HotlineRow) -> Option<f64>| Column::new(name.into(), rows.iter().map(f).collect::<Vec<_>>());
    let owned = |s: Option<&'static str>| s.map(str::to_owned);
    let columns = vec![
        col_s("工单编号", &|r| r.id.clone()),
        col_s("受理时间", &|r| r.received.clone()),
        col_s("办结时间", &|r| r.closed.clone()),
        col_s("办理时限", &|r| r.due.clone()),
        col_s("工单状态", &|r| Some(r.status.to_owned())),
        col_s("来源渠道", &|r| Some(r.channel.to_owned())),
        col_s("一级分类", &|r| Some(r.category.to_owned())),
        col_s("二级分类", &|r| Some(r.subcategory.to_owned())),
        col_s("承办单位", &|r| Some(r.department.clone())),
        col_f("经度", &|r| r.lon),
        col_f("纬度", &|r| r.lat),
        col_s("网格编码", &|r| r.grid.clone()),
        col_s("社区编码", &|r| r.community.clone()),
        col_s("街道编码", &|r| r.street.clone()),
        col_s("回访有效", &|r| owned(r.valid)),
        col_s("是否联系", &|r| owned(r.contacted)),
        col_s("是否解决", &|r| owned(r.resolved)),
        col_s("满意度", &|r| owned(r.satisfaction)),
    ];
    let perr = |source: PolarsError| SynthError::Parquet { path: path.to_path_buf(), source };
    let mut df = DataFrame::new_infer_height(columns).map_err(perr)?;
    let file = File::create(path).map_err(|source| SynthError::Write { path: path.to_path_buf(), source })?;
    // Level 19: the file is written once and read many times, and it keeps data/ small.
    let level = polars::polars_utils::compression::ZstdLevel::try_new(19).map_err(perr)?;
    ParquetWriter::new(file).with_compression(ParquetCompression::Zstd(Some(level))).finish(&mut df).map_err(perr)?;
    Ok((rows.len(), tally(&defects, &dups)))
}

// ---------------------------------------------------------------------------------------------
// CSV helpers

fn csv_writer(path: &Path) -> Result<csv::Writer<File>, SynthError> {
    let file = File::create(path).map_err(|source| SynthError::Write { path: path.to_path_buf(), source })?;
    Ok(csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(file))
}

fn write_csv(path: &Path, header: &[&str], rows: &[Vec<String>]) -> Result<(), SynthError> {
    let cerr = |source: csv::Error| SynthError::Csv { path: path.to_path_buf(), source };
    let mut w = csv_writer(path)?;
    w.write_record(header).map_err(cerr)?;
    for r in rows {
        w.write_record(r).map_err(cerr)?;
    }
    w.flush().map_err(|source| SynthError::Write { path: path.to_path_buf(), source })
}

fn fmt6(v: f64) -> String {
    format!("{:.6}", round6(v))
}

// ---------------------------------------------------------------------------------------------
// Citizen app "随手拍" (CSV, GCJ-02 points, ISO 8601 timestamps with offset)

const APP_TS: &str = "%Y-%m-%dT%H:%M:%S+08:00";
const APP_BAD_TS: [&str; 3] = ["2026-02-30T09:12:00+08:00", "yesterday 14:07", "0000-00-00T00:00:00+08:00"];
pub(crate) const APP_HEADER: [&str; 13] = [
    "report_id",
    "reported_at",
    "closed_at",
    "due_at",
    "status",
    "category",
    "subcategory",
    "department",
    "lng",
    "lat",
    "contacted",
    "resolved",
    "satisfaction",
];

pub(crate) fn write_app(path: &Path, world: &World, n: usize, seed: u64) -> Result<(usize, DefectTally), SynthError> {
    let counts = defect_counts(n, APP_DEFECTS);
    let n_dup = counts.iter().find(|c| c.0 == Defect::Duplicate).map_or(0, |c| c.1).min(n / 2);
    let cases = super::cases::generate(world, super::cases::Source::App, n - n_dup, seed);
    let mut rng = rng_for(seed, 0x4E02);
    let (defects, dups) = assign_defects(&cases, &counts, &mut rng);
    // App ids are daily sequences too, e.g. SSP202603050001.
    let ids = daily_ids("SSP", &cases);
    let tf = |b: bool| {
        if b { "true".to_owned() } else { "false".to_owned() }
    };

    let mut rows = Vec::with_capacity(cases.len());
    for (i, c) in cases.iter().enumerate() {
        let (glon, glat) = crs::wgs84_to_gcj02(c.lon, c.lat);
        let (status, closed) = match c.outcome {
            Outcome::Closed(t) => ("closed", t.format(APP_TS).to_string()),
            Outcome::Open => ("open", String::new()),
            Outcome::Cancelled => ("cancelled", String::new()),
        };
        let f = c.followup;
        let cat = &CATEGORIES[c.cat];
        let mut row = vec![
            ids[i].clone(),
            c.received.format(APP_TS).to_string(),
            closed,
            c.due.format(APP_TS).to_string(),
            status.to_owned(),
            cat.name.to_owned(),
            cat.subs[c.sub].name.to_owned(),
            world.department(c.cat, c.grid),
            fmt6(glon),
            fmt6(glat),
            f.map(|f| tf(f.contacted)).unwrap_or_default(),
            f.map(|f| tf(f.resolved)).unwrap_or_default(),
            f.map(|f| {
                match f.satisfaction {
                    Satisfaction::Satisfied => "satisfied",
                    Satisfaction::Basic => "basically_satisfied",
                    Satisfaction::Unsatisfied => "unsatisfied",
                }
                .to_owned()
            })
            .unwrap_or_default(),
        ];
        match defects[i] {
            None | Some(Defect::Duplicate) | Some(Defect::UnknownGrid) | Some(Defect::DefaultLocation) => {}
            Some(Defect::NoLocation) => (row[8], row[9]) = (String::new(), String::new()),
            Some(Defect::ClosedBeforeReceived) => row[2] = closed_before(c, &mut rng).format(APP_TS).to_string(),
            Some(Defect::SwappedLatLon) => (row[8], row[9]) = (fmt6(glat), fmt6(glon)),
            Some(Defect::BadCoordinates) => {
                (row[8], row[9]) = if i % 2 == 0 { ("abc".into(), fmt6(glat)) } else { ("NaN".into(), "NaN".into()) }
            }
            Some(Defect::FarOutside) => {
                let (x, y) = if i % 2 == 0 { (0.0, 0.0) } else { crs::wgs84_to_gcj02(SHANGHAI.0, SHANGHAI.1) };
                (row[8], row[9]) = (fmt6(x), fmt6(y));
            }
            Some(Defect::BadTimestamp) => row[1] = APP_BAD_TS[i % APP_BAD_TS.len()].to_owned(),
            Some(Defect::MissingId) => row[0] = String::new(),
        }
        rows.push(row);
    }
    let rows = with_duplicates(rows, &dups);
    write_csv(path, &APP_HEADER, &rows)?;
    Ok((rows.len(), tally(&defects, &dups)))
}

// ---------------------------------------------------------------------------------------------
// Grid inspectors' patrol reports 网格员上报 (CSV, WGS84)

const INSPECTOR_TS: &str = "%Y/%m/%d %H:%M";
const INSPECTOR_BAD_TS: [&str; 3] = ["2026/02/30 09:12", "待定", "2026/13/01 08:00"];
pub(crate) const INSPECTOR_HEADER: [&str; 11] =
    ["案件编号", "上报时间", "结案时间", "处置时限", "案件状态", "大类", "小类", "责任部门", "X", "Y", "所属网格"];

pub(crate) fn write_inspector(path: &Path, world: &World, n: usize, seed: u64) -> Result<(usize, DefectTally), SynthError> {
    let counts = defect_counts(n, INSPECTOR_DEFECTS);
    let n_dup = counts.iter().find(|c| c.0 == Defect::Duplicate).map_or(0, |c| c.1).min(n / 2);
    let cases = super::cases::generate(world, super::cases::Source::Inspector, n - n_dup, seed);
    let mut rng = rng_for(seed, 0x4E03);
    let (defects, dups) = assign_defects(&cases, &counts, &mut rng);
    let ids = daily_ids("WG", &cases);
    let existing: HashSet<&str> = world.grids.iter().map(|g| g.code.as_str()).collect();

    let mut rows = Vec::with_capacity(cases.len());
    for (i, c) in cases.iter().enumerate() {
        let (status, closed) = match c.outcome {
            Outcome::Closed(t) => ("已结案", t.format(INSPECTOR_TS).to_string()),
            Outcome::Open => ("处置中", String::new()),
            Outcome::Cancelled => ("已作废", String::new()),
        };
        let cat = &CATEGORIES[c.cat];
        // Inspectors pick their grid on the handset most of the time.
        let grid = if rng.random::<f64>() < 0.9 { world.grids[c.grid].code.clone() } else { String::new() };
        let mut row = vec![
            ids[i].clone(),
            c.received.format(INSPECTOR_TS).to_string(),
            closed,
            c.due.format(INSPECTOR_TS).to_string(),
            status.to_owned(),
            cat.name.to_owned(),
            cat.subs[c.sub].name.to_owned(),
            world.department(c.cat, c.grid),
            fmt6(c.lon),
            fmt6(c.lat),
            grid,
        ];
        match defects[i] {
            None | Some(Defect::Duplicate) => {}
            Some(Defect::NoLocation) => (row[8], row[9], row[10]) = (String::new(), String::new(), String::new()),
            Some(Defect::ClosedBeforeReceived) => row[2] = closed_before(c, &mut rng).format(INSPECTOR_TS).to_string(),
            Some(Defect::SwappedLatLon) => (row[8], row[9]) = (fmt6(c.lat), fmt6(c.lon)),
            Some(Defect::BadCoordinates) => {
                (row[8], row[9]) = if i % 2 == 0 { ("abc".into(), "abc".into()) } else { ("NaN".into(), fmt6(c.lat)) }
            }
            Some(Defect::FarOutside) => {
                let (x, y) = if i % 2 == 0 { (0.0, 0.0) } else { SHANGHAI };
                (row[8], row[9]) = (fmt6(x), fmt6(y));
            }
            Some(Defect::BadTimestamp) => row[1] = INSPECTOR_BAD_TS[i % INSPECTOR_BAD_TS.len()].to_owned(),
            Some(Defect::MissingId) => row[0] = String::new(),
            Some(Defect::UnknownGrid) => row[10] = unknown_grid_code(world, c, &mut rng, &existing),
            Some(Defect::DefaultLocation) => {}
        }
        rows.push(row);
    }
    let rows = with_duplicates(rows, &dups);
    write_csv(path, &INSPECTOR_HEADER, &rows)?;
    Ok((rows.len(), tally(&defects, &dups)))
}
