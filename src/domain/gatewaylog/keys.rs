//! Counts per value of a column (利用者コード, 識別番号), capped, for the check's "who
//! appears" lists.
//!
//! Every record line adds one or two values, so this is the check's hottest table: values of
//! up to 15 bytes (user codes and numbers are) are packed into one `u128` and counted in a
//! small open-addressed table of our own (one multiply to hash, linear probing, no pointer per
//! entry); a value that repeats the line before's is only tallied and counted when the value
//! changes. Longer values go to an ordinary map.

use std::collections::HashMap;
use std::hash::{BuildHasher, BuildHasherDefault};

use rustc_hash::FxHasher;

use super::Top;

/// Different user codes (and numbers) counted one by one; the rest are "others".
const MAX_KEYS: usize = 20_000;
/// Values shown per column.
const TOP: usize = 10;
/// Bytes of a value kept for counting.
const KEY_BYTES: usize = 64;
/// Slots of a new table (a power of two); it doubles when half full.
const FIRST_SLOTS: usize = 256;
/// The odd constant of the multiplicative hash (2^64 / φ).
const K: u64 = 0x9e37_79b9_7f4a_7c15;

pub(super) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// A value of up to 15 bytes as two integers: the bytes from the low end, and in the top
/// byte the length with the high bit set (so no packed value has `hi == 0`, the empty slot).
#[inline(always)]
fn pack(key: &[u8]) -> Option<(u64, u64)> {
    let len = key.len();
    let tag = (0x80 | len as u64) << 56;
    if len <= 8 {
        Some((le(key), tag))
    } else if len < 16 {
        let (a, b) = key.split_at(8);
        Some((le(a), le(b) | tag))
    } else {
        None
    }
}

/// Up to 8 bytes as a little-endian integer, without a loop (overlapping reads).
#[inline(always)]
fn le(b: &[u8]) -> u64 {
    let n = b.len();
    if n >= 4 {
        let first = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64;
        let last = u32::from_le_bytes([b[n - 4], b[n - 3], b[n - 2], b[n - 1]]) as u64;
        first | last << (8 * (n - 4))
    } else if n > 0 {
        b[0] as u64 | (b[n / 2] as u64) << (8 * (n / 2)) | (b[n - 1] as u64) << (8 * (n - 1))
    } else {
        0
    }
}

/// The bytes of a packed value.
fn unpack(lo: u64, hi: u64) -> Vec<u8> {
    let mut b = lo.to_le_bytes().to_vec();
    b.extend_from_slice(&hi.to_le_bytes());
    b.truncate((hi >> 56 & 0x7f) as usize);
    b
}

/// A packed value as a table holds it: a value of up to 7 bytes in one word (its bytes and
/// the length tag of [`pack`]: `lo | hi`), a longer one in two. `0` (no tag): an empty slot.
trait Packed: Copy + Eq + Default {
    /// Whether the slot holding this is empty.
    fn empty(self) -> bool;
    /// The word the slot's hash is taken from.
    fn mix(self) -> u64;
    fn bytes(self) -> Vec<u8>;
}

impl Packed for u64 {
    #[inline(always)]
    fn empty(self) -> bool {
        self == 0
    }
    #[inline(always)]
    fn mix(self) -> u64 {
        self
    }
    fn bytes(self) -> Vec<u8> {
        unpack(self & !(0xff << 56), self & 0xff << 56)
    }
}

impl Packed for (u64, u64) {
    #[inline(always)]
    fn empty(self) -> bool {
        self.1 == 0
    }
    #[inline(always)]
    fn mix(self) -> u64 {
        self.0 ^ self.1.rotate_left(29)
    }
    fn bytes(self) -> Vec<u8> {
        unpack(self.0, self.1)
    }
}

/// A packed value (empty: the slot is free) and its count.
#[derive(Debug, Clone, Copy, Default)]
struct Slot<P> {
    key: P,
    n: u64,
}

