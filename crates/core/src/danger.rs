//! Hidden dangers (安全生产事故隐患; 安全生产事故隐患排查治理暂行规定, 原安监总局令第16号): their
//! levels, where they were found, the states of their rectification and the rules that move a
//! hidden danger from one state to the next (docs/hazards.md).
//!
//! A **general** hidden danger (一般事故隐患) is rectified by the enterprise at once or by its
//! deadline; the enterprise reports the fix and the regulator accepts it. A **major** one (重大事故
//! 隐患) first needs a treatment plan with the five implementations (五落实: measures, responsible
//! person, funds, deadline, contingency plan), which the regulator checks; only under an approved
//! plan can its fix be reported, and only the regulator's acceptance (验收) closes it off the
//! ledger (销号). A failed acceptance sends it back with the reason. The enterprise never closes
//! a hidden danger itself. Listing for supervision (挂牌督办) is a mark a major open one carries,
//! not a state.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ValidationErrors;
use crate::text::plain_text;

/// 一般 or 重大.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DangerLevel {
    General,
    Major,
}

/// 基础管理类 (papers, training, systems) or 现场管理类 (the site: equipment, places, work).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DangerCategory {
    Management,
    Site,
}

/// How a hidden danger came to the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DangerOrigin {
    /// A regulator's law-enforcement inspection (执法检查).
    Inspection,
    /// The enterprise's own check (自查).
    SelfInspection,
    /// A check of a special rectification campaign (专项整治).
    Campaign,
    /// A public tip-off (举报), once verified.
    Tipoff,
    /// The investigation of an incident.
    IncidentInvestigation,
}

/// Where a hidden danger stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DangerStatus {
    /// Major: waiting for a treatment plan (or for a better one, after the regulator returned it).
    AwaitingPlan,
    /// Major: a plan was submitted and waits for the regulator's check.
    PlanSubmitted,
    /// Being rectified: a general one from the start, a major one under its approved plan.
    Rectifying,
    /// The fix was reported and waits for the regulator's acceptance (验收 / 复查).
    AwaitingAcceptance,
    /// Accepted and closed off the ledger (销号).
    Closed,
}

/// Who acts on a hidden danger: the enterprise it belongs to (its `enterprise` account) or a
/// regulator who reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    Enterprise,
    Regulator,
}

/// The levels that list a major hidden danger for supervision (挂牌督办): the lister's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ListingLevel {
    District,
    City,
}

/// A step in a hidden danger's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DangerAction {
    /// The five implementations of a major one, for the regulator to check.
    SubmitPlan,
    /// The regulator's check of the plan: approved (rectification starts) or returned.
    ReviewPlan {
        approve: bool,
    },
    /// A progress report while rectifying (a major one reports on a rhythm).
    ReportProgress,
    /// The fix is done; photos after go with it.
    ReportFix,
    /// The regulator's acceptance: passed (closed off the ledger) or failed (back to work).
    Accept {
        pass: bool,
    },
    /// The enterprise's written explanation of a missed deadline.
    Explain,
    /// Listing for supervision, or ending it.
    List,
    Unlist,
}

names!(DangerLevel { General => "general", Major => "major" });
names!(DangerCategory { Management => "management", Site => "site" });
names!(DangerOrigin {
    Inspection => "inspection",
    SelfInspection => "self_inspection",
    Campaign => "campaign",
    Tipoff => "tipoff",
    IncidentInvestigation => "incident_investigation",
});
names!(DangerStatus {
    AwaitingPlan => "awaiting_plan",
    PlanSubmitted => "plan_submitted",
    Rectifying => "rectifying",
    AwaitingAcceptance => "awaiting_acceptance",
    Closed => "closed",
});
names!(ListingLevel { District => "district", City => "city" });

impl DangerStatus {
    /// Still on the ledger (not closed off).
    pub fn is_open(self) -> bool {
        self != DangerStatus::Closed
    }
}

/// Days before the rectification deadline when the enterprise and its regulator are reminded.
pub const REMINDER_DAYS: [u64; 2] = [3, 1];

