//! Repeat hot spots (重复诉求): places where residents complain about the same thing again and
//! again. Among the period's cases that have a point and a category:
//!
//! 1. a case's *neighbours* are the cases of its category within `radius_m` metres (haversine,
//!    inclusive, with a micrometre of tolerance for rounding) and `window_days` days of it
//!    (inclusive), itself included;
//! 2. cases are taken as seeds in order of most neighbours, then earliest received, then
//!    longitude, latitude (so the order of the input does not matter);
//! 3. a seed not yet in a hot spot makes one of its neighbours not yet in one, if they are at
//!    least `min_cases`.
//!
//! A hot spot is therefore at most 2 × radius across and 2 × window long. Its centre is the
//! mean of its cases' points; its grid is the seed's.

use std::collections::HashMap;

use geo::{Distance, Haversine, Point};

use crate::config::file::HotspotsFile;
use crate::vocab::column::Field;
use crate::vocab::dictionary::NO_VALUE;
use crate::vocab::record::{Fact, Location, Placed, Record};
use crate::vocab::units::Level;

/// A case that can be in a hot spot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HotPoint {
    pub lon: f64,
    pub lat: f64,
    pub received: i64,
    pub category: u32,
    /// The grid the point lies in.
    pub grid: u32,
}

/// One hot spot.
#[derive(Debug, Clone, PartialEq)]
pub struct Spot {
    pub category: u32,
    pub lon: f64,
    pub lat: f64,
    pub cases: usize,
    pub first: i64,
    pub last: i64,
    /// The seed's grid.
    pub grid: u32,
    /// The grids of its cases.
    pub member_grids: Vec<u32>,
}

/// The columns of the hot-spot table and layer, and the per-unit columns.
pub static FIELDS: &[Field] = &[
    Field::new(
        "hotspot_id",
        "热点编号",
        "",
        "H + rank: H001 is the hot spot with the most cases (ties: earliest first case, then west to east)",
    ),
    Field::new("first_received", "首次受理日期", "date", "local date of the hot spot's first case"),
    Field::new("last_received", "最近受理日期", "date", "local date of its last case"),
    Field::new("lon", "经度", "degrees", "WGS84 longitude (a hot spot: the mean of its cases')"),
    Field::new("lat", "纬度", "degrees", "WGS84 latitude (a hot spot: the mean of its cases')"),
    Field::new("hotspots", "重复诉求热点数", "hot spots", "hot spots whose seed case lies in the unit"),
    Field::new("repeat_cases", "重复诉求件数", "cases", "cases of the period in a hot spot, where each case lies"),
    Field::new("repeat_case_rate", "重复诉求率", "share", "repeat_cases / cases"),
];

/// The period's cases with a point and a category, collected as batches are counted.
#[derive(Debug, Default)]
pub struct HotPoints {
    pub points: Vec<HotPoint>,
}

impl HotPoints {
    /// Adds a batch's cases received in `[start, end)` with a point in a grid and a category.
    pub fn add(&mut self, rows: &[Option<Record>], placed: &[Placed], start: i64, end: i64) {
        for (r, p) in rows.iter().zip(placed) {
            let (
                Some(Record { fact: Fact::Case(c), location: Location::Point { lon, lat } }),
                Placed::Home { level: Level::Grid, unit, .. },
            ) = (r, p)
            else {
                continue;
            };
            if c.dims[0] != NO_VALUE && c.received >= start && c.received < end {
                self.points.push(HotPoint { lon: *lon, lat: *lat, received: c.received, category: c.dims[0], grid: *unit });
            }
        }
    }
}

