//! Every column gridgov writes, with its Chinese label, unit and formula: read off the key
//! columns below and the families' own columns, never kept as a second list. `gridgov
//! indicators` prints it, each run writes the columns it used as `dictionary.csv`, the QGIS
//! styles take their aliases from it, and a test checks that every column of every output
//! table is listed here.

use std::sync::LazyLock;

use super::family::{Change, Column, Only};
use super::{CASE_FAMILIES, signups};
use crate::vocab::column::Field;

/// Columns that say what a row is about: units, dimensions, periods, places.
pub static KEYS: &[Field] = &[
    Field::new("grid_code", "网格编码", "", "code of the grid (text)"),
    Field::new("grid_name", "网格名称", "", "name of the grid"),
    Field::new("community_code", "社区编码", "", "code of the community (text)"),
    Field::new("community_name", "社区名称", "", "name of the community"),
    Field::new("street_code", "街道编码", "", "code of the street / township (text)"),
    Field::new("street_name", "街道名称", "", "name of the street / township"),
    Field::new("district_code", "区编码", "", "code of the district (text)"),
    Field::new("district_name", "区名称", "", "name of the district"),
    Field::new("city_name", "城市", "", "the whole area of the pipeline (its title)"),
    Field::new("category", "问题类别", "", "first-level category of the case (empty key: no category)"),
    Field::new("department", "承办部门", "", "department or unit that handled the case"),
    Field::new("channel", "来源渠道", "", "channel the case came in through"),
    Field::new("period", "统计期", "YYYY-MM", "reporting period: a month YYYY-MM, or start..end"),
    Field::new("period_start", "统计期起始", "local time", "first moment of the period, local time without offset"),
    Field::new("as_of", "数据截止日", "date", "states (closed, open, overdue, signed) are read at the end of this day"),
    Field::new("population", "常住人口", "persons", "sum of the grids' population"),
    Field::new("households", "户数", "households", "sum of the grids' households"),
    Field::new(
        "area_km2",
        "面积",
        "km²",
        "area on the WGS84 ellipsoid (authalic sphere, exact spherical excess per edge), sum of the grids",
    ),
    Field::new(
        "grids_without_population",
        "无人口网格数",
        "grids",
        "grids of the unit without a population (cases_per_10k is empty when this is above 0)",
    ),
];

/// Columns the layers add for map styling.
pub static STYLE: &[Field] = &[Field::new("class", "分级", "class", "class of the mapped indicator (reserved for map styling)")];

/// Each family's name and its columns, in output order: the cases' families, then the
/// sign-ups', then the whistles'.
pub fn families() -> Vec<(&'static str, &'static [Column])> {
    let mut v: Vec<(&'static str, &'static [Column])> = CASE_FAMILIES.iter().map(|f| (f.name(), f.columns())).collect();
    v.extend(signups::FAMILIES.iter().map(|f| (f.name(), f.columns())));
    v.extend(super::whistles::FAMILIES.iter().map(|f| (f.name(), f.columns())));
    v.extend(super::service_orders::FAMILIES.iter().map(|f| (f.name(), f.columns())));
    v
}

/// A comparison of a headline indicator with an earlier month of the same unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeOf {
    /// The count a month before.
    PrevMonth,
    /// (now − a month before) / a month before.
    MomRate,
    /// The count a year before.
    PrevYear,
    /// (now − a year before) / a year before.
    YoyRate,
    /// now − a month before.
    MomChange,
    /// now − a year before.
    YoyChange,
}

/// A field written once per process from its parts (derived columns' names and labels).
fn derived(key: String, zh: String, unit: &'static str, formula: String) -> Field {
    let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
    Field { key: leak(key), zh: leak(zh), unit, formula: leak(formula) }
}

/// The change columns of every headline indicator, derived from the families.
static CHANGES: LazyLock<Vec<(&'static str, ChangeOf, Field)>> = LazyLock::new(|| {
    let mut v = Vec::new();
    for (_, cols) in families() {
        for c in cols {
            let (k, zh) = (c.field.key, c.field.zh);
            match c.headline {
                Some(Change::Relative) => {
                    v.push((
                        k,
                        ChangeOf::PrevMonth,
                        derived(
                            format!("{k}_prev_month"),
                            format!("上月{zh}"),
                            c.field.unit,
                            format!("{k} of the same unit in the month before (monthly tables)"),
                        ),
                    ));
                    v.push((
                        k,
                        ChangeOf::MomRate,
                        derived(format!("{k}_mom_rate"), format!("{zh}环比"), "share", format!("({k} − {k}_prev_month) / {k}_prev_month")),
                    ));
                    v.push((
                        k,
                        ChangeOf::PrevYear,
                        derived(
                            format!("{k}_prev_year"),
                            format!("上年同月{zh}"),
                            c.field.unit,
                            format!("{k} of the same unit in the same month a year earlier (monthly tables)"),
                        ),
                    ));
                    v.push((
                        k,
                        ChangeOf::YoyRate,
                        derived(format!("{k}_yoy_rate"), format!("{zh}同比"), "share", format!("({k} − {k}_prev_year) / {k}_prev_year")),
                    ));
                }
                Some(Change::Difference) => {
                    let unit = if c.field.unit == "share" { "share (difference)" } else { "points (difference)" };
                    v.push((
                        k,
                        ChangeOf::MomChange,
                        derived(
                            format!("{k}_mom_change"),
                            format!("{zh}环比变化"),
                            unit,
                            format!("{k} − {k} of the same unit in the month before"),
                        ),
                    ));
                    v.push((
                        k,
                        ChangeOf::YoyChange,
                        derived(
                            format!("{k}_yoy_change"),
                            format!("{zh}同比变化"),
                            unit,
                            format!("{k} − {k} of the same unit in the same month a year earlier"),
                        ),
                    ));
                }
                None => {}
            }
        }
    }
    v
});

