//! Case indicators of one unit: counts kept as numerators and denominators, and the formulas
//! that turn them into rates (docs/indicators.md has each formula).

use crate::config::ShouldBeClosedFile;
use crate::config::resolve::IndicatorSettings;
use crate::indicators::tally::Quantiles;
use crate::io::cases::{Followup, Satisfaction};

/// The facts about one case that indicators need. Times are UTC milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct CaseFacts {
    pub received: i64,
    pub closed: Option<i64>,
    pub due: i64,
    pub cancelled: bool,
    pub followup: Followup,
}

/// Counts of one unit in one period. Adding cases and merging accumulators only sums integers,
/// so results do not depend on the order cases arrive in. Handling times are kept apart, in
/// `tally::Durations`, for the quantiles.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Acc {
    pub cases: u64,
    pub cancelled: u64,
    pub followups: u64,
    pub contacted: u64,
    pub resolved: u64,
    pub satisfied: u64,
    pub basic: u64,
    pub unsatisfied: u64,
    pub should_close: u64,
    pub closed: u64,
    pub closed_on_time: u64,
    pub open: u64,
    pub overdue_open: u64,
}

impl Acc {
    /// Adds one case received in this unit and period. `as_of` is the moment states are read at.
    /// Returns the case's handling time in milliseconds when it was closed by then (the value
    /// the handling-time quantiles take).
    pub fn add(&mut self, c: &CaseFacts, as_of: i64, rule: ShouldBeClosedFile) -> Option<i64> {
        self.cases += 1;
        if c.cancelled {
            // Cancelled cases count in volume only: nothing was owed, nothing can be late.
            self.cancelled += 1;
            return None;
        }
        let f = c.followup;
        if f.valid {
            self.followups += 1;
            self.contacted += f.contacted as u64;
            self.resolved += f.resolved as u64;
            match f.satisfaction {
                Satisfaction::Satisfied => self.satisfied += 1,
                Satisfaction::Basic => self.basic += 1,
                Satisfaction::Unsatisfied => self.unsatisfied += 1,
                Satisfaction::None => {}
            }
        }
        // A case closed after the as-of moment was still open at it.
        let closed = c.closed.filter(|&t| t <= as_of);
        match closed {
            Some(t) => {
                self.closed += 1;
                if t <= c.due {
                    self.closed_on_time += 1;
                }
            }
            None => {
                self.open += 1;
                if c.due < as_of {
                    self.overdue_open += 1;
                }
            }
        }
        let owed = match rule {
            ShouldBeClosedFile::AllReceived => true,
            ShouldBeClosedFile::ExcludeOpenWithinLimit => closed.is_some() || c.due <= as_of,
        };
        self.should_close += owed as u64;
        closed.map(|t| t - c.received)
    }

    /// Adds another accumulator (a roll-up step or a parallel partial result).
    pub fn merge(&mut self, o: &Acc) {
        self.cases += o.cases;
        self.cancelled += o.cancelled;
        self.followups += o.followups;
        self.contacted += o.contacted;
        self.resolved += o.resolved;
        self.satisfied += o.satisfied;
        self.basic += o.basic;
        self.unsatisfied += o.unsatisfied;
        self.should_close += o.should_close;
        self.closed += o.closed;
        self.closed_on_time += o.closed_on_time;
        self.open += o.open;
        self.overdue_open += o.overdue_open;
    }

    /// Derives the rates and scores; `q` are the handling-time quantiles of the same cases.
    pub fn derive(&self, s: &IndicatorSettings, q: Quantiles) -> Derived {
        let satisfaction_points = self.satisfied as f64 + s.satisfaction_basic_weight * self.basic as f64;
        let response = rate(self.contacted as f64, self.followups);
        let resolution = rate(self.resolved as f64, self.followups);
        let satisfaction = rate(satisfaction_points, self.followups);
        let [wr, ws, wt] = s.composite_weights;
        let composite = match (response, resolution, satisfaction) {
            (Some(a), Some(b), Some(c)) if self.followups >= s.min_n => Some((wr * a + ws * b + wt * c) * 100.0),
            _ => None,
        };
        Derived {
            satisfaction_points,
            response_rate: response,
            resolution_rate: resolution,
            satisfaction_rate: satisfaction,
            composite_score: composite,
            grade: composite.map(|c| grade(c, &s.grade_bands)),
            closure_rate: rate(self.closed as f64, self.should_close),
            on_time_closure_rate: rate(self.closed_on_time as f64, self.should_close),
            overdue_open_rate: rate(self.overdue_open as f64, self.open),
            hours_median: q.median,
            hours_p90: q.p90,
        }
    }
}

