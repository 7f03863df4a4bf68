//! From a batch of checked rows to counted cases: points are located (in parallel), code-located
//! rows already know their units; every case is then added to the tally at its home unit, or
//! goes to the quarantine (`outside_all_grids`, `ambiguous_boundary`).

use std::collections::BTreeMap;
use std::time::Instant;

use super::{BoundaryRule, GridIndex, Located};
use crate::hierarchy::Level;
use crate::indicators::cases::CaseFacts;
use crate::indicators::tally::Tally;
use crate::io::cases::{Location, SourceBatch};
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

/// Locates the points of one batch and counts every case of it.
#[allow(clippy::too_many_arguments)]
pub fn assign_batch(
    index: &GridIndex<'_>,
    rule: BoundaryRule,
    source: usize,
    sb: &SourceBatch<'_, '_>,
    tally: &mut Tally,
    quarantine: &mut Quarantine,
    out: &mut Assignment,
) {
    let (mut lons, mut lats) = (Vec::with_capacity(sb.rows.len()), Vec::with_capacity(sb.rows.len()));
    for (_, r) in &sb.rows {
        if let Location::Point { lon, lat } = r.location {
            lons.push(lon);
            lats.push(lat);
        }
    }
    let clock = Instant::now();
    let located = index.locate_all(&lons, &lats, rule);
    out.seconds += clock.elapsed().as_secs_f64();
    out.points += lons.len() as u64;
    let clock = Instant::now();
    let mut acc = std::mem::take(&mut out.by_source[source]);
    let mut k = 0usize;
    for &(i, r) in &sb.rows {
        let (how, level, unit) = match r.location {
            Location::Point { .. } => {
                let l = located[k];
                k += 1;
                match l {
                    Located::Grid(g) => {
                        out.points_assigned += 1;
                        ("point", Level::Grid, g)
                    }
                    Located::Outside => {
                        quarantine.push(sb.reject(i as usize, "outside_all_grids", "the point lies in no grid's closed area".into()));
                        continue;
                    }
                    Located::Ambiguous => {
                        let detail = "the point lies on a boundary shared by several grids (boundary_rule = reject)";
                        quarantine.push(sb.reject(i as usize, "ambiguous_boundary", detail.into()));
                        continue;
                    }
                }
            }
            Location::ByCode(level, units) => {
                let how = match level {
                    Level::Grid => "grid_code",
                    Level::Community => "community_code",
                    _ => "street_code",
                };
                // A code names a unit of its level, which `units` holds; were it missing, the row
                // would still be accounted for.
                let Some(u) = units[level as usize] else {
                    quarantine.push(sb.reject(i as usize, "no_location", format!("the {} code names no unit", level.as_str())));
                    continue;
                };
                (how, level, u)
            }
        };
        *acc.by.entry(how).or_default() += 1;
        let facts = CaseFacts { received: r.received, closed: r.closed, due: r.due, cancelled: r.cancelled, followup: r.followup };
        let pl = tally.add(tally.home(level, unit), &facts, r.dims);
        acc.in_period += pl.in_period as u64;
        if pl.month.is_some() {
            acc.in_trend_window += 1;
        } else {
            acc.outside_trend_window += 1;
        }
        if let Some(rows) = &mut out.rows {
            rows.push(CaseAssignment {
                source: source as u32,
                file: sb.file,
                row: sb.batch.first_row + i as u64,
                case_id: sb.case_id(i as usize),
                how,
                level,
                unit,
            });
        }
    }
    out.by_source[source] = acc;
    out.count_seconds += clock.elapsed().as_secs_f64();
}
