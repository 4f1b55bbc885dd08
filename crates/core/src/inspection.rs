//! Inspections (docs/inspections.md): a regulator's law-enforcement inspection (执法检查) or an
//! enterprise's own check (自查), who took part, and what a finding may cite. Pure rules; the
//! store keeps the records.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::danger::DangerOrigin;

/// What kind of check it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InspectionKind {
    /// A regulator's law-enforcement inspection (执法检查): at least two inspectors.
    Enforcement,
    /// The enterprise's own check (自查).
    SelfInspection,
    /// A check of a special rectification campaign (专项整治检查): names its campaign.
    Campaign,
}

impl InspectionKind {
    pub const ALL: [InspectionKind; 3] =
        [InspectionKind::Enforcement, InspectionKind::SelfInspection, InspectionKind::Campaign];

    pub fn as_str(self) -> &'static str {
        match self {
            InspectionKind::Enforcement => "enforcement",
            InspectionKind::SelfInspection => "self_inspection",
            InspectionKind::Campaign => "campaign",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// How a hidden danger its findings become came to the ledger.
    pub fn origin(self) -> DangerOrigin {
        match self {
            InspectionKind::Enforcement => DangerOrigin::Inspection,
            InspectionKind::SelfInspection => DangerOrigin::SelfInspection,
            InspectionKind::Campaign => DangerOrigin::Campaign,
        }
    }
}

/// A law-enforcement inspection is made by at least two inspectors (行政处罚法 第四十二条:
/// 执法人员不得少于两人).
pub const MIN_ENFORCEMENT_INSPECTORS: usize = 2;
/// At most this many people are named on one inspection.
pub const MAX_INSPECTORS: usize = 20;
/// The longest name of a person on an inspection.
pub const NAME_MAX: usize = 64;
/// At most this many findings on one inspection.
pub const MAX_FINDINGS: usize = 200;

/// The people who made the check, trimmed, blanks dropped and each named once, in the order
/// given: `required` when nobody is named, `at_least_two` for an enforcement inspection by
/// fewer than two, `too_many`, or `too_long` for a name over [`NAME_MAX`] characters.
pub fn check_inspectors(
    kind: InspectionKind,
    names: &[String],
) -> Result<Vec<String>, &'static str> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        let name = name.trim();
        if name.is_empty() || out.iter().any(|n| n == name) {
            continue;
        }
        if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
            return Err("too_long");
        }
        out.push(name.to_owned());
    }
    if out.is_empty() {
        return Err("required");
    }
    if kind == InspectionKind::Enforcement && out.len() < MIN_ENFORCEMENT_INSPECTORS {
        return Err("at_least_two");
    }
    if out.len() > MAX_INSPECTORS {
        return Err("too_many");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn an_enforcement_inspection_needs_two_people() {
        let k = InspectionKind::Enforcement;
        assert_eq!(check_inspectors(k, &names(&["陈检查"])), Err("at_least_two"));
        // The same person twice, or a blank, does not make two.
        assert_eq!(check_inspectors(k, &names(&["陈检查", " 陈检查 ", ""])), Err("at_least_two"));
        assert_eq!(
            check_inspectors(k, &names(&[" 陈检查", "王执法 "])),
            Ok(names(&["陈检查", "王执法"]))
        );
        assert_eq!(check_inspectors(k, &[]), Err("required"));
        let crowd: Vec<String> = (0..21).map(|i| format!("检查员{i}")).collect();
        assert_eq!(check_inspectors(k, &crowd), Err("too_many"));
        assert_eq!(check_inspectors(k, &names(&["陈检查", &"长".repeat(65)])), Err("too_long"));
    }

    #[test]
    fn a_self_inspection_may_be_one_person() {
        let k = InspectionKind::SelfInspection;
        assert_eq!(check_inspectors(k, &names(&["吴安全员"])), Ok(names(&["吴安全员"])));
        assert_eq!(check_inspectors(k, &names(&["  "])), Err("required"));
        assert_eq!(k.origin(), DangerOrigin::SelfInspection);
        for kind in InspectionKind::ALL {
            assert_eq!(InspectionKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(InspectionKind::Enforcement.origin(), DangerOrigin::Inspection);
        assert_eq!(InspectionKind::Campaign.origin(), DangerOrigin::Campaign);
        let one = names(&["网格员"]);
        assert_eq!(check_inspectors(InspectionKind::Campaign, &one), Ok(one.clone()));
    }
}
