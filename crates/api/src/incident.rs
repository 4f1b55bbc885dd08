//! Incidents and information reporting (docs/incidents.md): intake from the form, a duty-log
//! entry or another system's API token; reading with the reporting clocks; changes of facts
//! (re-graded); hops acknowledged in Beacon or recorded for levels outside it; a leader's grade
//! override; closing; the duplicate guard; the chain's time limits.

use crate::http::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use beacon_core::error::ValidationErrors;
use beacon_core::incident::{
    Category, ChainRules, Grade, Hop, HopMethod, IncidentKind, ResponseLevel, Sector, Source,
    WarningColor, check_casualties, check_times,
};
use beacon_core::org::{Permission, Phone, Role};
use beacon_core::page::PageRequest;
use beacon_core::text::{free_text, plain_text};
use beacon_store::Page;
use beacon_store::incident::{
    DuplicateCandidate, FactsChange, GradeChange, Incident, IncidentFilter, NewIncident, RecordHop,
};
use beacon_store::timeline::TimelineEntry;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

mod draft;
mod report;
mod stats;

use crate::AppState;
use crate::http::{ApiError, ApiJson, ApiQuery, ApiResult, ErrorBody};
use crate::org::auth::{Authorized, HandleIncidents, LeadIncidents, ReadIncidents, ReportIncident};
use crate::org::{Principal, check_id, double_option, unit_of};
use crate::workbench::{Card, Item, Level};
use beacon_core::clock::{local_date, local_midnight};
use futures::future::BoxFuture;

/// What a caller may see of an incident: the reporter's name and phone are personal data, for
/// the duty desk and leaders only; which other incident it may repeat is for those who may read
/// incidents (not an enterprise that only reports).
fn view(principal: &Principal, mut incident: Incident) -> Incident {
    if !principal.can(Permission::ReadDutyLog) {
        incident.reporter = None;
        incident.reporter_phone = None;
    }
    if !principal.can(Permission::ReadIncidents) {
        incident.duplicate_of = None;
    }
    incident
}

fn kind_of(errors: &mut ValidationErrors, kind: &str) -> Option<IncidentKind> {
    errors.check("kind", IncidentKind::parse(kind.trim()))
}

fn optional_text(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    let text = errors.check(field, free_text(value.unwrap_or_default(), max))?;
    (!text.is_empty()).then_some(text)
}

fn point(errors: &mut ValidationErrors, lon: Option<f64>, lat: Option<f64>) -> Option<(f64, f64)> {
    match (lon, lat) {
        (Some(lon), Some(lat)) => {
            let mut ok = true;
            if !(-180.0..=180.0).contains(&lon) {
                errors.add("lon", "out_of_range");
                ok = false;
            }
            if !(-90.0..=90.0).contains(&lat) {
                errors.add("lat", "out_of_range");
                ok = false;
            }
            ok.then_some((lon, lat))
        }
        (None, None) => None,
        (None, Some(_)) => {
            errors.add("lon", "required");
            None
        }
        (Some(_), None) => {
            errors.add("lat", "required");
            None
        }
    }
}

fn phone(errors: &mut ValidationErrors, value: Option<&str>) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    match Phone::parse(value) {
        Ok(p) => Some(p.as_str().to_owned()),
        Err(code) => {
            errors.add("reporter_phone", code);
            None
        }
    }
}

// ---- taxonomy and rules ----

#[derive(Debug, Serialize, ToSchema)]
pub struct KindInfo {
    pub kind: IncidentKind,
    pub category: Category,
    pub sector: Sector,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Taxonomy {
    pub kinds: Vec<KindInfo>,
    pub sources: Vec<Source>,
    pub grades: Vec<Grade>,
    pub hop_methods: Vec<HopMethod>,
    pub warning_colors: Vec<WarningColor>,
    pub response_levels: Vec<ResponseLevel>,
}

/// The incident taxonomy and the values of the enumerated fields, for forms.
#[utoipa::path(get, path = "/incidents/taxonomy", tag = "incidents",
    responses((status = 200, body = Taxonomy)))]
