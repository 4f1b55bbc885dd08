//! The safety-production database over HTTP (docs/enterprises.md): the register, licences and
//! their ledger, risk points and the four-colour map, major hazard sources and the substance
//! reference data they are identified with, identity changes an enterprise asks for, and the
//! binding of `enterprise` accounts.
//!
//! Who reaches what: holders of `ReadEnterprises` reach the enterprises of their territory and
//! of the departments in their scope; an `enterprise` account reaches its own enterprise only,
//! whatever else it holds. Writes under an enterprise need `ManageEnterprises` or the
//! enterprise's own account; a reader without either learns nothing of a record outside its
//! scope (404 first, then 403).

mod ledgers;
mod workbench;

pub(crate) use workbench::workbench_cards;

use crate::http::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use beacon_core::danger::Party;
use beacon_core::enterprise::risk::{ACCIDENT_TYPES, C_SCALE, CONTROL_LEVELS, E_SCALE, L_SCALE};
use beacon_core::enterprise::{
    ALPHA_STEPS, LICENCE_KINDS, LecCutoffs, MARKS, RiskColour, STANDARD_GRADES, STATUSES, industry,
};
use beacon_core::error::ValidationErrors;
use beacon_core::org::{Permission, Role};
use beacon_core::page::PageRequest;
use beacon_store::Page;
use beacon_store::enterprise::{
    ChangeDecision, Enterprise, EnterpriseChange, EnterpriseFilter, EnterpriseWrite, Evaluation,
    HazardSource, HazardSourceWrite, HazardSubstance, Licence, LicenceWrite, MAP_POINT_LIMIT,
    Reach, RiskMap, RiskPoint, RiskPointWrite, SubstanceWrite, UnitName, Viewport,
};
use beacon_store::timeline::TimelineEntry;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::http::{ApiError, ApiJson, ApiQuery, ApiResult, ErrorBody};
use crate::ledger::{all_pages, workbook};
use crate::org::auth::{Authorized, ManageOrg};
use crate::org::{Principal, check_id};
use axum::response::Response;
use beacon_export::Cell;

/// What the caller reaches for reading: its own enterprise (an `enterprise` account), or the
/// register of its scope.
pub(crate) async fn read_reach(state: &AppState, principal: &Principal) -> ApiResult<Reach> {
    if principal.roles.contains(&Role::Enterprise) {
        let own = match &principal.user_id {
            Some(user) => state.store().account_enterprise(user).await?,
            None => None,
        };
        return Ok(Reach::Own(own));
    }
    principal.require(Permission::ReadEnterprises)?;
    Ok(Reach::Scope(principal.scope()))
}

/// The caller's register reach and the side it acts for: the enterprise's own account, or a
/// regulator (the records that hang on an enterprise: hidden dangers, inspections).
pub(crate) async fn acting(state: &AppState, principal: &Principal) -> ApiResult<(Reach, Party)> {
    let reach = read_reach(state, principal).await?;
    let party = if reach.is_own() { Party::Enterprise } else { Party::Regulator };
    Ok((reach, party))
}

/// What the caller reaches for a write under enterprise `id`. A reader without the right to
/// write is told 404 for an enterprise outside its reach before it is told 403.
async fn write_reach(state: &AppState, principal: &Principal, id: &str) -> ApiResult<Reach> {
    let reach = read_reach(state, principal).await?;
    if reach.is_own() || principal.can(Permission::ManageEnterprises) {
        return Ok(reach);
    }
    state.store().enterprise(&reach, id).await?;
    principal.require(Permission::ManageEnterprises)?;
    Ok(reach)
}

