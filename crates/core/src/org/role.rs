//! Roles (ARCHITECTURE.md "Who uses it") and what each may do.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    DutyOfficer,
    DutyLeader,
    Leader,
    Inspector,
    PetitionOfficer,
    Staff,
    Enterprise,
    SystemAdmin,
    SecurityAdmin,
    AuditAdmin,
    Viewer,
}

impl Role {
    pub const ALL: [Role; 11] = [
        Role::DutyOfficer,
        Role::DutyLeader,
        Role::Leader,
        Role::Inspector,
        Role::PetitionOfficer,
        Role::Staff,
        Role::Enterprise,
        Role::SystemAdmin,
        Role::SecurityAdmin,
        Role::AuditAdmin,
        Role::Viewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::DutyOfficer => "duty_officer",
            Role::DutyLeader => "duty_leader",
            Role::Leader => "leader",
            Role::Inspector => "inspector",
            Role::PetitionOfficer => "petition_officer",
            Role::Staff => "staff",
            Role::Enterprise => "enterprise",
            Role::SystemAdmin => "system_admin",
            Role::SecurityAdmin => "security_admin",
            Role::AuditAdmin => "audit_admin",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The three separated administrators (三员分立, GB/T 22239-2019 level 3).
    pub fn is_admin(self) -> bool {
        matches!(self, Role::SystemAdmin | Role::SecurityAdmin | Role::AuditAdmin)
    }

    /// The roles an API token may carry: those of an integration, not of a person's duties.
    /// The system administrator creates tokens and receives their secret, so a token with a
    /// business role would let an administrator act as a duty leader or read the duty log,
    /// breaking the separation of duties (三员分立). An enterprise's system reports incidents
    /// (`enterprise`); a display or another system reads (`viewer`). Nothing else.
    pub const TOKEN_ROLES: [Role; 2] = [Role::Enterprise, Role::Viewer];

    pub fn fits_token(self) -> bool {
        Role::TOKEN_ROLES.contains(&self)
    }

    pub fn permits(self, permission: Permission) -> bool {
        match permission {
            Permission::ManageOrg => self == Role::SystemAdmin,
            Permission::ManageSecurity => self == Role::SecurityAdmin,
            Permission::ReadAudit => self == Role::AuditAdmin,
            Permission::ViewAccounts => matches!(self, Role::SystemAdmin | Role::SecurityAdmin),
            Permission::ManageCalendar => self == Role::SystemAdmin,
            Permission::ReadDuty => !self.is_admin() && self != Role::Enterprise,
            Permission::ManageDuty => matches!(self, Role::DutyLeader | Role::Leader),
            Permission::ReadDutyLog => {
                matches!(self, Role::DutyOfficer | Role::DutyLeader | Role::Leader)
            }
            Permission::WriteDutyLog => matches!(self, Role::DutyOfficer | Role::DutyLeader),
            Permission::ReadIncidents => matches!(
                self,
                Role::DutyOfficer
                    | Role::DutyLeader
                    | Role::Leader
                    | Role::Inspector
                    | Role::Staff
                    | Role::Viewer
            ),
            Permission::ReportIncident => {
                matches!(self, Role::DutyOfficer | Role::DutyLeader | Role::Enterprise)
            }
            Permission::HandleIncidents => matches!(self, Role::DutyOfficer | Role::DutyLeader),
            Permission::LeadIncidents => matches!(self, Role::DutyLeader | Role::Leader),
            Permission::ReadEnterprises => matches!(
                self,
                Role::DutyOfficer
                    | Role::DutyLeader
                    | Role::Leader
                    | Role::Inspector
                    | Role::Staff
                    | Role::Viewer
            ),
            Permission::ManageEnterprises => {
                matches!(self, Role::Leader | Role::Inspector | Role::Staff)
            }
            Permission::HandleTipoffs => {
                matches!(self, Role::Leader | Role::Inspector | Role::Staff)
            }
            Permission::ApproveRewards => self == Role::Leader,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an action needs. Each maps to the roles that hold it in [`Role::permits`]; handlers ask
/// for a permission, never for a role, so the separation of duties lives here alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Units, users and API tokens (system administrator).
    ManageOrg,
    /// Password, lockout and session policy; unlocking accounts (security administrator).
    ManageSecurity,
    /// Reading and exporting the audit trail (audit administrator).
    ReadAudit,
    /// Seeing the list of accounts and their state (system and security administrators).
    ViewAccounts,
    /// Holidays and make-up working days (system administrator of the top unit).
    ManageCalendar,
    /// Rosters, who is on duty, the duty phone directory (every business role).
    ReadDuty,
    /// Duty settings, rosters, leave, reinforced periods, approving swaps (leaders).
    ManageDuty,
    /// Reading the duty log, which holds callers' names and phones (the duty desk and leaders).
    ReadDutyLog,
    /// Taking calls into the duty log (duty officers and duty leaders).
    WriteDutyLog,
    /// Incidents, their clocks and history (the business roles that follow emergencies).
    ReadIncidents,
    /// Registering an incident (the duty desk; an enterprise or another system by API token).
    ReportIncident,
    /// Changing facts, recording and acknowledging hops, closing (the duty desk).
    HandleIncidents,
    /// Overriding a grade, approving reports (duty leaders and unit leaders).
    LeadIncidents,
    /// The register of enterprises in the caller's territory or supervised by its department
    /// (the regulators and those who follow emergencies). An `enterprise` account does not hold
    /// it: it reaches its own enterprise only (`api::enterprise::Reach`).
    ReadEnterprises,
    /// Registering and changing enterprises, their licences, hazard sources and risk points;
    /// confirming an enterprise's own changes to its identity (the regulators).
    ManageEnterprises,
    /// The tip-off inbox of the caller's scope: verifying, concluding, transferring, answering,
    /// proposing rewards and recording their payment; reading a reporter's identity, for the
    /// handling unit's own people only (`api::tipoff`). The regulators.
    HandleTipoffs,
    /// Approving or rejecting a proposed tip-off reward (the unit's leaders; never their own
    /// proposal).
    ApproveRewards,
}

impl Permission {
    /// Whether what the permission changes holds for the whole deployment, so that only a holder
    /// whose unit is the top of the tree may use it. The holiday calendar moves every
    /// working-day deadline of every unit: a district administrator must not edit it.
    pub fn deployment_wide(self) -> bool {
        self == Permission::ManageCalendar
    }
}

/// Checks a set of roles for a user or token and returns it sorted and without duplicates.
///
/// The three administrator roles are mutually exclusive and are not combined with business roles:
/// an account that administers cannot also be the one that is administered or audited.
pub fn validate_roles(roles: &[Role]) -> Result<Vec<Role>, &'static str> {
    let mut roles = roles.to_vec();
    roles.sort();
    roles.dedup();
    if roles.is_empty() {
        return Err("required");
    }
    if roles.iter().any(|r| r.is_admin()) && roles.len() > 1 {
        return Err("admin_roles_exclusive");
    }
    Ok(roles)
}

/// Checks the roles of an API token: a valid set ([`validate_roles`]) of integration roles only
/// ([`Role::TOKEN_ROLES`]).
pub fn validate_token_roles(roles: &[Role]) -> Result<Vec<Role>, &'static str> {
    let roles = validate_roles(roles)?;
    if roles.iter().any(|r| r.is_admin()) {
        return Err("admin_role_not_allowed");
    }
    if !roles.iter().all(|r| r.fits_token()) {
        return Err("not_allowed_for_token");
    }
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn three_administrators_are_separated() {
        use Permission::*;
        let holders = |p| Role::ALL.into_iter().filter(|r| r.permits(p)).collect::<Vec<_>>();
        assert_eq!(holders(ManageOrg), vec![Role::SystemAdmin]);
        assert_eq!(holders(ManageSecurity), vec![Role::SecurityAdmin]);
        assert_eq!(holders(ReadAudit), vec![Role::AuditAdmin]);
        assert!(!Role::AuditAdmin.permits(ViewAccounts));
    }

    #[test]
    fn role_sets() {
        assert_eq!(validate_roles(&[]), Err("required"));
        assert_eq!(
            validate_roles(&[Role::Staff, Role::DutyOfficer, Role::Staff]),
            Ok(vec![Role::DutyOfficer, Role::Staff])
        );
        assert_eq!(
            validate_roles(&[Role::SystemAdmin, Role::AuditAdmin]),
            Err("admin_roles_exclusive")
        );
        assert_eq!(
            validate_roles(&[Role::SecurityAdmin, Role::Leader]),
            Err("admin_roles_exclusive")
        );
        assert_eq!(validate_roles(&[Role::AuditAdmin]), Ok(vec![Role::AuditAdmin]));
    }

    #[test]
    fn tokens_carry_integration_roles_only() {
        assert_eq!(
            validate_token_roles(&[Role::Viewer, Role::Enterprise]),
            Ok(vec![Role::Enterprise, Role::Viewer])
        );
        assert_eq!(validate_token_roles(&[]), Err("required"));
        assert_eq!(validate_token_roles(&[Role::SystemAdmin]), Err("admin_role_not_allowed"));
        for role in Role::ALL.into_iter().filter(|r| !r.is_admin() && !r.fits_token()) {
            assert_eq!(validate_token_roles(&[role]), Err("not_allowed_for_token"), "{role}");
            assert_eq!(
                validate_token_roles(&[Role::Viewer, role]),
                Err("not_allowed_for_token"),
                "{role}"
            );
        }
        // No token role reads the duty log, manages anything or handles incidents.
        for role in Role::TOKEN_ROLES {
            for p in [
                Permission::ReadDutyLog,
                Permission::WriteDutyLog,
                Permission::ManageDuty,
                Permission::HandleIncidents,
                Permission::LeadIncidents,
                Permission::ManageOrg,
            ] {
                assert!(!role.permits(p), "{role} {p:?}");
            }
        }
    }
}
