//! Writes the grid layer as an RFC 7946 FeatureCollection, one feature per line so that diffs of
//! the committed demo file stay readable.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use geojson::{Feature, Geometry, GeometryValue, JsonObject, feature::Id};

use super::SynthError;
use super::admin::Grid;
use super::reference::Reference;

pub(crate) fn write(path: &Path, name: &str, grids: &[Grid], reference: &Reference) -> Result<usize, SynthError> {
    let werr = |source: std::io::Error| SynthError::Write { path: path.to_path_buf(), source };
    let mut w = BufWriter::new(File::create(path).map_err(werr)?);
    w.write_all(format!("{{\"type\":\"FeatureCollection\",\"name\":\"{name}\",\"features\":[\n").as_bytes()).map_err(werr)?;
    for (i, g) in grids.iter().enumerate() {
        let comm = &reference.communities[g.community];
        let street = &reference.streets[g.street];
        let dist = &reference.districts[g.district];
        let mut props = JsonObject::new();
        props.insert("grid_code".into(), g.code.clone().into());
        props.insert("grid_name".into(), g.name.clone().into());
        props.insert("community_code".into(), comm.code.clone().into());
        props.insert("community_name".into(), comm.name.clone().into());
        props.insert("street_code".into(), street.code.clone().into());
        props.insert("street_name".into(), street.name.clone().into());
        props.insert("district_code".into(), dist.code.clone().into());
        props.insert("district_name".into(), dist.name.clone().into());
        props.insert("population".into(), g.population.into());
        props.insert("households".into(), g.households.into());
        let value = if g.shape.0.len() == 1 { GeometryValue::from(&g.shape.0[0]) } else { GeometryValue::from(&g.shape) };
        // Numeric codes are the feature ids; other networks' codes are not numbers.
        let id: u64 = g.code.parse().unwrap_or(i as u64 + 1);
        let feature = Feature {
            bbox: None,
            geometry: Some(Geometry::new(value)),
            id: Some(Id::Number(id.into())),
            properties: Some(props),
            foreign_members: None,
        };
        if i > 0 {
            w.write_all(b",\n").map_err(werr)?;
        }
        serde_json::to_writer(&mut w, &feature).map_err(|e| werr(std::io::Error::other(e)))?;
    }
    w.write_all(b"\n]}\n").map_err(werr)?;
    w.flush().map_err(werr)?;
    Ok(grids.len())
}
