//! Polygon validity in O(n log n): a sweep over all segments of a grid (geo's `Intersections`)
//! instead of geo's `Validation`, whose self-intersection test compares every pair of segments
//! and took minutes on one 20,000-vertex boundary (hours at 200,000). Grids of fewer than
//! `PAIRWISE_BELOW` segments (nearly all) are compared pair by pair behind a bounding-box
//! test, which is cheaper than setting up the sweep.
//!
//! A polygon is valid when each ring has at least three distinct points and an area, a ring
//! meets itself only where consecutive segments share a vertex, two rings cross nowhere and
//! touch only at single points (a vertex of one on the other), each hole lies inside its shell
//! and outside the other holes, and no part of a MultiPolygon lies in another part's area.

use geo::algorithm::sweep::{Cross, Intersections};
use geo::coordinate_position::{CoordPos, CoordinatePosition};
use geo::line_intersection::LineIntersection;
use geo::{Area, Line, LineString, MultiPolygon, Polygon};

/// One segment of a ring, with where it sits.
#[derive(Debug, Clone, Copy)]
struct Seg {
    line: Line<f64>,
    polygon: u32,
    ring: u32,
    index: u32,
    /// Segments in its ring.
    of: u32,
}

impl Cross for Seg {
    type Scalar = f64;
    fn line(&self) -> Line<f64> {
        self.line
    }
}

/// Segments below this count are compared pair by pair (with a bounding-box test first):
/// for a grid of ~60 vertices that is twice as fast as setting up the sweep.
const PAIRWISE_BELOW: usize = 96;

/// Every pair of segments that meet, with how they meet.
fn intersecting_pairs(segs: Vec<Seg>, pairwise_below: usize) -> Vec<(Seg, Seg, LineIntersection<f64>)> {
    if segs.len() >= pairwise_below {
        return Intersections::from_iter(segs).collect();
    }
    let bbox = |l: &Line<f64>| (l.start.x.min(l.end.x), l.start.x.max(l.end.x), l.start.y.min(l.end.y), l.start.y.max(l.end.y));
    let boxes: Vec<(f64, f64, f64, f64)> = segs.iter().map(|s| bbox(&s.line)).collect();
    let mut out = Vec::new();
    for i in 0..segs.len() {
        let a = boxes[i];
        for j in i + 1..segs.len() {
            let b = boxes[j];
            if a.0 > b.1 || b.0 > a.1 || a.2 > b.3 || b.2 > a.3 {
                continue;
            }
            if let Some(x) = geo::line_intersection::line_intersection(segs[i].line, segs[j].line) {
                out.push((segs[i], segs[j], x));
            }
        }
    }
    out
}

/// Why `mp` is not a valid MultiPolygon, or `None` when it is.
pub fn problem(mp: &MultiPolygon<f64>) -> Option<String> {
    problem_with(mp, PAIRWISE_BELOW)
}

