//! The safety-production database (安全生产数据库, DOMAIN.md section 3): what identifies and
//! classifies an enterprise, its licences, major hazard sources and risk points. Pure rules and
//! reference data; the store keeps the records.

pub mod hazard_source;
pub mod industry;
pub mod risk;
pub mod uscc;

pub use hazard_source::{ALPHA_STEPS, HazardGrade, Holding, Identification, cas_number, identify};
pub use risk::{Lec, LecCutoffs, RiskColour};
pub use uscc::Uscc;

/// An enterprise's state. Closing keeps the record (nothing is deleted).
pub const STATUSES: [&str; 3] = ["operating", "suspended", "closed"];

/// Safety-standardisation grades (安全生产标准化等级), with an expiry date on the record.
pub const STANDARD_GRADES: [(&str, &str); 3] =
    [("first", "一级"), ("second", "二级"), ("third", "三级")];

/// Marks that put an enterprise under closer watch (重点企业标记).
pub const MARKS: [(&str, &str); 7] = [
    ("key_supervision", "重点监管"),
    ("major_hazard", "重大危险源"),
    ("dust_explosion", "粉尘涉爆"),
    ("ammonia_refrigeration", "涉氨制冷"),
    ("confined_space", "有限空间作业"),
    ("metal_smelting", "金属冶炼"),
    ("hazardous_chemicals_use", "危险化学品使用"),
];

/// Kinds of licence and certificate kept per enterprise (and, for the last two, per person).
pub const LICENCE_KINDS: [(&str, &str); 7] = [
    ("safety_production", "安全生产许可证"),
    ("hazchem_business", "危险化学品经营许可证"),
    ("hazchem_use", "危险化学品安全使用许可证"),
    ("fireworks_business", "烟花爆竹经营许可证"),
    ("special_equipment_operator", "特种设备作业人员证"),
    ("special_work", "特种作业操作证"),
    ("other", "其他证照"),
];

/// Licence kinds that name the person who holds them.
pub fn licence_names_holder(kind: &str) -> bool {
    matches!(kind, "special_equipment_operator" | "special_work")
}

/// Days before a licence expires when its holder's regulators are reminded.
pub const LICENCE_REMINDER_DAYS: [i64; 2] = [90, 30];

/// A code from a reference table by its code or Chinese name (forms and imports).
pub fn reference(table: &[(&'static str, &'static str)], input: &str) -> Option<&'static str> {
    industry::lookup(table, input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_match_code_or_name() {
        assert_eq!(reference(&MARKS, "粉尘涉爆"), Some("dust_explosion"));
        assert_eq!(reference(&LICENCE_KINDS, "special_work"), Some("special_work"));
        assert_eq!(reference(&STANDARD_GRADES, "四级"), None);
        assert!(licence_names_holder("special_work"));
        assert!(!licence_names_holder("safety_production"));
    }
}
