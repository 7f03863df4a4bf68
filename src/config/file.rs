//! The pipeline file as the user wrote it: TOML mirrored by serde structs.
//!
//! Every struct denies unknown keys, because a typo must not silently change published numbers.
//! Nothing here is checked beyond its TOML type; `resolve.rs` turns this into a `Pipeline`.

use serde::Deserialize;
use std::collections::BTreeMap;

use crate::vocab::crs::Crs;

/// The whole pipeline file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineFile {
    /// Short name of the pipeline; names the layers and the output sub-folder.
    pub name: String,
    /// Human title used in the manifest (and later in reports).
    #[serde(default)]
    pub title: Option<String>,
    /// The language of the report, chart titles and labels, map legends and spreadsheet
    /// headers: `zh` (default) or `en`.
    #[serde(default)]
    pub language: crate::vocab::lang::Lang,
    /// Folder that receives the run folders, relative to the pipeline file.
    pub output_dir: String,
    pub period: PeriodFile,
    /// The grid layer (`[grids]`), or several grid networks over the same city (`[[grids]]`,
    /// each named; the first is the one the rest of the pipeline uses).
    #[serde(deserialize_with = "one_or_many")]
    pub grids: Vec<GridsFile>,
    /// Case sources (`[[cases]]`, the short form of `[[sources]]` with `kind = "cases"`).
    #[serde(default)]
    pub cases: Vec<SourceFile>,
    /// Sign-up sources (`[[signups]]`).
    #[serde(default)]
    pub signups: Vec<SourceFile>,
    /// Sources of any kind, each naming its `kind`.
    #[serde(default)]
    pub sources: Vec<SourceFile>,
    #[serde(default)]
    pub join: JoinFile,
    #[serde(default)]
    pub indicators: IndicatorsFile,
    #[serde(default)]
    pub quality: QualityFile,
    #[serde(default)]
    pub outputs: OutputsFile,
    /// Charts, map styles and the HTML report; none without this table.
    #[serde(default)]
    pub charts: Option<ChartsFile>,
    /// Repeat hot spots (重复诉求) among the period's cases; none without this table.
    #[serde(default)]
    pub hotspots: Option<HotspotsFile>,
    /// The assessment (考核) of streets and districts; none without this table.
    #[serde(default)]
    pub assessment: Option<AssessmentFile>,
    /// Working days and hours; without it every moment is working time.
    #[serde(default)]
    pub calendar: Option<CalendarFile>,
    /// The 15-minute service circle (一刻钟社区服务圈): which service items the residents of
    /// each grid and community reach; on whenever a `facilities` source is read.
    #[serde(default)]
    pub coverage: Option<CoverageFile>,
}

/// Reach of the service circle's items from the residents of each unit.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CoverageFile {
    /// Reach of an item without a radius of its own, metres along the ground.
    #[serde(default = "default_reach")]
    pub radius_m: f64,
    /// Walking distance ÷ straight-line distance: a facility counts when it lies within
    /// radius ÷ detour_factor in a straight (geodesic) line.
    #[serde(default = "default_detour")]
    pub detour_factor: f64,
    /// Spacing of the lattice of resident points, metres.
    #[serde(default = "default_lattice")]
    pub lattice_m: f64,
    /// An item is within reach of a unit when it is within reach of at least this share of
    /// the unit's residents.
    #[serde(default = "default_min_share")]
    pub min_share: f64,
    /// The service items; none: Beijing's eight basic items.
    #[serde(default)]
    pub items: Vec<CoverageItemFile>,
}

impl Default for CoverageFile {
    fn default() -> Self {
        CoverageFile {
            radius_m: default_reach(),
            detour_factor: default_detour(),
            lattice_m: default_lattice(),
            min_share: default_min_share(),
            items: Vec::new(),
        }
    }
}

fn default_reach() -> f64 {
    1000.0
}
fn default_detour() -> f64 {
    1.0
}
fn default_lattice() -> f64 {
    100.0
}
fn default_min_share() -> f64 {
    0.5
}

/// One item of the service circle and the facility categories that provide it.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CoverageItemFile {
    /// A short ASCII key (`vegetables`), for the tables.
    pub key: String,
    /// What readers see (蔬菜零售).
    pub name: String,
    /// The facilities' categories that provide it; none: the name itself.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Its own reach, metres (default: coverage.radius_m).
    #[serde(default)]
    pub radius_m: Option<f64>,
}

