//! Any text as a coordinate system: a pipeline's `crs`, a `.prj`, a GeoPackage SRS definition
//! or a GeoJSON `crs` name. An error or a system, never a panic; a system converts any point
//! without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for crs in [gridgov::vocab::crs::Crs::parse(text), gridgov::vocab::wkt::crs_from_wkt(text)].into_iter().flatten() {
            let _ = crs.to_wgs84(39_448_455.6, 4_420_434.7);
            let _ = crs.to_wgs84(f64::NAN, f64::INFINITY);
            let _ = crs.from_wgs84(116.4, 39.9);
        }
        let _ = gridgov::vocab::names::stem(gridgov::vocab::units::Level::Community, text);
        let _ = gridgov::vocab::names::stem(gridgov::vocab::units::Level::District, text);
        let _ = gridgov::vocab::names::everyday(gridgov::vocab::units::Level::Community, text);
    }
});