/// Rates and scores of one accumulator.
#[derive(Debug, Clone, PartialEq)]
pub struct Derived {
    /// satisfied + w × basically satisfied (the satisfaction numerator).
    pub satisfaction_points: f64,
    pub response_rate: Option<f64>,
    pub resolution_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    /// 0–100; `None` when follow-ups < min_n.
    pub composite_score: Option<f64>,
    pub grade: Option<&'static str>,
    pub closure_rate: Option<f64>,
    pub on_time_closure_rate: Option<f64>,
    /// Share of open cases that are past due at the as-of moment.
    pub overdue_open_rate: Option<f64>,
    pub hours_median: Option<f64>,
    pub hours_p90: Option<f64>,
}

/// numerator / denominator; `None` for a zero denominator (never 0/0 = NaN).
pub fn rate(num: f64, den: u64) -> Option<f64> {
    (den > 0).then(|| num / den as f64)
}

/// Grade letter of a composite score: A ≥ bands[0], B ≥ bands[1], C ≥ bands[2], D ≥ bands[3], else E.
pub fn grade(score: f64, bands: &[f64; 4]) -> &'static str {
    // Compare the score as published (2 decimals) so the grade never disagrees with the number shown.
    let s = (score * 100.0).round() / 100.0;
    ["A", "B", "C", "D"].into_iter().zip(bands).find(|(_, b)| s >= **b).map(|(g, _)| g).unwrap_or("E")
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::file::IndicatorsFile;

    const H: i64 = 3_600_000;

    fn settings() -> IndicatorSettings {
        let f = IndicatorsFile::default();
        IndicatorSettings {
            satisfaction_basic_weight: f.satisfaction_basic_weight,
            composite_weights: [0.1, 0.5, 0.4],
            should_be_closed: f.should_be_closed,
            default_time_limit_hours: f.default_time_limit_hours,
            min_n: 1,
            signup_threshold: 0.9,
            signup_thresholds: Default::default(),
            grade_bands: f.grade_bands,
        }
    }

    fn fu(contacted: bool, resolved: bool, s: Satisfaction) -> Followup {
        Followup { valid: true, contacted, resolved, satisfaction: s }
    }
    const NO_FU: Followup = Followup { valid: false, contacted: false, resolved: false, satisfaction: Satisfaction::None };

    fn case(received_h: i64, closed_h: Option<i64>, due_h: i64, f: Followup) -> CaseFacts {
        CaseFacts { received: received_h * H, closed: closed_h.map(|c| c * H), due: due_h * H, cancelled: false, followup: f }
    }

    /// The published Tianmen (天门市) December 2016 figures: 应结案 972, 结案 911, 按期结案 737,
    /// 结案率 93.72 %, 按期结案率 75.82 %. Rebuilt as 911 closed cases (737 on time, 174 late),
    /// 61 open cases past due, and 8 open cases still inside their limit, which the default rule
    /// leaves out of the should-be-closed count.
    #[test]
    fn tianmen_december_2016() {
        let as_of = 1000 * H;
        let mut acc = Acc::default();
        for _ in 0..737 {
            acc.add(&case(0, Some(10), 24, NO_FU), as_of, ShouldBeClosedFile::ExcludeOpenWithinLimit);
        }
        for _ in 0..174 {
            acc.add(&case(0, Some(50), 24, NO_FU), as_of, ShouldBeClosedFile::ExcludeOpenWithinLimit);
        }
        for _ in 0..61 {
            acc.add(&case(0, None, 24, NO_FU), as_of, ShouldBeClosedFile::ExcludeOpenWithinLimit);
        }
        for _ in 0..8 {
            acc.add(&case(990, None, 1100, NO_FU), as_of, ShouldBeClosedFile::ExcludeOpenWithinLimit);
        }
        assert_eq!((acc.should_close, acc.closed, acc.closed_on_time), (972, 911, 737));
        let d = acc.derive(&settings(), Quantiles::default());
        assert_eq!(format!("{:.2}", d.closure_rate.expect("a rate for a non-empty denominator") * 100.0), "93.72");
        assert_eq!(format!("{:.2}", d.on_time_closure_rate.expect("a rate for a non-empty denominator") * 100.0), "75.82");
        assert_eq!((acc.open, acc.overdue_open), (69, 61));
    }

    #[test]
    fn should_be_closed_rule_is_configurable() {
        let as_of = 100 * H;
        let mut a = Acc::default();
        let mut b = Acc::default();
        for c in [case(0, Some(5), 24, NO_FU), case(0, None, 24, NO_FU), case(90, None, 200, NO_FU)] {
            a.add(&c, as_of, ShouldBeClosedFile::ExcludeOpenWithinLimit);
            b.add(&c, as_of, ShouldBeClosedFile::AllReceived);
        }
        assert_eq!(a.should_close, 2);
        assert_eq!(b.should_close, 3);
        assert_eq!(a.derive(&settings(), Quantiles::default()).closure_rate, Some(0.5));
        assert_eq!(b.derive(&settings(), Quantiles::default()).closure_rate, Some(1.0 / 3.0));
    }

    #[test]
    fn closure_after_as_of_counts_as_open() {
        let mut a = Acc::default();
        let handling = a.add(&case(0, Some(150), 24, NO_FU), 100 * H, ShouldBeClosedFile::ExcludeOpenWithinLimit);
        assert_eq!((a.closed, a.open, a.overdue_open, a.should_close), (0, 1, 1, 1));
        assert_eq!(handling, None, "no handling time for a case still open at the as-of moment");
    }

    #[test]
    fn three_rates_and_composite_by_hand() {
        // 4 valid follow-ups: contacted 3, resolved 2, satisfied 1, basically satisfied 2, unsatisfied 1.
        let mut a = Acc::default();
        let as_of = 100 * H;
        let r = ShouldBeClosedFile::ExcludeOpenWithinLimit;
        let mut hours: Vec<f64> = [
            case(0, Some(1), 24, fu(true, true, Satisfaction::Satisfied)),
            case(0, Some(2), 24, fu(true, true, Satisfaction::Basic)),
            case(0, Some(3), 24, fu(true, false, Satisfaction::Basic)),
            case(0, Some(4), 24, fu(false, false, Satisfaction::Unsatisfied)),
            case(0, Some(5), 24, NO_FU),
        ]
        .iter()
        .filter_map(|c| a.add(c, as_of, r))
        .map(|ms| ms as f64 / H as f64)
        .collect();
        hours.sort_by(f64::total_cmp);
        let q = Quantiles { median: quantile(&hours, 0.5), p90: quantile(&hours, 0.9) };
        let d = a.derive(&settings(), q);
        assert_eq!(a.followups, 4);
        assert_eq!(d.response_rate, Some(0.75));
        assert_eq!(d.resolution_rate, Some(0.5));
        // (1 + 0.9 × 2) / 4 = 0.7
        assert!((d.satisfaction_rate.expect("a rate for a non-empty denominator") - 0.7).abs() < 1e-12);
        assert!((d.satisfaction_points - 2.8).abs() < 1e-12);
        // (0.1 × 0.75 + 0.5 × 0.5 + 0.4 × 0.7) × 100 = 60.5
        assert!((d.composite_score.expect("a rate for a non-empty denominator") - 60.5).abs() < 1e-9);
        assert_eq!(d.grade, Some("C"));
        // Handling hours 1..5: median 3, P90 = 4 + 0.6 × 1 = 4.6 (type 7).
        assert_eq!(d.hours_median, Some(3.0));
        assert!((d.hours_p90.expect("a rate for a non-empty denominator") - 4.6).abs() < 1e-12);
    }

    #[test]
    fn min_n_suppresses_the_composite_only() {
        let mut a = Acc::default();
        a.add(&case(0, Some(1), 24, fu(true, true, Satisfaction::Satisfied)), 100 * H, ShouldBeClosedFile::ExcludeOpenWithinLimit);
        let mut s = settings();
        s.min_n = 2;
        let d = a.derive(&s, Quantiles::default());
        assert_eq!(d.response_rate, Some(1.0));
        assert_eq!(d.composite_score, None);
        assert_eq!(d.grade, None);
    }

    #[test]
    fn cancelled_cases_count_in_volume_only() {
        let mut a = Acc::default();
        let mut c = case(0, None, 24, fu(true, true, Satisfaction::Satisfied));
        c.cancelled = true;
        a.add(&c, 100 * H, ShouldBeClosedFile::AllReceived);
        assert_eq!((a.cases, a.cancelled, a.should_close, a.open, a.followups), (1, 1, 0, 0, 0));
    }

    #[test]
    fn empty_unit_has_no_rates_not_nan() {
        let d = Acc::default().derive(&settings(), Quantiles::default());
        assert_eq!(d.response_rate, None);
        assert_eq!(d.closure_rate, None);
        assert_eq!(d.hours_median, None);
    }

    #[test]
    fn grade_bands() {
        let b = [90.0, 75.0, 60.0, 40.0];
        assert_eq!(grade(90.0, &b), "A");
        assert_eq!(grade(89.996, &b), "A"); // shown as 90.00
        assert_eq!(grade(89.99, &b), "B");
        assert_eq!(grade(59.0, &b), "D");
        assert_eq!(grade(10.0, &b), "E");
    }

    #[test]
    fn merge_equals_adding_everything_to_one() {
        let cases: Vec<CaseFacts> = (0..50)
            .map(|i| case(i, if i % 3 == 0 { None } else { Some(i + i % 7 * 10) }, i + 24, fu(i % 2 == 0, i % 5 == 0, Satisfaction::Basic)))
            .collect();
        let r = ShouldBeClosedFile::ExcludeOpenWithinLimit;
        let mut one = Acc::default();
        cases.iter().for_each(|c| {
            one.add(c, 60 * H, r);
        });
        let (mut a, mut b) = (Acc::default(), Acc::default());
        cases[..20].iter().for_each(|c| {
            a.add(c, 60 * H, r);
        });
        cases[20..].iter().for_each(|c| {
            b.add(c, 60 * H, r);
        });
        a.merge(&b);
        assert_eq!(a.derive(&settings(), Quantiles::default()), one.derive(&settings(), Quantiles::default()));
    }
}
