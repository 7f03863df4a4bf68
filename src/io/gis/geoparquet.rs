//! GeoParquet (1.0 / 1.1, WKB encoding): the `geo` metadata names the primary geometry column
//! and its system (PROJJSON; none means OGC:CRS84). Read through polars, which the record
//! reader already uses for Parquet.

use std::path::Path;

use polars::prelude::*;
use serde_json::Value;

use super::{Feature, Features, number};

pub(super) fn read(path: &Path) -> Result<Features, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut reader = ParquetReader::new(file);
    let meta = reader.get_metadata().map_err(|e| format!("not a Parquet file: {e}"))?.clone();
    let geo = meta
        .key_value_metadata()
        .as_ref()
        .and_then(|kv| kv.iter().find(|k| k.key == "geo"))
        .and_then(|k| k.value.clone())
        .ok_or("the Parquet file has no `geo` metadata: it is not GeoParquet")?;
    let geo: Value = serde_json::from_str(&geo).map_err(|e| format!("the `geo` metadata is not JSON: {e}"))?;
    let column = geo["primary_column"].as_str().ok_or("the `geo` metadata names no primary_column")?.to_string();
    let meta_col = &geo["columns"][&column];
    match meta_col["encoding"].as_str() {
        Some(e) if e.eq_ignore_ascii_case("WKB") => {}
        other => return Err(format!("the geometry column {column:?} is encoded as {other:?}; gridgov reads WKB")),
    }
    let crs = match &meta_col["crs"] {
        // GeoParquet: a missing crs means OGC:CRS84; null means undefined.
        Value::Null => None,
        Value::String(s) => Some((crate::vocab::crs::Crs::parse(s)?, format!("the GeoParquet metadata: {s}"))),
        projjson => {
            let id = &projjson["id"];
            let code = (id["authority"].as_str().is_some_and(|a| a.eq_ignore_ascii_case("EPSG"))).then(|| id["code"].as_u64()).flatten();
            match code {
                Some(c) => super::declared(Some(c as u32), None, "the GeoParquet metadata")?,
                None => return Err("the GeoParquet metadata's crs (PROJJSON) has no EPSG id; give grids.crs".into()),
            }
        }
    };
    // Writers (geopandas, GDAL) tag the geometry column as the Arrow extension type
    // `geoarrow.wkb`, which polars does not read: without the embedded Arrow schema the
    // column is what Parquet says it is, a byte array.
    let mut plain = (*meta).clone();
    if let Some(kv) = plain.key_value_metadata.as_mut() {
        kv.retain(|k| k.key != "ARROW:schema");
    }
    reader.set_metadata(std::sync::Arc::new(plain));
    let df = reader.finish().map_err(|e| e.to_string())?;
    let height = df.height();
    let mut props: Vec<serde_json::Map<String, Value>> = vec![serde_json::Map::new(); height];
    let mut geoms: Vec<Result<Option<geo::Geometry<f64>>, String>> = Vec::new();
    for col in df.columns() {
        let s = col.as_materialized_series();
        if s.name().as_str() == column {
            let b = s.binary().map_err(|_| format!("the geometry column {column:?} is not binary"))?;
            geoms = b.iter().map(|v| v.map_or(Ok(None), from_wkb)).collect();
            continue;
        }
        for (i, p) in props.iter_mut().enumerate() {
            let v = match s.get(i).map_err(|e| e.to_string())? {
                AnyValue::Null => Value::Null,
                AnyValue::Boolean(b) => Value::Bool(b),
                AnyValue::String(t) => Value::String(t.to_string()),
                AnyValue::StringOwned(t) => Value::String(t.to_string()),
                AnyValue::Int8(x) => Value::from(x),
                AnyValue::Int16(x) => Value::from(x),
                AnyValue::Int32(x) => Value::from(x),
                AnyValue::Int64(x) => Value::from(x),
                AnyValue::UInt8(x) => Value::from(x),
                AnyValue::UInt16(x) => Value::from(x),
                AnyValue::UInt32(x) => Value::from(x),
                AnyValue::UInt64(x) => Value::from(x),
                AnyValue::Float32(x) => number(x as f64),
                AnyValue::Float64(x) => number(x),
                other => Value::String(other.to_string()),
            };
            p.insert(s.name().to_string(), v);
        }
    }
    if geoms.len() != height {
        return Err(format!("the geometry column {column:?} is missing"));
    }
    let features = props.into_iter().zip(geoms).map(|(properties, geometry)| Feature { properties, geometry }).collect();
    Ok(Features { features, crs })
}

/// Standard (or ISO / extended) WKB to a `geo` geometry, only x and y kept.
pub(super) fn from_wkb(b: &[u8]) -> Result<Option<geo::Geometry<f64>>, String> {
    use geo_traits::to_geo::ToGeoGeometry;
    let w = wkb::reader::read_wkb(b).map_err(|e| format!("the WKB cannot be read: {e}"))?;
    Ok(w.try_to_geometry())
}
