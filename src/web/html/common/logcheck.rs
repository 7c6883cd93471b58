//! The kept gateway-log check in words, for the organisation's log page and for the
//! reviewer: counts, problems with their line numbers, coverage of the period, gaps, who
//! appears most, and a per-day chart drawn here as inline SVG (no script, nothing fetched).

use std::fmt::Write;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::domain::Scope;
use crate::domain::gatewaylog::{At, Count, LogCheck, Refused, Top, lacking};
use crate::i18n::Tr;
use crate::web::error::AppResult;
use crate::web::state::AppState;

/// Line numbers named per problem.
const SHOWN: usize = 5;

/// One log's check as a page shows it.
pub struct CheckView {
    pub name: String,
    pub clean: bool,
    /// The heading's verdict in words.
    pub verdict: String,
    /// Sentences, in order.
    pub facts: Vec<String>,
    /// Sentences about what needs fixing.
    pub problems: Vec<String>,
    pub users: Vec<(String, String)>,
    pub users_title: String,
    pub ids: Vec<(String, String)>,
    pub ids_title: String,
    /// Every 識別番号 on one line only (a count table of ones would say nothing): that, in
    /// words, instead of the table.
    pub ids_once: String,
    /// Inline SVG markup (numbers and escaped dates only).
    pub chart: String,
    pub chart_title: String,
    /// The hours of each day with a line, as an inline SVG grid (short periods only).
    pub hours: String,
}

/// The kept checks of a submission's logs uploaded for `site`, by file name; `None` for a
/// file kept before logs were checked on upload.
pub async fn kept_checks(
    state: &AppState,
    scope: Scope,
    org_id: Uuid,
    site: Option<Uuid>,
    files: Vec<(String, String)>,
) -> AppResult<Vec<(String, Option<crate::app::gateway_logs::Kept>)>> {
    Ok(crate::app::gateway_logs::kept_checks(state, scope, org_id, site, files).await?)
}

/// Why a log was not taken, in words.
pub fn refusal(t: &Tr, r: &Refused) -> String {
    let at = |key: &str, at: &At| t.f(key, &[("at", &place(t, &[], at))]);
    match r {
        Refused::Empty => t.t("gwlog.refused.empty").to_string(),
        Refused::HeaderOnly => t.t("gwlog.refused.header_only").to_string(),
        Refused::Columns(cols) => t.f(
            "gwlog.refused.columns",
            &[(
                "columns",
                &cols
                    .iter()
                    .map(|c| t.t(column_key(c)))
                    .collect::<Vec<_>>()
                    .join(t.t("ui.list_sep")),
            )],
        ),
        Refused::LongLine(a) => at("gwlog.refused.long_line", a),
        Refused::Binary(a) => at("gwlog.refused.binary", a),
        Refused::Encoding(a) => at("gwlog.refused.encoding", a),
        Refused::Mixed(a) => at("gwlog.refused.mixed", a),
        Refused::TooManyColumns(a) => at("gwlog.refused.columns_many", a),
        Refused::Bomb => t.t("gwlog.refused.bomb").to_string(),
        Refused::Compressed => t.t("gwlog.refused.compressed").to_string(),
        Refused::ZipPath => t.t("gwlog.refused.zip_path").to_string(),
        Refused::ZipEntries => t.f(
            "gwlog.refused.zip_entries",
            &[("max", &crate::files::gwlog::ZIP_MAX_FILES.to_string())],
        ),
    }
}

/// A field of Table 7-4-2 (`user_code`, ...) in words.
pub fn field_name(t: &Tr, field: &str) -> String {
    t.t(column_key(field)).to_string()
}

fn column_key(c: &str) -> &'static str {
    match c {
        "direction" => "gwlog.col.direction",
        "user_code" => "gwlog.col.user_code",
        "id_number" => "gwlog.col.id_number",
        "business_code" => "gwlog.col.business_code",
        _ => "gwlog.col.timestamp",
    }
}

