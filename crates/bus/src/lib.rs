//! Live events. Writers publish what happened, with the unit it concerns; each signed-in browser
//! receives, over SSE, the events of its own scope. Every event has a sequence id, and a client
//! that reconnects with `Last-Event-ID` gets what it missed from a replay buffer.
//!
//! [`InProcessBus`] serves one instance. A deployment of several instances needs a bus between
//! them (NATS), which implements the same [`EventBus`] trait.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use beacon_core::clock::SharedClock;
use beacon_core::org::Role;
use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::broadcast;
use utoipa::ToSchema;

/// Something that happened, as subscribers receive it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Event {
    /// Increases with every event; sent as the SSE id.
    pub seq: u64,
    /// What happened, e.g. `unit.created`, `user.updated`, `auth.lockout`.
    pub kind: String,
    pub at: DateTime<Utc>,
    /// Ids of the event's unit and its ancestors, root first; empty for events that belong to
    /// no unit (only the top of the tree sees those).
    #[serde(skip)]
    pub unit_path: Vec<String>,
    /// When not empty, only holders of one of these roles receive the event.
    #[serde(skip)]
    pub roles: Vec<Role>,
    /// When set, only this user receives the event.
    #[serde(skip)]
    pub user_id: Option<String>,
    /// The event's content (ids and names, never personal data).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// An event before the bus numbers it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub kind: String,
    pub unit_path: Vec<String>,
    pub roles: Vec<Role>,
    pub user_id: Option<String>,
    pub data: serde_json::Value,
}

impl NewEvent {
    pub fn new(kind: &str, unit_path: Vec<String>, data: serde_json::Value) -> Self {
        Self { kind: kind.to_owned(), unit_path, roles: Vec::new(), user_id: None, data }
    }

    pub fn for_roles(mut self, roles: &[Role]) -> Self {
        self.roles = roles.to_vec();
        self
    }

    pub fn for_user(mut self, user_id: &str) -> Self {
        self.user_id = Some(user_id.to_owned());
        self
    }
}

/// Who is listening: what a subscriber's scope and roles allow it to see.
#[derive(Debug, Clone)]
pub struct Audience {
    pub user_id: Option<String>,
    pub unit_id: String,
    /// The subscriber's unit is the root of the tree.
    pub top_of_tree: bool,
    pub roles: Vec<Role>,
}

impl Event {
    /// Whether the audience may receive this event: the event's unit lies in the audience's
    /// subtree (the same territorial rule as every query), and any role or user restriction holds.
    pub fn visible_to(&self, audience: &Audience) -> bool {
        // A personal event (a notification) goes to its addressee wherever they sit.
        let in_scope = if self.user_id.is_some() {
            true
        } else if self.unit_path.is_empty() {
            audience.top_of_tree
        } else {
            self.unit_path.iter().any(|id| id == &audience.unit_id)
        };
        let role_ok =
            self.roles.is_empty() || self.roles.iter().any(|r| audience.roles.contains(r));
        let user_ok = match &self.user_id {
            Some(id) => audience.user_id.as_deref() == Some(id.as_str()),
            None => true,
        };
        in_scope && role_ok && user_ok
    }
}

/// A new subscription: events after the client's last id, then the live stream.
pub struct Subscription {
    pub replay: Vec<Event>,
    /// The client's last id is older than the replay buffer: some events are lost to it and it
    /// should reload what it shows.
    pub gap: bool,
    pub live: broadcast::Receiver<Event>,
}

pub trait EventBus: Send + Sync + 'static {
    fn publish(&self, event: NewEvent) -> Event;
    fn subscribe(&self, last_seen: Option<u64>) -> Subscription;
}

pub type SharedBus = Arc<dyn EventBus>;

/// Events kept for clients that reconnect.
pub const REPLAY_CAPACITY: usize = 4096;

/// The bus of a single instance: a broadcast channel and a replay ring.
pub struct InProcessBus {
    state: Mutex<Ring>,
    sender: broadcast::Sender<Event>,
    clock: SharedClock,
}

struct Ring {
    events: VecDeque<Event>,
    next_seq: u64,
}