/// Packed values and their counts, open addressing with linear probing (a value and its count
/// side by side: one cache line read per value counted; 16 bytes a slot for values of up to
/// 7 bytes, so a thousand of them fit in 32 KiB).
#[derive(Debug)]
struct Table<P> {
    slots: Vec<Slot<P>>,
    /// Values held.
    len: usize,
    /// 64 − log2(slots): the hash's top bits pick the slot.
    shift: u32,
    /// Mixed into every hash, different per table, so no log can be written to collide.
    seed: u64,
}

impl<P: Packed> Table<P> {
    fn new() -> Table<P> {
        Table {
            slots: vec![Slot::default(); FIRST_SLOTS],
            len: 0,
            shift: 64 - FIRST_SLOTS.trailing_zeros(),
            seed: std::collections::hash_map::RandomState::new().hash_one(0u64),
        }
    }

    /// Where a value's probe starts: one multiply, the product's top bits.
    #[inline(always)]
    fn slot(&self, key: P) -> usize {
        ((key.mix() ^ self.seed).wrapping_mul(K) >> self.shift) as usize
    }

    /// Adds `n` to a value's count; a value not held yet is taken while fewer than
    /// [`MAX_KEYS`] are held here and `others` elsewhere. Answers whether the value is counted.
    #[inline(always)]
    fn add(&mut self, key: P, n: u64, others: usize) -> bool {
        let mask = self.slots.len() - 1;
        let mut i = self.slot(key);
        loop {
            let s = &mut self.slots[i & mask];
            if s.key == key {
                s.n += n;
                return true;
            }
            if s.key.empty() {
                return self.insert(i & mask, key, n, others);
            }
            i += 1;
        }
    }

    #[cold]
    fn insert(&mut self, i: usize, key: P, n: u64, others: usize) -> bool {
        if self.len + others >= MAX_KEYS {
            return false;
        }
        self.slots[i] = Slot { key, n };
        self.len += 1;
        if self.len * 2 > self.slots.len() {
            self.grow();
        }
        true
    }

    fn grow(&mut self) {
        let slots = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); slots]);
        self.shift -= 1;
        let mask = slots - 1;
        for s in old.into_iter().filter(|s| !s.key.empty()) {
            let mut i = self.slot(s.key) & mask;
            while !self.slots[i].key.empty() {
                i = (i + 1) & mask;
            }
            self.slots[i] = s;
        }
    }

    fn entries(&self) -> impl Iterator<Item = (Vec<u8>, u64)> + '_ {
        self.slots
            .iter()
            .filter(|s| !s.key.empty())
            .map(|s| (s.key.bytes(), s.n))
    }
}

/// Counts per value, capped.
#[derive(Debug)]
pub(super) struct Keys {
    /// Values of up to 7 bytes, and of 8 to 15.
    short: Table<u64>,
    mid: Table<(u64, u64)>,
    long: FxMap<Box<[u8]>, u64>,
    more: bool,
    /// The last short value added and how many times in a row, not yet in `short`.
    run: (u64, u64),
    run_n: u64,
}

impl Default for Keys {
    fn default() -> Keys {
        Keys {
            short: Table::new(),
            mid: Table::new(),
            long: FxMap::default(),
            more: false,
            run: (0, 0),
            run_n: 0,
        }
    }
}

impl Keys {
    #[cfg(test)]
    fn add(&mut self, key: &[u8]) {
        self.add_packed(key, pack(key));
    }

    /// [`Self::add`] for a value that is a part of `line`: a value of up to 8 bytes with 8
    /// bytes of the line from its start is read with one load.
    #[inline(always)]
    pub(super) fn add_in(&mut self, line: &[u8], key: &[u8]) {
        let at = key.as_ptr() as usize - line.as_ptr() as usize;
        let len = key.len();
        let packed = match line.get(at..at + 8) {
            Some(w) if (1..=8).contains(&len) => {
                let mut b = [0u8; 8];
                b.copy_from_slice(w);
                let v = u64::from_le_bytes(b) & (u64::MAX >> (64 - 8 * len));
                Some((v, (0x80 | len as u64) << 56))
            }
            _ => pack(key),
        };
        self.add_packed(key, packed);
    }

    #[inline(always)]
    fn add_packed(&mut self, key: &[u8], packed: Option<(u64, u64)>) {
        match packed {
            Some(v) if v == self.run => self.run_n += 1,
            Some(v) => {
                self.flush();
                self.run = v;
                self.run_n = 1;
            }
            None => self.add_long(key),
        }
    }

