//! A bucket raster over the grid layer that settles most points with one array lookup, and
//! tests the rest exactly against a handful of edges.
//!
//! The layer's extent is cut into square buckets (about [`BUCKETS_PER_GRID`] per grid); each
//! row of buckets is a horizontal *strip*. Every edge is registered in the strips and buckets
//! it comes within [`EPS`] of. A bucket no edge comes near lies entirely inside one grid (found
//! by a scan line through the bucket centres) or inside none: a point there needs no polygon
//! test. A bucket an edge crosses keeps its candidate grids in code order, each with the runs
//! of consecutive ring edges that cross the bucket's strip (the edges themselves stay in the
//! grid geometries). Those edges are all a crossing-number test needs
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

/// A candidate grid of a boundary bucket and its runs of edges in the bucket's strip
/// (`runs[start..start + len]`).
#[derive(Debug, Clone, Copy)]
struct Cand {
    grid: u32,
    start: u32,
    len: u32,
}

/// Edges `start..start + len` of ring `ring` (edge k joins vertices k and k + 1).
#[derive(Debug, Clone, Copy)]
struct Run {
    ring: u32,
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
    raster: &'a Raster<'a>,
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
        let r = self.raster;
        let runs = &r.runs[c.start as usize..(c.start + c.len) as usize];
        crossing_test(runs.iter().flat_map(|run| edges_of(r.rings[run.ring as usize], run.start, run.len)), x, y)
    }
}

/// The edges `start..start + len` of a ring as `[ax, ay, bx, by]`.
fn edges_of(ring: &[Coord<f64>], start: u32, len: u32) -> impl Iterator<Item = [f64; 4]> + '_ {
    ring[start as usize..(start + len + 1) as usize].windows(2).map(|w| [w[0].x, w[0].y, w[1].x, w[1].y])
}

pub struct Raster<'a> {
    x0: f64,
    y0: f64,
    inv: f64,
    nx: usize,
    ny: usize,
    /// Per bucket: a grid index, `EMPTY`, or `LIST | k` for candidate list k.
    cells: Vec<u32>,
    offsets: Vec<u32>,
    cands: Vec<Cand>,
    /// Every ring of every grid, closed (the last vertex repeats the first).
    rings: Vec<&'a [Coord<f64>]>,
    /// Runs of edges grouped by (strip, grid).
    runs: Vec<Run>,
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