/// "12 行目" or, inside a zip, "a.log の 12 行目".
fn place(t: &Tr, files: &[String], at: &At) -> String {
    let line = at.1.to_string();
    match files.get((at.0 as usize).wrapping_sub(1)) {
        Some(f) if at.0 > 0 => t.f("gwlog.at_in_file", &[("file", f), ("line", &line)]),
        _ => t.f("gwlog.at_line", &[("line", &line)]),
    }
}

/// The fields lines lack, in words: 「識別番号」 when all of `n` lack that one, 「識別番号（3 行）、
/// 年月日時分秒（2 行）」 otherwise; `None` for a check kept before they were counted.
pub fn lacking_words(t: &Tr, counts: &[u64; 4], n: u64) -> Option<String> {
    let fields = lacking(counts);
    let word = |k: &str| t.t(&format!("report.log_column.{k}")).to_string();
    match fields.as_slice() {
        [] => None,
        [(k, m)] if *m == n => Some(t.f("gwlog.v.lacking_one", &[("field", &word(k))])),
        _ => Some(
            fields
                .iter()
                .map(|(k, m)| {
                    t.f(
                        "gwlog.v.lacking_field",
                        &[("field", &word(k)), ("n", &m.to_string())],
                    )
                })
                .collect::<Vec<_>>()
                .join(t.t("ui.list_sep")),
        ),
    }
}

/// Lines lacking required fields: the fields named when the check counted them.
fn missing(t: &Tr, dir: &str, c: &Count, counts: &[u64; 4], files: &[String]) -> Option<String> {
    match lacking_words(t, counts, c.n) {
        Some(fields) => count(
            t,
            &format!("gwlog.v.{dir}_lacking"),
            c,
            files,
            &[("fields", &fields)],
        ),
        None => count(t, &format!("gwlog.v.{dir}_missing"), c, files, &[]),
    }
}

fn count(t: &Tr, key: &str, c: &Count, files: &[String], more: &[(&str, &str)]) -> Option<String> {
    if c.n == 0 {
        return None;
    }
    let mut at: Vec<String> =
        c.at.iter()
            .take(SHOWN)
            .map(|a| place(t, files, a))
            .collect();
    if c.n as usize > at.len() {
        at.push(t.t("gwlog.and_more").to_string());
    }
    let (n, at) = (crate::i18n::count(c.n), at.join(t.t("ui.list_sep")));
    let mut args = vec![("n", n.as_str()), ("at", at.as_str())];
    args.extend_from_slice(more);
    Some(t.f(key, &args))
}

/// How many different values, in words (「N 種類」, or 「N 種類以上」 past what is counted).
fn distinct_words(t: &Tr, top: &Top) -> String {
    t.f(
        if top.more {
            "gwlog.distinct_more"
        } else {
            "gwlog.distinct"
        },
        &[("n", &crate::i18n::count(top.distinct))],
    )
}

fn top(t: &Tr, key: &str, top: &Top) -> (String, Vec<(String, String)>) {
    let distinct = distinct_words(t, top);
    (
        t.f(
            key,
            &[
                ("shown", &top.top.len().to_string()),
                ("distinct", &distinct),
            ],
        ),
        top.top
            .iter()
            .map(|(k, n)| (k.clone(), crate::i18n::count(*n)))
            .collect(),
    )
}

/// The check of `name` in words, measured against the period when there is one.
pub fn view(t: &Tr, name: &str, c: &LogCheck, period: Option<(NaiveDate, NaiveDate)>) -> CheckView {
    view_of(t, name, c, period, true)
}

