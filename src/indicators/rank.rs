//! Ranking by composite score (综合成绩): higher score first, then more cases, then smaller code.
//!
//! Units without a score (follow-ups below `min_n`) get no rank. Units with the same published
//! score (2 decimals) and the same volume share a rank (standard competition ranking, "1224").

use super::cases::{Acc, Derived};

/// Ranks rows `0..n`, each row competing only with the rows of the same group.
pub fn rank_groups<'a>(
    derived: &[Derived],
    accs: &[Acc],
    code: impl Fn(usize) -> &'a str,
    group: impl Fn(usize) -> usize,
) -> Vec<Option<u32>> {
    let n = derived.len();
    // Scores compared as published, in hundredths, so equal-looking scores tie.
    let key = |r: usize| derived[r].composite_score.map(|s| ((s * 100.0).round() as i64, accs[r].cases));
    let mut rows: Vec<usize> = (0..n).filter(|&r| key(r).is_some()).collect();
    rows.sort_by(|&a, &b| group(a).cmp(&group(b)).then_with(|| key(b).cmp(&key(a))).then_with(|| code(a).cmp(code(b))));
    let mut out = vec![None; n];
    let mut pos = 0u32;
    let mut prev: Option<(usize, Option<(i64, u64)>, u32)> = None;
    for &r in &rows {
        let (g, k) = (group(r), key(r));
        pos = match prev {
            Some((pg, _, _)) if pg == g => pos + 1,
            _ => 1,
        };
        let rank = match prev {
            Some((pg, pk, prank)) if pg == g && pk == k => prank,
            _ => pos,
        };
        out[r] = Some(rank);
        prev = Some((g, k, rank));
    }
    out
}

/// Ranks unit-major monthly rows (`row = unit × months + month`) within each month.
pub fn rank_by_group<'a>(derived: &[Derived], accs: &[Acc], months: usize, code: impl Fn(usize) -> &'a str) -> Vec<Option<u32>> {
    rank_groups(derived, accs, code, |r| r % months)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(score: Option<f64>) -> Derived {
        Derived {
            satisfaction_points: 0.0,
            response_rate: None,
            resolution_rate: None,
            satisfaction_rate: None,
            composite_score: score,
            grade: None,
            closure_rate: None,
            on_time_closure_rate: None,
            overdue_open_rate: None,
            hours_median: None,
            hours_p90: None,
        }
    }

    fn acc(cases: u64) -> Acc {
        Acc { cases, ..Acc::default() }
    }

    #[test]
    fn score_then_volume_then_ties() {
        let derived = vec![d(Some(80.0)), d(Some(90.0)), d(None), d(Some(80.0)), d(Some(80.001)), d(Some(70.0))];
        let accs = vec![acc(10), acc(5), acc(99), acc(20), acc(10), acc(1)];
        let codes = ["a", "b", "c", "d", "e", "f"];
        let r = rank_groups(&derived, &accs, |i| codes[i], |_| 0);
        // b 90 first; d 80 with 20 cases; a and e tie (80.00, 10 cases) at 3; f is 5th; c unranked.
        assert_eq!(r, vec![Some(3), Some(1), None, Some(2), Some(3), Some(5)]);
    }

    #[test]
    fn monthly_ranks_are_per_month() {
        // Two units × two months, unit-major.
        let derived = vec![d(Some(50.0)), d(Some(90.0)), d(Some(60.0)), d(Some(10.0))];
        let accs = vec![acc(1); 4];
        let codes = ["u1", "u1", "u2", "u2"];
        let r = rank_by_group(&derived, &accs, 2, |i| codes[i]);
        assert_eq!(r, vec![Some(2), Some(1), Some(1), Some(2)]);
    }
}