impl InProcessBus {
    /// Sequence ids start from the start-up time in microseconds, so ids keep increasing across
    /// restarts and a client's old `Last-Event-ID` never hides new events.
    pub fn new(clock: SharedClock) -> Self {
        let start = u64::try_from(clock.now().timestamp_millis()).unwrap_or(0) * 1000;
        let (sender, _) = broadcast::channel(REPLAY_CAPACITY);
        Self {
            state: Mutex::new(Ring {
                events: VecDeque::with_capacity(REPLAY_CAPACITY),
                next_seq: start + 1,
            }),
            sender,
            clock,
        }
    }
}

impl EventBus for InProcessBus {
    fn publish(&self, new: NewEvent) -> Event {
        let mut ring = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let event = Event {
            seq: ring.next_seq,
            kind: new.kind,
            at: self.clock.now(),
            unit_path: new.unit_path,
            roles: new.roles,
            user_id: new.user_id,
            data: new.data,
        };
        ring.next_seq += 1;
        if ring.events.len() == REPLAY_CAPACITY {
            ring.events.pop_front();
        }
        ring.events.push_back(event.clone());
        // Sent while the ring is locked so a concurrent subscriber sees each event exactly once:
        // either in its replay or on its receiver. No receiver is not an error.
        let _ = self.sender.send(event.clone());
        event
    }

    fn subscribe(&self, last_seen: Option<u64>) -> Subscription {
        let ring = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let live = self.sender.subscribe();
        let Some(last) = last_seen else {
            return Subscription { replay: Vec::new(), gap: false, live };
        };
        let oldest = ring.events.front().map_or(ring.next_seq, |e| e.seq);
        let replay = ring.events.iter().filter(|e| e.seq > last).cloned().collect();
        Subscription { replay, gap: last + 1 < oldest && last + 1 < ring.next_seq, live }
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

    fn audience(unit: &str, top: bool, roles: &[Role]) -> Audience {
        Audience {
            user_id: Some("u1".into()),
            unit_id: unit.into(),
            top_of_tree: top,
            roles: roles.to_vec(),
        }
    }

    #[tokio::test]
    async fn live_and_replayed_events_keep_their_order() {
        let bus = bus();
        let first = bus.publish(NewEvent::new("a", vec![], serde_json::json!(1)));
        assert_eq!(first.seq, 1_000_001);
        let mut sub = bus.subscribe(None);
        let second = bus.publish(NewEvent::new("b", vec![], serde_json::json!(2)));
        assert_eq!(sub.live.recv().await.unwrap(), second);
        let resumed = bus.subscribe(Some(first.seq));
        assert_eq!(resumed.replay, vec![second.clone()]);
        assert!(!resumed.gap);
        let all = bus.subscribe(Some(0));
        assert_eq!(all.replay.len(), 2);
    }

    #[test]
    fn lost_events_are_reported_as_a_gap() {
        let bus = bus();
        for i in 0..(REPLAY_CAPACITY + 10) {
            bus.publish(NewEvent::new("x", vec![], serde_json::json!(i)));
        }
        let sub = bus.subscribe(Some(1_000_001));
        assert!(sub.gap);
        assert_eq!(sub.replay.len(), REPLAY_CAPACITY);
        let caught_up = bus.subscribe(Some(1_000_000 + (REPLAY_CAPACITY + 10) as u64));
        assert!(!caught_up.gap);
        assert!(caught_up.replay.is_empty());
    }

    #[test]
    fn visibility_follows_scope_roles_and_user() {
        let bus = bus();
        let in_east = bus.publish(NewEvent::new(
            "unit.created",
            vec!["city".into(), "east".into()],
            serde_json::json!({}),
        ));
        assert!(in_east.visible_to(&audience("city", true, &[])));
        assert!(in_east.visible_to(&audience("east", false, &[])));
        assert!(!in_east.visible_to(&audience("west", false, &[])));
        let unassigned = bus.publish(
            NewEvent::new("auth.lockout", vec![], serde_json::json!({}))
                .for_roles(&[Role::SecurityAdmin]),
        );
        assert!(unassigned.visible_to(&audience("city", true, &[Role::SecurityAdmin])));
        assert!(!unassigned.visible_to(&audience("city", true, &[Role::SystemAdmin])));
        assert!(!unassigned.visible_to(&audience("east", false, &[Role::SecurityAdmin])));
        let personal = bus.publish(
            NewEvent::new("session.ended", vec!["city".into()], serde_json::json!({}))
                .for_user("u2"),
        );
        assert!(!personal.visible_to(&audience("city", true, &[])));
    }
}