/// A record of the register that files are attached to (`crate::attachment`): read with the
/// register's read reach; a write needs the enterprise's own account or `ManageEnterprises`,
/// and a record outside the reach answers 404 before any role is checked.
pub(crate) async fn attachment_owner(
    state: &AppState,
    principal: &Principal,
    kind: &str,
    id: &str,
    write: bool,
) -> ApiResult<beacon_store::attachment::Owner> {
    let reach = read_reach(state, principal).await?;
    let owner = state.store().attachment_owner(&reach, kind, id).await?;
    if write && !reach.is_own() {
        principal.require(Permission::ManageEnterprises)?;
    }
    Ok(owner)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EnterpriseParams {
    /// Enterprises of this unit's territory (unit id; the unit and beneath).
    pub unit: Option<String>,
    /// Supervised by this department (unit id).
    pub department: Option<String>,
    /// GB/T 4754 section, `A`–`T`.
    pub section: Option<String>,
    pub sector: Option<String>,
    pub colour: Option<RiskColour>,
    pub status: Option<String>,
    pub mark: Option<String>,
    /// Only those with an expired licence in force.
    pub expired_licence: Option<bool>,
    /// A fragment of the name, a former name, the code or the address.
    pub q: Option<String>,
    /// From 1; default 1.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// 1 to 200; default 20.
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
    /// The workbook's language (`.xlsx` only): `zh` (default) or `en`.
    pub lang: Option<String>,
}

pub(crate) fn optional_id(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<&str>,
) -> Option<String> {
    let value = value?;
    match check_id(value) {
        Ok(id) => Some(id),
        Err(_) => {
            errors.add(field, "invalid");
            None
        }
    }
}

impl EnterpriseParams {
    fn filter(&self) -> ApiResult<EnterpriseFilter> {
        let mut errors = ValidationErrors::new();
        let unit_id = optional_id(&mut errors, "unit", self.unit.as_deref());
        let department_id = optional_id(&mut errors, "department", self.department.as_deref());
        let section = self.section.as_deref().map(|s| {
            industry::section(s).map(str::to_owned).unwrap_or_else(|| {
                errors.add("section", "unknown");
                String::new()
            })
        });
        let sector = self.sector.as_deref().map(|s| {
            industry::sector(s).map(str::to_owned).unwrap_or_else(|| {
                errors.add("sector", "unknown");
                String::new()
            })
        });
        if self.status.as_deref().is_some_and(|s| !STATUSES.contains(&s)) {
            errors.add("status", "unknown");
        }
        if self.mark.as_deref().is_some_and(|m| !MARKS.iter().any(|(c, _)| *c == m)) {
            errors.add("mark", "unknown");
        }
        if self.q.as_deref().is_some_and(|q| q.chars().count() > 100) {
            errors.add("q", "too_long");
        }
        errors.into_result()?;
        Ok(EnterpriseFilter {
            unit_id,
            department_id,
            section,
            sector,
            colour: self.colour,
            status: self.status.clone(),
            mark: self.mark.clone(),
            expired_licence: self.expired_licence.unwrap_or(false),
            q: self.q.clone(),
        })
    }
}

/// The register: enterprises the caller reaches, by name.
#[utoipa::path(get, path = "/enterprises", tag = "enterprise", params(EnterpriseParams),
    responses((status = 200, body = Page<Enterprise>), (status = 422, body = ErrorBody)))]
async fn list_enterprises(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<EnterpriseParams>,
) -> ApiResult<Json<Page<Enterprise>>> {
    let reach = read_reach(&state, &principal).await?;
    let page = PageRequest::parse(q.page, q.per_page)?;
    let filter = q.filter()?;
    Ok(Json(state.store().enterprises(&reach, &filter, page).await?))
}

/// Registers an enterprise (regulators), in a unit of the caller's scope.
#[utoipa::path(post, path = "/enterprises", tag = "enterprise", request_body = EnterpriseWrite,
    responses((status = 201, body = Enterprise),
        (status = 409, description = "`already_exists`: registered at the same moment by another request", body = ErrorBody),
        (status = 422, description = "`uscc: check_character`, `uscc: organisation_code_check`, `uscc: already_exists`, `section: unknown`, `unit_id: not_found`, `department_id: not_a_department`…", body = ErrorBody)))]
async fn create_enterprise(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<EnterpriseWrite>,
) -> ApiResult<(StatusCode, Json<Enterprise>)> {
    principal.require(Permission::ManageEnterprises)?;
    if principal.roles.contains(&Role::Enterprise) {
        return Err(ApiError::forbidden("forbidden"));
    }
    let created =
        state.store().create_enterprise(&principal.scope(), &principal.actor(), body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/enterprises/{id}", tag = "enterprise",
    responses((status = 200, body = Enterprise), (status = 404, body = ErrorBody)))]
