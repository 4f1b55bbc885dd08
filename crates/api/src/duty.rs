//! The duty desk's API: settings and rules, rosters (generate, edit, publish, gaps), who is on
//! duty now, check-in, swaps, handover, the duty log, calendar feeds and Excel exports.

use crate::http::Path;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use beacon_core::clock::local_midnight;
use beacon_core::duty::{DutyRules, DutySettings, Gap, check_window};
use beacon_core::error::ValidationErrors;
use beacon_core::org::Permission;
use beacon_core::page::PageRequest;
use beacon_core::text::{free_text, plain_text};
use beacon_export::ical::{IcalEvent, calendar};
use beacon_export::{Cell, Ledger, ledger_xlsx};
use beacon_store::Page;
use beacon_store::duty::{
    DirectoryEntry, DutyFeed, DutyLeave, DutyLogEntry, DutyLogFilter, DutyLogWrite, DutyPeriod,
    DutyPerson, FeedTarget, Generation, Handover, HandoverWrite, NewLeave, NewPeriod, OnDuty,
    Shift, SlotAssignment, Swap, SwapBox, SwapDecision,
};
use beacon_store::timeline::TimelineEntry;
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::http::{ApiError, ApiJson, ApiQuery, ApiResult, ErrorBody};
use crate::http::{XLSX, download};
use crate::org::auth::{Authorized, ManageDuty, ReadDuty, ReadDutyLog, WriteDutyLog};
use crate::org::{Principal, check_id, unit_of};
use crate::password::{random_text, token_hash};
use crate::workbench::{Card, Item, Level};
use futures::future::BoxFuture;

/// An instant given as RFC 3339 or as a date (its Beijing midnight).
fn instant(errors: &mut ValidationErrors, field: &str, value: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(d) = value.parse::<NaiveDate>() {
        return Some(local_midnight(d));
    }
    errors.add(field, "invalid_time");
    None
}

fn window(from: &str, to: &str) -> ApiResult<(DateTime<Utc>, DateTime<Utc>)> {
    let mut errors = ValidationErrors::new();
    let from = instant(&mut errors, "from", from);
    let to = instant(&mut errors, "to", to);
    errors.clone().into_result()?;
    let (Some(from), Some(to)) = (from, to) else { return Err(errors.into()) };
    check_window(from, to).map_err(|code| ApiError::field("to", code))?;
    Ok((from, to))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitParam {
    /// Unit code; the caller's own unit when absent.
    pub unit: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WindowParams {
    /// Unit code; the caller's own unit when absent.
    pub unit: Option<String>,
    /// RFC 3339 instant or `YYYY-MM-DD` (Beijing midnight).
    pub from: String,
    /// RFC 3339 instant or `YYYY-MM-DD` (Beijing midnight); at most 366 days after `from`.
    pub to: String,
}

// ---- rules and settings ----

/// The staffing rules per unit level and which roles may fill which post.
#[utoipa::path(get, path = "/duty/rules", tag = "duty",
    responses((status = 200, body = DutyRules), (status = 403, body = ErrorBody)))]
async fn get_rules(
    State(state): State<AppState>,
    _auth: Authorized<ReadDuty>,
) -> ApiResult<Json<DutyRules>> {
    Ok(Json(state.store().duty_rules().await?))
}

/// Sets the staffing rules (a leader of the top unit: the rules hold for the whole city).
#[utoipa::path(put, path = "/duty/rules", tag = "duty", request_body = DutyRules,
    responses((status = 200, body = DutyRules), (status = 403, body = ErrorBody),
        (status = 422, description = "`eligibility.leader: leader_roles_only`, `staffing.city.min_staff: out_of_range`…", body = ErrorBody)))]
async fn put_rules(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageDuty>,
    ApiJson(rules): ApiJson<DutyRules>,
) -> ApiResult<Json<DutyRules>> {
    if !principal.top_of_tree {
        return Err(ApiError::forbidden("top_unit_only"));
    }
    Ok(Json(state.store().set_duty_rules(&principal.actor(), rules).await?))
}

/// A unit's duty settings: duty phone, shifts, posts, limits and reminders.
#[utoipa::path(get, path = "/duty/settings", tag = "duty", params(UnitParam),
    responses((status = 200, body = DutySettings), (status = 422, body = ErrorBody)))]
async fn get_settings(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDuty>,
    ApiQuery(q): ApiQuery<UnitParam>,
) -> ApiResult<Json<DutySettings>> {
    let unit = unit_of(&state, &principal, q.unit.as_deref()).await?;
    Ok(Json(state.store().duty_settings(&principal.scope(), &unit.id).await?))
}

/// Sets a unit's duty settings. The shifts must tile the day.
#[utoipa::path(put, path = "/duty/settings", tag = "duty", params(UnitParam), request_body = DutySettings,
    responses((status = 200, body = DutySettings),
        (status = 422, description = "`shifts: not_tiling_day`, `slots: leader_slot_required`…", body = ErrorBody)))]
async fn put_settings(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageDuty>,
    ApiQuery(q): ApiQuery<UnitParam>,
    ApiJson(settings): ApiJson<DutySettings>,
) -> ApiResult<Json<DutySettings>> {
    let unit = unit_of(&state, &principal, q.unit.as_deref()).await?;
    let saved = state
        .store()
        .set_duty_settings(&principal.scope(), &principal.actor(), &unit.id, settings)
        .await?;
    Ok(Json(saved))
}

/// The people of a unit who can be put on its roster, with their roles.
#[utoipa::path(get, path = "/duty/people", tag = "duty", params(UnitParam),
    responses((status = 200, body = Vec<DutyPerson>)))]
async fn people(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDuty>,
    ApiQuery(q): ApiQuery<UnitParam>,
) -> ApiResult<Json<Vec<DutyPerson>>> {
    let unit = unit_of(&state, &principal, q.unit.as_deref()).await?;
    Ok(Json(state.store().duty_people(&principal.scope(), &unit.id).await?))
}

// ---- reinforced periods and leave ----

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreatePeriod {
    /// Unit code; applies to the unit and every unit beneath it.
    pub unit: String,
    pub name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub leaders: u8,
    pub min_staff: u8,
    #[serde(default)]
    pub leader_on_site: bool,
}

