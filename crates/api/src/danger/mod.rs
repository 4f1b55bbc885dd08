//! The hidden-danger ledger over HTTP (docs/hazards.md): `/api/v1/hazards`, a hidden danger,
//! its history and its steps (`…/plan`, `…/plan/review`, `…/reports`, `…/acceptance`,
//! `…/listing`, `…/listing/end`).
//!
//! Who reaches what is the register's rule (`crate::enterprise::read_reach`): the regulators
//! of the enterprise's territory and supervising department, or the enterprise's own account.
//! The enterprise takes its own steps (plan, reports, explanations) and records what its own
//! checks find; recording others, reviewing plans, accepting and listing need
//! `ManageEnterprises`. A hidden danger outside the reach answers 404 before any role is
//! checked.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use beacon_core::clock::local_date;
use beacon_core::danger::{
    DangerCategory, DangerLevel, DangerOrigin, DangerStatus, ListingLevel, Party, TreatmentPlan,
};
use beacon_core::error::ValidationErrors;
use beacon_core::org::Permission;
use beacon_core::page::PageRequest;
use beacon_export::Cell;
use beacon_store::Page;
use beacon_store::danger::{Danger, DangerFilter, DangerStep, DangerWrite};
use beacon_store::timeline::TimelineEntry;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

mod stats;
mod workbench;

pub(crate) use workbench::workbench_cards;

use crate::AppState;
use crate::enterprise::{acting, optional_id};
use crate::http::{ApiJson, ApiQuery, ApiResult, ErrorBody, Path};
use crate::ledger::{all_pages, date_cell, workbook};
use crate::org::{Principal, check_id};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DangerParams {
    /// Hidden dangers of enterprises in this unit's territory (unit id; the unit and beneath).
    pub unit: Option<String>,
    /// Of this enterprise (id).
    pub enterprise: Option<String>,
    pub level: Option<DangerLevel>,
    pub status: Option<DangerStatus>,
    /// Open ones only (not closed off the ledger).
    pub open: Option<bool>,
    /// Open and past the deadline.
    pub overdue: Option<bool>,
    /// Listed for supervision.
    pub listed: Option<bool>,
    /// From 1; default 1.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// 1 to 200; default 20.
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
    /// The workbook's language (`.xlsx` only): `zh` (default) or `en`.
    pub lang: Option<String>,
}

impl DangerParams {
    fn filter(&self) -> ApiResult<DangerFilter> {
        let mut errors = ValidationErrors::new();
        let unit_id = optional_id(&mut errors, "unit", self.unit.as_deref());
        let enterprise_id = optional_id(&mut errors, "enterprise", self.enterprise.as_deref());
        errors.into_result()?;
        Ok(DangerFilter {
            enterprise_id,
            unit_id,
            level: self.level,
            status: self.status,
            open: self.open.unwrap_or(false),
            overdue: self.overdue.unwrap_or(false),
            listed: self.listed.unwrap_or(false),
        })
    }
}

/// A hidden danger files are attached to (photos before: `hidden_danger`; after:
/// `danger_fix`): not found outside the reach, then, for a write by a regulator, forbidden
/// without `ManageEnterprises`. The enterprise attaches to its own.
pub(crate) async fn attachment_owner(
    state: &AppState,
    principal: &Principal,
    kind: &str,
    id: &str,
    write: bool,
) -> ApiResult<beacon_store::attachment::Owner> {
    let id = check_id(id)?;
    let (reach, party) = acting(state, principal).await?;
    let owner = state.store().danger_attachment_owner(&reach, kind, &id).await?;
    if write && party == Party::Regulator {
        principal.require(Permission::ManageEnterprises)?;
    }
    Ok(owner)
}

