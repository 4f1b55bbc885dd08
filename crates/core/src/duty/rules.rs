//! Staffing rules per unit level and which roles may fill which post: editable data with the
//! defaults of DOMAIN.md §1.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::SlotKind;
use crate::error::ValidationErrors;
use crate::org::{Role, UnitLevel};

/// The minimum staffing of every moment of duty at units of one level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StaffingRule {
    pub level: UnitLevel,
    /// Duty leaders (带班领导) on shift.
    pub leaders: u8,
    /// Duty staff besides the leader (shift lead, officers, other posts).
    pub min_staff: u8,
}

/// The roles that may fill a kind of post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotEligibility {
    pub kind: SlotKind,
    pub roles: Vec<Role>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DutyRules {
    pub staffing: Vec<StaffingRule>,
    pub eligibility: Vec<SlotEligibility>,
}

impl Default for DutyRules {
    /// City level: a leader plus at least 4 staff; county level: a leader plus at least 3
    /// (DB3713/T 309-2023, the example DOMAIN.md cites). Levels the standard does not name take
    /// what their size allows: 2 staff at a province (which runs its own rules in practice, so
    /// this is a floor), township 2, community and department 1; every level needs a leader.
    fn default() -> Self {
        let rule = |level, min_staff| StaffingRule { level, leaders: 1, min_staff };
        let can = |kind, roles: &[Role]| SlotEligibility { kind, roles: roles.to_vec() };
        Self {
            staffing: vec![
                rule(UnitLevel::Province, 4),
                rule(UnitLevel::City, 4),
                rule(UnitLevel::District, 3),
                rule(UnitLevel::Township, 2),
                rule(UnitLevel::Community, 1),
                rule(UnitLevel::Department, 1),
            ],
            eligibility: vec![
                can(SlotKind::Leader, &[Role::DutyLeader, Role::Leader]),
                can(SlotKind::ShiftLead, &[Role::DutyOfficer]),
                can(SlotKind::Officer, &[Role::DutyOfficer, Role::Staff]),
                can(SlotKind::Post, &[Role::DutyOfficer, Role::Staff]),
            ],
        }
    }
}

impl DutyRules {
    /// Only a `duty_leader` or `leader` may ever be the duty leader, whatever the data says: the
    /// leader on shift decides for the bureau.
    const LEADER_ROLES: [Role; 2] = [Role::DutyLeader, Role::Leader];

    pub fn validate(mut self) -> Result<DutyRules, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        for level in UnitLevel::ALL {
            match self.staffing.iter().filter(|r| r.level == level).count() {
                1 => {}
                0 => errors.add(format!("staffing.{}", level.as_str()), "required"),
                _ => errors.add(format!("staffing.{}", level.as_str()), "duplicate"),
            }
        }
        for rule in &self.staffing {
            if !(1..=5).contains(&rule.leaders) {
                errors.add(format!("staffing.{}.leaders", rule.level.as_str()), "out_of_range");
            }
            if rule.min_staff > 30 {
                errors.add(format!("staffing.{}.min_staff", rule.level.as_str()), "out_of_range");
            }
        }
        for kind in SlotKind::ALL {
            let field = format!("eligibility.{}", kind.as_str());
            let entries: Vec<_> = self.eligibility.iter().filter(|e| e.kind == kind).collect();
            match entries.as_slice() {
                [one] => {
                    if one.roles.is_empty() {
                        errors.add(field, "required");
                    } else if one.roles.iter().any(|r| r.is_admin() || *r == Role::Enterprise) {
                        errors.add(field, "role_not_allowed");
                    } else if kind == SlotKind::Leader
                        && one.roles.iter().any(|r| !Self::LEADER_ROLES.contains(r))
                    {
                        errors.add(field, "leader_roles_only");
                    }
                }
                [] => errors.add(field, "required"),
                _ => errors.add(field, "duplicate"),
            }
        }
        self.staffing.sort_by_key(|r| UnitLevel::ALL.iter().position(|l| *l == r.level));
        self.eligibility.sort_by_key(|e| e.kind);
        for e in &mut self.eligibility {
            e.roles.sort();
            e.roles.dedup();
        }
        errors.into_result().map(|()| self)
    }

    pub fn staffing_for(&self, level: UnitLevel) -> StaffingRule {
        self.staffing.iter().find(|r| r.level == level).cloned().unwrap_or(StaffingRule {
            level,
            leaders: 1,
            min_staff: 1,
        })
    }

    /// Whether a person with `roles` may fill a post of `kind`.
    pub fn eligible(&self, kind: SlotKind, roles: &[Role]) -> bool {
        let allowed = self.eligibility.iter().find(|e| e.kind == kind).map(|e| e.roles.as_slice());
        let allowed = allowed.unwrap_or(if kind == SlotKind::Leader {
            &Self::LEADER_ROLES
        } else {
            &[Role::DutyOfficer]
        });
        roles.iter().any(|r| {
            allowed.contains(r) && (kind != SlotKind::Leader || Self::LEADER_ROLES.contains(r))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_standard() {
        let rules = DutyRules::default().validate().unwrap();
        assert_eq!(rules.staffing_for(UnitLevel::City).min_staff, 4);
        assert_eq!(rules.staffing_for(UnitLevel::District).min_staff, 3);
        assert!(rules.eligible(SlotKind::Leader, &[Role::Leader]));
        assert!(rules.eligible(SlotKind::Leader, &[Role::DutyLeader, Role::Staff]));
        assert!(!rules.eligible(SlotKind::Leader, &[Role::DutyOfficer]));
        assert!(rules.eligible(SlotKind::Officer, &[Role::DutyOfficer]));
        assert!(!rules.eligible(SlotKind::Officer, &[Role::Viewer]));
    }

    #[test]
    fn leader_posts_stay_with_leaders() {
        let mut rules = DutyRules::default();
        rules.eligibility[0].roles.push(Role::DutyOfficer);
        assert_eq!(
            rules.validate().unwrap_err().get("eligibility.leader"),
            Some("leader_roles_only")
        );
        let mut rules = DutyRules::default();
        rules.staffing.pop();
        rules.staffing[0].leaders = 0;
        let err = rules.validate().unwrap_err();
        assert_eq!(err.get("staffing.department"), Some("required"));
        assert_eq!(err.get("staffing.province.leaders"), Some("out_of_range"));
        let mut rules = DutyRules::default();
        rules.eligibility[1].roles = vec![Role::SystemAdmin];
        assert_eq!(
            rules.validate().unwrap_err().get("eligibility.shift_lead"),
            Some("role_not_allowed")
        );
    }
}