/// Reinforced periods (重要时段) that apply to a unit in a window.
#[utoipa::path(get, path = "/duty/periods", tag = "duty", params(WindowParams),
    responses((status = 200, body = Vec<DutyPeriod>)))]
async fn list_periods(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDuty>,
    ApiQuery(q): ApiQuery<WindowParams>,
) -> ApiResult<Json<Vec<DutyPeriod>>> {
    let (from, to) = window(&q.from, &q.to)?;
    let unit = unit_of(&state, &principal, q.unit.as_deref()).await?;
    Ok(Json(state.store().duty_periods(&principal.scope(), &unit.id, from, to).await?))
}

/// Declares a reinforced period with stricter staffing, which the gap check applies.
#[utoipa::path(post, path = "/duty/periods", tag = "duty", request_body = CreatePeriod,
    responses((status = 201, body = DutyPeriod), (status = 422, body = ErrorBody)))]
async fn create_period(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageDuty>,
    ApiJson(body): ApiJson<CreatePeriod>,
) -> ApiResult<(StatusCode, Json<DutyPeriod>)> {
    let mut errors = ValidationErrors::new();
    let name = errors.check("name", plain_text(&body.name, 64));
    if let Err(code) = check_window(body.starts_at, body.ends_at) {
        errors.add("ends_at", code);
    }
    if !(1..=5).contains(&body.leaders) {
        errors.add("leaders", "out_of_range");
    }
    if body.min_staff > 30 {
        errors.add("min_staff", "out_of_range");
    }
    errors.clone().into_result()?;
    let unit = unit_of(&state, &principal, Some(&body.unit)).await?;
    let Some(name) = name else { return Err(errors.into()) };
    let period = state
        .store()
        .create_duty_period(
            &principal.scope(),
            &principal.actor(),
            NewPeriod {
                unit_id: unit.id,
                name,
                starts_at: body.starts_at,
                ends_at: body.ends_at,
                leaders: body.leaders,
                min_staff: body.min_staff,
                leader_on_site: body.leader_on_site,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(period)))
}

#[utoipa::path(delete, path = "/duty/periods/{id}", tag = "duty",
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_period(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageDuty>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = check_id(&id)?;
    state.store().delete_duty_period(&principal.scope(), &principal.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLeave {
    pub user_id: String,
    /// `leave` or `unavailable`.
    pub kind: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Leave and unavailability of a unit's people in a window.
#[utoipa::path(get, path = "/duty/leaves", tag = "duty", params(WindowParams),
    responses((status = 200, body = Vec<DutyLeave>)))]
async fn list_leaves(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDuty>,
    ApiQuery(q): ApiQuery<WindowParams>,
) -> ApiResult<Json<Vec<DutyLeave>>> {
    let (from, to) = window(&q.from, &q.to)?;
    let unit = unit_of(&state, &principal, q.unit.as_deref()).await?;
    Ok(Json(state.store().duty_leaves(&principal.scope(), &unit.id, from, to).await?))
}

/// Records leave; generation skips the person and the gap check flags shifts that clash.
#[utoipa::path(post, path = "/duty/leaves", tag = "duty", request_body = CreateLeave,
    responses((status = 201, body = DutyLeave), (status = 422, body = ErrorBody)))]
async fn create_leave(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageDuty>,
    ApiJson(body): ApiJson<CreateLeave>,
) -> ApiResult<(StatusCode, Json<DutyLeave>)> {
    let mut errors = ValidationErrors::new();
    if !["leave", "unavailable"].contains(&body.kind.as_str()) {
        errors.add("kind", "unknown");
    }
    if let Err(code) = check_window(body.starts_at, body.ends_at) {
        errors.add("ends_at", code);
    }
    if !beacon_core::id::looks_like_id(&body.user_id) {
        errors.add("user_id", "not_found");
    }
    let note = match body.note.as_deref().map(|n| free_text(n, 500)) {
        Some(Ok(n)) if !n.is_empty() => Some(n),
        Some(Err(code)) => {
            errors.add("note", code);
            None
        }
        _ => None,
    };
    errors.into_result()?;
    let leave = state
        .store()
        .create_duty_leave(
            &principal.scope(),
            &principal.actor(),
            NewLeave {
                user_id: body.user_id,
                kind: body.kind,
                starts_at: body.starts_at,
                ends_at: body.ends_at,
                note,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(leave)))
}

#[utoipa::path(delete, path = "/duty/leaves/{id}", tag = "duty",
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn delete_leave(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageDuty>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = check_id(&id)?;
    state.store().delete_duty_leave(&principal.scope(), &principal.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ---- roster ----

/// A unit's shifts overlapping a window, drafts included, with the people on them.
#[utoipa::path(get, path = "/duty/shifts", tag = "duty", params(WindowParams),
    responses((status = 200, body = Vec<Shift>), (status = 422, body = ErrorBody)))]
async fn list_shifts(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDuty>,
    ApiQuery(q): ApiQuery<WindowParams>,
) -> ApiResult<Json<Vec<Shift>>> {
    let (from, to) = window(&q.from, &q.to)?;
    let unit = unit_of(&state, &principal, q.unit.as_deref()).await?;
    Ok(Json(state.store().duty_shifts(&principal.scope(), &unit.id, from, to).await?))
}

#[utoipa::path(get, path = "/duty/shifts/{id}", tag = "duty",
    responses((status = 200, body = Shift), (status = 404, body = ErrorBody)))]
async fn get_shift(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDuty>,
    Path(id): Path<String>,
) -> ApiResult<Json<Shift>> {
    let id = check_id(&id)?;
    Ok(Json(state.store().duty_shift(&principal.scope(), &id).await?))
}

/// The shift's history: changes to its people, swaps, check-ins, log entries, handover.
#[utoipa::path(get, path = "/duty/shifts/{id}/history", tag = "duty",
    responses((status = 200, body = Vec<TimelineEntry>), (status = 404, body = ErrorBody)))]
