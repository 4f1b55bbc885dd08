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
    ($($variant:ident = $code:literal, $zh:literal, $en:literal, $category:ident, $sector:ident;)*) => {
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

            /// The kind's name in Chinese and in English, for documents and workbooks the
            /// server writes (the UI has its own translations).
            pub fn names(self) -> (&'static str, &'static str) {
                match self {
                    $(IncidentKind::$variant => ($zh, $en),)*
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
    HazardousChemicals = "hazardous_chemicals", "危险化学品", "Hazardous chemicals", ProductionSafety, General;
    CoalMining = "coal_mining", "煤矿", "Coal mining", ProductionSafety, General;
    NonCoalMining = "non_coal_mining", "非煤矿山", "Non-coal mining", ProductionSafety, General;
    Construction = "construction", "建筑施工", "Construction", ProductionSafety, General;
    IndustryTrade = "industry_trade", "工贸", "Industry and trade", ProductionSafety, General;
    Fireworks = "fireworks", "烟花爆竹", "Fireworks", ProductionSafety, General;
    SpecialEquipment = "special_equipment", "特种设备", "Special equipment", ProductionSafety, General;
    RoadTraffic = "road_traffic", "道路交通", "Road traffic", ProductionSafety, RoadTraffic;
    WaterTransport = "water_transport", "水上交通", "Water transport", ProductionSafety, General;
    Fire = "fire", "火灾", "Fire", ProductionSafety, Fire;
    OtherProduction = "other_production", "其他生产安全事故", "Other production accident", ProductionSafety, General;
    Flood = "flood", "洪涝", "Flood", NaturalDisaster, General;
    Geological = "geological", "地质灾害", "Geological disaster", NaturalDisaster, General;
    Earthquake = "earthquake", "地震", "Earthquake", NaturalDisaster, General;
    ForestFire = "forest_fire", "森林火灾", "Forest fire", NaturalDisaster, General;
    Meteorological = "meteorological", "气象灾害", "Meteorological disaster", NaturalDisaster, General;
    OtherEmergency = "other_emergency", "其他突发事件", "Other emergency", OtherEmergency, General;
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
