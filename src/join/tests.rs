//! Join edge cases on a tiny hand-made layer:
//!
//! ```text
//!  y=2 +-------+-------+
//!      |  "A"  |  "B"  |        A = [0,1]x[1,2], B = [1,2]x[1,2]
//!  y=1 +-------+-------+        C = [0,2]x[0,1] with a hole [0.25,0.75]x[0.25,0.75]
//!      |  "C"  [E]     |        E = the hole itself (an enclave grid)
//!  y=0 +---------------+        D = a MultiPolygon: [3,4]x[0,1] and an exclave [5,6]x[0,1]
//! ```
use super::*;
use geo::{MultiPolygon, polygon};

fn layer() -> Vec<MultiPolygon<f64>> {
    let a = polygon![(x: 0.0, y: 1.0), (x: 1.0, y: 1.0), (x: 1.0, y: 2.0), (x: 0.0, y: 2.0)];
    let b = polygon![(x: 1.0, y: 1.0), (x: 2.0, y: 1.0), (x: 2.0, y: 2.0), (x: 1.0, y: 2.0)];
    let c = polygon!(
        exterior: [(x: 0.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0), (x: 0.0, y: 1.0)],
        interiors: [[(x: 0.25, y: 0.25), (x: 0.25, y: 0.75), (x: 0.75, y: 0.75), (x: 0.75, y: 0.25)]],
    );
    let d1 = polygon![(x: 3.0, y: 0.0), (x: 4.0, y: 0.0), (x: 4.0, y: 1.0), (x: 3.0, y: 1.0)];
    let d2 = polygon![(x: 5.0, y: 0.0), (x: 6.0, y: 0.0), (x: 6.0, y: 1.0), (x: 5.0, y: 1.0)];
    let e = polygon![(x: 0.25, y: 0.25), (x: 0.75, y: 0.25), (x: 0.75, y: 0.75), (x: 0.25, y: 0.75)];
    // Index order is code order: A=0, B=1, C=2, D=3, E=4.
    vec![
        MultiPolygon::new(vec![a]),
        MultiPolygon::new(vec![b]),
        MultiPolygon::new(vec![c]),
        MultiPolygon::new(vec![d1, d2]),
        MultiPolygon::new(vec![e]),
    ]
}

const A: Located = Located::Grid(0);
const B: Located = Located::Grid(1);
const C: Located = Located::Grid(2);
const D: Located = Located::Grid(3);
const E: Located = Located::Grid(4);

fn at(x: f64, y: f64, rule: BoundaryRule) -> Located {
    let l = layer();
    GridIndex::new(l.iter().collect()).locate(x, y, rule)
}

#[test]
fn interior_points() {
    assert_eq!(at(0.5, 1.5, BoundaryRule::SmallestCode), A);
    assert_eq!(at(1.5, 1.5, BoundaryRule::SmallestCode), B);
    assert_eq!(at(1.5, 0.5, BoundaryRule::SmallestCode), C);
}

#[test]
fn shared_edge_goes_to_the_rule() {
    assert_eq!(at(1.0, 1.5, BoundaryRule::SmallestCode), A);
    assert_eq!(at(1.0, 1.5, BoundaryRule::LargestCode), B);
    assert_eq!(at(1.0, 1.5, BoundaryRule::Reject), Located::Ambiguous);
}

#[test]
fn shared_vertex_of_three_grids() {
    // (1,1) is a corner of A and B and lies on C's top edge.
    assert_eq!(at(1.0, 1.0, BoundaryRule::SmallestCode), A);
    assert_eq!(at(1.0, 1.0, BoundaryRule::LargestCode), C);
    assert_eq!(at(1.0, 1.0, BoundaryRule::Reject), Located::Ambiguous);
}

#[test]
fn hole_and_enclave() {
    // Inside the hole of C: only the enclave E contains it.
    assert_eq!(at(0.5, 0.5, BoundaryRule::SmallestCode), E);
    assert_eq!(at(0.5, 0.5, BoundaryRule::Reject), E);
    // On the hole's edge: C's boundary and E's boundary.
    assert_eq!(at(0.25, 0.5, BoundaryRule::SmallestCode), C);
    assert_eq!(at(0.25, 0.5, BoundaryRule::LargestCode), E);
}

#[test]
fn hole_without_enclave_is_outside() {
    let mut l = layer();
    l.pop();
    let idx = GridIndex::new(l.iter().collect());
    assert_eq!(idx.locate(0.5, 0.5, BoundaryRule::SmallestCode), Located::Outside);
}

#[test]
fn multipolygon_exclave() {
    assert_eq!(at(3.5, 0.5, BoundaryRule::SmallestCode), D);
    assert_eq!(at(5.5, 0.5, BoundaryRule::SmallestCode), D);
    // Between the two parts: inside D's bounding box, in no polygon.
    assert_eq!(at(4.5, 0.5, BoundaryRule::SmallestCode), Located::Outside);
}

#[test]
fn outside_and_non_finite() {
    assert_eq!(at(-1.0, 0.5, BoundaryRule::SmallestCode), Located::Outside);
    assert_eq!(at(f64::NAN, 0.5, BoundaryRule::SmallestCode), Located::Outside);
    assert_eq!(at(0.5, f64::INFINITY, BoundaryRule::SmallestCode), Located::Outside);
}

