//! Irregular grid cells that tile each district exactly.
//!
//! Each district gets its own lattice whose shared vertices are jittered (so the quads are
//! irregular, like real grids, but still tile the plane) and rounded to 6 decimals *before*
//! clipping, so neighbouring cells share vertices bit for bit. Quads crossing the district
//! boundary are clipped with `BooleanOps::intersection`; the new intersection points are rounded
//! and snapped so that both cells on either side of a lattice edge get the very same vertex.
//! Slivers below 10 % of the nominal cell are merged into the neighbour they share the longest
//! edge with, so a later union of a community's cells dissolves cleanly.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use geo::orient::{Direction, Orient};
use geo::{BooleanOps, Contains, Coord, CoordsIter, LineString, MultiPolygon, Point, Polygon, Validation, unary_union};
use rand::Rng;
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use super::SynthError;
use super::reference::{District, Reference};
use super::util::{centroid_km, clean_ring, from_key, from_km, key, polygon_area_km2, rng_for, round_multipolygon, round6, to_km};

/// Largest vertex displacement, as a share of the spacing. Below 0.5 no two lattice edges can
/// cross, so every quad stays a simple polygon; 0.25 keeps them visibly irregular but not spiky.
const JITTER: f64 = 0.25;
/// Pieces smaller than this share of the nominal cell are merged into a neighbour.
const SLIVER_SHARE: f64 = 0.10;
/// Half side of the enclave square, as a share of the spacing (well inside any jittered quad).
const ENCLAVE_HALF: f64 = 0.15;

pub(crate) struct Cell {
    pub district: usize,
    /// Lattice column (west -> east) and row (south -> north); numbering uses them.
    pub col: i64,
    pub row: i64,
    /// 0 for lattice cells, 1 for the enclave cut out of cell (col, row).
    pub sub: u8,
    /// WGS84, 6 decimals, exterior CCW, holes CW, valid.
    pub shape: MultiPolygon<f64>,
    /// For the enclave: index (in `Tiling::cells`) of the cell whose hole it fills.
    pub enclave_of: Option<usize>,
    /// An unclipped lattice quad (candidate for the enclave).
    pub whole: bool,
}

pub(crate) struct Tiling {
    /// Grouped by district, each district's cells north -> south, west -> east.
    pub cells: Vec<Cell>,
    pub slivers_merged: usize,
}

/// Nominal cell spacing: dense in the old city, coarse in the mountains (km).
pub(crate) fn spacing_km(district_code: &str) -> f64 {
    match district_code {
        "110101" | "110102" => 0.5,                                  // 东城, 西城
        "110105" | "110106" | "110107" | "110108" => 1.0,            // 朝阳, 丰台, 石景山, 海淀
        "110111" | "110112" | "110113" | "110114" | "110115" => 2.5, // plains: 房山 通州 顺义 昌平 大兴
        _ => 3.5,                                                    // mountains: 门头沟 怀柔 平谷 密云 延庆
    }
}

pub(crate) fn tile(reference: &Reference, seed: u64) -> Result<Tiling, SynthError> {
    let spacing: Vec<f64> = reference.districts.iter().map(|d| spacing_km(&d.code)).collect();
    // Each district has its own random stream, so the parallel map is deterministic.
    let per_district: Vec<Result<(Vec<Cell>, usize), SynthError>> =
        reference.districts.par_iter().enumerate().map(|(d, dist)| tile_district(d, dist, spacing[d], seed)).collect();
    let mut cells = Vec::new();
    let mut slivers_merged = 0;
    for r in per_district {
        let (c, merged) = r?;
        cells.extend(c);
        slivers_merged += merged;
    }
    stitch_districts(&mut cells);
    add_enclave(&mut cells, reference, &spacing)?;
    Ok(Tiling { cells, slivers_merged })
}