async fn taxonomy(_principal: Principal) -> Json<Taxonomy> {
    Json(Taxonomy {
        kinds: IncidentKind::ALL
            .iter()
            .map(|k| KindInfo { kind: *k, category: k.category(), sector: k.sector() })
            .collect(),
        sources: Source::ALL.to_vec(),
        grades: Grade::ALL.to_vec(),
        hop_methods: HopMethod::RECORDABLE.to_vec(),
        warning_colors: WarningColor::ALL.to_vec(),
        response_levels: ResponseLevel::ALL.to_vec(),
    })
}

/// The chain's time limits: the first hop after the accident, each later hop after the
/// previous one was received.
#[utoipa::path(get, path = "/incidents/chain-rules", tag = "incidents",
    responses((status = 200, body = ChainRules)))]
async fn get_chain_rules(
    State(state): State<AppState>,
    _auth: Authorized<ReadIncidents>,
) -> ApiResult<Json<ChainRules>> {
    Ok(Json(state.store().incident_chain_rules().await?))
}

/// Sets the chain's time limits (a leader of the top unit; 1–1440 minutes each). Every running
/// clock follows the new limits at once.
#[utoipa::path(put, path = "/incidents/chain-rules", tag = "incidents", request_body = ChainRules,
    responses((status = 200, body = ChainRules), (status = 403, description = "`top_unit_only`", body = ErrorBody),
        (status = 422, description = "`first_hop_minutes: out_of_range`", body = ErrorBody)))]
async fn put_chain_rules(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<LeadIncidents>,
    ApiJson(rules): ApiJson<ChainRules>,
) -> ApiResult<Json<ChainRules>> {
    if !principal.top_of_tree {
        return Err(ApiError::forbidden("top_unit_only"));
    }
    Ok(Json(state.store().set_incident_chain_rules(&principal.actor(), rules).await?))
}

// ---- list and duplicates ----

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Unit code: the unit and everything beneath it.
    pub unit: Option<String>,
    pub grade: Option<String>,
    pub kind: Option<String>,
    /// `open` or `closed`.
    pub status: Option<String>,
    /// Occurred at or after (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Occurred before (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// Part of the title, number or place.
    pub q: Option<String>,
    /// Only incidents reported to the caller's unit and not yet acknowledged by it.
    #[serde(default)]
    pub awaiting: bool,
    /// From 1; default 1.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// 1 to 200; default 20.
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

