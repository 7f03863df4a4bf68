//! Pipeline files: `file` is the TOML as written, `resolve` the checked pipeline.

pub mod file;
pub mod resolve;

pub use file::{Encoding, FileFormat, OnInvalid, ShouldBeClosedFile};
pub use resolve::{CaseSource, Month, Period, Pipeline, SignupSource, load};
