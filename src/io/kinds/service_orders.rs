//! Residents' service orders (居民点单—支部下单—党员接单): a resident orders a service, the
//! community's party branch dispatches it, a party member accepts and does it, the resident
//! rates it. One row per order. The member's id is read only to count distinct members: it is
//! hashed at once and never written out.

use std::sync::atomic::AtomicU64;

use super::cases::locate_row;
use super::{CheckContext, Checked, FieldProblem, Problem, RowCheck};
use crate::config::Source;
use crate::config::kind::{FieldSpec, KindSpec, Options, ValueGroup};
use crate::io::ids;
use crate::io::records::{Mapping, RowRef};
use crate::vocab::dictionary::Dictionaries;
use crate::vocab::reason::Reason;
use crate::vocab::record::{Fact, OrderFacts, Value};
use crate::vocab::time::LocalRules;

const fn field(name: &'static str, required: bool, about: &'static str) -> FieldSpec {
    FieldSpec { name, required, about }
}

pub static SPEC: KindSpec = KindSpec {
    name: "service_orders",
    key: "order_id",
    fields: &[
        field("order_id", true, "the order, unique in the source"),
        field("ordered_at", true, "when the resident ordered (点单)"),
        field("dispatched_at", false, "when the party branch dispatched it (下单)"),
        field("accepted_at", false, "when a party member accepted it (接单)"),
        field("completed_at", false, "when it was done"),
        field("status", false, "its status (see values.cancelled_status)"),
        field("service_type", false, "the kind of service"),
        field("party_branch", false, "the dispatching party branch"),
        field("member_id", false, "the member who accepted it (pseudonymous; hashed, never written out)"),
        field("rating", false, "the resident's rating (a number, e.g. 1–5)"),
        field("lon", false, "longitude in the source's crs"),
        field("lat", false, "latitude in the source's crs"),
        field("grid_code", false, "the grid, when there is no point"),
        field("community_code", false, "the community, when there is no point and no grid"),
        field("street_code", false, "the street, when there is no point, grid or community"),
        field("district_name", false, "the district's name, when there is no point and no code (placed by names)"),
        field("street_name", false, "the street's name, when there is no point and no code"),
        field("community_name", false, "the community's name, when there is no point and no code"),
    ],
    values: &[ValueGroup { name: "cancelled_status", builtin: &["已取消", "取消", "cancelled", "canceled"] }],
    exclusive: &[],
    options: Options { crs: true, timestamps: true, dates: false },
    dimensions: &[],
    check: super::cases::check_mapping,
};

/// The checks of one service-order source.
pub struct Checks {
    src: Source,
    cancelled: Vec<String>,
    slot: std::collections::HashMap<&'static str, usize>,
}

impl Checks {
    pub fn new(src: &Source, m: &Mapping) -> Checks {
        let slot = SPEC.fields.iter().filter_map(|f| m.slot(f.name).map(|s| (f.name, s))).collect();
        Checks { src: src.clone(), cancelled: src.values("cancelled_status").to_vec(), slot }
    }

    fn get<'r>(&self, r: &'r RowRef<'_, '_>, name: &str) -> Value<'r> {
        self.slot.get(name).map_or(Value::Null, |&k| r.get(k))
    }

    fn text(&self, r: &RowRef<'_, '_>, name: &str) -> Option<String> {
        self.get(r, name).text().map(|t| t.into_owned())
    }

    /// A timestamp field, in ms: `Ok(None)` when empty, `Err(the value as written)` when unreadable.
    fn stamp(&self, r: &RowRef<'_, '_>, name: &str, rules: LocalRules) -> Result<Option<i64>, String> {
        super::stamp(self.get(r, name), &self.src.timestamp_formats, rules).map(|t| t.map(|t| t.ms))
    }
}

impl RowCheck for Checks {
    fn spec(&self) -> &'static KindSpec {
        &SPEC
    }

    fn check(&self, r: &RowRef<'_, '_>, ctx: &CheckContext<'_>, _: &Dictionaries, crs_nanos: &AtomicU64) -> Result<Checked, Problem> {
        let Some(id) = self.text(r, "order_id") else {
            return Err((Reason::MissingOrderId, "order_id is empty".into()));
        };
        let extra = r.extra_fields();
        if extra > 0 {
            return Err((Reason::BadRow, format!("the row has {extra} non-empty field(s) more than the header: its columns are shifted")));
        }
        let rules = LocalRules { tz: self.src.time_zone, fold: ctx.fold, gap: ctx.gap };
        let unreadable = |field: &str, v: &str| format!("{field} {v:?} matches none of the timestamp formats");
        let ordered = match self.stamp(r, "ordered_at", rules) {
            Ok(Some(t)) => t,
            Ok(None) => return Err((Reason::BadOrderedAt, "ordered_at is empty".into())),
            Err(v) => return Err((Reason::BadOrderedAt, unreadable("ordered_at", &v))),
        };
        let mut issues = Vec::new();
        // Each step follows the one before: a step that cannot be read, or lies before the
        // step it follows, is left out (the order counts as not having reached it).
        let mut step = |field: &'static str, after: Option<i64>| -> Option<i64> {
            let after = after?;
            match self.stamp(r, field, rules) {
                Ok(Some(t)) if t >= after => Some(t),
                Ok(Some(_)) => {
                    issues.push(FieldProblem {
                        field,
                        value: self.get(r, field).raw().unwrap_or_default(),
                        reason: Reason::ClosedBeforeReceived,
                        action: "ignored",
                        detail: format!("{field} is before the step it follows; the order counts as not having reached it"),
                    });
                    None
                }
                Ok(None) => None,
                Err(v) => {
                    issues.push(FieldProblem {
                        field,
                        detail: format!("{}; the order counts as not having reached it", unreadable(field, &v)),
                        value: v,
                        reason: Reason::BadValue,
                        action: "ignored",
                    });
                    None
                }
            }
        };
        let dispatched = step("dispatched_at", Some(ordered));
        let accepted = step("accepted_at", dispatched);
        let completed = step("completed_at", accepted);
        let cancelled = self.text(r, "status").is_some_and(|s| self.cancelled.iter().any(|c| *c == s));
        let rating = match super::number(self.get(r, "rating")) {
            Ok(x) => x,
            Err(value) => {
                issues.push(FieldProblem {
                    field: "rating",
                    detail: format!("rating {value:?} is not a number; left out of the ratings"),
                    value,
                    reason: Reason::BadValue,
                    action: "ignored",
                });
                None
            }
        };
        let member = self.text(r, "member_id").map(|m| ids::hash64(&m));
        let codes = ["grid_code", "community_code", "street_code"].map(|c| self.text(r, c));
        let names = ["district_name", "street_name", "community_name"].map(|c| self.text(r, c));
        let location = locate_row(
            &self.src,
            ctx,
            crs_nanos,
            self.get(r, "lon"),
            self.get(r, "lat"),
            [codes[0].as_deref(), codes[1].as_deref(), codes[2].as_deref()],
            [names[0].as_deref(), names[1].as_deref(), names[2].as_deref()],
            &mut issues,
        )?;
        let facts = OrderFacts { ordered, dispatched, accepted, completed, cancelled, rating, member };
        Ok(Checked { fact: Fact::Order(facts), location, id: ids::key(&id), issues })
    }

    fn duplicate(&self, _row: &RowRef<'_, '_>, first: &str) -> Problem {
        (Reason::DuplicateOrderId, format!("order_id already used by {first}; the first row is kept"))
    }
}
