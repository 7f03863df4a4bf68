//! Ranking by a score: higher score first; rows with the same published score (2 decimals)
//! share a rank (standard competition ranking, "1224") and are listed by more records, then
//! smaller code.
//!
//! Rows without a score (e.g. follow-ups below `ranking_min_n`) get no rank.

/// Ranks rows `0..n`, each row competing only with the rows of the same group.
pub fn rank_groups<'a>(
    scores: &[Option<f64>],
    records: &[u64],
    code: impl Fn(usize) -> &'a str,
    group: impl Fn(usize) -> usize,
) -> Vec<Option<u32>> {
    let n = scores.len();
    // Scores compared as published, in hundredths, so equal-looking scores tie; volume and code
    // order the tied rows (for lists) but do not split their rank.
    let key = |r: usize| scores[r].map(|s| (s * 100.0).round() as i64);
    let mut rows: Vec<usize> = (0..n).filter(|&r| key(r).is_some()).collect();
    rows.sort_by(|&a, &b| {
        group(a)
            .cmp(&group(b))
            .then_with(|| key(b).cmp(&key(a)))
            .then_with(|| records[b].cmp(&records[a]))
            .then_with(|| code(a).cmp(code(b)))
    });
    let mut out = vec![None; n];
    let mut pos = 0u32;
    let mut prev: Option<(usize, Option<i64>, u32)> = None;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_then_volume_then_ties() {
        let scores = vec![Some(80.0), Some(90.0), None, Some(80.0), Some(80.001), Some(70.0)];
        let records = vec![10, 5, 99, 20, 10, 1];
        let codes = ["a", "b", "c", "d", "e", "f"];
        let r = rank_groups(&scores, &records, |i| codes[i], |_| 0);
        // b 90 first; a, d and e all publish 80.00 and share rank 2 (whatever their volume);
        // f is 5th; c unranked.
        assert_eq!(r, vec![Some(2), Some(1), None, Some(2), Some(2), Some(5)]);
    }

    #[test]
    fn monthly_ranks_are_per_month() {
        // Two units × two months, unit-major.
        let scores = vec![Some(50.0), Some(90.0), Some(60.0), Some(10.0)];
        let codes = ["u1", "u1", "u2", "u2"];
        let r = rank_groups(&scores, &[1; 4], |i| codes[i], |r| r % 2);
        assert_eq!(r, vec![Some(2), Some(1), Some(1), Some(2)]);
    }
}