async fn shift_history(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDuty>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<TimelineEntry>>> {
    let id = check_id(&id)?;
    state.store().duty_shift(&principal.scope(), &id).await?;
    Ok(Json(state.store().timeline("duty_shift", &id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPeople {
    pub people: Vec<SlotAssignment>,
}

/// Puts people on a shift's posts (replacing who was there). On a published shift the change
/// is kept in its history and the people concerned are told.
#[utoipa::path(put, path = "/duty/shifts/{id}/people", tag = "duty", request_body = SetPeople,
    responses((status = 200, body = Shift), (status = 409, body = ErrorBody),
        (status = 422, description = "`people.0.user_id: leader_role_required | not_eligible | on_leave | overlapping_shift | not_in_unit | duplicate`, `people.0.slot_key: unknown_slot`", body = ErrorBody)))]
async fn set_people(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageDuty>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<SetPeople>,
) -> ApiResult<Json<Shift>> {
    let id = check_id(&id)?;
    let (shift, _) = state
        .store()
        .set_shift_people(
            &principal.scope(),
            &principal.actor(),
            state.mail_enabled(),
            &id,
            body.people,
        )
        .await?;
    Ok(Json(shift))
}

/// Removes a draft shift.
#[utoipa::path(delete, path = "/duty/shifts/{id}", tag = "duty",
    responses((status = 204), (status = 409, description = "`shift_published`", body = ErrorBody)))]
async fn delete_shift(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageDuty>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = check_id(&id)?;
    state.store().delete_draft_shift(&principal.scope(), &principal.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateRoster {
    /// Unit code.
    pub unit: String,
    pub from: NaiveDate,
    /// Inclusive; at most 366 days from `from`.
    pub to: NaiveDate,
    /// Remove the period's drafts first (published shifts are never touched).
    #[serde(default)]
    pub replace_drafts: bool,
}

/// Generates draft shifts for a period by a fair rotation over the unit's eligible people.
#[utoipa::path(post, path = "/duty/roster/generate", tag = "duty", request_body = GenerateRoster,
    responses((status = 200, body = Generation),
        (status = 422, description = "`to: period_too_long | before_start`, `unit: not_found`", body = ErrorBody)))]
async fn generate(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageDuty>,
    ApiJson(body): ApiJson<GenerateRoster>,
) -> ApiResult<Json<Generation>> {
    beacon_core::duty::check_period(body.from, body.to)
        .map_err(|code| ApiError::field("to", code))?;
    let unit = unit_of(&state, &principal, Some(&body.unit)).await?;
    let calendar = state.calendar().await?;
    let result = state
        .store()
        .generate_roster(
            &principal.scope(),
            &principal.actor(),
            &unit.id,
            body.from,
            body.to,
            body.replace_drafts,
            &calendar,
        )
        .await?;
    Ok(Json(result))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishRoster {
    pub unit: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Publish although the gap check found gaps (recorded in the audit trail).
    #[serde(default)]
    pub acknowledge_gaps: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Published {
    pub shifts_published: usize,
    pub people_notified: usize,
}

/// Publishes the drafts of a period: everyone on them is told, reminders and check-in clocks
/// start. Refused with `roster_has_gaps` while gaps remain unless acknowledged.
#[utoipa::path(post, path = "/duty/roster/publish", tag = "duty", request_body = PublishRoster,
    responses((status = 200, body = Published),
        (status = 409, description = "`roster_has_gaps`, `nothing_to_publish`", body = ErrorBody)))]
async fn publish(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageDuty>,
    ApiJson(body): ApiJson<PublishRoster>,
) -> ApiResult<Json<Published>> {
    beacon_core::duty::check_period(body.from, body.to)
        .map_err(|code| ApiError::field("to", code))?;
    let unit = unit_of(&state, &principal, Some(&body.unit)).await?;
    let (n, deliveries) = state
        .store()
        .publish_roster(
            &principal.scope(),
            &principal.actor(),
            state.mail_enabled(),
            &unit.id,
            body.from,
            body.to,
            body.acknowledge_gaps,
        )
        .await?;
    let notified = deliveries.len();
    Ok(Json(Published { shifts_published: n, people_notified: notified }))
}

/// Every moment in the window without a shift, without a leader or below the minimum staff,
/// and every person on overlapping shifts, on duty while on leave or on too many shifts in a
/// row, each with its exact start and end.
#[utoipa::path(get, path = "/duty/gaps", tag = "duty", params(WindowParams),
    responses((status = 200, body = Vec<Gap>),
        (status = 422, description = "`unit: not_found`, `to: period_too_long`", body = ErrorBody)))]
async fn gaps(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDuty>,
    ApiQuery(q): ApiQuery<WindowParams>,
) -> ApiResult<Json<Vec<Gap>>> {
    let (from, to) = window(&q.from, &q.to)?;
    let unit = unit_of(&state, &principal, q.unit.as_deref()).await?;
    Ok(Json(state.store().duty_gaps(&principal.scope(), &unit.id, from, to).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NowParams {
    pub unit: Option<String>,
    /// Also the units directly beneath.
    #[serde(default)]
    pub children: bool,
}

/// Who is on duty now, with phones and the shift's start and end.
#[utoipa::path(get, path = "/duty/now", tag = "duty", params(NowParams),
    responses((status = 200, body = Vec<OnDuty>), (status = 422, body = ErrorBody)))]
async fn now(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDuty>,
    ApiQuery(q): ApiQuery<NowParams>,
) -> ApiResult<Json<Vec<OnDuty>>> {
    let unit = unit_of(&state, &principal, q.unit.as_deref()).await?;
    Ok(Json(state.store().duty_now(&principal.scope(), &unit.id, q.children).await?))
}

/// Every unit's published duty phone (值班电话), for anyone signed in.
#[utoipa::path(get, path = "/duty/directory", tag = "duty",
    responses((status = 200, body = Vec<DirectoryEntry>)))]
