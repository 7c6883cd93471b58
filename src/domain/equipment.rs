//! Item 4 ② — 使用する機器の構成リスト: the equipment list as rows, entered in the page or
//! imported from CSV with Japanese or English headers.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use super::sheet::{self, Failed, Imported, Sheet};

/// Device types the list knows.
pub const DEVICE_TYPES: [&str; 9] = [
    "server",
    "client_pc",
    "gateway",
    "router",
    "switch",
    "firewall",
    "vpn",
    "proxy",
    "other",
];

/// Device types that are computers (and so need antivirus when connected to NACCS).
pub const COMPUTERS: [&str; 3] = ["server", "client_pc", "gateway"];

/// One line of the equipment list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct EquipmentRow {
    #[serde(default)]
    pub device_type: String,
    /// The device's own name as the organisation calls it (機器名, a host name): optional.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub maker: String,
    #[serde(default)]
    pub model: String,
    #[serde(default)]
    pub os_firmware: String,
    #[serde(default)]
    pub quantity: String,
    #[serde(default)]
    pub location: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub naccs: String,
    #[serde(default)]
    pub notes: String,
}

impl EquipmentRow {
    /// Whether nothing was typed.
    pub fn is_blank(&self) -> bool {
        [
            &self.name,
            &self.maker,
            &self.model,
            &self.os_firmware,
            &self.quantity,
            &self.role,
            &self.notes,
        ]
        .iter()
        .all(|s| s.trim().is_empty())
    }