/// Incidents in the caller's scope, newest first, with their clocks.
#[utoipa::path(get, path = "/incidents", tag = "incidents", params(ListParams),
    responses((status = 200, body = Page<Incident>), (status = 422, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadIncidents>,
    ApiQuery(q): ApiQuery<ListParams>,
) -> ApiResult<Json<Page<Incident>>> {
    let page = PageRequest::parse(q.page, q.per_page)?;
    let mut errors = ValidationErrors::new();
    let grade = q.grade.as_deref().filter(|g| !g.is_empty()).and_then(|g| {
        let grade = Grade::parse(g);
        if grade.is_none() {
            errors.add("grade", "invalid_value");
        }
        grade
    });
    let kind = match q.kind.as_deref().filter(|k| !k.is_empty()) {
        Some(k) => kind_of(&mut errors, k),
        None => None,
    };
    let status = q.status.filter(|s| !s.is_empty());
    if let Some(s) = &status
        && s != "open"
        && s != "closed"
    {
        errors.add("status", "invalid_value");
    }
    if let (Some(from), Some(to)) = (q.from, q.to)
        && to <= from
    {
        errors.add("to", "before_from");
    }
    let text = match q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => errors.check("q", plain_text(t, 64)),
        None => None,
    };
    errors.into_result()?;
    let unit_id = match q.unit.as_deref().filter(|u| !u.is_empty()) {
        Some(code) => Some(unit_of(&state, &principal, Some(code)).await?.id),
        None => None,
    };
    let filter = IncidentFilter {
        unit_id,
        grade,
        kind,
        status,
        from: q.from,
        to: q.to,
        text,
        awaiting_unit_id: q.awaiting.then(|| principal.unit.id.clone()),
    };
    let mut found = state.store().incidents(&principal.scope(), &filter, page).await?;
    found.items = found.items.into_iter().map(|i| view(&principal, i)).collect();
    Ok(Json(found))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DuplicateParams {
    pub kind: String,
    /// Unit code; the caller's unit when absent.
    pub unit: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
}

/// Open incidents a new report may repeat: the same kind, within 6 hours and 2 km (or at the
/// same unit when there is no point). The form asks before saving when there are any. Only
/// those who may read incidents see them: an enterprise may report, but not read the ledger.
#[utoipa::path(get, path = "/incidents/duplicates", tag = "incidents", params(DuplicateParams),
    responses((status = 200, body = Vec<DuplicateCandidate>), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn duplicates(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadIncidents>,
    ApiQuery(q): ApiQuery<DuplicateParams>,
) -> ApiResult<Json<Vec<DuplicateCandidate>>> {
    let mut errors = ValidationErrors::new();
    let kind = kind_of(&mut errors, &q.kind);
    let point = point(&mut errors, q.lon, q.lat);
    errors.clone().into_result()?;
    let Some(kind) = kind else { return Err(errors.into()) };
    let unit = unit_of(&state, &principal, q.unit.as_deref()).await?;
    Ok(Json(
        state
            .store()
            .possible_duplicates(&principal.scope(), kind, &unit.id, point, q.occurred_at)
            .await?,
    ))
}

// ---- intake ----

/// The 409 that asks before saving what may repeat an open incident. It names the candidates
/// only to those who may read incidents; a caller who may only report (an enterprise) learns
/// that there may be one, not which.
fn possible_duplicate(principal: &Principal, candidates: &[DuplicateCandidate]) -> ApiError {
    let error = ApiError::new(StatusCode::CONFLICT, "possible_duplicate");
    if !principal.can(Permission::ReadIncidents) {
        return error;
    }
    error.with_message(format!(
        "{} open incident(s) may be the same accident: {}",
        candidates.len(),
        candidates.iter().map(|c| c.number.as_str()).collect::<Vec<_>>().join(", ")
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIncident {
    /// From the taxonomy (`GET /incidents/taxonomy`), e.g. `hazardous_chemicals`.
    pub kind: String,
    pub title: String,
    /// Code of the unit where it happened; the caller's unit when absent.
    pub unit: Option<String>,
    pub occurred_at: DateTime<Utc>,
    /// When the desk received it; now when absent.
    pub reported_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub place: Option<String>,
    pub lon: Option<f64>,
    pub lat: Option<f64>,
    pub enterprise: Option<String>,
    #[serde(default)]
    pub deaths: i64,
    #[serde(default)]
    pub missing: i64,
    /// Including acute industrial poisoning.
    #[serde(default)]
    pub serious_injuries: i64,
    #[serde(default)]
    pub minor_injuries: i64,
    #[serde(default)]
    pub direct_loss_cny: i64,
    #[serde(default)]
    pub description: Option<String>,
    /// `phone` by default; `enterprise` for an enterprise's token.
    pub source: Option<Source>,
    pub reporter: Option<String>,
    pub reporter_phone: Option<String>,
    /// The duty-log entry (the call) it comes from.
    pub duty_log_id: Option<String>,
    /// Save although open incidents may be the same accident (the caller has seen them); the
    /// nearest is kept as `duplicate_of`.
    #[serde(default)]
    pub allow_duplicate: bool,
}

/// Registers an incident: graded from the facts, numbered, the hops its grade requires with
/// their clocks, and announced live to the consoles above. Refused with 409
/// `possible_duplicate` when open incidents may be the same accident, unless
/// `allow_duplicate`.
#[utoipa::path(post, path = "/incidents", tag = "incidents", request_body = CreateIncident,
    responses((status = 201, body = Incident),
        (status = 409, description = "`possible_duplicate`", body = ErrorBody),
        (status = 422, description = "`kind: unknown_kind`, `deaths: negative | too_large`, `occurred_at: in_future | after_reported`, `unit: not_found`…", body = ErrorBody)))]
async fn create(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReportIncident>,
    ApiJson(body): ApiJson<CreateIncident>,
) -> ApiResult<(StatusCode, Json<Incident>)> {
    let now = state.store().now();
    let mut errors = ValidationErrors::new();
    let kind = kind_of(&mut errors, &body.kind);
    let title = errors.check("title", plain_text(&body.title, 128));
    let reported_at = body.reported_at.unwrap_or(now);
    check_times(&mut errors, body.occurred_at, reported_at, now);
    let casualties = check_casualties(
        &mut errors,
        body.deaths,
        body.missing,
        body.serious_injuries,
        body.minor_injuries,
        body.direct_loss_cny,
    );
    let place = optional_text(&mut errors, "place", body.place.as_deref(), 256);
    let point = point(&mut errors, body.lon, body.lat);
    let enterprise = optional_text(&mut errors, "enterprise", body.enterprise.as_deref(), 128);
    let description = optional_text(&mut errors, "description", body.description.as_deref(), 8000);
    let reporter = optional_text(&mut errors, "reporter", body.reporter.as_deref(), 64);
    let reporter_phone = phone(&mut errors, body.reporter_phone.as_deref());
    if let Some(id) = &body.duty_log_id
        && !beacon_core::id::looks_like_id(id)
    {
        errors.add("duty_log_id", "not_found");
    }
    errors.clone().into_result()?;
    let (Some(kind), Some(title), Some(casualties)) = (kind, title, casualties) else {
        return Err(errors.into());
    };
    // The caller's own unit needs no lookup: the store checks the unit in any case.
    let unit_id = match body.unit.as_deref() {
        None => principal.unit.id.clone(),
        Some(code) => unit_of(&state, &principal, Some(code)).await?.id,
    };
    let scope = principal.scope();
    let candidates =
        state.store().possible_duplicates(&scope, kind, &unit_id, point, body.occurred_at).await?;
    if !candidates.is_empty() && !body.allow_duplicate {
        return Err(possible_duplicate(&principal, &candidates));
    }
    let default_source = if principal.roles.contains(&Role::Enterprise) {
        Source::Enterprise
    } else {
        Source::Phone
    };
    let registered = state
        .store()
        .register_incident(
            &scope,
            &principal.actor(),
            NewIncident {
                kind,
                title,
                unit_id,
                occurred_at: body.occurred_at,
                reported_at,
                place: place.unwrap_or_default(),
                point,
                enterprise,
                casualties,
                description: description.unwrap_or_default(),
                source: body.source.unwrap_or(default_source),
                reporter,
                reporter_phone,
                duty_log_id: body.duty_log_id,
                duplicate_of: candidates.first().map(|c| c.id.clone()),
            },
        )
        .await?;
    let incident = registered.incident;
    Ok((StatusCode::CREATED, Json(view(&principal, incident))))
}

/// An incident with its obligations as of now.
#[utoipa::path(get, path = "/incidents/{id}", tag = "incidents",
    responses((status = 200, body = Incident), (status = 404, body = ErrorBody)))]
async fn get_one(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadIncidents>,
    Path(id): Path<String>,
) -> ApiResult<Json<Incident>> {
    let id = check_id(&id)?;
    let incident = state.store().incident(&principal.scope(), &id).await?;
    Ok(Json(view(&principal, incident)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchIncident {
    /// The version read; a change made since is refused with 409 `stale_version`.
    pub version: Option<i64>,
    pub title: Option<String>,
    pub place: Option<String>,
    pub enterprise: Option<String>,
    pub description: Option<String>,
    pub deaths: Option<i64>,
    pub missing: Option<i64>,
    pub serious_injuries: Option<i64>,
    pub minor_injuries: Option<i64>,
    pub direct_loss_cny: Option<i64>,
    /// `blue`, `yellow`, `orange`, `red`, or null to clear.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<WarningColor>)]
    pub warning_color: Option<Option<WarningColor>>,
    /// `i` … `iv`, or null to clear.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<ResponseLevel>)]
    pub response_level: Option<Option<ResponseLevel>>,
}

/// Changes the facts of an open incident. A change of casualties or loss re-grades it, keeps
/// the change in the grade history and extends or shortens the chain.
#[utoipa::path(patch, path = "/incidents/{id}", tag = "incidents", request_body = PatchIncident,
    responses((status = 200, body = Incident), (status = 404, body = ErrorBody),
        (status = 409, description = "`stale_version`, `incident_closed`", body = ErrorBody),
        (status = 422, description = "`deaths: negative | too_large`…", body = ErrorBody)))]
async fn patch(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<HandleIncidents>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<PatchIncident>,
) -> ApiResult<Json<Incident>> {
    let id = check_id(&id)?;
    let scope = principal.scope();
    let before = state.store().incident(&scope, &id).await?;
    let mut errors = ValidationErrors::new();
    let title = match body.title.as_deref() {
        Some(t) => errors.check("title", plain_text(t, 128)),
        None => None,
    };
    let text = |errors: &mut ValidationErrors, field: &str, v: Option<&str>, max: usize| match v {
        Some(v) => errors.check(field, free_text(v, max)),
        None => None,
    };
    let place = text(&mut errors, "place", body.place.as_deref(), 256);
    let enterprise = text(&mut errors, "enterprise", body.enterprise.as_deref(), 128);
    let description = text(&mut errors, "description", body.description.as_deref(), 8000);
    let any_count = body.deaths.is_some()
        || body.missing.is_some()
        || body.serious_injuries.is_some()
        || body.minor_injuries.is_some()
        || body.direct_loss_cny.is_some();
    let casualties = check_casualties(
        &mut errors,
        body.deaths.unwrap_or(i64::from(before.deaths)),
        body.missing.unwrap_or(i64::from(before.missing)),
        body.serious_injuries.unwrap_or(i64::from(before.serious_injuries)),
        body.minor_injuries.unwrap_or(i64::from(before.minor_injuries)),
        body.direct_loss_cny
            .unwrap_or_else(|| i64::try_from(before.direct_loss_cny).unwrap_or(i64::MAX)),
    );
    errors.into_result()?;
    let (incident, _) = state
        .store()
        .change_incident_facts(
            &scope,
            &principal.actor(),
            &id,
            FactsChange {
                version: body.version.unwrap_or(before.version),
                title,
                place,
                enterprise,
                casualties: casualties.filter(|_| any_count),
                description,
                warning_color: body.warning_color,
                response_level: body.response_level,
            },
        )
        .await?;
    Ok(Json(view(&principal, incident)))
}

/// The grade history: every grade with the facts and axes that made it, and overrides.
#[utoipa::path(get, path = "/incidents/{id}/grades", tag = "incidents",
    responses((status = 200, body = Vec<GradeChange>), (status = 404, body = ErrorBody)))]
