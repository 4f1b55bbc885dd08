//! Grading (DOMAIN.md §2, 生产安全事故报告和调查处理条例 Art. 3): the grade is the highest one
//! reached on any axis (deaths, serious injuries including acute industrial poisoning, direct
//! economic loss), lower bounds inclusive. Tables are data per sector with the date they take
//! effect, so a later rule is added without changing the grade of older incidents.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::kind::Sector;
use crate::error::ValidationErrors;

/// The grade of an incident, lowest first (`Ord` follows severity).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    /// 一般
    Ordinary,
    /// 较大
    RelativelySerious,
    /// 重大
    Serious,
    /// 特别重大
    ParticularlySerious,
}

impl Grade {
    pub const ALL: [Grade; 4] =
        [Grade::Ordinary, Grade::RelativelySerious, Grade::Serious, Grade::ParticularlySerious];

    pub fn as_str(self) -> &'static str {
        match self {
            Grade::Ordinary => "ordinary",
            Grade::RelativelySerious => "relatively_serious",
            Grade::Serious => "serious",
            Grade::ParticularlySerious => "particularly_serious",
        }
    }

    pub fn parse(s: &str) -> Option<Grade> {
        Grade::ALL.into_iter().find(|g| g.as_str() == s)
    }
}

/// The facts a grade is computed from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Casualties {
    pub deaths: u32,
    pub missing: u32,
    /// Including acute industrial poisoning.
    pub serious_injuries: u32,
    pub minor_injuries: u32,
    /// Direct economic loss in whole yuan.
    pub direct_loss_cny: u64,
}

/// An axis of the grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Axis {
    Deaths,
    SeriousInjuries,
    DirectLoss,
}

/// The lower bounds (inclusive) of one grade; an axis without a bound does not reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Threshold {
    pub grade: Grade,
    pub deaths: Option<u32>,
    pub serious_injuries: Option<u32>,
    pub direct_loss_cny: Option<u64>,
}

/// A sector's grading table from a date on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct GradingTable {
    pub sector: Sector,
    /// The first date of occurrence the table applies to.
    pub valid_from: NaiveDate,
    /// The regulation the numbers come from.
    pub source: String,
    /// One entry per grade above `ordinary`.
    pub thresholds: Vec<Threshold>,
}

/// A computed grade and the axes that reached it (empty for `ordinary`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Grading {
    pub grade: Grade,
    pub axes: Vec<Axis>,
}

impl GradingTable {
    /// Checks that the table has each grade above `ordinary` once, at least one bound per
    /// grade, and bounds that do not fall as the grade rises.
    pub fn validate(self) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if self.source.trim().is_empty() {
            errors.add("source", "required");
        }
        let mut grades: Vec<Grade> = self.thresholds.iter().map(|t| t.grade).collect();
        grades.sort();
        if grades != [Grade::RelativelySerious, Grade::Serious, Grade::ParticularlySerious] {
            errors.add("thresholds", "one_per_grade");
        }
        for (i, t) in self.thresholds.iter().enumerate() {
            if t.deaths.is_none() && t.serious_injuries.is_none() && t.direct_loss_cny.is_none() {
                errors.add(format!("thresholds[{i}]"), "no_bound");
            }
        }
        let mut sorted: Vec<&Threshold> = self.thresholds.iter().collect();
        sorted.sort_by_key(|t| t.grade);
        for pair in sorted.windows(2) {
            let rising = |a: Option<u64>, b: Option<u64>| match (a, b) {
                (Some(a), Some(b)) => a <= b,
                _ => true,
            };
            if !rising(pair[0].deaths.map(u64::from), pair[1].deaths.map(u64::from))
                || !rising(
                    pair[0].serious_injuries.map(u64::from),
                    pair[1].serious_injuries.map(u64::from),
                )
                || !rising(pair[0].direct_loss_cny, pair[1].direct_loss_cny)
            {
                errors.add("thresholds", "not_rising");
            }
        }
        errors.into_result().map(|()| self)
    }

    /// The grade of `facts`: the highest grade any axis reaches.
    pub fn grade(&self, facts: &Casualties) -> Grading {
        let mut thresholds: Vec<&Threshold> = self.thresholds.iter().collect();
        thresholds.sort_by_key(|t| std::cmp::Reverse(t.grade));
        for t in thresholds {
            let mut axes = Vec::new();
            if t.deaths.is_some_and(|b| facts.deaths >= b) {
                axes.push(Axis::Deaths);
            }
            if t.serious_injuries.is_some_and(|b| facts.serious_injuries >= b) {
                axes.push(Axis::SeriousInjuries);
            }
            if t.direct_loss_cny.is_some_and(|b| facts.direct_loss_cny >= b) {
                axes.push(Axis::DirectLoss);
            }
            if !axes.is_empty() {
                return Grading { grade: t.grade, axes };
            }
        }
        Grading { grade: Grade::Ordinary, axes: Vec::new() }
    }
}

/// The thresholds of Art. 3: 3/10/30 deaths, 10/50/100 serious injuries, 10⁷/5·10⁷/10⁸ yuan.
fn article_3() -> Vec<Threshold> {
    let t = |grade, deaths, serious_injuries, direct_loss_cny| Threshold {
        grade,
        deaths: Some(deaths),
        serious_injuries: Some(serious_injuries),
        direct_loss_cny: Some(direct_loss_cny),
    };
    vec![
        t(Grade::ParticularlySerious, 30, 100, 100_000_000),
        t(Grade::Serious, 10, 50, 50_000_000),
        t(Grade::RelativelySerious, 3, 10, 10_000_000),
    ]
}

