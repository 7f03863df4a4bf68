//! The checked, filled-in pipeline: what the rest of the program sees.
//!
//! `resolve` takes the file as written and the command line's overrides, and reports every
//! problem at once (not the first), each with its key path.

use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::file::*;
use super::kind::Catalog;
use super::period::Period;
use super::sources::Source;
use crate::vocab::boundary::BoundaryRule;
use crate::vocab::calendar::{Limit, LimitRule, TimeLimits, parse_hours};
use crate::vocab::crs::Crs;
use crate::vocab::error::ConfigError;
use crate::vocab::reason::Reason;

/// A resolved pipeline.
#[derive(Debug, Clone, Serialize)]
pub struct Pipeline {
    pub name: String,
    pub title: String,
    pub language: crate::vocab::lang::Lang,
    /// The pipeline file itself (absolute).
    pub file: PathBuf,
    /// Folder that holds `runs/` and `latest` (absolute).
    pub output_dir: PathBuf,
    pub period: Period,
    pub grids: GridsConfig,
    /// The other grid networks (`[[grids]]` after the first), each named: every record is
    /// placed in each of them too, and each gets its own tables and layers.
    pub networks: Vec<NetworkConfig>,
    /// Every record source, grouped by kind in catalog order.
    pub sources: Vec<Source>,
    pub boundary_rule: BoundaryRule,
    pub indicators: IndicatorSettings,
    pub quality: QualityFile,
    pub outputs: OutputsFile,
    pub charts: Option<ChartsFile>,
    pub hotspots: Option<crate::config::file::HotspotsFile>,
    pub assessment: Option<crate::config::file::AssessmentFile>,
    pub calendar: CalendarConfig,
    /// The service circle, when a facilities source is read.
    pub coverage: Option<CoverageConfig>,
}

/// The service circle as resolved: every item with its reach and categories.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageConfig {
    pub detour_factor: f64,
    pub lattice_m: f64,
    pub min_share: f64,
    pub items: Vec<CoverageItem>,
}

/// One service item.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageItem {
    pub key: String,
    pub name: String,
    pub categories: Vec<String>,
    pub radius_m: f64,
}

impl CoverageConfig {
    /// The items (as a bit mask) a facility category provides.
    pub fn items_of(&self, category: &str) -> u32 {
        let c = category.trim();
        self.items.iter().enumerate().filter(|(_, it)| it.categories.iter().any(|x| x == c)).fold(0, |m, (i, _)| m | 1 << i)
    }
}

/// Beijing's eight basic items of the service circle (2021), with the usual names of the
/// facility categories that provide them.
pub const BEIJING_ITEMS: &[(&str, &str, &[&str])] = &[
    ("vegetables", "蔬菜零售", &["蔬菜零售", "菜市场", "生鲜超市", "菜店"]),
    ("convenience", "便利店", &["便利店"]),
    ("breakfast", "早餐", &["早餐", "早餐店"]),
    ("housekeeping", "家政", &["家政", "家政服务"]),
    ("hairdressing", "美容美发", &["美容美发", "理发"]),
    ("delivery", "末端配送", &["末端配送", "快递", "快递驿站"]),
    ("repair", "便民维修", &["便民维修", "维修"]),
    ("laundry", "洗染", &["洗染", "洗衣"]),
];

/// A grid network besides the first.
#[derive(Debug, Clone, Serialize)]
pub struct NetworkConfig {
    pub name: String,
    pub grids: GridsConfig,
}

/// Working days and hours as configured; `io::calendar` reads the holiday file.
#[derive(Debug, Clone, Serialize)]
pub struct CalendarConfig {
    /// No `[calendar]`: every moment is working time.
    pub always: bool,
    pub holidays: Option<PathBuf>,
    /// Working intervals of a day, seconds after local midnight.
    pub hours: Vec<(u32, u32)>,
    /// Weekdays off, Monday = 0.
    pub weekend: [bool; 7],
}

impl Pipeline {
    /// The sources of one kind, in order.
    pub fn sources_of<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Source> + 'a {
        self.sources.iter().filter(move |s| s.kind == kind)
    }

    /// The folder of the pipeline file: input paths in outputs are written relative to it.
    pub fn base_dir(&self) -> PathBuf {
        self.file.parent().map(Path::to_path_buf).unwrap_or_default()
    }
}

