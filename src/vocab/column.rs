//! What a column of an output table means: its key, Chinese label, unit and formula. Indicator
//! families define them (`indicators::registry` lists them all); `dictionary.csv`, the QGIS
//! styles and the charts' labels read them.

/// One output column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub key: &'static str,
    pub zh: &'static str,
    pub unit: &'static str,
    /// Formula or definition; numerators and denominators are other keys.
    pub formula: &'static str,
}

impl Field {
    pub const fn new(key: &'static str, zh: &'static str, unit: &'static str, formula: &'static str) -> Field {
        Field { key, zh, unit, formula }
    }

    /// The column's name for readers: its Chinese label, or in English its key in words
    /// (`on_time_closure_rate` → "on-time closure rate").
    pub fn label(&self, lang: crate::vocab::lang::Lang) -> String {
        match lang {
            crate::vocab::lang::Lang::Zh => self.zh.to_string(),
            crate::vocab::lang::Lang::En => words(self.key),
        }
    }
}

/// A key in words: underscores become spaces, with the few compounds English hyphenates or
/// abbreviates.
pub fn words(key: &str) -> String {
    let s = key.replace('_', " ");
    s.replace("on time", "on-time").replace("per 10k", "per 10,000").replace("mom", "vs last month").replace("yoy", "vs last year")
}
