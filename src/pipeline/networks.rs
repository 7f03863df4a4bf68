//! The grid networks besides the first (`[[grids]]`, 多网融合): each is read and indexed like
//! the first, every record the first network placed is placed in each of them too (a point by
//! its location, a record placed by a community or street code through that code), each gets
//! its own sums, tables and layers, and the run writes the crosswalks between the networks, the
//! cells that straddle the first network's communities or streets, and the cases whose
//! networks disagree about their community.

use std::collections::BTreeMap;

use crate::config::Pipeline;
use crate::indicators::{self, Tallies, networks as tables};
use crate::join::crosswalk::{self, Overlap};
use crate::join::place::{self, JoinStats};
use crate::join::{BoundaryRule, GridIndex};
use crate::vocab::dictionary::Dictionaries;
use crate::vocab::error::ReadError;
use crate::vocab::frame::Frame;
use crate::vocab::record::{Location, Placed, Record};
use crate::vocab::state::{PlacedRow, TalliesState};
use crate::vocab::units::{GridLayer, Hierarchy, Level};

/// The networks' layers, read before anything borrows them.
pub(super) fn read_layers(p: &Pipeline) -> Result<Vec<GridLayer>, ReadError> {
    p.networks.iter().map(|n| crate::io::grids::read_grids(&n.grids)).collect()
}

/// A case both networks placed, in different communities.
struct Differs {
    source: u32,
    file: u32,
    row: u64,
    key: String,
    first: (Level, u32),
    other: (Level, u32),
}

/// One network while records stream.
pub(super) struct Network<'a> {
    pub name: &'a str,
    pub layer: &'a GridLayer,
    pub h: Hierarchy,
    index: GridIndex<'a>,
    tallies: Tallies,
    join: JoinStats,
    placed: u64,
    not_placed: u64,
    differs: Vec<Differs>,
}

impl<'a> Network<'a> {
    pub fn new(p: &'a Pipeline, i: usize, layer: &'a GridLayer, tallies: impl FnOnce(&Hierarchy) -> Tallies) -> Network<'a> {
        let h = Hierarchy::build(layer);
        let tallies = tallies(&h);
        Network {
            name: &p.networks[i].name,
            layer,
            index: GridIndex::new(layer.geometries()),
            h,
            tallies,
            join: JoinStats::default(),
            placed: 0,
            not_placed: 0,
            differs: Vec::new(),
        }
    }

    /// Places a batch's records the first network placed (`first`) and counts them; a case
    /// whose community differs is remembered with its `key(i)`.
    #[allow(clippy::too_many_arguments)]
    pub fn add(
        &mut self,
        first_h: &Hierarchy,
        rule: BoundaryRule,
        rows: &[Option<Record>],
        first: &[Placed],
        cases: Option<(u32, u32, u64)>,
        key: impl Fn(usize) -> String,
    ) {
        let mut placed = place::place(&self.index, rule, rows, &mut self.join);
        for (i, pl) in placed.iter_mut().enumerate() {
            let Placed::Home { level, unit, how } = first[i] else {
                *pl = Placed::Rejected;
                continue;
            };
            if let Some(Record { location: Location::ByCode { .. } | Location::ByName { .. }, .. }) = &rows[i] {
                // A unit of the first network, by code or name: its community's (or street's,
                // or district's) code in this one.
                *pl = Placed::Rejected;
                let units = first_h.units_of(level, unit);
                for l in [Level::Community, Level::Street, Level::District] {
                    let code = units[l as usize].map(|u| first_h.units(l)[u as usize].code.as_str());
                    if let Some(u) = code.and_then(|c| self.h.find(l, c)) {
                        *pl = Placed::Home { level: l, unit: u, how };
                        break;
                    }
                }
            }
            match *pl {
                Placed::Home { level: l2, unit: u2, .. } => {
                    self.placed += 1;
                    let (c1, c2) = (self.community(first_h, level, unit), self.community(&self.h, l2, u2));
                    if let (Some((source, file, first_row)), Some(a), Some(b)) = (cases, c1, c2) {
                        if a != b {
                            self.differs.push(Differs {
                                source,
                                file,
                                row: first_row + i as u64,
                                key: key(i),
                                first: (level, unit),
                                other: (l2, u2),
                            });
                        }
                    }
                }
                _ => {
                    self.not_placed += 1;
                    *pl = Placed::Rejected;
                }
            }
        }
        self.tallies.add(rows, &placed);
    }

    /// What the network holds of the records so far, for a partial run's state: its case
    /// sums, points located and in a cell, records placed and not, its disagreements.
    pub fn into_state(self) -> (TalliesState, (u64, u64), (u64, u64), Vec<PlacedRow>) {
        let differs = self
            .differs
            .into_iter()
            .map(|d| PlacedRow {
                source: d.source,
                file: d.file,
                row: d.row,
                key: d.key,
                how: 0,
                level: d.first.0 as u8,
                unit: d.first.1,
                point: None,
                other: Some((d.other.0 as u8, d.other.1)),
            })
            .collect();
        (self.tallies.cases_state(), (self.join.points, self.join.points_assigned), (self.placed, self.not_placed), differs)
    }

    /// Adds a partial run's sums and counts (as `into_state` gave them; `dim_map` renumbers
    /// its dimension values).
    pub fn absorb(&mut self, t: TalliesState, join: (u64, u64), placed: (u64, u64), dim_map: &[Vec<u32>]) -> Result<(), String> {
        self.tallies.absorb_cases(t, dim_map)?;
        self.join.points += join.0;
        self.join.points_assigned += join.1;
        self.placed += placed.0;
        self.not_placed += placed.1;
        Ok(())
    }

    /// Appends partial runs' disagreements, in the order given (one run's: source, file, row).
    pub fn absorb_differs(&mut self, differs: Vec<PlacedRow>) -> Result<(), String> {
        let level = |l: u8| Level::ALL.get(l as usize).copied().ok_or("a disagreement names no level");
        for d in differs {
            let other = d.other.ok_or("a disagreement without the other network's unit")?;
            self.differs.push(Differs {
                source: d.source,
                file: d.file,
                row: d.row,
                key: d.key,
                first: (level(d.level)?, d.unit),
                other: (level(other.0)?, other.1),
            });
        }
        Ok(())
    }

    fn community<'h>(&self, h: &'h Hierarchy, level: Level, unit: u32) -> Option<&'h str> {
        h.units_of(level, unit)[Level::Community as usize].map(|u| h.units(Level::Community)[u as usize].code.as_str())
    }

    /// The network's tables, as `indicators::compute` makes the first network's.
    pub fn compute(self, p: &Pipeline, dicts: &Dictionaries) -> Computed<'a> {
        let sums = self.tallies.finish();
        let results = indicators::compute(p, &self.h, &sums, dicts, None);
        Computed {
            name: self.name,
            layer: self.layer,
            h: self.h,
            results,
            placed: self.placed,
            not_placed: self.not_placed,
            differs: self.differs,
        }
    }
}

