//! Security policy (等保 2.0, GB/T 22239-2019 level 3: identification and authentication):
//! password complexity and periodic change, lockout after repeated failures, idle timeout.
//! Defaults follow the Beacon foundation issue; the security administrator may change them within
//! the bounds below, which keep the level-3 baseline.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ValidationErrors;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecurityPolicy {
    /// Minimum password length in characters (8–64).
    pub password_min_length: u32,
    /// How many of the four character classes (lowercase, uppercase, digits, other) a password
    /// must use (2–4).
    pub password_min_classes: u32,
    /// Days after which a password must be changed; 0 disables expiry (0–365).
    pub password_max_age_days: u32,
    /// Failed sign-ins within the window that lock the account (3–10).
    pub lockout_threshold: u32,
    /// Window over which failures are counted, in minutes (1–1440).
    pub lockout_window_minutes: u32,
    /// How long a locked account stays locked, in minutes (1–1440).
    pub lockout_duration_minutes: u32,
    /// A session unused this long is closed, in minutes (5–120).
    pub idle_timeout_minutes: u32,
    /// A session ends this long after sign-in whatever its use, in minutes (30–1440).
    pub session_lifetime_minutes: u32,
    /// Accounts created or reset by an administrator must change their password at first sign-in.
    pub force_change_on_first_login: bool,
}

impl Default for SecurityPolicy {
    fn default() -> Self {
        Self {
            password_min_length: 10,
            password_min_classes: 3,
            password_max_age_days: 90,
            lockout_threshold: 5,
            lockout_window_minutes: 15,
            lockout_duration_minutes: 15,
            idle_timeout_minutes: 30,
            session_lifetime_minutes: 12 * 60,
            force_change_on_first_login: true,
        }
    }
}

/// Why a password was refused; the code is shown to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCheck {
    TooShort,
    TooLong,
    TooFewClasses,
    ContainsUsername,
}

impl PasswordCheck {
    pub fn code(self) -> &'static str {
        match self {
            PasswordCheck::TooShort => "password_too_short",
            PasswordCheck::TooLong => "password_too_long",
            PasswordCheck::TooFewClasses => "password_too_few_classes",
            PasswordCheck::ContainsUsername => "password_contains_username",
        }
    }
}

/// Upper bound on password length: Argon2 would hash anything, but a megabyte "password" is an
/// attack on CPU, not a credential.
pub const PASSWORD_MAX_LENGTH: usize = 128;

