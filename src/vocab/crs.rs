//! Coordinate systems of input points, and their conversion to WGS84 once, at ingestion.
//!
//! GCJ-02 (Amap, Tencent) and BD-09 (Baidu) are obfuscated datums used by Chinese map apps.
//! The forward transforms come from the `coordtransform` crate. Its inverse is the usual
//! one-step approximation (1–2 m off); we refine it by fixed-point iteration on the forward
//! transform until the round trip is within 1e-9 degrees (about 0.1 mm), which is what keeps
//! a case on the right side of a grid edge. CGCS2000 is taken as WGS84 (they differ by
//! centimetres, below the 6-decimal precision of our layers).

use serde::{Deserialize, Serialize};

/// The coordinate system a record source declares for its points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Crs {
    /// WGS84 lon/lat (EPSG:4326). Nothing to do.
    #[default]
    Wgs84,
    /// China Geodetic Coordinate System 2000, geographic; equal to WGS84 at metre level.
    Cgcs2000,
    /// GCJ-02 ("Mars coordinates"): Amap, Tencent maps.
    Gcj02,
    /// BD-09: Baidu maps (GCJ-02 with a second offset).
    Bd09,
}

impl Crs {
    /// Name as written in pipeline files and the manifest.
    pub fn as_str(self) -> &'static str {
        match self {
            Crs::Wgs84 => "wgs84",
            Crs::Cgcs2000 => "cgcs2000",
            Crs::Gcj02 => "gcj02",
            Crs::Bd09 => "bd09",
        }
    }

    /// Describes the transform applied at ingestion, for the manifest.
    pub fn transform_description(self) -> &'static str {
        match self {
            Crs::Wgs84 => "none",
            Crs::Cgcs2000 => "none (CGCS2000 taken as WGS84)",
            Crs::Gcj02 => "gcj02 -> wgs84, iterated inverse (<1e-9 deg)",
            Crs::Bd09 => "bd09 -> gcj02 -> wgs84, iterated inverses (<1e-9 deg)",
        }
    }

    /// Whether points need a transform to be WGS84 (GCJ-02 and BD-09 do).
    pub fn needs_transform(self) -> bool {
        matches!(self, Crs::Gcj02 | Crs::Bd09)
    }

    /// Converts one point in this system to WGS84 lon/lat.
    pub fn to_wgs84(self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => (lon, lat),
            Crs::Gcj02 => gcj02_to_wgs84(lon, lat),
            Crs::Bd09 => bd09_to_wgs84(lon, lat),
        }
    }
}

/// Tolerance of the iterated inverses, in degrees (about 0.1 mm).
const INVERSE_TOLERANCE_DEG: f64 = 1e-9;
/// The forward transforms are contractions with a tiny Jacobian deviation from identity, so the
/// iteration converges in 3–5 steps; the cap only guards against non-finite input.
const MAX_ITERATIONS: usize = 30;

/// Solves `forward(x) = target` for x by fixed-point iteration, starting from `target`.
fn invert(target: (f64, f64), forward: impl Fn(f64, f64) -> (f64, f64)) -> (f64, f64) {
    let (mut lon, mut lat) = target;
    for _ in 0..MAX_ITERATIONS {
        let (flon, flat) = forward(lon, lat);
        let (dlon, dlat) = (flon - target.0, flat - target.1);
        lon -= dlon;
        lat -= dlat;
        if dlon.abs() < INVERSE_TOLERANCE_DEG && dlat.abs() < INVERSE_TOLERANCE_DEG {
            break;
        }
    }
    (lon, lat)
}

/// WGS84 → GCJ-02 (the forward obfuscation). Identity outside mainland China.
pub fn wgs84_to_gcj02(lon: f64, lat: f64) -> (f64, f64) {
    coordtransform::wgs84_to_gcj02(lon, lat)
}

/// GCJ-02 → WGS84 with an iterated inverse (sub-millimetre round trip).
pub fn gcj02_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    invert((lon, lat), coordtransform::wgs84_to_gcj02)
}

/// WGS84 → BD-09.
pub fn wgs84_to_bd09(lon: f64, lat: f64) -> (f64, f64) {
    coordtransform::wgs84_to_bd09(lon, lat)
}

/// BD-09 → WGS84: BD-09 → GCJ-02 and GCJ-02 → WGS84, both inverted iteratively.
pub fn bd09_to_wgs84(lon: f64, lat: f64) -> (f64, f64) {
    let gcj = invert((lon, lat), coordtransform::gcj02_to_bd09);
    gcj02_to_wgs84(gcj.0, gcj.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metres(a: (f64, f64), b: (f64, f64)) -> f64 {
        let dy = (a.1 - b.1) * 111_320.0;
        let dx = (a.0 - b.0) * 111_320.0 * a.1.to_radians().cos();
        (dx * dx + dy * dy).sqrt()
    }

    #[test]
    fn gcj02_round_trip_is_sub_millimetre_across_beijing() {
        for i in 0..20 {
            for j in 0..20 {
                let w = (115.4 + 1.6 * i as f64 / 19.0, 39.4 + 1.7 * j as f64 / 19.0);
                let g = wgs84_to_gcj02(w.0, w.1);
                assert!(metres(g, w) > 100.0, "the offset is real: {:?}", g);
                assert!(metres(gcj02_to_wgs84(g.0, g.1), w) < 0.001);
            }
        }
    }

    #[test]
    fn bd09_round_trip_is_sub_millimetre() {
        let w = (116.397_128, 39.916_527); // the Forbidden City
        let b = wgs84_to_bd09(w.0, w.1);
        assert!(metres(b, w) > 500.0);
        assert!(metres(bd09_to_wgs84(b.0, b.1), w) < 0.001);
    }

    #[test]
    fn the_crate_inverse_alone_is_not_good_enough() {
        // Guards the reason this module exists: the one-step inverse is metres off.
        let w = (116.397_128, 39.916_527);
        let g = wgs84_to_gcj02(w.0, w.1);
        let naive = coordtransform::gcj02_to_wgs84(g.0, g.1);
        assert!(metres(naive, w) > 0.01);
    }

    #[test]
    fn non_finite_input_does_not_hang_or_panic() {
        let (lon, lat) = gcj02_to_wgs84(f64::NAN, 39.9);
        assert!(lon.is_nan() || lat.is_nan());
        let _ = bd09_to_wgs84(f64::INFINITY, f64::NEG_INFINITY);
    }

    #[test]
    fn cgcs2000_is_identity() {
        assert_eq!(Crs::Cgcs2000.to_wgs84(116.3, 39.9), (116.3, 39.9));
    }
}
