use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use beacon_core::org::Role;
use beacon_store::backend_tests;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::{Session, TestApp};

/// An open event stream, read frame by frame.
pub(crate) struct Stream {
    body: Body,
    buffer: String,
}

impl Stream {
    pub(crate) async fn open(
        t: &TestApp,
        session: &Session,
        last_event_id: Option<&str>,
    ) -> Stream {
        Self::open_on(&t.router, session, last_event_id).await
    }

    /// A stream from one instance of several.
    pub(crate) async fn open_on(
        router: &axum::Router,
        session: &Session,
        last_event_id: Option<&str>,
    ) -> Stream {
        let mut request = Request::get("/api/v1/events").header(header::COOKIE, &session.cookie);
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = router.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert!(
            response.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        Stream { body: response.into_body(), buffer: String::new() }
    }

    /// The next event's (id, data), or None if nothing arrives within a short while.
    pub(crate) async fn next(&mut self) -> Option<(Option<String>, Value)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut id = None;
                let mut data = None;
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        id = Some(v.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data = Some(serde_json::from_str(v.trim()).unwrap());
                    }
                }
                match data {
                    Some(data) => return Some((id, data)),
                    None => continue, // keep-alive comment
                }
            }
            let frame = tokio::time::timeout(Duration::from_millis(500), self.body.frame())
                .await
                .ok()??
                .ok()?;
            if let Ok(bytes) = frame.into_data() {
                self.buffer.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }
}

