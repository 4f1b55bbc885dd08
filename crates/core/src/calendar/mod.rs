//! Working days and day-counted periods (DOMAIN.md section 10).
//!
//! Public holidays and make-up working days (调休上班) are announced each year by the General
//! Office of the State Council, so they are data ([`HolidayYear`]), not code. A year the calendar
//! does not know falls back to plain weekends: Monday to Friday work, Saturday and Sunday rest, no
//! public holidays. Callers that count deadlines into such a year can ask [`WorkCalendar::knows_year`]
//! and warn that the result may move once that year's arrangement is entered.
//!
//! Every day is a civil date in Beijing (China Standard Time, UTC+8): a period ends at 24:00
//! Beijing time, whatever the zone of the machine.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ValidationErrors;

/// The most days any count walks through, so that no input (a huge `n`, a calendar whose every
/// day is a holiday) can keep a request busy. 3660 days is ten years and a few days, longer than
/// any period Beijing's rules count in days.
pub const MAX_SCAN_DAYS: u32 = 3660;

/// At most this many public holidays in one year: the 2025 arrangement has 28, so 60 leaves room
/// for local additions while catching a pasted list of every day of the year.
const MAX_HOLIDAYS: usize = 60;
/// At most this many make-up working days in one year (2026 has 6).
const MAX_WORKDAYS: usize = 20;

/// One year's State Council holiday arrangement (国务院办公厅关于 YYYY 年部分节假日安排的通知).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HolidayYear {
    pub year: i32,
    /// Rest days that are public holidays (including the weekend days folded into a holiday block).
    pub holidays: Vec<NaiveDate>,
    /// Weekend days turned into working days (调休上班).
    pub workdays: Vec<NaiveDate>,
}

impl HolidayYear {
    /// Sorts and deduplicates both lists and checks them. Error codes per field:
    /// `year`: `out_of_range` (outside 2000–2100); `holidays`: `wrong_year`, `too_many` (> 60);
    /// `workdays`: `wrong_year`, `not_weekend` (a make-up day must replace a Saturday or Sunday),
    /// `also_holiday`, `too_many` (> 20). The first failing check of a field is reported.
    pub fn validate(mut self) -> Result<HolidayYear, ValidationErrors> {
        self.holidays.sort_unstable();
        self.holidays.dedup();
        self.workdays.sort_unstable();
        self.workdays.dedup();

        let mut errors = ValidationErrors::new();
        if !(2000..=2100).contains(&self.year) {
            errors.add("year", "out_of_range");
        }
        if self.holidays.iter().any(|d| d.year() != self.year) {
            errors.add("holidays", "wrong_year");
        }
        if self.holidays.len() > MAX_HOLIDAYS {
            errors.add("holidays", "too_many");
        }
        if self.workdays.iter().any(|d| d.year() != self.year) {
            errors.add("workdays", "wrong_year");
        }
        if self.workdays.iter().any(|d| !is_weekend(*d)) {
            errors.add("workdays", "not_weekend");
        }
        if self.workdays.iter().any(|d| self.holidays.binary_search(d).is_ok()) {
            errors.add("workdays", "also_holiday");
        }
        if self.workdays.len() > MAX_WORKDAYS {
            errors.add("workdays", "too_many");
        }
        errors.into_result().map(|()| self)
    }
}

/// The data shipped with Beacon: the State Council's 2025 and 2026 arrangements as listed in
/// DOMAIN.md section 10. An admin adds later years.
pub fn builtin_years() -> Vec<HolidayYear> {
    vec![
        HolidayYear {
            year: 2025,
            holidays: spans(
                2025,
                &[
                    ((1, 1), (1, 1)),
                    ((1, 28), (2, 4)),
                    ((4, 4), (4, 6)),
                    ((5, 1), (5, 5)),
                    ((5, 31), (6, 2)),
                    ((10, 1), (10, 8)),
                ],
            ),
            workdays: dates(2025, &[(1, 26), (2, 8), (4, 27), (9, 28), (10, 11)]),
        },
        HolidayYear {
            year: 2026,
            holidays: spans(
                2026,
                &[
                    ((1, 1), (1, 3)),
                    ((2, 15), (2, 23)),
                    ((4, 4), (4, 6)),
                    ((5, 1), (5, 5)),
                    ((6, 19), (6, 21)),
                    ((9, 25), (9, 27)),
                    ((10, 1), (10, 7)),
                ],
            ),
            workdays: dates(2026, &[(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)]),
        },
    ]
}

