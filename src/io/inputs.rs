//! The run's input files, found and hashed before anything is read: the hashes name the run
//! (see [`run_id`]) and go into the manifest beside the rows read from each file.

use rayon::prelude::*;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

use crate::config::Pipeline;
use crate::io::files::expand;
use crate::vocab::error::ReadError;
use crate::vocab::hash::{relative, sha256_file};

/// One file read by the run.
#[derive(Debug, Clone)]
pub struct InputFile {
    /// `grids`, `cases` or `signups`.
    pub kind: &'static str,
    /// The source's name (`grids` for the grid layer).
    pub source: String,
    pub path: PathBuf,
    pub format: String,
    pub crs: String,
    pub transform: String,
    pub sha256: String,
    pub bytes: u64,
}

/// Every input file, and the files of each record source in pipeline order.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub files: Vec<InputFile>,
    /// `sources[i]` are the files of `Pipeline::sources[i]`.
    pub sources: Vec<Vec<PathBuf>>,
}

/// Expands every source path and hashes every file (in parallel). Every missing or unreadable
/// input is reported at once.
pub fn find(p: &Pipeline) -> Result<Inputs, ReadError> {
    find_hashing(p, |_| true)
}

/// As `find`, hashing only the files `hash` picks (a partial run hashes its own case files;
/// a merge takes the case files' hashes from the states). The others keep an empty sha256.
pub fn find_hashing(p: &Pipeline, hash: impl Fn(&InputFile) -> bool + Sync) -> Result<Inputs, ReadError> {
    let mut errors: Vec<ReadError> = Vec::new();
    let mut files: Vec<InputFile> = Vec::new();
    let entry = |kind, source: &str, path: &Path, format: String, crs: String, transform: String| InputFile {
        kind,
        source: source.to_string(),
        path: path.to_path_buf(),
        format,
        crs,
        transform,
        sha256: String::new(),
        bytes: 0,
    };
    // A grid layer's files: a Shapefile's `.dbf`, `.prj` and `.cpg` decide as much as the
    // `.shp`, so they are hashed too.
    let layer_files = |g: &crate::config::GridsConfig| -> Vec<(PathBuf, String)> {
        let format = super::gis::LayerFormat::of(&g.path).map_or("unknown", |f| f.as_str());
        let mut out = vec![(g.path.clone(), format.to_string())];
        if format == "shapefile" {
            for ext in ["shx", "dbf", "prj", "cpg"] {
                let side = g.path.with_extension(ext);
                if side.exists() {
                    out.push((side, format!("shapefile .{ext}")));
                }
            }
        }
        out
    };
    let crs_of = |g: &crate::config::GridsConfig| match &g.crs {
        Some(c) => (c.as_str().to_string(), c.transform_description()),
        None => ("as the file declares, else wgs84".to_string(), "see grids.crs in the manifest".to_string()),
    };
    let (gc, gt) = crs_of(&p.grids);
    for (path, format) in layer_files(&p.grids) {
        files.push(entry("grids", "grids", &path, format, gc.clone(), gt.clone()));
    }
    // Each source's files, listed once under `files` with the source's coordinate decision.
    let mut list = |kind: &'static str, name: &str, path: &Path, format: crate::config::FileFormat, crs: &str, transform: &str| {
        let found = expand(path, format).unwrap_or_else(|e| {
            errors.push(e);
            Vec::new()
        });
        for f in &found {
            files.push(entry(kind, name, f, format!("{format:?}").to_lowercase(), crs.into(), transform.into()));
        }
        found
    };
    let sources: Vec<Vec<PathBuf>> = p
        .sources
        .iter()
        .map(|s| {
            let (crs, transform) = match crate::io::kinds::spec(s.kind) {
                Some(k) if k.options.crs => (s.crs.as_str(), s.crs.transform_description()),
                _ => ("-", "assigned by grid code".to_string()),
            };
            list(s.kind, &s.name, &s.path, s.format, crs, &transform)
        })
        .collect();
    // The other grid networks' layers, after every source's files.
    for n in &p.networks {
        let g = &n.grids;
        let (gc, gt) = crs_of(g);
        for (path, format) in layer_files(g) {
            files.push(entry("grids", &n.name, &path, format, gc.clone(), gt.clone()));
        }
    }
    errors.extend(hash_files(&mut files, hash));
    match errors.len() {
        0 => Ok(Inputs { files, sources }),
        1 => Err(errors.remove(0)),
        _ => Err(ReadError::Several { errors: errors.iter().map(|e| e.to_string()).collect() }),
    }
}

/// Hashes more of the files `find_hashing` listed (a partial run, once it knows its share).
pub fn hash_more(inputs: &mut Inputs, hash: impl Fn(&InputFile) -> bool + Sync) -> Result<(), ReadError> {
    let mut errors = hash_files(&mut inputs.files, |f| f.sha256.is_empty() && hash(f));
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(ReadError::Several { errors: errors.iter().map(|e| e.to_string()).collect() }),
    }
}

/// Hashes (in parallel) the files `hash` picks; the others are left as they are.
fn hash_files(files: &mut [InputFile], hash: impl Fn(&InputFile) -> bool + Sync) -> Vec<ReadError> {
    let hashed: Vec<Option<Result<(String, u64), ReadError>>> = files
        .par_iter()
        .map(|f| {
            hash(f).then(|| {
                let sha = sha256_file(&f.path).map_err(ReadError::io(&f.path))?;
                let bytes = std::fs::metadata(&f.path).map_err(ReadError::io(&f.path))?.len();
                Ok((sha, bytes))
            })
        })
        .collect();
    let mut errors = Vec::new();
    for (f, h) in files.iter_mut().zip(hashed) {
        match h {
            Some(Ok((sha, bytes))) => {
                f.sha256 = sha;
                f.bytes = bytes;
            }
            Some(Err(e)) => errors.push(e),
            None => {}
        }
    }
    errors
}

/// What a partial run's state must share with the merge and the other partial runs: a hash
/// of gridgov's version, the resolved configuration (as in `run_id`) and every grid layer's
/// files.
pub fn config_id(p: &Pipeline, inputs: &Inputs) -> String {
    let grids = Inputs { files: inputs.files.iter().filter(|f| f.kind == "grids").cloned().collect(), sources: Vec::new() };
    let id = run_id(p, &grids);
    id.rsplit('-').next().unwrap_or_default().to_string()
}

/// The run id: the as-of date and 12 hex digits of a hash of gridgov's version, the resolved
/// configuration (without where it lives or writes) and every input file's path (relative to
/// the pipeline file) and sha256. The same inputs and configuration give the same id.
pub fn run_id(p: &Pipeline, inputs: &Inputs) -> String {
    let base = p.file.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut config = serde_json::to_value(p).unwrap_or_default();
    if let Some(o) = config.as_object_mut() {
        o.remove("file");
        o.remove("output_dir");
    }
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    h.update([0]);
    h.update(config.to_string().as_bytes());
    for f in &inputs.files {
        for part in [f.kind, &f.source, &relative(&f.path, &base), &f.sha256] {
            h.update([0]);
            h.update(part.as_bytes());
        }
    }
    let hex = format!("{:x}", h.finalize());
    format!("{}-{}", p.period.as_of, &hex[..12])
}
