//! The 24-hour duty desk (值班值守, DOMAIN.md §1): shift patterns, staffing rules, roster
//! generation and the gap check. Pure rules; the store feeds them rows and the clock.
//!
//! Sources: 生产安全事故应急条例 (2019) Art. 14 and 生产安全事故报告和调查处理条例 Art. 18 require
//! a 24-hour uninterrupted duty; DB3713/T 309-2023 gives the example staffing (a leader plus at
//! least 4 staff at city level, 3 at county level).

mod gaps;
mod pattern;
mod rota;
mod rules;

pub use gaps::{Gap, GapKind, GapShift, Leave, Requirement, RequirementPeriod, find_gaps};
pub use pattern::{DutySettings, ShiftDef, SlotDef, SlotKind, shift_times};
pub use rota::{Candidate, Generated, GeneratedShift, RotaInput, generate};
pub use rules::{DutyRules, SlotEligibility, StaffingRule};

use chrono::{DateTime, NaiveDate, Utc};

/// The longest period a roster may be generated, published or checked for at once.
pub const MAX_PERIOD_DAYS: i64 = 366;

/// Checks a period of dates (inclusive) for generation and publishing.
pub fn check_period(from: NaiveDate, to: NaiveDate) -> Result<(), &'static str> {
    if to < from {
        return Err("before_start");
    }
    if (to - from).num_days() + 1 > MAX_PERIOD_DAYS {
        return Err("period_too_long");
    }
    Ok(())
}

/// Checks a window of instants for the gap check and lists.
pub fn check_window(from: DateTime<Utc>, to: DateTime<Utc>) -> Result<(), &'static str> {
    if to <= from {
        return Err("before_start");
    }
    if (to - from).num_days() > MAX_PERIOD_DAYS {
        return Err("period_too_long");
    }
    Ok(())
}

/// Whether two half-open intervals share a moment.
pub fn overlaps(a: (DateTime<Utc>, DateTime<Utc>), b: (DateTime<Utc>, DateTime<Utc>)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_bounded() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(check_period(d("2026-01-01"), d("2026-12-31")), Ok(()));
        // 2024 is a leap year: 366 days is the most.
        assert_eq!(check_period(d("2024-01-01"), d("2024-12-31")), Ok(()));
        assert_eq!(check_period(d("2026-01-01"), d("2027-01-01")), Ok(()));
        assert_eq!(check_period(d("2026-01-01"), d("2027-01-02")), Err("period_too_long"));
        assert_eq!(check_period(d("2026-01-02"), d("2026-01-01")), Err("before_start"));
    }
}