/// The check in words; its chart spans the period when there is one, and the period's
/// coverage and gaps are judged only when `judged` (one file of several is not: the logs
/// together are).
fn view_of(
    t: &Tr,
    name: &str,
    c: &LogCheck,
    period: Option<(NaiveDate, NaiveDate)>,
    judged: bool,
) -> CheckView {
    let mut facts = vec![];
    let mut format = vec![t.t(match c.delimiter.as_str() {
        "tab" => "gwlog.delim.tab",
        "semicolon" => "gwlog.delim.semicolon",
        "bar" => "gwlog.delim.bar",
        "spaces" => "gwlog.delim.spaces",
        _ => "gwlog.delim.comma",
    })];
    format.push(t.t(if c.encoding == "sjis" {
        "gwlog.enc.sjis"
    } else {
        "gwlog.enc.utf8"
    }));
    match c.compression.as_deref() {
        Some("gzip") => format.push(t.t("gwlog.comp.gzip")),
        Some("zip") => format.push(t.t("gwlog.comp.zip")),
        _ => {}
    }
    facts.push(t.f(
        "gwlog.v.format",
        &[("format", &format.join(t.t("ui.list_sep")))],
    ));
    if c.moved {
        facts.push(t.t("gwlog.v.mapped_moved").to_string());
    } else if let Some(m) = &c.mapping {
        facts.push(if m.skip > 0 {
            t.f("gwlog.v.mapped_below", &[("n", &(m.skip + 1).to_string())])
        } else {
            t.t(if m.header {
                "gwlog.v.mapped"
            } else {
                "gwlog.v.mapped_no_header"
            })
            .to_string()
        });
    }
    facts.push(t.f(
        "gwlog.v.counts",
        &[
            ("lines", &crate::i18n::count(c.lines)),
            ("sent", &crate::i18n::count(c.sent)),
            ("received", &crate::i18n::count(c.received)),
        ],
    ));
    if let (Some(f), Some(l)) = (&c.first, &c.last) {
        facts.push(t.f("gwlog.v.span", &[("first", f), ("last", l)]));
    }
    let mut problems: Vec<String> = [
        missing(t, "send", &c.send_missing, &c.send_lacking, &c.files),
        missing(
            t,
            "receive",
            &c.receive_missing,
            &c.receive_lacking,
            &c.files,
        ),
        count(t, "gwlog.v.bad_direction", &c.bad_direction, &c.files, &[]),
        count(t, "gwlog.v.bad_time", &c.bad_time, &c.files, &[]),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut quiet = vec![];
    // The usual hours, for the hour grid of working days without a line (judged only).
    let mut usual = 0;
    // A log with lines, none of them inside the period: another period's log, which is not
    // submitted (said at once, not only when 提出 is refused).
    let outside = period.and_then(|(from, to)| {
        let (first, last) = (c.days.keys().next()?, c.days.keys().next_back()?);
        c.against(from, to)
            .days
            .iter()
            .all(|(_, n)| *n == [0, 0])
            .then(|| {
                t.f(
                    "gwlog.v.outside",
                    &[
                        ("from", &from.to_string()),
                        ("to", &to.to_string()),
                        ("first", &first.to_string()),
                        ("last", &last.to_string()),
                    ],
                )
            })
    });
    let days: Vec<(NaiveDate, [u64; 2])> = match period {
        Some((from, to)) if !judged => {
            let cov = c.against(from, to);
            problems.extend(outside.clone());
            facts.extend(quiet_fact(t, &cov.quiet));
            quiet = cov.quiet;
            cov.days
        }
        Some((from, to)) => {
            let cov = c.against(from, to);
            quiet.clone_from(&cov.quiet);
            usual = cov.usual;
            let p = [("from", from.to_string()), ("to", to.to_string())];
            let p: Vec<(&str, &str)> = p.iter().map(|(k, v)| (*k, v.as_str())).collect();
            if cov.covers {
                facts.push(t.f("gwlog.v.covers", &p));
            } else if let Some(o) = outside.clone() {
                problems.push(o);
            } else {
                // Where the lines are, so the clerk sees which end is short.
                let (first, last) = (c.days.keys().next(), c.days.keys().next_back());
                problems.push(match (first, last) {
                    (Some(a), Some(b)) => t.f(
                        "gwlog.v.not_covers_days",
                        &[
                            p[0],
                            p[1],
                            ("first", &a.to_string()),
                            ("last", &b.to_string()),
                        ],
                    ),
                    _ => t.f("gwlog.v.not_covers", &p),
                });
            }
            let work = cov.work_gap_days();
            let off = cov.off_gap_days.to_string();
            if cov.gap_days == 0 {
                facts.push(t.t("gwlog.v.no_gaps").to_string());
            } else if work == 0 {
                facts.push(t.f("gwlog.v.gaps_off_only", &[("n", &off)]));
            } else {
                let n = work.to_string();
                let runs = runs(t, &cov.work_gaps);
                let p = [("n", n.as_str()), ("runs", runs.as_str())];
                if cov.off_gap_days == 0 {
                    problems.push(t.f("gwlog.v.gaps", &p));
                } else {
                    problems.push(t.f("gwlog.v.gaps_work", &p));
                    facts.push(t.f("gwlog.v.gaps_off", &[("n", &off)]));
                }
            }
            facts.extend(quiet_fact(t, &cov.quiet));
            cov.days
        }
        // Without a period: the log's own days.
        None => match (c.days.keys().next(), c.days.keys().next_back()) {
            (Some(a), Some(b)) => {
                let cov = c.against(*a, *b);
                facts.extend(quiet_fact(t, &cov.quiet));
                quiet = cov.quiet;
                cov.days
            }
            _ => vec![],
        },
    };
    let (users_title, users) = top(t, "gwlog.v.users", &c.users);
    let (ids_title, mut ids) = top(t, "gwlog.v.ids", &c.ids);
    let ids_once = if !c.ids.top.is_empty() && c.ids.top.iter().all(|(_, n)| *n == 1) {
        ids.clear();
        t.f(
            "gwlog.v.ids_once",
            &[("distinct", &distinct_words(t, &c.ids))],
        )
    } else {
        String::new()
    };
    let chart_title = match (days.first(), days.last()) {
        (Some(a), Some(b)) => t.f(
            "gwlog.v.chart",
            &[("from", &a.0.to_string()), ("to", &b.0.to_string())],
        ),
        _ => String::new(),
    };
    let clean = c.clean(period.filter(|_| judged)) && outside.is_none();
    CheckView {
        name: name.to_string(),
        clean,
        // Hours without a line where the gateway usually has lines are not a fault of the
        // lines, but the verdict does not call the log clean past them.
        verdict: if clean && judged && !quiet.is_empty() {
            t.t("gwlog.clean_but_quiet").to_string()
        } else {
            verdict(t, clean, period.is_some(), !judged)
        },
        facts,
        problems,
        users,
        users_title,
        ids,
        ids_title,
        ids_once,
        // Without a period no day is a gap: the chart marks none.
        chart: chart(t, &days, judged && period.is_some()),
        chart_title,
        hours: hours_chart(t, &days, &c.hours, &quiet, usual),
    }
}

/// A check's heading verdict: not clean; clean in its lines only (one log of several, the
/// period judged for them together: `one_of_several`); clean with no period entered yet (only
/// the lines are checked until there is one); or clean.
fn verdict(t: &Tr, clean: bool, period: bool, one_of_several: bool) -> String {
    t.t(match (clean, period, one_of_several) {
        (false, _, _) => "gwlog.not_clean",
        (true, false, _) => "gwlog.clean_no_period",
        (true, true, true) => "gwlog.clean_lines",
        (true, true, false) => "gwlog.clean",
    })
    .to_string()
}

/// Runs of days as a list ("2026-10-05、2026-10-07 〜 2026-10-09、ほか").
fn runs(t: &Tr, gaps: &[(NaiveDate, NaiveDate)]) -> String {
    let mut runs: Vec<String> = gaps
        .iter()
        .take(SHOWN)
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                t.f(
                    "gwlog.v.run",
                    &[("from", &a.to_string()), ("to", &b.to_string())],
                )
            }
        })
        .collect();
    if gaps.len() > SHOWN {
        runs.push(t.t("gwlog.and_more").to_string());
    }
    runs.join(t.t("ui.list_sep"))
}

