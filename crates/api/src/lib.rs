//! Beacon's HTTP API and web front end: one axum router per domain module, the session and scope
//! extractors every handler uses, OpenAPI generated from the routes, live events over SSE, and
//! the embedded single-page application.

pub mod attachment;
pub mod audit;
pub mod calendar;
pub mod campaign;
pub mod danger;
pub mod duty;
pub mod enterprise;
pub mod events;
pub mod http;
pub mod imports;
pub mod incident;
pub mod inspection;
pub mod ledger;
pub mod mail;
pub mod names;
pub mod notify;
pub mod openapi;
pub mod org;
pub mod password;
pub mod search;
mod system;
pub mod tipoff;
mod web;
pub mod workbench;

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::Router;
use beacon_bus::SharedBus;
use beacon_core::calendar::WorkCalendar;
use beacon_core::org::SecurityPolicy;
use beacon_store::Store;
use tokio::net::TcpListener;

pub use crate::http::{ApiError, ApiResult};
pub use crate::password::{PasswordParams, Passwords};

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Largest JSON body accepted, in bytes.
    pub json_limit: usize,
    /// Largest file an upload may send, in bytes, whatever its purpose allows (by default the
    /// largest purpose's limit, 50 MiB). Uploads stream to disk; this bounds the disk, not memory.
    pub upload_limit: u64,
    /// Reverse proxies whose `X-Forwarded-For` and `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// When the session cookie carries `Secure`.
    pub cookie_secure: CookieSecure,
    /// The origin browsers use to reach Beacon (`https://beacon.example.gov.cn`), when it differs
    /// from the `Host` header a proxy passes on. Used by the cross-site check.
    pub public_origin: Option<String>,
    /// An intranet map tile server (`https://tiles.example/{z}/{x}/{y}.png`); without one the
    /// maps draw only Beacon's own GeoJSON.
    pub tile_url: Option<String>,
    pub password_params: PasswordParams,
    /// The deployment's personal-data key (a whistle-blower's identity is sealed with it). The
    /// default is a fresh random key, for tests; the server reads its key file.
    pub personal_key: beacon_core::personal::PersonalKey,
    /// How often an open event stream re-checks its session (and the user's unit and roles).
    pub stream_check: Duration,
    /// Where e-mail notifications go out; none means in-app only.
    pub smtp: Option<mail::SmtpConfig>,
    /// A connection that has not sent a whole request head within this time is closed: a
    /// client that trickles its headers, and a keep-alive connection left idle.
    pub header_timeout: Duration,
    /// Open connections at most; beyond it new ones wait in the listen queue.
    pub max_http_connections: usize,
    /// After a shutdown signal, how long requests in flight (and open event streams) may take
    /// before the server stops anyway.
    pub shutdown_grace: Duration,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            json_limit: 1024 * 1024,
            upload_limit: beacon_core::attachment::largest_size(),
            trusted_proxies: Vec::new(),
            cookie_secure: CookieSecure::Auto,
            public_origin: None,
            tile_url: None,
            password_params: PasswordParams::default(),
            personal_key: beacon_core::personal::PersonalKey::from_secret(
                &beacon_core::personal::PersonalKey::new_secret(),
            ),
            stream_check: Duration::from_secs(30),
            smtp: None,
            header_timeout: Duration::from_secs(10),
            max_http_connections: 4096,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CookieSecure {
    /// Secure when a trusted proxy reports HTTPS.
    Auto,
    Always,
    Never,
}

/// Everything a handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState(Arc<Inner>);

struct Inner {
    store: Store,
    bus: SharedBus,
    passwords: Passwords,
    config: ApiConfig,
    policy: Kept<SecurityPolicy>,
    calendar: Kept<Arc<WorkCalendar>>,
    relay: events::RelayState,
    /// Requests of the public pages, per address.
    public_limiter: tipoff::PublicLimiter,
    /// Becomes true when the server begins to shut down: event streams end.
    stopping: tokio::sync::watch::Sender<bool>,
}

/// A value read from the database and trusted for a while on this instance.
struct Kept<T> {
    ttl: Duration,
    slot: RwLock<Option<(Instant, T)>>,
}

impl<T: Clone> Kept<T> {
    fn new(ttl: Duration) -> Self {
        Self { ttl, slot: RwLock::new(None) }
    }

    fn fresh(&self) -> Option<T> {
        let guard = self.slot.read().ok()?;
        let (at, value) = guard.as_ref()?;
        (at.elapsed() < self.ttl).then(|| value.clone())
    }