/// The state a new hidden danger starts in. One fixed on the spot (当场整改) is closed at once
/// when a regulator records it, and waits for the regulator's acceptance when the enterprise
/// records it; a major one is never fixed on the spot (it needs its plan).
pub fn initial_status(
    level: DangerLevel,
    fixed_on_spot: bool,
    party: Party,
) -> Result<DangerStatus, &'static str> {
    match (level, fixed_on_spot, party) {
        (DangerLevel::Major, true, _) => Err("major_needs_plan"),
        (DangerLevel::Major, false, _) => Ok(DangerStatus::AwaitingPlan),
        (DangerLevel::General, false, _) => Ok(DangerStatus::Rectifying),
        (DangerLevel::General, true, Party::Regulator) => Ok(DangerStatus::Closed),
        (DangerLevel::General, true, Party::Enterprise) => Ok(DangerStatus::AwaitingAcceptance),
    }
}

/// The state after `action` by `party`, or the code of the refusal. Actions that record
/// something without moving the hidden danger (progress, explanations, listing) answer the
/// state it is in. Codes: `danger_closed` (nothing moves a closed one), `not_major` (plans
/// and listing are for major ones), `enterprise_cannot_review`, `enterprise_cannot_accept`,
/// `enterprise_cannot_list`, `plan_not_awaited`, `plan_not_submitted`, `plan_not_approved` (a
/// major one's fix or acceptance before its plan was approved), `not_rectifying`,
/// `not_awaiting_acceptance`.
pub fn transition(
    level: DangerLevel,
    status: DangerStatus,
    action: DangerAction,
    party: Party,
) -> Result<DangerStatus, &'static str> {
    use DangerStatus::*;
    if status == Closed {
        return Err("danger_closed");
    }
    let major = level == DangerLevel::Major;
    let before_plan = matches!(status, AwaitingPlan | PlanSubmitted);
    match action {
        DangerAction::SubmitPlan => {
            if !major {
                Err("not_major")
            } else if status != AwaitingPlan {
                Err("plan_not_awaited")
            } else {
                Ok(PlanSubmitted)
            }
        }
        DangerAction::ReviewPlan { approve } => {
            if party == Party::Enterprise {
                Err("enterprise_cannot_review")
            } else if !major {
                Err("not_major")
            } else if status != PlanSubmitted {
                Err("plan_not_submitted")
            } else if approve {
                Ok(Rectifying)
            } else {
                Ok(AwaitingPlan)
            }
        }
        DangerAction::ReportProgress => {
            if before_plan {
                Err("plan_not_approved")
            } else if status != Rectifying {
                Err("not_rectifying")
            } else {
                Ok(status)
            }
        }
        DangerAction::ReportFix => {
            if before_plan {
                Err("plan_not_approved")
            } else if status != Rectifying {
                Err("not_rectifying")
            } else {
                Ok(AwaitingAcceptance)
            }
        }
        DangerAction::Accept { pass } => {
            if party == Party::Enterprise {
                Err("enterprise_cannot_accept")
            } else if before_plan {
                Err("plan_not_approved")
            } else if status != AwaitingAcceptance {
                Err("not_awaiting_acceptance")
            } else if pass {
                Ok(Closed)
            } else {
                Ok(Rectifying)
            }
        }
        DangerAction::Explain => Ok(status),
        DangerAction::List | DangerAction::Unlist => {
            if party == Party::Enterprise {
                Err("enterprise_cannot_list")
            } else if !major {
                Err("not_major")
            } else {
                Ok(status)
            }
        }
    }
}

/// How an office's own hidden-danger ledger (隐患排查治理台账) says where one stands, as an import
/// reads it: still being rectified, fixed and waiting for acceptance, or closed off (销号).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerState {
    Open,
    AwaitingAcceptance,
    Closed,
}

/// The words office ledgers write, read without spaces; none when the cell says something else.
pub mod ledger_words {
    use super::{DangerCategory, DangerLevel, DangerOrigin, LedgerState};

    fn squeeze(text: &str) -> String {
        text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_lowercase()
    }

