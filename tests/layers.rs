//! The house's arrows point down (ARCHITECTURE.md, "Layers"): a module of the library names
//! only modules of a lower layer, or its own; `io` and `join` do not name each other; only
//! `outputs` (and the data generator `synth`) writes files. Test code is free to reach across.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Layer of each top-level module of the library.
const LAYERS: &[(&str, u8)] =
    &[("vocab", 0), ("config", 1), ("io", 2), ("join", 2), ("indicators", 3), ("outputs", 4), ("pipeline", 5), ("synth", 5)];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The library's own modules' files without their test code: `(top-level module, text)`.
fn library() -> Vec<(String, PathBuf, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut out = Vec::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap();
        let top = rel.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_string();
        // The binary (main.rs, cli/) names the library as `gridgov::`; test files are tests.
        if ["main", "lib", "cli"].contains(&top.as_str()) || f.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        let code = match text.find("#[cfg(test)]\nmod tests") {
            Some(i) => text[..i].to_string(),
            None => text,
        };
        out.push((top, rel.to_path_buf(), code));
    }
    out
}

#[test]
fn every_arrow_points_down() {
    let layer: BTreeMap<&str, u8> = LAYERS.iter().copied().collect();
    let mut uses: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
    let mut wrong = Vec::new();
    for (top, path, code) in library() {
        let own = *layer.get(top.as_str()).unwrap_or_else(|| panic!("{}: module {top} has no layer in LAYERS", path.display()));
        for (i, _) in code.match_indices("crate::") {
            let name: String = code[i + 7..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if name == top {
                continue;
            }
            let Some(&theirs) = layer.get(name.as_str()) else {
                wrong.push(format!("{}: crate::{name} is not a layered module", path.display()));
                continue;
            };
            uses.entry(top.clone()).or_default().insert(name.clone());
            if theirs >= own {
                wrong.push(format!("{} (layer {own}) names crate::{name} (layer {theirs})", path.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "arrows that do not point down:\n{}", wrong.join("\n"));
    // What each layer names, for the record (cargo test -- --nocapture shows it).
    for (m, names) in &uses {
        println!("{m:<11} -> {}", names.iter().cloned().collect::<Vec<_>>().join(", "));
    }
    assert!(!uses.contains_key("vocab"), "vocab names no other module");
}

#[test]
fn only_outputs_write_files() {
    let mut wrong = Vec::new();
    for (top, path, code) in library() {
        if top == "outputs" || top == "synth" {
            continue;
        }
        for call in ["fs::write(", "File::create(", "create_dir", "OpenOptions"] {
            // `std::fs::File::create(`, not `RejectsFile::create(` (an output's own writer).
            let called = code.match_indices(call).any(|(i, _)| !code[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_'));
            if called {
                wrong.push(format!("{}: {call}", path.display()));
            }
        }
    }
    assert!(wrong.is_empty(), "files written outside outputs/:\n{}", wrong.join("\n"));
}
