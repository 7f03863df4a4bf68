//! Places: the grid layer as read (grids with their parents, population and geometry) and the
//! unit hierarchy grid → community → street → district derived from it.
//!
//! Every level's units are sorted by code, so a unit's index is stable for given inputs and
//! iteration order is deterministic. A record is placed in one unit per level (`Units`).

use geo::MultiPolygon;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

use super::reason::Reason;

/// Code and name of a parent unit (community, street, district).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct UnitRef {
    pub code: String,
    pub name: String,
}

/// One grid cell, WGS84.
#[derive(Debug, Clone)]
pub struct Grid {
    pub code: String,
    pub name: String,
    /// Parents, in level order community, street, district; `None` where the layer has no such level.
    pub parents: [Option<UnitRef>; 3],
    pub population: Option<f64>,
    pub households: Option<f64>,
    pub geometry: MultiPolygon<f64>,
    /// Area on the WGS84 ellipsoid, km² (`vocab::area`).
    pub area_km2: f64,
    /// Index of the feature in the input file (0-based), for messages.
    pub feature_index: usize,
}

/// What went wrong with one grid feature and what was done about it.
#[derive(Debug, Clone, Serialize)]
pub struct GridProblem {
    pub feature_index: usize,
    pub code: String,
    pub reason: Reason,
    pub detail: String,
    /// `repaired`, `skipped` or `kept`.
    pub action: &'static str,
    /// The feature's properties as JSON text, for the quarantine.
    #[serde(skip)]
    pub raw: String,
}

/// The grid layer after checks: grids sorted by code (so index order is code order).
#[derive(Debug, Clone)]
pub struct GridLayer {
    pub path: PathBuf,
    pub grids: Vec<Grid>,
    pub features_read: usize,
    pub problems: Vec<GridProblem>,
    /// Which parent levels the layer has (community, street, district).
    pub has_level: [bool; 3],
    /// The coordinate system the layer was read in, and where that came from.
    pub crs: String,
}

impl GridLayer {
    /// Index of a grid by code.
    pub fn index_of(&self, code: &str) -> Option<usize> {
        self.grids.binary_search_by(|g| g.code.as_str().cmp(code)).ok()
    }

    /// The geometries of the grids, in grid order.
    pub fn geometries(&self) -> Vec<&MultiPolygon<f64>> {
        self.grids.iter().map(|g| &g.geometry).collect()
    }

    /// The bounding box of every grid together.
    pub fn extent(&self) -> Option<geo::Rect<f64>> {
        use geo::BoundingRect;
        self.grids.iter().filter_map(|g| g.geometry.bounding_rect()).reduce(|a, b| {
            geo::Rect::new(
                geo::Coord { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                geo::Coord { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
            )
        })
    }
}

/// A level of the hierarchy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Grid = 0,
    Community = 1,
    Street = 2,
    District = 3,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::Grid, Level::Community, Level::Street, Level::District];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Grid => "grid",
            Level::Community => "community",
            Level::Street => "street",
            Level::District => "district",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            Level::Grid => "网格",
            Level::Community => "社区",
            Level::Street => "街道",
            Level::District => "区",
        }
    }

    /// The level's name in `lang` ("street" in English).
    pub fn name(self, lang: crate::vocab::lang::Lang) -> &'static str {
        lang.pick(self.zh(), self.as_str())
    }
}

/// One unit of a level, with its parents and summed attributes.
#[derive(Debug, Clone)]
pub struct Unit {
    pub code: String,
    pub name: String,
    /// Parents at the community, street, district levels (only levels above this one are set).
    pub parents: [Option<UnitRef>; 3],
    /// Sum over the unit's grids; `None` when no grid has a value.
    pub population: Option<f64>,
    pub households: Option<f64>,
    pub area_km2: f64,
    /// Grids of the unit without a population.
    pub grids_without_population: u64,
    /// Indices of the grids that make up the unit.
    pub grids: Vec<u32>,
}

/// Unit index of a case at each level: grid, community, street, district.
pub type Units = [Option<u32>; 4];

