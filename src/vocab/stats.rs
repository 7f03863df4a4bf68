//! Small statistics every stage means the same way.

/// numerator / denominator; `None` for a zero denominator (never 0/0 = NaN).
pub fn rate(num: f64, den: u64) -> Option<f64> {
    (den > 0).then(|| num / den as f64)
}

/// Quantile of sorted values by linear interpolation between closest ranks (R type 7, numpy's
/// default): position q·(n−1).
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let pos = q * (n - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    Some(sorted[lo] + (sorted[hi.min(n - 1)] - sorted[lo]) * frac)
}