/// Crossing-number test of a point against the edges of one grid that cross its strip.
fn crossing_test(edges: impl Iterator<Item = [f64; 4]>, px: f64, py: f64) -> Position {
    let mut inside = false;
    for [ax, ay, bx, by] in edges {
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

impl<'a> Raster<'a> {
    pub fn new(geoms: &[&'a MultiPolygon<f64>]) -> Option<Raster<'a>> {
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

        // Every ring, and the first ring of each grid.
        let mut rings: Vec<&'a [Coord<f64>]> = Vec::new();
        let mut first_ring: Vec<u32> = Vec::with_capacity(geoms.len() + 1);
        for mp in geoms {
            first_ring.push(rings.len() as u32);
            for poly in &mp.0 {
                for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                    rings.push(&ring.0);
                }
            }
        }
        first_ring.push(rings.len() as u32);

        // 1. Per grid: its runs of consecutive edges per strip the edges come near.
        let parts: Vec<Vec<(u32, Run)>> = (0..geoms.len())
            .into_par_iter()
            .map(|g| {
                let mut runs: Vec<(u32, Run)> = Vec::new();
                // Per strip, the run the previous edge extended (index into `runs`).
                let mut open: std::collections::HashMap<usize, usize> = Default::default();
                for ri in first_ring[g]..first_ring[g + 1] {
                    open.clear();
                    for (k, e) in rings[ri as usize].windows(2).enumerate() {
                        let (ylo, yhi) = (e[0].y.min(e[1].y), e[0].y.max(e[1].y));
                        let (sa, sb) = (index(ylo - EPS, y0, ny), index(yhi + EPS, y0, ny));
                        for s in sa..=sb {
                            match open.get(&s).copied() {
                                Some(r) if runs[r].1.start + runs[r].1.len == k as u32 => runs[r].1.len += 1,
                                _ => {
                                    open.insert(s, runs.len());
                                    runs.push((s as u32, Run { ring: ri, start: k as u32, len: 1 }));
                                }
                            }
                        }
                    }
                }
                runs
            })
            .collect();
        // Runs grouped by strip with a stable counting sort: within a strip they stay in grid
        // order, so they are grouped by (strip, grid).
        let strip_start = csr(ny, |f| parts.iter().for_each(|p| p.iter().for_each(|(s, _)| f(*s as usize))));
        let mut fill = strip_start.clone();
        let total = strip_start[ny] as usize;
        let mut runs: Vec<Run> = vec![Run { ring: 0, start: 0, len: 0 }; total];
        let mut run_grid: Vec<u32> = vec![0; total];
        for (g, rs) in parts.into_iter().enumerate() {
            for (s, r) in rs {
                let at = fill[s as usize] as usize;
                runs[at] = r;
                run_grid[at] = g as u32;
                fill[s as usize] += 1;
            }
        }
        // (strip, grid) → range of `runs`, sorted by key.
        let mut groups: Vec<(u64, u32, u32)> = Vec::new();
        for s in 0..ny {
            for i in strip_start[s]..strip_start[s + 1] {
                let k = (s as u64) << 32 | run_grid[i as usize] as u64;
                match groups.last_mut() {
                    Some(g) if g.0 == k => g.2 += 1,
                    _ => groups.push((k, i, 1)),
                }
            }
        }
        drop(run_grid);

        // 2. Strip by strip, in parallel, from the strip's groups alone: the buckets each
        //    grid's edges come near (boundary), the buckets whose centre a scan line through
        //    the strip finds inside each grid (even-odd over its crossings of that line); then
        //    per bucket: no edge near and one grid at the centre → settled; no edge and no grid
        //    → empty; anything else keeps every grid involved as candidates, each with its runs.
        let nb = nx * ny;
        let strip_groups = csr(ny, |f| groups.iter().for_each(|g| f((g.0 >> 32) as usize)));
        type Row = (Vec<u32>, Vec<Cand>, Vec<u32>);
        let rows: Vec<Row> = (0..ny)
            .into_par_iter()
            .map(|s| {
                let sg = &groups[strip_groups[s] as usize..strip_groups[s + 1] as usize];
                let (sy0, sy1) = (y0 + s as f64 * d - EPS, y0 + (s + 1) as f64 * d + EPS);
                let yc = y0 + (s as f64 + 0.5) * d;
                // (bucket column, index of the group in `sg`, boundary?) for this strip.
                let mut items: Vec<(u32, u32, bool)> = Vec::new();
                let mut xs: Vec<f64> = Vec::new();
                for (gi, &(_, start, len)) in sg.iter().enumerate() {
                    xs.clear();
                    for r in &runs[start as usize..(start + len) as usize] {
                        for [ax, ay, bx, by] in edges_of(rings[r.ring as usize], r.start, r.len) {
                            // The part of the edge within the strip (widened by EPS).
                            let (ylo, yhi) = (ay.min(by), ay.max(by));
                            let (xa, xb) = if ay == by {
                                (ax.min(bx), ax.max(bx))
                            } else {
                                let at = |y: f64| ax + (y.clamp(ylo, yhi) - ay) * (bx - ax) / (by - ay);
                                let (p, q) = (at(sy0), at(sy1));
                                (p.min(q), p.max(q))
                            };
                            for col in index(xa - EPS, x0, nx)..=index(xb + EPS, x0, nx) {
                                items.push((col as u32, gi as u32, true));
                            }
                            if (ay > yc) != (by > yc) {
                                xs.push(ax + (yc - ay) * (bx - ax) / (by - ay));
                            }
                        }
                    }
                    xs.sort_by(f64::total_cmp);
                    for pair in xs.chunks_exact(2) {
                        let first = ((pair[0] - x0) * inv - 0.5).ceil().max(0.0) as usize;
                        let last = ((pair[1] - x0) * inv - 0.5).floor();
                        if last < 0.0 {
                            continue;
                        }
                        for col in first..=(last as usize).min(nx - 1) {
                            items.push((col as u32, gi as u32, false));
                        }
                    }
                }
                // Groups are in grid order, so sorting by group index sorts by grid.
                items.sort_unstable();
                items.dedup();
                let (mut cells, mut cands, mut ends) = (vec![EMPTY; nx], Vec::new(), Vec::new());
                for here in items.chunk_by(|x, y| x.0 == y.0) {
                    let col = here[0].0 as usize;
                    if let [(_, gi, false)] = here {
                        cells[col] = (sg[*gi as usize].0 & 0xFFFF_FFFF) as u32;
                    } else {
                        cells[col] = LIST | ends.len() as u32;
                        // A grid both near and inside the bucket is one candidate.
                        for same in here.chunk_by(|x, y| x.1 == y.1) {
                            let (k, start, len) = sg[same[0].1 as usize];
                            cands.push(Cand { grid: (k & 0xFFFF_FFFF) as u32, start, len });
                        }
                        ends.push(cands.len() as u32);
                    }
                }
                (cells, cands, ends)
            })
            .collect();
        let mut cells = Vec::with_capacity(nb);
        let mut offsets = vec![0u32];
        let mut cands = Vec::with_capacity(rows.iter().map(|r| r.1.len()).sum());
        for (row, cs, ends) in rows {
            let (k0, c0) = (offsets.len() as u32 - 1, cands.len() as u32);
            cells.extend(row.into_iter().map(|c| if c != EMPTY && c & LIST != 0 { LIST | ((c & !LIST) + k0) } else { c }));
            cands.extend(cs);
            offsets.extend(ends.into_iter().map(|e| e + c0));
        }
        Some(Raster { x0, y0, inv, nx, ny, cells, offsets, cands, rings, runs })
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

    /// Bytes held by the raster and its edge runs.
    pub fn bytes(&self) -> usize {
        self.cells.len() * 4 + self.offsets.len() * 4 + self.cands.len() * 12 + self.rings.len() * 16 + self.runs.len() * 12
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
            assert_eq!(crossing_test(e.iter().copied(), x, y), want, "({x}, {y})");
        }
    }
}