struct Piece {
    col: i64,
    row: i64,
    poly: Polygon<f64>,
    area: f64,
    /// True when the piece is a whole, unclipped lattice quad.
    whole: bool,
}

type Key = (i64, i64);

fn tiling_err(dist: &District, msg: impl Into<String>) -> SynthError {
    SynthError::Tiling { district: format!("{} {}", dist.code, dist.name), msg: msg.into() }
}

fn tile_district(d: usize, dist: &District, s: f64, seed: u64) -> Result<(Vec<Cell>, usize), SynthError> {
    let mut rng = rng_for(seed, 0x7100 + d as u64);
    let (mut xmin, mut ymin, mut xmax, mut ymax) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for c in dist.shape.coords_iter() {
        let (x, y) = to_km(c.x, c.y);
        xmin = xmin.min(x);
        ymin = ymin.min(y);
        xmax = xmax.max(x);
        ymax = ymax.max(y);
    }
    // One spare ring of cells around the bounding box so that jitter never uncovers an edge.
    let (i0, i1) = ((xmin / s).floor() as i64 - 1, (xmax / s).ceil() as i64 + 1);
    let (j0, j1) = ((ymin / s).floor() as i64 - 1, (ymax / s).ceil() as i64 + 1);
    let ni = (i1 - i0 + 1) as usize;
    let mut verts: Vec<Coord<f64>> = Vec::with_capacity(ni * (j1 - j0 + 1) as usize);
    for j in j0..=j1 {
        for i in i0..=i1 {
            let dx = rng.random_range(-JITTER..JITTER) * s;
            let dy = rng.random_range(-JITTER..JITTER) * s;
            let (lon, lat) = from_km(i as f64 * s + dx, j as f64 * s + dy);
            // Rounded before clipping: both neighbours then see the identical vertex.
            verts.push(Coord { x: round6(lon), y: round6(lat) });
        }
    }
    let vert = |i: i64, j: i64| verts[(j - j0) as usize * ni + (i - i0) as usize];

    // Vertices that are already exact (lattice and district boundary); intersection points are
    // snapped onto these or onto each other.
    let mut exact: HashSet<Key> = verts.iter().map(|c| key(*c)).collect();
    exact.extend(dist.shape.coords_iter().map(key));
    let mut snapped: HashMap<Key, Key> = HashMap::new();

    let segments: Vec<GeomWithData<Rectangle<[f64; 2]>, ()>> = dist
        .shape
        .0
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .flat_map(|r| r.lines())
        .map(|l| GeomWithData::new(Rectangle::from_corners([l.start.x, l.start.y], [l.end.x, l.end.y]), ()))
        .collect();
    let boundary = RTree::bulk_load(segments);

    let mut pieces: Vec<Piece> = Vec::new();
    for j in j0..j1 {
        for i in i0..i1 {
            let ring = vec![vert(i, j), vert(i + 1, j), vert(i + 1, j + 1), vert(i, j + 1), vert(i, j)];
            let (mut bmin, mut bmax) = ([f64::MAX; 2], [f64::MIN; 2]);
            for c in &ring {
                bmin = [bmin[0].min(c.x), bmin[1].min(c.y)];
                bmax = [bmax[0].max(c.x), bmax[1].max(c.y)];
            }
            let quad = Polygon::new(LineString::new(ring), vec![]);
            let crosses = boundary.locate_in_envelope_intersecting(&AABB::from_corners(bmin, bmax)).next().is_some();
            if !crosses {
                // No boundary segment near the quad: it is wholly inside or wholly outside, and
                // any vertex tells which. Skipping the overlay here is what keeps tiling fast.
                if dist.shape.contains(&Point::from(vert(i, j))) {
                    let area = polygon_area_km2(&quad);
                    pieces.push(Piece { col: i, row: j, poly: quad, area, whole: true });
                }
                continue;
            }
            let clipped = quad.intersection(&dist.shape);
            for p in clipped.0 {
                if let Some(poly) = snap_polygon(&p, &exact, &mut snapped) {
                    let area = polygon_area_km2(&poly);
                    if area > 0.0 {
                        pieces.push(Piece { col: i, row: j, poly, area, whole: false });
                    }
                }
            }
        }
    }
    if pieces.is_empty() {
        return Err(tiling_err(dist, "no lattice cell intersects the district"));
    }
    merge_slivers(d, dist, pieces, s * s)
}

