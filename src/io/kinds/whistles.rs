//! Whistles (街乡吹哨、部门报到): a street or township "blows the whistle" on a problem it cannot
//! solve alone and summons city departments, which must report in and stay until it is solved.
//! One row per whistle and summoned department (long format): a whistle that summons three
//! departments is three rows with the same whistle id, unique by (whistle, department).

use std::sync::atomic::AtomicU64;

use super::cases::locate_row;
use super::{CheckContext, Checked, FieldProblem, Problem, RowCheck};
use crate::config::Source;
use crate::config::kind::{FieldSpec, KindSpec, Options, ValueGroup};
use crate::io::ids;
use crate::io::records::{Mapping, RowRef};
use crate::vocab::dictionary::Dictionaries;
use crate::vocab::reason::Reason;
use crate::vocab::record::{Fact, Value, WhistleFacts, WhistleType};
use crate::vocab::time::LocalRules;

const fn field(name: &'static str, required: bool, about: &'static str) -> FieldSpec {
    FieldSpec { name, required, about }
}

pub static SPEC: KindSpec = KindSpec {
    name: "whistles",
    key: "whistle_id",
    fields: &[
        field("whistle_id", true, "the whistle; one row per whistle and summoned department"),
        field("department", true, "the department summoned (报到部门)"),
        field("whistled_at", true, "when the whistle was blown"),
        field("whistle_type", false, "日常哨 / 攻坚哨 / 应急哨 (default 日常哨)"),
        field("category", false, "the problem's category"),
        field("summoned_at", false, "when the department was summoned (default: whistled_at)"),
        field("reported_at", false, "when it reported in (报到); empty: it has not"),
        field("closed_at", false, "when the whistle's problem was closed; empty: open"),
        field("evaluation", false, "the street's evaluation of the department (a number, e.g. 0–100)"),
        field("lon", false, "longitude in the source's crs"),
        field("lat", false, "latitude in the source's crs"),
        field("grid_code", false, "the grid, when there is no point"),
        field("community_code", false, "the community, when there is no point and no grid"),
        field("street_code", false, "the street, when there is no point, grid or community"),
        field("district_name", false, "the district's name, when there is no point and no code (placed by names)"),
        field("street_name", false, "the street's name, when there is no point and no code"),
        field("community_name", false, "the community's name, when there is no point and no code"),
    ],
    values: &[
        ValueGroup { name: "daily", builtin: &["日常哨", "日常", "daily"] },
        ValueGroup { name: "tackle", builtin: &["攻坚哨", "攻坚", "tackle"] },
        ValueGroup { name: "emergency", builtin: &["应急哨", "应急", "emergency"] },
    ],
    exclusive: &[("daily", "tackle"), ("daily", "emergency"), ("tackle", "emergency")],
    options: Options { crs: true, timestamps: true, dates: false },
    dimensions: &[],
    check: super::cases::check_mapping,
};

/// The checks of one whistle source.
pub struct Checks {
    src: Source,
    types: [Vec<String>; 3],
    whistle_id: Option<usize>,
    department: Option<usize>,
    whistled_at: Option<usize>,
    whistle_type: Option<usize>,
    summoned_at: Option<usize>,
    reported_at: Option<usize>,
    closed_at: Option<usize>,
    evaluation: Option<usize>,
    lon: Option<usize>,
    lat: Option<usize>,
    codes: [Option<usize>; 3],
    names: [Option<usize>; 3],
}

impl Checks {
    pub fn new(src: &Source, m: &Mapping) -> Checks {
        Checks {
            src: src.clone(),
            types: ["daily", "tackle", "emergency"].map(|g| src.values(g).to_vec()),
            whistle_id: m.slot("whistle_id"),
            department: m.slot("department"),
            whistled_at: m.slot("whistled_at"),
            whistle_type: m.slot("whistle_type"),
            summoned_at: m.slot("summoned_at"),
            reported_at: m.slot("reported_at"),
            closed_at: m.slot("closed_at"),
            evaluation: m.slot("evaluation"),
            lon: m.slot("lon"),
            lat: m.slot("lat"),
            codes: [m.slot("grid_code"), m.slot("community_code"), m.slot("street_code")],
            names: [m.slot("district_name"), m.slot("street_name"), m.slot("community_name")],
        }
    }

    /// A timestamp field, in ms: `Ok(None)` when empty, `Err(the value as written)` when unreadable.
    fn stamp(&self, r: &RowRef<'_, '_>, slot: Option<usize>, rules: LocalRules) -> Result<Option<i64>, String> {
        super::stamp(slot.map_or(Value::Null, |k| r.get(k)), &self.src.timestamp_formats, rules).map(|t| t.map(|t| t.ms))
    }
}