/// (month, day)
type MonthDay = (u32, u32);

/// Every date of the inclusive (month, day) spans. A mistyped date is dropped rather than
/// panicking; the tests pin the exact lists, so a typo cannot ship.
fn spans(year: i32, spans: &[(MonthDay, MonthDay)]) -> Vec<NaiveDate> {
    spans
        .iter()
        .filter_map(|&((m1, d1), (m2, d2))| {
            Some((NaiveDate::from_ymd_opt(year, m1, d1)?, NaiveDate::from_ymd_opt(year, m2, d2)?))
        })
        .flat_map(|(first, last)| first.iter_days().take_while(move |d| *d <= last))
        .collect()
}

fn dates(year: i32, days: &[MonthDay]) -> Vec<NaiveDate> {
    days.iter().filter_map(|&(m, d)| NaiveDate::from_ymd_opt(year, m, d)).collect()
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// One year's lists as sets, keeping only dates that belong to that year.
#[derive(Debug, Clone, Default)]
struct YearDays {
    holidays: BTreeSet<NaiveDate>,
    workdays: BTreeSet<NaiveDate>,
}

/// Which civil dates are working days, and the deadlines that follow from them.
#[derive(Debug, Clone, Default)]
pub struct WorkCalendar {
    years: BTreeMap<i32, YearDays>,
}

impl WorkCalendar {
    /// A calendar of the given years; a later entry for the same year replaces an earlier one. The
    /// lists are taken as given (run [`HolidayYear::validate`] on input from people), except that
    /// a date outside its entry's year is ignored, and a date listed both as holiday and as
    /// make-up day counts as a holiday: losing a day of someone's period is the worse mistake.
    pub fn new(years: impl IntoIterator<Item = HolidayYear>) -> Self {
        let years = years
            .into_iter()
            .map(|y| {
                let year = y.year;
                let days = YearDays {
                    holidays: y.holidays.into_iter().filter(|d| d.year() == year).collect(),
                    workdays: y.workdays.into_iter().filter(|d| d.year() == year).collect(),
                };
                (year, days)
            })
            .collect();
        Self { years }
    }

    /// The years shipped with Beacon ([`builtin_years`]).
    pub fn builtin() -> Self {
        Self::new(builtin_years())
    }

    pub fn years(&self) -> Vec<i32> {
        self.years.keys().copied().collect()
    }

    pub fn knows_year(&self, year: i32) -> bool {
        self.years.contains_key(&year)
    }

    /// The arrangement held for `year`, lists sorted.
    pub fn year(&self, year: i32) -> Option<HolidayYear> {
        self.years.get(&year).map(|days| HolidayYear {
            year,
            holidays: days.holidays.iter().copied().collect(),
            workdays: days.workdays.iter().copied().collect(),
        })
    }

    /// A listed public holiday.
    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.years.get(&date.year()).is_some_and(|y| y.holidays.contains(&date))
    }

    /// Monday to Friday unless a listed holiday, or a listed make-up working day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        match self.years.get(&date.year()) {
            Some(y) if y.holidays.contains(&date) => false,
            Some(y) if y.workdays.contains(&date) => true,
            _ => !is_weekend(date),
        }
    }

    pub fn is_rest_day(&self, date: NaiveDate) -> bool {
        !self.is_working_day(date)
    }

    /// The civil date of an instant in China Standard Time (UTC+8).
    pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
        crate::clock::local_date(at)
    }

    /// 24:00 Beijing time of `date`, that is 00:00 of the next day (16:00 UTC of `date`).
    pub fn end_of_day(date: NaiveDate) -> DateTime<Utc> {
        date.succ_opt().map_or(DateTime::<Utc>::MAX_UTC, crate::clock::local_midnight)
    }

    /// The instant at which a period of `n` working days that starts with the event at `start`
    /// ends. Counting starts the day after the event's Beijing date (民法典 Art. 201), only
    /// working days count, and the period ends at 24:00 Beijing time of the n-th working day. With
    /// `n == 0` it ends at the end of the event's own day. If the n-th working day is not reached
    /// within [`MAX_SCAN_DAYS`] days the period ends at the end of the last day looked at.
    pub fn add_working_days(&self, start: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let mut day = Self::local_date(start);
        let mut left = n;
        let mut scanned = 0;
        while left > 0 && scanned < MAX_SCAN_DAYS {
            let Some(next) = day.succ_opt() else { break };
            day = next;
            scanned += 1;
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        Self::end_of_day(day)
    }

    /// A period of `n` calendar days (民法典 Arts. 201 and 203): it starts the day after the event,
    /// its last day is day `n`, and when that day is a rest day (a weekend not made up, or a
    /// holiday) the period ends on the first working day after it; it ends at 24:00 Beijing time.
    /// With `n == 0` it ends at the end of the event's own day. `n` is capped at
    /// [`MAX_SCAN_DAYS`], and so is the search for the working day after a rest.
    pub fn add_calendar_days(&self, start: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let event = Self::local_date(start);
        if n == 0 {
            return Self::end_of_day(event);
        }
        let Some(mut last) = event.checked_add_days(Days::new(u64::from(n.min(MAX_SCAN_DAYS))))
        else {
            return DateTime::<Utc>::MAX_UTC;
        };
        let mut scanned = 0;
        while self.is_rest_day(last) && scanned < MAX_SCAN_DAYS {
            let Some(next) = last.succ_opt() else { break };
            last = next;
            scanned += 1;
        }
        Self::end_of_day(last)
    }

    /// Working days in the half-open date range [from, to); 0 when `to <= from`. Counted from the
    /// weekday pattern and corrected for the listed dates, so any range costs the same.
    pub fn working_days_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        if to <= from {
            return 0;
        }
        let mut count = weekdays_between(from, to);
        for days in self.years.range(from.year()..=to.year()).map(|(_, days)| days) {
            let listed = days
                .holidays
                .range(from..to)
                .chain(days.workdays.range(from..to).filter(|d| !days.holidays.contains(d)));
            for &date in listed {
                match (is_weekend(date), self.is_working_day(date)) {
                    (true, true) => count += 1,
                    (false, false) => count -= 1,
                    _ => {}
                }
            }
        }
        u32::try_from(count).unwrap_or(u32::MAX)
    }
}