/// Rounds a clipped polygon and maps each new vertex to its canonical key, so that the copy of an
/// intersection point computed for the cell on the other side of the edge lands on the same
/// vertex (the overlay computes them with ~1e-9 noise, which can straddle a rounding boundary).
fn snap_polygon(p: &Polygon<f64>, exact: &HashSet<Key>, snapped: &mut HashMap<Key, Key>) -> Option<Polygon<f64>> {
    let mut snap_ring = |r: &LineString<f64>| {
        let coords: Vec<Coord<f64>> = r.0.iter().map(|c| from_key(canonical(key(*c), exact, snapped))).collect();
        clean_ring(coords)
    };
    let ext = snap_ring(p.exterior())?;
    let holes = p.interiors().iter().filter_map(&mut snap_ring).collect();
    Some(Polygon::new(ext, holes))
}

/// `snapped` maps every rounded intersection point seen so far to the vertex it became. A new
/// point within one unit (1e-6 degree) of an earlier one is the other cell's copy of it and takes
/// the same vertex; otherwise a point within one unit of an exact vertex merges into it (keeping
/// a 10 cm edge there would only create a needle).
fn canonical(k: Key, exact: &HashSet<Key>, snapped: &mut HashMap<Key, Key>) -> Key {
    if exact.contains(&k) {
        return k;
    }
    if let Some(&c) = snapped.get(&k) {
        return c;
    }
    const AROUND: [(i64, i64); 8] = [(-1, -1), (-1, 0), (-1, 1), (0, -1), (0, 1), (1, -1), (1, 0), (1, 1)];
    let near = |(dx, dy): (i64, i64)| (k.0 + dx, k.1 + dy);
    let c = AROUND
        .iter()
        .find_map(|&d| snapped.get(&near(d)).copied())
        .or_else(|| AROUND.iter().map(|&d| near(d)).find(|n| exact.contains(n)))
        .unwrap_or(k);
    snapped.insert(k, c);
    c
}

fn edge_key(a: Key, b: Key) -> (Key, Key) {
    if a <= b { (a, b) } else { (b, a) }
}

