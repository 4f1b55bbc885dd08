use beacon_core::audit::Actor;
use beacon_core::incident::{
    Casualties, Grade, Hop, HopMethod, HopStatus, IncidentKind, ReportKind, ReportSections,
    ReportStatus, Source,
};
use beacon_core::org::Role;
use beacon_core::scope::Scope;
use beacon_store::incident::{
    FactsChange, IncidentFilter, NewIncident, NewReport, RecordHop, ReportEdit,
};
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
        duplicate_of: None,
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

        // Another district neither sees it nor can acknowledge it (to it the incident does not
        // exist: not found, not "not the addressee"); the city can, once.
        let west = Scope::subtree(&tree.west);
        assert!(matches!(t.store.incident(&west, &made.id).await, Err(StoreError::NotFound)));
        let refused = t.store.acknowledge_hop(&west, &desk(&tree.west), &made.id, Hop::CountyToCity).await;
        assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}");
        let early = t.store.acknowledge_hop(&Scope::subtree(&tree.city), &desk(&tree.city), &made.id, Hop::CityToProvince).await;
        assert!(matches!(early, Err(StoreError::Forbidden("not_addressee"))), "the province is outside this deployment");
        t.clock.advance(Duration::minutes(40));
        let acknowledged = t.store.acknowledge_hop(&Scope::subtree(&tree.city), &desk(&tree.city), &made.id, Hop::CountyToCity).await.unwrap();
        assert_eq!(hops(&acknowledged)[1], (Hop::CountyToCity, Some(at("2026-03-02T03:20:00Z")), HopStatus::Done));
        assert_eq!(hops(&acknowledged)[2], (Hop::CityToProvince, Some(at("2026-03-02T04:10:00Z")), HopStatus::Pending));
        let again = t.store.acknowledge_hop(&Scope::subtree(&tree.city), &desk(&tree.city), &made.id, Hop::CountyToCity).await;
        assert!(matches!(again, Err(StoreError::Conflict("already_done"))));

        // Ten deaths make it serious: the chain reaches the State Council department. Back to
        // none, the hops not yet done go, the ones done stay.
        let op = desk(&tree.east);
        let serious = t.store.change_incident_facts(&district, &op, &made.id, FactsChange {
            version: acknowledged.version,
            casualties: Some(Casualties { deaths: 10, ..Casualties::default() }),
            ..FactsChange::default()
        }).await.unwrap().0;
        let stale = t.store.change_incident_facts(&district, &op, &made.id, FactsChange {
            version: acknowledged.version,
            title: Some("改".into()),
            ..FactsChange::default()
        }).await;
        assert!(matches!(stale, Err(StoreError::Conflict("stale_version"))));
        assert_eq!(serious.grade, Grade::Serious);
        assert_eq!(serious.obligations.len(), 4);
        let ordinary = t.store.change_incident_facts(&district, &op, &made.id, FactsChange {
            version: serious.version,
            casualties: Some(Casualties { deaths: 0, missing: 2, ..Casualties::default() }),
            description: Some("核实后无人死亡".into()),
            ..FactsChange::default()
        }).await.unwrap().0;
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
        let not_the_district = t.store.acknowledge_hop(&Scope::subtree(&tree.east), &desk(&tree.east), &town.id, Hop::CountyToCity).await;
        assert!(matches!(not_the_district, Err(StoreError::Forbidden("not_addressee"))));
        t.store.acknowledge_hop(&Scope::subtree(&tree.city), &desk(&tree.city), &town.id, Hop::CountyToCity).await.unwrap();
    }
}

/// Fires every due stage as the scheduler does (claim, then fire, in one transaction).
async fn fire_due(t: &TestStore) -> Vec<beacon_store::notify::Delivery> {
    let mut out = Vec::new();
    loop {
        let due = t.store.due_stages(1000).await.unwrap();
        if due.is_empty() {
            return out;
        }
        let mut tx = t.store.begin().await.unwrap();
        let mut claimed = Vec::new();
        for stage in due {
            if t.store.claim_stage(&mut tx, &stage).await.unwrap() {
                claimed.push(stage);
            }
        }
        out.extend(t.store.fire_hop_stages(&mut tx, &claimed, false).await.unwrap());
        tx.commit().await.unwrap();
    }
}

