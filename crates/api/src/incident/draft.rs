//! An incident proposed from a call: the form opens with what the duty-log entry says, fetched
//! by the entry's id (so nothing personal travels in a URL), with a short title, the kind its
//! category and words suggest and the unit it names.

use axum::Json;
use axum::extract::State;
use beacon_core::incident::draft::{kind_of_call, short_title, unit_named};
use beacon_core::incident::{IncidentKind, Source};
use beacon_core::org::Permission;
use beacon_core::scope::Scope;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::http::{ApiError, ApiQuery, ApiResult, ErrorBody};
use crate::org::auth::{Authorized, ReportIncident};
use crate::org::check_id;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DraftParams {
    /// The duty-log entry the incident comes from.
    pub from_log: String,
}

/// The form's proposal; the officer checks every field before registering.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentDraft {
    pub duty_log_id: String,
    /// The summary's first clause, short.
    pub title: String,
    /// The kind the call's category and words suggest; none when they do not say.
    pub kind: Option<IncidentKind>,
    /// The code of the unit the call names, else the desk's unit that took it.
    pub unit: String,
    pub place: String,
    pub reported_at: DateTime<Utc>,
    pub source: Source,
    pub reporter: String,
    pub reporter_phone: String,
    pub description: String,
}

/// Proposes an incident from a call in the duty log (the desk: registering needs the log).
#[utoipa::path(get, path = "/incidents/draft", tag = "incidents", params(DraftParams),
    responses((status = 200, body = IncidentDraft), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn draft(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReportIncident>,
    ApiQuery(q): ApiQuery<DraftParams>,
) -> ApiResult<Json<IncidentDraft>> {
    let id = check_id(&q.from_log).map_err(|_| ApiError::field("from_log", "invalid_format"))?;
    // Scope first: an entry outside it does not exist for the caller.
    let entry = state.store().duty_log_entry(&principal.scope(), &id).await?;
    if !principal.can(Permission::ReadDutyLog) {
        return Err(ApiError::forbidden("forbidden"));
    }
    let text = format!("{} {} {}", entry.place, entry.summary, entry.caller_unit);
    let units = state.store().list_units(&Scope::subtree(entry.unit_id.clone())).await?;
    let unit = unit_named(&text, &units, |u| u.name.as_str())
        .or_else(|| units.iter().find(|u| u.id == entry.unit_id))
        .map(|u| u.code.clone())
        .ok_or_else(ApiError::not_found)?;
    let description = [entry.summary.trim(), entry.actions.trim()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let source = match entry.channel.as_str() {
        "phone" | "sms" | "fax" | "radio" => Source::Phone,
        _ => Source::Other,
    };
    Ok(Json(IncidentDraft {
        duty_log_id: entry.id,
        title: short_title(&entry.summary),
        kind: kind_of_call(&entry.category, &format!("{} {}", entry.summary, entry.place)),
        unit,
        place: entry.place,
        reported_at: entry.received_at,
        source,
        reporter: entry.caller_name,
        reporter_phone: entry.caller_phone,
        description,
    }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(draft))
}
