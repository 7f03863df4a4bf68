//! Layers in the formats beside GeoJSON (`[outputs] layer_formats`): GeoPackage, FlatGeobuf
//! and GeoParquet, written from the same frame and geometries as the GeoJSON layer, so the
//! four carry the same properties with the same types.
//!
//! All are WGS84 (EPSG:4326) with 6-decimal coordinates and counter-clockwise exterior
//! rings, as the GeoJSON. Types (GeoPackage / FlatGeobuf / GeoParquet): text → TEXT / String /
//! string, integers → INTEGER / Long / int64, floats → REAL / Double / double, booleans →
//! BOOLEAN / Bool / bool, dates → DATE / DateTime (FlatGeobuf has no date) / date, naive local
//! timestamps → TEXT `YYYY-MM-DDTHH:MM:SS` (GeoPackage's DATETIME must be UTC) / DateTime /
//! timestamp. Every file is the same bytes for the same run.

use std::io::Write;
use std::path::Path;

use geo::{BoundingRect, Geometry};

use crate::vocab::error::OutputError;
use crate::vocab::frame::{Column, Frame, Values};
use crate::vocab::hash::HashingWriter;

use super::geojson::LayerInfo;

/// The layer formats besides GeoJSON, as `layer_formats` names them, with their extensions.
/// GeoParquet layers are `.geo.parquet`: `<level>.parquet` is the level's table.
pub const FORMATS: [(&str, &str); 3] = [("gpkg", "gpkg"), ("fgb", "fgb"), ("parquet", "geo.parquet")];

/// WKT of EPSG:4326 as GeoPackage's `gpkg_spatial_ref_sys` gives it.
const WGS84_WKT: &str = r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]"#;

/// Writes one layer as `format` (`gpkg`, `fgb` or `parquet`): `columns` as properties,
/// `geoms` (prepared: rounded and oriented) as geometries.
/// `polygons`: the layer's geometry type is MultiPolygon, else Point.
pub fn write(
    format: &str,
    path: &Path,
    name: &str,
    columns: &[&Column],
    geoms: &[Geometry<f64>],
    polygons: bool,
) -> Result<LayerInfo, OutputError> {
    let enc = |m: String| OutputError::encode(path, m);
    if columns.iter().any(|c| c.values.len() != geoms.len()) {
        return Err(enc(format!("{} geometries but columns of other lengths", geoms.len())));
    }
    let bbox = geoms.iter().filter_map(|g| g.bounding_rect()).reduce(|a, b| {
        geo::Rect::new(
            geo::Coord { x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y) },
            geo::Coord { x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y) },
        )
    });
    let (sha256, bytes) = match format {
        "gpkg" => gpkg(path, name, columns, geoms, polygons, bbox)?,
        "fgb" => fgb(path, name, columns, geoms, polygons)?,
        "parquet" => {
            let frame = Frame { columns: columns.iter().map(|c| (*c).clone()).collect() };
            let wkb: Vec<Option<Vec<u8>>> = geoms.iter().map(|g| Some(wkb(g))).collect();
            let kind = if polygons { "MultiPolygon" } else { "Point" };
            let mut column = serde_json::json!({"encoding": "WKB", "geometry_types": [kind]});
            if polygons {
                column["orientation"] = "counterclockwise".into();
            }
            if let Some(r) = bbox {
                column["bbox"] = serde_json::json!([r.min().x, r.min().y, r.max().x, r.max().y]);
            }
            // No `crs`: GeoParquet's default, OGC:CRS84 (WGS84 lon/lat).
            let geo = serde_json::json!({"version": "1.1.0", "primary_column": "geometry", "columns": {"geometry": column}});
            let w = super::tables::write_geoparquet(path, &frame, wkb, geo.to_string())?;
            (w.sha256, w.bytes)
        }
        other => return Err(enc(format!("{other:?} is not a layer format"))),
    };
    Ok(LayerInfo { features: geoms.len(), bbox: bbox.map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]), sha256, bytes })
}

/// Standard WKB, little endian.
fn wkb(g: &Geometry<f64>) -> Vec<u8> {
    let mut b = Vec::with_capacity(wkb::writer::geometry_wkb_size(g));
    // Writing into a Vec cannot fail.
    let _ = wkb::writer::write_geometry(&mut b, g, &wkb::writer::WriteOptions { endianness: wkb::Endianness::LittleEndian });
    b
}