#[test]
fn parallel_batch_matches_single_lookups_in_input_order() {
    let l = layer();
    let idx = GridIndex::new(l.iter().collect());
    let mut lons = Vec::new();
    let mut lats = Vec::new();
    for i in 0..20_000u32 {
        // A deterministic scatter over [-0.5, 6.5] x [-0.5, 2.5], including exact edges.
        let x = ((i * 7919) % 700) as f64 / 100.0 - 0.5;
        let y = ((i * 104_729) % 300) as f64 / 100.0 - 0.5;
        lons.push(x);
        lats.push(y);
    }
    lons.push(f64::NAN);
    lats.push(1.0);
    for rule in [BoundaryRule::SmallestCode, BoundaryRule::LargestCode, BoundaryRule::Reject] {
        let batch = idx.locate_all(&lons, &lats, rule);
        for i in 0..lons.len() {
            assert_eq!(batch[i], idx.locate(lons[i], lats[i], rule), "point {i} ({}, {})", lons[i], lats[i]);
        }
    }
}

/// The raster must give exactly the R-tree's answers: on a benchmark-like lattice (jittered
/// 60-vertex cells, holes with enclaves, MultiPolygons), at every shared vertex, at edge points,
/// at hole corners and at random points, for every rule.
#[test]
fn raster_agrees_with_the_rtree_everywhere() {
    use crate::synth::bench::{BenchSize, write_bench};
    use rand::{Rng, SeedableRng};
    let tmp = tempfile::tempdir().unwrap();
    let size = BenchSize { name: "T", cols: 24, rows: 18, cases: 10, parquet_only: false };
    let dir = write_bench(&size, tmp.path(), 7).unwrap();
    let mut props = crate::config::GridProperties::code_only("grid_code");
    props.population = None;
    let cfg = crate::config::GridsConfig {
        name: "grid".into(),
        h3: None,
        path: dir.join("grids.geojson"),
        crs: None,
        layer: None,
        encoding: None,
        aliases: None,
        on_invalid: crate::config::OnInvalid::Fail,
        properties: props,
    };
    let layer = crate::io::grids::read_grids(&cfg).unwrap();
    assert!(layer.grids.iter().any(|g| g.geometry.0.len() > 1), "has MultiPolygons");
    assert!(layer.grids.iter().any(|g| g.geometry.0.iter().any(|p| !p.interiors().is_empty())), "has holes");
    let idx = GridIndex::new(layer.grids.iter().map(|g| &g.geometry).collect());
    assert!(idx.settled_share() > 0.3, "{}", idx.settled_share());
    let mut pts: Vec<(f64, f64)> = Vec::new();
    for g in &layer.grids {
        for p in &g.geometry.0 {
            for ring in std::iter::once(p.exterior()).chain(p.interiors()) {
                for l in ring.lines() {
                    pts.push((l.start.x, l.start.y));
                    pts.push(((l.start.x + l.end.x) / 2.0, (l.start.y + l.end.y) / 2.0));
                }
            }
        }
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    for _ in 0..50_000 {
        pts.push((rng.random_range(115.85..116.95), rng.random_range(39.55..40.35)));
    }
    for rule in [BoundaryRule::SmallestCode, BoundaryRule::LargestCode, BoundaryRule::Reject] {
        let mut ambiguous = 0;
        for &(x, y) in &pts {
            let (a, b) = (idx.locate(x, y, rule), idx.locate_rtree(x, y, rule));
            assert_eq!(a, b, "({x}, {y}) {rule:?}");
            ambiguous += (a == Located::Ambiguous) as usize;
        }
        if rule == BoundaryRule::Reject {
            assert!(ambiguous > 1000, "shared vertices and edges are ambiguous: {ambiguous}");
        }
    }
}

/// A grid made of two cells that touch only at a corner is there at that corner: its closed
/// area is the union of its parts'. (geo's MultiPolygon position applies the mod-2 boundary
/// rule and calls that corner outside; the benchmark's diagonal MultiPolygons have such
/// corners.)
#[test]
fn the_corner_where_two_parts_of_a_grid_touch_is_in_it() {
    let p1 = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)];
    let p2 = polygon![(x: 1.0, y: 1.0), (x: 2.0, y: 1.0), (x: 2.0, y: 2.0), (x: 1.0, y: 2.0)];
    let other = polygon![(x: 1.0, y: 0.0), (x: 2.0, y: 0.0), (x: 2.0, y: 1.0), (x: 1.0, y: 1.0)];
    let l = [MultiPolygon::new(vec![p1, p2]), MultiPolygon::new(vec![other])];
    let idx = GridIndex::new(l.iter().collect());
    for locate in [GridIndex::locate, GridIndex::locate_rtree] {
        assert_eq!(locate(&idx, 1.0, 1.0, BoundaryRule::SmallestCode), Located::Grid(0));
        assert_eq!(locate(&idx, 1.0, 1.0, BoundaryRule::LargestCode), Located::Grid(1));
        assert_eq!(locate(&idx, 1.0, 1.0, BoundaryRule::Reject), Located::Ambiguous);
        assert_eq!(locate(&idx, 0.5, 0.5, BoundaryRule::Reject), Located::Grid(0));
    }
}
