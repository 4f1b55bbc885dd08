//! Live events over Server-Sent Events. Each signed-in browser holds one stream and receives the
//! events of its scope; on reconnect it sends `Last-Event-ID` and gets what it missed.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use beacon_bus::Event;
use futures::Stream;
use serde_json::json;
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
/// `seq`, `kind`, `at` and `data`; control messages carry only `kind`: `resync` (events were
/// missed, reload what is shown) and `session_ended`.
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
    let subscription = state.bus().subscribe(last);
    let stream = async_stream::stream! {
        if subscription.gap {
            yield Ok(control("resync"));
        }
        for event in subscription.replay.iter().filter(|e| e.visible_to(&audience)) {
            yield Ok(frame(event));
        }
        let mut live = subscription.live;
        let mut check = tokio::time::interval(state.config().stream_check);
        check.tick().await;
        loop {
            tokio::select! {
                received = live.recv() => match received {
                    Ok(event) if event.visible_to(&audience) => yield Ok(frame(&event)),
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => yield Ok(control("resync")),
                    Err(RecvError::Closed) => break,
                },
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

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(events))
}
