//! Public tip-offs over HTTP (docs/tipoffs.md).
//!
//! The public side (`/api/v1/public/tipoffs…`, no sign-in): sending a tip-off, adding photos to
//! it for a while with its query code, and reading its status and reply by that code. A code
//! that names nothing and a wrong one get the same 404; every public request counts against its
//! address (429 `too_many_requests`), and an address sends a bounded number of tip-offs a day
//! (429 `too_many_tipoffs`).
//!
//! The inbox (`/api/v1/tipoffs…`): the holders of `HandleTipoffs` read the tip-offs of the
//! units in their scope (404 outside it, before any role is checked) and take the steps;
//! approving a reward needs `ApproveRewards`. The reporter's identity is sealed with the
//! deployment's personal-data key: it is opened only for a handler whose own unit handles the
//! tip-off, every opening is audited, and no list, export or event carries it.

use std::net::IpAddr;
use std::num::NonZeroU32;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use beacon_core::attachment::{Purpose, sanitize_file_name};
use beacon_core::clock::local_date;
use beacon_core::error::ValidationErrors;
use beacon_core::org::Permission;
use beacon_core::page::PageRequest;
use beacon_core::personal::{mask_name, mask_phone, normalize_phone};
use beacon_core::text::free_text;
use beacon_core::tipoff::{
    RewardStatus, TipoffSettings, TipoffStatus, new_query_code, query_code_hash,
};
use beacon_export::Cell;
use beacon_store::Page;
use beacon_store::attachment::Owner;
use beacon_store::danger::DangerWrite;
use beacon_store::timeline::TimelineEntry;
use beacon_store::tipoff::{Conclusion, NewTipoff, PublicTipoff, Tipoff, TipoffFilter, TipoffStep};
use chrono::NaiveDate;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::enterprise::{optional_id, read_reach};
use crate::http::extract::ClientIp;
use crate::http::{ApiError, ApiJson, ApiQuery, ApiResult, ErrorBody, Path};
use crate::ledger::{all_pages, date_cell, workbook};
use crate::org::{Principal, check_id};

/// Public requests an address may make a minute (sending, photos, status queries).
const PUBLIC_PER_MINUTE: u32 = 10;
/// Photos a reporter may add to a tip-off, and for how long after sending it.
const MAX_PHOTOS: usize = 3;
const PHOTO_WINDOW_MINUTES: i64 = 60;

/// The public side's per-address limiter, on this instance (each instance counts its own; the
/// daily limit on tip-offs is counted in the database and holds across instances).
pub(crate) struct PublicLimiter(DefaultKeyedRateLimiter<IpAddr>);

impl Default for PublicLimiter {
    fn default() -> Self {
        let per_minute = NonZeroU32::new(PUBLIC_PER_MINUTE).unwrap_or(NonZeroU32::MIN);
        Self(RateLimiter::keyed(Quota::per_minute(per_minute)))
    }
}

impl PublicLimiter {
    fn check(&self, ip: Option<IpAddr>) -> ApiResult<()> {
        let ip = ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
        if self.0.len() > 100_000 {
            self.0.retain_recent();
        }
        self.0
            .check_key(&ip)
            .map_err(|_| ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests"))
    }
}

/// The caller's address, counted by the public limiter.
fn public_request(state: &AppState, ip: &ClientIp) -> ApiResult<Option<IpAddr>> {
    state.public_limiter().check(ip.0)?;
    Ok(ip.0)
}

/// A tip-off as the public page sends it. Leave both `name` and `phone` empty to stay
/// anonymous.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicTipoffWrite {
    /// What is wrong (required).
    pub content: String,
    /// Where: an address or a description; required without a point.
    #[serde(default)]
    pub place: String,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    /// The enterprise, if the reporter knows it.
    #[serde(default)]
    pub enterprise_name: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TipoffReceipt {
    pub number: String,
    /// The query code: the only way to read the status and the reply later. Shown once.
    pub code: String,
}

/// The reporter's identity as it is sealed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Reporter {
    pub name: String,
    pub phone: String,
}

