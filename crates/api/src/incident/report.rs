//! Reports up the chain (docs/incidents.md, "Reports"): the initial report, numbered
//! follow-ups and the final report of each issuing unit, drafted by the duty desk, approved by
//! the duty leader and then sent to the desk of the unit above.

use crate::http::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use beacon_core::error::ValidationErrors;
use beacon_core::incident::{ReportKind, ReportSections};
use beacon_core::text::{free_text, plain_text};
use beacon_store::incident::{NewReport, Report, ReportChanged, ReportEdit, ReportVersion};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::http::{ApiError, ApiJson, ApiResult, ErrorBody};
use crate::org::auth::{Authorized, HandleIncidents, LeadIncidents, ReadIncidents};
use crate::org::check_id;

/// The one-line fields of a report, checked; `None` where absent.
struct Lines {
    title: Option<String>,
    addressee: Option<String>,
    contact: Option<String>,
    sections: Option<ReportSections>,
}

fn check_lines(
    title: Option<&str>,
    addressee: Option<&str>,
    contact: Option<&str>,
    sections: Option<ReportSections>,
) -> Result<Lines, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let title = title.and_then(|t| errors.check("title", plain_text(t, 200)));
    let mut line = |field: &str, value: Option<&str>, max: usize| {
        let text = errors.check(field, free_text(value?, max))?;
        if text.contains('\n') {
            errors.add(field, "invalid_characters");
            return None;
        }
        Some(text)
    };
    let addressee = line("addressee", addressee, 128);
    let contact = line("contact", contact, 200);
    let sections = sections.and_then(|s| s.check(&mut errors));
    errors.into_result()?;
    Ok(Lines { title, addressee, contact, sections })
}

/// The report after a change of its status (its notifications and the incident's event were
/// written with the change).
fn changed(changed: ReportChanged) -> Json<Report> {
    Json(changed.report)
}

/// The reports about an incident the caller may see: approved ones, and the drafts of the
/// caller's own unit.
#[utoipa::path(get, path = "/incidents/{id}/reports", tag = "incidents",
    responses((status = 200, body = Vec<Report>), (status = 404, body = ErrorBody)))]