/// What the command line changes in a pipeline file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--as-of`: replaces `period.as_of`.
    pub as_of: Option<NaiveDate>,
    /// `--output-dir`: replaces `output_dir` (relative to the working directory).
    pub output_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GridsConfig {
    /// The network's name (`grid` when the pipeline has one layer and names none).
    pub name: String,
    /// H3 cells of this resolution over the polygons of `path`, instead of the layer's own.
    pub h3: Option<u8>,
    /// The grid layer (with `h3`: the polygons the cells cover).
    pub path: PathBuf,
    /// Declared in the pipeline; `None`: as the file says, else WGS84.
    pub crs: Option<Crs>,
    /// The GeoPackage table to read.
    pub layer: Option<String>,
    /// The Shapefile DBF's encoding, when the pipeline says.
    pub encoding: Option<crate::config::Encoding>,
    /// The alias table for names (`level,name,code`).
    pub aliases: Option<PathBuf>,
    pub on_invalid: OnInvalid,
    pub properties: GridProperties,
}

/// Property names of the grid layer; `None` = not in the layer.
#[derive(Debug, Clone, Serialize)]
pub struct GridProperties {
    pub code: String,
    pub name: Option<String>,
    pub community_code: Option<String>,
    pub community_name: Option<String>,
    pub street_code: Option<String>,
    pub street_name: Option<String>,
    pub district_code: Option<String>,
    pub district_name: Option<String>,
    pub population: Option<String>,
    pub households: Option<String>,
    /// Levels (community, street, district) that the layer names but gives no codes: their
    /// `*_code` is then the name property, and the unit's code is derived from the names
    /// (`io/grids.rs`).
    pub keyed_by_name: [bool; 3],
}

#[derive(Debug, Clone, Serialize)]
pub struct IndicatorSettings {
    pub satisfaction_basic_weight: f64,
    pub composite_weights: [f64; 3],
    pub should_be_closed: ShouldBeClosedFile,
    pub default_time_limit_hours: f64,
    pub min_n: u64,
    pub signup_threshold: f64,
    pub signup_thresholds: BTreeMap<String, f64>,
    pub grade_bands: [f64; 4],
    pub time_limits: TimeLimits,
    pub instant_closure_ms: i64,
    pub rework_denominator: ReworkDenominator,
    pub signup_starts: BTreeMap<String, NaiveDate>,
    pub ranking_min_n: u64,
    pub ranking: RankingFile,
    pub ranking_prior_n: f64,
    /// Whistles: on-time report-in limit per type (ms; daily, tackle, emergency).
    pub whistle_report_in_ms: [i64; 3],
    /// Whistles: on-time closure limit per type (ms).
    pub whistle_closure_ms: [i64; 3],
    pub whistle_ranking_min_n: u64,
    /// Service orders: stale after this long open (ms); satisfied from this rating; per-member
    /// figures from this many active members.
    pub order_stale_ms: i64,
    pub order_satisfied_min: f64,
    pub order_min_members: u64,
    /// Members: the yearly requirement and the privacy threshold.
    pub members: crate::config::file::MembersFile,
}

impl Default for IndicatorSettings {
    /// The settings of a pipeline file without `[indicators]`.
    fn default() -> Self {
        let mut ignored = Vec::new();
        resolve_indicators(&IndicatorsFile::default(), &mut ignored)
    }
}

impl IndicatorSettings {
    /// Threshold of one project.
    pub fn threshold_for(&self, project: &str) -> f64 {
        self.signup_thresholds.get(project).copied().unwrap_or(self.signup_threshold)
    }
}

/// Reads, parses and resolves a pipeline file.
pub fn load(path: &Path, overrides: &Overrides, catalog: &Catalog<'_>) -> Result<Pipeline, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io { path: path.to_path_buf(), source })?;
    let file = parse(path, &text)?;
    resolve(path, file, overrides, catalog)
}

