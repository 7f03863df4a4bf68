//! Cases (案件 / 工单 / 诉求): a hotline export, an inspectors' system, an app. One row per
//! case: its id, times, state, follow-up answers and location (a point, or a grid, community
//! or street code).

use std::sync::atomic::{AtomicU64, Ordering};

use super::{CheckContext, Checked, FieldProblem, Problem, RowCheck};
use crate::config::Source;
use crate::config::kind::{FieldSpec, KindSpec, Options, SourceCheck, ValueGroup};
use crate::io::ids;
use crate::io::records::{Mapping, RowRef};
use crate::vocab::calendar::Limit;
use crate::vocab::dictionary::{Dictionaries, NO_VALUE, TO_INTERN};
use crate::vocab::reason::Reason;
use crate::vocab::record::{CaseFacts, DueSource, Fact, Followup, Location, Satisfaction, Value};
use crate::vocab::time::{LocalRules, Stamp, end_of_local_day};
use crate::vocab::units::Level;

const fn field(name: &'static str, required: bool, about: &'static str) -> FieldSpec {
    FieldSpec { name, required, about }
}

/// The dimensions cases are also tabulated by, in `CaseFacts::dims` order.
pub const DIMENSIONS: [&str; 3] = ["category", "department", "channel"];

pub static SPEC: KindSpec = KindSpec {
    name: "cases",
    key: "case_id",
    fields: &[
        field("case_id", true, "the case id, unique in the source"),
        field("received_at", true, "when the case was received"),
        field("closed_at", false, "when it was closed"),
        field("due_at", false, "its due time (default: received + indicators.default_time_limit_hours)"),
        field("extended_due_at", false, "a new due time after an extension (延期)"),
        field("extension", false, "extra time granted (延期): `48h`, `16wh`, `3wd` or hours"),
        field("urgency", false, "its urgency, a key of indicators.time_limits"),
        field("disposed_at", false, "when it was disposed of (处置)"),
        field("rework_count", false, "how many times it was sent back for rework (返工)"),
        field("status", false, "its status (see values.cancelled_status)"),
        field("channel", false, "the channel it came in through"),
        field("category", false, "its first-level category"),
        field("subcategory", false, "its second-level category"),
        field("department", false, "the department that handled it"),
        field("lon", false, "longitude in the source's crs"),
        field("lat", false, "latitude in the source's crs"),
        field("grid_code", false, "the grid it belongs to, when it has no point"),
        field("community_code", false, "the community, when it has no point and no grid"),
        field("street_code", false, "the street, when it has no point, grid or community"),
        field("district_name", false, "the district's name, when it has no point and no code (placed by names)"),
        field("street_name", false, "the street's name (街道 / 乡 / 镇 / 地区), when it has no point and no code"),
        field("community_name", false, "the community's name (社区 / 村), when it has no point and no code"),
        field("followup_valid", false, "whether the follow-up call counts (回访有效)"),
        field("contacted", false, "follow-up: contacted (yes/no)"),
        field("resolved", false, "follow-up: resolved (yes/no)"),
        field("satisfaction", false, "follow-up: 满意 / 基本满意 / 不满意"),
    ],
    values: &[
        ValueGroup { name: "cancelled_status", builtin: &[] },
        ValueGroup { name: "yes", builtin: &["是", "1", "true", "yes", "y", "已解决", "已联系", "解决", "联系"] },
        ValueGroup { name: "no", builtin: &["否", "0", "false", "no", "n", "未解决", "未联系"] },
        ValueGroup { name: "satisfied", builtin: &["满意", "satisfied"] },
        ValueGroup { name: "basically_satisfied", builtin: &["基本满意", "basically_satisfied"] },
        ValueGroup { name: "unsatisfied", builtin: &["不满意", "unsatisfied"] },
    ],
    // yes/no are one question and the three satisfaction answers another: a spelling may not
    // mean two answers to the same question.
    exclusive: &[("yes", "no"), ("satisfied", "basically_satisfied"), ("satisfied", "unsatisfied"), ("basically_satisfied", "unsatisfied")],
    options: Options { crs: true, timestamps: true, dates: false },
    dimensions: &DIMENSIONS,
    check: check_mapping,
};

