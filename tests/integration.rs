//! Integration tests: the real `gridgov` binary on real files in temporary folders.
//!
//! - `tiny`: a 4-grid layer with 19 hand-made cases; every number is computed by hand below
//! - `nyc`: real NYC 311 requests against the real community districts
//! - `cli`: configuration errors, validate, every pipeline file in `pipelines/`
//! - `nightly`: run ids, re-runs, the lock, daily files, dry runs, logs, kill -9, SIGINT, full disk
//! - `bad_input`: the table of bad files and settings, each with its reason or exit code
//! - `time_rules`: the time rules at their boundaries, a row per case with its hand-computed effect
//! - `partial`: partial runs split three ways and merged, byte for byte; what cannot merge
//! - `spark`: the same fanned out as Spark tasks on `local[2]` by `deploy/spark/gridgov_spark.py`
//! - `layers`: every arrow of the library points down; only outputs write files

mod util;

mod bad_input;
mod charts;
mod cli;
mod demo;
mod gis;
mod hotspots;
mod layers;
mod members;
mod names;
mod nightly;
mod nyc;
mod partial;
mod service_orders;
mod spark;
mod time_rules;
mod tiny;
mod whistles;