/// A weighted score per unit across indicator columns, each normalised to 0–100.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AssessmentFile {
    /// The levels assessed (default: street and district).
    #[serde(default = "default_assessment_levels")]
    pub levels: Vec<String>,
    pub components: Vec<ComponentFile>,
}

fn default_assessment_levels() -> Vec<String> {
    vec!["street".into(), "district".into()]
}

/// One component of the assessment.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ComponentFile {
    /// A column of the period table (e.g. composite_score, on_time_report_in_rate).
    pub column: String,
    pub weight: f64,
    /// `share` (× 100), `points` (as is), `minmax` (over the level's units) or `target`
    /// (100 × value / target, at most 100).
    pub normalise: Normalise,
    #[serde(default)]
    pub target: Option<f64>,
    /// Lower is better (a repeat-complaint rate, whistles per 1,000 cases).
    #[serde(default)]
    pub invert: bool,
}

/// How a component's value becomes points from 0 to 100.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Normalise {
    Share,
    Points,
    Minmax,
    Target,
}

/// Repeat hot spots: at least `min_cases` cases of one category within `radius_m` metres and
/// `window_days` days of a seed case (docs/indicators.md has the algorithm).
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct HotspotsFile {
    #[serde(default = "default_hotspot_radius")]
    pub radius_m: f64,
    #[serde(default = "default_hotspot_days")]
    pub window_days: f64,
    #[serde(default = "default_hotspot_cases")]
    pub min_cases: usize,
}

fn default_hotspot_radius() -> f64 {
    50.0
}
fn default_hotspot_days() -> f64 {
    30.0
}
fn default_hotspot_cases() -> usize {
    5
}

/// Charts, class breaks, `.qml` styles and `report.html`.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ChartsFile {
    /// The rate the choropleth maps, the layers' `class` and the `.qml` styles show.
    #[serde(default = "default_map_indicator")]
    pub map_indicator: String,
    /// Number of quantile classes (5–7) when no fixed breaks are given.
    #[serde(default = "default_classes")]
    pub classes: usize,
    /// Fixed policy breaks (inner bounds, increasing), e.g. [0.85, 0.90, 0.95].
    #[serde(default)]
    pub breaks: Option<Vec<f64>>,
    /// Rows in each panel of the red/black lists (红黑榜).
    #[serde(default = "default_top_n")]
    pub top_n: usize,
    /// Target lines on the trend chart: response_rate, resolution_rate, satisfaction_rate.
    #[serde(default)]
    pub targets: BTreeMap<String, f64>,
    /// Time-limit line on the handling-time chart; default `indicators.default_time_limit_hours`.
    #[serde(default)]
    pub time_limit_hours: Option<f64>,
}

fn default_map_indicator() -> String {
    "resolution_rate".into()
}
fn default_classes() -> usize {
    5
}
fn default_top_n() -> usize {
    5
}

/// Optional outputs and how many runs to keep.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutputsFile {
    /// Also write `case_assignments.csv` / `.parquet`: the unit every accepted case was assigned
    /// to, by source and row. One row per case, so large for a city-year.
    #[serde(default)]
    pub case_assignments: bool,
    /// Also write the cases located by a point as a point layer, `case_points.geo.parquet`
    /// (GeoParquet) and `case_points.fgb` (FlatGeobuf): WGS84 after conversion, with the unit
    /// each case was placed in. One feature per case.
    #[serde(default)]
    pub case_points: bool,
    /// How many published run folders to keep under `runs/` (the newest, and always the one
    /// `latest` points at); older ones are removed after a successful publish.
    #[serde(default = "default_keep_runs")]
    pub keep_runs: usize,
    /// The levels whose GeoJSON layer (and, with charts, QGIS style) is written: any of
    /// `grid`, `community`, `street`, `district`; `[]` for none. Default: all four.
    #[serde(default = "default_layers")]
    pub layers: Vec<String>,
    /// The formats every table is written in: any of `csv`, `parquet`, `arrow` (at least one).
    /// Default: all three.
    #[serde(default = "default_formats")]
    pub formats: Vec<String>,
    /// The formats every layer is written in besides GeoJSON (always written: the report and
    /// the QGIS styles read it): any of `gpkg` (GeoPackage), `fgb` (FlatGeobuf), `parquet`
    /// (GeoParquet, `<stem>.geo.parquet`). Default: none.
    #[serde(default)]
    pub layer_formats: Vec<String>,
    /// How many of the most overdue open cases `overdue_open.*` and the report list (0: none).
    #[serde(default = "default_overdue_list")]
    pub overdue_list: usize,
}