backend_tests! {
    async fn hop_clocks_remind_then_alert_the_leaders_until_the_hop_is_done(t: TestStore) {
        let tree = t.city().await;
        let east_officer = t.user("east.officer", &tree.east, &[Role::DutyOfficer]).await;
        let east_leader = t.user("east.leader", &tree.east, &[Role::Leader]).await;
        let city_officer = t.user("city.officer", &tree.city, &[Role::DutyOfficer]).await;
        let district = Scope::subtree(&tree.east);
        // Occurred 01:00Z, received by the district 01:20Z: the city's hop is due 03:20Z.
        let made = t.store.create_incident(&district, &desk(&tree.east), fire_at(&tree.east, 0)).await.unwrap();
        assert_eq!(t.store.pending_deadlines().await.unwrap(), 1);
        assert!(fire_due(&t).await.is_empty(), "nothing is due at 01:30Z");

        // 02:50Z: the 30-minute reminder goes to both duty desks.
        t.clock.set(at("2026-03-02T02:50:00Z"));
        let reminded = fire_due(&t).await;
        let mut to: Vec<&str> = reminded.iter().map(|d| d.user_id.as_str()).collect();
        to.sort_unstable();
        let mut expected = vec![east_officer.as_str(), city_officer.as_str()];
        expected.sort_unstable();
        assert_eq!(to, expected);
        assert!(reminded.iter().all(|d| d.notification.kind == "incident.hop_reminder"));
        assert_eq!(reminded[0].notification.data["minutes_left"], 30);
        assert!(fire_due(&t).await.is_empty(), "a stage fires once");

        // At 03:20Z exactly it is overdue: the district's leaders are alerted, and it is kept.
        t.clock.set(at("2026-03-02T03:20:00Z"));
        let alerted = fire_due(&t).await;
        let kinds: Vec<(&str, &str)> = alerted.iter().map(|d| (d.notification.kind.as_str(), d.user_id.as_str())).collect();
        assert!(kinds.contains(&("incident.hop_reminder", city_officer.as_str())), "the 10-minute reminder, late");
        assert!(kinds.contains(&("incident.hop_overdue", east_leader.as_str())), "{kinds:?}");
        let read = t.store.incident(&district, &made.id).await.unwrap();
        assert_eq!(read.obligations[1].status, HopStatus::Overdue);
        let timeline = t.store.timeline("incident", &made.id).await.unwrap();
        assert!(timeline.iter().any(|e| e.kind == "hop_overdue"));
        // Closing cannot silence it; acknowledging does, and it is late.
        let closing = t.store.close_incident(&district, &desk(&tree.east), &made.id, "处置完毕").await;
        assert!(matches!(closing, Err(StoreError::Conflict("hops_open"))));
        assert_eq!(t.store.pending_deadlines().await.unwrap(), 0, "every stage has fired");
        t.clock.advance(Duration::minutes(1));
        let done = t.store.acknowledge_hop(&Scope::subtree(&tree.city), &desk(&tree.city), &made.id, Hop::CountyToCity).await.unwrap();
        assert_eq!(done.obligations[1].status, HopStatus::Late);
        let closed = t.store.close_incident(&district, &desk(&tree.east), &made.id, "处置完毕").await.unwrap();
        assert_eq!((closed.status.as_str(), closed.closing_summary.as_deref()), ("closed", Some("处置完毕")));
    }

    async fn the_city_records_the_provinces_hop_and_a_leader_overrides_the_grade(t: TestStore) {
        let tree = t.city().await;
        let city = Scope::tree_root(&tree.city);
        let made = t.store.create_incident(&city, &desk(&tree.city), fire_at(&tree.city, 3)).await.unwrap();
        assert_eq!(made.grade, Grade::RelativelySerious);
        // The province is outside this deployment: acknowledging is impossible, recording works
        // from the city's desk only, not before the hop before it, not in the future.
        let province = made.hops.iter().find(|h| h.hop == Hop::CityToProvince).unwrap();
        assert!(province.addressee.is_none());
        let record = |at_: DateTime<Utc>| RecordHop { hop: Hop::CityToProvince, method: HopMethod::Fax, at: at_, note: Some("传真至省应急厅值班室".into()) };
        let from_east = t.store.record_hop(&city, &desk(&tree.east), &made.id, record(at("2026-03-02T01:25:00Z"))).await;
        assert!(matches!(from_east, Err(StoreError::Forbidden("not_sender"))));
        let future = t.store.record_hop(&city, &desk(&tree.city), &made.id, record(at("2026-03-02T05:00:00Z"))).await;
        assert!(matches!(future, Err(StoreError::Invalid(_))));
        let before = t.store.record_hop(&city, &desk(&tree.city), &made.id, record(at("2026-03-02T01:10:00Z"))).await;
        assert!(matches!(before, Err(StoreError::Invalid(_))), "before the city received it");
        let recorded = t.store.record_hop(&city, &desk(&tree.city), &made.id, record(at("2026-03-02T01:25:00Z"))).await.unwrap();
        let hop = recorded.hops.iter().find(|h| h.hop == Hop::CityToProvince).unwrap();
        assert_eq!((hop.method, hop.note.as_deref()), (Some(HopMethod::Fax), Some("传真至省应急厅值班室")));
        assert_eq!(recorded.obligations[2].status, HopStatus::Done);

        // A leader raises it to serious: the chain reaches the ministry, both grades kept.
        let leader = desk(&tree.city);
        let raised = t.store.override_incident_grade(&city, &leader, &made.id, Some(Grade::Serious), "社会影响重大").await.unwrap();
        assert_eq!((raised.grade, raised.computed_grade), (Grade::Serious, Grade::RelativelySerious));
        assert_eq!(raised.grade_override.as_ref().map(|o| o.reason.as_str()), Some("社会影响重大"));
        assert_eq!(raised.obligations.len(), 4);
        assert_eq!(raised.obligations[3].due_at, Some(at("2026-03-02T03:25:00Z")));
        // New facts re-grade the computed grade; the override stays in force.
        let more = t.store.change_incident_facts(&city, &leader, &made.id, FactsChange {
            version: raised.version,
            casualties: Some(Casualties { deaths: 4, ..Casualties::default() }),
            ..FactsChange::default()
        }).await.unwrap().0;
        assert_eq!((more.grade, more.computed_grade), (Grade::Serious, Grade::RelativelySerious));
        let cleared = t.store.override_incident_grade(&city, &leader, &made.id, None, "核实后恢复").await.unwrap();
        assert_eq!((cleared.grade, cleared.grade_override), (Grade::RelativelySerious, None));
        let history = t.store.incident_grades(&city, &made.id).await.unwrap();
        let causes: Vec<(&str, Option<&str>)> = history.iter().map(|g| (g.cause.as_str(), g.reason.as_deref())).collect();
        assert_eq!(causes, [("intake", None), ("override", Some("社会影响重大")), ("override_cleared", Some("核实后恢复"))]);
    }

    async fn the_list_filters_and_the_duplicate_guard_finds_the_same_accident(t: TestStore) {
        let tree = t.city().await;
        let city = Scope::tree_root(&tree.city);
        let mut first = fire_at(&tree.east, 0);
        first.point = Some((115.90, 28.68));
        let made = t.store.create_incident(&city, &desk(&tree.east), first).await.unwrap();
        let mut road = fire_at(&tree.west, 3);
        road.kind = IncidentKind::RoadTraffic;
        road.title = "高速公路多车追尾".into();
        t.store.create_incident(&city, &desk(&tree.west), road).await.unwrap();

        let page = beacon_core::page::PageRequest::default();
        let all = t.store.incidents(&city, &IncidentFilter::default(), page).await.unwrap();
        assert_eq!(all.total, 2);
        let serious = IncidentFilter { grade: Some(Grade::RelativelySerious), ..IncidentFilter::default() };
        let found = t.store.incidents(&city, &serious, page).await.unwrap();
        assert_eq!(found.items.iter().map(|i| i.title.as_str()).collect::<Vec<_>>(), ["高速公路多车追尾"]);
        let text = IncidentFilter { text: Some("储罐".into()), ..IncidentFilter::default() };
        assert_eq!(t.store.incidents(&city, &text, page).await.unwrap().total, 1);
        let east_only = t.store.incidents(&Scope::subtree(&tree.east), &IncidentFilter::default(), page).await.unwrap();
        assert_eq!(east_only.total, 1, "another district's incident is out of scope");
        let awaiting = IncidentFilter { awaiting_unit_id: Some(tree.city.clone()), ..IncidentFilter::default() };
        assert_eq!(t.store.incidents(&city, &awaiting, page).await.unwrap().total, 2);

        // 500 m away an hour later: the same accident, probably; 5 km away it is not.
        let near = t.store.possible_duplicates(&city, IncidentKind::HazardousChemicals, &tree.east, Some((115.90, 28.6845)), at("2026-03-02T02:00:00Z")).await.unwrap();
        assert_eq!(near.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), [made.id.as_str()]);
        assert!(near[0].distance_m.unwrap() > 400.0 && near[0].distance_m.unwrap() < 600.0);
        let far = t.store.possible_duplicates(&city, IncidentKind::HazardousChemicals, &tree.east, Some((115.95, 28.68)), at("2026-03-02T02:00:00Z")).await.unwrap();
        assert!(far.is_empty());
        let other_kind = t.store.possible_duplicates(&city, IncidentKind::Fire, &tree.east, Some((115.90, 28.68)), at("2026-03-02T02:00:00Z")).await.unwrap();
        assert!(other_kind.is_empty());
        let without_point = t.store.possible_duplicates(&city, IncidentKind::HazardousChemicals, &tree.east, None, at("2026-03-02T06:00:00Z")).await.unwrap();
        assert_eq!(without_point.len(), 1, "same unit, within six hours");
    }
}

