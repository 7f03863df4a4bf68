//! Follow-up calls (回访) and the three rates (三率): response, resolution and satisfaction,
//! the composite score (综合成绩), its rank and grade, and its change month on month.

use super::family::{Change, Column, CountContext, Derive, Family, RowView, TableView};
use super::rank::rank_groups;
use crate::vocab::column::Field;
use crate::vocab::record::{CaseFacts, Satisfaction};
use crate::vocab::stats::rate;

pub struct Followups;
pub static FOLLOWUPS: Followups = Followups;

const FOLLOWUPS_N: usize = 0;
const CONTACTED: usize = 1;
const RESOLVED: usize = 2;
const SATISFIED: usize = 3;
const BASIC: usize = 4;
const UNSATISFIED: usize = 5;
const UNREADABLE: usize = 6;

static COLUMNS: &[Column] = &[
    Column::new(
        Field::new("followups", "有效回访数", "cases", "non-cancelled cases with a valid follow-up call (denominator of the three rates)"),
        Derive::Count(FOLLOWUPS_N),
    ),
    Column::new(
        Field::new("contacted", "已联系数", "cases", "valid follow-ups where the caller says they were contacted"),
        Derive::Count(CONTACTED),
    ),
    Column::new(
        Field::new("resolved", "已解决数", "cases", "valid follow-ups where the caller says the problem is resolved"),
        Derive::Count(RESOLVED),
    ),
    Column::new(Field::new("satisfied", "满意数", "cases", "valid follow-ups answering 满意"), Derive::Count(SATISFIED)),
    Column::new(Field::new("basically_satisfied", "基本满意数", "cases", "valid follow-ups answering 基本满意"), Derive::Count(BASIC)),
    Column::new(Field::new("unsatisfied", "不满意数", "cases", "valid follow-ups answering 不满意"), Derive::Count(UNSATISFIED)),
    Column::new(
        Field::new(
            "satisfaction_points",
            "满意得分",
            "cases",
            "satisfied + w × basically_satisfied (w = indicators.satisfaction_basic_weight)",
        ),
        Derive::Float(|r| Some(satisfaction_points(r)), 2),
    ),
    Column::new(Field::new("response_rate", "响应率", "share", "contacted / followups"), Derive::Float(response_rate, 4))
        .per("followups")
        .headline(Change::Difference),
    Column::new(Field::new("resolution_rate", "解决率", "share", "resolved / followups"), Derive::Float(resolution_rate, 4))
        .per("followups")
        .headline(Change::Difference),
    Column::new(Field::new("satisfaction_rate", "满意率", "share", "satisfaction_points / followups"), Derive::Float(satisfaction_rate, 4))
        .per("followups")
        .headline(Change::Difference),
    Column::new(
        Field::new(
            "composite_score",
            "综合成绩",
            "points (0-100)",
            "(w_r × response_rate + w_s × resolution_rate + w_m × satisfaction_rate) × 100; empty when followups < min_n",
        ),
        Derive::Float(composite_score, 2),
    )
    .headline(Change::Difference),
    Column::new(
        Field::new(
            "composite_score_shrunk",
            "综合成绩(收缩)",
            "points (0-100)",
            "the composite score of the three rates each shrunk towards the table's pooled rate R: (x + m × R) / (followups + m), m = indicators.ranking_prior_n; empty without follow-ups",
        ),
        Derive::TableFloat(composite_shrunk, 2),
    ),
    Column::new(
        Field::new(
            "composite_rank",
            "综合排名",
            "rank",
            "rank by composite_score (or composite_score_shrunk, indicators.ranking) desc among units with followups ≥ indicators.ranking_min_n; equal published scores share a rank",
        ),
        Derive::TableInt(composite_rank),
    ),
    Column::new(
        Field::new("grade", "评价等级", "A-E", "A ≥ bands[0], B ≥ bands[1], C ≥ bands[2], D ≥ bands[3], else E (indicators.grade_bands)"),
        Derive::Text(|r| composite_score(r).map(|c| grade(c, &r.s.grade_bands).to_string())),
    ),
    Column::new(
        Field::new(
            "followups_unreadable",
            "回访无法识别数",
            "cases",
            "non-cancelled cases whose follow-up answers could not be read (left out of the three rates; field_issues.csv)",
        ),
        Derive::Count(UNREADABLE),
    ),
];

impl Family<CaseFacts> for Followups {
    fn name(&self) -> &'static str {
        "follow-up calls (三率)"
    }

    fn counters(&self) -> &'static [&'static str] {
        &["followups", "contacted", "resolved", "satisfied", "basically_satisfied", "unsatisfied", "followups_unreadable"]
    }

    fn count(&self, c: &CaseFacts, _: &CountContext, n: &mut [u64], _: &mut [Option<i64>]) {
        // Cancelled cases count in volume only.
        let f = c.followup;
        if c.cancelled {
            return;
        }
        if c.followup_unknown {
            n[UNREADABLE] += 1;
            return;
        }
        if !f.valid {
            return;
        }
        n[FOLLOWUPS_N] += 1;
        n[CONTACTED] += f.contacted as u64;
        n[RESOLVED] += f.resolved as u64;
        match f.satisfaction {
            Satisfaction::Satisfied => n[SATISFIED] += 1,
            Satisfaction::Basic => n[BASIC] += 1,
            Satisfaction::Unsatisfied => n[UNSATISFIED] += 1,
            Satisfaction::None => {}
        }
    }

    fn columns(&self) -> &'static [Column] {
        COLUMNS
    }
}

