//! The global search: each kind only for the roles that may read it, each within the caller's
//! scope; hits read as numbers, titles and names and lead to their records; bad queries get
//! their codes.

use axum::http::StatusCode;
use beacon_core::org::Role;
use beacon_store::backend_tests;
use serde_json::Value;

use crate::incident::explosion;
use crate::{Session, TestApp};

async fn search(t: &TestApp, session: &Session, q: &str) -> Vec<Value> {
    let path = format!(
        "/api/v1/search?{}",
        form_urlencoded::Serializer::new(String::new()).append_pair("q", q).finish()
    );
    let response = t.get(session, &path).await;
    response.expect(StatusCode::OK);
    response.json()["groups"].as_array().cloned().unwrap_or_default()
}

fn group<'a>(groups: &'a [Value], kind: &str) -> Option<&'a Value> {
    groups.iter().find(|g| g["kind"] == kind)
}

backend_tests! {
    async fn each_kind_is_found_by_those_who_may_read_it_in_their_scope(t: TestApp) {
        let east = t.signed_in("east.officer", &t.tree.east, &[Role::DutyOfficer]).await;
        let west = t.signed_in("west.officer", &t.tree.west, &[Role::DutyOfficer]).await;
        let city = t.signed_in("city.officer", &t.tree.city, &[Role::DutyOfficer]).await;
        let admin = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        let made = t.post(&east, "/api/v1/incidents", explosion()).await;
        made.expect(StatusCode::CREATED);
        let incident = made.json();
        let number = incident["number"].as_str().unwrap().to_owned();

        // By title and by number, for the district and the city above it.
        for (who, q) in [(&east, "储罐爆炸"), (&city, "储罐爆炸"), (&city, number.as_str())] {
            let groups = search(&t, who, q).await;
            let hits = group(&groups, "incident").expect("incidents found")["items"].as_array().unwrap().clone();
            assert_eq!(hits.len(), 1, "{q}: {hits:?}");
            assert_eq!(hits[0]["label"], format!("{number} 临江化工储罐爆炸"));
            assert_eq!(hits[0]["link"], format!("/incidents/{}", incident["id"].as_str().unwrap()));
            assert!(hits[0]["detail"].as_str().unwrap().contains("江南区"), "{hits:?}");
        }
        // Not for the district beside it, nor for an administrator, who may not read incidents.
        assert!(group(&search(&t, &west, "储罐爆炸").await, "incident").is_none());
        assert!(group(&search(&t, &admin, "储罐爆炸").await, "incident").is_none());

        // Units in scope, people for whoever may see accounts, by their names.
        let units = search(&t, &west, "江").await;
        let names: Vec<&str> = group(&units, "unit").unwrap()["items"].as_array().unwrap().iter().map(|h| h["label"].as_str().unwrap()).collect();
        assert_eq!(names, ["江北区"], "only the caller's own subtree");
        assert!(group(&search(&t, &east, "officer").await, "user").is_none(), "the duty desk does not browse accounts");
        let people = search(&t, &admin, "east.off").await;
        let person = &group(&people, "user").unwrap()["items"][0];
        assert_eq!(person["label"], "east.officer");
        assert_eq!(person["link"], "/users?q=east.officer");

        // A limit, and a group that says there is more.
        for n in 0..3 {
            let mut body = explosion();
            body["title"] = Value::from(format!("仓库火灾{n}"));
            body["kind"] = Value::from("industry_trade");
            body["allow_duplicate"] = Value::from(true);
            t.post(&east, "/api/v1/incidents", body).await.expect(StatusCode::CREATED);
        }
        let response = t.get(&east, "/api/v1/search?q=%E4%BB%93%E5%BA%93&limit=2").await;
        response.expect(StatusCode::OK);
        let fires = &response.json()["groups"][0];
        assert_eq!(fires["items"].as_array().unwrap().len(), 2);
        assert_eq!(fires["more"], true);
        assert_eq!(fires["list"], "/incidents");
    }

    async fn bad_queries_get_their_codes(t: TestApp) {
        let east = t.signed_in("east.officer", &t.tree.east, &[Role::DutyOfficer]).await;
        for (path, field, code) in [
            ("/api/v1/search?q=%20", "q", "required"),
            (&format!("/api/v1/search?q={}", "x".repeat(65)) as &str, "q", "too_long"),
            ("/api/v1/search?q=a%00b", "q", "invalid_characters"),
            ("/api/v1/search?q=a&limit=0", "limit", "out_of_range"),
            ("/api/v1/search?q=a&limit=21", "limit", "out_of_range"),
        ] {
            let response = t.get(&east, path).await;
            response.expect(StatusCode::UNPROCESSABLE_ENTITY);
            assert_eq!(response.json()["fields"][field], code, "{path}");
        }
        assert_eq!(t.get(&east, "/api/v1/search?q=%E4%B8%8D%E5%AD%98%E5%9C%A8").await.json()["groups"], serde_json::json!([]));
    }
}