/// A case (and any kind placed like one) needs a location: both coordinates, or a code of a
/// level the layer has.
pub(super) fn check_mapping(s: &SourceCheck<'_>, problems: &mut Vec<String>) {
    let (key, cols, gp) = (s.key, s.columns, s.grid_properties);
    let has = |f: &str| cols.contains_key(f);
    if has("lon") != has("lat") {
        problems.push(format!("{key}.columns: map both `lon` and `lat`, or neither"));
    }
    let names = has("district_name") || has("street_name") || has("community_name");
    if !has("lon") && !has("grid_code") && !has("community_code") && !has("street_code") && !names {
        problems.push(format!(
            "{key}.columns: no location: map lon/lat, a grid, community or street code, or district / street / community names"
        ));
    }
    for (field, level, prop) in [
        ("community_name", "community", &gp.community_code),
        ("street_name", "street", &gp.street_code),
        ("district_name", "district", &gp.district_code),
    ] {
        if has(field) && prop.is_none() {
            problems.push(format!(
                "{key}.columns.{field}: the grid layer has no {level} level (grids.properties.{level}_code or {level}_name)"
            ));
        }
    }
    if has("community_code") && gp.community_code.is_none() {
        problems.push(format!("{key}.columns.community_code: the grid layer has no community level (grids.properties.community_code)"));
    }
    if has("street_code") && gp.street_code.is_none() {
        problems.push(format!("{key}.columns.street_code: the grid layer has no street level (grids.properties.street_code)"));
    }
}

/// The slots of the fields the checks read (`None`: not mapped).
struct Slots {
    case_id: Option<usize>,
    received_at: Option<usize>,
    closed_at: Option<usize>,
    due_at: Option<usize>,
    extended_due_at: Option<usize>,
    extension: Option<usize>,
    urgency: Option<usize>,
    subcategory: Option<usize>,
    disposed_at: Option<usize>,
    rework_count: Option<usize>,
    status: Option<usize>,
    lon: Option<usize>,
    lat: Option<usize>,
    grid_code: Option<usize>,
    community_code: Option<usize>,
    street_code: Option<usize>,
    names: [Option<usize>; 3],
    followup_valid: Option<usize>,
    contacted: Option<usize>,
    resolved: Option<usize>,
    satisfaction: Option<usize>,
    dims: [Option<usize>; 3],
}

/// Resolved spellings of a source's coded values.
struct Values {
    cancelled_status: Vec<String>,
    yes: Vec<String>,
    no: Vec<String>,
    satisfied: Vec<String>,
    basically_satisfied: Vec<String>,
    unsatisfied: Vec<String>,
}

/// The checks of one case source.
pub struct Checks {
    src: Source,
    s: Slots,
    v: Values,
}

impl Checks {
    pub fn new(src: &Source, m: &Mapping) -> Checks {
        let s = Slots {
            case_id: m.slot("case_id"),
            received_at: m.slot("received_at"),
            closed_at: m.slot("closed_at"),
            due_at: m.slot("due_at"),
            extended_due_at: m.slot("extended_due_at"),
            extension: m.slot("extension"),
            urgency: m.slot("urgency"),
            subcategory: m.slot("subcategory"),
            disposed_at: m.slot("disposed_at"),
            rework_count: m.slot("rework_count"),
            status: m.slot("status"),
            lon: m.slot("lon"),
            lat: m.slot("lat"),
            grid_code: m.slot("grid_code"),
            community_code: m.slot("community_code"),
            street_code: m.slot("street_code"),
            names: [m.slot("district_name"), m.slot("street_name"), m.slot("community_name")],
            followup_valid: m.slot("followup_valid"),
            contacted: m.slot("contacted"),
            resolved: m.slot("resolved"),
            satisfaction: m.slot("satisfaction"),
            dims: DIMENSIONS.map(|d| m.slot(d)),
        };
        let g = |name: &str| src.values(name).to_vec();
        let v = Values {
            cancelled_status: g("cancelled_status"),
            yes: g("yes"),
            no: g("no"),
            satisfied: g("satisfied"),
            basically_satisfied: g("basically_satisfied"),
            unsatisfied: g("unsatisfied"),
        };
        Checks { src: src.clone(), s, v }
    }
}