/// Assigns each sliver to the neighbour it shares the longest edge with, then builds one cell per
/// lattice quad from its remaining pieces (several pieces -> MultiPolygon).
fn merge_slivers(d: usize, dist: &District, pieces: Vec<Piece>, nominal: f64) -> Result<(Vec<Cell>, usize), SynthError> {
    let mut small: Vec<bool> = pieces.iter().map(|p| p.area < SLIVER_SHARE * nominal).collect();
    if small.iter().all(|&s| s) {
        // A district smaller than a sliver still needs one cell: keep its largest piece.
        let largest = (0..pieces.len()).max_by(|&a, &b| pieces[a].area.total_cmp(&pieces[b].area).then(b.cmp(&a)));
        if let Some(l) = largest {
            small[l] = false;
        }
    }
    // Shared edge length between pieces; BTreeMaps keep float sums in a fixed order.
    let mut edges: BTreeMap<(Key, Key), Vec<usize>> = BTreeMap::new();
    for (pi, p) in pieces.iter().enumerate() {
        for r in std::iter::once(p.poly.exterior()).chain(p.poly.interiors()) {
            for w in r.0.windows(2) {
                edges.entry(edge_key(key(w[0]), key(w[1]))).or_default().push(pi);
            }
        }
    }
    let mut shared: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); pieces.len()];
    for ((a, b), owners) in &edges {
        if owners.len() < 2 {
            continue;
        }
        let (ax, ay) = to_km(from_key(*a).x, from_key(*a).y);
        let (bx, by) = to_km(from_key(*b).x, from_key(*b).y);
        let len = (ax - bx).hypot(ay - by);
        for &p in owners {
            for &q in owners {
                if p != q {
                    *shared[p].entry(q).or_insert(0.0) += len;
                }
            }
        }
    }

    let mut cell_of: Vec<Option<(i64, i64)>> = pieces.iter().zip(&small).map(|(p, &s)| (!s).then_some((p.col, p.row))).collect();
    let mut order: Vec<usize> = (0..pieces.len()).filter(|&p| small[p]).collect();
    order.sort_by(|&a, &b| pieces[a].area.total_cmp(&pieces[b].area).then(a.cmp(&b)));
    let mut merged = 0;
    loop {
        let mut progress = false;
        for &p in &order {
            if cell_of[p].is_some() {
                continue;
            }
            let best = shared[p]
                .iter()
                .filter_map(|(&q, &len)| cell_of[q].map(|c| (len, q, c)))
                .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
            if let Some((_, _, c)) = best {
                cell_of[p] = Some(c);
                merged += 1;
                progress = true;
            }
        }
        if !progress {
            break;
        }
    }
    // Islands with no edge neighbour: stay with their own quad if it has a large piece, else join
    // the nearest assigned piece (which makes that cell a MultiPolygon).
    let own_quads: HashSet<(i64, i64)> = cell_of.iter().flatten().copied().collect();
    let centroids: Vec<(f64, f64)> = pieces.iter().map(|p| centroid_km(&MultiPolygon::new(vec![p.poly.clone()]))).collect();
    for &p in &order {
        if cell_of[p].is_some() {
            continue;
        }
        let own = (pieces[p].col, pieces[p].row);
        let target = if own_quads.contains(&own) {
            Some(own)
        } else {
            (0..pieces.len())
                .filter(|&q| !small[q])
                .min_by(|&a, &b| {
                    let da = (centroids[a].0 - centroids[p].0).hypot(centroids[a].1 - centroids[p].1);
                    let db = (centroids[b].0 - centroids[p].0).hypot(centroids[b].1 - centroids[p].1);
                    da.total_cmp(&db).then(a.cmp(&b))
                })
                .and_then(|q| cell_of[q])
        };
        cell_of[p] = target;
        merged += 1;
    }

    let mut groups: BTreeMap<(i64, i64), Vec<usize>> = BTreeMap::new();
    for (p, c) in cell_of.iter().enumerate() {
        let c = c.ok_or_else(|| tiling_err(dist, "a sliver found no cell to join"))?;
        groups.entry(c).or_default().push(p);
    }
    let mut cells = Vec::with_capacity(groups.len());
    for ((col, row), members) in groups {
        let whole = members.len() == 1 && pieces[members[0]].whole;
        let shape = if members.len() == 1 {
            MultiPolygon::new(vec![pieces[members[0]].poly.clone()])
        } else {
            let polys: Vec<Polygon<f64>> = members.iter().map(|&m| pieces[m].poly.clone()).collect();
            // The pieces share edges exactly, so the union dissolves them; it returns the input
            // vertices with ~1e-9 noise, which rounding removes again.
            round_multipolygon(&unary_union(&polys))
        };
        let shape = make_valid(dist, shape, col, row)?;
        cells.push(Cell { district: d, col, row, sub: 0, shape, enclave_of: None, whole });
    }
    // North -> south, then west -> east: the order grid sequence numbers follow.
    cells.sort_by(|a, b| b.row.cmp(&a.row).then(a.col.cmp(&b.col)));
    Ok((cells, merged))
}

/// Distance (degrees) within which another district's vertex counts as lying on an edge: a
/// rounded and snapped intersection point is at most ~1.5e-6 off the boundary it was cut from.
const STITCH_TOLERANCE: f64 = 2.5e-6;

