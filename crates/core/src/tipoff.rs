//! Public tip-offs (举报; the fifteen measures No. 13; docs/tipoffs.md): the states of a
//! tip-off's handling, the query code a reporter keeps, the verification period and the reward
//! schedule of 安全生产领域举报奖励办法 (安监总财〔2018〕19号).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::error::ValidationErrors;

/// Where a tip-off's handling stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TipoffStatus {
    /// Received and being verified (待核查).
    Received,
    /// Verified as true: it became a hidden danger (属实).
    Founded,
    /// Verified as untrue, with the reasons (不属实).
    Unfounded,
}

names!(TipoffStatus { Received => "received", Founded => "founded", Unfounded => "unfounded" });

/// Where a reward stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RewardStatus {
    /// Proposed with its amount, waiting for a leader.
    Proposed,
    Approved,
    Rejected,
    Paid,
}

names!(RewardStatus {
    Proposed => "proposed",
    Approved => "approved",
    Rejected => "rejected",
    Paid => "paid",
});

/// What the reporter sees by the query code: `processing` until the reply is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PublicStatus {
    Processing,
    Answered,
}

/// A step of a tip-off's handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TipoffAction {
    /// The verification's outcome.
    Conclude,
    /// Handing it to another unit (转办), before it is concluded.
    Transfer,
    Reply,
    ProposeReward,
    ReviewReward,
    RecordPayment,
}

/// Whether `action` may be taken now: the stable code of the conflict otherwise. `proposer_is_me`
/// says whether the caller proposed the reward under review (a leader does not approve their
/// own proposal).
pub fn check_action(
    action: TipoffAction,
    status: TipoffStatus,
    replied: bool,
    reward: Option<RewardStatus>,
    proposer_is_me: bool,
) -> Result<(), &'static str> {
    match action {
        TipoffAction::Conclude | TipoffAction::Transfer => {
            if status != TipoffStatus::Received {
                return Err("already_concluded");
            }
        }
        TipoffAction::Reply => {
            if status == TipoffStatus::Received {
                return Err("not_concluded");
            }
            if replied {
                return Err("already_replied");
            }
        }
        TipoffAction::ProposeReward => {
            if status != TipoffStatus::Founded {
                return Err("not_founded");
            }
            if matches!(
                reward,
                Some(RewardStatus::Proposed | RewardStatus::Approved | RewardStatus::Paid)
            ) {
                return Err("reward_exists");
            }
        }
        TipoffAction::ReviewReward => {
            if reward != Some(RewardStatus::Proposed) {
                return Err("no_reward_proposal");
            }
            if proposer_is_me {
                return Err("own_proposal");
            }
        }
        TipoffAction::RecordPayment => {
            if reward != Some(RewardStatus::Approved) {
                return Err("reward_not_approved");
            }
        }
    }
    Ok(())
}

/// How a reward is reckoned for one level of hidden danger: a share of the administrative
/// penalty, between a floor and a ceiling (CNY). A ceiling of 0 means no rule is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RewardRule {
    /// Per cent of the penalty imposed.
    pub rate_percent: u32,
    pub min_yuan: u64,
    pub max_yuan: u64,
}

/// The reward schedule. The major rule is the national one (安全生产领域举报奖励办法,
/// 安监总财〔2018〕19号: 15 % of the penalty, at least 3,000 and at most 300,000 yuan); the
/// national rules set no amount for a general hidden danger, so that rule stays empty until
/// the bureau enters its local one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RewardSchedule {
    pub major: RewardRule,
    pub general: RewardRule,
}

impl Default for RewardSchedule {
    fn default() -> Self {
        Self {
            major: RewardRule { rate_percent: 15, min_yuan: 3_000, max_yuan: 300_000 },
            general: RewardRule { rate_percent: 0, min_yuan: 0, max_yuan: 0 },
        }
    }
}

/// The most a penalty can be, in fen (10 billion yuan): beyond it a figure is a typing error.
pub const MAX_PENALTY_FEN: u64 = 1_000_000_000_000;

impl RewardRule {
    /// The reward, in fen, for a penalty of `penalty_fen`: the share, raised to the floor and
    /// cut to the ceiling. `no_reward_rule` when the level has no rule.
    pub fn amount_fen(&self, penalty_fen: u64) -> Result<u64, &'static str> {
        if self.max_yuan == 0 {
            return Err("no_reward_rule");
        }
        if penalty_fen > MAX_PENALTY_FEN {
            return Err("out_of_range");
        }
        let share = penalty_fen * u64::from(self.rate_percent) / 100;
        Ok(share.clamp(self.min_yuan * 100, self.max_yuan * 100))
    }

    fn check(&self, field: &str, errors: &mut ValidationErrors) {
        if self.rate_percent > 100 {
            errors.add(format!("{field}.rate_percent"), "out_of_range");
        }
        if self.max_yuan > 10_000_000 {
            errors.add(format!("{field}.max_yuan"), "out_of_range");
        }
        if self.min_yuan > self.max_yuan {
            errors.add(format!("{field}.min_yuan"), "above_max");
        }
    }
}

/// The bureau's settings for tip-offs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TipoffSettings {
    /// Days to verify a tip-off, counted as calendar days from the day after it came in.
    pub verify_days: u32,
    /// Tip-offs one address may send in 24 hours.
    pub per_address_per_day: u32,
    pub reward: RewardSchedule,
}

