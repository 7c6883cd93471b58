//! The flags a reviewer sees on a line of the review queue, fixed when a report is sealed and
//! stored with it (`submissions.flags`, comma-separated), so the queue reads them with its row.

use chrono::NaiveDate;
use serde_json::Value;

use super::antivirus::{self, AvRow};

/// It answered a request for the report after the request's due date (期限後).
pub const LATE: &str = "late";
/// Antivirus: definitions older than the limit on the day it was sealed.
pub const STALE: &str = "stale";
/// Gateway logs: a log file's check found problems.
pub const LOG: &str = "log";
/// Antivirus: the computers reported at some office differ in number from those the
/// organisation's equipment list (its latest system configuration) says connect to NACCS.
pub const COUNTS: &str = "counts";

/// Administrator: another person takes over from the one in charge (a `predecessor`).
pub const SUCCESSOR: &str = "successor";
/// Administrator: the same person's details corrected (`corrects`).
pub const CORRECTION: &str = "correction";

/// The organisation wrote to the Center about it (a note at submitting, or a comment since)
/// and the Center has not written back since.
pub const NOTE: &str = "note";

/// Every flag, in the order a queue line shows them.
pub const ALL: [&str; 7] = [LATE, STALE, COUNTS, LOG, SUCCESSOR, CORRECTION, NOTE];

/// The flags the content of a report raises (`sealed_on`: the day it is sealed, Japan time;
/// `stale_days`: the age after which definitions are stale).
pub fn of_content(
    kind: &str,
    data: &Value,
    sealed_on: NaiveDate,
    stale_days: i64,
) -> Vec<&'static str> {
    match kind {
        "antivirus" => {
            let rows: Vec<AvRow> = serde_json::from_value(data["rows"].clone()).unwrap_or_default();
            if rows
                .iter()
                .any(|r| antivirus::is_stale(r, sealed_on, stale_days))
            {
                vec![STALE]
            } else {
                vec![]
            }
        }
        "administrator" if data["predecessor"].is_object() => vec![SUCCESSOR],
        "administrator" if data["corrects"].is_object() => vec![CORRECTION],
        "gateway_logs" => {
            let checks = data["log_checks"].as_array().cloned().unwrap_or_default();
            let cov = &data["coverage"];
            let quiet = cov["quiet"].as_array().is_some_and(|q| !q.is_empty());
            let uncovered = cov["covers"] == false || work_gap_days(cov) > 0 || quiet;
            if uncovered || checks.iter().any(log_problem) {
                vec![LOG]
            } else {
                vec![]
            }
        }
        _ => vec![],
    }
}

/// The days of a sealed coverage without a line that are working days (all of them in one
/// sealed before weekends and holidays were told apart).
pub fn work_gap_days(coverage: &Value) -> u64 {
    let all = coverage["gap_days"].as_u64().unwrap_or(0);
    all.saturating_sub(coverage["off_gap_days"].as_u64().unwrap_or(0))
}

/// Whether a sealed log check found anything: its own verdict (`clean`), or, in a check
/// sealed before it carried one, any count of problems or a period it does not cover.
fn log_problem(c: &Value) -> bool {
    if let Some(clean) = c["clean"].as_bool() {
        return !clean;
    }
    let totals = if c["result"].is_object() {
        &c["result"]
    } else {
        c
    };
    let counted = [
        "send_missing",
        "receive_missing",
        "bad_direction",
        "bad_time",
        "bad_timestamps",
        "gap_days",
    ]
    .iter()
    .any(|k| totals[*k].as_u64().is_some_and(|n| n > 0));
    counted
        || totals["covers_period"].as_bool() == Some(false)
        || totals["missing_columns"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
}

/// The stored form: the known flags among `flags`, in [`ALL`]'s order, comma-separated.
pub fn join(flags: &[&str]) -> String {
    ALL.iter()
        .filter(|f| flags.contains(f))
        .copied()
        .collect::<Vec<_>>()
        .join(",")
}

/// The known flags of a stored list (an unknown word is left out, never shown).
pub fn parse(stored: &str) -> Vec<&'static str> {
    let words: Vec<&str> = stored.split(',').map(str::trim).collect();
    ALL.iter().filter(|f| words.contains(f)).copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stale_definitions_and_log_problems_raise_their_flags() {
        let day = NaiveDate::from_ymd_opt(2026, 4, 20).unwrap();
        let row = |defs: &str| {
            json!({ "host": "PC-1", "office": "本社", "os": "windows_11", "product": "trend_micro",
                    "version": "1", "definitions_date": defs, "update_frequency": "daily",
                    "last_full_scan": "2026-04-19" })
        };
        let fresh = json!({ "rows": [row("2026-04-19")] });
        let stale = json!({ "rows": [row("2026-04-19"), row("2026-03-01")] });
        assert!(of_content("antivirus", &fresh, day, 7).is_empty());
        assert_eq!(of_content("antivirus", &stale, day, 7), vec![STALE]);
        let clean = json!({ "log_checks": [{ "file": "a.csv", "clean": true }] });
        let dirty = json!({ "log_checks": [{ "file": "a.csv", "clean": true }, { "file": "b.csv", "clean": false }] });
        let older = json!({ "log_checks": [{ "file": "a.csv", "result": { "send_missing": 3 } }] });
        assert!(of_content("gateway_logs", &clean, day, 7).is_empty());
        assert_eq!(of_content("gateway_logs", &dirty, day, 7), vec![LOG]);
        assert_eq!(of_content("gateway_logs", &older, day, 7), vec![LOG]);
        // Clean files that do not cover the period together.
        let gaps = json!({ "log_checks": [{ "file": "a.csv", "clean": true }],
                           "coverage": { "covers": true, "gap_days": 2 } });
        let covered = json!({ "log_checks": [{ "file": "a.csv", "clean": true }],
                              "coverage": { "covers": true, "gap_days": 0 } });
        assert_eq!(of_content("gateway_logs", &gaps, day, 7), vec![LOG]);
        assert!(of_content("gateway_logs", &covered, day, 7).is_empty());
        // Days without a line that are all weekends or holidays raise nothing.
        let weekend = json!({ "log_checks": [{ "file": "a.csv", "clean": true }],
                              "coverage": { "covers": true, "gap_days": 2, "off_gap_days": 2 } });
        assert!(of_content("gateway_logs", &weekend, day, 7).is_empty());
        assert!(of_content("inhouse_measures", &stale, day, 7).is_empty());
    }

    #[test]
    fn the_stored_list_keeps_only_known_flags_in_order() {
        assert_eq!(join(&[LOG, "x", LATE]), "late,log");
        assert_eq!(parse("log, late,unknown"), vec![LATE, LOG]);
        assert!(parse("").is_empty());
    }
}
