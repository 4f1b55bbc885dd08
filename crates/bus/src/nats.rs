//! The bus between instances: NATS JetStream. Relays publish committed events into one stream,
//! each with the outbox row's id as `Nats-Msg-Id`, so an event published twice (a relay that
//! died between publishing and removing it) is stored once. The stream's sequence is the
//! deployment's one sequence: every instance follows the stream with an ordered consumer, keeps
//! the recent events in its ring and hands them to its subscribers; a client that missed more
//! than the ring holds gets the rest from the stream, as long as the stream retains it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_nats::jetstream::consumer::{DeliverPolicy, pull};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{self, stream};
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::event::{Audience, CommittedEvent, Event, NewEvent};
use futures::StreamExt;
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::{BusError, BusState, EventBus, Ring, Subscription};

/// Where the stream is and what it keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct NatsConfig {
    /// `nats://host:4222` (several servers: comma-separated).
    pub url: String,
    /// The JetStream stream's name; its subject is the name in lower case with `.events`.
    pub stream: String,
    /// Events older than this are dropped from the stream; a client that was away longer
    /// reloads what it shows.
    pub max_age: Duration,
    /// At most this many events are kept (the oldest go first).
    pub max_events: i64,
    /// At most this many bytes are kept.
    pub max_bytes: i64,
    /// How long JetStream remembers an event's id to drop a second copy.
    pub duplicate_window: Duration,
}

impl NatsConfig {
    pub fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            stream: "BEACON_EVENTS".to_owned(),
            max_age: Duration::from_secs(24 * 3600),
            max_events: 1_000_000,
            max_bytes: 1 << 30,
            duplicate_window: Duration::from_secs(120),
        }
    }

    fn subject(&self) -> String {
        format!("{}.events", self.stream.to_ascii_lowercase())
    }
}

/// A client that missed more than this many events reloads instead of replaying them.
const MAX_REPLAY: u64 = 20_000;
/// How long a publish waits for JetStream's acknowledgement, and a replay for the stream.
const TIMEOUT: Duration = Duration::from_secs(3);

/// An event as it travels in the stream.
#[derive(Debug, Serialize, Deserialize)]
struct Wire {
    at: i64,
    event: NewEvent,
}

pub struct NatsBus {
    client: async_nats::Client,
    js: jetstream::Context,
    config: NatsConfig,
    subject: String,
    ring: Arc<Ring>,
    /// The stream was found or created since the last failure.
    stream_ready: AtomicBool,
    /// The instance's consumer follows the stream.
    following: Arc<AtomicBool>,
}

impl NatsBus {
    /// Connects in the background: Beacon starts, and writes succeed, while NATS is down; events
    /// wait in the outbox until it is back.
    pub async fn connect(config: NatsConfig) -> Result<Arc<Self>, BusError> {
        let client = async_nats::ConnectOptions::new()
            .name("beacon")
            .retry_on_initial_connect()
            .max_reconnects(None)
            .connection_timeout(Duration::from_secs(2))
            .connect(config.url.as_str())
            .await
            .map_err(|e| BusError(format!("cannot connect to {}: {e}", config.url)))?;
        let mut js = jetstream::new(client.clone());
        js.set_timeout(TIMEOUT);
        let bus = Arc::new(Self {
            client,
            js: js.clone(),
            subject: config.subject(),
            config: config.clone(),
            ring: Arc::new(Ring::new()),
            stream_ready: AtomicBool::new(false),
            following: Arc::new(AtomicBool::new(false)),
        });
        tokio::spawn(pump(js, config, Arc::downgrade(&bus.ring), bus.following.clone()));
        Ok(bus)
    }

    /// The events after `last` up to `end` (or the stream's last), from the stream; `None` when
    /// they are no longer all there, or `last` is not of this stream's sequence.
    async fn missed(&self, last: u64, end: Option<u64>) -> Result<Option<Vec<Event>>, BusError> {
        let stream = ensure_stream(&self.js, &self.config).await?;
        let info = stream.get_info().await.map_err(bus_error)?;
        let kept = info.state;
        if last > kept.last_sequence || last + 1 < kept.first_sequence {
            return Ok(None);
        }
        let end = end.unwrap_or(kept.last_sequence).min(kept.last_sequence);
        if end <= last {
            return Ok(Some(Vec::new()));
        }
        if end - last > MAX_REPLAY {
            return Ok(None);
        }
        let consumer = stream
            .create_consumer(pull::OrderedConfig {
                filter_subject: self.subject.clone(),
                deliver_policy: DeliverPolicy::ByStartSequence { start_sequence: last + 1 },
                ..Default::default()
            })
            .await
            .map_err(bus_error)?;
        let mut messages = consumer.messages().await.map_err(bus_error)?;
        let mut out = Vec::new();
        let read = async {
            while let Some(message) = messages.next().await {
                let event = decode(&message.map_err(bus_error)?)?;
                let seq = event.seq;
                if seq > end {
                    break;
                }
                out.push(event);
                if seq == end {
                    break;
                }
            }
            Ok::<(), BusError>(())
        };
        match tokio::time::timeout(TIMEOUT, read).await {
            Ok(result) => result?,
            Err(_) => return Err(BusError("replay from the stream timed out".to_owned())),
        }
        Ok(Some(out))
    }
}

