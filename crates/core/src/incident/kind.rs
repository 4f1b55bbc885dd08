//! The taxonomy of incidents: production-safety accidents by industry, natural disasters and
//! other emergencies. Each kind names the sector whose grading table and re-reporting window
//! apply (DOMAIN.md §2: road traffic and fire have their own rules).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The broad class of an incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    ProductionSafety,
    NaturalDisaster,
    OtherEmergency,
}

/// The sector whose grading table applies.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Sector {
    /// 生产安全事故报告和调查处理条例 Art. 3: every accident without a sector rule.
    General,
    RoadTraffic,
    Fire,
}

impl Sector {
    pub const ALL: [Sector; 3] = [Sector::General, Sector::RoadTraffic, Sector::Fire];

    pub fn as_str(self) -> &'static str {
        match self {
            Sector::General => "general",
            Sector::RoadTraffic => "road_traffic",
            Sector::Fire => "fire",
        }
    }

    pub fn parse(s: &str) -> Option<Sector> {
        Sector::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Days after the accident within which a change in casualties must be re-reported
    /// (Art. 13: 30 days; 7 for road traffic and fire).
    pub fn follow_up_days(self) -> i64 {
        match self {
            Sector::General => 30,
            Sector::RoadTraffic | Sector::Fire => 7,
        }
    }
}

macro_rules! kinds {
    ($($variant:ident = $code:literal, $category:ident, $sector:ident;)*) => {
        /// The type of an incident (API field `kind`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum IncidentKind {
            $($variant,)*
        }

        impl IncidentKind {
            pub const ALL: &'static [IncidentKind] = &[$(IncidentKind::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(IncidentKind::$variant => $code,)*
                }
            }

            pub fn category(self) -> Category {
                match self {
                    $(IncidentKind::$variant => Category::$category,)*
                }
            }

            pub fn sector(self) -> Sector {
                match self {
                    $(IncidentKind::$variant => Sector::$sector,)*
                }
            }
        }
    };
}

kinds! {
    HazardousChemicals = "hazardous_chemicals", ProductionSafety, General;
    CoalMining = "coal_mining", ProductionSafety, General;
    NonCoalMining = "non_coal_mining", ProductionSafety, General;
    Construction = "construction", ProductionSafety, General;
    IndustryTrade = "industry_trade", ProductionSafety, General;
    Fireworks = "fireworks", ProductionSafety, General;
    SpecialEquipment = "special_equipment", ProductionSafety, General;
    RoadTraffic = "road_traffic", ProductionSafety, RoadTraffic;
    WaterTransport = "water_transport", ProductionSafety, General;
    Fire = "fire", ProductionSafety, Fire;
    OtherProduction = "other_production", ProductionSafety, General;
    Flood = "flood", NaturalDisaster, General;
    Geological = "geological", NaturalDisaster, General;
    Earthquake = "earthquake", NaturalDisaster, General;
    ForestFire = "forest_fire", NaturalDisaster, General;
    Meteorological = "meteorological", NaturalDisaster, General;
    OtherEmergency = "other_emergency", OtherEmergency, General;
}

impl IncidentKind {
    /// The kind of a code, or `unknown_kind`.
    pub fn parse(s: &str) -> Result<IncidentKind, &'static str> {
        IncidentKind::ALL.iter().copied().find(|k| k.as_str() == s).ok_or("unknown_kind")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_serde_agrees() {
        for kind in IncidentKind::ALL {
            assert_eq!(IncidentKind::parse(kind.as_str()), Ok(*kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        assert_eq!(IncidentKind::parse("volcano"), Err("unknown_kind"));
    }

    #[test]
    fn road_traffic_and_fire_have_their_own_sector_and_a_shorter_window() {
        assert_eq!(IncidentKind::RoadTraffic.sector(), Sector::RoadTraffic);
        assert_eq!(IncidentKind::Fire.sector(), Sector::Fire);
        assert_eq!(IncidentKind::ForestFire.sector(), Sector::General);
        assert_eq!(Sector::RoadTraffic.follow_up_days(), 7);
        assert_eq!(Sector::General.follow_up_days(), 30);
    }
}