/// Parses TOML text; errors carry the full key path (e.g. `cases[1].encodng`).
pub fn parse(path: &Path, text: &str) -> Result<PipelineFile, ConfigError> {
    let de = toml::Deserializer::parse(text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        key: "(syntax)".into(),
        message: e.to_string().trim().replace('\n', " "),
    })?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let key = e.path().to_string();
        ConfigError::Parse { path: path.to_path_buf(), key, message: e.into_inner().message().trim().to_string() }
    })
}

/// Checks everything that can be checked without reading inputs, collecting all problems.
pub fn resolve(path: &Path, f: PipelineFile, overrides: &Overrides, catalog: &Catalog<'_>) -> Result<Pipeline, ConfigError> {
    let mut problems: Vec<String> = Vec::new();
    let file = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let abs = |p: &str| -> PathBuf { base.join(p) };

    if let Some(a) = &f.assessment {
        use crate::config::file::Normalise;
        if a.components.is_empty() {
            problems.push("assessment.components: list at least one component".into());
        }
        for l in &a.levels {
            if !["grid", "community", "street", "district"].contains(&l.as_str()) {
                problems.push(format!("assessment.levels: {l:?} is not grid, community, street or district"));
            }
        }
        for (i, c) in a.components.iter().enumerate() {
            if !(c.weight > 0.0 && c.weight.is_finite()) {
                problems.push(format!("assessment.components[{i}].weight: {} must be positive", c.weight));
            }
            if !catalog.columns.contains(&c.column.as_str()) {
                problems.push(format!(
                    "assessment.components[{i}].column: {:?} is no column gridgov writes (`gridgov indicators` lists them)",
                    c.column
                ));
            }
            if c.normalise == Normalise::Target && !c.target.is_some_and(|t| t > 0.0 && t.is_finite()) {
                problems.push(format!("assessment.components[{i}].target: normalise = \"target\" needs a positive target"));
            }
        }
    }
    if let Some(hs) = &f.hotspots {
        if !(hs.radius_m > 0.0 && hs.radius_m.is_finite()) || !(hs.window_days > 0.0 && hs.window_days.is_finite()) || hs.min_cases < 2 {
            problems.push(format!(
                "hotspots: radius_m ({}) and window_days ({}) must be positive and min_cases ({}) at least 2",
                hs.radius_m, hs.window_days, hs.min_cases
            ));
        }
    }
    if f.name.is_empty() || !f.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        problems.push(format!("name: {:?} must be non-empty ASCII letters, digits, '-' or '_' (it names files)", f.name));
    }
    let (period, tz) = super::period::resolve(&f.period, overrides.as_of, &mut problems);
    let Some(first) = f.grids.first() else {
        return Err(ConfigError::Invalid { path: file, problems: vec!["grids: no grid layer ([grids] or [[grids]])".into()] });
    };
    let grids = resolve_grids(first, &abs, &mut problems);
    let mut networks = Vec::new();
    if f.grids.len() > 1 {
        let mut names: Vec<&str> = Vec::new();
        for (i, g) in f.grids.iter().enumerate() {
            match g.name.as_deref() {
                None => problems.push(format!("grids[{i}].name: several grid networks need a name each")),
                Some(n) if n.is_empty() || !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') => {
                    problems.push(format!("grids[{i}].name: {n:?} must be ASCII letters, digits, '-' or '_' (it names files)"))
                }
                Some(n) if names.contains(&n) => problems.push(format!("grids[{i}].name: {n:?} is used twice")),
                Some(n) => names.push(n),
            }
        }
        for g in &f.grids[1..] {
            networks.push(NetworkConfig { name: g.name.clone().unwrap_or_default(), grids: resolve_grids(g, &abs, &mut problems) });
        }
    }
    if f.cases.is_empty() && f.signups.is_empty() && f.sources.is_empty() {
        problems.push("cases / signups / sources: the pipeline has no record source".into());
    }
    let sources = super::sources::resolve_all(&f.cases, &f.signups, &f.sources, catalog, &abs, tz, &grids.properties, &mut problems);
    let indicators = resolve_indicators(&f.indicators, &mut problems);
    let calendar = resolve_calendar(f.calendar.as_ref(), &abs, &mut problems);
    let coverage = resolve_coverage(f.coverage.as_ref(), sources.iter().any(|s| s.kind == "facilities"), &mut problems);
    check_quality(&f.quality, &mut problems);
    check_outputs(&f.outputs, &mut problems);
    if let Some(c) = &f.charts {
        check_charts(c, catalog, &mut problems);
    }
    let output_dir = match &overrides.output_dir {
        Some(dir) => std::path::absolute(dir).unwrap_or_else(|_| dir.clone()),
        None => abs(&f.output_dir),
    };
    match period {
        Some(period) if problems.is_empty() => Ok(Pipeline {
            name: f.name.clone(),
            title: f.title.clone().unwrap_or_else(|| f.name.clone()),
            language: f.language,
            output_dir,
            file,
            period,
            grids,
            networks,
            sources,
            boundary_rule: f.join.boundary_rule,
            indicators,
            quality: f.quality.clone(),
            outputs: f.outputs.clone(),
            charts: f.charts.clone(),
            hotspots: f.hotspots.clone(),
            assessment: f.assessment.clone(),
            calendar,
            coverage,
        }),
        None if problems.is_empty() => Err(ConfigError::Invalid { path: file, problems: vec!["period: incomplete".into()] }),
        _ => Err(ConfigError::Invalid { path: file, problems }),
    }
}

