//! The sheets offices really keep, read as they are: the header row found below title rows and
//! blank lines, headings matched through synonyms kept as data (`catalogue/import-headers.toml`),
//! full-width text normalised, Japanese dates understood, and every problem placed at the
//! sheet's own row number and column letter.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::NaiveDate;
use unicode_normalization::UnicodeNormalization;

/// How many non-blank rows from the top are searched for the header row.
pub const HEADER_SEARCH_ROWS: usize = 20;

/// One worksheet (or the single table of a CSV) as text cells; blank rows are left out and
/// every row keeps the number the sheet itself shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sheet {
    /// The worksheet's name; `None` for CSV and text files.
    pub name: Option<String>,
    pub rows: Vec<SheetRow>,
}

/// A non-blank row with its 1-based number in the sheet.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SheetRow {
    pub number: usize,
    pub cells: Vec<String>,
}

/// A problem with one cell (or, when `col` is `None`, one row or the file).
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The sheet's own 1-based row number.
    pub row: usize,
    /// The 0-based column, when the field's column exists.
    pub col: Option<usize>,
    pub field: &'static str,
    /// Locale key of the reason.
    pub key: &'static str,
    /// The cell's text, for reasons that quote it.
    pub value: String,
}

/// Rows read from a sheet and where they came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported<T> {
    pub rows: Vec<T>,
    /// Each row's number in the sheet.
    pub numbers: Vec<usize>,
    /// The worksheet used (workbooks only).
    pub sheet: Option<String>,
    pub header_row: usize,
    /// The header row's headings this import does not read (their columns are left out).
    pub ignored: Vec<String>,
    /// Fields the sheet has no column for, read with the import's default for every row.
    pub assumed: Vec<&'static str>,
}

/// Why nothing was imported: every problem, and the worksheet they are in.
#[derive(Debug, Clone, PartialEq)]
pub struct Failed {
    pub sheet: Option<String>,
    pub problems: Vec<Problem>,
}

impl Failed {
    /// A failure of the whole file (no sheet, no cell).
    pub fn file(key: &'static str) -> Failed {
        Failed {
            sheet: None,
            problems: vec![Problem {
                row: 1,
                col: None,
                field: "file",
                key,
                value: String::new(),
            }],
        }
    }
}

type Synonyms = HashMap<String, HashMap<String, Vec<String>>>;

/// The accepted headings per import and field, from the catalogue folder (compiled in).
static SYNONYMS: LazyLock<Synonyms> = LazyLock::new(|| {
    toml::from_str(include_str!("../../catalogue/import-headers.toml")).unwrap_or_default()
});

/// A heading as compared: NFKC, lower case, without spaces and required-field marks.
pub fn heading_key(s: &str) -> String {
    s.nfkc()
        .flat_map(char::to_lowercase)
        .filter(|c| !c.is_whitespace() && !matches!(c, '*' | '※'))
        .collect()
}

/// Cell text as compared and checked: NFKC (full-width digits and letters to ASCII), trimmed.
pub fn normal(s: &str) -> String {
    s.nfkc().collect::<String>().trim().to_string()
}

/// The columns of the fields of `import` (a table of the synonyms file) found in one row.
fn columns_of(
    cells: &[String],
    import: &str,
    fields: &[&'static str],
) -> HashMap<&'static str, usize> {
    let mut col = HashMap::new();
    let Some(table) = SYNONYMS.get(import) else {
        return col;
    };
    let keys: Vec<String> = cells.iter().map(|c| heading_key(c)).collect();
    for field in fields {
        let names: Vec<String> = table
            .get(*field)
            .map(|n| n.iter().map(|s| heading_key(s)).collect())
            .unwrap_or_default();
        // The field's own key is always accepted, so an export read back imports.
        let found = keys.iter().enumerate().position(|(i, k)| {
            !k.is_empty() && (names.contains(k) || k == field) && !col.values().any(|&c| c == i)
        });
        if let Some(i) = found {
            col.insert(*field, i);
        }
    }
    col
}

/// Where a sheet's data starts: the header row and each field's column.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Index into `Sheet::rows` of the header row.
    pub header_index: usize,
    pub header_row: usize,
    pub columns: HashMap<&'static str, usize>,
}