impl Default for OutputsFile {
    fn default() -> Self {
        OutputsFile {
            case_assignments: false,
            case_points: false,
            layer_formats: Vec::new(),
            keep_runs: default_keep_runs(),
            layers: default_layers(),
            formats: default_formats(),
            overdue_list: default_overdue_list(),
        }
    }
}

fn default_overdue_list() -> usize {
    50
}

fn default_keep_runs() -> usize {
    10
}

fn default_layers() -> Vec<String> {
    ["grid", "community", "street", "district"].map(String::from).to_vec()
}

fn default_formats() -> Vec<String> {
    ["csv", "parquet", "arrow", "xlsx"].map(String::from).to_vec()
}

/// The reporting period and the as-of date.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeriodFile {
    /// A calendar month `YYYY-MM`, `previous` (the month before the as-of day's) or `current`
    /// (the as-of day's month, to date); or give `start` and `end` instead.
    #[serde(default)]
    pub month: Option<String>,
    /// First day of the period, `YYYY-MM-DD`, inclusive.
    #[serde(default)]
    pub start: Option<String>,
    /// Last day of the period, `YYYY-MM-DD`, inclusive.
    #[serde(default)]
    pub end: Option<String>,
    /// The day the data was extracted (`YYYY-MM-DD`); states are evaluated at its end.
    /// `--as-of` on the command line overrides it; without either, yesterday in the city's
    /// time zone.
    #[serde(default)]
    pub as_of: Option<String>,
    /// Number of calendar months in the trend tables, ending with the period's last month.
    #[serde(default = "default_trend_months")]
    pub trend_months: u32,
    /// IANA time zone of the city; naive timestamps are read as local time in it, and
    /// timestamps with an offset are converted to it.
    #[serde(default = "default_time_zone")]
    pub time_zone: String,
    /// A local time that a DST change repeats: `earlier` (default) or `later` instant.
    #[serde(default)]
    pub dst_fold: crate::vocab::time::DstFold,
    /// A local time that a DST change skips: `shift_forward` (default: read with the offset
    /// before the change) or `reject` (unreadable).
    #[serde(default)]
    pub dst_gap: crate::vocab::time::DstGap,
}

/// Working days and hours, for time limits in working time and working handling times.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarFile {
    /// CSV of `date,kind[,…]` with kind `holiday` (a day off) or `workday` (a weekend day
    /// worked in exchange); relative to the pipeline file.
    #[serde(default)]
    pub holidays: Option<String>,
    /// Working hours of a working day, e.g. `["09:00-12:00", "13:30-17:30"]`.
    #[serde(default = "default_working_hours")]
    pub working_hours: Vec<String>,
    /// Weekdays off (English names).
    #[serde(default = "default_weekend")]
    pub weekend: Vec<String>,
}

fn default_working_hours() -> Vec<String> {
    vec!["09:00-12:00".into(), "13:30-17:30".into()]
}
fn default_weekend() -> Vec<String> {
    vec!["saturday".into(), "sunday".into()]
}

/// One rule of the time-limit table (`[[indicators.time_limits]]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeLimitFile {
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub subcategory: Option<String>,
    #[serde(default)]
    pub urgency: Option<String>,
    /// `24h` natural hours, `16wh` working hours, `3wd` working days.
    pub limit: String,
}

fn default_trend_months() -> u32 {
    12
}
fn default_time_zone() -> String {
    "Asia/Shanghai".into()
}

