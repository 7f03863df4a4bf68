//! The assessment (考核) of streets and districts: a weighted score over columns of the period
//! tables, each normalised to points from 0 to 100 as the pipeline file says, with a rank and a
//! grade. Two tables let a reader recompute every score: `assessment` (one row per unit) and
//! `assessment_components` (one row per unit and component: the value, its points, the weight
//! and the normalisation with the bounds it used).
//!
//! A unit without a value for a component is scored over the components it has, their weights
//! rescaled to sum to 1; `assessment_coverage` is the share of the total weight it had. Only
//! units with full coverage are ranked.

use crate::config::file::{AssessmentFile, ComponentFile, Normalise};
use crate::vocab::column::Field;
use crate::vocab::frame::Frame;
use crate::vocab::units::Level;

use super::LevelTables;

pub static FIELDS: &[Field] = &[
    Field::new("level", "层级", "", "grid, community, street or district"),
    Field::new("unit_code", "单位编码", "", "the unit's code (text)"),
    Field::new("unit_name", "单位名称", "", "the unit's name"),
    Field::new("assessment_score", "考核得分", "points", "Σ weight × points over the unit's components with a value / Σ of those weights"),
    Field::new("assessment_coverage", "考核指标覆盖", "share", "Σ weights of the components with a value / Σ all weights"),
    Field::new(
        "assessment_rank",
        "考核排名",
        "rank",
        "rank by assessment_score (2 decimals) descending among units with coverage 1; equal scores share a rank",
    ),
    Field::new("assessment_grade", "考核等级", "A-E", "A ≥ indicators.grade_bands[0] … E, on assessment_score"),
    Field::new("component", "考核指标", "", "the component's column"),
    Field::new("value", "原始值", "", "the column's value for the unit in the period"),
    Field::new(
        "normalise",
        "标准化方法",
        "",
        "share: 100 × value; points: value; minmax: 100 × (value − min) / (max − min) over the level's units; target: 100 × min(value / target, 1); invert: lower is better",
    ),
    Field::new("bound_low", "标准化下界", "", "min (minmax), 0 (share), the target (target), else empty"),
    Field::new("bound_high", "标准化上界", "", "max (minmax), 1 (share), else empty"),
    Field::new("points", "得分", "points", "the value normalised to 0–100"),
    Field::new("weight", "权重", "", "the component's weight as configured"),
];

/// Points of a value under a component's rule; `(lo, hi)` are the level's min and max.
fn points(c: &ComponentFile, x: f64, lo: f64, hi: f64) -> f64 {
    let p = match c.normalise {
        Normalise::Share => 100.0 * if c.invert { 1.0 - x } else { x },
        Normalise::Points => {
            if c.invert {
                100.0 - x
            } else {
                x
            }
        }
        Normalise::Minmax if hi > lo => 100.0 * if c.invert { (hi - x) / (hi - lo) } else { (x - lo) / (hi - lo) },
        Normalise::Minmax => 100.0,
        Normalise::Target => {
            let t = c.target.unwrap_or(1.0);
            100.0 * if c.invert { if x <= 0.0 { 1.0 } else { (t / x).min(1.0) } } else { (x / t).min(1.0) }
        }
    };
    p.clamp(0.0, 100.0)
}

fn round(x: f64, d: i32) -> f64 {
    let m = 10f64.powi(d);
    (x * m).round() / m
}