backend_tests! {
    async fn a_change_of_time_limits_moves_every_running_clock(t: TestStore) {
        let tree = t.city().await;
        let district = Scope::subtree(&tree.east);
        let made = t.store.create_incident(&district, &desk(&tree.east), fire_at(&tree.east, 0)).await.unwrap();
        assert_eq!(made.obligations[1].due_at, Some(at("2026-03-02T03:20:00Z")));
        let stricter = beacon_core::incident::ChainRules { first_hop_minutes: 30, next_hop_minutes: 60 };
        t.store.set_incident_chain_rules(&desk(&tree.city), stricter).await.unwrap();
        let read = t.store.incident(&district, &made.id).await.unwrap();
        assert_eq!(read.obligations[1].due_at, Some(at("2026-03-02T02:20:00Z")));
        // The scheduler follows: the overdue alert fires at the new due time.
        assert_eq!(t.store.pending_deadlines().await.unwrap(), 1);
        t.clock.set(at("2026-03-02T02:20:00Z"));
        let fired = fire_due(&t).await;
        let timeline = t.store.timeline("incident", &made.id).await.unwrap();
        assert!(timeline.iter().any(|e| e.kind == "hop_overdue"), "{fired:?}");
        let bad = beacon_core::incident::ChainRules { first_hop_minutes: 0, next_hop_minutes: 60 };
        assert!(matches!(t.store.set_incident_chain_rules(&desk(&tree.city), bad).await, Err(StoreError::Invalid(_))));
    }
}

