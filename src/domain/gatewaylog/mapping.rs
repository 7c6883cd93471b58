//! Which column of a log holds which field of Table 7-4-2 (列の対応づけ): found from the
//! header's names, or said by the organisation once per gateway site when its gateway writes
//! other names, other orders or no header at all. The check reads a log with the site's
//! mapping; the first lines are kept so the page can show them while the mapping is made.

use serde::{Deserialize, Serialize};

use super::fields::{self, DateCache, Delimiter, Direction, MAX_COLUMNS};
use crate::domain::sheet::heading_key;

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

/// The header names accepted for each field (Japanese or English), in the order of
/// [`FIELDS`]; compared as headings are (NFKC: half-width katakana as full-width, any case,
/// without spaces), so `利用者ｺｰﾄﾞ` and `User Code` are found too.
const NAMES: [&[&str]; 5] = [
    &[
        "送受信区分",
        "送受信",
        "区分",
        "方向",
        "送受",
        "送受信方向",
        "direction",
    ],
    &["利用者コード", "user_code", "usercode", "user"],
    &[
        "識別番号",
        "id_number",
        "idnumber",
        "identification_number",
        "id",
    ],
    &[
        "業務コード",
        "business_code",
        "businesscode",
        "transaction_code",
        "business",
    ],
    &[
        "年月日時分秒",
        "日時",
        "日付時刻",
        "送受信日時",
        "処理日時",
        "timestamp",
        "datetime",
        "date_time",
        "time",
    ],
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
    /// Whether the first line of a file (after `skip`) names the columns (and is passed
    /// over).
    pub header: bool,
    /// Lines before the header (a title, the export's date …) passed over unread.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skip: u16,
    /// Columns counted from 0.
    pub user_code: u16,
    pub id_number: u16,
    pub business_code: u16,
    pub timestamp: u16,
    /// 送受信区分, when the log has one. Without it a line with a 識別番号 is a send and a
    /// line without one a receive (Table 7-4-2: only sends carry it).
    pub direction: Option<u16>,
}

fn is_zero(n: &u16) -> bool {
    *n == 0
}

/// Lines at a file's start tried as its header when no mapping says where it is (a title
/// line or two above the header is passed over).
pub const HEADER_WITHIN: u16 = 5;

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

/// A gateway site's mapping as kept: the columns, and the names of the header of the log it
/// was made on (heading keys; none when that log had no header, or for a mapping kept before
/// they were). A later log whose header names the same columns in another order is read by
/// the names; one whose header names other columns waits to be mapped again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteColumns {
    #[serde(flatten)]
    pub map: ColumnMap,
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        rename = "header_names"
    )]
    pub names: Vec<String>,
}

impl SiteColumns {
    /// A mapping made on a log whose first lines are `preview`: the names of its header (the
    /// line the mapping says, blank lines not counted, as the check counts them) are kept.
    pub fn made_on(map: ColumnMap, preview: &[String]) -> SiteColumns {
        let names = map
            .header
            .then(|| preview.get(usize::from(map.skip)))
            .flatten()
            .map(|line| keys(&header_names(line)))
            .unwrap_or_default();
        SiteColumns { map, names }
    }
}

/// Names as compared: their heading keys (NFKC, any case, without spaces).
pub fn keys(names: &[String]) -> Vec<String> {
    names.iter().map(|n| heading_key(n)).collect()
}

/// The mapped fields' columns (the scanner's order) found in a header whose names are `now`
/// by the names `kept` their columns had when the mapping was made: each name told once in
/// both. `None`: a mapped column's name is not found, or not once.
pub(super) fn by_names(map: &ColumnMap, kept: &[String], now: &[String]) -> Option<[usize; 5]> {
    let mut idx = map.idx();
    for slot in idx.iter_mut().filter(|c| **c != NONE) {
        let name = kept.get(*slot).filter(|n| !n.is_empty())?;
        let once = |names: &[String]| {
            let mut at = names.iter().enumerate().filter(|(_, n)| *n == name);
            match (at.next(), at.next()) {
                (Some((i, _)), None) => Some(i),
                _ => None,
            }
        };
        once(kept)?;
        *slot = once(now)?;
    }
    Some(idx)
}