    #[cold]
    fn add_long(&mut self, key: &[u8]) {
        let key = &key[..key.len().min(KEY_BYTES)];
        // Counted in the order the values came, so the cap keeps the same ones.
        self.flush();
        self.add_long_n(key, 1);
    }

    /// Counts `n` more of a long value, within the cap.
    fn add_long_n(&mut self, key: &[u8], n: u64) {
        if let Some(m) = self.long.get_mut(key) {
            *m += n;
        } else if self.short.len + self.mid.len + self.long.len() < MAX_KEYS {
            self.long.insert(key.into(), n);
        } else {
            self.more = true;
        }
    }

    /// Counts the run of the last value.
    #[inline(always)]
    fn flush(&mut self) {
        if self.run_n > 0 {
            let ((lo, hi), n) = (self.run, self.run_n);
            let counted = if hi >> 56 & 0x7f < 8 {
                self.short.add(lo | hi, n, self.mid.len + self.long.len())
            } else {
                self.mid.add((lo, hi), n, self.short.len + self.long.len())
            };
            if !counted {
                self.more = true;
            }
            self.run_n = 0;
        }
    }

    /// Adds the counts of `other` (values another scanner counted) within the one cap.
    pub(super) fn absorb(&mut self, mut other: Keys) {
        self.flush();
        other.flush();
        self.more |= other.more;
        for s in other.short.slots.iter().filter(|s| !s.key.empty()) {
            if !self.short.add(s.key, s.n, self.mid.len + self.long.len()) {
                self.more = true;
            }
        }
        for s in other.mid.slots.iter().filter(|s| !s.key.empty()) {
            if !self.mid.add(s.key, s.n, self.short.len + self.long.len()) {
                self.more = true;
            }
        }
        for (k, n) in other.long {
            self.add_long_n(&k, n);
        }
    }

    pub(super) fn top(mut self, sjis: bool) -> Top {
        self.flush();
        let mut all: Vec<(Box<[u8]>, u64)> = self.long.into_iter().collect();
        all.extend(self.short.entries().map(|(k, n)| (k.into_boxed_slice(), n)));
        all.extend(self.mid.entries().map(|(k, n)| (k.into_boxed_slice(), n)));
        all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Top {
            distinct: all.len() as u64,
            more: self.more,
            top: all
                .into_iter()
                .take(TOP)
                .map(|(k, n)| (text(&k, sjis), n))
                .collect(),
        }
    }
}

