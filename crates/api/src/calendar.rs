//! The working-day calendar: China's public holidays and make-up working days per year, shared
//! by every module that counts days.

use crate::http::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use beacon_core::calendar::{HolidayYear, WorkCalendar};
use beacon_store::calendar::CalendarYear;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::http::{ApiError, ApiJson, ApiQuery, ApiResult, ErrorBody};
use crate::org::Principal;
use crate::org::auth::{Authorized, ManageCalendar};
use crate::workbench::{Card, Item, Level};
use beacon_core::clock::local_date;
use beacon_core::org::Permission;
use chrono::Datelike;
use futures::future::BoxFuture;

/// Every year the calendar knows: shipped with Beacon or entered by an administrator.
#[utoipa::path(get, path = "/calendar/years", tag = "calendar",
    responses((status = 200, body = Vec<CalendarYear>)))]
async fn list_years(
    State(state): State<AppState>,
    _principal: Principal,
) -> ApiResult<Json<Vec<CalendarYear>>> {
    Ok(Json(state.store().calendar_years().await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetYear {
    pub holidays: Vec<NaiveDate>,
    pub workdays: Vec<NaiveDate>,
}

/// Enters or corrects a year's arrangement (system administrator of the top unit: the calendar
/// holds for the whole deployment), as announced each November by the State Council.
#[utoipa::path(put, path = "/calendar/years/{year}", tag = "calendar", request_body = SetYear,
    responses((status = 200, body = CalendarYear),
        (status = 403, description = "`forbidden`: not a system administrator of the top unit", body = ErrorBody),
        (status = 422, description = "`workdays: not_weekend`, `holidays: wrong_year`, `workdays: also_holiday`…", body = ErrorBody)))]
async fn set_year(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageCalendar>,
    Path(year): Path<i32>,
    ApiJson(body): ApiJson<SetYear>,
) -> ApiResult<Json<CalendarYear>> {
    let year = HolidayYear { year, holidays: body.holidays, workdays: body.workdays }.validate()?;
    let saved = state.store().set_calendar_year(&principal.actor(), year).await?;
    state.forget_calendar();
    Ok(Json(saved))
}

/// Forgets an edited year; the shipped data (if any) applies again (system administrator of
/// the top unit).
#[utoipa::path(delete, path = "/calendar/years/{year}", tag = "calendar",
    responses((status = 204),
        (status = 403, description = "`forbidden`: not a system administrator of the top unit", body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn reset_year(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageCalendar>,
    Path(year): Path<i32>,
) -> ApiResult<StatusCode> {
    state.store().reset_calendar_year(&principal.actor(), year).await?;
    state.forget_calendar();
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeadlineParams {
    /// The event (RFC 3339).
    pub start: DateTime<Utc>,
    /// How many days (0 to 3650).
    pub days: u32,
    /// `working` (working days) or `calendar` (calendar days, extended past a rest day).
    pub kind: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeadlineAnswer {
    /// The instant the period ends (24:00 Beijing time of its last day).
    pub ends_at: DateTime<Utc>,
    /// Whether the calendar has the holiday data of every year the period touches.
    pub known_years: bool,
}

/// When a period counted in days ends (民法典 Arts. 201, 203): the rule later modules use for
/// petition and supervision deadlines.
#[utoipa::path(get, path = "/calendar/deadline", tag = "calendar", params(DeadlineParams),
    responses((status = 200, body = DeadlineAnswer), (status = 422, body = ErrorBody)))]
async fn deadline(
    State(state): State<AppState>,
    _principal: Principal,
    ApiQuery(q): ApiQuery<DeadlineParams>,
) -> ApiResult<Json<DeadlineAnswer>> {
    if q.days > 3650 {
        return Err(ApiError::field("days", "out_of_range"));
    }
    let calendar = state.calendar().await?;
    let ends_at = match q.kind.as_str() {
        "working" => calendar.add_working_days(q.start, q.days),
        "calendar" => calendar.add_calendar_days(q.start, q.days),
        _ => return Err(ApiError::field("kind", "unknown")),
    };
    let first = WorkCalendar::local_date(q.start).year_ce().1;
    let last = WorkCalendar::local_date(ends_at).year_ce().1;
    let known_years =
        (first..=last).all(|y| i32::try_from(y).is_ok_and(|y| calendar.knows_year(y)));
    Ok(Json(DeadlineAnswer { ends_at, known_years }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_years))
        .routes(routes!(set_year, reset_year))
        .routes(routes!(deadline))
}

/// From this month on, next year's arrangement is expected (the State Council announces it
/// in November, sometimes October).
const NEXT_YEAR_FROM_MONTH: u32 = 11;

/// The calendar's card, for the administrators who may edit it: the years known, and next
/// year's arrangement when it is missing (a warning from November; every working-day deadline
/// of next year counts on it).
pub(crate) fn workbench_cards<'a>(
    state: &'a AppState,
    principal: &'a Principal,
) -> BoxFuture<'a, ApiResult<Vec<Card>>> {
    Box::pin(async move {
        if !principal.can(Permission::ManageCalendar) {
            return Ok(Vec::new());
        }
        let today = local_date(state.store().now());
        let years = state.store().calendar_years().await?;
        let known = |year: i32| years.iter().any(|y| y.year.year == year);
        let mut items = Vec::new();
        for year in [today.year(), today.year() + 1] {
            let item = Item::new(year.to_string()).link("/calendar");
            items.push(if known(year) {
                item.level(Level::Ok).tag("calendar_entered")
            } else if year == today.year() || today.month() >= NEXT_YEAR_FROM_MONTH {
                item.level(Level::Warning).tag("calendar_missing")
            } else {
                item.tag("calendar_missing")
            });
        }
        let missing =
            items.iter().filter(|i| i.tags.iter().any(|t| t == "calendar_missing")).count();
        Ok(vec![Card::new("calendar.years", missing as i64, items)])
    })
}