impl EventBus for NatsBus {
    fn publish(&self, events: Vec<CommittedEvent>) -> BoxFuture<'_, Result<(), BusError>> {
        Box::pin(async move {
            if !self.stream_ready.load(Ordering::Acquire) {
                ensure_stream(&self.js, &self.config).await?;
                self.stream_ready.store(true, Ordering::Release);
            }
            let mut acks = Vec::with_capacity(events.len());
            for committed in events {
                let at = to_millis(committed.at);
                let payload = serde_json::to_vec(&Wire { at, event: committed.event })
                    .map_err(|e| BusError(e.to_string()))?;
                let message = PublishMessage::build()
                    .payload(payload.into())
                    .message_id(format!("{}-{at}", committed.id));
                let ack = self.js.send_publish(self.subject.clone(), message).await;
                acks.push(ack.map_err(|e| self.failed(e))?);
            }
            for ack in acks {
                ack.await.map_err(|e| self.failed(e))?;
            }
            Ok(())
        })
    }

    fn subscribe(&self, last_seen: Option<u64>) -> BoxFuture<'_, Subscription> {
        Box::pin(async move {
            let taken = self.ring.take(last_seen);
            let Some(last) = last_seen else {
                return Subscription { replay: Vec::new(), gap: false, live: taken.live };
            };
            if taken.oldest.is_some_and(|oldest| oldest <= last + 1) {
                return Subscription { replay: taken.replay, gap: false, live: taken.live };
            }
            // Older than this instance holds (it may have started since): the stream has it.
            let end = taken.oldest.map(|oldest| oldest - 1);
            match self.missed(last, end).await {
                Ok(Some(mut replay)) => {
                    replay.extend(taken.replay);
                    Subscription { replay, gap: false, live: taken.live }
                }
                Ok(None) => Subscription { replay: Vec::new(), gap: true, live: taken.live },
                Err(error) => {
                    tracing::warn!(%error, "replay from the stream failed; the client reloads");
                    Subscription { replay: Vec::new(), gap: true, live: taken.live }
                }
            }
        })
    }

    fn state(&self) -> BusState {
        let connected = self.client.connection_state() == async_nats::connection::State::Connected
            && self.following.load(Ordering::Acquire);
        BusState { kind: "nats", connected }
    }

    fn recent(&self, audience: &Audience, limit: usize) -> Vec<Event> {
        self.ring.recent(audience, limit)
    }
}

impl NatsBus {
    fn failed(&self, error: impl std::fmt::Display) -> BusError {
        self.stream_ready.store(false, Ordering::Release);
        BusError(error.to_string())
    }
}

fn bus_error(error: impl std::fmt::Display) -> BusError {
    BusError(error.to_string())
}

async fn ensure_stream(
    js: &jetstream::Context,
    config: &NatsConfig,
) -> Result<stream::Stream, BusError> {
    js.get_or_create_stream(stream::Config {
        name: config.stream.clone(),
        subjects: vec![config.subject()],
        max_age: config.max_age,
        max_messages: config.max_events,
        max_bytes: config.max_bytes,
        duplicate_window: config.duplicate_window,
        storage: stream::StorageType::File,
        ..Default::default()
    })
    .await
    .map_err(|e| BusError(format!("stream {}: {e}", config.stream)))
}

fn decode(message: &jetstream::Message) -> Result<Event, BusError> {
    let info = message.info().map_err(bus_error)?;
    let wire: Wire = serde_json::from_slice(&message.message.payload)
        .map_err(|e| BusError(format!("event {}: {e}", info.stream_sequence)))?;
    Ok(Event::sequenced(info.stream_sequence, from_millis(wire.at), wire.event))
}

/// Follows the stream into the instance's ring for as long as the bus lives, picking up after
/// the last event it saw whenever NATS comes back.
async fn pump(
    js: jetstream::Context,
    config: NatsConfig,
    ring: Weak<Ring>,
    following: Arc<AtomicBool>,
) {
    let mut next: Option<u64> = None;
    while ring.strong_count() > 0 {
        match follow(&js, &config, &ring, &mut next, &following).await {
            Ok(()) => return,
            Err(error) => {
                following.store(false, Ordering::Release);
                tracing::warn!(%error, "following the event stream failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

async fn follow(
    js: &jetstream::Context,
    config: &NatsConfig,
    ring: &Weak<Ring>,
    next: &mut Option<u64>,
    following: &AtomicBool,
) -> Result<(), BusError> {
    let stream = ensure_stream(js, config).await?;
    let kept = stream.get_info().await.map_err(bus_error)?.state;
    if next.is_some_and(|n| n > kept.last_sequence + 1) {
        // The stream was created anew: its sequence is not the one this ring holds.
        if let Some(ring) = ring.upgrade() {
            ring.clear();
        }
        *next = None;
    }
    // From the first event after what the stream held a moment ago: nothing published since
    // is missed, whenever this instance started.
    let start_sequence = next.unwrap_or(kept.last_sequence + 1);
    let deliver_policy = DeliverPolicy::ByStartSequence { start_sequence };
    let consumer = stream
        .create_consumer(pull::OrderedConfig {
            filter_subject: config.subject(),
            deliver_policy,
            ..Default::default()
        })
        .await
        .map_err(bus_error)?;
    let mut messages = consumer.messages().await.map_err(bus_error)?;
    following.store(true, Ordering::Release);
    let mut alive = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            message = messages.next() => {
                let message = match message {
                    Some(message) => message.map_err(bus_error)?,
                    None => return Err(BusError("the event stream ended".to_owned())),
                };
                let event = decode(&message)?;
                let Some(ring) = ring.upgrade() else { return Ok(()) };
                *next = Some(event.seq + 1);
                ring.push(event);
            }
            _ = alive.tick() => {
                if ring.strong_count() == 0 {
                    return Ok(());
                }
            }
        }
    }
}
