//! Inspections over HTTP (docs/inspections.md): `/api/v1/inspections` (the ledger, record, read),
//! a finding made a hidden danger (`…/findings/{finding_id}/hazard`), and the checklists a
//! finding cites (`/api/v1/checklists`, kept by the administrators of reference data).
//!
//! Who reaches what is the register's rule (`crate::enterprise::read_reach`): an inspection
//! is read through its enterprise. Regulators record inspections with `ManageEnterprises`
//! (checked after the 404 of an enterprise outside the reach); the enterprise's own account
//! records its self-inspections and makes their findings hidden dangers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use beacon_core::danger::Party;
use beacon_core::error::ValidationErrors;
use beacon_core::inspection::InspectionKind;
use beacon_core::org::Permission;
use beacon_core::page::PageRequest;
use beacon_export::Cell;
use beacon_store::Page;
use beacon_store::inspection::{
    Checklist, ChecklistItemWrite, ChecklistWrite, FindingDanger, Inspection, InspectionFilter,
    InspectionWrite,
};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::enterprise::{acting, keeps_reference_data, optional_id, read_reach};
use crate::http::{ApiError, ApiJson, ApiQuery, ApiResult, ErrorBody, Path};
use crate::ledger::{all_pages, date_cell, workbook};
use crate::org::{Principal, check_id};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InspectionParams {
    /// Inspections of enterprises in this unit's territory (unit id; the unit and beneath).
    pub unit: Option<String>,
    /// Of this enterprise (id).
    pub enterprise: Option<String>,
    pub kind: Option<InspectionKind>,
    /// The checks of this campaign (id).
    pub campaign: Option<String>,
    /// Made on or after this day.
    pub from: Option<NaiveDate>,
    /// Made on or before this day.
    pub to: Option<NaiveDate>,
    /// From 1; default 1.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// 1 to 200; default 20.
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
    /// The workbook's language (`.xlsx` only): `zh` (default) or `en`.
    pub lang: Option<String>,
}

impl InspectionParams {
    fn filter(&self) -> ApiResult<InspectionFilter> {
        let mut errors = ValidationErrors::new();
        let unit_id = optional_id(&mut errors, "unit", self.unit.as_deref());
        let enterprise_id = optional_id(&mut errors, "enterprise", self.enterprise.as_deref());
        let campaign_id = optional_id(&mut errors, "campaign", self.campaign.as_deref());
        if let (Some(from), Some(to)) = (self.from, self.to)
            && to < from
        {
            errors.add("to", "before_start");
        }
        errors.into_result()?;
        Ok(InspectionFilter {
            enterprise_id,
            unit_id,
            kind: self.kind,
            campaign_id,
            from: self.from,
            to: self.to,
        })
    }
}

