//! Coordinate systems of input points and layers, and their conversion to WGS84 once, at
//! ingestion.
//!
//! GCJ-02 (Amap, Tencent) and BD-09 (Baidu) are obfuscated datums used by Chinese map apps.
//! The forward transforms come from the `coordtransform` crate. Its inverse is the usual
//! one-step approximation (1–2 m off); we refine it by fixed-point iteration on the forward
//! transform until the round trip is within 1e-9 degrees (about 0.1 mm), which is what keeps
//! a case on the right side of a grid edge. CGCS2000 is taken as WGS84 (they differ by
//! centimetres, below the 6-decimal precision of our layers).
//!
//! Projected systems (CGCS2000 Gauss–Krüger zones, Web Mercator, UTM, any PROJ string) go
//! through `proj4rs`; EPSG codes are looked up in `crs-definitions`. How a file's own
//! declaration (a `.prj`, a GeoPackage SRS, ...) becomes one of these is `vocab/wkt.rs`.

use std::sync::Arc;

/// The coordinate system of a record source's points or a grid layer's coordinates.
#[derive(Debug, Clone, PartialEq, Default)]
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
    /// Projected coordinates in metres (or another geographic datum), through PROJ.
    Projected(Arc<Projected>),
}

/// A coordinate system PROJ describes: its name as the user or the file gave it, and the
/// PROJ string it stands for.
pub struct Projected {
    /// `EPSG:4527`, or the PROJ string itself.
    pub name: String,
    /// The PROJ string.
    pub definition: String,
    proj: proj4rs::Proj,
    wgs84: proj4rs::Proj,
    /// Whether the system is geographic (degrees), e.g. another datum's lon/lat.
    geographic: bool,
}

impl std::fmt::Debug for Projected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Projected({} = {})", self.name, self.definition)
    }
}

impl PartialEq for Projected {
    fn eq(&self, other: &Self) -> bool {
        self.definition == other.definition
    }
}

/// proj4rs' `Proj` holds plain data; the conversion runs on every reader thread.
const _: () = {
    const fn shared<T: Send + Sync>() {}
    shared::<Projected>()
};

const WGS84_LONLAT: &str = "+proj=longlat +datum=WGS84 +no_defs";

impl Crs {
    /// Name as written in pipeline files and the manifest.
    pub fn as_str(&self) -> &str {
        match self {
            Crs::Wgs84 => "wgs84",
            Crs::Cgcs2000 => "cgcs2000",
            Crs::Gcj02 => "gcj02",
            Crs::Bd09 => "bd09",
            Crs::Projected(p) => &p.name,
        }
    }

    /// Reads a coordinate system as a pipeline file or a layer names it: `wgs84`, `cgcs2000`,
    /// `gcj02`, `bd09`; `EPSG:4527` (also `epsg:4527`, `urn:ogc:def:crs:EPSG::4527`,
    /// `http://www.opengis.net/def/crs/EPSG/0/4527`); `OGC:CRS84`; or a PROJ string
    /// (`+proj=tmerc +lon_0=117 ...`).
    pub fn parse(text: &str) -> Result<Crs, String> {
        let t = text.trim();
        let lower = t.to_ascii_lowercase();
        match lower.as_str() {
            "wgs84" | "wgs 84" | "crs84" | "ogc:crs84" | "urn:ogc:def:crs:ogc:1.3:crs84" | "urn:ogc:def:crs:ogc::crs84" => {
                return Ok(Crs::Wgs84);
            }
            "cgcs2000" => return Ok(Crs::Cgcs2000),
            "gcj02" | "gcj-02" => return Ok(Crs::Gcj02),
            "bd09" | "bd-09" => return Ok(Crs::Bd09),
            _ => {}
        }
        if t.starts_with('+') {
            return Crs::proj(t, t);
        }
        match epsg_code(&lower) {
            Some(code) => Crs::from_epsg(code),
            None => Err(format!(
                "{t:?} is not a coordinate system gridgov knows: give wgs84, cgcs2000, gcj02, bd09, an EPSG code (\"EPSG:4527\") or a PROJ string (\"+proj=tmerc ...\")"
            )),
        }
    }

    /// The system of an EPSG code: 4326 and 4490 are the geographic systems above, any other
    /// code goes through its PROJ string.
    pub fn from_epsg(code: u32) -> Result<Crs, String> {
        match code {
            4326 => return Ok(Crs::Wgs84),
            4490 => return Ok(Crs::Cgcs2000),
            _ => {}
        }
        let def = u16::try_from(code).ok().and_then(crs_definitions::from_code);
        match def {
            Some(d) => Crs::proj(&format!("EPSG:{code}"), d.proj4),
            None => Err(format!("EPSG:{code} is not in gridgov's table of EPSG codes (crs-definitions); give its PROJ string instead")),
        }
    }