    fn keep(&self, value: T) {
        if let Ok(mut guard) = self.slot.write() {
            *guard = Some((Instant::now(), value));
        }
    }

    fn forget(&self) {
        if let Ok(mut guard) = self.slot.write() {
            *guard = None;
        }
    }
}

/// How long an instance trusts its copy of the security policy: a change made on another
/// instance takes effect here within this time.
const POLICY_TTL: Duration = Duration::from_secs(5);
const CALENDAR_TTL: Duration = Duration::from_secs(60);

impl AppState {
    pub fn new(
        store: Store,
        bus: SharedBus,
        config: ApiConfig,
    ) -> Result<Self, password::PasswordError> {
        let passwords = Passwords::new(config.password_params)?;
        let state = Self(Arc::new(Inner {
            store,
            bus,
            passwords,
            config,
            policy: Kept::new(POLICY_TTL),
            calendar: Kept::new(CALENDAR_TTL),
            relay: events::RelayState::default(),
            public_limiter: tipoff::PublicLimiter::default(),
            stopping: tokio::sync::watch::Sender::new(false),
        }));
        events::spawn_relay(&state);
        Ok(state)
    }

    pub fn store(&self) -> &Store {
        &self.0.store
    }

    pub fn bus(&self) -> &SharedBus {
        &self.0.bus
    }

    pub fn passwords(&self) -> &Passwords {
        &self.0.passwords
    }

    pub fn config(&self) -> &ApiConfig {
        &self.0.config
    }

    pub(crate) fn public_limiter(&self) -> &tipoff::PublicLimiter {
        &self.0.public_limiter
    }

    pub async fn policy(&self) -> ApiResult<SecurityPolicy> {
        if let Some(policy) = self.0.policy.fresh() {
            return Ok(policy);
        }
        let policy = self.store().security_policy().await?;
        self.0.policy.keep(policy.clone());
        Ok(policy)
    }

    /// The working-day calendar, kept for a minute (an edit on this instance applies at once).
    pub async fn calendar(&self) -> ApiResult<Arc<WorkCalendar>> {
        if let Some(calendar) = self.0.calendar.fresh() {
            return Ok(calendar);
        }
        let calendar = Arc::new(self.store().work_calendar().await?);
        self.0.calendar.keep(calendar.clone());
        Ok(calendar)
    }

    pub fn forget_calendar(&self) {
        self.0.calendar.forget();
    }

    /// Whether notifications also go out by e-mail.
    pub fn mail_enabled(&self) -> bool {
        self.0.config.smtp.is_some()
    }

    pub fn forget_policy(&self) {
        self.0.policy.forget();
    }

    /// Wakes this instance's event relay: something was committed (the outbox is read at the
    /// latest every half second anyway).
    pub fn nudge_events(&self) {
        self.0.relay.signal.notify_one();
    }

    pub(crate) fn relay(&self) -> &events::RelayState {
        &self.0.relay
    }

    /// Resolves when the server begins to shut down.
    pub(crate) async fn stopping(&self) {
        let mut stopping = self.0.stopping.subscribe();
        let _ = stopping.wait_for(|stopping| *stopping).await;
    }
}

/// The whole application: API, OpenAPI document, health check and the web UI.
pub fn app(state: AppState) -> Router {
    system::router(state)
}

/// Serves until `shutdown` resolves, then lets the requests in flight finish for at most
/// [`ApiConfig::shutdown_grace`]. Each connection must send a whole request head within
/// [`ApiConfig::header_timeout`] (also when idle between requests), and at most
/// [`ApiConfig::max_http_connections`] are open at once: a client that never finishes its
/// headers neither holds the server open nor delays its shutdown.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper::body::Incoming;
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;

    let config = state.config().clone();
    let stopping = state.0.stopping.clone();
    let router = app(state);
    let permits = Arc::new(tokio::sync::Semaphore::new(config.max_http_connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => permit.map_err(std::io::Error::other)?,
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(axum::extract::ConnectInfo(remote));
            router.clone().oneshot(request)
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder.timer(TokioTimer::new()).header_read_timeout(config.header_timeout);
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, %remote, "connection ended");
            }
            drop(permit);
        });
    }
    drop(listener);
    // Open event streams end now; the browsers reconnect to another instance.
    stopping.send_replace(true);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(config.shutdown_grace) => {
            tracing::warn!("connections still open after the shutdown grace period are closed");
        }
    }
    Ok(())
}
