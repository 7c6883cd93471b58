//! An audit entry in words, for the trail and home's recent activity: the action's name, what
//! it was done to and its detail, with ids named, codes translated and times in JST. Nothing
//! of the entry's stored form (action keys, JSON, ids, codes) reaches the page; a field this
//! build has no name for is left out (the stored entry keeps it, for `secportal audit`).

use serde_json::{Map, Value};

use crate::app::trail::{Names, Words};
use crate::db::audit::Row;
use crate::i18n::Tr;
use crate::web::html::common::logcheck;

/// How the names show in the viewer's language.
pub fn words(t: &Tr) -> Words<'static> {
    Words {
        center: t.t("comments.center"),
        draft: t.t("trail.draft"),
        lang: t.code(),
        instruction: t.t("trail.instruction"),
        request: t.t("trail.request"),
        system: t.t("trail.system"),
        cli: t.t("trail.cli"),
        connection: t.t("trail.connection"),
        forms: [
            ("peer_to_peer", t.t("form.peer_to_peer")),
            ("router", t.t("form.router")),
            ("gateway", t.t("form.gateway")),
        ],
    }
}

/// Whether an action is the Center's own work, never on an organisation's trail (its filter
/// does not offer it).
pub fn center_only(action: &str) -> bool {
    crate::db::audit::CENTER_ONLY
        .iter()
        .any(|p| action.starts_with(p))
}

/// The action's name ("ログの列の対応づけ").
pub fn action(t: &Tr, action: &str) -> String {
    let key = format!("audit.action.{action}");
    if t.has(&key) {
        t.t(&key).to_string()
    } else {
        t.t("trail.action_other").to_string()
    }
}

/// What the action was done to, named: a receipt number, a person, a place; a code (a data
/// set, a kind of record) in words.
pub fn target(t: &Tr, names: &Names, w: &Words<'_>, r: &Row) -> String {
    match r.action.as_str() {
        "export.downloaded" => code(t, "export.dataset.", &r.target),
        "retention.period_changed" => code(t, "retention.type.", &r.target),
        "catalogue.published" => match r.target.strip_prefix("revision ") {
            Some(n) => t.f("trail.revision", &[("n", n)]),
            None => text(t, names, w, &r.target),
        },
        // A file's id names nothing a person knows: its name, as the entry keeps it.
        "file.previewed" | "file.downloaded" => match text(t, names, w, &r.target) {
            named if named.is_empty() => serde_json::from_str::<Value>(&r.detail)
                .ok()
                .and_then(|d| d["name"].as_str().map(str::to_string))
                .unwrap_or_default(),
            named => named,
        },
        // A draft names its item (a discarded one is named by nothing else).
        "submission.draft_saved" | "submission.draft_opened" | "submission.discarded" => {
            match text(t, names, w, &r.target) {
                named if named.is_empty() || named == w.draft => {
                    let detail = serde_json::from_str::<Value>(&r.detail).unwrap_or_default();
                    ["item", "kind"]
                        .iter()
                        .find_map(|k| detail[k].as_str().and_then(|i| names.item(i, w.lang)))
                        .map_or(named, |item| t.f("trail.draft_of", &[("item", &item)]))
                }
                named => named,
            }
        }
        _ => text(t, names, w, &r.target),
    }
}

/// The entry's detail in words: "label: value" for each field this build can name.
pub fn detail(t: &Tr, names: &Names, w: &Words<'_>, r: &Row) -> String {
    if let Some(words) = log_search_detail(t, &r.action, &r.detail) {
        return words;
    }
    if r.action == "retention.purged" {
        return purge_detail(t, &r.detail).unwrap_or_default();
    }
    match serde_json::from_str::<Value>(&r.detail) {
        Ok(Value::Object(m)) => fields(t, names, w, &r.action, &m),
        _ => String::new(),
    }
}

