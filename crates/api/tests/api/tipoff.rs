//! Public tip-offs over HTTP: sent without sign-in and read back by the query code (a wrong code
//! answered as one that names nothing, the per-address limits), routed by the place, verified
//! into a hidden danger or found untrue, answered, rewarded by the schedule with a leader's
//! approval; the reporter's identity sealed, opened only for the handling unit and audited.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use beacon_core::clock::Clock;
use beacon_core::org::Role;
use beacon_core::page::PageRequest;
use beacon_store::backend_tests;
use chrono::{Days, Duration};
use serde_json::{Value, json};

use crate::attachments::png;
use crate::{Response, TestApp};

/// A public request from `ip`.
async fn public(t: &TestApp, ip: &str, path: &str, body: Value) -> Response {
    let addr: SocketAddr = format!("{ip}:40000").parse().unwrap();
    let request = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .extension(MockConnectInfo(addr))
        .body(Body::from(body.to_string()))
        .unwrap();
    t.send(request).await
}

async fn photo(t: &TestApp, code: &str, bytes: Vec<u8>) -> Response {
    let addr: SocketAddr = "198.51.100.7:40000".parse().unwrap();
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/public/tipoffs/photos?name=photo.png")
        .header("x-query-code", code)
        .extension(MockConnectInfo(addr))
        .body(Body::from(bytes))
        .unwrap();
    t.send(request).await
}

/// A square outline around (x, 30).
fn square(x: f64) -> Value {
    json!({ "type": "Polygon", "coordinates": [[[x, 30.0], [x + 0.1, 30.0], [x + 0.1, 30.1], [x, 30.1], [x, 30.0]]] })
}

/// The kinds of a user's notifications, sorted.
async fn kinds(t: &TestApp, user: &str) -> Vec<String> {
    let page =
        t.store.notifications(user, &Default::default(), PageRequest::default()).await.unwrap();
    let mut kinds: Vec<String> = page.items.into_iter().map(|n| n.kind).collect();
    kinds.sort();
    kinds
}

async fn enterprise(t: &TestApp, who: &crate::Session, uscc: &str, unit: &str) -> String {
    let made = t
        .post(
            who,
            "/api/v1/enterprises",
            json!({
                "uscc": uscc, "name": "临江甲化工", "unit_id": unit, "section": "C",
                "sector": "hazardous_chemicals",
            }),
        )
        .await;
    made.expect(StatusCode::CREATED).json()["id"].as_str().unwrap().to_owned()
}

fn hazard(
    enterprise: &str,
    level: &str,
    found: chrono::NaiveDate,
    deadline: chrono::NaiveDate,
) -> Value {
    json!({
        "enterprise_id": enterprise, "level": level, "category": "site", "origin": "tipoff",
        "place": "仓库", "description": "仓库内违规动火，周边堆放可燃物",
        "criterion": "安监总管三〔2017〕121号 第十二项",
        "found_on": found.to_string(), "deadline": deadline.to_string(),
    })
}

