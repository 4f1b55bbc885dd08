//! Live events. A change writes the events it announces into the store's outbox in its own
//! transaction; each instance's relay hands committed events to the bus, and every signed-in
//! browser receives, over SSE, the events of its own scope. Every event has a place in one
//! sequence (its SSE id), and a client that reconnects with `Last-Event-ID` gets what it missed,
//! or is told to reload when that is no longer kept.
//!
//! [`InProcessBus`] serves one instance: the sequence is its own. [`NatsBus`] serves several:
//! NATS JetStream keeps the events in one stream, whose sequence is the deployment's, and every
//! instance reads the stream into its own subscribers.

mod nats;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use beacon_core::clock::SharedClock;
use futures::future::BoxFuture;
use serde::Serialize;
use tokio::sync::broadcast;
use utoipa::ToSchema;

pub use beacon_core::event::{Audience, CommittedEvent, Event, NewEvent};
pub use nats::{NatsBus, NatsConfig};

/// A new subscription: events after the client's last id, then the live stream.
pub struct Subscription {
    pub replay: Vec<Event>,
    /// The client's last id is older than what is kept (or from another sequence): some events
    /// are lost to it and it should reload what it shows.
    pub gap: bool,
    pub live: broadcast::Receiver<Event>,
}

/// The bus refused or could not take events; they stay in the outbox.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("event bus: {0}")]
pub struct BusError(pub String);

/// How the bus is, for `/healthz`.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct BusState {
    /// `in_process` or `nats`.
    pub kind: &'static str,
    /// Whether the bus can take and deliver events now.
    pub connected: bool,
}

pub trait EventBus: Send + Sync + 'static {
    /// Takes committed events, in order. Succeeds once the bus holds them (for NATS: stored by
    /// JetStream), so the relay may remove them from the outbox.
    fn publish(&self, events: Vec<CommittedEvent>) -> BoxFuture<'_, Result<(), BusError>>;
    /// Subscribes a client that last saw `last_seen` (none: a fresh client).
    fn subscribe(&self, last_seen: Option<u64>) -> BoxFuture<'_, Subscription>;
    fn state(&self) -> BusState;
    /// The last `limit` events this instance keeps that `audience` may receive, oldest first
    /// (what a page shows as recent activity on load).
    fn recent(&self, audience: &Audience, limit: usize) -> Vec<Event>;
}

pub type SharedBus = Arc<dyn EventBus>;

/// Events each instance keeps in memory for clients that reconnect.
pub const REPLAY_CAPACITY: usize = 4096;

/// The recent events of one instance in sequence order, and the channel its subscribers listen
/// on. Pushing and subscribing take the same lock, so a subscriber sees each event exactly once:
/// either in its replay or on its receiver.
pub(crate) struct Ring {
    state: Mutex<VecDeque<Event>>,
    sender: broadcast::Sender<Event>,
}

/// What a subscriber got from the ring.
pub(crate) struct Taken {
    pub live: broadcast::Receiver<Event>,
    /// Events after the subscriber's last id that the ring holds.
    pub replay: Vec<Event>,
    /// The oldest event the ring holds, if any.
    pub oldest: Option<u64>,
}

impl Ring {
    pub(crate) fn new() -> Self {
        let (sender, _) = broadcast::channel(REPLAY_CAPACITY);
        Self { state: Mutex::new(VecDeque::with_capacity(REPLAY_CAPACITY)), sender }
    }

    pub(crate) fn push(&self, event: Event) {
        let mut ring = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if ring.len() == REPLAY_CAPACITY {
            ring.pop_front();
        }
        ring.push_back(event.clone());
        // No receiver is not an error.
        let _ = self.sender.send(event);
    }

    /// Forgets what is kept (the sequence it belonged to has ended).
    pub(crate) fn clear(&self) {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clear();
    }

    pub(crate) fn recent(&self, audience: &Audience, limit: usize) -> Vec<Event> {
        let ring = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut recent: Vec<Event> =
            ring.iter().rev().filter(|e| e.visible_to(audience)).take(limit).cloned().collect();
        recent.reverse();
        recent
    }

