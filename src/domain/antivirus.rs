//! Item 3 — ウィルス対策: one row per computer connected to NACCS, checked, and imported from
//! the CSV a user already keeps (Japanese or English headers, UTF-8 or Shift_JIS).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use super::sheet::{self, Failed, Imported, Sheet};

/// Products offered in the form; anything else is "other" with its name.
pub const PRODUCTS: [&str; 9] = [
    "defender",
    "trend_micro",
    "symantec",
    "trellix",
    "eset",
    "sophos",
    "kaspersky",
    "crowdstrike",
    "other",
];

/// How often definitions are updated.
pub const FREQUENCIES: [&str; 5] = ["realtime", "hourly", "daily", "weekly", "other"];

/// One computer's antivirus, as stored in the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AvRow {
    /// The computer's name (up to 100 characters).
    #[serde(default)]
    pub host: String,
    /// Where it stands: an office or a gateway site (ゲートウェイ設置場所), by its name as
    /// registered in the portal.
    #[serde(default)]
    pub office: String,
    /// Operating system and version (e.g. `Windows 11 23H2`).
    #[serde(default)]
    pub os: String,
    /// `defender`, `trend_micro`, `symantec`, `trellix`, `eset`, `sophos`, `kaspersky`,
    /// `crowdstrike` or `other`.
    #[serde(default)]
    pub product: String,
    /// The product's name when `product` is `other`.
    #[serde(default)]
    pub product_other: String,
    /// The product's version.
    #[serde(default)]
    pub version: String,
    /// The date of the definitions in use, `YYYY-MM-DD` (not in the future).
    #[serde(default)]
    pub definitions_date: String,
    /// `realtime`, `hourly`, `daily`, `weekly` or `other`.
    #[serde(default)]
    pub update_frequency: String,
    /// The last full scan, `YYYY-MM-DD` (optional).
    #[serde(default)]
    pub last_full_scan: String,
}

impl AvRow {
    /// Whether nothing was typed.
    pub fn is_blank(&self) -> bool {
        [
            &self.host,
            &self.os,
            &self.version,
            &self.definitions_date,
            &self.last_full_scan,
            &self.product_other,
        ]
        .iter()
        .all(|s| s.trim().is_empty())
    }
}