/// A GeoPackage 1.3 file: the required tables, one feature table named after the layer with
/// an integer `fid` primary key (1, 2, … in row order), the geometry column `geom`.
fn gpkg(
    path: &Path,
    name: &str,
    columns: &[&Column],
    geoms: &[Geometry<f64>],
    polygons: bool,
    bbox: Option<geo::Rect<f64>>,
) -> Result<(String, u64), OutputError> {
    let sql = |e: rusqlite::Error| OutputError::encode(path, format!("GeoPackage: {e}"));
    // SQLite writes in place: start from no file (a re-run into a kept folder) and hash after.
    let _ = std::fs::remove_file(path);
    let mut db = rusqlite::Connection::open(path).map_err(sql)?;
    let q = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    let decl = |v: &Values| match v {
        // GeoPackage's DATETIME is UTC (`...Z`) by its spec: a naive local time stays text,
        // so no reader shifts 1 October 00:00 into 30 September.
        Values::Str(_) | Values::Timestamp(_) => "TEXT",
        Values::Int(_) => "INTEGER",
        Values::Float(_) => "REAL",
        Values::Bool(_) => "BOOLEAN",
        Values::Date(_) => "DATE",
    };
    let kind = if polygons { "MULTIPOLYGON" } else { "POINT" };
    let mut fields: Vec<String> = vec!["fid INTEGER PRIMARY KEY NOT NULL".into(), format!("geom {kind}")];
    fields.extend(columns.iter().map(|c| format!("{} {}", q(&c.key), decl(&c.values))));
    let tx = db.transaction().map_err(sql)?;
    tx.execute_batch(&format!(
        "PRAGMA application_id = 1196444487;
         PRAGMA user_version = 10300;
         CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
         CREATE TABLE gpkg_contents (table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE, description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER, CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
         CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL, CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name), CONSTRAINT uk_gc_table_name UNIQUE (table_name), CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name), CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
         CREATE TABLE {} ({});",
        q(name),
        fields.join(", ")
    ))
    .map_err(sql)?;
    tx.execute(
        "INSERT INTO gpkg_spatial_ref_sys VALUES
           ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined', 'undefined cartesian coordinate reference system'),
           ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined', 'undefined geographic coordinate reference system'),
           ('WGS 84 geodetic', 4326, 'EPSG', 4326, ?1, 'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid')",
        [WGS84_WKT],
    )
    .map_err(sql)?;
    let b = bbox.map(|r| [r.min().x, r.min().y, r.max().x, r.max().y]);
    // A fixed `last_change`: the file must be the same bytes on every run of the same inputs.
    tx.execute(
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, min_x, min_y, max_x, max_y, srs_id)
         VALUES (?1, 'features', ?1, '', '2000-01-01T00:00:00.000Z', ?2, ?3, ?4, ?5, 4326)",
        rusqlite::params![name, b.map(|b| b[0]), b.map(|b| b[1]), b.map(|b| b[2]), b.map(|b| b[3])],
    )
    .map_err(sql)?;
    tx.execute("INSERT INTO gpkg_geometry_columns VALUES (?1, 'geom', ?2, 4326, 0, 0)", rusqlite::params![name, kind]).map_err(sql)?;
    {
        let marks: Vec<String> = (0..columns.len() + 2).map(|i| format!("?{}", i + 1)).collect();
        let mut stmt = tx.prepare(&format!("INSERT INTO {} VALUES ({})", q(name), marks.join(", "))).map_err(sql)?;
        for (i, g) in geoms.iter().enumerate() {
            use rusqlite::types::Value as V;
            let mut row: Vec<V> = vec![V::Integer(i as i64 + 1), V::Blob(gpkg_blob(g))];
            for c in columns {
                row.push(match &c.values {
                    Values::Str(v) => v[i].clone().map_or(V::Null, V::Text),
                    Values::Int(v) => v[i].map_or(V::Null, V::Integer),
                    Values::Float(v) => v[i].filter(|x| x.is_finite()).map_or(V::Null, V::Real),
                    Values::Bool(v) => v[i].map_or(V::Null, |b| V::Integer(b as i64)),
                    Values::Date(v) => v[i].map_or(V::Null, |d| V::Text(d.format("%Y-%m-%d").to_string())),
                    Values::Timestamp(v) => v[i].map_or(V::Null, |t| V::Text(t.format("%Y-%m-%dT%H:%M:%S").to_string())),
                });
            }
            stmt.execute(rusqlite::params_from_iter(row)).map_err(sql)?;
        }
    }
    tx.commit().map_err(sql)?;
    db.close().map_err(|(_, e)| sql(e))?;
    let bytes = std::fs::read(path).map_err(OutputError::io(path))?;
    let mut w = HashingWriter::new(std::io::sink());
    w.write_all(&bytes).map_err(OutputError::io(path))?;
    let (_, sha256, n) = w.finish();
    Ok((sha256, n))
}

