//! The hidden-danger dashboard over HTTP: `/api/v1/hazards/stats`.

use axum::Json;
use axum::extract::State;
use beacon_core::danger::DangerLevel;
use beacon_core::error::ValidationErrors;
use beacon_core::org::UnitLevel;
use beacon_core::scope::Scope;
use beacon_store::StoreError;
use beacon_store::danger::{DangerMap, DangerMapFilter, DangerStats, DangerStatsFilter};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::AppState;
use crate::enterprise::{acting, optional_id, viewport};
use crate::http::{ApiError, ApiQuery, ApiResult, ErrorBody};
use crate::org::{Principal, check_id};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DangerStatsParams {
    /// 2000 to 2100: hidden dangers found that year.
    pub year: i32,
    /// Unit id: its territory, broken down by the units directly under it. By default the
    /// caller's own unit (a department's: the unit it belongs to).
    pub unit: Option<String>,
}

/// A year's hidden dangers in reach: by month found, state, territory and sector, the closure
/// rate and the average days to 销号.
#[utoipa::path(get, path = "/hazards/stats", tag = "hazard", params(DangerStatsParams),
    responses((status = 200, body = DangerStats),
        (status = 403, description = "the caller does not read the register", body = ErrorBody),
        (status = 422, description = "`year: out_of_range`, `unit: not_found`", body = ErrorBody)))]
pub(super) async fn danger_stats(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<DangerStatsParams>,
) -> ApiResult<Json<DangerStats>> {
    let (reach, _) = acting(&state, &principal).await?;
    if !(2000..=2100).contains(&q.year) {
        return Err(ValidationErrors::single("year", "out_of_range").into());
    }
    let store = state.store();
    let unit_id = match q.unit.as_deref().filter(|u| !u.is_empty()) {
        // Unit names are no secret (the organisation tree is everyone's); the counts are the
        // caller's reach only.
        Some(id) => {
            let id = check_id(id).map_err(|_| ApiError::field("unit", "not_found"))?;
            match store.get_unit(&Scope::Global, &id).await {
                Ok(unit) => unit.unit.id,
                Err(StoreError::NotFound) => return Err(ApiError::field("unit", "not_found")),
                Err(e) => return Err(e.into()),
            }
        }
        None if principal.unit.level == UnitLevel::Department => {
            let own = store.get_unit(&Scope::Global, &principal.unit.id).await?;
            own.unit.parent_id.unwrap_or(own.unit.id)
        }
        None => principal.unit.id.clone(),
    };
    let filter = DangerStatsFilter { year: q.year, unit_id };
    Ok(Json(store.danger_stats(&reach, &filter).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DangerMapParams {
    /// Hidden dangers of enterprises in this unit's territory (unit id; the unit and beneath).
    pub unit: Option<String>,
    pub level: Option<DangerLevel>,
    /// Only enterprises with overdue ones.
    pub overdue: Option<bool>,
    /// The part of the map shown, `min_lon,min_lat,max_lon,max_lat`; with `zoom`, a viewport
    /// with more than 2,000 such enterprises answers clusters instead of points.
    pub bbox: Option<String>,
    /// Leaflet's zoom level of the view (0–22), with `bbox`.
    pub zoom: Option<f64>,
}

/// The dashboard's map: located enterprises with open hidden dangers in reach, each with its
/// open, major, overdue and listed counts (clusters when a viewport holds too many).
#[utoipa::path(get, path = "/hazards/map", tag = "hazard", params(DangerMapParams),
    responses((status = 200, body = DangerMap),
        (status = 403, description = "the caller does not read the register", body = ErrorBody),
        (status = 422, description = "`unit: invalid`, `bbox: invalid`, `zoom: out_of_range`…", body = ErrorBody)))]
pub(super) async fn danger_map(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(q): ApiQuery<DangerMapParams>,
) -> ApiResult<Json<DangerMap>> {
    let (reach, _) = acting(&state, &principal).await?;
    let mut errors = ValidationErrors::new();
    let unit_id = optional_id(&mut errors, "unit", q.unit.as_deref());
    errors.into_result()?;
    let view = viewport(q.bbox.as_deref(), q.zoom)?;
    let filter = DangerMapFilter { unit_id, level: q.level, overdue: q.overdue.unwrap_or(false) };
    Ok(Json(state.store().danger_map(&reach, &filter, view).await?))
}
