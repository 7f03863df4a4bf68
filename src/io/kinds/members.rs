//! In-service party members reporting to the communities they live in (在职党员回社区报到): the
//! roster (one row per member: employing organisation, residential community, registration
//! date) and the activity log (one row per member's service: date, community, hours, type).
//! Member ids are hashed as they are read and written nowhere (`records::PRIVATE_FIELDS`).

use std::sync::atomic::AtomicU64;

use chrono::NaiveDate;

use super::{CheckContext, Checked, FieldProblem, Problem, RowCheck};
use crate::config::Source;
use crate::config::kind::{FieldSpec, KindSpec, Options, SourceCheck};
use crate::io::ids;
use crate::io::records::{Mapping, RowRef};
use crate::vocab::dictionary::Dictionaries;
use crate::vocab::reason::Reason;
use crate::vocab::record::{ActivityFacts, Fact, Location, MemberFacts, Value};
use crate::vocab::time::{LocalRules, local_date, parse_timestamp};
use crate::vocab::units::Level;

const fn field(name: &'static str, required: bool, about: &'static str) -> FieldSpec {
    FieldSpec { name, required, about }
}

// The key shown in rejects.csv is the community, never the member.
pub static ROSTER: KindSpec = KindSpec {
    name: "member_roster",
    key: "community_code",
    fields: &[
        field("member_id", true, "the member (pseudonymous; hashed, never written out)"),
        field("organisation", false, "the member's employing organisation (单位)"),
        field("community_code", true, "the community the member lives in and reports to"),
        field("registered_date", false, "the day the member registered with it (default: before the period)"),
    ],
    values: &[],
    exclusive: &[],
    options: Options { crs: false, timestamps: true, dates: true },
    dimensions: &[],
    check: no_rules,
};

pub static ACTIVITIES: KindSpec = KindSpec {
    name: "member_activities",
    key: "community_code",
    fields: &[
        field("member_id", true, "the member (pseudonymous; hashed, never written out)"),
        field("date", true, "the day of the service"),
        field("community_code", true, "the community served"),
        field("hours", false, "hours of service (default 0)"),
        field("activity_type", false, "the kind of service"),
    ],
    values: &[],
    exclusive: &[],
    options: Options { crs: false, timestamps: true, dates: true },
    dimensions: &[],
    check: no_rules,
};

fn no_rules(_: &SourceCheck<'_>, _: &mut Vec<String>) {}

/// A date field: a date, a timestamp's local date, or text in the source's date or timestamp
/// formats; `Ok(None)` when empty, `Err(the value)` when unreadable.
fn date(src: &Source, v: Value<'_>) -> Result<Option<NaiveDate>, String> {
    let local = |ms: i64| local_date(ms, src.time_zone);
    match v {
        Value::Null => Ok(None),
        Value::Date(d) => Ok(NaiveDate::from_num_days_from_ce_opt(d + 719_163)),
        Value::Timestamp { ms, zoned: true } => Ok(local(ms)),
        Value::Timestamp { ms, zoned: false } => Ok(chrono::DateTime::from_timestamp_millis(ms).map(|t| t.date_naive())),
        other => match other.text() {
            None => Ok(None),
            Some(s) => src
                .date_formats
                .iter()
                .find_map(|f| NaiveDate::parse_from_str(&s, f).ok())
                .or_else(|| parse_timestamp(&s, &src.timestamp_formats, LocalRules::new(src.time_zone)).and_then(|t| local(t.ms)))
                .map(Some)
                .ok_or_else(|| s.to_string()),
        },
    }
}

/// The community a row names, as its location.
fn community(ctx: &CheckContext<'_>, code: Option<String>) -> Result<Location, Problem> {
    let Some(code) = code else {
        return Err((Reason::NoLocation, "community_code is empty".into()));
    };
    match ctx.hierarchy.find(Level::Community, &code) {
        Some(unit) => Ok(Location::ByCode { level: Level::Community, unit, fallback: false }),
        None => Err((Reason::UnknownCommunityCode, format!("community code {code:?} is not in the grid layer"))),
    }
}

/// The checks of a roster or activity source.
pub struct Checks {
    src: Source,
    roster: bool,
    slot: std::collections::HashMap<&'static str, usize>,
}

impl Checks {
    pub fn new(src: &Source, m: &Mapping, roster: bool) -> Checks {
        let spec = if roster { &ROSTER } else { &ACTIVITIES };
        let slot = spec.fields.iter().filter_map(|f| m.slot(f.name).map(|s| (f.name, s))).collect();
        Checks { src: src.clone(), roster, slot }
    }

    fn get<'r>(&self, r: &'r RowRef<'_, '_>, name: &str) -> Value<'r> {
        self.slot.get(name).map_or(Value::Null, |&k| r.get(k))
    }

    fn text(&self, r: &RowRef<'_, '_>, name: &str) -> Option<String> {
        self.get(r, name).text().map(|t| t.into_owned())
    }
}

