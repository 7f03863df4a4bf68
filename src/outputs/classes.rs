//! Class breaks for a mapped rate: one set per indicator and layer, shared by the choropleth
//! legend, the layer's `class` / `class_label` properties and the QGIS `.qml` sidecar, so the
//! three never disagree.

use serde::Serialize;

use crate::indicators::registry;
use crate::vocab::frame::Frame;

/// Classes of one mapped indicator. Class 0 is "no data / n below the minimum"; classes
/// 1..=k cover `[breaks[i-1], breaks[i])`, the last one closed on the right.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classes {
    pub indicator: String,
    /// k + 1 increasing bounds: min, inner breaks…, max.
    pub bounds: Vec<f64>,
    /// `quantile` or `fixed`.
    pub method: &'static str,
    pub colors: Vec<[u8; 3]>,
    /// Features per class, class 0 first.
    pub counts: Vec<usize>,
    pub labels: Vec<String>,
}

/// Grey of the no-data class.
pub const NO_DATA: [u8; 3] = [200, 200, 200];

/// Sequential palette from ColorBrewer's 9-class YlGnBu (colour-blind safe), light = low,
/// without its two palest yellows: the lowest class must stand out from a white page and from
/// the grey no-data class.
const PALETTE: [[u8; 3]; 7] = [[199, 233, 180], [127, 205, 187], [65, 182, 196], [29, 145, 192], [34, 94, 168], [37, 52, 148], [8, 29, 88]];

/// Picks `k` colours spread over the palette.
pub fn colors(k: usize) -> Vec<[u8; 3]> {
    if k <= 1 {
        return vec![PALETTE[3]];
    }
    (0..k).map(|i| PALETTE[(i * (PALETTE.len() - 1) + (k - 1) / 2) / (k - 1)]).collect()
}

impl Classes {
    /// Classes of `indicator` over the units of a period table, and each unit's class: a unit
    /// whose denominator (n) is below `min_n` falls in the no-data class. The layers, their
    /// `.qml` styles, the map charts and the report's map all class through here.
    pub fn of_table(f: &Frame, indicator: &str, min_n: u64, k: usize, fixed: Option<&[f64]>) -> (Classes, Vec<usize>) {
        let n_key = registry::n_of(indicator).unwrap_or("followups");
        let percent = registry::field(indicator).is_some_and(|f| f.unit == "share");
        let n = f.floats(n_key);
        let values: Vec<Option<f64>> =
            f.floats(indicator).into_iter().zip(n).map(|(v, n)| v.filter(|_| n.unwrap_or(0.0) >= min_n as f64)).collect();
        let classes = Classes::build(indicator, &values, k, fixed, percent);
        let class_of = values.iter().map(|v| classes.class_of(*v)).collect();
        (classes, class_of)
    }

    /// Builds classes from the values that have data (`None` = no data or n too small).
    /// With `fixed` breaks (policy thresholds such as 0.85 / 0.90 / 0.95) those are the inner
    /// breaks; otherwise `k` quantile classes (duplicate quantiles merged, so ties never make
    /// empty classes).
    pub fn build(indicator: &str, values: &[Option<f64>], k: usize, fixed: Option<&[f64]>, percent: bool) -> Classes {
        let mut v: Vec<f64> = values.iter().flatten().copied().filter(|x| x.is_finite()).collect();
        v.sort_by(f64::total_cmp);
        let (lo, hi) = (v.first().copied().unwrap_or(0.0), v.last().copied().unwrap_or(1.0));
        let (method, mut bounds) = match fixed {
            Some(b) => {
                let mut bs = vec![lo.min(b.first().copied().unwrap_or(lo))];
                bs.extend(b.iter().copied());
                bs.push(hi.max(b.last().copied().unwrap_or(hi)));
                ("fixed", bs)
            }
            None => {
                let k = k.clamp(2, 7);
                let mut bs = vec![lo];
                for i in 1..k {
                    if let Some(q) = crate::vocab::stats::quantile(&v, i as f64 / k as f64) {
                        bs.push(round4(q));
                    }
                }
                bs.push(hi);
                ("quantile", bs)
            }
        };
        bounds.dedup_by(|a, b| (*a - *b).abs() < 1e-12);
        if bounds.len() < 2 {
            bounds = vec![lo, hi.max(lo + 1e-9)];
        }
        let k = bounds.len() - 1;
        let mut c =
            Classes { indicator: indicator.to_string(), method, colors: colors(k), counts: vec![0; k + 1], labels: Vec::new(), bounds };
        c.labels = (0..=k).map(|i| c.label_of(i, percent)).collect();
        for x in values {
            let cl = c.class_of(*x);
            c.counts[cl] += 1;
        }
        c
    }

