//! Item 6 — 履歴（ログ）の管理 in words: the mechanism, and each log file's check (Table 7-4-2)
//! as findings a reviewer reads without knowing the checker.

use serde_json::Value;

use crate::web::html::common::logcheck::lacking_words;

use super::kinds::{note, or_dash, s};
use super::{Context, Note, Section, Table, facts, row};

/// A log file's check as sealed with the submission: the totals per file (since issue 11), or,
/// in a snapshot sealed before, the whole check of that time under `result`.
#[derive(Debug, Default, PartialEq, Eq)]
struct Totals {
    lines: u64,
    sent: u64,
    received: u64,
    send_missing: u64,
    receive_missing: u64,
    /// The fields they lack (zeros: not counted when the check was made).
    send_lacking: [u64; 4],
    receive_lacking: [u64; 4],
    bad_direction: u64,
    bad_time: u64,
    first: Option<String>,
    last: Option<String>,
    covers_period: Option<bool>,
    gap_days: Option<u64>,
    /// Only in snapshots sealed before issue 11 (the header was checked apart then).
    missing_columns: Vec<String>,
    /// Sealed before issue 11: the days without a line were not counted.
    older: bool,
}

/// Per-field counts as the check keeps them, `[0; 4]` when absent.
fn fields(v: &Value) -> [u64; 4] {
    let mut out = [0; 4];
    for (o, n) in out.iter_mut().zip(v.as_array().into_iter().flatten()) {
        *o = n.as_u64().unwrap_or(0);
    }
    out
}