impl RowCheck for Checks {
    fn spec(&self) -> &'static KindSpec {
        &SPEC
    }

    fn check(&self, r: &RowRef<'_, '_>, ctx: &CheckContext<'_>, dicts: &Dictionaries, crs_nanos: &AtomicU64) -> Result<Checked, Problem> {
        let (src, s) = (&self.src, &self.s);
        let Some(id) = s.case_id.and_then(|k| r.get(k).text()) else {
            return Err((Reason::MissingCaseId, "case_id is empty".into()));
        };
        let get = |slot: Option<usize>| slot.map_or(Value::Null, |k| r.get(k));
        let text = |slot: Option<usize>| slot.and_then(|k| r.get(k).text());
        let extra = r.extra_fields();
        if extra > 0 {
            return Err((Reason::BadRow, format!("the row has {extra} non-empty field(s) more than the header: its columns are shifted")));
        }
        let rules = LocalRules { tz: src.time_zone, fold: ctx.fold, gap: ctx.gap };
        let mut issues = Vec::new();
        let time = |slot: Option<usize>| self.stamp(r, slot, rules);
        let unreadable = |field: &str, v: &str| format!("{field} {v:?} matches none of the timestamp formats");
        let received = match time(s.received_at) {
            Ok(Some(t)) => t,
            Ok(None) => return Err((Reason::BadReceivedAt, "received_at is empty".into())),
            Err(v) => return Err((Reason::BadReceivedAt, unreadable("received_at", &v))),
        };
        let mut closed_unknown = false;
        let closed = match time(s.closed_at) {
            Ok(c) => c,
            Err(v) => {
                issues.push(FieldProblem {
                    field: "closed_at",
                    detail: unreadable("closed_at", &v) + "; the case is left out of closure, disposal and handling time",
                    value: v,
                    reason: Reason::BadClosedAt,
                    action: "ignored",
                });
                closed_unknown = true;
                None
            }
        };
        // In a DST fold a local time has two readings: take the rules' unless it puts the
        // closing before the receipt and another reading does not.
        let (received_ms, closed_ms) = order(received, closed);
        let closed_ms = match closed_ms {
            Some(c) if c < received_ms => {
                issues.push(FieldProblem {
                    field: "closed_at",
                    value: get(s.closed_at).raw().unwrap_or_default(),
                    reason: Reason::ClosedBeforeReceived,
                    action: "ignored",
                    detail: format!(
                        "closed {} h before it was received; the case is left out of closure, disposal and handling time",
                        fmt_hours(received_ms - c)
                    ),
                });
                closed_unknown = true;
                None
            }
            c => c,
        };
        let (due, due_source, extended) = self.due(r, ctx, rules, received_ms, &mut issues);
        let disposed = match time(s.disposed_at) {
            Ok(d) => Some(d.map(|d| d.ms)),
            Err(v) => {
                issues.push(FieldProblem {
                    field: "disposed_at",
                    detail: unreadable("disposed_at", &v) + "; the case is left out of disposal",
                    value: v,
                    reason: Reason::BadValue,
                    action: "ignored",
                });
                None
            }
        };
        let reworks = match s.rework_count.map(|k| r.get(k)) {
            None => None,
            Some(v) => match count_value(v) {
                Ok(n) => Some(n),
                Err(value) => {
                    issues.push(FieldProblem {
                        field: "rework_count",
                        detail: format!("rework_count {value:?} is not a count; the case is left out of the rework rate"),
                        value,
                        reason: Reason::BadValue,
                        action: "ignored",
                    });
                    None
                }
            },
        };
        let cancelled = text(s.status).is_some_and(|st| self.v.cancelled_status.iter().any(|c| *c == *st));
        let (followup, followup_unknown) = match parse_followup(
            &self.v,
            text(s.followup_valid).as_deref(),
            text(s.contacted).as_deref(),
            text(s.resolved).as_deref(),
            text(s.satisfaction).as_deref(),
            s.followup_valid.is_some(),
        ) {
            Ok(f) => (f, false),
            Err((field, value, detail)) => {
                issues.push(FieldProblem {
                    field,
                    value,
                    reason: Reason::BadValue,
                    action: "ignored",
                    detail: detail + "; the follow-up is left out of the three rates",
                });
                (Followup::NONE, true)
            }
        };
        let names = s.names.map(text);
        let location = locate_row(
            src,
            ctx,
            crs_nanos,
            get(s.lon),
            get(s.lat),
            [text(s.grid_code).as_deref(), text(s.community_code).as_deref(), text(s.street_code).as_deref()],
            [names[0].as_deref(), names[1].as_deref(), names[2].as_deref()],
            &mut issues,
        )?;
        let mut dims = [NO_VALUE; 3];
        for (d, slot) in s.dims.iter().enumerate() {
            if let Some(t) = text(*slot) {
                dims[d] = dicts.dims.get(d).and_then(|i| i.find(&t)).unwrap_or(TO_INTERN);
            }
        }
        let facts = CaseFacts {
            received: received_ms,
            closed: closed_ms,
            closed_unknown,
            due,
            due_source,
            extended,
            disposed: disposed.flatten(),
            disposal_known: s.disposed_at.is_some() && disposed.is_some() && !closed_unknown,
            reworks,
            cancelled,
            followup,
            followup_unknown,
            dims,
        };
        Ok(Checked { fact: Fact::Case(facts), location, id: ids::key(&id), issues })
    }

    fn duplicate(&self, _row: &RowRef<'_, '_>, first: &str) -> Problem {
        (Reason::DuplicateCaseId, format!("case_id already used by {first}; the first row is kept"))
    }

    fn intern(&self, fact: &mut Fact, r: &RowRef<'_, '_>, dicts: &mut Dictionaries) {
        let Fact::Case(c) = fact else { return };
        for (d, slot) in self.s.dims.iter().enumerate() {
            if c.dims[d] == TO_INTERN {
                let text = slot.and_then(|k| r.get(k).text().map(|t| t.into_owned()));
                if let Some(i) = dicts.dims.get_mut(d) {
                    c.dims[d] = i.intern(text.as_deref());
                }
            }
        }
    }
}

