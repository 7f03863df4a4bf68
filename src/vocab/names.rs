//! Administrative names as exports write them, matched to the units of the hierarchy.
//!
//! A name is normalised before it is compared: full-width letters, digits and brackets become
//! ASCII, spaces of every width go, traditional characters become simplified (`fast2s`), and
//! the level's usual suffixes are stripped, repeatedly (街道办事处 / 地区办事处 / 人民政府 /
//! 街道 / 地区 / 乡 / 镇 for streets; 社区居民委员会 / 社区居委会 / 居委会 / 村民委员会 / 村委会 /
//! 社区 / 村 for communities; a leading city and 区 / 县 for districts). What is left is the
//! name's stem; the suffix it had says its kind (a 社区 is not a 村), which decides between
//! two units with the same stem. A district narrows the street, a street the community;
//! an alias table adds other ways of writing a unit. A name that matches nothing, or more than
//! one unit, is an error listing the candidates.

use std::collections::HashMap;

use super::units::{Hierarchy, Level};

/// What the suffix said a unit is: a street (街道), an area (地区), a township (乡), a town
/// (镇), a residents' community (社区 / 居委会) or a village (村); `None` when it said nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Street,
    Area,
    Township,
    Town,
    Residents,
    Village,
}

/// Street suffixes, longest first (a suffix is stripped again from what is left).
const STREET_SUFFIXES: &[(&str, Option<Kind>)] = &[
    ("街道办事处", Some(Kind::Street)),
    ("地区办事处", Some(Kind::Area)),
    ("人民政府", None),
    ("办事处", None),
    ("街道", Some(Kind::Street)),
    ("地区", Some(Kind::Area)),
    ("乡", Some(Kind::Township)),
    ("镇", Some(Kind::Town)),
];

const COMMUNITY_SUFFIXES: &[(&str, Option<Kind>)] = &[
    ("社区居民委员会", Some(Kind::Residents)),
    ("社区居委会", Some(Kind::Residents)),
    ("居民委员会", Some(Kind::Residents)),
    ("村民委员会", Some(Kind::Village)),
    ("村委会", Some(Kind::Village)),
    ("居委会", Some(Kind::Residents)),
    ("委员会", None),
    ("社区", Some(Kind::Residents)),
    // A bare 村 says nothing for sure: it ends many names (田村, 中关村).
    ("村", None),
];

/// Full-width ASCII to ASCII, ideographic and other spaces removed, traditional characters
/// to simplified: the same name however it was typed.
pub fn fold(s: &str) -> String {
    let mapped: String = s
        .chars()
        .filter_map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0),
            c if c.is_whitespace() || c == '\u{200B}' || c == '\u{FEFF}' => None,
            '【' | '〔' => Some('('),
            '】' | '〕' => Some(')'),
            c => Some(c),
        })
        .collect();
    fast2s::convert(&mapped)
}

/// A community's name in its short everyday form: the committee dropped, the kind kept
/// (永安里社区居委会 → 永安里社区, 牌坊村村民委员会 → 牌坊村, 不老屯居民委员会 → 不老屯社区), so
/// that 马坊村 is the village 马坊村委会 and not the community 马坊社区居委会.
pub fn everyday(level: Level, name: &str) -> String {
    let s = fold(name);
    if level != Level::Community {
        return s;
    }
    for (long, short) in [
        ("社区居民委员会", "社区"),
        ("社区居委会", "社区"),
        ("居民委员会", "社区"),
        ("居委会", "社区"),
        ("村民委员会", "村"),
        ("村委会", "村"),
    ] {
        if let Some(t) = s.strip_suffix(long) {
            if !t.is_empty() {
                let t = t.strip_suffix(short).unwrap_or(t);
                return format!("{t}{short}");
            }
        }
    }
    s
}

/// A community's name without its committee suffix, once (田村社区居委会 → 田村,
/// 田村村委会 → 田村): what a writer who drops the suffix writes.
fn bare(level: Level, name: &str) -> String {
    let s = fold(name);
    if level == Level::Community {
        for (suffix, _) in COMMUNITY_SUFFIXES.iter().filter(|(x, _)| x.chars().count() >= 2) {
            if let Some(t) = s.strip_suffix(suffix).filter(|t| !t.is_empty()) {
                return t.to_string();
            }
        }
    }
    s
}