/// The hours with no line on days that usually have lines there, listed (the first few).
pub(crate) fn quiet_fact(t: &Tr, quiet: &[(NaiveDate, u8, u8)]) -> Option<String> {
    if quiet.is_empty() {
        return None;
    }
    let mut runs: Vec<String> = quiet
        .iter()
        .take(SHOWN)
        .map(|(d, a, b)| {
            t.f(
                "gwlog.v.quiet_run",
                &[
                    ("day", &d.to_string()),
                    ("from", &format!("{a:02}:00")),
                    ("to", &format!("{b:02}:00")),
                ],
            )
        })
        .collect();
    if quiet.len() > SHOWN {
        runs.push(t.t("gwlog.and_more").to_string());
    }
    Some(t.f(
        "gwlog.v.quiet",
        &[
            ("n", &quiet.len().to_string()),
            ("runs", &runs.join(t.t("ui.list_sep"))),
        ],
    ))
}

/// The views of one report's logs: with one log, its check against the period; with more,
/// first what they cover together (the period, its gaps and quiet hours, the charts), then
/// each log's own check (its problems, its own days).
pub fn views(
    t: &Tr,
    logs: &[(String, LogCheck)],
    period: Option<(NaiveDate, NaiveDate)>,
) -> Vec<CheckView> {
    if logs.len() < 2 {
        return logs
            .iter()
            .map(|(name, c)| view(t, name, c, period))
            .collect();
    }
    let joined = LogCheck::joined(logs.iter().map(|(_, c)| c));
    let name = t.f("gwlog.v.together", &[("n", &logs.len().to_string())]);
    let mut all = view(t, &name, &joined, period);
    // Per-value counts, line problems and each file's format stay with each file.
    all.users.clear();
    all.ids.clear();
    all.facts.remove(0);
    all.clean = period.is_none_or(|(f, to)| joined.against(f, to).met());
    let overlapping = overlaps(t, logs);
    // Clean, the heading still points at what to make sure of (quiet hours, overlaps).
    let quiet = period.is_some_and(|(f, to)| !joined.against(f, to).quiet.is_empty());
    all.verdict = match (all.clean, quiet, overlapping.is_empty()) {
        (true, _, false) => t.t("gwlog.clean_but_overlap").to_string(),
        (true, true, true) => t.t("gwlog.clean_but_quiet").to_string(),
        _ => verdict(t, all.clean, period.is_some(), false),
    };
    all.facts.extend(overlapping);
    let mut out = vec![all];
    // Each file's chart spans the period as the one above does, and as the file's own did
    // when it was the only one.
    out.extend(
        logs.iter()
            .map(|(name, c)| view_of(t, name, c, period, false)),
    );
    out
}

