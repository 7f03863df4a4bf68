//! The 15-minute service circle (一刻钟社区服务圈 / 便民生活圈): which of the service items the
//! residents of each grid and community reach, which are missing, and the share of
//! communities where every item is in reach (the figure Beijing reports).
//!
//! `join::reach` counts, per grid, the resident points and the items each reaches; this file
//! weights them by population and rolls them up:
//!
//! - a grid's points share its population equally (no population in the layer: its area;
//!   a grid without a population weighs nothing, unless no grid of the unit has one);
//! - a unit *reaches* an item when at least `min_share` of its residents do;
//! - a grid or community is `full` when it reaches every item, `none` when it reaches none,
//!   `partial` otherwise;
//! - streets, districts and the city count their communities that are full, and the share of
//!   their residents who reach every item.

use crate::config::CoverageConfig;
use crate::join::reach::GridReach;
use crate::vocab::column::Field;
use crate::vocab::frame::Frame;
use crate::vocab::lang::Lang;
use crate::vocab::record::{Fact, Location, Placed, Record};
use crate::vocab::units::{Hierarchy, Level};

/// One facility as counted.
#[derive(Debug, Clone, PartialEq)]
pub struct Facility {
    pub id: String,
    pub name: String,
    pub category: String,
    pub lon: f64,
    pub lat: f64,
    /// The grid it stands in.
    pub grid: u32,
    /// The items it provides (bit `i`: item `i`).
    pub items: u32,
}

/// The facilities of a run, in file order.
#[derive(Debug, Clone, Default)]
pub struct Facilities {
    pub list: Vec<Facility>,
}

impl Facilities {
    /// Keeps a batch's placed facilities.
    pub fn add(&mut self, c: &CoverageConfig, rows: &[Option<Record>], placed: &[Placed]) {
        for (r, p) in rows.iter().zip(placed) {
            let (
                Some(Record { fact: Fact::Facility(f), location: Location::Point { lon, lat } }),
                Placed::Home { level: Level::Grid, unit, .. },
            ) = (r, p)
            else {
                continue;
            };
            self.list.push(Facility {
                id: f.id.clone(),
                name: f.name.clone(),
                category: f.category.clone(),
                lon: *lon,
                lat: *lat,
                grid: *unit,
                items: c.items_of(&f.category),
            });
        }
    }

    /// The points of each item's facilities, for `join::reach::FacilityIndex`.
    pub fn points_by_item(&self, items: usize) -> Vec<Vec<[f64; 2]>> {
        let mut v = vec![Vec::new(); items];
        for f in &self.list {
            for (i, pts) in v.iter_mut().enumerate() {
                if f.items >> i & 1 == 1 {
                    pts.push([f.lon, f.lat]);
                }
            }
        }
        v
    }
}

