//! Integration tests: the real `gridgov` binary on real files in temporary folders.
//!
//! - `tiny`: a 4-grid layer with 19 hand-made cases; every number is computed by hand below
//! - `nyc`: real NYC 311 requests against the real community districts
//! - `cli`: configuration errors, validate, every pipeline file in `pipelines/`

mod util;

mod charts;
mod cli;
mod demo;
mod nyc;
mod tiny;
