//! Distinct texts of a record kind's dimension fields (a case's category, department and
//! channel), numbered in order of first appearance, so that counts per value are kept in
//! vectors rather than maps of strings.

use std::collections::HashMap;

/// A dimension value meaning "empty".
pub const NO_VALUE: u32 = u32::MAX;
/// A dimension value not numbered yet: readers check rows in parallel and number new values
/// afterwards, in row order.
pub const TO_INTERN: u32 = NO_VALUE - 1;

/// The values of one dimension.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    ids: HashMap<String, u32>,
    pub values: Vec<String>,
}

impl Interner {
    /// The number of a value (trimmed), numbering it if new; `NO_VALUE` for empty text.
    pub fn intern(&mut self, s: Option<&str>) -> u32 {
        let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else { return NO_VALUE };
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.values.len() as u32;
        self.ids.insert(s.to_string(), i);
        self.values.push(s.to_string());
        i
    }

    /// The number of a value already seen.
    pub fn find(&self, s: &str) -> Option<u32> {
        self.ids.get(s).copied()
    }
}

/// The dimensions of one record kind, in the order its spec lists them.
#[derive(Debug, Default, Clone)]
pub struct Dictionaries {
    pub dims: Vec<Interner>,
}

impl Dictionaries {
    pub fn new(n: usize) -> Dictionaries {
        Dictionaries { dims: vec![Interner::default(); n] }
    }

    /// The values of dimension `d` (empty when the kind has no such dimension).
    pub fn values(&self, d: usize) -> &[String] {
        self.dims.get(d).map_or(&[], |i| &i.values)
    }
}
