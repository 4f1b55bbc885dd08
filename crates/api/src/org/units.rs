//! Units: the tree editor's API and the map's GeoJSON.

use crate::http::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use beacon_core::error::ValidationErrors;
use beacon_core::geo::Boundary;
use beacon_core::org::{Unit, UnitCode, UnitLevel, UnitName};
use beacon_store::org::{NewUnit, UnitChanges, UnitDetail};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Principal, check_id, double_option};
use crate::AppState;
use crate::http::{ApiJson, ApiQuery, ApiResult, ErrorBody};
use crate::org::auth::{Authorized, ManageOrg};

const SORT_RANGE: std::ops::RangeInclusive<i64> = -1_000_000..=1_000_000;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUnit {
    pub parent_id: String,
    pub code: String,
    pub name: String,
    pub level: UnitLevel,
    #[serde(default)]
    pub sort_order: i64,
    /// GeoJSON Polygon or MultiPolygon (or a Feature / one-feature FeatureCollection).
    #[schema(value_type = Option<Object>)]
    pub boundary: Option<Value>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUnit {
    pub parent_id: Option<String>,
    pub code: Option<String>,
    pub name: Option<String>,
    pub level: Option<UnitLevel>,
    pub sort_order: Option<i64>,
    /// A new outline, or `null` to remove it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Object>, nullable)]
    pub boundary: Option<Option<Value>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitWithBoundary {
    #[serde(flatten)]
    pub unit: Unit,
    #[schema(value_type = Option<Object>)]
    pub boundary: Option<Value>,
}

impl From<UnitDetail> for UnitWithBoundary {
    fn from(detail: UnitDetail) -> Self {
        Self { unit: detail.unit, boundary: detail.boundary }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitQuery {
    /// Only the unit with this code.
    pub code: Option<String>,
}

fn parse_boundary(errors: &mut ValidationErrors, value: &Value) -> Option<Boundary> {
    errors.check("boundary", Boundary::parse(value))
}

/// Units in the caller's scope (the caller's unit and everything beneath it).
#[utoipa::path(
    get, path = "/units", tag = "org", params(UnitQuery),
    responses((status = 200, body = Vec<Unit>), (status = 401, body = ErrorBody))
)]
async fn list_units(
    State(state): State<AppState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<UnitQuery>,
) -> ApiResult<Json<Vec<Unit>>> {
    let mut units = state.store().list_units(&principal.scope()).await?;
    if let Some(code) = &query.code {
        units.retain(|u| &u.code == code);
    }
    Ok(Json(units))
}

/// Creates a unit under a parent in the caller's scope (system administrator).
#[utoipa::path(
    post, path = "/units", tag = "org", request_body = CreateUnit,
    responses(
        (status = 201, body = Unit),
        (status = 403, body = ErrorBody),
        (status = 422, description = "`validation_failed`: `code: already_exists`, `level: not_allowed_under_parent`, `boundary: ring_not_closed`…", body = ErrorBody),
    )
)]
async fn create_unit(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageOrg>,
    ApiJson(body): ApiJson<CreateUnit>,
) -> ApiResult<(StatusCode, Json<Unit>)> {
    let mut errors = ValidationErrors::new();
    let code = errors.check("code", UnitCode::parse(&body.code));
    let name = errors.check("name", UnitName::parse(&body.name));
    if !SORT_RANGE.contains(&body.sort_order) {
        errors.add("sort_order", "out_of_range");
    }
    if !beacon_core::id::looks_like_id(&body.parent_id) {
        errors.add("parent_id", "not_found");
    }
    let boundary = body.boundary.as_ref().and_then(|b| parse_boundary(&mut errors, b));
    errors.clone().into_result()?;
    let (Some(code), Some(name)) = (code, name) else { return Err(errors.into()) };
    let unit = state
        .store()
        .create_unit(
            &principal.scope(),
            &principal.actor(),
            NewUnit {
                parent_id: Some(body.parent_id),
                code,
                name,
                level: body.level,
                sort_order: body.sort_order,
                boundary,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(unit)))
}

