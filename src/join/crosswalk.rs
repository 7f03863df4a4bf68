//! Where two grid networks over the same city overlap (多网融合): every pair of cells whose
//! areas share more than a sliver, with the shared area. Candidates come from an R-tree of the
//! second network's boxes; the shared part is geo's exact boolean intersection, its area the
//! one the grid layers use (`vocab::area`, on the WGS84 ellipsoid's authalic sphere).

use geo::{BooleanOps, BoundingRect, MultiPolygon};
use rayon::prelude::*;
use rstar::AABB;

use crate::vocab::area::area_km2;

/// Shared parts below this area (km², = 1 m²) are the float noise of edges drawn twice, not an
/// overlap.
pub const SLIVER_KM2: f64 = 1e-6;

/// One overlapping pair: cell `a` of the first network, cell `b` of the second.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Overlap {
    pub a: u32,
    pub b: u32,
    pub area_km2: f64,
}

/// Every overlap of the cells of `a` with those of `b`, sorted by `a`, then `b`.
pub fn overlaps(a: &[&MultiPolygon<f64>], b: &[&MultiPolygon<f64>]) -> Vec<Overlap> {
    let tree = super::box_tree(b);
    a.par_iter()
        .enumerate()
        .flat_map_iter(|(i, ga)| {
            let Some(r) = ga.bounding_rect() else { return Vec::new() };
            let env = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
            let mut cands: Vec<u32> = tree.locate_in_envelope_intersecting(&env).map(|c| c.data).collect();
            cands.sort_unstable();
            cands
                .into_iter()
                .filter_map(|j| {
                    let shared = ga.intersection(b[j as usize]);
                    let area = area_km2(&shared);
                    (area >= SLIVER_KM2).then_some(Overlap { a: i as u32, b: j, area_km2: area })
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    /// A square tiling of [0, 0.03]² (degrees near the equator) into n × n cells.
    fn tiling(n: usize) -> Vec<MultiPolygon<f64>> {
        let d = 0.03 / n as f64;
        let mut v = Vec::new();
        for i in 0..n {
            for j in 0..n {
                let (x, y) = (i as f64 * d, j as f64 * d);
                v.push(MultiPolygon::new(vec![polygon![(x: x, y: y), (x: x + d, y: y), (x: x + d, y: y + d), (x: x, y: y + d)]]));
            }
        }
        v
    }

    #[test]
    fn shares_sum_to_one_for_networks_that_tile_the_same_area() {
        // 2 × 2 against 3 × 3: the middle cell of the 3 × 3 touches all four, a corner one only one.
        let (a, b) = (tiling(2), tiling(3));
        let (ra, rb): (Vec<&MultiPolygon<f64>>, Vec<&MultiPolygon<f64>>) = (a.iter().collect(), b.iter().collect());
        let o = overlaps(&ra, &rb);
        for (cells, key) in [(&a, 0), (&b, 1)] {
            for (k, g) in cells.iter().enumerate() {
                let whole = area_km2(g);
                let shared: f64 = o.iter().filter(|x| (if key == 0 { x.a } else { x.b }) as usize == k).map(|x| x.area_km2).sum();
                // The spherical-excess area of a small cell carries ~1e-9 of rounding.
                assert!((shared / whole - 1.0).abs() < 1e-6, "cell {k} of network {key}: {shared} of {whole}");
            }
        }
        // Cells that only share an edge are no overlap: each 2 × 2 cell overlaps four 3 × 3 cells.
        assert_eq!(o.len(), 16, "{o:?}");
        assert_eq!(o.iter().filter(|x| x.b == 4).count(), 4, "the middle cell overlaps all four");
        assert_eq!(o.iter().filter(|x| x.b == 0).count(), 1);
        // A cell and itself share all of it.
        let same = overlaps(&ra, &ra);
        assert_eq!(same.len(), 4);
        assert!(same.iter().all(|x| x.a == x.b));
    }
}
