//! Major hazard sources (重大危险源, GB 18218-2018 《危险化学品重大危险源辨识》): a unit is one when
//! S = Σ qᵢ/Qᵢ ≥ 1 over the hazardous substances it holds (q the quantity present, Q the
//! critical quantity of Table 1 or 2, both in tonnes); its grade follows from
//! R = α · Σ βᵢ · qᵢ/Qᵢ (β the substance's correction factor, Table 3 and 4; α the factor for
//! people exposed outside the plant, Table 5): 一级 R ≥ 100, 二级 50 ≤ R < 100,
//! 三级 10 ≤ R < 50, 四级 R < 10. The factors are reference data an administrator keeps; this
//! module only computes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Table 5: α by the number of people who may be exposed outside the plant (within 500 m of its
/// boundary), as (code, α). The UI offers these; the identification accepts any α > 0.
pub const ALPHA_STEPS: [(&str, f64); 5] = [
    ("people_100_plus", 2.0),
    ("people_50_99", 1.5),
    ("people_30_49", 1.2),
    ("people_1_29", 1.0),
    ("people_0", 0.5),
];

/// Checks a CAS registry number (`7664-41-7`): two to seven digits, two digits, a check digit
/// that is the sum of the other digits weighted 1, 2, 3… from the right, modulo 10.
pub fn cas_number(s: &str) -> Result<String, &'static str> {
    let s = s.trim();
    let parts: Vec<&str> = s.split('-').collect();
    let shaped = parts.len() == 3
        && (2..=7).contains(&parts[0].len())
        && parts[1].len() == 2
        && parts[2].len() == 1
        && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()));
    if !shaped {
        return Err("invalid_format");
    }
    let digits: Vec<u32> =
        s.bytes().filter(u8::is_ascii_digit).map(|b| u32::from(b - b'0')).collect();
    let Some((check, body)) = digits.split_last() else { return Err("invalid_format") };
    let sum: u32 = body.iter().rev().enumerate().map(|(i, d)| (i as u32 + 1) * d).sum();
    if sum % 10 != *check {
        return Err("check_character");
    }
    Ok(s.to_owned())
}

/// One substance held: the quantity present and the factors that apply to it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Holding {
    /// q, tonnes.
    pub quantity_t: f64,
    /// Q, tonnes.
    pub critical_t: f64,
    /// β.
    pub beta: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HazardGrade {
    /// 一级
    First,
    /// 二级
    Second,
    /// 三级
    Third,
    /// 四级
    Fourth,
}

impl HazardGrade {
    pub fn as_str(self) -> &'static str {
        match self {
            HazardGrade::First => "first",
            HazardGrade::Second => "second",
            HazardGrade::Third => "third",
            HazardGrade::Fourth => "fourth",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::First, Self::Second, Self::Third, Self::Fourth].into_iter().find(|g| g.as_str() == s)
    }

    pub fn from_r(r: f64) -> Self {
        if r >= 100.0 {
            HazardGrade::First
        } else if r >= 50.0 {
            HazardGrade::Second
        } else if r >= 10.0 {
            HazardGrade::Third
        } else {
            HazardGrade::Fourth
        }
    }
}

/// What the identification finds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Identification {
    /// S = Σ q/Q.
    pub s: f64,
    /// S ≥ 1.
    pub major: bool,
    /// R = α · Σ β·q/Q; computed whatever S is.
    pub r: f64,
    /// The grade from R when the unit is a major hazard source.
    pub grade: Option<HazardGrade>,
}