async fn directory(
    State(state): State<AppState>,
    _principal: Principal,
) -> ApiResult<Json<Vec<DirectoryEntry>>> {
    Ok(Json(state.store().duty_directory().await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MineParams {
    /// RFC 3339 or `YYYY-MM-DD`; default: now.
    pub from: Option<String>,
    /// Default: 60 days after `from`.
    pub to: Option<String>,
}

/// The caller's own published shifts (in any unit), with everyone on them.
#[utoipa::path(get, path = "/duty/mine", tag = "duty", params(MineParams),
    responses((status = 200, body = Vec<Shift>), (status = 422, body = ErrorBody)))]
async fn mine(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDuty>,
    ApiQuery(q): ApiQuery<MineParams>,
) -> ApiResult<Json<Vec<Shift>>> {
    let now = state.store().now();
    let from_text = q.from.unwrap_or_else(|| now.to_rfc3339());
    let mut errors = ValidationErrors::new();
    let from = instant(&mut errors, "from", &from_text);
    errors.clone().into_result()?;
    let from = from.unwrap_or(now);
    let to = match q.to.as_deref() {
        Some(t) => window(&from_text, t)?.1,
        None => from + Duration::days(60),
    };
    let me = principal.user_id.clone().unwrap_or_default();
    Ok(Json(state.store().shifts_of_user(&me, from, to).await?))
}

/// Checks the caller in on their post (到岗签到), from 30 minutes before the shift to its end.
#[utoipa::path(post, path = "/duty/assignments/{id}/check-in", tag = "duty",
    responses((status = 200, body = Shift),
        (status = 409, description = "`check_in_not_open`, `shift_over`, `shift_not_published`", body = ErrorBody)))]
async fn check_in(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Shift>> {
    let id = check_id(&id)?;
    let shift = state.store().check_in(&principal.actor(), &id).await?;
    Ok(Json(shift))
}

/// A month's roster as an Excel sheet in the layout offices post on the wall: dates down,
/// posts across.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthParams {
    pub unit: Option<String>,
    /// `YYYY-MM`
    pub month: String,
    /// `en` for English headers.
    pub lang: Option<String>,
}

#[utoipa::path(get, path = "/duty/roster.xlsx", tag = "duty", params(MonthParams),
    responses((status = 200, description = "Excel workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 422, body = ErrorBody)))]
async fn roster_xlsx(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDuty>,
    ApiQuery(q): ApiQuery<MonthParams>,
) -> ApiResult<Response> {
    let first = NaiveDate::parse_from_str(&format!("{}-01", q.month), "%Y-%m-%d")
        .map_err(|_| ApiError::field("month", "invalid"))?;
    let next = first
        .checked_add_months(chrono::Months::new(1))
        .ok_or_else(|| ApiError::field("month", "invalid"))?;
    let unit = unit_of(&state, &principal, q.unit.as_deref()).await?;
    let scope = principal.scope();
    let settings = state.store().duty_settings(&scope, &unit.id).await?;
    let shifts = state
        .store()
        .duty_shifts(&scope, &unit.id, local_midnight(first), local_midnight(next))
        .await?;
    let english = q.lang.as_deref() == Some("en");
    let weekdays_zh = ["一", "二", "三", "四", "五", "六", "日"];
    let weekdays_en = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let mut headers: Vec<&str> =
        if english { vec!["Date", "Day", "Shift"] } else { vec!["日期", "星期", "班次"] };
    headers.extend(settings.slots.iter().map(|s| s.name.as_str()));
    headers.push(if english { "Status" } else { "状态" });
    let rows = shifts
        .iter()
        .filter(|s| s.date >= first && s.date < next)
        .map(|s| {
            let day = s.date.weekday().num_days_from_monday() as usize;
            let mut row = vec![
                Cell::from(s.date.format("%Y-%m-%d").to_string()),
                Cell::from(if english { weekdays_en[day] } else { weekdays_zh[day] }),
                Cell::from(s.shift_name.clone()),
            ];
            for slot in &settings.slots {
                let names: Vec<&str> = s
                    .people
                    .iter()
                    .filter(|p| p.slot_key == slot.key)
                    .map(|p| p.display_name.as_str())
                    .collect();
                row.push(Cell::from(names.join("、")));
            }
            let status = match (s.status.as_str(), english) {
                ("published", false) => "已发布",
                ("published", true) => "published",
                (_, false) => "草稿",
                (_, true) => "draft",
            };
            row.push(Cell::from(status));
            row
        })
        .collect();
    let title = if english {
        format!(
            "{} duty roster {} (duty phone {})",
            unit.name,
            q.month,
            settings.duty_phone.clone().unwrap_or_default()
        )
    } else {
        format!(
            "{}{}值班表（值班电话：{}）",
            unit.name,
            q.month,
            settings.duty_phone.clone().unwrap_or_default()
        )
    };
    let bytes = ledger_xlsx(&Ledger {
        sheet: if english { "Roster" } else { "值班表" },
        title: &title,
        headers: &headers,
        rows,
    })
    .map_err(ApiError::internal)?;
    Ok(download(&format!("roster-{}-{}.xlsx", unit.code, q.month), XLSX, bytes))
}

// ---- swaps ----

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SwapParams {
    /// `mine` (asked by or of me; the default), `approval` (waiting for a leader), `all`.
    pub r#box: Option<String>,
}

#[utoipa::path(get, path = "/duty/swaps", tag = "duty", params(SwapParams),
    responses((status = 200, body = Vec<Swap>), (status = 422, body = ErrorBody)))]
async fn list_swaps(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDuty>,
    ApiQuery(q): ApiQuery<SwapParams>,
) -> ApiResult<Json<Vec<Swap>>> {
    let which = match q.r#box.as_deref() {
        None | Some("mine") => SwapBox::Mine,
        Some("approval") => SwapBox::Approval,
        Some("all") => SwapBox::All,
        Some(_) => return Err(ApiError::field("box", "unknown")),
    };
    if which != SwapBox::Mine {
        principal.require(Permission::ManageDuty)?;
    }
    let me = principal.user_id.clone().unwrap_or_default();
    Ok(Json(state.store().swaps(&principal.scope(), &me, which).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestSwap {
    /// The caller's own post to give away.
    pub assignment_id: String,
    /// The colleague asked.
    pub target_user_id: String,
    /// The colleague's post taken in exchange (a swap); absent for cover.
    #[serde(default)]
    pub target_assignment_id: Option<String>,
    #[serde(default)]
    pub reason: String,
}

/// Asks a colleague to take one's shift (cover) or to trade (swap).
#[utoipa::path(post, path = "/duty/swaps", tag = "duty", request_body = RequestSwap,
    responses((status = 201, body = Swap),
        (status = 404, description = "`not_found`: no such assignment in the caller's scope", body = ErrorBody),
        (status = 409, description = "`swap_pending`, `shift_started`", body = ErrorBody),
        (status = 422, description = "`target_user_id: not_eligible | leader_role_required | on_leave | overlapping_shift | not_in_unit | same_person | already_on_shift`", body = ErrorBody)))]
