//! The check as a push parser: bytes go in as they arrive (any chunk size), lines are found
//! with `memchr` and read in place. Memory stays bounded whatever the size: one partial line
//! (at most `MAX_LINE`), the per-day counts and a capped count per user code and number.

use super::fields::{self, DateCache, Delimiter, Direction, MAX_COLUMNS, Stamp};
use super::keys::{FxMap, Keys};
use super::mapping::{self, ColumnMap, DIR, ID, NONE};
use super::{At, Count, LogCheck};

/// The longest line accepted.
pub const MAX_LINE: usize = 64 * 1024;
/// Line numbers kept per problem.
const KEEP_AT: usize = 10;
/// Why a log is not taken (nothing of it is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// No line at all.
    Empty,
    /// A header and no record.
    HeaderOnly,
    /// Columns Table 7-4-2 requires that the header does not name (column keys): the log
    /// needs a mapping first.
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

const USER: usize = 1;
const BIZ: usize = 3;
const TIME: usize = 4;
/// Bytes of a file's start kept for the page's preview of its first lines.
const HEAD: usize = 8 * 1024;
/// Lines of the preview.
const PREVIEW_LINES: usize = 6;

#[derive(Debug, Clone, Copy)]
struct Columns {
    delim: Delimiter,
    idx: [usize; 5],
    /// Cells to split (the furthest required column, plus one).
    want: usize,
    /// Cells the header has.
    header: usize,
}

fn note(c: &mut Count, at: At) {
    c.n += 1;
    if c.at.len() < KEEP_AT {
        c.at.push(at);
    }
}

/// One record line as the check reads it, handed to a [`Visit`] (the search of submitted
/// logs reads lines through the check's own parsing).
#[derive(Debug)]
pub struct Record<'a> {
    pub at: At,
    /// The file inside a zip, when the log is one.
    pub entry: Option<&'a str>,
    /// The line as written, without its line end.
    pub raw: &'a [u8],
    pub direction: Option<Direction>,
    pub user: &'a [u8],
    pub id: &'a [u8],
    pub business: &'a [u8],
    /// The time, when it reads (JST).
    pub time: Option<Stamp>,
}

/// What looks at each record while the check runs (`()`: nothing).
pub trait Visit {
    /// Whether the check counts lines per 利用者コード and 識別番号 (a search that drops the
    /// check's result need not pay for them).
    const COUNTS: bool = true;
    /// Whether a record line (not the header) can be passed over unread: a line skipped is
    /// not counted by the check either, so only a search that drops the check skips.
    fn skip(&mut self, _line: &[u8]) -> bool {
        false
    }
    fn record(&mut self, r: &Record<'_>);
}

impl Visit for () {
    #[inline]
    fn record(&mut self, _: &Record<'_>) {}
}

impl<V: Visit + ?Sized> Visit for &mut V {
    const COUNTS: bool = V::COUNTS;
    fn skip(&mut self, line: &[u8]) -> bool {
        (**self).skip(line)
    }
    fn record(&mut self, r: &Record<'_>) {
        (**self).record(r)
    }
}

/// The streaming check of one log (or of the files of one zip, one after another).
pub struct Scanner<V: Visit = ()> {
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
    visit: V,
    /// The gateway site's mapping (`None`: columns found by the header's names).
    map: Option<ColumnMap>,
    /// Whether the columns could not be told: the rest is only measured, not read.
    unmapped: bool,
    /// The first bytes of the (first) file, for the preview.
    head: Vec<u8>,
}

impl Default for Scanner {
    fn default() -> Self {
        Scanner::new()
    }
}

impl Scanner {
    pub fn new() -> Scanner {
        Scanner::visiting(())
    }

    /// A check that reads the columns by a gateway site's mapping (`None`: by the header).
    pub fn mapped(map: Option<ColumnMap>) -> Scanner {
        Scanner::visiting_mapped((), map)
    }
}

impl<V: Visit> Scanner<V> {
    /// A check that shows each record to `visit`.
    pub fn visiting(visit: V) -> Scanner<V> {
        Scanner::visiting_mapped(visit, None)
    }