/// The columns coverage adds and the columns of its own tables.
pub static FIELDS: &[Field] = &[
    Field::new("facilities", "便民设施数", "facilities", "facilities of any category standing in the unit"),
    Field::new(
        "service_items_reached",
        "可达服务业态数",
        "items",
        "service items within reach of at least coverage.min_share of the unit's residents (grid, community)",
    ),
    Field::new("service_items_missing", "缺失服务业态", "", "the items not within reach, in the order of coverage.items (grid, community)"),
    Field::new(
        "service_circle",
        "服务圈覆盖",
        "full|partial|none",
        "full: every item within reach; none: no item; partial: some (grid, community)",
    ),
    Field::new(
        "population_all_items_rate",
        "全业态可达人口占比",
        "share 0-1",
        "Σ population weight of resident points that reach every item / Σ population weight of all resident points",
    ),
    Field::new("communities_fully_covered", "全覆盖社区数", "communities", "communities of the unit whose service_circle is full"),
    Field::new(
        "community_full_coverage_rate",
        "一刻钟服务圈社区覆盖率",
        "share 0-1",
        "communities_fully_covered / communities of the unit (Beijing's published figure)",
    ),
    Field::new("level", "层级", "", "grid, community, street or district"),
    Field::new("unit_code", "单元编码", "", "code of the unit at the row's level"),
    Field::new("unit_name", "单元名称", "", "name of the unit"),
    Field::new("item_key", "业态代码", "", "the service item's key (coverage.items)"),
    Field::new("item_name", "服务业态", "", "the service item"),
    Field::new("radius_m", "服务半径", "m", "reach of the item, metres (coverage.items.radius_m or coverage.radius_m)"),
    Field::new("item_facilities", "该业态设施数", "facilities", "facilities of the item standing in the unit"),
    Field::new(
        "population_reach_rate",
        "可达人口占比",
        "share 0-1",
        "Σ population weight of resident points within reach of a facility of the item / Σ population weight of all resident points",
    ),
    Field::new("within_reach", "是否可达", "0/1", "1 when population_reach_rate ≥ coverage.min_share"),
    Field::new("facility_id", "设施编号", "", "the facility's id in its source"),
    Field::new("facility_name", "设施名称", "", "the facility's name"),
    Field::new("facility_category", "设施类别", "", "the facility's category in its source"),
    Field::new("service_items", "提供服务业态", "", "the items the facility's category provides (empty: none)"),
];

/// Weighted reach of one unit: total weight, weight reaching each item, weight reaching all.
#[derive(Debug, Clone, Default)]
struct Weighted {
    total: f64,
    items: Vec<f64>,
    all: f64,
    facilities: i64,
    item_facilities: Vec<i64>,
}

impl Weighted {
    fn share(&self, x: f64) -> Option<f64> {
        (self.total > 0.0).then(|| x / self.total)
    }
}

/// What coverage produced: its per-unit items table and the facility table.
#[derive(Debug, Clone)]
pub struct Coverage {
    pub items: Frame,
    pub facilities: Frame,
}

/// The weight of each grid's resident points: population (or area) shared equally.
fn point_weights(h: &Hierarchy, reach: &[GridReach], by_population: bool) -> Vec<f64> {
    h.units(Level::Grid)
        .iter()
        .zip(reach)
        .map(|(g, r)| {
            let total = if by_population { g.population.unwrap_or(0.0) } else { g.area_km2 };
            if r.points == 0 { 0.0 } else { total / r.points as f64 }
        })
        .collect()
}

/// Sums the weighted reach of a set of grids (a unit's, or every grid for the city): by the
/// points' weights, or, when none of the grids has one, every point the same.
fn weigh_grids(grids: &[u32], reach: &[GridReach], w: &[f64], n_items: usize) -> Weighted {
    let sum = |weight: &dyn Fn(usize) -> f64| {
        let mut o = Weighted { items: vec![0.0; n_items], item_facilities: vec![0; n_items], ..Default::default() };
        for &g in grids {
            let (r, wg) = (&reach[g as usize], weight(g as usize));
            o.total += wg * r.points as f64;
            o.all += wg * r.all as f64;
            for (i, x) in o.items.iter_mut().enumerate() {
                *x += wg * r.reached[i] as f64;
            }
        }
        o
    };
    let o = sum(&|g| w[g]);
    if o.total == 0.0 { sum(&|_| 1.0) } else { o }
}

/// The weighted reach and the facilities of every unit of `level`.
fn weigh(h: &Hierarchy, level: Level, reach: &[GridReach], w: &[f64], fac: &Facilities, n_items: usize) -> Vec<Weighted> {
    let mut out: Vec<Weighted> = h.units(level).iter().map(|unit| weigh_grids(&unit.grids, reach, w, n_items)).collect();
    for f in &fac.list {
        if let Some(u) = h.units_of(Level::Grid, f.grid)[level as usize] {
            let o = &mut out[u as usize];
            o.facilities += 1;
            for (i, n) in o.item_facilities.iter_mut().enumerate() {
                *n += (f.items >> i & 1) as i64;
            }
        }
    }
    out
}