/// The inspection ledger: inspections of the enterprises the caller reaches, latest first.
#[utoipa::path(get, path = "/inspections", tag = "inspection", params(InspectionParams),
    responses((status = 200, body = Page<Inspection>), (status = 403, description = "the caller does not read the register (the administrators)", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_inspections(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<InspectionParams>,
) -> ApiResult<Json<Page<Inspection>>> {
    let (reach, _) = acting(&state, &principal).await?;
    let page = PageRequest::parse(q.page, q.per_page)?;
    Ok(Json(state.store().inspections(&reach, &q.filter()?, page).await?))
}

/// The inspection ledger as an Excel workbook, with the list's filters.
#[utoipa::path(get, path = "/inspections.xlsx", tag = "inspection", params(InspectionParams),
    responses((status = 200, description = "Excel workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 403, description = "the caller does not read the register (the administrators)", body = ErrorBody),
        (status = 422, description = "`export_too_large`: more than 20,000 rows; narrow the filter", body = ErrorBody)))]
async fn inspections_xlsx(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<InspectionParams>,
) -> ApiResult<Response> {
    let (reach, _) = acting(&state, &principal).await?;
    let filter = q.filter()?;
    let store = state.store();
    let items = all_pages(|page| store.inspections(&reach, &filter, page)).await?;
    let en = q.lang.as_deref() == Some("en");
    let rows = items
        .into_iter()
        .map(|i| {
            let kind = match (i.kind, en) {
                (InspectionKind::Enforcement, false) => "执法检查",
                (InspectionKind::SelfInspection, false) => "企业自查",
                (InspectionKind::Campaign, false) => "专项整治检查",
                (InspectionKind::Enforcement, true) => "Law enforcement",
                (InspectionKind::SelfInspection, true) => "Self-inspection",
                (InspectionKind::Campaign, true) => "Campaign check",
            };
            vec![
                Cell::from(i.number),
                Cell::from(i.enterprise_name),
                Cell::from(i.unit_name),
                Cell::from(kind),
                date_cell(Some(i.inspected_on)),
                Cell::from(i.inspectors.join(if en { ", " } else { "、" })),
                Cell::from(i.checklist_name),
                Cell::from(i.signatory),
                Cell::Number(i.findings_count as f64),
                Cell::Number(i.findings_open as f64),
            ]
        })
        .collect();
    let headers: &[&str] = if en {
        &[
            "Number",
            "Enterprise",
            "Territory",
            "Kind",
            "Inspected on",
            "Inspectors",
            "Checklist",
            "Signatory",
            "Findings",
            "Not yet hidden dangers",
        ]
    } else {
        &[
            "检查编号",
            "被检查企业",
            "属地",
            "检查类型",
            "检查日期",
            "检查人员",
            "检查表",
            "企业签字人",
            "发现问题数",
            "未转隐患数",
        ]
    };
    let title = if en { "Inspection ledger" } else { "安全检查台账" };
    workbook(store.now(), title, headers, rows, "inspections")
}

/// Records an inspection of an enterprise the caller reaches, with its findings (regulators;
/// an enterprise its own self-inspection).
#[utoipa::path(post, path = "/inspections", tag = "inspection", request_body = InspectionWrite,
    responses((status = 201, body = Inspection), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`enterprise_closed`", body = ErrorBody),
        (status = 422, description = "`inspectors: at_least_two` (law enforcement), `signatory: required`, `inspected_on: in_future`, `checklist_id: unknown`, `findings[0].item_id: unknown`, `kind: self_inspection_only` (an enterprise)…", body = ErrorBody)))]
