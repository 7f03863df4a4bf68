//! The oldest overdue open cases (超期未结工单): the cases a review chases by name. A case is on
//! the list when, at the as-of moment T, it is not cancelled, its closing time is readable and
//! not before T (it is open, `closure::closed_by`), its due time is before T (it is overdue, as
//! in `overdue_open`) and it was received before T. Unlike the period's `overdue_open` count it
//! takes cases of any month: the backlog does not start with the period.
//!
//! Only the `k` most overdue cases are kept while records stream (a bounded heap), ordered by
//! due time, then received time, then source, file and row, so the list does not depend on how
//! batches are split between threads.

use std::collections::BinaryHeap;

use chrono_tz::Tz;

use super::closure::closed_by;
use crate::vocab::column::Field;
use crate::vocab::dictionary::{Dictionaries, NO_VALUE};
use crate::vocab::frame::Frame;
use crate::vocab::record::{CaseFacts, Fact, Placed, Record};
use crate::vocab::units::{Hierarchy, Level};

/// The list's own columns (its unit, category and department columns are the tables' keys).
pub static FIELDS: &[Field] = &[
    Field::new("rank", "序号", "", "1 = the most overdue open case"),
    Field::new("source", "数据来源", "", "the source (pipeline [[cases]] name) the case came from"),
    Field::new("case_id", "工单编号", "", "the case's id as in its file"),
    Field::new("received_at", "受理时间", "local time", "when the case was received, local time without offset"),
    Field::new(
        "due_at",
        "办理时限",
        "local time",
        "when the case was due (given, or from the time-limit rules), local time without offset",
    ),
    Field::new("overdue_days", "超期天数", "days", "(as-of moment − due_at) / 24 h, rounded down to 0.1 day"),
    Field::new("file", "文件", "", "the file the case was read from, relative to the pipeline file"),
    Field::new("row", "行号", "", "the case's row in its file (1 = first data row)"),
];

/// Whether a case is open and overdue at the as-of moment `as_of`.
pub fn is_overdue_open(c: &CaseFacts, as_of: i64) -> bool {
    !c.cancelled && !c.closed_unknown && c.received < as_of && c.due < as_of && closed_by(c, as_of).is_none()
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    // The order of the fields is the list's order: most overdue first.
    due: i64,
    received: i64,
    source: u32,
    file: u32,
    row: u64,
    key: Box<str>,
    level: Level,
    unit: u32,
    dims: [u32; 3],
}

/// The `k` most overdue open cases seen so far.
#[derive(Debug)]
pub struct OverdueList {
    k: usize,
    as_of: i64,
    /// A max-heap: its top is the least overdue case kept, the first to go.
    heap: BinaryHeap<Entry>,
}

impl OverdueList {
    pub fn new(k: usize, as_of: i64) -> OverdueList {
        OverdueList { k, as_of, heap: BinaryHeap::with_capacity(k + 1) }
    }

    /// Offers a batch's placed cases (source `source`, file `file`, first row `first_row`);
    /// `key(i)` is the case id of row `i`, read only for the cases that enter the list.
    pub fn add(
        &mut self,
        source: usize,
        file: usize,
        first_row: u64,
        rows: &[Option<Record>],
        placed: &[Placed],
        key: impl Fn(usize) -> String,
    ) {
        if self.k == 0 {
            return;
        }
        for (i, (r, p)) in rows.iter().zip(placed).enumerate() {
            let (Some(Record { fact: Fact::Case(c), .. }), Placed::Home { level, unit, .. }) = (r, p) else { continue };
            if !is_overdue_open(c, self.as_of) {
                continue;
            }
            let (source, file, row) = (source as u32, file as u32, first_row + i as u64);
            let full = self.heap.len() >= self.k;
            // A full list only takes a case more overdue than its least overdue one.
            if full
                && self
                    .heap
                    .peek()
                    .is_some_and(|top| (c.due, c.received, source, file, row) >= (top.due, top.received, top.source, top.file, top.row))
            {
                continue;
            }
            let e =
                Entry { due: c.due, received: c.received, source, file, row, key: key(i).into(), level: *level, unit: *unit, dims: c.dims };
            self.heap.push(e);
            if self.heap.len() > self.k {
                self.heap.pop();
            }
        }
    }

    /// The cases kept, for a partial run's state.
    pub fn to_state(&self) -> Vec<crate::vocab::state::OverdueRow> {
        let mut v: Vec<&Entry> = self.heap.iter().collect();
        v.sort();
        v.into_iter()
            .map(|e| crate::vocab::state::OverdueRow {
                due: e.due,
                received: e.received,
                source: e.source,
                file: e.file,
                row: e.row,
                key: e.key.to_string(),
                level: e.level as u8,
                unit: e.unit,
                dims: e.dims,
            })
            .collect()
    }

