//! A bucket raster over the grid layer that settles most points with one array lookup, and
//! tests the rest exactly against a handful of edges.
//!
//! The layer's extent is cut into square buckets (about [`BUCKETS_PER_GRID`] per grid); each
//! row of buckets is a horizontal *strip*. Every edge is registered in the strips and buckets
//! it comes within [`EPS`] of. A bucket no edge comes near lies entirely inside one grid (found
//! by a scan line through the bucket centres) or inside none: a point there needs no polygon
//! test. A bucket an edge crosses keeps its candidate grids in code order, each with the list
//! of its edges that cross the bucket's strip. That list is all a crossing-number test needs
//! for a point in the strip: a horizontal ray from the point meets only edges that span the
//! point's latitude, and those lie in its strip. The test uses exact orientation predicates
//! (`robust::orient2d`), so a point on an edge or vertex is recognised as on the boundary
//! (the closed area contains it) and [`super::BoundaryRule`] settles shared edges as before.

use geo::{BoundingRect, Coord, MultiPolygon};
use rayon::prelude::*;

/// Edges are registered in every strip and bucket they come within this distance of
/// (degrees, ~0.1 mm), so rounding in the bucket arithmetic can never put a point in a bucket
/// its edge missed.
const EPS: f64 = 1e-9;
/// Buckets per grid: finer buckets settle more points without a test but cost memory.
pub const BUCKETS_PER_GRID: f64 = 64.0;
const EMPTY: u32 = u32::MAX;
const LIST: u32 = 1 << 31;

/// Where a point is relative to one grid's closed area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    Inside,
    OnBoundary,
    Outside,
}

/// A candidate grid of a boundary bucket and its edges in the bucket's strip.
#[derive(Debug, Clone, Copy)]
struct Cand {
    grid: u32,
    start: u32,
    len: u32,
}

/// What a bucket holds.
pub enum Bucket<'a> {
    /// Entirely inside this grid.
    Inside(u32),
    /// Inside no grid.
    Empty,
    /// Crossed by the boundaries of these grids (sorted by index = code order).
    Candidates(Candidates<'a>),
}

/// The candidate grids of a boundary bucket.
pub struct Candidates<'a> {
    raster: &'a Raster,
    cands: &'a [Cand],
}

impl Candidates<'_> {
    #[allow(clippy::len_without_is_empty)] // a boundary bucket always has a candidate
    pub fn len(&self) -> usize {
        self.cands.len()
    }

    /// Grid index of candidate `k`.
    pub fn grid(&self, k: usize) -> u32 {
        self.cands[k].grid
    }

    /// Exact position of `(x, y)` relative to candidate `k`.
    pub fn position(&self, k: usize, x: f64, y: f64) -> Position {
        let c = self.cands[k];
        crossing_test(&self.raster.edges[c.start as usize..(c.start + c.len) as usize], x, y)
    }
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
    cands: Vec<Cand>,
    /// Edges `[ax, ay, bx, by]` grouped by (strip, grid).
    edges: Vec<[f64; 4]>,
}

/// Offsets of a compressed sparse row layout of `n` rows: `count(f)` calls `f(row)` once per
/// item.
fn csr(n: usize, count: impl Fn(&mut dyn FnMut(usize))) -> Vec<u32> {
    let mut start = vec![0u32; n + 1];
    count(&mut |r| start[r + 1] += 1);
    for r in 0..n {
        start[r + 1] += start[r];
    }
    start
}

/// The grids of each bucket from `(bucket << 32 | grid)` pairs: offsets and grid lists.
fn bucket_lists(nb: usize, pairs: &[u64]) -> (Vec<u32>, Vec<u32>) {
    let start = csr(nb, |f| pairs.iter().for_each(|p| f((p >> 32) as usize)));
    let mut fill = start.clone();
    let mut grids = vec![0u32; pairs.len()];
    for p in pairs {
        let b = (p >> 32) as usize;
        grids[fill[b] as usize] = *p as u32;
        fill[b] += 1;
    }
    (start, grids)
}