async fn request_swap(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDuty>,
    ApiJson(body): ApiJson<RequestSwap>,
) -> ApiResult<(StatusCode, Json<Swap>)> {
    let mut errors = ValidationErrors::new();
    let assignment_id = check_id(&body.assignment_id)?;
    if !beacon_core::id::looks_like_id(&body.target_user_id) {
        errors.add("target_user_id", "not_in_unit");
    }
    if body.target_assignment_id.as_deref().is_some_and(|a| !beacon_core::id::looks_like_id(a)) {
        errors.add("target_assignment_id", "not_swappable");
    }
    let reason = errors.check("reason", free_text(&body.reason, 500)).unwrap_or_default();
    errors.into_result()?;
    let (swap, _) = state
        .store()
        .request_swap(
            &principal.scope(),
            &principal.actor(),
            state.mail_enabled(),
            &assignment_id,
            &body.target_user_id,
            body.target_assignment_id.as_deref(),
            &reason,
        )
        .await
        .map_err(principal.refusal("duty_swap", &assignment_id))?;
    Ok((StatusCode::CREATED, Json(swap)))
}

/// Moves a swap along: `accept` / `decline` (the colleague asked), `cancel` (who asked),
/// `approve` / `reject` (a leader of the unit who is neither). Approval re-checks the rules and
/// changes the roster.
#[utoipa::path(post, path = "/duty/swaps/{id}/{decision}", tag = "duty",
    params(("id" = String, Path), ("decision" = String, Path, description = "accept, decline, cancel, approve or reject")),
    responses((status = 200, body = Swap), (status = 403, body = ErrorBody),
        (status = 409, description = "`swap_not_open`", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn decide_swap(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDuty>,
    Path((id, decision)): Path<(String, String)>,
) -> ApiResult<Json<Swap>> {
    let id = check_id(&id)?;
    let decision = match decision.as_str() {
        "accept" => SwapDecision::Accept,
        "decline" => SwapDecision::Decline,
        "cancel" => SwapDecision::Cancel,
        "approve" => SwapDecision::Approve,
        "reject" => SwapDecision::Reject,
        _ => return Err(ApiError::not_found()),
    };
    let may_approve = principal.can(Permission::ManageDuty);
    let (swap, _) = state
        .store()
        .decide_swap(
            &principal.scope(),
            &principal.actor(),
            may_approve,
            state.mail_enabled(),
            &id,
            decision,
        )
        .await
        .map_err(principal.refusal("duty_swap", &id))?;
    Ok(Json(swap))
}

// ---- handover ----

#[derive(Debug, Serialize, ToSchema)]
pub struct HandoverView {
    pub handover: Option<Handover>,
    /// Duty-log entries of the unit still marked for follow-up, to carry into the handover.
    pub open_log: Vec<DutyLogEntry>,
}

#[utoipa::path(get, path = "/duty/shifts/{id}/handover", tag = "duty",
    responses((status = 200, body = HandoverView), (status = 404, body = ErrorBody)))]
async fn get_handover(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDuty>,
    Path(id): Path<String>,
) -> ApiResult<Json<HandoverView>> {
    let id = check_id(&id)?;
    let scope = principal.scope();
    let shift = state.store().duty_shift(&scope, &id).await?;
    let handover = state.store().handover(&scope, &id).await?;
    let open_log = if principal.can(Permission::ReadDutyLog) {
        let filter = DutyLogFilter {
            unit_id: Some(shift.unit_id.clone()),
            follow_up: Some(true),
            ..DutyLogFilter::default()
        };
        state.store().duty_log(&scope, &filter, PageRequest { page: 1, per_page: 50 }).await?.items
    } else {
        Vec::new()
    };
    Ok(Json(HandoverView { handover, open_log }))
}

/// The outgoing shift writes what is still open (someone on the shift, once it has begun).
#[utoipa::path(put, path = "/duty/shifts/{id}/handover", tag = "duty", request_body = HandoverWrite,
    responses((status = 200, body = Handover), (status = 403, description = "`not_on_shift`", body = ErrorBody),
        (status = 409, description = "`handover_acknowledged`, `shift_not_started`", body = ErrorBody)))]
async fn put_handover(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDuty>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<HandoverWrite>,
) -> ApiResult<Json<Handover>> {
    let id = check_id(&id)?;
    let body = body.validate()?;
    let (handover, _) = state
        .store()
        .write_handover(&principal.scope(), &principal.actor(), state.mail_enabled(), &id, body)
        .await
        .map_err(principal.refusal("duty_shift", &id))?;
    Ok(Json(handover))
}

/// The incoming shift acknowledges the handover; the outgoing shift is closed.
#[utoipa::path(post, path = "/duty/shifts/{id}/handover/acknowledge", tag = "duty",
    responses((status = 200, body = Handover), (status = 403, description = "`not_on_next_shift`, `own_handover`", body = ErrorBody),
        (status = 409, description = "`handover_missing`, `handover_acknowledged`, `no_next_shift`", body = ErrorBody)))]
async fn acknowledge_handover(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDuty>,
    Path(id): Path<String>,
) -> ApiResult<Json<Handover>> {
    let id = check_id(&id)?;
    let handover = state
        .store()
        .acknowledge_handover(&principal.scope(), &principal.actor(), &id)
        .await
        .map_err(principal.refusal("duty_shift", &id))?;
    Ok(Json(handover))
}

// ---- duty log ----

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    /// Unit code: that unit and everything beneath it.
    pub unit: Option<String>,
    pub shift: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub category: Option<String>,
    pub follow_up: Option<bool>,
    /// Words in the summary, caller, caller's unit or place.
    pub q: Option<String>,
    /// From 1; default 1.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// 1 to 200; default 20.
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
    pub lang: Option<String>,
}