fn fields(t: &Tr, names: &Names, w: &Words<'_>, action: &str, m: &Map<String, Value>) -> String {
    m.iter()
        .filter_map(|(k, v)| {
            let label = [
                format!("trail.field.{action}.{k}"),
                format!("trail.field.{k}"),
            ]
            .into_iter()
            .find(|key| t.has(key))?;
            let value = match (action, k.as_str()) {
                (_, "mapping") => mapping(t, v),
                (_, "period") => match v.as_array().map(Vec::as_slice) {
                    Some([Value::String(a), Value::String(b)]) => {
                        t.f("ui.range", &[("from", a), ("to", b)])
                    }
                    _ => String::new(),
                },
                ("gateway_log.rechecked", "reason") => {
                    crate::app::log_recheck::refusal_of(&v.to_string())
                        .map(|r| logcheck::refusal(t, &r))
                        .unwrap_or_default()
                }
                _ => value(t, names, w, action, v),
            };
            (!value.is_empty())
                .then(|| t.f("trail.field", &[("label", t.t(&label)), ("value", &value)]))
        })
        .collect::<Vec<_>>()
        .join(t.t("trail.field_sep"))
}

fn value(t: &Tr, names: &Names, w: &Words<'_>, action: &str, v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(b) => t.t(if *b { "trail.yes" } else { "trail.no" }).to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => text(t, names, w, s),
        Value::Array(a) => a
            .iter()
            .map(|x| value(t, names, w, action, x))
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
            .join(t.t("ui.list_sep")),
        Value::Object(m) => {
            let inner = fields(t, names, w, action, m);
            if inner.is_empty() {
                inner
            } else {
                format!("{}{inner}{}", t.t("ui.lp").trim_start(), t.t("ui.rp"))
            }
        }
    }
}

/// A stored text as a person reads it: an item's key as its title, a code as its name, a
/// time in JST, a SHA-256 shortened, ids named (an id the viewer may not see, or that
/// names nothing, is left out).
fn text(t: &Tr, names: &Names, w: &Words<'_>, s: &str) -> String {
    if let Some(title) = names.item(s, w.lang) {
        return title;
    }
    let slug: String = s
        .chars()
        .map(|c| if c == ' ' || c == ':' { '_' } else { c })
        .collect();
    for prefix in [
        "role.",
        "form.",
        "catalogue.scope.",
        "export.dataset.",
        "retention.type.",
        "token.scope.",
        "checklist.status.",
        "trail.value.",
    ] {
        let key = format!("{prefix}{slug}");
        if t.has(&key) {
            return t.t(&key).to_string();
        }
    }
    if let Some(refusal) = s.strip_prefix("passkey: ") {
        return t.f("trail.value.passkey_refused", &[("why", refusal)]);
    }
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return format!("{}…", &s[..16]);
    }
    if s.len() >= 20
        && let Ok(at) = chrono::DateTime::parse_from_rfc3339(s)
    {
        return crate::web::page::jst(&at.with_timezone(&chrono::Utc));
    }
    let named = names.text(s, w);
    if named == s && uuid::Uuid::parse_str(s).is_ok() {
        return String::new();
    }
    named
}

fn code(t: &Tr, prefix: &str, c: &str) -> String {
    let key = format!("{prefix}{c}");
    if t.has(&key) {
        t.t(&key).to_string()
    } else {
        String::new()
    }
}

/// A gateway site's column mapping: the first line, then each field's column (from 1).
fn mapping(t: &Tr, v: &Value) -> String {
    let Ok(m) = serde_json::from_value::<crate::domain::gatewaylog::ColumnMap>(v.clone()) else {
        return String::new();
    };
    let mut parts = vec![if m.skip > 0 {
        t.f(
            "trail.field",
            &[
                ("label", t.t("gwlog.map.header_where")),
                (
                    "value",
                    &t.f("gwlog.map.opt_at", &[("n", &(m.skip + 1).to_string())]),
                ),
            ],
        )
    } else {
        t.f(
            "trail.field",
            &[
                ("label", t.t("gwlog.map.header_q")),
                (
                    "value",
                    t.t(if m.header {
                        "gwlog.map.header_yes"
                    } else {
                        "gwlog.map.header_no"
                    }),
                ),
            ],
        )
    }];
    for f in [
        "timestamp",
        "user_code",
        "id_number",
        "business_code",
        "direction",
    ] {
        if let Some(c) = m.column(f) {
            let n = (c + 1).to_string();
            parts.push(t.f(
                "trail.field",
                &[
                    ("label", &logcheck::field_name(t, f)),
                    ("value", &t.f("gwlog.map.column", &[("n", &n)])),
                ],
            ));
        }
    }
    parts.join(t.t("ui.list_sep"))
}