/// The ledger: hidden dangers the caller reaches, open ones by deadline first.
#[utoipa::path(get, path = "/hazards", tag = "hazard", params(DangerParams),
    responses((status = 200, body = Page<Danger>), (status = 403, description = "the caller does not read the register (the administrators)", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_dangers(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<DangerParams>,
) -> ApiResult<Json<Page<Danger>>> {
    let (reach, _) = acting(&state, &principal).await?;
    let page = PageRequest::parse(q.page, q.per_page)?;
    Ok(Json(state.store().dangers(&reach, &q.filter()?, page).await?))
}

/// The ledger as an Excel workbook in the layout offices keep (隐患排查治理台账), with the
/// list's filters; state and level words in the workbook's language.
#[utoipa::path(get, path = "/hazards.xlsx", tag = "hazard", params(DangerParams),
    responses((status = 200, description = "Excel workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, description = "the caller does not read the register (the administrators)", body = ErrorBody),
        (status = 422, description = "`export_too_large`: more than 20,000 rows; narrow the filter", body = ErrorBody)))]
async fn dangers_xlsx(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<DangerParams>,
) -> ApiResult<Response> {
    let (reach, _) = acting(&state, &principal).await?;
    let filter = q.filter()?;
    let store = state.store();
    let items = all_pages(|page| store.dangers(&reach, &filter, page)).await?;
    let en = q.lang.as_deref() == Some("en");
    let word = |zh: &'static str, english: &'static str| if en { english } else { zh };
    let rows = items
        .into_iter()
        .map(|d| {
            let level = match d.level {
                DangerLevel::General => word("一般隐患", "General"),
                DangerLevel::Major => word("重大隐患", "Major"),
            };
            let category = match d.category {
                DangerCategory::Site => word("现场管理类", "Site"),
                DangerCategory::Management => word("基础管理类", "Basic management"),
            };
            let origin = match d.origin {
                DangerOrigin::Inspection => word("执法检查", "Inspection"),
                DangerOrigin::SelfInspection => word("企业自查", "Self-inspection"),
                DangerOrigin::Campaign => word("专项整治检查", "Campaign check"),
                DangerOrigin::Tipoff => word("群众举报", "Public tip-off"),
                DangerOrigin::IncidentInvestigation => word("事故调查", "Incident investigation"),
            };
            let status = match d.status {
                DangerStatus::AwaitingPlan => word("待报治理方案", "Awaiting plan"),
                DangerStatus::PlanSubmitted => word("方案待审核", "Plan to review"),
                DangerStatus::Rectifying => word("整改中", "Rectifying"),
                DangerStatus::AwaitingAcceptance => word("待验收", "Awaiting acceptance"),
                DangerStatus::Closed => word("已销号", "Closed"),
            };
            let listed = match d.listed_level {
                Some(ListingLevel::City) => word("市级", "City"),
                Some(ListingLevel::District) => word("区县", "District"),
                None => "",
            };
            let funds = d.plan.as_ref().map(|p| format!("{:.2}", p.funds_fen as f64 / 100.0));
            vec![
                Cell::from(d.number),
                Cell::from(d.enterprise_name),
                Cell::from(d.unit_name),
                Cell::from(d.place),
                Cell::from(d.description),
                Cell::from(category),
                Cell::from(level),
                Cell::from(d.criterion),
                Cell::from(origin),
                date_cell(Some(d.found_on)),
                date_cell(Some(d.deadline)),
                Cell::from(d.responsible_person),
                Cell::from(status),
                Cell::from(if d.overdue { word("是", "Yes") } else { "" }),
                Cell::from(listed),
                Cell::from(funds),
                Cell::from(d.closed_at.map(|t| local_date(t).format("%Y-%m-%d").to_string())),
                Cell::from(d.closed_by_name),
                Cell::from(d.source_number),
            ]
        })
        .collect();
    let headers: &[&str] = if en {
        &[
            "Number",
            "Enterprise",
            "Territory",
            "Where",
            "Description",
            "Category",
            "Level",
            "Criterion",
            "Found by",
            "Found on",
            "Deadline",
            "Responsible",
            "State",
            "Overdue",
            "Listed by",
            "Funds (CNY)",
            "Closed on",
            "Accepted by",
            "Ledger number",
        ]
    } else {
        &[
            "隐患编号",
            "企业名称",
            "属地",
            "隐患部位",
            "隐患描述",
            "隐患类别",
            "隐患等级",
            "判定依据",
            "发现途径",
            "发现日期",
            "整改期限",
            "整改责任人",
            "状态",
            "是否超期",
            "挂牌督办",
            "治理资金（元）",
            "销号日期",
            "验收人",
            "原台账编号",
        ]
    };
    let title = if en { "Hidden-danger ledger" } else { "隐患排查治理台账" };
    workbook(store.now(), title, headers, rows, "hidden-dangers")
}

/// Records a hidden danger of an enterprise the caller reaches (regulators; an enterprise its
/// own, found by its own check).
#[utoipa::path(post, path = "/hazards", tag = "hazard", request_body = DangerWrite,
    responses((status = 201, body = Danger), (status = 404, body = ErrorBody),
        (status = 409, description = "`enterprise_closed`", body = ErrorBody),
        (status = 422, description = "`deadline: before_found`, `found_on: in_future`, `criterion: required` (a major one), `fixed_on_spot: major_needs_plan`, `origin: self_inspection_only` (an enterprise)…", body = ErrorBody)))]