fn resolve_grids(g: &GridsFile, abs: &dyn Fn(&str) -> PathBuf, problems: &mut Vec<String>) -> GridsConfig {
    let gp = &g.properties;
    // A level with names and no codes is keyed by its names.
    let keyed_by_name = [
        gp.community_code.is_none() && gp.community_name.is_some(),
        gp.street_code.is_none() && gp.street_name.is_some(),
        gp.district_code.is_none() && gp.district_name.is_some(),
    ];
    let code_of = |code: &Option<String>, name: &Option<String>| code.clone().or_else(|| name.clone());
    let path = match (&g.path, &g.h3) {
        (Some(p), None) => abs(p),
        (None, Some(h)) => {
            if h.resolution > 15 {
                problems.push(format!("grids.h3.resolution: {} must be 0–15", h.resolution));
            }
            abs(&h.within)
        }
        (Some(_), Some(_)) => {
            problems.push("grids: give `path` (a grid layer) or `h3` (cells generated over a layer), not both".into());
            PathBuf::new()
        }
        (None, None) => {
            problems.push("grids.path: missing (or give `h3 = { resolution = …, within = \"…\" }`)".into());
            PathBuf::new()
        }
    };
    GridsConfig {
        name: g.name.clone().unwrap_or_else(|| "grid".into()),
        h3: g.h3.as_ref().map(|h| h.resolution),
        path,
        crs: g.crs.clone(),
        layer: g.layer.clone(),
        encoding: g.encoding,
        aliases: g.aliases.as_deref().map(abs),
        on_invalid: g.on_invalid,
        properties: GridProperties {
            code: gp.code.clone(),
            name: gp.name.clone(),
            community_code: code_of(&gp.community_code, &gp.community_name),
            community_name: gp.community_name.clone(),
            street_code: code_of(&gp.street_code, &gp.street_name),
            street_name: gp.street_name.clone(),
            district_code: code_of(&gp.district_code, &gp.district_name),
            district_name: gp.district_name.clone(),
            population: gp.population.clone(),
            households: gp.households.clone(),
            keyed_by_name,
        },
    }
}

