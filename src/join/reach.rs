//! Reach of facilities from where residents live, for the service circle (一刻钟社区服务圈).
//!
//! Residents are placed on a lattice of points `step` metres apart over the grid layer (each
//! point belongs to the grid it lies in; a grid no lattice point falls in gets one point, its
//! interior point). A point reaches an item when a facility of the item lies within the item's
//! reach in a straight line on the WGS84 ellipsoid (geodesic distance, inclusive to the
//! millimetre). Candidates come from an R-tree of each item's facilities; a local planar
//! distance settles most of them, and the geodesic decides the ones within 1 % of the reach.

use geo::{Distance, Geodesic, InteriorPoint, MultiPolygon, Point};
use rayon::prelude::*;
use rstar::{AABB, RTree};

use super::{BoundaryRule, GridIndex, Located};

/// Metres per degree of latitude on the mean sphere (R = 6,371,008.8 m): the lattice's step.
const M_PER_DEG: f64 = 111_195.08;

/// Reach counted per grid: `points` resident points, `reached[i]` of them reach item `i`,
/// `all` reach every item.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GridReach {
    pub points: u32,
    pub reached: Vec<u32>,
    pub all: u32,
}

/// The lattice of resident points: `(grid, lon, lat)`, in grid order, then south to north,
/// west to east. Rows start half a step inside the layer's bounding box `extent`.
pub fn resident_points(
    index: &GridIndex<'_>,
    geoms: &[&MultiPolygon<f64>],
    extent: Option<geo::Rect<f64>>,
    step_m: f64,
) -> Vec<(u32, f64, f64)> {
    let Some(ext) = extent else { return Vec::new() };
    let mid = (ext.min().y + ext.max().y) / 2.0;
    let dlat = step_m / M_PER_DEG;
    let dlon = step_m / (M_PER_DEG * mid.to_radians().cos().max(0.01));
    let rows = ((ext.height() / dlat).floor() as usize).saturating_add(1);
    let cols = ((ext.width() / dlon).floor() as usize).saturating_add(1);
    let mut pts: Vec<(u32, f64, f64)> = (0..rows)
        .into_par_iter()
        .flat_map_iter(|j| {
            let lat = ext.min().y + (j as f64 + 0.5) * dlat;
            (0..cols).filter_map(move |i| {
                let lon = ext.min().x + (i as f64 + 0.5) * dlon;
                // A point on a shared edge goes to the smallest code: a resident counts once.
                match index.locate(lon, lat, BoundaryRule::SmallestCode) {
                    Located::Grid(g) => Some((g, lon, lat)),
                    _ => None,
                }
            })
        })
        .collect();
    // Grids too small to hold a lattice point: one resident point each, inside the grid.
    let mut has = vec![false; geoms.len()];
    for p in &pts {
        has[p.0 as usize] = true;
    }
    for (g, geom) in geoms.iter().enumerate() {
        if !has[g] {
            if let Some(c) = geom.interior_point() {
                pts.push((g as u32, c.x(), c.y()));
            }
        }
    }
    pts.sort_by(|a, b| a.0.cmp(&b.0).then(a.2.total_cmp(&b.2)).then(a.1.total_cmp(&b.1)));
    pts
}

/// The facilities of each item, for reach queries.
pub struct FacilityIndex {
    trees: Vec<RTree<[f64; 2]>>,
    /// Straight-line reach of each item, metres.
    reach_m: Vec<f64>,
}

impl FacilityIndex {
    /// `points[i]`: the (lon, lat) of item `i`'s facilities; `reach_m[i]`: its straight-line
    /// reach.
    pub fn new(points: Vec<Vec<[f64; 2]>>, reach_m: Vec<f64>) -> FacilityIndex {
        FacilityIndex { trees: points.into_iter().map(RTree::bulk_load).collect(), reach_m }
    }

    /// The items (a bit mask) a resident at (lon, lat) reaches.
    pub fn reached(&self, lon: f64, lat: f64) -> u32 {
        let mut mask = 0u32;
        let cos = lat.to_radians().cos().max(1e-6);
        for (i, (tree, &reach)) in self.trees.iter().zip(&self.reach_m).enumerate() {
            // The box holds every point within reach (a degree is at least 110.5 km of
            // latitude, and cos(lat) × 111.3 km of longitude).
            let dy = reach / 110_000.0;
            let dx = reach / (110_000.0 * cos);
            let env = AABB::from_corners([lon - dx, lat - dy], [lon + dx, lat + dy]);
            let near = tree.locate_in_envelope(&env).any(|f| {
                let (ex, ey) = ((f[0] - lon) * cos * M_PER_DEG, (f[1] - lat) * M_PER_DEG);
                let d = (ex * ex + ey * ey).sqrt();
                if d < reach * 0.99 {
                    true
                } else if d > reach * 1.01 {
                    false
                } else {
                    within(lon, lat, f[0], f[1], reach)
                }
            });
            if near {
                mask |= 1 << i;
            }
        }
        mask
    }
}

/// Whether two points are at most `reach` metres apart on the WGS84 ellipsoid (to the
/// millimetre).
pub fn within(lon1: f64, lat1: f64, lon2: f64, lat2: f64, reach: f64) -> bool {
    Geodesic.distance(Point::new(lon1, lat1), Point::new(lon2, lat2)) <= reach + 1e-3
}

/// Counts, per grid, the resident points and the items they reach.
pub fn grid_reach(points: &[(u32, f64, f64)], facilities: &FacilityIndex, grids: usize) -> Vec<GridReach> {
    let n_items = facilities.trees.len();
    let all_items: u32 = if n_items >= 32 { u32::MAX } else { (1u32 << n_items) - 1 };
    let masks: Vec<u32> = points.par_iter().map(|&(_, lon, lat)| facilities.reached(lon, lat)).collect();
    let mut out = vec![GridReach { points: 0, reached: vec![0; n_items], all: 0 }; grids];
    for (&(g, _, _), &m) in points.iter().zip(&masks) {
        let r = &mut out[g as usize];
        r.points += 1;
        for (i, c) in r.reached.iter_mut().enumerate() {
            *c += (m >> i) & 1;
        }
        r.all += (m & all_items == all_items) as u32;
    }
    out
}