/// The two assessment tables, over the configured levels present in `levels`.
pub fn assess(a: &AssessmentFile, levels: &[LevelTables], bands: &[f64; 4]) -> (Frame, Frame) {
    let total_weight: f64 = a.components.iter().map(|c| c.weight).sum();
    let (mut u_level, mut u_code, mut u_name, mut u_score, mut u_cov, mut u_rank, mut u_grade) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut c_level, mut c_code, mut c_name, mut c_comp, mut c_value, mut c_norm, mut c_lo, mut c_hi, mut c_points, mut c_weight) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for level in Level::ALL.iter().rev() {
        if !a.levels.iter().any(|l| l == level.as_str()) {
            continue;
        }
        let Some(lt) = levels.iter().find(|lt| lt.level == *level) else { continue };
        let f = &lt.period;
        let (codes, names) = (f.texts(&format!("{}_code", level.as_str())), f.texts(&format!("{}_name", level.as_str())));
        let n = f.height();
        let values: Vec<Vec<Option<f64>>> = a.components.iter().map(|c| f.floats(&c.column)).collect();
        let bounds: Vec<(f64, f64)> = values
            .iter()
            .map(|v| {
                let xs = v.iter().flatten().copied().filter(|x| x.is_finite());
                (xs.clone().fold(f64::INFINITY, f64::min), xs.fold(f64::NEG_INFINITY, f64::max))
            })
            .collect();
        let mut scores: Vec<(Option<f64>, f64)> = Vec::with_capacity(n);
        for i in 0..n {
            let (mut sum, mut w) = (0.0, 0.0);
            for (k, c) in a.components.iter().enumerate() {
                let (lo, hi) = bounds[k];
                let v = values[k][i].filter(|x| x.is_finite());
                let pts = v.map(|x| round(points(c, x, lo, hi), 2));
                if let Some(p) = pts {
                    sum += c.weight * p;
                    w += c.weight;
                }
                c_level.push(Some(level.as_str().to_string()));
                c_code.push(Some(codes[i].clone()));
                c_name.push(Some(names[i].clone()));
                c_comp.push(Some(c.column.clone()));
                c_value.push(v);
                let rule = format!(
                    "{}{}",
                    match c.normalise {
                        Normalise::Share => "share",
                        Normalise::Points => "points",
                        Normalise::Minmax => "minmax",
                        Normalise::Target => "target",
                    },
                    if c.invert { ", invert" } else { "" }
                );
                c_norm.push(Some(rule));
                let (blo, bhi) = match c.normalise {
                    Normalise::Minmax if lo.is_finite() => (Some(lo), Some(hi)),
                    Normalise::Share => (Some(0.0), Some(1.0)),
                    Normalise::Target => (c.target, None),
                    _ => (None, None),
                };
                c_lo.push(blo);
                c_hi.push(bhi);
                c_points.push(pts);
                c_weight.push(Some(c.weight));
            }
            let score = (w > 0.0).then(|| round(sum / w, 2));
            scores.push((score, if total_weight > 0.0 { round(w / total_weight, 4) } else { 0.0 }));
        }
        // Ranks among fully covered units; equal published scores share one.
        let mut order: Vec<usize> = (0..n).filter(|&i| scores[i].0.is_some() && scores[i].1 >= 1.0).collect();
        order.sort_by(|&x, &y| scores[y].0.unwrap_or(0.0).total_cmp(&scores[x].0.unwrap_or(0.0)).then_with(|| codes[x].cmp(&codes[y])));
        let mut rank = vec![None; n];
        for (pos, &i) in order.iter().enumerate() {
            let r = match pos.checked_sub(1).map(|p| order[p]) {
                Some(prev) if scores[prev].0 == scores[i].0 => rank[prev],
                _ => Some(pos as i64 + 1),
            };
            rank[i] = r;
        }
        for i in 0..n {
            u_level.push(Some(level.as_str().to_string()));
            u_code.push(Some(codes[i].clone()));
            u_name.push(Some(names[i].clone()));
            u_score.push(scores[i].0);
            u_cov.push(Some(scores[i].1));
            u_rank.push(rank[i]);
            u_grade.push(scores[i].0.map(|s| super::followup::grade(s, bands).to_string()));
        }
    }
    let mut units = Frame::default();
    units.str("level", u_level);
    units.str("unit_code", u_code);
    units.str("unit_name", u_name);
    units.float("assessment_score", u_score, 2);
    units.float("assessment_coverage", u_cov, 4);
    units.int("assessment_rank", u_rank);
    units.str("assessment_grade", u_grade);
    let mut comps = Frame::default();
    comps.str("level", c_level);
    comps.str("unit_code", c_code);
    comps.str("unit_name", c_name);
    comps.str("component", c_comp);
    comps.float("value", c_value, 4);
    comps.str("normalise", c_norm);
    comps.float("bound_low", c_lo, 4);
    comps.float("bound_high", c_hi, 4);
    comps.float("points", c_points, 2);
    comps.float("weight", c_weight, 4);
    (units, comps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(column: &str, weight: f64, normalise: Normalise, target: Option<f64>, invert: bool) -> ComponentFile {
        ComponentFile { column: column.into(), weight, normalise, target, invert }
    }

    /// Three streets, four components worked out by hand.
    #[test]
    fn scores_ranks_and_coverage_by_hand() {
        let mut f = Frame::default();
        f.str("street_code", vec![Some("S1".into()), Some("S2".into()), Some("S3".into())]);
        f.str("street_name", vec![Some("一".into()), Some("二".into()), Some("三".into())]);
        f.float("composite_score", vec![Some(90.0), Some(70.0), Some(80.0)], 2);
        f.float("closure_rate", vec![Some(0.9), Some(0.5), None], 4);
        f.float("repeat_case_rate", vec![Some(0.02), Some(0.10), Some(0.06)], 4);
        f.float("report_in_rate", vec![Some(0.95), Some(0.8), Some(1.0)], 4);
        let levels = vec![LevelTables { level: Level::Street, period: f, monthly: Frame::default() }];
        let a = AssessmentFile {
            levels: vec!["street".into()],
            components: vec![
                component("composite_score", 0.4, Normalise::Points, None, false),
                component("closure_rate", 0.2, Normalise::Share, None, false),
                component("repeat_case_rate", 0.2, Normalise::Minmax, None, true),
                component("report_in_rate", 0.2, Normalise::Target, Some(0.9), false),
            ],
        };
        let (units, comps) = assess(&a, &levels, &[90.0, 75.0, 60.0, 40.0]);
        // S1: 0.4 × 90 + 0.2 × 90 + 0.2 × 100 (lowest repeat rate) + 0.2 × 100 (0.95 ≥ 0.9) = 94.
        // S2: 0.4 × 70 + 0.2 × 50 + 0.2 × 0 (highest) + 0.2 × 88.89 (0.8 / 0.9) = 55.78.
        // S3: no closure rate: (0.4 × 80 + 0.2 × 50 + 0.2 × 100) / 0.8 = 77.5, coverage 0.8.
        assert_eq!(units.floats("assessment_score"), [Some(94.0), Some(55.78), Some(77.5)]);
        assert_eq!(units.floats("assessment_coverage"), [Some(1.0), Some(1.0), Some(0.8)]);
        // Only full coverage is ranked.
        assert_eq!(units.floats("assessment_rank"), [Some(1.0), Some(2.0), None]);
        assert_eq!(units.texts("assessment_grade"), ["A", "D", "B"]);
        // Every step is in the components table: S2's target component.
        let points = comps.floats("points");
        let names = comps.texts("component");
        let s2_target = (0..comps.height()).find(|&i| comps.texts("unit_code")[i] == "S2" && names[i] == "report_in_rate").unwrap();
        assert_eq!(points[s2_target], Some(88.89));
        assert_eq!(comps.floats("bound_low")[s2_target], Some(0.9));
        assert_eq!(comps.texts("normalise")[(0..comps.height()).find(|&i| names[i] == "repeat_case_rate").unwrap()], "minmax, invert");
    }
}
