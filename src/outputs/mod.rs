//! Writers: GeoJSON layers, tables (CSV, Parquet, Arrow IPC), the quarantine, the manifest, and
//! the run folder they are published in.

pub mod charts;
pub mod classes;
pub mod frame;
pub mod geojson;
pub mod manifest;
pub mod publish;
pub mod qml;
pub mod rejects;
pub mod report;
pub mod tables;
pub mod write;