/// The tables Beacon ships. Road traffic has no table of its own yet and is graded by the
/// general one (see [`table_for`]); an administrator adds one as data when the province
/// publishes it.
pub fn builtin_tables() -> Vec<GradingTable> {
    vec![
        GradingTable {
            sector: Sector::General,
            valid_from: NaiveDate::from_ymd_opt(2007, 6, 1).unwrap_or_default(),
            source: "生产安全事故报告和调查处理条例（国务院令第493号）第三条".into(),
            thresholds: article_3(),
        },
        GradingTable {
            sector: Sector::Fire,
            valid_from: NaiveDate::from_ymd_opt(2007, 6, 26).unwrap_or_default(),
            source: "公安部《关于调整火灾等级标准的通知》（公消〔2007〕234号）".into(),
            thresholds: article_3(),
        },
    ]
}

/// The table for an incident of `sector` that occurred on `date`: the sector's latest table
/// in force on that date, else the general one's. `None` only when no table is in force.
pub fn table_for(
    tables: &[GradingTable],
    sector: Sector,
    date: NaiveDate,
) -> Option<&GradingTable> {
    let latest = |sector: Sector| {
        tables
            .iter()
            .filter(|t| t.sector == sector && t.valid_from <= date)
            .max_by_key(|t| t.valid_from)
    };
    latest(sector).or_else(|| latest(Sector::General))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn general() -> GradingTable {
        builtin_tables().remove(0)
    }

    fn grade(deaths: u32, serious_injuries: u32, direct_loss_cny: u64) -> Grade {
        general()
            .grade(&Casualties {
                deaths,
                serious_injuries,
                direct_loss_cny,
                ..Casualties::default()
            })
            .grade
    }

    #[test]
    fn each_axis_is_inclusive_at_its_lower_bounds() {
        use Grade::*;
        assert_eq!(grade(0, 0, 0), Ordinary);
        for (below, at, expected) in
            [(2, 3, RelativelySerious), (9, 10, Serious), (29, 30, ParticularlySerious)]
        {
            assert_eq!(grade(at, 0, 0), expected, "{at} deaths");
            assert!(grade(below, 0, 0) < expected, "{below} deaths");
        }
        for (below, at, expected) in
            [(9, 10, RelativelySerious), (49, 50, Serious), (99, 100, ParticularlySerious)]
        {
            assert_eq!(grade(0, at, 0), expected, "{at} serious injuries");
            assert!(grade(0, below, 0) < expected, "{below} serious injuries");
        }
        for (at, expected) in [
            (10_000_000, RelativelySerious),
            (50_000_000, Serious),
            (100_000_000, ParticularlySerious),
        ] {
            assert_eq!(grade(0, 0, at), expected, "{at} yuan");
            assert!(grade(0, 0, at - 1) < expected, "{} yuan", at - 1);
        }
    }

    #[test]
    fn the_highest_axis_wins_and_names_itself() {
        let g = general().grade(&Casualties {
            deaths: 3,
            serious_injuries: 50,
            direct_loss_cny: 1,
            ..Casualties::default()
        });
        assert_eq!(g, Grading { grade: Grade::Serious, axes: vec![Axis::SeriousInjuries] });
        // Missing persons and minor injuries do not grade.
        let g = general().grade(&Casualties {
            missing: 40,
            minor_injuries: 500,
            ..Casualties::default()
        });
        assert_eq!(g.grade, Grade::Ordinary);
    }

    #[test]
    fn the_table_in_force_on_the_date_of_occurrence_applies() {
        let mut tables = builtin_tables();
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(table_for(&tables, Sector::Fire, d("2026-01-01")).unwrap().sector, Sector::Fire);
        // Road traffic falls back to the general table; before 2007-06-01 nothing applies.
        assert_eq!(
            table_for(&tables, Sector::RoadTraffic, d("2026-01-01")).unwrap().sector,
            Sector::General
        );
        assert!(table_for(&tables, Sector::General, d("2007-05-31")).is_none());
        let mut stricter = general();
        stricter.valid_from = d("2027-01-01");
        stricter.thresholds[2].deaths = Some(2);
        tables.push(stricter.validate().unwrap());
        assert_eq!(
            table_for(&tables, Sector::General, d("2026-12-31")).unwrap().thresholds[2].deaths,
            Some(3)
        );
        assert_eq!(
            table_for(&tables, Sector::General, d("2027-01-01")).unwrap().thresholds[2].deaths,
            Some(2)
        );
    }

    #[test]
    fn a_table_must_have_each_grade_once_with_rising_bounds() {
        let mut missing = general();
        missing.thresholds.pop();
        assert_eq!(missing.validate().unwrap_err().get("thresholds"), Some("one_per_grade"));
        let mut falling = general();
        falling.thresholds[0].deaths = Some(5);
        assert_eq!(falling.validate().unwrap_err().get("thresholds"), Some("not_rising"));
        let mut empty = general();
        empty.thresholds[1] = Threshold {
            grade: Grade::Serious,
            deaths: None,
            serious_injuries: None,
            direct_loss_cny: None,
        };
        assert_eq!(empty.validate().unwrap_err().get("thresholds[1]"), Some("no_bound"));
        assert!(general().validate().is_ok());
    }
}