    /// 一般 / 一般隐患 / 一般事故隐患, 重大 / 重大隐患 / 重大事故隐患 (or the API's names).
    pub fn level(text: &str) -> Option<DangerLevel> {
        match squeeze(text).as_str() {
            "一般" | "一般隐患" | "一般事故隐患" | "general" => {
                Some(DangerLevel::General)
            }
            "重大" | "重大隐患" | "重大事故隐患" | "major" => Some(DangerLevel::Major),
            _ => None,
        }
    }

    /// 基础管理(类) and 现场管理(类).
    pub fn category(text: &str) -> Option<DangerCategory> {
        match squeeze(text).as_str() {
            "基础管理" | "基础管理类" | "管理类" | "management" => {
                Some(DangerCategory::Management)
            }
            "现场管理" | "现场管理类" | "现场类" | "site" => Some(DangerCategory::Site),
            _ => None,
        }
    }

    /// How it was found: an inspection, the enterprise's own check, a campaign, a tip-off, an
    /// incident's investigation.
    pub fn origin(text: &str) -> Option<DangerOrigin> {
        match squeeze(text).as_str() {
            "执法检查" | "监督检查" | "检查" | "监管检查" | "inspection" => {
                Some(DangerOrigin::Inspection)
            }
            "企业自查" | "自查" | "自查自报" | "self_inspection" => {
                Some(DangerOrigin::SelfInspection)
            }
            "专项整治" | "专项整治检查" | "专项检查" | "campaign" => {
                Some(DangerOrigin::Campaign)
            }
            "举报" | "群众举报" | "投诉举报" | "tipoff" => Some(DangerOrigin::Tipoff),
            "事故调查" | "incident_investigation" => Some(DangerOrigin::IncidentInvestigation),
            _ => None,
        }
    }

    /// 整改中 (or 未整改, 待整改, 正在整改), 待验收 (已整改待验收), 已销号 (已整改, 已验收, 已完成,
    /// 已闭环).
    pub fn state(text: &str) -> Option<LedgerState> {
        match squeeze(text).as_str() {
            "整改中" | "未整改" | "待整改" | "正在整改" | "open" => {
                Some(LedgerState::Open)
            }
            "待验收" | "已整改待验收" | "整改完成待验收" | "awaiting_acceptance" => {
                Some(LedgerState::AwaitingAcceptance)
            }
            "已销号" | "销号" | "已整改" | "已验收" | "已完成" | "已闭环" | "closed" => {
                Some(LedgerState::Closed)
            }
            _ => None,
        }
    }
}

/// The state an imported hidden danger takes: an open general one is being rectified, an open
/// major one waits for its plan (the five implementations are entered in Beacon, where they are
/// checked); a major one cannot wait for acceptance without an approved plan
/// (`major_plan_first`).
pub fn imported_status(
    level: DangerLevel,
    state: LedgerState,
) -> Result<DangerStatus, &'static str> {
    match (level, state) {
        (DangerLevel::General, LedgerState::Open) => Ok(DangerStatus::Rectifying),
        (DangerLevel::Major, LedgerState::Open) => Ok(DangerStatus::AwaitingPlan),
        (DangerLevel::General, LedgerState::AwaitingAcceptance) => {
            Ok(DangerStatus::AwaitingAcceptance)
        }
        (DangerLevel::Major, LedgerState::AwaitingAcceptance) => Err("major_plan_first"),
        (_, LedgerState::Closed) => Ok(DangerStatus::Closed),
    }
}

/// Whether an open hidden danger is past its deadline on `today` (the deadline day itself is
/// still in time: it ends at 24:00).
pub fn is_overdue(status: DangerStatus, deadline: NaiveDate, today: NaiveDate) -> bool {
    status.is_open() && today > deadline
}

/// How far a deadline may lie after the day a hidden danger was found: ten years.
pub const MAX_RECTIFICATION_DAYS: u64 = 3_660;

/// A rectification deadline: not before the day the hidden danger was found (`before_found`),
/// nor more than [`MAX_RECTIFICATION_DAYS`] after it (`out_of_range`).
pub fn check_deadline(found_on: NaiveDate, deadline: NaiveDate) -> Result<(), &'static str> {
    if deadline < found_on {
        Err("before_found")
    } else if found_on
        .checked_add_days(chrono::Days::new(MAX_RECTIFICATION_DAYS))
        .is_none_or(|last| deadline > last)
    {
        Err("out_of_range")
    } else {
        Ok(())
    }
}

