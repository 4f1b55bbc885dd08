//! Reports up the chain (生产安全事故报告和调查处理条例 Art. 12 and 13): the initial report
//! (首报), numbered follow-ups (续报) and the final report (终报). A report is an official
//! document with the six contents Art. 12 requires. Its first draft is built from the incident's
//! facts, in Chinese whatever the reader's language, because it goes to a Chinese authority.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::grade::{Casualties, Grade};
use crate::clock::china_offset;
use crate::error::ValidationErrors;
use crate::text::free_text;

/// The longest a section may be (characters): a report runs to a few pages at most.
pub const SECTION_MAX: usize = 4000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// 首报: one per issuing unit.
    Initial,
    /// 续报, numbered from 1 per issuing unit.
    FollowUp,
    /// 终报: one per issuing unit; no follow-up after it is approved.
    Final,
}

impl ReportKind {
    pub const ALL: [ReportKind; 3] = [ReportKind::Initial, ReportKind::FollowUp, ReportKind::Final];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Initial => "initial",
            ReportKind::FollowUp => "follow_up",
            ReportKind::Final => "final",
        }
    }

    pub fn parse(s: &str) -> Option<ReportKind> {
        ReportKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Whether this report answers a follow-up requirement (a change of casualties).
    pub fn answers_follow_up(self) -> bool {
        matches!(self, ReportKind::FollowUp | ReportKind::Final)
    }
}

/// Where a report stands. Only a draft can be edited; an approved report is sent and frozen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    Draft,
    /// Waiting for the duty leader's approval.
    Submitted,
    /// Approved, numbered and sent up the chain.
    Approved,
}

impl ReportStatus {
    pub const ALL: [ReportStatus; 3] =
        [ReportStatus::Draft, ReportStatus::Submitted, ReportStatus::Approved];

    pub fn as_str(self) -> &'static str {
        match self {
            ReportStatus::Draft => "draft",
            ReportStatus::Submitted => "submitted",
            ReportStatus::Approved => "approved",
        }
    }

    pub fn parse(s: &str) -> Option<ReportStatus> {
        ReportStatus::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The contents Art. 12 requires, one field each.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportSections {
    /// (一) 事故发生单位概况
    pub unit: String,
    /// (二) 事故发生的时间、地点以及事故现场情况
    pub time_place: String,
    /// (三) 事故的简要经过
    pub what_happened: String,
    /// (四) 伤亡人数（包括下落不明的人数）和初步估计的直接经济损失
    pub casualties: String,
    /// (五) 已经采取的措施
    pub measures: String,
    /// (六) 其他应当报告的情况
    pub other: String,
}

impl ReportSections {
    /// The section field names, in the order of Art. 12.
    pub const FIELDS: [&'static str; 6] =
        ["unit", "time_place", "what_happened", "casualties", "measures", "other"];

    fn fields_mut(&mut self) -> [&mut String; 6] {
        [
            &mut self.unit,
            &mut self.time_place,
            &mut self.what_happened,
            &mut self.casualties,
            &mut self.measures,
            &mut self.other,
        ]
    }

    fn fields(&self) -> [&String; 6] {
        [
            &self.unit,
            &self.time_place,
            &self.what_happened,
            &self.casualties,
            &self.measures,
            &self.other,
        ]
    }

    /// Trims every section and checks its length and characters; errors are keyed
    /// `sections.<field>`.
    pub fn check(mut self, errors: &mut ValidationErrors) -> Option<ReportSections> {
        let mut ok = true;
        for (name, value) in Self::FIELDS.iter().zip(self.fields_mut()) {
            match free_text(value, SECTION_MAX) {
                Ok(text) => *value = text,
                Err(code) => {
                    errors.add(format!("sections.{name}"), code);
                    ok = false;
                }
            }
        }
        ok.then_some(self)
    }

    /// What must be written before a report goes to the leader: every section but "other"
    /// (Art. 12 asks for all of them; "other" may truly have nothing to say).
    pub fn check_complete(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        for (name, value) in Self::FIELDS.iter().zip(self.fields()) {
            if *name != "other" && value.trim().is_empty() {
                errors.add(format!("sections.{name}"), "required");
            }
        }
        errors.into_result()
    }
}

/// What a report is built from: the incident's facts when the draft is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ReportFacts {
    pub unit_name: String,
    pub enterprise: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub place: String,
    pub description: String,
    pub grade: Grade,
    pub casualties: Casualties,
}

fn grade_name(grade: Grade) -> &'static str {
    match grade {
        Grade::Ordinary => "一般",
        Grade::RelativelySerious => "较大",
        Grade::Serious => "重大",
        Grade::ParticularlySerious => "特别重大",
    }
}

/// Yuan as the documents write them: whole 万元 with up to two decimals, or yuan below that.
pub fn loss_text(yuan: u64) -> String {
    if yuan < 10_000 {
        return format!("{yuan}元");
    }
    let hundredths = (u128::from(yuan) * 100 + 5_000) / 10_000;
    let (whole, frac) = (hundredths / 100, hundredths % 100);
    match frac {
        0 => format!("{whole}万元"),
        f if f % 10 == 0 => format!("{whole}.{}万元", f / 10),
        f => format!("{whole}.{f:02}万元"),
    }
}

