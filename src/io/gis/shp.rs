//! Shapefiles: geometries from the `.shp`, attributes from the `.dbf` in the encoding the
//! pipeline, the `.cpg` or the DBF's language driver byte says, the system from the `.prj`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::{Feature, Features, number};
use crate::config::Encoding;

/// The DBF text encoding: what the pipeline says, else the `.cpg`, else the DBF header's
/// language driver id (0x4D = code page 936, GBK), else UTF-8 checked strictly.
enum DbfText {
    Declared(&'static encoding_rs::Encoding, String),
    Strict,
}

pub(super) fn read(path: &Path, encoding: Option<Encoding>) -> Result<Features, String> {
    let sibling = |ext: &str| -> Option<PathBuf> {
        // `.prj`, `.PRJ`, whichever exists beside the `.shp`.
        [ext.to_string(), ext.to_ascii_uppercase()].into_iter().map(|e| path.with_extension(e)).find(|p| p.exists())
    };
    let dbf = sibling("dbf").ok_or("the .dbf file beside the .shp is missing (a Shapefile is .shp + .shx + .dbf)")?;
    let text = match encoding {
        Some(Encoding::Gbk) => DbfText::Declared(encoding_rs::GB18030, "grids.encoding = \"gbk\"".into()),
        Some(Encoding::Utf8) => DbfText::Declared(encoding_rs::UTF_8, "grids.encoding = \"utf-8\"".into()),
        None => match sibling("cpg") {
            Some(cpg) => {
                let label = std::fs::read_to_string(&cpg).map_err(|e| format!("{}: {e}", cpg.display()))?;
                DbfText::Declared(cpg_encoding(label.trim())?, format!("{} says {:?}", file_name(&cpg), label.trim()))
            }
            None => match language_driver(&dbf) {
                Some(0x4D) | Some(0x7A) => DbfText::Declared(encoding_rs::GB18030, "the DBF's language driver (code page 936)".into()),
                _ => DbfText::Strict,
            },
        },
    };
    let crs = match sibling("prj") {
        Some(prj) => {
            let wkt = std::fs::read_to_string(&prj).map_err(|e| format!("{}: {e}", prj.display()))?;
            super::declared(None, Some(&wkt), &file_name(&prj))?
        }
        None => None,
    };
    let shapes = shapefile::ShapeReader::from_path(path).and_then(|r| r.read()).map_err(|e| format!("the .shp cannot be read: {e}"))?;
    let records = read_records(&dbf, &text)?;
    if records.len() != shapes.len() {
        return Err(format!("the .shp has {} shapes but the .dbf {} records", shapes.len(), records.len()));
    }
    let features = shapes
        .into_iter()
        .zip(records)
        .map(|(shape, properties)| {
            let geometry = match shape {
                shapefile::Shape::NullShape => Ok(None),
                s => geo::Geometry::<f64>::try_from(s).map(Some).map_err(|e| format!("the shape cannot be read: {e}")),
            };
            Feature { properties, geometry }
        })
        .collect();
    Ok(Features { features, crs })
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into_owned())
}

/// The encoding a `.cpg` names (`UTF-8`, `GBK`, `CP936`, `936`, `GB2312`, `GB18030`, ...).
fn cpg_encoding(label: &str) -> Result<&'static encoding_rs::Encoding, String> {
    let l = label.to_ascii_lowercase().replace(['-', '_', ' '], "");
    match l.as_str() {
        "utf8" | "65001" => Ok(encoding_rs::UTF_8),
        "gbk" | "cp936" | "936" | "gb2312" | "gb18030" | "ansi936" | "54936" => Ok(encoding_rs::GB18030),
        _ => encoding_rs::Encoding::for_label(label.as_bytes())
            .ok_or_else(|| format!("the .cpg names the encoding {label:?}, which gridgov does not know; set grids.encoding")),
    }
}

/// Byte 29 of a DBF header: the language driver id.
fn language_driver(dbf: &Path) -> Option<u8> {
    use std::io::Read;
    let mut head = [0u8; 32];
    std::fs::File::open(dbf).ok()?.read_exact(&mut head).ok()?;
    Some(head[29])
}