    /// A check with a site's mapping that shows each record to `visit`.
    pub fn visiting_mapped(visit: V, map: Option<ColumnMap>) -> Scanner<V> {
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
            visit,
            map,
            unmapped: false,
            head: Vec::new(),
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
        if self.head.len() < HEAD && self.entry <= 1 {
            let take = (HEAD - self.head.len()).min(buf.len());
            self.head.extend_from_slice(&buf[..take]);
        }
        if self.unmapped {
            return self.skim(buf);
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

    /// The bytes of a log whose columns are not known yet: only the line lengths are held
    /// to the limit (the mapping's re-check reads the rest).
    fn skim(&mut self, buf: &[u8]) -> Result<(), Refused> {
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', buf) {
            if self.carry.len() + end - start > MAX_LINE {
                return Err(Refused::LongLine((self.entry, self.line + 1)));
            }
            self.carry.clear();
            self.line += 1;
            start = end + 1;
        }
        if self.carry.len() + buf.len() - start > MAX_LINE {
            return Err(Refused::LongLine((self.entry, self.line + 1)));
        }
        self.carry.extend_from_slice(&buf[start..]);
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
        self.out.preview = mapping::preview(&self.head, HEAD, PREVIEW_LINES);
        self.out.mapping = self.map;
        if self.unmapped {
            self.out.encoding = if self.any_sjis { "sjis" } else { "utf8" }.into();
            return Ok(self.out);
        }
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

    /// Reads a file's first line: its encoding, delimiter and columns, by the site's mapping
    /// or else by the header's names. Answers whether the line is a record too (a mapping of
    /// a log without a header); columns that cannot be told leave the log unmapped.
    fn header(&mut self, line: &[u8]) -> Result<bool, Refused> {
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
        if self.out.delimiter.is_empty() {
            self.out.delimiter = delim.name().into();
            self.out.columns = n as u32;
        }
        let names = || -> Vec<String> {
            cells[..n]
                .iter()
                .map(|&(a, b)| {
                    let cell = fields::trim(&text.as_bytes()[a as usize..b as usize]);
                    String::from_utf8_lossy(cell).into_owned()
                })
                .collect()
        };
        let (idx, record) = match mapping::columns(self.map, n, names) {
            Ok(c) => c,
            Err(missing) => {
                self.unmapped = true;
                self.out.unmapped = missing;
                return Ok(false);
            }
        };
        self.cols = Some(Columns {
            delim,
            idx,
            want: idx
                .iter()
                .filter(|i| **i != NONE)
                .max()
                .copied()
                .unwrap_or(0)
                + 1,
            header: n,
        });
        Ok(record)
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
        let (cols, line) = match self.cols {
            Some(c) => (c, line),
            None => {
                if self.unmapped || fields::trim(line).is_empty() || !self.header(line)? {
                    return Ok(());
                }
                // A log without a header: its first line is a record.
                match self.cols {
                    Some(c) => (c, line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)),
                    None => return Ok(()),
                }
            }
        };
        if self.visit.skip(line) {
            return Ok(());
        }
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
        if cols.delim == Delimiter::Spaces && n + 1 == cols.header && idx[DIR] != NONE {
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
        let dir = if idx[DIR] == NONE {
            Some((mapping::implied(id), None))
        } else {
            fields::direction(cell(&self.cells, idx[DIR]))
        };
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
        if V::COUNTS {
            if !user.is_empty() {
                self.users.add(user);
            }
            if !id.is_empty() {
                self.ids.add(id);
            }
        }
        let stamp = if time.is_empty() {
            None
        } else {
            fields::timestamp(time, &mut self.dates)
        };
        self.visit.record(&Record {
            at,
            entry: match at.0 {
                0 => None,
                e => self.out.files.get(e as usize - 1).map(String::as_str),
            },
            raw: line,
            direction: dir.map(|d| d.0),
            user,
            id,
            business: biz,
            time: stamp,
        });
        if time.is_empty() {
            return Ok(());
        }
        match stamp {
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
