//! Organisation: units, users, roles and the security policy that governs sign-in.

mod account;
mod model;
mod policy;
mod role;
mod unit;
mod user;

pub use account::{AccountChange, Caller, check_account_change};
pub use model::{AccountLock, ApiToken, Unit, UnitRef, User};
pub use policy::{PASSWORD_MAX_LENGTH, PasswordCheck, SecurityPolicy};
pub use role::{Permission, Role, validate_roles, validate_token_roles};
pub use unit::{UnitCode, UnitLevel, UnitName};
pub use user::{DisplayName, Phone, Username};

pub use crate::text::plain_text;

/// Masks a phone number for records that must not carry it whole (the audit trail): keeps the
/// first three and last four digits.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_phones() {
        assert_eq!(super::mask_phone("13800138000"), "138****8000");
        assert_eq!(super::mask_phone("110"), "***");
    }
}