/// The names of a header line (text, without its line end) split as the check splits it.
pub fn header_names(line: &str) -> Vec<String> {
    let b = line.strip_prefix('\u{feff}').unwrap_or(line).as_bytes();
    let mut cells = [(0u32, 0u32); MAX_COLUMNS];
    let n = fields::split(b, Delimiter::of_header(b), MAX_COLUMNS, &mut cells);
    cell_texts(b, &cells[..n])
}

/// The cells of a line as text (trimmed; bytes that are not UTF-8 replaced).
pub(super) fn cell_texts(line: &[u8], cells: &[(u32, u32)]) -> Vec<String> {
    cells
        .iter()
        .map(|&(a, z)| {
            String::from_utf8_lossy(fields::trim(&line[a as usize..z as usize])).into_owned()
        })
        .collect()
}

/// The columns whose header names say which field they hold, in the order of [`FIELDS`].
pub fn recognise(names: &[String]) -> [Option<usize>; 5] {
    let mut found = [None; 5];
    let keys: Vec<String> = names.iter().map(|h| heading_key(h)).collect();
    for (f, accepted) in found.iter_mut().zip(NAMES) {
        *f = keys
            .iter()
            .position(|h| accepted.iter().any(|a| *h == heading_key(a)));
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
    /// Where the header is: `yes` on the first line, `2` … `5` on that line (the lines
    /// above it passed over), `no` none (the first line is a record).
    pub header: String,
    pub user_code: String,
    pub id_number: String,
    pub business_code: String,
    pub timestamp: String,
    pub direction: String,
}

impl MapInput {
    /// The column chosen for a field (from 1, as typed), or empty.
    pub fn get(&self, field: &str) -> &str {
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
            header: header_value(map.header, map.skip),
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
        let (header, skip) = match self.header.as_str() {
            "yes" => (true, 0),
            "no" => (false, 0),
            n => match n.parse::<u16>() {
                Ok(n) if (2..=HEADER_WITHIN).contains(&n) => (true, n - 1),
                _ => {
                    errors.push(("header", "gwlog.map.error.header"));
                    (true, 0)
                }
            },
        };
        match cols {
            [direction, Some(u), Some(id), Some(b), Some(t)] if errors.is_empty() => {
                Ok(ColumnMap {
                    header,
                    skip,
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
            cell_texts(b, &cells[..n])
        })
        .collect()
}

/// The form's value for where the header is.
fn header_value(header: bool, skip: u16) -> String {
    match (header, skip) {
        (false, _) => "no".into(),
        (true, 0) => "yes".into(),
        (true, n) => (n + 1).to_string(),
    }
}

/// The row (from 0) of the first lines that looks like the header: the one among the first
/// [`HEADER_WITHIN`] whose names tell the most fields, when one tells two or more and has
/// at least as many cells as the line after it; else the first with as many cells as the line
/// after it (a title above the header has fewer: 「NACCS-GW Ver.4.2 送受信ログ」); else the
/// first. Cells are counted with text in them, so rows padded to one width count alike.
pub fn header_line(rows: &[Vec<String>]) -> usize {
    let filled = |row: &Vec<String>| row.iter().filter(|c| !c.trim().is_empty()).count();
    let wide = |i: usize| {
        rows.get(i + 1)
            .is_none_or(|next| filled(&rows[i]) >= filled(next))
    };
    let mut best = (0, 1);
    for (i, row) in rows.iter().enumerate().take(HEADER_WITHIN as usize) {
        let told = recognise(row).iter().filter(|c| c.is_some()).count();
        if told > best.1 && wide(i) {
            best = (i, told);
        }
    }
    if best.1 > 1 {
        return best.0;
    }
    (0..rows.len().min(HEADER_WITHIN as usize))
        .find(|&i| wide(i))
        .unwrap_or(0)
}

/// A first guess for the form from the first lines: columns the header names, else a time
/// or a 送信/受信 found in the first record; whether the first line is a header (it is
/// unless a time reads in it).
pub fn guess(rows: &[Vec<String>]) -> MapInput {
    if rows.is_empty() {
        return MapInput {
            header: "yes".into(),
            ..MapInput::default()
        };
    }
    let is_time = |c: &String| fields::timestamp(c.as_bytes(), &mut DateCache::default()).is_some();
    let is_dir = |c: &String| fields::direction(c.as_bytes()).is_some() && !c.trim().is_empty();
    // The header: the line among the first few whose names tell the most fields (a title
    // above it tells none), else the first line unless a time reads in it.
    let skip = header_line(rows);
    let first = &rows[skip];
    let header = !first.iter().any(is_time);
    let mut cols = recognise(first);
    if let Some(record) = if header {
        rows.get(skip + 1)
    } else {
        Some(first)
    } {
        if cols[4].is_none() {
            cols[4] = record.iter().position(is_time);
        }
        if cols[DIR].is_none() {
            cols[DIR] = record
                .iter()
                .position(|c| is_dir(c) && (c.chars().count() > 1 || !c.is_ascii()));
        }
    }
    let n = |c: Option<usize>| c.map(|c| (c + 1).to_string()).unwrap_or_default();
    MapInput {
        header: header_value(header, skip as u16),
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

    #[test]
    fn half_width_katakana_and_other_products_names_are_recognised() {
        let names: Vec<String> = ["日時", "方向", "利用者ｺｰﾄﾞ", "電文番号", "業務ｺｰﾄﾞ"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            recognise(&names),
            [Some(1), Some(2), None, Some(4), Some(0)]
        );
        let names: Vec<String> = ["Date Time", "User Code", "ID", "Business Code", "Direction"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            recognise(&names),
            [Some(4), Some(1), Some(2), Some(3), Some(0)]
        );
    }

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
    fn a_title_above_a_header_is_passed_over_by_names_or_by_the_mapping() {
        let log = "送受信履歴 2026年10月分\n送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n\
                   送信,ABC12,001,IDA,2026-10-01 09:00:00\n受信,ABC12,,IDA,2026-10-01 09:00:01\n送信,ABC12,,IDA,2026-10-01 09:00:02\n";
        let c = run(&[log.as_bytes()]).unwrap();
        assert!(!c.needs_mapping(), "{c:?}");
        assert_eq!((c.lines, c.sent, c.received), (3, 2, 1));
        assert_eq!((c.delimiter.as_str(), c.columns), ("comma", 5));
        // The problem's line number is the file's (the title is line 1).
        assert_eq!(c.send_missing.at, vec![(0, 5)], "{c:?}");
        // Five lines without the names: mapped, and the mapping says where the header is.
        let unnamed = log.replace("送受信区分,利用者コード", "方式,利用者");
        let c = run(&[unnamed.as_bytes()]).unwrap();
        assert!(c.needs_mapping());
        let rows = preview_cells(&c.preview, &c.delimiter);
        assert_eq!(header_line(&rows), 1);
        assert_eq!(guess(&rows).header, "2");
        // A title with spaces above a tab-separated header whose names tell nothing: the
        // header is the line as wide as the records, padded rows or not.
        let tsv = "NACCS-GW Ver.4.2 送受信ログ 2026/12/02\n記録時刻\t送受\t端末番号\t会社\t枝番\t取引\n\
                   2026/12/02 00:04:04\t送信\tPC01\tSRN01\t011\tECR\n";
        let c = run(&[tsv.as_bytes()]).unwrap();
        assert!(c.needs_mapping());
        let mut rows = preview_cells(&c.preview, &c.delimiter);
        assert_eq!((header_line(&rows), guess(&rows).header.as_str()), (1, "2"));
        for r in &mut rows {
            r.resize(6, String::new());
        }
        assert_eq!((header_line(&rows), guess(&rows).header.as_str()), (1, "2"));
        let m = input("2", ["1", "2", "3", "4", "5"])
            .read(c.width())
            .unwrap();
        assert_eq!((m.header, m.skip), (true, 1));
        let mut s = Scanner::mapped(Some(m));
        s.feed(unnamed.as_bytes()).unwrap();
        let c = s.finish().unwrap();
        assert_eq!((c.lines, c.sent, c.received), (3, 2, 1), "{c:?}");
        assert_eq!(
            input("6", ["1", "2", "3", "4", "5"]).read(5).unwrap_err(),
            vec![("header", "gwlog.map.error.header")]
        );
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
                skip: 0,
                user_code: 2,
                id_number: 0,
                business_code: 1,
                timestamp: 3,
                direction: None,
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
            skip: 0,
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
            skip: 0,
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
            skip: 0,
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
            skip: 0,
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

        // A mapping kept with the names of its log's header (a title line above it).
        let site = SiteColumns::made_on(
            ColumnMap {
                skip: 1,
                ..with_header
            },
            &[
                "送受信ログ 2026年10月".into(),
                "時刻,利用者,番号,業務,向き".into(),
            ],
        );
        assert_eq!(site.names, ["時刻", "利用者", "番号", "業務", "向き"]);
        let json = serde_json::to_string(&site).unwrap();
        assert_eq!(serde_json::from_str::<SiteColumns>(&json).unwrap(), site);
        assert_eq!(serde_json::from_str::<ColumnMap>(&json).unwrap(), site.map);
        let run = |site: &SiteColumns, log: &str, probing: bool| {
            let mut s = Scanner::site((), Some(site.clone()));
            if probing {
                s = s.probing();
            }
            for chunk in log.as_bytes().chunks(7) {
                s.feed(chunk).unwrap();
            }
            s.finish().unwrap()
        };
        let title = "送受信ログ 2026年11月\n";
        // The same names (in another case, width, spacing or delimiter) read as mapped, even
        // when the first record's time does not read: the columns are where they were.
        for header in [
            "\u{feff}時刻, 利用者 ,番号,業務,向き",
            "時刻\t利用者\t番号\t業務\t向き",
        ] {
            let sep = if header.contains('\t') { "\t" } else { "," };
            let rows = [
                ["2026/10/01 9時", "ABC12", "001", "IDA", "送信"],
                ["2026/10/01 09:00:02", "ABC12", "", "IDA", "受信"],
            ]
            .map(|r| r.join(sep))
            .join("\n");
            let c = run(&site, &format!("{title}{header}\r\n{rows}\n"), true);
            assert!(!c.misfit && !c.moved && c.lines == 2, "{c:?}");
            assert_eq!(c.bad_time.n, 1, "{c:?}");
            assert_eq!(c.mapped_names, site.names);
        }
        // The same names in another order (two codes swapped: the time and the direction
        // stay where they were, so the probe alone would not see it): read where they are now.
        let swapped =
            format!("{title}時刻,番号,利用者,業務,向き\n2026/10/01 09:00:00,001,ABC12,IDA,送信\n");
        let c = run(&site, &swapped, true);
        assert!(
            !c.misfit && c.moved && c.lines == 1 && c.problems() == 0,
            "{c:?}"
        );
        assert_eq!(c.users.top, vec![("ABC12".to_string(), 1)], "{c:?}");
        // Other names: may be other columns, so the log waits to be mapped again.
        let renamed = format!(
            "{title}時刻,利用者コード,識別番号,業務,向き\n2026/10/01 09:00:00,ABC12,001,IDA,送信\n"
        );
        let c = run(&site, &renamed, true);
        assert!(c.misfit && c.needs_mapping() && c.lines == 0, "{c:?}");
        assert_eq!(c.unmapped, vec!["names"]);
        // Read again without probing (a search, a re-check), the swapped log reads the same.
        let c = run(&site, &swapped, false);
        assert!(
            c.moved && c.lines == 1 && c.users.top[0].0 == "ABC12",
            "{c:?}"
        );
        // A name told twice in the new header cannot say which column it is.
        let twice = format!(
            "{title}時刻,利用者,利用者,業務,向き\n2026/10/01 09:00:00,ABC12,001,IDA,送信\n"
        );
        assert!(run(&site, &twice, true).misfit);
    }
}