impl Checks {
    /// A timestamp field: `Ok(None)` when empty, `Err(the value as written)` when unreadable.
    fn stamp(&self, r: &RowRef<'_, '_>, slot: Option<usize>, rules: LocalRules) -> Result<Option<Stamp>, String> {
        super::stamp(slot.map_or(Value::Null, |k| r.get(k)), &self.src.timestamp_formats, rules)
    }

    /// The due time of a case received at `received`: the record's own (a date alone means
    /// the end of that day), else the time-limit table's, else the default limit; then any
    /// extension (a new due time, or extra time added to the due time).
    fn due(
        &self,
        r: &RowRef<'_, '_>,
        ctx: &CheckContext<'_>,
        rules: LocalRules,
        received: i64,
        issues: &mut Vec<FieldProblem>,
    ) -> (i64, DueSource, bool) {
        let s = &self.s;
        let end = |t: Stamp| if t.date_only { end_of_local_day(t.ms, rules.tz) } else { t.ms };
        let given = match self.stamp(r, s.due_at, rules) {
            Ok(t) => t.map(end),
            Err(v) => {
                issues.push(FieldProblem {
                    field: "due_at",
                    detail: format!("due_at {v:?} matches none of the timestamp formats; the due time is imputed"),
                    value: v,
                    reason: Reason::BadDueAt,
                    action: "imputed",
                });
                None
            }
        };
        let text = |slot: Option<usize>| slot.and_then(|k| r.get(k).text());
        let (mut due, source) = match given {
            Some(d) => (d, DueSource::Given),
            None => {
                let (c, sc, u) = (text(s.dims[0]), text(s.subcategory), text(s.urgency));
                match ctx.time_limits.find(c.as_deref(), sc.as_deref(), u.as_deref()) {
                    Some(limit) => (ctx.calendar.due(received, limit), DueSource::Limits),
                    None => (received + ctx.default_time_limit_ms, DueSource::Default),
                }
            }
        };
        let mut extended = false;
        match self.stamp(r, s.extended_due_at, rules) {
            Ok(Some(t)) => {
                due = end(t);
                extended = true;
            }
            Ok(None) => {}
            Err(v) => issues.push(FieldProblem {
                field: "extended_due_at",
                detail: format!("extended_due_at {v:?} matches none of the timestamp formats; no extension is counted"),
                value: v,
                reason: Reason::BadDueAt,
                action: "ignored",
            }),
        }
        if let Some(x) = text(s.extension) {
            match Limit::parse(&x) {
                // A new due time wins over extra time; no extra time is no extension.
                Some(Limit::Hours(h)) if h == 0.0 => {}
                Some(_) if extended => {}
                Some(limit) => {
                    due = ctx.calendar.due(due, limit);
                    extended = true;
                }
                None => issues.push(FieldProblem {
                    field: "extension",
                    detail: format!("extension {x:?} is not a time (`48h`, `16wh`, `3wd` or hours); no extension is counted"),
                    value: x.into_owned(),
                    reason: Reason::BadValue,
                    action: "ignored",
                }),
            }
        }
        (due, source, extended)
    }
}