/// Sends a tip-off (no sign-in). The answer holds the query code; it is not kept anywhere in
/// the clear and cannot be shown again.
#[utoipa::path(post, path = "/public/tipoffs", tag = "tipoff", security(), request_body = PublicTipoffWrite,
    responses((status = 201, body = TipoffReceipt),
        (status = 422, description = "`content: required`, `place: required` (without a point), `point: out_of_range`, `phone: invalid_phone`, `name: too_long`", body = ErrorBody),
        (status = 429, description = "`too_many_requests` (this minute) or `too_many_tipoffs` (today) from the address", body = ErrorBody)))]
async fn submit_tipoff(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(write): ApiJson<PublicTipoffWrite>,
) -> ApiResult<(StatusCode, Json<TipoffReceipt>)> {
    let ip = public_request(&state, &ip)?;
    let key = &state.config().personal_key;
    let source_hash = key.keyed_hash("address", &ip.map(|ip| ip.to_string()).unwrap_or_default());
    let mut errors = ValidationErrors::new();
    let name = errors.check("name", free_text(&write.name, 64));
    let phone = match write.phone.trim() {
        "" => Some(String::new()),
        phone => errors.check("phone", normalize_phone(phone)),
    };
    let point = match (write.lon, write.lat) {
        (Some(lon), Some(lat)) => Some((lon, lat)),
        (None, None) => None,
        _ => {
            errors.add("point", "coordinates_incomplete");
            None
        }
    };
    errors.into_result()?;
    let (name, phone) = (name.unwrap_or_default(), phone.unwrap_or_default());
    let settings = state.store().tipoff_settings().await?;
    let since = state.store().now() - chrono::Duration::hours(24);
    let sent = state.store().tipoffs_from_source(&source_hash, since).await?;
    if sent >= i64::from(settings.per_address_per_day) {
        return Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, "too_many_tipoffs"));
    }
    let anonymous = name.is_empty() && phone.is_empty();
    let reporter = Reporter { name, phone: phone.clone() };
    let sealed = (!anonymous)
        .then(|| serde_json::to_string(&reporter).map(|text| key.seal(&text)))
        .transpose()
        .map_err(ApiError::internal)?;
    let code = new_query_code();
    let code_hash = query_code_hash(&code).ok_or_else(|| ApiError::internal("query code"))?;
    let new = NewTipoff {
        content: write.content,
        place: write.place,
        point,
        enterprise_name: write.enterprise_name,
        reporter_sealed: sealed,
        reporter_phone_hash: (!phone.is_empty()).then(|| key.keyed_hash("phone", &phone)),
        source_hash,
        code_hash,
    };
    let number = state.store().submit_tipoff(new).await?;
    state.nudge_events();
    Ok((StatusCode::CREATED, Json(TipoffReceipt { number, code })))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusQuery {
    pub code: String,
}

/// A tip-off's status and reply, by its query code (no sign-in; the code travels in the body,
/// so it stays out of addresses and logs).
#[utoipa::path(post, path = "/public/tipoffs/status", tag = "tipoff", security(), request_body = StatusQuery,
    responses((status = 200, body = PublicTipoff),
        (status = 404, description = "`not_found`: the same for a wrong code and one that names nothing", body = ErrorBody),
        (status = 429, description = "`too_many_requests` from the address", body = ErrorBody)))]
