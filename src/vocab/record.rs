//! The record model: a field's value as a reader hands it on, the facts each record kind yields
//! once its row passed the checks, where a record is, and where the join placed it.
//!
//! Readers (`io`) make these, the join places them, indicator families count them: none of
//! those stages needs to know another's types.

use chrono::NaiveDate;
use std::borrow::Cow;

use super::units::Level;

/// One field of one row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Null,
    Text(&'a str),
    Float(f64),
    Int(i64),
    Bool(bool),
    /// A timestamp column: milliseconds since the epoch, of a UTC instant when `zoned`, else of
    /// a wall-clock time without zone (read in the source's time zone).
    Timestamp {
        ms: i64,
        zoned: bool,
    },
    /// A date column: days since 1970-01-01.
    Date(i32),
}

impl<'a> Value<'a> {
    /// Trimmed text of the value; `None` for null and blank text.
    pub fn text(&self) -> Option<Cow<'a, str>> {
        match *self {
            Value::Null => None,
            Value::Text(s) => Some(s.trim()).filter(|s| !s.is_empty()).map(Cow::Borrowed),
            _ => self.raw().map(Cow::Owned),
        }
    }

    /// The value as the user sees it in the file (for the quarantine's raw fields); `None` for
    /// null and empty text.
    pub fn raw(&self) -> Option<String> {
        match *self {
            Value::Null => None,
            Value::Text(s) => (!s.is_empty()).then(|| s.to_string()),
            // `{:?}` keeps the decimal point of a whole number (0.0), as readers show it.
            Value::Float(v) => Some(format!("{v:?}")),
            Value::Int(v) => Some(v.to_string()),
            Value::Bool(v) => Some(v.to_string()),
            Value::Timestamp { ms, zoned } => chrono::DateTime::from_timestamp_millis(ms).map(|t| {
                let f = if ms % 1000 == 0 { "%Y-%m-%d %H:%M:%S" } else { "%Y-%m-%d %H:%M:%S%.3f" };
                let s = t.naive_utc().format(f).to_string();
                if zoned { s + "Z" } else { s }
            }),
            Value::Date(d) => chrono::DateTime::from_timestamp(d as i64 * 86_400, 0).map(|t| t.date_naive().to_string()),
        }
    }
}

/// Answer to the satisfaction question of a follow-up call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Satisfaction {
    None,
    Satisfied,
    Basic,
    Unsatisfied,
}

/// Follow-up (回访) of one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Followup {
    /// Counts in the denominators of the three rates.
    pub valid: bool,
    pub contacted: bool,
    pub resolved: bool,
    pub satisfaction: Satisfaction,
}

impl Followup {
    /// No valid follow-up.
    pub const NONE: Followup = Followup { valid: false, contacted: false, resolved: false, satisfaction: Satisfaction::None };
}

/// Dimension value meaning "empty" (see `dictionary::Interner`).
pub use super::dictionary::NO_VALUE;

/// What a case says, once its row passed the checks. Times are UTC milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CaseFacts {
    pub received: i64,
    pub closed: Option<i64>,
    /// Due time: the file's, or received + the default time limit.
    pub due: i64,
    pub cancelled: bool,
    pub followup: Followup,
    /// Interned category, department and channel (`NO_VALUE` when empty).
    pub dims: [u32; 3],
}

/// What a household sign-up row says (签约).
#[derive(Debug, Clone, PartialEq)]
pub struct SignupFacts {
    pub project_id: String,
    pub project_name: String,
    pub in_scope: bool,
    pub signed: Option<NaiveDate>,
}

/// The facts of a record, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    Case(CaseFacts),
    Signup(SignupFacts),
}

impl Fact {
    /// Whether a dimension value of the record still needs its number (`TO_INTERN`).
    pub fn needs_interning(&self) -> bool {
        match self {
            Fact::Case(c) => c.dims.contains(&super::dictionary::TO_INTERN),
            Fact::Signup(_) => false,
        }
    }
}

/// Where a checked record is, before the join.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Location {
    /// A WGS84 point (already converted from the source's coordinate system).
    Point { lon: f64, lat: f64 },
    /// Placed by a grid, community or street code: the unit of that level it names.
    ByCode(Level, u32),
}

/// A row that passed its kind's checks.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub fact: Fact,
    pub location: Location,
}

/// How a record was placed in a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum How {
    Point,
    GridCode,
    CommunityCode,
    StreetCode,
}

impl How {
    pub fn as_str(self) -> &'static str {
        match self {
            How::Point => "point",
            How::GridCode => "grid_code",
            How::CommunityCode => "community_code",
            How::StreetCode => "street_code",
        }
    }

    /// Placed by the code of a unit of `level`.
    pub fn by_code(level: Level) -> How {
        match level {
            Level::Grid => How::GridCode,
            Level::Community => How::CommunityCode,
            _ => How::StreetCode,
        }
    }
}

/// Where the join put one row of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placed {
    /// In a unit: its level and index, and how it got there. The unit is the record's home:
    /// it counts there and in every unit above.
    Home { level: Level, unit: u32, how: How },
    /// A point in no grid's closed area.
    Outside,
    /// A point on a boundary of several grids, with `boundary_rule = "reject"`.
    Ambiguous,
    /// The row did not pass its checks (it is in the quarantine already).
    Rejected,
}
