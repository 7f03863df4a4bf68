//! Pipeline files: `file` is the TOML as written, `resolve` the checked pipeline the rest of the
//! program sees (with `period` and `sources` resolving their parts), `kind` what a record kind
//! asks of its sources.

pub mod file;
pub mod kind;
pub mod period;
pub mod resolve;
pub mod sources;

pub use file::{Encoding, FileFormat, OnFail, OnInvalid, RankingFile, ReworkDenominator, ShouldBeClosedFile};
pub use kind::{Catalog, KindSpec};
pub use period::Period;
pub use resolve::{
    CalendarConfig, CoverageConfig, CoverageItem, GridProperties, GridsConfig, IndicatorSettings, Overrides, Pipeline, load, parse, resolve,
};
pub use sources::Source;

impl GridProperties {
    /// Properties of a layer that maps only the grid code (tests and tools).
    pub fn code_only(code: &str) -> GridProperties {
        GridProperties {
            code: code.into(),
            name: None,
            community_code: None,
            community_name: None,
            street_code: None,
            street_name: None,
            district_code: None,
            district_name: None,
            population: None,
            households: None,
            keyed_by_name: [false; 3],
        }
    }
}