async fn create_danger(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<DangerWrite>,
) -> ApiResult<(StatusCode, Json<Danger>)> {
    let (reach, party) = acting(&state, &principal).await?;
    if party == Party::Regulator && !principal.can(Permission::ManageEnterprises) {
        // 404 for an enterprise outside the reach first.
        check_id(&body.enterprise_id)?;
        state.store().enterprise(&reach, &body.enterprise_id).await?;
        principal.require(Permission::ManageEnterprises)?;
    }
    let created = state.store().create_danger(&reach, &principal.actor(), party, body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/hazards/{id}", tag = "hazard",
    responses((status = 200, body = Danger), (status = 403, description = "the caller does not read the register (the administrators)", body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_danger(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Danger>> {
    let id = check_id(&id)?;
    let (reach, _) = acting(&state, &principal).await?;
    Ok(Json(state.store().danger(&reach, &id).await?))
}

/// Every step of the hidden danger, oldest first.
#[utoipa::path(get, path = "/hazards/{id}/history", tag = "hazard",
    responses((status = 200, body = Vec<TimelineEntry>), (status = 403, description = "the caller does not read the register (the administrators)", body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn danger_history(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<TimelineEntry>>> {
    let id = check_id(&id)?;
    let (reach, _) = acting(&state, &principal).await?;
    Ok(Json(state.store().danger_history(&reach, &id).await?))
}

/// Takes a step: 404 outside the reach, then 403 for a regulator's step without
/// `ManageEnterprises`, then the ledger's rules.
async fn step(
    state: &AppState,
    principal: &Principal,
    id: &str,
    step: DangerStep,
) -> ApiResult<Json<Danger>> {
    let id = check_id(id)?;
    let (reach, party) = acting(state, principal).await?;
    if party == Party::Regulator && !principal.can(Permission::ManageEnterprises) {
        state.store().danger(&reach, &id).await?;
        principal.require(Permission::ManageEnterprises)?;
    }
    Ok(Json(state.store().act_on_danger(&reach, &principal.actor(), party, &id, step).await?))
}

/// Submits the treatment plan of a major hidden danger: the five implementations, each
/// required; its deadline becomes the rectification's.
#[utoipa::path(post, path = "/hazards/{id}/plan", tag = "hazard", request_body = TreatmentPlan,
    responses((status = 200, body = Danger), (status = 404, body = ErrorBody),
        (status = 409, description = "`not_major`, `plan_not_awaited`, `danger_closed`", body = ErrorBody),
        (status = 422, description = "`measures: required`, `funds_fen: required`, `deadline: before_found`…", body = ErrorBody)))]
async fn submit_plan(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(plan): ApiJson<TreatmentPlan>,
) -> ApiResult<Json<Danger>> {
    step(&state, &principal, &id, DangerStep::SubmitPlan { plan }).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DangerDecision {
    /// Approve the plan, or pass the acceptance.
    pub approve: bool,
    /// Why a plan is returned or an acceptance fails (required then).
    #[serde(default)]
    pub reason: String,
}

/// The regulator's check of a submitted plan: approved (rectification starts) or returned.
#[utoipa::path(post, path = "/hazards/{id}/plan/review", tag = "hazard", request_body = DangerDecision,
    responses((status = 200, body = Danger), (status = 403, description = "`enterprise_cannot_review`", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`plan_not_submitted`, `not_major`, `danger_closed`", body = ErrorBody),
        (status = 422, description = "`reason: required` (returned)", body = ErrorBody)))]
async fn review_plan(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DangerDecision>,
) -> ApiResult<Json<Danger>> {
    let review = DangerStep::ReviewPlan { approve: body.approve, reason: body.reason };
    step(&state, &principal, &id, review).await
}

/// What a report says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DangerReportKind {
    /// Progress while rectifying.
    Progress,
    /// The fix is done: asks for acceptance.
    Fix,
    /// Why an overdue one is late.
    Explanation,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DangerReport {
    pub kind: DangerReportKind,
    pub text: String,
}

/// A report on the rectification: progress, the fix (which asks for acceptance) or the
/// written explanation of a missed deadline.
#[utoipa::path(post, path = "/hazards/{id}/reports", tag = "hazard", request_body = DangerReport,
    responses((status = 200, body = Danger), (status = 404, body = ErrorBody),
        (status = 409, description = "`plan_not_approved`, `not_rectifying`, `not_overdue`, `danger_closed`", body = ErrorBody),
        (status = 422, description = "`text: required`", body = ErrorBody)))]
async fn report(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DangerReport>,
) -> ApiResult<Json<Danger>> {
    let text = body.text;
    let report = match body.kind {
        DangerReportKind::Progress => DangerStep::ReportProgress { text },
        DangerReportKind::Fix => DangerStep::ReportFix { text },
        DangerReportKind::Explanation => DangerStep::Explain { text },
    };
    step(&state, &principal, &id, report).await
}

/// The regulator's acceptance (验收): passed closes it off the ledger (销号), failed sends it
/// back to rectification with the reason.
#[utoipa::path(post, path = "/hazards/{id}/acceptance", tag = "hazard", request_body = DangerDecision,
    responses((status = 200, body = Danger), (status = 403, description = "`enterprise_cannot_accept`", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`plan_not_approved`, `not_awaiting_acceptance`, `danger_closed`", body = ErrorBody),
        (status = 422, description = "`reason: required` (failed)", body = ErrorBody)))]
async fn accept(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DangerDecision>,
) -> ApiResult<Json<Danger>> {
    let acceptance = DangerStep::Accept { pass: body.approve, reason: body.reason };
    step(&state, &principal, &id, acceptance).await
}

/// Lists a major hidden danger for supervision (挂牌督办) at the caller's own level (a district
/// or the city).
#[utoipa::path(post, path = "/hazards/{id}/listing", tag = "hazard",
    responses((status = 200, body = Danger), (status = 403, description = "`enterprise_cannot_list`, `cannot_list` (not a district or city regulator)", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`not_major`, `already_listed`, `danger_closed`", body = ErrorBody)))]
async fn list_for_supervision(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Danger>> {
    step(&state, &principal, &id, DangerStep::List).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndListing {
    pub reason: String,
}

/// Ends listed supervision, with the reason.
#[utoipa::path(post, path = "/hazards/{id}/listing/end", tag = "hazard", request_body = EndListing,
    responses((status = 200, body = Danger), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "`not_listed`, `danger_closed`", body = ErrorBody),
        (status = 422, description = "`reason: required`", body = ErrorBody)))]
async fn end_listing(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EndListing>,
) -> ApiResult<Json<Danger>> {
    step(&state, &principal, &id, DangerStep::Unlist { reason: body.reason }).await
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_dangers, create_danger))
        .routes(routes!(dangers_xlsx))
        .routes(routes!(stats::danger_stats))
        .routes(routes!(stats::danger_map))
        .routes(routes!(get_danger))
        .routes(routes!(danger_history))
        .routes(routes!(submit_plan))
        .routes(routes!(review_plan))
        .routes(routes!(report))
        .routes(routes!(accept))
        .routes(routes!(list_for_supervision))
        .routes(routes!(end_listing))
}