/// Logs with lines of the same direction on the same days, in the same hours (at least two of
/// a day): the same lines attached twice (an export repeated in a zip, say) would count twice,
/// so the page asks to make sure. A log of sends beside one of receives, or a day's morning
/// beside its afternoon, is not named.
fn overlaps(t: &Tr, logs: &[(String, LogCheck)]) -> Vec<String> {
    let mut out = vec![];
    for (j, (b_name, b)) in logs.iter().enumerate() {
        for (a_name, a) in &logs[..j] {
            let days: Vec<NaiveDate> = a
                .days
                .iter()
                .filter(|(d, n)| {
                    let Some(m) = b.days.get(d) else {
                        return false;
                    };
                    let same_way = (n[0] > 0 && m[0] > 0) || (n[1] > 0 && m[1] > 0);
                    // A check kept before hours were counted: the day alone.
                    let hours = match (a.hours.get(d), b.hours.get(d)) {
                        (Some(x), Some(y)) => (x & y).count_ones() >= 2,
                        _ => a.hours.is_empty() || b.hours.is_empty(),
                    };
                    same_way && hours
                })
                .map(|(d, _)| *d)
                .collect();
            if days.is_empty() || out.len() >= SHOWN {
                continue;
            }
            let mut list: Vec<String> = days.iter().take(3).map(NaiveDate::to_string).collect();
            if days.len() > 3 {
                list.push(t.t("gwlog.and_more").to_string());
            }
            out.push(t.f(
                "gwlog.v.overlap",
                &[
                    ("a", a_name.as_str()),
                    ("b", b_name.as_str()),
                    ("days", &list.join(t.t("ui.list_sep"))),
                ],
            ));
        }
    }
    out
}