/// Checks the inputs: every quantity ≥ 0 and finite, every critical quantity and factor > 0.
/// Errors name the holding's index (`substances[2].critical_t`) or `alpha`.
pub fn identify(
    alpha: f64,
    holdings: &[Holding],
) -> Result<Identification, Vec<(String, &'static str)>> {
    let mut errors = Vec::new();
    if !(alpha.is_finite() && alpha > 0.0) {
        errors.push(("alpha".to_owned(), "must_be_positive"));
    }
    if holdings.is_empty() {
        errors.push(("substances".to_owned(), "required"));
    }
    for (i, h) in holdings.iter().enumerate() {
        if !(h.quantity_t.is_finite() && h.quantity_t >= 0.0) {
            errors.push((format!("substances[{i}].quantity_t"), "must_not_be_negative"));
        }
        if !(h.critical_t.is_finite() && h.critical_t > 0.0) {
            errors.push((format!("substances[{i}].critical_t"), "must_be_positive"));
        }
        if !(h.beta.is_finite() && h.beta > 0.0) {
            errors.push((format!("substances[{i}].beta"), "must_be_positive"));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let s: f64 = holdings.iter().map(|h| h.quantity_t / h.critical_t).sum();
    let r = alpha * holdings.iter().map(|h| h.beta * h.quantity_t / h.critical_t).sum::<f64>();
    // Sums of ratios carry binary noise; compare at a millionth so 0.5 + 0.5 is exactly one.
    let s = round6(s);
    let r = round6(r);
    let major = s >= 1.0;
    Ok(Identification { s, major, r, grade: major.then(|| HazardGrade::from_r(r)) })
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(q: f64, big_q: f64, beta: f64) -> Holding {
        Holding { quantity_t: q, critical_t: big_q, beta }
    }

    #[test]
    fn s_at_the_threshold() {
        let found = identify(1.0, &[h(2.5, 5.0, 1.0), h(5.0, 10.0, 1.0)]).unwrap();
        assert_eq!(found.s, 1.0);
        assert!(found.major);
        let found = identify(1.0, &[h(4.99, 5.0, 1.0)]).unwrap();
        assert!(!found.major);
        assert_eq!(found.grade, None);
        // Three thirds make one, despite binary fractions.
        let found = identify(1.0, &[h(1.0, 3.0, 1.0), h(1.0, 3.0, 1.0), h(1.0, 3.0, 1.0)]).unwrap();
        assert!(found.major);
    }

    #[test]
    fn grades_at_their_boundaries() {
        assert_eq!(HazardGrade::from_r(100.0), HazardGrade::First);
        assert_eq!(HazardGrade::from_r(99.999), HazardGrade::Second);
        assert_eq!(HazardGrade::from_r(50.0), HazardGrade::Second);
        assert_eq!(HazardGrade::from_r(49.99), HazardGrade::Third);
        assert_eq!(HazardGrade::from_r(10.0), HazardGrade::Third);
        assert_eq!(HazardGrade::from_r(9.99), HazardGrade::Fourth);
    }

    #[test]
    fn r_weights_by_beta_and_alpha() {
        // 20 t of a substance with Q = 5 t and β = 2, α = 1.5: S = 4, R = 1.5 · 2 · 4 = 12.
        let found = identify(1.5, &[h(20.0, 5.0, 2.0)]).unwrap();
        assert_eq!(found.s, 4.0);
        assert_eq!(found.r, 12.0);
        assert_eq!(found.grade, Some(HazardGrade::Third));
        let found = identify(2.0, &[h(50.0, 1.0, 1.0)]).unwrap();
        assert_eq!(found.grade, Some(HazardGrade::First));
    }

    #[test]
    fn cas_numbers_check_their_last_digit() {
        assert_eq!(cas_number(" 7664-41-7 ").unwrap(), "7664-41-7");
        assert_eq!(cas_number("68476-85-7").unwrap(), "68476-85-7");
        assert_eq!(cas_number("7664-41-8"), Err("check_character"));
        assert_eq!(cas_number("7664417"), Err("invalid_format"));
        assert_eq!(cas_number("7-41-7"), Err("invalid_format"));
        assert_eq!(cas_number("76a4-41-7"), Err("invalid_format"));
    }

    #[test]
    fn bad_inputs_are_named() {
        let errors = identify(0.0, &[h(-1.0, 0.0, f64::NAN)]).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            ["alpha", "substances[0].quantity_t", "substances[0].critical_t", "substances[0].beta"]
        );
        assert_eq!(identify(1.0, &[]).unwrap_err()[0].0, "substances");
    }
}
