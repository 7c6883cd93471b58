//! Item 6 — checks a gateway send/receive log against Table 7-4-2 (送受信ログ) while it is
//! uploaded: per direction the required fields (send: 利用者コード, 識別番号, 業務コード,
//! 年月日時分秒; receive: the same without 識別番号), times that parse, the lines per day and
//! who appears in it. The result is kept; coverage of a requested period is worked out from
//! it when a page is shown.

pub mod fields;
mod keys;
pub mod mapping;
pub mod scan;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

pub use mapping::{ColumnMap, MapInput, SiteColumns};
pub use scan::{Record, Refused, Scanner, Visit};

/// Where a line is: (file inside a zip, 0 otherwise; line number in that file).
pub type At = (u32, u64);

/// How many lines have one problem, and where the first of them are.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Count {
    pub n: u64,
    pub at: Vec<At>,
}

/// How many lines name each value of a column, the most frequent first.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct Top {
    /// Different values seen (at least this many when `more` is set).
    pub distinct: u64,
    /// Whether there were more values than the check keeps count of.
    pub more: bool,
    pub top: Vec<(String, u64)>,
}

/// What the check found in one log file (kept as JSON, one row per file).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct LogCheck {
    /// Lines with a record (the header and blank lines are not counted).
    pub lines: u64,
    pub sent: u64,
    pub received: u64,
    /// Lines whose direction is neither send nor receive.
    pub bad_direction: Count,
    /// Send lines missing a required field.
    pub send_missing: Count,
    /// Receive lines missing a required field.
    pub receive_missing: Count,
    /// Of the send and the receive lines missing a field: how many lack each one, in the
    /// order of [`LACKING`] (a line lacking two counts under both; zeros in a check kept
    /// before they were counted).
    pub send_lacking: [u64; 4],
    pub receive_lacking: [u64; 4],
    /// Lines whose time cannot be read.
    pub bad_time: Count,
    /// The earliest and the latest time, JST.
    pub first: Option<String>,
    pub last: Option<String>,
    /// Lines per day (JST): [send, receive].
    pub days: BTreeMap<NaiveDate, [u64; 2]>,
    /// The hours of each day (JST) with a line, as bits (bit 0: 00:00–00:59). Empty in a
    /// check kept before hours were counted.
    pub hours: BTreeMap<NaiveDate, u32>,
    /// Per 利用者コード and per 識別番号.
    pub users: Top,
    pub ids: Top,
    /// `comma`, `tab`, `semicolon`, `bar` or `spaces`.
    pub delimiter: String,
    /// `utf8` or `sjis`.
    pub encoding: String,
    /// `gzip`, `zip` or none.
    pub compression: Option<String>,
    /// The files inside a zip, in order (`At.0` counts from 1 into this list).
    pub files: Vec<String>,
    /// Columns in the first line.
    pub columns: u32,
    /// The fields whose column could not be told (by the header's names, or the site's
    /// mapping names a column the log has not): the log is not read until it is mapped.
    pub unmapped: Vec<String>,
    /// The site's mapping did not fit the log's first line (`unmapped` says where: its
    /// fields, or `header`): the log waits to be mapped again.
    pub misfit: bool,
    /// The first lines of the (first) file, for the mapping form.
    pub preview: Vec<String>,
    /// The gateway site's mapping the log was read with (`None`: the header's names).
    pub mapping: Option<ColumnMap>,
    /// The names of the header that mapping was made on (heading keys), kept with the check
    /// so that the log is searched with its columns found as the check found them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mapped_names: Vec<String>,
    /// The header named the mapped columns in another order: they were read where the names
    /// are now.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub moved: bool,
}

