//! Any bytes as a grid layer: an error or a layer, never a panic.
#![no_main]

mod common;

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static P: OnceLock<gridgov::config::Pipeline> = OnceLock::new();
    let p = P.get_or_init(common::pipeline);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(layer) = gridgov::io::grids::parse_grids(std::path::Path::new("grids.geojson"), text, &p.grids) {
            // The hierarchy is built from whatever the reader accepted.
            let _ = gridgov::vocab::units::Hierarchy::build(&layer);
        }
    }
});