/// The DBF's records as typed JSON values, in field order.
fn read_records(dbf: &Path, text: &DbfText) -> Result<Vec<serde_json::Map<String, Value>>, String> {
    let builder = shapefile::dbase::ReaderBuilder::new();
    let builder = match text {
        DbfText::Declared(e, _) => builder.with_encoding(shapefile::dbase::encoding::EncodingRs::from(*e)),
        DbfText::Strict => builder.with_encoding(shapefile::dbase::Unicode),
    };
    let mut reader = builder.open(dbf).map_err(|e| format!("{}: {e}", file_name(dbf)))?;
    let fields: Vec<String> = reader.fields().iter().map(|f| f.name().to_string()).collect();
    let mut out = Vec::new();
    for (i, record) in reader.iter_records_as::<Lenient>().enumerate() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let hint = match text {
                    DbfText::Strict => gbk_hint(dbf, i),
                    DbfText::Declared(_, why) => format!(" (read as {why})"),
                };
                return Err(format!("{}: record {}: {e}{hint}", file_name(dbf), i + 1));
            }
        };
        let mut props = serde_json::Map::new();
        for (name, v) in fields.iter().zip(record.0) {
            props.insert(name.clone(), v.map_or(Value::Null, json));
        }
        out.push(props);
    }
    Ok(out)
}

/// A DBF record in field order, a field that is not a date where the DBF says date (GDAL writes
/// an empty date as `00000000`) read as null instead of failing the record.
struct Lenient(Vec<Option<shapefile::dbase::FieldValue>>);

impl shapefile::dbase::ReadableRecord for Lenient {
    fn read_using<S, M>(it: &mut shapefile::dbase::FieldIterator<S, M>) -> Result<Self, shapefile::dbase::FieldError>
    where
        S: std::io::Read + std::io::Seek,
        M: std::io::Read + std::io::Seek,
    {
        let mut values = Vec::new();
        loop {
            match it.read_next_field() {
                Ok(v) => values.push(Some(v.value)),
                Err(e) if matches!(e.kind(), shapefile::dbase::ErrorKind::EndOfRecord) => break,
                Err(e) if matches!(e.kind(), shapefile::dbase::ErrorKind::InvalidDate(_)) => values.push(None),
                Err(e) => return Err(e),
            }
        }
        Ok(Lenient(values))
    }
}

/// A DBF value as JSON; a Numeric without a fraction as an integer (DBF keeps numbers as
/// text, so whether the field was declared with decimals says nothing of the value).
fn json(v: shapefile::dbase::FieldValue) -> Value {
    use shapefile::dbase::FieldValue as F;
    match v {
        F::Character(Some(s)) | F::Memo(s) => Value::String(s.trim_end().to_string()),
        F::Numeric(Some(x)) if x.fract() == 0.0 && x.abs() < 9e15 => Value::from(x as i64),
        F::Numeric(Some(x)) | F::Double(x) | F::Currency(x) => number(x),
        F::Float(Some(x)) => number(x as f64),
        F::Integer(x) => Value::from(x),
        F::Logical(Some(b)) => Value::Bool(b),
        F::Date(Some(d)) => Value::String(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())),
        F::DateTime(dt) => {
            let d = dt.date();
            Value::String(format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()))
        }
        _ => Value::Null,
    }
}

/// When a DBF without a declared encoding is not UTF-8: what its text reads as in GBK.
fn gbk_hint(dbf: &Path, record: usize) -> String {
    let reader =
        shapefile::dbase::ReaderBuilder::new().with_encoding(shapefile::dbase::encoding::EncodingRs::from(encoding_rs::GB18030)).open(dbf);
    let sample = reader.ok().and_then(|mut r| {
        let rec = r.iter_records().nth(record)?.ok()?;
        let map: std::collections::HashMap<String, shapefile::dbase::FieldValue> = rec.into();
        let mut texts: Vec<String> = map
            .into_values()
            .filter_map(|v| match v {
                shapefile::dbase::FieldValue::Character(Some(s)) if !s.is_ascii() => Some(s.trim_end().to_string()),
                _ => None,
            })
            .collect();
        texts.sort();
        texts.into_iter().next()
    });
    match sample {
        Some(s) => format!(
            "; the text is not UTF-8 and the layer has no .cpg: it reads as GBK ({s:?}): set encoding = \"gbk\" under [grids], or add a .cpg file saying GBK"
        ),
        None => "; the text is not UTF-8 and the layer has no .cpg: set encoding = \"gbk\" under [grids] if it is GBK".into(),
    }
}
