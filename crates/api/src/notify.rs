//! The notification inbox, and the pipeline's delivery side: live push over SSE after the
//! commit, the e-mail sender, and the deadline scheduler that raises reminders and alerts.

use std::time::Duration;

use crate::http::Path;
use axum::Json;
use axum::extract::State;
use beacon_core::notify::Notification;
use beacon_core::page::PageRequest;
use beacon_store::Page;
use beacon_store::notify::InboxFilter;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::http::{ApiError, ApiQuery, ApiResult, ErrorBody};
use crate::org::{Principal, check_id};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InboxParams {
    /// Only the unread ones.
    #[serde(default)]
    pub unread: bool,
    /// A kind (`incident.hop_overdue`) or a family ending in a dot (`duty.`, `incident.`).
    pub kind: Option<String>,
    /// From this instant (inclusive), RFC 3339.
    pub from: Option<DateTime<Utc>>,
    /// Until this instant (exclusive), RFC 3339.
    pub to: Option<DateTime<Utc>>,
    /// From 1; default 1.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// 1 to 200; default 20.
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

/// The caller's notifications, newest first, filtered.
#[utoipa::path(get, path = "/notifications", tag = "notify", params(InboxParams),
    responses((status = 200, body = Page<Notification>), (status = 401, body = ErrorBody),
        (status = 422, description = "`kind: invalid_format`, `to: before_from`", body = ErrorBody)))]
async fn inbox(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<InboxParams>,
) -> ApiResult<Json<Page<Notification>>> {
    let page = PageRequest::parse(q.page, q.per_page)?;
    let kind = q.kind.as_deref().map(str::trim).filter(|k| !k.is_empty());
    if let Some(kind) = kind
        && (kind.len() > 64
            || !kind.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '.'))
    {
        return Err(ApiError::field("kind", "invalid_format"));
    }
    if let (Some(from), Some(to)) = (q.from, q.to)
        && from > to
    {
        return Err(ApiError::field("to", "before_from"));
    }
    let filter = InboxFilter {
        unread_only: q.unread,
        kind: kind.map(str::to_owned),
        from: q.from,
        to: q.to,
    };
    let me = principal.user_id.clone().unwrap_or_default();
    Ok(Json(state.store().notifications(&me, &filter, page).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Unread {
    pub unread: i64,
}

#[utoipa::path(get, path = "/notifications/unread", tag = "notify",
    responses((status = 200, body = Unread)))]
async fn unread(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Unread>> {
    let me = principal.user_id.clone().unwrap_or_default();
    Ok(Json(Unread { unread: state.store().unread_notifications(&me).await? }))
}

#[utoipa::path(post, path = "/notifications/{id}/read", tag = "notify",
    responses((status = 200, body = Unread), (status = 404, body = ErrorBody)))]
async fn read_one(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Unread>> {
    let id = check_id(&id)?;
    let me = principal.user_id.clone().unwrap_or_default();
    state.store().mark_notifications_read(&me, Some(&id)).await?;
    Ok(Json(Unread { unread: state.store().unread_notifications(&me).await? }))
}

#[utoipa::path(post, path = "/notifications/read-all", tag = "notify",
    responses((status = 200, body = Unread)))]
async fn read_all(State(state): State<AppState>, principal: Principal) -> ApiResult<Json<Unread>> {
    let me = principal.user_id.clone().unwrap_or_default();
    state.store().mark_notifications_read(&me, None).await?;
    Ok(Json(Unread { unread: 0 }))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifySettings {
    /// Where e-mail notifications go (when the server has SMTP configured); null for none.
    pub email: Option<String>,
    /// Whether this server sends e-mail at all.
    #[serde(default)]
    pub mail_enabled: bool,
}

/// An e-mail address, checked for shape only (delivery proves the rest).
fn check_email(s: &str) -> Result<String, &'static str> {
    let s = s.trim();
    let Some((local, domain)) = s.split_once('@') else { return Err("invalid_format") };
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && s.len() <= 254
        && !s.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        && !domain.contains('@');
    if ok { Ok(s.to_owned()) } else { Err("invalid_format") }
}

#[utoipa::path(get, path = "/notifications/settings", tag = "notify",
    responses((status = 200, body = NotifySettings)))]
async fn get_notify_settings(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<NotifySettings>> {
    let me = principal.user_id.clone().ok_or_else(crate::http::ApiError::not_found)?;
    let email = state.store().notification_email(&me).await?;
    Ok(Json(NotifySettings { email, mail_enabled: state.mail_enabled() }))
}

/// Sets one's own address for e-mail notifications.
#[utoipa::path(put, path = "/notifications/settings", tag = "notify", request_body = NotifySettings,
    responses((status = 200, body = NotifySettings), (status = 422, description = "`email: invalid_format`", body = ErrorBody)))]