async fn grades(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadIncidents>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<GradeChange>>> {
    let id = check_id(&id)?;
    Ok(Json(state.store().incident_grades(&principal.scope(), &id).await?))
}

/// The incident's timeline: intake, fact changes, hops, overrides, overdue alerts, closing.
#[utoipa::path(get, path = "/incidents/{id}/timeline", tag = "incidents",
    responses((status = 200, body = Vec<TimelineEntry>), (status = 404, body = ErrorBody)))]
async fn timeline(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadIncidents>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<TimelineEntry>>> {
    let id = check_id(&id)?;
    state.store().incident(&principal.scope(), &id).await?;
    Ok(Json(state.store().timeline("incident", &id).await?))
}

fn hop_of(hop: &str) -> ApiResult<Hop> {
    Hop::parse(hop).ok_or_else(ApiError::not_found)
}

/// The addressee's duty desk acknowledges the report of a hop: the hop is done now.
#[utoipa::path(post, path = "/incidents/{id}/hops/{hop}/acknowledge", tag = "incidents",
    responses((status = 200, body = Incident),
        (status = 403, description = "`not_addressee`", body = ErrorBody),
        (status = 404, description = "No such incident or hop in the caller's scope", body = ErrorBody),
        (status = 409, description = "`already_done`", body = ErrorBody)))]