    /// The same classes with the no-data label in `lang`.
    pub fn in_lang(mut self, lang: crate::vocab::lang::Lang) -> Classes {
        if let Some(l) = self.labels.first_mut() {
            *l = lang.pick("无数据 / n 不足", "no data / n too small").to_string();
        }
        self
    }

    pub fn k(&self) -> usize {
        self.bounds.len() - 1
    }

    /// Class of a value: 0 for no data, else 1..=k.
    pub fn class_of(&self, x: Option<f64>) -> usize {
        let Some(x) = x.filter(|x| x.is_finite()) else { return 0 };
        let k = self.k();
        (1..=k).find(|&i| x < self.bounds[i]).unwrap_or(k)
    }

    /// Colour of a class (grey for class 0).
    pub fn color(&self, class: usize) -> [u8; 3] {
        if class == 0 { NO_DATA } else { self.colors[class - 1] }
    }

    fn label_of(&self, class: usize, percent: bool) -> String {
        if class == 0 {
            return "无数据 / n 不足".to_string();
        }
        let f = |x: f64| if percent { format!("{:.1}%", x * 100.0) } else { format!("{x:.2}") };
        let (lo, hi) = (f(self.bounds[class - 1]), f(self.bounds[class]));
        // Every unit with the same value (a one-day extract, say): the value, not "[x, x]".
        if lo == hi {
            return lo;
        }
        let close = if class == self.k() { "]" } else { ")" };
        format!("[{lo}, {hi}{close}")
    }
}

fn round4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every class colour, the lowest included, stands out from a white page (relative
    /// luminance below 0.9; YlGnBu's palest yellow is 0.98) and from the no-data grey.
    #[test]
    fn no_class_is_pale_on_white() {
        let lum = |[r, g, b]: [u8; 3]| (0.2126 * r as f64 + 0.7152 * g as f64 + 0.0722 * b as f64) / 255.0;
        for k in 1..=7 {
            for c in colors(k) {
                assert!(lum(c) < 0.9, "{c:?} (of {k} classes) is pale on white: {:.2}", lum(c));
                assert_ne!(c, NO_DATA);
            }
        }
    }

    /// When every unit has the same value the one class is labelled with it.
    #[test]
    fn one_value_one_plain_label() {
        let c = Classes::build("r", &[Some(1.0), Some(1.0), None], 5, None, true);
        assert_eq!(c.k(), 1);
        assert_eq!(c.labels, vec!["无数据 / n 不足".to_string(), "100.0%".to_string()]);
        assert_eq!((c.class_of(Some(1.0)), c.class_of(None)), (1, 0));
    }

    #[test]
    fn quantile_classes_by_hand() {
        let v: Vec<Option<f64>> = (0..=10).map(|i| Some(i as f64 / 10.0)).chain([None]).collect();
        let c = Classes::build("r", &v, 5, None, true);
        // Quantiles of 0.0..1.0 at 20 %, 40 %, 60 %, 80 % are 0.2, 0.4, 0.6, 0.8.
        assert_eq!(c.bounds, vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(c.class_of(Some(0.0)), 1);
        assert_eq!(c.class_of(Some(0.2)), 2);
        assert_eq!(c.class_of(Some(1.0)), 5);
        assert_eq!(c.class_of(None), 0);
        assert_eq!(c.counts, vec![1, 2, 2, 2, 2, 3]);
        assert_eq!(c.labels[1], "[0.0%, 20.0%)");
        assert_eq!(c.labels[5], "[80.0%, 100.0%]");
        assert_eq!(c.counts.iter().sum::<usize>(), v.len());
    }

    #[test]
    fn fixed_policy_breaks() {
        let v = [Some(0.80), Some(0.86), Some(0.93), Some(0.97)];
        let c = Classes::build("r", &v, 5, Some(&[0.85, 0.90, 0.95]), true);
        assert_eq!(c.bounds, vec![0.80, 0.85, 0.90, 0.95, 0.97]);
        assert_eq!(c.counts, vec![0, 1, 1, 1, 1]);
        assert_eq!(c.method, "fixed");
    }

    #[test]
    fn ties_do_not_make_empty_classes() {
        let v = [Some(1.0), Some(1.0), Some(1.0), Some(0.5)];
        let c = Classes::build("r", &v, 5, None, true);
        assert!(c.k() >= 1 && c.k() <= 2, "{:?}", c.bounds);
        assert!(c.counts[1..].iter().all(|&n| n > 0), "{:?}", c.counts);
    }
}