async fn put_notify_settings(
    State(state): State<AppState>,
    principal: Principal,
    crate::http::ApiJson(body): crate::http::ApiJson<NotifySettings>,
) -> ApiResult<Json<NotifySettings>> {
    let me = principal.user_id.clone().ok_or_else(crate::http::ApiError::not_found)?;
    let email = match body.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) => {
            Some(check_email(e).map_err(|code| crate::http::ApiError::field("email", code))?)
        }
        None => None,
    };
    state.store().set_notification_email(&principal.actor(), &me, email.as_deref()).await?;
    Ok(Json(NotifySettings { email, mail_enabled: state.mail_enabled() }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_notify_settings, put_notify_settings))
        .routes(routes!(inbox))
        .routes(routes!(unread))
        .routes(routes!(read_one))
        .routes(routes!(read_all))
}

/// Stages claimed and fired in one transaction: a transaction per stage made 10,000 overdue
/// hops take most of a minute on PostgreSQL.
const FIRE_BATCH: usize = 250;

/// Batches fired at once on PostgreSQL, each in its own transaction on its own connection, so
/// that the server works on one while Beacon prepares the next. The stages of a pass are
/// distinct clocks, so the batches claim distinct rows; they meet only where every writer does
/// (the audit chain's head, for overdue hops). SQLite has one writer, so its batches go one
/// after the other.
const PARALLEL_BATCHES_POSTGRES: usize = 3;

/// Fires every due deadline stage once. Returns how many fired. Stages are claimed and their
/// effects written in one transaction per batch, so with several instances each fires exactly
/// once; a batch that fails is retried a stage at a time, so one bad stage cannot hold back
/// the others.
pub async fn run_due_deadlines(state: &AppState) -> Result<usize, beacon_store::StoreError> {
    use futures::StreamExt;
    let parallel = match state.store().backend() {
        beacon_store::Backend::Postgres => PARALLEL_BATCHES_POSTGRES,
        beacon_store::Backend::Sqlite => 1,
    };
    let mut fired = 0;
    loop {
        let due = state.store().due_stages(2000).await?;
        if due.is_empty() {
            return Ok(fired);
        }
        // Owned batches: a stream over borrowed chunks is not `Send` for every lifetime,
        // which a spawned scheduler needs.
        let batches: Vec<Vec<_>> = due.chunks(FIRE_BATCH).map(<[_]>::to_vec).collect();
        let claimed: Vec<usize> = futures::stream::iter(batches)
            .map(move |batch| async move { fire_chunk(state, &batch).await })
            .buffer_unordered(parallel)
            .collect()
            .await;
        let claimed: usize = claimed.into_iter().sum();
        if claimed == 0 {
            return Ok(fired);
        }
        fired += claimed;
    }
}

/// One batch, or when it fails its stages one by one; how many this caller claimed.
async fn fire_chunk(state: &AppState, chunk: &[beacon_store::deadline::DueStage]) -> usize {
    match fire_batch(state, chunk).await {
        Ok(n) => n,
        Err(error) => {
            tracing::warn!(%error, "deadline batch failed; firing its stages one by one");
            let mut n = 0;
            for stage in chunk {
                match fire_batch(state, std::slice::from_ref(stage)).await {
                    Ok(one) => n += one,
                    Err(error) => tracing::warn!(%error, id = %stage.id, "deadline stage failed"),
                }
            }
            n
        }
    }
}

/// Claims and fires some stages in one transaction; returns how many this caller claimed.
async fn fire_batch(
    state: &AppState,
    stages: &[beacon_store::deadline::DueStage],
) -> Result<usize, beacon_store::StoreError> {
    let store = state.store();
    let mut tx = store.begin().await?;
    let mut hops = Vec::new();
    let mut dangers = Vec::new();
    let mut claimed = 0;
    let ours = store.claim_stages(&mut tx, stages).await?;
    for stage in stages {
        if !ours.contains(&stage.id) {
            continue;
        }
        claimed += 1;
        match stage.kind.as_str() {
            "duty.shift" => {
                store.fire_shift_stage(&mut tx, stage, state.mail_enabled()).await?;
            }
            beacon_store::incident::HOP_DEADLINE => hops.push(stage.clone()),
            beacon_store::enterprise::LICENCE_DEADLINE => {
                store.fire_licence_stage(&mut tx, stage, state.mail_enabled()).await?;
            }
            beacon_store::danger::DANGER_DEADLINE => dangers.push(stage.clone()),
            beacon_store::tipoff::TIPOFF_DEADLINE => {
                store.fire_tipoff_stage(&mut tx, stage, state.mail_enabled()).await?;
            }
            other => tracing::warn!(kind = other, "deadline of unknown kind skipped"),
        }
    }
    if !hops.is_empty() {
        store.fire_hop_stages(&mut tx, &hops, state.mail_enabled()).await?;
    }
    if !dangers.is_empty() {
        store.fire_danger_stages(&mut tx, &dangers, state.mail_enabled()).await?;
    }
    tx.commit().await?;
    if claimed > 0 {
        state.nudge_events();
    }
    Ok(claimed)
}

/// The scheduler: checks for due stages every `every` until shutdown.
pub async fn scheduler(state: AppState, every: Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(error) = run_due_deadlines(&state).await {
            tracing::warn!(%error, "deadline scheduler");
        }
    }
}
