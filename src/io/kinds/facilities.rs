//! Service facilities (便民服务设施): a shop, a breakfast stall, a parcel locker. One row per
//! facility with its category and its point; the service circle (`[coverage]`) maps the
//! categories to its items and measures who reaches them.

use std::sync::atomic::AtomicU64;

use super::cases::locate_row;
use super::{CheckContext, Checked, Problem, RowCheck};
use crate::config::Source;
use crate::config::kind::{FieldSpec, KindSpec, Options, SourceCheck};
use crate::io::ids;
use crate::io::records::{Mapping, RowRef};
use crate::vocab::dictionary::Dictionaries;
use crate::vocab::reason::Reason;
use crate::vocab::record::{FacilityFacts, Fact, Value};

const fn field(name: &'static str, required: bool, about: &'static str) -> FieldSpec {
    FieldSpec { name, required, about }
}

pub static SPEC: KindSpec = KindSpec {
    name: "facilities",
    key: "facility_id",
    fields: &[
        field("facility_id", true, "the facility, unique in the source"),
        field("category", true, "its category, as the source names it (mapped to the service items by coverage.items)"),
        field("name", false, "its name (shown on the facility layer)"),
        field("lon", true, "longitude in the source's crs"),
        field("lat", true, "latitude in the source's crs"),
    ],
    values: &[],
    exclusive: &[],
    options: Options { crs: true, timestamps: false, dates: false },
    dimensions: &[],
    check: check_mapping,
};

/// A facility serves where it stands: it needs its point.
fn check_mapping(s: &SourceCheck<'_>, problems: &mut Vec<String>) {
    if !s.columns.contains_key("lon") || !s.columns.contains_key("lat") {
        problems.push(format!("{}.columns: map `lon` and `lat`: reach is measured from the facility's point", s.key));
    }
}

/// The checks of one facility source.
pub struct Checks {
    src: Source,
    id: Option<usize>,
    category: Option<usize>,
    name: Option<usize>,
    lon: Option<usize>,
    lat: Option<usize>,
}

impl Checks {
    pub fn new(src: &Source, m: &Mapping) -> Checks {
        Checks {
            src: src.clone(),
            id: m.slot("facility_id"),
            category: m.slot("category"),
            name: m.slot("name"),
            lon: m.slot("lon"),
            lat: m.slot("lat"),
        }
    }
}

impl RowCheck for Checks {
    fn spec(&self) -> &'static KindSpec {
        &SPEC
    }

    fn check(&self, r: &RowRef<'_, '_>, ctx: &CheckContext<'_>, _: &Dictionaries, crs_nanos: &AtomicU64) -> Result<Checked, Problem> {
        let text = |slot: Option<usize>| slot.and_then(|k| r.get(k).text()).map(|t| t.into_owned());
        let Some(id) = text(self.id) else {
            return Err((Reason::MissingFacilityId, "facility_id is empty".into()));
        };
        let Some(category) = text(self.category) else {
            return Err((Reason::MissingCategory, "category is empty: the facility provides no known item".into()));
        };
        let extra = r.extra_fields();
        if extra > 0 {
            return Err((Reason::BadRow, format!("the row has {extra} non-empty field(s) more than the header: its columns are shifted")));
        }
        let get = |slot: Option<usize>| slot.map_or(Value::Null, |k| r.get(k));
        let mut issues = Vec::new();
        let location =
            locate_row(&self.src, ctx, crs_nanos, get(self.lon), get(self.lat), [None, None, None], [None, None, None], &mut issues)?;
        let facts = FacilityFacts { name: text(self.name).unwrap_or_default(), category, id: id.clone() };
        Ok(Checked { fact: Fact::Facility(facts), location, id: ids::key(&id), issues })
    }

    fn duplicate(&self, _row: &RowRef<'_, '_>, first: &str) -> Problem {
        (Reason::DuplicateFacilityId, format!("facility_id already used by {first}; the first row is kept"))
    }
}
