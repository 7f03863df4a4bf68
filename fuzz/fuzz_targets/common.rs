//! A fixed pipeline whose grid and case settings the targets use.

use std::path::Path;

pub const PIPELINE: &str = r#"
name = "fuzz"
output_dir = "out"
[period]
month = "2026-10"
as_of = "2026-11-01"
[grids]
path = "grids.geojson"
[grids.properties]
code = "code"
community_code = "community"
street_code = "street"
district_code = "district"
population = "pop"
[[cases]]
name = "utf8"
path = "cases.csv"
[cases.columns]
case_id = "id"
received_at = "received"
closed_at = "closed"
due_at = "due"
status = "status"
category = "category"
lon = "lon"
lat = "lat"
grid_code = "grid"
contacted = "contacted"
resolved = "resolved"
satisfaction = "satisfaction"
[cases.values]
satisfied = ["满意"]
basically_satisfied = ["基本满意"]
unsatisfied = ["不满意"]
[[cases]]
name = "gbk"
path = "cases.csv"
encoding = "gbk"
crs = "gcj02"
[cases.columns]
case_id = "id"
received_at = "received"
lon = "lon"
lat = "lat"
[[cases]]
name = "names"
path = "cases.csv"
[cases.columns]
case_id = "id"
received_at = "received"
district_name = "district"
street_name = "street"
community_name = "community"
"#;

pub fn pipeline() -> gridgov::config::Pipeline {
    let path = Path::new("/fuzz/pipeline.toml");
    gridgov::pipeline::resolve_text(path, PIPELINE, &Default::default()).expect("the fixed pipeline resolves")
}