fn person(user_id: &str, unit_id: &str, name: &str) -> Actor {
    Actor { user_id: Some(user_id.into()), name: name.into(), ..desk(unit_id) }
}

fn kinds_to(deliveries: &[beacon_store::notify::Delivery]) -> Vec<(&str, &str)> {
    deliveries.iter().map(|d| (d.notification.kind.as_str(), d.user_id.as_str())).collect()
}

backend_tests! {
    async fn reports_are_drafted_approved_frozen_and_sent_and_answer_follow_ups(t: TestStore) {
        let tree = t.city().await;
        let officer_id = t.user("east.officer", &tree.east, &[Role::DutyOfficer]).await;
        let leader_id = t.user("east.leader", &tree.east, &[Role::DutyLeader]).await;
        let city_officer = t.user("city.officer", &tree.city, &[Role::DutyOfficer]).await;
        let officer = person(&officer_id, &tree.east, "王值班");
        let leader = person(&leader_id, &tree.east, "李带班");
        let district = Scope::subtree(&tree.east);
        let city = Scope::tree_root(&tree.city);
        let made = t.store.create_incident(&district, &officer, fire_at(&tree.east, 3)).await.unwrap();
        let new = |kind: ReportKind| NewReport { kind, title: None, addressee: None, contact: None, sections: None };

        let early = t.store.create_incident_report(&district, &officer, &made.id, new(ReportKind::FollowUp)).await;
        assert!(matches!(early, Err(StoreError::Conflict("initial_missing"))));
        // The draft is built from the facts, addressed to the unit above.
        let draft = t.store.create_incident_report(&district, &officer, &made.id, new(ReportKind::Initial)).await.unwrap();
        assert_eq!((draft.status, draft.version, draft.sequence), (ReportStatus::Draft, 1, 0));
        assert_eq!(draft.title, "关于某化工厂储罐爆炸的首报");
        // Documents carry people's display names (here the test accounts' usernames).
        assert_eq!((draft.addressee.as_str(), draft.contact.as_str()), ("临江市", "east.officer"));
        assert_eq!(draft.sections.time_place, "2026年3月2日9时00分，东湖区化工园区。");
        assert!(draft.sections.casualties.contains("3人死亡"), "{}", draft.sections.casualties);
        let twice = t.store.create_incident_report(&district, &officer, &made.id, new(ReportKind::Initial)).await;
        assert!(matches!(twice, Err(StoreError::Conflict("report_pending"))));
        // The city does not see the district's draft.
        assert!(t.store.incident_reports(&city, &desk(&tree.city), &made.id).await.unwrap().is_empty());

        // Incomplete: the measures are the officer's to write.
        let incomplete = t.store.submit_incident_report(&district, &officer, &made.id, &draft.id, 1).await;
        let Err(StoreError::Invalid(errors)) = incomplete else { panic!("{incomplete:?}") };
        assert_eq!(errors.get("sections.measures"), Some("required"));
        let measures = ReportSections { measures: "已组织消防、医疗力量救援。".into(), ..draft.sections.clone() };
        let edit = |version: i64| ReportEdit { version, sections: Some(measures.clone()), ..ReportEdit::default() };
        let saved = t.store.edit_incident_report(&district, &officer, &made.id, &draft.id, edit(1)).await.unwrap();
        assert_eq!(saved.version, 2);
        let stale = t.store.edit_incident_report(&district, &officer, &made.id, &draft.id, edit(1)).await;
        assert!(matches!(stale, Err(StoreError::Conflict("stale_version"))));
        let submitted = t.store.submit_incident_report(&district, &officer, &made.id, &draft.id, 2).await.unwrap();
        assert_eq!(submitted.report.status, ReportStatus::Submitted);
        assert_eq!(kinds_to(&submitted.deliveries), vec![("incident.report_submitted", leader_id.as_str())]);
        let waiting = t.store.edit_incident_report(&district, &officer, &made.id, &draft.id, edit(2)).await;
        assert!(matches!(waiting, Err(StoreError::Conflict("report_submitted"))));

        // The leader returns it with a reason; the officer is told; submitted again, approved.
        let returned = t.store.return_incident_report(&district, &leader, &made.id, &draft.id, "伤亡情况请核实").await.unwrap();
        assert_eq!((returned.report.status, returned.report.returned_reason.as_deref()), (ReportStatus::Draft, Some("伤亡情况请核实")));
        assert_eq!(kinds_to(&returned.deliveries), vec![("incident.report_returned", officer_id.as_str())]);
        t.store.submit_incident_report(&district, &officer, &made.id, &draft.id, 2).await.unwrap();
        let by_city = t.store.approve_incident_report(&city, &desk(&tree.city), &made.id, &draft.id, 2).await;
        assert!(matches!(by_city, Err(StoreError::NotFound)), "the city does not see it before it is sent");
        let approved = t.store.approve_incident_report(&district, &leader, &made.id, &draft.id, 2).await.unwrap();
        assert_eq!(approved.report.doc_number.as_deref(), Some("东湖区〔2026〕1号"));
        assert_eq!(approved.report.approved_by_name.as_deref(), Some("east.leader"));
        assert_eq!(kinds_to(&approved.deliveries), vec![("incident.report_received", city_officer.as_str())]);
        let frozen = t.store.edit_incident_report(&district, &officer, &made.id, &draft.id, edit(2)).await;
        assert!(matches!(frozen, Err(StoreError::Conflict("report_approved"))));

        // Sent: the city reads it and its first version (before the measures were written).
        let seen = t.store.incident_reports(&city, &desk(&tree.city), &made.id).await.unwrap();
        assert_eq!((seen.len(), seen[0].versions.len()), (1, 2));
        let first = t.store.incident_report_version(&city, &desk(&tree.city), &made.id, &draft.id, 1).await.unwrap();
        assert!(first.sections.measures.is_empty());
        assert_eq!(first.facts.casualties.deaths, 3);

        // A death more within 30 days: a follow-up is required, and closing waits for it.
        let (more, told) = t.store.change_incident_facts(&district, &officer, &made.id, FactsChange {
            version: made.version,
            casualties: Some(Casualties { deaths: 4, ..Casualties::default() }),
            ..FactsChange::default()
        }).await.unwrap();
        assert_eq!(more.follow_up_since, Some(at("2026-03-02T01:30:00Z")));
        let mut told = kinds_to(&told);
        told.sort_unstable();
        let mut desk_people = vec![("incident.follow_up_required", officer_id.as_str()), ("incident.follow_up_required", leader_id.as_str())];
        desk_people.sort_unstable();
        assert_eq!(told, desk_people);
        let follow = t.store.create_incident_report(&district, &officer, &made.id, NewReport {
            sections: Some(ReportSections { measures: "继续搜救。".into(), ..measures.clone() }),
            ..new(ReportKind::FollowUp)
        }).await.unwrap();
        assert_eq!((follow.sequence, follow.title.as_str()), (1, "关于某化工厂储罐爆炸的续报（第1报）"));
        t.store.submit_incident_report(&district, &officer, &made.id, &follow.id, 1).await.unwrap();
        let answered = t.store.approve_incident_report(&district, &leader, &made.id, &follow.id, 1).await.unwrap();
        assert_eq!(answered.report.doc_number.as_deref(), Some("东湖区〔2026〕2号"));
        assert_eq!(t.store.incident(&district, &made.id).await.unwrap().follow_up_since, None);

        // After the final report nothing follows; a change after 30 days requires nothing.
        let last = t.store.create_incident_report(&district, &officer, &made.id, NewReport {
            sections: Some(measures.clone()),
            ..new(ReportKind::Final)
        }).await.unwrap();
        t.store.submit_incident_report(&district, &officer, &made.id, &last.id, 1).await.unwrap();
        t.store.approve_incident_report(&district, &leader, &made.id, &last.id, 1).await.unwrap();
        let after = t.store.create_incident_report(&district, &officer, &made.id, new(ReportKind::FollowUp)).await;
        assert!(matches!(after, Err(StoreError::Conflict("final_sent"))));
        t.clock.set(at("2026-04-01T01:00:00Z"));
        let (late, told) = t.store.change_incident_facts(&district, &officer, &made.id, FactsChange {
            version: more.version,
            casualties: Some(Casualties { deaths: 5, ..Casualties::default() }),
            ..FactsChange::default()
        }).await.unwrap();
        assert!(late.follow_up_since.is_none() && told.is_empty());
        let timeline = t.store.timeline("incident", &made.id).await.unwrap();
        for kind in ["report_created", "report_edited", "report_submitted", "report_returned", "report_approved", "follow_up_required"] {
            assert!(timeline.iter().any(|e| e.kind == kind), "{kind}");
        }
    }
}

