//! Small deterministic helpers shared by the generators: seeding, sampling, rounding and a local
//! metric projection.

use std::path::Path;

use super::SynthError;
use geo::{Coord, LineString, MultiPolygon, Polygon};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Output precision: 6 decimals (about 10 cm), as RFC 7946 §11.2 suggests.
pub(crate) const MICRO: f64 = 1e6;

pub(crate) fn round6(v: f64) -> f64 {
    (v * MICRO).round() / MICRO
}

/// Integer micro-degree key of a coordinate. Cells that share a vertex must share it bit for bit,
/// so vertices are compared through these keys rather than as floats.
pub(crate) fn key(c: Coord<f64>) -> (i64, i64) {
    ((c.x * MICRO).round() as i64, (c.y * MICRO).round() as i64)
}

pub(crate) fn from_key(k: (i64, i64)) -> Coord<f64> {
    Coord { x: k.0 as f64 / MICRO, y: k.1 as f64 / MICRO }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One independent random stream per purpose, so that e.g. changing the number of cases does not
/// move a single grid vertex, and the districts can be tiled in parallel.
pub(crate) fn rng_for(seed: u64, stream: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(splitmix64(seed ^ splitmix64(stream)))
}

/// Standard normal deviate (Box–Muller); rand_distr is not a dependency.
pub(crate) fn std_normal(rng: &mut impl Rng) -> f64 {
    // 1 - u keeps the logarithm's argument in (0, 1].
    let u1 = 1.0 - rng.random::<f64>();
    let u2 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// Sampler over a fixed list of non-negative weights (binary search on the running sum).
pub(crate) struct Cumulative {
    acc: Vec<f64>,
}

impl Cumulative {
    /// None when no weight is positive: the caller decides what an empty table means.
    pub(crate) fn new(weights: impl IntoIterator<Item = f64>) -> Option<Self> {
        let mut total = 0.0;
        let acc: Vec<f64> = weights
            .into_iter()
            .map(|w| {
                if w.is_finite() && w > 0.0 {
                    total += w;
                }
                total
            })
            .collect();
        (total > 0.0).then_some(Cumulative { acc })
    }

    pub(crate) fn sample(&self, rng: &mut impl Rng) -> usize {
        let total = self.acc.last().copied().unwrap_or(0.0);
        let u = rng.random::<f64>() * total;
        // First entry whose running sum exceeds u; zero-weight entries never qualify.
        self.acc.partition_point(|&a| a <= u).min(self.acc.len().saturating_sub(1))
    }
}

/// Local equirectangular projection around Beijing, in km. Only used for lattice spacing, nominal
/// areas and distances (a few % scale error is irrelevant there); output areas are ellipsoidal.
pub(crate) const LON0: f64 = 116.4;
pub(crate) const LAT0: f64 = 40.0;
const KM_PER_DEG_LAT: f64 = 111.0;
fn km_per_deg_lon() -> f64 {
    111.32 * LAT0.to_radians().cos()
}

pub(crate) fn to_km(lon: f64, lat: f64) -> (f64, f64) {
    ((lon - LON0) * km_per_deg_lon(), (lat - LAT0) * KM_PER_DEG_LAT)
}

pub(crate) fn from_km(x: f64, y: f64) -> (f64, f64) {
    (LON0 + x / km_per_deg_lon(), LAT0 + y / KM_PER_DEG_LAT)
}

/// Tiananmen, the reference point for "centre" (population density, street ordering).
pub(crate) const CENTRE_LON: f64 = 116.3975;
pub(crate) const CENTRE_LAT: f64 = 39.9087;

fn ring_area_km2(ring: &LineString<f64>) -> f64 {
    let pts: Vec<(f64, f64)> = ring.0.iter().map(|c| to_km(c.x, c.y)).collect();
    let mut s = 0.0;
    for w in pts.windows(2) {
        s += w[0].0 * w[1].1 - w[1].0 * w[0].1;
    }
    s / 2.0
}

/// Planar area in km² in the local projection (holes subtracted).
pub(crate) fn polygon_area_km2(p: &Polygon<f64>) -> f64 {
    ring_area_km2(p.exterior()).abs() - p.interiors().iter().map(|r| ring_area_km2(r).abs()).sum::<f64>()
}

pub(crate) fn area_km2(mp: &MultiPolygon<f64>) -> f64 {
    mp.0.iter().map(polygon_area_km2).sum()
}

/// Area-weighted centroid of the exterior rings in km (holes ignored: good enough for clustering).
pub(crate) fn centroid_km(mp: &MultiPolygon<f64>) -> (f64, f64) {
    let (mut ax, mut ay, mut aa) = (0.0, 0.0, 0.0);
    for p in &mp.0 {
        let pts: Vec<(f64, f64)> = p.exterior().0.iter().map(|c| to_km(c.x, c.y)).collect();
        for w in pts.windows(2) {
            let cross = w[0].0 * w[1].1 - w[1].0 * w[0].1;
            aa += cross;
            ax += (w[0].0 + w[1].0) * cross;
            ay += (w[0].1 + w[1].1) * cross;
        }
    }
    if aa.abs() < 1e-12 {
        // Degenerate: fall back to the first vertex rather than dividing by zero.
        return mp.0.first().and_then(|p| p.exterior().0.first()).map(|c| to_km(c.x, c.y)).unwrap_or((0.0, 0.0));
    }
    (ax / (3.0 * aa), ay / (3.0 * aa))
}

/// Removes consecutive duplicate vertices and keeps the ring closed; None if fewer than three
/// distinct vertices remain (the ring has collapsed).
pub(crate) fn clean_ring(coords: impl IntoIterator<Item = Coord<f64>>) -> Option<LineString<f64>> {
    let mut out: Vec<Coord<f64>> = Vec::new();
    for c in coords {
        if out.last() != Some(&c) {
            out.push(c);
        }
    }
    while out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    if out.len() < 3 {
        return None;
    }
    let first = out[0];
    out.push(first);
    Some(LineString::new(out))
}

/// Rounds every vertex to 6 decimals and drops what collapses.
pub(crate) fn round_multipolygon(mp: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    let round = |r: &LineString<f64>| clean_ring(r.0.iter().map(|c| Coord { x: round6(c.x), y: round6(c.y) }));
    MultiPolygon::new(
        mp.0.iter()
            .filter_map(|p| {
                let ext = round(p.exterior())?;
                let holes = p.interiors().iter().filter_map(round).collect();
                Some(Polygon::new(ext, holes))
            })
            .collect(),
    )
}

/// Writes a CSV file of the demo: UTF-8 without BOM, `\n` line ends, a header row.
pub(crate) fn write_csv<const N: usize>(path: &Path, header: [&str; N], rows: &[[String; N]]) -> Result<(), SynthError> {
    let file = std::fs::File::create(path).map_err(|source| SynthError::Write { path: path.to_path_buf(), source })?;
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(file);
    let err = |e: csv::Error| SynthError::Csv { path: path.to_path_buf(), source: e };
    w.write_record(header).map_err(err)?;
    for r in rows {
        w.write_record(r).map_err(err)?;
    }
    w.flush().map_err(|source| SynthError::Write { path: path.to_path_buf(), source })
}