/// Finds the first sheet with a header row holding every required field within its first
/// rows. When none has one, the problems name the closest row's missing columns.
pub fn locate<'a>(
    sheets: &'a [Sheet],
    import: &str,
    fields: &[&'static str],
    required: &[&'static str],
) -> Result<(&'a Sheet, Layout), Failed> {
    let mut best: Option<(usize, &Sheet, Layout)> = None;
    for sheet in sheets {
        for (i, row) in sheet.rows.iter().take(HEADER_SEARCH_ROWS).enumerate() {
            let columns = columns_of(&row.cells, import, fields);
            let found = required.iter().filter(|f| columns.contains_key(*f)).count();
            let layout = Layout {
                header_index: i,
                header_row: row.number,
                columns,
            };
            if found == required.len() {
                return Ok((sheet, layout));
            }
            if found > best.as_ref().map_or(0, |b| b.0) {
                best = Some((found, sheet, layout));
            }
        }
    }
    match best {
        // Two headings recognised: surely the header row, with some columns missing.
        Some((found, sheet, layout)) if found >= 2 => {
            // Each missing column with headings it may have, then the headings not recognised
            // (the clerk's own name for it is usually among them).
            let mut problems: Vec<Problem> = required
                .iter()
                .filter(|f| !layout.columns.contains_key(*f))
                .map(|f| Problem {
                    row: layout.header_row,
                    col: None,
                    field: f,
                    key: "error.csv_missing_column",
                    value: heading_examples(import, f),
                })
                .collect();
            let unknown = ignored_headings(sheet, &layout);
            if !unknown.is_empty() {
                problems.push(Problem {
                    row: layout.header_row,
                    col: None,
                    field: "file",
                    key: "import.unrecognised",
                    value: unknown.join("」「"),
                });
            }
            Err(Failed {
                sheet: sheet.name.clone(),
                problems,
            })
        }
        _ if sheets.iter().all(|s| s.rows.is_empty()) => Err(Failed::file("error.csv_empty")),
        _ => Err(Failed::file("error.header_not_found")),
    }
}

/// The first few headings accepted for a field (as written in the catalogue's list), joined
/// for a message: 「製品名」「製品」「ウイルス対策ソフト」.
fn heading_examples(import: &str, field: &str) -> String {
    SYNONYMS
        .get(import)
        .and_then(|t| t.get(field))
        .map(|names| {
            names
                .iter()
                .take(3)
                .map(String::as_str)
                .collect::<Vec<_>>()
                .join("」「")
        })
        .unwrap_or_default()
}

/// Reads the cells of one data row by field.
pub struct RowReader<'a> {
    pub number: usize,
    cells: &'a [String],
    columns: &'a HashMap<&'static str, usize>,
}

impl<'a> RowReader<'a> {
    /// A reader over `row` with the columns of `layout`.
    pub fn new(row: &'a SheetRow, layout: &'a Layout) -> RowReader<'a> {
        RowReader {
            number: row.number,
            cells: &row.cells,
            columns: &layout.columns,
        }
    }

    /// The field's text as typed, trimmed.
    pub fn raw(&self, field: &str) -> String {
        self.columns
            .get(field)
            .and_then(|c| self.cells.get(*c))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    }

    /// The field's text normalised (NFKC, trimmed).
    pub fn get(&self, field: &str) -> String {
        normal(&self.raw(field))
    }

    /// A problem at this row, in the field's column.
    pub fn problem(&self, field: &'static str, key: &'static str, value: &str) -> Problem {
        Problem {
            row: self.number,
            col: self.columns.get(field).copied(),
            field,
            key,
            value: value.to_string(),
        }
    }
}

/// The data rows after the header of a located sheet.
/// The headings of the header row whose columns no field reads, as written.
pub fn ignored_headings(sheet: &Sheet, layout: &Layout) -> Vec<String> {
    sheet
        .rows
        .get(layout.header_index)
        .map(|r| {
            r.cells
                .iter()
                .enumerate()
                .filter(|(i, h)| !h.trim().is_empty() && !layout.columns.values().any(|c| c == i))
                // A column that numbers the rows is no data of the report.
                .filter(|(_, h)| {
                    let h: String = h.nfkc().collect::<String>().trim().to_lowercase();
                    !matches!(
                        h.as_str(),
                        "no" | "no." | "#" | "番号" | "連番" | "項番" | "通番"
                    )
                })
                .map(|(_, h)| h.trim().to_string())
                .collect()
        })
        .unwrap_or_default()
}

pub fn data_rows<'a>(sheet: &'a Sheet, layout: &'a Layout) -> impl Iterator<Item = RowReader<'a>> {
    sheet
        .rows
        .iter()
        .skip(layout.header_index + 1)
        .map(move |r| RowReader::new(r, layout))
}

