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
}