/// The earliest day a hidden danger can have been found.
pub fn earliest_found_on() -> NaiveDate {
    NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN)
}

/// Funds of a plan: at most a hundred billion yuan, in fen.
pub const MAX_FUNDS_FEN: i64 = 100_000_000_000 * 100;

/// How production goes on while a major hidden danger is treated (原安监总局令第16号 第十五条:
/// stopped in whole or in part where its treatment requires it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Suspension {
    /// 全部停产停业.
    Whole,
    /// 局部停产停业: the installation or area concerned.
    Partial,
    /// Production goes on; the measures say how it is kept safe meanwhile.
    Continues,
}

names!(Suspension { Whole => "whole", Partial => "partial", Continues => "continues" });

/// A major hidden danger's treatment plan: the five implementations (五落实), each required,
/// and whether production stops meanwhile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TreatmentPlan {
    /// 措施落实: what will be done, and how production is suspended meanwhile.
    pub measures: String,
    /// 责任落实: who answers for it.
    pub responsible_person: String,
    /// 资金落实: funds set aside, in fen (CNY × 100); more than zero.
    pub funds_fen: i64,
    /// 时限落实: when it will be done.
    pub deadline: NaiveDate,
    /// 预案落实: the contingency plan while the danger lasts.
    pub contingency_plan: String,
    /// 停产停业 while it is treated: required in a new plan (plans written before it was asked
    /// for have none).
    #[serde(default)]
    pub suspension: Option<Suspension>,
}

impl TreatmentPlan {
    /// Checks the five implementations of a plan for a hidden danger found on `found_on`; each
    /// missing one is an error on its own field.
    pub fn validate(mut self, found_on: NaiveDate) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let mut text = |field: &str, value: &mut String, max: usize| match plain_text(value, max) {
            Ok(v) => *value = v,
            Err(code) => errors.add(field, code),
        };
        text("measures", &mut self.measures, 4000);
        text("responsible_person", &mut self.responsible_person, 64);
        text("contingency_plan", &mut self.contingency_plan, 4000);
        if self.funds_fen <= 0 {
            errors.add("funds_fen", "required");
        } else if self.funds_fen > MAX_FUNDS_FEN {
            errors.add("funds_fen", "out_of_range");
        }
        if let Err(code) = check_deadline(found_on, self.deadline) {
            errors.add("deadline", code);
        }
        if self.suspension.is_none() {
            errors.add("suspension", "required");
        }
        errors.into_result().map(|()| self)
    }
}

#[cfg(test)]
mod tests {
    use super::DangerAction::*;
    use super::DangerStatus::*;
    use super::*;