/// Makes neighbouring districts share vertices along their common boundary.
///
/// Each district was cut by its own lattice, and the points where a lattice edge crosses the
/// district boundary were rounded to 6 decimals, i.e. moved up to ~7 cm off the boundary. The
/// neighbouring district's cells do not have those points, which leaves square-centimetre to
/// square-metre overlaps and gaps along district borders. Inserting each such point into the
/// neighbour's edge it lies on gives both sides the same vertex sequence, so the whole city
/// dissolves cleanly too.
fn stitch_districts(cells: &mut [Cell]) {
    let mut seen: BTreeSet<(usize, Key)> = BTreeSet::new();
    for c in cells.iter() {
        for k in c.shape.coords_iter().map(key) {
            seen.insert((c.district, k));
        }
    }
    let points: Vec<GeomWithData<[f64; 2], (usize, Key)>> =
        seen.iter().map(|&(d, k)| (d, k, from_key(k))).map(|(d, k, c)| GeomWithData::new([c.x, c.y], (d, k))).collect();
    let tree = RTree::bulk_load(points);
    cells.par_iter_mut().for_each(|cell| {
        let district = cell.district;
        let mut changed = false;
        let mut stitch_ring = |r: &LineString<f64>| -> LineString<f64> {
            // A point the ring already visits elsewhere would make it touch itself; a vertex our
            // own district already has (a shared boundary vertex) belongs to another of our cells.
            let own: HashSet<Key> = r.0.iter().map(|c| key(*c)).collect();
            // Each foreign point goes on the one edge it is closest to: near a vertex it is within
            // tolerance of both edges there, and inserting it twice would make a spike.
            let mut best: BTreeMap<Key, (usize, f64, f64)> = BTreeMap::new();
            for (e, w) in r.0.windows(2).enumerate() {
                let (a, b) = (w[0], w[1]);
                let (dx, dy) = (b.x - a.x, b.y - a.y);
                let len2 = dx * dx + dy * dy;
                if len2 == 0.0 {
                    continue;
                }
                let env = AABB::from_corners(
                    [a.x.min(b.x) - STITCH_TOLERANCE, a.y.min(b.y) - STITCH_TOLERANCE],
                    [a.x.max(b.x) + STITCH_TOLERANCE, a.y.max(b.y) + STITCH_TOLERANCE],
                );
                for p in tree.locate_in_envelope(&env) {
                    let (d, k) = p.data;
                    if d == district || own.contains(&k) || seen.contains(&(district, k)) {
                        continue;
                    }
                    let [px, py] = *p.geom();
                    let t = ((px - a.x) * dx + (py - a.y) * dy) / len2;
                    let dist = ((a.x + t * dx - px).powi(2) + (a.y + t * dy - py).powi(2)).sqrt();
                    if t > 0.0 && t < 1.0 && dist < STITCH_TOLERANCE && best.get(&k).is_none_or(|b| dist < b.2) {
                        best.insert(k, (e, t, dist));
                    }
                }
            }
            if best.is_empty() {
                return r.clone();
            }
            changed = true;
            let mut per_edge: BTreeMap<usize, Vec<(f64, Key)>> = BTreeMap::new();
            for (k, (e, t, _)) in best {
                per_edge.entry(e).or_default().push((t, k));
            }
            let mut out = Vec::with_capacity(r.0.len() + per_edge.len());
            for (e, c) in r.0.iter().enumerate() {
                out.push(*c);
                if let Some(ins) = per_edge.get_mut(&e) {
                    ins.sort_by(|x, y| x.0.total_cmp(&y.0).then(x.1.cmp(&y.1)));
                    out.extend(ins.iter().map(|(_, k)| from_key(*k)));
                }
            }
            LineString::new(out)
        };
        let stitched = MultiPolygon::new(
            cell.shape
                .0
                .iter()
                .map(|p| Polygon::new(stitch_ring(p.exterior()), p.interiors().iter().map(&mut stitch_ring).collect()))
                .collect(),
        );
        // A stitched vertex is centimetres off the edge; keep the unstitched cell in the
        // (never observed) case that this breaks validity.
        if changed {
            let stitched = stitched.orient(Direction::Default);
            if stitched.is_valid() {
                cell.shape = stitched;
            }
        }
    });
}