/// A name's stem at a level and the kind its suffix gave.
pub fn stem(level: Level, name: &str) -> (String, Option<Kind>) {
    let mut s = fold(name);
    let suffixes = match level {
        Level::Street => STREET_SUFFIXES,
        Level::Community => COMMUNITY_SUFFIXES,
        Level::District => {
            // 北京市朝阳区, 朝阳区, 朝阳: a city in front and 区 / 县 behind go.
            if let Some(i) = s.rfind('市') {
                let rest = &s[i + '市'.len_utf8()..];
                if rest.chars().count() >= 2 {
                    s = rest.to_string();
                }
            }
            for suffix in ["区", "县"] {
                if s.chars().count() > 2 || (s.chars().count() == 2 && s.ends_with(suffix) && !s.starts_with(suffix)) {
                    if let Some(t) = s.strip_suffix(suffix) {
                        if !t.is_empty() {
                            s = t.to_string();
                        }
                    }
                }
            }
            return (s, None);
        }
        Level::Grid => return (s, None),
    };
    let mut kind = None;
    'strip: loop {
        for (suffix, k) in suffixes {
            if let Some(t) = s.strip_suffix(suffix) {
                if !t.is_empty() {
                    // The outermost suffix that says a kind decides it.
                    if kind.is_none() {
                        kind = *k;
                    }
                    s = t.to_string();
                    continue 'strip;
                }
            }
        }
        break;
    }
    (s, kind)
}

/// One unit's entry: its index at its level, its kind, and its folded full name.
#[derive(Debug, Clone)]
struct Entry {
    unit: u32,
    kind: Option<Kind>,
    full: String,
    everyday: String,
    bare: String,
}

/// The units of the district, street and community levels by stem, with their aliases.
#[derive(Debug, Default)]
pub struct NameIndex {
    by_stem: [HashMap<String, Vec<Entry>>; 3],
}

fn slot(level: Level) -> usize {
    match level {
        Level::Community => 0,
        Level::Street => 1,
        _ => 2,
    }
}

/// A failed match: unknown (no unit) or ambiguous (several), and the message with candidates.
#[derive(Debug, Clone, PartialEq)]
pub enum Miss {
    Unknown(String),
    Ambiguous(String),
}

impl NameIndex {
    /// The index of a hierarchy, plus aliases (`level`, written name, unit code). An alias of
    /// a code the layer does not have is an error.
    pub fn build(h: &Hierarchy, aliases: &[(Level, String, String)]) -> Result<NameIndex, Vec<String>> {
        let mut index = NameIndex::default();
        for level in [Level::Community, Level::Street, Level::District] {
            if !h.has(level) {
                continue;
            }
            for (i, u) in h.units(level).iter().enumerate() {
                index.add(level, i as u32, &u.name);
            }
        }
        let mut errors = Vec::new();
        for (n, (level, name, code)) in aliases.iter().enumerate() {
            match h.find(*level, code) {
                Some(unit) if *level != Level::Grid => index.add(*level, unit, name),
                _ => errors.push(format!("alias {} ({} {name:?}): no {} has the code {code:?}", n + 1, level.as_str(), level.as_str())),
            }
        }
        if errors.is_empty() { Ok(index) } else { Err(errors) }
    }

    fn add(&mut self, level: Level, unit: u32, name: &str) {
        let (s, kind) = stem(level, name);
        if s.is_empty() {
            return;
        }
        let list = self.by_stem[slot(level)].entry(s).or_default();
        if !list.iter().any(|e| e.unit == unit) {
            list.push(Entry { unit, kind, full: fold(name), everyday: everyday(level, name), bare: bare(level, name) });
        }
    }

