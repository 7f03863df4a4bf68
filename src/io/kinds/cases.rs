//! Cases (案件 / 工单 / 诉求): a hotline export, an inspectors' system, an app. One row per
//! case: its id, times, state, follow-up answers and location (a point, or a grid, community
//! or street code).

use std::sync::atomic::{AtomicU64, Ordering};

use super::{CheckContext, Problem, RowCheck};
use crate::config::Source;
use crate::config::kind::{FieldSpec, KindSpec, Options, SourceCheck, ValueGroup};
use crate::io::ids::{self, IdKey};
use crate::io::records::{Mapping, RowRef};
use crate::vocab::dictionary::{Dictionaries, NO_VALUE, TO_INTERN};
use crate::vocab::reason::Reason;
use crate::vocab::record::{CaseFacts, Fact, Followup, Location, Satisfaction, Value};
use crate::vocab::time::{date_ms, local_to_utc_ms, parse_timestamp};
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

/// A case needs a location: both coordinates, or a code of a level the layer has.
fn check_mapping(s: &SourceCheck<'_>, problems: &mut Vec<String>) {
    let (key, cols, gp) = (s.key, s.columns, s.grid_properties);
    let has = |f: &str| cols.contains_key(f);
    if has("lon") != has("lat") {
        problems.push(format!("{key}.columns: map both `lon` and `lat`, or neither"));
    }
    if !has("lon") && !has("grid_code") && !has("community_code") && !has("street_code") {
        problems.push(format!("{key}.columns: no location: map lon/lat or a grid, community or street code"));
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
    status: Option<usize>,
    lon: Option<usize>,
    lat: Option<usize>,
    grid_code: Option<usize>,
    community_code: Option<usize>,
    street_code: Option<usize>,
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
            status: m.slot("status"),
            lon: m.slot("lon"),
            lat: m.slot("lat"),
            grid_code: m.slot("grid_code"),
            community_code: m.slot("community_code"),
            street_code: m.slot("street_code"),
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

    fn check(
        &self,
        r: &RowRef<'_, '_>,
        ctx: &CheckContext<'_>,
        dicts: &Dictionaries,
        crs_nanos: &AtomicU64,
    ) -> Result<(Fact, Location, IdKey), Problem> {
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
        let time = |field: &str, reason: Reason, slot: Option<usize>| -> Result<Option<i64>, Problem> {
            let v = get(slot);
            let t = match v {
                Value::Null => return Ok(None),
                Value::Timestamp { ms, zoned: true } => Some(ms),
                Value::Timestamp { ms, zoned: false } => local_to_utc_ms(ms, src.time_zone),
                Value::Date(d) => date_ms(d, src.time_zone),
                other => match other.text() {
                    None => return Ok(None),
                    Some(t) => parse_timestamp(&t, &src.timestamp_formats, src.time_zone),
                },
            };
            match t {
                Some(t) => Ok(Some(t)),
                None => Err((reason, format!("{field} {:?} matches none of the timestamp formats", v.raw().unwrap_or_default()))),
            }
        };
        let received = match time("received_at", Reason::BadReceivedAt, s.received_at)? {
            Some(t) => t,
            None => return Err((Reason::BadReceivedAt, "received_at is empty".into())),
        };
        let closed = time("closed_at", Reason::BadClosedAt, s.closed_at)?;
        let due = time("due_at", Reason::BadDueAt, s.due_at)?;
        for (field, t) in [("received_at", Some(received)), ("closed_at", closed)] {
            if let Some(t) = t.filter(|&t| t >= ctx.as_of_ms) {
                return Err((
                    Reason::TimestampInFuture,
                    format!("{field} is {} h after the end of the as-of day", fmt_hours(t - ctx.as_of_ms)),
                ));
            }
        }
        if let Some(c) = closed {
            if c < received {
                return Err((Reason::ClosedBeforeReceived, format!("closed {} h before it was received", fmt_hours(received - c))));
            }
        }
        let cancelled = text(s.status).is_some_and(|st| self.v.cancelled_status.iter().any(|c| *c == *st));
        let followup = parse_followup(
            &self.v,
            text(s.followup_valid).as_deref(),
            text(s.contacted).as_deref(),
            text(s.resolved).as_deref(),
            text(s.satisfaction).as_deref(),
            s.followup_valid.is_some(),
        )?;
        let location = locate_row(
            src,
            ctx,
            crs_nanos,
            get(s.lon),
            get(s.lat),
            text(s.grid_code).as_deref(),
            text(s.community_code).as_deref(),
            text(s.street_code).as_deref(),
        )?;
        let mut dims = [NO_VALUE; 3];
        for (d, slot) in s.dims.iter().enumerate() {
            if let Some(t) = text(*slot) {
                dims[d] = dicts.dims.get(d).and_then(|i| i.find(&t)).unwrap_or(TO_INTERN);
            }
        }
        let facts = CaseFacts { received, closed, due: due.unwrap_or(received + ctx.default_time_limit_ms), cancelled, followup, dims };
        Ok((Fact::Case(facts), location, ids::key(&id)))
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
) -> Result<Followup, Problem> {
    let yes_no = |field: &str, s: Option<&str>| -> Result<Option<bool>, Problem> {
        match s {
            None => Ok(None),
            Some(s) if v.yes.iter().any(|y| y.eq_ignore_ascii_case(s)) => Ok(Some(true)),
            Some(s) if v.no.iter().any(|y| y.eq_ignore_ascii_case(s)) => Ok(Some(false)),
            Some(s) => {
                Err((Reason::BadValue, format!("{field} {s:?} is neither a yes nor a no spelling (add it under values.yes / values.no)")))
            }
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
                Reason::BadValue,
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

/// Checks the coordinates (or the codes, when there are none) of one row.
#[allow(clippy::too_many_arguments)]
fn locate_row(
    src: &Source,
    ctx: &CheckContext<'_>,
    crs_nanos: &AtomicU64,
    lon: Value<'_>,
    lat: Value<'_>,
    grid: Option<&str>,
    community: Option<&str>,
    street: Option<&str>,
) -> Result<Location, Problem> {
    match (coordinate(lon), coordinate(lat)) {
        (None, None) => {}
        (Some(x), Some(y)) => return check_point(src, ctx, crs_nanos, x, y, lon, lat),
        (Some(_), None) | (None, Some(_)) => {
            return Err((Reason::BadCoordinate, format!("only one of lon/lat is given (lon {:?}, lat {:?})", lon.raw(), lat.raw())));
        }
    }
    let h = ctx.hierarchy;
    for (level, code, reason) in [
        (Level::Grid, grid, Reason::UnknownGridCode),
        (Level::Community, community, Reason::UnknownCommunityCode),
        (Level::Street, street, Reason::UnknownStreetCode),
    ] {
        let Some(code) = code else { continue };
        return match h.find(level, code) {
            Some(i) => Ok(Location::ByCode(level, i)),
            None => Err((reason, format!("no coordinates, and {} code {code:?} is not in the grid layer", level.as_str()))),
        };
    }
    Err((Reason::NoLocation, "no coordinates and no grid, community or street code".into()))
}

fn check_point(
    src: &Source,
    ctx: &CheckContext<'_>,
    crs_nanos: &AtomicU64,
    x: Result<f64, ()>,
    y: Result<f64, ()>,
    xv: Value<'_>,
    yv: Value<'_>,
) -> Result<Location, Problem> {
    let shown = |v: Value<'_>| v.raw().unwrap_or_default();
    let (Ok(x), Ok(y)) = (x, y) else {
        return Err((Reason::BadCoordinate, format!("lon {:?} / lat {:?} is not a pair of numbers", shown(xv), shown(yv))));
    };
    if !(x.is_finite() && y.is_finite()) {
        return Err((Reason::BadCoordinate, format!("lon {:?} / lat {:?} is not finite", shown(xv), shown(yv))));
    }
    let in_range = |x: f64, y: f64| x.abs() <= 180.0 && y.abs() <= 90.0;
    let near_extent = |x: f64, y: f64| {
        ctx.extent.is_some_and(|r| {
            // A margin of 0.1° tolerates points just outside the layer (they will be
            // `outside_all_grids`) while still telling a swapped pair.
            x >= r.min().x - 0.1 && x <= r.max().x + 0.1 && y >= r.min().y - 0.1 && y <= r.max().y + 0.1
        })
    };
    // Texts for the messages only: the usual row needs none.
    let texts = || (shown(xv).trim().to_string(), shown(yv).trim().to_string());
    if !in_range(x, y) {
        let (xs, ys) = texts();
        if in_range(y, x) {
            return Err((
                Reason::SwappedCoordinates,
                format!("lon {xs} / lat {ys}: latitude out of range, swapped lon/lat would be valid"),
            ));
        }
        return Err((Reason::CoordinateOutOfRange, format!("lon {xs} / lat {ys} is outside -180..180 / -90..90")));
    }
    if ctx.extent.is_some() && !near_extent(x, y) && near_extent(y, x) {
        let (xs, ys) = texts();
        return Err((Reason::SwappedCoordinates, format!("lon {xs} / lat {ys} lies in the grid layer's extent only when swapped")));
    }
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
    Ok(Location::Point { lon, lat })
}
