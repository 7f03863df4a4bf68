//! The set of case ids seen so far in a source, for the uniqueness check, in about 12 bytes
//! per id.
//!
//! Ids are packed into a `u64` exactly when they are at most 10 characters of `[0-9A-Za-z-]`
//! or 11–18 digits (the usual hotline and system ids); any other id is keyed by a 128-bit hash
//! of its text (two SipHash-2-4 hashes with different keys: two different ids collide with
//! probability about n²/2¹²⁹, below 10⁻²² for 10⁸ ids). Each key keeps the ordinal of its
//! first row, so a duplicate can name the row it repeats.

use std::hash::Hasher;

/// The key of one id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKey {
    Exact(u64),
    Hashed(u128),
}

/// Symbol values 1..=63 of the packed alphabet; 0 pads shorter ids.
fn symbol(c: u8) -> Option<u64> {
    Some(match c {
        b'0'..=b'9' => (c - b'0') as u64 + 1,
        b'A'..=b'Z' => (c - b'A') as u64 + 11,
        b'a'..=b'z' => (c - b'a') as u64 + 37,
        b'-' => 63,
        _ => return None,
    })
}

/// The key of an id (already trimmed, not empty).
pub fn key(id: &str) -> IdKey {
    let b = id.as_bytes();
    if b.len() <= 10 {
        // Tag 01 in the top two bits, then ten 6-bit symbols, the first one highest.
        let mut v: u64 = 0;
        let mut ok = true;
        for i in 0..10 {
            let s = match b.get(i) {
                Some(&c) => match symbol(c) {
                    Some(s) => s,
                    None => {
                        ok = false;
                        break;
                    }
                },
                None => 0,
            };
            v = v << 6 | s;
        }
        if ok {
            return IdKey::Exact(1 << 62 | v);
        }
    } else if b.len() <= 18 && b.iter().all(u8::is_ascii_digit) {
        // Top bit 1, three bits of (length - 11), 60 bits of value (< 10^18 < 2^60).
        let v = b.iter().fold(0u64, |a, &c| a * 10 + (c - b'0') as u64);
        return IdKey::Exact(1 << 63 | ((b.len() - 11) as u64) << 60 | v);
    }
    IdKey::Hashed(hash128(b))
}

/// A 64-bit hash of a text with fixed keys (the same in every run): to count distinct values
/// such as member ids without keeping them.
pub fn hash64(text: &str) -> u64 {
    (hash128(text.trim().as_bytes()) >> 64) as u64
}

fn hash128(b: &[u8]) -> u128 {
    // Fixed keys: the same id gets the same key in every run.
    let h = |k0: u64, k1: u64| {
        #[allow(deprecated)]
        let mut s = std::hash::SipHasher::new_with_keys(k0, k1);
        s.write(b);
        s.finish()
    };
    (h(0x6772_6964, 0x676f_76) as u128) << 64 | h(0x1234_5678_9abc_def0, 0x0fed_cba9_8765_4321) as u128
}

/// First-row ordinals by id key. Open addressing with linear probing; key 0 marks an empty
/// slot (no packed key is 0).
#[derive(Default)]
pub struct IdSet {
    keys: Vec<u64>,
    ords: Vec<u32>,
    len: usize,
    hashed: std::collections::HashMap<u128, u32>,
}

impl IdSet {
    /// A set sized for about `n` ids (it grows past that).
    pub fn with_capacity(n: usize) -> IdSet {
        // Filled to at most 7/8: linear probing stays short, and no power-of-two rounding
        // doubles the memory (slots are picked by multiplying, not masking).
        let cap = (n + n / 7 + 1).max(1024);
        IdSet { keys: vec![0; cap], ords: vec![0; cap], len: 0, hashed: Default::default() }
    }

    /// Inserts `k` with `ord` unless present; returns the ordinal stored first.
    pub fn insert(&mut self, k: IdKey, ord: u32) -> Option<u32> {
        match k {
            IdKey::Hashed(h) => match self.hashed.entry(h) {
                std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(ord);
                    None
                }
            },
            IdKey::Exact(v) => {
                if self.keys.is_empty() || (self.len + 1) * 8 > self.keys.len() * 7 {
                    self.grow();
                }
                let cap = self.keys.len();
                let mut i = slot_in(v, cap);
                loop {
                    match self.keys[i] {
                        0 => {
                            self.keys[i] = v;
                            self.ords[i] = ord;
                            self.len += 1;
                            return None;
                        }
                        x if x == v => return Some(self.ords[i]),
                        _ => i = if i + 1 == cap { 0 } else { i + 1 },
                    }
                }
            }
        }
    }

    fn grow(&mut self) {
        let cap = (self.keys.len() * 2).max(1024);
        let (keys, ords) = (std::mem::take(&mut self.keys), std::mem::take(&mut self.ords));
        self.keys = vec![0; cap];
        self.ords = vec![0; cap];
        for (k, o) in keys.into_iter().zip(ords).filter(|(k, _)| *k != 0) {
            let mut i = slot_in(k, cap);
            while self.keys[i] != 0 {
                i = if i + 1 == cap { 0 } else { i + 1 };
            }
            self.keys[i] = k;
            self.ords[i] = o;
        }
    }

    /// Bytes held, for the benchmark notes.
    pub fn bytes(&self) -> usize {
        self.keys.len() * 12 + self.hashed.capacity() * 21
    }
}

/// The slot of a packed key in a table of `cap` slots (the mix's high bits, by multiplying).
fn slot_in(v: u64, cap: usize) -> usize {
    ((mix(v) as u128 * cap as u128) >> 64) as usize
}

/// An id set split by key into shards that take their rows in parallel: every occurrence of
/// an id goes to the same shard, in row order, so the first row still wins.
pub struct ShardedIdSet {
    shards: Vec<IdSet>,
}