/// The hot spots among `points`, largest first (ties: earliest first case, then lon, lat).
pub fn find(points: &[HotPoint], s: &HotspotsFile) -> Vec<Spot> {
    let window = (s.window_days * 86_400_000.0).round() as i64;
    let radius = s.radius_m + 1e-6;
    // Cells a little larger than the radius in both directions, so neighbours are in the 3 × 3
    // cells around a point.
    let max_lat = points.iter().map(|p| p.lat.abs()).fold(0.0f64, f64::max).min(89.0);
    let dlat = s.radius_m / 110_000.0;
    let dlon = dlat / max_lat.to_radians().cos();
    let cell = |p: &HotPoint| ((p.lon / dlon).floor() as i64, (p.lat / dlat).floor() as i64);
    let mut cells: HashMap<(u32, i64, i64), Vec<usize>> = HashMap::new();
    for (i, p) in points.iter().enumerate() {
        let (x, y) = cell(p);
        cells.entry((p.category, x, y)).or_default().push(i);
    }
    let neighbours = |i: usize| -> Vec<usize> {
        let p = &points[i];
        let (x, y) = cell(p);
        let mut v = Vec::new();
        for dx in -1..=1 {
            for dy in -1..=1 {
                for &j in cells.get(&(p.category, x + dx, y + dy)).into_iter().flatten() {
                    let q = &points[j];
                    if (q.received - p.received).abs() <= window
                        && Haversine.distance(Point::new(p.lon, p.lat), Point::new(q.lon, q.lat)) <= radius
                    {
                        v.push(j);
                    }
                }
            }
        }
        v
    };
    let counts: Vec<usize> = (0..points.len()).map(|i| neighbours(i).len()).collect();
    let key =
        |i: usize| (std::cmp::Reverse(counts[i]), points[i].received, points[i].lon.to_bits(), points[i].lat.to_bits(), points[i].category);
    let mut order: Vec<usize> = (0..points.len()).filter(|&i| counts[i] >= s.min_cases).collect();
    order.sort_by_key(|&i| key(i));
    let mut taken = vec![false; points.len()];
    let mut spots = Vec::new();
    for i in order {
        if taken[i] {
            continue;
        }
        let mut members: Vec<usize> = neighbours(i).into_iter().filter(|&j| !taken[j]).collect();
        if members.len() < s.min_cases {
            continue;
        }
        // Summed in a fixed order, so the centre does not depend on the input's.
        members.sort_by_key(|&j| (points[j].received, points[j].lon.to_bits(), points[j].lat.to_bits()));
        for &j in &members {
            taken[j] = true;
        }
        let n = members.len() as f64;
        spots.push(Spot {
            category: points[i].category,
            lon: members.iter().map(|&j| points[j].lon).sum::<f64>() / n,
            lat: members.iter().map(|&j| points[j].lat).sum::<f64>() / n,
            cases: members.len(),
            first: members.iter().map(|&j| points[j].received).min().unwrap_or(0),
            last: members.iter().map(|&j| points[j].received).max().unwrap_or(0),
            grid: points[i].grid,
            member_grids: members.iter().map(|&j| points[j].grid).collect(),
        });
    }
    spots.sort_by(|a, b| b.cases.cmp(&a.cases).then(a.first.cmp(&b.first)).then(a.lon.total_cmp(&b.lon)).then(a.lat.total_cmp(&b.lat)));
    spots
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Destination;

    const DAY: i64 = 86_400_000;

    fn at(origin: (f64, f64), bearing: f64, metres: f64) -> (f64, f64) {
        let p = Haversine.destination(Point::new(origin.0, origin.1), bearing, metres);
        (p.x(), p.y())
    }

    fn pt(xy: (f64, f64), day: i64, category: u32) -> HotPoint {
        HotPoint { lon: xy.0, lat: xy.1, received: day * DAY, category, grid: 0 }
    }

    fn settings() -> HotspotsFile {
        HotspotsFile { radius_m: 50.0, window_days: 30.0, min_cases: 5 }
    }

    /// Four cases at one place make a hot spot of six with one case exactly R away and one
    /// exactly `window_days` later (both inclusive); a case just outside R or just outside the
    /// window, or of another category, does not count.
    #[test]
    fn radius_and_window_are_inclusive_and_categories_apart() {
        let o = (116.4, 39.9);
        let s = HotspotsFile { min_cases: 6, ..settings() };
        let base = |x: HotPoint, w: HotPoint, y: HotPoint| {
            let mut v = vec![pt(o, 10, 1); 4];
            v.extend([x, w, y, pt(o, 10, 2)]);
            v
        };
        let x_at_r = pt(at(o, 45.0, 50.0), 10, 1); // exactly at R
        let w_at_d = pt(at(o, 180.0, 10.0), 40, 1); // exactly 30 days later
        let y_out = pt(at(o, 270.0, 50.01), 10, 1); // just outside R
        let spots = find(&base(x_at_r, w_at_d, y_out), &s);
        assert_eq!(spots.len(), 1, "{spots:?}");
        assert_eq!((spots[0].cases, spots[0].category, spots[0].first, spots[0].last), (6, 1, 10 * DAY, 40 * DAY));
        // Just outside R: five cases, no hot spot of six.
        assert!(find(&base(pt(at(o, 45.0, 50.001), 10, 1), w_at_d, y_out), &s).is_empty());
        // Just outside the window: likewise.
        assert!(find(&base(x_at_r, pt(at(o, 180.0, 10.0), 41, 1), y_out), &s).is_empty());
        // Just inside R: it joins.
        assert_eq!(find(&base(x_at_r, w_at_d, pt(at(o, 270.0, 49.99), 10, 1)), &s)[0].cases, 7);
    }

    /// The same points in any order give the same hot spots.
    #[test]
    fn shuffled_input_gives_identical_output() {
        let o = (116.4, 39.9);
        let mut pts = Vec::new();
        for k in 0..40 {
            pts.push(pt(at(o, (k * 37 % 360) as f64, (k % 7) as f64 * 9.0), 3 + k % 20, (k % 2) as u32));
            pts.push(pt(at((116.41, 39.91), (k * 53 % 360) as f64, (k % 5) as f64 * 12.0), 5 + k % 9, 1));
        }
        let a = find(&pts, &settings());
        assert!(a.len() >= 2, "{a:?}");
        let mut rng_state = 12345u64;
        for _ in 0..5 {
            // A deterministic Fisher–Yates shuffle.
            for i in (1..pts.len()).rev() {
                rng_state = rng_state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                pts.swap(i, (rng_state >> 33) as usize % (i + 1));
            }
            let b = find(&pts, &settings());
            assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(&b) {
                assert_eq!(
                    (x.category, x.cases, x.first, x.last, x.lon.to_bits(), x.lat.to_bits()),
                    (y.category, y.cases, y.first, y.last, y.lon.to_bits(), y.lat.to_bits())
                );
            }
        }
    }
}