async fn create_inspection(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<InspectionWrite>,
) -> ApiResult<(StatusCode, Json<Inspection>)> {
    let (reach, party) = acting(&state, &principal).await?;
    if party == Party::Regulator && !principal.can(Permission::ManageEnterprises) {
        check_id(&body.enterprise_id)?;
        state.store().enterprise(&reach, &body.enterprise_id).await?;
        principal.require(Permission::ManageEnterprises)?;
    }
    let created = state.store().create_inspection(&reach, &principal.actor(), party, body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/inspections/{id}", tag = "inspection",
    responses((status = 200, body = Inspection), (status = 403, description = "the caller does not read the register (the administrators)", body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_inspection(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Inspection>> {
    let id = check_id(&id)?;
    let (reach, _) = acting(&state, &principal).await?;
    Ok(Json(state.store().inspection(&reach, &id).await?))
}

/// Makes a finding a hidden danger, found on the inspection's day and citing its item; the
/// answer is the inspection with the finding linked.
#[utoipa::path(post, path = "/inspections/{id}/findings/{finding_id}/hazard", tag = "inspection",
    request_body = FindingDanger,
    responses((status = 200, body = Inspection), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`finding_already_recorded`, `enterprise_closed`", body = ErrorBody),
        (status = 422, description = "`deadline: before_found`, `criterion: required` (a major one without an item)…", body = ErrorBody)))]
async fn finding_to_danger(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, finding_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<FindingDanger>,
) -> ApiResult<Json<Inspection>> {
    let id = check_id(&id)?;
    let finding_id = check_id(&finding_id)?;
    let (reach, party) = acting(&state, &principal).await?;
    if party == Party::Regulator && !principal.can(Permission::ManageEnterprises) {
        state.store().inspection(&reach, &id).await?;
        principal.require(Permission::ManageEnterprises)?;
    }
    let actor = principal.actor();
    let store = state.store();
    Ok(Json(store.finding_to_danger(&reach, &actor, party, &id, &finding_id, body).await?))
}

/// An inspection files are attached to (its photos, the signed record): not found outside the
/// reach, then, for a write by a regulator, forbidden without `ManageEnterprises`.
pub(crate) async fn attachment_owner(
    state: &AppState,
    principal: &Principal,
    kind: &str,
    id: &str,
    write: bool,
) -> ApiResult<beacon_store::attachment::Owner> {
    let id = check_id(id)?;
    let (reach, party) = acting(state, principal).await?;
    let owner = state.store().inspection_attachment_owner(&reach, kind, &id).await?;
    if write && party == Party::Regulator {
        principal.require(Permission::ManageEnterprises)?;
    }
    Ok(owner)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChecklistList {
    pub items: Vec<Checklist>,
    /// The caller may add and correct checklists (a regulator of the top unit).
    pub editable: bool,
}

/// The checklists a finding may cite, with their items (retired ones marked).
#[utoipa::path(get, path = "/checklists", tag = "inspection",
    responses((status = 200, body = ChecklistList), (status = 403, description = "the caller does not read the register (the administrators)", body = ErrorBody)))]
async fn list_checklists(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<ChecklistList>> {
    read_reach(&state, &principal).await?;
    let items = state.store().checklists().await?;
    Ok(Json(ChecklistList { items, editable: keeps_reference_data(&principal) }))
}

fn keeper(principal: &Principal) -> ApiResult<()> {
    principal.require(Permission::ManageEnterprises)?;
    if keeps_reference_data(principal) { Ok(()) } else { Err(ApiError::forbidden("forbidden")) }
}

/// Adds a checklist (regulators of the top unit).
#[utoipa::path(post, path = "/checklists", tag = "inspection", request_body = ChecklistWrite,
    responses((status = 201, body = Checklist), (status = 403, body = ErrorBody),
        (status = 422, description = "`name: already_exists`, `basis: required`…", body = ErrorBody)))]
async fn create_checklist(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<ChecklistWrite>,
) -> ApiResult<(StatusCode, Json<Checklist>)> {
    keeper(&principal)?;
    let created = state.store().create_checklist(&principal.actor(), body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Adds an item at the end of a checklist, citing its clause.
#[utoipa::path(post, path = "/checklists/{id}/items", tag = "inspection", request_body = ChecklistItemWrite,
    responses((status = 200, body = Checklist), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_item(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ChecklistItemWrite>,
) -> ApiResult<Json<Checklist>> {
    let id = check_id(&id)?;
    keeper(&principal)?;
    Ok(Json(state.store().add_checklist_item(&principal.actor(), &id, body).await?))
}

/// Corrects an item or retires it (findings keep what they cited).
#[utoipa::path(put, path = "/checklists/{id}/items/{item_id}", tag = "inspection", request_body = ChecklistItemWrite,
    responses((status = 200, body = Checklist), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`stale_version`", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update_item(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, item_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<ChecklistItemWrite>,
) -> ApiResult<Json<Checklist>> {
    let (id, item_id) = (check_id(&id)?, check_id(&item_id)?);
    keeper(&principal)?;
    Ok(Json(state.store().update_checklist_item(&principal.actor(), &id, &item_id, body).await?))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_inspections, create_inspection))
        .routes(routes!(inspections_xlsx))
        .routes(routes!(get_inspection))
        .routes(routes!(finding_to_danger))
        .routes(routes!(list_checklists, create_checklist))
        .routes(routes!(add_item))
        .routes(routes!(update_item))
}