    /// Offers a partial run's kept cases, their dimension values renumbered by
    /// `dim_map[d][v]`: the list keeps the `k` most overdue of all, as one run would.
    pub fn absorb(&mut self, rows: Vec<crate::vocab::state::OverdueRow>, dim_map: &[Vec<u32>]) -> Result<(), String> {
        if self.k == 0 {
            return Ok(());
        }
        for r in rows {
            let level = *Level::ALL.get(r.level as usize).ok_or("an overdue case names no level")?;
            let mut dims = r.dims;
            for (d, v) in dims.iter_mut().enumerate() {
                if *v != NO_VALUE {
                    *v = *dim_map
                        .get(d)
                        .and_then(|m| m.get(*v as usize))
                        .ok_or("an overdue case names a value its dictionary does not have")?;
                }
            }
            let e = Entry {
                due: r.due,
                received: r.received,
                source: r.source,
                file: r.file,
                row: r.row,
                key: r.key.into(),
                level,
                unit: r.unit,
                dims,
            };
            self.heap.push(e);
            if self.heap.len() > self.k {
                self.heap.pop();
            }
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }

    /// The list, most overdue first: rank, source, case id, received and due times (local,
    /// without offset), days overdue at the as-of moment, the home unit's code and name at
    /// every level the layer has, category and department, and the file and row it came from.
    pub fn frame(&self, h: &Hierarchy, dicts: &Dictionaries, tz: Tz, sources: &[&str], files: &[Vec<String>]) -> Frame {
        let rows = self.heap.clone().into_sorted_vec();
        let local = |ms: i64| {
            chrono::DateTime::from_timestamp_millis(ms).map(|t| t.with_timezone(&tz).naive_local().format("%Y-%m-%dT%H:%M:%S").to_string())
        };
        let mut f = Frame::default();
        f.int("rank", (1..=rows.len() as i64).map(Some).collect());
        f.str("source", rows.iter().map(|r| sources.get(r.source as usize).map(|s| s.to_string())).collect());
        f.str("case_id", rows.iter().map(|r| Some(r.key.to_string())).collect());
        f.str("received_at", rows.iter().map(|r| local(r.received)).collect());
        f.str("due_at", rows.iter().map(|r| local(r.due)).collect());
        let day = 86_400_000.0;
        f.float("overdue_days", rows.iter().map(|r| Some(((self.as_of - r.due) as f64 / day * 10.0).floor() / 10.0)).collect(), 1);
        for level in Level::ALL {
            if !h.present[level as usize] {
                continue;
            }
            let units = h.units(level);
            let unit = |r: &Entry| h.units_of(r.level, r.unit)[level as usize].map(|u| &units[u as usize]);
            f.str(&format!("{}_code", level.as_str()), rows.iter().map(|r| unit(r).map(|u| u.code.clone())).collect());
            f.str(&format!("{}_name", level.as_str()), rows.iter().map(|r| unit(r).map(|u| u.name.clone())).collect());
        }
        for (d, name) in [(0, "category"), (1, "department")] {
            let values = dicts.values(d);
            f.str(
                name,
                rows.iter().map(|r| Some(r.dims[d]).filter(|&v| v != NO_VALUE).and_then(|v| values.get(v as usize).cloned())).collect(),
            );
        }
        f.str("file", rows.iter().map(|r| files.get(r.source as usize).and_then(|fs| fs.get(r.file as usize)).cloned()).collect());
        f.int("row", rows.iter().map(|r| Some(r.row as i64)).collect());
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::record::{How, Location};

    const H: i64 = 3_600_000;

    fn case(received: i64, due: i64, closed: Option<i64>, cancelled: bool) -> Option<Record> {
        let mut c = CaseFacts::received_at(received, due);
        c.closed = closed;
        c.cancelled = cancelled;
        Some(Record { fact: Fact::Case(c), location: Location::Point { lon: 0.0, lat: 0.0 } })
    }

    fn home() -> Placed {
        Placed::Home { level: Level::Grid, unit: 0, how: How::Point }
    }

    /// The most overdue k, in the same order whatever the batches and their order.
    #[test]
    fn keeps_the_k_most_overdue_in_a_fixed_order() {
        let t = 1000 * H; // the as-of moment
        let rows = vec![
            case(0, 10 * H, None, false),          // row 1: overdue by 990 h
            case(0, 500 * H, None, false),         // row 2: overdue by 500 h
            case(0, 10 * H, Some(20 * H), false),  // row 3: closed before T: not open
            case(0, 5 * H, Some(2000 * H), false), // row 4: closed after T: open, 995 h
            case(0, 10 * H, None, true),           // row 5: cancelled
            case(0, 2000 * H, None, false),        // row 6: not yet due
            case(1500 * H, 1600 * H, None, false), // row 7: received after T
            case(0, 10 * H, None, false),          // row 8: same due as row 1, later row
        ];
        let placed = vec![home(); rows.len()];
        let key = |i: usize| format!("C{}", i + 1);
        let order = |l: &OverdueList| -> Vec<String> { l.heap.clone().into_sorted_vec().iter().map(|e| e.key.to_string()).collect() };

        let mut all = OverdueList::new(10, t);
        all.add(0, 0, 1, &rows, &placed, key);
        assert_eq!(order(&all), ["C4", "C1", "C8", "C2"]);

        let mut three = OverdueList::new(3, t);
        three.add(0, 0, 1, &rows, &placed, key);
        assert_eq!(order(&three), ["C4", "C1", "C8"]);

        // The same rows in two batches, the second first: the same list.
        let mut split = OverdueList::new(3, t);
        split.add(0, 0, 5, &rows[4..], &placed[4..], |i| format!("C{}", i + 5));
        split.add(0, 0, 1, &rows[..4], &placed[..4], key);
        assert_eq!(order(&split), ["C4", "C1", "C8"]);

        let mut none = OverdueList::new(0, t);
        none.add(0, 0, 1, &rows, &placed, key);
        assert!(none.is_empty());
    }
}
