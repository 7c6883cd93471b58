//! The check as a push parser: bytes go in as they arrive (any chunk size), lines are found
//! with `memchr` and read in place. Memory stays bounded whatever the size: one partial line
//! (at most `MAX_LINE`), the per-day counts and a capped count per user code and number.

use super::fields::{self, Block, DateCache, Delimiter, Direction, MAX_COLUMNS, Stamp};
use super::keys::{FxMap, Keys};
use super::mapping::{self, ColumnMap, DIR, HEADER_WITHIN, ID, NONE, SiteColumns};
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

/// Counts the empty ones among a line's required fields (in the order of
/// [`super::LACKING`]).
fn lack(counts: &mut [u64; 4], cells: [&[u8]; 4]) {
    for (n, c) in counts.iter_mut().zip(cells) {
        *n += u64::from(c.is_empty());
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
    /// Whether the check may read ranges of a plain log's lines on another thread with a
    /// scanner of its own ([`Scanner::fork`]) and add up the two: only a visitor that looks
    /// at nothing (the check itself), as the other thread's records are not shown to it.
    const SPLITS: bool = false;
    /// Whether a record line (not the header) can be passed over unread: a line skipped is
    /// not counted by the check either, so only a search that drops the check skips.
    fn skip(&mut self, _line: &[u8]) -> bool {
        false
    }
    /// Whether `skip` may pass lines over (asked once per chunk): a visitor that reads every
    /// line lets the check split lines and cells in one pass.
    fn skips(&self) -> bool {
        false
    }
    fn record(&mut self, r: &Record<'_>);
}

impl Visit for () {
    const SPLITS: bool = true;
    #[inline(always)]
    fn record(&mut self, _: &Record<'_>) {}
}

impl<V: Visit + ?Sized> Visit for &mut V {
    const COUNTS: bool = V::COUNTS;
    const SPLITS: bool = V::SPLITS;
    fn skip(&mut self, line: &[u8]) -> bool {
        (**self).skip(line)
    }
    fn skips(&self) -> bool {
        (**self).skips()
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
    /// The earliest and the latest time (`Stamp::MAX` and `MIN` before any).
    first: Stamp,
    last: Stamp,
    /// The first second of the day being counted, and its lines: send, receive, neither.
    day_start: Stamp,
    day_n: [u64; 3],
    /// The hours of the day being counted that have a line (bit 0: 00:00–00:59 JST).
    day_hours: u32,
    days: FxMap<i64, [u64; 2]>,
    hours: FxMap<i64, u32>,
    users: Keys,
    ids: Keys,
    visit: V,
    /// The gateway site's mapping (`None`: columns found by the header's names).
    map: Option<ColumnMap>,
    /// The names (heading keys) of the header the mapping was made on, when kept.
    names: Vec<String>,
    /// Whether the columns could not be told: the rest is only measured, not read.
    unmapped: bool,
    /// Whether the first line must read as the site's mapping says (see [`Self::probing`]).
    probe: bool,
    /// Lines of this file passed over before its header: those the mapping says come first,
    /// or, without a mapping, lines whose names did not tell the columns (a title).
    passed: u16,
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
            first: Stamp::MAX,
            last: Stamp::MIN,
            day_start: Stamp::MIN,
            day_n: [0; 3],
            day_hours: 0,
            days: FxMap::default(),
            hours: FxMap::default(),
            users: Keys::default(),
            ids: Keys::default(),
            visit,
            map,
            names: Vec::new(),
            unmapped: false,
            probe: false,
            passed: 0,
            head: Vec::new(),
        }
    }

    /// A check that holds a new log to the site's mapping before reading it: when its first
    /// line does not read as the mapping says (no time, or no direction, where a record
    /// should be; a record where a header should be), the log waits to be mapped again
    /// instead of being read in the wrong columns. A re-check with the mapping someone has
    /// just chosen for the log does not probe.
    pub fn probing(mut self) -> Self {
        self.probe = self.map.is_some();
        self
    }

    /// The names of the header the mapping was made on ([`SiteColumns::names`]): a header
    /// with those names reads with the mapping whatever its first record holds, one that
    /// names the same columns in another order reads them where they are now, and one that
    /// names others waits to be mapped again (when probing; else it reads as mapped).
    pub fn with_names(mut self, names: Vec<String>) -> Self {
        if self.map.is_some() {
            self.names = names;
        }
        self
    }

    /// A check with a site's kept mapping (its columns and header names).
    pub fn site(visit: V, site: Option<SiteColumns>) -> Self {
        match site {
            Some(s) => Scanner::visiting_mapped(visit, Some(s.map)).with_names(s.names),
            None => Scanner::visiting_mapped(visit, None),
        }
    }

    /// Notes how the file came (`gzip`, `zip`).
    pub fn compression(&mut self, c: &str) {
        self.out.compression = Some(c.to_string());
    }

    /// A scanner for ranges of this file's lines read on another thread ([`Self::feed_at`]),
    /// to be added back with [`Self::absorb`]: once the header has set the columns (split by
    /// one byte) and the encoding, after the preview's first bytes, in a plain log (not a zip's files), and
    /// only for a check whose visitor sees nothing. `None`: the file is read here only.
    pub fn fork(&self) -> Option<Scanner> {
        let cols = self.cols?;
        if !V::SPLITS
            || !matches!(cols.delim, Delimiter::Byte(_))
            || self.sjis.is_none()
            // The preview's bytes are all read here.
            || self.head.len() < HEAD
            || self.unmapped
            || self.probe
            || self.entry != 0
        {
            return None;
        }
        let mut s = Scanner::mapped(self.map);
        s.cols = Some(cols);
        s.sjis = self.sjis;
        s.any_sjis = self.any_sjis;
        // Its preview is never read: as if full.
        s.head = vec![0; HEAD];
        Some(s)
    }

    /// Reads complete lines (`lines` ends with a line end) whose first is line `first` of
    /// the file: a forked scanner's range.
    pub fn feed_at(&mut self, first: u64, lines: &[u8]) -> Result<(), Refused> {
        self.line = first.saturating_sub(1);
        self.feed(lines)
    }

    /// Passes over `n` complete lines read by a forked scanner.
    pub fn skip_lines(&mut self, n: u64) {
        self.line += n;
    }

    /// The line last read.
    pub fn line_no(&self) -> u64 {
        self.line
    }

    /// Adds what a forked scanner counted (in any order: every count is a sum, a minimum or a
    /// maximum, and the first line numbers of each problem are kept in line order). Counts per
    /// value stay within the one cap; past it, which values are named may differ from a
    /// reading in one pass (it says "more" either way).
    pub fn absorb(&mut self, mut other: Scanner) {
        other.flush_day();
        for (d, n) in other.days {
            self.add_day(d, n);
        }
        for (d, h) in other.hours {
            *self.hours.entry(d).or_default() |= h;
        }
        let (a, b) = (&mut self.out, other.out);
        a.lines += b.lines;
        a.sent += b.sent;
        a.received += b.received;
        for (x, y) in [
            (&mut a.send_lacking, b.send_lacking),
            (&mut a.receive_lacking, b.receive_lacking),
        ] {
            for (m, n) in x.iter_mut().zip(y) {
                *m += n;
            }
        }
        for (x, y) in [
            (&mut a.bad_direction, b.bad_direction),
            (&mut a.send_missing, b.send_missing),
            (&mut a.receive_missing, b.receive_missing),
            (&mut a.bad_time, b.bad_time),
        ] {
            x.n += y.n;
            x.at.extend(y.at);
            x.at.sort_unstable();
            x.at.truncate(KEEP_AT);
        }
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
        self.any_sjis |= other.any_sjis;
        self.users.absorb(other.users);
        self.ids.absorb(other.ids);
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
        self.passed = 0;
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
        while start < buf.len() {
            if let Some(Columns {
                delim: Delimiter::Byte(d),
                ..
            }) = self.cols
                && !self.visit.skips()
                && !self.probe
            {
                start = self.lines(buf, start, d)?;
                break;
            }
            // The header (and the lines of a log split by spaces, or of a search that passes
            // lines over): one line at a time.
            let Some(end) = memchr::memchr(b'\n', &buf[start..]).map(|i| start + i) else {
                break;
            };
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
        // The file ended while its header was still looked for below a title: its columns
        // cannot be told by their names.
        if self.cols.is_none() && self.map.is_none() && self.passed > 0 {
            self.unmapped = true;
        }
        Ok(())
    }

    /// Ends the check: the last line without its newline, then the result.
    pub fn finish(mut self) -> Result<LogCheck, Refused> {
        self.end_file()?;
        self.out.preview = mapping::preview(&self.head, HEAD, PREVIEW_LINES);
        self.out.mapping = self.map;
        self.out.mapped_names = self.names.clone();
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
        for (d, h) in self.hours {
            if let Some(date) = fields::date_of(d * 86_400) {
                out.hours.insert(date, h);
            }
        }
        out.first = (self.first != Stamp::MAX).then(|| fields::show(self.first));
        out.last = (self.last != Stamp::MIN).then(|| fields::show(self.last));
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
        // The first line's, or, while lines above the header are tried, the widest one's.
        if self.out.delimiter.is_empty() || (self.passed > 0 && n as u32 > self.out.columns) {
            self.out.delimiter = delim.name().into();
            self.out.columns = n as u32;
        }
        let names = || mapping::cell_texts(text.as_bytes(), &cells[..n]);
        let (mut idx, record) = match mapping::columns(self.map, n, names) {
            Ok(c) => c,
            // Without a mapping, the header may come below a title: the next lines are tried
            // (what the first line lacked is what is said if none tells the columns).
            Err(missing) if self.map.is_none() && self.passed + 1 < HEADER_WITHIN => {
                if self.passed == 0 {
                    self.out.unmapped = missing;
                }
                self.passed += 1;
                return Ok(false);
            }
            Err(missing) => {
                self.unmapped = true;
                if self.passed == 0 {
                    self.out.unmapped = missing;
                }
                return Ok(false);
            }
        };
        if self.map.is_none() && self.passed > 0 {
            // Found below a title: this line's columns are the log's.
            self.out.unmapped.clear();
            self.out.delimiter = delim.name().into();
            self.out.columns = n as u32;
        }
        // A header names its columns: a time in it means the log starts with a record.
        if self.probe && !record {
            let time = cells[..n].iter().any(|&(a, b)| {
                let c = fields::trim(&text.as_bytes()[a as usize..b as usize]);
                fields::timestamp(c, &mut self.dates).is_some()
            });
            if time {
                self.misfit(vec!["header".into()]);
                return Ok(false);
            }
        }
        // A header read against the names of the one the mapping was made on: the same
        // names need no probe of the first record; the same columns in another order are
        // read where they are now; other names may mean other columns.
        if let Some(map) = self.map
            && !record
            && !self.names.is_empty()
        {
            let now = mapping::keys(&names());
            if now == self.names {
                self.probe = false;
            } else if let Some(moved) = mapping::by_names(&map, &self.names, &now) {
                idx = moved;
                self.out.moved = true;
                self.probe = false;
            } else if self.probe {
                self.misfit(vec!["names".into()]);
                return Ok(false);
            }
        }
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

    /// Leaves the log to be mapped again: the site's mapping does not fit it (`why`: the
    /// fields that do not read, `header`, or `names`: a header naming other columns than the
    /// mapped one). The rest is only measured.
    fn misfit(&mut self, why: Vec<String>) {
        self.unmapped = true;
        self.cols = None;
        self.out.unmapped = why;
        self.out.misfit = true;
    }

    /// Adds the day being counted to the days (a day with no send or receive is not one).
    fn flush_day(&mut self) {
        if self.day_n[0] + self.day_n[1] > 0 {
            self.add_day(
                self.day_start.div_euclid(86_400),
                [self.day_n[0], self.day_n[1]],
            );
        }
        if self.day_hours != 0 {
            *self
                .hours
                .entry(self.day_start.div_euclid(86_400))
                .or_default() |= self.day_hours;
        }
    }

    /// Adds sends and receives to a day's counts.
    fn add_day(&mut self, day: i64, n: [u64; 2]) {
        let m = self.days.entry(day).or_default();
        m[0] += n[0];
        m[1] += n[1];
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
                if self.unmapped || fields::trim(line).is_empty() {
                    return Ok(());
                }
                // The lines the mapping says come before the header.
                if let Some(m) = self.map
                    && self.passed < m.skip
                {
                    self.passed += 1;
                    return Ok(());
                }
                if !self.header(line)? {
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
        // Aligned columns: a receive line may leave 識別番号 out, and the columns after it
        // move left by one.
        let mut idx = cols.idx;
        if cols.delim == Delimiter::Spaces && n + 1 == cols.header && idx[DIR] != NONE {
            let shifted = idx.map(|i| if i > idx[ID] { i - 1 } else { i });
            if let Some((Direction::Receive, _)) =
                fields::direction(cell(line, &self.cells, n, shifted[DIR]))
            {
                idx = shifted;
                idx[ID] = NONE;
            }
        } else if n <= 1 && fields::trim(line).is_empty() {
            return Ok(());
        }
        if self.probe {
            // The first record must have the time and the direction where the mapping says.
            self.probe = false;
            let (time, dir) = (
                cell(line, &self.cells, n, idx[TIME]),
                cell(line, &self.cells, n, idx[DIR]),
            );
            let mut why = vec![];
            if fields::timestamp(time, &mut self.dates).is_none() {
                why.push("timestamp".to_string());
            }
            if idx[DIR] != NONE && fields::direction(dir).is_none() {
                why.push("direction".to_string());
            }
            if !why.is_empty() {
                self.misfit(why);
                return Ok(());
            }
        }
        self.record(line, &idx, n, false)
    }

    /// Reads the complete lines of `buf` from `start` (columns split by `d`), 64 bytes at a
    /// time: the line ends, delimiters and quotes of a block are found at once as bits, and a
    /// line's cells are read from the bits of its delimiters. A line longer than a block, or
    /// with a quote, is read by [`Self::line`]. Answers where the partial line at the end
    /// begins.
    fn lines(&mut self, buf: &[u8], start: usize, d: u8) -> Result<usize, Refused> {
        let Some(cols) = self.cols else {
            return Ok(start);
        };
        let want = cols.want.min(MAX_COLUMNS);
        // The line being read starts at `ls`; `base` is the block's start, `prev` the block
        // before it (a line starts at most one block back to be read from the bits).
        let (mut ls, mut base) = (start, start);
        let mut prev = Block::default();
        while base < buf.len() {
            let cur = match buf.get(base..base + 64).and_then(|b| b.try_into().ok()) {
                Some(b) => Block::of(b, d),
                None => Block::of_tail(&buf[base..], d),
            };
            let mut ends = cur.ends;
            while ends != 0 {
                let e = base + ends.trailing_zeros() as usize;
                ends &= ends - 1;
                if e - ls > MAX_LINE {
                    return Err(Refused::LongLine((self.entry, self.line + 1)));
                }
                let raw = &buf[ls..e];
                let line = match raw {
                    [rest @ .., b'\r'] => rest,
                    _ => raw,
                };
                let len = line.len();
                if ls + 64 >= base && len < 64 {
                    // The line's bits in the two blocks, from its first byte.
                    let from = ls + 64 - base;
                    let bits = |a: u64, b: u64| {
                        ((((b as u128) << 64 | a as u128) >> from) as u64) & ((1u64 << len) - 1)
                    };
                    if bits(prev.quotes, cur.quotes) == 0 {
                        let mut delims = bits(prev.delims, cur.delims);
                        // No cell starts or ends with a byte trimming would take off.
                        let edges = 1 | 1 << len.saturating_sub(1) | delims << 1 | delims >> 1;
                        let clean = bits(prev.low, cur.low) & !delims & edges == 0;
                        let (mut n, mut cell) = (0, 0u32);
                        while n < want {
                            if delims == 0 {
                                self.cells[n] = (cell, len as u32);
                                n += 1;
                                break;
                            }
                            let at = delims.trailing_zeros();
                            delims &= delims - 1;
                            self.cells[n] = (cell, at);
                            n += 1;
                            cell = at + 1;
                        }
                        self.line += 1;
                        if n > 1 || !fields::trim(line).is_empty() {
                            self.record(line, &cols.idx, n, clean)?;
                        }
                        ls = e + 1;
                        continue;
                    }
                }
                self.line(raw)?;
                ls = e + 1;
            }
            prev = cur;
            base += 64;
        }
        Ok(ls)
    }

    /// One record line split into `n` cells (`self.cells`), its fields in the columns `idx`
    /// ([`NONE`]: not in the line): what the check counts of it. `clean`: no cell needs
    /// trimming.
    #[inline(always)]
    fn record(
        &mut self,
        line: &[u8],
        idx: &[usize; 5],
        n: usize,
        clean: bool,
    ) -> Result<(), Refused> {
        let at = self.at();
        self.out.lines += 1;
        let cell = |i: usize| -> &[u8] {
            match self.cells.get(i) {
                Some(&(a, b)) if i < n => {
                    let c = line.get(a as usize..b as usize).unwrap_or_default();
                    if clean { c } else { fields::trim(c) }
                }
                _ => b"",
            }
        };
        let (user, id, biz, time) = (
            cell(idx[USER]),
            cell(idx[ID]),
            cell(idx[BIZ]),
            cell(idx[TIME]),
        );
        let dir_cell = cell(idx[DIR]);
        if V::COUNTS {
            // First, so the tables' reads are under way while the rest of the line is read.
            if !user.is_empty() {
                self.users.add_in(line, user);
            }
            if !id.is_empty() {
                self.ids.add_in(line, id);
            }
        }
        let dir = if idx[DIR] == NONE {
            Some((mapping::implied(id), None))
        } else {
            fields::direction(dir_cell)
        };
        if let Some((_, Some(sjis))) = dir
            && self.sjis != Some(sjis)
        {
            if self.sjis.is_some() {
                return Err(Refused::Mixed(at));
            }
            self.sjis = Some(sjis);
            self.any_sjis |= sjis;
        }
        let slot = match dir {
            Some((Direction::Send, _)) => {
                self.out.sent += 1;
                if user.is_empty() || id.is_empty() || biz.is_empty() || time.is_empty() {
                    note(&mut self.out.send_missing, at);
                    lack(&mut self.out.send_lacking, [user, id, biz, time]);
                }
                0
            }
            Some((Direction::Receive, _)) => {
                self.out.received += 1;
                if user.is_empty() || biz.is_empty() || time.is_empty() {
                    note(&mut self.out.receive_missing, at);
                    lack(&mut self.out.receive_lacking, [user, b"x", biz, time]);
                }
                1
            }
            None => {
                note(&mut self.out.bad_direction, at);
                2
            }
        };
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
        match stamp {
            Some(t) => {
                self.first = self.first.min(t);
                self.last = self.last.max(t);
                // Lines come in time order: the day is most often the line before's.
                if !(self.day_start..self.day_start + 86_400).contains(&t) {
                    self.flush_day();
                    self.day_start = t - t.rem_euclid(86_400);
                    self.day_n = [0; 3];
                    self.day_hours = 0;
                }
                self.day_n[slot] += 1;
                self.day_hours |= 1 << ((t - self.day_start) / 3_600);
            }
            None if time.is_empty() => {}
            None => note(&mut self.out.bad_time, at),
        }
        Ok(())
    }
}

/// Cell `i` of a line split into `n` cells, trimmed (empty when the line has no such cell).
#[inline]
fn cell<'a>(line: &'a [u8], cells: &[(u32, u32); MAX_COLUMNS], n: usize, i: usize) -> &'a [u8] {
    match cells.get(i) {
        Some(&(a, b)) if i < n => line.get(a as usize..b as usize).map_or(b"", fields::trim),
        _ => b"",
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

    /// Sees every record as text, and says whether lines may be passed over (which sends
    /// every line through the one-line-at-a-time reading).
    struct Seen {
        one_at_a_time: bool,
        records: Vec<String>,
    }

    impl Visit for Seen {
        fn skips(&self) -> bool {
            self.one_at_a_time
        }
        fn record(&mut self, r: &Record<'_>) {
            self.records.push(format!(
                "{:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                r.at,
                String::from_utf8_lossy(r.raw),
                r.direction,
                String::from_utf8_lossy(r.user),
                String::from_utf8_lossy(r.id),
                String::from_utf8_lossy(r.business),
                r.time
            ));
        }
    }

    /// A log with every shape of line the readings must agree on: quoted cells (with the
    /// delimiter inside), CR LF, spaces around cells, empty and missing cells, blank lines,
    /// lines longer than a block of 64 bytes, extra columns, bad times and directions.
    fn varied_log(seed: u64, d: char) -> String {
        let mut x = seed;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut log = format!("送受信区分{d}利用者コード{d}識別番号{d}業務コード{d}年月日時分秒\n");
        for i in 0..3000u64 {
            let dir = ["送信", "受信", "send", "R", "??", ""][next(6) as usize];
            let user = match next(8) {
                0 => String::new(),
                1 => format!("\"U{:03}\"", i % 50),
                2 => format!(" U{:03} ", i % 50),
                3 => format!("\"U{d}{:03}\"", i % 7),
                _ => format!("U{:03}", i % 50),
            };
            let id = match next(5) {
                0 => String::new(),
                1 => format!("{:015}", i % 40),
                2 => format!("ID-{:020}", i % 30),
                _ => format!("{:03}", i % 100),
            };
            let biz = match next(10) {
                0 => "X".repeat(70 + next(80) as usize),
                1 => String::new(),
                _ => format!("IDA{}", i % 3),
            };
            let time = match next(12) {
                0 => "yesterday".to_string(),
                1 => format!("2026100{}09{:02}00", 1 + i / 1000, i % 60),
                2 => format!("2026-10-0{}T09:00:{:02}+09:00", 1 + i / 1000, i % 60),
                3 => format!("2026/10/0{} 09:00:{:02}", 1 + i / 1000, i % 60),
                4 => String::new(),
                _ => format!(
                    "2026-10-0{} {:02}:{:02}:{:02}",
                    1 + i / 1000,
                    i % 24,
                    i % 60,
                    i % 61
                ),
            };
            let mut line = [dir.to_string(), user, id, biz, time].join(&d.to_string());
            match next(14) {
                0 => line = String::new(),
                1 => line = "   ".into(),
                2 => line.push_str(&format!("{d}extra{d}\"q{d}uoted\"")),
                3 => line = line.rsplitn(2, d).last().unwrap_or_default().to_string(),
                _ => {}
            }
            if next(3) == 0 {
                line.push('\r');
            }
            log.push_str(&line);
            log.push('\n');
        }
        log
    }

    fn scan_with(
        log: &[u8],
        one_at_a_time: bool,
        chunk: usize,
    ) -> (Result<LogCheck, Refused>, Vec<String>) {
        let mut seen = Seen {
            one_at_a_time,
            records: vec![],
        };
        let mut s = Scanner::visiting(&mut seen);
        let mut result = Ok(());
        for c in log.chunks(chunk) {
            result = s.feed(c);
            if result.is_err() {
                break;
            }
        }
        let check = result.and_then(|()| s.finish());
        (check, seen.records)
    }

    #[test]
    fn lines_read_by_blocks_read_as_lines_read_one_at_a_time() {
        for (seed, d) in [(1, ','), (2, '\t'), (3, ';'), (4, '|'), (5, ',')] {
            let log = varied_log(seed, d);
            let (slow, slow_seen) = scan_with(log.as_bytes(), true, log.len());
            let slow = slow.unwrap();
            assert!(slow.lines > 2000, "{d}: {slow:?}");
            assert!(slow.problems() > 0);
            for chunk in [log.len(), 65_536, 4096, 1000, 63, 7] {
                let (fast, fast_seen) = scan_with(log.as_bytes(), false, chunk);
                assert_eq!(fast.as_ref(), Ok(&slow), "{d} in chunks of {chunk}");
                assert_eq!(fast_seen, slow_seen, "{d} in chunks of {chunk}");
            }
        }
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