/// The default verification period.
pub const DEFAULT_VERIFY_DAYS: u32 = 15;

impl Default for TipoffSettings {
    fn default() -> Self {
        Self {
            verify_days: DEFAULT_VERIFY_DAYS,
            per_address_per_day: 5,
            reward: RewardSchedule::default(),
        }
    }
}

impl TipoffSettings {
    pub fn validate(self) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        if !(1..=90).contains(&self.verify_days) {
            errors.add("verify_days", "out_of_range");
        }
        if !(1..=100).contains(&self.per_address_per_day) {
            errors.add("per_address_per_day", "out_of_range");
        }
        self.reward.major.check("reward.major", &mut errors);
        self.reward.general.check("reward.general", &mut errors);
        errors.into_result().map(|()| self)
    }
}

/// The characters of a query code: digits and capitals without 0/O, 1/I/L, which are misread.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const CODE_LENGTH: usize = 16;

/// A new query code (about 79 bits), grouped for reading aloud: `ABCD-EFGH-JKMN-PQRS`.
pub fn new_query_code() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    let mut out = String::with_capacity(CODE_LENGTH + 3);
    for i in 0..CODE_LENGTH {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let index = rng.random_range(0..CODE_ALPHABET.len());
        out.push(char::from(CODE_ALPHABET[index]));
    }
    out
}

/// The hash a query code is stored and looked up by (the code itself is never stored), or none
/// when the text cannot be a code: upper-cased, spaces and dashes dropped.
pub fn query_code_hash(text: &str) -> Option<String> {
    let code: String = text
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\t'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if code.len() != CODE_LENGTH || !code.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
        return None;
    }
    Some(hex::encode(Sha256::digest(code.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_codes_are_read_forgivingly_and_hashed() {
        let code = new_query_code();
        assert_eq!(code.len(), 19);
        let hash = query_code_hash(&code);
        assert!(hash.is_some());
        assert_eq!(query_code_hash(&code.to_lowercase().replace('-', " ")), hash);
        assert_ne!(query_code_hash(&new_query_code()), hash);
        assert_eq!(query_code_hash("ABCD-EFGH"), None);
        assert_eq!(query_code_hash("0000-0000-0000-0000"), None);
    }

    #[test]
    fn the_national_major_rule_and_an_empty_general_one() {
        let schedule = RewardSchedule::default();
        // 15 % of a 50,000-yuan penalty is 7,500 yuan.
        assert_eq!(schedule.major.amount_fen(5_000_000), Ok(750_000));
        // The floor and the ceiling.
        assert_eq!(schedule.major.amount_fen(100_000), Ok(300_000));
        assert_eq!(schedule.major.amount_fen(100_000_000_000), Ok(30_000_000));
        assert_eq!(schedule.general.amount_fen(100_000), Err("no_reward_rule"));
        assert_eq!(schedule.major.amount_fen(MAX_PENALTY_FEN + 1), Err("out_of_range"));
    }

    #[test]
    fn settings_are_checked() {
        assert!(TipoffSettings::default().validate().is_ok());
        let mut bad = TipoffSettings { verify_days: 0, ..Default::default() };
        bad.reward.general = RewardRule { rate_percent: 120, min_yuan: 10, max_yuan: 5 };
        let errors = bad.validate().err().unwrap_or_default();
        assert_eq!(errors.get("verify_days"), Some("out_of_range"));
        assert_eq!(errors.get("reward.general.rate_percent"), Some("out_of_range"));
        assert_eq!(errors.get("reward.general.min_yuan"), Some("above_max"));
    }

    #[test]
    fn steps_in_order_and_four_eyes_on_rewards() {
        use TipoffAction::*;
        use TipoffStatus::*;
        assert_eq!(check_action(Conclude, Received, false, None, false), Ok(()));
        assert_eq!(check_action(Conclude, Founded, false, None, false), Err("already_concluded"));
        assert_eq!(check_action(Transfer, Unfounded, false, None, false), Err("already_concluded"));
        assert_eq!(check_action(Reply, Received, false, None, false), Err("not_concluded"));
        assert_eq!(check_action(Reply, Unfounded, true, None, false), Err("already_replied"));
        assert_eq!(check_action(ProposeReward, Unfounded, false, None, false), Err("not_founded"));
        let proposed = Some(RewardStatus::Proposed);
        assert_eq!(
            check_action(ProposeReward, Founded, false, proposed, false),
            Err("reward_exists")
        );
        let rejected = Some(RewardStatus::Rejected);
        assert_eq!(check_action(ProposeReward, Founded, false, rejected, false), Ok(()));
        assert_eq!(check_action(ReviewReward, Founded, false, proposed, true), Err("own_proposal"));
        assert_eq!(
            check_action(ReviewReward, Founded, false, None, false),
            Err("no_reward_proposal")
        );
        assert_eq!(
            check_action(RecordPayment, Founded, false, proposed, false),
            Err("reward_not_approved")
        );
        let approved = Some(RewardStatus::Approved);
        assert_eq!(check_action(RecordPayment, Founded, false, approved, false), Ok(()));
    }
}
