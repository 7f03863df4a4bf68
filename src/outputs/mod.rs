//! Writers: GeoJSON layers, tables (CSV, Parquet, Arrow IPC), charts, the report, the QGIS
//! styles, the quarantine file, the manifest, and the run folder they are published in. Only
//! this stage writes files.

pub mod charts;
pub mod classes;
pub mod excel;
pub mod geojson;
pub mod gis;
pub mod manifest;
pub mod publish;
pub mod qml;
pub mod rejects;
pub mod report;
pub mod state;
pub mod tables;
pub mod webmap;
pub mod write;
