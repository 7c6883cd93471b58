//! Which column of a log holds which field of Table 7-4-2 (列の対応づけ): found from the
//! header's names, or said by the organisation once per gateway site when its gateway writes
//! other names, other orders or no header at all. The check reads a log with the site's
//! mapping; the first lines are kept so the page can show them while the mapping is made.

use serde::{Deserialize, Serialize};

use super::fields::{self, DateCache, Delimiter, Direction, MAX_COLUMNS};

/// The fields, in the order the scanner keeps their columns.
pub const FIELDS: [&str; 5] = [
    "direction",
    "user_code",
    "id_number",
    "business_code",
    "timestamp",
];
pub(super) const DIR: usize = 0;
pub(super) const ID: usize = 2;
/// No column (the log has no direction column).
pub(super) const NONE: usize = usize::MAX;

/// The direction of a line in a log without a direction column: a line with a 識別番号 is a
/// send (Table 7-4-2: only sends carry one).
#[inline]
pub(super) fn implied(id: &[u8]) -> Direction {
    if id.is_empty() {
        Direction::Receive
    } else {
        Direction::Send
    }
}

/// The header names accepted for each field (Japanese or English, any case), in the order
/// of [`FIELDS`].
const NAMES: [&[&str]; 5] = [
    &["送受信区分", "送受信", "区分", "direction"],
    &["利用者コード", "user_code", "usercode", "user"],
    &["識別番号", "id_number", "identification_number", "id"],
    &[
        "業務コード",
        "business_code",
        "transaction_code",
        "business",
    ],
    &["年月日時分秒", "日時", "timestamp", "datetime", "time"],
];

/// A small log in the expected format, offered for download: the header, and sends and
/// receives with the time written in each accepted way.
pub const SAMPLE: &str = "送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\r\n\
送信,ABC12,1001234567,IDA,2026-10-01 09:00:00\r\n\
受信,ABC12,,IDA,2026-10-01 09:00:02\r\n\
送信,ABC12,1001234568,EDA,2026/10/01 09:15:30\r\n\
受信,ABC12,,EDA,20261001091532\r\n\
送信,XYZ34,1001234569,MIC,2026-10-01T10:00:00+09:00\r\n\
受信,XYZ34,,MIC,2026-10-01T01:00:02Z\r\n";

/// The column of each field, as the organisation said it for a gateway site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnMap {
    /// Whether the first line of a file names the columns (and is passed over).
    pub header: bool,
    /// Columns counted from 0.
    pub user_code: u16,
    pub id_number: u16,
    pub business_code: u16,
    pub timestamp: u16,
    /// 送受信区分, when the log has one. Without it a line with a 識別番号 is a send and a
    /// line without one a receive (Table 7-4-2: only sends carry it).
    pub direction: Option<u16>,
}

impl ColumnMap {
    /// The columns in the scanner's order ([`NONE`] for a missing direction).
    pub(super) fn idx(&self) -> [usize; 5] {
        [
            self.direction.map_or(NONE, usize::from),
            self.user_code as usize,
            self.id_number as usize,
            self.business_code as usize,
            self.timestamp as usize,
        ]
    }

    /// How many columns a line needs to hold every mapped field.
    pub fn width(&self) -> usize {
        self.idx()
            .into_iter()
            .filter(|i| *i != NONE)
            .max()
            .unwrap_or(0)
            + 1
    }

    /// The column (from 0) of a field of [`FIELDS`].
    pub fn column(&self, field: &str) -> Option<usize> {
        let i = FIELDS.iter().position(|f| *f == field)?;
        Some(self.idx()[i]).filter(|c| *c != NONE)
    }
}

/// The columns whose header names say which field they hold, in the order of [`FIELDS`].
pub fn recognise(names: &[String]) -> [Option<usize>; 5] {
    let mut found = [None; 5];
    for (f, accepted) in found.iter_mut().zip(NAMES) {
        *f = names.iter().position(|h| {
            let h = h.to_lowercase();
            accepted.iter().any(|a| h == *a)
        });
    }
    found
}

/// The column of each field in a file whose first line has `n` columns (the scanner's
/// order, [`NONE`] for no direction) and whether that line is a record too: by the site's
/// mapping, else by the header's `names`. `Err`: the fields that cannot be told.
pub(super) fn columns(
    map: Option<ColumnMap>,
    n: usize,
    names: impl FnOnce() -> Vec<String>,
) -> Result<([usize; 5], bool), Vec<String>> {
    let listed = |f: &mut dyn FnMut(usize, &str) -> bool| {
        let mut out = vec![];
        for (i, name) in FIELDS.iter().enumerate() {
            if f(i, name) {
                out.push(name.to_string());
            }
        }
        out
    };
    match map {
        Some(m) if m.width() <= n => Ok((m.idx(), !m.header)),
        Some(m) => Err(listed(&mut |_, f| m.column(f).is_some_and(|c| c >= n))),
        None => {
            let found = recognise(&names());
            if found.contains(&None) {
                Err(listed(&mut |i, _| found[i].is_none()))
            } else {
                Ok((found.map(|c| c.unwrap_or(NONE)), false))
            }
        }
    }
}

