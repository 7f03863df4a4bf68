//! H3 cells as the grid layer, for cities (and 311 analysts) that have districts but no grid:
//! the cells of one resolution covering a layer of polygons, each cell a grid whose parents are
//! those of the polygon its centre lies in.
//!
//! - **Which cells**: every cell that shares area with a polygon of the layer, so every point
//!   of the polygons lies in a cell (cells along the edge reach beyond it): the cells whose
//!   centre a polygon holds, and the cells along its boundary that share area with one.
//! - **Parents**: the polygon (of the `within` layer, in code order) whose closed area holds the
//!   cell's centre; a cell whose centre lies in none takes the polygon it shares most area with.
//! - **Population and households**: each polygon's, shared equally by the cells it got (H3
//!   cells of one resolution differ in area by a few per cent within a city).
//! - **Codes**: the cell index as H3 users write it, 15 lower-case hex digits (`8830e1d8c3fffff`).

use geo::{Area, BooleanOps, BoundingRect, Coord, Intersects, LineString, MultiPolygon, Polygon};
use h3o::geom::{ContainmentMode, TilerBuilder};
use h3o::{CellIndex, LatLng, Resolution};
use rayon::prelude::*;
use rstar::primitives::{GeomWithData, Rectangle};
use rstar::{AABB, RTree};

use crate::vocab::error::ReadError;
use crate::vocab::units::{Grid, GridLayer};

/// The cells of `resolution` covering the polygons of `within`.
pub fn cells(within: &GridLayer, resolution: u8) -> Result<GridLayer, ReadError> {
    let fail = |message: String| ReadError::GeoJson { path: within.path.clone(), message };
    let res = Resolution::try_from(resolution).map_err(|e| fail(format!("h3 resolution {resolution}: {e}")))?;
    // Candidates: the cells whose centre lies in a polygon (h3o's centroid tiling, one polygon
    // at a time: fast), and around every point of the polygons' boundaries (densified to an
    // eighth of a cell's edge) the cell and its neighbours. A cell that holds a point of a
    // polygon but not its centre is crossed by that polygon's boundary, so it is among them.
    let step = res.edge_length_km() / 8.0 / 111.0;
    let per_polygon: Vec<Result<Vec<CellIndex>, ReadError>> = within
        .grids
        .par_iter()
        .flat_map_iter(|g| g.geometry.0.iter().map(move |p| (g, p)))
        .map(|(g, p)| {
            let mut tiler = TilerBuilder::new(res).containment_mode(ContainmentMode::ContainsCentroid).build();
            tiler.add(p.clone()).map_err(|e| fail(format!("polygon {:?} cannot be tiled with H3: {e}", g.code)))?;
            let mut v: Vec<CellIndex> = tiler.into_coverage().collect();
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                for seg in ring.lines() {
                    let (a, b) = (seg.start, seg.end);
                    let n = ((b.x - a.x).hypot(b.y - a.y) / step).ceil().max(1.0) as usize;
                    for k in 0..=n {
                        let t = k as f64 / n as f64;
                        let (x, y) = (a.x + (b.x - a.x) * t, a.y + (b.y - a.y) * t);
                        let ll = LatLng::new(y, x).map_err(|e| fail(format!("polygon {:?}: {e}", g.code)))?;
                        v.extend(ll.to_cell(res).grid_disk::<Vec<CellIndex>>(1));
                    }
                }
            }
            v.sort_unstable();
            v.dedup();
            Ok(v)
        })
        .collect();
    let mut ids: Vec<CellIndex> = Vec::new();
    for v in per_polygon {
        ids.extend(v?);
    }
    ids.sort_unstable();
    ids.dedup();
    let boxes = within
        .grids
        .iter()
        .enumerate()
        .filter_map(|(i, g)| {
            let r = g.geometry.bounding_rect()?;
            Some(GeomWithData::new(Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]), i))
        })
        .collect();
    let tree: RTree<GeomWithData<Rectangle<[f64; 2]>, usize>> = RTree::bulk_load(boxes);
    let placed: Vec<(CellIndex, MultiPolygon<f64>, Option<usize>)> = ids
        .par_iter()
        .map(|&cell| {
            let shape = boundary(cell);
            let c = LatLng::from(cell);
            let centre = geo::Point::new(c.lng(), c.lat());
            let mut cands: Vec<usize> = tree.locate_all_at_point(&[centre.x(), centre.y()]).map(|x| x.data).collect();
            cands.sort_unstable();
            let home = cands.iter().copied().find(|&i| within.grids[i].geometry.intersects(&centre)).or_else(|| {
                // The centre lies outside every polygon: the one sharing most of the cell.
                let r = shape.bounding_rect()?;
                let env = AABB::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]);
                let mut near: Vec<usize> = tree.locate_in_envelope_intersecting(&env).map(|x| x.data).collect();
                near.sort_unstable();
                near.into_iter()
                    .map(|i| (i, shape.intersection(&within.grids[i].geometry).unsigned_area()))
                    .filter(|(_, a)| *a > 0.0)
                    .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
                    .map(|(i, _)| i)
            });
            (cell, shape, home)
        })
        .collect();
    let mut per_home = vec![0usize; within.grids.len()];
    for (_, _, h) in &placed {
        if let Some(h) = h {
            per_home[*h] += 1;
        }
    }
    let grids: Vec<Grid> = placed
        .into_iter()
        .filter_map(|(cell, shape, home)| {
            // A cell that only touches a polygon at a point or along an edge shares no area.
            let h = &within.grids[home?];
            let n = per_home[home?] as f64;
            let code = cell.to_string();
            Some(Grid {
                name: code.clone(),
                code,
                parents: h.parents.clone(),
                population: h.population.map(|p| p / n),
                households: h.households.map(|x| x / n),
                area_km2: crate::vocab::area::area_km2(&shape),
                geometry: shape,
                feature_index: h.feature_index,
            })
        })
        .collect();
    if grids.is_empty() {
        return Err(ReadError::NoGrids { path: within.path.clone() });
    }
    Ok(GridLayer {
        path: within.path.clone(),
        grids,
        features_read: within.features_read,
        problems: within.problems.clone(),
        has_level: within.has_level,
        crs: within.crs.clone(),
    })
}

