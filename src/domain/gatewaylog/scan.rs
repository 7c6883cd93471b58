//! The check as a push parser: bytes go in as they arrive (any chunk size), lines are found
//! with `memchr` and read in place. Memory stays bounded whatever the size: one partial line
//! (at most `MAX_LINE`), the per-day counts and a capped count per user code and number.

use std::collections::HashMap;
use std::hash::BuildHasherDefault;

use rustc_hash::FxHasher;

use super::fields::{self, DateCache, Delimiter, Direction, MAX_COLUMNS, Stamp};
use super::{At, Count, LogCheck, Top};

/// The longest line accepted.
pub const MAX_LINE: usize = 64 * 1024;
/// Line numbers kept per problem.
const KEEP_AT: usize = 10;
/// Different user codes (and numbers) counted one by one; the rest are "others".
const MAX_KEYS: usize = 20_000;
/// Values shown per column.
const TOP: usize = 10;
/// Bytes of a value kept for counting.
const KEY_BYTES: usize = 64;

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

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

/// Why a log is not taken (nothing of it is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// No line at all.
    Empty,
    /// A header and no record.
    HeaderOnly,
    /// Columns Table 7-4-2 requires that the header does not name (column keys).
    Columns(Vec<&'static str>),
    LongLine(At),
    Binary(At),
    /// Neither UTF-8 nor Shift_JIS.
    Encoding(At),
    /// UTF-8 and Shift_JIS in one file.
    Mixed(At),
    TooManyColumns(At),
    /// Inflates far beyond its compressed size.
    Bomb,
    /// A compressed file that cannot be read.
    Compressed,
    ZipPath,
    ZipEntries,
}

/// The header names accepted for each column (Japanese or English, any case).
const COLUMNS: [(&str, &[&str]); 5] = [
    ("direction", &["送受信区分", "送受信", "区分", "direction"]),
    (
        "user_code",
        &["利用者コード", "user_code", "usercode", "user"],
    ),
    (
        "id_number",
        &["識別番号", "id_number", "identification_number", "id"],
    ),
    (
        "business_code",
        &[
            "業務コード",
            "business_code",
            "transaction_code",
            "business",
        ],
    ),
    (
        "timestamp",
        &["年月日時分秒", "日時", "timestamp", "datetime", "time"],
    ),
];
const DIR: usize = 0;
const USER: usize = 1;
const ID: usize = 2;
const BIZ: usize = 3;
const TIME: usize = 4;

#[derive(Debug, Clone, Copy)]
struct Columns {
    delim: Delimiter,
    idx: [usize; 5],
    /// Cells to split (the furthest required column, plus one).
    want: usize,
    /// Cells the header has.
    header: usize,
}

/// Counts per value, capped. Values of up to 15 bytes (user codes and numbers are) are
/// packed into one integer: hashing and comparing it costs no loop and no pointer.
#[derive(Debug, Default)]
struct Keys {
    short: HashMap<u128, u64, BuildHasherDefault<PackedHasher>>,
    long: FxMap<Box<[u8]>, u64>,
    more: bool,
}

