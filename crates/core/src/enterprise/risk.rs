//! Risk points and the four colours (双重预防, risk grading): the LEC method (作业条件危险性
//!评价法, D = L × E × C) with its fixed scales, the colour cut-offs (configurable; the defaults
//! are DOMAIN.md's: D ≥ 320 red, ≥ 160 orange, ≥ 70 yellow, else blue), the accident types of
//! GB 6441-1986 and the levels that control a risk.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The four risk colours, lowest first so that `max` is the most severe.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RiskColour {
    /// 低风险
    Blue,
    /// 一般风险
    Yellow,
    /// 较大风险
    Orange,
    /// 重大风险
    Red,
}

impl RiskColour {
    pub const ALL: [RiskColour; 4] =
        [RiskColour::Red, RiskColour::Orange, RiskColour::Yellow, RiskColour::Blue];

    pub fn as_str(self) -> &'static str {
        match self {
            RiskColour::Blue => "blue",
            RiskColour::Yellow => "yellow",
            RiskColour::Orange => "orange",
            RiskColour::Red => "red",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// The Chinese grade name (printed on notice cards).
    pub fn grade_name(self) -> &'static str {
        match self {
            RiskColour::Blue => "低风险",
            RiskColour::Yellow => "一般风险",
            RiskColour::Orange => "较大风险",
            RiskColour::Red => "重大风险",
        }
    }
}

/// L: likelihood of an accident (事故发生的可能性).
pub const L_SCALE: [f64; 7] = [0.1, 0.2, 0.5, 1.0, 3.0, 6.0, 10.0];
/// E: how often people are exposed (暴露于危险环境的频繁程度).
pub const E_SCALE: [f64; 6] = [0.5, 1.0, 2.0, 3.0, 6.0, 10.0];
/// C: consequence (发生事故产生的后果).
pub const C_SCALE: [f64; 6] = [1.0, 3.0, 7.0, 15.0, 40.0, 100.0];

/// An LEC evaluation whose three values lie on their scales.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Lec {
    pub l: f64,
    pub e: f64,
    pub c: f64,
}

impl Lec {
    /// Checks each value against its scale; errors are per field (`l`, `e`, `c`) with the
    /// code `not_on_scale`.
    pub fn new(l: f64, e: f64, c: f64) -> Result<Self, Vec<(&'static str, &'static str)>> {
        let mut errors = Vec::new();
        for (field, value, scale) in
            [("l", l, &L_SCALE[..]), ("e", e, &E_SCALE), ("c", c, &C_SCALE)]
        {
            if !scale.iter().any(|s| (s - value).abs() < 1e-9) {
                errors.push((field, "not_on_scale"));
            }
        }
        if errors.is_empty() { Ok(Self { l, e, c }) } else { Err(errors) }
    }

    /// D = L × E × C, rounded to hundredths (the smallest product is 0.1 × 0.5 × 1 = 0.05).
    pub fn d(&self) -> f64 {
        (self.l * self.e * self.c * 100.0).round() / 100.0
    }
}

/// The lowest D of each colour above blue.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LecCutoffs {
    pub red: f64,
    pub orange: f64,
    pub yellow: f64,
}

impl Default for LecCutoffs {
    fn default() -> Self {
        Self { red: 320.0, orange: 160.0, yellow: 70.0 }
    }
}

impl LecCutoffs {
    /// Cut-offs must be positive and rise from yellow to red (`cutoffs` → `not_ascending`).
    pub fn validate(self) -> Result<Self, &'static str> {
        let ok = self.yellow > 0.0
            && self.yellow < self.orange
            && self.orange < self.red
            && self.red.is_finite();
        if ok { Ok(self) } else { Err("not_ascending") }
    }

    pub fn colour(&self, d: f64) -> RiskColour {
        if d >= self.red {
            RiskColour::Red
        } else if d >= self.orange {
            RiskColour::Orange
        } else if d >= self.yellow {
            RiskColour::Yellow
        } else {
            RiskColour::Blue
        }
    }
}

