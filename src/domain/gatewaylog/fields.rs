//! One log line's fields, read as bytes: the direction, the date-time (年月日時分秒) and the
//! split into columns. Nothing here allocates; a line is never turned into a `String`.

use chrono::{Datelike, NaiveDate};

/// Send (送信) or receive (受信).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Send,
    Receive,
}

/// "送信" and "受信" in UTF-8 and in Shift_JIS.
const SEND_UTF8: &[u8] = "送信".as_bytes();
const RECEIVE_UTF8: &[u8] = "受信".as_bytes();
const SEND_SJIS: &[u8] = &[0x91, 0x97, 0x90, 0x4D];
const RECEIVE_SJIS: &[u8] = &[0x8E, 0xF3, 0x90, 0x4D];

/// What a direction cell says, and whether it was written in Shift_JIS (`Some(true)`),
/// UTF-8 (`Some(false)`) or plain ASCII (`None`).
#[inline]
pub fn direction(cell: &[u8]) -> Option<(Direction, Option<bool>)> {
    // 送信 and 受信 in UTF-8 (most logs), compared in place.
    if cell.len() == 6 {
        if cell == SEND_UTF8 {
            return Some((Direction::Send, Some(false)));
        }
        if cell == RECEIVE_UTF8 {
            return Some((Direction::Receive, Some(false)));
        }
    }
    direction_any(cell)
}

fn direction_any(cell: &[u8]) -> Option<(Direction, Option<bool>)> {
    match cell {
        SEND_UTF8 => return Some((Direction::Send, Some(false))),
        RECEIVE_UTF8 => return Some((Direction::Receive, Some(false))),
        SEND_SJIS => return Some((Direction::Send, Some(true))),
        RECEIVE_SJIS => return Some((Direction::Receive, Some(true))),
        // 送 and 受 alone, as some gateways write them.
        [0xE9, 0x80, 0x81] => return Some((Direction::Send, Some(false))),
        [0xE5, 0x8F, 0x97] => return Some((Direction::Receive, Some(false))),
        [0x91, 0x97] => return Some((Direction::Send, Some(true))),
        [0x8E, 0xF3] => return Some((Direction::Receive, Some(true))),
        _ => {}
    }
    if cell.len() > 8 {
        return None;
    }
    let mut low = [0u8; 8];
    for (d, s) in low.iter_mut().zip(cell) {
        *d = s.to_ascii_lowercase();
    }
    match &low[..cell.len()] {
        b"send" | b"s" | b"snd" | b"sent" | b"out" | b"o" | b"tx" => Some((Direction::Send, None)),
        b"receive" | b"r" | b"rcv" | b"recv" | b"received" | b"in" | b"i" | b"rx" => {
            Some((Direction::Receive, None))
        }
        _ => None,
    }
}

/// Seconds from 0001-01-01 00:00:00 JST; dates from the day number, kept for the next line.
pub type Stamp = i64;

/// The day number (from the common era) of the last date read, to skip the calendar when
/// the next line is on the same day (most are).
#[derive(Debug, Default)]
pub struct DateCache {
    ymd: u32,
    days: i64,
    /// The date as written (`YYYY-MM-DD` or `YYYY/MM/DD`, its first eight bytes and its last
    /// two) when the last time read was in that form: a time on the same day is read from its
    /// clock alone.
    dashed: Option<(u64, u16)>,
}

impl DateCache {
    /// A time written `YYYY-MM-DD hh:mm:ss` (no zone) on the day of the time before: what
    /// [`timestamp`] answers for it, from the clock alone. `None`: not such a time.
    #[inline]
    fn same_day(&self, raw: &[u8]) -> Option<Stamp> {
        let r: &[u8; 19] = raw.try_into().ok()?;
        let date = u64::from_le_bytes([r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7]]);
        if self.dashed != Some((date, u16::from_le_bytes([r[8], r[9]])))
            || !matches!(r[10], b' ' | b'T')
            || r[13] != b':'
            || r[16] != b':'
        {
            return None;
        }
        let (h, mi, s) = (two(r[11], r[12])?, two(r[14], r[15])?, two(r[17], r[18])?);
        if h > 23 || mi > 59 || s > 60 {
            return None;
        }
        Some(self.days * 86_400 + (h * 3600 + mi * 60 + s.min(59)) as i64)
    }
}