/// The longest period whose hours are drawn (a row per day).
const HOURS_DAYS: usize = 62;

/// The hours of each day with a line as a grid (a row per day, a column per hour, JST):
/// filled where there is a line, red where the gateway usually has lines and this day has
/// none (`quiet`, and the `usual` hours of a working day without a line). Empty for a long
/// period, or a check kept before hours were counted.
pub fn hours_chart(
    t: &Tr,
    days: &[(NaiveDate, [u64; 2])],
    hours: &std::collections::BTreeMap<NaiveDate, u32>,
    quiet: &[(NaiveDate, u8, u8)],
    usual: u32,
) -> String {
    if days.is_empty() || days.len() > HOURS_DAYS || hours.is_empty() {
        return String::new();
    }
    const LEFT: f64 = 80.0;
    const CELL: f64 = 26.0;
    const ROW: f64 = 12.0;
    const TOP: f64 = 16.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="logchart hours" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{label}">"##,
        w = LEFT + CELL * 24.0,
        h = TOP + ROW * days.len() as f64 + 4.0,
        label = esc(t.t("gwlog.v.hours_label")),
    );
    for h in (0..=24).step_by(6) {
        let _ = write!(
            s,
            r##"<text x="{x:.1}" y="11" font-size="10" fill="#333" text-anchor="{anchor}">{h}:00</text>"##,
            x = LEFT + CELL * f64::from(h),
            // The last label ends at the grid's edge, inside the drawing.
            anchor = if h == 24 { "end" } else { "middle" },
        );
    }
    let rests = crate::domain::gatewaylog::rests_on_off_days(days);
    for (i, (d, n)) in days.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let mask = hours.get(d).copied().unwrap_or(0);
        let silent = *n == [0, 0] && !crate::domain::gatewaylog::may_rest(*d, rests);
        let _ = write!(
            s,
            r##"<text x="0" y="{ty:.1}" font-size="10" fill="#333">{d}</text>"##,
            ty = y + ROW - 2.0,
        );
        for h in 0..24u8 {
            let on = mask & (1 << h) != 0;
            let hushed = (silent && usual & (1 << h) != 0)
                || quiet
                    .iter()
                    .any(|(q, a, b)| q == d && (*a..*b).contains(&h));
            let fill = match (on, hushed) {
                (true, _) => "#2c6fbb",
                (false, true) => "#c0392b",
                (false, false) => "#eeeeee",
            };
            let tip = esc(&t.f(
                if on {
                    "gwlog.v.hour_some"
                } else {
                    "gwlog.v.hour_none"
                },
                &[("day", &d.to_string()), ("hour", &format!("{h:02}"))],
            ));
            let _ = write!(
                s,
                r##"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{hh:.1}" fill="{fill}"><title>{tip}</title></rect>"##,
                x = LEFT + CELL * f64::from(h),
                w = CELL - 1.0,
                hh = ROW - 1.0,
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// Lines per day as stacked bars (send below, receive above); a day without a line is
/// marked under the axis when `gaps` (red on a working day, grey on others), not on the chart
/// of one file of several (the other files' days are not its gaps).
pub fn chart(t: &Tr, days: &[(NaiveDate, [u64; 2])], gaps: bool) -> String {
    if days.is_empty() {
        return String::new();
    }
    const W: f64 = 720.0;
    const H: f64 = 140.0;
    const TOP: f64 = 16.0;
    let rests = crate::domain::gatewaylog::rests_on_off_days(days);
    let most = days.iter().map(|(_, n)| n[0] + n[1]).max().unwrap_or(0);
    let max = most.max(1) as f64;
    let step = W / days.len() as f64;
    let bar = (step * 0.8).max(0.5);
    let mut s = String::new();
    let label = t.t("gwlog.v.chart_label");
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="logchart" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{label}">"##,
        w = W,
        h = H + TOP + 24.0,
        label = esc(label),
    );
    let _ = write!(
        s,
        r##"<text x="0" y="11" font-size="11" fill="#333">{}</text>"##,
        esc(&if most == 0 {
            t.t("gwlog.v.chart_none").to_string()
        } else {
            t.f("gwlog.v.chart_max", &[("n", &most.to_string())])
        })
    );
    for (i, (d, n)) in days.iter().enumerate() {
        let x = i as f64 * step;
        let hs = n[0] as f64 / max * H;
        let hr = n[1] as f64 / max * H;
        let tip = esc(&t.f(
            "gwlog.v.chart_day",
            &[
                ("day", &d.to_string()),
                ("sent", &n[0].to_string()),
                ("received", &n[1].to_string()),
            ],
        ));
        if n[0] + n[1] == 0 && !gaps {
            continue;
        }
        if n[0] + n[1] == 0 {
            let fill = if crate::domain::gatewaylog::may_rest(*d, rests) {
                "#999999"
            } else {
                "#c0392b"
            };
            let _ = write!(
                s,
                r##"<rect x="{x:.1}" y="{y:.1}" width="{bar:.1}" height="4" fill="{fill}"><title>{tip}</title></rect>"##,
                y = TOP + H + 2.0,
            );
            continue;
        }
        let _ = write!(
            s,
            r##"<g><title>{tip}</title><rect x="{x:.1}" y="{ys:.1}" width="{bar:.1}" height="{hs:.1}" fill="#2c6fbb"/><rect x="{x:.1}" y="{yr:.1}" width="{bar:.1}" height="{hr:.1}" fill="#7fb3e6"/></g>"##,
            ys = TOP + H - hs,
            yr = TOP + H - hs - hr,
        );
    }
    let _ = write!(
        s,
        r##"<line x1="0" y1="{y}" x2="{W}" y2="{y}" stroke="#666"/><text x="0" y="{ty}" font-size="11" fill="#333">{a}</text><text x="{W}" y="{ty}" font-size="11" fill="#333" text-anchor="end">{b}</text></svg>"##,
        y = TOP + H,
        ty = TOP + H + 20.0,
        a = days[0].0,
        b = days[days.len() - 1].0,
    );
    s
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    #[test]
    fn the_chart_says_a_period_without_lines_has_none_and_otherwise_names_the_busiest_day() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let t = Tr::new(Lang::Ja);
        let empty = chart(&t, &[(day(1), [0, 0]), (day(2), [0, 0])], true);
        assert!(
            empty.contains("この期間のどの日にも記録がありません"),
            "{empty}"
        );
        assert!(!empty.contains("最大"), "{empty}");
        let some = chart(&t, &[(day(1), [3, 4]), (day(2), [0, 0])], true);
        assert!(some.contains("最大 7 行/日"), "{some}");
    }

    #[test]
    fn a_working_day_without_lines_is_red_at_the_usual_hours_and_a_files_own_chart_marks_no_gaps() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let t = Tr::new(Lang::Ja);
        // Wednesday the 4th has no line; Sunday the 8th has none either (an off day).
        let days = [(day(2), [1, 0]), (day(4), [0, 0]), (day(8), [0, 0])];
        let hours = [(day(2), 1 << 9 | 1 << 10)].into();
        let svg = hours_chart(&t, &days, &hours, &[], 1 << 9 | 1 << 10);
        assert_eq!(svg.matches("fill=\"#c0392b\"").count(), 2, "{svg}");
        assert!(svg.contains("text-anchor=\"end\">24:00</text>"), "{svg}");
        let judged = chart(&t, &days, true);
        assert_eq!(judged.matches("fill=\"#c0392b\"").count(), 1, "{judged}");
        assert_eq!(judged.matches("fill=\"#999999\"").count(), 1, "{judged}");
        let own = chart(&t, &days, false);
        assert!(
            !own.contains("#c0392b") && !own.contains("#999999"),
            "{own}"
        );
    }

    #[test]
    fn the_hours_grid_marks_hours_with_lines_and_quiet_hours() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let t = Tr::new(Lang::Ja);
        let days = [(day(1), [1, 0]), (day(2), [1, 0])];
        let hours = [(day(1), 1 << 9 | 1 << 10), (day(2), 1 << 9)].into();
        let svg = hours_chart(&t, &days, &hours, &[(day(2), 10, 11)], 0);
        assert_eq!(svg.matches("fill=\"#2c6fbb\"").count(), 3, "{svg}");
        assert_eq!(svg.matches("fill=\"#c0392b\"").count(), 1, "{svg}");
        assert!(svg.contains("2026-11-02 10 時台: 記録なし"), "{svg}");
        assert!(!svg.contains("script") && !svg.contains("href"));
        // Kept before hours were counted, or a long period: no grid.
        assert!(hours_chart(&t, &days, &Default::default(), &[], 0).is_empty());
    }

    #[test]
    fn logs_of_another_period_and_logs_that_overlap_are_named_when_checked() {
        let t = Tr::new(Lang::Ja);
        let log = |rows: &[(&str, &str)]| {
            let mut s = crate::domain::gatewaylog::Scanner::new();
            let mut text =
                String::from("送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n");
            for (dir, at) in rows {
                let id = if *dir == "送信" { "001" } else { "" };
                text.push_str(&format!("{dir},ABC12,{id},IDA,{at}\n"));
            }
            s.feed(text.as_bytes()).unwrap();
            s.finish().unwrap()
        };
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let period = Some((day(23), day(27)));
        let repeated = [
            ("送信", "2026-11-26 09:00:00"),
            ("送信", "2026-11-26 10:00:00"),
            ("送信", "2026-11-27 09:00:00"),
            ("受信", "2026-11-27 10:00:00"),
        ];
        let a = log(&[&[("送信", "2026-11-23 09:00:00")], &repeated[..]].concat());
        let again = log(&repeated);
        let late = log(&[("送信", "2026-11-28 09:00:00")]);
        let shown = views(
            &t,
            &[
                ("a.log".into(), a.clone()),
                ("b.log".into(), again),
                ("c.log".into(), late),
            ],
            period,
        );
        let all = shown[0].facts.join("\n");
        assert!(
            all.contains(
                "a.log と b.log に、同じ日・同じ時間帯の記録があります（2026-11-26、2026-11-27）"
            ),
            "{all}"
        );
        assert!(!all.contains("c.log と"), "{all}");
        // The log of another period says so on its own check, and is not clean.
        let c = &shown[3];
        assert!(!c.clean, "{}", c.verdict);
        assert!(
            c.problems.iter().any(|p| p.starts_with("このログには、対象期間の記録が 1 行もありません（対象期間：2026-11-23 〜 2026-11-27、記録のある日：2026-11-28 〜 2026-11-28）")),
            "{:?}",
            c.problems
        );
        // Sends in one log and receives in another for the same days are not named.
        let sends = log(&[
            ("送信", "2026-11-23 09:00:00"),
            ("送信", "2026-11-24 09:00:00"),
        ]);
        let receives = log(&[
            ("受信", "2026-11-23 09:00:02"),
            ("受信", "2026-11-24 09:00:02"),
        ]);
        let shown = views(
            &t,
            &[("s.log".into(), sends), ("r.log".into(), receives)],
            period,
        );
        assert!(!shown[0].facts.join("").contains("同じ時間帯"));
        // Nor a day's morning beside its afternoon.
        let am = log(&[
            ("送信", "2026-11-23 09:00:00"),
            ("送信", "2026-11-23 11:00:00"),
        ]);
        let pm = log(&[
            ("送信", "2026-11-23 12:00:00"),
            ("送信", "2026-11-23 15:00:00"),
        ]);
        let shown = views(&t, &[("am.log".into(), am), ("pm.log".into(), pm)], period);
        assert!(!shown[0].facts.join("").contains("同じ時間帯"));
    }
}
