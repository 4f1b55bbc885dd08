//! The unified social credit code (统一社会信用代码, GB 32100-2015), which identifies an
//! enterprise: 18 characters from a 31-symbol alphabet, whose positions 9–17 are the
//! organisation code (GB 11714) with its own check character, and whose last character checks
//! the first seventeen.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The code's alphabet: digits and capital letters without I, O, S, V and Z.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of positions 1–17 (GB 32100-2015, 3ᵢ₋₁ mod 31).
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
/// Weights of the organisation code's first eight characters (GB 11714-1997).
const ORG_WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];

/// A code whose characters, organisation-code check and own check are right. Parsing trims
/// and upper-cases what was typed; the value is always the canonical 18 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uscc(String);

impl Uscc {
    /// Error codes: `required`, `length`, `invalid_character`, `organisation_code_check`,
    /// `check_character`.
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        let code: String = input.trim().to_uppercase();
        if code.is_empty() {
            return Err("required");
        }
        if code.chars().count() != 18 {
            return Err("length");
        }
        let bytes = code.as_bytes();
        let mut values = [0u32; 18];
        for (i, b) in bytes.iter().enumerate() {
            values[i] = symbol_value(*b).ok_or("invalid_character")?;
        }
        let org: [u8; 9] = bytes[8..17].try_into().map_err(|_| "length")?;
        if organisation_check(&org) != Some(org[8]) {
            return Err("organisation_code_check");
        }
        if check_character(&values[..17]) != bytes[17] {
            return Err("check_character");
        }
        Ok(Self(code))
    }

    /// Completes seventeen characters with their check character (the demo and tests make
    /// codes this way). `None` when a character is outside the alphabet or the organisation
    /// code's check is wrong.
    pub fn complete(first17: &str) -> Option<Self> {
        let bytes = first17.as_bytes();
        if bytes.len() != 17 {
            return None;
        }
        let values: Vec<u32> = bytes.iter().map(|b| symbol_value(*b)).collect::<Option<_>>()?;
        let org: [u8; 9] = bytes[8..17].try_into().ok()?;
        if organisation_check(&org) != Some(org[8]) {
            return None;
        }
        let mut code = first17.to_owned();
        code.push(check_character(&values) as char);
        Some(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Positions 3–8: the administrative division code of the registering authority.
    pub fn region(&self) -> &str {
        &self.0[2..8]
    }
}

/// The organisation code's check character for its first eight characters, or `None` when one
/// of them is not a digit or capital letter.
pub fn organisation_check(org: &[u8]) -> Option<u8> {
    let mut sum = 0;
    for (b, w) in org.iter().take(8).zip(ORG_WEIGHTS) {
        let v = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            _ => return None,
        };
        sum += v * w;
    }
    Some(match 11 - sum % 11 {
        10 => b'X',
        11 => b'0',
        c => b'0' + c as u8,
    })
}

fn symbol_value(b: u8) -> Option<u32> {
    ALPHABET.iter().position(|s| *s == b).map(|p| p as u32)
}

fn check_character(values: &[u32]) -> u8 {
    let sum: u32 = values.iter().zip(WEIGHTS).map(|(v, w)| v * w).sum();
    ALPHABET[((31 - sum % 31) % 31) as usize]
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Uscc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Uscc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Uscc::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Codes published by their holders, and the example of GB 32100.
    const VALID: [&str; 3] = ["91350100M000100Y43", "91110000802100433B", "91440300708461136T"];

    #[test]
    fn published_codes_pass() {
        for code in VALID {
            assert_eq!(Uscc::parse(code).unwrap().as_str(), code);
        }
        assert_eq!(Uscc::parse("91350100M000100Y43").unwrap().region(), "350100");
    }

    #[test]
    fn input_is_trimmed_and_upper_cased() {
        assert_eq!(Uscc::parse("  91350100m000100y43 ").unwrap().as_str(), "91350100M000100Y43");
    }

    #[test]
    fn shape_errors() {
        assert_eq!(Uscc::parse("  "), Err("required"));
        assert_eq!(Uscc::parse("91350100M000100Y4"), Err("length"));
        assert_eq!(Uscc::parse("91350100M000100Y433"), Err("length"));
        // I, O, S, V and Z are not in the alphabet; neither is anything non-ASCII.
        assert_eq!(Uscc::parse("91350100M000100YI3"), Err("invalid_character"));
        assert_eq!(Uscc::parse("9135010０M000100Y4"), Err("length"));
        assert_eq!(Uscc::parse("91350100M000100-43"), Err("invalid_character"));
    }

    #[test]
    fn every_wrong_check_character_is_refused() {
        for code in VALID {
            let (head, last) = code.split_at(17);
            for &c in ALPHABET.iter() {
                let candidate = format!("{head}{}", c as char);
                let expected =
                    if candidate.ends_with(last) { Ok(()) } else { Err("check_character") };
                assert_eq!(Uscc::parse(&candidate).map(|_| ()), expected, "{candidate}");
            }
        }
    }

    #[test]
    fn a_wrong_organisation_code_check_is_named() {
        // Change the organisation code's check (position 17) and repair the final check, so
        // only the inner check is wrong.
        let head = &VALID[0][..16];
        for &c in b"0123456789X" {
            let first17 = format!("{head}{}", c as char);
            if c == b'4' {
                continue;
            }
            let values: Vec<u32> = first17.bytes().map(|b| symbol_value(b).unwrap()).collect();
            let code = format!("{first17}{}", check_character(&values) as char);
            assert_eq!(Uscc::parse(&code), Err("organisation_code_check"), "{code}");
        }
    }

    #[test]
    fn organisation_check_boundaries() {
        // 11 - (sum mod 11) = 10 → X, = 11 → 0.
        assert_eq!(organisation_check(b"00000001"), Some(b'9'));
        assert_eq!(organisation_check(b"00000000"), Some(b'0'));
        assert_eq!(organisation_check(b"70846113"), Some(b'6'));
        assert_eq!(organisation_check(b"0000000a"), None);
        let x = (0..100_000u32)
            .map(|n| format!("{n:08}"))
            .find(|s| organisation_check(s.as_bytes()) == Some(b'X'))
            .unwrap();
        let sum: u32 = x.bytes().zip(ORG_WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
        assert_eq!(sum % 11, 1);
    }

    #[test]
    fn complete_makes_valid_codes() {
        let code = Uscc::complete("91350100M000100Y4").unwrap();
        assert_eq!(code.as_str(), "91350100M000100Y43");
        assert_eq!(Uscc::complete("91350100M000100Y"), None);
        assert_eq!(Uscc::complete("91350100M000100X4"), None);
    }

    #[test]
    fn json_round_trip_checks() {
        let code: Uscc = serde_json::from_str("\"91350100m000100y43\"").unwrap();
        assert_eq!(serde_json::to_string(&code).unwrap(), "\"91350100M000100Y43\"");
        assert!(serde_json::from_str::<Uscc>("\"91350100M000100Y44\"").is_err());
    }
}
