//! Record → grid placement: a bucket raster settles most points with one lookup and tests the
//! rest exactly against the few edges near them (`raster.rs`), over lon/lat slices in
//! parallel. An R-tree of grid boxes with geo's exact test is kept as the reference the raster
//! is tested against.
//!
//! Points on an edge or vertex shared by several grids belong to the *closed* area of each of
//! them; [`BoundaryRule`] decides which one gets the case, so the answer never depends on thread
//! timing or candidate order.

use geo::coordinate_position::{CoordPos, CoordinatePosition};
use geo::{BoundingRect, Coord, MultiPolygon};
use rayon::prelude::*;
use rstar::RTree;
use rstar::primitives::{GeomWithData, Rectangle};

pub use crate::vocab::boundary::BoundaryRule;

/// Result of locating one point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Located {
    /// Index of the grid (grids are sorted by code).
    Grid(u32),
    /// In no grid's closed area.
    Outside,
    /// On a boundary shared by several grids and the rule is `Reject`.
    Ambiguous,
}

/// An R-tree of the geometries' bounding boxes, each with its index in `geoms`.
pub(crate) fn box_tree(geoms: &[&MultiPolygon<f64>]) -> RTree<GeomWithData<Rectangle<[f64; 2]>, u32>> {
    let items = geoms
        .iter()
        .enumerate()
        .filter_map(|(i, g)| {
            let r = g.bounding_rect()?;
            Some(GeomWithData::new(Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]), i as u32))
        })
        .collect();
    RTree::bulk_load(items)
}

/// Spatial index over the grid geometries.
pub struct GridIndex<'a> {
    tree: RTree<GeomWithData<Rectangle<[f64; 2]>, u32>>,
    raster: Option<raster::Raster<'a>>,
    geoms: Vec<&'a MultiPolygon<f64>>,
}

pub mod crosswalk;
pub mod place;
mod raster;
pub mod reach;

