//! Household sign-ups (签约) of renovation projects: one row per household of a project, with
//! its grid, whether it is in the project's scope and the day it signed (or none).

use chrono::NaiveDate;
use std::sync::atomic::AtomicU64;

use super::{CheckContext, Checked, Problem, RowCheck};
use crate::config::Source;
use crate::config::kind::{FieldSpec, KindSpec, Options, SourceCheck, ValueGroup};
use crate::io::ids;
use crate::io::records::{Mapping, RowRef};
use crate::vocab::dictionary::Dictionaries;
use crate::vocab::reason::Reason;
use crate::vocab::record::{Fact, Location, SignupFacts, Value};
use crate::vocab::time::{LocalRules, local_date, parse_timestamp};
use crate::vocab::units::Level;

pub static SPEC: KindSpec = KindSpec {
    name: "signups",
    key: "household_id",
    fields: &[
        FieldSpec { name: "household_id", required: true, about: "the household, unique within its project" },
        FieldSpec { name: "project_id", required: true, about: "the renovation project" },
        FieldSpec { name: "project_name", required: false, about: "the project's name (default: its id)" },
        FieldSpec { name: "grid_code", required: true, about: "the grid the household lives in" },
        FieldSpec { name: "in_scope", required: false, about: "whether it is in the project's scope (yes/no; default yes)" },
        FieldSpec { name: "signed_date", required: true, about: "the day it signed; empty if it has not" },
    ],
    values: &[
        ValueGroup { name: "yes", builtin: &["1", "是", "true", "yes", "y"] },
        ValueGroup { name: "no", builtin: &["0", "否", "false", "no", "n"] },
    ],
    exclusive: &[("yes", "no")],
    options: Options { crs: false, timestamps: true, dates: true },
    dimensions: &[],
    check: no_rules,
};

fn no_rules(_: &SourceCheck<'_>, _: &mut Vec<String>) {}

/// The checks of one sign-up source.
pub struct Checks {
    date_formats: Vec<String>,
    timestamp_formats: Vec<String>,
    time_zone: chrono_tz::Tz,
    yes: Vec<String>,
    no: Vec<String>,
    household_id: Option<usize>,
    project_id: Option<usize>,
    project_name: Option<usize>,
    grid_code: Option<usize>,
    in_scope: Option<usize>,
    signed_date: Option<usize>,
}

impl Checks {
    pub fn new(src: &Source, m: &Mapping) -> Checks {
        Checks {
            date_formats: src.date_formats.clone(),
            timestamp_formats: src.timestamp_formats.clone(),
            time_zone: src.time_zone,
            yes: src.values("yes").to_vec(),
            no: src.values("no").to_vec(),
            household_id: m.slot("household_id"),
            project_id: m.slot("project_id"),
            project_name: m.slot("project_name"),
            grid_code: m.slot("grid_code"),
            in_scope: m.slot("in_scope"),
            signed_date: m.slot("signed_date"),
        }
    }
}

fn text(r: &RowRef<'_, '_>, slot: Option<usize>) -> Option<String> {
    slot.and_then(|k| r.get(k).text()).map(|t| t.into_owned())
}

impl RowCheck for Checks {
    fn spec(&self) -> &'static KindSpec {
        &SPEC
    }

    fn check(&self, r: &RowRef<'_, '_>, ctx: &CheckContext<'_>, _: &Dictionaries, _: &AtomicU64) -> Result<Checked, Problem> {
        let Some(household) = text(r, self.household_id) else {
            return Err((Reason::MissingHouseholdId, "household_id is empty".into()));
        };
        let Some(project) = text(r, self.project_id) else {
            return Err((Reason::MissingProjectId, "project_id is empty".into()));
        };
        let in_scope = match text(r, self.in_scope) {
            None if self.in_scope.is_none() => true,
            None => return Err((Reason::BadValue, "in_scope is empty".into())),
            Some(s) if self.yes.iter().any(|y| y.eq_ignore_ascii_case(&s)) => true,
            Some(s) if self.no.iter().any(|y| y.eq_ignore_ascii_case(&s)) => false,
            Some(s) => return Err((Reason::BadValue, format!("in_scope {s:?} is neither yes (1/是/true) nor no (0/否/false)"))),
        };
        // A signing is a day where the city is: an instant (a zoned timestamp, or text with a
        // time) is read as its local date in the source's zone.
        let local_day = |ms: i64| local_date(ms, self.time_zone);
        let signed = match self.signed_date.map_or(Value::Null, |k| r.get(k)) {
            Value::Date(d) => NaiveDate::from_num_days_from_ce_opt(d + 719_163),
            Value::Timestamp { ms, zoned: true } => local_day(ms),
            Value::Timestamp { ms, zoned: false } => chrono::DateTime::from_timestamp_millis(ms).map(|t| t.date_naive()),
            v => match v.text() {
                None => None,
                Some(s) => {
                    let date = self.date_formats.iter().find_map(|f| NaiveDate::parse_from_str(&s, f).ok());
                    let rules = LocalRules::new(self.time_zone);
                    match date.or_else(|| parse_timestamp(&s, &self.timestamp_formats, rules).and_then(|t| local_day(t.ms))) {
                        Some(d) => Some(d),
                        None => {
                            return Err((
                                Reason::BadSignedDate,
                                format!("signed_date {s:?} matches none of the date or timestamp formats"),
                            ));
                        }
                    }
                }
            },
        };
        let Some(code) = text(r, self.grid_code) else {
            return Err((Reason::NoLocation, "grid_code is empty".into()));
        };
        let Some(grid) = ctx.hierarchy.find(Level::Grid, &code) else {
            return Err((Reason::UnknownGridCode, format!("grid code {code:?} is not in the grid layer")));
        };
        // A household is unique within its project: the key is the pair.
        let key = ids::key(&format!("{project}\u{1f}{household}"));
        let project_name = text(r, self.project_name).unwrap_or_else(|| project.clone());
        let facts = SignupFacts { project_id: project, project_name, in_scope, signed };
        let location = Location::ByCode { level: Level::Grid, unit: grid, fallback: false };
        Ok(Checked { fact: Fact::Signup(facts), location, id: key, issues: Vec::new() })
    }

    fn duplicate(&self, r: &RowRef<'_, '_>, _first: &str) -> Problem {
        let household = text(r, self.household_id).unwrap_or_default();
        let project = text(r, self.project_id).unwrap_or_default();
        (Reason::DuplicateHouseholdId, format!("household {household:?} appears twice in project {project:?}; the first row is kept"))
    }
}
