//! Readers, one per kind of input, each named for what it yields.

pub mod area;
pub mod cases;
pub mod files;
pub mod grids;
pub mod ids;
pub mod inputs;
pub mod records;
pub mod signups;
pub mod validity;
