//! GeoPackage: one feature table (the one `grids.layer` names, or the only one), rows in
//! `fid` order, the geometry from its GeoPackage blob (header, then WKB), the system from
//! `gpkg_spatial_ref_sys`.

use std::path::Path;

use rusqlite::types::ValueRef;
use serde_json::Value;

use super::{Feature, Features, number};

pub(super) fn read(path: &Path, layer: Option<&str>) -> Result<Features, String> {
    if !path.is_file() {
        return Err("no such file".into());
    }
    let db =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .map_err(|e| format!("not a GeoPackage: {e}"))?;
    let sql_err = |e: rusqlite::Error| format!("not a GeoPackage (or not one gridgov can read): {e}");
    let mut tables: Vec<(String, String, i64)> = db
        .prepare("SELECT table_name, column_name, srs_id FROM gpkg_geometry_columns ORDER BY table_name")
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect())
        .map_err(sql_err)?;
    let names = || tables.iter().map(|t| format!("{:?}", t.0)).collect::<Vec<_>>().join(", ");
    let (table, column, srs_id) = match layer {
        Some(l) => match tables.iter().position(|t| t.0 == l) {
            Some(i) => tables.swap_remove(i),
            None => return Err(format!("the GeoPackage has no feature table {l:?}; it has {}", names())),
        },
        None if tables.len() == 1 => tables.swap_remove(0),
        None if tables.is_empty() => return Err("the GeoPackage has no feature table".into()),
        None => return Err(format!("the GeoPackage has several feature tables ({}): name one with grids.layer", names())),
    };
    let srs: Option<(String, i64, Option<String>)> = db
        .query_row("SELECT organization, organization_coordsys_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id = ?1", [srs_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .ok();
    let crs = match srs {
        // srs_id 0 and -1 are the GeoPackage's "undefined geographic / cartesian" entries.
        Some(_) if srs_id <= 0 => None,
        Some((org, code, def)) => {
            let code = (org.eq_ignore_ascii_case("EPSG") && code > 0).then_some(code as u32);
            super::declared(code, def.as_deref(), &format!("the GeoPackage's SRS {srs_id}"))?
        }
        None => None,
    };
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    // The primary key, for a stable order: GeoPackage feature tables have an INTEGER one.
    let key: Option<String> = db
        .prepare(&format!("PRAGMA table_info({})", quote(&table)))
        .and_then(|mut s| s.query_map([], |r| Ok((r.get::<_, String>(1)?, r.get::<_, i64>(5)?)))?.collect::<Result<Vec<_>, _>>())
        .map_err(sql_err)?
        .into_iter()
        .find(|(_, pk)| *pk == 1)
        .map(|(n, _)| n);
    let order = key.as_deref().map(|k| format!(" ORDER BY {}", quote(k))).unwrap_or_default();
    let mut stmt = db.prepare(&format!("SELECT * FROM {}{order}", quote(&table))).map_err(sql_err)?;
    let cols: Vec<String> = stmt.column_names().iter().map(|s| s.to_string()).collect();
    let mut rows = stmt.query([]).map_err(sql_err)?;
    let mut features = Vec::new();
    while let Some(row) = rows.next().map_err(sql_err)? {
        let mut properties = serde_json::Map::new();
        let mut geometry = Ok(None);
        for (i, name) in cols.iter().enumerate() {
            let v = row.get_ref(i).map_err(sql_err)?;
            if name == &column {
                geometry = match v {
                    ValueRef::Null => Ok(None),
                    ValueRef::Blob(b) => blob(b),
                    _ => Err(format!("the geometry column {column:?} holds no blob")),
                };
                continue;
            }
            if Some(name) == key.as_ref() {
                continue;
            }
            let value = match v {
                ValueRef::Null => Value::Null,
                ValueRef::Integer(x) => Value::from(x),
                ValueRef::Real(x) => number(x),
                ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
                ValueRef::Blob(_) => Value::Null,
            };
            properties.insert(name.clone(), value);
        }
        features.push(Feature { properties, geometry });
    }
    Ok(Features { features, crs })
}

/// A GeoPackage geometry blob: `GP`, version, flags, srs id, an envelope of 0–8 doubles, then
/// standard WKB.
fn blob(b: &[u8]) -> Result<Option<geo::Geometry<f64>>, String> {
    if b.len() < 8 || &b[..2] != b"GP" {
        return Err("the geometry is not a GeoPackage blob".into());
    }
    let flags = b[3];
    if flags & 0b0010_0000 != 0 {
        return Err("extended GeoPackage geometries are not read".into());
    }
    if flags & 0b0001_0000 != 0 {
        return Ok(None);
    }
    let envelope = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 32,
        2 | 3 => 48,
        4 => 64,
        e => return Err(format!("envelope code {e} is not valid")),
    };
    let wkb = b.get(8 + envelope..).ok_or("the geometry blob is cut short")?;
    super::geoparquet::from_wkb(wkb)
}