/// satisfied + w × basically satisfied (the satisfaction numerator).
fn satisfaction_points(r: &RowView<'_>) -> f64 {
    r.c[SATISFIED] as f64 + r.s.satisfaction_basic_weight * r.c[BASIC] as f64
}

fn response_rate(r: &RowView<'_>) -> Option<f64> {
    rate(r.c[CONTACTED] as f64, r.c[FOLLOWUPS_N])
}

fn resolution_rate(r: &RowView<'_>) -> Option<f64> {
    rate(r.c[RESOLVED] as f64, r.c[FOLLOWUPS_N])
}

fn satisfaction_rate(r: &RowView<'_>) -> Option<f64> {
    rate(satisfaction_points(r), r.c[FOLLOWUPS_N])
}

/// 0–100; `None` when follow-ups < min_n.
pub fn composite_score(r: &RowView<'_>) -> Option<f64> {
    let [wr, ws, wt] = r.s.composite_weights;
    match (response_rate(r), resolution_rate(r), satisfaction_rate(r)) {
        (Some(a), Some(b), Some(c)) if r.c[FOLLOWUPS_N] >= r.s.min_n => Some((wr * a + ws * b + wt * c) * 100.0),
        _ => None,
    }
}

/// Grade letter of a composite score: A ≥ bands[0], B ≥ bands[1], C ≥ bands[2], D ≥ bands[3], else E.
pub fn grade(score: f64, bands: &[f64; 4]) -> &'static str {
    // Compare the score as published (2 decimals) so the grade never disagrees with the number shown.
    let s = (score * 100.0).round() / 100.0;
    ["A", "B", "C", "D"].into_iter().zip(bands).find(|(_, b)| s >= **b).map(|(g, _)| g).unwrap_or("E")
}

/// The composite of the three rates, each shrunk towards the rate pooled over the rows of
/// the same group: (x + m × R) / (n + m). A unit with few follow-ups moves most of the way to
/// R, one with many barely moves, so ranking by it cannot put a unit with 5 follow-ups above
/// one with 500 by luck (empirical-Bayes style shrinkage with a fixed prior weight m).
fn composite_shrunk(t: &TableView<'_>) -> Vec<Option<f64>> {
    // Rows compete and pool only within their month.
    let groups = t.groups();
    // Pooled numerators and follow-ups per group: contacted, resolved, satisfaction points, n.
    let mut pooled = vec![[0.0f64; 4]; groups];
    for (i, r) in t.rows.iter().enumerate() {
        let g = &mut pooled[t.group(i)];
        g[0] += r.c[CONTACTED] as f64;
        g[1] += r.c[RESOLVED] as f64;
        g[2] += satisfaction_points(r);
        g[3] += r.c[FOLLOWUPS_N] as f64;
    }
    t.rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let n = r.c[FOLLOWUPS_N] as f64;
            let p = pooled[t.group(i)];
            if n == 0.0 || p[3] == 0.0 {
                return None;
            }
            let m = r.s.ranking_prior_n;
            let shrink = |x: f64, pooled_x: f64| (x + m * pooled_x / p[3]) / (n + m);
            let [wr, ws, wt] = r.s.composite_weights;
            let (a, b, c) = (shrink(r.c[CONTACTED] as f64, p[0]), shrink(r.c[RESOLVED] as f64, p[1]), shrink(satisfaction_points(r), p[2]));
            Some((wr * a + ws * b + wt * c) * 100.0)
        })
        .collect()
}

/// Ranks by composite score (or the shrunk score) within the table, or within each month of a
/// monthly table, among the units with at least `ranking_min_n` follow-ups.
fn composite_rank(t: &TableView<'_>) -> Vec<Option<i64>> {
    let Some(s) = t.rows.first().map(|r| r.s) else { return Vec::new() };
    let by = match s.ranking {
        crate::config::RankingFile::Score => t.rows.iter().map(composite_score).collect(),
        crate::config::RankingFile::Shrunk => composite_shrunk(t),
    };
    let scores: Vec<Option<f64>> = by
        .into_iter()
        .zip(&t.rows)
        .map(|(v, r)| v.filter(|_| r.c[FOLLOWUPS_N] >= s.ranking_min_n && composite_score(r).is_some()))
        .collect();
    let records: Vec<u64> = t.rows.iter().map(|r| r.records).collect();
    let ranks = rank_groups(&scores, &records, |r| t.codes[r], |r| t.group(r));
    ranks.into_iter().map(|r| r.map(|r| r as i64)).collect()
}
