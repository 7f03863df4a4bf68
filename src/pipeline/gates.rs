//! The data-quality gates of `[quality]`: each with its value, limit and whether it passed. A
//! failed gate makes the run's exit code 1; the run is still published.

use std::collections::BTreeMap;

use crate::config::Pipeline;
use crate::outputs::manifest::{Gate, SourceAccount};
use crate::vocab::reason::Reason;

/// Sums over the case sources.
pub(super) fn case_totals(accounts: &[SourceAccount]) -> BTreeMap<&'static str, u64> {
    let mut totals = BTreeMap::new();
    for a in accounts.iter().filter(|a| a.kind == "cases") {
        *totals.entry("rows_read").or_insert(0) += a.rows_read;
        *totals.entry("rows_assigned").or_insert(0) += a.rows_assigned;
        *totals.entry("rows_rejected").or_insert(0) += a.rows_rejected;
        *totals.entry("in_period").or_insert(0) += a.in_period;
        let unassigned: u64 = a.rejects_by_reason.iter().filter(|(r, _)| r.is_unassigned()).map(|(_, n)| n).sum();
        *totals.entry("rows_unassigned").or_insert(0) += unassigned;
        *totals.entry("received_after_as_of").or_insert(0) += a.received_after_as_of;
        *totals.entry("field_issues").or_insert(0) += a.field_issues.values().sum::<u64>();
    }
    for key in ["rows_read", "rows_assigned", "rows_rejected", "in_period", "rows_unassigned", "received_after_as_of", "field_issues"] {
        totals.entry(key).or_insert(0);
    }
    totals
}

/// The data-quality gates of `[quality]`: reject shares per source and for all record sources
/// together (in all and per configured reason), the unassigned share and the minimum number of
/// cases. A source whose rows do not add up fails its gate whatever the share.
pub(super) fn quality_gates(p: &Pipeline, accounts: &[SourceAccount]) -> Vec<Gate> {
    let totals = case_totals(accounts);
    let q = &p.quality;
    let share = |n: u64, d: u64| if d == 0 { 0.0 } else { n as f64 / d as f64 };
    let gate = |name: String, source: &str, value: f64, limit: f64, passed: bool| Gate {
        name,
        source: source.to_string(),
        value: (value * 1e6).round() / 1e6,
        limit,
        passed,
    };
    let total = |k: &str| totals.get(k).copied().unwrap_or(0);
    let mut gates = Vec::new();
    let all_read: u64 = accounts.iter().map(|a| a.rows_read).sum();
    let all_rejected: u64 = accounts.iter().map(|a| a.rows_rejected).sum();
    let mut scopes: Vec<(&str, u64, u64, bool, BTreeMap<Reason, u64>)> =
        accounts.iter().map(|a| (a.name.as_str(), a.rows_read, a.rows_rejected, a.balanced, a.rejects_by_reason.clone())).collect();
    if accounts.len() > 1 {
        let mut by_reason: BTreeMap<Reason, u64> = BTreeMap::new();
        for a in accounts {
            for (r, n) in &a.rejects_by_reason {
                *by_reason.entry(*r).or_default() += n;
            }
        }
        scopes.push(("all", all_read, all_rejected, accounts.iter().all(|a| a.balanced), by_reason));
    }
    for (name, read, rejected, balanced, by_reason) in scopes {
        let v = share(rejected, read);
        gates.push(gate("max_reject_share".into(), name, v, q.max_reject_share, v <= q.max_reject_share && balanced));
        for (reason, limit) in &q.max_reject_share_by_reason {
            let v = share(Reason::parse(reason).and_then(|r| by_reason.get(&r)).copied().unwrap_or(0), read);
            gates.push(gate(format!("max_reject_share_by_reason.{reason}"), name, v, *limit, v <= *limit));
        }
    }
    if let Some(limit) = q.max_unassigned_share {
        let v = share(total("rows_unassigned"), total("rows_read"));
        gates.push(gate("max_unassigned_share".into(), "cases", v, limit, v <= limit));
    }
    if let Some(min) = q.min_cases {
        let v = total("in_period");
        gates.push(gate("min_cases".into(), "cases", v as f64, min as f64, v >= min));
    }
    gates
}
