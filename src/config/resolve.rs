//! The checked, filled-in pipeline: what the rest of the program sees.
//!
//! `resolve` reports every problem of the file at once (not the first), each with its key path.

use chrono::{Datelike, NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::file::*;
use crate::crs::Crs;
use crate::error::ConfigError;

/// A resolved pipeline.
#[derive(Debug, Clone, Serialize)]
pub struct Pipeline {
    pub name: String,
    pub title: String,
    /// The pipeline file itself (absolute).
    pub file: PathBuf,
    /// Folder that holds `runs/` and `latest` (absolute).
    pub output_dir: PathBuf,
    pub period: Period,
    pub grids: GridsConfig,
    pub cases: Vec<CaseSource>,
    pub signups: Vec<SignupSource>,
    pub boundary_rule: crate::join::BoundaryRule,
    pub indicators: IndicatorSettings,
    pub quality: QualityFile,
    pub outputs: OutputsFile,
    pub charts: Option<ChartsFile>,
}

/// Rates a map can show, each with the count that is its denominator (its n).
pub const MAPPABLE: &[(&str, &str)] = &[
    ("response_rate", "followups"),
    ("resolution_rate", "followups"),
    ("satisfaction_rate", "followups"),
    ("closure_rate", "should_close"),
    ("on_time_closure_rate", "should_close"),
    ("overdue_open_rate", "open"),
    ("signup_rate", "signup_households"),
];

/// Reporting period, trend window and as-of moment. Instants are UTC milliseconds; the
/// calendar is the city's time zone.
#[derive(Debug, Clone, Serialize)]
pub struct Period {
    /// First day, inclusive.
    pub start: NaiveDate,
    /// Last day, inclusive.
    pub end: NaiveDate,
    pub as_of: NaiveDate,
    #[serde(serialize_with = "ser_tz")]
    pub time_zone: Tz,
    /// Months of the trend tables, oldest first, the last one containing `end`.
    pub months: Vec<Month>,
}

/// A calendar month of the trend tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or(NaiveDate::MIN)
    }
    pub fn next(self) -> Month {
        if self.month == 12 { Month { year: self.year + 1, month: 1 } } else { Month { year: self.year, month: self.month + 1 } }
    }
    pub fn prev(self) -> Month {
        if self.month == 1 { Month { year: self.year - 1, month: 12 } } else { Month { year: self.year, month: self.month - 1 } }
    }
    pub fn of(d: NaiveDate) -> Month {
        Month { year: d.year(), month: d.month() }
    }
    /// `YYYY-MM`.
    pub fn label(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

fn ser_tz<S: serde::Serializer>(tz: &Tz, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(tz.name())
}

impl Period {
    /// UTC milliseconds of local midnight at the start of `day`.
    pub fn local_midnight_ms(&self, day: NaiveDate) -> i64 {
        local_midnight_ms(self.time_zone, day)
    }
    /// Start of the reporting period (inclusive), UTC ms.
    pub fn start_ms(&self) -> i64 {
        self.local_midnight_ms(self.start)
    }
    /// End of the reporting period (exclusive: midnight after `end`), UTC ms.
    pub fn end_ms(&self) -> i64 {
        self.local_midnight_ms(self.end.succ_opt().unwrap_or(self.end))
    }
    /// The as-of moment: midnight at the end of the as-of day, UTC ms.
    pub fn as_of_ms(&self) -> i64 {
        self.local_midnight_ms(self.as_of.succ_opt().unwrap_or(self.as_of))
    }
    /// Month boundaries of the trend window as UTC ms: `months.len() + 1` values.
    pub fn month_bounds_ms(&self) -> Vec<i64> {
        let mut v: Vec<i64> = self.months.iter().map(|m| self.local_midnight_ms(m.first_day())).collect();
        if let Some(last) = self.months.last() {
            v.push(self.local_midnight_ms(last.next().first_day()));
        }
        v
    }
    /// Index of the trend month the period is exactly equal to, if it is one.
    pub fn month_index(&self) -> Option<usize> {
        self.months.iter().position(|m| m.first_day() == self.start && m.next().first_day().pred_opt() == Some(self.end))
    }

    /// `YYYY-MM` if the period is exactly one calendar month, else `start..end`.
    pub fn label(&self) -> String {
        let m = Month::of(self.start);
        if self.start.day() == 1 && self.end.succ_opt().map(Month::of) == Some(m.next()) && Month::of(self.end) == m {
            m.label()
        } else {
            format!("{}..{}", self.start, self.end)
        }
    }
}

/// UTC ms of local midnight; on a DST gap the earliest valid local time is used.
pub fn local_midnight_ms(tz: Tz, day: NaiveDate) -> i64 {
    let naive = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => t.timestamp_millis(),
        chrono::LocalResult::Ambiguous(a, _) => a.timestamp_millis(),
        chrono::LocalResult::None => {
            // Midnight skipped by a DST change: take 01:00 local.
            let later = naive + chrono::Duration::hours(1);
            tz.from_local_datetime(&later).earliest().map(|t| t.timestamp_millis()).unwrap_or_else(|| naive.and_utc().timestamp_millis())
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct GridsConfig {
    pub path: PathBuf,
    pub crs: Crs,
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
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseSource {
    pub name: String,
    pub path: PathBuf,
    pub format: FileFormat,
    pub delimiter: u8,
    pub encoding: Encoding,
    pub crs: Crs,
    pub timestamp_formats: Vec<String>,
    #[serde(serialize_with = "ser_tz")]
    pub time_zone: Tz,
    /// gridgov field -> file column, only the mapped ones, in field order.
    pub columns: BTreeMap<String, String>,
    pub values: Values,
}

/// Resolved spellings of coded values (trimmed; compared case-insensitively for ASCII).
#[derive(Debug, Clone, Serialize)]
pub struct Values {
    pub cancelled_status: Vec<String>,
    pub yes: Vec<String>,
    pub no: Vec<String>,
    pub satisfied: Vec<String>,
    pub basically_satisfied: Vec<String>,
    pub unsatisfied: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SignupSource {
    pub name: String,
    pub path: PathBuf,
    pub format: FileFormat,
    pub delimiter: u8,
    pub encoding: Encoding,
    pub date_formats: Vec<String>,
    pub columns: BTreeMap<String, String>,
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
}

impl IndicatorSettings {
    /// Threshold of one project.
    pub fn threshold_for(&self, project: &str) -> f64 {
        self.signup_thresholds.get(project).copied().unwrap_or(self.signup_threshold)
    }
}

/// Default timestamp formats tried when a source lists none.
pub const DEFAULT_TIMESTAMP_FORMATS: &[&str] = &[
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%:z",
    "%Y-%m-%dT%H:%M:%S%.f%:z",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
];

/// Reads, parses and resolves a pipeline file.
pub fn load(path: &Path) -> Result<Pipeline, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io { path: path.to_path_buf(), source })?;
    let file = parse(path, &text)?;
    resolve(path, file)
}

/// Parses TOML text; errors carry the full key path (e.g. `cases[1].columns.lonn`).
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
pub fn resolve(path: &Path, f: PipelineFile) -> Result<Pipeline, ConfigError> {
    let mut problems: Vec<String> = Vec::new();
    let file = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let base = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let abs = |p: &str| -> PathBuf { base.join(p) };

    if f.name.is_empty() || !f.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        problems.push(format!("name: {:?} must be non-empty ASCII letters, digits, '-' or '_' (it names files)", f.name));
    }

    // Period.
    let tz: Tz = match f.period.time_zone.parse() {
        Ok(tz) => tz,
        Err(_) => {
            problems.push(format!("period.time_zone: {:?} is not an IANA time zone (e.g. \"Asia/Shanghai\")", f.period.time_zone));
            Tz::UTC
        }
    };
    let date = |key: &str, v: &str, problems: &mut Vec<String>| -> Option<NaiveDate> {
        match NaiveDate::parse_from_str(v, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                problems.push(format!("{key}: {v:?} is not a date YYYY-MM-DD"));
                None
            }
        }
    };
    let (start, end) = match (&f.period.month, &f.period.start, &f.period.end) {
        (Some(m), None, None) => match NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d") {
            Ok(s) => {
                let e = Month::of(s).next().first_day().pred_opt().unwrap_or(s);
                (Some(s), Some(e))
            }
            Err(_) => {
                problems.push(format!("period.month: {m:?} is not a month YYYY-MM"));
                (None, None)
            }
        },
        (None, Some(s), Some(e)) => (date("period.start", s, &mut problems), date("period.end", e, &mut problems)),
        _ => {
            problems.push("period: give either `month` or both `start` and `end`".into());
            (None, None)
        }
    };
    let as_of = date("period.as_of", &f.period.as_of, &mut problems);
    if let (Some(s), Some(e)) = (start, end) {
        if e < s {
            problems.push(format!("period: end {e} is before start {s}"));
        }
        if let Some(a) = as_of {
            if a < e {
                problems
                    .push(format!("period.as_of: {a} is before the period's end {e}; states would be evaluated before the period closed"));
            }
        }
    }
    if f.period.trend_months == 0 || f.period.trend_months > 120 {
        problems.push(format!("period.trend_months: {} must be between 1 and 120", f.period.trend_months));
    }
    let mut months = Vec::new();
    if let Some(e) = end {
        let mut m = Month::of(e);
        for _ in 0..f.period.trend_months.clamp(1, 120) {
            months.push(m);
            m = m.prev();
        }
        months.reverse();
    }

    // Grids.
    let gp = &f.grids.properties;
    let grids = GridsConfig {
        path: abs(&f.grids.path),
        crs: f.grids.crs,
        on_invalid: f.grids.on_invalid,
        properties: GridProperties {
            code: gp.code.clone(),
            name: gp.name.clone(),
            community_code: gp.community_code.clone(),
            community_name: gp.community_name.clone(),
            street_code: gp.street_code.clone(),
            street_name: gp.street_name.clone(),
            district_code: gp.district_code.clone(),
            district_name: gp.district_name.clone(),
            population: gp.population.clone(),
            households: gp.households.clone(),
        },
    };
    for (key, code, name) in [
        ("community", &gp.community_code, &gp.community_name),
        ("street", &gp.street_code, &gp.street_name),
        ("district", &gp.district_code, &gp.district_name),
    ] {
        if code.is_none() && name.is_some() {
            problems.push(format!("grids.properties.{key}_name: given without {key}_code; the level is keyed by its code"));
        }
    }

    // Sources.
    if f.cases.is_empty() && f.signups.is_empty() {
        problems.push("cases / signups: the pipeline has no record source".into());
    }
    let mut names = std::collections::BTreeSet::new();
    let mut cases = Vec::new();
    for (i, c) in f.cases.iter().enumerate() {
        let key = format!("cases[{i}]");
        if !names.insert(c.name.clone()) {
            problems.push(format!("{key}.name: {:?} is used by another source", c.name));
        }
        let path = abs(&c.path);
        let format = format_of(&key, c.format, &path, &mut problems);
        let delimiter = delimiter_of(&key, c.delimiter.as_deref(), &mut problems);
        let time_zone = match &c.time_zone {
            None => tz,
            Some(z) => z.parse().unwrap_or_else(|_| {
                problems.push(format!("{key}.time_zone: {z:?} is not an IANA time zone"));
                tz
            }),
        };
        let timestamp_formats: Vec<String> = if c.timestamp_formats.is_empty() {
            DEFAULT_TIMESTAMP_FORMATS.iter().map(|s| s.to_string()).collect()
        } else {
            c.timestamp_formats.clone()
        };
        for (j, fmt) in timestamp_formats.iter().enumerate() {
            if chrono::format::StrftimeItems::new(fmt).any(|it| matches!(it, chrono::format::Item::Error)) {
                problems.push(format!("{key}.timestamp_formats[{j}]: {fmt:?} is not a valid strftime format"));
            }
        }
        let cols = &c.columns;
        let mut columns = BTreeMap::new();
        columns.insert("case_id".to_string(), cols.case_id.clone());
        columns.insert("received_at".to_string(), cols.received_at.clone());
        for (field, v) in [
            ("closed_at", &cols.closed_at),
            ("due_at", &cols.due_at),
            ("status", &cols.status),
            ("channel", &cols.channel),
            ("category", &cols.category),
            ("subcategory", &cols.subcategory),
            ("department", &cols.department),
            ("lon", &cols.lon),
            ("lat", &cols.lat),
            ("grid_code", &cols.grid_code),
            ("community_code", &cols.community_code),
            ("street_code", &cols.street_code),
            ("followup_valid", &cols.followup_valid),
            ("contacted", &cols.contacted),
            ("resolved", &cols.resolved),
            ("satisfaction", &cols.satisfaction),
        ] {
            if let Some(v) = v {
                columns.insert(field.to_string(), v.clone());
            }
        }
        if cols.lon.is_some() != cols.lat.is_some() {
            problems.push(format!("{key}.columns: map both `lon` and `lat`, or neither"));
        }
        if cols.lon.is_none() && cols.grid_code.is_none() && cols.community_code.is_none() && cols.street_code.is_none() {
            problems.push(format!("{key}.columns: no location: map lon/lat or a grid, community or street code"));
        }
        if cols.community_code.is_some() && gp.community_code.is_none() {
            problems.push(format!("{key}.columns.community_code: the grid layer has no community level (grids.properties.community_code)"));
        }
        if cols.street_code.is_some() && gp.street_code.is_none() {
            problems.push(format!("{key}.columns.street_code: the grid layer has no street level (grids.properties.street_code)"));
        }
        let v = &c.values;
        let merge = |extra: &Vec<String>, builtin: &[&str]| -> Vec<String> {
            let mut out: Vec<String> = builtin.iter().map(|s| s.to_string()).collect();
            out.extend(extra.iter().map(|s| s.trim().to_string()));
            out
        };
        let values = Values {
            cancelled_status: v.cancelled_status.iter().map(|s| s.trim().to_string()).collect(),
            yes: merge(&v.yes, &["是", "1", "true", "yes", "y", "已解决", "已联系", "解决", "联系"]),
            no: merge(&v.no, &["否", "0", "false", "no", "n", "未解决", "未联系"]),
            satisfied: merge(&v.satisfied, &["满意", "satisfied"]),
            basically_satisfied: merge(&v.basically_satisfied, &["基本满意", "basically_satisfied"]),
            unsatisfied: merge(&v.unsatisfied, &["不满意", "unsatisfied"]),
        };
        let groups: [(&str, &Vec<String>); 5] = [
            ("yes", &values.yes),
            ("no", &values.no),
            ("satisfied", &values.satisfied),
            ("basically_satisfied", &values.basically_satisfied),
            ("unsatisfied", &values.unsatisfied),
        ];
        // yes/no are one question and the three satisfaction answers another: a spelling may
        // not mean two answers to the same question.
        for (x, y) in [(0, 1), (2, 3), (2, 4), (3, 4)] {
            if let Some(v) = groups[x].1.iter().find(|v| groups[y].1.contains(v)) {
                problems.push(format!("{key}.values: {v:?} is listed both as `{}` and as `{}`", groups[x].0, groups[y].0));
            }
        }
        check_encoding(&key, format, c.encoding, &mut problems);
        cases.push(CaseSource {
            name: c.name.clone(),
            path,
            format,
            delimiter,
            encoding: c.encoding,
            crs: c.crs,
            timestamp_formats,
            time_zone,
            columns,
            values,
        });
    }
    let mut signups = Vec::new();
    for (i, s) in f.signups.iter().enumerate() {
        let key = format!("signups[{i}]");
        if !names.insert(s.name.clone()) {
            problems.push(format!("{key}.name: {:?} is used by another source", s.name));
        }
        let path = abs(&s.path);
        let format = format_of(&key, s.format, &path, &mut problems);
        let delimiter = delimiter_of(&key, s.delimiter.as_deref(), &mut problems);
        let mut columns = BTreeMap::new();
        columns.insert("household_id".to_string(), s.columns.household_id.clone());
        columns.insert("project_id".to_string(), s.columns.project_id.clone());
        columns.insert("grid_code".to_string(), s.columns.grid_code.clone());
        columns.insert("signed_date".to_string(), s.columns.signed_date.clone());
        if let Some(v) = &s.columns.project_name {
            columns.insert("project_name".to_string(), v.clone());
        }
        if let Some(v) = &s.columns.in_scope {
            columns.insert("in_scope".to_string(), v.clone());
        }
        let date_formats = if s.date_formats.is_empty() { vec!["%Y-%m-%d".to_string()] } else { s.date_formats.clone() };
        check_encoding(&key, format, s.encoding, &mut problems);
        signups.push(SignupSource { name: s.name.clone(), path, format, delimiter, encoding: s.encoding, date_formats, columns });
    }

    // Indicator conventions.
    let ind = &f.indicators;
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
    let q = &f.quality;
    if !(0.0..=1.0).contains(&q.max_reject_share) {
        problems.push(format!("quality.max_reject_share: {} must be between 0 and 1", q.max_reject_share));
    }
    for (reason, v) in &q.max_reject_share_by_reason {
        if !crate::quarantine::REASONS.contains(&reason.as_str()) {
            problems.push(format!(
                "quality.max_reject_share_by_reason.{reason}: not a reason code; the codes are {}",
                crate::quarantine::REASONS.join(", ")
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
    if f.outputs.keep_runs == 0 {
        problems.push("outputs.keep_runs: must be at least 1 (the published run)".into());
    }
    for (i, l) in f.outputs.layers.iter().enumerate() {
        if !["grid", "community", "street", "district"].contains(&l.as_str()) {
            problems.push(format!("outputs.layers[{i}]: {l:?} is not one of grid, community, street, district"));
        }
    }
    for (i, x) in f.outputs.formats.iter().enumerate() {
        if !["csv", "parquet", "arrow"].contains(&x.as_str()) {
            problems.push(format!("outputs.formats[{i}]: {x:?} is not one of csv, parquet, arrow"));
        }
    }
    if f.outputs.formats.is_empty() {
        problems.push("outputs.formats: name at least one of csv, parquet, arrow (tables are the run's data)".into());
    }
    for (i, p) in q.suspect_points.iter().enumerate() {
        if !(p[0].abs() <= 180.0 && p[1].abs() <= 90.0) {
            problems.push(format!("quality.suspect_points[{i}]: {p:?} is not a lon/lat pair"));
        }
    }

    if let Some(c) = &f.charts {
        if !MAPPABLE.iter().any(|(k, _)| *k == c.map_indicator) {
            let keys: Vec<&str> = MAPPABLE.iter().map(|(k, _)| *k).collect();
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
    if !problems.is_empty() {
        return Err(ConfigError::Invalid { path: file, problems });
    }
    let (Some(start), Some(end), Some(as_of)) = (start, end, as_of) else {
        return Err(ConfigError::Invalid { path: file, problems: vec!["period: incomplete".into()] });
    };
    Ok(Pipeline {
        name: f.name.clone(),
        title: f.title.clone().unwrap_or_else(|| f.name.clone()),
        output_dir: abs(&f.output_dir),
        file,
        period: Period { start, end, as_of, time_zone: tz, months },
        grids,
        cases,
        signups,
        boundary_rule: f.join.boundary_rule,
        indicators: IndicatorSettings {
            satisfaction_basic_weight: ind.satisfaction_basic_weight,
            composite_weights: [w.response, w.resolution, w.satisfaction],
            should_be_closed: ind.should_be_closed,
            default_time_limit_hours: ind.default_time_limit_hours,
            min_n: ind.min_n,
            signup_threshold: ind.signup_threshold,
            signup_thresholds: ind.signup_thresholds.clone(),
            grade_bands: ind.grade_bands,
        },
        quality: f.quality.clone(),
        outputs: f.outputs.clone(),
        charts: f.charts.clone(),
    })
}

impl Pipeline {
    /// Replaces the as-of date (the `--as-of` flag), re-checking it against the period.
    pub fn with_as_of(mut self, as_of: NaiveDate) -> Result<Pipeline, ConfigError> {
        if as_of < self.period.end {
            return Err(ConfigError::Invalid {
                path: self.file.clone(),
                problems: vec![format!("--as-of {as_of} is before the period's end {}", self.period.end)],
            });
        }
        self.period.as_of = as_of;
        Ok(self)
    }
}

fn format_of(key: &str, given: Option<FileFormat>, path: &Path, problems: &mut Vec<String>) -> FileFormat {
    if let Some(f) = given {
        return f;
    }
    match path.extension().and_then(|e| e.to_str()).map(|e| e.to_ascii_lowercase()).as_deref() {
        Some("csv") | Some("txt") | Some("tsv") => FileFormat::Csv,
        Some("parquet") | Some("pq") => FileFormat::Parquet,
        _ => {
            problems.push(format!("{key}.format: cannot tell from {:?}; set format = \"csv\" or \"parquet\"", path.display().to_string()));
            FileFormat::Csv
        }
    }
}

fn check_encoding(key: &str, format: FileFormat, encoding: Encoding, problems: &mut Vec<String>) {
    if format == FileFormat::Parquet && encoding != Encoding::Utf8 {
        problems.push(format!("{key}.encoding: Parquet text is always UTF-8; `encoding` applies to CSV files only"));
    }
}

fn delimiter_of(key: &str, given: Option<&str>, problems: &mut Vec<String>) -> u8 {
    match given {
        None => b',',
        Some("\\t") | Some("\t") => b'\t',
        Some(s) if s.len() == 1 && s.is_ascii() => s.as_bytes()[0],
        Some(s) => {
            problems.push(format!("{key}.delimiter: {s:?} must be one ASCII character"));
            b','
        }
    }
}