async fn log_filter(
    state: &AppState,
    principal: &Principal,
    q: &LogParams,
) -> ApiResult<DutyLogFilter> {
    let mut errors = ValidationErrors::new();
    let from = q.from.as_deref().and_then(|v| instant(&mut errors, "from", v));
    let to = q.to.as_deref().and_then(|v| instant(&mut errors, "to", v));
    if q.shift.as_deref().is_some_and(|s| !beacon_core::id::looks_like_id(s)) {
        errors.add("shift", "invalid");
    }
    if q.category.as_deref().is_some_and(|c| !beacon_store::duty::LOG_CATEGORIES.contains(&c)) {
        errors.add("category", "unknown");
    }
    if q.q.as_deref().is_some_and(|s| s.chars().count() > 100) {
        errors.add("q", "too_long");
    }
    errors.into_result()?;
    let unit_id = match q.unit.as_deref() {
        Some(code) => Some(unit_of(state, principal, Some(code)).await?.id),
        None => None,
    };
    Ok(DutyLogFilter {
        unit_id,
        shift_id: q.shift.clone(),
        from,
        to,
        category: q.category.clone(),
        follow_up: q.follow_up,
        q: q.q.clone(),
    })
}

#[utoipa::path(get, path = "/duty/log", tag = "duty", params(LogParams),
    responses((status = 200, body = Page<DutyLogEntry>), (status = 422, body = ErrorBody)))]
async fn list_log(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDutyLog>,
    ApiQuery(q): ApiQuery<LogParams>,
) -> ApiResult<Json<Page<DutyLogEntry>>> {
    let page = PageRequest::parse(q.page, q.per_page)?;
    let filter = log_filter(&state, &principal, &q).await?;
    Ok(Json(state.store().duty_log(&principal.scope(), &filter, page).await?))
}

#[utoipa::path(get, path = "/duty/log/{id}", tag = "duty",
    responses((status = 200, body = DutyLogEntry), (status = 404, body = ErrorBody)))]
async fn get_log(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDutyLog>,
    Path(id): Path<String>,
) -> ApiResult<Json<DutyLogEntry>> {
    let id = check_id(&id)?;
    Ok(Json(state.store().duty_log_entry(&principal.scope(), &id).await?))
}

// The fields of `DutyLogWrite` and the unit, spelled out rather than `#[serde(flatten)]`: serde
// cannot refuse unknown fields through a flattened struct, and its errors inside one lose the
// field's name.
/// A new duty-log entry.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLogEntry {
    /// Unit code; the caller's unit when absent.
    #[serde(default)]
    pub unit: Option<String>,
    pub received_at: DateTime<Utc>,
    pub channel: String,
    pub category: String,
    #[serde(default)]
    pub caller_name: String,
    #[serde(default)]
    pub caller_unit: String,
    #[serde(default)]
    pub caller_phone: String,
    #[serde(default)]
    pub place: String,
    pub summary: String,
    #[serde(default)]
    pub actions: String,
    #[serde(default)]
    pub instructions: String,
    /// Still needs following up (shown in the handover).
    #[serde(default)]
    pub follow_up: bool,
}

impl CreateLogEntry {
    fn into_parts(self) -> (Option<String>, DutyLogWrite) {
        let entry = DutyLogWrite {
            received_at: self.received_at,
            channel: self.channel,
            category: self.category,
            caller_name: self.caller_name,
            caller_unit: self.caller_unit,
            caller_phone: self.caller_phone,
            place: self.place,
            summary: self.summary,
            actions: self.actions,
            instructions: self.instructions,
            follow_up: self.follow_up,
        };
        (self.unit, entry)
    }
}

/// Records a call or message received (接报).
#[utoipa::path(post, path = "/duty/log", tag = "duty", request_body = CreateLogEntry,
    responses((status = 201, body = DutyLogEntry),
        (status = 422, description = "`summary: required`, `received_at: in_future`, `caller_phone: invalid_format`, `category: unknown`…", body = ErrorBody)))]
async fn create_log(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<WriteDutyLog>,
    ApiJson(body): ApiJson<CreateLogEntry>,
) -> ApiResult<(StatusCode, Json<DutyLogEntry>)> {
    let (unit, entry) = body.into_parts();
    let unit = unit_of(&state, &principal, unit.as_deref()).await?;
    let entry = state
        .store()
        .create_duty_log(&principal.scope(), &principal.actor(), &unit.id, entry)
        .await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

/// Rewrites an entry (every field is sent).
#[utoipa::path(put, path = "/duty/log/{id}", tag = "duty", request_body = DutyLogWrite,
    responses((status = 200, body = DutyLogEntry), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_log(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<WriteDutyLog>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DutyLogWrite>,
) -> ApiResult<Json<DutyLogEntry>> {
    let id = check_id(&id)?;
    Ok(Json(
        state.store().update_duty_log(&principal.scope(), &principal.actor(), &id, body).await?,
    ))
}

const LOG_EXPORT_LIMIT: u32 = 200;

/// The duty log of a period as an Excel ledger.
#[utoipa::path(get, path = "/duty/log.xlsx", tag = "duty", params(LogParams),
    responses((status = 200, description = "Excel workbook", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 422, body = ErrorBody)))]
