//! The workbench: each role gets the cards of what it may read, in its own scope; items read as
//! numbers, titles and names, and lead to their records.

use axum::http::{Method, StatusCode};
use beacon_core::org::Role;
use beacon_store::backend_tests;
use serde_json::{Value, json};

use crate::incident::explosion;
use crate::{Session, TestApp};

async fn cards(t: &TestApp, session: &Session) -> Vec<Value> {
    let response = t.get(session, "/api/v1/workbench").await;
    response.expect(StatusCode::OK);
    response.json()["cards"].as_array().cloned().unwrap_or_default()
}

fn card<'a>(cards: &'a [Value], key: &str) -> Option<&'a Value> {
    cards.iter().find(|c| c["key"] == key)
}

fn keys(cards: &[Value]) -> Vec<String> {
    cards.iter().map(|c| c["key"].as_str().unwrap_or_default().to_owned()).collect()
}

backend_tests! {
    async fn each_role_sees_its_own_cards_in_its_own_scope(t: TestApp) {
        let east = t.signed_in("east.officer", &t.tree.east, &[Role::DutyOfficer]).await;
        let city = t.signed_in("city.officer", &t.tree.city, &[Role::DutyOfficer]).await;
        let west = t.signed_in("west.officer", &t.tree.west, &[Role::DutyOfficer]).await;
        let admin = t.signed_in("city.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        let firm = t.signed_in("east.firm", &t.tree.east, &[Role::Enterprise]).await;
        let made = t.post(&east, "/api/v1/incidents", explosion()).await;
        made.expect(StatusCode::CREATED);
        let made = made.json();
        let id = made["id"].as_str().unwrap().to_owned();
        let number = made["number"].as_str().unwrap().to_owned();

        // The district that registered it: open, with its report to the city's clock running.
        let mine = cards(&t, &east).await;
        let open = card(&mine, "incident.open").expect("open incidents");
        assert_eq!(open["count"], 1);
        let item = &open["items"][0];
        assert_eq!(item["title"], format!("{number} 临江化工储罐爆炸"));
        assert_eq!(item["link"], format!("/incidents/{id}"));
        assert!(item["tags"].as_array().unwrap().contains(&json!("grade:relatively_serious")));
        let clocks = card(&mine, "incident.clocks").expect("clocks");
        assert!(clocks["count"].as_i64().unwrap() >= 1, "{clocks}");
        assert!(
            clocks["items"].as_array().unwrap().iter().any(|i| i["tags"]
                .as_array()
                .unwrap()
                .contains(&json!("hop:county_to_city"))),
            "{clocks}"
        );
        let today = card(&mine, "incident.today").expect("today");
        assert_eq!(today["count"], 1);
        assert!(today["breakdown"].as_array().unwrap().contains(&json!({
            "key": "grade:relatively_serious", "count": 1
        })));
        assert!(card(&mine, "duty.on_duty").is_some());

        // The city, to which the report is addressed, has it to acknowledge.
        let above = cards(&t, &city).await;
        let ack = card(&above, "incident.to_acknowledge").expect("to acknowledge");
        assert_eq!(ack["count"], 1);
        assert_eq!(ack["items"][0]["link"], format!("/incidents/{id}"));

        // The other district sees none of it.
        let other = cards(&t, &west).await;
        assert_eq!(card(&other, "incident.open").unwrap()["count"], 0);
        assert_eq!(card(&other, "incident.today").unwrap()["count"], 0);
        assert!(!other.iter().any(|c| c.to_string().contains("临江")), "{other:?}");

        // Nothing on any card names a record by its internal id, or a person by login name.
        for card in mine.iter().chain(&above) {
            for item in card["items"].as_array().unwrap() {
                let text = format!("{} {}", item["title"], item["detail"]);
                assert!(!text.contains(&id) && !text.contains("east.officer"), "{text}");
            }
        }

        // An administrator reads no incident or duty, and gets the administrators' cards.
        let admin_cards = keys(&cards(&t, &admin).await);
        assert!(admin_cards.contains(&"admin.tokens_expiring".to_owned()), "{admin_cards:?}");
        assert!(admin_cards.contains(&"calendar.years".to_owned()), "{admin_cards:?}");
        assert!(!admin_cards.iter().any(|k| k.starts_with("incident.") || k.starts_with("duty.")));

        // An enterprise reads neither the duty desk nor the incidents of its district.
        let firm_cards = keys(&cards(&t, &firm).await);
        assert!(firm_cards.is_empty(), "{firm_cards:?}");

        // Signed out: no workbench.
        t.call(None, Method::GET, "/api/v1/workbench", None).await.expect(StatusCode::UNAUTHORIZED);
    }

    async fn the_auditor_sees_the_chain_as_last_walked(t: TestApp) {
        let auditor = t.signed_in("aud.admin", &t.tree.city, &[Role::AuditAdmin]).await;
        // The first load starts a walk in the background; once it ends (or the auditor
        // verifies by hand), the card says intact, with the records walked and when.
        let first = card(&cards(&t, &auditor).await, "audit.chain").cloned().expect("the chain card");
        assert!(first["count"].as_i64().is_some(), "{first}");
        t.get(&auditor, "/api/v1/audit/verify").await.expect(StatusCode::OK);
        let now = cards(&t, &auditor).await;
        let chain = card(&now, "audit.chain").expect("the chain card");
        assert!(chain["count"].as_i64().unwrap() >= 2, "{chain}");
        assert_eq!(chain["level"], "ok");
        assert_eq!(chain["items"][0]["tags"], json!(["chain_intact"]));
        assert_eq!(chain["items"][0]["link"], "/audit");
        // Nobody else gets it.
        let admin = t.signed_in("city.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        assert!(card(&cards(&t, &admin).await, "audit.chain").is_none());
    }

    async fn a_district_administrator_may_not_keep_the_calendar(t: TestApp) {
        let district = t.signed_in("east.admin", &t.tree.east, &[Role::SystemAdmin]).await;
        let keys = keys(&cards(&t, &district).await);
        assert!(!keys.contains(&"calendar.years".to_owned()), "{keys:?}");
        assert!(keys.contains(&"admin.tokens_expiring".to_owned()), "{keys:?}");
    }
}
