//! gridgov: grid cells × case and sign-up records → per-grid indicators → GeoJSON layers and tables.
//!
//! The modules follow the data's way through a run (see ARCHITECTURE.md):
//! [`config`] → [`io`] (grids, cases, sign-ups) → [`join`] → [`indicators`] → [`outputs`],
//! wired together in [`pipeline`].

// Input can reach almost any line of the library: a panic on a user's file is a bug.
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod config;
pub mod crs;
pub mod error;
pub mod hierarchy;
pub mod indicators;
pub mod interrupt;
pub mod io;
pub mod join;
pub mod outputs;
pub mod pipeline;
pub mod quarantine;
pub mod synth;

pub use error::{Error, Result};
