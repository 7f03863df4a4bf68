//! `gridgov synth demo`: a synthetic but realistic Beijing demo data set built on the real
//! district polygons, streets and communities (see data/README.md for what is in it).
//!
//! Everything is deterministic for a given seed: every random decision draws from a seeded
//! `ChaCha8Rng` stream of its own, nothing is written by iterating a hash map, and the same seed
//! gives byte-identical files.

mod admin;
pub mod bench;
mod cases;
mod facilities;
mod grids_out;
mod members;
mod networks;
mod orders;
mod records;
mod reference;
mod signups;
mod tiling;
mod util;
mod whistles;

#[cfg(test)]
mod tests;

use std::path::PathBuf;

use chrono::NaiveDate;

pub use records::Defect;

/// What `write_demo` needs.
pub struct DemoOptions {
    /// Directory with districts_gcj02.geojson, streets.csv and communities.csv.
    pub reference_dir: PathBuf,
    /// Directory the demo files are written to (created if missing).
    pub out_dir: PathBuf,
    pub seed: u64,
    /// Total case rows over the three case files (bad rows included).
    pub cases: usize,
    /// District codes to build the city from; empty for all of them.
    pub districts: Vec<String>,
}

/// What `write_demo` wrote.
pub struct DemoSummary {
    pub grids: usize,
    /// Each file with its number of rows (CSV/Parquet, header excluded) or features (GeoJSON).
    pub files: Vec<(PathBuf, usize)>,
}

/// `DemoSummary` plus the numbers data/README.md quotes.
pub struct DemoReport {
    pub summary: DemoSummary,
    /// (district code, district name, grids).
    pub grids_per_district: Vec<(String, String, usize)>,
    pub multipolygon_grids: usize,
    pub grids_with_holes: usize,
    pub slivers_merged: usize,
    /// (file name, defect, rows) in a fixed order.
    pub defects: Vec<(String, String, usize)>,
}

#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path}: {msg}")]
    Reference { path: PathBuf, msg: String },
    #[error("cannot build the grid layer (district {district}): {msg}")]
    Tiling { district: String, msg: String },
    #[error("cannot write {path}: {source}")]
    Parquet { path: PathBuf, source: polars::error::PolarsError },
    #[error("cannot write {path}: {source}")]
    Csv { path: PathBuf, source: csv::Error },
}

/// First day of the 12 months of cases (Beijing local time, as all timestamps here).
pub(crate) const PERIOD_START: NaiveDate = const_date(2025, 11, 1);
/// 2025-11-01 .. 2026-10-31.
pub(crate) const PERIOD_DAYS: usize = 365;
/// The export date: nothing closes after it; the reporting month is 2026-10.
pub(crate) const AS_OF: NaiveDate = const_date(2026, 11, 5);

const fn const_date(y: i32, m: u32, d: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(y, m, d) {
        Some(d) => d,
        None => panic!("invalid constant date"),
    }
}

pub const GRIDS_FILE: &str = "beijing_grids.geojson";
pub const HOTLINE_FILE: &str = "cases_12345.parquet";
pub const APP_FILE: &str = "cases_app.csv";
pub const INSPECTOR_FILE: &str = "cases_inspector.csv";
pub const SIGNUPS_FILE: &str = "signups.csv";
pub const WHISTLES_FILE: &str = "whistles.csv";
pub const ORDERS_FILE: &str = "service_orders.csv";
pub const ROSTER_FILE: &str = "member_roster.csv";
pub const ACTIVITIES_FILE: &str = "member_activities.csv";
pub const FACILITIES_FILE: &str = "facilities.csv";
pub const CITYOPS_FILE: &str = "network_cityops.geojson";
pub const SOCIAL_FILE: &str = "network_social.geojson";

/// Writes the demo data set; see `write_demo_report` for the details it also computes.
pub fn write_demo(opts: &DemoOptions) -> Result<DemoSummary, SynthError> {
    write_demo_report(opts).map(|r| r.summary)
}