/// Orients and checks a cell; re-nodes it once if rounding made it invalid.
fn make_valid(dist: &District, shape: MultiPolygon<f64>, col: i64, row: i64) -> Result<MultiPolygon<f64>, SynthError> {
    let shape = shape.orient(Direction::Default);
    if shape.is_valid() && !shape.0.is_empty() {
        return Ok(shape);
    }
    let fixed = round_multipolygon(&shape.union(&MultiPolygon::<f64>::new(vec![]))).orient(Direction::Default);
    if fixed.is_valid() && !fixed.0.is_empty() {
        return Ok(fixed);
    }
    let why = fixed.check_validation().err().map(|e| e.to_string()).unwrap_or_else(|| "empty".into());
    Err(tiling_err(dist, format!("cell ({col},{row}) stays invalid after rounding: {why}")))
}

/// Cuts a small square out of one whole outer-district cell and makes it its own grid: a cell
/// with a hole and an enclave inside it, the case point-in-polygon code most often gets wrong.
fn add_enclave(cells: &mut Vec<Cell>, reference: &Reference, spacing: &[f64]) -> Result<(), SynthError> {
    // The first district (by code) of the widest spacing with a whole quad (a mountain district
    // when the city has one); among its quads the one nearest the district's centre, far from any
    // boundary.
    let mut order: Vec<usize> = (0..reference.districts.len()).collect();
    order.sort_by(|&a, &b| spacing[b].total_cmp(&spacing[a]).then(a.cmp(&b)));
    for d in order {
        let dist = &reference.districts[d];
        let (dx, dy) = centroid_km(&dist.shape);
        let parent = cells
            .iter()
            .enumerate()
            .filter(|(_, c)| c.district == d && c.whole)
            .map(|(i, c)| {
                let (x, y) = centroid_km(&c.shape);
                (i, (x - dx).hypot(y - dy))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
            .map(|(i, _)| i);
        let Some(pi) = parent else { continue };
        let Some(poly) = cells[pi].shape.0.first().cloned() else {
            continue;
        };
        let (qx, qy) = centroid_km(&cells[pi].shape);
        let h = ENCLAVE_HALF * spacing[d];
        let mut ring: Vec<Coord<f64>> = [(qx - h, qy - h), (qx + h, qy - h), (qx + h, qy + h), (qx - h, qy + h)]
            .iter()
            .map(|&(x, y)| {
                let (lon, lat) = from_km(x, y);
                Coord { x: round6(lon), y: round6(lat) }
            })
            .collect();
        ring.push(ring[0]);
        let square = Polygon::new(LineString::new(ring), vec![]);
        if !poly.contains(&square) {
            continue;
        }
        let holed = Polygon::new(poly.exterior().clone(), vec![square.exterior().clone()]).orient(Direction::Default);
        let enclave = MultiPolygon::new(vec![square]).orient(Direction::Default);
        if !holed.is_valid() || !enclave.is_valid() {
            continue;
        }
        let (col, row) = (cells[pi].col, cells[pi].row);
        cells[pi].shape = MultiPolygon::new(vec![holed]);
        cells[pi].whole = false;
        cells.insert(pi + 1, Cell { district: d, col, row, sub: 1, shape: enclave, enclave_of: Some(pi), whole: false });
        return Ok(());
    }
    Err(SynthError::Tiling { district: "all".into(), msg: "no whole outer cell to cut the enclave from".into() })
}