/// Adds the coverage columns to each level's period table (`tables[level]`) and the city's, and
/// builds the items and facility tables.
pub fn apply(
    c: &CoverageConfig,
    h: &Hierarchy,
    reach: &[GridReach],
    fac: &Facilities,
    by_population: bool,
    tables: &mut [(Level, &mut Frame)],
    city: &mut Frame,
    lang: Lang,
) -> Coverage {
    let n_items = c.items.len();
    let w = point_weights(h, reach, by_population);
    let sep = lang.pick("、", ", ");
    // An item is in reach of a unit when at least min_share of its weight reaches it.
    let reaches = |share: f64| share >= c.min_share - 1e-12;
    let status = |x: &Weighted| -> (Option<i64>, Option<String>, Option<String>) {
        if x.total <= 0.0 {
            return (None, None, None);
        }
        let ok: Vec<bool> = x.items.iter().map(|&v| reaches(v / x.total)).collect();
        let n = ok.iter().filter(|&&b| b).count();
        let missing: Vec<&str> = c.items.iter().zip(&ok).filter(|(_, o)| !**o).map(|(it, _)| it.name.as_str()).collect();
        let s = if n == n_items {
            "full"
        } else if n == 0 {
            "none"
        } else {
            "partial"
        };
        (Some(n as i64), Some(missing.join(sep)), Some(s.to_string()))
    };
    // Each level's units weighed once; the communities' status serves the levels above them.
    let weighed: Vec<Vec<Weighted>> = tables.iter().map(|(level, _)| weigh(h, *level, reach, &w, fac, n_items)).collect();
    let full_communities: Option<Vec<bool>> = tables
        .iter()
        .zip(&weighed)
        .find(|((level, _), _)| *level == Level::Community)
        .map(|(_, ws)| ws.iter().map(|x| status(x).2.as_deref() == Some("full")).collect());
    let mut items = Frame::default();
    let mut rows: Vec<(Level, String, String, usize, f64, i64, Option<f64>, bool)> = Vec::new();
    for ((level, f), ws) in tables.iter_mut().zip(&weighed) {
        let level = *level;
        let units = h.units(level);
        f.int("facilities", ws.iter().map(|x| Some(x.facilities)).collect());
        if matches!(level, Level::Grid | Level::Community) {
            let st: Vec<_> = ws.iter().map(status).collect();
            f.int("service_items_reached", st.iter().map(|s| s.0).collect());
            f.str("service_items_missing", st.iter().map(|s| s.1.clone()).collect());
            f.str("service_circle", st.iter().map(|s| s.2.clone()).collect());
            for (u, x) in ws.iter().enumerate() {
                for i in 0..n_items {
                    let share = x.share(x.items[i]);
                    let ok = share.is_some_and(reaches);
                    rows.push((
                        level,
                        units[u].code.clone(),
                        units[u].name.clone(),
                        i,
                        c.items[i].radius_m,
                        x.item_facilities[i],
                        share,
                        ok,
                    ));
                }
            }
        } else if let Some(full) = &full_communities {
            let (n, all) = community_counts(h, level, full, units.len());
            f.int("communities_fully_covered", n.iter().map(|&k| Some(k)).collect());
            f.float("community_full_coverage_rate", n.iter().zip(&all).map(|(&k, &a)| rate(k, a)).collect(), 4);
        }
        f.float("population_all_items_rate", ws.iter().map(|x| x.share(x.all).map(round4)).collect(), 4);
    }
    // The city: every grid together.
    let every_grid: Vec<u32> = (0..reach.len() as u32).collect();
    let all = weigh_grids(&every_grid, reach, &w, n_items);
    city.int("facilities", vec![Some(fac.list.len() as i64)]);
    if let Some(full) = &full_communities {
        let k = full.iter().filter(|&&b| b).count() as i64;
        city.int("communities_fully_covered", vec![Some(k)]);
        city.float("community_full_coverage_rate", vec![rate(k, full.len() as i64)], 4);
    }
    city.float("population_all_items_rate", vec![all.share(all.all).map(round4)], 4);

    items.str("level", rows.iter().map(|r| Some(r.0.as_str().to_string())).collect());
    items.str("unit_code", rows.iter().map(|r| Some(r.1.clone())).collect());
    items.str("unit_name", rows.iter().map(|r| Some(r.2.clone())).collect());
    items.str("item_key", rows.iter().map(|r| Some(c.items[r.3].key.clone())).collect());
    items.str("item_name", rows.iter().map(|r| Some(c.items[r.3].name.clone())).collect());
    items.float("radius_m", rows.iter().map(|r| Some(r.4)).collect(), 1);
    items.int("item_facilities", rows.iter().map(|r| Some(r.5)).collect());
    items.float("population_reach_rate", rows.iter().map(|r| r.6.map(round4)).collect(), 4);
    items.int("within_reach", rows.iter().map(|r| r.6.map(|_| r.7 as i64)).collect());
    Coverage { items, facilities: facility_table(c, h, fac, lang) }
}

