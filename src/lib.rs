//! gridgov: grid cells × case and sign-up records → per-grid indicators → GeoJSON layers and tables.
//!
//! The modules follow the data's way through a run (see ARCHITECTURE.md), and every arrow
//! points down:
//!
//! - [`pipeline`] wires the stages: read → check → locate → tally → compute → write
//! - the stages: [`config`] (the pipeline file), [`io`] (grids and record sources of every
//!   kind), [`join`] (placing records in units), [`indicators`] (families of indicators over
//!   the sums), [`outputs`] (layers, tables, charts, report, manifest)
//! - [`vocab`]: the words they share (errors, reason codes, the record model, places, the
//!   column table, time, hashing, the quarantine)
//!
//! [`synth`] generates the demo and benchmark data sets.

// Input can reach almost any line of the library: a panic on a user's file is a bug.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod config;
pub mod indicators;
pub mod io;
pub mod join;
pub mod outputs;
pub mod pipeline;
pub mod synth;
pub mod vocab;

pub use vocab::error::{Error, Result};