/// How a log meets the period the Center asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coverage {
    /// Whether the lines reach from the first day of the period to its last.
    pub covers: bool,
    /// Runs of days inside the period without a line, (first, last).
    pub gaps: Vec<(NaiveDate, NaiveDate)>,
    pub gap_days: u64,
    /// The days of `gaps` when many offices are closed (weekends, national holidays, the
    /// year-end break: [`crate::domain::holidays`]), and the runs of the others.
    pub off_gap_days: u64,
    pub work_gaps: Vec<(NaiveDate, NaiveDate)>,
    /// Every day of the period with its lines, [send, receive].
    pub days: Vec<(NaiveDate, [u64; 2])>,
    /// The gateway's usual hours, as bits: those with lines on at least three quarters of the
    /// period's days with lines (none when fewer than three days have lines).
    pub usual: u32,
    /// Quiet hours: on a day with lines, runs of at least two usual hours (from, to: 0–24)
    /// without a line, or one hour of the working day ([`DAYTIME`]) between hours with lines
    /// that every other day with lines has lines in.
    pub quiet: Vec<(NaiveDate, u8, u8)>,
}

/// The hours (JST) of the working day: one of them alone without a line, when every other day
/// has lines in it, is flagged as quiet (see [`Coverage::quiet`]).
const DAYTIME: std::ops::Range<u8> = 8..20;

/// Whether the gateway may rest on the days off among `days` (weekends, national holidays, the
/// year-end break): not when it has lines on most of them (two at least), as a gateway that
/// runs every day does — then a day off without a line is a gap like any other.
pub fn rests_on_off_days(days: &[(NaiveDate, [u64; 2])]) -> bool {
    let off: Vec<&[u64; 2]> = days
        .iter()
        .filter(|(d, _)| crate::domain::holidays::is_off_day(*d))
        .map(|(_, n)| n)
        .collect();
    let active = off.iter().filter(|n| ***n != [0, 0]).count();
    !(active >= 2 && active * 2 > off.len())
}

/// Whether a day without a line is one the gateway may rest (see [`rests_on_off_days`]).
pub fn may_rest(day: NaiveDate, rests: bool) -> bool {
    rests && crate::domain::holidays::is_off_day(day)
}

/// The required fields of Table 7-4-2 as [`LogCheck::send_lacking`] counts them (the words of
/// `report.log_column`).
pub const LACKING: [&str; 4] = ["user_code", "id_number", "business_code", "timestamp"];

