//! The security administrator's desk: the password, lockout and session policy, and locked
//! accounts.

use crate::http::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use beacon_core::audit::{NewAuditRecord, Outcome};
use beacon_core::org::{AccountLock, SecurityPolicy};
use serde_json::json;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::http::{ApiError, ApiJson, ApiResult, ErrorBody};
use crate::org::auth::{Authorized, ManageSecurity};

#[utoipa::path(
    get, path = "/security/policy", tag = "security",
    responses((status = 200, body = SecurityPolicy), (status = 403, body = ErrorBody))
)]
async fn get_policy(
    State(state): State<AppState>,
    Authorized(_principal, _): Authorized<ManageSecurity>,
) -> ApiResult<Json<SecurityPolicy>> {
    Ok(Json(state.store().security_policy().await?))
}

/// Replaces the policy (security administrator). Bounds keep the level-3 baseline.
#[utoipa::path(
    put, path = "/security/policy", tag = "security", request_body = SecurityPolicy,
    responses((status = 200, body = SecurityPolicy), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn put_policy(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageSecurity>,
    ApiJson(policy): ApiJson<SecurityPolicy>,
) -> ApiResult<Json<SecurityPolicy>> {
    // The policy holds for everyone, so only the top of the tree may set it.
    if !principal.top_of_tree {
        return Err(ApiError::forbidden("policy_top_unit_only").audited(
            NewAuditRecord::new(&principal.actor(), "access.denied", Outcome::Denied)
                .target("setting", beacon_store::org::SECURITY_POLICY_KEY)
                .detail(json!({ "code": "policy_top_unit_only" })),
        ));
    }
    policy.validate()?;
    let saved = state.store().set_security_policy(&principal.actor(), &policy).await?;
    state.forget_policy();
    Ok(Json(saved))
}

/// Names locked now after failed sign-ins (security administrator).
#[utoipa::path(
    get, path = "/security/locks", tag = "security",
    responses((status = 200, body = Vec<AccountLock>), (status = 403, body = ErrorBody))
)]
async fn list_locks(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageSecurity>,
) -> ApiResult<Json<Vec<AccountLock>>> {
    Ok(Json(state.store().list_locks(&principal.scope()).await?))
}

/// Lifts a lock (security administrator).
#[utoipa::path(
    delete, path = "/security/locks/{username}", tag = "security", params(("username" = String, Path)),
    responses((status = 204, description = "Unlocked"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn unlock(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageSecurity>,
    Path(username): Path<String>,
) -> ApiResult<StatusCode> {
    if username.chars().count() > 64 || username.chars().any(char::is_control) {
        return Err(ApiError::not_found());
    }
    state.store().unlock(&principal.scope(), &principal.actor(), &username.to_lowercase()).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_policy, put_policy))
        .routes(routes!(list_locks))
        .routes(routes!(unlock))
}