/// The service circle: `[coverage]` or its defaults when a facilities source is read.
fn resolve_coverage(c: Option<&CoverageFile>, has_facilities: bool, problems: &mut Vec<String>) -> Option<CoverageConfig> {
    if c.is_some() && !has_facilities {
        problems.push("coverage: needs a source of kind \"facilities\" ([[sources]] kind = \"facilities\")".into());
    }
    if !has_facilities {
        return None;
    }
    let default = CoverageFile::default();
    let c = c.unwrap_or(&default);
    let positive = |x: f64| x > 0.0 && x.is_finite();
    if !positive(c.radius_m) {
        problems.push(format!("coverage.radius_m: {} must be positive", c.radius_m));
    }
    if !(c.detour_factor >= 1.0 && c.detour_factor.is_finite()) {
        problems.push(format!(
            "coverage.detour_factor: {} must be 1 or more (walking is never shorter than the straight line)",
            c.detour_factor
        ));
    }
    if !(10.0..=5000.0).contains(&c.lattice_m) {
        problems.push(format!("coverage.lattice_m: {} must be between 10 and 5000 metres", c.lattice_m));
    }
    if !(c.min_share > 0.0 && c.min_share <= 1.0) {
        problems.push(format!("coverage.min_share: {} must be above 0 and at most 1", c.min_share));
    }
    let items: Vec<CoverageItem> = if c.items.is_empty() {
        BEIJING_ITEMS
            .iter()
            .map(|(key, name, cats)| CoverageItem {
                key: key.to_string(),
                name: name.to_string(),
                categories: cats.iter().map(|s| s.to_string()).collect(),
                radius_m: c.radius_m,
            })
            .collect()
    } else {
        c.items
            .iter()
            .map(|it| CoverageItem {
                key: it.key.clone(),
                name: it.name.clone(),
                categories: if it.categories.is_empty() { vec![it.name.clone()] } else { it.categories.clone() },
                radius_m: it.radius_m.unwrap_or(c.radius_m),
            })
            .collect()
    };
    if items.len() > 32 {
        problems.push(format!("coverage.items: {} items; at most 32", items.len()));
    }
    for (i, it) in items.iter().enumerate() {
        if it.key.is_empty() || !it.key.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_') {
            problems.push(format!("coverage.items[{i}].key: {:?} must be non-empty ASCII letters, digits or '_'", it.key));
        }
        if items[..i].iter().any(|o| o.key == it.key) {
            problems.push(format!("coverage.items[{i}].key: {:?} is used twice", it.key));
        }
        if !positive(it.radius_m) {
            problems.push(format!("coverage.items[{i}].radius_m: {} must be positive", it.radius_m));
        }
    }
    Some(CoverageConfig { detour_factor: c.detour_factor, lattice_m: c.lattice_m, min_share: c.min_share, items })
}