/// Receipt and closing as instants: each by the zone's rules, except in a DST fold where the
/// rules' reading would put the closing before the receipt and another reading does not.
fn order(received: Stamp, closed: Option<Stamp>) -> (i64, Option<i64>) {
    let Some(c) = closed else { return (received.ms, None) };
    let (r2, c2) = (received.other.unwrap_or(received.ms), c.other.unwrap_or(c.ms));
    let readings = [(received.ms, c.ms), (received.ms, c2), (r2, c.ms), (r2, c2)];
    let (r, c) = readings.into_iter().find(|(r, c)| c >= r).unwrap_or((received.ms, c.ms));
    (r, Some(c))
}

/// A count field (rework): a whole number ≥ 0; empty is 0.
fn count_value(v: Value<'_>) -> Result<u16, String> {
    match v {
        Value::Null => Ok(0),
        Value::Int(n) if (0..=u16::MAX as i64).contains(&n) => Ok(n as u16),
        Value::Float(x) if x >= 0.0 && x.fract() == 0.0 && x <= u16::MAX as f64 => Ok(x as u16),
        Value::Text(t) if t.trim().is_empty() => Ok(0),
        Value::Text(t) => t.trim().parse::<u16>().map_err(|_| t.to_string()),
        other => Err(other.raw().unwrap_or_default()),
    }
}

fn fmt_hours(ms: i64) -> String {
    format!("{:.1}", ms as f64 / 3_600_000.0)
}

fn parse_followup(
    v: &Values,
    valid: Option<&str>,
    contacted: Option<&str>,
    resolved: Option<&str>,
    satisfaction: Option<&str>,
    has_valid_column: bool,
) -> Result<Followup, (&'static str, String, String)> {
    let yes_no = |field: &'static str, s: Option<&str>| -> Result<Option<bool>, (&'static str, String, String)> {
        match s {
            None => Ok(None),
            Some(s) if v.yes.iter().any(|y| y.eq_ignore_ascii_case(s)) => Ok(Some(true)),
            Some(s) if v.no.iter().any(|y| y.eq_ignore_ascii_case(s)) => Ok(Some(false)),
            Some(s) => Err((
                field,
                s.to_string(),
                format!("{field} {s:?} is neither a yes nor a no spelling (add it under values.yes / values.no)"),
            )),
        }
    };
    let valid_v = yes_no("followup_valid", valid)?;
    let c = yes_no("contacted", contacted)?;
    let r = yes_no("resolved", resolved)?;
    let sat = match satisfaction {
        None => Satisfaction::None,
        Some(s) if v.satisfied.iter().any(|x| x.eq_ignore_ascii_case(s)) => Satisfaction::Satisfied,
        Some(s) if v.basically_satisfied.iter().any(|x| x.eq_ignore_ascii_case(s)) => Satisfaction::Basic,
        Some(s) if v.unsatisfied.iter().any(|x| x.eq_ignore_ascii_case(s)) => Satisfaction::Unsatisfied,
        Some(s) => {
            return Err((
                "satisfaction",
                s.to_string(),
                format!("satisfaction {s:?} is not a known answer (add it under values.satisfied / basically_satisfied / unsatisfied)"),
            ));
        }
    };
    let valid = if has_valid_column { valid_v == Some(true) } else { c.is_some() || r.is_some() || sat != Satisfaction::None };
    Ok(Followup {
        valid,
        contacted: valid && c == Some(true),
        resolved: valid && r == Some(true),
        satisfaction: if valid { sat } else { Satisfaction::None },
    })
}