pub(super) fn text(b: &[u8], sjis: bool) -> String {
    if sjis {
        encoding_rs::SHIFT_JIS.decode(b).0.into_owned()
    } else {
        String::from_utf8_lossy(b).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The counts as the check kept them before this table: a map per value, in order.
    fn reference(values: &[Vec<u8>]) -> Top {
        let mut map: HashMap<Vec<u8>, u64> = HashMap::new();
        let mut more = false;
        for v in values {
            let v = &v[..v.len().min(KEY_BYTES)];
            let held = map.len();
            match map.get_mut(v) {
                Some(n) => *n += 1,
                None if held < MAX_KEYS => {
                    map.insert(v.to_vec(), 1);
                }
                None => more = true,
            }
        }
        let mut seen: Vec<(Vec<u8>, u64)> = map.into_iter().collect();
        seen.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Top {
            distinct: seen.len() as u64,
            more,
            top: seen
                .into_iter()
                .take(TOP)
                .map(|(k, n)| (String::from_utf8_lossy(&k).into_owned(), n))
                .collect(),
        }
    }

    fn counted(values: &[Vec<u8>]) -> Top {
        let mut k = Keys::default();
        for v in values {
            k.add(v);
        }
        k.top(false)
    }

    /// A small deterministic generator (xorshift), so the tests need no crate.
    fn rng(seed: u64) -> impl FnMut() -> u64 {
        let mut s = seed;
        move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        }
    }

    #[test]
    fn values_pack_to_their_bytes_and_length_whatever_their_size() {
        for len in 0..16 {
            let v: Vec<u8> = (0..len as u8).map(|i| b'a' + i).collect();
            let (lo, hi) = pack(&v).unwrap();
            assert_ne!(hi, 0);
            assert_eq!(unpack(lo, hi), v, "{len}");
        }
        assert_eq!(pack(&[b'x'; 16]), None);
        // A shorter value is not a longer one with zeros (the length is packed too).
        assert_ne!(pack(b"AB"), pack(b"AB\0"));
    }

    #[test]
    fn counts_and_order_match_a_plain_count_with_runs_and_long_values() {
        let mut r = rng(7);
        let mut values = vec![];
        for _ in 0..50_000 {
            let x = r();
            let v = match x % 10 {
                // Runs of the same value.
                0..=3 => values.last().cloned().unwrap_or_else(|| b"U0001".to_vec()),
                // Values as long as the packing's width, and past it.
                4 => format!("{:015}", x % 300).into_bytes(),
                5 => format!("LONG-VALUE-{:08}", x % 50).into_bytes(),
                6 => vec![b'z'; 70 + (x % 3) as usize],
                _ => format!("U{:04}", x % 500).into_bytes(),
            };
            values.push(v);
        }
        assert_eq!(counted(&values), reference(&values));
    }

    #[test]
    fn many_distinct_values_stop_at_the_cap_and_say_so() {
        let values: Vec<Vec<u8>> = (0..MAX_KEYS + 5_000)
            .flat_map(|i| {
                let v = format!("{i:07}").into_bytes();
                // Some values longer than 15 bytes, interleaved, to share the cap.
                if i % 10 == 0 {
                    vec![v.clone(), [v.as_slice(), b"-long-suffix"].concat()]
                } else {
                    vec![v]
                }
            })
            .collect();
        let got = counted(&values);
        assert_eq!(got, reference(&values));
        assert!(got.more);
        assert_eq!(got.distinct, MAX_KEYS as u64);
        // Values already held are still counted once the cap is reached.
        let mut again = values.clone();
        again.extend(values.iter().take(20).cloned());
        let got = counted(&again);
        assert_eq!(got, reference(&again));
    }

    #[test]
    fn values_of_up_to_7_bytes_and_of_8_to_15_share_the_cap() {
        // Every other value in the one-word table, the rest in the two-word one.
        let values: Vec<Vec<u8>> = (0..MAX_KEYS + 3_000)
            .map(|i| match i % 3 {
                0 => format!("{i:07}").into_bytes(),
                1 => format!("{i:08}").into_bytes(),
                _ => format!("ID-{:09}", i % 5_000).into_bytes(),
            })
            .collect();
        let got = counted(&values);
        assert_eq!(got, reference(&values));
        assert!(got.more);
    }

    #[test]
    fn colliding_slots_probe_on_and_keep_every_value_apart() {
        // A table with its seed fixed, filled with values that all start in one slot.
        let mut t = Table::<(u64, u64)>::new();
        t.seed = 0;
        let mask = t.slots.len() - 1;
        let at = |t: &Table<(u64, u64)>, v: (u64, u64)| t.slot(v) & mask;
        let target = at(&t, pack(b"A").unwrap());
        let mut same: Vec<(u64, u64)> = vec![];
        let mut i = 0u32;
        while same.len() < 40 {
            let v = pack(format!("{i}").as_bytes()).unwrap();
            if at(&t, v) == target {
                same.push(v);
            }
            i += 1;
        }
        for (n, v) in same.iter().enumerate() {
            for _ in 0..=n {
                assert!(t.add(*v, 1, 0));
            }
        }
        let got: HashMap<Vec<u8>, u64> = t.entries().collect();
        assert_eq!(got.len(), same.len());
        for (n, v) in same.iter().enumerate() {
            assert_eq!(got[&unpack(v.0, v.1)], n as u64 + 1);
        }
        // No room: a held value still counts, a new one does not.
        let (lo, hi) = same[0];
        assert!(t.add((lo, hi), 1, MAX_KEYS));
        let (lo, hi) = pack(b"new").unwrap();
        assert!(!t.add((lo, hi), 1, MAX_KEYS));
    }
}
