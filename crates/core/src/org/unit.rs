//! Units (单位): the administrative tree every record hangs from.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A unit's code: the GB/T 2260 region code where the unit has one (`330100`), the 9- or
/// 12-digit statistical code of a township or village, or an internal code for a department.
/// ASCII letters, digits, `-` and `_`, 1–32 characters, starting with a letter or digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnitCode(String);

impl UnitCode {
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        let s = s.trim();
        if s.is_empty() {
            return Err("required");
        }
        if s.len() > 32 {
            return Err("too_long");
        }
        let mut chars = s.chars();
        let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphanumeric());
        if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err("invalid_format");
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A unit's display name: 1–64 characters, no control characters, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnitName(String);

impl UnitName {
    pub fn parse(s: &str) -> Result<Self, &'static str> {
        super::plain_text(s, 64).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Level of a unit in the administrative tree, plus `department` for the offices and agencies
/// that hang under any unit (a department's scope is only itself and its sub-departments).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UnitLevel {
    Province,
    City,
    District,
    Township,
    Community,
    Department,
}

impl UnitLevel {
    pub const ALL: [UnitLevel; 6] = [
        UnitLevel::Province,
        UnitLevel::City,
        UnitLevel::District,
        UnitLevel::Township,
        UnitLevel::Community,
        UnitLevel::Department,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            UnitLevel::Province => "province",
            UnitLevel::City => "city",
            UnitLevel::District => "district",
            UnitLevel::Township => "township",
            UnitLevel::Community => "community",
            UnitLevel::Department => "department",
        }
    }

    pub fn parse(s: &str) -> Option<UnitLevel> {
        UnitLevel::ALL.into_iter().find(|l| l.as_str() == s)
    }

    fn rank(self) -> Option<u8> {
        match self {
            UnitLevel::Province => Some(0),
            UnitLevel::City => Some(1),
            UnitLevel::District => Some(2),
            UnitLevel::Township => Some(3),
            UnitLevel::Community => Some(4),
            UnitLevel::Department => None,
        }
    }

    /// Whether a unit of level `child` may sit directly under `self`.
    ///
    /// Administrative levels go strictly downward but may skip a level (a city without districts
    /// has townships directly). Departments hang under any unit, and under a department only
    /// further departments.
    pub fn may_contain(self, child: UnitLevel) -> bool {
        match (self.rank(), child.rank()) {
            (_, None) => true,
            (None, Some(_)) => false,
            (Some(parent), Some(child)) => child > parent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(UnitCode::parse(" 330100 ").unwrap().as_str(), "330100");
        assert!(UnitCode::parse("330102001000").is_ok());
        assert!(UnitCode::parse("city-ema_1").is_ok());
        assert_eq!(UnitCode::parse(""), Err("required"));
        assert_eq!(UnitCode::parse("-abc"), Err("invalid_format"));
        assert_eq!(UnitCode::parse("a b"), Err("invalid_format"));
        assert_eq!(UnitCode::parse("市"), Err("invalid_format"));
        assert_eq!(UnitCode::parse(&"1".repeat(33)), Err("too_long"));
        assert!(UnitCode::parse(&"1".repeat(32)).is_ok());
    }

    #[test]
    fn names() {
        assert_eq!(UnitName::parse(" 临江市 ").unwrap().as_str(), "临江市");
        assert_eq!(UnitName::parse("   "), Err("required"));
        assert_eq!(UnitName::parse("a\u{0}b"), Err("invalid_characters"));
        assert!(UnitName::parse(&"区".repeat(64)).is_ok());
        assert_eq!(UnitName::parse(&"区".repeat(65)), Err("too_long"));
    }

    #[test]
    fn hierarchy() {
        use UnitLevel::*;
        assert!(City.may_contain(District));
        assert!(City.may_contain(Township));
        assert!(!District.may_contain(City));
        assert!(!District.may_contain(District));
        assert!(Community.may_contain(Department));
        assert!(Department.may_contain(Department));
        assert!(!Department.may_contain(Township));
        for level in UnitLevel::ALL {
            assert_eq!(UnitLevel::parse(level.as_str()), Some(level));
        }
    }
}