const SHARDS: usize = 8;

impl ShardedIdSet {
    pub fn with_capacity(n: usize) -> ShardedIdSet {
        ShardedIdSet { shards: (0..SHARDS).map(|_| IdSet::with_capacity(n / SHARDS + 1)).collect() }
    }

    /// Bytes held by all shards.
    pub fn bytes(&self) -> usize {
        self.shards.iter().map(IdSet::bytes).sum()
    }

    /// Every key with the ordinal of its first row, for a partial run's state: a packed key
    /// as its 64 bits (high half 0), a hashed one as its 128.
    pub fn to_state(&self) -> crate::vocab::state::IdsState {
        let mut all: Vec<(u128, u32)> = Vec::new();
        for set in &self.shards {
            all.extend(set.keys.iter().zip(&set.ords).filter(|(k, _)| **k != 0).map(|(&k, &o)| (k as u128, o)));
            all.extend(set.hashed.iter().map(|(&h, &o)| (h, o)));
        }
        // In key order: the same ids give the same bytes whatever the table's layout.
        all.sort_unstable();
        crate::vocab::state::IdsState {
            hi: all.iter().map(|(k, _)| (k >> 64) as u64).collect(),
            lo: all.iter().map(|(k, _)| *k as u64).collect(),
            ord: all.iter().map(|(_, o)| *o).collect(),
        }
    }

    /// Inserts `(row, key)` pairs (rows ascending) with ordinal `ord(row)`; returns the rows
    /// whose key was already there, with the first ordinal, ascending. Each shard takes its
    /// keys in row order, so the first row of an id wins as if one set took them all.
    pub fn insert_all(&mut self, keys: &[(u32, IdKey)], ord: impl Fn(u32) -> u32 + Sync) -> Vec<(u32, u32)> {
        use rayon::prelude::*;
        // The shard of every key, found in parallel (a pass over the batch on one thread was
        // a tenth of the reading thread's time at size L).
        let shard: Vec<u8> = keys.par_iter().map(|(_, k)| shard_of(k) as u8).collect();
        let mut dups: Vec<(u32, u32)> = self
            .shards
            .par_iter_mut()
            .enumerate()
            .flat_map_iter(|(s, set)| {
                let mut d = Vec::new();
                for ((i, k), _) in keys.iter().zip(&shard).filter(|(_, sh)| **sh as usize == s) {
                    if let Some(first) = set.insert(*k, ord(*i)) {
                        d.push((*i, first));
                    }
                }
                d
            })
            .collect();
        dups.sort_unstable();
        dups
    }
}

/// The shard of a key: the mix's low bits (slots within a shard come from its high bits).
fn shard_of(k: &IdKey) -> usize {
    let h = match k {
        IdKey::Exact(v) => mix(*v),
        IdKey::Hashed(h) => *h as u64,
    };
    (h as usize) % SHARDS
}

/// Spreads a packed key over the table (packed keys share long common prefixes); a fixed
/// mix (splitmix64), so runs are reproducible.
fn mix(v: u64) -> u64 {
    let mut z = v.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_keys_are_exact_and_distinct() {
        let ids = ["C000000001", "C000000010", "C00000001", "0", "00", "A-b", "12345678901", "012345678901", "123456789012345678"];
        let keys: Vec<IdKey> = ids.iter().map(|s| key(s)).collect();
        assert!(keys.iter().all(|k| matches!(k, IdKey::Exact(_))), "{keys:?}");
        for i in 0..keys.len() {
            for j in 0..i {
                assert_ne!(keys[i], keys[j], "{} vs {}", ids[i], ids[j]);
            }
        }
        assert!(matches!(key("投诉-001"), IdKey::Hashed(_)));
        assert!(matches!(key("ABCDEFGHIJK"), IdKey::Hashed(_)));
        assert!(matches!(key("1234567890123456789"), IdKey::Hashed(_)));
        assert_eq!(key("投诉-001"), key("投诉-001"));
    }

    #[test]
    fn insert_reports_the_first_ordinal_and_survives_growth() {
        let mut s = IdSet::with_capacity(0);
        for i in 0..50_000u32 {
            assert_eq!(s.insert(key(&format!("C{i:09}")), i), None);
        }
        assert_eq!(s.insert(key("C000000007"), 99_999), Some(7));
        assert_eq!(s.insert(key("工单7"), 1), None);
        assert_eq!(s.insert(key("工单7"), 2), Some(1));
    }

    #[test]
    fn the_sharded_set_finds_the_first_row_of_every_id() {
        // Ids repeated within a batch and across batches, exact and hashed keys: the
        // duplicates and their first ordinals are those of one sequential pass.
        let ids: Vec<String> =
            (0..40_000u32).map(|i| if i % 5 == 0 { format!("工单{}", i % 3_001) } else { format!("C{:09}", i % 17_003) }).collect();
        let mut sharded = ShardedIdSet::with_capacity(100);
        let mut one = std::collections::HashMap::new();
        for (b, batch) in ids.chunks(7_000).enumerate() {
            let base = (b * 7_000) as u32;
            let keys: Vec<(u32, IdKey)> =
                batch.iter().enumerate().filter(|(i, _)| i % 11 != 3).map(|(i, id)| (i as u32, key(id))).collect();
            let got = sharded.insert_all(&keys, |i| base + i);
            let mut want = Vec::new();
            for (i, k) in &keys {
                if let Some(&first) = one.get(k) {
                    want.push((*i, first));
                } else {
                    one.insert(*k, base + i);
                }
            }
            assert_eq!(got, want, "batch {b}");
        }
        assert!(one.len() > 17_000);
    }
}