/// A coordinate field: `None` when empty, `Err` when it is not a number.
fn coordinate(v: Value<'_>) -> Option<Result<f64, ()>> {
    match v {
        Value::Null => None,
        Value::Float(x) => Some(Ok(x)),
        Value::Int(x) => Some(Ok(x as f64)),
        Value::Text(s) => {
            let t = s.trim();
            (!t.is_empty()).then(|| t.parse::<f64>().map_err(|_| ()))
        }
        _ => Some(Err(())),
    }
}

/// Places one row: by its point; by its grid, community or street code when it has no
/// coordinates, else by its district / street / community names (`vocab::names`); and by its
/// code or names when its coordinates are unusable (a field issue: the coordinates are
/// ignored). Swapped coordinates are swapped back when `quality.repair_swapped_coordinates`
/// is on (a field issue too).
#[allow(clippy::too_many_arguments)]
pub(super) fn locate_row(
    src: &Source,
    ctx: &CheckContext<'_>,
    crs_nanos: &AtomicU64,
    lon: Value<'_>,
    lat: Value<'_>,
    codes: [Option<&str>; 3],
    names: [Option<&str>; 3],
    issues: &mut Vec<FieldProblem>,
) -> Result<Location, Problem> {
    let by_code = |fallback: bool| -> Option<Result<Location, Problem>> {
        if codes.iter().all(Option::is_none) {
            let index = ctx.names?;
            return match index.place(ctx.hierarchy, names[0], names[1], names[2]) {
                Ok(None) => None,
                Ok(Some((level, unit))) => Some(Ok(Location::ByName { level, unit, fallback })),
                Err(crate::vocab::names::Miss::Unknown(d)) => Some(Err((Reason::UnknownName, d))),
                Err(crate::vocab::names::Miss::Ambiguous(d)) => Some(Err((Reason::AmbiguousName, d))),
            };
        }
        for (level, code, reason) in [
            (Level::Grid, codes[0], Reason::UnknownGridCode),
            (Level::Community, codes[1], Reason::UnknownCommunityCode),
            (Level::Street, codes[2], Reason::UnknownStreetCode),
        ] {
            let Some(code) = code else { continue };
            return Some(match ctx.hierarchy.find(level, code) {
                Some(unit) => Ok(Location::ByCode { level, unit, fallback }),
                None => Err((reason, format!("{} code {code:?} is not in the grid layer", level.as_str()))),
            });
        }
        None
    };
    let point = match (coordinate(lon), coordinate(lat)) {
        (None, None) => {
            return match by_code(false) {
                Some(Ok(l)) => Ok(l),
                Some(Err((reason, detail))) => Err((reason, format!("no coordinates, and {detail}"))),
                None if ctx.names.is_some() => {
                    Err((Reason::NoLocation, "no coordinates, no grid, community or street code and no names".into()))
                }
                None => Err((Reason::NoLocation, "no coordinates and no grid, community or street code".into())),
            };
        }
        (Some(x), Some(y)) => check_point(src, ctx, crs_nanos, x, y, lon, lat),
        (Some(_), None) | (None, Some(_)) => {
            Err((Reason::BadCoordinate, format!("only one of lon/lat is given (lon {:?}, lat {:?})", lon.raw(), lat.raw())))
        }
    };
    let shown = format!("{} / {}", lon.raw().unwrap_or_default(), lat.raw().unwrap_or_default());
    match point {
        Ok((location, None)) => Ok(location),
        Ok((location, Some(detail))) => {
            issues.push(FieldProblem { field: "lon", value: shown, reason: Reason::SwappedCoordinates, action: "repaired", detail });
            Ok(location)
        }
        // Unusable coordinates: the code places the case, if it has one that the layer knows.
        Err((reason, detail)) => match by_code(true) {
            Some(Ok(location)) => {
                let detail = format!("{detail}; placed by its code instead");
                issues.push(FieldProblem { field: "lon", value: shown, reason, action: "placed_by_code", detail });
                Ok(location)
            }
            Some(Err((_, code_detail))) => Err((reason, format!("{detail}; and {code_detail}"))),
            None => Err((reason, detail)),
        },
    }
}