/// A mapping as typed on the page: column numbers from 1 (empty: not chosen).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct MapInput {
    /// `yes` when the first line is a header.
    pub header: String,
    pub user_code: String,
    pub id_number: String,
    pub business_code: String,
    pub timestamp: String,
    pub direction: String,
}

impl MapInput {
    fn get(&self, field: &str) -> &str {
        let v = match field {
            "user_code" => &self.user_code,
            "id_number" => &self.id_number,
            "business_code" => &self.business_code,
            "timestamp" => &self.timestamp,
            _ => &self.direction,
        };
        v.trim()
    }

    /// The form's values for a mapping already made.
    pub fn of(map: &ColumnMap) -> MapInput {
        let n = |c: u16| (c as usize + 1).to_string();
        MapInput {
            header: if map.header { "yes" } else { "no" }.into(),
            user_code: n(map.user_code),
            id_number: n(map.id_number),
            business_code: n(map.business_code),
            timestamp: n(map.timestamp),
            direction: map.direction.map(n).unwrap_or_default(),
        }
    }

    /// Reads the mapping against a log of `columns` columns; errors are (field, locale key):
    /// a required field not chosen, a column beyond the log's, a column chosen twice.
    pub fn read(&self, columns: usize) -> Result<ColumnMap, Vec<(&'static str, &'static str)>> {
        let mut errors = vec![];
        let mut cols = [None::<u16>; 5];
        for (i, field) in FIELDS.iter().enumerate() {
            let raw = self.get(field);
            if raw.is_empty() {
                if i != DIR {
                    errors.push((*field, "gwlog.map.error.required"));
                }
                continue;
            }
            match raw.parse::<usize>() {
                Ok(n) if (1..=columns.min(MAX_COLUMNS)).contains(&n) => {
                    cols[i] = Some((n - 1) as u16)
                }
                Ok(n) if n >= 1 => errors.push((*field, "gwlog.map.error.beyond")),
                _ => errors.push((*field, "gwlog.map.error.number")),
            }
        }
        for i in 0..cols.len() {
            if cols[i].is_some() && cols[..i].contains(&cols[i]) {
                errors.push((FIELDS[i], "gwlog.map.error.twice"));
            }
        }
        if !matches!(self.header.as_str(), "yes" | "no") {
            errors.push(("header", "gwlog.map.error.header"));
        }
        match cols {
            [direction, Some(u), Some(id), Some(b), Some(t)] if errors.is_empty() => {
                Ok(ColumnMap {
                    header: self.header == "yes",
                    user_code: u,
                    id_number: id,
                    business_code: b,
                    timestamp: t,
                    direction,
                })
            }
            _ => Err(errors),
        }
    }
}

/// The kept first lines split into cells by the log's delimiter (`comma`, `tab`, ...).
pub fn preview_cells(lines: &[String], delimiter: &str) -> Vec<Vec<String>> {
    let delim = match delimiter {
        "tab" => Delimiter::Byte(b'\t'),
        "semicolon" => Delimiter::Byte(b';'),
        "bar" => Delimiter::Byte(b'|'),
        "spaces" => Delimiter::Spaces,
        _ => Delimiter::Byte(b','),
    };
    let mut cells = [(0u32, 0u32); MAX_COLUMNS];
    lines
        .iter()
        .map(|l| {
            let b = l.as_bytes();
            let n = fields::split(b, delim, MAX_COLUMNS, &mut cells);
            cells[..n]
                .iter()
                .map(|&(a, z)| {
                    String::from_utf8_lossy(fields::trim(&b[a as usize..z as usize])).into_owned()
                })
                .collect()
        })
        .collect()
}