async fn log_xlsx(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDutyLog>,
    ApiQuery(q): ApiQuery<LogParams>,
) -> ApiResult<Response> {
    let filter = log_filter(&state, &principal, &q).await?;
    let mut rows = Vec::new();
    let mut page = 1;
    // At most 50 pages of 200: 10,000 entries, far more than a period's calls.
    while page <= 50 {
        let chunk = state
            .store()
            .duty_log(&principal.scope(), &filter, PageRequest { page, per_page: LOG_EXPORT_LIMIT })
            .await?;
        let done = chunk.items.len() < LOG_EXPORT_LIMIT as usize;
        rows.extend(chunk.items.into_iter().map(|e| {
            vec![
                Cell::Time(e.received_at),
                Cell::from(e.unit_name),
                Cell::from(e.channel),
                Cell::from(e.category),
                Cell::from(e.caller_name),
                Cell::from(e.caller_unit),
                Cell::from(e.caller_phone),
                Cell::from(e.place),
                Cell::from(e.summary),
                Cell::from(e.actions),
                Cell::from(e.instructions),
                Cell::from(e.recorded_by_name),
            ]
        }));
        if done {
            break;
        }
        page += 1;
    }
    let english = q.lang.as_deref() == Some("en");
    let headers: &[&str] = if english {
        &[
            "Received",
            "Unit",
            "Channel",
            "Type",
            "Caller",
            "Caller's unit",
            "Phone",
            "Place",
            "Summary",
            "Actions",
            "Instructions",
            "Recorded by",
        ]
    } else {
        &[
            "接报时间",
            "单位",
            "方式",
            "类别",
            "来电人",
            "来电单位",
            "电话",
            "地点",
            "内容摘要",
            "处置情况",
            "领导批示",
            "记录人",
        ]
    };
    let bytes = ledger_xlsx(&Ledger {
        sheet: if english { "Duty log" } else { "值班日志" },
        title: if english { "Duty log" } else { "值班日志" },
        headers,
        rows,
    })
    .map_err(ApiError::internal)?;
    Ok(download("duty-log.xlsx", XLSX, bytes))
}

// ---- calendars ----

/// Events of shifts for an iCalendar feed: one per shift, with the post and the unit.
fn ical_events(
    shifts: &[Shift],
    unit_names: &dyn Fn(&str) -> String,
    only_user: Option<&str>,
) -> Vec<IcalEvent> {
    shifts
        .iter()
        .map(|s| {
            let unit = unit_names(&s.unit_id);
            let mine = only_user.and_then(|u| s.people.iter().find(|p| p.user_id == u));
            let summary = match mine {
                Some(p) => format!("{unit} 值班 · {}", p.slot_name),
                None => format!("{unit} 值班 · {}", s.shift_name),
            };
            let description = s
                .people
                .iter()
                .map(|p| format!("{}：{}", p.slot_name, p.display_name))
                .collect::<Vec<_>>()
                .join("\n");
            IcalEvent {
                uid: format!("{}@beacon", mine.map_or(s.id.as_str(), |p| p.assignment_id.as_str())),
                start: s.starts_at,
                end: s.ends_at,
                summary,
                description,
                location: unit.clone(),
                last_modified: s.published_at.unwrap_or(s.starts_at),
            }
        })
        .collect()
}

fn ics(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/calendar; charset=utf-8")], body).into_response()
}

/// The feed window: a month back, three months ahead.
fn feed_window(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    (now - Duration::days(31), now + Duration::days(92))
}

async fn feed_for(state: &AppState, target: &FeedTarget) -> ApiResult<String> {
    let now = state.store().now();
    let (from, to) = feed_window(now);
    let (shifts, name, only) = match target {
        FeedTarget::Unit { unit_id, name } => {
            (state.store().published_shifts(unit_id, from, to).await?, name.clone(), None)
        }
        FeedTarget::User { user_id, name } => (
            state.store().shifts_of_user(user_id, from, to).await?,
            name.clone(),
            Some(user_id.as_str()),
        ),
    };
    let directory = state.store().duty_directory().await?;
    let unit_names = |id: &str| {
        directory.iter().find(|d| d.unit_id == id).map(|d| d.unit_name.clone()).unwrap_or_default()
    };
    let events = ical_events(&shifts, &unit_names, only);
    Ok(calendar(&format!("{name} 值班"), &events, now))
}

/// iCalendar (RFC 5545) of a unit's published roster, or of the caller's own shifts when no
/// unit is given.
#[utoipa::path(get, path = "/duty/calendar.ics", tag = "duty", params(UnitParam),
    responses((status = 200, description = "text/calendar", content_type = "text/calendar"), (status = 422, body = ErrorBody)))]
async fn calendar_ics(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDuty>,
    ApiQuery(q): ApiQuery<UnitParam>,
) -> ApiResult<Response> {
    let target = match q.unit.as_deref() {
        Some(code) => {
            let unit = unit_of(&state, &principal, Some(code)).await?;
            FeedTarget::Unit { unit_id: unit.id, name: unit.name }
        }
        None => FeedTarget::User {
            user_id: principal
                .user_id
                .clone()
                .ok_or_else(|| ApiError::field("unit", "required"))?,
            name: principal.display_name.clone(),
        },
    };
    Ok(ics(feed_for(&state, &target).await?))
}

/// The same feed behind a secret link, for phone calendars (no session). A revoked or unknown
/// link answers 404.
#[utoipa::path(get, path = "/duty/feeds/{token}/calendar.ics", tag = "duty", security(),
    responses((status = 200, description = "text/calendar", content_type = "text/calendar"), (status = 404, body = ErrorBody)))]
async fn feed_ics(State(state): State<AppState>, Path(token): Path<String>) -> ApiResult<Response> {
    if token.len() != 43
        || !token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ApiError::not_found());
    }
    let target = state.store().duty_feed_target(&token_hash(&token)).await?;
    Ok(ics(feed_for(&state, &target).await?))
}

#[utoipa::path(get, path = "/duty/feeds", tag = "duty",
    responses((status = 200, body = Vec<DutyFeed>)))]