/// The casualty sentence of section (四): what is known, zero counts left out.
pub fn casualty_text(c: &Casualties, grade: Grade) -> String {
    let mut parts = Vec::new();
    for (n, what) in [
        (c.deaths, "死亡"),
        (c.missing, "失踪"),
        (c.serious_injuries, "重伤（含急性工业中毒）"),
        (c.minor_injuries, "轻伤"),
    ] {
        if n > 0 {
            parts.push(format!("{n}人{what}"));
        }
    }
    let people = if parts.is_empty() {
        "暂无人员伤亡".to_owned()
    } else {
        format!("造成{}", parts.join("、"))
    };
    let loss = if c.direct_loss_cny == 0 {
        "直接经济损失正在核实".to_owned()
    } else {
        format!("初步估计直接经济损失{}", loss_text(c.direct_loss_cny))
    };
    format!("截至目前，事故{people}，{loss}。按现有情况初步认定为{}事故。", grade_name(grade))
}

/// The first draft of a report's sections, built from the facts. The measures are the
/// officer's to write; "other" is left empty.
pub fn draft_sections(facts: &ReportFacts) -> ReportSections {
    let local = facts.occurred_at.with_timezone(&china_offset());
    let unit = match &facts.enterprise {
        Some(name) => format!("事故发生单位：{name}。属地：{}。", facts.unit_name),
        None => format!("事发地属{}辖区。", facts.unit_name),
    };
    ReportSections {
        unit,
        time_place: format!(
            "{}，{}。",
            local.format("%Y年%-m月%-d日%-H时%M分"),
            if facts.place.is_empty() { "地点正在核实" } else { facts.place.as_str() }
        ),
        what_happened: facts.description.clone(),
        casualties: casualty_text(&facts.casualties, facts.grade),
        measures: String::new(),
        other: String::new(),
    }
}

/// A report's default title: 关于…的首报 / 续报（第n报）/ 终报.
pub fn report_title(kind: ReportKind, sequence: u32, incident_title: &str) -> String {
    match kind {
        ReportKind::Initial => format!("关于{incident_title}的首报"),
        ReportKind::FollowUp => format!("关于{incident_title}的续报（第{sequence}报）"),
        ReportKind::Final => format!("关于{incident_title}的终报"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> ReportFacts {
        ReportFacts {
            unit_name: "江南区".into(),
            enterprise: Some("江南化工有限公司".into()),
            occurred_at: DateTime::parse_from_rfc3339("2026-07-01T23:05:00+08:00")
                .unwrap()
                .to_utc(),
            place: "江南区工业园3号仓库".into(),
            description: "仓库发生爆燃。".into(),
            grade: Grade::RelativelySerious,
            casualties: Casualties {
                deaths: 3,
                missing: 0,
                serious_injuries: 2,
                minor_injuries: 0,
                direct_loss_cny: 12_345_678,
            },
        }
    }

    #[test]
    fn the_draft_is_built_from_the_facts_in_beijing_time() {
        let s = draft_sections(&facts());
        assert_eq!(s.time_place, "2026年7月1日23时05分，江南区工业园3号仓库。");
        assert!(s.unit.contains("江南化工有限公司"));
        assert_eq!(
            s.casualties,
            "截至目前，事故造成3人死亡、2人重伤（含急性工业中毒），初步估计直接经济损失\
             1234.57万元。按现有情况初步认定为较大事故。"
        );
        assert_eq!(s.what_happened, "仓库发生爆燃。");
        assert!(s.measures.is_empty());
    }

    #[test]
    fn losses_read_as_the_documents_write_them() {
        assert_eq!(loss_text(9_999), "9999元");
        assert_eq!(loss_text(10_000), "1万元");
        assert_eq!(loss_text(15_000), "1.5万元");
        assert_eq!(loss_text(100_000_000), "10000万元");
        assert_eq!(loss_text(12_345), "1.23万元");
    }

    #[test]
    fn sections_are_checked_by_field_and_complete_before_submission() {
        let mut errors = ValidationErrors::new();
        let long = "字".repeat(SECTION_MAX + 1);
        let bad = ReportSections { measures: long, ..ReportSections::default() };
        assert!(bad.check(&mut errors).is_none());
        assert_eq!(errors.get("sections.measures"), Some("too_long"));
        let draft = draft_sections(&facts());
        let missing = draft.check_complete().unwrap_err();
        assert_eq!(missing.get("sections.measures"), Some("required"));
        assert_eq!(missing.get("sections.other"), None);
        let done = ReportSections { measures: "已组织救援。".into(), ..draft };
        assert!(done.check_complete().is_ok());
    }

    #[test]
    fn titles_number_the_follow_ups() {
        assert_eq!(report_title(ReportKind::FollowUp, 2, "某事故"), "关于某事故的续报（第2报）");
        assert_eq!(report_title(ReportKind::Final, 0, "某事故"), "关于某事故的终报");
    }
}