/// Communities fully covered and communities, per unit of a level above them.
fn community_counts(h: &Hierarchy, level: Level, full: &[bool], n: usize) -> (Vec<i64>, Vec<i64>) {
    let (mut k, mut all) = (vec![0i64; n], vec![0i64; n]);
    for (ci, c) in h.units(Level::Community).iter().enumerate() {
        let Some(&g) = c.grids.first() else { continue };
        if let Some(u) = h.units_of(Level::Grid, g)[level as usize] {
            all[u as usize] += 1;
            k[u as usize] += full[ci] as i64;
        }
    }
    (k, all)
}

fn rate(k: i64, n: i64) -> Option<f64> {
    (n > 0).then(|| round4(k as f64 / n as f64))
}

fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

/// The facilities with their items and units, in file order.
fn facility_table(c: &CoverageConfig, h: &Hierarchy, fac: &Facilities, lang: Lang) -> Frame {
    let sep = lang.pick("、", ", ");
    let mut f = Frame::default();
    let l = &fac.list;
    f.str("facility_id", l.iter().map(|x| Some(x.id.clone())).collect());
    f.str("facility_name", l.iter().map(|x| Some(x.name.clone()).filter(|s| !s.is_empty())).collect());
    f.str("facility_category", l.iter().map(|x| Some(x.category.clone())).collect());
    f.str(
        "service_items",
        l.iter()
            .map(|x| {
                let names: Vec<&str> =
                    c.items.iter().enumerate().filter(|(i, _)| x.items >> i & 1 == 1).map(|(_, it)| it.name.as_str()).collect();
                Some(names.join(sep)).filter(|s| !s.is_empty())
            })
            .collect(),
    );
    for level in Level::ALL {
        if !h.present[level as usize] {
            continue;
        }
        let units = h.units(level);
        let unit = |x: &Facility| h.units_of(Level::Grid, x.grid)[level as usize].map(|u| &units[u as usize]);
        f.str(&format!("{}_code", level.as_str()), l.iter().map(|x| unit(x).map(|u| u.code.clone())).collect());
    }
    f.float("lon", l.iter().map(|x| Some(x.lon)).collect(), 6);
    f.float("lat", l.iter().map(|x| Some(x.lat)).collect(), 6);
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::CoverageItem;
    use crate::join::GridIndex;
    use crate::join::reach::{FacilityIndex, grid_reach, resident_points};
    use crate::vocab::units::{Grid, GridLayer, UnitRef};
    use geo::{Destination, Geodesic, Point, polygon};

    fn item(key: &str, radius_m: f64) -> CoverageItem {
        CoverageItem { key: key.into(), name: key.to_uppercase(), categories: vec![key.into()], radius_m }
    }

    fn config(items: Vec<CoverageItem>) -> CoverageConfig {
        CoverageConfig { detour_factor: 1.0, lattice_m: 100.0, min_share: 0.5, items }
    }

    /// Grids as (code, community, population, lower-left corner, side in degrees), all in
    /// street S1 of district D1.
    fn layer(grids: &[(&str, &str, f64, (f64, f64), f64)]) -> GridLayer {
        let unit = |c: &str| Some(UnitRef { code: c.into(), name: c.into() });
        let grids = grids
            .iter()
            .enumerate()
            .map(|(i, &(code, community, pop, (x, y), d))| Grid {
                code: code.into(),
                name: code.into(),
                parents: [unit(community), unit("S1"), unit("D1")],
                population: Some(pop),
                households: None,
                geometry: geo::MultiPolygon::new(vec![polygon![(x: x, y: y), (x: x + d, y: y), (x: x + d, y: y + d), (x: x, y: y + d)]]),
                area_km2: 1.0,
                feature_index: i,
            })
            .collect();
        GridLayer { path: "t".into(), grids, features_read: 3, problems: Vec::new(), has_level: [true; 3], crs: "wgs84".into() }
    }

    fn frames(h: &Hierarchy) -> Vec<(Level, Frame)> {
        Level::ALL
            .iter()
            .map(|&l| (l, Frame { columns: Vec::new() }))
            .filter(|(l, _)| h.present[*l as usize])
            .map(|(l, f)| (l, f))
            .collect()
    }

    fn run(c: &CoverageConfig, h: &Hierarchy, reach: &[GridReach], fac: &Facilities) -> (Vec<(Level, Frame)>, Frame) {
        let mut tables = frames(h);
        let mut city = Frame::default();
        {
            let mut refs: Vec<(Level, &mut Frame)> = tables.iter_mut().map(|(l, f)| (*l, f)).collect();
            apply(c, h, reach, fac, true, &mut refs, &mut city, Lang::Zh);
        }
        (tables, city)
    }

    #[test]
    fn facility_at_the_radius_counts_just_outside_does_not() {
        // Three tiny grids in communities C1–C3, each far from the others; the lattice (5 km)
        // is coarser than they are, so each grid's resident point is its interior point.
        let l = layer(&[
            ("G1", "C1", 100.0, (116.40, 39.90), 0.0005),
            ("G2", "C2", 100.0, (116.50, 39.90), 0.0005),
            ("G3", "C3", 100.0, (116.60, 39.90), 0.0005),
        ]);
        let h = Hierarchy::build(&l);
        let geoms = l.geometries();
        let index = GridIndex::new(geoms.clone());
        let points = resident_points(&index, &geoms, l.extent(), 5000.0);
        assert_eq!(points.len(), 3, "one resident point per grid");
        // A facility of the one item exactly 1,000 m from G1's point, 999 m from G2's, 1,001 m
        // from G3's (on the WGS84 ellipsoid, towards the north-east).
        let at = |g: usize, d: f64| {
            let p = Geodesic.destination(Point::new(points[g].1, points[g].2), 45.0, d);
            [p.x(), p.y()]
        };
        let facilities = FacilityIndex::new(vec![vec![at(0, 1000.0), at(1, 999.0), at(2, 1001.0)]], vec![1000.0]);
        let reach = grid_reach(&points, &facilities, 3);
        assert_eq!(reach.iter().map(|r| r.all).collect::<Vec<_>>(), vec![1, 1, 0]);
        let c = config(vec![item("shop", 1000.0)]);
        let (tables, city) = run(&c, &h, &reach, &Facilities::default());
        let comm = &tables.iter().find(|(l, _)| *l == Level::Community).expect("communities").1;
        assert_eq!(comm.texts("service_circle"), vec!["full", "full", "none"]);
        assert_eq!(comm.texts("service_items_missing"), vec!["", "", "SHOP"]);
        assert_eq!(city.floats("communities_fully_covered"), vec![Some(2.0)]);
        assert_eq!(city.floats("community_full_coverage_rate"), vec![Some(0.6667)]);
        // A millimetre is the tolerance: 2 mm beyond the radius is out.
        let f2 = FacilityIndex::new(vec![vec![at(0, 1000.002)]], vec![1000.0]);
        assert_eq!(f2.reached(points[0].1, points[0].2), 0);
        let f3 = FacilityIndex::new(vec![vec![at(0, 1000.0009)]], vec![1000.0]);
        assert_eq!(f3.reached(points[0].1, points[0].2), 1);
    }

    #[test]
    fn population_weights_the_resident_points() {
        // Community C1: G1 (900 residents, 1 point) reaches item a only; G2 (100 residents,
        // 9 points) reaches b only. By residents, a reaches 900 / 1000 = 0.9 of C1 and b 0.1;
        // by points it would be the other way round (1/10 and 9/10). C2 = G3 reaches both.
        let l = layer(&[
            ("G1", "C1", 900.0, (116.40, 39.90), 0.01),
            ("G2", "C1", 100.0, (116.41, 39.90), 0.01),
            ("G3", "C2", 500.0, (116.42, 39.90), 0.01),
        ]);
        let h = Hierarchy::build(&l);
        let reach = vec![
            GridReach { points: 1, reached: vec![1, 0], all: 0 },
            GridReach { points: 9, reached: vec![0, 9], all: 0 },
            GridReach { points: 4, reached: vec![4, 4], all: 4 },
        ];
        let c = config(vec![item("a", 1000.0), item("b", 1000.0)]);
        let fac = Facilities {
            list: vec![Facility {
                id: "F1".into(),
                name: String::new(),
                category: "a".into(),
                lon: 116.405,
                lat: 39.905,
                grid: 0,
                items: 1,
            }],
        };
        let (tables, city) = run(&c, &h, &reach, &fac);
        let get = |lv: Level| &tables.iter().find(|(l, _)| *l == lv).expect("level").1;
        let comm = get(Level::Community);
        assert_eq!(comm.texts("service_circle"), vec!["partial", "full"]);
        assert_eq!(comm.texts("service_items_missing"), vec!["B", ""]);
        assert_eq!(comm.floats("population_all_items_rate"), vec![Some(0.0), Some(1.0)]);
        assert_eq!(comm.floats("facilities"), vec![Some(1.0), Some(0.0)]);
        let grid = get(Level::Grid);
        assert_eq!(grid.texts("service_circle"), vec!["partial", "partial", "full"]);
        let street = get(Level::Street);
        assert_eq!(street.floats("communities_fully_covered"), vec![Some(1.0)]);
        assert_eq!(street.floats("community_full_coverage_rate"), vec![Some(0.5)]);
        // Residents reaching every item: 500 of 1,500.
        assert_eq!(street.floats("population_all_items_rate"), vec![Some(0.3333)]);
        assert_eq!(city.floats("population_all_items_rate"), vec![Some(0.3333)]);
        // The items table: C1's share of a is 0.9 (within reach), of b 0.1 (not).
        let items = c.items.len();
        let rows: Vec<usize> = (0..items).map(|i| 3 * items + i).collect();
        let it = apply_items(&c, &h, &reach, &fac);
        assert_eq!(rows.iter().map(|&r| it.floats("population_reach_rate")[r]).collect::<Vec<_>>(), vec![Some(0.9), Some(0.1)]);
        assert_eq!(rows.iter().map(|&r| it.floats("within_reach")[r]).collect::<Vec<_>>(), vec![Some(1.0), Some(0.0)]);
    }

    fn apply_items(c: &CoverageConfig, h: &Hierarchy, reach: &[GridReach], fac: &Facilities) -> Frame {
        let mut tables = frames(h);
        let mut city = Frame::default();
        let mut refs: Vec<(Level, &mut Frame)> = tables.iter_mut().map(|(l, f)| (*l, f)).collect();
        apply(c, h, reach, fac, true, &mut refs, &mut city, Lang::Zh).items
    }
}