/// A first guess for the form from the first lines: columns the header names, else a time
/// or a 送信/受信 found in the first record; whether the first line is a header (it is
/// unless a time reads in it).
pub fn guess(rows: &[Vec<String>]) -> MapInput {
    let Some(first) = rows.first() else {
        return MapInput {
            header: "yes".into(),
            ..MapInput::default()
        };
    };
    let is_time = |c: &String| fields::timestamp(c.as_bytes(), &mut DateCache::default()).is_some();
    let is_dir = |c: &String| fields::direction(c.as_bytes()).is_some() && !c.trim().is_empty();
    let header = !first.iter().any(is_time);
    let mut cols = recognise(first);
    if let Some(record) = if header { rows.get(1) } else { Some(first) } {
        if cols[4].is_none() {
            cols[4] = record.iter().position(is_time);
        }
        if cols[DIR].is_none() {
            cols[DIR] = record
                .iter()
                .position(|c| is_dir(c) && c.chars().count() > 1);
        }
    }
    let n = |c: Option<usize>| c.map(|c| (c + 1).to_string()).unwrap_or_default();
    MapInput {
        header: if header { "yes" } else { "no" }.into(),
        direction: n(cols[0]),
        user_code: n(cols[1]),
        id_number: n(cols[2]),
        business_code: n(cols[3]),
        timestamp: n(cols[4]),
    }
}

