//! Readers, one per kind of input, each named for what it yields.

pub mod cases;
pub mod grids;
pub mod signups;
pub mod table;
