//! What a sealed report says, in words: one view of every kind of report (item 1 to 6 and
//! §7.4.2), built from its snapshot, for the review page, the receipt, the organisation's copy
//! and the comparison of two versions. Labels come from the catalogue and the locale files;
//! codes are shown as their words, places and people by name. A view never holds an internal
//! key, a UUID or a locale key.

mod compare;
mod diff;
mod kinds;
mod load;
mod logs;

use std::collections::HashMap;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::app::catalogue::Catalogue;
use crate::domain::antivirus::AvRow;
use crate::domain::equipment::EquipmentRow;
use crate::i18n::Tr;

pub use compare::{Comparison, Earlier, comparisons};
pub use diff::diff;
pub use load::{of_content, of_draft, of_submission, places};
pub use logs::without_log_table;

/// How a line compares with the previous version (`Same` outside a comparison).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mark {
    #[default]
    Same,
    Added,
    Removed,
    Changed,
}

impl Mark {
    /// The CSS class of the mark.
    pub fn class(&self) -> &'static str {
        match self {
            Mark::Same => "",
            Mark::Added => "added",
            Mark::Removed => "removed",
            Mark::Changed => "changed",
        }
    }

    /// The locale key of the mark's word (shown, not only coloured).
    pub fn label_key(&self) -> &'static str {
        match self {
            Mark::Same => "report.mark.same",
            Mark::Added => "report.mark.added",
            Mark::Removed => "report.mark.removed",
            Mark::Changed => "report.mark.changed",
        }
    }

    /// The locale key of the words a whole section's title carries (「この節ごと削除」).
    pub fn section_key(&self) -> &'static str {
        match self {
            Mark::Added => "report.mark.section_added",
            Mark::Removed => "report.mark.section_removed",
            _ => self.label_key(),
        }
    }

    /// Whether the line is marked at all.
    pub fn is_marked(&self) -> bool {
        *self != Mark::Same
    }

    /// Whether the line is gone in the newer version.
    pub fn is_removed(&self) -> bool {
        *self == Mark::Removed
    }
}

/// One labelled value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub label: String,
    pub value: String,
    /// The earlier value, in a comparison.
    pub before: Option<String>,
    pub mark: Mark,
}

/// One cell of a table row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cell {
    pub text: String,
    /// The earlier text when the cell changed, in a comparison.
    pub before: Option<String>,
}

/// One table row; `key` says which row of the other version it is (never shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub key: String,
    pub cells: Vec<Cell>,
    /// Words drawing the reviewer's eye (定義が古い).
    pub flags: Vec<String>,
    pub mark: Mark,
}

/// A table with its caption and headings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub caption: String,
    pub headings: Vec<String>,
    pub rows: Vec<Row>,
    /// Shown when there are no rows.
    pub empty: String,
}

/// A titled part of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub title: String,
    /// In a comparison, a section added or gone as a whole (said once, by its title);
    /// `Same` otherwise.
    pub mark: Mark,
    pub facts: Vec<Fact>,
    pub tables: Vec<Table>,
}

/// One line of the summary at the top of a review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub text: String,
    /// Something the reviewer should look at.
    pub warn: bool,
}

/// A report as shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The item, "7.4.1(3) ウィルス対策".
    pub item: String,
    /// Where the report is for: the organisation, or an office or gateway site by name.
    pub place: String,
    pub summary: Vec<Note>,
    pub sections: Vec<Section>,
}

impl Report {
    /// Whether nothing is in it (a comparison without changes).
    pub fn is_empty(&self) -> bool {
        self.sections.is_empty()
    }
}

/// A location as reports name it.
#[derive(Debug, Clone)]
pub struct Place {
    pub name: String,
    /// `office` or `gateway_site`.
    pub kind: String,
}

/// What building a view needs besides the snapshot.
pub struct Context<'a> {
    pub t: Tr,
    pub catalogue: &'a Catalogue,
    /// The organisation's locations (inactive ones too), by id.
    pub places: &'a HashMap<Uuid, Place>,
    /// Definitions older than this many days (on the day of submission) are stale.
    pub stale_days: i64,
    /// The day the report was submitted, in Japan.
    pub submitted_on: NaiveDate,
    /// The organisation's equipment list (latest system configuration), for the antivirus
    /// cross-check.
    pub equipment: Option<Vec<EquipmentRow>>,
    /// The organisation's antivirus rows (latest antivirus report), for the equipment
    /// cross-check.
    pub antivirus: Option<Vec<AvRow>>,
}