impl RowCheck for Checks {
    fn spec(&self) -> &'static KindSpec {
        &SPEC
    }

    fn check(&self, r: &RowRef<'_, '_>, ctx: &CheckContext<'_>, _: &Dictionaries, crs_nanos: &AtomicU64) -> Result<Checked, Problem> {
        let text = |slot: Option<usize>| slot.and_then(|k| r.get(k).text()).map(|t| t.into_owned());
        let Some(whistle_id) = text(self.whistle_id) else {
            return Err((Reason::MissingWhistleId, "whistle_id is empty".into()));
        };
        let Some(department) = text(self.department) else {
            return Err((Reason::MissingDepartment, "department is empty: a row is one department's summons".into()));
        };
        let extra = r.extra_fields();
        if extra > 0 {
            return Err((Reason::BadRow, format!("the row has {extra} non-empty field(s) more than the header: its columns are shifted")));
        }
        let rules = LocalRules { tz: self.src.time_zone, fold: ctx.fold, gap: ctx.gap };
        let unreadable = |field: &str, v: &str| format!("{field} {v:?} matches none of the timestamp formats");
        let whistled = match self.stamp(r, self.whistled_at, rules) {
            Ok(Some(t)) => t,
            Ok(None) => return Err((Reason::BadWhistledAt, "whistled_at is empty".into())),
            Err(v) => return Err((Reason::BadWhistledAt, unreadable("whistled_at", &v))),
        };
        let whistle_type = match text(self.whistle_type) {
            None => WhistleType::Daily,
            Some(t) => match self.types.iter().position(|g| g.iter().any(|s| s.eq_ignore_ascii_case(&t))) {
                Some(0) => WhistleType::Daily,
                Some(1) => WhistleType::Tackle,
                Some(_) => WhistleType::Emergency,
                None => {
                    return Err((
                        Reason::BadValue,
                        format!("whistle_type {t:?} is none of 日常哨, 攻坚哨, 应急哨 (values.daily/tackle/emergency)"),
                    ));
                }
            },
        };
        let mut issues = Vec::new();
        // A later time that cannot be read, or lies before the one it follows, is left out of
        // what it measures, and the row is kept.
        let mut later = |field: &'static str, slot: Option<usize>, after: i64, what: &str| -> Option<i64> {
            match self.stamp(r, slot, rules) {
                Ok(Some(t)) if t >= after => Some(t),
                Ok(Some(_)) => {
                    issues.push(FieldProblem {
                        field,
                        value: slot.map_or(Value::Null, |k| r.get(k)).raw().unwrap_or_default(),
                        reason: Reason::ClosedBeforeReceived,
                        action: "ignored",
                        detail: format!("{field} is before the whistle was blown or the department summoned; {what}"),
                    });
                    None
                }
                Ok(None) => None,
                Err(v) => {
                    issues.push(FieldProblem {
                        field,
                        detail: format!("{}; {what}", unreadable(field, &v)),
                        value: v,
                        reason: Reason::BadValue,
                        action: "ignored",
                    });
                    None
                }
            }
        };
        let summoned = later("summoned_at", self.summoned_at, whistled, "the whistle time is used").unwrap_or(whistled);
        let reported = later("reported_at", self.reported_at, summoned, "the department counts as not reported in");
        let closed = later("closed_at", self.closed_at, whistled, "the whistle counts as open");
        let evaluation = match super::number(self.evaluation.map_or(Value::Null, |k| r.get(k))) {
            Ok(x) => x,
            Err(value) => {
                issues.push(FieldProblem {
                    field: "evaluation",
                    detail: format!("evaluation {value:?} is not a number; left out of the mean evaluation"),
                    value,
                    reason: Reason::BadValue,
                    action: "ignored",
                });
                None
            }
        };
        let codes = self.codes.map(text);
        let names = self.names.map(text);
        let get = |slot: Option<usize>| slot.map_or(Value::Null, |k| r.get(k));
        let location = locate_row(
            &self.src,
            ctx,
            crs_nanos,
            get(self.lon),
            get(self.lat),
            [codes[0].as_deref(), codes[1].as_deref(), codes[2].as_deref()],
            [names[0].as_deref(), names[1].as_deref(), names[2].as_deref()],
            &mut issues,
        )?;
        let key = ids::key(&format!("{whistle_id}\u{1f}{department}"));
        let facts = WhistleFacts {
            whistle_id,
            whistle_type,
            whistled,
            summoned,
            reported,
            closed,
            evaluation,
            department,
            first: false,
            dims: [crate::vocab::dictionary::NO_VALUE],
        };
        Ok(Checked { fact: Fact::Whistle(facts), location, id: key, issues })
    }

    fn duplicate(&self, r: &RowRef<'_, '_>, first: &str) -> Problem {
        let text = |slot: Option<usize>| slot.and_then(|k| r.get(k).text()).map(|t| t.into_owned()).unwrap_or_default();
        (
            Reason::DuplicateWhistleSummons,
            format!(
                "whistle {:?} summons {:?} again ({first} has it); the first row is kept",
                text(self.whistle_id),
                text(self.department)
            ),
        )
    }
}