/// Two ASCII digits.
#[inline]
fn two(a: u8, b: u8) -> Option<u32> {
    let (a, b) = (a.wrapping_sub(b'0'), b.wrapping_sub(b'0'));
    (a <= 9 && b <= 9).then_some((a * 10 + b) as u32)
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + d as u32;
    }
    Some(v)
}

const JST: i64 = 9 * 3600;

/// Reads `YYYYMMDDhhmmss`, `YYYY-MM-DD hh:mm:ss`, `YYYY/MM/DD hh:mm:ss` or ISO 8601
/// (`T`, the basic `YYYYMMDDThhmmss` too, fractions, `Z` or `±hh:mm`); a time without a zone
/// is JST. Answers seconds in JST.
#[inline]
pub fn timestamp(raw: &[u8], cache: &mut DateCache) -> Option<Stamp> {
    match cache.same_day(raw) {
        Some(t) => Some(t),
        None => read_time(raw, cache),
    }
}

/// [`timestamp`] in full.
fn read_time(raw: &[u8], cache: &mut DateCache) -> Option<Stamp> {
    let (y, mo, d, h, mi, s, rest) = if raw.len() >= 14 && raw[..14].iter().all(u8::is_ascii_digit)
    {
        (
            digits(&raw[0..4])?,
            digits(&raw[4..6])?,
            digits(&raw[6..8])?,
            digits(&raw[8..10])?,
            digits(&raw[10..12])?,
            digits(&raw[12..14])?,
            &raw[14..],
        )
    } else if raw.len() >= 15 && raw[8] == b'T' {
        // ISO 8601's basic format: 20261001T090000.
        (
            digits(&raw[0..4])?,
            digits(&raw[4..6])?,
            digits(&raw[6..8])?,
            digits(&raw[9..11])?,
            digits(&raw[11..13])?,
            digits(&raw[13..15])?,
            &raw[15..],
        )
    } else {
        if raw.len() < 19 {
            return None;
        }
        let sep = raw[4];
        if !(sep == b'-' || sep == b'/')
            || raw[7] != sep
            || !(raw[10] == b' ' || raw[10] == b'T')
            || raw[13] != b':'
            || raw[16] != b':'
        {
            return None;
        }
        (
            digits(&raw[0..4])?,
            digits(&raw[5..7])?,
            digits(&raw[8..10])?,
            digits(&raw[11..13])?,
            digits(&raw[14..16])?,
            digits(&raw[17..19])?,
            &raw[19..],
        )
    };
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let offset = zone(rest)?;
    let ymd = y * 10_000 + mo * 100 + d;
    if ymd != cache.ymd {
        let date = NaiveDate::from_ymd_opt(y as i32, mo, d)?;
        if !(1970..=2199).contains(&date.year()) {
            return None;
        }
        *cache = DateCache {
            ymd,
            days: date.num_days_from_ce() as i64,
            dashed: None,
        };
    }
    if let [a, b, c, d, e, f, g, h, i, j, ..] = *raw
        && matches!(e, b'-' | b'/')
    {
        cache.dashed = Some((
            u64::from_le_bytes([a, b, c, d, e, f, g, h]),
            u16::from_le_bytes([i, j]),
        ));
    }
    let local = cache.days * 86_400 + (h * 3600 + mi * 60 + s.min(59)) as i64;
    Some(match offset {
        Some(o) => local - o + JST,
        None => local,
    })
}