impl Context<'_> {
    /// A locale string.
    pub fn t(&self, key: &str) -> String {
        self.t.t(key).to_string()
    }

    /// A locale string with arguments.
    pub fn f(&self, key: &str, args: &[(&str, &str)]) -> String {
        self.t.f(key, args)
    }

    /// The word for a code under a locale prefix (`av.product` + `eset`); a value that is not
    /// a known code is the organisation's own text and is shown as written.
    pub fn word(&self, prefix: &str, code: &str) -> String {
        let key = format!("{prefix}.{code}");
        if !code.is_empty() && self.t.has(&key) {
            self.t.t(&key).to_string()
        } else {
            code.to_string()
        }
    }

    /// A place by id, as "成田営業所（事業所）".
    pub fn place(&self, id: Option<Uuid>) -> Option<String> {
        let p = self.places.get(&id?)?;
        Some(self.named_place(&p.name, &p.kind))
    }

    /// A place name with its kind.
    pub fn named_place(&self, name: &str, kind: &str) -> String {
        let kind = self.word("structure.kind", kind);
        if kind.is_empty() {
            name.to_string()
        } else {
            format!("{name}{}{kind}{}", self.t.t("ui.lp"), self.t.t("ui.rp"))
        }
    }
}

/// The view of a sealed snapshot (`{"kind", "location_id", "data", "files", …}`).
pub fn build(cx: &Context<'_>, snapshot: &serde_json::Value) -> Report {
    let kind = snapshot["kind"].as_str().unwrap_or("");
    let location = snapshot["location_id"]
        .as_str()
        .and_then(|s| Uuid::parse_str(s).ok());
    let data = &snapshot["data"];
    let place = cx
        .place(location)
        .or_else(|| {
            data["location"]["name"]
                .as_str()
                .map(|n| cx.named_place(n, data["location"]["kind"].as_str().unwrap_or("")))
        })
        .unwrap_or_else(|| cx.t("checklist.whole_org"));
    let (summary, mut sections) = kinds::build(cx, kind, data);
    if let Some(files) = kinds::files(cx, kind, &snapshot["files"]) {
        sections.push(files);
    }
    Report {
        item: cx.catalogue.item_title(kind, cx.t.code()),
        place,
        summary,
        sections,
    }
}

/// A section of facts only.
pub(crate) fn facts(title: String, facts: Vec<(String, String)>) -> Section {
    Section {
        title,
        mark: Mark::Same,
        facts: facts
            .into_iter()
            .map(|(label, value)| Fact {
                label,
                value,
                before: None,
                mark: Mark::Same,
            })
            .collect(),
        tables: vec![],
    }
}

