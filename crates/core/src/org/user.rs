//! Account fields that must be valid before they reach the store.

use serde::{Deserialize, Serialize};

/// A sign-in name: 3–32 characters of lowercase ASCII letters, digits, `.`, `_` and `-`, starting
/// with a letter or digit. Stored lowercase so `Zhang.San` and `zhang.san` are one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Username(String);

impl Username {
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let s = s.trim().to_ascii_lowercase();
        if s.is_empty() {
            return Err("required");
        }
        if s.chars().count() < 3 {
            return Err("too_short");
        }
        if s.chars().count() > 32 {
            return Err("too_long");
        }
        let mut chars = s.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
        let rest_ok = chars
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
        if !first_ok || !rest_ok {
            return Err("invalid_format");
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A person's name as shown in lists: 1–32 characters, trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        super::plain_text(s, 32).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A telephone number as offices write them: a mobile (`13800138000`), a landline with area code
/// (`0571-87654321`), an extension (`0571-87654321-8001`) or an international form (`+86 …`).
/// Digits with optional leading `+`, inner spaces and hyphens; at most 24 characters and 3–18 digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let s = s.trim();
        if s.is_empty() {
            return Err("required");
        }
        let body = s.strip_prefix('+').unwrap_or(s);
        let shape_ok = body.chars().all(|c| c.is_ascii_digit() || c == '-' || c == ' ')
            && body.starts_with(|c: char| c.is_ascii_digit())
            && body.ends_with(|c: char| c.is_ascii_digit());
        let digits = body.chars().filter(char::is_ascii_digit).count();
        if !shape_ok || !(3..=18).contains(&digits) || s.len() > 24 {
            return Err("invalid_format");
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(Username::parse(" Zhang.San ").unwrap().as_str(), "zhang.san");
        assert_eq!(Username::parse("ab"), Err("too_short"));
        assert_eq!(Username::parse("_abc"), Err("invalid_format"));
        assert_eq!(Username::parse("张三abc"), Err("invalid_format"));
        assert_eq!(Username::parse("a b c"), Err("invalid_format"));
        assert_eq!(Username::parse(&"a".repeat(33)), Err("too_long"));
        assert!(Username::parse(&"a".repeat(32)).is_ok());
    }

    #[test]
    fn display_names() {
        assert_eq!(DisplayName::parse(" 张三 ").unwrap().as_str(), "张三");
        assert_eq!(DisplayName::parse(""), Err("required"));
        assert_eq!(DisplayName::parse("a\nb"), Err("invalid_characters"));
    }

    #[test]
    fn phones() {
        for ok in ["13800138000", "0571-87654321", "0571-87654321-8001", "+86 138 0013 8000", "110"]
        {
            assert!(Phone::parse(ok).is_ok(), "{ok}");
        }
        for bad in ["abc", "12", "1380013800a", "-110", "138--", "+", "1234567890123456789"] {
            assert_eq!(Phone::parse(bad), Err("invalid_format"), "{bad}");
        }
    }
}
