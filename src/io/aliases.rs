//! The alias table for records placed by names: other ways a unit's name is written.
//!
//! A UTF-8 CSV with the header `level,name,code`: `level` is `community`, `street` or
//! `district` (or 社区 / 街道 / 区), `name` a way of writing the unit's name, `code` the
//! unit's code in the grid layer. Blank lines and lines starting with `#` are skipped.

use std::path::Path;

use crate::vocab::error::ReadError;
use crate::vocab::units::Level;

pub fn read_aliases(path: &Path) -> Result<Vec<(Level, String, String)>, ReadError> {
    let bad = |message: String| ReadError::Layer { path: path.to_path_buf(), message };
    let text = std::fs::read_to_string(path).map_err(|e| bad(format!("the alias table cannot be read as UTF-8 text: {e}")))?;
    let mut reader = csv::ReaderBuilder::new().comment(Some(b'#')).trim(csv::Trim::All).flexible(false).from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().map_err(|e| bad(e.to_string()))?.iter().map(str::to_string).collect();
    if header != ["level", "name", "code"] {
        return Err(bad(format!("the alias table's header is {header:?}; expected level,name,code")));
    }
    let mut out = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| bad(format!("row {}: {e}", i + 2)))?;
        let level = match &row[0] {
            "community" | "社区" | "村" => Level::Community,
            "street" | "街道" | "乡镇" => Level::Street,
            "district" | "区" | "区县" => Level::District,
            other => return Err(bad(format!("row {}: level {other:?} is not community, street or district", i + 2))),
        };
        if row[1].is_empty() || row[2].is_empty() {
            return Err(bad(format!("row {}: name and code must both be given", i + 2)));
        }
        out.push((level, row[1].to_string(), row[2].to_string()));
    }
    Ok(out)
}