/// What follows the seconds: nothing, a fraction, then an optional zone. `Ok(None)`: no zone.
fn zone(rest: &[u8]) -> Option<Option<i64>> {
    let mut r = rest;
    if let Some(b'.' | b',') = r.first() {
        let n = r[1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        r = &r[1 + n..];
    }
    match r {
        [] => Some(None),
        [b'Z'] | [b'z'] => Some(Some(0)),
        [sign @ (b'+' | b'-'), hh @ ..] => {
            let (h, m) = match hh {
                [a, b, b':', c, d] => (digits(&[*a, *b])?, digits(&[*c, *d])?),
                [a, b, c, d] => (digits(&[*a, *b])?, digits(&[*c, *d])?),
                [a, b] => (digits(&[*a, *b])?, 0),
                _ => return None,
            };
            if h > 14 || m > 59 {
                return None;
            }
            let o = (h * 3600 + m * 60) as i64;
            Some(Some(if *sign == b'-' { -o } else { o }))
        }
        _ => None,
    }
}

/// The calendar date of a stamp.
pub fn date_of(stamp: Stamp) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(stamp.div_euclid(86_400)).ok()?)
}

/// A stamp as people read it (JST).
pub fn show(stamp: Stamp) -> String {
    let secs = stamp.rem_euclid(86_400);
    match date_of(stamp) {
        Some(d) => format!(
            "{d} {:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        ),
        None => String::new(),
    }
}

/// How columns are separated, decided from the header line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delimiter {
    Byte(u8),
    /// Runs of spaces (columns aligned for reading).
    Spaces,
}

impl Delimiter {
    /// Tab, comma, semicolon or bar when the header has one; else runs of spaces.
    pub fn of_header(header: &[u8]) -> Delimiter {
        for b in [b'\t', b',', b';', b'|'] {
            if header.contains(&b) {
                return Delimiter::Byte(b);
            }
        }
        Delimiter::Spaces
    }

    /// The name stored with the check (`comma`, `tab`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Delimiter::Byte(b'\t') => "tab",
            Delimiter::Byte(b',') => "comma",
            Delimiter::Byte(b';') => "semicolon",
            Delimiter::Byte(_) => "bar",
            Delimiter::Spaces => "spaces",
        }
    }
}

/// Trims spaces, a carriage return and surrounding double quotes.
#[inline]
pub fn trim(b: &[u8]) -> &[u8] {
    // Most cells start and end with neither (every byte trimmed is below `!`... or `"`).
    match b {
        [first, .., last] if *first > b'"' && *last > b'"' => b,
        [only] if *only > b'"' => b,
        _ => trim_ends(b),
    }
}

fn trim_ends(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\r', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r'] = b {
        b = rest;
    }
    if b.len() >= 2 && b[0] == b'"' && b[b.len() - 1] == b'"' {
        b = &b[1..b.len() - 1];
    }
    b
}

/// The most columns a log line may have.
pub const MAX_COLUMNS: usize = 64;

