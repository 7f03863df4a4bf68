//! The words every stage shares, below all of them: errors, reason codes, the record model,
//! places (grids, units, levels), the column table, time, coordinate systems, hashing, the
//! quarantine, the stages of a run. Nothing here reads a file of the user's or knows a formula.

pub mod area;
pub mod boundary;
pub mod calendar;
pub mod column;
pub mod crs;
pub mod dictionary;
pub mod error;
pub mod frame;
pub mod hash;
pub mod interrupt;
pub mod lang;
pub mod names;
pub mod quarantine;
pub mod reason;
pub mod record;
pub mod stage;
pub mod state;
pub mod stats;
pub mod time;
pub mod units;
pub mod wkt;
