//! Retention (保存期間): how long each type of record is kept, and the clock purges read.

use chrono::{DateTime, Months, Utc};

/// The types of record with a retention period of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    /// Submitted reports and their files (except gateway logs).
    Submissions,
    /// Gateway send/receive logs (履歴（ログ）) submitted on the Center's request.
    GatewayLogs,
    /// Audit trail entries.
    Audit,
}

impl RecordType {
    /// Every type, in the order pages show them.
    pub const ALL: [RecordType; 3] = [
        RecordType::Submissions,
        RecordType::GatewayLogs,
        RecordType::Audit,
    ];

    /// The name stored and used in forms.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::Submissions => "submissions",
            RecordType::GatewayLogs => "gateway_logs",
            RecordType::Audit => "audit",
        }
    }

    /// The type of a stored name.
    pub fn parse(s: &str) -> Option<RecordType> {
        RecordType::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The locale key of its name.
    pub fn label_key(self) -> &'static str {
        match self {
            RecordType::Submissions => "retention.type.submissions",
            RecordType::GatewayLogs => "retention.type.gateway_logs",
            RecordType::Audit => "retention.type.audit",
        }
    }
}

/// The shortest period: one year (the seed keeps gateway logs one year).
pub const MIN_MONTHS: u32 = 12;
/// The longest period accepted (a typo guard).
pub const MAX_MONTHS: u32 = 1200;

/// A retention period in whole months, at least a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period(u32);

impl Period {
    /// Reads a number of months from a form; the error is a locale key.
    pub fn parse(raw: &str) -> Result<Period, &'static str> {
        use unicode_normalization::UnicodeNormalization;
        // Full-width digits (６０) as people type them; "か月" after the number too.
        let typed: String = raw.nfkc().collect();
        let typed = typed
            .trim()
            .trim_end_matches(['か', 'ヶ', 'ケ', 'ヵ', 'カ', '月'])
            .trim();
        if typed.is_empty() {
            return Err("error.required");
        }
        let n: i64 = typed.parse().map_err(|_| "error.retention_not_a_number")?;
        if n < i64::from(MIN_MONTHS) {
            Err("error.retention_below_one_year")
        } else if n > i64::from(MAX_MONTHS) {
            Err("error.retention_too_long")
        } else {
            Ok(Period(n as u32))
        }
    }

    /// A period as stored (the database also refuses less than a year).
    pub fn from_stored(months: i64) -> Period {
        Period(months.clamp(i64::from(MIN_MONTHS), i64::from(MAX_MONTHS)) as u32)
    }

    pub fn months(self) -> u32 {
        self.0
    }

    /// Records made before this moment are past retention at `now` (calendar months, so a
    /// year is a year in leap years too).
    pub fn cutoff(self, now: DateTime<Utc>) -> DateTime<Utc> {
        now.checked_sub_months(Months::new(self.0))
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

/// The longest reason for setting or lifting a hold.
pub const MAX_REASON: usize = 1000;

/// Checks the reason given for setting or lifting a legal hold: required, at most
/// [`MAX_REASON`] characters, no invisible or direction-changing characters (line breaks and
/// tabs are fine); the error is a locale key.
pub fn parse_reason(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim();
    if s.is_empty() {
        Err("error.hold_reason_required")
    } else if s.chars().count() > MAX_REASON
        || s.chars()
            .any(|c| !matches!(c, '\n' | '\r' | '\t') && super::text::is_invisible(c))
    {
        Err("error.hold_reason_invalid")
    } else {
        Ok(s.to_string())
    }
}

/// Where a purge reads "now": the system clock when serving, a fixed moment in tests.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock (to the microsecond, as stored).
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        chrono::SubsecRound::trunc_subsecs(Utc::now(), 6)
    }
}

/// A clock that always reads the same moment.
pub struct FixedClock(pub DateTime<Utc>);

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn less_than_a_year_is_refused_and_a_year_is_accepted() {
        assert_eq!(Period::parse("11"), Err("error.retention_below_one_year"));
        assert_eq!(Period::parse("0"), Err("error.retention_below_one_year"));
        assert_eq!(Period::parse("-12"), Err("error.retention_below_one_year"));
        assert_eq!(Period::parse("1年"), Err("error.retention_not_a_number"));
        assert_eq!(Period::parse(""), Err("error.required"));
        assert_eq!(Period::parse(" ６０ "), Ok(Period(60)));
        assert_eq!(Period::parse("24か月"), Ok(Period(24)));
        assert_eq!(Period::parse("1201"), Err("error.retention_too_long"));
        assert_eq!(Period::parse(" 12 ").map(Period::months), Ok(12));
    }

    #[test]
    fn a_hold_reason_is_required_and_plain() {
        assert_eq!(parse_reason("  "), Err("error.hold_reason_required"));
        assert_eq!(parse_reason("a\u{202e}b"), Err("error.hold_reason_invalid"));
        assert_eq!(
            parse_reason(&"x".repeat(MAX_REASON + 1)),
            Err("error.hold_reason_invalid")
        );
        assert_eq!(
            parse_reason(" 訴訟対応\n（2026年）"),
            Ok("訴訟対応\n（2026年）".to_string())
        );
    }

    #[test]
    fn a_year_back_from_a_leap_day_is_the_last_day_of_february() {
        let now = Utc.with_ymd_and_hms(2028, 2, 29, 3, 0, 0).unwrap();
        assert_eq!(
            Period::parse("12").unwrap().cutoff(now),
            Utc.with_ymd_and_hms(2027, 2, 28, 3, 0, 0).unwrap()
        );
    }
}