fn resolve_indicators(ind: &IndicatorsFile, problems: &mut Vec<String>) -> IndicatorSettings {
    let w = &ind.composite_weights;
    for (k, v) in [("response", w.response), ("resolution", w.resolution), ("satisfaction", w.satisfaction)] {
        if !(0.0..=1.0).contains(&v) {
            problems.push(format!("indicators.composite_weights.{k}: {v} must be between 0 and 1"));
        }
    }
    if ((w.response + w.resolution + w.satisfaction) - 1.0).abs() > 1e-9 {
        problems.push(format!("indicators.composite_weights: {} + {} + {} must sum to 1", w.response, w.resolution, w.satisfaction));
    }
    if !(0.0..=1.0).contains(&ind.satisfaction_basic_weight) {
        problems.push(format!("indicators.satisfaction_basic_weight: {} must be between 0 and 1", ind.satisfaction_basic_weight));
    }
    if !(ind.default_time_limit_hours > 0.0 && ind.default_time_limit_hours.is_finite()) {
        problems.push(format!("indicators.default_time_limit_hours: {} must be a positive number", ind.default_time_limit_hours));
    }
    for (k, v) in std::iter::once(("signup_threshold".to_string(), ind.signup_threshold))
        .chain(ind.signup_thresholds.iter().map(|(p, v)| (format!("signup_thresholds.{p}"), *v)))
    {
        if !(v > 0.0 && v <= 1.0) {
            problems.push(format!("indicators.{k}: {v} must be a share in (0, 1], e.g. 0.9 for 90 %"));
        }
    }
    let b = ind.grade_bands;
    if !(b[0] > b[1] && b[1] > b[2] && b[2] > b[3]) {
        problems.push(format!("indicators.grade_bands: {b:?} must be strictly decreasing (A, B, C, D lower bounds)"));
    }
    let mut rules = Vec::new();
    for (i, t) in ind.time_limits.iter().enumerate() {
        match Limit::parse(&t.limit) {
            Some(limit) => rules.push(LimitRule {
                category: t.category.clone(),
                subcategory: t.subcategory.clone(),
                urgency: t.urgency.clone(),
                limit,
            }),
            None => problems.push(format!(
                "indicators.time_limits[{i}].limit: {:?} is not a limit: hours (`24h`), working hours (`16wh`) or working days (`3wd`)",
                t.limit
            )),
        }
    }
    if !(ind.instant_closure_minutes >= 0.0 && ind.instant_closure_minutes.is_finite()) {
        problems.push(format!("indicators.instant_closure_minutes: {} must be a number of minutes ≥ 0", ind.instant_closure_minutes));
    }
    if !(ind.ranking_prior_n >= 0.0 && ind.ranking_prior_n.is_finite()) {
        problems.push(format!("indicators.ranking_prior_n: {} must be a number of follow-ups ≥ 0", ind.ranking_prior_n));
    }
    let wh = &ind.whistles;
    for (what, v) in [("report_in_minutes", wh.report_in_minutes), ("closure_hours", wh.closure_hours)] {
        for (t, x) in ["daily", "tackle", "emergency"].iter().zip(v.as_array()) {
            if !(x > 0.0 && x.is_finite()) {
                problems.push(format!("indicators.whistles.{what}.{t}: {x} must be a positive number"));
            }
        }
    }
    if !(ind.service_orders.stale_days > 0.0 && ind.service_orders.stale_days.is_finite()) {
        problems.push(format!("indicators.service_orders.stale_days: {} must be a positive number of days", ind.service_orders.stale_days));
    }
    let mut signup_starts = BTreeMap::new();
    for (project, d) in &ind.signup_starts {
        match NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) => {
                signup_starts.insert(project.clone(), d);
            }
            Err(_) => problems.push(format!("indicators.signup_starts.{project}: {d:?} is not a date YYYY-MM-DD")),
        }
    }
    IndicatorSettings {
        satisfaction_basic_weight: ind.satisfaction_basic_weight,
        composite_weights: [w.response, w.resolution, w.satisfaction],
        should_be_closed: ind.should_be_closed,
        default_time_limit_hours: ind.default_time_limit_hours,
        min_n: ind.min_n,
        signup_threshold: ind.signup_threshold,
        signup_thresholds: ind.signup_thresholds.clone(),
        grade_bands: ind.grade_bands,
        time_limits: TimeLimits { rules },
        instant_closure_ms: (ind.instant_closure_minutes * 60_000.0).round() as i64,
        rework_denominator: ind.rework_denominator,
        signup_starts,
        ranking_min_n: ind.ranking_min_n,
        ranking: ind.ranking,
        ranking_prior_n: ind.ranking_prior_n,
        whistle_report_in_ms: wh.report_in_minutes.as_array().map(|m| (m * 60_000.0).round() as i64),
        whistle_closure_ms: wh.closure_hours.as_array().map(|h| (h * 3_600_000.0).round() as i64),
        whistle_ranking_min_n: wh.ranking_min_n,
        order_stale_ms: (ind.service_orders.stale_days * 86_400_000.0).round() as i64,
        order_satisfied_min: ind.service_orders.satisfied_min,
        order_min_members: ind.service_orders.min_members,
        members: ind.members.clone(),
    }
}

fn resolve_calendar(c: Option<&CalendarFile>, abs: &dyn Fn(&str) -> PathBuf, problems: &mut Vec<String>) -> CalendarConfig {
    let Some(c) = c else {
        return CalendarConfig { always: true, holidays: None, hours: vec![(0, 86_400)], weekend: [false; 7] };
    };
    let mut hours: Vec<(u32, u32)> = Vec::new();
    for (i, h) in c.working_hours.iter().enumerate() {
        match parse_hours(h) {
            Some(iv) => hours.push(iv),
            None => problems.push(format!("calendar.working_hours[{i}]: {h:?} is not a span of the day such as \"09:00-12:00\"")),
        }
    }
    hours.sort();
    if hours.windows(2).any(|w| w[1].0 < w[0].1) {
        problems.push("calendar.working_hours: the spans overlap".into());
    }
    if hours.is_empty() {
        problems.push("calendar.working_hours: give at least one span".into());
    }
    let names = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
    let mut weekend = [false; 7];
    for (i, d) in c.weekend.iter().enumerate() {
        match names.iter().position(|n| n.eq_ignore_ascii_case(d.trim())) {
            Some(k) => weekend[k] = true,
            None => problems.push(format!("calendar.weekend[{i}]: {d:?} is not a weekday (monday … sunday)")),
        }
    }
    CalendarConfig { always: false, holidays: c.holidays.as_deref().map(abs), hours, weekend }
}