impl AvRow {
    /// The row's fields in `FIELDS` order, then the product name as written.
    pub fn to_cells(&self) -> Vec<String> {
        [
            &self.host,
            &self.office,
            &self.os,
            &self.product,
            &self.version,
            &self.definitions_date,
            &self.update_frequency,
            &self.last_full_scan,
            &self.product_other,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    /// A row from `to_cells`' order; missing fields are blank.
    pub fn from_cells(cells: &[String]) -> AvRow {
        let get = |i: usize| cells.get(i).cloned().unwrap_or_default();
        AvRow {
            host: get(0),
            office: get(1),
            os: get(2),
            product: get(3),
            version: get(4),
            definitions_date: get(5),
            update_frequency: get(6),
            last_full_scan: get(7),
            product_other: get(8),
        }
    }
}

/// A problem with one field of one row: (field, locale key).
pub type RowError = (&'static str, &'static str);

use super::sheet::parse_date;

/// Checks a row against today's date; normalises dates to YYYY-MM-DD.
pub fn check(row: &mut AvRow, offices: &[String], today: NaiveDate) -> Vec<RowError> {
    let mut e = vec![];
    let text = |s: &str, max: usize| {
        !s.trim().is_empty() && s.chars().count() <= max && !s.chars().any(char::is_control)
    };
    if !text(&row.host, 100) {
        e.push(("host", "error.required"));
    }
    if !offices.contains(&row.office) {
        e.push(("office", "error.location_required"));
    }
    if !text(&row.os, 100) {
        e.push(("os", "error.required"));
    }
    if !PRODUCTS.contains(&row.product.as_str()) {
        e.push(("product", "error.choose_one"));
    } else if row.product == "other" && !text(&row.product_other, 100) {
        e.push(("product_other", "error.required"));
    } else if row.product_other.chars().count() > 100 {
        e.push(("product_other", "error.too_long"));
    }
    if !text(&row.version, 50) {
        e.push(("version", "error.required"));
    }
    match parse_date(&row.definitions_date) {
        None => e.push(("definitions_date", "error.date_invalid")),
        Some(d) if d > today => e.push(("definitions_date", "error.date_in_future")),
        Some(d) => row.definitions_date = d.format("%Y-%m-%d").to_string(),
    }
    if !FREQUENCIES.contains(&row.update_frequency.as_str()) {
        e.push(("update_frequency", "error.choose_one"));
    }
    if !row.last_full_scan.trim().is_empty() {
        match parse_date(&row.last_full_scan) {
            None => e.push(("last_full_scan", "error.date_invalid")),
            Some(d) if d > today => e.push(("last_full_scan", "error.date_in_future")),
            Some(d) => row.last_full_scan = d.format("%Y-%m-%d").to_string(),
        }
    }
    e
}

/// The product as people know it: the name as written, with the catalogue's `word` for it
/// in the brackets `lp` `rp` — unless the name already says it or names another product.
pub fn product_label(row: &AvRow, word: &str, lp: &str, rp: &str) -> String {
    match (row.product_other.trim(), row.product.as_str()) {
        ("", _) => word.to_string(),
        (written, "other") => written.to_string(),
        (written, _) if written.contains(word) => written.to_string(),
        (written, _) => format!("{written}{lp}{word}{rp}"),
    }
}

/// Where the equipment list and the antivirus rows count the computers connected to NACCS
/// differently: (location, computers the list counts, rows reported), in the order of `order`
/// (the organisation's places as registered; a place not in it after them, as the rows and
/// then the list name it). None while the list counts no such computer. Fewer rows leave
/// computers out of the report; more mean the list is out of date or the report holds
/// computers that do not connect to NACCS.
pub fn mismatches(
    equipment: &[super::equipment::EquipmentRow],
    rows: &[AvRow],
    order: &[String],
) -> Vec<(String, i64, i64)> {
    let listed = super::equipment::naccs_computers(equipment);
    // A list without computers connected to NACCS (none made yet) has nothing to compare.
    if listed.is_empty() {
        return vec![];
    }
    let mut counts: Vec<(String, i64, i64)> = vec![];
    fn at(counts: &mut Vec<(String, i64, i64)>, place: &str) -> usize {
        match counts.iter().position(|c| c.0 == place) {
            Some(i) => i,
            None => {
                counts.push((place.to_string(), 0, 0));
                counts.len() - 1
            }
        }
    }
    for r in rows.iter().filter(|r| !r.is_blank()) {
        let i = at(&mut counts, &r.office);
        counts[i].2 += 1;
    }
    for r in equipment {
        at(&mut counts, &r.location);
    }
    for (place, n) in listed {
        let i = at(&mut counts, &place);
        counts[i].1 = n;
    }
    counts.retain(|(_, listed, reported)| listed != reported);
    counts.sort_by_key(|(place, _, _)| order.iter().position(|o| o == place).unwrap_or(usize::MAX));
    counts
}

/// The locale key that says a mismatch of [`mismatches`] in words.
pub fn mismatch_key(listed: i64, reported: i64) -> &'static str {
    if reported < listed {
        "av.mismatch"
    } else {
        "av.mismatch_more"
    }
}

/// Whether the definitions are older than `days` (a row that passed `check`).
pub fn is_stale(row: &AvRow, today: NaiveDate, days: i64) -> bool {
    parse_date(&row.definitions_date).is_some_and(|d| (today - d).num_days() > days)
}

/// The fields of an imported row, in the template's column order; the headings accepted for
/// each are in `catalogue/import-headers.toml` (table `antivirus`).
pub const FIELDS: [&str; 8] = [
    "host",
    "office",
    "os",
    "product",
    "version",
    "definitions_date",
    "update_frequency",
    "last_full_scan",
];

/// Maps a product or frequency label (Japanese or English, or the key) to its key.
fn match_choice(raw: &str, choices: &[&str], labels: &[(&str, &str)]) -> Option<String> {
    let v = raw.nfkc().collect::<String>().trim().to_lowercase();
    if let Some(k) = choices.iter().find(|k| **k == v) {
        return Some(k.to_string());
    }
    labels
        .iter()
        .find(|(_, l)| v.contains(&l.to_lowercase()))
        .map(|(k, _)| k.to_string())
}

const PRODUCT_LABELS: [(&str, &str); 19] = [
    ("defender", "defender"),
    ("defender", "windows セキュリティ"),
    ("defender", "windowsセキュリティ"),
    ("defender", "windows security"),
    ("trend_micro", "トレンドマイクロ"),
    ("trend_micro", "virus buster"),
    ("symantec", "シマンテック"),
    ("symantec", "norton"),
    ("trellix", "マカフィー"),
    ("crowdstrike", "crowdstrike"),
    ("trend_micro", "trend micro"),
    ("trend_micro", "ウイルスバスター"),
    ("trend_micro", "apex one"),
    ("symantec", "symantec"),
    ("trellix", "trellix"),
    ("trellix", "mcafee"),
    ("eset", "eset"),
    ("sophos", "sophos"),
    ("kaspersky", "kaspersky"),
];

const FREQUENCY_LABELS: [(&str, &str); 8] = [
    ("realtime", "リアルタイム"),
    ("realtime", "real"),
    ("hourly", "毎時"),
    ("hourly", "hour"),
    ("daily", "毎日"),
    ("daily", "day"),
    ("weekly", "毎週"),
    ("weekly", "week"),
];

/// Reads rows from an uploaded table (any format `workbook::read` takes); see `import_sheets`.
pub fn import(
    bytes: &[u8],
    offices: &[String],
    today: NaiveDate,
) -> Result<Imported<AvRow>, Failed> {
    let sheets = super::workbook::read(bytes).map_err(Failed::file)?;
    import_sheets(&sheets, offices, today)
}

/// Reads rows from the first sheet with an antivirus header row; `offices` are the
/// organisation's office and gateway-site names. A product written freely ("ウイルスバスター", "ESET") is matched
/// to a known product and the text is kept as written. Every problem is listed with its row
/// and column; the caller imports nothing unless there are none.
pub fn import_sheets(
    sheets: &[Sheet],
    offices: &[String],
    today: NaiveDate,
) -> Result<Imported<AvRow>, Failed> {
    let required: Vec<&'static str> = FIELDS
        .iter()
        .copied()
        .filter(|f| *f != "last_full_scan")
        .collect();
    let (sheet, layout) = sheet::locate(sheets, "antivirus", &FIELDS, &required)?;
    let mut rows = vec![];
    let mut numbers = vec![];
    let mut problems = vec![];
    for r in sheet::data_rows(sheet, &layout) {
        if FIELDS.iter().all(|f| r.raw(f).is_empty()) {
            continue;
        }
        let product_text = r.raw("product");
        let product = match_choice(&product_text, &PRODUCTS, &PRODUCT_LABELS);
        let typed_office = r.get("office");
        let mut row = AvRow {
            host: r.get("host"),
            office: sheet::match_name(&typed_office, offices)
                .unwrap_or_else(|| typed_office.clone()),
            os: r.get("os"),
            product: product.clone().unwrap_or_else(|| "other".into()),
            // The name as written, whichever product it was matched to.
            product_other: if product.as_deref() == Some(product_text.as_str()) {
                String::new()
            } else {
                product_text
            },
            version: r.get("version"),
            definitions_date: r.get("definitions_date"),
            update_frequency: match_choice(
                &r.get("update_frequency"),
                &FREQUENCIES,
                &FREQUENCY_LABELS,
            )
            .unwrap_or_default(),
            last_full_scan: r.get("last_full_scan"),
        };
        for (field, key) in check(&mut row, offices, today) {
            let key = match field {
                "office" if !typed_office.is_empty() => "error.location_unknown",
                _ => key,
            };
            let column = if field == "product_other" {
                "product"
            } else {
                field
            };
            let mut p = r.problem(column, key, &r.raw(column));
            p.field = field;
            problems.push(p);
        }
        rows.push(row);
        numbers.push(r.number);
    }
    if rows.is_empty() {
        problems.push(sheet::Problem {
            row: layout.header_row,
            col: None,
            field: "file",
            key: "error.csv_empty",
            value: String::new(),
        });
    }
    if problems.is_empty() {
        Ok(Imported {
            rows,
            numbers,
            sheet: sheet.name.clone(),
            header_row: layout.header_row,
            ignored: sheet::ignored_headings(sheet, &layout),
            assumed: vec![],
        })
    } else {
        Err(Failed {
            sheet: sheet.name.clone(),
            problems,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    #[test]
    fn the_equipment_list_and_the_report_are_compared_both_ways() {
        let eq =
            |location: &str, quantity: &str, naccs: &str| super::super::equipment::EquipmentRow {
                device_type: "client_pc".into(),
                quantity: quantity.into(),
                location: location.into(),
                naccs: naccs.into(),
                ..Default::default()
            };
        let av = |office: &str| AvRow {
            host: format!("PC-{office}"),
            office: office.into(),
            ..Default::default()
        };
        let list = [
            eq("本社", "2", "yes"),
            eq("成田", "1", "yes"),
            eq("成田", "5", "no"),
        ];
        // 本社: one left out; 成田: the list's one and an extra; 横浜: not on the list at all.
        let rows = [av("本社"), av("成田"), av("成田"), av("横浜")];
        // In the organisation's order of its places.
        let order = ["本社".to_string(), "横浜".into(), "成田".into()];
        assert_eq!(
            mismatches(&list, &rows, &order),
            vec![
                ("本社".to_string(), 2, 1),
                ("横浜".to_string(), 0, 1),
                ("成田".to_string(), 1, 2),
            ]
        );
        // Without it, as the rows name them.
        assert_eq!(mismatches(&list, &rows, &[])[0].0, "本社");
        assert_eq!(mismatch_key(2, 1), "av.mismatch");
        assert_eq!(mismatch_key(0, 1), "av.mismatch_more");
        // The counts agree: nothing; no list yet: nothing to compare.
        assert!(mismatches(&list[..1], &[av("本社"), av("本社")], &order).is_empty());
        assert!(mismatches(&[], &rows, &order).is_empty());
    }

    #[test]
    fn a_japanese_csv_imports_and_stale_definitions_are_flagged() {
        let csv = "ホスト名/資産番号,事業所,OS,製品,製品バージョン,定義ファイル日付,更新頻度,最終フルスキャン\n\
                   PC-001,本社,Windows 11,Microsoft Defender ウイルス対策,4.18,2026/11/24,毎日,2026-11-20\n\
                   \"PC-002, 経理\",本社,Windows 10,ESET Endpoint,10.1,R8.10.1,リアルタイム,\n";
        let rows = import(csv.as_bytes(), &["本社".into()], today())
            .unwrap()
            .rows;
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].product.as_str(), rows[0].update_frequency.as_str()),
            ("defender", "daily")
        );
        assert_eq!(rows[0].product_other, "Microsoft Defender ウイルス対策");
        assert_eq!(rows[0].definitions_date, "2026-11-24");
        assert_eq!(rows[1].host, "PC-002, 経理");
        assert_eq!(rows[1].definitions_date, "2026-10-01");
        assert!(!is_stale(&rows[0], today(), 7));
        assert!(is_stale(&rows[1], today(), 7));
    }

    #[test]
    fn problems_are_listed_by_row_and_column() {
        let csv = "host,office,os,product,version,definitions date,update frequency\n\
                   PC-1,本社,Win,Defender,1,2027-01-01,daily\n\
                   ,支店,Win,Defender,1,2026-11-01,sometimes\n";
        let err = import(csv.as_bytes(), &["本社".into()], today()).unwrap_err();
        let found: Vec<_> = err
            .problems
            .iter()
            .map(|p| (p.row, p.col, p.field, p.key))
            .collect();
        assert!(found.contains(&(2, Some(5), "definitions_date", "error.date_in_future")));
        assert!(found.contains(&(3, Some(0), "host", "error.required")));
        assert!(found.contains(&(3, Some(1), "office", "error.location_unknown")));
        assert!(found.contains(&(3, Some(6), "update_frequency", "error.choose_one")));
        let err = import(b"host,os\nPC,Win\n", &[], today()).unwrap_err();
        assert!(
            err.problems
                .iter()
                .any(|p| p.field == "definitions_date" && p.key == "error.csv_missing_column")
        );
    }

    #[test]
    fn free_text_products_match_and_keep_their_text() {
        for (text, key) in [
            ("ウイルスバスター Corp.", "trend_micro"),
            ("ESET", "eset"),
            ("Defender", "defender"),
            ("ＥＳＥＴ Endpoint Security", "eset"),
            ("何か別のソフト", "other"),
        ] {
            let m =
                match_choice(text, &PRODUCTS, &PRODUCT_LABELS).unwrap_or_else(|| "other".into());
            assert_eq!(m, key, "{text}");
        }
    }
}