async fn list_feeds(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDuty>,
) -> ApiResult<Json<Vec<DutyFeed>>> {
    let me = principal.user_id.clone().unwrap_or_default();
    Ok(Json(state.store().duty_feeds(&me).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFeed {
    /// Unit code for a unit's roster; absent for the caller's own shifts.
    pub unit: Option<String>,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedFeed {
    pub feed: DutyFeed,
    /// The path to subscribe to (under this server's origin), shown once.
    pub path: String,
}

/// Creates a subscription link; its secret is shown once.
#[utoipa::path(post, path = "/duty/feeds", tag = "duty", request_body = CreateFeed,
    responses((status = 201, body = CreatedFeed), (status = 409, description = "`too_many_feeds`", body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_feed(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDuty>,
    ApiJson(body): ApiJson<CreateFeed>,
) -> ApiResult<(StatusCode, Json<CreatedFeed>)> {
    let name = plain_text(&body.name, 64).map_err(|code| ApiError::field("name", code))?;
    let unit = match body.unit.as_deref() {
        Some(code) => Some(unit_of(&state, &principal, Some(code)).await?),
        None => None,
    };
    let token = random_text();
    let feed = state
        .store()
        .create_duty_feed(
            &principal.scope(),
            &principal.actor(),
            unit.as_ref().map(|u| u.id.as_str()),
            &name,
            &token_hash(&token),
        )
        .await?;
    let path = format!("/api/v1/duty/feeds/{token}/calendar.ics");
    Ok((StatusCode::CREATED, Json(CreatedFeed { feed, path })))
}

#[utoipa::path(delete, path = "/duty/feeds/{id}", tag = "duty",
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn revoke_feed(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ReadDuty>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = check_id(&id)?;
    state.store().revoke_duty_feed(&principal.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_rules, put_rules))
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(people))
        .routes(routes!(list_periods, create_period))
        .routes(routes!(delete_period))
        .routes(routes!(list_leaves, create_leave))
        .routes(routes!(delete_leave))
        .routes(routes!(list_shifts))
        .routes(routes!(get_shift, delete_shift))
        .routes(routes!(shift_history))
        .routes(routes!(set_people))
        .routes(routes!(generate))
        .routes(routes!(publish))
        .routes(routes!(gaps))
        .routes(routes!(now))
        .routes(routes!(directory))
        .routes(routes!(check_in))
        .routes(routes!(mine))
        .routes(routes!(roster_xlsx))
        .routes(routes!(list_swaps, request_swap))
        .routes(routes!(decide_swap))
        .routes(routes!(get_handover, put_handover))
        .routes(routes!(acknowledge_handover))
        .routes(routes!(list_log, create_log))
        .routes(routes!(get_log, update_log))
        .routes(routes!(log_xlsx))
        .routes(routes!(calendar_ics))
        .routes(routes!(feed_ics))
        .routes(routes!(list_feeds, create_feed))
        .routes(routes!(revoke_feed))
}

// ---- workbench ----

/// A post not checked in this long after its shift began shows as late.
const CHECK_IN_GRACE_MINUTES: i64 = 15;
/// The shifts of one's own shown ahead.
const MY_SHIFTS_DAYS: i64 = 14;
/// A handover not yet written this close to the end of one's running shift is due.
const HANDOVER_DUE_MINUTES: i64 = 60;

/// The duty desk's cards: who is on duty here and in the units below (with their check-in), the
/// caller's next shifts (check-in and handover due), and the swaps waiting for a leader.
pub(crate) fn workbench_cards<'a>(
    state: &'a AppState,
    principal: &'a Principal,
) -> BoxFuture<'a, ApiResult<Vec<Card>>> {
    Box::pin(async move {
        let mut cards = Vec::new();
        if !principal.can(Permission::ReadDuty) {
            return Ok(cards);
        }
        let store = state.store();
        let now = store.now();
        let scope = principal.scope();
        let units = store.duty_now(&scope, &principal.unit.id, true).await?;
        let (mut people, mut checked) = (0_i64, 0_i64);
        let mut items = Vec::new();
        for unit in &units {
            let Some(shift) = &unit.shift else {
                items.push(
                    Item::new(&unit.unit_name).level(Level::Danger).tag("no_shift").link("/duty"),
                );
                continue;
            };
            let absent = shift.people.iter().filter(|p| p.checked_in_at.is_none()).count() as i64;
            people += shift.people.len() as i64;
            checked += shift.people.len() as i64 - absent;
            let names: Vec<&str> = shift.people.iter().map(|p| p.display_name.as_str()).collect();
            let late = now - shift.starts_at > Duration::minutes(CHECK_IN_GRACE_MINUTES);
            let item = Item::new(&unit.unit_name)
                .detail(format!("{} · {}", shift.shift_name, names.join("、")))
                .at(shift.ends_at)
                .link("/duty");
            items.push(match absent {
                0 => item.level(Level::Ok).tag("checked_in"),
                _ if late => item.level(Level::Warning).tag("not_checked_in"),
                _ => item.tag("not_checked_in"),
            });
        }
        cards.push(
            Card::new("duty.on_duty", people, items)
                .figure("checked_in", checked)
                .figure("not_checked_in", people - checked),
        );
        if let Some(me) = &principal.user_id {
            let shifts = store
                .shifts_of_user(me, now - Duration::days(1), now + Duration::days(MY_SHIFTS_DAYS))
                .await?;
            let mut items = Vec::new();
            for shift in shifts.iter().filter(|s| s.ends_at > now) {
                let running = shift.starts_at <= now;
                let mine = shift.people.iter().find(|p| &p.user_id == me);
                let mut item = Item::new(format!("{} {}", shift.date, shift.shift_name))
                    .at(shift.starts_at)
                    .link("/duty");
                if let Some(post) = mine {
                    item = item.detail(post.slot_name.clone());
                }
                if running {
                    item = item.tag("running");
                    if let Some(post) = mine.filter(|p| p.checked_in_at.is_none()) {
                        item = item.level(Level::Warning).tag("check_in").action(
                            "check_in",
                            format!("/api/v1/duty/assignments/{}/check-in", post.assignment_id),
                        );
                    }
                    let ending = shift.ends_at - now <= Duration::minutes(HANDOVER_DUE_MINUTES);
                    if ending && shift.handover_written_at.is_none() {
                        item = item.level(Level::Warning).tag("handover_due");
                    }
                }
                items.push(item);
            }
            cards.push(Card::new("duty.my_shifts", items.len() as i64, items));
        }
        if principal.can(Permission::ManageDuty) {
            let me = principal.user_id.clone().unwrap_or_default();
            let swaps = store.swaps(&scope, &me, SwapBox::Approval).await?;
            let items = swaps
                .iter()
                .map(|s| {
                    Item::new(format!("{} → {}", s.requester_name, s.target_name))
                        .detail(s.shift_name.clone())
                        .at(s.shift_starts_at)
                        .level(Level::Warning)
                        .link("/duty/swaps")
                })
                .collect();
            cards.push(Card::new("duty.swaps_to_approve", swaps.len() as i64, items));
        }
        Ok(cards)
    })
}