/// Splits a line into at most `want` cells (byte ranges, untrimmed), answering how many.
/// Quoted cells may hold the delimiter. With spaces, a date and the time after it form one
/// cell (`2026-10-01 09:00:00`).
pub fn split(
    line: &[u8],
    delim: Delimiter,
    want: usize,
    out: &mut [(u32, u32); MAX_COLUMNS],
) -> usize {
    let want = want.min(MAX_COLUMNS);
    let mut n = 0;
    match delim {
        // Eight bytes at a time (the delimiters and quotes of a word found at once, without
        // a loop per byte); a quote sends the line to the slower reading that honours quoting.
        Delimiter::Byte(d) => {
            let (delims, quotes) = (ONES * d as u64, ONES * b'"' as u64);
            let mut start = 0;
            let mut at = 0;
            while at < line.len() {
                let w = word(line, at);
                if zero_bytes(w ^ quotes) != 0 {
                    return split_quoted(line, d, want, out);
                }
                let mut hits = zero_bytes(w ^ delims);
                while hits != 0 {
                    let i = at + (hits.trailing_zeros() / 8) as usize;
                    hits &= hits - 1;
                    out[n] = (start as u32, i as u32);
                    n += 1;
                    if n == want {
                        return n;
                    }
                    start = i + 1;
                }
                at += 8;
            }
            out[n] = (start as u32, line.len() as u32);
            n + 1
        }
        Delimiter::Spaces => {
            let mut i = 0;
            while i < line.len() && n < want {
                while i < line.len() && matches!(line[i], b' ' | b'\t' | b'\r') {
                    i += 1;
                }
                if i == line.len() {
                    break;
                }
                let start = i;
                while i < line.len() && !matches!(line[i], b' ' | b'\t' | b'\r') {
                    i += 1;
                }
                // A date followed by its time is one cell.
                let cell = &line[start..i];
                if cell.len() == 10
                    && matches!(cell[4], b'-' | b'/')
                    && line.get(i) == Some(&b' ')
                    && line.get(i + 3) == Some(&b':')
                {
                    i += 1;
                    while i < line.len() && !matches!(line[i], b' ' | b'\t' | b'\r') {
                        i += 1;
                    }
                }
                out[n] = (start as u32, i as u32);
                n += 1;
            }
            n
        }
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each zero byte of `x` (exactly: no byte is marked for its neighbour).
#[inline]
fn zero_bytes(x: u64) -> u64 {
    !(((x & !HIGHS) + !HIGHS) | x) & HIGHS
}

/// The eight bytes of `line` from `at` as a little-endian word, zeros past the line's end.
#[inline]
fn word(line: &[u8], at: usize) -> u64 {
    if let Some(w) = line.get(at..at + 8) {
        let mut b = [0u8; 8];
        b.copy_from_slice(w);
        return u64::from_le_bytes(b);
    }
    let rest = line.len() - at;
    if line.len() >= 8 {
        // The line's last eight bytes, moved down past those already read.
        let mut b = [0u8; 8];
        b.copy_from_slice(&line[line.len() - 8..]);
        u64::from_le_bytes(b) >> (8 * (8 - rest))
    } else {
        let mut b = [0u8; 8];
        b[..rest].copy_from_slice(&line[at..]);
        u64::from_le_bytes(b)
    }
}

/// Line ends, delimiters and quotes among 64 bytes, one bit per byte (bit `i`: byte `i`), and
/// the bytes a cell's trimming would take off (those up to `"`: spaces, tabs, carriage
/// returns, quotes; a few other signs and control bytes too).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Block {
    pub ends: u64,
    pub delims: u64,
    pub quotes: u64,
    pub low: u64,
}

impl Block {
    /// The stops of 64 bytes split by `d`.
    #[inline]
    pub fn of(b: &[u8; 64], d: u8) -> Block {
        block(b, d)
    }

    /// The stops of up to 64 bytes (none past the end).
    pub fn of_tail(b: &[u8], d: u8) -> Block {
        let mut full = [0u8; 64];
        let n = b.len().min(64);
        full[..n].copy_from_slice(&b[..n]);
        // Zeros are neither a line end, a delimiter (never 0) nor a quote.
        block(&full, d)
    }
}

/// SSE2 (in every x86-64 processor): sixteen bytes compared at once and their results
/// gathered into bits, the way `memchr` finds a byte. Nothing in std or the crates the portal
/// uses offers this without `unsafe`; the loop below is the same without it, eight times
/// slower, and the check's measure (issue 11: near `wc -l`'s speed) needs it.
#[cfg(target_arch = "x86_64")]
#[inline]
fn block(b: &[u8; 64], d: u8) -> Block {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_set1_epi8,
    };
    let mut out = Block::default();
    // SAFETY: SSE2 is part of the x86-64 baseline, so its intrinsics are always available;
    // each unaligned load reads the 16 bytes at `16 * k`, inside the 64 of `b`.
    unsafe {
        let (ends, delims, quotes) = (
            _mm_set1_epi8(b'\n' as i8),
            _mm_set1_epi8(d as i8),
            _mm_set1_epi8(b'"' as i8),
        );
        for k in 0..4 {
            let v = _mm_loadu_si128(b.as_ptr().add(16 * k).cast::<__m128i>());
            let bits = |c| _mm_movemask_epi8(_mm_cmpeq_epi8(v, c)) as u16 as u64;
            out.ends |= bits(ends) << (16 * k);
            out.delims |= bits(delims) << (16 * k);
            out.quotes |= bits(quotes) << (16 * k);
            // Up to `"` (unsigned): the smaller of a byte and `"` is the byte itself.
            let low = _mm_cmpeq_epi8(_mm_min_epu8(v, quotes), v);
            out.low |= (_mm_movemask_epi8(low) as u16 as u64) << (16 * k);
        }
    }
    out
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn block(b: &[u8; 64], d: u8) -> Block {
    let mut out = Block::default();
    for (i, &c) in b.iter().enumerate() {
        out.ends |= ((c == b'\n') as u64) << i;
        out.delims |= ((c == d) as u64) << i;
        out.quotes |= ((c == b'"') as u64) << i;
        out.low |= ((c <= b'"') as u64) << i;
    }
    out
}

/// `split` for a line with quotes: a delimiter inside quotes belongs to the cell.
fn split_quoted(line: &[u8], d: u8, want: usize, out: &mut [(u32, u32); MAX_COLUMNS]) -> usize {
    let (mut n, mut start, mut quoted) = (0, 0, false);
    for (i, &c) in line.iter().enumerate() {
        if c == b'"' {
            quoted = !quoted;
        } else if c == d && !quoted {
            out[n] = (start as u32, i as u32);
            n += 1;
            if n == want {
                return n;
            }
            start = i + 1;
        }
    }
    out[n] = (start as u32, line.len() as u32);
    n + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stamp(s: &str) -> Option<String> {
        timestamp(s.as_bytes(), &mut DateCache::default()).map(show)
    }

    #[test]
    fn the_accepted_time_formats_read_as_jst() {
        for s in [
            "20261001090000",
            "2026-10-01 09:00:00",
            "2026/10/01 09:00:00",
            "2026-10-01T09:00:00",
            "2026-10-01T09:00:00.123",
            "2026-10-01T00:00:00Z",
            "2026-10-01T09:00:00+09:00",
            "2026-09-30T19:00:00-05:00",
            "2026-10-01T09:00:00+0900",
            "2026-10-01T00:00:00.5+00",
            "2026/10/01 09:00:00.250",
            "20261001090000+09:00",
            "20261001T090000",
            "20261001T000000Z",
            "20261001T090000.000+0900",
        ] {
            assert_eq!(stamp(s).as_deref(), Some("2026-10-01 09:00:00"), "{s}");
        }
        for s in [
            "yesterday",
            "2026-13-01 00:00:00",
            "2026-02-30 00:00:00",
            "2026-10-01 25:00:00",
            "2026-10-01",
            "2026-10-01 09:00:00 JST",
            "20261001T0900",
            "20261001X090000",
            "2026100109000",
        ] {
            assert_eq!(stamp(s), None, "{s}");
        }
    }

    /// The split as it read a byte at a time before it read eight.
    fn split_bytewise(
        line: &[u8],
        d: u8,
        want: usize,
        out: &mut [(u32, u32); MAX_COLUMNS],
    ) -> usize {
        let want = want.min(MAX_COLUMNS);
        let (mut n, mut start) = (0, 0);
        for (i, &c) in line.iter().enumerate() {
            if c == d {
                out[n] = (start as u32, i as u32);
                n += 1;
                if n == want {
                    return n;
                }
                start = i + 1;
            } else if c == b'"' {
                return split_quoted(line, d, want, out);
            }
        }
        out[n] = (start as u32, line.len() as u32);
        n + 1
    }

    #[test]
    fn eight_bytes_at_a_time_split_as_one_byte_at_a_time_did() {
        let mut s = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            s
        };
        let (mut a, mut b) = ([(0, 0); MAX_COLUMNS], [(0, 0); MAX_COLUMNS]);
        let alphabet = b",,,\t;\"a1 \r\xe3";
        for _ in 0..100_000 {
            let len = (next() % 90) as usize;
            let line: Vec<u8> = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            for d in [b',', b'\t', b';'] {
                let want = 1 + (next() % 8) as usize;
                let n = split(&line, Delimiter::Byte(d), want, &mut a);
                let m = split_bytewise(&line, d, want, &mut b);
                assert_eq!(a[..n], b[..m], "{line:?} {d} {want}");
            }
        }
        let long = [b"x,".repeat(40), b"\"".to_vec()].concat();
        let n = split(&long, Delimiter::Byte(b','), MAX_COLUMNS, &mut a);
        assert_eq!(n, split_bytewise(&long, b',', MAX_COLUMNS, &mut b));
        assert_eq!(a[..n], b[..n]);
    }

    #[test]
    fn a_time_on_the_day_before_reads_the_same_from_its_clock_alone() {
        let mut cache = DateCache::default();
        for s in [
            "2026-10-01 09:00:00",
            "2026-10-01 23:59:60",
            "2026-10-01T00:00:01",
            "2026-10-01 24:00:00",
            "2026-10-01 09:0x:00",
            "2026-10-01 09:00:00Z",
            "2026-10-01_09:00:00",
            "20261002090000",
            "2026-10-01 09:00:01",
            "2026/10/01 09:00:02",
            "2026/10/01 09:00:03",
            "2026-10-02 09:00:04",
        ] {
            let fresh = timestamp(s.as_bytes(), &mut DateCache::default());
            assert_eq!(timestamp(s.as_bytes(), &mut cache), fresh, "{s}");
        }
    }

    #[test]
    fn directions_are_read_in_both_encodings_and_in_english() {
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("受信");
        assert_eq!(direction(&sjis), Some((Direction::Receive, Some(true))));
        assert_eq!(
            direction("送信".as_bytes()),
            Some((Direction::Send, Some(false)))
        );
        assert_eq!(direction(b"RECV"), Some((Direction::Receive, None)));
        assert_eq!(direction(b"x"), None);
        // 送 and 受 alone.
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("送");
        assert_eq!(direction(&sjis), Some((Direction::Send, Some(true))));
        assert_eq!(
            direction("受".as_bytes()),
            Some((Direction::Receive, Some(false)))
        );
    }

    #[test]
    fn lines_split_by_any_delimiter_with_quotes_and_aligned_columns() {
        let mut out = [(0, 0); MAX_COLUMNS];
        let cells = |line: &str, d: Delimiter, out: &mut [(u32, u32); MAX_COLUMNS]| {
            let n = split(line.as_bytes(), d, 10, out);
            out[..n]
                .iter()
                .map(|&(a, b)| {
                    String::from_utf8_lossy(trim(&line.as_bytes()[a as usize..b as usize]))
                        .to_string()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            cells("a,\"b,c\",d", Delimiter::Byte(b','), &mut out),
            ["a", "b,c", "d"]
        );
        assert_eq!(
            cells("a\t\tc", Delimiter::Byte(b'\t'), &mut out),
            ["a", "", "c"]
        );
        assert_eq!(
            cells(
                "送信  ABC12  001  IDA  2026-10-01 09:00:00",
                Delimiter::Spaces,
                &mut out
            ),
            ["送信", "ABC12", "001", "IDA", "2026-10-01 09:00:00"]
        );
        assert_eq!(Delimiter::of_header(b"a b  c"), Delimiter::Spaces);
        assert_eq!(Delimiter::of_header(b"a\tb,c"), Delimiter::Byte(b'\t'));
    }
}