    const G: DangerLevel = DangerLevel::General;
    const M: DangerLevel = DangerLevel::Major;
    const E: Party = Party::Enterprise;
    const R: Party = Party::Regulator;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    #[test]
    fn names_round_trip() {
        for s in DangerStatus::ALL {
            assert_eq!(DangerStatus::parse(s.as_str()), Some(*s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for o in DangerOrigin::ALL {
            assert_eq!(DangerOrigin::parse(o.as_str()), Some(*o));
            assert_eq!(serde_json::to_value(o).unwrap(), o.as_str());
        }
        assert_eq!(DangerLevel::parse("major"), Some(M));
        assert_eq!(DangerLevel::parse("重大"), None);
        assert_eq!(ListingLevel::parse("city"), Some(ListingLevel::City));
        assert_eq!(DangerCategory::parse("site"), Some(DangerCategory::Site));
    }

    #[test]
    fn a_new_hidden_danger_starts_by_its_level() {
        assert_eq!(initial_status(G, false, E), Ok(Rectifying));
        assert_eq!(initial_status(G, false, R), Ok(Rectifying));
        assert_eq!(initial_status(M, false, R), Ok(AwaitingPlan));
        // Fixed on the spot: a regulator saw it fixed; the enterprise's own word waits.
        assert_eq!(initial_status(G, true, R), Ok(Closed));
        assert_eq!(initial_status(G, true, E), Ok(AwaitingAcceptance));
        assert_eq!(initial_status(M, true, R), Err("major_needs_plan"));
        assert_eq!(initial_status(M, true, E), Err("major_needs_plan"));
    }

    #[test]
    fn a_general_one_is_fixed_then_accepted() {
        let fixed = transition(G, Rectifying, ReportFix, E).unwrap();
        assert_eq!(fixed, AwaitingAcceptance);
        assert_eq!(transition(G, fixed, Accept { pass: false }, R), Ok(Rectifying));
        assert_eq!(transition(G, fixed, Accept { pass: true }, R), Ok(Closed));
        // Plans and listing are for major ones.
        assert_eq!(transition(G, Rectifying, SubmitPlan, E), Err("not_major"));
        assert_eq!(transition(G, Rectifying, ReviewPlan { approve: true }, R), Err("not_major"));
        assert_eq!(transition(G, Rectifying, List, R), Err("not_major"));
        // Acceptance before the fix is reported.
        assert_eq!(
            transition(G, Rectifying, Accept { pass: true }, R),
            Err("not_awaiting_acceptance")
        );
        // A fix reported twice.
        assert_eq!(transition(G, AwaitingAcceptance, ReportFix, E), Err("not_rectifying"));
    }

    #[test]
    fn a_major_one_goes_plan_rectification_acceptance() {
        let submitted = transition(M, AwaitingPlan, SubmitPlan, E).unwrap();
        assert_eq!(submitted, PlanSubmitted);
        assert_eq!(transition(M, submitted, SubmitPlan, E), Err("plan_not_awaited"));
        // Returned: the enterprise submits again.
        assert_eq!(transition(M, submitted, ReviewPlan { approve: false }, R), Ok(AwaitingPlan));
        let rectifying = transition(M, submitted, ReviewPlan { approve: true }, R).unwrap();
        assert_eq!(rectifying, Rectifying);
        assert_eq!(transition(M, rectifying, ReportProgress, E), Ok(Rectifying));
        let reported = transition(M, rectifying, ReportFix, E).unwrap();
        assert_eq!(transition(M, reported, Accept { pass: false }, R), Ok(Rectifying));
        assert_eq!(transition(M, reported, Accept { pass: true }, R), Ok(Closed));
    }

    #[test]
    fn a_major_one_is_not_fixed_or_closed_before_its_plan_is_approved() {
        for status in [AwaitingPlan, PlanSubmitted] {
            for party in [E, R] {
                assert_eq!(transition(M, status, ReportFix, party), Err("plan_not_approved"));
                assert_eq!(transition(M, status, ReportProgress, party), Err("plan_not_approved"));
            }
            assert_eq!(transition(M, status, Accept { pass: true }, R), Err("plan_not_approved"));
        }
        assert_eq!(
            transition(M, AwaitingPlan, ReviewPlan { approve: true }, R),
            Err("plan_not_submitted")
        );
    }

    #[test]
    fn the_enterprise_never_reviews_accepts_or_lists() {
        assert_eq!(
            transition(M, PlanSubmitted, ReviewPlan { approve: true }, E),
            Err("enterprise_cannot_review")
        );
        for level in [G, M] {
            assert_eq!(
                transition(level, AwaitingAcceptance, Accept { pass: true }, E),
                Err("enterprise_cannot_accept")
            );
        }
        assert_eq!(transition(M, Rectifying, List, E), Err("enterprise_cannot_list"));
        assert_eq!(transition(M, Rectifying, Unlist, E), Err("enterprise_cannot_list"));
        assert_eq!(transition(M, Rectifying, List, R), Ok(Rectifying));
        assert_eq!(transition(M, AwaitingPlan, Explain, E), Ok(AwaitingPlan));
    }

    #[test]
    fn nothing_moves_a_closed_one() {
        let actions = [
            SubmitPlan,
            ReviewPlan { approve: true },
            ReportProgress,
            ReportFix,
            Accept { pass: true },
            Explain,
            List,
            Unlist,
        ];
        for action in actions {
            for party in [E, R] {
                for level in [G, M] {
                    assert_eq!(transition(level, Closed, action, party), Err("danger_closed"));
                }
            }
        }
    }

    #[test]
    fn the_deadline_day_is_in_time() {
        assert!(!is_overdue(Rectifying, day(10), day(10)));
        assert!(is_overdue(Rectifying, day(10), day(11)));
        assert!(is_overdue(AwaitingAcceptance, day(10), day(11)));
        assert!(!is_overdue(Closed, day(10), day(11)));
        assert_eq!(check_deadline(day(10), day(10)), Ok(()));
        assert_eq!(check_deadline(day(10), day(9)), Err("before_found"));
        let last = day(10) + chrono::Days::new(MAX_RECTIFICATION_DAYS);
        assert_eq!(check_deadline(day(10), last), Ok(()));
        assert_eq!(check_deadline(day(10), last + chrono::Days::new(1)), Err("out_of_range"));
        assert_eq!(check_deadline(NaiveDate::MAX, NaiveDate::MAX), Err("out_of_range"));
    }

    #[test]
    fn a_plan_needs_all_five() {
        let plan = TreatmentPlan {
            measures: " 停产更换泄压装置 ".into(),
            responsible_person: "王安全".into(),
            funds_fen: 12_000_000,
            deadline: day(20),
            contingency_plan: "泄漏应急处置方案".into(),
            suspension: Some(Suspension::Partial),
        };
        let ok = plan.clone().validate(day(1)).unwrap();
        assert_eq!(ok.measures, "停产更换泄压装置");
        let missing = TreatmentPlan {
            measures: " ".into(),
            responsible_person: String::new(),
            funds_fen: 0,
            deadline: day(1),
            contingency_plan: String::new(),
            suspension: None,
        };
        let errors = missing.validate(day(2)).unwrap_err();
        for field in
            ["measures", "responsible_person", "funds_fen", "contingency_plan", "suspension"]
        {
            assert_eq!(errors.get(field), Some("required"), "{field}: {errors}");
        }
        assert_eq!(errors.get("deadline"), Some("before_found"));
        let costly = TreatmentPlan { funds_fen: MAX_FUNDS_FEN + 1, ..plan };
        assert_eq!(costly.validate(day(1)).unwrap_err().get("funds_fen"), Some("out_of_range"));
    }

    #[test]
    fn ledgers_are_read_in_their_own_words() {
        use super::ledger_words::{category, level, origin, state};
        assert_eq!(level(" 重大事故隐患 "), Some(DangerLevel::Major));
        assert_eq!(level("一般 隐患"), Some(DangerLevel::General));
        assert_eq!(level("较大"), None);
        assert_eq!(category("现场管理类"), Some(DangerCategory::Site));
        assert_eq!(category("基础管理"), Some(DangerCategory::Management));
        assert_eq!(origin("企业自查"), Some(DangerOrigin::SelfInspection));
        assert_eq!(origin("群众举报"), Some(DangerOrigin::Tipoff));
        assert_eq!(origin("巡查"), None);
        assert_eq!(state("已整改"), Some(LedgerState::Closed));
        assert_eq!(state("已整改待验收"), Some(LedgerState::AwaitingAcceptance));
        assert_eq!(state("未整改"), Some(LedgerState::Open));
        assert_eq!(state(""), None);
    }

    #[test]
    fn an_imported_major_one_waits_for_its_plan() {
        use DangerLevel::*;
        assert_eq!(imported_status(General, LedgerState::Open), Ok(DangerStatus::Rectifying));
        assert_eq!(imported_status(Major, LedgerState::Open), Ok(DangerStatus::AwaitingPlan));
        assert_eq!(
            imported_status(General, LedgerState::AwaitingAcceptance),
            Ok(DangerStatus::AwaitingAcceptance)
        );
        assert_eq!(
            imported_status(Major, LedgerState::AwaitingAcceptance),
            Err("major_plan_first")
        );
        assert_eq!(imported_status(Major, LedgerState::Closed), Ok(DangerStatus::Closed));
    }
}
