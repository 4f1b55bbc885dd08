//! Incidents and information reporting (DOMAIN.md §2): the taxonomy, statutory grading and the
//! per-hop reporting clocks, as pure rules. The store keeps the incidents, their grade history
//! and the hops done; the deadline mechanism runs the clocks.

mod chain;
pub mod draft;
mod grade;
mod kind;
mod report;

pub use chain::{
    ChainRules, Hop, HopStatus, Obligation, done_on_intake, follow_up_required, hops_for,
    obligations, status,
};
pub use grade::{
    Axis, Casualties, Grade, Grading, GradingTable, Threshold, builtin_tables, table_for,
};
pub use kind::{Category, IncidentKind, Sector};
pub use report::{
    ReportFacts, ReportKind, ReportSections, ReportStatus, SECTION_MAX, casualty_text,
    draft_sections, loss_text, report_title,
};

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ValidationErrors;

/// More casualties than any accident has had: a typing error, not a fact.
pub const MAX_PEOPLE: u32 = 100_000;
/// Ten trillion yuan: above it a loss is a typing error.
pub const MAX_LOSS_CNY: u64 = 10_000_000_000_000;
/// Clocks of the client and the server may differ this much before "in the future" is refused.
pub const CLOCK_SKEW_SECONDS: i64 = 120;

/// How the report reached the desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Phone,
    Enterprise,
    SensorAlarm,
    PublicTip,
    HigherNotice,
    LowerReport,
    Other,
}

impl Source {
    pub const ALL: [Source; 7] = [
        Source::Phone,
        Source::Enterprise,
        Source::SensorAlarm,
        Source::PublicTip,
        Source::HigherNotice,
        Source::LowerReport,
        Source::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Source::Phone => "phone",
            Source::Enterprise => "enterprise",
            Source::SensorAlarm => "sensor_alarm",
            Source::PublicTip => "public_tip",
            Source::HigherNotice => "higher_notice",
            Source::LowerReport => "lower_report",
            Source::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// How a hop's report was passed up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HopMethod {
    /// The desk that registered the incident had received it.
    Intake,
    /// The addressee's duty desk acknowledged it in Beacon.
    Acknowledged,
    Phone,
    Fax,
    /// The higher level's own reporting system.
    System,
    Other,
}

impl HopMethod {
    /// The ways a duty officer may record for a level outside this deployment.
    pub const RECORDABLE: [HopMethod; 4] =
        [HopMethod::Phone, HopMethod::Fax, HopMethod::System, HopMethod::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            HopMethod::Intake => "intake",
            HopMethod::Acknowledged => "acknowledged",
            HopMethod::Phone => "phone",
            HopMethod::Fax => "fax",
            HopMethod::System => "system",
            HopMethod::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<HopMethod> {
        [HopMethod::Intake, HopMethod::Acknowledged]
            .into_iter()
            .chain(HopMethod::RECORDABLE)
            .find(|m| m.as_str() == s)
    }
}

/// The four warning colours (预警级别), separate from the grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WarningColor {
    Blue,
    Yellow,
    Orange,
    Red,
}

impl WarningColor {
    pub const ALL: [WarningColor; 4] =
        [WarningColor::Blue, WarningColor::Yellow, WarningColor::Orange, WarningColor::Red];

    pub fn as_str(self) -> &'static str {
        match self {
            WarningColor::Blue => "blue",
            WarningColor::Yellow => "yellow",
            WarningColor::Orange => "orange",
            WarningColor::Red => "red",
        }
    }

    pub fn parse(s: &str) -> Option<WarningColor> {
        WarningColor::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// The emergency response level the plan started (Ⅰ highest … Ⅳ), separate from the grade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResponseLevel {
    I,
    Ii,
    Iii,
    Iv,
}

impl ResponseLevel {
    pub const ALL: [ResponseLevel; 4] =
        [ResponseLevel::I, ResponseLevel::Ii, ResponseLevel::Iii, ResponseLevel::Iv];