/// The grid layer.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridsFile {
    /// The network's name (`[[grids]]`: required when there are several; ASCII, it names
    /// files).
    #[serde(default)]
    pub name: Option<String>,
    /// GeoJSON FeatureCollection of Polygon / MultiPolygon grid cells, WGS84 or CGCS2000.
    /// Without it, `h3` generates the cells.
    #[serde(default)]
    pub path: Option<String>,
    /// H3 cells as the grid: the cells of `resolution` covering the polygons of `within`
    /// (a GeoJSON layer of districts or any polygons, read with `properties`), each with the
    /// parents of the polygon its centre lies in.
    #[serde(default)]
    pub h3: Option<H3File>,
    /// Coordinate system of the layer: `wgs84`, `cgcs2000`, `gcj02`, `bd09`, an EPSG code
    /// (`EPSG:4527`) or a PROJ string. Without it, what the file declares (a `.prj`, the
    /// GeoPackage's SRS, ...), else WGS84.
    #[serde(default)]
    pub crs: Option<Crs>,
    /// The feature table of a GeoPackage that holds several.
    #[serde(default)]
    pub layer: Option<String>,
    /// Text encoding of a Shapefile's `.dbf` (`utf-8` or `gbk`) when it has no `.cpg`.
    #[serde(default)]
    pub encoding: Option<Encoding>,
    /// A CSV of other ways units' names are written (`level,name,code`), for records placed
    /// by their district, street and community names.
    #[serde(default)]
    pub aliases: Option<String>,
    /// What to do with an invalid, empty or duplicate-code grid: `repair`, `skip` or `fail`.
    #[serde(default)]
    pub on_invalid: OnInvalid,
    /// Names of the feature properties that hold each field.
    pub properties: GridPropertiesFile,
}

/// `[grids] h3 = { resolution = 8, within = "districts.geojson" }`.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct H3File {
    /// H3 resolution, 0–15 (7: about 5 km², 8: 0.74 km², 9: 0.1 km²).
    pub resolution: u8,
    /// The polygons to cover, relative to the pipeline file.
    pub within: String,
}

/// What to do with a grid that is invalid, empty or has a duplicate code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnInvalid {
    /// Fix what can be fixed (re-orient, drop repeated points, union self-intersecting rings,
    /// merge duplicate codes into one geometry); skip what cannot (empty geometry).
    #[default]
    Repair,
    /// Leave the grid out; its cases are then assigned elsewhere or quarantined.
    Skip,
    /// Stop the run with an error naming every such grid.
    Fail,
}

/// Property names in the grid layer. Only `code` is required; a missing parent level is not
/// computed or written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridPropertiesFile {
    pub code: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub community_code: Option<String>,
    #[serde(default)]
    pub community_name: Option<String>,
    #[serde(default)]
    pub street_code: Option<String>,
    #[serde(default)]
    pub street_name: Option<String>,
    #[serde(default)]
    pub district_code: Option<String>,
    #[serde(default)]
    pub district_name: Option<String>,
    #[serde(default)]
    pub population: Option<String>,
    #[serde(default)]
    pub households: Option<String>,
}

/// Format of a record file; by default taken from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    Csv,
    Parquet,
}

/// Text encoding of a CSV record file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, serde::Serialize)]
pub enum Encoding {
    #[default]
    #[serde(rename = "utf-8", alias = "utf8")]
    Utf8,
    /// GBK, decoded as its superset GB18030.
    #[serde(rename = "gbk", alias = "gb18030", alias = "GBK", alias = "GB18030")]
    Gbk,
}

/// One source of records of one kind (`[[cases]]`, `[[signups]]`, or `[[sources]]` with a
/// `kind`): a hotline export, an inspectors' system, a project's sign-up list. Which fields
/// and options a kind takes is its spec's business (`config::KindSpec`), checked when the file
/// is resolved.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    /// Short name of the source, unique within the pipeline.
    pub name: String,
    /// The record kind (`cases`, `signups`): required in `[[sources]]`; implied by `[[cases]]`
    /// and `[[signups]]`.
    #[serde(default)]
    pub kind: Option<String>,
    /// A file, a folder (every file of the format in it, e.g. one export per day) or a glob
    /// pattern such as `exports/hotline-*.csv`; files are read in name order.
    pub path: String,
    #[serde(default)]
    pub format: Option<FileFormat>,
    /// CSV field delimiter (one ASCII character).
    #[serde(default)]
    pub delimiter: Option<String>,
    /// Text encoding of a CSV file: `utf-8` (default; a BOM is allowed) or `gbk` (GBK/GB18030,
    /// as many Chinese systems export).
    #[serde(default)]
    pub encoding: Encoding,
    /// Coordinate system of the points (kinds with points).
    #[serde(default)]
    pub crs: Option<Crs>,
    /// chrono `strftime` formats tried in order for every timestamp column. Formats with `%z`
    /// give an offset, which is converted to the pipeline's time zone.
    #[serde(default)]
    pub timestamp_formats: Option<Vec<String>>,
    /// Time zone of naive timestamps in this file; defaults to the period's time zone.
    #[serde(default)]
    pub time_zone: Option<String>,
    /// chrono formats for date columns (kinds with dates); default `%Y-%m-%d`.
    #[serde(default)]
    pub date_formats: Option<Vec<String>>,
    /// gridgov field -> column name in the file.
    pub columns: BTreeMap<String, String>,
    /// Extra spellings of coded values, per value group of the kind (e.g. `yes`, `satisfied`,
    /// `cancelled_status`). Comparison is exact after trimming spaces (ASCII case ignored).
    #[serde(default)]
    pub values: BTreeMap<String, Vec<String>>,
}

