//! A bucket raster over the grid layer that settles most points without a polygon test.
//!
//! The layer's extent is cut into square buckets (about 64 per grid). A bucket that no grid edge
//! comes near (within `EPS`) lies entirely inside one grid, or inside none: a point there needs
//! one array lookup. Only buckets crossed by an edge keep a candidate list, whose grids are then
//! tested exactly (`CoordinatePosition`, robust predicates) in code order, as before.

use geo::coordinate_position::{CoordPos, CoordinatePosition};
use geo::{BoundingRect, Coord, MultiPolygon};
use rayon::prelude::*;

/// Edges are registered in every bucket they come within this distance of (degrees, ~0.1 mm),
/// so rounding in the bucket arithmetic can never put a point in a bucket its edge missed.
const EPS: f64 = 1e-9;
const EMPTY: u32 = u32::MAX;
const LIST: u32 = 1 << 31;

/// What a bucket holds.
pub enum Bucket<'a> {
    /// Entirely inside this grid.
    Inside(u32),
    /// Inside no grid.
    Empty,
    /// Crossed by the boundaries of these grids (sorted by index = code order).
    Candidates(&'a [u32]),
}

pub struct Raster {
    x0: f64,
    y0: f64,
    inv: f64,
    nx: usize,
    ny: usize,
    /// Per bucket: a grid index, `EMPTY`, or `LIST | k` for candidate list k.
    cells: Vec<u32>,
    offsets: Vec<u32>,
    cands: Vec<u32>,
}

impl Raster {
    pub fn new(geoms: &[&MultiPolygon<f64>]) -> Option<Raster> {
        let bbox = geoms.iter().filter_map(|g| g.bounding_rect()).reduce(|a, b| {
            geo::Rect::new(
                Coord { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
                Coord { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
            )
        })?;
        let (w, h) = (bbox.width().max(1e-9), bbox.height().max(1e-9));
        let target = (geoms.len() as f64 * 64.0).clamp(1024.0, 16_000_000.0);
        let d = (w * h / target).sqrt();
        let (nx, ny) = (((w / d).ceil() as usize).max(1), ((h / d).ceil() as usize).max(1));
        let inv = 1.0 / d;
        let (x0, y0) = (bbox.min().x, bbox.min().y);
        let (nxi, nyi) = (nx as i64, ny as i64);
        let bucket_range = |lo: f64, hi: f64, origin: f64, n: i64| -> (usize, usize) {
            let a = (((lo - EPS - origin) * inv).floor() as i64).clamp(0, n - 1) as usize;
            let b = (((hi + EPS - origin) * inv).floor() as i64).clamp(0, n - 1) as usize;
            (a, b)
        };
        // 1. (bucket, grid) for every bucket an edge comes near: the boundary buckets.
        let mut pairs: Vec<u64> = geoms
            .par_iter()
            .enumerate()
            .flat_map_iter(|(g, mp)| {
                let mut out = Vec::new();
                for poly in &mp.0 {
                    for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                        for l in ring.lines() {
                            let (xa, xb) = bucket_range(l.start.x.min(l.end.x), l.start.x.max(l.end.x), x0, nxi);
                            let (ya, yb) = bucket_range(l.start.y.min(l.end.y), l.start.y.max(l.end.y), y0, nyi);
                            for by in ya..=yb {
                                for bx in xa..=xb {
                                    out.push(((by * nx + bx) as u64) << 32 | g as u64);
                                }
                            }
                        }
                    }
                }
                out
            })
            .collect();
        pairs.par_sort_unstable();
        pairs.dedup();
        // 2. Grids that contain each bucket's centre. Tested for boundary buckets too: where
        //    grids overlap, a grid can cover a bucket that only another grid's edge crosses.
        let inner: Vec<u64> = geoms
            .par_iter()
            .enumerate()
            .flat_map_iter(|(g, mp)| {
                let mut out = Vec::new();
                if let Some(r) = mp.bounding_rect() {
                    let (xa, xb) = bucket_range(r.min().x, r.max().x, x0, nxi);
                    let (ya, yb) = bucket_range(r.min().y, r.max().y, y0, nyi);
                    for by in ya..=yb {
                        for bx in xa..=xb {
                            let c = Coord { x: x0 + (bx as f64 + 0.5) / inv, y: y0 + (by as f64 + 0.5) / inv };
                            if mp.coordinate_position(&c) != CoordPos::Outside {
                                out.push(((by * nx + bx) as u64) << 32 | g as u64);
                            }
                        }
                    }
                }
                out
            })
            .collect();
        // 3. Per bucket: no edge near and one grid at the centre → settled; no edge and no
        //    grid → empty; anything else keeps every grid involved as candidates.
        let mut all: Vec<(u64, bool)> = pairs.into_iter().map(|p| (p, true)).chain(inner.into_iter().map(|p| (p, false))).collect();
        all.par_sort_unstable();
        let mut cells = vec![EMPTY; nx * ny];
        let mut lists: Vec<(usize, Vec<u32>)> = Vec::new();
        let mut i = 0;
        while i < all.len() {
            let b = (all[i].0 >> 32) as usize;
            let mut j = i;
            while j < all.len() && (all[j].0 >> 32) as usize == b {
                j += 1;
            }
            let group = &all[i..j];
            let edge = group.iter().any(|(_, e)| *e);
            if !edge && group.len() == 1 {
                cells[b] = group[0].0 as u32;
            } else {
                let mut l: Vec<u32> = group.iter().map(|(p, _)| *p as u32).collect();
                l.sort_unstable();
                l.dedup();
                lists.push((b, l));
            }
            i = j;
        }
        lists.sort_by_key(|l| l.0);
        let mut offsets = vec![0u32];
        let mut cands = Vec::new();
        for (k, (b, l)) in lists.into_iter().enumerate() {
            cells[b] = LIST | k as u32;
            cands.extend(l);
            offsets.push(cands.len() as u32);
        }
        Some(Raster { x0, y0, inv, nx, ny, cells, offsets, cands })
    }

    /// The bucket of a finite point.
    pub fn bucket(&self, x: f64, y: f64) -> Bucket<'_> {
        let bx = ((x - self.x0) * self.inv).floor();
        let by = ((y - self.y0) * self.inv).floor();
        // Points just outside the extent (by rounding) fall in the edge buckets, which are
        // boundary buckets whenever a grid edge runs there; anything further out is empty.
        if bx < -1.0 || by < -1.0 || bx > self.nx as f64 || by > self.ny as f64 {
            return Bucket::Empty;
        }
        let (bx, by) = ((bx.max(0.0) as usize).min(self.nx - 1), (by.max(0.0) as usize).min(self.ny - 1));
        match self.cells[by * self.nx + bx] {
            EMPTY => Bucket::Empty,
            v if v & LIST != 0 => {
                let k = (v & !LIST) as usize;
                Bucket::Candidates(&self.cands[self.offsets[k] as usize..self.offsets[k + 1] as usize])
            }
            g => Bucket::Inside(g),
        }
    }

    /// Share of buckets settled without a polygon test (for the benchmark notes).
    pub fn settled_share(&self) -> f64 {
        self.cells.iter().filter(|c| **c & LIST == 0 || **c == EMPTY).count() as f64 / self.cells.len() as f64
    }
}