/// A row of plain cells.
pub(crate) fn row(key: String, cells: Vec<String>, flags: Vec<String>) -> Row {
    Row {
        key,
        cells: cells
            .into_iter()
            .map(|text| Cell { text, before: None })
            .collect(),
        flags,
        mark: Mark::Same,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn catalogue() -> Catalogue {
        Catalogue {
            revision: 1,
            items: crate::domain::catalogue::parse_file(crate::domain::catalogue::FIRST_REVISION)
                .unwrap()
                .item,
        }
    }

    fn view(lang: Lang, snapshot: serde_json::Value) -> Report {
        let catalogue = catalogue();
        let places = HashMap::new();
        let cx = Context {
            t: Tr::new(lang),
            catalogue: &catalogue,
            places: &places,
            stale_days: 7,
            submitted_on: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            equipment: None,
            antivirus: None,
        };
        build(&cx, &snapshot)
    }

    #[test]
    fn a_modem_connection_leads_the_summary_as_a_warning_in_words() {
        let snap = serde_json::json!({ "kind": "outside_connections", "data": {
            "connection_type": "remote", "method": "modem_ta", "computers": "other",
            "description": "倉庫の旧端末から TA で接続", "outside_measures": "なし" } });
        let ja = view(Lang::Ja, snap.clone());
        assert_eq!(ja.summary[0].text, "モデム/TA 接続の申請（原則禁止）");
        assert!(ja.summary[0].warn);
        let facts = &ja.sections[0].facts;
        assert!(
            facts
                .iter()
                .any(|f| f.value == "NACCS 業務用以外のコンピュータ")
        );
        let en = view(Lang::En, snap);
        assert!(en.item.starts_with("7.4.2(2)"));
        assert!(
            en.sections[0]
                .facts
                .iter()
                .any(|f| f.value == "Modem or TA (DSU)")
        );
    }

    #[test]
    fn each_connection_of_an_application_has_its_summary_line_and_section_by_name() {
        let snap = serde_json::json!({ "kind": "outside_connections", "data": { "connections": [
            { "name": "本社 PROXY", "connection_type": "lan", "method": "proxy",
              "computers": "naccs", "description": "本社 LAN からインターネットへ" },
            { "name": "在宅勤務 VPN", "connection_type": "remote", "method": "vpn",
              "computers": "other", "description": "在宅端末から本社へ",
              "outside_measures": "ウイルス対策ソフト" } ] } });
        let ja = view(Lang::Ja, snap.clone());
        assert_eq!(ja.summary.len(), 2);
        assert!(
            ja.summary[0].text.starts_with("本社 PROXY："),
            "{:?}",
            ja.summary
        );
        assert!(!ja.summary[0].warn);
        assert!(
            ja.summary[1].text.contains("リモート接続"),
            "{:?}",
            ja.summary
        );
        assert!(ja.summary[1].warn, "computers not for NACCS business");
        let titles: Vec<&str> = ja.sections.iter().map(|s| s.title.as_str()).collect();
        assert_eq!(titles, ["本社 PROXY", "在宅勤務 VPN"]);
        let en = view(Lang::En, snap);
        assert!(
            en.summary[1].text.starts_with("在宅勤務 VPN: "),
            "{:?}",
            en.summary
        );
    }

    #[test]
    fn a_log_sealed_with_totals_reads_in_words() {
        let snap = serde_json::json!({ "kind": "gateway_logs", "data": { "log_checks": [
            { "file": "gw.csv", "clean": false, "lines": 3, "sent": 2, "received": 1,
              "send_missing": 1, "receive_missing": 0, "bad_direction": 0, "bad_time": 0,
              "first": "2026-10-01 08:59:59", "last": "2026-10-20 17:00:00",
              "covers_period": false, "gap_days": 29 } ] } });
        let ja = view(Lang::Ja, snap.clone());
        let said: Vec<&str> = ja.summary.iter().map(|n| n.text.as_str()).collect();
        assert_eq!(
            said,
            vec![
                "ログ検査（gw.csv）：送信の記録で利用者コード・識別番号・業務コード・日時のいずれかがない行 1 件",
                "ログ検査（gw.csv）：ログの記録期間が対象期間を覆っていません",
                "ログ検査（gw.csv）：対象期間内で記録のない日 29 日",
            ]
        );
        let table = &ja.sections[0].tables[0];
        assert_eq!(table.rows[0].cells[2].text, "3 行（送信 2・受信 1）");
        let en = view(Lang::En, snap);
        assert!(
            en.summary[2]
                .text
                .ends_with("days in the period without a line: 29")
        );
    }

    #[test]
    fn a_log_check_names_the_fields_its_lines_lack() {
        let snap = serde_json::json!({ "kind": "gateway_logs", "data": { "log_checks": [
            { "file": "gw.csv", "clean": false, "lines": 9, "sent": 6, "received": 3,
              "send_missing": 3, "receive_missing": 2, "bad_direction": 0, "bad_time": 0,
              "check": { "send_lacking": [0, 2, 0, 1], "receive_lacking": [2, 0, 0, 0] } } ] } });
        let ja = view(Lang::Ja, snap.clone());
        let said: Vec<&str> = ja.summary.iter().map(|n| n.text.as_str()).collect();
        assert_eq!(
            &said[..2],
            [
                "ログ検査（gw.csv）：送信の記録で識別番号（2 行）、年月日時分秒（1 行）がない行 3 件",
                "ログ検査（gw.csv）：受信の記録で利用者コードがない行 2 件",
            ]
        );
        let en = view(Lang::En, snap);
        assert!(
            en.summary[1]
                .text
                .ends_with("receive lines lacking the user code: 2"),
            "{:?}",
            en.summary
        );
    }

    #[test]
    fn a_log_sealed_before_the_totals_still_reads() {
        let snap = serde_json::json!({ "kind": "gateway_logs", "data": { "log_checks": [
            { "file": "old.csv", "clean": false, "result": { "rows": 4, "sent": 3, "received": 1,
              "send_missing": 2, "bad_timestamps": 1, "covers_period": true,
              "missing_columns": [] } } ] } });
        let ja = view(Lang::Ja, snap);
        let said: Vec<&str> = ja.summary.iter().map(|n| n.text.as_str()).collect();
        assert_eq!(
            said,
            vec![
                "ログ検査（old.csv）：送信の記録で利用者コード・識別番号・業務コードのいずれかがない行 2 件",
                "ログ検査（old.csv）：年月日時分秒を読み取れない行 1 件",
            ]
        );
        assert!(
            ja.sections[0].tables[0].rows[0].cells[2]
                .text
                .starts_with("4 行（送信 3・受信 1）。")
        );
    }

    #[test]
    fn a_log_without_columns_names_them_in_words() {
        let snap = serde_json::json!({ "kind": "gateway_logs", "data": { "log_checks": [
            { "file": "ログ.csv", "clean": false, "result": { "missing_columns": ["direction", "id_number"] } } ] } });
        let ja = view(Lang::Ja, snap);
        assert_eq!(
            ja.summary[0].text,
            "ログ検査（ログ.csv）：見出し行に 送受信区分、識別番号 の列がありません"
        );
        assert_eq!(ja.place, "組織全体");
    }
}