    /// A system from a PROJ string, named `name`.
    pub fn proj(name: &str, definition: &str) -> Result<Crs, String> {
        let definition = definition.trim();
        let proj = proj4rs::Proj::from_proj_string(definition).map_err(|e| format!("PROJ string {definition:?}: {e}"))?;
        if !proj.has_inverse() {
            return Err(format!("PROJ string {definition:?}: the projection has no inverse in proj4rs"));
        }
        let wgs84 = proj4rs::Proj::from_proj_string(WGS84_LONLAT).map_err(|e| e.to_string())?;
        let geographic = proj.is_latlong();
        Ok(Crs::Projected(Arc::new(Projected { name: name.to_string(), definition: definition.to_string(), proj, wgs84, geographic })))
    }

    /// Whether coordinates in this system are longitudes and latitudes in degrees.
    pub fn is_geographic(&self) -> bool {
        match self {
            Crs::Projected(p) => p.geographic,
            _ => true,
        }
    }

    /// Describes the transform applied at ingestion, for the manifest.
    pub fn transform_description(&self) -> String {
        match self {
            Crs::Wgs84 => "none".into(),
            Crs::Cgcs2000 => "none (CGCS2000 taken as WGS84)".into(),
            Crs::Gcj02 => "gcj02 -> wgs84, iterated inverse (<1e-9 deg)".into(),
            Crs::Bd09 => "bd09 -> gcj02 -> wgs84, iterated inverses (<1e-9 deg)".into(),
            Crs::Projected(p) => format!("{} -> wgs84 (proj4rs: {})", p.name, p.definition),
        }
    }

    /// Whether points need a transform to be WGS84 (GCJ-02, BD-09 and projected ones do).
    pub fn needs_transform(&self) -> bool {
        matches!(self, Crs::Gcj02 | Crs::Bd09 | Crs::Projected(_))
    }

    /// Converts one point in this system to WGS84 lon/lat (NaN when the projection cannot
    /// invert it).
    pub fn to_wgs84(&self, x: f64, y: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => (x, y),
            Crs::Gcj02 => gcj02_to_wgs84(x, y),
            Crs::Bd09 => bd09_to_wgs84(x, y),
            Crs::Projected(p) => {
                let mut pt = if p.geographic { (x.to_radians(), y.to_radians(), 0.0) } else { (x, y, 0.0) };
                match proj4rs::transform::transform(&p.proj, &p.wgs84, &mut pt) {
                    Ok(()) if pt.0.is_finite() && pt.1.is_finite() => (pt.0.to_degrees(), pt.1.to_degrees()),
                    _ => (f64::NAN, f64::NAN),
                }
            }
        }
    }

    /// WGS84 lon/lat to this system (the inverse of `to_wgs84`; for projected systems only,
    /// used by `gridgov crs` and the round-trip tests).
    pub fn from_wgs84(&self, lon: f64, lat: f64) -> (f64, f64) {
        match self {
            Crs::Wgs84 | Crs::Cgcs2000 => (lon, lat),
            Crs::Gcj02 => wgs84_to_gcj02(lon, lat),
            Crs::Bd09 => wgs84_to_bd09(lon, lat),
            Crs::Projected(p) => {
                let mut pt = (lon.to_radians(), lat.to_radians(), 0.0);
                match proj4rs::transform::transform(&p.wgs84, &p.proj, &mut pt) {
                    Ok(()) if p.geographic => (pt.0.to_degrees(), pt.1.to_degrees()),
                    Ok(()) => (pt.0, pt.1),
                    Err(_) => (f64::NAN, f64::NAN),
                }
            }
        }
    }
}