/// All levels of a grid layer.
#[derive(Debug, Clone)]
pub struct Hierarchy {
    /// Units per level (index = `Level as usize`); an absent level has no units.
    pub levels: [Vec<Unit>; 4],
    pub present: [bool; 4],
    /// For every unit of every level, its units at all levels (itself and its ancestors).
    up: [Vec<Units>; 4],
}

impl Hierarchy {
    pub fn build(layer: &GridLayer) -> Hierarchy {
        let present = [true, layer.has_level[0], layer.has_level[1], layer.has_level[2]];
        // Collect units of the parent levels from the grids (grids are sorted by code).
        let mut maps: [BTreeMap<String, Unit>; 3] = Default::default();
        for (gi, g) in layer.grids.iter().enumerate() {
            for lvl in 0..3 {
                let Some(p) = &g.parents[lvl] else { continue };
                let unit = maps[lvl].entry(p.code.clone()).or_insert_with(|| Unit {
                    code: p.code.clone(),
                    name: p.name.clone(),
                    parents: {
                        // The unit's own parents are the grid's parents above this level. The
                        // first grid (smallest code) decides when grids disagree.
                        let mut ps: [Option<UnitRef>; 3] = Default::default();
                        for up in lvl + 1..3 {
                            ps[up] = g.parents[up].clone();
                        }
                        ps
                    },
                    population: None,
                    households: None,
                    area_km2: 0.0,
                    grids_without_population: 0,
                    grids: Vec::new(),
                });
                unit.grids_without_population += g.population.is_none() as u64;
                add_opt(&mut unit.population, g.population);
                add_opt(&mut unit.households, g.households);
                unit.area_km2 += g.area_km2;
                unit.grids.push(gi as u32);
            }
        }
        let grids: Vec<Unit> = layer
            .grids
            .iter()
            .enumerate()
            .map(|(i, g)| Unit {
                code: g.code.clone(),
                name: g.name.clone(),
                parents: g.parents.clone(),
                population: g.population,
                households: g.households,
                area_km2: g.area_km2,
                grids_without_population: g.population.is_none() as u64,
                grids: vec![i as u32],
            })
            .collect();
        let [c, s, d] = maps;
        let levels = [grids, c.into_values().collect(), s.into_values().collect(), d.into_values().collect()];
        let find =
            |lvl: usize, code: &str| -> Option<u32> { levels[lvl].binary_search_by(|u| u.code.as_str().cmp(code)).ok().map(|i| i as u32) };
        let mut up: [Vec<Units>; 4] = Default::default();
        for lvl in 0..4 {
            up[lvl] = levels[lvl]
                .iter()
                .enumerate()
                .map(|(i, u)| {
                    let mut units: Units = [None; 4];
                    units[lvl] = Some(i as u32);
                    for p in lvl.max(1)..4 {
                        if p > lvl {
                            units[p] = u.parents[p - 1].as_ref().and_then(|r| find(p, &r.code));
                        }
                    }
                    units
                })
                .collect();
        }
        Hierarchy { levels, present, up }
    }

    /// Whether the layer has this level.
    pub fn has(&self, level: Level) -> bool {
        self.present[level as usize]
    }

    /// Units of a level.
    pub fn units(&self, level: Level) -> &[Unit] {
        &self.levels[level as usize]
    }

    /// Index of a unit by code at a level.
    pub fn find(&self, level: Level, code: &str) -> Option<u32> {
        self.levels[level as usize].binary_search_by(|u| u.code.as_str().cmp(code)).ok().map(|i| i as u32)
    }

    /// A unit and its ancestors, at every level.
    pub fn units_of(&self, level: Level, index: u32) -> Units {
        self.up[level as usize].get(index as usize).copied().unwrap_or([None; 4])
    }
}

fn add_opt(acc: &mut Option<f64>, v: Option<f64>) {
    if let Some(v) = v {
        *acc = Some(acc.unwrap_or(0.0) + v);
    }
}
