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

/// Where a case's due time came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueSource {
    /// The record's own due time.
    Given,
    /// The time-limit table (`indicators.time_limits`) from the receipt.
    Limits,
    /// `indicators.default_time_limit_hours` from the receipt.
    Default,
}

/// What a case says, once its row passed the checks. Times are UTC milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CaseFacts {
    pub received: i64,
    pub closed: Option<i64>,
    /// The closing time could not be read (or lies before the receipt): the case is left out
    /// of closure, disposal and handling time, and counted in everything else.
    pub closed_unknown: bool,
    /// The instant the case was due (a date-only due is the end of its day).
    pub due: i64,
    pub due_source: DueSource,
    /// The due time was extended (延期).
    pub extended: bool,
    pub disposed: Option<i64>,
    /// Whether disposal is known: the source maps `disposed_at` and the value was readable.
    pub disposal_known: bool,
    /// Times sent back for rework; `None` where the source does not say or the value was
    /// unreadable.
    pub reworks: Option<u16>,
    pub cancelled: bool,
    pub followup: Followup,
    /// A follow-up answer could not be read: the follow-up is left out of the three rates.
    pub followup_unknown: bool,
    /// Interned category, department and channel (`NO_VALUE` when empty).
    pub dims: [u32; 3],
}

impl CaseFacts {
    /// A case received at `received` with nothing else known (tests and tools).
    pub fn received_at(received: i64, due: i64) -> CaseFacts {
        CaseFacts {
            received,
            closed: None,
            closed_unknown: false,
            due,
            due_source: DueSource::Given,
            extended: false,
            disposed: None,
            disposal_known: false,
            reworks: None,
            cancelled: false,
            followup: Followup::NONE,
            followup_unknown: false,
            dims: [NO_VALUE; 3],
        }
    }
}

/// What a household sign-up row says (签约).
#[derive(Debug, Clone, PartialEq)]
pub struct SignupFacts {
    pub project_id: String,
    pub project_name: String,
    pub in_scope: bool,
    pub signed: Option<NaiveDate>,
}

/// The three types of whistle (哨): 日常哨, 攻坚哨, 应急哨.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum WhistleType {
    Daily = 0,
    Tackle = 1,
    Emergency = 2,
}

/// One summons of one department by one whistle (吹哨报到): a whistle summoning three
/// departments is three rows.
#[derive(Debug, Clone, PartialEq)]
pub struct WhistleFacts {
    pub whistle_id: String,
    pub whistle_type: WhistleType,
    pub whistled: i64,
    /// When the department was summoned (default: when the whistle was blown).
    pub summoned: i64,
    /// When it reported in (报到); `None`: it has not.
    pub reported: Option<i64>,
    /// When the whistle's problem was closed; `None`: open.
    pub closed: Option<i64>,
    /// The street's evaluation of the department, as the source scores it.
    pub evaluation: Option<f64>,
    pub department: String,
    /// Set while counting: this is the first row of its whistle (whistle-level counts are
    /// made once, on it).
    pub first: bool,
    /// The department's number (set while counting).
    pub dims: [u32; 1],
}

/// A resident's service order (居民点单—支部下单—党员接单): ordered by a resident, dispatched by
/// the community's party branch, accepted and completed by a party member, rated by the
/// resident.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderFacts {
    pub ordered: i64,
    pub dispatched: Option<i64>,
    pub accepted: Option<i64>,
    pub completed: Option<i64>,
    pub cancelled: bool,
    pub rating: Option<f64>,
    /// A hash of the member who accepted it (ids are never written out).
    pub member: Option<u64>,
}

/// An in-service party member on a community's roster (在职党员回社区报到).
#[derive(Debug, Clone, PartialEq)]
pub struct MemberFacts {
    /// A hash of the member id (ids are never written out).
    pub member: u64,
    pub organisation: String,
    pub registered: Option<NaiveDate>,
}

/// One service a member did in a community.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityFacts {
    pub member: u64,
    pub day: NaiveDate,
    pub hours: f64,
}

/// A service facility (便民服务设施); its point is the record's location.
#[derive(Debug, Clone, PartialEq)]
pub struct FacilityFacts {
    pub id: String,
    pub name: String,
    pub category: String,
}

/// The facts of a record, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    Case(CaseFacts),
    Signup(SignupFacts),
    Whistle(WhistleFacts),
    Order(OrderFacts),
    Member(MemberFacts),
    Activity(ActivityFacts),
    Facility(FacilityFacts),
}

impl Fact {
    /// Whether a dimension value of the record still needs its number (`TO_INTERN`).
    pub fn needs_interning(&self) -> bool {
        match self {
            Fact::Case(c) => c.dims.contains(&super::dictionary::TO_INTERN),
            _ => false,
        }
    }
}

/// Where a checked record is, before the join.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Location {
    /// A WGS84 point (already converted from the source's coordinate system).
    Point { lon: f64, lat: f64 },
    /// Placed by a grid, community or street code: the unit of that level it names;
    /// `fallback` when the record's coordinates were unusable and its code placed it.
    ByCode { level: Level, unit: u32, fallback: bool },
    /// Placed by its district, street and community names: the finest unit they name.
    ByName { level: Level, unit: u32, fallback: bool },
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
    /// Its point lies in the grid.
    Point,
    /// The code of a unit of this level, the record having no coordinates.
    Code(Level),
    /// The code of a unit of this level, the record's coordinates being unusable.
    CodeFallback(Level),
    /// The names, which named a unit of this level, the record having no coordinates.
    Name(Level),
    /// The names, the record's coordinates being unusable.
    NameFallback(Level),
}

impl How {
    /// `point`, `<level>_code`, `<level>_name`, or either with `_fallback`.
    pub fn as_str(self) -> &'static str {
        match self {
            How::Point => "point",
            How::Code(Level::Grid) => "grid_code",
            How::Code(Level::Community) => "community_code",
            How::Code(_) => "street_code",
            How::CodeFallback(Level::Grid) => "grid_code_fallback",
            How::CodeFallback(Level::Community) => "community_code_fallback",
            How::CodeFallback(_) => "street_code_fallback",
            How::Name(Level::Community) => "community_name",
            How::Name(Level::Street) => "street_name",
            How::Name(_) => "district_name",
            How::NameFallback(Level::Community) => "community_name_fallback",
            How::NameFallback(Level::Street) => "street_name_fallback",
            How::NameFallback(_) => "district_name_fallback",
        }
    }

    /// A number for the state of a partial run: the kind in the high bits, the level low.
    pub fn code(self) -> u8 {
        let (k, l) = match self {
            How::Point => return 0,
            How::Code(l) => (1, l),
            How::CodeFallback(l) => (2, l),
            How::Name(l) => (3, l),
            How::NameFallback(l) => (4, l),
        };
        k << 4 | l as u8
    }

    /// The `How` of a `code`.
    pub fn from_code(c: u8) -> Option<How> {
        let l = *Level::ALL.get((c & 0xf) as usize)?;
        Some(match c >> 4 {
            0 if c == 0 => How::Point,
            1 => How::Code(l),
            2 => How::CodeFallback(l),
            3 => How::Name(l),
            4 => How::NameFallback(l),
            _ => return None,
        })
    }

    /// The names `as_str` gives, each once (to read them back as `&'static str`).
    pub fn names() -> Vec<&'static str> {
        let mut v: Vec<&'static str> = (0..=0x43u8).filter_map(How::from_code).map(How::as_str).collect();
        v.sort_unstable();
        v.dedup();
        v
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
