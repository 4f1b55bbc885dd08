//! Live events over Server-Sent Events. Each signed-in browser holds one stream and receives the
//! events of its scope; on reconnect it sends `Last-Event-ID` and gets what it missed.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use beacon_bus::Event;
use beacon_store::outbox::Relayed;
use futures::Stream;
use serde_json::json;
use tokio::sync::Notify;
use tokio::sync::broadcast::error::RecvError;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::http::{ApiResult, ErrorBody};
use crate::org::Principal;
use crate::org::auth::Credential;

fn frame(event: &Event) -> SseEvent {
    let data = json!({ "seq": event.seq, "kind": event.kind, "at": event.at, "data": event.data });
    SseEvent::default().id(event.seq.to_string()).data(data.to_string())
}

fn control(kind: &str) -> SseEvent {
    SseEvent::default().data(json!({ "kind": kind }).to_string())
}

/// The caller's live events (`text/event-stream`). Each `data:` line is a JSON object with
/// `seq`, `kind`, `at` and `data`; the SSE id is `seq`, one sequence across every instance of
/// the deployment. Control messages carry only `kind`: `reset` (events were missed and are no
/// longer kept: reload what is shown) and `session_ended`.
#[utoipa::path(
    get, path = "/events", tag = "events",
    params(("Last-Event-ID" = Option<String>, Header, description = "Last `seq` received")),
    responses(
        (status = 200, description = "Event stream", content_type = "text/event-stream", body = beacon_bus::Event),
        (status = 401, body = ErrorBody),
    )
)]
async fn events(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let audience = principal.audience();
    let subscription = state.bus().subscribe(last).await;
    let stream = async_stream::stream! {
        if subscription.gap {
            yield Ok(control("reset"));
        }
        // The replay and the live channel may overlap by a few events: each is sent once, in
        // sequence order.
        let mut sent = if subscription.gap { 0 } else { last.unwrap_or(0) };
        for event in &subscription.replay {
            if event.seq > sent {
                sent = event.seq;
                if event.visible_to(&audience) {
                    yield Ok(frame(event));
                }
            }
        }
        let mut live = subscription.live;
        let mut check = tokio::time::interval(state.config().stream_check);
        check.tick().await;
        loop {
            tokio::select! {
                received = live.recv() => match received {
                    Ok(event) if event.seq <= sent => {}
                    Ok(event) => {
                        sent = sent.max(event.seq);
                        if event.visible_to(&audience) {
                            yield Ok(frame(&event));
                        }
                    }
                    Err(RecvError::Lagged(_)) => yield Ok(control("reset")),
                    Err(RecvError::Closed) => break,
                },
                () = state.stopping() => break,
                _ = check.tick() => {
                    if !still_valid(&state, &principal).await {
                        yield Ok(control("session_ended"));
                        break;
                    }
                }
            }
        }
    };
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// An open stream is not activity: the session still ends after the idle timeout.
async fn still_valid(state: &AppState, principal: &Principal) -> bool {
    match &principal.credential {
        Credential::Session { token_hash, .. } => {
            let (Ok(Some(session)), Ok(policy)) =
                (state.store().session_principal(token_hash).await, state.policy().await)
            else {
                return false;
            };
            let now = state.store().now();
            let valid = !session.revoked
                && session.active
                && now < session.expires_at
                && now - session.last_seen_at < policy.idle_timeout();
            if !valid && !session.revoked {
                let _ = state.store().expire_session(token_hash).await;
            }
            // A stream listens with the scope and roles it opened with; when the user has been
            // moved or their roles changed, it ends and the client reconnects with the new ones.
            valid
                && session.unit.id == principal.unit.id
                && session.top_of_tree == principal.top_of_tree
                && session.roles == principal.roles
        }
        Credential::Token { token_hash, .. } => {
            let now = state.store().now();
            matches!(
                state.store().token_principal(token_hash).await,
                Ok(Some(token)) if !token.revoked && token.expires_at.is_none_or(|at| now < at)
            )
        }
    }
}

/// Events the activity feed shows on load, at most this many.
const RECENT: usize = 50;

/// The caller's recent live events, oldest first: the last [`RECENT`] this instance keeps that
/// the caller's stream would have delivered (the same scope and role rules), so the activity feed
/// shows what happened before the page opened. A stream opened with `Last-Event-ID` set to the
/// last one's `seq` continues without a gap or a repeat.
#[utoipa::path(
    get, path = "/events/recent", tag = "events",
    responses((status = 200, body = Vec<beacon_bus::Event>), (status = 401, body = ErrorBody))
)]
async fn recent(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<axum::Json<Vec<Event>>> {
    Ok(axum::Json(state.bus().recent(&principal.audience(), RECENT)))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events)).routes(routes!(recent))
}

/// The relay's state on this instance, for `/healthz` and the metrics.
#[derive(Debug, Default)]
pub struct RelayState {
    pub(crate) signal: Arc<Notify>,
    /// The bus refused the last events handed to it.
    failing: AtomicBool,
    /// Committed events not yet taken by the bus, as last counted.
    backlog: AtomicI64,
}

impl RelayState {
    /// Whether events reach the bus now.
    pub fn failing(&self) -> bool {
        self.failing.load(Ordering::Acquire)
    }

    pub fn backlog(&self) -> i64 {
        self.backlog.load(Ordering::Acquire)
    }
}

/// Events handed to the bus at a time.
const RELAY_BATCH: u32 = 512;
/// How often the relay looks at the outbox without being woken (rows another instance left,
/// a bus that came back).
const RELAY_IDLE: Duration = Duration::from_millis(500);

/// Starts the instance's relay from the events outbox to the bus. It stops when the last handle
/// on the application state is gone.
pub(crate) fn spawn_relay(state: &AppState) {
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    let weak = Arc::downgrade(&state.0);
    tokio::spawn(async move {
        // Each turn holds the application state only while it works, so dropping the
        // application ends the relay within a second.
        while let Some(inner) = weak.upgrade() {
            let state = AppState(inner);
            relay_pass(&state).await;
            let wait = if state.relay().failing() { Duration::from_secs(1) } else { RELAY_IDLE };
            let signal = state.relay().signal.clone();
            drop(state);
            tokio::select! {
                () = signal.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    });
}

/// Hands everything waiting in the outbox to the bus, batch after batch, until the outbox is
/// empty or the bus refuses.
async fn relay_pass(state: &AppState) {
    let relay = state.relay();
    loop {
        let bus = state.bus().clone();
        let outcome = state
            .store()
            .relay_events(RELAY_BATCH, async move |events| {
                bus.publish(events).await.map_err(|e| e.to_string())
            })
            .await;
        match outcome {
            Ok(Relayed::Published(0)) => {
                relay.failing.store(false, Ordering::Release);
                relay.backlog.store(0, Ordering::Release);
                metrics::gauge!("beacon_event_backlog").set(0.0);
                return;
            }
            Ok(Relayed::Published(n)) => {
                relay.failing.store(false, Ordering::Release);
                metrics::counter!("beacon_events_relayed_total").increment(n as u64);
            }
            Ok(Relayed::BusFailed(error)) => {
                if !relay.failing.swap(true, Ordering::AcqRel) {
                    tracing::warn!(%error, "the event bus refused events; they wait in the outbox");
                }
                break;
            }
            Err(error) => {
                tracing::warn!(%error, "reading the events outbox failed");
                break;
            }
        }
    }
    if let Ok(n) = state.store().event_backlog().await {
        relay.backlog.store(n, Ordering::Release);
        metrics::gauge!("beacon_event_backlog").set(n as f64);
    }
}
