//! Reporting obligations (DOMAIN.md §2, Arts. 9–11): each hop up the chain has its own clock.
//! The first hop is due a fixed time after the accident (1 hour); each later hop is due a fixed
//! time after the previous hop was done (2 hours), so its due time exists only once the
//! previous hop is done. How far up the chain goes depends on the grade (Art. 10).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::grade::Grade;
use super::kind::Sector;
use crate::error::ValidationErrors;
use crate::org::UnitLevel;

/// One hop up the chain, lowest first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Hop {
    /// The unit where it happened to the county-level department.
    UnitToCounty,
    CountyToCity,
    CityToProvince,
    /// The province to the State Council's department.
    ProvinceToNational,
}

impl Hop {
    pub const ALL: [Hop; 4] =
        [Hop::UnitToCounty, Hop::CountyToCity, Hop::CityToProvince, Hop::ProvinceToNational];

    pub fn as_str(self) -> &'static str {
        match self {
            Hop::UnitToCounty => "unit_to_county",
            Hop::CountyToCity => "county_to_city",
            Hop::CityToProvince => "city_to_province",
            Hop::ProvinceToNational => "province_to_national",
        }
    }

    pub fn parse(s: &str) -> Option<Hop> {
        Hop::ALL.into_iter().find(|h| h.as_str() == s)
    }

    /// The level that receives the report of this hop.
    pub fn addressee_level(self) -> Option<UnitLevel> {
        match self {
            Hop::UnitToCounty => Some(UnitLevel::District),
            Hop::CountyToCity => Some(UnitLevel::City),
            Hop::CityToProvince => Some(UnitLevel::Province),
            Hop::ProvinceToNational => None,
        }
    }

    /// The level that must send this hop's report (`None`: the unit where it happened).
    pub fn sender_level(self) -> Option<UnitLevel> {
        match self {
            Hop::UnitToCounty => None,
            Hop::CountyToCity => Some(UnitLevel::District),
            Hop::CityToProvince => Some(UnitLevel::City),
            Hop::ProvinceToNational => Some(UnitLevel::Province),
        }
    }
}

/// The hops a grade requires (Art. 10): `ordinary` up to the districted city,
/// `relatively_serious` to the province, `serious` and above to the State Council department.
pub fn hops_for(grade: Grade) -> &'static [Hop] {
    match grade {
        Grade::Ordinary => &Hop::ALL[..2],
        Grade::RelativelySerious => &Hop::ALL[..3],
        Grade::Serious | Grade::ParticularlySerious => &Hop::ALL,
    }
}

/// The hops already done when an incident is registered at a unit of `level` (the desk that
/// registers it has received it): at a district or below, the first hop; at the city, the
/// city has it, the county level being skipped (Art. 11 allows skipping levels).
pub fn done_on_intake(level: UnitLevel) -> &'static [Hop] {
    match level {
        UnitLevel::Province => &Hop::ALL[..3],
        UnitLevel::City => &Hop::ALL[..2],
        UnitLevel::District
        | UnitLevel::Township
        | UnitLevel::Community
        | UnitLevel::Department => &Hop::ALL[..1],
    }
}

/// The time limits of the chain; stricter provinces change them (DOMAIN.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChainRules {
    /// From the accident to the first hop's report (Art. 9: 60).
    pub first_hop_minutes: u32,
    /// From receiving a report to passing it up (Art. 11: 120).
    pub next_hop_minutes: u32,
}

impl Default for ChainRules {
    fn default() -> Self {
        Self { first_hop_minutes: 60, next_hop_minutes: 120 }
    }
}

impl ChainRules {
    pub fn validate(self) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        for (field, minutes) in [
            ("first_hop_minutes", self.first_hop_minutes),
            ("next_hop_minutes", self.next_hop_minutes),
        ] {
            if !(1..=24 * 60).contains(&minutes) {
                errors.add(field, "out_of_range");
            }
        }
        errors.into_result().map(|()| self)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HopStatus {
    /// Not done, and not yet due (or not yet started: no due time).
    Pending,
    /// Done on time.
    Done,
    /// Done after it was due.
    Late,
    /// Not done and past due.
    Overdue,
}

/// One hop's clock as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Obligation {
    pub hop: Hop,
    /// `None` until the previous hop is done.
    pub due_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    pub status: HopStatus,
}