impl Totals {
    fn of(c: &Value) -> Self {
        let n = |v: &Value, k: &str| v[k].as_u64().unwrap_or(0);
        let text = |v: &Value, k: &str| v[k].as_str().map(str::to_string);
        let old = &c["result"];
        if old.is_object() {
            return Totals {
                lines: n(old, "rows"),
                sent: n(old, "sent"),
                received: n(old, "received"),
                send_missing: n(old, "send_missing"),
                receive_missing: n(old, "receive_missing"),
                send_lacking: [0; 4],
                receive_lacking: [0; 4],
                bad_direction: n(old, "bad_direction"),
                bad_time: n(old, "bad_timestamps"),
                first: text(old, "first"),
                last: text(old, "last"),
                covers_period: old["covers_period"].as_bool(),
                gap_days: None,
                missing_columns: old["missing_columns"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default(),
                older: true,
            };
        }
        Totals {
            lines: n(c, "lines"),
            sent: n(c, "sent"),
            received: n(c, "received"),
            send_missing: n(c, "send_missing"),
            receive_missing: n(c, "receive_missing"),
            send_lacking: fields(&c["check"]["send_lacking"]),
            receive_lacking: fields(&c["check"]["receive_lacking"]),
            bad_direction: n(c, "bad_direction"),
            bad_time: n(c, "bad_time"),
            first: text(c, "first"),
            last: text(c, "last"),
            covers_period: c["covers_period"].as_bool(),
            gap_days: c["gap_days"].as_u64(),
            missing_columns: vec![],
            older: false,
        }
    }
}

/// A log check's findings in words, one per kind of problem.
fn log_findings(cx: &Context<'_>, c: &Totals) -> Vec<String> {
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
    // Before issue 11 a line without its time counted under the unreadable times.
    let (send, receive) = if c.older {
        (
            "report.log.send_missing_older",
            "report.log.receive_missing_older",
        )
    } else {
        ("report.log.send_missing", "report.log.receive_missing")
    };
    for (n, key, lacking) in [
        (
            c.send_missing,
            send,
            Some((&c.send_lacking, "report.log.send_lacking")),
        ),
        (
            c.receive_missing,
            receive,
            Some((&c.receive_lacking, "report.log.receive_lacking")),
        ),
        (c.bad_direction, "report.log.direction", None),
        (c.bad_time, "report.log.timestamp", None),
    ] {
        if n == 0 {
            continue;
        }
        let n_ = crate::i18n::count(n);
        out.push(
            match lacking.and_then(|(f, k)| Some((lacking_words(&cx.t, f, n)?, k))) {
                Some((fields, key)) => cx.f(key, &[("fields", &fields), ("n", &n_)]),
                None => cx.f(key, &[("n", &n_)]),
            },
        );
    }
    if c.covers_period == Some(false) {
        out.push(cx.t("report.log.period"));
    }
    if let Some(n) = c.gap_days.filter(|n| *n > 0) {
        out.push(cx.f("report.log.gaps", &[("n", &n.to_string())]));
    }
    if c.lines == 0 && c.missing_columns.is_empty() {
        out.push(cx.t("report.log.empty"));
    }
    out
}

/// Item 6 — 履歴（ログ）の管理: the mechanism and each log file's check.
/// Files that hold the same records as one before them (by name: the earlier, the later);
/// see [`crate::domain::gatewaylog::same_records`].
fn same_logs(checks: &[Value]) -> Vec<(&str, &str)> {
    let totals: Vec<Totals> = checks.iter().map(Totals::of).collect();
    let logs: Vec<_> = checks
        .iter()
        .zip(&totals)
        .map(|(c, t)| {
            (
                s(c, "sha256"),
                (
                    t.lines,
                    t.sent,
                    t.received,
                    t.first.as_deref(),
                    t.last.as_deref(),
                ),
            )
        })
        .collect();
    crate::domain::gatewaylog::same_records(&logs)
        .into_iter()
        .map(|(i, j)| (s(&checks[i], "file"), s(&checks[j], "file")))
        .collect()
}

pub fn gateway_logs(cx: &Context<'_>, d: &Value) -> (Vec<Note>, Vec<Section>) {
    let checks = d["log_checks"].as_array().cloned().unwrap_or_default();
    let mut summary = vec![];
    let mut rows = vec![];
    // Sealed with the period judged for the logs together: a file's own verdict is about
    // its lines only.
    let clean = if d["coverage"].is_object() {
        "report.log.lines_clean"
    } else {
        "gwlog.clean"
    };
    for c in &checks {
        let file = s(c, "file");
        let check = Totals::of(c);
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
                    cx.t(clean)
                } else {
                    cx.t("gwlog.not_clean")
                },
                cx.f(
                    if check.older {
                        "report.log.counts_older"
                    } else {
                        "report.log.counts"
                    },
                    &[
                        ("rows", &crate::i18n::count(check.lines)),
                        ("sent", &crate::i18n::count(check.sent)),
                        ("received", &crate::i18n::count(check.received)),
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
    for (first, again) in same_logs(&checks) {
        summary.push(note(
            cx.f("report.log.same_log", &[("first", first), ("again", again)]),
            true,
        ));
    }
    // The period, met by the logs together (a report sealed before this: per file, above).
    let cov = &d["coverage"];
    let mut together = vec![];
    if cov["covers"] == false {
        together.push((cx.t("report.log.period"), true));
    }
    together.extend(gaps(cx, cov));
    together.extend(off_gaps(cx, cov));
    // Hours without a line where the gateway usually has lines: worth a look (a log cut short).
    let quiet: Vec<(chrono::NaiveDate, u8, u8)> =
        serde_json::from_value(cov["quiet"].clone()).unwrap_or_default();
    together
        .extend(crate::web::html::common::logcheck::quiet_fact(&cx.t, &quiet).map(|f| (f, true)));
    let mut aside = vec![];
    for (f, problem) in together {
        let n = note(cx.f("report.summary.logs_all", &[("finding", &f)]), problem);
        if problem {
            summary.push(n)
        } else {
            aside.push(n)
        }
    }
    if checks.is_empty() {
        summary.push(note(cx.t("report.summary.no_logs"), false));
    } else if summary.is_empty() {
        summary.push(note(
            cx.f(
                if cov.is_object() {
                    "report.summary.logs_clean_period"
                } else {
                    "report.summary.logs_clean"
                },
                &[("n", &checks.len().to_string())],
            ),
            false,
        ));
    }
    summary.extend(aside);
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

/// Whether a sealed run of quiet days `[first, last]` holds a weekend, holiday or year-end day.
fn has_day_off(run: &Value) -> bool {
    let day = |v: &Value| {
        v.as_str()
            .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
    };
    match (day(&run[0]), day(&run[1])) {
        (Some(a), Some(b)) => a
            .iter_days()
            .take_while(|d| *d <= b)
            .take(3700)
            .any(crate::domain::holidays::is_off_day),
        _ => false,
    }
}

/// The days of the period without a line, in words, and whether they need explaining: not
/// when every one of them is a weekend, a holiday or in the year-end break.
fn gaps(cx: &Context<'_>, cov: &Value) -> Option<(String, bool)> {
    let all = cov["gap_days"].as_u64().filter(|n| *n > 0)?;
    let work = crate::domain::flags::work_gap_days(cov);
    // Sealed with the working days' runs: those named, the rest said apart (`off_gaps`).
    if let Some(runs) = cov["work_gaps"].as_array() {
        if work == 0 {
            return None;
        }
        let mut named: Vec<String> = runs
            .iter()
            .take(5)
            .filter_map(|r| match (r[0].as_str(), r[1].as_str()) {
                (Some(a), Some(b)) if a == b => Some(a.to_string()),
                (Some(a), Some(b)) => Some(cx.f("report.from_to", &[("from", a), ("to", b)])),
                _ => None,
            })
            .collect();
        if runs.len() > 5 {
            named.push(cx.t("gwlog.and_more"));
        }
        return Some((
            cx.f(
                // A gateway that runs on days off has its quiet ones among these: not 平日.
                if runs.iter().any(has_day_off) {
                    "report.log.gaps_runs"
                } else {
                    "report.log.gaps_work"
                },
                &[
                    ("n", &work.to_string()),
                    ("runs", &named.join(cx.t("ui.list_sep").as_str())),
                ],
            ),
            true,
        ));
    }
    let off = (all - work).to_string();
    let n = all.to_string();
    Some(match (work, all - work) {
        (_, 0) => (cx.f("report.log.gaps", &[("n", &n)]), true),
        (0, _) => (cx.f("report.log.gaps_off", &[("n", &n)]), false),
        _ => (
            cx.f("report.log.gaps_some_off", &[("n", &n), ("off", &off)]),
            true,
        ),
    })
}

/// The weekends, holidays and year-end days of the period without a line, said (not a
/// problem), in a coverage sealed with the working days' runs.
fn off_gaps(cx: &Context<'_>, cov: &Value) -> Option<(String, bool)> {
    cov["work_gaps"].as_array()?;
    let off = cov["off_gap_days"].as_u64().filter(|n| *n > 0)?;
    Some((
        cx.f("report.log.gaps_off_days", &[("n", &off.to_string())]),
        false,
    ))
}

/// Takes the table of sealed log totals out of a gateway-log report, for a page that shows each
/// log's kept check in its place (the summary above stays).
pub fn without_log_table(report: &mut super::Report, t: crate::i18n::Tr) {
    let caption = t.t("report.log_checks");
    for s in &mut report.sections {
        s.tables.retain(|table| table.caption != caption);
    }
}
