//! From a batch's checked records to their places: points are located in parallel against the
//! grid index; records placed by a code already know their unit. What could not be placed is
//! marked (`Outside`, `Ambiguous`) for the reader to quarantine.

use std::collections::BTreeMap;
use std::time::Instant;

use super::{BoundaryRule, GridIndex, Located};
use crate::vocab::frame::Frame;
use crate::vocab::record::{How, Location, Placed, Record};
use crate::vocab::units::{Hierarchy, Level};

/// Point-location totals of a run.
#[derive(Debug, Clone, Default)]
pub struct JoinStats {
    /// Points located, points that landed in a grid, and the seconds point location took.
    pub points: u64,
    pub points_assigned: u64,
    pub seconds: f64,
}

/// Places every record of a batch (`None`: rejected by the checks); one `Placed` per row.
pub fn place(index: &GridIndex<'_>, rule: BoundaryRule, rows: &[Option<Record>], stats: &mut JoinStats) -> Vec<Placed> {
    let (lons, lats): (Vec<f64>, Vec<f64>) = rows
        .iter()
        .filter_map(|r| match r.as_ref()?.location {
            Location::Point { lon, lat } => Some((lon, lat)),
            Location::ByCode { .. } | Location::ByName { .. } => None,
        })
        .unzip();
    let clock = Instant::now();
    let located = index.locate_all(&lons, &lats, rule);
    stats.seconds += clock.elapsed().as_secs_f64();
    stats.points += lons.len() as u64;
    let mut points = located.into_iter();
    let placed: Vec<Placed> = rows
        .iter()
        .map(|r| match r.as_ref().map(|r| r.location) {
            None => Placed::Rejected,
            Some(Location::ByCode { level, unit, fallback }) => {
                Placed::Home { level, unit, how: if fallback { How::CodeFallback(level) } else { How::Code(level) } }
            }
            Some(Location::ByName { level, unit, fallback }) => {
                Placed::Home { level, unit, how: if fallback { How::NameFallback(level) } else { How::Name(level) } }
            }
            Some(Location::Point { .. }) => match points.next() {
                Some(Located::Grid(g)) => Placed::Home { level: Level::Grid, unit: g, how: How::Point },
                Some(Located::Ambiguous) => Placed::Ambiguous,
                Some(Located::Outside) | None => Placed::Outside,
            },
        })
        .collect();
    stats.points_assigned += placed.iter().filter(|p| matches!(p, Placed::Home { how: How::Point, .. })).count() as u64;
    placed
}

/// Adds a batch's placed records to counts by how they were placed.
pub fn count_by_how(placed: &[Placed], by: &mut BTreeMap<&'static str, u64>) {
    let mut n: BTreeMap<How, u64> = BTreeMap::new();
    for p in placed {
        if let Placed::Home { how, .. } = p {
            *n.entry(*how).or_default() += 1;
        }
    }
    for (how, c) in n {
        *by.entry(how.as_str()).or_default() += c;
    }
}

/// One row of the optional `case_assignments` table.
#[derive(Debug, Clone)]
struct Assigned {
    source: u32,
    file: u32,
    row: u64,
    key: Box<str>,
    how: How,
    level: Level,
    unit: u32,
    /// The WGS84 point of a record placed by its point.
    point: Option<(f64, f64)>,
}

/// Where every placed record went (`[outputs] case_assignments = true`): one row per record,
/// so large for a city-year.
#[derive(Debug, Default)]
pub struct Assignments {
    rows: Vec<Assigned>,
}

impl Assignments {
    /// Adds the placed records of a batch of source `source`, file `file`, whose first row is
    /// `first_row`.
    /// `key(i)` is the record key of row `i`.
    pub fn add(
        &mut self,
        source: usize,
        file: usize,
        first_row: u64,
        rows: &[Option<Record>],
        placed: &[Placed],
        key: impl Fn(usize) -> String,
    ) {
        for (i, p) in placed.iter().enumerate() {
            let point = match rows.get(i).and_then(|r| r.as_ref()).map(|r| r.location) {
                Some(Location::Point { lon, lat }) => Some((lon, lat)),
                _ => None,
            };
            if let Placed::Home { level, unit, how } = p {
                self.rows.push(Assigned {
                    source: source as u32,
                    file: file as u32,
                    row: first_row + i as u64,
                    key: key(i).into_boxed_str(),
                    how: *how,
                    level: *level,
                    unit: *unit,
                    point,
                });
            }
        }
    }

    /// The table: source, file (relative path), row, case id, how, and the unit's code at
    /// every level the layer has. `files[s][f]` is the path of file `f` of source `s`.
    pub fn frame(&self, h: &Hierarchy, sources: &[&str], files: &[Vec<String>]) -> Frame {
        let rows = &self.rows;
        let mut f = Frame::default();
        f.str("source", rows.iter().map(|r| sources.get(r.source as usize).map(|s| s.to_string())).collect());
        f.str("file", rows.iter().map(|r| files.get(r.source as usize).and_then(|fs| fs.get(r.file as usize)).cloned()).collect());
        f.int("row", rows.iter().map(|r| Some(r.row as i64)).collect());
        f.str("case_id", rows.iter().map(|r| Some(r.key.to_string())).collect());
        f.str("assigned_by", rows.iter().map(|r| Some(r.how.as_str().to_string())).collect());
        for level in Level::ALL {
            if !h.present[level as usize] {
                continue;
            }
            let units = h.units(level);
            f.str(
                &format!("{}_code", level.as_str()),
                rows.iter().map(|r| h.units_of(r.level, r.unit)[level as usize].map(|u| units[u as usize].code.clone())).collect(),
            );
        }
        f
    }

    /// The records placed by a point, as the `case_points` layer's table (the assignment
    /// table's columns) and their WGS84 points.
    pub fn points(&self, h: &Hierarchy, sources: &[&str], files: &[Vec<String>]) -> (Frame, Vec<(f64, f64)>) {
        let keep: Vec<usize> = (0..self.rows.len()).filter(|&i| self.rows[i].point.is_some()).collect();
        let frame = self.frame(h, sources, files).keep_rows(&keep);
        let points = keep.iter().filter_map(|&i| self.rows[i].point).collect();
        (frame, points)
    }

    /// The rows, for a partial run's state.
    pub fn to_state(&self) -> Vec<crate::vocab::state::PlacedRow> {
        self.rows
            .iter()
            .map(|r| crate::vocab::state::PlacedRow {
                source: r.source,
                file: r.file,
                row: r.row,
                key: r.key.to_string(),
                how: r.how.code(),
                level: r.level as u8,
                unit: r.unit,
                point: r.point,
                other: None,
            })
            .collect()
    }

    /// Appends a partial run's rows (the caller orders them as one run would have met them).
    pub fn absorb(&mut self, rows: Vec<crate::vocab::state::PlacedRow>) -> Result<(), String> {
        for r in rows {
            let how = How::from_code(r.how).ok_or("an assignment has an unknown way of placing")?;
            let level = *Level::ALL.get(r.level as usize).ok_or("an assignment names no level")?;
            self.rows.push(Assigned {
                source: r.source,
                file: r.file,
                row: r.row,
                key: r.key.into(),
                how,
                level,
                unit: r.unit,
                point: r.point,
            });
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}
