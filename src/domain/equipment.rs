//! Item 4 ② — 使用する機器の構成リスト: the equipment list as rows, entered in the page or
//! imported from CSV with Japanese or English headers.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EquipmentRow {
    #[serde(default)]
    pub device_type: String,
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

/// The CSV header names accepted per field.
pub const HEADERS: [(&str, &[&str]); 9] = [
    ("device_type", &["機器種別", "種別", "device type", "type"]),
    ("maker", &["メーカー", "製造元", "maker", "manufacturer"]),
    ("model", &["型番", "機種", "model"]),
    (
        "os_firmware",
        &[
            "os/ファームウェア",
            "os・ファームウェア",
            "os",
            "ファームウェア",
            "os/firmware",
            "firmware",
        ],
    ),
    ("quantity", &["台数", "数量", "quantity", "qty"]),
    ("location", &["設置場所", "事業所", "location", "office"]),
    ("role", &["用途", "役割", "role", "purpose"]),
    (
        "naccs",
        &[
            "nacc接続",
            "naccs接続",
            "naccs 接続",
            "connected to naccs",
            "naccs",
        ],
    ),
    ("notes", &["備考", "notes", "remarks"]),
];

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
    TYPE_LABELS
        .iter()
        .find(|(_, l)| v.contains(&l.to_lowercase()))
        .map(|(k, _)| k.to_string())
        .unwrap_or_else(|| if v.is_empty() { v } else { "other".into() })
}

fn yes_no(raw: &str) -> String {
    let v = raw.nfkc().collect::<String>().trim().to_lowercase();
    match v.as_str() {
        "yes" | "y" | "はい" | "有" | "あり" | "○" | "〇" | "接続" | "true" | "1" => {
            "yes".into()
        }
        "no" | "n" | "いいえ" | "無" | "なし" | "×" | "-" | "未接続" | "false" | "0" => {
            "no".into()
        }
        _ => v,
    }
}

/// Reads rows from CSV text; every problem is listed as (line, field, key) and nothing is
/// imported unless there are none.
pub fn import(
    text: &str,
    locations: &[String],
) -> Result<Vec<EquipmentRow>, Vec<(usize, &'static str, &'static str)>> {
    import_records(&super::csv::records(text), locations)
}

/// Reads rows from a table already split into cells (CSV or XLSX).
pub fn import_records(
    recs: &[Vec<String>],
    locations: &[String],
) -> Result<Vec<EquipmentRow>, Vec<(usize, &'static str, &'static str)>> {
    let Some(header) = recs.first() else {
        return Err(vec![(1, "file", "error.csv_empty")]);
    };
    let col = super::csv::columns(header, &HEADERS);
    let missing: Vec<_> = [
        "device_type",
        "maker",
        "model",
        "quantity",
        "location",
        "naccs",
    ]
    .iter()
    .filter(|f| !col.contains_key(*f))
    .map(|f| (1, *f, "error.csv_missing_column"))
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
        let mut row = EquipmentRow {
            device_type: device_type(&get("device_type")),
            maker: get("maker"),
            model: get("model"),
            os_firmware: get("os_firmware"),
            quantity: get("quantity"),
            location: get("location"),
            role: get("role"),
            naccs: yes_no(&get("naccs")),
            notes: get("notes"),
        };
        for (field, key) in check(&mut row, locations) {
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
    use super::*;

    #[test]
    fn a_japanese_equipment_csv_imports_and_negative_quantities_are_refused() {
        let locs = vec!["本社".to_string()];
        let csv = "機器種別,メーカー,型番,OS/ファームウェア,台数,設置場所,用途,NACCS接続,備考\n\
                   サーバ,富士通,PRIMERGY RX2540,Windows Server 2022,2,本社,業務サーバ,○,\n\
                   ルータ,NEC,IX2215,Ver.10,1,本社,社外接続,×,\n";
        let rows = import(csv, &locs).unwrap();
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
        let bad = "機器種別,メーカー,型番,台数,設置場所,NACCS接続\nサーバ,富士通,RX,-1,本社,○\n";
        assert_eq!(
            import(bad, &locs).unwrap_err(),
            vec![(2, "quantity", "error.quantity_invalid")]
        );
        assert!(
            import("メーカー,型番\nA,B\n", &locs)
                .unwrap_err()
                .contains(&(1, "quantity", "error.csv_missing_column"))
        );
    }
}