/// Same as `write_demo`, returning the counts that data/README.md documents.
pub fn write_demo_report(opts: &DemoOptions) -> Result<DemoReport, SynthError> {
    let reference = reference::load(&opts.reference_dir, &opts.districts)?;
    let tiling = tiling::tile(&reference, opts.seed)?;
    let grids = admin::assign(&reference, &tiling, opts.seed)?;
    std::fs::create_dir_all(&opts.out_dir).map_err(|source| SynthError::Write { path: opts.out_dir.clone(), source })?;
    let mut files = Vec::new();

    let path = opts.out_dir.join(GRIDS_FILE);
    let n = grids_out::write(&path, "beijing_grids", &grids, &reference)?;
    files.push((path, n));
    // Two more grid networks over the same city, drawn by other offices (多网融合).
    for (file, name, cells) in [
        (CITYOPS_FILE, "network_cityops", networks::city_ops(&grids, &reference)),
        (SOCIAL_FILE, "network_social", networks::social(&grids, &reference)),
    ] {
        let path = opts.out_dir.join(file);
        let n = grids_out::write(&path, name, &cells, &reference)?;
        files.push((path, n));
    }

    // 80 % hotline, 10 % app, 10 % inspectors (a hotline row costs a sixth of a CSV row's bytes
    // and carries the follow-up); the hotline takes the rounding remainder so the three files
    // always add up to `cases`.
    let n_app = (opts.cases as f64 * 0.10).round() as usize;
    let n_inspector = (opts.cases as f64 * 0.10).round() as usize;
    let n_hotline = opts.cases.saturating_sub(n_app + n_inspector);
    let world = cases::World::new(&reference, &grids, opts.seed);
    let mut defects = Vec::new();
    let writers: [(&str, usize, records::Writer); 3] = [
        (HOTLINE_FILE, n_hotline, records::write_hotline),
        (APP_FILE, n_app, records::write_app),
        (INSPECTOR_FILE, n_inspector, records::write_inspector),
    ];
    for (name, n, write) in writers {
        let path = opts.out_dir.join(name);
        let (rows, tally) = write(&path, &world, n, opts.seed)?;
        for (d, c) in tally {
            defects.push((name.to_owned(), d.label().to_owned(), c));
        }
        files.push((path, rows));
    }

    let path = opts.out_dir.join(SIGNUPS_FILE);
    let s = signups::write(&path, &reference, &grids, opts.seed)?;
    defects.push((SIGNUPS_FILE.to_owned(), "grid code that does not exist".to_owned(), s.unknown_grid));
    defects.push((SIGNUPS_FILE.to_owned(), "unparseable signed_date".to_owned(), s.bad_date));
    files.push((path, s.rows));

    let path = opts.out_dir.join(WHISTLES_FILE);
    let w = whistles::write(&path, &world, opts.seed)?;
    defects.push((WHISTLES_FILE.to_owned(), "empty department".to_owned(), w.missing_department));
    defects.push((WHISTLES_FILE.to_owned(), "summons repeated (same whistle and department)".to_owned(), w.duplicate));
    defects.push((WHISTLES_FILE.to_owned(), "unreadable whistle time".to_owned(), w.bad_time));
    defects.push((WHISTLES_FILE.to_owned(), "report-in time before the summons".to_owned(), w.report_before_summons));
    files.push((path, w.rows));

    let path = opts.out_dir.join(ORDERS_FILE);
    let o = orders::write(&path, &world, opts.seed)?;
    defects.push((ORDERS_FILE.to_owned(), "empty order id".to_owned(), o.missing_id));
    defects.push((ORDERS_FILE.to_owned(), "row repeated".to_owned(), o.duplicate));
    defects.push((ORDERS_FILE.to_owned(), "unreadable order time".to_owned(), o.bad_time));
    defects.push((ORDERS_FILE.to_owned(), "acceptance before the dispatch".to_owned(), o.accepted_before_dispatch));
    files.push((path, o.rows));

    let (roster, log) = (opts.out_dir.join(ROSTER_FILE), opts.out_dir.join(ACTIVITIES_FILE));
    let m = members::write(&roster, &log, &world, opts.seed)?;
    defects.push((ROSTER_FILE.to_owned(), "empty member id".to_owned(), m.missing_id));
    defects.push((ROSTER_FILE.to_owned(), "member listed twice".to_owned(), m.duplicate_member));
    defects.push((ACTIVITIES_FILE.to_owned(), "activity entered twice".to_owned(), m.duplicate_activity));
    defects.push((ACTIVITIES_FILE.to_owned(), "unreadable date".to_owned(), m.bad_date));
    defects.push((ACTIVITIES_FILE.to_owned(), "member on no roster".to_owned(), m.unknown_member));
    files.push((roster, m.roster_rows));
    files.push((log, m.activity_rows));

    let path = opts.out_dir.join(FACILITIES_FILE);
    let f = facilities::write(&path, &world, opts.seed)?;
    defects.push((FACILITIES_FILE.to_owned(), "empty category".to_owned(), f.missing_category));
    defects.push((FACILITIES_FILE.to_owned(), "facility listed twice".to_owned(), f.duplicate));
    defects.push((FACILITIES_FILE.to_owned(), "no coordinates".to_owned(), f.no_point));
    defects.push((FACILITIES_FILE.to_owned(), "point in another city".to_owned(), f.outside));
    files.push((path, f.rows));

    let grids_per_district = reference
        .districts
        .iter()
        .enumerate()
        .map(|(d, dist)| (dist.code.clone(), dist.name.clone(), grids.iter().filter(|g| g.district == d).count()))
        .collect();
    Ok(DemoReport {
        summary: DemoSummary { grids: grids.len(), files },
        grids_per_district,
        multipolygon_grids: grids.iter().filter(|g| g.shape.0.len() > 1).count(),
        grids_with_holes: grids.iter().filter(|g| g.shape.0.iter().any(|p| !p.interiors().is_empty())).count(),
        slivers_merged: tiling.slivers_merged,
        defects,
    })
}