    /// The units a written name can be at a level, among those `within` accepts; narrowed by
    /// the exact folded name, then the everyday form, then by the kind its suffix says (a
    /// unit whose own suffix says another kind is not it).
    fn lookup(&self, level: Level, written: &str, within: &dyn Fn(u32) -> bool) -> Vec<u32> {
        let (s, kind) = stem(level, written);
        let Some(list) = self.by_stem[slot(level)].get(&s) else { return Vec::new() };
        let mut found: Vec<&Entry> = list.iter().filter(|e| within(e.unit)).collect();
        if found.len() > 1 {
            let full = fold(written);
            let day = everyday(level, written);
            let exact: Vec<&Entry> = found.iter().copied().filter(|e| e.full == full).collect();
            // The everyday form decides only when the written name is not also another
            // candidate's name without its suffix (田村: 田村社区居委会 or 田村村委会).
            let same_day: Vec<&Entry> = found.iter().copied().filter(|e| e.everyday == day).collect();
            let same_day =
                if found.iter().any(|e| e.bare == full && !same_day.iter().any(|d| d.unit == e.unit)) { Vec::new() } else { same_day };
            let fits: Vec<&Entry> = found.iter().copied().filter(|e| e.kind.is_none() || e.kind == kind).collect();
            if exact.len() == 1 {
                found = exact;
            } else if same_day.len() == 1 {
                found = same_day;
            } else if kind.is_some() && fits.len() == 1 {
                found = fits;
            }
        }
        let mut units: Vec<u32> = found.iter().map(|e| e.unit).collect();
        units.sort_unstable();
        units.dedup();
        units
    }

    /// Places a record by its names: the finest level it names, each level searched within
    /// the one above it. `Ok(None)`: no name given.
    pub fn place(
        &self,
        h: &Hierarchy,
        district: Option<&str>,
        street: Option<&str>,
        community: Option<&str>,
    ) -> Result<Option<(Level, u32)>, Miss> {
        fn given(s: Option<&str>) -> Option<&str> {
            s.map(str::trim).filter(|s| !s.is_empty())
        }
        let (district, street, community) = (given(district), given(street), given(community));
        let parent = |level: Level, unit: u32, up: Level| h.units_of(level, unit)[up as usize];
        let mut placed: Option<(Level, u32)> = None;
        for (level, written) in [(Level::District, district), (Level::Street, street), (Level::Community, community)] {
            let Some(written) = written else { continue };
            if !h.has(level) {
                return Err(Miss::Unknown(format!(
                    "{} name {written:?} given, but the grid layer has no {} level",
                    level.as_str(),
                    level.as_str()
                )));
            }
            let within = |u: u32| placed.is_none_or(|(pl, pu)| parent(level, u, pl) == Some(pu));
            let mut found = self.lookup(level, written, &within);
            // Exports often write the street with its district in front (朝阳区建外街道).
            if found.is_empty() && level != Level::District {
                if let Some((Level::District, d)) = placed.filter(|(l, _)| *l == Level::District) {
                    let dname = fold(&h.units(Level::District)[d as usize].name);
                    let (dstem, _) = stem(Level::District, &dname);
                    let w = fold(written);
                    let rest = w.strip_prefix(dname.as_str()).or_else(|| w.strip_prefix(dstem.as_str()));
                    if let Some(rest) = rest.filter(|r| !r.is_empty()) {
                        found = self.lookup(level, rest, &within);
                    }
                }
            }
            let scope = match placed {
                Some((pl, pu)) => format!(" in {} {}", pl.as_str(), h.units(pl)[pu as usize].name),
                None => String::new(),
            };
            match found.len() {
                1 => placed = Some((level, found[0])),
                0 => {
                    let close = self.closest(h, level, written, &within);
                    let elsewhere: Vec<String> =
                        self.lookup(level, written, &|_| true).iter().take(5).map(|&u| self.describe(h, level, u)).collect();
                    let mut msg = format!("{} name {written:?} matches no {}{scope}", level.as_str(), level.as_str());
                    if !elsewhere.is_empty() {
                        msg.push_str(&format!("; it is the name of {}", elsewhere.join(", ")));
                    } else if !close.is_empty() {
                        msg.push_str(&format!("; closest: {}", close.join(", ")));
                    }
                    return Err(Miss::Unknown(msg));
                }
                _ => {
                    let c: Vec<String> = found.iter().take(8).map(|&u| self.describe(h, level, u)).collect();
                    return Err(Miss::Ambiguous(format!(
                        "{} name {written:?}{scope} matches {} units: {}",
                        level.as_str(),
                        found.len(),
                        c.join(", ")
                    )));
                }
            }
        }
        Ok(placed)
    }

