//! Item 6 — 履歴（ログ）の管理 in words: the mechanism, and each log file's check (Table 7-4-2)
//! as findings a reviewer reads without knowing the checker.

use serde_json::Value;

use super::kinds::{note, or_dash, s};
use super::{Context, Note, Section, Table, facts, row};
use crate::domain::gatewaylog::LogCheck;

/// A log check's findings in words, one per kind of problem.
fn log_findings(cx: &Context<'_>, c: &LogCheck) -> Vec<String> {
    let mut out = vec![];
    if !c.missing_columns.is_empty() {
        let sep = cx.t("ui.list_sep");
        let cols: Vec<String> = c
            .missing_columns
            .iter()
            .map(|k| cx.word("report.log_column", k))
            .collect();
        out.push(cx.f(
            "report.log.missing_columns",
            &[("columns", &cols.join(&sep))],
        ));
    }
    for (n, key) in [
        (c.send_missing, "report.log.send_missing"),
        (c.receive_missing, "report.log.receive_missing"),
        (c.bad_direction, "report.log.direction"),
        (c.bad_timestamps, "report.log.timestamp"),
    ] {
        if n > 0 {
            out.push(cx.f(key, &[("n", &n.to_string())]));
        }
    }
    if c.covers_period == Some(false) {
        out.push(cx.t("gwlog.problem.period"));
    }
    if c.rows == 0 && c.missing_columns.is_empty() {
        out.push(cx.t("gwlog.problem.empty"));
    }
    out
}

/// Item 6 — 履歴（ログ）の管理: the mechanism and each log file's check.
pub fn gateway_logs(cx: &Context<'_>, d: &Value) -> (Vec<Note>, Vec<Section>) {
    let checks = d["log_checks"].as_array().cloned().unwrap_or_default();
    let mut summary = vec![];
    let mut rows = vec![];
    for c in &checks {
        let file = s(c, "file");
        let check: LogCheck = serde_json::from_value(c["result"].clone()).unwrap_or_default();
        let findings = log_findings(cx, &check);
        for f in &findings {
            summary.push(note(
                cx.f("report.summary.log", &[("file", file), ("finding", f)]),
                true,
            ));
        }
        let span = match (&check.first, &check.last) {
            (Some(a), Some(b)) => cx.f("report.from_to", &[("from", a), ("to", b)]),
            _ => "—".into(),
        };
        rows.push(row(
            file.to_string(),
            vec![
                file.to_string(),
                if findings.is_empty() {
                    cx.t("gwlog.clean")
                } else {
                    cx.t("gwlog.not_clean")
                },
                cx.f(
                    "gwlog.counts",
                    &[
                        ("rows", &check.rows.to_string()),
                        ("sent", &check.sent.to_string()),
                        ("received", &check.received.to_string()),
                    ],
                ),
                span,
                if findings.is_empty() {
                    "—".into()
                } else {
                    findings.join("\n")
                },
            ],
            vec![],
        ));
    }
    if checks.is_empty() {
        summary.push(note(cx.t("report.summary.no_logs"), false));
    } else if summary.is_empty() {
        summary.push(note(
            cx.f(
                "report.summary.logs_clean",
                &[("n", &checks.len().to_string())],
            ),
            false,
        ));
    }
    let period = match (s(d, "period_from"), s(d, "period_to")) {
        ("", "") => "—".to_string(),
        (a, b) => cx.f("report.from_to", &[("from", a), ("to", b)]),
    };
    let months = s(d, "retention_months");
    let mut section = facts(
        cx.t("gwlog.mechanism_title"),
        vec![
            (cx.t("gwlog.field.storage"), or_dash(s(d, "storage"))),
            (
                cx.t("gwlog.field.retention_months"),
                if months.is_empty() {
                    "—".into()
                } else {
                    cx.f("report.months", &[("n", months)])
                },
            ),
            (cx.t("gwlog.field.mechanism"), or_dash(s(d, "mechanism"))),
            (cx.t("followup.period"), period),
        ],
    );
    section.tables.push(Table {
        caption: cx.t("report.log_checks"),
        headings: vec![
            cx.t("sysconf.file_name"),
            cx.t("report.result"),
            cx.t("report.lines"),
            cx.t("report.span"),
            cx.t("report.findings"),
        ],
        rows,
        empty: cx.t("report.summary.no_logs"),
    });
    (summary, vec![section])
}
