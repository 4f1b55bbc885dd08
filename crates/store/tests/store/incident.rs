use beacon_core::audit::Actor;
use beacon_core::incident::{Casualties, Grade, Hop, HopStatus, IncidentKind, Source};
use beacon_core::scope::Scope;
use beacon_store::incident::{FactsChange, NewIncident};
use beacon_store::{StoreError, backend_tests};
use chrono::{DateTime, Duration, Utc};

use crate::TestStore;

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

fn desk(unit_id: &str) -> Actor {
    Actor {
        user_id: None,
        name: "值班员".into(),
        unit_id: Some(unit_id.into()),
        ip: None,
        operator: false,
    }
}

fn fire_at(unit_id: &str, deaths: u32) -> NewIncident {
    NewIncident {
        kind: IncidentKind::HazardousChemicals,
        title: "某化工厂储罐爆炸".into(),
        unit_id: unit_id.into(),
        // The test clock reads 2026-03-02T01:30Z (09:30 in Beijing).
        occurred_at: at("2026-03-02T01:00:00Z"),
        reported_at: at("2026-03-02T01:20:00Z"),
        place: "东湖区化工园区".into(),
        point: None,
        enterprise: Some("临江某化工有限公司".into()),
        casualties: Casualties { deaths, ..Casualties::default() },
        description: "储罐区发生爆炸".into(),
        source: Source::Phone,
        reporter: Some("张三".into()),
        reporter_phone: Some("13800000000".into()),
        duty_log_id: None,
    }
}

fn hops(
    incident: &beacon_store::incident::Incident,
) -> Vec<(Hop, Option<DateTime<Utc>>, HopStatus)> {
    incident.obligations.iter().map(|o| (o.hop, o.due_at, o.status)).collect()
}

backend_tests! {
    async fn a_district_report_climbs_the_chain_its_grade_requires(t: TestStore) {
        let tree = t.city().await;
        let district = Scope::subtree(&tree.east);
        let made = t.store.create_incident(&district, &desk(&tree.east), fire_at(&tree.east, 3)).await.unwrap();
        assert_eq!(made.number, "990102-2026-0001");
        assert_eq!((made.grade, made.computed_grade), (Grade::RelativelySerious, Grade::RelativelySerious));
        // The district desk has it: the first hop is done at the report; the city's clock runs
        // two hours from then; the province's has not started.
        assert_eq!(hops(&made), vec![
            (Hop::UnitToCounty, Some(at("2026-03-02T02:00:00Z")), HopStatus::Done),
            (Hop::CountyToCity, Some(at("2026-03-02T03:20:00Z")), HopStatus::Pending),
            (Hop::CityToProvince, None, HopStatus::Pending),
        ]);
        let second = t.store.create_incident(&district, &desk(&tree.east), fire_at(&tree.east, 0)).await.unwrap();
        assert_eq!((second.number.as_str(), second.grade), ("990102-2026-0002", Grade::Ordinary));

        // Another district neither sees it nor can acknowledge it; the city can, once.
        let west = Scope::subtree(&tree.west);
        assert!(matches!(t.store.incident(&west, &made.id).await, Err(StoreError::NotFound)));
        let refused = t.store.acknowledge_hop(&desk(&tree.west), &made.id, Hop::CountyToCity).await;
        assert!(matches!(refused, Err(StoreError::Forbidden("not_addressee"))));
        let early = t.store.acknowledge_hop(&desk(&tree.city), &made.id, Hop::CityToProvince).await;
        assert!(matches!(early, Err(StoreError::Forbidden("not_addressee"))), "the province is outside this deployment");
        t.clock.advance(Duration::minutes(40));
        let acknowledged = t.store.acknowledge_hop(&desk(&tree.city), &made.id, Hop::CountyToCity).await.unwrap();
        assert_eq!(hops(&acknowledged)[1], (Hop::CountyToCity, Some(at("2026-03-02T03:20:00Z")), HopStatus::Done));
        assert_eq!(hops(&acknowledged)[2], (Hop::CityToProvince, Some(at("2026-03-02T04:10:00Z")), HopStatus::Pending));
        let again = t.store.acknowledge_hop(&desk(&tree.city), &made.id, Hop::CountyToCity).await;
        assert!(matches!(again, Err(StoreError::Conflict("already_done"))));

        // Ten deaths make it serious: the chain reaches the State Council department. Back to
        // none, the hops not yet done go, the ones done stay.
        let op = desk(&tree.east);
        let serious = t.store.change_incident_facts(&district, &op, &made.id, FactsChange {
            casualties: Casualties { deaths: 10, ..Casualties::default() }, description: None,
        }).await.unwrap();
        assert_eq!(serious.grade, Grade::Serious);
        assert_eq!(serious.obligations.len(), 4);
        let ordinary = t.store.change_incident_facts(&district, &op, &made.id, FactsChange {
            casualties: Casualties { deaths: 0, missing: 2, ..Casualties::default() }, description: Some("核实后无人死亡".into()),
        }).await.unwrap();
        assert_eq!((ordinary.grade, ordinary.missing, ordinary.description.as_str()), (Grade::Ordinary, 2, "核实后无人死亡"));
        assert_eq!(hops(&ordinary).iter().map(|h| h.0).collect::<Vec<_>>(), [Hop::UnitToCounty, Hop::CountyToCity]);
        let history = t.store.incident_grades(&district, &made.id).await.unwrap();
        assert_eq!(history.iter().map(|g| (g.grade, g.cause.as_str())).collect::<Vec<_>>(), [
            (Grade::RelativelySerious, "intake"),
            (Grade::Serious, "facts"),
            (Grade::Ordinary, "facts"),
        ]);
        assert_eq!(history[1].facts.deaths, 10);
        assert!(history[0].table_source.contains("493"));
    }

    async fn the_city_registering_it_has_both_first_hops(t: TestStore) {
        let tree = t.city().await;
        let made = t.store.create_incident(&Scope::Global, &desk(&tree.city), fire_at(&tree.city, 0)).await.unwrap();
        assert_eq!(made.number, "990100-2026-0001");
        assert_eq!(made.obligations.iter().map(|o| o.status).collect::<Vec<_>>(), [HopStatus::Done, HopStatus::Done]);
        // A township's report is received by the district above it.
        let town = t.store.create_incident(&Scope::Global, &desk(&tree.town), fire_at(&tree.town, 0)).await.unwrap();
        assert_eq!(hops(&town)[0].2, HopStatus::Done);
        assert_eq!(hops(&town)[1].2, HopStatus::Pending);
        let not_the_district = t.store.acknowledge_hop(&desk(&tree.east), &town.id, Hop::CountyToCity).await;
        assert!(matches!(not_the_district, Err(StoreError::Forbidden("not_addressee"))));
        t.store.acknowledge_hop(&desk(&tree.city), &town.id, Hop::CountyToCity).await.unwrap();
    }
}