    pub fn as_str(self) -> &'static str {
        match self {
            ResponseLevel::I => "i",
            ResponseLevel::Ii => "ii",
            ResponseLevel::Iii => "iii",
            ResponseLevel::Iv => "iv",
        }
    }

    pub fn parse(s: &str) -> Option<ResponseLevel> {
        ResponseLevel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Checks the casualty counts and the loss against [`MAX_PEOPLE`] and [`MAX_LOSS_CNY`]. The
/// counts arrive as signed numbers so that a negative one gets its own code.
pub fn check_casualties(
    errors: &mut ValidationErrors,
    deaths: i64,
    missing: i64,
    serious_injuries: i64,
    minor_injuries: i64,
    direct_loss_cny: i64,
) -> Option<Casualties> {
    let mut person = |field: &str, n: i64| -> Option<u32> {
        if n < 0 {
            errors.add(field, "negative");
            None
        } else if n > i64::from(MAX_PEOPLE) {
            errors.add(field, "too_large");
            None
        } else {
            u32::try_from(n).ok()
        }
    };
    let deaths = person("deaths", deaths);
    let missing = person("missing", missing);
    let serious_injuries = person("serious_injuries", serious_injuries);
    let minor_injuries = person("minor_injuries", minor_injuries);
    let loss = if direct_loss_cny < 0 {
        errors.add("direct_loss_cny", "negative");
        None
    } else if direct_loss_cny.unsigned_abs() > MAX_LOSS_CNY {
        errors.add("direct_loss_cny", "too_large");
        None
    } else {
        Some(direct_loss_cny.unsigned_abs())
    };
    Some(Casualties {
        deaths: deaths?,
        missing: missing?,
        serious_injuries: serious_injuries?,
        minor_injuries: minor_injuries?,
        direct_loss_cny: loss?,
    })
}

/// Checks the times of an incident: it cannot have occurred in the future, nor after it was
/// reported.
pub fn check_times(
    errors: &mut ValidationErrors,
    occurred_at: DateTime<Utc>,
    reported_at: DateTime<Utc>,
    now: DateTime<Utc>,
) {
    let future = now + Duration::seconds(CLOCK_SKEW_SECONDS);
    if occurred_at > future {
        errors.add("occurred_at", "in_future");
    } else if occurred_at > reported_at {
        errors.add("occurred_at", "after_reported");
    }
    if reported_at > future {
        errors.add("reported_at", "in_future");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_or_negative_counts_are_refused_by_field() {
        let mut errors = ValidationErrors::new();
        assert!(check_casualties(&mut errors, -1, 0, 100_001, 0, 10_000_000_000_001).is_none());
        assert_eq!(errors.get("deaths"), Some("negative"));
        assert_eq!(errors.get("serious_injuries"), Some("too_large"));
        assert_eq!(errors.get("direct_loss_cny"), Some("too_large"));
        let mut errors = ValidationErrors::new();
        let ok = check_casualties(&mut errors, 100_000, 1, 2, 3, 10_000_000_000_000).unwrap();
        assert!(errors.is_empty());
        assert_eq!((ok.deaths, ok.direct_loss_cny), (100_000, MAX_LOSS_CNY));
    }

    #[test]
    fn times_must_be_in_order_and_not_ahead_of_the_clock() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let now = t("2026-05-01T12:00:00Z");
        let mut errors = ValidationErrors::new();
        check_times(&mut errors, t("2026-05-01T12:10:00Z"), t("2026-05-01T12:00:00Z"), now);
        assert_eq!(errors.get("occurred_at"), Some("in_future"));
        let mut errors = ValidationErrors::new();
        check_times(&mut errors, t("2026-05-01T11:00:00Z"), t("2026-05-01T10:00:00Z"), now);
        assert_eq!(errors.get("occurred_at"), Some("after_reported"));
        let mut errors = ValidationErrors::new();
        check_times(&mut errors, t("2026-05-01T11:00:00Z"), t("2026-05-01T12:01:00Z"), now);
        assert!(errors.is_empty(), "a minute of clock skew is tolerated");
    }
}
