//! Who may change which account (三员分立). Administrator accounts are created, and their
//! passwords reset, only by an operator on the server (the `beacon` CLI): a system administrator
//! working through the API could otherwise mint a security or audit administrator and act as one.

use super::Role;

/// Who asks for the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller<'a> {
    /// An operator on the server, through the CLI.
    Operator,
    /// A signed-in user (a system administrator) through the API.
    User { id: &'a str },
}

/// What is being done to an account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AccountChange<'a> {
    pub new_roles: Option<&'a [Role]>,
    pub deactivate: bool,
    pub move_unit: bool,
    pub delete: bool,
    pub reset_password: bool,
}

/// Checks a change against the separation of duties; the error is a stable code.
pub fn check_account_change(
    caller: Caller<'_>,
    target_id: Option<&str>,
    target_roles: &[Role],
    change: &AccountChange<'_>,
) -> Result<(), &'static str> {
    let Caller::User { id } = caller else {
        return Ok(());
    };
    if target_roles.iter().any(|r| r.is_admin()) {
        return Err("admin_account_cli_only");
    }
    if change.new_roles.is_some_and(|roles| roles.iter().any(|r| r.is_admin())) {
        return Err("admin_role_cli_only");
    }
    let own = target_id == Some(id);
    let touches_own_access = change.deactivate
        || change.delete
        || change.move_unit
        || change.reset_password
        || change.new_roles.is_some_and(|roles| roles != target_roles);
    if own && touches_own_access {
        return Err("cannot_change_own_account");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN: Caller<'static> = Caller::User { id: "admin" };

    #[test]
    fn operator_may_do_anything() {
        let change = AccountChange { new_roles: Some(&[Role::AuditAdmin]), ..Default::default() };
        assert_eq!(
            check_account_change(Caller::Operator, None, &[Role::SecurityAdmin], &change),
            Ok(())
        );
    }

    #[test]
    fn admin_accounts_and_roles_are_cli_only() {
        let none = AccountChange::default();
        assert_eq!(
            check_account_change(ADMIN, Some("u1"), &[Role::AuditAdmin], &none),
            Err("admin_account_cli_only")
        );
        let grant = AccountChange { new_roles: Some(&[Role::SecurityAdmin]), ..Default::default() };
        assert_eq!(
            check_account_change(ADMIN, Some("u1"), &[Role::Staff], &grant),
            Err("admin_role_cli_only")
        );
        assert_eq!(check_account_change(ADMIN, None, &[], &grant), Err("admin_role_cli_only"));
        let staff = AccountChange { new_roles: Some(&[Role::Staff]), ..Default::default() };
        assert_eq!(check_account_change(ADMIN, None, &[], &staff), Ok(()));
    }

    #[test]
    fn nobody_locks_themselves_out() {
        let disable = AccountChange { deactivate: true, ..Default::default() };
        assert_eq!(
            check_account_change(Caller::User { id: "me" }, Some("me"), &[Role::Leader], &disable),
            Err("cannot_change_own_account")
        );
        let same_roles = AccountChange { new_roles: Some(&[Role::Leader]), ..Default::default() };
        assert_eq!(
            check_account_change(
                Caller::User { id: "me" },
                Some("me"),
                &[Role::Leader],
                &same_roles
            ),
            Ok(())
        );
    }
}