async fn get_enterprise(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Enterprise>> {
    let id = check_id(&id)?;
    let reach = read_reach(&state, &principal).await?;
    Ok(Json(state.store().enterprise(&reach, &id).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnterpriseSaved {
    pub enterprise: Enterprise,
    /// The identity change that waits for the regulator (an enterprise's own edit of its code,
    /// name or unit).
    pub pending_change: Option<EnterpriseChange>,
}

/// Rewrites the register data (every field is sent). The enterprise's own change to its code,
/// name or unit waits for its regulator; the rest applies.
#[utoipa::path(put, path = "/enterprises/{id}", tag = "enterprise", request_body = EnterpriseWrite,
    responses((status = 200, body = EnterpriseSaved), (status = 404, body = ErrorBody),
        (status = 409, description = "`stale_version`, `enterprise_closed`", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update_enterprise(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EnterpriseWrite>,
) -> ApiResult<Json<EnterpriseSaved>> {
    let id = check_id(&id)?;
    let reach = write_reach(&state, &principal, &id).await?;
    let (enterprise, pending_change) = state
        .store()
        .update_enterprise(&reach, &principal.scope(), &principal.actor(), &id, body)
        .await?;
    Ok(Json(EnterpriseSaved { enterprise, pending_change }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `operating`, `suspended` or `closed`.
    pub status: String,
    pub reason: String,
}

/// Suspends, closes or reopens an enterprise (regulators); a closed enterprise keeps its record.
#[utoipa::path(post, path = "/enterprises/{id}/status", tag = "enterprise", request_body = StatusChange,
    responses((status = 200, body = Enterprise), (status = 404, body = ErrorBody),
        (status = 409, description = "`status_unchanged`", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_status(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StatusChange>,
) -> ApiResult<Json<Enterprise>> {
    let id = check_id(&id)?;
    let reach = write_reach(&state, &principal, &id).await?;
    if reach.is_own() {
        state.store().enterprise(&reach, &id).await?;
        return Err(ApiError::forbidden("forbidden"));
    }
    Ok(Json(
        state
            .store()
            .set_enterprise_status(&reach, &principal.actor(), &id, &body.status, &body.reason)
            .await?,
    ))
}

/// Every change to the enterprise, its licences and risk points, oldest first.
#[utoipa::path(get, path = "/enterprises/{id}/history", tag = "enterprise",
    responses((status = 200, body = Vec<TimelineEntry>), (status = 404, body = ErrorBody)))]
async fn enterprise_history(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<TimelineEntry>>> {
    let id = check_id(&id)?;
    let reach = read_reach(&state, &principal).await?;
    Ok(Json(state.store().enterprise_history(&reach, &id).await?))
}

#[utoipa::path(get, path = "/enterprises/{id}/changes", tag = "enterprise",
    responses((status = 200, body = Vec<EnterpriseChange>), (status = 404, body = ErrorBody)))]
async fn list_changes(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<EnterpriseChange>>> {
    let id = check_id(&id)?;
    let reach = read_reach(&state, &principal).await?;
    Ok(Json(state.store().enterprise_changes(&reach, &id).await?))
}

/// Confirms or rejects an identity change the enterprise asked for (regulators).
#[utoipa::path(post, path = "/enterprises/{id}/changes/{change_id}/decision", tag = "enterprise",
    request_body = ChangeDecision,
    responses((status = 200, body = EnterpriseChange), (status = 404, body = ErrorBody),
        (status = 409, description = "`not_pending`", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn decide_change(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, change_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<ChangeDecision>,
) -> ApiResult<Json<EnterpriseChange>> {
    let id = check_id(&id)?;
    let change_id = check_id(&change_id)?;
    let reach = write_reach(&state, &principal, &id).await?;
    if reach.is_own() {
        state.store().enterprise(&reach, &id).await?;
        return Err(ApiError::forbidden("forbidden"));
    }
    Ok(Json(
        state
            .store()
            .decide_enterprise_change(&reach, &principal.actor(), &id, &change_id, body)
            .await?,
    ))
}

#[utoipa::path(get, path = "/enterprises/{id}/licences", tag = "enterprise",
    responses((status = 200, body = Vec<Licence>), (status = 404, body = ErrorBody)))]
async fn list_licences(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Licence>>> {
    let id = check_id(&id)?;
    let reach = read_reach(&state, &principal).await?;
    Ok(Json(state.store().licences(&reach, &id).await?))
}

/// Adds a licence or certificate; its expiry clock starts (reminders at 90 and 30 days).
#[utoipa::path(post, path = "/enterprises/{id}/licences", tag = "enterprise", request_body = LicenceWrite,
    responses((status = 201, body = Licence), (status = 404, body = ErrorBody),
        (status = 409, description = "`enterprise_closed`", body = ErrorBody),
        (status = 422, description = "`expires_on: before_issued`, `kind: unknown`, `number: already_exists`, `holder_name: required`…", body = ErrorBody)))]
async fn create_licence(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<LicenceWrite>,
) -> ApiResult<(StatusCode, Json<Licence>)> {
    let id = check_id(&id)?;
    let reach = write_reach(&state, &principal, &id).await?;
    let created = state.store().create_licence(&reach, &principal.actor(), &id, body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(put, path = "/enterprises/{id}/licences/{licence_id}", tag = "enterprise",
    request_body = LicenceWrite,
    responses((status = 200, body = Licence), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_licence(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, licence_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<LicenceWrite>,
) -> ApiResult<Json<Licence>> {
    let id = check_id(&id)?;
    let licence_id = check_id(&licence_id)?;
    let reach = write_reach(&state, &principal, &id).await?;
    Ok(Json(
        state.store().update_licence(&reach, &principal.actor(), &id, &licence_id, body).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    pub reason: String,
}

/// Withdraws a licence (revoked, replaced, surrendered); it stays on record.
#[utoipa::path(post, path = "/enterprises/{id}/licences/{licence_id}/withdraw", tag = "enterprise",
    request_body = Reason,
    responses((status = 200, body = Licence), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn withdraw_licence(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, licence_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Reason>,
) -> ApiResult<Json<Licence>> {
    let id = check_id(&id)?;
    let licence_id = check_id(&licence_id)?;
    let reach = write_reach(&state, &principal, &id).await?;
    Ok(Json(
        state
            .store()
            .withdraw_licence(&reach, &principal.actor(), &id, &licence_id, &body.reason)
            .await?,
    ))
}

#[utoipa::path(get, path = "/enterprises/{id}/risk-points", tag = "enterprise",
    responses((status = 200, body = Vec<RiskPoint>), (status = 404, body = ErrorBody)))]
async fn list_risk_points(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<RiskPoint>>> {
    let id = check_id(&id)?;
    let reach = read_reach(&state, &principal).await?;
    Ok(Json(state.store().risk_points(&reach, &id).await?))
}

/// Adds a risk point with its first evaluation; the enterprise's colour follows.
#[utoipa::path(post, path = "/enterprises/{id}/risk-points", tag = "enterprise",
    request_body = RiskPointWrite,
    responses((status = 201, body = RiskPoint), (status = 404, body = ErrorBody),
        (status = 409, description = "`enterprise_closed`", body = ErrorBody),
        (status = 422, description = "`l: not_on_scale`, `accident_types[0]: unknown`, `control_level: unknown`…", body = ErrorBody)))]
async fn create_risk_point(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<RiskPointWrite>,
) -> ApiResult<(StatusCode, Json<RiskPoint>)> {
    let id = check_id(&id)?;
    let reach = write_reach(&state, &principal, &id).await?;
    let created = state.store().create_risk_point(&reach, &principal.actor(), &id, body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Rewrites a risk point; new L, E or C values are kept as a re-evaluation.
#[utoipa::path(put, path = "/enterprises/{id}/risk-points/{point_id}", tag = "enterprise",
    request_body = RiskPointWrite,
    responses((status = 200, body = RiskPoint), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_risk_point(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, point_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<RiskPointWrite>,
) -> ApiResult<Json<RiskPoint>> {
    let id = check_id(&id)?;
    let point_id = check_id(&point_id)?;
    let reach = write_reach(&state, &principal, &id).await?;
    Ok(Json(
        state.store().update_risk_point(&reach, &principal.actor(), &id, &point_id, body).await?,
    ))
}

/// Retires a risk point; it stays on record and no longer colours the enterprise.
#[utoipa::path(post, path = "/enterprises/{id}/risk-points/{point_id}/retire", tag = "enterprise",
    request_body = Reason,
    responses((status = 200, body = RiskPoint), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn retire_risk_point(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, point_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Reason>,
) -> ApiResult<Json<RiskPoint>> {
    let id = check_id(&id)?;
    let point_id = check_id(&point_id)?;
    let reach = write_reach(&state, &principal, &id).await?;
    Ok(Json(
        state
            .store()
            .retire_risk_point(&reach, &principal.actor(), &id, &point_id, &body.reason)
            .await?,
    ))
}

/// Every evaluation of a risk point, newest first.
#[utoipa::path(get, path = "/enterprises/{id}/risk-points/{point_id}/evaluations", tag = "enterprise",
    responses((status = 200, body = Vec<Evaluation>), (status = 404, body = ErrorBody)))]
async fn list_evaluations(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, point_id)): Path<(String, String)>,
) -> ApiResult<Json<Vec<Evaluation>>> {
    let id = check_id(&id)?;
    let point_id = check_id(&point_id)?;
    let reach = read_reach(&state, &principal).await?;
    Ok(Json(state.store().risk_evaluations(&reach, &id, &point_id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RiskMapParams {
    /// Unit id whose units below are counted (the caller's unit by default).
    pub of: Option<String>,
    pub unit: Option<String>,
    pub department: Option<String>,
    pub section: Option<String>,
    pub sector: Option<String>,
    pub colour: Option<RiskColour>,
    pub mark: Option<String>,
    /// The part of the map shown, `min_lon,min_lat,max_lon,max_lat`; with `zoom`, a viewport
    /// with more than 2,000 enterprises answers clusters instead of points.
    pub bbox: Option<String>,
    /// Leaflet's zoom level of the view (0–22), with `bbox`.
    pub zoom: Option<f64>,
}

/// The viewport of `bbox` and `zoom`, both or neither.
pub(crate) fn viewport(bbox: Option<&str>, zoom: Option<f64>) -> ApiResult<Option<Viewport>> {
    let (bbox, zoom) = match (bbox, zoom) {
        (None, None) => return Ok(None),
        (Some(b), Some(z)) => (b, z),
        (None, Some(_)) => return Err(ApiError::field("bbox", "required")),
        (Some(_), None) => return Err(ApiError::field("zoom", "required")),
    };
    if !(0.0..=22.0).contains(&zoom) {
        return Err(ApiError::field("zoom", "out_of_range"));
    }
    let numbers: Vec<f64> = bbox
        .split(',')
        .map(|n| n.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| ApiError::field("bbox", "invalid"))?;
    let [min_lon, min_lat, max_lon, max_lat] = numbers[..] else {
        return Err(ApiError::field("bbox", "invalid"));
    };
    let lon = -180.0..=180.0;
    let lat = -90.0..=90.0;
    if !(lon.contains(&min_lon)
        && lon.contains(&max_lon)
        && lat.contains(&min_lat)
        && lat.contains(&max_lat))
        || min_lon > max_lon
        || min_lat > max_lat
    {
        return Err(ApiError::field("bbox", "out_of_range"));
    }
    Ok(Some(Viewport { min_lon, min_lat, max_lon, max_lat, zoom, point_limit: MAP_POINT_LIMIT }))
}

/// The four-colour map: located enterprises coloured by risk, and counts by colour per unit.
#[utoipa::path(get, path = "/risk-map", tag = "enterprise", params(RiskMapParams),
    responses((status = 200, body = RiskMap), (status = 422, body = ErrorBody)))]
async fn risk_map(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<RiskMapParams>,
) -> ApiResult<Json<RiskMap>> {
    let reach = read_reach(&state, &principal).await?;
    let params = EnterpriseParams {
        unit: q.unit,
        department: q.department,
        section: q.section,
        sector: q.sector,
        colour: q.colour,
        status: None,
        mark: q.mark,
        expired_licence: None,
        q: None,
        page: None,
        per_page: None,
        lang: None,
    };
    let filter = params.filter()?;
    let of = match q.of.as_deref() {
        Some(of) => check_id(of)
            .map_err(|_| ApiError::validation(ValidationErrors::single("of", "invalid")))?,
        None => principal.unit.id.clone(),
    };
    let view = viewport(q.bbox.as_deref(), q.zoom)?;
    Ok(Json(state.store().risk_map(&reach, &filter, &of, view).await?))
}

#[utoipa::path(get, path = "/risk-cutoffs", tag = "enterprise",
    responses((status = 200, body = LecCutoffs)))]
async fn get_cutoffs(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<LecCutoffs>> {
    read_reach(&state, &principal).await?;
    Ok(Json(state.store().lec_cutoffs().await?))
}

/// Sets the LEC colour cut-offs for the deployment and recolours every risk point (regulators
/// of the top unit).
#[utoipa::path(put, path = "/risk-cutoffs", tag = "enterprise", request_body = LecCutoffs,
    responses((status = 200, body = LecCutoffs),
        (status = 403, description = "`forbidden`: not a regulator of the top unit", body = ErrorBody),
        (status = 422, description = "`cutoffs: not_ascending`", body = ErrorBody)))]
async fn set_cutoffs(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<LecCutoffs>,
) -> ApiResult<Json<LecCutoffs>> {
    principal.require(Permission::ManageEnterprises)?;
    if !keeps_reference_data(&principal) {
        return Err(ApiError::forbidden("forbidden"));
    }
    Ok(Json(state.store().set_lec_cutoffs(&principal.actor(), body).await?))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HazardSubstanceList {
    pub items: Vec<HazardSubstance>,
    /// The caller may add and correct substances (a regulator of the top unit).
    pub editable: bool,
}

/// Who keeps the register's reference data (the substances, the LEC cut-offs): a regulator of
/// the top unit, since the values hold for the whole deployment.
pub(crate) fn keeps_reference_data(principal: &Principal) -> bool {
    principal.can(Permission::ManageEnterprises)
        && principal.top_of_tree
        && !principal.roles.contains(&Role::Enterprise)
}

/// The substances a hazard source can hold, with their critical quantity Q and correction
/// factor β (GB 18218-2018); a value not yet confirmed is `null`.
#[utoipa::path(get, path = "/hazard-substances", tag = "enterprise",
    responses((status = 200, body = HazardSubstanceList)))]
async fn list_substances(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<HazardSubstanceList>> {
    read_reach(&state, &principal).await?;
    let items = state.store().hazard_substances().await?;
    Ok(Json(HazardSubstanceList { items, editable: keeps_reference_data(&principal) }))
}

/// Adds a substance to the reference data (regulators of the top unit).
#[utoipa::path(post, path = "/hazard-substances", tag = "enterprise", request_body = SubstanceWrite,
    responses((status = 201, body = HazardSubstance),
        (status = 403, description = "`forbidden`: not a regulator of the top unit", body = ErrorBody),
        (status = 422, description = "`name: already_exists`, `cas: check_character`, `critical_t: must_be_positive`, `source: required`…", body = ErrorBody)))]
async fn create_substance(
    State(state): State<AppState>,
    principal: Principal,
    ApiJson(body): ApiJson<SubstanceWrite>,
) -> ApiResult<(StatusCode, Json<HazardSubstance>)> {
    principal.require(Permission::ManageEnterprises)?;
    if !keeps_reference_data(&principal) {
        return Err(ApiError::forbidden("forbidden"));
    }
    let created = state.store().create_hazard_substance(&principal.actor(), body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Corrects a substance's name, CAS number, Q or β with their source (regulators of the top
/// unit). Hazard sources keep the values they were identified with until next written.
#[utoipa::path(put, path = "/hazard-substances/{id}", tag = "enterprise", request_body = SubstanceWrite,
    responses((status = 200, body = HazardSubstance), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`stale_version`", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update_substance(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SubstanceWrite>,
) -> ApiResult<Json<HazardSubstance>> {
    let id = check_id(&id)?;
    principal.require(Permission::ManageEnterprises)?;
    if !keeps_reference_data(&principal) {
        return Err(ApiError::forbidden("forbidden"));
    }
    Ok(Json(state.store().update_hazard_substance(&principal.actor(), &id, body).await?))
}

#[utoipa::path(get, path = "/enterprises/{id}/hazard-sources", tag = "enterprise",
    responses((status = 200, body = Vec<HazardSource>), (status = 404, body = ErrorBody)))]
async fn list_hazard_sources(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<HazardSource>>> {
    let id = check_id(&id)?;
    let reach = read_reach(&state, &principal).await?;
    Ok(Json(state.store().hazard_sources(&reach, &id).await?))
}

/// Registers a major hazard source candidate: the server computes S, R, whether it is a major
/// hazard source and its grade (GB 18218-2018).
#[utoipa::path(post, path = "/enterprises/{id}/hazard-sources", tag = "enterprise",
    request_body = HazardSourceWrite,
    responses((status = 201, body = HazardSource), (status = 404, body = ErrorBody),
        (status = 409, description = "`enterprise_closed`", body = ErrorBody),
        (status = 422, description = "`substances[0].substance_id: substance_incomplete` (its Q or β is not known yet), `substances[0].substance_id: not_found`, `substances[1].substance_id: duplicate`, `substances[0].quantity_t: must_not_be_negative`, `alpha: must_be_positive`, `filing_date: required`…", body = ErrorBody)))]
async fn create_hazard_source(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<HazardSourceWrite>,
) -> ApiResult<(StatusCode, Json<HazardSource>)> {
    let id = check_id(&id)?;
    let reach = write_reach(&state, &principal, &id).await?;
    let created = state.store().create_hazard_source(&reach, &principal.actor(), &id, body).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[utoipa::path(get, path = "/enterprises/{id}/hazard-sources/{source_id}", tag = "enterprise",
    responses((status = 200, body = HazardSource), (status = 404, body = ErrorBody)))]
async fn get_hazard_source(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, source_id)): Path<(String, String)>,
) -> ApiResult<Json<HazardSource>> {
    let id = check_id(&id)?;
    let source_id = check_id(&source_id)?;
    let reach = read_reach(&state, &principal).await?;
    Ok(Json(state.store().hazard_source(&reach, &id, &source_id).await?))
}

/// Rewrites a hazard source; the identification is computed again with today's reference data.
#[utoipa::path(put, path = "/enterprises/{id}/hazard-sources/{source_id}", tag = "enterprise",
    request_body = HazardSourceWrite,
    responses((status = 200, body = HazardSource), (status = 404, body = ErrorBody),
        (status = 409, description = "`stale_version`, `hazard_source_retired`, `enterprise_closed`", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn update_hazard_source(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, source_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<HazardSourceWrite>,
) -> ApiResult<Json<HazardSource>> {
    let id = check_id(&id)?;
    let source_id = check_id(&source_id)?;
    let reach = write_reach(&state, &principal, &id).await?;
    Ok(Json(
        state
            .store()
            .update_hazard_source(&reach, &principal.actor(), &id, &source_id, body)
            .await?,
    ))
}

/// Retires a hazard source (核销); it stays on record.
#[utoipa::path(post, path = "/enterprises/{id}/hazard-sources/{source_id}/retire", tag = "enterprise",
    request_body = Reason,
    responses((status = 200, body = HazardSource), (status = 404, body = ErrorBody),
        (status = 409, description = "`hazard_source_retired`", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn retire_hazard_source(
    State(state): State<AppState>,
    principal: Principal,
    Path((id, source_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Reason>,
) -> ApiResult<Json<HazardSource>> {
    let id = check_id(&id)?;
    let source_id = check_id(&source_id)?;
    let reach = write_reach(&state, &principal, &id).await?;
    Ok(Json(
        state
            .store()
            .retire_hazard_source(&reach, &principal.actor(), &id, &source_id, &body.reason)
            .await?,
    ))
}

/// A code and its Chinese name.
#[derive(Debug, Serialize, ToSchema)]
pub struct Code {
    pub code: &'static str,
    pub name: &'static str,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EnterpriseReference {
    pub sections: Vec<Code>,
    pub sectors: Vec<Code>,
    pub marks: Vec<Code>,
    pub standard_grades: Vec<Code>,
    pub licence_kinds: Vec<Code>,
    pub accident_types: Vec<Code>,
    pub control_levels: Vec<Code>,
    pub l_scale: Vec<f64>,
    pub e_scale: Vec<f64>,
    pub c_scale: Vec<f64>,
    /// GB 18218-2018 Table 5: α by the people who may be exposed outside the plant.
    pub alpha_steps: Vec<AlphaStep>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlphaStep {
    /// `people_100_plus`, `people_50_99`, `people_30_49`, `people_1_29`, `people_0`.
    pub code: &'static str,
    pub alpha: f64,
}

fn codes(table: &[(&'static str, &'static str)]) -> Vec<Code> {
    table.iter().map(|(code, name)| Code { code, name }).collect()
}

/// The register's reference data: classifications, marks, licence kinds, accident types and
/// the LEC scales.
#[utoipa::path(get, path = "/enterprise-reference", tag = "enterprise",
    responses((status = 200, body = EnterpriseReference)))]
async fn reference(_principal: Principal) -> Json<EnterpriseReference> {
    Json(EnterpriseReference {
        sections: codes(&industry::SECTIONS),
        sectors: codes(&industry::SECTORS),
        marks: codes(&MARKS),
        standard_grades: codes(&STANDARD_GRADES),
        licence_kinds: codes(&LICENCE_KINDS),
        accident_types: codes(&ACCIDENT_TYPES),
        control_levels: codes(&CONTROL_LEVELS),
        l_scale: L_SCALE.to_vec(),
        e_scale: E_SCALE.to_vec(),
        c_scale: C_SCALE.to_vec(),
        alpha_steps: ALPHA_STEPS.iter().map(|&(code, alpha)| AlphaStep { code, alpha }).collect(),
    })
}

/// The supervising departments the caller may name on an enterprise: those of its own subtree
/// and those of the units above it (a district's regulator names its own departments or the
/// city's, never another district's). The register form's choices.
#[utoipa::path(get, path = "/enterprise-departments", tag = "enterprise",
    responses((status = 200, body = Vec<UnitName>), (status = 403, body = ErrorBody)))]
async fn nameable_departments(
    State(state): State<AppState>,
    principal: Principal,
) -> ApiResult<Json<Vec<UnitName>>> {
    principal.require(Permission::ManageEnterprises)?;
    Ok(Json(state.store().nameable_departments(&principal.scope()).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountEnterprise {
    /// The enterprise; `null` frees the account.
    pub enterprise_id: Option<String>,
}

/// Ties an `enterprise` account to its enterprise (system administrator of a unit above both).
#[utoipa::path(put, path = "/users/{id}/enterprise", tag = "enterprise", request_body = AccountEnterprise,
    responses((status = 204), (status = 404, body = ErrorBody),
        (status = 422, description = "`user_id: not_an_enterprise_account`, `enterprise_id: not_found`", body = ErrorBody)))]
async fn bind_account(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageOrg>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AccountEnterprise>,
) -> ApiResult<StatusCode> {
    let id = check_id(&id)?;
    let enterprise = match body.enterprise_id.as_deref() {
        Some(e) => Some(check_id(e).map_err(|_| {
            ApiError::validation(ValidationErrors::single("enterprise_id", "not_found"))
        })?),
        None => None,
    };
    state
        .store()
        .bind_enterprise_account(&principal.scope(), &principal.actor(), &id, enterprise.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn reference_name(table: &[(&'static str, &'static str)], code: &str) -> String {
    table.iter().find(|(c, _)| *c == code).map_or_else(|| code.to_owned(), |(_, n)| (*n).to_owned())
}

/// The register as an Excel ledger, with the list's filters. Reference values (sector, status,
/// colour) carry the standards' Chinese names in either language.
#[utoipa::path(get, path = "/enterprises.xlsx", tag = "enterprise", params(EnterpriseParams),
    responses((status = 200, description = "Excel workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 422, description = "`export_too_large`: more than 20,000 rows; narrow the filter", body = ErrorBody)))]
async fn enterprises_xlsx(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<EnterpriseParams>,
) -> ApiResult<Response> {
    let reach = read_reach(&state, &principal).await?;
    let filter = q.filter()?;
    let store = state.store();
    let items = all_pages(|page| store.enterprises(&reach, &filter, page)).await?;
    let rows = items
        .into_iter()
        .map(|e| {
            vec![
                Cell::from(e.uscc),
                Cell::from(e.name),
                Cell::from(e.unit.name),
                Cell::from(e.department.map(|d| d.name)),
                Cell::Text(format!(
                    "{} {}",
                    e.section,
                    reference_name(&industry::SECTIONS, &e.section)
                )),
                Cell::Text(reference_name(&industry::SECTORS, &e.sector)),
                Cell::from(e.legal_representative),
                Cell::from(e.safety_principal),
                Cell::from(e.safety_phone),
                Cell::from(e.address),
                Cell::Number(f64::from(e.employees)),
                Cell::from(match e.status.as_str() {
                    "operating" => "正常经营",
                    "suspended" => "停产停业",
                    _ => "已注销",
                }),
                Cell::from(e.standard_grade.map(|g| reference_name(&STANDARD_GRADES, &g))),
                Cell::from(e.colour.map(|c| c.grade_name().to_owned())),
                Cell::Number(e.expired_licences as f64),
                Cell::Text(
                    e.marks
                        .iter()
                        .map(|m| reference_name(&MARKS, m))
                        .collect::<Vec<_>>()
                        .join("、"),
                ),
            ]
        })
        .collect();
    let english = q.lang.as_deref() == Some("en");
    let headers: &[&str] = if english {
        &[
            "Credit code",
            "Name",
            "Territory",
            "Supervising department",
            "Section",
            "Sector",
            "Legal representative",
            "Safety principal",
            "Phone",
            "Address",
            "Employees",
            "Status",
            "Standardisation grade",
            "Risk colour",
            "Expired licences",
            "Marks",
        ]
    } else {
        &[
            "统一社会信用代码",
            "企业名称",
            "属地",
            "行业监管部门",
            "行业门类",
            "监管行业",
            "法定代表人",
            "安全负责人",
            "联系电话",
            "地址",
            "从业人数",
            "经营状态",
            "标准化等级",
            "风险等级",
            "过期证照",
            "重点标记",
        ]
    };
    let title = if english { "Enterprise register" } else { "企业安全生产档案台账" };
    workbook(store.now(), title, headers, rows, "enterprises")
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(ledgers::routes())
        .routes(routes!(list_enterprises, create_enterprise))
        .routes(routes!(get_enterprise, update_enterprise))
        .routes(routes!(set_status))
        .routes(routes!(enterprise_history))
        .routes(routes!(list_changes))
        .routes(routes!(decide_change))
        .routes(routes!(list_licences, create_licence))
        .routes(routes!(update_licence))
        .routes(routes!(withdraw_licence))
        .routes(routes!(enterprises_xlsx))
        .routes(routes!(list_risk_points, create_risk_point))
        .routes(routes!(update_risk_point))
        .routes(routes!(retire_risk_point))
        .routes(routes!(list_evaluations))
        .routes(routes!(list_hazard_sources, create_hazard_source))
        .routes(routes!(get_hazard_source, update_hazard_source))
        .routes(routes!(retire_hazard_source))
        .routes(routes!(list_substances, create_substance))
        .routes(routes!(update_substance))
        .routes(routes!(risk_map))
        .routes(routes!(get_cutoffs, set_cutoffs))
        .routes(routes!(reference))
        .routes(routes!(nameable_departments))
        .routes(routes!(bind_account))
}
