//! Grid layers in the GIS formats other than GeoJSON: Shapefile (`.shp` with its `.dbf`,
//! `.prj` and `.cpg`), GeoPackage (`.gpkg`), FlatGeobuf (`.fgb`) and GeoParquet (`.parquet`).
//!
//! Each reader hands `io/grids.rs` the same thing: the features in file order, each with its
//! properties as typed JSON values and its geometry as `geo` types (or why it has none), and
//! the coordinate system the file declares. GeoJSON stays in `grids.rs`, parsed in parallel.

mod fgb;
mod geoparquet;
mod gpkg;
mod shp;

use std::path::Path;

use crate::config::Encoding;
use crate::vocab::crs::Crs;
use crate::vocab::error::ReadError;

/// The formats a grid layer can come in, by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerFormat {
    GeoJson,
    Shapefile,
    GeoPackage,
    FlatGeobuf,
    GeoParquet,
}

impl LayerFormat {
    /// The format of a layer file, from its extension.
    pub fn of(path: &Path) -> Result<LayerFormat, ReadError> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default().to_ascii_lowercase();
        Ok(match ext.as_str() {
            "geojson" | "json" => LayerFormat::GeoJson,
            "shp" => LayerFormat::Shapefile,
            "gpkg" => LayerFormat::GeoPackage,
            "fgb" => LayerFormat::FlatGeobuf,
            "parquet" | "geoparquet" => LayerFormat::GeoParquet,
            _ => {
                return Err(ReadError::Layer {
                    path: path.to_path_buf(),
                    message: format!(
                        "the extension {ext:?} names no layer format gridgov reads: .geojson, .shp, .gpkg, .fgb or .parquet (GeoParquet)"
                    ),
                });
            }
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            LayerFormat::GeoJson => "geojson",
            LayerFormat::Shapefile => "shapefile",
            LayerFormat::GeoPackage => "gpkg",
            LayerFormat::FlatGeobuf => "flatgeobuf",
            LayerFormat::GeoParquet => "geoparquet",
        }
    }
}

/// One feature of a layer: its properties and its geometry (`Ok(None)`: null geometry;
/// `Err`: the geometry could not be decoded, and why).
pub struct Feature {
    pub properties: serde_json::Map<String, serde_json::Value>,
    pub geometry: Result<Option<geo::Geometry<f64>>, String>,
}

/// A layer's features and the coordinate system its file declares, with where it says so.
pub struct Features {
    pub features: Vec<Feature>,
    pub crs: Option<(Crs, String)>,
}

/// What a reader needs besides the path: the GeoPackage table (when it has several) and the
/// DBF text encoding (when the Shapefile does not say).
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub layer: Option<String>,
    pub encoding: Option<Encoding>,
}

/// Reads a non-GeoJSON layer. A damaged file is an error naming it, even where a format
/// crate would panic on it (their parsers index into what the file claims).
pub fn read(path: &Path, format: LayerFormat, options: &ReadOptions) -> Result<Features, ReadError> {
    let err = |message: String| ReadError::Layer { path: path.to_path_buf(), message };
    let read = || match format {
        LayerFormat::Shapefile => shp::read(path, options.encoding),
        LayerFormat::GeoPackage => gpkg::read(path, options.layer.as_deref()),
        LayerFormat::FlatGeobuf => fgb::read(path),
        LayerFormat::GeoParquet => geoparquet::read(path),
        LayerFormat::GeoJson => Err("GeoJSON is read by io/grids.rs".into()),
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)) {
        Ok(r) => r.map_err(err),
        Err(p) => {
            let what = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default();
            Err(err(format!("the file is damaged: its {} reader failed ({what})", format.as_str())))
        }
    }
}

/// A declared EPSG code or WKT as a `Crs`, with the error naming where it was found.
fn declared(code: Option<u32>, wkt: Option<&str>, wherein: &str) -> Result<Option<(Crs, String)>, String> {
    if let Some(code) = code.filter(|&c| c > 0) {
        return match Crs::from_epsg(code) {
            Ok(c) => Ok(Some((c, format!("{wherein}: EPSG:{code}")))),
            Err(e) => Err(format!("{wherein} declares EPSG:{code}: {e}")),
        };
    }
    match wkt.map(str::trim).filter(|w| !w.is_empty()) {
        Some(w) => crate::vocab::wkt::crs_from_wkt(w).map(|c| Some((c, format!("{wherein} (WKT)")))).map_err(|e| format!("{wherein}: {e}")),
        None => Ok(None),
    }
}

/// A float property as JSON: integral values stay numbers, non-finite ones become null.
fn number(v: f64) -> serde_json::Value {
    serde_json::Number::from_f64(v).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_extension() {
        assert_eq!(LayerFormat::of(Path::new("a/Grids.SHP")).expect("shp"), LayerFormat::Shapefile);
        assert_eq!(LayerFormat::of(Path::new("g.gpkg")).expect("gpkg"), LayerFormat::GeoPackage);
        assert_eq!(LayerFormat::of(Path::new("g.fgb")).expect("fgb"), LayerFormat::FlatGeobuf);
        assert_eq!(LayerFormat::of(Path::new("g.parquet")).expect("parquet"), LayerFormat::GeoParquet);
        assert_eq!(LayerFormat::of(Path::new("g.geojson")).expect("geojson"), LayerFormat::GeoJson);
        let e = LayerFormat::of(Path::new("g.kml")).unwrap_err().to_string();
        assert!(e.contains("\"kml\"") && e.contains(".gpkg"), "{e}");
    }

    #[test]
    fn missing_or_broken_files_are_errors_not_panics() {
        let dir = tempfile::tempdir().expect("a temp dir");
        for (name, format) in [
            ("x.shp", LayerFormat::Shapefile),
            ("x.gpkg", LayerFormat::GeoPackage),
            ("x.fgb", LayerFormat::FlatGeobuf),
            ("x.parquet", LayerFormat::GeoParquet),
        ] {
            let p = dir.path().join(name);
            assert!(read(&p, format, &ReadOptions::default()).is_err(), "{name}: missing");
            std::fs::write(&p, b"not a layer at all, just text\n").expect("write");
            let e = read(&p, format, &ReadOptions::default()).err().expect("an error").to_string();
            assert!(e.contains(name), "{name}: {e}");
        }
    }
}