impl Keys {
    fn add(&mut self, key: &[u8]) {
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

    fn top(self, sjis: bool) -> Top {
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

fn text(b: &[u8], sjis: bool) -> String {
    if sjis {
        encoding_rs::SHIFT_JIS.decode(b).0.into_owned()
    } else {
        String::from_utf8_lossy(b).into_owned()
    }
}

fn note(c: &mut Count, at: At) {
    c.n += 1;
    if c.at.len() < KEEP_AT {
        c.at.push(at);
    }
}

/// The streaming check of one log (or of the files of one zip, one after another).
pub struct Scanner {
    carry: Vec<u8>,
    entry: u32,
    line: u64,
    cols: Option<Columns>,
    /// The file's encoding once a non-ASCII byte has told: Shift_JIS or not.
    sjis: Option<bool>,
    any_sjis: bool,
    dates: DateCache,
    cells: [(u32, u32); MAX_COLUMNS],
    out: LogCheck,
    first: Option<Stamp>,
    last: Option<Stamp>,
    day: i64,
    day_n: [u64; 2],
    days: FxMap<i64, [u64; 2]>,
    users: Keys,
    ids: Keys,
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner::new()
    }
}

impl Scanner {
    pub fn new() -> Scanner {
        Scanner {
            carry: Vec::new(),
            entry: 0,
            line: 0,
            cols: None,
            sjis: None,
            any_sjis: false,
            dates: DateCache::default(),
            cells: [(0, 0); MAX_COLUMNS],
            out: LogCheck::default(),
            first: None,
            last: None,
            day: i64::MIN,
            day_n: [0, 0],
            days: FxMap::default(),
            users: Keys::default(),
            ids: Keys::default(),
        }
    }

    /// Notes how the file came (`gzip`, `zip`).
    pub fn compression(&mut self, c: &str) {
        self.out.compression = Some(c.to_string());
    }

    /// Starts the next file of a zip: its own header, line numbers and encoding.
    pub fn next_file(&mut self, name: String) -> Result<(), Refused> {
        if !self.out.files.is_empty() {
            self.end_file()?;
        }
        self.out.files.push(name);
        self.entry = self.out.files.len() as u32;
        self.line = 0;
        self.cols = None;
        self.sjis = None;
        Ok(())
    }

    fn at(&self) -> At {
        (self.entry, self.line)
    }

    /// Takes the next bytes of the file.
    pub fn feed(&mut self, mut buf: &[u8]) -> Result<(), Refused> {
        if let Some(nul) = memchr::memchr(0, buf) {
            let lines = memchr::memchr_iter(b'\n', &buf[..nul]).count() as u64;
            return Err(Refused::Binary((self.entry, self.line + lines + 1)));
        }
        if !self.carry.is_empty() {
            match memchr::memchr(b'\n', buf) {
                None => {
                    if self.carry.len() + buf.len() > MAX_LINE {
                        return Err(Refused::LongLine((self.entry, self.line + 1)));
                    }
                    self.carry.extend_from_slice(buf);
                    return Ok(());
                }
                Some(i) => {
                    if self.carry.len() + i > MAX_LINE {
                        return Err(Refused::LongLine((self.entry, self.line + 1)));
                    }
                    let mut line = std::mem::take(&mut self.carry);
                    line.extend_from_slice(&buf[..i]);
                    self.line(&line)?;
                    line.clear();
                    self.carry = line;
                    buf = &buf[i + 1..];
                }
            }
        }
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', buf) {
            if end - start > MAX_LINE {
                return Err(Refused::LongLine((self.entry, self.line + 1)));
            }
            self.line(&buf[start..end])?;
            start = end + 1;
        }
        let rest = &buf[start..];
        if rest.len() > MAX_LINE {
            return Err(Refused::LongLine((self.entry, self.line + 1)));
        }
        self.carry.extend_from_slice(rest);
        Ok(())
    }

    fn end_file(&mut self) -> Result<(), Refused> {
        if !self.carry.is_empty() {
            let line = std::mem::take(&mut self.carry);
            self.line(&line)?;
        }
        Ok(())
    }

    /// Ends the check: the last line without its newline, then the result.
    pub fn finish(mut self) -> Result<LogCheck, Refused> {
        self.end_file()?;
        if self.out.lines == 0 {
            return Err(if self.out.delimiter.is_empty() {
                Refused::Empty
            } else {
                Refused::HeaderOnly
            });
        }
        self.flush_day();
        let mut out = self.out;
        for (d, n) in self.days {
            if let Some(date) = fields::date_of(d * 86_400) {
                out.days.insert(date, n);
            }
        }
        out.first = self.first.map(fields::show);
        out.last = self.last.map(fields::show);
        out.users = self.users.top(self.any_sjis);
        out.ids = self.ids.top(self.any_sjis);
        out.encoding = if self.any_sjis { "sjis" } else { "utf8" }.into();
        Ok(out)
    }

    fn header(&mut self, line: &[u8]) -> Result<(), Refused> {
        let line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        let text = match std::str::from_utf8(line) {
            Ok(t) => {
                if !line.is_ascii() {
                    self.sjis = Some(false);
                }
                t.to_string()
            }
            Err(_) => {
                let (t, _, bad) = encoding_rs::SHIFT_JIS.decode(line);
                if bad {
                    return Err(Refused::Encoding(self.at()));
                }
                self.sjis = Some(true);
                self.any_sjis = true;
                t.into_owned()
            }
        };
        let delim = Delimiter::of_header(text.as_bytes());
        let mut cells = [(0u32, 0u32); MAX_COLUMNS];
        let n = fields::split(text.as_bytes(), delim, MAX_COLUMNS, &mut cells);
        if n == MAX_COLUMNS {
            return Err(Refused::TooManyColumns(self.at()));
        }
        let names: Vec<String> = cells[..n]
            .iter()
            .map(|&(a, b)| {
                String::from_utf8_lossy(fields::trim(&text.as_bytes()[a as usize..b as usize]))
                    .to_lowercase()
            })
            .collect();
        let mut idx = [0usize; 5];
        let mut missing = vec![];
        for (i, (key, accepted)) in COLUMNS.iter().enumerate() {
            match names.iter().position(|h| accepted.iter().any(|a| h == a)) {
                Some(p) => idx[i] = p,
                None => missing.push(*key),
            }
        }
        if !missing.is_empty() {
            return Err(Refused::Columns(missing));
        }
        if self.out.delimiter.is_empty() {
            self.out.delimiter = delim.name().into();
        }
        self.cols = Some(Columns {
            delim,
            idx,
            want: idx.iter().max().copied().unwrap_or(0) + 1,
            header: n,
        });
        Ok(())
    }

    fn flush_day(&mut self) {
        if self.day != i64::MIN {
            let n = self.days.entry(self.day).or_default();
            n[0] += self.day_n[0];
            n[1] += self.day_n[1];
        }
    }

    fn line(&mut self, raw: &[u8]) -> Result<(), Refused> {
        self.line += 1;
        let line = match raw {
            [rest @ .., b'\r'] => rest,
            _ => raw,
        };
        let Some(cols) = self.cols else {
            if fields::trim(line).is_empty() {
                return Ok(());
            }
            return self.header(line);
        };
        let n = fields::split(line, cols.delim, cols.want, &mut self.cells);
        let cell = |cells: &[(u32, u32); MAX_COLUMNS], i: usize| -> &[u8] {
            if i < n {
                let (a, b) = cells[i];
                fields::trim(&line[a as usize..b as usize])
            } else {
                b""
            }
        };
        // Aligned columns: a receive line may leave 識別番号 out, and the columns after it
        // move left by one.
        let mut idx = cols.idx;
        if cols.delim == Delimiter::Spaces && n + 1 == cols.header {
            let shifted = idx.map(|i| if i > idx[ID] { i - 1 } else { i });
            if let Some((Direction::Receive, _)) =
                fields::direction(cell(&self.cells, shifted[DIR]))
            {
                idx = shifted;
                idx[ID] = usize::MAX;
            }
        } else if n <= 1 && fields::trim(line).is_empty() {
            return Ok(());
        }
        let at = self.at();
        self.out.lines += 1;
        let user = cell(&self.cells, idx[USER]);
        let biz = cell(&self.cells, idx[BIZ]);
        let time = cell(&self.cells, idx[TIME]);
        let id = if idx[ID] == usize::MAX {
            b"" as &[u8]
        } else {
            cell(&self.cells, idx[ID])
        };
        let dir = fields::direction(cell(&self.cells, idx[DIR]));
        if let Some((_, Some(sjis))) = dir {
            match self.sjis {
                None => {
                    self.sjis = Some(sjis);
                    self.any_sjis |= sjis;
                }
                Some(s) if s != sjis => return Err(Refused::Mixed(at)),
                Some(_) => {}
            }
        }
        let slot = match dir {
            Some((Direction::Send, _)) => {
                self.out.sent += 1;
                if user.is_empty() || id.is_empty() || biz.is_empty() || time.is_empty() {
                    note(&mut self.out.send_missing, at);
                }
                Some(0)
            }
            Some((Direction::Receive, _)) => {
                self.out.received += 1;
                if user.is_empty() || biz.is_empty() || time.is_empty() {
                    note(&mut self.out.receive_missing, at);
                }
                Some(1)
            }
            None => {
                note(&mut self.out.bad_direction, at);
                None
            }
        };
        if !user.is_empty() {
            self.users.add(user);
        }
        if !id.is_empty() {
            self.ids.add(id);
        }
        if time.is_empty() {
            return Ok(());
        }
        match fields::timestamp(time, &mut self.dates) {
            Some(t) => {
                if self.first.is_none_or(|f| t < f) {
                    self.first = Some(t);
                }
                if self.last.is_none_or(|l| t > l) {
                    self.last = Some(t);
                }
                if let Some(s) = slot {
                    let day = t.div_euclid(86_400);
                    if day != self.day {
                        self.flush_day();
                        self.day = day;
                        self.day_n = [0, 0];
                    }
                    self.day_n[s] += 1;
                }
            }
            None => note(&mut self.out.bad_time, at),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(chunks: &[&[u8]]) -> Result<LogCheck, Refused> {
        let mut s = Scanner::new();
        for c in chunks {
            s.feed(c)?;
        }
        s.finish()
    }

    const LOG: &str = "送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\r\n送信,ABC12,001,IDA,2026-10-01 09:00:00\r\n\r\n受信,ABC12,,IDA,2026-10-01 09:00:01";

    #[test]
    fn any_chunking_gives_the_same_result() {
        let whole = run(&[LOG.as_bytes()]).unwrap();
        assert_eq!(whole.lines, 2);
        for cut in 1..LOG.len() {
            let (a, b) = LOG.as_bytes().split_at(cut);
            assert_eq!(run(&[a, b]).unwrap(), whole, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = LOG.as_bytes().chunks(1).collect();
        assert_eq!(run(&bytes).unwrap(), whole);
    }

    #[test]
    fn bad_files_are_refused_with_where() {
        assert_eq!(run(&[b""]), Err(Refused::Empty));
        assert_eq!(run(&[b"\n \n"]), Err(Refused::Empty));
        assert_eq!(
            run(&["送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n\n".as_bytes()]),
            Err(Refused::HeaderOnly)
        );
        assert_eq!(
            run(&[b"user_code,timestamp\n"]),
            Err(Refused::Columns(vec![
                "direction",
                "id_number",
                "business_code"
            ]))
        );
        let long = format!(
            "{}\n送信,{}\n",
            LOG.lines().next().unwrap(),
            "x".repeat(MAX_LINE + 1)
        );
        assert_eq!(run(&[long.as_bytes()]), Err(Refused::LongLine((0, 2))));
        let chunks: Vec<&[u8]> = long.as_bytes().chunks(1000).collect();
        assert_eq!(run(&chunks), Err(Refused::LongLine((0, 2))));
        assert_eq!(run(&[b"a,b\nc\0d\n"]), Err(Refused::Binary((0, 2))));
        assert_eq!(run(&[b"\xff\xfe\xfd,b\n"]), Err(Refused::Encoding((0, 1))));
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("受信");
        let mut mixed = b"direction,user_code,id_number,business_code,timestamp\n".to_vec();
        mixed.extend_from_slice("送信,A,1,IDA,20261001090000\n".as_bytes());
        mixed.extend_from_slice(&sjis);
        mixed.extend_from_slice(b",A,,IDA,20261001090000\n");
        assert_eq!(run(&[&mixed]), Err(Refused::Mixed((0, 3))));
    }

    #[test]
    fn shift_jis_logs_are_read_and_their_values_shown_as_text() {
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(
            "送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n送信,東京01,001,IDA,2026-10-01 09:00:00\n",
        );
        let c = run(&[&sjis]).unwrap();
        assert_eq!(c.encoding, "sjis");
        assert_eq!(c.users.top, vec![("東京01".to_string(), 1)]);
        assert_eq!(c.sent, 1);
    }
}