/// How cases are assigned to grids.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct JoinFile {
    /// Which grid gets a point on a shared edge or vertex: `smallest_code` (default),
    /// `largest_code` or `reject`.
    #[serde(default)]
    pub boundary_rule: crate::vocab::boundary::BoundaryRule,
}

/// Conventions that differ between cities.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorsFile {
    /// Weight of 基本满意 in the satisfaction rate (满意 counts 1).
    #[serde(default = "default_basic_weight")]
    pub satisfaction_basic_weight: f64,
    #[serde(default)]
    pub composite_weights: CompositeWeightsFile,
    #[serde(default)]
    pub should_be_closed: ShouldBeClosedFile,
    /// Time limit assumed for a case without a due time, in hours.
    #[serde(default = "default_time_limit_hours")]
    pub default_time_limit_hours: f64,
    /// The composite score, its grade and rank are left empty where valid follow-ups are
    /// below this; every rate whose n is below it keeps its value and is flagged
    /// (`<n>_low_n`); maps show it as no data.
    #[serde(default = "default_min_n")]
    pub min_n: u64,
    /// Sign-up threshold (share of in-scope households) for projects not listed below.
    #[serde(default = "default_signup_threshold")]
    pub signup_threshold: f64,
    /// Per-project thresholds, project id -> share.
    #[serde(default)]
    pub signup_thresholds: BTreeMap<String, f64>,
    /// Lower bounds of grades A, B, C, D on the composite score; below D is E.
    #[serde(default = "default_grade_bands")]
    pub grade_bands: [f64; 4],
    /// Time limits by category, subcategory and urgency, for cases without a due time.
    #[serde(default)]
    pub time_limits: Vec<TimeLimitFile>,
    /// A case closed within this many minutes of its receipt is an instant closure.
    #[serde(default = "default_instant_minutes")]
    pub instant_closure_minutes: f64,
    /// Denominator of the rework rate: `should_close` (default), `registered` (every
    /// non-cancelled case) or `disposed`.
    #[serde(default)]
    pub rework_denominator: ReworkDenominator,
    /// First day of each project's signing period (project id -> `YYYY-MM-DD`); days to
    /// threshold count from it (default: the first signing day).
    #[serde(default)]
    pub signup_starts: BTreeMap<String, String>,
    /// Units are ranked (composite_rank, ranking charts, 红黑榜) only with at least this many
    /// valid follow-ups.
    #[serde(default = "default_ranking_min_n")]
    pub ranking_min_n: u64,
    /// What ranks are by: `score` (the composite score) or `shrunk` (the composite of rates
    /// shrunk towards the level's rate, composite_score_shrunk).
    #[serde(default)]
    pub ranking: RankingFile,
    /// Weight of the level's rate in the shrunk rates, in follow-ups (m in (x + m·R) / (n + m)).
    #[serde(default = "default_ranking_prior_n")]
    pub ranking_prior_n: f64,
    /// Time limits of whistles (吹哨报到) by type.
    #[serde(default)]
    pub whistles: WhistlesFile,
    /// Residents' service orders (点单—下单—接单).
    #[serde(default)]
    pub service_orders: ServiceOrdersFile,
    /// In-service members reporting to communities (在职党员回社区报到).
    #[serde(default)]
    pub members: MembersFile,
}

/// The yearly service requirement of a registered member and the privacy threshold; none of
/// it official: gridgov's documented defaults.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MembersFile {
    /// A member meets the requirement with at least this many activities in the as-of day's
    /// year (to the as-of moment) …
    #[serde(default = "default_yearly_activities")]
    pub yearly_activities: u64,
    /// … or at least this many hours.
    #[serde(default = "default_yearly_hours")]
    pub yearly_hours: f64,
    /// Units and organisations with fewer registered members show no per-member figures.
    #[serde(default = "default_min_members")]
    pub min_members: u64,
}