    pub(crate) fn take(&self, last_seen: Option<u64>) -> Taken {
        let ring = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let live = self.sender.subscribe();
        let replay = match last_seen {
            Some(last) => ring.iter().filter(|e| e.seq > last).cloned().collect(),
            None => Vec::new(),
        };
        Taken { live, replay, oldest: ring.front().map(|e| e.seq) }
    }
}

/// The bus of a single instance: its own sequence, a broadcast channel and a replay ring.
pub struct InProcessBus {
    ring: Ring,
    next_seq: Mutex<u64>,
}

impl InProcessBus {
    /// Sequence ids start from the start-up time in microseconds, so ids keep increasing across
    /// restarts and a client's old `Last-Event-ID` never hides new events.
    pub fn new(clock: SharedClock) -> Self {
        let start = u64::try_from(clock.now().timestamp_millis()).unwrap_or(0) * 1000;
        Self { ring: Ring::new(), next_seq: Mutex::new(start + 1) }
    }
}

impl EventBus for InProcessBus {
    fn publish(&self, events: Vec<CommittedEvent>) -> BoxFuture<'_, Result<(), BusError>> {
        let mut next = self.next_seq.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        for committed in events {
            self.ring.push(Event::sequenced(*next, committed.at, committed.event));
            *next += 1;
        }
        Box::pin(async { Ok(()) })
    }

    fn subscribe(&self, last_seen: Option<u64>) -> BoxFuture<'_, Subscription> {
        // Holding the sequence's lock: nothing is numbered between reading it and the ring.
        let guard = self.next_seq.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let next = *guard;
        let taken = self.ring.take(last_seen);
        drop(guard);
        let oldest = taken.oldest.unwrap_or(next);
        // Missed: something between the client's id and the oldest kept event, or an id this
        // sequence never gave (a client of a former bus).
        let gap =
            last_seen.is_some_and(|last| (last + 1 < oldest && last + 1 < next) || last >= next);
        Box::pin(async move {
            Subscription {
                replay: if gap { Vec::new() } else { taken.replay },
                gap,
                live: taken.live,
            }
        })
    }

    fn state(&self) -> BusState {
        BusState { kind: "in_process", connected: true }
    }

    fn recent(&self, audience: &Audience, limit: usize) -> Vec<Event> {
        self.ring.recent(audience, limit)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use beacon_core::clock::{ManualClock, from_millis};

    fn bus() -> InProcessBus {
        InProcessBus::new(Arc::new(ManualClock::new(from_millis(1_000))))
    }

    fn committed(i: i64) -> CommittedEvent {
        CommittedEvent {
            id: i,
            at: from_millis(1_000),
            event: NewEvent::new("x", vec![], serde_json::json!(i)),
        }
    }

    #[tokio::test]
    async fn live_and_replayed_events_keep_their_order() {
        let bus = bus();
        bus.publish(vec![committed(1)]).await.unwrap();
        let mut sub = bus.subscribe(None).await;
        bus.publish(vec![committed(2)]).await.unwrap();
        let second = sub.live.recv().await.unwrap();
        assert_eq!(second.seq, 1_000_002);
        assert_eq!(second.data, serde_json::json!(2));
        let resumed = bus.subscribe(Some(1_000_001)).await;
        assert_eq!(resumed.replay, vec![second.clone()]);
        assert!(!resumed.gap);
        let all = bus.subscribe(Some(1_000_000)).await;
        assert_eq!(all.replay.len(), 2);
        assert!(!all.gap);
    }

    #[tokio::test]
    async fn lost_events_are_reported_as_a_gap() {
        let bus = bus();
        let events = (0..(REPLAY_CAPACITY + 10) as i64).map(committed).collect();
        bus.publish(events).await.unwrap();
        let sub = bus.subscribe(Some(1_000_001)).await;
        assert!(sub.gap);
        assert!(sub.replay.is_empty());
        let caught_up = bus.subscribe(Some(1_000_000 + (REPLAY_CAPACITY + 10) as u64)).await;
        assert!(!caught_up.gap);
        assert!(caught_up.replay.is_empty());
        // An id this bus never gave (a client of an instance that ran before) is a gap too.
        let foreign = bus.subscribe(Some(9_000_000_000_000_000)).await;
        assert!(foreign.gap);
    }
}