/// A unit with its boundary.
#[utoipa::path(
    get, path = "/units/{id}", tag = "org", params(("id" = String, Path)),
    responses((status = 200, body = UnitWithBoundary), (status = 404, body = ErrorBody))
)]
async fn get_unit(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<UnitWithBoundary>> {
    let id = check_id(&id)?;
    Ok(Json(state.store().get_unit(&principal.scope(), &id).await?.into()))
}

/// Changes a unit: rename, re-code, move under another parent, change level, set or clear the
/// boundary (system administrator).
#[utoipa::path(
    patch, path = "/units/{id}", tag = "org", params(("id" = String, Path)), request_body = UpdateUnit,
    responses((status = 200, body = Unit), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn update_unit(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageOrg>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateUnit>,
) -> ApiResult<Json<Unit>> {
    let id = check_id(&id)?;
    let mut errors = ValidationErrors::new();
    let mut changes = UnitChanges {
        parent_id: body.parent_id,
        level: body.level,
        sort_order: body.sort_order,
        ..Default::default()
    };
    if let Some(code) = &body.code {
        changes.code = errors.check("code", UnitCode::parse(code));
    }
    if let Some(name) = &body.name {
        changes.name = errors.check("name", UnitName::parse(name));
    }
    if changes.sort_order.is_some_and(|o| !SORT_RANGE.contains(&o)) {
        errors.add("sort_order", "out_of_range");
    }
    if changes.parent_id.as_deref().is_some_and(|p| !beacon_core::id::looks_like_id(p)) {
        errors.add("parent_id", "not_found");
    }
    match &body.boundary {
        Some(Some(value)) => changes.boundary = parse_boundary(&mut errors, value).map(Some),
        Some(None) => changes.boundary = Some(None),
        None => {}
    }
    errors.into_result()?;
    let unit = state
        .store()
        .update_unit(&principal.scope(), &principal.actor(), &id, changes)
        .await
        .map_err(principal.refusal("unit", &id))?;
    Ok(Json(unit))
}

/// Deletes a unit with nothing beneath or in it (system administrator).
#[utoipa::path(
    delete, path = "/units/{id}", tag = "org", params(("id" = String, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`unit_has_children`, `unit_has_users`, `unit_has_tokens`, `still_referenced`", body = ErrorBody),
    )
)]
async fn delete_unit(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageOrg>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = check_id(&id)?;
    state
        .store()
        .delete_unit(&principal.scope(), &principal.actor(), &id)
        .await
        .map_err(principal.refusal("unit", &id))?;
    Ok(StatusCode::NO_CONTENT)
}

/// The unit and its direct children as a GeoJSON FeatureCollection, for the map.
#[utoipa::path(
    get, path = "/units/{id}/map", tag = "org", params(("id" = String, Path)),
    responses((status = 200, description = "GeoJSON FeatureCollection", body = Object), (status = 404, body = ErrorBody))
)]
async fn unit_map(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id = check_id(&id)?;
    let units = state.store().unit_with_children(&principal.scope(), &id).await?;
    Ok(Json(feature_collection(units, &id)))
}

/// Units' outlines as a GeoJSON FeatureCollection (those without one are left out); `id` is
/// marked `self`.
pub(crate) fn feature_collection(units: Vec<beacon_store::org::UnitDetail>, id: &str) -> Value {
    let features: Vec<Value> = units
        .into_iter()
        .filter_map(|detail| {
            let geometry = detail.boundary?;
            Some(json!({
                "type": "Feature",
                "id": detail.unit.id,
                "geometry": geometry,
                "properties": {
                    "id": detail.unit.id,
                    "code": detail.unit.code,
                    "name": detail.unit.name,
                    "level": detail.unit.level,
                    "self": detail.unit.id == id,
                },
            }))
        })
        .collect();
    json!({ "type": "FeatureCollection", "features": features })
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_units, create_unit))
        .routes(routes!(get_unit, update_unit, delete_unit))
        .routes(routes!(unit_map))
}