fn default_yearly_activities() -> u64 {
    4
}
fn default_yearly_hours() -> f64 {
    12.0
}

impl Default for MembersFile {
    fn default() -> Self {
        MembersFile {
            yearly_activities: default_yearly_activities(),
            yearly_hours: default_yearly_hours(),
            min_members: default_min_members(),
        }
    }
}

/// Rules of the service orders, none of them official: gridgov's documented defaults.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ServiceOrdersFile {
    /// An order not completed at the as-of moment and ordered more than this many days before
    /// it is a stale open order.
    #[serde(default = "default_stale_days")]
    pub stale_days: f64,
    /// A rating at or above this counts as satisfied (on the source's scale; default for 1–5).
    #[serde(default = "default_satisfied_min")]
    pub satisfied_min: f64,
    /// Units with fewer active members than this show no per-member figures.
    #[serde(default = "default_min_members")]
    pub min_members: u64,
}

fn default_stale_days() -> f64 {
    7.0
}
fn default_satisfied_min() -> f64 {
    4.0
}
fn default_min_members() -> u64 {
    5
}

impl Default for ServiceOrdersFile {
    fn default() -> Self {
        ServiceOrdersFile { stale_days: default_stale_days(), satisfied_min: default_satisfied_min(), min_members: default_min_members() }
    }
}

/// Limits of the three whistle types: 日常哨 (daily), 攻坚哨 (tackle), 应急哨 (emergency). No
/// official national figure exists except the 30 minutes of Pinggu's emergency whistle: these
/// defaults are gridgov's and documented in docs/indicators.md.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WhistlesFile {
    /// A summoned department reports in on time within this many minutes of being summoned.
    #[serde(default = "default_report_in_minutes")]
    pub report_in_minutes: WhistleTypes,
    /// A whistle is closed on time within this many hours of being blown.
    #[serde(default = "default_whistle_closure_hours")]
    pub closure_hours: WhistleTypes,
    /// Departments are ranked on report-in (their 红黑榜) from this many summons.
    #[serde(default = "default_whistle_ranking_min_n")]
    pub ranking_min_n: u64,
}

/// One number per whistle type.
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WhistleTypes {
    pub daily: f64,
    pub tackle: f64,
    pub emergency: f64,
}

impl WhistleTypes {
    pub fn as_array(&self) -> [f64; 3] {
        [self.daily, self.tackle, self.emergency]
    }
}

fn default_report_in_minutes() -> WhistleTypes {
    WhistleTypes { daily: 1440.0, tackle: 120.0, emergency: 30.0 }
}
fn default_whistle_closure_hours() -> WhistleTypes {
    WhistleTypes { daily: 168.0, tackle: 720.0, emergency: 24.0 }
}
fn default_whistle_ranking_min_n() -> u64 {
    10
}

impl Default for WhistlesFile {
    fn default() -> Self {
        WhistlesFile {
            report_in_minutes: default_report_in_minutes(),
            closure_hours: default_whistle_closure_hours(),
            ranking_min_n: default_whistle_ranking_min_n(),
        }
    }
}

fn default_ranking_min_n() -> u64 {
    30
}
fn default_ranking_prior_n() -> f64 {
    30.0
}

/// What ranks are by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RankingFile {
    #[default]
    Score,
    Shrunk,
}

fn default_instant_minutes() -> f64 {
    5.0
}

/// Which cases the rework rate (返工率) is a share of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReworkDenominator {
    #[default]
    ShouldClose,
    Registered,
    Disposed,
}

impl Default for IndicatorsFile {
    fn default() -> Self {
        IndicatorsFile {
            satisfaction_basic_weight: default_basic_weight(),
            composite_weights: CompositeWeightsFile::default(),
            should_be_closed: ShouldBeClosedFile::default(),
            default_time_limit_hours: default_time_limit_hours(),
            min_n: default_min_n(),
            signup_threshold: default_signup_threshold(),
            signup_thresholds: BTreeMap::new(),
            grade_bands: default_grade_bands(),
            time_limits: Vec::new(),
            instant_closure_minutes: default_instant_minutes(),
            rework_denominator: ReworkDenominator::default(),
            signup_starts: BTreeMap::new(),
            ranking_min_n: default_ranking_min_n(),
            ranking: RankingFile::default(),
            ranking_prior_n: default_ranking_prior_n(),
            whistles: WhistlesFile::default(),
            service_orders: ServiceOrdersFile::default(),
            members: MembersFile::default(),
        }
    }
}