/// A log search's entries in words (`log.searched`: the output, the files and the criteria;
/// `log.search_finished`: the matches and how far it read); `None` for any other entry.
/// A retention purge in one sentence: what went (reports with their receipt numbers, logs,
/// files and their size, trail entries), then the rule that sent each type.
fn purge_detail(t: &Tr, detail: &str) -> Option<String> {
    let d: Value = serde_json::from_str(detail).ok()?;
    let receipts = |k: &str| {
        let all: Vec<&str> = d[k]["receipts"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        match all.len() {
            0 => String::new(),
            n if n <= 5 => format!(
                "{}{}{}",
                t.t("ui.lp"),
                all.join(t.t("ui.list_sep")),
                t.t("ui.rp")
            ),
            n => t.f(
                "trail.purge.receipts_more",
                &[
                    ("first", &all[..3].join(t.t("ui.list_sep"))),
                    ("n", &(n - 3).to_string()),
                ],
            ),
        }
    };
    let count = |v: &Value| v.as_u64().unwrap_or(0).to_string();
    let files = d["files"].as_array().map(Vec::as_slice).unwrap_or_default();
    let bytes: i64 = files.iter().filter_map(|f| f["size"].as_i64()).sum();
    let rules: Vec<String> = d["cutoffs"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|c| {
            let kind = c["record_type"].as_str()?;
            let before = c["before"].as_str()?;
            let before = chrono::DateTime::parse_from_rfc3339(before).ok()?.to_utc();
            Some(t.f(
                "trail.purge.rule",
                &[
                    ("type", t.t(&format!("retention.type.{kind}"))),
                    ("months", &count(&c["months"])),
                    ("before", &crate::domain::dates::jst(&before)),
                ],
            ))
        })
        .collect();
    Some(t.f(
        "trail.purge.done",
        &[
            ("reports", &count(&d["submissions"]["count"])),
            ("report_receipts", &receipts("submissions")),
            ("logs", &count(&d["gateway_logs"]["count"])),
            ("log_receipts", &receipts("gateway_logs")),
            ("files", &files.len().to_string()),
            ("size", &super::files::human_size(bytes)),
            ("audit", &count(&d["audit"]["count"])),
            ("rules", &rules.join(t.t("ui.list_sep"))),
        ],
    ))
}

fn log_search_detail(t: &Tr, action: &str, detail: &str) -> Option<String> {
    if !matches!(action, "log.searched" | "log.search_finished") {
        return None;
    }
    let d: Value = serde_json::from_str(detail).ok()?;
    let num = |k: &str| d[k].as_u64().unwrap_or(0).to_string();
    let output = t.t(match d["output"].as_str() {
        Some("csv") => "trail.logsearch.csv",
        Some("xlsx") => "trail.logsearch.xlsx",
        _ => "trail.logsearch.page",
    });
    if action == "log.searched" {
        let criteria: Vec<String> = ["user_code", "id_number", "business_code", "from", "to"]
            .into_iter()
            .filter_map(|k| {
                let v = d["criteria"][k].as_str().filter(|v| !v.is_empty())?;
                Some(format!("{} {v}", t.t(&format!("logsearch.{k}"))))
            })
            .collect();
        return Some(t.f(
            "trail.logsearch.started",
            &[
                ("output", output),
                ("files", &num("files")),
                ("criteria", &criteria.join(t.t("trail.logsearch.and"))),
            ],
        ));
    }
    Some(t.f(
        "trail.logsearch.finished",
        &[
            ("output", output),
            ("matches", &num("matches")),
            ("files", &num("files")),
            ("searched", &num("searched")),
            (
                "end",
                t.t(if d["complete"] == true {
                    "trail.logsearch.complete"
                } else {
                    "trail.logsearch.stopped"
                }),
            ),
        ],
    ))
}