impl serde::Serialize for Crs {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Crs {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Crs, D::Error> {
        let text = String::deserialize(d)?;
        Crs::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The EPSG code in `epsg:4527`, `urn:ogc:def:crs:epsg::4527`, `urn:ogc:def:crs:epsg:9.8.1:4527`,
/// `http://www.opengis.net/def/crs/epsg/0/4527` (lower-cased), or a bare number.
fn epsg_code(lower: &str) -> Option<u32> {
    let rest = if let Some(r) = lower.strip_prefix("epsg:") {
        r
    } else if let Some(r) = lower.strip_prefix("urn:ogc:def:crs:epsg:") {
        r.rsplit(':').next()?
    } else if let Some(r) = lower.strip_prefix("http://www.opengis.net/def/crs/epsg/") {
        r.rsplit('/').next()?
    } else {
        lower
    };
    rest.trim().parse().ok()
}

/// What a pair of numbers that is not a longitude/latitude probably is, for the error that
/// asks the user to declare the layer's system: every candidate whose inverse lands in
/// China's extent (Web Mercator; a CGCS2000 Gauss–Krüger zone, its number in front of the
/// easting; UTM or a zone without its number), most likely first.
pub fn guess_projected(x: f64, y: f64) -> String {
    // Built once: the message can be asked for on every row of a file in the wrong system.
    static CANDIDATES: std::sync::OnceLock<Vec<(u32, Crs)>> = std::sync::OnceLock::new();
    let candidates = CANDIDATES
        .get_or_init(|| (4491..=4501).chain(4513..=4533).chain([3857]).filter_map(|c| Some((c, Crs::from_epsg(c).ok()?))).collect());
    let in_china = |c: &Crs| {
        let (lon, lat) = c.to_wgs84(x, y);
        (73.0..=136.0).contains(&lon) && (3.0..=54.0).contains(&lat)
    };
    let zone = (x / 1e6).floor();
    let mut fits = Vec::new();
    for (code, c) in candidates {
        let name = match code {
            4513..=4533 if zone == (code - 4513 + 25) as f64 => format!("CGCS2000 3-degree Gauss-Kruger zone {zone} (EPSG:{code})"),
            4491..=4501 if zone == (code - 4491 + 13) as f64 => format!("CGCS2000 6-degree Gauss-Kruger zone {zone} (EPSG:{code})"),
            3857 => "Web Mercator (EPSG:3857)".to_string(),
            _ => continue,
        };
        if in_china(c) {
            fits.push(name);
        }
    }
    if (100_000.0..1_000_000.0).contains(&x) && (0.0..10_000_000.0).contains(&y) {
        fits.push("UTM (e.g. EPSG:32650) or Gauss-Kruger without the zone number (EPSG:4534-4554, 4502-4512)".into());
    }
    if fits.is_empty() { "projected".into() } else { format!("projected: {}?", fits.join(" or ")) }
}

/// A thousands-separated number for messages: 12,950,000.
pub fn grouped(v: f64) -> String {
    let r = v.round();
    let digits = format!("{}", r.abs() as u64);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if r < 0.0 { format!("-{out}") } else { out }
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
    fn systems_by_name_code_urn_and_proj_string() {
        assert_eq!(Crs::parse("WGS84").expect("wgs84"), Crs::Wgs84);
        assert_eq!(Crs::parse("EPSG:4326").expect("4326"), Crs::Wgs84);
        assert_eq!(Crs::parse("urn:ogc:def:crs:OGC:1.3:CRS84").expect("crs84"), Crs::Wgs84);
        assert_eq!(Crs::parse("EPSG:4490").expect("4490"), Crs::Cgcs2000);
        assert_eq!(Crs::parse("urn:ogc:def:crs:EPSG::4527").expect("urn").as_str(), "EPSG:4527");
        assert_eq!(Crs::parse("http://www.opengis.net/def/crs/EPSG/0/3857").expect("uri").as_str(), "EPSG:3857");
        let p = Crs::parse("+proj=utm +zone=50 +datum=WGS84 +units=m +no_defs").expect("proj");
        assert!(!p.is_geographic() && p.needs_transform());
        // pyproj 3.7.2 (PROJ 9.5), EPSG:4527: (116.397128, 39.916527) = (39448455.63290484, 4420434.713537361).
        let gk = Crs::from_epsg(4527).expect("4527");
        let (x, y) = gk.from_wgs84(116.397_128, 39.916_527);
        assert!((x - 39_448_455.632_904_84).abs() < 1e-6 && (y - 4_420_434.713_537_361).abs() < 1e-6, "{x} {y}");
        let (lon, lat) = gk.to_wgs84(x, y);
        assert!((lon - 116.397_128).abs() < 1e-10 && (lat - 39.916_527).abs() < 1e-10);
        for bad in ["EPSG:1", "mars", "+proj=nonsense", "EPSG:99999999999", ""] {
            assert!(Crs::parse(bad).is_err(), "{bad}");
        }
        assert!(Crs::parse("mars").unwrap_err().contains("EPSG:4527"));
    }

    #[test]
    fn projected_coordinates_are_recognised_with_their_likely_system() {
        let g = guess_projected(12_957_434.0, 4_852_000.0);
        assert!(g.contains("Web Mercator (EPSG:3857)"), "{g}");
        let g = guess_projected(39_449_250.0, 4_419_538.0);
        assert!(g.contains("zone 39 (EPSG:4527)") && !g.contains("Mercator"), "{g}");
        let g = guess_projected(20_449_250.0, 4_419_538.0);
        assert!(g.contains("6-degree Gauss-Kruger zone 20 (EPSG:4498)"), "{g}");
        let g = guess_projected(449_250.0, 4_419_538.0);
        assert!(g.contains("UTM"), "{g}");
        assert_eq!(grouped(12_950_000.0), "12,950,000");
        assert_eq!(grouped(-950.4), "-950");
    }

    #[test]
    fn cgcs2000_is_identity() {
        assert_eq!(Crs::Cgcs2000.to_wgs84(116.3, 39.9), (116.3, 39.9));
    }
}
