//! Special rectification campaigns over HTTP (docs/campaigns.md): `/api/v1/campaigns`, a
//! campaign, its start and close, its target list and its changes, and its progress (also as
//! the weekly report workbook offices send upward).
//!
//! Campaigns are the regulators' (`ReadEnterprises` to read, `ManageEnterprises` to organise);
//! an enterprise's account sees none. A campaign the caller does not see answers 404 before
//! any role is checked; one organised by a unit above the caller's answers 403 `not_organiser`
//! to a change. Counts are bounded by the caller's register reach.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use beacon_core::campaign::CampaignStatus;
use beacon_core::enterprise::industry::SECTORS;
use beacon_core::org::Permission;
use beacon_core::page::PageRequest;
use beacon_export::Cell;
use beacon_store::Page;
use beacon_store::campaign::{
    Campaign, CampaignProgress, CampaignWrite, ProgressRow, Target, TargetChange,
};
use beacon_store::enterprise::Reach;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::http::{ApiError, ApiJson, ApiQuery, ApiResult, ErrorBody, Path};
use crate::ledger::workbook;
use crate::org::{Principal, check_id};

fn sector_codes() -> Vec<&'static str> {
    SECTORS.iter().map(|(code, _)| *code).collect()
}

/// A campaign the caller sees (404 otherwise), then the right to organise (403).
async fn organising(state: &AppState, principal: &Principal, id: &str) -> ApiResult<String> {
    let id = check_id(id)?;
    principal.require(Permission::ReadEnterprises)?;
    state.store().campaign(&principal.scope(), &id).await?;
    principal.require(Permission::ManageEnterprises)?;
    Ok(id)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CampaignParams {
    pub status: Option<CampaignStatus>,
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

/// The campaigns the caller sees (its units' and those of the units above), running first.
#[utoipa::path(get, path = "/campaigns", tag = "campaign", params(CampaignParams),
    responses((status = 200, body = Page<Campaign>), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_campaigns(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<CampaignParams>,
) -> ApiResult<Json<Page<Campaign>>> {
    principal.require(Permission::ReadEnterprises)?;
    let page = PageRequest::parse(q.page, q.per_page)?;
    Ok(Json(state.store().campaigns(&principal.scope(), q.status, page).await?))
}

/// Prepares a campaign of the caller's unit (a draft: its scope, period and stages).
#[utoipa::path(post, path = "/campaigns", tag = "campaign", request_body = CampaignWrite,
    responses((status = 201, body = Campaign), (status = 403, body = ErrorBody),
        (status = 422, description = "`name: required`, `stages: incomplete`, `stages[1].starts_on: overlaps`, `unit_ids[0]: outside_territory`, `sectors[0]: unknown`…", body = ErrorBody)))]
async fn create_campaign(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<CampaignWrite>,
) -> ApiResult<(StatusCode, Json<Campaign>)> {
    principal.require(Permission::ManageEnterprises)?;
    let store = state.store();
    let made = store
        .create_campaign(&principal.actor(), &principal.unit.id, &sector_codes(), body)
        .await?;
    Ok((StatusCode::CREATED, Json(made)))
}

#[utoipa::path(get, path = "/campaigns/{id}", tag = "campaign",
    responses((status = 200, body = Campaign), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_campaign(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Campaign>> {
    let id = check_id(&id)?;
    principal.require(Permission::ReadEnterprises)?;
    Ok(Json(state.store().campaign(&principal.scope(), &id).await?))
}

/// Changes a draft's scope, period or stages.
#[utoipa::path(put, path = "/campaigns/{id}", tag = "campaign", request_body = CampaignWrite,
    responses((status = 200, body = Campaign), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`campaign_started`, `stale_version`", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_campaign(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CampaignWrite>,
) -> ApiResult<Json<Campaign>> {
    let id = organising(&state, &principal, &id).await?;
    let store = state.store();
    Ok(Json(
        store
            .update_campaign(&principal.scope(), &principal.actor(), &id, &sector_codes(), body)
            .await?,
    ))
}

/// Starts a draft: its target list is frozen from the register (every enterprise not closed in
/// its territories and sectors, within the caller's reach).
#[utoipa::path(post, path = "/campaigns/{id}/start", tag = "campaign",
    responses((status = 200, body = Campaign), (status = 403, description = "`not_organiser`", body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, description = "`campaign_started`", body = ErrorBody)))]
async fn start_campaign(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Campaign>> {
    let id = organising(&state, &principal, &id).await?;
    let reach = Reach::Scope(principal.scope());
    Ok(Json(
        state.store().start_campaign(&principal.scope(), &reach, &principal.actor(), &id).await?,
    ))
}

/// Closes a running campaign once summarised: its list and checks no longer change.
#[utoipa::path(post, path = "/campaigns/{id}/close", tag = "campaign",
    responses((status = 200, body = Campaign), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`campaign_not_running`", body = ErrorBody)))]
async fn close_campaign(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Campaign>> {
    let id = organising(&state, &principal, &id).await?;
    Ok(Json(state.store().close_campaign(&principal.scope(), &principal.actor(), &id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TargetParams {
    /// Also the enterprises taken off the list (kept, marked).
    pub include_removed: Option<bool>,
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

/// The target list in the caller's reach, by territory and name, each marked checked or not.
#[utoipa::path(get, path = "/campaigns/{id}/targets", tag = "campaign", params(TargetParams),
    responses((status = 200, body = Page<Target>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_targets(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<TargetParams>,
) -> ApiResult<Json<Page<Target>>> {
    let id = check_id(&id)?;
    principal.require(Permission::ReadEnterprises)?;
    let page = PageRequest::parse(q.page, q.per_page)?;
    let reach = Reach::Scope(principal.scope());
    let removed = q.include_removed.unwrap_or(false);
    Ok(Json(state.store().campaign_targets(&principal.scope(), &reach, &id, removed, page).await?))
}

/// Adds an enterprise to a running campaign's list, with the reason.
#[utoipa::path(post, path = "/campaigns/{id}/targets", tag = "campaign", request_body = TargetChange,
    responses((status = 200, body = Campaign), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`already_targeted`, `campaign_not_running`", body = ErrorBody),
        (status = 422, description = "`reason: required`, `enterprise_id: not_found`", body = ErrorBody)))]
async fn add_target(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TargetChange>,
) -> ApiResult<Json<Campaign>> {
    let id = organising(&state, &principal, &id).await?;
    if check_id(&body.enterprise_id).is_err() {
        return Err(ApiError::field("enterprise_id", "not_found"));
    }
    let reach = Reach::Scope(principal.scope());
    Ok(Json(
        state.store().add_target(&principal.scope(), &reach, &principal.actor(), &id, body).await?,
    ))
}

/// Takes an enterprise off a running campaign's list, with the reason (its checks stay).
#[utoipa::path(post, path = "/campaigns/{id}/targets/remove", tag = "campaign", request_body = TargetChange,
    responses((status = 200, body = Campaign), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`campaign_not_running`", body = ErrorBody),
        (status = 422, description = "`reason: required`, `enterprise_id: not_targeted`", body = ErrorBody)))]
async fn remove_target(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TargetChange>,
) -> ApiResult<Json<Campaign>> {
    let id = organising(&state, &principal, &id).await?;
    Ok(Json(state.store().remove_target(&principal.scope(), &principal.actor(), &id, body).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProgressParams {
    /// Unit id whose territory is broken down (default: the organising unit).
    pub unit: Option<String>,
    /// The workbook's language (`.xlsx` only): `zh` (default) or `en`.
    pub lang: Option<String>,
}

async fn progress_of(
    state: &AppState,
    principal: &Principal,
    id: &str,
    q: &ProgressParams,
) -> ApiResult<(Campaign, CampaignProgress)> {
    let id = check_id(id)?;
    principal.require(Permission::ReadEnterprises)?;
    let unit = match q.unit.as_deref().filter(|u| !u.is_empty()) {
        Some(u) => Some(check_id(u).map_err(|_| ApiError::field("unit", "not_found"))?),
        None => None,
    };
    let store = state.store();
    let campaign = store.campaign(&principal.scope(), &id).await?;
    let reach = Reach::Scope(principal.scope());
    let progress =
        store.campaign_progress(&principal.scope(), &reach, &id, unit.as_deref()).await?;
    Ok((campaign, progress))
}

/// The campaign's progress in the caller's reach: per territory (ranked) and per sector,
/// targeted, checked, hidden dangers found (general, major), rectified, overdue, listed.
#[utoipa::path(get, path = "/campaigns/{id}/progress", tag = "campaign", params(ProgressParams),
    responses((status = 200, body = CampaignProgress), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, description = "`unit: not_found`", body = ErrorBody)))]
async fn progress(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ProgressParams>,
) -> ApiResult<Json<CampaignProgress>> {
    Ok(Json(progress_of(&state, &principal, &id, &q).await?.1))
}

fn percent(rate: f64) -> Cell {
    Cell::Text(format!("{:.1}%", rate * 100.0))
}

fn progress_cells(label: String, r: &ProgressRow) -> Vec<Cell> {
    vec![
        Cell::Text(label),
        Cell::Number(r.targeted as f64),
        Cell::Number(r.checked as f64),
        percent(r.check_rate),
        Cell::Number(r.dangers as f64),
        Cell::Number(r.general as f64),
        Cell::Number(r.major as f64),
        Cell::Number(r.rectified as f64),
        percent(r.rectify_rate),
        Cell::Number(r.overdue as f64),
        Cell::Number(r.listed as f64),
    ]
}

/// The weekly progress report (推进情况统计表) in the layout offices send upward: one row per
/// territory, ranked, and the total.
#[utoipa::path(get, path = "/campaigns/{id}/progress.xlsx", tag = "campaign", params(ProgressParams),
    responses((status = 200, description = "Excel workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn progress_xlsx(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ProgressParams>,
) -> ApiResult<Response> {
    let (campaign, p) = progress_of(&state, &principal, &id, &q).await?;
    let en = q.lang.as_deref() == Some("en");
    let mut rows: Vec<Vec<Cell>> =
        p.units.iter().map(|r| progress_cells(r.name.clone(), r)).collect();
    rows.push(progress_cells(if en { "Total" } else { "合计" }.to_owned(), &p.total));
    let today = beacon_core::clock::local_date(state.store().now());
    let title = if en {
        format!("{}: progress as of {}", campaign.name, today.format("%Y-%m-%d"))
    } else {
        format!("{}推进情况统计表（截至{}）", campaign.name, today.format("%Y年%-m月%-d日"))
    };
    let headers: &[&str] = if en {
        &[
            "Territory",
            "Targeted",
            "Checked",
            "Check rate",
            "Hidden dangers",
            "General",
            "Major",
            "Rectified",
            "Rectification rate",
            "Overdue",
            "Listed",
        ]
    } else {
        &[
            "单位",
            "目标企业数",
            "已检查",
            "检查率",
            "排查隐患",
            "一般隐患",
            "重大隐患",
            "已整改",
            "整改率",
            "超期未改",
            "挂牌督办",
        ]
    };
    workbook(state.store().now(), &title, headers, rows, &format!("campaign-{}", campaign.number))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_campaigns, create_campaign))
        .routes(routes!(get_campaign, update_campaign))
        .routes(routes!(start_campaign))
        .routes(routes!(close_campaign))
        .routes(routes!(list_targets, add_target))
        .routes(routes!(remove_target))
        .routes(routes!(progress))
        .routes(routes!(progress_xlsx))
}