backend_tests! {
    async fn a_point_outside_the_units_boundary_is_kept_with_a_warning(t: TestStore) {
        let tree = t.city().await;
        // 东湖区 is the square 115.8–116.0 E, 28.6–28.8 N.
        let square = serde_json::json!({ "type": "Polygon", "coordinates": [[
            [115.8, 28.6], [116.0, 28.6], [116.0, 28.8], [115.8, 28.8], [115.8, 28.6]]] });
        let boundary = beacon_core::geo::Boundary::parse(&square).unwrap();
        t.store.update_unit(&Scope::Global, &TestStore::operator(), &tree.east, beacon_store::org::UnitChanges {
            boundary: Some(Some(boundary)),
            ..Default::default()
        }).await.unwrap();
        let district = Scope::subtree(&tree.east);
        let inside = NewIncident { point: Some((115.9, 28.7)), ..fire_at(&tree.east, 0) };
        let outside = NewIncident { point: Some((116.3, 28.7)), kind: IncidentKind::Fire, ..fire_at(&tree.east, 0) };
        let kept = t.store.create_incident(&district, &desk(&tree.east), inside).await.unwrap();
        assert!(!kept.outside_unit);
        let warned = t.store.create_incident(&district, &desk(&tree.east), outside).await.unwrap();
        assert!(warned.outside_unit, "saved, with the warning");
        assert_eq!((warned.lon, warned.lat), (Some(116.3), Some(28.7)));
        // A unit without a boundary never warns.
        let town = NewIncident { unit_id: tree.west.clone(), point: Some((0.0, 0.0)), ..fire_at(&tree.west, 0) };
        assert!(!t.store.create_incident(&Scope::subtree(&tree.west), &desk(&tree.west), town).await.unwrap().outside_unit);
    }
}