/// A network once counted.
pub(super) struct Computed<'a> {
    pub name: &'a str,
    pub layer: &'a GridLayer,
    pub h: Hierarchy,
    pub results: indicators::Results,
    placed: u64,
    not_placed: u64,
    differs: Vec<Differs>,
}

/// What the networks add to a run: per network its tables and straddling cells, and the
/// crosswalks, the disagreements and the summary.
pub(super) struct Fusion {
    /// (file stem, table): crosswalks, disagreements and the summary, at the run folder's top.
    pub tables: Vec<(String, Frame)>,
    /// Per network: its straddling cells.
    pub straddling: Vec<Frame>,
}

/// The crosswalks of every pair of networks (the first included), the straddling cells of
/// every other network, the cases whose community differs, and a summary per network.
pub(super) fn fuse(
    first_name: &str,
    first: &GridLayer,
    first_h: &Hierarchy,
    nets: &[Computed<'_>],
    sources: &[&str],
    files: &[Vec<String>],
) -> Fusion {
    let mut layers: Vec<(&str, &GridLayer)> = vec![(first_name, first)];
    layers.extend(nets.iter().map(|n| (n.name, n.layer)));
    let mut tables = Vec::new();
    let mut with_first: BTreeMap<usize, Vec<Overlap>> = BTreeMap::new();
    for i in 0..layers.len() {
        for j in i + 1..layers.len() {
            let (a, b) = (layers[i], layers[j]);
            let o = crosswalk::overlaps(&a.1.geometries(), &b.1.geometries());
            tables.push((format!("crosswalk_{}_{}", a.0, b.0), tables::crosswalk_frame(a.0, a.1, b.0, b.1, &o)));
            if i == 0 {
                // The same overlaps seen from network j (as a) against the first (as b).
                let mut flipped: Vec<Overlap> = o.iter().map(|x| Overlap { a: x.b, b: x.a, area_km2: x.area_km2 }).collect();
                flipped.sort_by(|x, y| (x.a, x.b).cmp(&(y.a, y.b)));
                with_first.insert(j - 1, flipped);
            }
        }
    }
    let mut straddling = Vec::new();
    let mut summary: Vec<(String, usize, u64, u64, usize, usize, usize)> = vec![(first_name.to_string(), first.grids.len(), 0, 0, 0, 0, 0)];
    let mut differs = Frame::default();
    let mut rows: Vec<(&str, &Differs, &Hierarchy)> = Vec::new();
    for (k, n) in nets.iter().enumerate() {
        let (f, sc, ss) = tables::straddling_frame(n.layer, first_h, with_first.get(&k).map_or(&[][..], |v| v));
        straddling.push(f);
        summary.push((n.name.to_string(), n.layer.grids.len(), n.placed, n.not_placed, n.differs.len(), sc, ss));
        rows.extend(n.differs.iter().map(|d| (n.name, d, &n.h)));
    }
    let code = |h: &Hierarchy, (level, unit): (Level, u32), at: Level| {
        h.units_of(level, unit)[at as usize].map(|u| h.units(at)[u as usize].code.clone())
    };
    differs.str("network", rows.iter().map(|r| Some(r.0.to_string())).collect());
    differs.str("source", rows.iter().map(|r| sources.get(r.1.source as usize).map(|s| s.to_string())).collect());
    differs.str("file", rows.iter().map(|r| files.get(r.1.source as usize).and_then(|f| f.get(r.1.file as usize)).cloned()).collect());
    differs.int("row", rows.iter().map(|r| Some(r.1.row as i64)).collect());
    differs.str("case_id", rows.iter().map(|r| Some(r.1.key.clone())).collect());
    differs.str("grid_code", rows.iter().map(|r| code(first_h, r.1.first, Level::Grid)).collect());
    differs.str("community_code", rows.iter().map(|r| code(first_h, r.1.first, Level::Community)).collect());
    differs.str("cell_code", rows.iter().map(|r| code(r.2, r.1.other, Level::Grid)).collect());
    differs.str("network_community_code", rows.iter().map(|r| code(r.2, r.1.other, Level::Community)).collect());
    tables.push(("network_disagreements".into(), differs));
    let mut s = Frame::default();
    s.str("network", summary.iter().map(|r| Some(r.0.clone())).collect());
    s.int("cells", summary.iter().map(|r| Some(r.1 as i64)).collect());
    let other = |v: Option<i64>, k: usize| if k == 0 { None } else { v };
    s.int("records_placed", summary.iter().enumerate().map(|(k, r)| other(Some(r.2 as i64), k)).collect());
    s.int("records_not_placed", summary.iter().enumerate().map(|(k, r)| other(Some(r.3 as i64), k)).collect());
    s.int("cases_community_differs", summary.iter().enumerate().map(|(k, r)| other(Some(r.4 as i64), k)).collect());
    s.int("cells_straddling_community", summary.iter().enumerate().map(|(k, r)| other(Some(r.5 as i64), k)).collect());
    s.int("cells_straddling_street", summary.iter().enumerate().map(|(k, r)| other(Some(r.6 as i64), k)).collect());
    tables.push(("networks".into(), s));
    Fusion { tables, straddling }
}

#[cfg(test)]
mod tests {
    use crate::config::Overrides;
    use std::path::Path;

    fn pipeline(grids: &str) -> Result<crate::config::Pipeline, String> {
        let text = format!(
            "name = \"t\"\noutput_dir = \"out\"\n[period]\nmonth = \"2026-02\"\nas_of = \"2026-03-10\"\n{grids}\n[[cases]]\nname = \"c\"\npath = \"c.csv\"\n[cases.columns]\ncase_id = \"id\"\nreceived_at = \"t\"\ngrid_code = \"g\"\n"
        );
        super::super::resolve_text(Path::new("/tmp/t.toml"), &text, &Overrides::default()).map_err(|e| e.to_string())
    }

    #[test]
    fn one_grids_table_or_several_named_ones() {
        let one = pipeline("[grids]\npath = \"g.geojson\"\n[grids.properties]\ncode = \"code\"").unwrap();
        assert_eq!((one.grids.name.as_str(), one.networks.len()), ("grid", 0));
        let two = pipeline(
            "[[grids]]\nname = \"a\"\npath = \"a.geojson\"\n[grids.properties]\ncode = \"code\"\n[[grids]]\nname = \"b\"\npath = \"b.geojson\"\n[grids.properties]\ncode = \"id\"",
        )
        .unwrap();
        assert_eq!(two.grids.name, "a");
        assert_eq!(two.networks.iter().map(|n| (n.name.as_str(), n.grids.properties.code.as_str())).collect::<Vec<_>>(), [("b", "id")]);
        let unnamed =
            pipeline("[[grids]]\npath = \"a.geojson\"\n[grids.properties]\ncode = \"code\"\n[[grids]]\nname = \"a\"\npath = \"b.geojson\"\n[grids.properties]\ncode = \"id\"")
                .unwrap_err();
        assert!(unnamed.contains("grids[0].name: several grid networks need a name each"), "{unnamed}");
        let twice = pipeline(
            "[[grids]]\nname = \"a\"\npath = \"a.geojson\"\n[grids.properties]\ncode = \"code\"\n[[grids]]\nname = \"a\"\npath = \"b.geojson\"\n[grids.properties]\ncode = \"id\"",
        )
        .unwrap_err();
        assert!(twice.contains("grids[1].name: \"a\" is used twice"), "{twice}");
        let typo = pipeline("[[grids]]\nname = \"a\"\npaht = \"a.geojson\"\n[grids.properties]\ncode = \"code\"").unwrap_err();
        assert!(typo.contains("paht"), "{typo}");
    }
}