    /// The row's fields in `FIELDS` order (the confirmation step carries rows this way).
    pub fn to_cells(&self) -> Vec<String> {
        [
            &self.device_type,
            &self.name,
            &self.maker,
            &self.model,
            &self.os_firmware,
            &self.quantity,
            &self.location,
            &self.role,
            &self.naccs,
            &self.notes,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    /// A row from its fields in `FIELDS` order; missing ones are blank.
    pub fn from_cells(cells: &[String]) -> EquipmentRow {
        let get = |i: usize| cells.get(i).cloned().unwrap_or_default();
        EquipmentRow {
            device_type: get(0),
            name: get(1),
            maker: get(2),
            model: get(3),
            os_firmware: get(4),
            quantity: get(5),
            location: get(6),
            role: get(7),
            naccs: get(8),
            notes: get(9),
        }
    }

    /// The quantity of a checked row.
    pub fn count(&self) -> i64 {
        self.quantity.parse().unwrap_or(0)
    }
}

/// Checks a row; `locations` are the organisation's office and site names.
pub fn check(row: &mut EquipmentRow, locations: &[String]) -> Vec<(&'static str, &'static str)> {
    let mut e = vec![];
    let ok = |s: &str, max: usize, required: bool| {
        (!required || !s.trim().is_empty())
            && s.chars().count() <= max
            && !s.chars().any(char::is_control)
    };
    if !DEVICE_TYPES.contains(&row.device_type.as_str()) {
        e.push(("device_type", "error.choose_one"));
    }
    if !ok(&row.name, 100, false) {
        e.push(("name", "error.too_long"));
    }
    if !ok(&row.maker, 100, true) {
        e.push(("maker", "error.required"));
    }
    if !ok(&row.model, 100, true) {
        e.push(("model", "error.required"));
    }
    if !ok(&row.os_firmware, 100, false) {
        e.push(("os_firmware", "error.too_long"));
    }
    let q: String = row.quantity.nfkc().collect::<String>().trim().to_string();
    match q.parse::<i64>() {
        Ok(n) if (1..=100_000).contains(&n) => row.quantity = n.to_string(),
        _ => e.push(("quantity", "error.quantity_invalid")),
    }
    if !locations.contains(&row.location) {
        e.push(("location", "error.location_required"));
    }
    if !ok(&row.role, 200, false) {
        e.push(("role", "error.too_long"));
    }
    if !matches!(row.naccs.as_str(), "yes" | "no") {
        e.push(("naccs", "error.choose_one"));
    }
    if !ok(&row.notes, 500, false) {
        e.push(("notes", "error.too_long"));
    }
    e
}

/// The fields of an imported row, in the template's column order; the headings accepted for
/// each are in `catalogue/import-headers.toml` (table `equipment`).
pub const FIELDS: [&str; 10] = [
    "device_type",
    "name",
    "maker",
    "model",
    "os_firmware",
    "quantity",
    "location",
    "role",
    "naccs",
    "notes",
];

/// The fields an imported sheet must have a column for. A list without a NACCS column (an
/// asset register kept for other uses, say) is read as the equipment of the NACCS system:
/// every row connected, to be corrected on the draft's list where one is not.
const REQUIRED: [&str; 5] = ["device_type", "maker", "model", "quantity", "location"];

const TYPE_LABELS: [(&str, &str); 16] = [
    ("server", "サーバ"),
    ("server", "server"),
    ("client_pc", "クライアント"),
    ("client_pc", "pc"),
    ("client_pc", "パソコン"),
    ("gateway", "ゲートウェイ"),
    ("gateway", "gateway"),
    ("router", "ルータ"),
    ("router", "router"),
    ("switch", "スイッチ"),
    ("switch", "switch"),
    ("firewall", "ファイアウォール"),
    ("firewall", "utm"),
    ("vpn", "vpn"),
    ("proxy", "プロキシ"),
    ("proxy", "proxy"),
];

fn device_type(raw: &str) -> String {
    let v = raw.nfkc().collect::<String>().trim().to_lowercase();
    if DEVICE_TYPES.contains(&v.as_str()) {
        return v;
    }
    // The longest label found wins: 「ゲートウェイサーバ」 is a gateway, 「プロキシサーバ」 a proxy
    // (a tie keeps the list's order).
    TYPE_LABELS
        .iter()
        .filter(|(_, l)| v.contains(&l.to_lowercase()))
        .fold(None::<&(&str, &str)>, |best, cand| match best {
            Some(b) if b.1.chars().count() >= cand.1.chars().count() => Some(b),
            _ => Some(cand),
        })
        .map(|(k, _)| k.to_string())
        .unwrap_or_else(|| if v.is_empty() { v } else { "other".into() })
}

fn yes_no(raw: &str) -> String {
    let v = raw.nfkc().collect::<String>().trim().to_lowercase();
    match v.as_str() {
        "yes" | "y" | "はい" | "有" | "有り" | "あり" | "○" | "〇" | "◯" | "●" | "✓" | "✔"
        | "接続" | "接続あり" | "接続有" | "true" | "1" => "yes".into(),
        "no" | "n" | "いいえ" | "無" | "無し" | "なし" | "×" | "✕" | "-" | "ー" | "未接続"
        | "接続なし" | "接続無" | "非接続" | "false" | "0" => "no".into(),
        _ => v,
    }
}

/// Reads rows from an uploaded table (any format `workbook::read` takes); see `import_sheets`.
pub fn import(bytes: &[u8], locations: &[String]) -> Result<Imported<EquipmentRow>, Failed> {
    let sheets = super::workbook::read(bytes).map_err(Failed::file)?;
    import_sheets(&sheets, locations)
}

/// Reads rows from the first sheet with an equipment header row; every problem is listed with
/// its row and column, and nothing is imported unless there are none. Rows whose fields are all
/// blank (a numbered but empty line) are skipped.
pub fn import_sheets(
    sheets: &[Sheet],
    locations: &[String],
) -> Result<Imported<EquipmentRow>, Failed> {
    let (sheet, layout) = sheet::locate(sheets, "equipment", &FIELDS, &REQUIRED)?;
    let naccs_column = layout.columns.contains_key("naccs");
    let mut rows = vec![];
    let mut numbers = vec![];
    let mut problems = vec![];
    for r in sheet::data_rows(sheet, &layout) {
        if FIELDS.iter().all(|f| r.raw(f).is_empty()) {
            continue;
        }
        let typed_location = r.get("location");
        let mut row = EquipmentRow {
            device_type: device_type(&r.get("device_type")),
            name: r.get("name"),
            maker: r.get("maker"),
            model: r.get("model"),
            os_firmware: r.get("os_firmware"),
            quantity: r.get("quantity"),
            location: sheet::match_name(&typed_location, locations)
                .unwrap_or_else(|| typed_location.clone()),
            role: r.get("role"),
            naccs: if naccs_column {
                yes_no(&r.get("naccs"))
            } else {
                "yes".into()
            },
            notes: r.get("notes"),
        };
        for (field, key) in check(&mut row, locations) {
            let key = match (field, key) {
                ("location", _) if !typed_location.is_empty() => "error.location_unknown",
                ("naccs", _) if !r.raw("naccs").is_empty() => "error.yes_no",
                _ => key,
            };
            problems.push(r.problem(field, key, &r.raw(field)));
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
            assumed: if naccs_column { vec![] } else { vec!["naccs"] },
        })
    } else {
        Err(Failed {
            sheet: sheet.name.clone(),
            problems,
        })
    }
}

/// Computers connected to NACCS per location, from the equipment list.
pub fn naccs_computers(rows: &[EquipmentRow]) -> std::collections::BTreeMap<String, i64> {
    let mut m = std::collections::BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r.naccs == "yes" && COMPUTERS.contains(&r.device_type.as_str()))
    {
        *m.entry(r.location.clone()).or_insert(0) += r.count();
    }
    m
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_compound_type_is_read_by_its_longest_label() {
        assert_eq!(device_type("ゲートウェイサーバ"), "gateway");
        assert_eq!(device_type("プロキシサーバ"), "proxy");
        assert_eq!(device_type("ファイルサーバ"), "server");
        assert_eq!(device_type("VPNルータ"), "router");
        assert_eq!(device_type("ノートパソコン"), "client_pc");
    }