async fn list_reports(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadIncidents>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<Report>>> {
    let id = check_id(&id)?;
    Ok(Json(state.store().incident_reports(&principal.scope(), &principal.actor(), &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReport {
    /// `initial`, `follow_up` or `final`.
    pub kind: ReportKind,
    /// Built from the incident when absent: 关于…的首报.
    pub title: Option<String>,
    /// 主送; the unit above when absent.
    pub addressee: Option<String>,
    /// 联系人 and telephone; the author when absent.
    pub contact: Option<String>,
    /// Built from the incident's facts when absent.
    pub sections: Option<ReportSections>,
}

/// Drafts a report of the caller's unit (version 1). One report per unit is in the works at a
/// time; the initial report comes first and once; nothing follows the final report.
#[utoipa::path(post, path = "/incidents/{id}/reports", tag = "incidents", request_body = CreateReport,
    responses((status = 201, body = Report), (status = 404, body = ErrorBody),
        (status = 409, description = "`report_pending`, `report_exists`, `initial_missing`, `final_sent`, `incident_closed`", body = ErrorBody),
        (status = 422, description = "`kind: unknown`, `sections.measures: too_long`…", body = ErrorBody)))]
async fn create_report(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<HandleIncidents>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CreateReport>,
) -> ApiResult<(StatusCode, Json<Report>)> {
    let id = check_id(&id)?;
    let lines = check_lines(
        body.title.as_deref(),
        body.addressee.as_deref(),
        body.contact.as_deref(),
        body.sections,
    )?;
    let report = state
        .store()
        .create_incident_report(
            &principal.scope(),
            &principal.actor(),
            &id,
            NewReport {
                kind: body.kind,
                title: lines.title,
                addressee: lines.addressee,
                contact: lines.contact,
                sections: lines.sections,
            },
        )
        .await
        .map_err(principal.refusal("incident", &id))?;
    Ok((StatusCode::CREATED, Json(report)))
}

/// One report with the list of its versions.
#[utoipa::path(get, path = "/incidents/{id}/reports/{report}", tag = "incidents",
    responses((status = 200, body = Report), (status = 404, body = ErrorBody)))]
async fn get_report(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadIncidents>,
    Path((id, report)): Path<(String, String)>,
) -> ApiResult<Json<Report>> {
    let id = check_id(&id)?;
    let report = check_id(&report)?;
    Ok(Json(
        state.store().incident_report(&principal.scope(), &principal.actor(), &id, &report).await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditReport {
    /// The version read; a save made since is refused with 409 `stale_version`.
    pub version: i64,
    pub title: Option<String>,
    pub addressee: Option<String>,
    pub contact: Option<String>,
    pub sections: Option<ReportSections>,
}

/// Saves a draft as a new version. An approved report cannot be edited (409
/// `report_approved`), nor one waiting for the leader (`report_submitted`).
#[utoipa::path(put, path = "/incidents/{id}/reports/{report}", tag = "incidents", request_body = EditReport,
    responses((status = 200, body = Report),
        (status = 403, description = "`not_issuing_unit`", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`report_approved`, `report_submitted`, `stale_version`", body = ErrorBody),
        (status = 422, description = "`sections.what_happened: too_long`…", body = ErrorBody)))]
async fn edit_report(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<HandleIncidents>,
    Path((id, report)): Path<(String, String)>,
    ApiJson(body): ApiJson<EditReport>,
) -> ApiResult<Json<Report>> {
    let id = check_id(&id)?;
    let report = check_id(&report)?;
    let lines = check_lines(
        body.title.as_deref(),
        body.addressee.as_deref(),
        body.contact.as_deref(),
        body.sections,
    )?;
    let saved = state
        .store()
        .edit_incident_report(
            &principal.scope(),
            &principal.actor(),
            &id,
            &report,
            ReportEdit {
                version: body.version,
                title: lines.title,
                addressee: lines.addressee,
                contact: lines.contact,
                sections: lines.sections,
            },
        )
        .await
        .map_err(principal.refusal("incident", &id))?;
    Ok(Json(saved))
}

/// One kept version of a report.
#[utoipa::path(get, path = "/incidents/{id}/reports/{report}/versions/{version}", tag = "incidents",
    responses((status = 200, body = ReportVersion), (status = 404, body = ErrorBody)))]
async fn report_version(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadIncidents>,
    Path((id, report, version)): Path<(String, String, i64)>,
) -> ApiResult<Json<ReportVersion>> {
    let id = check_id(&id)?;
    let report = check_id(&report)?;
    Ok(Json(
        state
            .store()
            .incident_report_version(&principal.scope(), &principal.actor(), &id, &report, version)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportVersionBody {
    /// The version the caller read and submits or approves.
    pub version: i64,
}

/// The officer submits a complete draft to the unit's duty leaders.
#[utoipa::path(post, path = "/incidents/{id}/reports/{report}/submit", tag = "incidents",
    request_body = ReportVersionBody,
    responses((status = 200, body = Report),
        (status = 403, description = "`not_issuing_unit`", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`report_submitted`, `report_approved`, `stale_version`", body = ErrorBody),
        (status = 422, description = "`sections.measures: required`, `addressee: required`…", body = ErrorBody)))]
async fn submit_report(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<HandleIncidents>,
    Path((id, report)): Path<(String, String)>,
    ApiJson(body): ApiJson<ReportVersionBody>,
) -> ApiResult<Json<Report>> {
    let id = check_id(&id)?;
    let report = check_id(&report)?;
    let done = state
        .store()
        .submit_incident_report(&principal.scope(), &principal.actor(), &id, &report, body.version)
        .await
        .map_err(principal.refusal("incident", &id))?;
    Ok(changed(done))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnReport {
    pub reason: String,
}

/// The duty leader sends a submitted report back to the draft, with a reason.
#[utoipa::path(post, path = "/incidents/{id}/reports/{report}/return", tag = "incidents",
    request_body = ReturnReport,
    responses((status = 200, body = Report),
        (status = 403, description = "`not_issuing_unit`", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`report_not_submitted`, `report_approved`", body = ErrorBody),
        (status = 422, description = "`reason: required`", body = ErrorBody)))]
async fn return_report(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<LeadIncidents>,
    Path((id, report)): Path<(String, String)>,
    ApiJson(body): ApiJson<ReturnReport>,
) -> ApiResult<Json<Report>> {
    let id = check_id(&id)?;
    let report = check_id(&report)?;
    let reason = plain_text(&body.reason, 500).map_err(|code| ApiError::field("reason", code))?;
    let done = state
        .store()
        .return_incident_report(&principal.scope(), &principal.actor(), &id, &report, &reason)
        .await
        .map_err(principal.refusal("incident", &id))?;
    Ok(changed(done))
}

/// The duty leader approves a submitted report: it gets its document number, is frozen, and
/// goes to the duty desk of the unit above.
#[utoipa::path(post, path = "/incidents/{id}/reports/{report}/approve", tag = "incidents",
    request_body = ReportVersionBody,
    responses((status = 200, body = Report),
        (status = 403, description = "`not_issuing_unit`", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`report_not_submitted`, `report_approved`, `stale_version`", body = ErrorBody)))]
async fn approve_report(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<LeadIncidents>,
    Path((id, report)): Path<(String, String)>,
    ApiJson(body): ApiJson<ReportVersionBody>,
) -> ApiResult<Json<Report>> {
    let id = check_id(&id)?;
    let report = check_id(&report)?;
    let done = state
        .store()
        .approve_incident_report(&principal.scope(), &principal.actor(), &id, &report, body.version)
        .await
        .map_err(principal.refusal("incident", &id))?;
    Ok(changed(done))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_reports, create_report))
        .routes(routes!(get_report, edit_report))
        .routes(routes!(report_version))
        .routes(routes!(submit_report))
        .routes(routes!(return_report))
        .routes(routes!(approve_report))
}