async fn tipoff_status(
    State(state): State<AppState>,
    ip: ClientIp,
    ApiJson(query): ApiJson<StatusQuery>,
) -> ApiResult<Json<PublicTipoff>> {
    public_request(&state, &ip)?;
    let Some(hash) = query_code_hash(&query.code) else { return Err(ApiError::not_found()) };
    let found = state.store().public_tipoff(&hash).await?;
    found.map(Json).ok_or_else(ApiError::not_found)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PhotoParams {
    /// The file's name (URL-encoded).
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhotoReceipt {
    pub file_name: String,
    /// Photos the tip-off now has.
    pub photos: usize,
}

/// Adds a photo to a tip-off just sent (no sign-in): the request body is the image (JPEG, PNG
/// or WebP, found in its content), the query code in the `X-Query-Code` header; up to three,
/// within an hour of sending and while it is being verified.
#[utoipa::path(post, path = "/public/tipoffs/photos", tag = "tipoff", security(), params(PhotoParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The photo's bytes"),
    responses((status = 201, body = PhotoReceipt),
        (status = 404, description = "`not_found`: a wrong code, or the time for photos has passed", body = ErrorBody),
        (status = 409, description = "`too_many_photos`", body = ErrorBody),
        (status = 413, description = "`file_too_large`", body = ErrorBody),
        (status = 422, description = "`content: file_type_not_allowed` (not an image), `content: file_empty`", body = ErrorBody),
        (status = 429, description = "`too_many_requests`", body = ErrorBody)))]
async fn add_tipoff_photo(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<PhotoParams>,
    body: Body,
) -> ApiResult<(StatusCode, Json<PhotoReceipt>)> {
    public_request(&state, &ip)?;
    let code = headers.get("x-query-code").and_then(|v| v.to_str().ok()).unwrap_or("");
    let Some(hash) = query_code_hash(code) else { return Err(ApiError::not_found()) };
    let window = chrono::Duration::minutes(PHOTO_WINDOW_MINUTES);
    let owner =
        state.store().tipoff_for_photos(&hash, window).await?.ok_or_else(ApiError::not_found)?;
    let count = state.store().attachments(&owner, false).await?.len();
    if count >= MAX_PHOTOS {
        return Err(ApiError::conflict("too_many_photos"));
    }
    let file_name = sanitize_file_name(&q.name).map_err(|code| ApiError::field("name", code))?;
    let actor = beacon_store::tipoff::public_actor();
    let attachment =
        crate::attachment::accept(&state, &actor, &owner, Purpose::Photo, file_name, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(PhotoReceipt { file_name: attachment.file_name, photos: count + 1 }),
    ))
}

/// The outlines of the city and the units under it (names and shapes only), for the public
/// page's map, on which the reporter picks the place (no sign-in; no base map is fetched from
/// anywhere but the configured intranet tile server).
#[utoipa::path(get, path = "/public/tipoffs/areas", tag = "tipoff", security(),
    responses((status = 200, description = "GeoJSON FeatureCollection", body = Object)))]