/// Matches a typed place name to one of `names` (NFKC, spaces ignored); the stored name. A
/// name as staff shorten it (「成田」 for 「成田営業所」) matches when it begins exactly one of
/// them; two or more (「成田営業所」 and 「成田第2倉庫」) match none.
pub fn match_name(raw: &str, names: &[String]) -> Option<String> {
    let key = heading_key(raw);
    if key.is_empty() {
        return None;
    }
    if let Some(n) = names.iter().find(|n| heading_key(n) == key) {
        return Some(n.clone());
    }
    let mut begun = names.iter().filter(|n| heading_key(n).starts_with(&key));
    match (begun.next(), begun.next()) {
        (Some(n), None) if key.chars().count() >= 2 => Some(n.clone()),
        _ => None,
    }
}

/// The letters of a 0-based column: 0 → A, 26 → AA.
pub fn column_letter(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8_lossy(&s).into_owned()
}

/// A date as offices write it: 2026/11/30, 2026-11-30, 2026.11.30, 2026年11月30日, R6.11.30,
/// 令和6年11月30日 (平成 and 昭和 too), or a spreadsheet serial number.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let s = normal(raw);
    // "2026/11/30 0:00:00" as Excel writes date cells into CSV.
    let s = s.split_whitespace().next().unwrap_or("");
    let lower = s.to_lowercase();
    let eras: [(&str, i32); 6] = [
        ("令和", 2018),
        ("平成", 1988),
        ("昭和", 1925),
        ("r", 2018),
        ("h", 1988),
        ("s", 1925),
    ];
    let (base, rest) = match eras.iter().find(|(p, _)| lower.starts_with(p)) {
        Some((p, base)) => (Some(*base), lower[p.len()..].replacen('元', "1", 1)),
        None => (None, lower.clone()),
    };
    if !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '/' | '-' | '.' | '年' | '月' | '日'))
    {
        let parts: Vec<&str> = rest
            .split(|c: char| !c.is_ascii_digit())
            .filter(|p| !p.is_empty())
            .collect();
        if let [y, m, d] = parts[..] {
            let (y, m, d) = (y.parse::<i32>().ok()?, m.parse().ok()?, d.parse().ok()?);
            let year = match base {
                Some(b) if (1..=99).contains(&y) => b + y,
                Some(_) => return None,
                None if y >= 1900 => y,
                None => return None,
            };
            return NaiveDate::from_ymd_opt(year, m, d);
        }
    }
    // A date cell exported as its serial number: days since 1899-12-30.
    match s.parse::<f64>() {
        Ok(serial) if base.is_none() && (20_000.0..80_000.0).contains(&serial) => {
            NaiveDate::from_ymd_opt(1899, 12, 30)
                .and_then(|b| b.checked_add_days(chrono::Days::new(serial as u64)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sheet(rows: &[(usize, &[&str])]) -> Sheet {
        Sheet {
            name: Some("一覧".into()),
            rows: rows
                .iter()
                .map(|(n, c)| SheetRow {
                    number: *n,
                    cells: c.iter().map(|s| s.to_string()).collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn the_synonyms_file_parses_and_no_heading_names_two_fields() {
        for import in ["equipment", "antivirus"] {
            let table = SYNONYMS.get(import).unwrap();
            let mut seen = HashMap::new();
            for (field, names) in table {
                for n in names {
                    if let Some(other) = seen.insert(heading_key(n), field.clone()) {
                        assert_eq!(&other, field, "{n} names two fields of {import}");
                    }
                }
            }
        }
        assert!(SYNONYMS["equipment"]["naccs"].contains(&"NACCS接続有無".to_string()));
    }

    #[test]
    fn the_headings_the_old_importer_took_still_work() {
        let old: [(&str, &[&str]); 2] = [
            (
                "equipment",
                &[
                    "機器種別",
                    "種別",
                    "device type",
                    "type",
                    "メーカー",
                    "製造元",
                    "maker",
                    "manufacturer",
                    "型番",
                    "機種",
                    "model",
                    "OS/ファームウェア",
                    "OS・ファームウェア",
                    "os",
                    "ファームウェア",
                    "os/firmware",
                    "firmware",
                    "台数",
                    "数量",
                    "quantity",
                    "qty",
                    "設置場所",
                    "事業所",
                    "location",
                    "office",
                    "用途",
                    "役割",
                    "role",
                    "purpose",
                    "NACC接続",
                    "NACCS接続",
                    "NACCS 接続",
                    "connected to NACCS",
                    "naccs",
                    "備考",
                    "notes",
                    "remarks",
                ],
            ),
            (
                "antivirus",
                &[
                    "ホスト名/資産番号",
                    "ホスト名",
                    "資産番号",
                    "host",
                    "hostname",
                    "asset id",
                    "事業所",
                    "office",
                    "OS",
                    "ＯＳ",
                    "製品",
                    "ウイルス対策製品",
                    "ウィルス対策製品",
                    "product",
                    "製品バージョン",
                    "バージョン",
                    "version",
                    "product version",
                    "定義ファイル日付",
                    "パターンファイル日付",
                    "definitions date",
                    "definitions",
                    "更新頻度",
                    "update frequency",
                    "最終フルスキャン",
                    "最終フルスキャン日",
                    "last full scan",
                ],
            ),
        ];
        for (import, names) in old {
            let fields: Vec<&'static str> = SYNONYMS[import]
                .keys()
                .map(|k| &*Box::leak(k.clone().into_boxed_str()))
                .collect();
            for name in names {
                let found = columns_of(&[name.to_string()], import, &fields);
                assert_eq!(found.len(), 1, "{import}: {name}");
            }
        }
    }

    #[test]
    fn the_header_row_is_found_below_a_title() {
        let s = sheet(&[
            (1, &["機器構成一覧（2026年度）"]),
            (
                3,
                &[
                    "",
                    "メーカー名",
                    "機種・型番",
                    "ＮＡＣＣＳ 接続有無",
                    "備考",
                ],
            ),
            (4, &["", "NEC", "IX", "有", ""]),
        ]);
        let sheets = [s];
        let (_, layout) = locate(
            &sheets,
            "equipment",
            &["maker", "model", "naccs"],
            &["maker", "model", "naccs"],
        )
        .unwrap();
        assert_eq!(layout.header_row, 3);
        assert_eq!(layout.columns["naccs"], 3);
        let row = data_rows(&sheets[0], &layout).next().unwrap();
        assert_eq!((row.number, row.get("model")), (4, "IX".to_string()));
        let err = locate(
            &sheets,
            "equipment",
            &["maker", "model", "quantity"],
            &["maker", "model", "quantity"],
        )
        .unwrap_err();
        assert_eq!(err.problems[0].row, 3);
        assert_eq!(err.problems[0].field, "quantity");
    }

    #[test]
    fn dates_in_the_forms_offices_write_them() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 30);
        for s in [
            "2026/11/30",
            "2026-11-30",
            "２０２６／１１／３０",
            "2026年11月30日",
            "R8.11.30",
            "令和8年11月30日",
            "2026/11/30 0:00:00",
            "46356",
        ] {
            assert_eq!(parse_date(s), d, "{s}");
        }
        assert_eq!(
            parse_date("R6.11.30"),
            NaiveDate::from_ymd_opt(2024, 11, 30)
        );
        assert_eq!(
            parse_date("平成31年4月30日"),
            NaiveDate::from_ymd_opt(2019, 4, 30)
        );
        assert_eq!(
            parse_date("令和元年5月1日"),
            NaiveDate::from_ymd_opt(2019, 5, 1)
        );
        for bad in ["", "昨日", "26/11/30", "2026/13/01", "R6.11", "abc1.2.3"] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn columns_have_letters_and_names_match_loosely() {
        assert_eq!(
            (
                column_letter(0),
                column_letter(3),
                column_letter(25),
                column_letter(26),
                column_letter(701)
            ),
            ("A".into(), "D".into(), "Z".into(), "AA".into(), "ZZ".into())
        );
        let names = vec!["成田営業所".to_string(), "第１倉庫".to_string()];
        assert_eq!(match_name("第1倉庫", &names), Some("第１倉庫".into()));
        assert_eq!(match_name("成田", &names), Some("成田営業所".into()));
    }

    #[test]
    fn a_place_name_matches_whole_or_as_the_one_name_it_begins() {
        let names = [
            "本社".to_string(),
            "本社サーバ室".into(),
            "成田営業所".into(),
            "羽田第2倉庫".into(),
        ];
        assert_eq!(match_name("本社", &names).as_deref(), Some("本社"));
        assert_eq!(match_name("成田", &names).as_deref(), Some("成田営業所"));
        assert_eq!(
            match_name("羽田 第２倉庫", &names).as_deref(),
            Some("羽田第2倉庫")
        );
        assert_eq!(
            match_name("本社サ", &names).as_deref(),
            Some("本社サーバ室")
        );
        let two = ["成田営業所".to_string(), "成田第2倉庫".into()];
        assert_eq!(match_name("成田", &two), None, "two begin with it");
        assert_eq!(match_name("成", &names), None, "one letter is too little");
        assert_eq!(match_name("大阪", &names), None);
    }
}
