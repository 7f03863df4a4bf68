//! Any text as a pipeline file: a configuration error or a resolved pipeline, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let path = Path::new("/fuzz/pipeline.toml");
        if let Ok(p) = gridgov::pipeline::resolve_text(path, text, &Default::default()) {
            // The run id serialises the resolved pipeline, as every run does.
            let inputs = gridgov::io::inputs::Inputs { files: Vec::new(), sources: Vec::new() };
            let _ = gridgov::io::inputs::run_id(&p, &inputs);
        }
    }
});
