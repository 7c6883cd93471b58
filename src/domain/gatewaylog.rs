//! Item 6 — checks a gateway send/receive log against Table 7-4-2 before anyone reads it:
//! per direction the required fields (send: user code, identification number, business code,
//! date-time; receive: user code, business code, date-time), timestamps that parse, and
//! coverage of the requested period.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

/// The header names accepted for each column (Japanese or English, case-insensitive).
const COLUMNS: [(&str, &[&str]); 5] = [
    ("direction", &["送受信区分", "送受信", "区分", "direction"]),
    ("user_code", &["利用者コード", "user_code", "usercode"]),
    (
        "id_number",
        &["識別番号", "id_number", "identification_number"],
    ),
    (
        "business_code",
        &["業務コード", "business_code", "transaction_code"],
    ),
    (
        "timestamp",
        &["年月日時分秒", "日時", "timestamp", "datetime"],
    ),
];

/// What the check found in one log file.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct LogCheck {
    pub rows: usize,
    pub sent: usize,
    pub received: usize,
    /// Lines whose direction is neither send nor receive.
    pub bad_direction: usize,
    /// Send lines missing a required field.
    pub send_missing: usize,
    /// Receive lines missing a required field.
    pub receive_missing: usize,
    pub bad_timestamps: usize,
    pub first: Option<String>,
    pub last: Option<String>,
    /// Whether the lines span the requested period (when one was given).
    pub covers_period: Option<bool>,
    /// Columns the header lacks.
    pub missing_columns: Vec<String>,
    /// The first problems, as (line, locale key).
    pub problems: Vec<(usize, String)>,
}

impl LogCheck {
    /// Whether nothing is wrong.
    pub fn clean(&self) -> bool {
        self.rows > 0
            && self.missing_columns.is_empty()
            && self.bad_direction + self.send_missing + self.receive_missing + self.bad_timestamps
                == 0
            && self.covers_period != Some(false)
    }
}

fn parse_time(raw: &str) -> Option<NaiveDateTime> {
    let s = raw.trim();
    for f in [
        "%Y-%m-%d %H:%M:%S",
        "%Y/%m/%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y%m%d%H%M%S",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t);
        }
    }
    None
}

enum Direction {
    Send,
    Receive,
}

fn direction(raw: &str) -> Option<Direction> {
    match raw.trim().to_lowercase().as_str() {
        "送信" | "send" | "s" | "out" => Some(Direction::Send),
        "受信" | "receive" | "r" | "in" => Some(Direction::Receive),
        _ => None,
    }
}