impl RowCheck for Checks {
    fn spec(&self) -> &'static KindSpec {
        if self.roster { &ROSTER } else { &ACTIVITIES }
    }

    fn check(&self, r: &RowRef<'_, '_>, ctx: &CheckContext<'_>, _: &Dictionaries, _: &AtomicU64) -> Result<Checked, Problem> {
        let Some(member) = self.text(r, "member_id") else {
            return Err((Reason::MissingMemberId, "member_id is empty".into()));
        };
        let extra = r.extra_fields();
        if extra > 0 {
            return Err((Reason::BadRow, format!("the row has {extra} non-empty field(s) more than the header: its columns are shifted")));
        }
        let hash = ids::hash64(&member);
        let location = community(ctx, self.text(r, "community_code"))?;
        let mut issues = Vec::new();
        if self.roster {
            let registered = match date(&self.src, self.get(r, "registered_date")) {
                Ok(d) => d,
                Err(v) => {
                    issues.push(FieldProblem {
                        field: "registered_date",
                        detail: format!("registered_date {v:?} matches none of the date formats; the member counts as registered"),
                        value: v,
                        reason: Reason::BadValue,
                        action: "ignored",
                    });
                    None
                }
            };
            let facts = MemberFacts { member: hash, organisation: self.text(r, "organisation").unwrap_or_default(), registered };
            // One roster row per member.
            Ok(Checked { fact: Fact::Member(facts), location, id: ids::key(&member), issues })
        } else {
            let day = match date(&self.src, self.get(r, "date")) {
                Ok(Some(d)) => d,
                Ok(None) => return Err((Reason::BadActivityDate, "date is empty".into())),
                Err(v) => return Err((Reason::BadActivityDate, format!("date {v:?} matches none of the date or timestamp formats"))),
            };
            let hours = match self.get(r, "hours") {
                Value::Null => 0.0,
                Value::Int(n) if n >= 0 => n as f64,
                Value::Float(x) if x >= 0.0 && x.is_finite() => x,
                v => match v.text().map(|t| t.trim().parse::<f64>()) {
                    None => 0.0,
                    Some(Ok(x)) if x >= 0.0 && x.is_finite() => x,
                    _ => {
                        let value = v.raw().unwrap_or_default();
                        issues.push(FieldProblem {
                            field: "hours",
                            detail: format!("hours {value:?} is not a number of hours ≥ 0; the activity counts with 0 hours"),
                            value,
                            reason: Reason::BadValue,
                            action: "ignored",
                        });
                        0.0
                    }
                },
            };
            // An activity is unique by member, day, community and type (a repeated row is one
            // service entered twice).
            let key = format!(
                "{member}\u{1f}{day}\u{1f}{}\u{1f}{}",
                self.text(r, "community_code").unwrap_or_default(),
                self.text(r, "activity_type").unwrap_or_default()
            );
            let facts = ActivityFacts { member: hash, day, hours };
            Ok(Checked { fact: Fact::Activity(facts), location, id: ids::key(&key), issues })
        }
    }

    fn duplicate(&self, _: &RowRef<'_, '_>, first: &str) -> Problem {
        if self.roster {
            (Reason::DuplicateMember, format!("the member is on the roster already ({first}); the first row is kept"))
        } else {
            (Reason::DuplicateActivity, format!("the same member, day, community and type as {first}; the first row is kept"))
        }
    }
}