/// Mondays to Fridays in [from, to), counted by whole weeks plus the remainder.
fn weekdays_between(from: NaiveDate, to: NaiveDate) -> i64 {
    let days = (to - from).num_days().max(0);
    let first = i64::from(from.weekday().num_days_from_monday());
    let rest = (0..days % 7).filter(|i| (first + i) % 7 < 5).count();
    days / 7 * 5 + i64::try_from(rest).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    /// An instant given in Beijing time.
    fn bj(s: &str) -> DateTime<Utc> {
        at(&format!("{s}+08:00"))
    }

    /// The end (24:00 Beijing) of a Beijing date, as the UTC instant 16:00 that day.
    fn end(date: &str) -> DateTime<Utc> {
        at(&format!("{date}T16:00:00Z"))
    }

    fn list(items: &[&str]) -> Vec<NaiveDate> {
        items.iter().map(|s| d(s)).collect()
    }

    #[test]
    fn builtin_data_matches_the_state_council_tables() {
        let years = builtin_years();
        assert_eq!(years.len(), 2);
        let y2025 = &years[0];
        assert_eq!(y2025.year, 2025);
        assert_eq!(
            y2025.holidays,
            list(&[
                "2025-01-01",
                "2025-01-28",
                "2025-01-29",
                "2025-01-30",
                "2025-01-31",
                "2025-02-01",
                "2025-02-02",
                "2025-02-03",
                "2025-02-04",
                "2025-04-04",
                "2025-04-05",
                "2025-04-06",
                "2025-05-01",
                "2025-05-02",
                "2025-05-03",
                "2025-05-04",
                "2025-05-05",
                "2025-05-31",
                "2025-06-01",
                "2025-06-02",
                "2025-10-01",
                "2025-10-02",
                "2025-10-03",
                "2025-10-04",
                "2025-10-05",
                "2025-10-06",
                "2025-10-07",
                "2025-10-08",
            ])
        );
        assert_eq!(y2025.holidays.len(), 28);
        assert_eq!(
            y2025.workdays,
            list(&["2025-01-26", "2025-02-08", "2025-04-27", "2025-09-28", "2025-10-11"])
        );

        let y2026 = &years[1];
        assert_eq!(y2026.year, 2026);
        assert_eq!(
            y2026.holidays,
            list(&[
                "2026-01-01",
                "2026-01-02",
                "2026-01-03",
                "2026-02-15",
                "2026-02-16",
                "2026-02-17",
                "2026-02-18",
                "2026-02-19",
                "2026-02-20",
                "2026-02-21",
                "2026-02-22",
                "2026-02-23",
                "2026-04-04",
                "2026-04-05",
                "2026-04-06",
                "2026-05-01",
                "2026-05-02",
                "2026-05-03",
                "2026-05-04",
                "2026-05-05",
                "2026-06-19",
                "2026-06-20",
                "2026-06-21",
                "2026-09-25",
                "2026-09-26",
                "2026-09-27",
                "2026-10-01",
                "2026-10-02",
                "2026-10-03",
                "2026-10-04",
                "2026-10-05",
                "2026-10-06",
                "2026-10-07",
            ])
        );
        assert_eq!(y2026.holidays.len(), 33);
        assert_eq!(
            y2026.workdays,
            list(&[
                "2026-01-04",
                "2026-02-14",
                "2026-02-28",
                "2026-05-09",
                "2026-09-20",
                "2026-10-10"
            ])
        );

        // The shipped data passes the checks an admin's input must pass, unchanged.
        for year in years {
            assert_eq!(year.clone().validate(), Ok(year));
        }
    }

    #[test]
    fn each_builtin_year_has_248_working_days() {
        // 261 weekdays in both years; 2025: 18 weekday holidays, 5 make-up days;
        // 2026: 19 weekday holidays, 6 make-up days.
        let cal = WorkCalendar::builtin();
        assert_eq!(cal.working_days_between(d("2025-01-01"), d("2026-01-01")), 248);
        assert_eq!(cal.working_days_between(d("2026-01-01"), d("2027-01-01")), 248);
        assert_eq!(
            WorkCalendar::default().working_days_between(d("2025-01-01"), d("2026-01-01")),
            261
        );
    }

    #[test]
    fn working_days_between_agrees_with_counting_day_by_day() {
        let cal = WorkCalendar::builtin();
        let first = d("2024-12-20");
        let days: Vec<NaiveDate> = first.iter_days().take(800).collect();
        // Every start against a spread of ends, including empty and reversed ranges.
        for (i, &from) in days.iter().enumerate().step_by(7) {
            for &to in days.iter().skip(i.saturating_sub(3)).step_by(11) {
                let slow = from
                    .iter_days()
                    .take_while(|x| *x < to)
                    .filter(|x| cal.is_working_day(*x))
                    .count();
                assert_eq!(cal.working_days_between(from, to) as usize, slow, "{from}..{to}");
            }
        }
        assert_eq!(cal.working_days_between(d("2026-01-05"), d("2026-01-05")), 0);
        assert_eq!(cal.working_days_between(d("2026-01-06"), d("2026-01-05")), 0);
        // Jan 4 2026 is a make-up Sunday; Jan 1-3 are holidays.
        assert_eq!(cal.working_days_between(d("2025-12-31"), d("2026-01-05")), 2);
        // A range spanning all of chrono's dates is computed, not walked.
        assert!(cal.working_days_between(NaiveDate::MIN, NaiveDate::MAX) > 0);
    }

    #[test]
    fn day_kinds_follow_the_arrangement() {
        let cal = WorkCalendar::builtin();
        // Make-up weekend days.
        for day in ["2026-02-14", "2026-02-28", "2025-09-28", "2026-01-04", "2025-10-11"] {
            assert!(cal.is_working_day(d(day)), "{day}");
            assert!(!cal.is_holiday(d(day)), "{day}");
        }
        // Holidays, on weekdays and on folded-in weekends.
        for day in ["2026-02-16", "2026-02-21", "2025-10-08", "2025-01-01"] {
            assert!(cal.is_holiday(d(day)), "{day}");
            assert!(cal.is_rest_day(d(day)), "{day}");
        }
        // An ordinary weekend is rest but no holiday; an ordinary weekday works.
        assert!(cal.is_rest_day(d("2026-03-07")));
        assert!(!cal.is_holiday(d("2026-03-07")));
        assert!(cal.is_working_day(d("2026-03-09")));
    }

    #[test]
    fn year_end_2025_into_2026() {
        let cal = WorkCalendar::builtin();
        let event = bj("2025-12-31T10:00:00");
        // Jan 1-3 are holidays, Jan 4 (a Sunday) is a make-up working day and counts.
        assert_eq!(cal.add_working_days(event, 1), end("2026-01-04"));
        assert_eq!(cal.add_working_days(event, 2), end("2026-01-05"));
        assert_eq!(cal.add_working_days(event, 0), end("2025-12-31"));
        assert_eq!(end("2026-01-04"), bj("2026-01-05T00:00:00"));
    }

    #[test]
    fn make_up_weekends_count_as_working_days() {
        let cal = WorkCalendar::builtin();
        // Fri Feb 13 2026: next day Sat Feb 14 is worked, then the Spring Festival (15-23).
        let friday = bj("2026-02-13T09:00:00");
        assert_eq!(cal.add_working_days(friday, 1), end("2026-02-14"));
        assert_eq!(cal.add_working_days(friday, 2), end("2026-02-24"));
        // An event on the make-up Saturday itself: the next working day is after the festival.
        assert_eq!(cal.add_working_days(bj("2026-02-14T17:00:00"), 1), end("2026-02-24"));
        // Fri Feb 27 2026: Sat Feb 28 is worked.
        assert_eq!(cal.add_working_days(bj("2026-02-27T12:00:00"), 1), end("2026-02-28"));
        assert_eq!(cal.add_working_days(bj("2026-02-27T12:00:00"), 2), end("2026-03-02"));
        // Fri Sep 26 2025: Sat 27 rests, Sun 28 is worked.
        assert_eq!(cal.add_working_days(bj("2025-09-26T12:00:00"), 1), end("2025-09-28"));
        assert_eq!(cal.add_working_days(bj("2025-09-26T12:00:00"), 2), end("2025-09-29"));
    }

    #[test]
    fn spring_festival_and_national_day_blocks_are_skipped() {
        let cal = WorkCalendar::builtin();
        // Fri Jan 24 2025: Sat 25 rests, Sun 26 is worked, Mon 27, then Jan 28 - Feb 4 rest.
        let event = bj("2025-01-24T08:00:00");
        assert_eq!(cal.add_working_days(event, 1), end("2025-01-26"));
        assert_eq!(cal.add_working_days(event, 2), end("2025-01-27"));
        assert_eq!(cal.add_working_days(event, 3), end("2025-02-05"));
        // Feb 5-7 (Wed-Fri), then Sat Feb 8 is worked.
        assert_eq!(cal.add_working_days(event, 6), end("2025-02-08"));
        // Tue Sep 30 2025: Oct 1-8 rest, Thu Oct 9.
        assert_eq!(cal.add_working_days(bj("2025-09-30T20:00:00"), 1), end("2025-10-09"));
        // Ten working days from Fri Feb 6 2026, across the make-up Saturday and the festival.
        assert_eq!(cal.add_working_days(bj("2026-02-06T08:00:00"), 10), end("2026-02-27"));
    }

    #[test]
    fn calendar_period_ending_in_a_holiday_extends_to_the_next_working_day() {
        let cal = WorkCalendar::builtin();
        // Wed Sep 24 2025 + 7 days = Oct 1, a holiday until Oct 8: the period ends Thu Oct 9.
        assert_eq!(cal.add_calendar_days(bj("2025-09-24T15:00:00"), 7), end("2025-10-09"));
        // Sat Sep 26 2026 + 5 = Oct 1; Oct 1-7 rest; Oct 8 is a Thursday.
        assert_eq!(cal.add_calendar_days(bj("2026-09-26T15:00:00"), 5), end("2026-10-08"));
        // A last day on a plain Saturday moves to Monday.
        assert_eq!(cal.add_calendar_days(bj("2026-03-02T15:00:00"), 5), end("2026-03-09"));
        // A last day on a make-up Saturday stays.
        assert_eq!(cal.add_calendar_days(bj("2026-02-18T15:00:00"), 10), end("2026-02-28"));
        // A last day that is a working day: no change, holidays inside the period still count.
        assert_eq!(cal.add_calendar_days(bj("2026-02-12T15:00:00"), 15), end("2026-02-27"));
        assert_eq!(cal.add_calendar_days(bj("2026-02-12T15:00:00"), 0), end("2026-02-12"));
    }

    #[test]
    fn the_day_changes_at_beijing_midnight() {
        let cal = WorkCalendar::builtin();
        let late = bj("2026-02-13T23:59:00");
        let early = bj("2026-02-14T00:01:00");
        assert_eq!(late, at("2026-02-13T15:59:00Z"));
        assert_eq!(WorkCalendar::local_date(late), d("2026-02-13"));
        assert_eq!(WorkCalendar::local_date(early), d("2026-02-14"));
        assert_eq!(cal.add_working_days(late, 1), end("2026-02-14"));
        assert_eq!(cal.add_working_days(early, 1), end("2026-02-24"));
        assert_eq!(cal.add_calendar_days(late, 1), end("2026-02-14"));
        assert_eq!(cal.add_calendar_days(early, 1), end("2026-02-24"));
        // Exactly 16:00 UTC is already the next Beijing day.
        assert_eq!(WorkCalendar::local_date(at("2026-02-13T16:00:00Z")), d("2026-02-14"));
        assert_eq!(WorkCalendar::local_date(at("2026-02-13T15:59:59.999Z")), d("2026-02-13"));
    }

    #[test]
    fn unknown_years_fall_back_to_plain_weekends() {
        let cal = WorkCalendar::builtin();
        assert_eq!(cal.years(), vec![2025, 2026]);
        assert!(cal.knows_year(2026));
        assert!(!cal.knows_year(2027));
        // Jan 1 2027 is a Friday: no holiday known, so it is a working day.
        assert!(cal.is_working_day(d("2027-01-01")));
        assert!(!cal.is_holiday(d("2027-01-01")));
        assert!(cal.is_rest_day(d("2027-01-02")));
        // Fri Jan 1 2027 + 1 working day = Mon Jan 4.
        assert_eq!(cal.add_working_days(bj("2027-01-01T09:00:00"), 1), end("2027-01-04"));
        // From the last 2026 working day across the year boundary into the unknown year.
        assert_eq!(cal.add_working_days(bj("2026-12-31T09:00:00"), 1), end("2027-01-01"));
        let empty = WorkCalendar::default();
        assert!(empty.years().is_empty());
        assert_eq!(empty.add_working_days(bj("2025-12-31T09:00:00"), 1), end("2026-01-01"));
    }

    #[test]
    fn later_entries_replace_earlier_ones_for_the_same_year() {
        let mut changed = builtin_years().remove(1);
        changed.holidays.push(d("2026-03-09"));
        let cal = WorkCalendar::new(builtin_years().into_iter().chain([changed]));
        assert_eq!(cal.years(), vec![2025, 2026]);
        assert!(cal.is_holiday(d("2026-03-09")));
        assert_eq!(cal.year(2026).map(|y| y.holidays.len()), Some(34));
        assert_eq!(cal.year(2027), None);
    }

    #[test]
    fn unvalidated_oddities_are_handled_safely() {
        // A date in the wrong year's entry is ignored; one listed both ways is a rest day.
        let cal = WorkCalendar::new([HolidayYear {
            year: 2030,
            holidays: list(&["2031-01-01", "2030-01-05"]),
            workdays: list(&["2030-01-05", "2031-01-04"]),
        }]);
        assert!(!cal.is_holiday(d("2031-01-01")));
        assert!(cal.is_rest_day(d("2031-01-04")));
        assert!(cal.is_rest_day(d("2030-01-05")));
        assert_eq!(cal.working_days_between(d("2030-01-05"), d("2030-01-06")), 0);
    }

    #[test]
    fn loops_are_bounded() {
        let cal = WorkCalendar::builtin();
        let event = bj("2026-01-05T09:00:00");
        let start = d("2026-01-05");
        let capped = start.checked_add_days(Days::new(u64::from(MAX_SCAN_DAYS))).unwrap();
        assert_eq!(cal.add_working_days(event, u32::MAX), WorkCalendar::end_of_day(capped));
        assert_eq!(
            cal.add_calendar_days(event, u32::MAX),
            cal.add_calendar_days(event, MAX_SCAN_DAYS)
        );
        // A calendar where a whole year is holidays: the period runs on into the next year.
        let all: Vec<NaiveDate> = d("2030-01-01").iter_days().take(365).collect();
        let closed =
            WorkCalendar::new([HolidayYear { year: 2030, holidays: all, workdays: vec![] }]);
        assert_eq!(closed.add_calendar_days(bj("2029-12-31T09:00:00"), 1), end("2031-01-01"));
        // Chrono's last date neither overflows nor panics.
        let last = NaiveDate::MAX.and_time(chrono::NaiveTime::MIN).and_utc();
        assert_eq!(cal.add_working_days(last, 5), DateTime::<Utc>::MAX_UTC);
        assert_eq!(cal.add_calendar_days(last, 5), DateTime::<Utc>::MAX_UTC);
    }

    #[test]
    fn validate_sorts_dedups_and_reports_by_field() {
        let year = HolidayYear {
            year: 2027,
            holidays: list(&["2027-02-10", "2027-01-01", "2027-02-10"]),
            workdays: list(&["2027-02-20", "2027-02-07", "2027-02-07"]),
        }
        .validate()
        .unwrap();
        assert_eq!(year.holidays, list(&["2027-01-01", "2027-02-10"]));
        assert_eq!(year.workdays, list(&["2027-02-07", "2027-02-20"]));

        let errors = |y: HolidayYear| y.validate().unwrap_err();
        let base = || HolidayYear { year: 2027, holidays: vec![], workdays: vec![] };

        assert_eq!(errors(HolidayYear { year: 1999, ..base() }).get("year"), Some("out_of_range"));
        assert_eq!(errors(HolidayYear { year: 2101, ..base() }).get("year"), Some("out_of_range"));
        assert!(HolidayYear { year: 2000, ..base() }.validate().is_ok());
        assert!(HolidayYear { year: 2100, ..base() }.validate().is_ok());

        let e = errors(HolidayYear { holidays: list(&["2026-12-31"]), ..base() });
        assert_eq!(e.get("holidays"), Some("wrong_year"));
        assert_eq!(e.get("workdays"), None);
        let e = errors(HolidayYear { workdays: list(&["2028-01-01"]), ..base() });
        assert_eq!(e.get("workdays"), Some("wrong_year"));

        // Mon Feb 8 2027 cannot be "made up": it is a working day already.
        let e = errors(HolidayYear { workdays: list(&["2027-02-08"]), ..base() });
        assert_eq!(e.get("workdays"), Some("not_weekend"));

        let e = errors(HolidayYear {
            holidays: list(&["2027-02-07"]),
            workdays: list(&["2027-02-07"]),
            ..base()
        });
        assert_eq!(e.get("workdays"), Some("also_holiday"));
        assert_eq!(e.get("holidays"), None);

        let days = |n: usize| d("2027-01-01").iter_days().take(n).collect::<Vec<_>>();
        assert!(HolidayYear { holidays: days(60), ..base() }.validate().is_ok());
        let e = errors(HolidayYear { holidays: days(61), ..base() });
        assert_eq!(e.get("holidays"), Some("too_many"));
        // Duplicates do not count twice.
        let mut doubled = days(60);
        doubled.extend(days(60));
        assert!(HolidayYear { holidays: doubled, ..base() }.validate().is_ok());

        let weekends =
            |n: usize| d("2027-01-02").iter_days().filter(|x| is_weekend(*x)).take(n).collect();
        assert!(HolidayYear { workdays: weekends(20), ..base() }.validate().is_ok());
        let e = errors(HolidayYear { workdays: weekends(21), ..base() });
        assert_eq!(e.get("workdays"), Some("too_many"));

        // Several fields fail at once.
        let e = errors(HolidayYear {
            year: 3000,
            holidays: list(&["2027-01-01"]),
            workdays: list(&["2027-01-04"]),
        });
        assert_eq!(e.get("year"), Some("out_of_range"));
        assert_eq!(e.get("holidays"), Some("wrong_year"));
        assert_eq!(e.get("workdays"), Some("wrong_year"));
    }

    #[test]
    fn holiday_year_round_trips_through_json() {
        for year in builtin_years() {
            let json = serde_json::to_string(&year).unwrap();
            let back: HolidayYear = serde_json::from_str(&json).unwrap();
            assert_eq!(back, year);
        }
        let json = r#"{"year":2025,"holidays":["2025-01-01"],"workdays":["2025-01-26"]}"#;
        let year: HolidayYear = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&year).unwrap(), json);
        assert!(
            serde_json::from_str::<HolidayYear>(
                r#"{"year":2025,"holidays":["2025-02-30"],"workdays":[]}"#
            )
            .is_err()
        );
    }
}