/// The status of a clock at `now`: due exactly at `due_at` (done then is on time; not done
/// then is overdue).
pub fn status(
    due_at: Option<DateTime<Utc>>,
    done_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> HopStatus {
    match (due_at, done_at) {
        (Some(due), Some(done)) if done > due => HopStatus::Late,
        (_, Some(_)) => HopStatus::Done,
        (Some(due), None) if now >= due => HopStatus::Overdue,
        _ => HopStatus::Pending,
    }
}

/// The obligations of an incident of `grade` that occurred at `occurred_at`, given the hops
/// done so far. Hops the grade no longer requires stay listed once done: what was reported
/// is a fact.
pub fn obligations(
    grade: Grade,
    occurred_at: DateTime<Utc>,
    done: &[(Hop, DateTime<Utc>)],
    rules: ChainRules,
    now: DateTime<Utc>,
) -> Vec<Obligation> {
    let done_at = |hop: Hop| done.iter().filter(|(h, _)| *h == hop).map(|(_, at)| *at).min();
    let required = hops_for(grade);
    let mut out = Vec::new();
    let mut previous_done: Option<DateTime<Utc>> = None;
    for (i, hop) in Hop::ALL.into_iter().enumerate() {
        let this_done = done_at(hop);
        if required.contains(&hop) || this_done.is_some() {
            let due_at = if i == 0 {
                Some(occurred_at + Duration::minutes(i64::from(rules.first_hop_minutes)))
            } else {
                previous_done.map(|at| at + Duration::minutes(i64::from(rules.next_hop_minutes)))
            };
            out.push(Obligation {
                hop,
                due_at,
                done_at: this_done,
                status: status(due_at, this_done, now),
            });
        }
        previous_done = this_done;
    }
    out
}

/// Whether a change of casualties made at `changed_at` requires a follow-up report (Art. 13):
/// within 30 days of the accident, 7 for road traffic and fire.
pub fn follow_up_required(
    sector: Sector,
    occurred_at: DateTime<Utc>,
    changed_at: DateTime<Utc>,
) -> bool {
    changed_at < occurred_at + Duration::days(sector.follow_up_days())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn the_grade_decides_how_far_up_the_chain_goes() {
        assert_eq!(hops_for(Grade::Ordinary), [Hop::UnitToCounty, Hop::CountyToCity]);
        assert_eq!(hops_for(Grade::RelativelySerious).last(), Some(&Hop::CityToProvince));
        assert_eq!(hops_for(Grade::Serious).last(), Some(&Hop::ProvinceToNational));
        assert_eq!(hops_for(Grade::ParticularlySerious).len(), 4);
    }

    #[test]
    fn each_hop_is_due_from_the_previous_hop_across_midnight() {
        // 23:20 Beijing time; the district has it at 23:50; the city's clock runs to 01:50.
        let occurred = at("2026-07-01T23:20:00+08:00");
        let received = at("2026-07-01T23:50:00+08:00");
        let now = at("2026-07-02T00:10:00+08:00");
        let chain = obligations(
            Grade::Ordinary,
            occurred,
            &[(Hop::UnitToCounty, received)],
            ChainRules::default(),
            now,
        );
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[0].due_at, Some(at("2026-07-02T00:20:00+08:00")));
        assert_eq!(chain[0].status, HopStatus::Done);
        assert_eq!(chain[1].due_at, Some(at("2026-07-02T01:50:00+08:00")));
        assert_eq!(chain[1].status, HopStatus::Pending);
        // At exactly the due time, not done: overdue. Done exactly then: on time.
        let due = at("2026-07-02T01:50:00+08:00");
        let late = obligations(
            Grade::Ordinary,
            occurred,
            &[(Hop::UnitToCounty, received)],
            ChainRules::default(),
            due,
        );
        assert_eq!(late[1].status, HopStatus::Overdue);
        let on_time = obligations(
            Grade::Ordinary,
            occurred,
            &[(Hop::UnitToCounty, received), (Hop::CountyToCity, due)],
            ChainRules::default(),
            due,
        );
        assert_eq!(on_time[1].status, HopStatus::Done);
        let after = obligations(
            Grade::Ordinary,
            occurred,
            &[(Hop::UnitToCounty, received), (Hop::CountyToCity, due + Duration::seconds(1))],
            ChainRules::default(),
            due,
        );
        assert_eq!(after[1].status, HopStatus::Late);
    }

    #[test]
    fn a_first_report_after_an_hour_is_late_and_later_hops_wait_for_their_start() {
        let occurred = at("2026-03-01T10:00:00Z");
        let chain = obligations(
            Grade::Serious,
            occurred,
            &[(Hop::UnitToCounty, at("2026-03-01T11:00:01Z"))],
            ChainRules::default(),
            occurred,
        );
        assert_eq!(chain[0].status, HopStatus::Late);
        assert_eq!(chain.iter().map(|o| o.hop).collect::<Vec<_>>(), Hop::ALL);
        assert_eq!(chain[1].due_at, Some(at("2026-03-01T13:00:01Z")));
        assert_eq!((chain[2].due_at, chain[2].status), (None, HopStatus::Pending));
        assert_eq!((chain[3].due_at, chain[3].status), (None, HopStatus::Pending));
    }

    #[test]
    fn a_lower_grade_drops_hops_not_yet_done_and_keeps_those_done() {
        let occurred = at("2026-03-01T10:00:00Z");
        let done = [
            (Hop::UnitToCounty, at("2026-03-01T10:30:00Z")),
            (Hop::CountyToCity, at("2026-03-01T11:00:00Z")),
            (Hop::CityToProvince, at("2026-03-01T12:00:00Z")),
        ];
        let chain = obligations(Grade::Ordinary, occurred, &done, ChainRules::default(), occurred);
        assert_eq!(chain.len(), 3);
        let chain =
            obligations(Grade::Ordinary, occurred, &done[..2], ChainRules::default(), occurred);
        assert_eq!(chain.len(), 2);
        // A higher grade adds hops whose clock starts from the last hop done.
        let chain = obligations(
            Grade::RelativelySerious,
            occurred,
            &done[..2],
            ChainRules::default(),
            occurred,
        );
        assert_eq!(chain[2].due_at, Some(at("2026-03-01T13:00:00Z")));
    }

    #[test]
    fn the_registering_level_has_received_the_report() {
        assert_eq!(done_on_intake(UnitLevel::District), [Hop::UnitToCounty]);
        assert_eq!(done_on_intake(UnitLevel::Township), [Hop::UnitToCounty]);
        assert_eq!(done_on_intake(UnitLevel::City), [Hop::UnitToCounty, Hop::CountyToCity]);
    }

    #[test]
    fn follow_ups_are_required_within_30_days_or_7_for_roads_and_fire() {
        let occurred = at("2026-03-01T10:00:00Z");
        assert!(follow_up_required(Sector::General, occurred, at("2026-03-31T09:59:59Z")));
        assert!(!follow_up_required(Sector::General, occurred, at("2026-03-31T10:00:00Z")));
        assert!(follow_up_required(Sector::RoadTraffic, occurred, at("2026-03-08T09:59:59Z")));
        assert!(!follow_up_required(Sector::Fire, occurred, at("2026-03-08T10:00:00Z")));
    }

    #[test]
    fn chain_rules_stay_within_a_day() {
        assert!(ChainRules::default().validate().is_ok());
        let zero = ChainRules { first_hop_minutes: 0, next_hop_minutes: 120 };
        assert_eq!(zero.validate().unwrap_err().get("first_hop_minutes"), Some("out_of_range"));
    }
}