    /// `永安里社区 (110105001001, 建外街道)`: a unit with its code and parent, for messages.
    fn describe(&self, h: &Hierarchy, level: Level, unit: u32) -> String {
        let u = &h.units(level)[unit as usize];
        let parent = u.parents.iter().flatten().next().map(|p| format!(", {}", p.name)).unwrap_or_default();
        format!("{} ({}{parent})", u.name, u.code)
    }

    /// The three names within scope nearest to the written one (edit distance of stems).
    fn closest(&self, h: &Hierarchy, level: Level, written: &str, within: &dyn Fn(u32) -> bool) -> Vec<String> {
        let (w, _) = stem(level, written);
        let w: Vec<char> = w.chars().collect();
        let mut scored: Vec<(usize, String, u32)> = self.by_stem[slot(level)]
            .iter()
            .flat_map(|(s, list)| list.iter().filter(|e| within(e.unit)).map(move |e| (s, e.unit)))
            .map(|(s, u)| (edit_distance(&w, &s.chars().collect::<Vec<_>>()), h.units(level)[u as usize].code.clone(), u))
            .filter(|(d, _, _)| *d <= w.len().max(2) / 2 + 1)
            .collect();
        scored.sort();
        scored.dedup_by_key(|x| x.2);
        scored.into_iter().take(3).map(|(_, _, u)| self.describe(h, level, u)).collect()
    }
}

fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != cb)).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_to_their_stems() {
        for w in ["建外街道", "建外街道办事处", " 建外 ", "建外", "建外街道　", "建外街道辦事處"] {
            assert_eq!(stem(Level::Street, w).0, "建外", "{w}");
        }
        assert_eq!(stem(Level::Street, "十八里店地区办事处"), ("十八里店".into(), Some(Kind::Area)));
        assert_eq!(stem(Level::Street, "十八里店乡人民政府"), ("十八里店".into(), Some(Kind::Township)));
        assert_eq!(stem(Level::Street, "长沟镇"), ("长沟".into(), Some(Kind::Town)));
        for w in ["牌坊村村民委员会", "牌坊村", "牌坊村委会", "牌坊"] {
            assert_eq!(stem(Level::Community, w).0, "牌坊", "{w}");
        }
        assert_eq!(stem(Level::Community, "永安里社区居委会"), ("永安里".into(), Some(Kind::Residents)));
        assert_eq!(stem(Level::Community, "永安里社區"), ("永安里".into(), Some(Kind::Residents)));
        assert_eq!(stem(Level::Community, "时村"), ("时".into(), None));
        assert_eq!(stem(Level::Community, "ＣＢＤ（一）社区").0, "CBD(一)");
        for w in ["北京市朝阳区", "朝阳区", "朝阳", "朝陽區"] {
            assert_eq!(stem(Level::District, w).0, "朝阳", "{w}");
        }
        assert_eq!(stem(Level::District, "延庆县").0, "延庆");
    }

    #[test]
    fn everyday_forms_keep_the_kind() {
        assert_eq!(everyday(Level::Community, "永安里社区居委会"), "永安里社区");
        assert_eq!(everyday(Level::Community, "牌坊村村民委员会"), "牌坊村");
        assert_eq!(everyday(Level::Community, "马坊村委会"), "马坊村");
        assert_eq!(everyday(Level::Community, "不老屯居民委员会"), "不老屯社区");
        assert_eq!(everyday(Level::Community, "馬坊 村"), "马坊村");
    }

    #[test]
    fn edit_distance_counts_changes() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        assert_eq!(edit_distance(&c("永安里"), &c("永安里")), 0);
        assert_eq!(edit_distance(&c("永安里"), &c("永安"),), 1);
        assert_eq!(edit_distance(&c("永安里"), &c("长安里")), 1);
    }
}