/// The twenty accident categories of GB 6441-1986 (企业职工伤亡事故分类).
pub const ACCIDENT_TYPES: [(&str, &str); 20] = [
    ("struck_by_object", "物体打击"),
    ("vehicle", "车辆伤害"),
    ("machinery", "机械伤害"),
    ("lifting", "起重伤害"),
    ("electric_shock", "触电"),
    ("drowning", "淹溺"),
    ("scald_burn", "灼烫"),
    ("fire", "火灾"),
    ("fall_from_height", "高处坠落"),
    ("collapse", "坍塌"),
    ("roof_fall", "冒顶片帮"),
    ("water_inrush", "透水"),
    ("blasting", "放炮"),
    ("explosive_explosion", "火药爆炸"),
    ("gas_explosion", "瓦斯爆炸"),
    ("boiler_explosion", "锅炉爆炸"),
    ("vessel_explosion", "容器爆炸"),
    ("other_explosion", "其它爆炸"),
    ("poisoning_asphyxiation", "中毒和窒息"),
    ("other_injury", "其它伤害"),
];

/// An accident type's code from its code or Chinese name.
pub fn accident_type(input: &str) -> Option<&'static str> {
    super::industry::lookup(&ACCIDENT_TYPES, input)
}

/// Who controls a risk (分级管控): the company, a workshop, a team or a post.
pub const CONTROL_LEVELS: [(&str, &str); 4] =
    [("company", "公司级"), ("workshop", "车间级"), ("team", "班组级"), ("post", "岗位级")];

/// Evaluation methods; only LEC is computed today, the field leaves room for others.
pub const METHODS: [&str; 1] = ["lec"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_off_their_scales_are_named() {
        assert!(Lec::new(3.0, 6.0, 7.0).is_ok());
        assert_eq!(Lec::new(2.0, 6.0, 7.0), Err(vec![("l", "not_on_scale")]));
        assert_eq!(
            Lec::new(0.1, 4.0, 50.0),
            Err(vec![("e", "not_on_scale"), ("c", "not_on_scale")])
        );
        assert!(Lec::new(f64::NAN, 1.0, 1.0).is_err());
    }

    #[test]
    fn d_is_the_product() {
        assert_eq!(Lec::new(3.0, 6.0, 7.0).unwrap().d(), 126.0);
        assert_eq!(Lec::new(0.1, 0.5, 1.0).unwrap().d(), 0.05);
        assert_eq!(Lec::new(10.0, 10.0, 100.0).unwrap().d(), 10_000.0);
    }

    #[test]
    fn colours_at_the_cut_offs() {
        let c = LecCutoffs::default();
        assert_eq!(c.colour(320.0), RiskColour::Red);
        assert_eq!(c.colour(319.99), RiskColour::Orange);
        assert_eq!(c.colour(160.0), RiskColour::Orange);
        assert_eq!(c.colour(159.9), RiskColour::Yellow);
        assert_eq!(c.colour(70.0), RiskColour::Yellow);
        assert_eq!(c.colour(69.9), RiskColour::Blue);
        assert_eq!(c.colour(0.05), RiskColour::Blue);
        // Products that land on the cut-offs exactly: 10·3·... and 3·6·... shapes.
        assert_eq!(c.colour(Lec::new(10.0, 2.0, 15.0).unwrap().d()), RiskColour::Orange); // 300
        assert_eq!(c.colour(Lec::new(6.0, 6.0, 7.0).unwrap().d()), RiskColour::Orange); // 252
        assert_eq!(c.colour(Lec::new(10.0, 1.0, 7.0).unwrap().d()), RiskColour::Yellow); // 70
        assert_eq!(c.colour(Lec::new(6.0, 10.0, 7.0).unwrap().d()), RiskColour::Red); // 420
    }

    #[test]
    fn cut_offs_must_ascend() {
        assert!(LecCutoffs::default().validate().is_ok());
        let bad = LecCutoffs { red: 160.0, orange: 160.0, yellow: 70.0 };
        assert_eq!(bad.validate(), Err("not_ascending"));
        let bad = LecCutoffs { red: 320.0, orange: 160.0, yellow: 0.0 };
        assert_eq!(bad.validate(), Err("not_ascending"));
    }

    #[test]
    fn the_most_severe_colour_is_the_max() {
        let colours = [RiskColour::Blue, RiskColour::Orange, RiskColour::Yellow];
        assert_eq!(colours.into_iter().max(), Some(RiskColour::Orange));
        for c in RiskColour::ALL {
            assert_eq!(RiskColour::parse(c.as_str()), Some(c));
        }
    }

    #[test]
    fn twenty_accident_types() {
        assert_eq!(ACCIDENT_TYPES.len(), 20);
        assert_eq!(accident_type("中毒和窒息"), Some("poisoning_asphyxiation"));
    }
}
