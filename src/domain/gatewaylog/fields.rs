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
pub fn direction(cell: &[u8]) -> Option<(Direction, Option<bool>)> {
    match cell {
        SEND_UTF8 => return Some((Direction::Send, Some(false))),
        RECEIVE_UTF8 => return Some((Direction::Receive, Some(false))),
        SEND_SJIS => return Some((Direction::Send, Some(true))),
        RECEIVE_SJIS => return Some((Direction::Receive, Some(true))),
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
pub fn timestamp(raw: &[u8], cache: &mut DateCache) -> Option<Stamp> {
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
        };
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
pub fn trim(mut b: &[u8]) -> &[u8] {
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
        // One pass over the bytes (a log line is short: a plain loop beats a search per
        // cell); a quote sends the line to the slower reading that honours quoting.
        Delimiter::Byte(d) => {
            let mut start = 0;
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
