//! Record kinds, one file each: what a source of the kind may map (its [`KindSpec`], which
//! `config` checks a pipeline file against) and how one of its rows is checked into facts and
//! a location ([`RowCheck`]). Reading the files, uniqueness, the quarantine and the accounting
//! are the same for every kind (`io::source`).
//!
//! To add a kind: a file here with its spec and checks, listed in [`SPECS`] and
//! [`row_checks`]; its facts in `vocab::record::Fact`; its indicator family in `indicators`
//! (ARCHITECTURE.md has the whole recipe).

pub mod cases;
pub mod facilities;
pub mod members;
pub mod service_orders;
pub mod signups;
pub mod whistles;

use geo::Rect;
use std::sync::atomic::AtomicU64;

use super::ids::IdKey;
use super::records::{Mapping, RowRef};
use crate::config::{KindSpec, Source};
use crate::vocab::calendar::{Calendar, TimeLimits};
use crate::vocab::dictionary::Dictionaries;
use crate::vocab::reason::Reason;
use crate::vocab::record::{Fact, Location};
use crate::vocab::time::{DstFold, DstGap};
use crate::vocab::units::Hierarchy;

/// Every record kind, in the order a run reads them.
pub static SPECS: &[&KindSpec] =
    &[&cases::SPEC, &signups::SPEC, &whistles::SPEC, &service_orders::SPEC, &members::ROSTER, &members::ACTIVITIES, &facilities::SPEC];

/// What row checks need to know besides the row and the source.
pub struct CheckContext<'a> {
    pub hierarchy: &'a Hierarchy,
    /// The units by name, for records placed by their names (`None`: no source maps names).
    pub names: Option<&'a crate::vocab::names::NameIndex>,
    /// Extent of the grid layer, for telling swapped coordinates.
    pub extent: Option<Rect<f64>>,
    pub default_time_limit_ms: i64,
    /// The as-of moment (UTC ms): the end of the as-of day.
    pub as_of_ms: i64,
    pub suspect_points: &'a [[f64; 2]],
    pub suspect_radius_m: f64,
    /// Swap lon and lat when only the swapped pair is valid.
    pub repair_swapped: bool,
    /// Working days and hours, for due times from working-time limits.
    pub calendar: &'a Calendar,
    pub time_limits: &'a TimeLimits,
    /// How local times in a DST fold or gap are read.
    pub fold: DstFold,
    pub gap: DstGap,
}

/// A row's problem: its reason code and what exactly was wrong.
pub type Problem = (Reason, String);

/// A row that passed its kind's checks: its facts, where it is, the key it must be unique by
/// within its source, and the problems of fields it was kept without.
pub struct Checked {
    pub fact: Fact,
    pub location: Location,
    pub id: IdKey,
    pub issues: Vec<FieldProblem>,
}

/// A field the row was kept without (or with a repaired value).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldProblem {
    pub field: &'static str,
    pub value: String,
    pub reason: Reason,
    /// `ignored`, `imputed`, `repaired` or `placed_by_code`.
    pub action: &'static str,
    pub detail: String,
}

/// The checks of one kind, prepared for one source's mapping.
pub trait RowCheck: Send + Sync {
    fn spec(&self) -> &'static KindSpec;

    /// Checks one row: its facts, its location and the key it must be unique by within the
    /// source. Dimension values are looked up in `dicts` as they stand (`TO_INTERN` when new).
    /// `crs_nanos` adds up the time spent converting coordinates.
    fn check(&self, row: &RowRef<'_, '_>, ctx: &CheckContext<'_>, dicts: &Dictionaries, crs_nanos: &AtomicU64) -> Result<Checked, Problem>;

    /// Why a row whose key an earlier row of the source has is rejected; `first` names that
    /// row ("row 12", "row 3 of FILE").
    fn duplicate(&self, row: &RowRef<'_, '_>, first: &str) -> Problem;

    /// Numbers the dimension values a row brought that the dictionaries did not have yet.
    fn intern(&self, _fact: &mut Fact, _row: &RowRef<'_, '_>, _dicts: &mut Dictionaries) {}
}

/// A timestamp field of any kind: `Ok(None)` when empty, `Err(the value as written)` when it
/// matches none of `formats`.
pub(crate) fn stamp(
    v: crate::vocab::record::Value<'_>,
    formats: &[String],
    rules: crate::vocab::time::LocalRules,
) -> Result<Option<crate::vocab::time::Stamp>, String> {
    use crate::vocab::record::Value;
    use crate::vocab::time::{Stamp, date_stamp, local_stamp, parse_timestamp};
    let t = match v {
        Value::Null => return Ok(None),
        Value::Timestamp { ms, zoned: true } => Some(Stamp::at(ms)),
        Value::Timestamp { ms, zoned: false } => local_stamp(ms, rules),
        Value::Date(d) => date_stamp(d, rules),
        other => match other.text() {
            None => return Ok(None),
            Some(t) => parse_timestamp(&t, formats, rules),
        },
    };
    t.map(Some).ok_or_else(|| v.raw().unwrap_or_default())
}

/// A number field (a score, a rating, hours): `Ok(None)` when empty, `Err(the value as written)`
/// when it is not a finite number.
pub(crate) fn number(v: crate::vocab::record::Value<'_>) -> Result<Option<f64>, String> {
    use crate::vocab::record::Value;
    match v {
        Value::Null => Ok(None),
        Value::Int(n) => Ok(Some(n as f64)),
        Value::Float(x) if x.is_finite() => Ok(Some(x)),
        other => match other.text().map(|t| t.trim().parse::<f64>()) {
            None => Ok(None),
            Some(Ok(x)) if x.is_finite() => Ok(Some(x)),
            _ => Err(other.raw().unwrap_or_default()),
        },
    }
}

/// The row checks of a source's kind.
pub fn row_checks(src: &Source, mapping: &Mapping) -> Box<dyn RowCheck> {
    match src.kind {
        "signups" => Box::new(signups::Checks::new(src, mapping)),
        "whistles" => Box::new(whistles::Checks::new(src, mapping)),
        "service_orders" => Box::new(service_orders::Checks::new(src, mapping)),
        "member_roster" => Box::new(members::Checks::new(src, mapping, true)),
        "member_activities" => Box::new(members::Checks::new(src, mapping, false)),
        "facilities" => Box::new(facilities::Checks::new(src, mapping)),
        _ => Box::new(cases::Checks::new(src, mapping)),
    }
}

/// The spec of a kind by name.
pub fn spec(kind: &str) -> Option<&'static KindSpec> {
    SPECS.iter().copied().find(|s| s.name == kind)
}

/// A field's name as the kinds' specs spell it (`&'static`), if some kind has the field.
pub fn field_name(name: &str) -> Option<&'static str> {
    SPECS.iter().flat_map(|s| s.fields.iter()).map(|f| f.name).find(|f| *f == name)
}
