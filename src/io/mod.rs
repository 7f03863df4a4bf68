//! Readers: the grid layer, and record sources of every kind, batch by batch. Readers know no
//! formula: they turn files into the record model (`vocab::record`) and bad rows into the
//! quarantine.
//!
//! - `files`, `inputs`: a source path → its files; every input hashed, the run id
//! - `grids` (with `validity`, `area`): the grid layer; `gis`: layers in Shapefile, GeoPackage,
//!   FlatGeobuf and GeoParquet
//! - `records`: CSV and Parquet files, batch by batch, behind one interface
//! - `source`: a source of any kind read and checked the same way; `ids`: the key set
//! - `kinds`: one file per record kind, its fields and row checks

pub mod aliases;
pub mod calendar;
pub mod files;
pub mod gis;
pub mod grids;
pub mod h3;
pub mod ids;
pub mod inputs;
pub mod kinds;
pub mod records;
pub mod source;
pub mod state;
pub mod validity;

pub use kinds::CheckContext;
pub use source::{Checker, SourceReader};
