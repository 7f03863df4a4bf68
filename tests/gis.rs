//! The same grid layer read from every GIS format and coordinate system gridgov reads, in
//! files GDAL's `ogr2ogr` wrote (and geopandas, for GeoParquet): the indicator tables must be
//! the same bytes. Layers in the wrong system stop with the numbers and a guess; a GBK
//! Shapefile without its `.cpg` says it reads as GBK.
//!
//! Needs `ogr2ogr`; GeoParquet needs a Python with geopandas in `GRIDGOV_TEST_PYTHON`. Without
//! them the test says what it skipped, unless `GRIDGOV_REQUIRE_GIS=1` (CI), where it fails.

use crate::util::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn have_ogr2ogr() -> bool {
    Command::new("ogr2ogr").arg("--version").output().is_ok_and(|o| o.status.success())
}

fn required() -> bool {
    std::env::var("GRIDGOV_REQUIRE_GIS").is_ok_and(|v| v == "1")
}

/// The demo's grid layer with property names a DBF can hold (10 characters), and a date
/// property that is empty for some grids (GDAL writes an empty DBF date as `00000000`).
fn source_layer(dir: &Path) -> PathBuf {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/beijing_grids.geojson");
    let out = dir.join("source.geojson");
    let st = Command::new("ogr2ogr")
        .args(["-q", "-f", "GeoJSON", out.to_str().unwrap(), demo.to_str().unwrap(), "-dialect", "SQLite", "-sql"])
        .arg(
            "SELECT grid_code AS code, grid_name AS name, community_code AS comm_code, community_name AS comm_name, \
             street_code AS st_code, street_name AS st_name, district_code AS dist_code, district_name AS dist_name, \
             population, households, CASE WHEN population > 5000 THEN '2026-01-05' ELSE NULL END AS surveyed, \
             geometry FROM beijing_grids",
        )
        .status()
        .unwrap();
    assert!(st.success());
    out
}

fn pipeline(grids: &Path, extra: &str) -> String {
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/cases_app.csv");
    format!(
        r#"
name = "gis"
output_dir = "out"
[period]
month = "2026-10"
as_of = "2026-11-05"
time_zone = "Asia/Shanghai"
[grids]
path = "{}"
{extra}
[grids.properties]
code = "code"
name = "name"
community_code = "comm_code"
community_name = "comm_name"
street_code = "st_code"
street_name = "st_name"
district_code = "dist_code"
district_name = "dist_name"
population = "population"
households = "households"
[[cases]]
name = "app"
path = "{}"
timestamp_formats = ["%Y-%m-%dT%H:%M:%S%:z"]
[cases.columns]
case_id = "report_id"
received_at = "reported_at"
closed_at = "closed_at"
due_at = "due_at"
status = "status"
category = "category"
department = "department"
lon = "lng"
lat = "lat"
contacted = "contacted"
resolved = "resolved"
satisfaction = "satisfaction"
[outputs]
formats = ["csv"]
layers = []
overdue_list = 0
[quality]
max_reject_share = 0.2
"#,
        grids.display(),
        cases.display()
    )
}

/// Runs the pipeline on one layer; the run's CSV tables by name.
fn tables_of(dir: &Path, label: &str, grids: &Path, extra: &str) -> (Out, std::collections::BTreeMap<String, Vec<u8>>) {
    let d = dir.join(format!("run-{label}"));
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("p.toml"), pipeline(grids, extra)).unwrap();
    let (o, run) = run_into(&d.join("p.toml"), &d.join("out"));
    let tables = if o.code == 0 {
        data_files(&run).into_iter().filter(|(k, _)| k.ends_with(".csv") && k != "rejects.csv").collect()
    } else {
        Default::default()
    };
    (o, tables)
}