/// The fields lines lack, with how many lack each (none for a check kept before they were
/// counted).
pub fn lacking(counts: &[u64; 4]) -> Vec<(&'static str, u64)> {
    LACKING
        .into_iter()
        .zip(counts.iter().copied())
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// What tells one log's records from another's: its lines, sent and received, and its first and
/// last times.
pub type Records<'a> = (u64, u64, u64, Option<&'a str>, Option<&'a str>);

/// The logs that hold the same records as one before them, as (earlier, later) positions: the
/// same content (`sha256`, when known), or, when one is a copy in another shape (compressed,
/// another delimiter or encoding), the same [`Records`] with at least one line. Each later
/// log is named once.
pub fn same_records(logs: &[(&str, Records<'_>)]) -> Vec<(usize, usize)> {
    let mut out = vec![];
    for (j, (sha, later)) in logs.iter().enumerate() {
        let found = logs[..j].iter().position(|(earlier_sha, earlier)| {
            (!sha.is_empty() && earlier_sha == sha) || (later.0 > 0 && earlier == later)
        });
        if let Some(i) = found {
            out.push((i, j));
        }
    }
    out
}

impl LogCheck {
    /// Its [`Records`].
    pub fn records(&self) -> Records<'_> {
        (
            self.lines,
            self.sent,
            self.received,
            self.first.as_deref(),
            self.last.as_deref(),
        )
    }

    /// Lines with any problem the reviewer should see.
    pub fn problems(&self) -> u64 {
        self.bad_direction.n + self.send_missing.n + self.receive_missing.n + self.bad_time.n
    }

    /// Measures the log against a period (both days included).
    pub fn against(&self, from: NaiveDate, to: NaiveDate) -> Coverage {
        let mut days = vec![];
        let mut gaps: Vec<(NaiveDate, NaiveDate)> = vec![];
        let mut work_gaps: Vec<(NaiveDate, NaiveDate)> = vec![];
        let mut gap_days = 0;
        let mut off_gap_days = 0;
        let join = |runs: &mut Vec<(NaiveDate, NaiveDate)>, d: NaiveDate| match runs.last_mut() {
            Some((_, end)) if end.succ_opt() == Some(d) => *end = d,
            _ => runs.push((d, d)),
        };
        for d in from.iter_days().take_while(|d| *d <= to).take(3700) {
            days.push((d, self.days.get(&d).copied().unwrap_or_default()));
        }
        let rests = rests_on_off_days(&days);
        for (d, n) in &days {
            if *n == [0, 0] {
                gap_days += 1;
                join(&mut gaps, *d);
                if rests && crate::domain::holidays::is_off_day(*d) {
                    off_gap_days += 1;
                } else {
                    join(&mut work_gaps, *d);
                }
            }
        }
        let first = self.days.keys().next();
        let last = self.days.keys().next_back();
        // The period's first and last working days: a log that ends on a Friday covers a
        // period ending on the Saturday after.
        let work = |d: &&(NaiveDate, [u64; 2])| !crate::domain::holidays::is_off_day(d.0);
        let from = days.iter().find(work).map_or(from, |d| d.0);
        let to = days.iter().rev().find(work).map_or(to, |d| d.0);
        let usual = self.usual(&days);
        Coverage {
            covers: first.is_some_and(|f| *f <= from) && last.is_some_and(|l| *l >= to),
            usual,
            gaps,
            gap_days,
            off_gap_days,
            work_gaps,
            quiet: self.quiet(&days, usual),
            days,
        }
    }

    /// The days of `days` with lines, with the hours that have lines.
    fn active(&self, days: &[(NaiveDate, [u64; 2])]) -> Vec<(NaiveDate, u32)> {
        days.iter()
            .filter_map(|(d, _)| self.hours.get(d).map(|h| (*d, *h)))
            .filter(|(_, h)| *h != 0)
            .collect()
    }

    /// The gateway's usual hours over `days` (see [`Coverage::usual`]).
    fn usual(&self, days: &[(NaiveDate, [u64; 2])]) -> u32 {
        let active = self.active(days);
        if active.len() < 3 {
            return 0;
        }
        (0..24).fold(0u32, |mask, h| {
            let with = active.iter().filter(|(_, m)| m & (1 << h) != 0).count();
            if with * 4 >= active.len() * 3 {
                mask | 1 << h
            } else {
                mask
            }
        })
    }

    /// The quiet hours of the period's `days` (see [`Coverage::quiet`]).
    fn quiet(&self, days: &[(NaiveDate, [u64; 2])], usual: u32) -> Vec<(NaiveDate, u8, u8)> {
        let active = self.active(days);
        // How many of the days with lines have lines in each hour.
        let mut with = [0usize; 24];
        for (_, m) in &active {
            for (h, n) in with.iter_mut().enumerate() {
                *n += usize::from(m & (1 << h) != 0);
            }
        }
        let mut out = vec![];
        for &(d, m) in &active {
            let missing = usual & !m;
            let mut h = 0u8;
            while h < 24 {
                if missing & (1 << h) == 0 {
                    h += 1;
                    continue;
                }
                let start = h;
                while h < 24 && missing & (1 << h) != 0 {
                    h += 1;
                }
                // One quiet hour is what a light day looks like; two in a row are worth a
                // look, and so is one of the working day that every other day has lines in,
                // between hours with lines (a gap of an afternoon that spans one whole clock
                // hour; a night's sparse hours are not judged so).
                let single = h - start == 1
                    && DAYTIME.contains(&start)
                    && with[usize::from(start)] + 1 == active.len()
                    && start > 0
                    && h < 24
                    && m & (1 << (start - 1)) != 0
                    && m & (1 << h) != 0;
                if h - start >= 2 || single {
                    out.push((d, start, h));
                }
            }
        }
        out
    }

    /// The logs of one report taken as one, for what they cover together (a gateway that
    /// writes a file a day): lines and lines per day added up, hours joined, the earliest
    /// first and the latest last. Problems and counts per value stay with each file.
    pub fn joined<'a>(checks: impl IntoIterator<Item = &'a LogCheck>) -> LogCheck {
        let mut out = LogCheck::default();
        for c in checks {
            out.lines += c.lines;
            out.sent += c.sent;
            out.received += c.received;
            for (d, n) in &c.days {
                let e = out.days.entry(*d).or_default();
                e[0] += n[0];
                e[1] += n[1];
            }
            for (d, h) in &c.hours {
                *out.hours.entry(*d).or_default() |= h;
            }
            // "YYYY-MM-DD hh:mm:ss" sorts as it reads.
            out.first = match (out.first.take(), &c.first) {
                (Some(a), Some(b)) => Some(a.min(b.clone())),
                (a, b) => a.or(b.clone()),
            };
            out.last = match (out.last.take(), &c.last) {
                (Some(a), Some(b)) => Some(a.max(b.clone())),
                (a, b) => a.or(b.clone()),
            };
        }
        out
    }

    /// The site's mapping the log was read with, and the names of the header it was made on:
    /// how to read the log again as the check read it.
    pub fn site_columns(&self) -> Option<SiteColumns> {
        self.mapping.map(|map| SiteColumns {
            map,
            names: self.mapped_names.clone(),
        })
    }

    /// How many columns the mapping may choose from: the widest of the first lines (a title
    /// above the header may have fewer).
    pub fn width(&self) -> usize {
        mapping::preview_cells(&self.preview, &self.delimiter)
            .iter()
            .map(Vec::len)
            .max()
            .unwrap_or(0)
            .max(self.columns as usize)
    }

    /// Whether the log waits for its columns to be mapped.
    pub fn needs_mapping(&self) -> bool {
        !self.unmapped.is_empty()
    }

    /// Whether nothing is wrong (within the period, when one is given).
    pub fn clean(&self, period: Option<(NaiveDate, NaiveDate)>) -> bool {
        self.lines > 0
            && !self.needs_mapping()
            && self.problems() == 0
            && period.is_none_or(|(f, t)| self.against(f, t).met())
    }
}

impl Coverage {
    /// Days of the period without a line that are working days: what needs explaining.
    pub fn work_gap_days(&self) -> u64 {
        self.gap_days - self.off_gap_days
    }

    /// Whether the period is met: covered, and no working day without a line.
    pub fn met(&self) -> bool {
        self.covers && self.work_gap_days() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> LogCheck {
        let mut s = Scanner::new();
        s.feed(text.as_bytes()).unwrap();
        s.finish().unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_gateway_that_runs_on_weekends_has_its_quiet_weekend_days_as_gaps() {
        // Lines every day of 2026-11-01..14 but Sunday 11-08 and Saturday 11-14: of the five
        // days off (Sundays 11-01 and 11-08, 文化の日 11-03, Saturdays 11-07 and 11-14) three
        // have lines, so this gateway runs on days off and the two quiet ones are gaps.
        let mut text = String::from("送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n");
        for day in 1..=14 {
            if day == 8 || day == 14 {
                continue;
            }
            text.push_str(&format!("送信,ABC12,001,IDA,2026-11-{day:02} 09:00:00\n"));
        }
        let cov = check(&text).against(d("2026-11-01"), d("2026-11-14"));
        assert_eq!((cov.gap_days, cov.off_gap_days), (2, 0), "{cov:?}");
        assert_eq!(
            cov.work_gaps,
            vec![
                (d("2026-11-08"), d("2026-11-08")),
                (d("2026-11-14"), d("2026-11-14"))
            ]
        );
        // A gateway quiet on most days off rests on them as before.
        let weekdays: String = text
            .lines()
            .filter(|l| !l.contains("11-01 ") && !l.contains("11-03 ") && !l.contains("11-07 "))
            .map(|l| format!("{l}\n"))
            .collect();
        let cov = check(&weekdays).against(d("2026-11-01"), d("2026-11-14"));
        assert_eq!((cov.gap_days, cov.off_gap_days), (5, 5), "{cov:?}");
    }

    #[test]
    fn a_complete_log_covering_the_period_is_clean() {
        let c = check(
            "送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n送信,ABC12,001,IDA,2026-10-01 09:00:00\n受信,ABC12,,IDA,2026/10/02 17:30:05\n",
        );
        assert!(c.clean(Some((d("2026-10-01"), d("2026-10-02")))), "{c:?}");
        assert_eq!((c.lines, c.sent, c.received), (2, 1, 1));
        assert_eq!(c.first.as_deref(), Some("2026-10-01 09:00:00"));
        assert_eq!(c.last.as_deref(), Some("2026-10-02 17:30:05"));
        let cov = c.against(d("2026-09-29"), d("2026-10-05"));
        assert!(!cov.covers);
        assert_eq!(
            cov.gaps,
            vec![
                (d("2026-09-29"), d("2026-09-30")),
                (d("2026-10-03"), d("2026-10-05"))
            ]
        );
        assert_eq!(cov.gap_days, 5);
        assert_eq!(cov.days.len(), 7);
        // The Saturday and Sunday need no explaining; the weekdays do.
        assert_eq!(cov.off_gap_days, 2);
        assert_eq!(
            cov.work_gaps,
            vec![
                (d("2026-09-29"), d("2026-09-30")),
                (d("2026-10-05"), d("2026-10-05"))
            ]
        );
        // A log of weekdays only covers a period with a weekend and is clean.
        let weekdays = check(
            "送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n送信,ABC12,001,IDA,2026-10-02 09:00:00\n送信,ABC12,001,IDA,2026-10-05 09:00:00\n",
        );
        let cov = weekdays.against(d("2026-10-02"), d("2026-10-05"));
        assert_eq!((cov.gap_days, cov.work_gap_days()), (2, 0));
        assert!(weekdays.clean(Some((d("2026-10-02"), d("2026-10-05")))));
        // A period that ends on a weekend is covered by a log that ends on the Friday before,
        // and one that starts on a weekend by a log from the Monday after.
        assert!(weekdays.against(d("2026-10-02"), d("2026-10-04")).covers);
        assert!(weekdays.against(d("2026-10-03"), d("2026-10-05")).covers);
        assert!(!weekdays.against(d("2026-10-01"), d("2026-10-05")).covers);
        assert!(!weekdays.against(d("2026-10-02"), d("2026-10-06")).covers);
    }

    #[test]
    fn hours_without_a_line_when_the_gateway_usually_has_some_are_quiet() {
        let mut log = String::from("送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n");
        for day in 1..=5 {
            for hour in 8..18 {
                // The 5th: nothing from 10:00 to 13:59; the 3rd also at 20:00 (not usual).
                if day == 5 && (10..14).contains(&hour) {
                    continue;
                }
                log.push_str(&format!(
                    "送信,ABC12,001,IDA,2026-10-0{day} {hour:02}:15:00\n"
                ));
            }
        }
        log.push_str("送信,ABC12,001,IDA,2026-10-03 20:00:00\n");
        let c = check(&log);
        assert_eq!(c.hours[&d("2026-10-01")], 0b11_1111_1111 << 8);
        let cov = c.against(d("2026-10-01"), d("2026-10-06"));
        assert_eq!(cov.quiet, vec![(d("2026-10-05"), 10, 14)]);
        assert_eq!(cov.gaps, vec![(d("2026-10-06"), d("2026-10-06"))]);
        // Two days are too few to tell what is usual.
        assert!(c.against(d("2026-10-04"), d("2026-10-05")).quiet.is_empty());
        // One hour alone: quiet when every other day has lines in it and the hours around it
        // have lines (an afternoon's gap from 13:30 to 15:20 on the 2nd)…
        let mut log = String::from("送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n");
        for day in 1..=5 {
            for hour in 8..18 {
                let minutes: &[u32] = match (day, hour) {
                    (2, 13) => &[0, 20],
                    (2, 14) => &[],
                    (2, 15) => &[25, 50],
                    // …but not when another day also lacks it (a light hour), nor at the
                    // day's edge.
                    (3 | 4, 12) => &[],
                    (1, 17) => &[],
                    _ => &[5, 35],
                };
                for m in minutes {
                    log.push_str(&format!(
                        "送信,ABC12,001,IDA,2026-10-0{day} {hour:02}:{m:02}:00\n"
                    ));
                }
            }
        }
        let cov = check(&log).against(d("2026-10-01"), d("2026-10-05"));
        assert_eq!(cov.quiet, vec![(d("2026-10-02"), 14, 15)]);
        // Counted on two threads, the hours are joined.
        let part = |rows: &str| {
            let mut s = Scanner::new();
            s.feed(
                format!("送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n{rows}")
                    .as_bytes(),
            )
            .unwrap();
            s
        };
        let mut a = part("送信,A,1,IDA,2026-10-01 08:00:00\n");
        a.absorb(part("送信,A,1,IDA,2026-10-01 23:59:59\n"));
        assert_eq!(
            a.finish().unwrap().hours[&d("2026-10-01")],
            1 << 8 | 1 << 23
        );
    }

    #[test]
    fn daily_files_cover_a_period_together() {
        // Monday to Thursday.
        let head = "送受信区分,利用者コード,識別番号,業務コード,年月日時分秒\n";
        let a = check(&format!(
            "{head}送信,A,1,IDA,2026-10-05 09:00:00\n送信,A,1,IDA,2026-10-06 09:00:00\n"
        ));
        let b = check(&format!(
            "{head}受信,A,,IDA,2026-10-06 10:00:00\n送信,A,1,IDA,2026-10-08 09:00:00\n"
        ));
        let (from, to) = (d("2026-10-05"), d("2026-10-08"));
        assert!(!a.against(from, to).covers && !b.against(from, to).covers);
        let both = LogCheck::joined([&a, &b]);
        let cov = both.against(from, to);
        assert!(cov.covers, "{cov:?}");
        assert_eq!(cov.gaps, vec![(d("2026-10-07"), d("2026-10-07"))]);
        assert_eq!(both.days[&d("2026-10-06")], [1, 1]);
        assert_eq!(both.hours[&d("2026-10-06")], 1 << 9 | 1 << 10);
        assert_eq!(
            (both.lines, both.first.as_deref(), both.last.as_deref()),
            (4, Some("2026-10-05 09:00:00"), Some("2026-10-08 09:00:00"))
        );
    }

    #[test]
    fn missing_fields_bad_times_and_directions_are_counted_with_their_lines() {
        let c = check(
            "direction\tuser_code\tid_number\tbusiness_code\ttimestamp\nsend\tABC12\t\tIDA\t2026-10-01 09:00:00\nreceive\tABC12\t\tIDA\tyesterday\nx\tABC12\t001\tIDA\t20261001090000\nreceive\t\t\tIDA\t20261001090000\n",
        );
        assert_eq!(
            c.send_missing,
            Count {
                n: 1,
                at: vec![(0, 2)]
            }
        );
        assert_eq!(
            c.receive_missing,
            Count {
                n: 1,
                at: vec![(0, 5)]
            }
        );
        // Which field each lacked.
        assert_eq!(
            (c.send_lacking, c.receive_lacking),
            ([0, 1, 0, 0], [1, 0, 0, 0])
        );
        assert_eq!(lacking(&c.send_lacking), vec![("id_number", 1)]);
        assert_eq!(
            c.bad_time,
            Count {
                n: 1,
                at: vec![(0, 3)]
            }
        );
        assert_eq!(
            c.bad_direction,
            Count {
                n: 1,
                at: vec![(0, 4)]
            }
        );
        assert_eq!(c.delimiter, "tab");
        assert!(!c.clean(None));
    }

    #[test]
    fn users_and_identification_numbers_are_counted_most_first() {
        let c = check(
            "利用者コード 識別番号 業務コード 年月日時分秒 送受信区分\nAAAAA 001 IDA 2026-10-01 09:00:00 送信\nBBBBB 002 IDA 2026-10-01 09:00:01 送信\nBBBBB 002 IDA 2026-10-01 09:00:02 送信\nBBBBB IDA 2026-10-01 09:00:03 受信\n",
        );
        assert_eq!(c.delimiter, "spaces");
        assert_eq!(
            c.users.top,
            vec![("BBBBB".to_string(), 3), ("AAAAA".to_string(), 1)]
        );
        assert_eq!(
            c.ids.top,
            vec![("002".to_string(), 2), ("001".to_string(), 1)]
        );
        assert_eq!(
            c.receive_missing.n, 0,
            "an aligned receive line may leave 識別番号 out"
        );
        assert_eq!(c.problems(), 0, "{c:?}");
    }
}