fn default_basic_weight() -> f64 {
    0.9
}
fn default_time_limit_hours() -> f64 {
    360.0
}
fn default_min_n() -> u64 {
    10
}
fn default_signup_threshold() -> f64 {
    0.9
}
fn default_grade_bands() -> [f64; 4] {
    [90.0, 75.0, 60.0, 40.0]
}

/// Weights of the composite score (综合成绩); they must sum to 1.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompositeWeightsFile {
    pub response: f64,
    pub resolution: f64,
    pub satisfaction: f64,
}

impl Default for CompositeWeightsFile {
    fn default() -> Self {
        CompositeWeightsFile { response: 0.10, resolution: 0.50, satisfaction: 0.40 }
    }
}

/// Which cases count as should-be-closed (应结案数).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShouldBeClosedFile {
    /// Closed cases, plus open cases whose due time has passed at the as-of moment; open cases
    /// still inside their time limit are left out (the usual 数字城管 rule).
    #[default]
    ExcludeOpenWithinLimit,
    /// Every case received in the period, whatever its due time.
    AllReceived,
}

/// Data-quality gates; failing one gives exit code 1 after all outputs are written.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct QualityFile {
    /// Largest share of rows that may be rejected, checked for each source and for all case
    /// sources together.
    #[serde(default = "default_max_reject_share")]
    pub max_reject_share: f64,
    /// Largest share of rows rejected for one reason (reason code -> share), for each source
    /// and for all case sources together, e.g. `{ outside_all_grids = 0.02 }`.
    #[serde(default)]
    pub max_reject_share_by_reason: BTreeMap<String, f64>,
    /// Largest share of case rows that could not be placed in a grid: `outside_all_grids`,
    /// `ambiguous_boundary`, `no_location` and the `unknown_*_code` reasons, all sources together.
    #[serde(default)]
    pub max_unassigned_share: Option<f64>,
    /// Fewest assigned cases received in the period, all sources together; catches an export
    /// that arrived empty or cut short.
    #[serde(default)]
    pub min_cases: Option<u64>,
    /// Points within `suspect_radius_m` of one of these lon/lat pairs (in the source's
    /// coordinate system after conversion, i.e. WGS84) are rejected as `default_coordinate`:
    /// exports fill missing locations with the city hall.
    #[serde(default)]
    pub suspect_points: Vec<[f64; 2]>,
    #[serde(default = "default_suspect_radius")]
    pub suspect_radius_m: f64,
    /// Swap lon and lat when only the swapped pair is valid (counted in the manifest);
    /// otherwise such points are bad coordinates.
    #[serde(default = "default_true")]
    pub repair_swapped_coordinates: bool,
    /// What a failed gate does: `publish` (exit 1, the run becomes `latest`) or `hold` (exit
    /// 1, the run is kept under `runs/` but `latest` stays on the last good run).
    #[serde(default)]
    pub on_fail: OnFail,
}

fn default_true() -> bool {
    true
}

/// What a run whose quality gate failed does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OnFail {
    #[default]
    Publish,
    Hold,
}

impl Default for QualityFile {
    fn default() -> Self {
        QualityFile {
            max_reject_share: default_max_reject_share(),
            max_reject_share_by_reason: BTreeMap::new(),
            max_unassigned_share: None,
            min_cases: None,
            suspect_points: Vec::new(),
            suspect_radius_m: default_suspect_radius(),
            repair_swapped_coordinates: true,
            on_fail: OnFail::default(),
        }
    }
}

fn default_max_reject_share() -> f64 {
    0.10
}
fn default_suspect_radius() -> f64 {
    5.0
}

/// `[grids]` (one table) or `[[grids]]` (an array of tables).
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<GridsFile>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Vec<GridsFile>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a [grids] table or [[grids]] tables")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            GridsFile::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(|g| vec![g])
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            Vec::<GridsFile>::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
        }
    }
    d.deserialize_any(V)
}
