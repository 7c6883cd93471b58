//! Item 3 — ウィルス対策: one row per computer connected to NACCS, checked, and imported from
//! the CSV a user already keeps (Japanese or English headers, UTF-8 or Shift_JIS).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AvRow {
    #[serde(default)]
    pub host: String,
    #[serde(default)]
    pub office: String,
    #[serde(default)]
    pub os: String,
    #[serde(default)]
    pub product: String,
    #[serde(default)]
    pub product_other: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub definitions_date: String,
    #[serde(default)]
    pub update_frequency: String,
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

/// A problem with one field of one row: (field, locale key).
pub type RowError = (&'static str, &'static str);

fn parse_date(raw: &str) -> Option<NaiveDate> {
    let s: String = raw.nfkc().collect::<String>().trim().replace('/', "-");
    if let Ok(d) = NaiveDate::parse_from_str(&s, "%Y-%m-%d") {
        return Some(d);
    }
    // A spreadsheet date cell: days since 1899-12-30.
    match s.parse::<f64>() {
        Ok(serial) if (20_000.0..80_000.0).contains(&serial) => {
            NaiveDate::from_ymd_opt(1899, 12, 30)
                .and_then(|base| base.checked_add_days(chrono::Days::new(serial as u64)))
        }
        _ => None,
    }
}

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
        e.push(("office", "error.office_required"));
    }
    if !text(&row.os, 100) {
        e.push(("os", "error.required"));
    }
    if !PRODUCTS.contains(&row.product.as_str()) {
        e.push(("product", "error.choose_one"));
    } else if row.product == "other" && !text(&row.product_other, 100) {
        e.push(("product_other", "error.required"));
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

/// Whether the definitions are older than `days` (a row that passed `check`).
pub fn is_stale(row: &AvRow, today: NaiveDate, days: i64) -> bool {
    parse_date(&row.definitions_date).is_some_and(|d| (today - d).num_days() > days)
}

/// The CSV header names accepted per field, Japanese and English.
pub const HEADERS: [(&str, &[&str]); 8] = [
    (
        "host",
        &[
            "ホスト名/資産番号",
            "ホスト名",
            "資産番号",
            "host",
            "hostname",
            "asset id",
        ],
    ),
    ("office", &["事業所", "office"]),
    ("os", &["os", "ＯＳ"]),
    (
        "product",
        &["製品", "ウイルス対策製品", "ウィルス対策製品", "product"],
    ),
    (
        "version",
        &["製品バージョン", "バージョン", "version", "product version"],
    ),
    (
        "definitions_date",
        &[
            "定義ファイル日付",
            "パターンファイル日付",
            "definitions date",
            "definitions",
        ],
    ),
    ("update_frequency", &["更新頻度", "update frequency"]),
    (
        "last_full_scan",
        &["最終フルスキャン", "最終フルスキャン日", "last full scan"],
    ),
];

pub use super::csv::{decode, records};

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

const PRODUCT_LABELS: [(&str, &str); 11] = [
    ("defender", "defender"),
    ("defender", "windows セキュリティ"),
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

/// A problem found while importing: (1-based line, field, locale key).
pub type ImportError = (usize, &'static str, &'static str);

/// Reads rows from CSV text; `offices` are the organisation's office names. Every problem is
/// listed; the caller imports nothing unless the list is empty.
pub fn import(
    text: &str,
    offices: &[String],
    today: NaiveDate,
) -> Result<Vec<AvRow>, Vec<ImportError>> {
    import_records(&records(text), offices, today)
}

/// Reads rows from a table already split into cells (CSV or XLSX).
pub fn import_records(
    recs: &[Vec<String>],
    offices: &[String],
    today: NaiveDate,
) -> Result<Vec<AvRow>, Vec<ImportError>> {
    let Some(header) = recs.first() else {
        return Err(vec![(1, "file", "error.csv_empty")]);
    };
    let norm = |s: &str| s.nfkc().collect::<String>().trim().to_lowercase();
    let mut col = std::collections::HashMap::new();
    for (field, names) in HEADERS {
        if let Some(i) = header
            .iter()
            .position(|h| names.iter().any(|n| norm(n) == norm(h)))
        {
            col.insert(field, i);
        }
    }
    let missing: Vec<ImportError> = HEADERS
        .iter()
        .filter(|(f, _)| *f != "last_full_scan" && !col.contains_key(f))
        .map(|(f, _)| (1, *f, "error.csv_missing_column"))
        .collect();
    if !missing.is_empty() {
        return Err(missing);
    }
    let mut rows = vec![];
    let mut errors = vec![];
    for (i, rec) in recs.iter().enumerate().skip(1) {
        let get = |f: &str| {
            col.get(f)
                .and_then(|c| rec.get(*c))
                .map(|s| s.trim().to_string())
                .unwrap_or_default()
        };
        let product_raw = get("product");
        let product = match_choice(&product_raw, &PRODUCTS, &PRODUCT_LABELS);
        let mut row = AvRow {
            host: get("host"),
            office: get("office"),
            os: get("os"),
            product: product.clone().unwrap_or_else(|| "other".into()),
            product_other: if product.is_none() {
                product_raw
            } else {
                String::new()
            },
            version: get("version"),
            definitions_date: get("definitions_date"),
            update_frequency: match_choice(
                &get("update_frequency"),
                &FREQUENCIES,
                &FREQUENCY_LABELS,
            )
            .unwrap_or_default(),
            last_full_scan: get("last_full_scan"),
        };
        for (field, key) in check(&mut row, offices, today) {
            errors.push((i + 1, field, key));
        }
        rows.push(row);
    }
    if rows.is_empty() {
        errors.push((2, "file", "error.csv_empty"));
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
    }

    #[test]
    fn a_japanese_csv_imports_and_stale_definitions_are_flagged() {
        let csv = "ホスト名/資産番号,事業所,OS,製品,製品バージョン,定義ファイル日付,更新頻度,最終フルスキャン\n\
                   PC-001,本社,Windows 11,Microsoft Defender ウイルス対策,4.18,2026/11/24,毎日,2026-11-20\n\
                   \"PC-002, 経理\",本社,Windows 10,ESET Endpoint,10.1,2026-10-01,リアルタイム,\n";
        let rows = import(csv, &["本社".into()], today()).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            (rows[0].product.as_str(), rows[0].update_frequency.as_str()),
            ("defender", "daily")
        );
        assert_eq!(rows[0].definitions_date, "2026-11-24");
        assert_eq!(rows[1].host, "PC-002, 経理");
        assert!(!is_stale(&rows[0], today(), 7));
        assert!(is_stale(&rows[1], today(), 7));
    }

    #[test]
    fn problems_are_listed_by_line_and_column() {
        let csv = "host,office,os,product,version,definitions date,update frequency\n\
                   PC-1,本社,Win,Defender,1,2027-01-01,daily\n\
                   ,支店,Win,Defender,1,2026-11-01,sometimes\n";
        let errs = import(csv, &["本社".into()], today()).unwrap_err();
        assert!(errs.contains(&(2, "definitions_date", "error.date_in_future")));
        assert!(errs.contains(&(3, "host", "error.required")));
        assert!(errs.contains(&(3, "office", "error.office_required")));
        assert!(errs.contains(&(3, "update_frequency", "error.choose_one")));
        let errs = import("host,os\nPC,Win\n", &[], today()).unwrap_err();
        assert!(errs.contains(&(1, "definitions_date", "error.csv_missing_column")));
    }

    #[test]
    fn shift_jis_decodes_and_utf16_does_not() {
        let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("事業所,本社\n");
        assert_eq!(decode(&sjis).unwrap(), "事業所,本社\n");
        assert!(decode(&[0xFF, 0xFE, 0x41, 0x00, 0x81]).is_none());
    }
}