fn problem_with(mp: &MultiPolygon<f64>, pairwise_below: usize) -> Option<String> {
    let name = |p: u32, r: u32| if r == 0 { format!("polygon {p} shell") } else { format!("polygon {p} hole {}", r - 1) };
    let mut segs = Vec::new();
    for (pi, poly) in mp.0.iter().enumerate() {
        for (ri, ring) in std::iter::once(poly.exterior()).chain(poly.interiors()).enumerate() {
            let (pi, ri) = (pi as u32, ri as u32);
            if ring.0.iter().any(|c| !(c.x.is_finite() && c.y.is_finite())) {
                return Some(format!("{} has a coordinate that is not a finite number", name(pi, ri)));
            }
            let lines: Vec<Line<f64>> = ring.lines().filter(|l| l.start != l.end).collect();
            if lines.len() < 3 || Polygon::new(ring.clone(), vec![]).unsigned_area() == 0.0 {
                return Some(format!("{} has fewer than three distinct points or no area", name(pi, ri)));
            }
            let of = lines.len() as u32;
            segs.extend(lines.into_iter().enumerate().map(|(k, line)| Seg { line, polygon: pi, ring: ri, index: k as u32, of }));
        }
    }
    for (a, b, x) in intersecting_pairs(segs, pairwise_below) {
        let same_ring = a.polygon == b.polygon && a.ring == b.ring;
        let (lo, hi) = if a.index < b.index { (a, b) } else { (b, a) };
        let consecutive = same_ring && (hi.index == lo.index + 1 || (lo.index == 0 && hi.index == lo.of - 1));
        if !same_ring && matches!(x, LineIntersection::SinglePoint { is_proper: false, .. }) {
            continue; // two rings touching at a point
        }
        if consecutive {
            // The shared vertex: the end of the earlier segment (the wrap-around pair shares the
            // ring's first point).
            let shared = if hi.index == lo.index + 1 { lo.line.end } else { lo.line.start };
            if matches!(x, LineIntersection::SinglePoint { intersection, .. } if intersection == shared) {
                continue;
            }
        }
        let at = match x {
            LineIntersection::SinglePoint { intersection, .. } => intersection,
            LineIntersection::Collinear { intersection } => intersection.start,
        };
        let what = if same_ring {
            format!("{} crosses itself", name(a.polygon, a.ring))
        } else {
            format!("{} and {} cross or touch", name(a.polygon, a.ring), name(b.polygon, b.ring))
        };
        return Some(format!("{what} near ({:.7}, {:.7})", at.x, at.y));
    }
    // No two rings cross, so any point of a ring that is not on another ring tells on which side
    // of that ring the whole ring lies.
    let side = |ring: &LineString<f64>, of: &Polygon<f64>| -> CoordPos {
        ring.lines()
            .take(8)
            .map(|l| of.coordinate_position(&((l.start + l.end) / 2.0)))
            .find(|p| *p != CoordPos::OnBoundary)
            .unwrap_or(CoordPos::OnBoundary)
    };
    for (pi, poly) in mp.0.iter().enumerate() {
        let shell = Polygon::new(poly.exterior().clone(), vec![]);
        let holes = poly.interiors();
        for (hi, hole) in holes.iter().enumerate() {
            if side(hole, &shell) != CoordPos::Inside {
                return Some(format!("polygon {pi} hole {hi} lies outside its shell"));
            }
            for (hj, other) in holes.iter().enumerate() {
                if hi != hj && side(hole, &Polygon::new(other.clone(), vec![])) == CoordPos::Inside {
                    return Some(format!("polygon {pi} hole {hi} lies inside hole {hj}"));
                }
            }
        }
    }
    for (i, a) in mp.0.iter().enumerate() {
        for (j, b) in mp.0.iter().enumerate() {
            if i != j && side(b.exterior(), a) == CoordPos::Inside {
                return Some(format!("polygon {j} lies inside polygon {i} of the same MultiPolygon"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Validation, polygon};

    #[test]
    fn agrees_with_geo_on_small_cases() {
        let square = polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.), (x: 0., y: 4.)];
        let hole = LineString::from(vec![(1., 1.), (2., 1.), (2., 2.), (1., 2.), (1., 1.)]);
        let cases: Vec<(&str, MultiPolygon<f64>, bool)> = vec![
            ("square", MultiPolygon::new(vec![square.clone()]), true),
            ("square with hole", MultiPolygon::new(vec![Polygon::new(square.exterior().clone(), vec![hole.clone()])]), true),
            ("bow tie", MultiPolygon::new(vec![polygon![(x: 0., y: 0.), (x: 2., y: 2.), (x: 2., y: 0.), (x: 0., y: 2.)]]), false),
            (
                "hole outside",
                MultiPolygon::new(vec![Polygon::new(
                    square.exterior().clone(),
                    vec![LineString::from(vec![(5., 5.), (6., 5.), (6., 6.), (5., 5.)])],
                )]),
                false,
            ),
            (
                "hole crossing the shell",
                MultiPolygon::new(vec![Polygon::new(
                    square.exterior().clone(),
                    vec![LineString::from(vec![(3., 1.), (5., 1.), (5., 2.), (3., 2.), (3., 1.)])],
                )]),
                false,
            ),
            (
                "spike",
                MultiPolygon::new(vec![polygon![(x: 0., y: 0.), (x: 4., y: 0.), (x: 6., y: 0.), (x: 4., y: 0.), (x: 4., y: 4.)]]),
                false,
            ),
            ("flat", MultiPolygon::new(vec![polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 2., y: 0.)]]), false),
            (
                "two touching at a corner",
                MultiPolygon::new(vec![square.clone(), polygon![(x: 4., y: 4.), (x: 5., y: 4.), (x: 5., y: 5.), (x: 4., y: 5.)]]),
                true,
            ),
            (
                "a hole touching its shell at a point",
                MultiPolygon::new(vec![Polygon::new(
                    square.exterior().clone(),
                    vec![LineString::from(vec![(0., 2.), (2., 1.), (2., 3.), (0., 2.)])],
                )]),
                true,
            ),
            (
                "two apart",
                MultiPolygon::new(vec![square.clone(), polygon![(x: 5., y: 0.), (x: 6., y: 0.), (x: 6., y: 1.), (x: 5., y: 1.)]]),
                true,
            ),
            (
                "one inside the other",
                MultiPolygon::new(vec![square.clone(), polygon![(x: 1., y: 1.), (x: 2., y: 1.), (x: 2., y: 2.), (x: 1., y: 2.)]]),
                false,
            ),
            (
                "an island in the hole",
                MultiPolygon::new(vec![
                    Polygon::new(square.exterior().clone(), vec![LineString::from(vec![(1., 1.), (3., 1.), (3., 3.), (1., 3.), (1., 1.)])]),
                    polygon![(x: 1.5, y: 1.5), (x: 2.5, y: 1.5), (x: 2.5, y: 2.5), (x: 1.5, y: 2.5)],
                ]),
                true,
            ),
        ];
        for (name, g, valid) in cases {
            assert_eq!(problem(&g).is_none(), valid, "{name}: {:?}", problem(&g));
            // The pairwise comparison and the sweep give the same verdict.
            assert_eq!(problem_with(&g, 0).is_none(), valid, "{name} with the sweep");
            assert_eq!(problem_with(&g, usize::MAX).is_none(), valid, "{name} pair by pair");
            // geo's own check accepts a ring without area; gridgov does not (nothing to map).
            if name != "flat" {
                assert_eq!(g.is_valid(), valid, "{name}: geo disagrees with the expectation");
            }
        }
    }

    /// A 200,000-vertex ring (geo's quadratic check would take hours; this takes a moment).
    #[test]
    fn large_ring_is_valid() {
        let n = 200_000;
        let ring: Vec<(f64, f64)> = (0..n).map(|i| i as f64 / n as f64 * std::f64::consts::TAU).map(|a| (a.cos(), a.sin())).collect();
        let g = MultiPolygon::new(vec![Polygon::new(LineString::from(ring), vec![])]);
        assert_eq!(problem(&g), None);
    }
}