    use super::*;

    #[test]
    fn a_japanese_equipment_csv_imports_and_negative_quantities_are_refused() {
        let locs = vec!["本社".to_string()];
        let csv = "機器種別,メーカー,型番,OS/ファームウェア,台数,設置場所,用途,NACCS接続,備考\n\
                   サーバ,富士通,PRIMERGY RX2540,Windows Server 2022,２,本社,業務サーバ,○,\n\
                   ルータ,NEC,IX2215,Ver.10,1,本社,社外接続,×,\n";
        let rows = import(csv.as_bytes(), &locs).unwrap().rows;
        assert_eq!(
            (
                rows[0].device_type.as_str(),
                rows[0].naccs.as_str(),
                rows[0].count()
            ),
            ("server", "yes", 2)
        );
        assert_eq!(rows[1].device_type, "router");
        assert_eq!(naccs_computers(&rows).get("本社"), Some(&2));
        let bad = "機器種別,メーカー,型番,台数,設置場所,NACCS接続\n\nサーバ,富士通,RX,-1,本社,○\n";
        let err = import(bad.as_bytes(), &locs).unwrap_err();
        assert_eq!(
            (
                err.problems[0].row,
                err.problems[0].col,
                err.problems[0].key
            ),
            (3, Some(3), "error.quantity_invalid")
        );
        let err = import("メーカー,型番\nA,B\n".as_bytes(), &locs).unwrap_err();
        assert!(
            err.problems
                .iter()
                .any(|p| p.field == "quantity" && p.key == "error.csv_missing_column")
        );
    }

    #[test]
    fn yes_and_no_as_offices_write_them() {
        for y in [
            "有",
            "有り",
            "あり",
            "○",
            "〇",
            "◯",
            "✓",
            "接続あり",
            "ｙｅｓ",
            "TRUE",
        ] {
            assert_eq!(yes_no(y), "yes", "{y}");
        }
        for n in [
            "無",
            "無し",
            "なし",
            "×",
            "－",
            "ー",
            "未接続",
            "非接続",
            "No",
        ] {
            assert_eq!(yes_no(n), "no", "{n}");
        }
    }

    #[test]
    fn an_unknown_place_is_named_and_a_full_width_one_matches() {
        let locs = vec!["成田営業所".to_string(), "第１倉庫".to_string()];
        let csv = "種別,メーカー名,機種・型番,数量,拠点,NACCS接続有無\n\
                   PC,NEC,Mate,1,大阪,有\n\
                   PC,NEC,Mate,1,第1倉庫,有\n";
        let err = import(csv.as_bytes(), &locs).unwrap_err();
        assert_eq!(err.problems.len(), 1);
        let p = &err.problems[0];
        assert_eq!(
            (p.row, p.col, p.key, p.value.as_str()),
            (2, Some(4), "error.location_unknown", "大阪")
        );
    }
}
