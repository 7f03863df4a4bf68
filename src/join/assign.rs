//! From located points and code-located rows to assigned cases: every parsed case either gets
//! its units at every level or goes to the quarantine (`outside_all_grids`,
//! `ambiguous_boundary`).

use std::collections::BTreeMap;
use std::time::Instant;

use super::{GridIndex, Located};
use crate::config::Pipeline;
use crate::hierarchy::{Hierarchy, Level};
use crate::indicators::AssignedCase;
use crate::indicators::cases::CaseFacts;
use crate::io::cases::{Location, SourceCases};
use crate::io::grids::GridLayer;
use crate::quarantine::{Quarantine, Reject};

/// The assigned cases of all case sources, in source order.
pub struct Assignment {
    pub cases: Vec<AssignedCase>,
    /// (source, file, row, how) of every assigned case, for the optional case_assignments table.
    pub from: Vec<(usize, u32, u32, &'static str)>,
    /// Per source: assigned rows by how they were located.
    pub by: Vec<BTreeMap<&'static str, u64>>,
    /// Points located, points that landed in a grid, and the seconds point location took.
    pub points: u64,
    pub points_assigned: u64,
    pub seconds: f64,
}

/// Locates every point (in parallel) and assigns every parsed case.
pub fn assign(p: &Pipeline, h: &Hierarchy, layer: &GridLayer, sources: &[SourceCases], quarantine: &mut Quarantine) -> Assignment {
    let (mut lons, mut lats) = (Vec::new(), Vec::new());
    for sc in sources {
        for l in &sc.cases.location {
            if let Location::Point { lon, lat } = l {
                lons.push(*lon);
                lats.push(*lat);
            }
        }
    }
    let index = GridIndex::new(layer.grids.iter().map(|g| &g.geometry).collect());
    let clock = Instant::now();
    let located = index.locate_all(&lons, &lats, p.boundary_rule);
    let seconds = clock.elapsed().as_secs_f64();
    let mut out =
        Assignment { cases: Vec::new(), from: Vec::new(), by: Vec::new(), points: lons.len() as u64, points_assigned: 0, seconds };
    let mut k = 0usize;
    for (si, sc) in sources.iter().enumerate() {
        let src = &p.cases[si];
        let mut by: BTreeMap<&'static str, u64> = BTreeMap::new();
        let c = &sc.cases;
        for i in 0..c.row.len() {
            let (how, units) = match c.location[i] {
                Location::Point { .. } => {
                    let l = located[k];
                    k += 1;
                    match l {
                        Located::Grid(g) => {
                            out.points_assigned += 1;
                            ("point", h.units_of(Level::Grid, g))
                        }
                        Located::Outside | Located::Ambiguous => {
                            let (reason, detail) = if l == Located::Outside {
                                ("outside_all_grids", "the point lies in no grid's closed area")
                            } else {
                                ("ambiguous_boundary", "the point lies on a boundary shared by several grids (boundary_rule = reject)")
                            };
                            let row = c.row[i];
                            let table = &sc.tables[c.file[i] as usize];
                            let raw = crate::io::cases::raw_fields(table, row as usize - 1);
                            let key = table.value("case_id", row as usize - 1).map(|s| s.trim().to_string()).unwrap_or_default();
                            quarantine.push(Reject {
                                source: src.name.clone(),
                                file: table.path.display().to_string(),
                                row: row as u64,
                                line: (src.format == crate::config::FileFormat::Csv).then_some(row as u64 + 1),
                                key,
                                reason,
                                detail: detail.into(),
                                raw,
                            });
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
                    (how, units)
                }
            };
            *by.entry(how).or_default() += 1;
            out.from.push((si, c.file[i], c.row[i], how));
            out.cases.push(AssignedCase {
                units,
                facts: CaseFacts {
                    received: c.received[i],
                    closed: c.closed[i],
                    due: c.due[i],
                    cancelled: c.cancelled[i],
                    followup: c.followup[i],
                },
                dims: [c.category[i], c.department[i], c.channel[i]],
            });
        }
        out.by.push(by);
    }
    out
}