/// Checks a pair of coordinates; the WGS84 point, and the detail of a swap when it was
/// swapped back.
fn check_point(
    src: &Source,
    ctx: &CheckContext<'_>,
    crs_nanos: &AtomicU64,
    x: Result<f64, ()>,
    y: Result<f64, ()>,
    xv: Value<'_>,
    yv: Value<'_>,
) -> Result<(Location, Option<String>), Problem> {
    let shown = |v: Value<'_>| v.raw().unwrap_or_default();
    let (Ok(x), Ok(y)) = (x, y) else {
        return Err((Reason::BadCoordinate, format!("lon {:?} / lat {:?} is not a pair of numbers", shown(xv), shown(yv))));
    };
    if !(x.is_finite() && y.is_finite()) {
        return Err((Reason::BadCoordinate, format!("lon {:?} / lat {:?} is not finite", shown(xv), shown(yv))));
    }
    let in_range = |x: f64, y: f64| x.abs() <= 180.0 && y.abs() <= 90.0;
    if !src.crs.is_geographic() {
        // Projected coordinates: converted first, then checked as lon/lat (no swap test:
        // eastings and northings are told apart by their size only in some systems).
        let t = std::time::Instant::now();
        let (lon, lat) = src.crs.to_wgs84(x, y);
        crs_nanos.fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        if !in_range(lon, lat) || !lon.is_finite() || !lat.is_finite() || (x.abs() <= 180.0 && y.abs() <= 90.0) {
            let (xs, ys) = (shown(xv).trim().to_string(), shown(yv).trim().to_string());
            return Err((
                Reason::CoordinateOutOfRange,
                format!(
                    "x {xs} / y {ys} is not a position in {} (the source's crs); lon/lat written where the source declares a projected system?",
                    src.crs.as_str()
                ),
            ));
        }
        return Ok((Location::Point { lon, lat }, None));
    }
    let near_extent = |x: f64, y: f64| {
        ctx.extent.is_some_and(|r| {
            // A margin of 0.1° tolerates points just outside the layer (they will be
            // `outside_all_grids`) while still telling a swapped pair.
            x >= r.min().x - 0.1 && x <= r.max().x + 0.1 && y >= r.min().y - 0.1 && y <= r.max().y + 0.1
        })
    };
    // Texts for the messages only: the usual row needs none.
    let texts = || (shown(xv).trim().to_string(), shown(yv).trim().to_string());
    let mut swapped = None;
    let (x, y) = if !in_range(x, y) {
        let (xs, ys) = texts();
        if !in_range(y, x) {
            let hint = if x.abs() > 1000.0 || y.abs() > 1000.0 {
                format!(" (it looks {}; set the source's crs)", crate::vocab::crs::guess_projected(x, y))
            } else {
                String::new()
            };
            return Err((Reason::CoordinateOutOfRange, format!("lon {xs} / lat {ys} is outside -180..180 / -90..90{hint}")));
        }
        let detail = format!("lon {xs} / lat {ys}: latitude out of range, swapped lon/lat would be valid");
        if !ctx.repair_swapped {
            return Err((Reason::SwappedCoordinates, detail));
        }
        swapped = Some(detail + "; swapped back");
        (y, x)
    } else if ctx.extent.is_some() && !near_extent(x, y) && near_extent(y, x) {
        let (xs, ys) = texts();
        let detail = format!("lon {xs} / lat {ys} lies in the grid layer's extent only when swapped");
        if !ctx.repair_swapped {
            return Err((Reason::SwappedCoordinates, detail));
        }
        swapped = Some(detail + "; swapped back");
        (y, x)
    } else {
        (x, y)
    };
    let (lon, lat) = if src.crs.needs_transform() {
        let t = std::time::Instant::now();
        let converted = src.crs.to_wgs84(x, y);
        crs_nanos.fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
        converted
    } else {
        (x, y)
    };
    for p in ctx.suspect_points {
        let dy = (lat - p[1]) * 111_320.0;
        let dx = (lon - p[0]) * 111_320.0 * lat.to_radians().cos();
        if (dx * dx + dy * dy).sqrt() <= ctx.suspect_radius_m {
            let (xs, ys) = texts();
            return Err((Reason::DefaultCoordinate, format!("lon {xs} / lat {ys} is a known default location ({}, {})", p[0], p[1])));
        }
    }
    Ok((Location::Point { lon, lat }, swapped))
}