backend_tests! {
    async fn events_reach_the_scope_they_belong_to(t: TestApp) {
        let city = t.signed_in("city.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        let east = t.signed_in("east.viewer", &t.tree.east, &[Role::Viewer]).await;
        let west = t.signed_in("west.viewer", &t.tree.west, &[Role::Viewer]).await;
        let mut city_stream = Stream::open(&t, &city, None).await;
        let mut east_stream = Stream::open(&t, &east, None).await;
        let mut west_stream = Stream::open(&t, &west, None).await;

        t.post(&city, "/api/v1/units", json!({ "parent_id": t.tree.east, "code": "990102005", "name": "东新街道", "level": "township" })).await.expect(StatusCode::CREATED);
        let (id, event) = city_stream.next().await.expect("the city sees it");
        assert_eq!(event["kind"], "unit.created");
        assert_eq!(event["data"]["name"], "东新街道");
        let id = id.expect("events carry an id");
        let (_, event) = east_stream.next().await.expect("the district sees it");
        assert_eq!(event["kind"], "unit.created");
        assert!(west_stream.next().await.is_none(), "the other district does not");

        // Account events go to administrators only.
        t.post(&city, "/api/v1/users", json!({ "username": "new.one", "display_name": "x", "unit_id": t.tree.east, "roles": ["staff"], "password": "Initial-Pass-1" })).await.expect(StatusCode::CREATED);
        let (_, event) = city_stream.next().await.unwrap();
        assert_eq!(event["kind"], "user.created");
        assert!(east_stream.next().await.is_none());

        // A reconnecting client resumes after its last id.
        let mut resumed = Stream::open(&t, &city, Some(&id)).await;
        let (_, event) = resumed.next().await.expect("replayed");
        assert_eq!(event["kind"], "user.created");
        assert!(resumed.next().await.is_none());
    }

    async fn the_feed_shows_what_happened_before_the_page_opened_in_scope(t: TestApp) {
        let city = t.signed_in("city.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        let east = t.signed_in("east.viewer", &t.tree.east, &[Role::Viewer]).await;
        let west = t.signed_in("west.viewer", &t.tree.west, &[Role::Viewer]).await;
        t.post(&city, "/api/v1/units", json!({ "parent_id": t.tree.east, "code": "990102005", "name": "东新街道", "level": "township" })).await.expect(StatusCode::CREATED);
        t.post(&city, "/api/v1/users", json!({ "username": "new.one", "display_name": "x", "unit_id": t.tree.east, "roles": ["staff"], "password": "Initial-Pass-1" })).await.expect(StatusCode::CREATED);
        t.settle().await;

        let recent = t.get(&east, "/api/v1/events/recent").await;
        recent.expect(StatusCode::OK);
        let recent = recent.json();
        let kinds: Vec<&str> = recent.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert!(kinds.contains(&"unit.created"), "{kinds:?}");
        assert!(!kinds.contains(&"user.created"), "account events are for administrators: {kinds:?}");
        let seqs: Vec<u64> = recent.as_array().unwrap().iter().map(|e| e["seq"].as_u64().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "oldest first: {seqs:?}");

        let admin = t.get(&city, "/api/v1/events/recent").await.json();
        assert!(admin.as_array().unwrap().iter().any(|e| e["kind"] == "user.created"));
        let other = t.get(&west, "/api/v1/events/recent").await.json();
        assert!(!other.to_string().contains("东新街道"), "another district's: {other}");

        // A stream that starts after the last of them repeats none.
        let last = seqs.last().unwrap().to_string();
        let mut stream = Stream::open(&t, &east, Some(&last)).await;
        assert!(stream.next().await.is_none());
        t.call(None, axum::http::Method::GET, "/api/v1/events/recent", None)
            .await
            .expect(StatusCode::UNAUTHORIZED);
    }

    async fn lockouts_alert_the_security_administrator(t: TestApp) {
        let security = t.signed_in("sec.admin", &t.tree.city, &[Role::SecurityAdmin]).await;
        let system = t.signed_in("sys.admin", &t.tree.city, &[Role::SystemAdmin]).await;
        t.user("target", &t.tree.east, &[Role::Staff]).await;
        let mut security_stream = Stream::open(&t, &security, None).await;
        let mut system_stream = Stream::open(&t, &system, None).await;
        for _ in 0..5 {
            t.login("target", "Wrong-Password-9").await;
        }
        let (_, event) = security_stream.next().await.expect("lockout event");
        assert_eq!(event["kind"], "auth.lockout");
        assert_eq!(event["data"]["username"], "target");
        assert!(system_stream.next().await.is_none());
    }

    async fn events_reach_only_the_readers_of_their_records(t: TestApp) {
        let officer = t.signed_in("east.officer", &t.tree.east, &[Role::DutyOfficer]).await;
        let viewer = t.signed_in("east.viewer", &t.tree.east, &[Role::Viewer]).await;
        let admin = t.signed_in("east.admin", &t.tree.east, &[Role::SystemAdmin]).await;
        let enterprise = t.signed_in("east.firm", &t.tree.east, &[Role::Enterprise]).await;
        let mut officer_stream = Stream::open(&t, &officer, None).await;
        let mut viewer_stream = Stream::open(&t, &viewer, None).await;
        let mut admin_stream = Stream::open(&t, &admin, None).await;
        let mut enterprise_stream = Stream::open(&t, &enterprise, None).await;
        let entry = json!({
            "received_at": "2026-03-02T01:20:00Z", "channel": "phone", "category": "accident",
            "caller_name": "王五", "caller_phone": "13800138000", "summary": "滨江路有人落水",
        });
        t.post(&officer, "/api/v1/duty/log", entry).await.expect(StatusCode::CREATED);
        let (_, event) = officer_stream.next().await.expect("the duty desk hears of its log");
        assert_eq!(event["kind"], "duty.log_created");
        // The log holds callers' names and phones: a viewer, an administrator and an
        // enterprise read none of it, and hear nothing of it.
        assert!(viewer_stream.next().await.is_none());
        assert!(admin_stream.next().await.is_none());
        assert!(enterprise_stream.next().await.is_none());
    }

    async fn streams_need_a_session(t: TestApp) {
        let response = t.call(None, axum::http::Method::GET, "/api/v1/events", None).await;
        response.expect(StatusCode::UNAUTHORIZED);
    }

    async fn a_moved_user_stops_hearing_the_old_unit(t: TestApp) {
        let id = t.user("mover", &t.tree.east, &[Role::Viewer]).await;
        let session = t.login("mover", crate::PASSWORD).await.session();
        let mut stream = Stream::open(&t, &session, None).await;
        let changes = beacon_store::org::UserChanges { unit_id: Some(t.tree.west.clone()), ..Default::default() };
        t.store
            .update_user(&beacon_core::scope::Scope::Global, &beacon_core::audit::Actor::system("test"), &id, changes)
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let (_, event) = stream.next().await.expect("the stream ends");
        assert_eq!(event["kind"], "session_ended");
        assert!(stream.next().await.is_none());
    }
}
