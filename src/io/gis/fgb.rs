//! FlatGeobuf: features in file order, properties typed by the header's columns, the system
//! from the header's CRS (an EPSG code, or its WKT).

use std::path::Path;

use flatgeobuf::{FallibleStreamingIterator, FeatureProperties, FgbReader};
use geozero::{ColumnValue, PropertyProcessor, ToGeo};
use serde_json::Value;

use super::{Feature, Features, number};

pub(super) fn read(path: &Path) -> Result<Features, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let reader = FgbReader::open(std::io::BufReader::new(file)).map_err(|e| format!("not a FlatGeobuf file: {e}"))?;
    let header = reader.header();
    let crs = match header.crs() {
        Some(c) => {
            let code = (c.org().is_none_or(|o| o.eq_ignore_ascii_case("EPSG")) && c.code() > 0).then_some(c.code() as u32);
            super::declared(code, c.wkt(), "the FlatGeobuf header")?
        }
        None => None,
    };
    let columns: Vec<String> = header.columns().map(|cs| cs.iter().map(|c| c.name().to_string()).collect()).unwrap_or_default();
    let mut iter = reader.select_all_seq().map_err(|e| e.to_string())?;
    let mut features = Vec::new();
    while let Some(f) = iter.next().map_err(|e| format!("feature {}: {e}", features.len()))? {
        let mut props = Props(serde_json::Map::new());
        // Every column, in the header's order; absent values are nulls.
        for c in &columns {
            props.0.insert(c.clone(), Value::Null);
        }
        f.process_properties(&mut props).map_err(|e| format!("feature {}: properties: {e}", features.len()))?;
        let geometry = match f.geometry() {
            None => Ok(None),
            Some(_) => f.to_geo().map(Some).map_err(|e| e.to_string()),
        };
        features.push(Feature { properties: props.0, geometry });
    }
    Ok(Features { features, crs })
}

struct Props(serde_json::Map<String, Value>);

impl PropertyProcessor for Props {
    fn property(&mut self, _i: usize, name: &str, v: &ColumnValue<'_>) -> geozero::error::Result<bool> {
        let value = match *v {
            ColumnValue::Byte(x) => Value::from(x),
            ColumnValue::UByte(x) => Value::from(x),
            ColumnValue::Bool(x) => Value::Bool(x),
            ColumnValue::Short(x) => Value::from(x),
            ColumnValue::UShort(x) => Value::from(x),
            ColumnValue::Int(x) => Value::from(x),
            ColumnValue::UInt(x) => Value::from(x),
            ColumnValue::Long(x) => Value::from(x),
            ColumnValue::ULong(x) => Value::from(x),
            ColumnValue::Float(x) => number(x as f64),
            ColumnValue::Double(x) => number(x),
            ColumnValue::String(s) | ColumnValue::Json(s) | ColumnValue::DateTime(s) => Value::String(s.to_string()),
            ColumnValue::Binary(_) => Value::Null,
        };
        self.0.insert(name.to_string(), value);
        Ok(false)
    }
}
