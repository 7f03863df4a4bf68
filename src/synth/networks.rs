//! Two more grid networks over the demo city, as other offices draw them (多网融合):
//!
//! - `network_cityops.geojson`, the city-management office's square cells (城管网格): 250 m
//!   squares on a lattice anchored at the city's south-west corner, clipped to the city. Each
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

const CELL_KM: f64 = 0.25;

pub(crate) fn city_ops(grids: &[Grid], reference: &Reference) -> Vec<Grid> {
    let city = geo::unary_union(grids.iter().map(|g| &g.shape));
    let Some(bbox) = city.bounding_rect() else { return Vec::new() };
    let (x0, y0) = to_km(bbox.min().x, bbox.min().y);
    let (x1, y1) = to_km(bbox.max().x, bbox.max().y);
    let locate = |lon: f64, lat: f64| {
        use geo::Contains;
        grids.iter().position(|g| g.shape.contains(&geo::Point::new(lon, lat)))
    };
    let mut cells = Vec::new();
    let (nx, ny) = (((x1 - x0) / CELL_KM).ceil() as usize, ((y1 - y0) / CELL_KM).ceil() as usize);
    for j in 0..ny {
        for i in 0..nx {
            let (ax, ay) = (x0 + i as f64 * CELL_KM, y0 + j as f64 * CELL_KM);
            let c = |x: f64, y: f64| from_km(x, y);
            let (p00, p10, p11, p01) = (c(ax, ay), c(ax + CELL_KM, ay), c(ax + CELL_KM, ay + CELL_KM), c(ax, ay + CELL_KM));
            let square: Polygon<f64> = polygon![(x: p00.0, y: p00.1), (x: p10.0, y: p10.1), (x: p11.0, y: p11.1), (x: p01.0, y: p01.1)];
            let clipped = round_multipolygon(&MultiPolygon::new(vec![square]).intersection(&city));
            let area = area_km2(&clipped);
            // Slivers along the city's edge are not cells.
            if area < 0.01 * CELL_KM * CELL_KM {
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