backend_tests! {
    async fn an_anonymous_tipoff_becomes_a_hidden_danger_and_its_reply_is_read_by_code(t: TestApp) {
        let admin = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        t.patch(&admin, &format!("/api/v1/units/{}", t.tree.east), json!({ "boundary": square(119.0) }))
            .await.expect(StatusCode::OK);
        // The public page's map: the units' outlines, without signing in.
        let areas = t.call(None, Method::GET, "/api/v1/public/tipoffs/areas", None).await;
        assert_eq!(areas.expect(StatusCode::OK).json()["features"][0]["properties"]["name"], "江南区");
        let east = t.signed_in("east.inspector", &t.tree.east, &[Role::Inspector]).await;
        let east_id = t.store.find_login("east.inspector").await.unwrap().unwrap().id;
        let city_id = t.user("city.inspector", &t.tree.city, &[Role::Inspector]).await;
        let west = t.signed_in("west.inspector", &t.tree.west, &[Role::Inspector]).await;
        let viewer = t.signed_in("east.viewer", &t.tree.east, &[Role::Viewer]).await;
        let company = enterprise(&t, &east, "91350100M000100Y43", &t.tree.town).await;

        // Bad input is named and nothing is kept.
        let empty = public(&t, "198.51.100.7", "/api/v1/public/tipoffs", json!({ "content": " ", "place": "滨江路" })).await;
        empty.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(empty.json()["fields"]["content"], "required");
        let nowhere = public(&t, "198.51.100.7", "/api/v1/public/tipoffs", json!({ "content": "有人违规动火" })).await;
        assert_eq!(nowhere.json()["fields"]["place"], "required");
        let half = public(&t, "198.51.100.7", "/api/v1/public/tipoffs", json!({ "content": "x", "lon": 119.05 })).await;
        assert_eq!(half.json()["fields"]["point"], "coordinates_incomplete");
        let phone = public(&t, "198.51.100.7", "/api/v1/public/tipoffs", json!({ "content": "x", "place": "y", "phone": "call me" })).await;
        assert_eq!(phone.json()["fields"]["phone"], "invalid_phone");

        // Sent anonymously from a point inside 江南区: routed there, with a query code.
        let sent = public(&t, "198.51.100.7", "/api/v1/public/tipoffs", json!({
            "content": "仓库里晚上有人电焊，旁边堆着油漆桶", "place": "滨江路 8 号",
            "lon": 119.05, "lat": 30.05, "enterprise_name": "临江甲化工",
        })).await;
        let receipt = sent.expect(StatusCode::CREATED).json();
        let code = receipt["code"].as_str().unwrap().to_owned();
        assert!(receipt["number"].as_str().unwrap().starts_with("JB-990102-"));
        assert_eq!(kinds(&t, &east_id).await, ["tipoff.received"]);

        // Photos by the code: an image is taken, anything else is not; a wrong code is not found.
        photo(&t, &code, png(64, 48, 3)).await.expect(StatusCode::CREATED);
        let text = photo(&t, &code, b"not a picture at all, just words".to_vec()).await;
        text.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(text.json()["fields"]["content"], "file_type_not_allowed");
        photo(&t, "ABCD-EFGH-JKMN-PQRS", png(8, 8, 1)).await.expect(StatusCode::NOT_FOUND);

        // The status by code; a wrong code and a malformed one answer exactly as nothing does.
        let status = public(&t, "198.51.100.8", "/api/v1/public/tipoffs/status", json!({ "code": code.to_lowercase() })).await;
        let status = status.expect(StatusCode::OK).json();
        assert_eq!((status["status"].as_str(), status["reply"].as_str()), (Some("processing"), None));
        let wrong = public(&t, "198.51.100.8", "/api/v1/public/tipoffs/status", json!({ "code": "ABCD-EFGH-JKMN-PQRS" })).await;
        let malformed = public(&t, "198.51.100.8", "/api/v1/public/tipoffs/status", json!({ "code": "1" })).await;
        wrong.expect(StatusCode::NOT_FOUND);
        assert_eq!((wrong.status, wrong.json()), (malformed.status, malformed.json()));

        // The inbox: 江南区 sees it, 江北区 does not know it, a reader of the unit may not open it.
        let list = t.get(&east, "/api/v1/tipoffs").await.expect(StatusCode::OK).json();
        assert_eq!(list["total"], 1);
        let id = list["items"][0]["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/tipoffs/{id}");
        assert_eq!(t.get(&west, "/api/v1/tipoffs").await.json()["total"], 0);
        t.get(&west, &path).await.expect(StatusCode::NOT_FOUND);
        t.get(&viewer, &path).await.expect(StatusCode::FORBIDDEN);
        t.get(&viewer, "/api/v1/tipoffs").await.expect(StatusCode::FORBIDDEN);
        let detail = t.get(&east, &path).await.expect(StatusCode::OK).json();
        assert_eq!((detail["anonymous"].as_bool(), detail["can_reveal"].as_bool()), (Some(true), Some(false)));
        assert!(detail["reporter_masked"].is_null());
        assert_eq!(t.post(&east, &format!("{path}/reporter"), json!({})).await.code(), "anonymous");
        let photos = t.get(&east, &format!("/api/v1/attachments?owner_kind=tipoff&owner_id={id}")).await;
        assert_eq!(photos.expect(StatusCode::OK).json().as_array().unwrap().len(), 1);

        // Steps out of order, and a founded outcome whose hidden danger is wrong: nothing kept.
        let (conclusion, reply) = (format!("{path}/conclusion"), format!("{path}/reply"));
        let act = |step: &'static str, body: Value| {
            let at = if step == "reply" { &reply } else { &conclusion };
            t.post(&east, at, body)
        };
        assert_eq!(act("reply", json!({ "text": "已收到" })).await.code(), "not_concluded");
        let today = t.clock.now().date_naive();
        let bad = act("conclusion", json!({ "founded": true,
            "hazard": hazard(&company, "general", today, today - Days::new(1)) })).await;
        bad.expect(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(bad.json()["fields"]["hazard.deadline"], "before_found");
        let blank = act("conclusion", json!({ "founded": false, "reasons": "" })).await;
        assert_eq!(blank.json()["fields"]["reasons"], "required");
        assert_eq!(t.get(&east, &path).await.json()["status"], "received");
        assert_eq!(t.store.dangers(&beacon_store::enterprise::Reach::Scope(beacon_core::scope::Scope::Global), &Default::default(), PageRequest::default()).await.unwrap().total, 0);

        // Founded: it becomes a hidden danger of origin `tipoff`, linked both ways by number.
        let done = act("conclusion", json!({ "version": detail["version"], "founded": true,
            "findings": "现场核查属实", "hazard": hazard(&company, "general", today, today + Days::new(7)) })).await;
        let done = done.expect(StatusCode::OK).json();
        assert_eq!(done["status"], "founded");
        let danger = t.get(&east, &format!("/api/v1/hazards/{}", done["danger_id"].as_str().unwrap())).await.json();
        assert_eq!((danger["origin"].as_str(), danger["number"].as_str()), (Some("tipoff"), done["danger_number"].as_str()));
        let again = act("conclusion", json!({ "founded": false, "reasons": "x" })).await;
        again.expect(StatusCode::CONFLICT);
        assert_eq!(again.code(), "already_concluded");
        let stale = act("reply", json!({ "version": 1, "text": "x" })).await;
        assert_eq!(stale.code(), "changed_meanwhile");

        // Answered: the reporter reads the reply by the code.
        act("reply", json!({ "text": "经核查属实，已责令整改，感谢监督。" })).await.expect(StatusCode::OK);
        assert_eq!(act("reply", json!({ "text": "again" })).await.code(), "already_replied");
        let status = public(&t, "198.51.100.8", "/api/v1/public/tipoffs/status", json!({ "code": code })).await.json();
        assert_eq!((status["status"].as_str(), status["reply"].as_str()), (Some("answered"), Some("经核查属实，已责令整改，感谢监督。")));
        let history = t.get(&east, &format!("{path}/history")).await.json();
        let steps: Vec<&str> = history.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(steps, ["received", "attachment_added", "concluded_founded", "replied"]);

        // One left unverified: a reminder three days before the period ends, then the overdue
        // alert to the handling unit and the unit above.
        let late = public(&t, "198.51.100.9", "/api/v1/public/tipoffs", json!({
            "content": "另一处仓库也在违规动火", "lon": 119.02, "lat": 30.02 })).await;
        late.expect(StatusCode::CREATED);
        // (The hidden danger's own clock fires beside it.)
        let has = |kinds: Vec<String>, kind: &str| kinds.iter().any(|k| k == kind);
        t.clock.advance(Duration::days(13));
        beacon_api::notify::run_due_deadlines(&t.state).await.unwrap();
        assert!(has(kinds(&t, &east_id).await, "tipoff.deadline_near"));
        assert!(!has(kinds(&t, &city_id).await, "tipoff.deadline_near"));
        t.clock.advance(Duration::days(5));
        beacon_api::notify::run_due_deadlines(&t.state).await.unwrap();
        assert!(has(kinds(&t, &east_id).await, "tipoff.overdue"));
        assert!(has(kinds(&t, &city_id).await, "tipoff.overdue"));
        let east = t.login("east.inspector", crate::PASSWORD).await.session();
        let overdue = t.get(&east, "/api/v1/tipoffs?overdue=true").await.json();
        assert_eq!((overdue["total"].as_i64(), overdue["items"][0]["overdue"].as_bool()), (Some(1), Some(true)));
    }

    async fn a_reporters_identity_is_sealed_and_opened_only_by_the_handling_unit_with_an_audit(t: TestApp) {
        let city = t.signed_in("city.inspector", &t.tree.city, &[Role::Inspector]).await;
        let east = t.signed_in("east.inspector", &t.tree.east, &[Role::Inspector]).await;
        let sent = public(&t, "198.51.100.7", "/api/v1/public/tipoffs", json!({
            "content": "储罐区可燃气体报警器坏了几个月", "place": "临港工业区",
            "name": "王建华", "phone": "+86 138-1234-5678",
        })).await;
        sent.expect(StatusCode::CREATED);
        // No point: the top of the tree receives it.
        let list = t.get(&city, "/api/v1/tipoffs").await.json();
        let id = list["items"][0]["id"].as_str().unwrap().to_owned();
        let path = format!("/api/v1/tipoffs/{id}");
        t.get(&east, &path).await.expect(StatusCode::NOT_FOUND);

        // Sealed at rest; masked for the handling unit; nowhere in lists or the history.
        let sealed = t.store.tipoff_sealed_reporter(&id).await.unwrap().unwrap();
        assert!(sealed.starts_with("v1:") && !sealed.contains("王建华") && !sealed.contains("13812345678"));
        let detail = t.get(&city, &path).await.json();
        assert_eq!(detail["reporter_masked"], json!({ "name": "王**", "phone": "138****5678" }));
        assert_eq!((detail["anonymous"].as_bool(), detail["can_reveal"].as_bool()), (Some(false), Some(true)));
        for body in [list.to_string(), t.get(&city, &format!("{path}/history")).await.json().to_string()] {
            assert!(!body.contains("王建华") && !body.contains("13812345678"), "{body}");
        }
        assert!(t.audit_actions("tipoff.reporter_viewed").await.is_empty());
        let full = t.post(&city, &format!("{path}/reporter"), json!({})).await.expect(StatusCode::OK).json();
        assert_eq!(full, json!({ "name": "王建华", "phone": "13812345678" }));
        assert_eq!(t.audit_actions("tipoff.reporter_viewed").await.len(), 1);

        // Transferred to 江南区: the city still follows it but no longer reads who sent it.
        let transfer = |unit: &str| json!({ "unit_id": unit, "reason": "属江南区辖区" });
        let outside = t.post(&east, &format!("{path}/transfer"), transfer(&t.tree.west)).await;
        outside.expect(StatusCode::NOT_FOUND);
        let far = t.post(&city, &format!("{path}/transfer"), json!({ "unit_id": "0192f0e0-0000-7000-8000-000000000000", "reason": "x" })).await;
        assert_eq!(far.json()["fields"]["unit_id"], "not_found");
        t.post(&city, &format!("{path}/transfer"), transfer(&t.tree.east)).await.expect(StatusCode::OK);
        let detail = t.get(&city, &path).await.json();
        assert_eq!((detail["unit_name"].as_str(), detail["can_reveal"].as_bool()), (Some("江南区"), Some(false)));
        assert!(detail["reporter_masked"].is_null());
        let refused = t.post(&city, &format!("{path}/reporter"), json!({})).await;
        refused.expect(StatusCode::FORBIDDEN);
        assert_eq!(refused.code(), "not_handling_unit");
        t.post(&east, &format!("{path}/reporter"), json!({})).await.expect(StatusCode::OK);
        assert_eq!(t.audit_actions("tipoff.reporter_viewed").await.len(), 2);

        // A second tip-off from the same phone is matched by its keyed hash, not by reading it.
        public(&t, "198.51.100.9", "/api/v1/public/tipoffs", json!({
            "content": "又看到了", "place": "临港工业区", "name": "王先生", "phone": "13812345678" })).await
            .expect(StatusCode::CREATED);
        assert_eq!(t.get(&east, &path).await.json()["same_reporter"], 1);

        // The enterprise never reaches the inbox.
        let company = enterprise(&t, &east, "91110000802100433B", &t.tree.town).await;
        let admin = t.signed_in("east.admin", &t.tree.east, &[Role::SystemAdmin]).await;
        let officer = t.user("jia.safety", &t.tree.town, &[Role::Enterprise]).await;
        t.put(&admin, &format!("/api/v1/users/{officer}/enterprise"), json!({ "enterprise_id": company }))
            .await.expect(StatusCode::NO_CONTENT);
        let own = t.login("jia.safety", crate::PASSWORD).await.session();
        t.get(&own, "/api/v1/tipoffs").await.expect(StatusCode::FORBIDDEN);
        t.get(&own, &path).await.expect(StatusCode::NOT_FOUND);
        t.post(&admin, &format!("{path}/reporter"), json!({})).await.expect(StatusCode::FORBIDDEN);
    }

    async fn rewards_follow_the_schedule_and_need_another_leaders_approval(t: TestApp) {
        let inspector = t.signed_in("city.inspector", &t.tree.city, &[Role::Inspector]).await;
        let leader = t.signed_in("city.leader", &t.tree.city, &[Role::Leader]).await;
        let deputy = t.signed_in("city.deputy", &t.tree.city, &[Role::Leader]).await;
        let east_leader = t.signed_in("east.leader", &t.tree.east, &[Role::Leader]).await;
        let company = enterprise(&t, &inspector, "91350100M000100Y43", &t.tree.town).await;
        let today = t.clock.now().date_naive();
        let mut ids = Vec::new();
        for n in 0..2 {
            public(&t, "198.51.100.7", "/api/v1/public/tipoffs", json!({
                "content": format!("举报内容 {n}"), "place": "临港工业区", "name": "李女士", "phone": "13900001111" })).await
                .expect(StatusCode::CREATED);
        }
        for item in t.get(&inspector, "/api/v1/tipoffs").await.json()["items"].as_array().unwrap() {
            ids.push(format!("/api/v1/tipoffs/{}", item["id"].as_str().unwrap()));
        }
        let (major, general) = (&ids[0], &ids[1]);
        let propose = json!({ "penalty_fen": 5_000_000 });
        let at = |path: &str, step: &str| format!("{path}/{step}");
        assert_eq!(t.post(&inspector, &at(major, "reward"), propose.clone()).await.code(), "not_founded");
        for (path, level) in [(major, "major"), (general, "general")] {
            t.post(&inspector, &at(path, "conclusion"), json!({ "founded": true,
                "hazard": hazard(&company, level, today, today + Days::new(30)) })).await.expect(StatusCode::OK);
        }

        // The national rule: 15 % of the penalty, within 3,000 and 300,000 yuan; none yet for a
        // general one.
        let proposed = t.post(&inspector, &at(major, "reward"), propose.clone()).await.expect(StatusCode::OK).json();
        assert_eq!(proposed["reward"]["amount_fen"], 750_000);
        assert_eq!(proposed["reward"]["status"], "proposed");
        // On the workbench: the leader's rewards to approve, the inspector's tip-offs to answer.
        let keys = |cards: Value| -> Vec<String> {
            cards["cards"].as_array().unwrap().iter().map(|c| c["key"].as_str().unwrap().to_owned()).collect()
        };
        assert!(keys(t.get(&leader, "/api/v1/workbench").await.json()).contains(&"tipoff.rewards".to_owned()));
        let mine = keys(t.get(&inspector, "/api/v1/workbench").await.json());
        assert!(mine.contains(&"tipoff.to_answer".to_owned()) && !mine.contains(&"tipoff.rewards".to_owned()));
        assert_eq!(t.post(&inspector, &at(major, "reward"), propose.clone()).await.code(), "reward_exists");
        let none = t.post(&inspector, &at(general, "reward"), propose.clone()).await;
        none.expect(StatusCode::CONFLICT);
        assert_eq!(none.code(), "no_reward_rule");
        let negative = t.post(&inspector, &at(general, "reward"), json!({ "penalty_fen": -1 })).await;
        assert_eq!(negative.json()["fields"]["penalty_fen"], "out_of_range");

        // Approval: a leader, never the inspector; payment only once approved, not in the future.
        let review = json!({ "approve": true });
        t.post(&inspector, &at(major, "reward/review"), review.clone()).await.expect(StatusCode::FORBIDDEN);
        let pay = |day: chrono::NaiveDate| json!({ "paid_on": day.to_string(), "reference": "JL-0017" });
        assert_eq!(t.post(&inspector, &at(major, "reward/payment"), pay(today)).await.code(), "reward_not_approved");
        t.post(&leader, &at(major, "reward/review"), review.clone()).await.expect(StatusCode::OK);
        let future = t.post(&inspector, &at(major, "reward/payment"), pay(today + Days::new(1))).await;
        assert_eq!(future.json()["fields"]["paid_on"], "in_future");
        let paid = t.post(&inspector, &at(major, "reward/payment"), pay(today)).await.expect(StatusCode::OK).json();
        assert_eq!((paid["reward"]["status"].as_str(), paid["reward"]["payment_ref"].as_str()), (Some("paid"), Some("JL-0017")));
        assert_eq!(t.audit_actions("tipoff.reward_paid").await.len(), 1);

        // The schedule is the top unit's leaders' to set; then a general one is rewarded, and a
        // leader does not approve a proposal of their own.
        let mut settings = t.get(&inspector, "/api/v1/tipoffs/settings").await.expect(StatusCode::OK).json();
        assert_eq!(settings["verify_days"], 15);
        settings["reward"]["general"] = json!({ "rate_percent": 10, "min_yuan": 200, "max_yuan": 2000 });
        t.put(&inspector, "/api/v1/tipoffs/settings", settings.clone()).await.expect(StatusCode::FORBIDDEN);
        assert_eq!(t.put(&east_leader, "/api/v1/tipoffs/settings", settings.clone()).await.code(), "tipoff_settings_top_only");
        let mut bad = settings.clone();
        bad["verify_days"] = json!(0);
        assert_eq!(t.put(&leader, "/api/v1/tipoffs/settings", bad).await.json()["fields"]["verify_days"], "out_of_range");
        t.put(&leader, "/api/v1/tipoffs/settings", settings).await.expect(StatusCode::OK);
        let small = t.post(&leader, &at(general, "reward"), json!({ "penalty_fen": 100_000 })).await;
        assert_eq!(small.expect(StatusCode::OK).json()["reward"]["amount_fen"], 20_000);
        assert_eq!(t.post(&leader, &at(general, "reward/review"), review.clone()).await.code(), "own_proposal");
        let reject = t.post(&deputy, &at(general, "reward/review"), json!({ "approve": false })).await;
        assert_eq!(reject.json()["fields"]["reason"], "required");
        let rejected = t.post(&deputy, &at(general, "reward/review"), json!({ "approve": false, "reason": "举报人为企业负责人，不予奖励" })).await;
        assert_eq!(rejected.expect(StatusCode::OK).json()["reward"]["status"], "rejected");
    }

    async fn public_requests_are_limited_per_address(t: TestApp) {
        let leader = t.signed_in("city.leader", &t.tree.city, &[Role::Leader]).await;
        let mut settings = t.get(&leader, "/api/v1/tipoffs/settings").await.json();
        settings["per_address_per_day"] = json!(2);
        t.put(&leader, "/api/v1/tipoffs/settings", settings).await.expect(StatusCode::OK);
        let send = |ip: &'static str| public(&t, ip, "/api/v1/public/tipoffs", json!({ "content": "举报", "place": "滨江路" }));
        send("198.51.100.1").await.expect(StatusCode::CREATED);
        send("198.51.100.1").await.expect(StatusCode::CREATED);
        let over = send("198.51.100.1").await;
        over.expect(StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(over.code(), "too_many_tipoffs");
        send("198.51.100.2").await.expect(StatusCode::CREATED);
        // A day later the address may send again.
        t.clock.advance(Duration::hours(25));
        send("198.51.100.1").await.expect(StatusCode::CREATED);
        let leader = t.login("city.leader", crate::PASSWORD).await.session();
        assert_eq!(t.get(&leader, "/api/v1/tipoffs").await.json()["total"], 4);

        // Guessing codes: ten a minute, then refused whatever the code.
        let mut codes = Vec::new();
        for _ in 0..12 {
            let r = public(&t, "198.51.100.3", "/api/v1/public/tipoffs/status", json!({ "code": "ABCD-EFGH-JKMN-PQRS" })).await;
            codes.push(r.code());
        }
        assert_eq!(codes.iter().filter(|c| *c == "not_found").count(), 10);
        assert_eq!(codes.last().unwrap(), "too_many_requests");
    }
}