/// A GeoPackage geometry blob: `GP`, version 0, flags (little endian, an xy envelope),
/// srs id 4326, the envelope (min x, max x, min y, max y), then WKB.
fn gpkg_blob(g: &Geometry<f64>) -> Vec<u8> {
    let mut b = vec![b'G', b'P', 0, 0b0000_0011];
    b.extend_from_slice(&4326i32.to_le_bytes());
    let r = g.bounding_rect().unwrap_or(geo::Rect::new(geo::Coord { x: 0.0, y: 0.0 }, geo::Coord { x: 0.0, y: 0.0 }));
    for v in [r.min().x, r.max().x, r.min().y, r.max().y] {
        b.extend_from_slice(&v.to_le_bytes());
    }
    b.extend_from_slice(&wkb(g));
    b
}

/// A FlatGeobuf file without a spatial index (features stay in row order; an index would
/// reorder them along a Hilbert curve), CRS EPSG:4326 in the header.
fn fgb(path: &Path, name: &str, columns: &[&Column], geoms: &[Geometry<f64>], polygons: bool) -> Result<(String, u64), OutputError> {
    use flatgeobuf::{ColumnType, FgbCrs, FgbWriter, FgbWriterOptions, GeometryType};
    use geozero::{ColumnValue, PropertyProcessor};
    let enc = |e: String| OutputError::encode(path, format!("FlatGeobuf: {e}"));
    let opts =
        FgbWriterOptions { write_index: false, crs: FgbCrs { org: Some("EPSG"), code: 4326, ..Default::default() }, ..Default::default() };
    let kind = if polygons { GeometryType::MultiPolygon } else { GeometryType::Point };
    let mut w = FgbWriter::create_with_options(name, kind, opts).map_err(|e| enc(e.to_string()))?;
    for c in columns {
        let t = match c.values {
            Values::Str(_) => ColumnType::String,
            Values::Int(_) => ColumnType::Long,
            Values::Float(_) => ColumnType::Double,
            Values::Bool(_) => ColumnType::Bool,
            // FlatGeobuf has no date type: dates are date-times at midnight, as GDAL writes them.
            Values::Date(_) | Values::Timestamp(_) => ColumnType::DateTime,
        };
        w.add_column(&c.key, t, |_, col| col.nullable = true);
    }
    for (i, g) in geoms.iter().enumerate() {
        w.add_feature_geom(g.clone(), |f| {
            for (k, c) in columns.iter().enumerate() {
                let text;
                let v = match &c.values {
                    Values::Str(v) => v[i].as_deref().map(ColumnValue::String),
                    Values::Int(v) => v[i].map(ColumnValue::Long),
                    Values::Float(v) => v[i].filter(|x| x.is_finite()).map(ColumnValue::Double),
                    Values::Bool(v) => v[i].map(ColumnValue::Bool),
                    Values::Date(v) => {
                        text = v[i].map(|d| d.format("%Y-%m-%d").to_string());
                        text.as_deref().map(ColumnValue::DateTime)
                    }
                    Values::Timestamp(v) => {
                        text = v[i].map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string());
                        text.as_deref().map(ColumnValue::DateTime)
                    }
                };
                // A null is an absent value.
                if let Some(v) = v {
                    let _ = f.property(k, &c.key, &v);
                }
            }
        })
        .map_err(|e| enc(e.to_string()))?;
    }
    let file = std::fs::File::create(path).map_err(OutputError::io(path))?;
    let mut hw = HashingWriter::new(std::io::BufWriter::new(file));
    w.write(&mut hw).map_err(|e| enc(e.to_string()))?;
    let (mut buf, sha256, bytes) = hw.finish();
    buf.flush().map_err(OutputError::io(path))?;
    Ok((sha256, bytes))
}