impl<'a> GridIndex<'a> {
    /// Builds the index; `geoms[i]` is grid `i` (sorted by code).
    pub fn new(geoms: Vec<&'a MultiPolygon<f64>>) -> GridIndex<'a> {
        let raster = raster::Raster::new(&geoms);
        GridIndex { tree: box_tree(&geoms), raster, geoms }
    }

    /// Share of raster buckets that settle a point without a polygon test.
    pub fn settled_share(&self) -> f64 {
        self.raster.as_ref().map(|r| r.settled_share()).unwrap_or(0.0)
    }

    /// Bytes held by the raster.
    pub fn bytes(&self) -> usize {
        self.raster.as_ref().map_or(0, |r| r.bytes())
    }

    /// Locates one WGS84 point. Non-finite input is `Outside`.
    pub fn locate(&self, lon: f64, lat: f64, rule: BoundaryRule) -> Located {
        if !(lon.is_finite() && lat.is_finite()) {
            return Located::Outside;
        }
        match self.raster.as_ref().map(|r| r.bucket(lon, lat)) {
            Some(raster::Bucket::Inside(g)) => Located::Grid(g),
            Some(raster::Bucket::Empty) => Located::Outside,
            Some(raster::Bucket::Candidates(c)) => {
                let hit = |k: usize| c.position(k, lon, lat) != raster::Position::Outside;
                let n = c.len();
                match rule {
                    // Closed area: the interior and the boundary both count.
                    BoundaryRule::SmallestCode => (0..n).find(|&k| hit(k)).map_or(Located::Outside, |k| Located::Grid(c.grid(k))),
                    BoundaryRule::LargestCode => (0..n).rev().find(|&k| hit(k)).map_or(Located::Outside, |k| Located::Grid(c.grid(k))),
                    BoundaryRule::Reject => {
                        let mut hits = (0..n).filter(|&k| hit(k));
                        match (hits.next(), hits.next()) {
                            (Some(k), None) => Located::Grid(c.grid(k)),
                            (Some(_), Some(_)) => Located::Ambiguous,
                            (None, _) => Located::Outside,
                        }
                    }
                }
            }
            None => self.locate_rtree(lon, lat, rule),
        }
    }

    /// The same answer through the R-tree alone (the reference the raster is tested against).
    pub fn locate_rtree(&self, lon: f64, lat: f64, rule: BoundaryRule) -> Located {
        if !(lon.is_finite() && lat.is_finite()) {
            return Located::Outside;
        }
        let mut cands: smallvec_like::Cands = smallvec_like::Cands::new();
        for item in self.tree.locate_all_at_point(&[lon, lat]) {
            cands.push(item.data);
        }
        cands.sort_unstable();
        self.exact(lon, lat, cands.as_slice(), rule)
    }

    /// Exact closed-area tests on candidates sorted by index (= code order), so the first hit
    /// of the smallest code wins without testing the rest.
    fn exact(&self, lon: f64, lat: f64, cands: &[u32], rule: BoundaryRule) -> Located {
        let c = Coord { x: lon, y: lat };
        // The closed area of a MultiPolygon is the union of its parts' closed areas. (geo's
        // MultiPolygon position follows the mod-2 boundary rule, under which a corner where two
        // parts touch is outside: not what a grid made of two touching cells means.)
        let inside = |i: u32| self.geoms[i as usize].0.iter().any(|part| part.coordinate_position(&c) != CoordPos::Outside);
        match rule {
            // Closed area: the interior and the boundary both count.
            BoundaryRule::SmallestCode => cands.iter().copied().find(|&i| inside(i)).map_or(Located::Outside, Located::Grid),
            BoundaryRule::LargestCode => cands.iter().rev().copied().find(|&i| inside(i)).map_or(Located::Outside, Located::Grid),
            BoundaryRule::Reject => {
                let mut hits = cands.iter().copied().filter(|&i| inside(i));
                match (hits.next(), hits.next()) {
                    (Some(i), None) => Located::Grid(i),
                    (Some(_), Some(_)) => Located::Ambiguous,
                    (None, _) => Located::Outside,
                }
            }
        }
    }

    /// Locates many points in parallel. Points are visited in bucket order (Morton order
    /// without a raster) so that neighbouring lookups share buckets and edges in cache; results
    /// come back in input order.
    pub fn locate_all(&self, lons: &[f64], lats: &[f64], rule: BoundaryRule) -> Vec<Located> {
        let n = lons.len().min(lats.len());
        let key = |i: usize| match &self.raster {
            Some(r) if lons[i].is_finite() && lats[i].is_finite() => r.bucket_index(lons[i], lats[i]) as u64,
            _ => morton(lons[i], lats[i]),
        };
        let mut order: Vec<(u64, u32)> = (0..n).into_par_iter().map(|i| (key(i), i as u32)).collect();
        order.par_sort_unstable();
        let located: Vec<(u32, Located)> =
            order.par_iter().with_min_len(4096).map(|&(_, i)| (i, self.locate(lons[i as usize], lats[i as usize], rule))).collect();
        let mut out = vec![Located::Outside; n];
        for (i, l) in located {
            out[i as usize] = l;
        }
        out
    }
}

/// Interleaved bits of lon/lat quantised to 2^20 steps over the globe (about 40 m at Beijing).
fn morton(lon: f64, lat: f64) -> u64 {
    let q = |v: f64, lo: f64, span: f64| -> u64 {
        if !v.is_finite() {
            return 0;
        }
        (((v - lo) / span).clamp(0.0, 1.0) * ((1u64 << 20) - 1) as f64) as u64
    };
    let (x, y) = (q(lon, -180.0, 360.0), q(lat, -90.0, 180.0));
    let spread = |mut v: u64| {
        v &= 0xFFFFF;
        v = (v | (v << 16)) & 0x0000_FFFF_0000_FFFF;
        v = (v | (v << 8)) & 0x00FF_00FF_00FF_00FF;
        v = (v | (v << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        v = (v | (v << 2)) & 0x3333_3333_3333_3333;
        v = (v | (v << 1)) & 0x5555_5555_5555_5555;
        v
    };
    spread(x) | (spread(y) << 1)
}

/// A small inline candidate list (most points have 1–4 candidates) without a dependency.
mod smallvec_like {
    pub struct Cands {
        inline: [u32; 8],
        len: usize,
        spill: Vec<u32>,
    }
    impl Cands {
        pub fn new() -> Self {
            Cands { inline: [0; 8], len: 0, spill: Vec::new() }
        }
        pub fn push(&mut self, v: u32) {
            if self.len < 8 && self.spill.is_empty() {
                self.inline[self.len] = v;
                self.len += 1;
            } else {
                if self.spill.is_empty() {
                    self.spill.extend_from_slice(&self.inline[..self.len]);
                }
                self.spill.push(v);
            }
        }
        fn slice_mut(&mut self) -> &mut [u32] {
            if self.spill.is_empty() { &mut self.inline[..self.len] } else { &mut self.spill }
        }
        pub fn sort_unstable(&mut self) {
            self.slice_mut().sort_unstable();
        }
        pub fn as_slice(&self) -> &[u32] {
            if self.spill.is_empty() { &self.inline[..self.len] } else { &self.spill }
        }
    }
}

#[cfg(test)]
mod tests;