impl SecurityPolicy {
    pub fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let mut within = |field: &str, value: u32, min: u32, max: u32| {
            if value < min || value > max {
                errors.add(field, "out_of_range");
            }
        };
        within("password_min_length", self.password_min_length, 8, 64);
        within("password_min_classes", self.password_min_classes, 2, 4);
        within("password_max_age_days", self.password_max_age_days, 0, 365);
        within("lockout_threshold", self.lockout_threshold, 3, 10);
        within("lockout_window_minutes", self.lockout_window_minutes, 1, 1440);
        within("lockout_duration_minutes", self.lockout_duration_minutes, 1, 1440);
        within("idle_timeout_minutes", self.idle_timeout_minutes, 5, 120);
        within("session_lifetime_minutes", self.session_lifetime_minutes, 30, 1440);
        if self.idle_timeout_minutes > self.session_lifetime_minutes {
            errors.add("idle_timeout_minutes", "exceeds_session_lifetime");
        }
        errors.into_result()
    }

    /// Checks a new password against the policy and the account it is for.
    pub fn check_password(&self, password: &str, username: &str) -> Result<(), PasswordCheck> {
        let length = password.chars().count();
        if length > PASSWORD_MAX_LENGTH {
            return Err(PasswordCheck::TooLong);
        }
        if length < self.password_min_length as usize {
            return Err(PasswordCheck::TooShort);
        }
        let classes = [
            password.chars().any(|c| c.is_ascii_lowercase()),
            password.chars().any(|c| c.is_ascii_uppercase()),
            password.chars().any(|c| c.is_ascii_digit()),
            password.chars().any(|c| !c.is_ascii_alphanumeric()),
        ];
        if (classes.iter().filter(|c| **c).count() as u32) < self.password_min_classes {
            return Err(PasswordCheck::TooFewClasses);
        }
        if username.len() >= 3 && password.to_lowercase().contains(&username.to_lowercase()) {
            return Err(PasswordCheck::ContainsUsername);
        }
        Ok(())
    }

    /// Whether a password set at `changed_at` has passed its maximum age at `now`.
    pub fn password_expired(&self, changed_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
        self.password_max_age_days > 0
            && now >= changed_at + Duration::days(i64::from(self.password_max_age_days))
    }

    pub fn lockout_window(&self) -> Duration {
        Duration::minutes(i64::from(self.lockout_window_minutes))
    }

    pub fn lockout_duration(&self) -> Duration {
        Duration::minutes(i64::from(self.lockout_duration_minutes))
    }

    pub fn idle_timeout(&self) -> Duration {
        Duration::minutes(i64::from(self.idle_timeout_minutes))
    }

    pub fn session_lifetime(&self) -> Duration {
        Duration::minutes(i64::from(self.session_lifetime_minutes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::from_millis;

    #[test]
    fn defaults_are_the_level_three_baseline() {
        let p = SecurityPolicy::default();
        assert!(p.validate().is_ok());
        assert_eq!(p.password_min_length, 10);
        assert_eq!(p.lockout_threshold, 5);
        assert_eq!(p.idle_timeout_minutes, 30);
        assert_eq!(p.session_lifetime_minutes, 720);
    }

    #[test]
    fn password_rules_at_their_boundaries() {
        let p = SecurityPolicy::default();
        // 9 characters, 3 classes: one short of the minimum.
        assert_eq!(p.check_password("Abcdefg1x", "zhang"), Err(PasswordCheck::TooShort));
        // 10 characters, 3 classes.
        assert_eq!(p.check_password("Abcdefg1xy", "zhang"), Ok(()));
        // 10 characters, 2 classes.
        assert_eq!(p.check_password("abcdefg1xy", "zhang"), Err(PasswordCheck::TooFewClasses));
        // symbols and non-ASCII count as the fourth class.
        assert_eq!(p.check_password("abcdefgh1!", "zhang"), Ok(()));
        assert_eq!(p.check_password("abcdefgh1应", "zhang"), Ok(()));
        assert_eq!(
            p.check_password("Zhang.San-2026", "zhang.san"),
            Err(PasswordCheck::ContainsUsername)
        );
        let long = format!("Aa1{}", "x".repeat(PASSWORD_MAX_LENGTH));
        assert_eq!(p.check_password(&long, "zhang"), Err(PasswordCheck::TooLong));
    }

    #[test]
    fn expiry() {
        let p = SecurityPolicy::default();
        let set = from_millis(0);
        assert!(!p.password_expired(set, set + Duration::days(90) - Duration::milliseconds(1)));
        assert!(p.password_expired(set, set + Duration::days(90)));
        let never = SecurityPolicy { password_max_age_days: 0, ..p };
        assert!(!never.password_expired(set, set + Duration::days(10_000)));
    }

    #[test]
    fn bounds() {
        let weak = SecurityPolicy {
            password_min_length: 6,
            lockout_threshold: 50,
            idle_timeout_minutes: 600,
            ..SecurityPolicy::default()
        };
        let errors = weak.validate().unwrap_err();
        assert_eq!(errors.get("password_min_length"), Some("out_of_range"));
        assert_eq!(errors.get("lockout_threshold"), Some("out_of_range"));
        assert_eq!(errors.get("idle_timeout_minutes"), Some("out_of_range"));
        let inverted = SecurityPolicy {
            idle_timeout_minutes: 60,
            session_lifetime_minutes: 30,
            ..SecurityPolicy::default()
        };
        assert_eq!(
            inverted.validate().unwrap_err().get("idle_timeout_minutes"),
            Some("exceeds_session_lifetime")
        );
    }
}
