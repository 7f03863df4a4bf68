//! Two more grid networks over the demo city, as other offices draw them (多网融合):
//!
//! - `network_cityops.geojson`, the city-management office's square cells (城管网格): 250 m
//!   squares (1 km for all 16 districts) on a lattice anchored at the city's south-west corner,
//!   clipped to the city. Each
//!   cell belongs to the community of the community grid its interior point lies in, so cells
//!   that cross a community boundary straddle it, as square cells do; population is that
//!   grid's density times the cell's area.
//! - `network_social.geojson`, the social-services network (综治网格): the community grids
//!   merged two by two within each community, in code order, so its cells follow community
//!   boundaries exactly.

use geo::{BooleanOps, BoundingRect, InteriorPoint, MultiPolygon, Polygon, polygon};

use super::admin::{Grid, short_community_name};
use super::reference::Reference;
use super::util::{area_km2, from_km, round_multipolygon, to_km};

/// The squares' side: 250 m over the core area; 1 km over a city of more than 1,000 km² (all
/// 16 districts: 16,000 squares instead of 260,000).
fn cell_km(area_km2: f64) -> f64 {
    if area_km2 > 1000.0 { 1.0 } else { 0.25 }
}

pub(crate) fn city_ops(grids: &[Grid], reference: &Reference) -> Vec<Grid> {
    use rstar::{AABB, RTree, primitives::GeomWithData, primitives::Rectangle};
    let boxes: Vec<GeomWithData<Rectangle<[f64; 2]>, usize>> = grids
        .iter()
        .enumerate()
        .filter_map(|(i, g)| {
            let r = g.shape.bounding_rect()?;
            Some(GeomWithData::new(Rectangle::from_corners([r.min().x, r.min().y], [r.max().x, r.max().y]), i))
        })
        .collect();
    let tree = RTree::bulk_load(boxes);
    let Some(bbox) = grids.iter().filter_map(|g| g.shape.bounding_rect()).reduce(|a, b| {
        geo::Rect::new(
            geo::Coord { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
            geo::Coord { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
        )
    }) else {
        return Vec::new();
    };
    let (x0, y0) = to_km(bbox.min().x, bbox.min().y);
    let (x1, y1) = to_km(bbox.max().x, bbox.max().y);
    let cell = cell_km(grids.iter().map(|g| area_km2(&g.shape)).sum());
    let locate = |lon: f64, lat: f64| {
        use geo::Contains;
        grids.iter().position(|g| g.shape.contains(&geo::Point::new(lon, lat)))
    };
    let mut cells = Vec::new();
    let (nx, ny) = (((x1 - x0) / cell).ceil() as usize, ((y1 - y0) / cell).ceil() as usize);
    for j in 0..ny {
        for i in 0..nx {
            let (ax, ay) = (x0 + i as f64 * cell, y0 + j as f64 * cell);
            let c = |x: f64, y: f64| from_km(x, y);
            let (p00, p10, p11, p01) = (c(ax, ay), c(ax + cell, ay), c(ax + cell, ay + cell), c(ax, ay + cell));
            let square: Polygon<f64> = polygon![(x: p00.0, y: p00.1), (x: p10.0, y: p10.1), (x: p11.0, y: p11.1), (x: p01.0, y: p01.1)];
            // Clipped to the city: the union of the square's parts in the grids near it (the
            // whole city's outline would make every square cost as much as the city).
            let env = AABB::from_corners([p00.0.min(p01.0), p00.1.min(p10.1)], [p10.0.max(p11.0), p01.1.max(p11.1)]);
            let mut near: Vec<usize> = tree.locate_in_envelope_intersecting(&env).map(|x| x.data).collect();
            near.sort_unstable();
            let square = MultiPolygon::new(vec![square]);
            let local = geo::unary_union(near.iter().map(|&k| &grids[k].shape));
            let clipped = round_multipolygon(&square.intersection(&local));
            let area = area_km2(&clipped);
            // Slivers along the city's edge are not cells.
            if area < 0.01 * cell * cell {
                continue;
            }
            let Some(home) = clipped.interior_point().and_then(|p| locate(p.x(), p.y())) else { continue };
            let g = &grids[home];
            let density = g.population as f64 / area_km2(&g.shape).max(1e-9);
            let n = cells.len() + 1;
            cells.push(Grid {
                code: format!("{}CG{n:05}", reference.districts[g.district].code),
                name: format!("城管网格{n:05}"),
                community: g.community,
                street: g.street,
                district: g.district,
                population: (density * area).round() as u64,
                households: (density * area / 2.6).round() as u64,
                shape: clipped,
            });
        }
    }
    cells
}

pub(crate) fn social(grids: &[Grid], reference: &Reference) -> Vec<Grid> {
    let mut order: Vec<usize> = (0..grids.len()).collect();
    order.sort_by(|&a, &b| (grids[a].community, &grids[a].code).cmp(&(grids[b].community, &grids[b].code)));
    let mut cells = Vec::new();
    let mut k = 0;
    while k < order.len() {
        let a = &grids[order[k]];
        let pair = order.get(k + 1).map(|&b| &grids[b]).filter(|b| b.community == a.community);
        let shape = match pair {
            Some(b) => round_multipolygon(&a.shape.union(&b.shape)),
            None => a.shape.clone(),
        };
        let comm = &reference.communities[a.community];
        let n = cells.iter().filter(|c: &&Grid| c.community == a.community).count() + 1;
        cells.push(Grid {
            code: format!("{}ZZ{n:02}", comm.code),
            name: format!("{}综治网格{n}", short_community_name(&comm.name)),
            community: a.community,
            street: a.street,
            district: a.district,
            population: a.population + pair.map_or(0, |b| b.population),
            households: a.households + pair.map_or(0, |b| b.households),
            shape,
        });
        k += if pair.is_some() { 2 } else { 1 };
    }
    cells
}
