//! Counts per value of a column (利用者コード, 識別番号), capped, for the check's "who
//! appears" lists.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use rustc_hash::FxHasher;

use super::Top;

/// Different user codes (and numbers) counted one by one; the rest are "others".
const MAX_KEYS: usize = 20_000;
/// Values shown per column.
const TOP: usize = 10;
/// Bytes of a value kept for counting.
const KEY_BYTES: usize = 64;

pub(super) type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// Hashes a packed value with one multiply (the general hashers take it byte by byte).
#[derive(Default)]
struct PackedHasher(u64);

impl std::hash::Hasher for PackedHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(5) ^ b as u64).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn write_u128(&mut self, i: u128) {
        let h =
            ((i as u64) ^ ((i >> 64) as u64).rotate_left(32)).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.0 = h ^ (h >> 29);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Counts per value, capped. Values of up to 15 bytes (user codes and numbers are) are
/// packed into one integer: hashing and comparing it costs no loop and no pointer.
#[derive(Debug, Default)]
pub(super) struct Keys {
    short: HashMap<u128, u64, BuildHasherDefault<PackedHasher>>,
    long: FxMap<Box<[u8]>, u64>,
    more: bool,
}

impl Keys {
    pub(super) fn add(&mut self, key: &[u8]) {
        let key = &key[..key.len().min(KEY_BYTES)];
        let full = self.short.len() + self.long.len() >= MAX_KEYS;
        if key.len() < 16 {
            let mut b = [0u8; 16];
            b[..key.len()].copy_from_slice(key);
            b[15] = key.len() as u8;
            let k = u128::from_le_bytes(b);
            if let Some(n) = self.short.get_mut(&k) {
                *n += 1;
            } else if !full {
                self.short.insert(k, 1);
            } else {
                self.more = true;
            }
        } else if let Some(n) = self.long.get_mut(key) {
            *n += 1;
        } else if !full {
            self.long.insert(key.into(), 1);
        } else {
            self.more = true;
        }
    }

    pub(super) fn top(self, sjis: bool) -> Top {
        let mut all: Vec<(Box<[u8]>, u64)> = self.long.into_iter().collect();
        all.extend(self.short.into_iter().map(|(k, n)| {
            let b = k.to_le_bytes();
            (b[..b[15] as usize].into(), n)
        }));
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