/// Crossing-number test of a point against the edges of one grid that cross its strip.
fn crossing_test(edges: &[[f64; 4]], px: f64, py: f64) -> Position {
    let mut inside = false;
    for &[ax, ay, bx, by] in edges {
        let (ylo, yhi) = if ay < by { (ay, by) } else { (by, ay) };
        if py < ylo || py > yhi {
            continue;
        }
        let (xlo, xhi) = if ax < bx { (ax, bx) } else { (bx, ax) };
        if px > xhi {
            // Left of the point: neither on the ray nor under the point.
            continue;
        }
        // The edge spans the ray's line under the half-open rule (a vertex on the line counts
        // for the edge above it only), so each crossing is counted once.
        let spans = (ay > py) != (by > py);
        if px < xlo {
            inside ^= spans;
            continue;
        }
        let o = robust::orient2d(robust::Coord { x: ax, y: ay }, robust::Coord { x: bx, y: by }, robust::Coord { x: px, y: py });
        if o == 0.0 {
            return Position::OnBoundary;
        }
        // Going up, the crossing is right of the point when the point is left of the edge.
        if spans && ((o > 0.0) == (by > ay)) {
            inside = !inside;
        }
    }
    if inside { Position::Inside } else { Position::Outside }
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
        let target = (geoms.len() as f64 * BUCKETS_PER_GRID).clamp(1024.0, 16_000_000.0);
        let d = (w * h / target).sqrt();
        let (nx, ny) = (((w / d).ceil() as usize).max(1), ((h / d).ceil() as usize).max(1));
        let inv = 1.0 / d;
        let (x0, y0) = (bbox.min().x, bbox.min().y);
        let index = |v: f64, origin: f64, n: usize| -> usize { (((v - origin) * inv).floor().max(0.0) as usize).min(n - 1) };

        // 1. Every edge, in each strip it comes near, with the buckets of that strip it comes
        //    near: (strip, grid, edge) and (bucket, grid) pairs.
        type Parts = (Vec<(u64, [f64; 4])>, Vec<u64>);
        let (strip_edges, boundary): Parts = geoms
            .par_iter()
            .enumerate()
            .map(|(g, mp)| {
                let (mut se, mut bd) = (Vec::new(), Vec::new());
                for poly in &mp.0 {
                    for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                        for l in ring.lines() {
                            let (a, b) = (l.start, l.end);
                            let (ylo, yhi) = (a.y.min(b.y), a.y.max(b.y));
                            let (sa, sb) = (index(ylo - EPS, y0, ny), index(yhi + EPS, y0, ny));
                            for s in sa..=sb {
                                se.push(((s as u64) << 32 | g as u64, [a.x, a.y, b.x, b.y]));
                                // The part of the edge within the strip (widened by EPS).
                                let (sy0, sy1) = (y0 + s as f64 * d - EPS, y0 + (s + 1) as f64 * d + EPS);
                                let (xa, xb) = if a.y == b.y {
                                    (a.x.min(b.x), a.x.max(b.x))
                                } else {
                                    let at = |y: f64| a.x + (y.clamp(ylo, yhi) - a.y) * (b.x - a.x) / (b.y - a.y);
                                    let (p, q) = (at(sy0), at(sy1));
                                    (p.min(q), p.max(q))
                                };
                                let (ba, bb) = (index(xa - EPS, x0, nx), index(xb + EPS, x0, nx));
                                for bx in ba..=bb {
                                    bd.push(((s * nx + bx) as u64) << 32 | g as u64);
                                }
                            }
                        }
                    }
                }
                (se, bd)
            })
            .reduce(
                || (Vec::new(), Vec::new()),
                |mut a, b| {
                    a.0.extend(b.0);
                    a.1.extend(b.1);
                    a
                },
            );
        // Grouped by strip with a stable counting sort: within a strip the edges stay in grid
        // order (they were produced grid by grid), so they are grouped by (strip, grid).
        let edges_of_strip = csr(ny, |f| strip_edges.iter().for_each(|e| f((e.0 >> 32) as usize)));
        let mut edges: Vec<[f64; 4]> = vec![[0.0; 4]; strip_edges.len()];
        let mut grid_of: Vec<u32> = vec![0; strip_edges.len()];
        let mut fill = edges_of_strip.clone();
        for (k, e) in &strip_edges {
            let s = (k >> 32) as usize;
            edges[fill[s] as usize] = *e;
            grid_of[fill[s] as usize] = *k as u32;
            fill[s] += 1;
        }
        drop(strip_edges);
        // (strip, grid) → range of `edges`, sorted by key.
        let mut groups: Vec<(u64, u32, u32)> = Vec::new();
        for s in 0..ny {
            for i in edges_of_strip[s]..edges_of_strip[s + 1] {
                let k = (s as u64) << 32 | grid_of[i as usize] as u64;
                match groups.last_mut() {
                    Some(g) if g.0 == k => g.2 += 1,
                    _ => groups.push((k, i, 1)),
                }
            }
        }
        drop(grid_of);

        // 2. A scan line through each strip's bucket centres: the buckets whose centre lies
        //    inside each grid (even-odd over the grid's crossings of that line).
        let inner: Vec<u64> = groups
            .par_iter()
            .flat_map_iter(|&(k, start, len)| {
                let s = (k >> 32) as usize;
                let g = k as u32 as u64;
                let yc = y0 + (s as f64 + 0.5) * d;
                let mut xs: Vec<f64> = edges[start as usize..(start + len) as usize]
                    .iter()
                    .filter(|e| (e[1] > yc) != (e[3] > yc))
                    .map(|e| e[0] + (yc - e[1]) * (e[2] - e[0]) / (e[3] - e[1]))
                    .collect();
                xs.sort_by(f64::total_cmp);
                let mut out = Vec::new();
                for pair in xs.chunks_exact(2) {
                    let first = ((pair[0] - x0) * inv - 0.5).ceil().max(0.0) as usize;
                    let last = ((pair[1] - x0) * inv - 0.5).floor();
                    if last < 0.0 {
                        continue;
                    }
                    for bx in first..=(last as usize).min(nx - 1) {
                        out.push(((s * nx + bx) as u64) << 32 | g);
                    }
                }
                out
            })
            .collect();

        // 3. Per bucket: no edge near and one grid at the centre → settled; no edge and no grid
        //    → empty; anything else keeps every grid involved as candidates.
        let nb = nx * ny;
        let (bstart, bgrids) = bucket_lists(nb, &boundary);
        let (istart, igrids) = bucket_lists(nb, &inner);
        drop((boundary, inner));
        let mut cells = vec![EMPTY; nb];
        let mut lists: Vec<(usize, Vec<u32>)> = Vec::new();
        for b in 0..nb {
            let bd = &bgrids[bstart[b] as usize..bstart[b + 1] as usize];
            let inn = &igrids[istart[b] as usize..istart[b + 1] as usize];
            match (bd.len(), inn.len()) {
                (0, 0) => {}
                (0, 1) => cells[b] = inn[0],
                _ => {
                    let mut l: Vec<u32> = bd.iter().chain(inn).copied().collect();
                    l.sort_unstable();
                    l.dedup();
                    lists.push((b, l));
                }
            }
        }
        let mut offsets = vec![0u32];
        let mut cands = Vec::new();
        for (k, (b, l)) in lists.into_iter().enumerate() {
            cells[b] = LIST | k as u32;
            let strip = (b / nx) as u64;
            for g in l {
                let key = strip << 32 | g as u64;
                // Every candidate crosses the strip (an edge near the bucket, or a centre
                // inside it), so its edges are there; an empty range would only test outside.
                let (start, len) = match groups.binary_search_by_key(&key, |e| e.0) {
                    Ok(at) => (groups[at].1, groups[at].2),
                    Err(_) => (0, 0),
                };
                cands.push(Cand { grid: g, start, len });
            }
            offsets.push(cands.len() as u32);
        }
        Some(Raster { x0, y0, inv, nx, ny, cells, offsets, cands, edges })
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
                Bucket::Candidates(Candidates { raster: self, cands: &self.cands[self.offsets[k] as usize..self.offsets[k + 1] as usize] })
            }
            g => Bucket::Inside(g),
        }
    }

    /// Index of the bucket a point falls in (for ordering points by place).
    pub fn bucket_index(&self, x: f64, y: f64) -> u32 {
        let bx = (((x - self.x0) * self.inv).floor().max(0.0) as usize).min(self.nx - 1);
        let by = (((y - self.y0) * self.inv).floor().max(0.0) as usize).min(self.ny - 1);
        (by * self.nx + bx) as u32
    }

    /// Share of buckets settled without a polygon test (for the benchmark notes).
    pub fn settled_share(&self) -> f64 {
        self.cells.iter().filter(|c| **c & LIST == 0 || **c == EMPTY).count() as f64 / self.cells.len() as f64
    }

    /// Bytes held by the raster and its edge lists.
    pub fn bytes(&self) -> usize {
        self.cells.len() * 4 + self.offsets.len() * 4 + self.cands.len() * 12 + self.edges.len() * 32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crossing_test_on_a_square_with_a_hole() {
        // Unit square (CCW) with a hole [0.4, 0.6]² (CW): edges as the raster stores them.
        let sq = [[0.0, 0.0, 1.0, 0.0], [1.0, 0.0, 1.0, 1.0], [1.0, 1.0, 0.0, 1.0], [0.0, 1.0, 0.0, 0.0]];
        let hole = [[0.4, 0.4, 0.4, 0.6], [0.4, 0.6, 0.6, 0.6], [0.6, 0.6, 0.6, 0.4], [0.6, 0.4, 0.4, 0.4]];
        let e: Vec<[f64; 4]> = sq.iter().chain(hole.iter()).copied().collect();
        use Position::*;
        for (x, y, want) in [
            (0.5, 0.2, Inside),
            (0.5, 0.5, Outside),
            (0.0, 0.5, OnBoundary),
            (1.0, 1.0, OnBoundary),
            (0.5, 0.4, OnBoundary),
            (0.4, 0.5, OnBoundary),
            (1.5, 0.5, Outside),
            (-0.5, 0.0, Outside),
            (0.2, 0.4, Inside),
            (0.2, 0.6, Inside),
            (0.5, 1.0, OnBoundary),
            (0.5, 1.0 + 1e-12, Outside),
        ] {
            assert_eq!(crossing_test(&e, x, y), want, "({x}, {y})");
        }
    }
}
