//! gridgov: grid cells × case and sign-up records → per-grid indicators → GeoJSON layers and tables.
//!
//! The modules follow the data's way through a run (see ARCHITECTURE.md):
//! [`config`] → [`io`] (grids, cases, sign-ups) → [`join`] → [`indicators`] → [`outputs`],
//! wired together in [`pipeline`].

pub mod config;
pub mod crs;
pub mod error;
pub mod hierarchy;
pub mod indicators;
pub mod io;
pub mod join;
pub mod outputs;
pub mod pipeline;
pub mod quarantine;

pub use error::{Error, Result};