fn check_quality(q: &QualityFile, problems: &mut Vec<String>) {
    if !(0.0..=1.0).contains(&q.max_reject_share) {
        problems.push(format!("quality.max_reject_share: {} must be between 0 and 1", q.max_reject_share));
    }
    for (reason, v) in &q.max_reject_share_by_reason {
        if !Reason::parse(reason).is_some_and(Reason::quarantines) {
            problems.push(format!(
                "quality.max_reject_share_by_reason.{reason}: not a reason code; the codes are {}",
                Reason::quarantine_codes().join(", ")
            ));
        } else if !(0.0..=1.0).contains(v) {
            problems.push(format!("quality.max_reject_share_by_reason.{reason}: {v} must be between 0 and 1"));
        }
    }
    if let Some(v) = q.max_unassigned_share {
        if !(0.0..=1.0).contains(&v) {
            problems.push(format!("quality.max_unassigned_share: {v} must be between 0 and 1"));
        }
    }
    for (i, p) in q.suspect_points.iter().enumerate() {
        if !(p[0].abs() <= 180.0 && p[1].abs() <= 90.0) {
            problems.push(format!("quality.suspect_points[{i}]: {p:?} is not a lon/lat pair"));
        }
    }
}

fn check_outputs(o: &OutputsFile, problems: &mut Vec<String>) {
    if o.keep_runs == 0 {
        problems.push("outputs.keep_runs: must be at least 1 (the published run)".into());
    }
    for (i, l) in o.layers.iter().enumerate() {
        if !["grid", "community", "street", "district"].contains(&l.as_str()) {
            problems.push(format!("outputs.layers[{i}]: {l:?} is not one of grid, community, street, district"));
        }
    }
    for (i, x) in o.formats.iter().enumerate() {
        if !["csv", "parquet", "arrow", "xlsx"].contains(&x.as_str()) {
            problems.push(format!("outputs.formats[{i}]: {x:?} is not one of csv, parquet, arrow, xlsx"));
        }
    }
    for (i, x) in o.layer_formats.iter().enumerate() {
        if !["geojson", "gpkg", "fgb", "parquet"].contains(&x.as_str()) {
            problems.push(format!("outputs.layer_formats[{i}]: {x:?} is not one of geojson, gpkg, fgb, parquet"));
        }
    }
    if !o.formats.iter().any(|f| f != "xlsx") {
        problems.push("outputs.formats: name at least one of csv, parquet, arrow (tables are the run's data)".into());
    }
}

fn check_charts(c: &ChartsFile, catalog: &Catalog<'_>, problems: &mut Vec<String>) {
    if !catalog.mappable.iter().any(|(k, _)| *k == c.map_indicator) {
        let keys: Vec<&str> = catalog.mappable.iter().map(|(k, _)| *k).collect();
        problems.push(format!("charts.map_indicator: {:?} is not one of {}", c.map_indicator, keys.join(", ")));
    }
    if !(5..=7).contains(&c.classes) {
        problems.push(format!("charts.classes: {} must be between 5 and 7", c.classes));
    }
    if let Some(b) = &c.breaks {
        if b.is_empty() || b.len() > 6 || b.windows(2).any(|w| w[0] >= w[1]) || b.iter().any(|x| !x.is_finite()) {
            problems.push(format!("charts.breaks: {b:?} must be 1 to 6 increasing numbers"));
        }
    }
    if c.top_n == 0 || c.top_n > 30 {
        problems.push(format!("charts.top_n: {} must be between 1 and 30", c.top_n));
    }
    for (k, v) in &c.targets {
        if !["response_rate", "resolution_rate", "satisfaction_rate"].contains(&k.as_str()) {
            problems.push(format!("charts.targets.{k}: targets exist for response_rate, resolution_rate, satisfaction_rate"));
        } else if !(*v > 0.0 && *v <= 1.0) {
            problems.push(format!("charts.targets.{k}: {v} must be a share in (0, 1]"));
        }
    }
    if let Some(h) = c.time_limit_hours {
        if !(h > 0.0 && h.is_finite()) {
            problems.push(format!("charts.time_limit_hours: {h} must be a positive number"));
        }
    }
}