async fn tipoff_areas(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    let Some(top) = state.store().top_unit().await? else {
        return Ok(Json(serde_json::json!({ "type": "FeatureCollection", "features": [] })));
    };
    let scope = beacon_core::scope::Scope::tree_root(&top);
    let units = state.store().unit_with_children(&scope, &top).await?;
    Ok(Json(crate::org::units::feature_collection(units, &top)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TipoffParams {
    pub status: Option<TipoffStatus>,
    /// Handled by this unit or one beneath it (unit id).
    pub unit: Option<String>,
    /// Still being verified past the period.
    pub overdue: Option<bool>,
    /// Concluded but not yet answered.
    pub unanswered: Option<bool>,
    pub reward: Option<RewardStatus>,
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
    /// The workbook's language (`.xlsx` only): `zh` (default) or `en`.
    pub lang: Option<String>,
}

impl TipoffParams {
    fn filter(&self) -> ApiResult<TipoffFilter> {
        let mut errors = ValidationErrors::new();
        let unit_id = optional_id(&mut errors, "unit", self.unit.as_deref());
        errors.into_result()?;
        Ok(TipoffFilter {
            status: self.status,
            unit_id,
            overdue: self.overdue.unwrap_or(false),
            unanswered: self.unanswered.unwrap_or(false),
            reward: self.reward,
        })
    }
}

/// The inbox: tip-offs handled in the caller's scope, those being verified first.
#[utoipa::path(get, path = "/tipoffs", tag = "tipoff", params(TipoffParams),
    responses((status = 200, body = Page<Tipoff>), (status = 403, description = "the caller does not handle tip-offs", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_tipoffs(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<TipoffParams>,
) -> ApiResult<Json<Page<Tipoff>>> {
    principal.require(Permission::HandleTipoffs)?;
    let page = PageRequest::parse(q.page, q.per_page)?;
    Ok(Json(state.store().tipoffs(&principal.scope(), &q.filter()?, page).await?))
}

/// The inbox as a workbook (举报受理台账). It never holds the reporter's identity: only whether
/// the tip-off was signed.
#[utoipa::path(get, path = "/tipoffs.xlsx", tag = "tipoff", params(TipoffParams),
    responses((status = 200, description = "Excel workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, description = "the caller does not handle tip-offs", body = ErrorBody),
        (status = 422, description = "`export_too_large`", body = ErrorBody)))]
async fn tipoffs_xlsx(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<TipoffParams>,
) -> ApiResult<Response> {
    principal.require(Permission::HandleTipoffs)?;
    let filter = q.filter()?;
    let scope = principal.scope();
    let store = state.store();
    let items = all_pages(|page| store.tipoffs(&scope, &filter, page)).await?;
    let en = q.lang.as_deref() == Some("en");
    let word = |zh: &'static str, english: &'static str| if en { english } else { zh };
    let rows = items
        .into_iter()
        .map(|t| {
            let status = match t.status {
                TipoffStatus::Received => word("核查中", "Being verified"),
                TipoffStatus::Founded => word("属实", "Founded"),
                TipoffStatus::Unfounded => word("不属实", "Unfounded"),
            };
            let reward = t.reward.as_ref().map(|r| match r.status {
                RewardStatus::Proposed => word("待审批", "Proposed"),
                RewardStatus::Approved => word("已批准", "Approved"),
                RewardStatus::Rejected => word("未批准", "Rejected"),
                RewardStatus::Paid => word("已发放", "Paid"),
            });
            vec![
                Cell::from(t.number),
                date_cell(Some(local_date(t.created_at))),
                Cell::from(t.unit_name),
                Cell::from(t.enterprise_name),
                Cell::from(t.place),
                Cell::from(t.content),
                Cell::from(if t.anonymous {
                    word("匿名", "Anonymous")
                } else {
                    word("实名", "Signed")
                }),
                date_cell(Some(t.verify_by)),
                Cell::from(status),
                Cell::from(t.conclusion),
                Cell::from(t.danger_number),
                Cell::from(t.reply),
                Cell::from(reward.unwrap_or("")),
                Cell::from(
                    t.reward.as_ref().map(|r| format!("{:.2}", r.amount_fen as f64 / 100.0)),
                ),
            ]
        })
        .collect();
    let headers: &[&str] = if en {
        &[
            "Number",
            "Received",
            "Handling unit",
            "Enterprise",
            "Where",
            "Content",
            "Reporter",
            "Verify by",
            "Outcome",
            "Findings",
            "Hidden danger",
            "Reply",
            "Reward",
            "Amount (CNY)",
        ]
    } else {
        &[
            "编号",
            "受理日期",
            "承办单位",
            "被举报单位",
            "地点",
            "举报内容",
            "举报方式",
            "核查期限",
            "核查结果",
            "核查情况",
            "隐患编号",
            "答复",
            "奖励",
            "奖励金额（元）",
        ]
    };
    let title = word("举报受理台账", "Tip-off register");
    workbook(store.now(), title, headers, rows, "tipoffs")
}

/// A tip-off with, for the handlers of its own unit, the reporter's identity masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct TipoffDetail {
    #[serde(flatten)]
    pub tipoff: Tipoff,
    /// The name and phone masked (张*, 138****8000); only for the handling unit's handlers.
    pub reporter_masked: Option<Reporter>,
    /// Whether the caller may open the reporter's identity.
    pub can_reveal: bool,
}

/// Whether the caller handles tip-offs in the tip-off's own unit (the only ones who may read
/// the reporter's identity).
fn handles_here(principal: &Principal, tipoff: &Tipoff) -> bool {
    principal.can(Permission::HandleTipoffs) && principal.unit.id == tipoff.unit_id
}

fn open_reporter(state: &AppState, sealed: &str) -> ApiResult<Reporter> {
    let text = state.config().personal_key.open(sealed).map_err(|_| {
        ApiError::internal("a reporter's identity does not open with this deployment's key")
    })?;
    serde_json::from_str(&text).map_err(ApiError::internal)
}

/// The tip-off in the caller's scope: 404 outside it, then 403 without `HandleTipoffs`.
async fn reached(state: &AppState, principal: &Principal, id: &str) -> ApiResult<Tipoff> {
    let id = check_id(id)?;
    let tipoff = state.store().tipoff(&principal.scope(), &id).await?;
    principal.require(Permission::HandleTipoffs)?;
    Ok(tipoff)
}

/// One tip-off.
#[utoipa::path(get, path = "/tipoffs/{id}", tag = "tipoff", params(("id" = String, Path)),
    responses((status = 200, body = TipoffDetail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_tipoff(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<TipoffDetail>> {
    let tipoff = reached(&state, &principal, &id).await?;
    let can_reveal = handles_here(&principal, &tipoff) && !tipoff.anonymous;
    let reporter_masked = match can_reveal {
        true => {
            let sealed = state.store().tipoff_sealed_reporter(&tipoff.id).await?;
            sealed
                .map(|s| open_reporter(&state, &s))
                .transpose()?
                .map(|r| Reporter { name: mask_name(&r.name), phone: mask_phone(&r.phone) })
        }
        false => None,
    };
    Ok(Json(TipoffDetail { tipoff, reporter_masked, can_reveal }))
}

/// The reporter's name and phone in full, for a handler of the tip-off's own unit; every
/// reading is audited (`tipoff.reporter_viewed`).
#[utoipa::path(post, path = "/tipoffs/{id}/reporter", tag = "tipoff", params(("id" = String, Path)),
    responses((status = 200, body = Reporter),
        (status = 403, description = "`not_handling_unit`: only the handling unit's handlers read it", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`anonymous`", body = ErrorBody)))]
async fn reveal_reporter(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Reporter>> {
    let tipoff = reached(&state, &principal, &id).await?;
    if !handles_here(&principal, &tipoff) {
        return Err(ApiError::forbidden("not_handling_unit"));
    }
    let sealed = state
        .store()
        .reveal_tipoff_reporter(&principal.scope(), &principal.actor(), &tipoff.id)
        .await?;
    let sealed = sealed.ok_or_else(|| ApiError::conflict("anonymous"))?;
    Ok(Json(open_reporter(&state, &sealed)?))
}

/// Every step of a tip-off, oldest first.
#[utoipa::path(get, path = "/tipoffs/{id}/history", tag = "tipoff", params(("id" = String, Path)),
    responses((status = 200, body = Vec<TimelineEntry>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn tipoff_history(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<TimelineEntry>>> {
    let tipoff = reached(&state, &principal, &id).await?;
    Ok(Json(state.store().tipoff_history(&principal.scope(), &tipoff.id).await?))
}

/// Takes a step on a tip-off in the caller's scope (404 outside it, then 403 without the
/// permission the step needs), with the version the caller saw.
async fn step(
    state: &AppState,
    principal: &Principal,
    id: &str,
    version: Option<i64>,
    step: TipoffStep,
) -> ApiResult<Json<Tipoff>> {
    let tipoff = reached(state, principal, id).await?;
    if matches!(step, TipoffStep::ReviewReward { .. }) {
        principal.require(Permission::ApproveRewards)?;
    }
    let reach = read_reach(state, principal).await?;
    let scope = principal.scope();
    let actor = principal.actor();
    let done =
        state.store().act_on_tipoff(&scope, &reach, &actor, &tipoff.id, version, step).await?;
    state.nudge_events();
    Ok(Json(done))
}

/// The outcome of the verification.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConclusionRequest {
    /// The version the caller saw; a step taken meanwhile answers 409 `changed_meanwhile`.
    pub version: Option<i64>,
    /// True: it becomes `hazard`; false: unfounded for `reasons`.
    pub founded: bool,
    /// What the verification found (founded).
    #[serde(default)]
    pub findings: String,
    /// Why it is unfounded (required then).
    #[serde(default)]
    pub reasons: String,
    /// The hidden danger it becomes (required when founded; its origin is `tipoff`).
    pub hazard: Option<DangerWrite>,
}

/// Concludes the verification: founded, it becomes a hidden danger of the enterprise found, in
/// the same transaction; unfounded, with the reasons.
#[utoipa::path(post, path = "/tipoffs/{id}/conclusion", tag = "tipoff", params(("id" = String, Path)), request_body = ConclusionRequest,
    responses((status = 200, body = Tipoff), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`already_concluded`, `changed_meanwhile`", body = ErrorBody),
        (status = 422, description = "`reasons: required`, `hazard: required`, `hazard.deadline: before_found`, `hazard.enterprise_id: not_found`", body = ErrorBody)))]
async fn conclude_tipoff(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ConclusionRequest>,
) -> ApiResult<Json<Tipoff>> {
    let conclusion = if request.founded {
        let hazard = request.hazard.ok_or_else(|| ApiError::field("hazard", "required"))?;
        Conclusion::Founded { findings: request.findings, hazard }
    } else {
        Conclusion::Unfounded { reasons: request.reasons }
    };
    step(&state, &principal, &id, request.version, TipoffStep::Conclude { conclusion }).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    pub version: Option<i64>,
    /// A unit in the caller's scope.
    pub unit_id: String,
    pub reason: String,
}

/// Hands a tip-off being verified to another unit in the caller's scope (转办).
#[utoipa::path(post, path = "/tipoffs/{id}/transfer", tag = "tipoff", params(("id" = String, Path)), request_body = TransferRequest,
    responses((status = 200, body = Tipoff), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`already_concluded`, `changed_meanwhile`", body = ErrorBody),
        (status = 422, description = "`unit_id: not_found | same_unit`, `reason: required`", body = ErrorBody)))]
async fn transfer_tipoff(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<TransferRequest>,
) -> ApiResult<Json<Tipoff>> {
    let unit_id = check_id(&r.unit_id).map_err(|_| ApiError::field("unit_id", "not_found"))?;
    step(&state, &principal, &id, r.version, TipoffStep::Transfer { unit_id, reason: r.reason })
        .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyRequest {
    pub version: Option<i64>,
    /// What the reporter reads by the query code.
    pub text: String,
}

/// Answers the reporter (once, after the conclusion).
#[utoipa::path(post, path = "/tipoffs/{id}/reply", tag = "tipoff", params(("id" = String, Path)), request_body = ReplyRequest,
    responses((status = 200, body = Tipoff), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`not_concluded`, `already_replied`, `changed_meanwhile`", body = ErrorBody),
        (status = 422, description = "`text: required`", body = ErrorBody)))]
async fn reply_tipoff(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<ReplyRequest>,
) -> ApiResult<Json<Tipoff>> {
    step(&state, &principal, &id, r.version, TipoffStep::Reply { text: r.text }).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RewardRequest {
    pub version: Option<i64>,
    /// The administrative penalty imposed, in fen; the reward follows the schedule.
    pub penalty_fen: i64,
}

/// Proposes a reward for a founded tip-off, reckoned by the schedule.
#[utoipa::path(post, path = "/tipoffs/{id}/reward", tag = "tipoff", params(("id" = String, Path)), request_body = RewardRequest,
    responses((status = 200, body = Tipoff), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`not_founded`, `reward_exists`, `no_reward_rule`, `changed_meanwhile`", body = ErrorBody),
        (status = 422, description = "`penalty_fen: out_of_range`", body = ErrorBody)))]
async fn propose_reward(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<RewardRequest>,
) -> ApiResult<Json<Tipoff>> {
    step(
        &state,
        &principal,
        &id,
        r.version,
        TipoffStep::ProposeReward { penalty_fen: r.penalty_fen },
    )
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RewardReviewRequest {
    pub version: Option<i64>,
    pub approve: bool,
    /// Required when not approved.
    #[serde(default)]
    pub reason: String,
}

/// A leader's decision on a proposed reward (not on their own proposal).
#[utoipa::path(post, path = "/tipoffs/{id}/reward/review", tag = "tipoff", params(("id" = String, Path)), request_body = RewardReviewRequest,
    responses((status = 200, body = Tipoff), (status = 403, description = "without `ApproveRewards`", body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`no_reward_proposal`, `own_proposal`, `changed_meanwhile`", body = ErrorBody),
        (status = 422, description = "`reason: required`", body = ErrorBody)))]
async fn review_reward(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<RewardReviewRequest>,
) -> ApiResult<Json<Tipoff>> {
    let review = TipoffStep::ReviewReward { approve: r.approve, reason: r.reason };
    step(&state, &principal, &id, r.version, review).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    pub version: Option<i64>,
    pub paid_on: NaiveDate,
    /// The voucher or transfer number.
    pub reference: String,
}

/// Records the payment of an approved reward.
#[utoipa::path(post, path = "/tipoffs/{id}/reward/payment", tag = "tipoff", params(("id" = String, Path)), request_body = PaymentRequest,
    responses((status = 200, body = Tipoff), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`reward_not_approved`, `changed_meanwhile`", body = ErrorBody),
        (status = 422, description = "`paid_on: in_future | before_received`, `reference: required`", body = ErrorBody)))]
async fn record_payment(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<PaymentRequest>,
) -> ApiResult<Json<Tipoff>> {
    let payment = TipoffStep::RecordPayment { paid_on: r.paid_on, reference: r.reference };
    step(&state, &principal, &id, r.version, payment).await
}

/// The verification period, the per-address limit and the reward schedule.
#[utoipa::path(get, path = "/tipoffs/settings", tag = "tipoff",
    responses((status = 200, body = TipoffSettings), (status = 403, body = ErrorBody)))]
async fn get_tipoff_settings(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<TipoffSettings>> {
    principal.require(Permission::HandleTipoffs)?;
    Ok(Json(state.store().tipoff_settings().await?))
}

/// Changes the settings: the leaders of the top unit.
#[utoipa::path(put, path = "/tipoffs/settings", tag = "tipoff", request_body = TipoffSettings,
    responses((status = 200, body = TipoffSettings), (status = 403, description = "`tipoff_settings_top_only`", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn put_tipoff_settings(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(settings): ApiJson<TipoffSettings>,
) -> ApiResult<Json<TipoffSettings>> {
    principal.require(Permission::ApproveRewards)?;
    if !principal.top_of_tree {
        return Err(ApiError::forbidden("tipoff_settings_top_only"));
    }
    Ok(Json(state.store().set_tipoff_settings(&principal.actor(), settings).await?))
}

/// A tip-off files are attached to (the reporter's photos; a handler's own): in the caller's
/// scope, then `HandleTipoffs`.
pub(crate) async fn attachment_owner(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> ApiResult<Owner> {
    let id = check_id(id)?;
    let owner = state.store().tipoff_attachment_owner(&principal.scope(), &id).await?;
    principal.require(Permission::HandleTipoffs)?;
    Ok(owner)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(submit_tipoff))
        .routes(routes!(tipoff_status))
        .routes(routes!(tipoff_areas))
        .routes(routes!(add_tipoff_photo))
        .routes(routes!(list_tipoffs))
        .routes(routes!(tipoffs_xlsx))
        .routes(routes!(get_tipoff_settings, put_tipoff_settings))
        .routes(routes!(get_tipoff))
        .routes(routes!(reveal_reporter))
        .routes(routes!(tipoff_history))
        .routes(routes!(conclude_tipoff))
        .routes(routes!(transfer_tipoff))
        .routes(routes!(reply_tipoff))
        .routes(routes!(propose_reward))
        .routes(routes!(review_reward))
        .routes(routes!(record_payment))
}

const FIRST: PageRequest = PageRequest { page: 1, per_page: 5 };

/// A tip-off on a card: its number and content, its verification's last day.
fn card_item(t: &Tipoff, level: crate::workbench::Level) -> crate::workbench::Item {
    let mut item = crate::workbench::Item::new(t.number.clone())
        .detail(t.content.chars().take(60).collect::<String>())
        .at(crate::workbench::day_start(t.verify_by))
        .level(level)
        .tag(t.status.as_str())
        .link(format!("/tipoffs/{}", t.id));
    if t.overdue {
        item = item.tag("overdue");
    }
    item
}

/// The inbox's workbench cards, for the handlers: tip-offs to verify (the overdue ones
/// counted apart) and to answer; for the leaders, rewards waiting for their approval. Each
/// reads the inbox with the caller's scope, as `/tipoffs` does, and shows only when it has
/// something.
pub(crate) fn workbench_cards<'a>(
    state: &'a AppState,
    principal: &'a Principal,
) -> futures::future::BoxFuture<'a, ApiResult<Vec<crate::workbench::Card>>> {
    use crate::workbench::{Card, Level};
    Box::pin(async move {
        if !principal.can(Permission::HandleTipoffs) {
            return Ok(Vec::new());
        }
        let scope = principal.scope();
        let store = state.store();
        let to_verify = TipoffFilter { status: Some(TipoffStatus::Received), ..Default::default() };
        let overdue = TipoffFilter { overdue: true, ..Default::default() };
        let to_answer = TipoffFilter { unanswered: true, ..Default::default() };
        let rewards = TipoffFilter { reward: Some(RewardStatus::Proposed), ..Default::default() };
        let one = PageRequest { page: 1, per_page: 1 };
        let (to_verify, overdue, to_answer, rewards) = futures::try_join!(
            store.tipoffs(&scope, &to_verify, FIRST),
            store.tipoffs(&scope, &overdue, one),
            store.tipoffs(&scope, &to_answer, FIRST),
            store.tipoffs(&scope, &rewards, FIRST),
        )?;
        let level = |t: &Tipoff| if t.overdue { Level::Danger } else { Level::Warning };
        let mut cards = Vec::new();
        if to_verify.total > 0 {
            let items = to_verify.items.iter().map(|t| card_item(t, level(t))).collect();
            cards.push(
                Card::new("tipoff.to_verify", to_verify.total, items)
                    .figure("overdue", overdue.total),
            );
        }
        if to_answer.total > 0 {
            let items = to_answer.items.iter().map(|t| card_item(t, Level::Warning)).collect();
            cards.push(Card::new("tipoff.to_answer", to_answer.total, items));
        }
        if rewards.total > 0 && principal.can(Permission::ApproveRewards) {
            let items = rewards.items.iter().map(|t| card_item(t, Level::Warning)).collect();
            cards.push(Card::new("tipoff.rewards", rewards.total, items));
        }
        Ok(cards)
    })
}