/// A cell's hexagon (or pentagon) in degrees, counter-clockwise, closed.
fn boundary(cell: CellIndex) -> MultiPolygon<f64> {
    let mut ring: Vec<Coord<f64>> = cell.boundary().iter().map(|ll| Coord { x: ll.lng(), y: ll.lat() }).collect();
    if let Some(&first) = ring.first() {
        ring.push(first);
    }
    let mut p = Polygon::new(LineString::new(ring), Vec::new());
    use geo::orient::{Direction, Orient};
    p = p.orient(Direction::Default);
    MultiPolygon::new(vec![p])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::units::UnitRef;
    use geo::polygon;
    use rand::{Rng, SeedableRng};

    /// Two rectangles side by side (west: district W, east: district E), about 3 × 2 km each.
    fn within() -> GridLayer {
        let rect = |code: &str, x: f64| Grid {
            code: code.into(),
            name: code.into(),
            parents: [None, None, Some(UnitRef { code: code.into(), name: code.into() })],
            population: Some(1000.0),
            households: None,
            geometry: MultiPolygon::new(vec![
                polygon![(x: x, y: 40.70), (x: x + 0.035, y: 40.70), (x: x + 0.035, y: 40.718), (x: x, y: 40.718)],
            ]),
            area_km2: 1.0,
            feature_index: 0,
        };
        GridLayer {
            path: "w.geojson".into(),
            grids: vec![rect("E", -73.965), rect("W", -74.0)],
            features_read: 2,
            problems: Vec::new(),
            has_level: [false, false, true],
            crs: "wgs84".into(),
        }
    }

    #[test]
    fn cells_cover_the_polygons_once_each_with_the_parent_of_their_centre() {
        let w = within();
        let l = cells(&w, 9).unwrap();
        let codes: Vec<&str> = l.grids.iter().map(|g| g.code.as_str()).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, codes, "codes unique and in order");
        assert!(codes.iter().all(|c| c.len() == 15 && c.starts_with('8')), "{codes:?}");
        // Every random point of the two rectangles lies in a generated cell: the cell H3 gives it.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..5000 {
            let (lng, lat) = (rng.random_range(-74.0..-73.93), rng.random_range(40.70..40.718));
            let cell = LatLng::new(lat, lng).unwrap().to_cell(Resolution::Nine).to_string();
            assert!(codes.binary_search(&cell.as_str()).is_ok(), "{lng} {lat}: {cell} missing");
        }
        // No cell lies wholly outside; each takes the district its centre lies in; the
        // population is shared equally.
        for g in &l.grids {
            assert!(w.grids.iter().any(|p| p.geometry.intersects(&g.geometry)), "{} outside", g.code);
            let c = LatLng::from(g.code.parse::<CellIndex>().unwrap());
            let d = g.parents[2].as_ref().unwrap().code.as_str();
            assert_eq!(d, if c.lng() < -73.965 { "W" } else { "E" }, "{}", g.code);
        }
        let pop: f64 = l.grids.iter().filter_map(|g| g.population).sum();
        assert!((pop - 2000.0).abs() < 1e-6, "{pop}");
        // Resolution 9 cells are about 0.105 km²: two 2 km × 2.95 km rectangles take ~110 + the edge.
        assert!((100..200).contains(&l.grids.len()), "{}", l.grids.len());
    }
}