backend_tests! {
    async fn concurrent_registrations_share_batches_and_answer_what_was_stored(t: TestStore) {
        let tree = t.city().await;
        let district = Scope::subtree(&tree.east);
        let call = |summary: &str| beacon_store::duty::DutyLogWrite {
            received_at: at("2026-03-02T01:10:00Z"),
            channel: "phone".into(),
            category: "accident".into(),
            caller_name: String::new(),
            caller_unit: String::new(),
            caller_phone: String::new(),
            place: String::new(),
            summary: summary.into(),
            actions: String::new(),
            instructions: String::new(),
            follow_up: false,
        };
        let entry = t.store.create_duty_log(&district, &desk(&tree.east), &tree.east, call("储罐爆炸")).await.unwrap();
        // 40 registrations at once: two claim the same call (one of them must be refused), one a
        // call that does not exist, one a unit outside the caller's scope.
        let mut tasks = Vec::new();
        for i in 0..40u32 {
            let store = t.store.clone();
            let mut new = fire_at(&tree.east, i % 4);
            new.title = format!("储罐爆炸{i}");
            match i {
                7 | 8 => new.duty_log_id = Some(entry.id.clone()),
                9 => new.duty_log_id = Some(beacon_core::id::new_id()),
                10 => new.unit_id = tree.west.clone(),
                _ => {}
            }
            let scope = district.clone();
            let actor = desk(&tree.east);
            tasks.push(tokio::spawn(async move { (i, store.create_incident(&scope, &actor, new).await) }));
        }
        let mut made = Vec::new();
        let mut linked = 0;
        for task in tasks {
            match task.await.unwrap() {
                (7 | 8, Ok(incident)) => {
                    linked += 1;
                    made.push(incident);
                }
                (7 | 8, Err(StoreError::Invalid(e))) => {
                    assert_eq!(e.to_string(), "duty_log_id: already_linked");
                }
                (9, refused) => assert!(matches!(refused, Err(StoreError::Invalid(_))), "{refused:?}"),
                (10, refused) => assert!(matches!(refused, Err(StoreError::NotFound)), "{refused:?}"),
                (i, result) => made.push(result.unwrap_or_else(|e| panic!("{i}: {e}"))),
            }
        }
        assert_eq!(linked, 1, "one registration links the call");
        assert_eq!(made.len(), 37);
        // Numbered without gaps or repeats, and each answer is what a read finds.
        let mut numbers: Vec<String> = made.iter().map(|m| m.number.clone()).collect();
        numbers.sort();
        let expected: Vec<String> = (1..=37).map(|n| format!("990102-2026-{n:04}")).collect();
        assert_eq!(numbers, expected);
        for answer in &made {
            let stored = t.store.incident(&district, &answer.id).await.unwrap();
            assert_eq!(&stored, answer);
        }
        let linked_entry = t.store.duty_log_entry(&district, &entry.id).await.unwrap();
        assert!(made.iter().any(|m| Some(&m.id) == linked_entry.incident_id.as_ref()));
        assert!(matches!(
            t.store.verify_audit_chain().await.unwrap(),
            beacon_store::audit::ChainStatus::Intact { .. }
        ));
    }

    async fn numbers_go_on_from_incidents_registered_before_the_counter(t: TestStore) {
        let tree = t.city().await;
        let district = Scope::subtree(&tree.east);
        for _ in 0..2 {
            t.store.create_incident(&district, &desk(&tree.east), fire_at(&tree.east, 0)).await.unwrap();
        }
        // As a database upgraded from before the counter holds them: incidents, no counter.
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&t.db.url).await.unwrap();
        sqlx::query("DELETE FROM incident_numbers").execute(&mut conn).await.unwrap();
        let third = t.store.create_incident(&district, &desk(&tree.east), fire_at(&tree.east, 0)).await.unwrap();
        assert_eq!(third.number, "990102-2026-0003");
        let fourth = t.store.create_incident(&district, &desk(&tree.east), fire_at(&tree.east, 0)).await.unwrap();
        assert_eq!(fourth.number, "990102-2026-0004");
    }
}
