//! From a batch of checked rows to counted cases: points are located (in parallel), code-located
//! rows already know their units; every case is then added to the tally at its home unit, or
//! goes to the quarantine (`outside_all_grids`, `ambiguous_boundary`).

use rayon::prelude::*;
use std::collections::BTreeMap;
use std::time::Instant;

use super::{BoundaryRule, GridIndex, Located};
use crate::hierarchy::Level;
use crate::indicators::cases::CaseFacts;
use crate::indicators::tally::Tally;
use crate::io::cases::{CaseRow, Checked, Location, SourceBatch};
use crate::quarantine::Quarantine;

/// How a source's assigned rows were located and where they fall in time.
#[derive(Debug, Clone, Default)]
pub struct SourceAssigned {
    /// Assigned rows by how: `point`, `grid_code`, `community_code`, `street_code`.
    pub by: BTreeMap<&'static str, u64>,
    pub in_period: u64,
    pub in_trend_window: u64,
    pub outside_trend_window: u64,
}

/// One row of the optional `case_assignments` table.
#[derive(Debug, Clone)]
pub struct CaseAssignment {
    pub source: u32,
    pub file: u32,
    pub row: u64,
    pub case_id: String,
    pub how: &'static str,
    /// The unit the case counts in at its own level (a grid, or the community or street its
    /// code names).
    pub level: Level,
    pub unit: u32,
}

/// The join of a run: per-source accounts, point-location totals and, when the pipeline asks
/// for them, one row per assigned case.
#[derive(Debug, Default)]
pub struct Assignment {
    pub by_source: Vec<SourceAssigned>,
    /// Points located, points that landed in a grid, and the seconds point location took.
    pub points: u64,
    pub points_assigned: u64,
    pub seconds: f64,
    /// Seconds spent adding cases to the tally.
    pub count_seconds: f64,
    pub rows: Option<Vec<CaseAssignment>>,
}

impl Assignment {
    pub fn new(sources: usize, keep_rows: bool) -> Assignment {
        Assignment { by_source: vec![SourceAssigned::default(); sources], rows: keep_rows.then(Vec::new), ..Default::default() }
    }
}

/// Locates the points of one batch and counts every case of it. The batch's rows are cut
/// into one contiguous range per tally of `tallies` (one per thread), counted in parallel;
/// quarantine rows and assignment rows are collected per range and kept in row order.
#[allow(clippy::too_many_arguments)]
pub fn assign_batch(
    index: &GridIndex<'_>,
    rule: BoundaryRule,
    source: usize,
    sb: &SourceBatch<'_, '_>,
    tallies: &mut [Tally],
    quarantine: &mut Quarantine,
    out: &mut Assignment,
) {
    let (mut lons, mut lats) = (Vec::with_capacity(sb.rows.len()), Vec::with_capacity(sb.rows.len()));
    for c in sb.rows {
        if let Checked::Ok(CaseRow { location: Location::Point { lon, lat }, .. }, _) = c {
            lons.push(*lon);
            lats.push(*lat);
        }
    }
    let clock = Instant::now();
    let located = index.locate_all(&lons, &lats, rule);
    out.seconds += clock.elapsed().as_secs_f64();
    out.points += lons.len() as u64;
    let clock = Instant::now();
    // Where each range's points start in `located`.
    let n = sb.rows.len();
    let per = n.div_ceil(tallies.len().max(1)).max(1);
    let mut point_start = Vec::with_capacity(tallies.len());
    let mut k = 0usize;
    for (i, c) in sb.rows.iter().enumerate() {
        if i % per == 0 {
            point_start.push(k);
        }
        k += matches!(c, Checked::Ok(CaseRow { location: Location::Point { .. }, .. }, _)) as usize;
    }
    let keep_rows = out.rows.is_some();
    let parts: Vec<Part> = tallies
        .par_iter_mut()
        .zip(point_start)
        .enumerate()
        .map(|(t, (tally, k))| count_range(sb, source, t * per..((t + 1) * per).min(n), &located[k..], tally, keep_rows))
        .collect();
    let acc = &mut out.by_source[source];
    for p in parts {
        for (how, c) in p.by {
            *acc.by.entry(how).or_default() += c;
        }
        acc.in_period += p.in_period;
        acc.in_trend_window += p.in_window;
        acc.outside_trend_window += p.outside_window;
        out.points_assigned += p.points_assigned;
        quarantine.extend(p.rejects);
        if let Some(rows) = &mut out.rows {
            rows.extend(p.rows);
        }
    }
    out.count_seconds += clock.elapsed().as_secs_f64();
}

/// What counting one range of a batch gives besides the tally's sums.
#[derive(Default)]
struct Part {
    by: BTreeMap<&'static str, u64>,
    in_period: u64,
    in_window: u64,
    outside_window: u64,
    points_assigned: u64,
    rejects: Vec<crate::quarantine::Reject>,
    rows: Vec<CaseAssignment>,
}

/// Counts the rows `range` of a batch; `located` starts at the range's first point.
fn count_range(
    sb: &SourceBatch<'_, '_>,
    source: usize,
    range: std::ops::Range<usize>,
    located: &[Located],
    tally: &mut Tally,
    keep_rows: bool,
) -> Part {
    let mut p = Part::default();
    let mut k = 0usize;
    for i in range {
        let Checked::Ok(r, _) = &sb.rows[i] else { continue };
        let (how, level, unit) = match r.location {
            Location::Point { .. } => {
                let l = located[k];
                k += 1;
                match l {
                    Located::Grid(g) => {
                        p.points_assigned += 1;
                        ("point", Level::Grid, g)
                    }
                    Located::Outside => {
                        p.rejects.push(sb.reject(i, "outside_all_grids", "the point lies in no grid's closed area".into()));
                        continue;
                    }
                    Located::Ambiguous => {
                        let detail = "the point lies on a boundary shared by several grids (boundary_rule = reject)";
                        p.rejects.push(sb.reject(i, "ambiguous_boundary", detail.into()));
                        continue;
                    }
                }
            }
            Location::ByCode(level, u) => {
                let how = match level {
                    Level::Grid => "grid_code",
                    Level::Community => "community_code",
                    _ => "street_code",
                };
                (how, level, u)
            }
        };
        *p.by.entry(how).or_default() += 1;
        let facts = CaseFacts { received: r.received, closed: r.closed, due: r.due, cancelled: r.cancelled, followup: r.followup };
        let pl = tally.add(tally.home(level, unit), &facts, r.dims);
        p.in_period += pl.in_period as u64;
        if pl.month.is_some() {
            p.in_window += 1;
        } else {
            p.outside_window += 1;
        }
        if keep_rows {
            p.rows.push(CaseAssignment {
                source: source as u32,
                file: sb.file,
                row: sb.batch.first_row + i as u64,
                case_id: sb.case_id(i),
                how,
                level,
                unit,
            });
        }
    }
    p
}