/// Checks rows (header first, each with its line number) against Table 7-4-2 and the
/// period, one row at a time.
pub fn check(
    rows: impl IntoIterator<Item = (usize, Vec<String>)>,
    period: Option<(NaiveDate, NaiveDate)>,
) -> LogCheck {
    let mut out = LogCheck::default();
    let mut rows = rows.into_iter();
    let Some((_, header)) = rows.next() else {
        out.problems.push((1, "gwlog.problem.empty".into()));
        return out;
    };
    let find = |names: &[&str]| {
        header.iter().position(|h| {
            let h = h.trim().trim_start_matches('\u{feff}').to_lowercase();
            names.iter().any(|n| h == n.to_lowercase())
        })
    };
    let idx: Vec<Option<usize>> = COLUMNS.iter().map(|(_, names)| find(names)).collect();
    for ((key, _), i) in COLUMNS.iter().zip(&idx) {
        if i.is_none() {
            out.missing_columns.push(key.to_string());
        }
    }
    if !out.missing_columns.is_empty() {
        out.problems.push((1, "gwlog.problem.columns".into()));
        return out;
    }
    let cell = |row: &Vec<String>, c: usize| -> String {
        idx[c]
            .and_then(|i| row.get(i))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let (mut first, mut last): (Option<NaiveDateTime>, Option<NaiveDateTime>) = (None, None);
    for (line, row) in rows {
        if row.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let row = &row;
        out.rows += 1;
        let note = |out: &mut LogCheck, key: &str| {
            if out.problems.len() < 20 {
                out.problems.push((line, key.to_string()));
            }
        };
        let filled = |c: usize| !cell(row, c).is_empty();
        match direction(&cell(row, 0)) {
            Some(Direction::Send) => {
                out.sent += 1;
                if !(filled(1) && filled(2) && filled(3)) {
                    out.send_missing += 1;
                    note(&mut out, "gwlog.problem.send_missing");
                }
            }
            Some(Direction::Receive) => {
                out.received += 1;
                if !(filled(1) && filled(3)) {
                    out.receive_missing += 1;
                    note(&mut out, "gwlog.problem.receive_missing");
                }
            }
            None => {
                out.bad_direction += 1;
                note(&mut out, "gwlog.problem.direction");
            }
        }
        match parse_time(&cell(row, 4)) {
            Some(t) => {
                first = Some(first.map_or(t, |f| f.min(t)));
                last = Some(last.map_or(t, |l| l.max(t)));
            }
            None => {
                out.bad_timestamps += 1;
                note(&mut out, "gwlog.problem.timestamp");
            }
        }
    }
    if out.rows == 0 {
        out.problems.push((1, "gwlog.problem.empty".into()));
    }
    out.first = first.map(|t| t.to_string());
    out.last = last.map(|t| t.to_string());
    if let Some((from, to)) = period {
        out.covers_period = Some(match (first, last) {
            (Some(f), Some(l)) => f.date() <= from && l.date() >= to,
            _ => false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Vec<(usize, Vec<String>)> {
        crate::domain::csv::Records::new(text).collect()
    }

    #[test]
    fn a_complete_log_covering_the_period_is_clean() {
        let t = table(
            "送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n送信,ABC12,001,IDA,2026-10-01 09:00:00\n受信,ABC12,,IDA,2026/10/31 17:30:05\n",
        );
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let c = check(t.clone(), Some((d("2026-10-01"), d("2026-10-31"))));
        assert!(c.clean(), "{c:?}");
        assert_eq!((c.rows, c.sent, c.received), (3 - 1, 1, 1));
        let c = check(t.clone(), Some((d("2026-09-01"), d("2026-10-31"))));
        assert_eq!(c.covers_period, Some(false));
    }

    #[test]
    fn records_keep_their_line_numbers_across_blank_lines_and_quoted_breaks() {
        let rows = table("a,b\n\n\"x\ny\",2\r\n\n3,4");
        assert_eq!(
            rows,
            vec![
                (1, vec!["a".to_string(), "b".to_string()]),
                (3, vec!["x\ny".to_string(), "2".to_string()]),
                (6, vec!["3".to_string(), "4".to_string()]),
            ]
        );
    }

    #[test]
    fn missing_fields_bad_times_and_columns_are_named() {
        let t = table(
            "direction,user_code,id_number,business_code,timestamp\nsend,ABC12,,IDA,2026-10-01 09:00:00\nreceive,ABC12,,IDA,yesterday\nx,ABC12,001,IDA,20261001090000\n",
        );
        let c = check(t.clone(), None);
        assert_eq!(
            c.send_missing, 1,
            "a send line needs the identification number"
        );
        assert_eq!(c.receive_missing, 0, "a receive line does not");
        assert_eq!(c.bad_timestamps, 1);
        assert_eq!(c.bad_direction, 1);
        assert!(!c.clean());
        assert_eq!(
            c.problems.iter().map(|p| p.0).collect::<Vec<_>>(),
            vec![2, 3, 4],
            "problems name the file's own line numbers"
        );
        let c = check(
            table("user_code,timestamp\nABC12,2026-10-01 09:00:00\n"),
            None,
        );
        assert_eq!(
            c.missing_columns,
            vec!["direction", "id_number", "business_code"]
        );
    }
}