async fn acknowledge(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<HandleIncidents>,
    Path((id, hop)): Path<(String, String)>,
) -> ApiResult<Json<Incident>> {
    let id = check_id(&id)?;
    let hop = hop_of(&hop)?;
    let incident = state
        .store()
        .acknowledge_hop(&principal.scope(), &principal.actor(), &id, hop)
        .await
        .map_err(principal.refusal("incident", &id))?;
    Ok(Json(view(&principal, incident)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordHopBody {
    /// `phone`, `fax`, `system` or `other`.
    pub method: HopMethod,
    /// When it was sent; now when absent.
    pub at: Option<DateTime<Utc>>,
    pub note: Option<String>,
}

/// Records that the report of a hop to a level outside this deployment (the province, the
/// ministry) was sent, how and when.
#[utoipa::path(post, path = "/incidents/{id}/hops/{hop}", tag = "incidents", request_body = RecordHopBody,
    responses((status = 200, body = Incident),
        (status = 403, description = "`not_sender`", body = ErrorBody),
        (status = 404, description = "No such incident or hop in the caller's scope", body = ErrorBody),
        (status = 409, description = "`already_done`, `addressee_in_beacon`, `previous_hop_pending`", body = ErrorBody),
        (status = 422, description = "`at: in_future | before_previous`, `method: unknown`", body = ErrorBody)))]
async fn record_hop(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<HandleIncidents>,
    Path((id, hop)): Path<(String, String)>,
    ApiJson(body): ApiJson<RecordHopBody>,
) -> ApiResult<Json<Incident>> {
    let id = check_id(&id)?;
    let hop = hop_of(&hop)?;
    let mut errors = ValidationErrors::new();
    let note = optional_text(&mut errors, "note", body.note.as_deref(), 500);
    errors.into_result()?;
    let incident = state
        .store()
        .record_hop(
            &principal.scope(),
            &principal.actor(),
            &id,
            RecordHop {
                hop,
                method: body.method,
                at: body.at.unwrap_or(state.store().now()),
                note,
            },
        )
        .await
        .map_err(principal.refusal("incident", &id))?;
    Ok(Json(view(&principal, incident)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverrideGrade {
    /// The grade a leader sets; null returns to the computed grade.
    pub grade: Option<Grade>,
    pub reason: String,
}

/// A leader overrides the grade (or clears the override), with a reason. Both grades are kept
/// and the chain follows the grade in force.
#[utoipa::path(post, path = "/incidents/{id}/override", tag = "incidents", request_body = OverrideGrade,
    responses((status = 200, body = Incident), (status = 404, body = ErrorBody),
        (status = 409, description = "`incident_closed`", body = ErrorBody),
        (status = 422, description = "`reason: required`", body = ErrorBody)))]
async fn override_grade(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<LeadIncidents>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<OverrideGrade>,
) -> ApiResult<Json<Incident>> {
    let id = check_id(&id)?;
    let reason = plain_text(&body.reason, 500).map_err(|code| ApiError::field("reason", code))?;
    let incident = state
        .store()
        .override_incident_grade(&principal.scope(), &principal.actor(), &id, body.grade, &reason)
        .await?;
    Ok(Json(view(&principal, incident)))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseIncident {
    pub summary: String,
}

/// Closes an incident with a summary; refused while a hop is still to be done. Nothing is
/// deleted.
#[utoipa::path(post, path = "/incidents/{id}/close", tag = "incidents", request_body = CloseIncident,
    responses((status = 200, body = Incident), (status = 404, body = ErrorBody),
        (status = 409, description = "`hops_open`, `follow_up_pending`, `incident_closed`", body = ErrorBody),
        (status = 422, description = "`summary: required`", body = ErrorBody)))]
async fn close(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<HandleIncidents>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CloseIncident>,
) -> ApiResult<Json<Incident>> {
    let id = check_id(&id)?;
    let summary = match free_text(&body.summary, 4000) {
        Ok(s) if !s.is_empty() => s,
        Ok(_) => return Err(ApiError::field("summary", "required")),
        Err(code) => return Err(ApiError::field("summary", code)),
    };
    let incident =
        state.store().close_incident(&principal.scope(), &principal.actor(), &id, &summary).await?;
    Ok(Json(view(&principal, incident)))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(taxonomy))
        .routes(routes!(get_chain_rules, put_chain_rules))
        .routes(routes!(list, create))
        .routes(routes!(duplicates))
        .routes(routes!(get_one, patch))
        .routes(routes!(grades))
        .routes(routes!(timeline))
        .routes(routes!(acknowledge))
        .routes(routes!(record_hop))
        .routes(routes!(override_grade))
        .routes(routes!(close))
        .merge(draft::routes())
        .merge(report::routes())
        .merge(stats::routes())
}