/// The low-n flag of every denominator, derived from the families' rates.
static LOW_N: LazyLock<Vec<(&'static str, Field)>> = LazyLock::new(|| {
    let mut v: Vec<(&'static str, Field)> = Vec::new();
    for (_, cols) in families() {
        for c in cols.iter().filter(|c| c.only != Only::Monthly) {
            let Some(n) = c.n else { continue };
            if v.iter().any(|(k, _)| *k == n) {
                continue;
            }
            let zh = cols.iter().find(|x| x.field.key == n).map_or(n, |x| x.field.zh);
            let rates: Vec<&str> = cols.iter().filter(|x| x.n == Some(n)).map(|x| x.field.key).collect();
            v.push((
                n,
                derived(
                    format!("{n}_low_n"),
                    format!("{zh}不足"),
                    "true/false",
                    format!("{n} < indicators.min_n: {} rest on few cases", rates.join(", ")),
                ),
            ));
        }
    }
    v
});

/// The change columns of a headline indicator, in output order.
pub fn changes_of(key: &str) -> impl Iterator<Item = (ChangeOf, &'static Field)> + '_ {
    CHANGES.iter().filter(move |(k, _, _)| *k == key).map(|(_, of, f)| (*of, f))
}

/// The low-n flag of a denominator.
pub fn low_n_field(n: &str) -> Option<&'static Field> {
    LOW_N.iter().find(|(k, _)| *k == n).map(|(_, f)| f)
}

/// Every field, in output order: keys, the families' columns (each family's low-n flags after
/// its columns), the changes of the headline indicators, the project tables', styling.
pub fn fields() -> Vec<&'static Field> {
    let mut v: Vec<&'static Field> = KEYS.iter().collect();
    for (_, cols) in families() {
        v.extend(cols.iter().map(|c| &c.field));
        let mut seen = Vec::new();
        for n in cols.iter().filter_map(|c| c.n) {
            if !seen.contains(&n) {
                seen.push(n);
                v.extend(low_n_field(n));
            }
        }
    }
    v.push(&super::whistles::RATE_FIELD);
    v.extend(super::service_orders::MEMBER_FIELDS.iter());
    v.extend(CHANGES.iter().map(|(_, _, f)| f));
    for f in signups::PROJECT_FIELDS
        .iter()
        .chain(super::overdue::FIELDS)
        .chain(super::hotspots::FIELDS)
        .chain(super::assessment::FIELDS)
        .chain(super::members::FIELDS)
        .chain(super::coverage::FIELDS)
        .chain(super::networks::FIELDS)
    {
        if !v.iter().any(|x| x.key == f.key) {
            v.push(f);
        }
    }
    v.extend(STYLE.iter());
    v
}

/// The field of a key.
pub fn field(key: &str) -> Option<&'static Field> {
    fields().into_iter().find(|f| f.key == key)
}

/// Rates a map can show, each with the count that is its n, in family order.
pub fn mappable() -> Vec<(&'static str, &'static str)> {
    families()
        .into_iter()
        .flat_map(|(_, cols)| cols.iter())
        .filter(|c| c.only != super::family::Only::Monthly)
        .filter_map(|c| Some((c.field.key, c.n?)))
        .collect()
}

/// The denominator (n) of a rate, if it has one.
pub fn n_of(key: &str) -> Option<&'static str> {
    mappable().into_iter().find(|(k, _)| *k == key).map(|(_, n)| n)
}

/// `gridgov indicators`: every column with its label, unit and formula, in output order.
pub fn listing() -> String {
    let mut out = format!("{:<24} {:<16} {:<22} formula\n", "key", "label", "unit");
    for f in fields() {
        out.push_str(&format!("{:<24} {:<16} {:<22} {}\n", f.key, f.zh, f.unit, f.formula));
    }
    out
}
