//! Days many offices are closed: Saturdays, Sundays, Japan's national holidays (国民の祝日,
//! their substitute days and the "citizens' holiday" between two of them) and the year-end
//! break of public offices (12月29日〜1月3日). A gateway log without a line on such a day
//! is usual; one without a line on a working day is not.

use chrono::{Datelike, NaiveDate, Weekday};

/// Whether `d` is a Saturday, a Sunday, a national holiday or in the year-end break.
pub fn is_off_day(d: NaiveDate) -> bool {
    matches!(d.weekday(), Weekday::Sat | Weekday::Sun) || year_end(d) || is_national_holiday(d)
}

fn year_end(d: NaiveDate) -> bool {
    (d.month() == 12 && d.day() >= 29) || (d.month() == 1 && d.day() <= 3)
}

/// Whether `d` is a national holiday, a substitute holiday (振替休日) or a citizens'
/// holiday (国民の休日), under the law as it has stood since 2000 (2019's enthronement days
/// and 2020–2021's moved days included).
pub fn is_national_holiday(d: NaiveDate) -> bool {
    if named(d) {
        return true;
    }
    // 振替休日: the first day after a holiday on a Sunday that is not a holiday itself.
    let mut back = d;
    while let Some(p) = back.pred_opt() {
        if !named(p) {
            break;
        }
        if p.weekday() == Weekday::Sun {
            return true;
        }
        back = p;
    }
    // 国民の休日: a weekday between two holidays.
    d.weekday() != Weekday::Sun
        && d.pred_opt().is_some_and(named)
        && d.succ_opt().is_some_and(named)
}

/// The holidays the law names (before substitutes).
fn named(d: NaiveDate) -> bool {
    let (y, m, day) = (d.year(), d.month(), d.day());
    let monday = |n: u32| d.weekday() == Weekday::Mon && (day - 1) / 7 + 1 == n;
    match (y, m, day) {
        (2019, 4, 30) | (2019, 5, 1) | (2019, 5, 2) | (2019, 10, 22) => return true,
        (2020, 7, 23) | (2020, 7, 24) | (2020, 8, 10) => return true,
        (2021, 7, 22) | (2021, 7, 23) | (2021, 8, 8) => return true,
        _ => {}
    }
    let moved = y == 2020 || y == 2021;
    match m {
        1 => day == 1 || monday(2),
        2 => day == 11 || (day == 23 && y >= 2020),
        3 => day == equinox(y, 20.8431),
        4 => day == 29,
        5 => (3..=5).contains(&day),
        7 => !moved && monday(3),
        8 => !moved && day == 11 && y >= 2016,
        9 => monday(3) || day == equinox(y, 23.2488),
        10 => !moved && monday(2),
        11 => day == 3 || day == 23,
        12 => day == 23 && (1989..=2018).contains(&y),
        _ => false,
    }
}

/// The day of the vernal (`base` 20.8431) or autumnal (23.2488) equinox, by the formula the
/// National Astronomical Observatory's announced days follow from 1980 to 2099.
fn equinox(y: i32, base: f64) -> u32 {
    let n = f64::from(y - 1980);
    (base + 0.242_194 * n - (n / 4.0).floor()).floor() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn the_holidays_of_2026_as_the_cabinet_office_lists_them() {
        let listed = [
            "2026-01-01",
            "2026-01-12",
            "2026-02-11",
            "2026-02-23",
            "2026-03-20",
            "2026-04-29",
            "2026-05-03",
            "2026-05-04",
            "2026-05-05",
            "2026-05-06", // 振替休日 (5/3 is a Sunday)
            "2026-07-20",
            "2026-08-11",
            "2026-09-21",
            "2026-09-22", // 国民の休日
            "2026-09-23",
            "2026-10-12",
            "2026-11-03",
            "2026-11-23",
        ];
        let found: Vec<String> = d("2026-01-01")
            .iter_days()
            .take_while(|x| x.year() == 2026)
            .filter(|x| is_national_holiday(*x))
            .map(|x| x.to_string())
            .collect();
        assert_eq!(found, listed);
    }

    #[test]
    fn other_years_moved_and_added_days() {
        for day in [
            "2025-02-24", // 振替休日
            "2025-03-20",
            "2025-09-23",
            "2025-11-24", // 振替休日
            "2024-08-12", // 振替休日
            "2021-07-23",
            "2021-08-09", // 振替休日
            "2019-05-01",
            "2018-12-24", // 振替休日 for the last 12/23
            "2027-03-22", // 振替休日 (3/21 is a Sunday)
        ] {
            assert!(is_national_holiday(d(day)), "{day}");
        }
        for day in ["2021-10-11", "2020-08-11", "2019-12-23", "2026-12-23"] {
            assert!(!is_national_holiday(d(day)), "{day}");
        }
    }

    #[test]
    fn weekends_and_the_year_end_break_are_off_and_a_plain_weekday_is_not() {
        assert!(is_off_day(d("2026-10-03"))); // Saturday
        assert!(is_off_day(d("2026-10-04"))); // Sunday
        assert!(is_off_day(d("2026-12-29")) && is_off_day(d("2027-01-03")));
        assert!(!is_off_day(d("2026-10-06"))); // Tuesday
        assert!(!is_off_day(d("2027-01-04")));
    }
}