/// The first lines of a file's start (`cap` bytes kept) as text (each UTF-8 when it reads so, else Shift_JIS),
/// blank lines left out; a line cut by the end of the kept bytes is dropped.
pub(super) fn preview(head: &[u8], cap: usize, max_lines: usize) -> Vec<String> {
    let whole = head.len() < cap;
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let mut lines: Vec<&[u8]> = head.split(|b| *b == b'\n').collect();
    if !whole && lines.len() > 1 {
        lines.pop();
    }
    lines
        .into_iter()
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .take(max_lines)
        .map(|l| match std::str::from_utf8(l) {
            Ok(t) => t.to_string(),
            Err(_) => encoding_rs::SHIFT_JIS.decode(l).0.into_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::gatewaylog::scan::{MAX_LINE, Refused, Scanner};

    fn run(chunks: &[&[u8]]) -> Result<super::super::LogCheck, Refused> {
        let mut s = Scanner::new();
        for c in chunks {
            s.feed(c)?;
        }
        s.finish()
    }

    fn input(h: &str, cols: [&str; 5]) -> MapInput {
        MapInput {
            header: h.into(),
            direction: cols[0].into(),
            user_code: cols[1].into(),
            id_number: cols[2].into(),
            business_code: cols[3].into(),
            timestamp: cols[4].into(),
        }
    }

    #[test]
    fn the_sample_is_a_clean_log_in_every_time_format() {
        let c = run(&[SAMPLE.as_bytes()]).unwrap();
        assert_eq!((c.lines, c.sent, c.received), (6, 3, 3));
        assert!(c.clean(None), "{c:?}");
        assert_eq!(c.first.as_deref(), Some("2026-10-01 09:00:00"));
        assert_eq!(c.last.as_deref(), Some("2026-10-01 10:00:02"));
    }

    #[test]
    fn a_mapping_reads_from_column_numbers_and_back() {
        let m = input("no", ["", "3", "1", "2", "4"]).read(5).unwrap();
        assert_eq!(
            m,
            ColumnMap {
                header: false,
                user_code: 2,
                id_number: 0,
                business_code: 1,
                timestamp: 3,
                direction: None
            }
        );
        assert_eq!(m.width(), 4);
        assert_eq!(MapInput::of(&m).read(5).unwrap(), m);
        assert_eq!(m.column("timestamp"), Some(3));
        assert_eq!(m.column("direction"), None);
    }

    #[test]
    fn bad_mappings_name_their_field() {
        assert_eq!(
            input("yes", ["1", "2", "2", "", "9"]).read(5).unwrap_err(),
            vec![
                ("business_code", "gwlog.map.error.required"),
                ("timestamp", "gwlog.map.error.beyond"),
                ("id_number", "gwlog.map.error.twice"),
            ]
        );
        assert_eq!(
            input("maybe", ["x", "1", "2", "3", "0"])
                .read(5)
                .unwrap_err(),
            vec![
                ("direction", "gwlog.map.error.number"),
                ("timestamp", "gwlog.map.error.number"),
                ("header", "gwlog.map.error.header"),
            ]
        );
    }

    #[test]
    fn the_first_lines_suggest_a_mapping() {
        let rows = preview_cells(
            &[
                "GW-ID;種別;ユーザ;識別番号;業務;日時".into(),
                "gw1;送信;ABC12;001;IDA;2026/10/01 09:00:00".into(),
            ],
            "semicolon",
        );
        assert_eq!(rows[1][5], "2026/10/01 09:00:00");
        let g = guess(&rows);
        assert_eq!(
            (
                g.header.as_str(),
                g.direction.as_str(),
                g.id_number.as_str()
            ),
            ("yes", "2", "4")
        );
        assert_eq!((g.timestamp.as_str(), g.user_code.as_str()), ("6", ""));
        let g = guess(&preview_cells(
            &["20261001090000,ABC12,001,IDA".into()],
            "comma",
        ));
        assert_eq!((g.header.as_str(), g.timestamp.as_str()), ("no", "1"));
    }

    #[test]
    fn a_log_whose_columns_are_not_named_is_kept_unread_with_its_first_lines() {
        let log = "kind,who,when,what\nS,ABC12,20261001090000,IDA\n";
        let c = run(&[log.as_bytes()]).unwrap();
        assert_eq!(
            c.unmapped,
            vec![
                "direction",
                "user_code",
                "id_number",
                "business_code",
                "timestamp"
            ]
        );
        assert_eq!((c.lines, c.columns, c.delimiter.as_str()), (0, 4, "comma"));
        assert_eq!(
            c.preview,
            vec!["kind,who,when,what", "S,ABC12,20261001090000,IDA"]
        );
        assert!(!c.clean(None));
        let long = format!("a,b\n{}\n", "x".repeat(MAX_LINE + 1));
        assert_eq!(run(&[long.as_bytes()]), Err(Refused::LongLine((0, 2))));
    }

    #[test]
    fn a_mapping_reads_other_orders_and_logs_without_a_header() {
        let map = ColumnMap {
            header: false,
            user_code: 2,
            id_number: 0,
            business_code: 3,
            timestamp: 1,
            direction: None,
        };
        let log = "001\t2026/10/01 09:00:00\tABC12\tIDA\n\t2026-10-01T09:00:05\tABC12\tIDA\n";
        let mut s = Scanner::mapped(Some(map));
        s.feed(log.as_bytes()).unwrap();
        let c = s.finish().unwrap();
        assert_eq!((c.lines, c.sent, c.received), (2, 1, 1), "{c:?}");
        assert_eq!(c.problems(), 0, "{c:?}");
        assert_eq!(c.mapping, Some(map));
        let with_header = ColumnMap {
            header: true,
            direction: Some(4),
            ..map
        };
        let log = "番号,時刻,利用者,業務,向き\n001,20261001090000,ABC12,IDA,送信\n";
        let mut s = Scanner::mapped(Some(with_header));
        s.feed(log.as_bytes()).unwrap();
        let c = s.finish().unwrap();
        assert_eq!((c.lines, c.sent, c.problems()), (1, 1, 0), "{c:?}");
        // A mapping naming a column the log does not have leaves the log to be mapped again.
        let mut s = Scanner::mapped(Some(with_header));
        s.feed(b"a,b,c\n1,2,3\n").unwrap();
        let c = s.finish().unwrap();
        assert_eq!(c.unmapped, vec!["direction", "business_code"]);
    }

    #[test]
    fn a_new_log_that_does_not_read_with_the_site_mapping_waits_to_be_mapped_again() {
        let with_header = ColumnMap {
            header: true,
            user_code: 1,
            id_number: 2,
            business_code: 3,
            timestamp: 0,
            direction: Some(4),
        };
        let probe = |map: ColumnMap, log: &str| {
            let mut s = Scanner::mapped(Some(map)).probing();
            for chunk in log.as_bytes().chunks(7) {
                s.feed(chunk).unwrap();
            }
            s.finish().unwrap()
        };
        // The site's logs had a header; this one starts with a record, in another order.
        let other = "送信,ABC12,001,IDA,2026/10/01 09:00:00\n受信,ABC12,,IDA,2026/10/01 09:00:04\n";
        let c = probe(with_header, other);
        assert!(c.misfit && c.needs_mapping(), "{c:?}");
        assert_eq!(c.unmapped, vec!["header"]);
        assert_eq!(c.lines, 0, "nothing is read in the wrong columns");
        assert!(!c.preview.is_empty());
        // A header, then records in another order: the first record has no time where the
        // mapping says.
        let c = probe(with_header, &format!("a,b,c,d,e\n{other}"));
        assert_eq!(c.unmapped, vec!["timestamp", "direction"], "{c:?}");
        // Without a header: the first line is the record to read.
        let headerless = ColumnMap {
            header: false,
            ..with_header
        };
        let c = probe(headerless, other);
        assert_eq!(c.unmapped, vec!["timestamp", "direction"], "{c:?}");
        // A log that fits is read, and a re-check with a chosen mapping does not probe.
        let fits = "2026/10/01 09:00:00,ABC12,001,IDA,送信\n";
        let c = probe(headerless, fits);
        assert!(!c.misfit && c.lines == 1 && c.problems() == 0, "{c:?}");
        let c = probe(with_header, &format!("時刻,利用者,番号,業務,向き\n{fits}"));
        assert!(!c.misfit && c.lines == 1, "{c:?}");
        let mut s = Scanner::mapped(Some(headerless));
        s.feed(other.as_bytes()).unwrap();
        let c = s.finish().unwrap();
        assert!(!c.misfit && c.lines == 2 && c.bad_time.n == 2, "{c:?}");
    }
}