// ---- workbench ----

/// Open incidents read for the cards (the most recent; the count is of all).
const OPEN_READ: u32 = 200;
/// A clock this close to its deadline shows as due soon.
const DUE_SOON_MINUTES: i64 = 30;

fn grade_level(grade: Grade) -> Level {
    match grade {
        Grade::Ordinary => Level::Info,
        Grade::RelativelySerious => Level::Warning,
        Grade::Serious | Grade::ParticularlySerious => Level::Danger,
    }
}

fn incident_item(incident: &Incident) -> Item {
    Item::new(format!("{} {}", incident.number, incident.title))
        .detail(incident.unit.name.clone())
        .at(incident.occurred_at)
        .level(grade_level(incident.grade))
        .tag(format!("grade:{}", incident.grade.as_str()))
        .link(format!("/incidents/{}", incident.id))
}

/// The incident desk's cards: incidents open in scope, reporting clocks running and overdue,
/// hops addressed to the caller's unit not yet acknowledged, reports waiting for the caller's
/// approval, and today's new incidents by grade.
pub(crate) fn workbench_cards<'a>(
    state: &'a AppState,
    principal: &'a Principal,
) -> BoxFuture<'a, ApiResult<Vec<Card>>> {
    Box::pin(async move {
        let mut cards = Vec::new();
        if !principal.can(Permission::ReadIncidents) {
            return Ok(cards);
        }
        let store = state.store();
        let now = store.now();
        let scope = principal.scope();
        let page = PageRequest { page: 1, per_page: OPEN_READ };
        let open = IncidentFilter { status: Some("open".to_owned()), ..Default::default() };
        let open = store.incidents(&scope, &open, page).await?;
        let items = open.items.iter().map(incident_item).collect();
        cards.push(Card::new("incident.open", open.total as i64, items));

        let mut clocks = Vec::new();
        let mut overdue = 0;
        for incident in &open.items {
            for duty in incident.obligations.iter().filter(|o| o.done_at.is_none()) {
                let Some(due) = duty.due_at else { continue };
                let late = now >= due;
                overdue += i64::from(late);
                let level = if late {
                    Level::Danger
                } else if due - now <= chrono::Duration::minutes(DUE_SOON_MINUTES) {
                    Level::Warning
                } else {
                    Level::Info
                };
                clocks.push(
                    Item::new(format!("{} {}", incident.number, incident.title))
                        .detail(incident.unit.name.clone())
                        .at(due)
                        .level(level)
                        .tag(format!("hop:{}", duty.hop.as_str()))
                        .tag(if late { "overdue" } else { "running" })
                        .link(format!("/incidents/{}", incident.id)),
                );
            }
        }
        clocks.sort_by_key(|c| c.at);
        let running = clocks.len() as i64;
        cards.push(
            Card::new("incident.clocks", running, clocks)
                .figure("overdue", overdue)
                .figure("running", running - overdue),
        );

        if principal.can(Permission::HandleIncidents) {
            let awaiting = IncidentFilter {
                status: Some("open".to_owned()),
                awaiting_unit_id: Some(principal.unit.id.clone()),
                ..Default::default()
            };
            let awaiting = store.incidents(&scope, &awaiting, page).await?;
            let items = awaiting
                .items
                .iter()
                .map(|i| incident_item(i).level(Level::Warning).tag("to_acknowledge"))
                .collect();
            cards.push(Card::new("incident.to_acknowledge", awaiting.total as i64, items));
        }

        if principal.can(Permission::LeadIncidents) {
            let reports = store.reports_awaiting_approval(&scope, &principal.unit.id).await?;
            let items = reports
                .iter()
                .map(|r| {
                    let mut item = Item::new(format!("{} {}", r.incident_number, r.incident_title))
                        .level(Level::Warning)
                        .tag(format!("report:{}", r.kind.as_str()))
                        .link(format!("/incidents/{}", r.incident_id));
                    if let Some(name) = &r.submitted_by_name {
                        item = item.detail(name.clone());
                    }
                    if let Some(at) = r.submitted_at {
                        item = item.at(at);
                    }
                    item
                })
                .collect();
            cards.push(Card::new("incident.reports_to_approve", reports.len() as i64, items));
        }

        let today =
            IncidentFilter { from: Some(local_midnight(local_date(now))), ..Default::default() };
        let today = store.incidents(&scope, &today, page).await?;
        let mut card = Card::new("incident.today", today.total as i64, Vec::new());
        for grade in Grade::ALL.iter().rev() {
            let n = today.items.iter().filter(|i| i.grade == *grade).count() as i64;
            card = card.figure(format!("grade:{}", grade.as_str()), n);
        }
        card.items = today.items.iter().take(crate::workbench::ITEMS).map(incident_item).collect();
        card.level = card.items.iter().map(|i| i.level).max().unwrap_or(Level::Ok);
        cards.push(card);
        Ok(cards)
    })
}
