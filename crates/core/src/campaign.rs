//! Special rectification campaigns (专项整治, docs/campaigns.md): the four stages a campaign runs
//! through and the checks of its period. Pure rules; the store keeps campaigns, their frozen
//! target lists and computes their progress from the ledgers.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The stages of a campaign, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStage {
    /// 动员部署.
    Deploy,
    /// 排查整治.
    InvestigateRectify,
    /// 督导检查.
    SuperviseCheck,
    /// 总结验收.
    SummariseAccept,
}

impl CampaignStage {
    pub const ALL: [CampaignStage; 4] = [
        CampaignStage::Deploy,
        CampaignStage::InvestigateRectify,
        CampaignStage::SuperviseCheck,
        CampaignStage::SummariseAccept,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStage::Deploy => "deploy",
            CampaignStage::InvestigateRectify => "investigate_rectify",
            CampaignStage::SuperviseCheck => "supervise_check",
            CampaignStage::SummariseAccept => "summarise_accept",
        }
    }
}

/// Where a campaign stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    /// Being prepared: its scope and stages may change; no target list yet.
    Draft,
    /// Started: the target list is frozen (changed only one by one, with a reason); its checks
    /// are recorded.
    Running,
    /// Summarised and closed: nothing changes any more.
    Closed,
}

impl CampaignStatus {
    pub const ALL: [CampaignStatus; 3] =
        [CampaignStatus::Draft, CampaignStatus::Running, CampaignStatus::Closed];

    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Draft => "draft",
            CampaignStatus::Running => "running",
            CampaignStatus::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

/// One stage's dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageDates {
    pub stage: CampaignStage,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// The longest campaign, in days (three years).
pub const MAX_CAMPAIGN_DAYS: i64 = 3 * 366;

/// Checks a campaign's period and stages: the period ends on or after it starts and lasts at
/// most [`MAX_CAMPAIGN_DAYS`]; the four stages each appear once, in order, inside the period,
/// one after another (a stage may start the day the previous one ends). Errors name the field:
/// `ends_on: before_start`, `ends_on: out_of_range`, `stages: incomplete`,
/// `stages[i].ends_on: before_start`, `stages[i].starts_on: outside_period`,
/// `stages[i].starts_on: overlaps`.
pub fn check_period(
    starts_on: NaiveDate,
    ends_on: NaiveDate,
    stages: &[StageDates],
) -> Vec<(String, &'static str)> {
    let mut errors = Vec::new();
    if ends_on < starts_on {
        errors.push(("ends_on".to_owned(), "before_start"));
    } else if (ends_on - starts_on).num_days() > MAX_CAMPAIGN_DAYS {
        errors.push(("ends_on".to_owned(), "out_of_range"));
    }
    let order: Vec<CampaignStage> = stages.iter().map(|s| s.stage).collect();
    if order != CampaignStage::ALL {
        errors.push(("stages".to_owned(), "incomplete"));
        return errors;
    }
    let mut previous_end: Option<NaiveDate> = None;
    for (i, s) in stages.iter().enumerate() {
        if s.ends_on < s.starts_on {
            errors.push((format!("stages[{i}].ends_on"), "before_start"));
        }
        if s.starts_on < starts_on || s.ends_on > ends_on {
            errors.push((format!("stages[{i}].starts_on"), "outside_period"));
        }
        if previous_end.is_some_and(|end| s.starts_on < end) {
            errors.push((format!("stages[{i}].starts_on"), "overlaps"));
        }
        previous_end = Some(s.ends_on);
    }
    errors
}

/// The stage a running campaign is in on a day (none before the first and after the last).
pub fn stage_on(stages: &[StageDates], day: NaiveDate) -> Option<CampaignStage> {
    stages.iter().rev().find(|s| s.starts_on <= day && day <= s.ends_on).map(|s| s.stage)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    fn stages(dates: [(&str, &str); 4]) -> Vec<StageDates> {
        CampaignStage::ALL
            .iter()
            .zip(dates)
            .map(|(stage, (a, b))| StageDates { stage: *stage, starts_on: d(a), ends_on: d(b) })
            .collect()
    }

    #[test]
    fn a_campaign_runs_its_four_stages_in_order_inside_its_period() {
        let good = stages([
            ("2026-03-01", "2026-03-15"),
            ("2026-03-15", "2026-08-31"),
            ("2026-09-01", "2026-10-31"),
            ("2026-11-01", "2026-12-31"),
        ]);
        assert!(check_period(d("2026-03-01"), d("2026-12-31"), &good).is_empty());
        assert_eq!(stage_on(&good, d("2026-03-15")), Some(CampaignStage::InvestigateRectify));
        assert_eq!(stage_on(&good, d("2026-09-10")), Some(CampaignStage::SuperviseCheck));
        assert_eq!(stage_on(&good, d("2027-01-01")), None);

        let mut swapped = good.clone();
        swapped.swap(1, 2);
        assert_eq!(
            check_period(d("2026-03-01"), d("2026-12-31"), &swapped),
            [("stages".to_owned(), "incomplete")]
        );
        assert_eq!(
            check_period(d("2026-03-01"), d("2026-12-31"), &good[..3]),
            [("stages".to_owned(), "incomplete")]
        );
        let outside = check_period(d("2026-03-01"), d("2026-12-30"), &good);
        assert_eq!(outside, [("stages[3].starts_on".to_owned(), "outside_period")]);
        let mut overlapping = good.clone();
        overlapping[2].starts_on = d("2026-08-01");
        assert_eq!(
            check_period(d("2026-03-01"), d("2026-12-31"), &overlapping),
            [("stages[2].starts_on".to_owned(), "overlaps")]
        );
        assert_eq!(
            check_period(d("2026-03-01"), d("2026-02-01"), &good)[0],
            ("ends_on".to_owned(), "before_start")
        );
        assert_eq!(
            check_period(d("2026-03-01"), d("2030-03-01"), &good)[0],
            ("ends_on".to_owned(), "out_of_range")
        );
    }
}