#[test]
fn one_layer_in_every_format_and_system_gives_the_same_tables() {
    if !have_ogr2ogr() {
        assert!(!required(), "GRIDGOV_REQUIRE_GIS=1 but ogr2ogr is missing");
        eprintln!("skipped: ogr2ogr (GDAL) is not installed");
        return;
    }
    let python = std::env::var("GRIDGOV_TEST_PYTHON").ok().filter(|p| !p.is_empty());
    assert!(python.is_some() || !required(), "GRIDGOV_REQUIRE_GIS=1 but GRIDGOV_TEST_PYTHON is not set");
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let src = source_layer(dir);
    let layers = dir.join("layers");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/gis/make-layers.sh");
    let st = Command::new("bash").arg(&script).arg(&src).arg(&layers).args(python.iter()).status().unwrap();
    assert!(st.success(), "make-layers.sh failed");

    let (o, reference) = tables_of(dir, "reference", &src, "");
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(reference.len() >= 4, "{:?}", reference.keys());
    let mut formats = vec!["geojson", "_utf8.shp", "_gbk.shp", "gpkg", "fgb"];
    if python.is_some() {
        formats.push("parquet");
    } else {
        eprintln!("GeoParquet skipped: set GRIDGOV_TEST_PYTHON to a Python with geopandas");
    }
    let mut read = 0;
    for crs in ["wgs84", "gk39", "merc"] {
        for f in &formats {
            let file = if f.starts_with('_') { format!("{crs}{f}") } else { format!("{crs}.{f}") };
            let (o, tables) = tables_of(dir, &file.replace('.', "-"), &layers.join(&file), "");
            assert_eq!(o.code, 0, "{file}: {}", o.stderr);
            assert_eq!(tables.keys().collect::<Vec<_>>(), reference.keys().collect::<Vec<_>>(), "{file}");
            for (name, bytes) in &tables {
                assert!(bytes == &reference[name], "{file}: {name} differs from the WGS84 GeoJSON's");
            }
            // The manifest says which system the layer was read in, and from where.
            let m = json(&dir.join(format!("run-{}", file.replace('.', "-"))).join("out/latest/manifest.json"));
            let said = m["grids"]["crs"].as_str().unwrap_or_default().to_string();
            match crs {
                "gk39" => assert!(said.contains("4527") || said.contains("GK_Zone_39"), "{file}: {said}"),
                "merc" => assert!(said.contains("3857"), "{file}: {said}"),
                _ => assert!(said.starts_with("wgs84"), "{file}: {said}"),
            }
            read += 1;
        }
    }
    eprintln!("{read} layers read, every table byte-identical to the WGS84 GeoJSON's");

    // Metres read as degrees: the numbers and a guess, not "no usable grid cells".
    let (o, _) = tables_of(dir, "merc-as-wgs84", &layers.join("merc.gpkg"), "crs = \"wgs84\"");
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert!(
        o.stderr.contains("is not a longitude") && o.stderr.contains("Web Mercator (EPSG:3857)") && o.stderr.contains("set grids.crs"),
        "{}",
        o.stderr
    );
    let (o, _) = tables_of(dir, "gk-as-wgs84", &layers.join("gk39_utf8.shp"), "crs = \"cgcs2000\"");
    assert!(o.stderr.contains("x = 39,") && o.stderr.contains("zone 39 (EPSG:4527)"), "{}", o.stderr);
    // Degrees read as metres.
    let (o, _) = tables_of(dir, "wgs84-as-gk", &layers.join("wgs84.fgb"), "crs = \"EPSG:4527\"");
    assert!(o.stderr.contains("is not an easting in EPSG:4527"), "{}", o.stderr);
    // The pipeline's crs wins over the file's: a PROJ string for zone 39 reads the 4527 layer.
    let (o, tables) = tables_of(
        dir,
        "gk-proj",
        &layers.join("gk39.gpkg"),
        "crs = \"+proj=tmerc +lat_0=0 +lon_0=117 +k=1 +x_0=39500000 +y_0=0 +ellps=GRS80 +units=m +no_defs\"",
    );
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(tables == reference, "a PROJ string gives other tables than EPSG:4527");

    // A GBK DBF whose .cpg was lost: read as GBK when told, and told so when not.
    let (o, _) = tables_of(dir, "nocpg", &layers.join("nocpg_gbk.shp"), "");
    assert_eq!(o.code, 3, "{}", o.stderr);
    assert!(o.stderr.contains("reads as GBK") && o.stderr.contains("encoding = \"gbk\""), "{}", o.stderr);
    let (o, tables) = tables_of(dir, "nocpg-gbk", &layers.join("nocpg_gbk.shp"), "encoding = \"gbk\"");
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(tables == reference, "the GBK Shapefile read with encoding = \"gbk\" gives other tables");
}
