//! API tokens for integrations (sensors, other systems): a unit scope and integration roles
//! (`Role::TOKEN_ROLES`), sent as `Authorization: Bearer bk_…`. The secret is shown once.

use crate::http::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use beacon_core::error::ValidationErrors;
use beacon_core::org::{ApiToken, Role, validate_token_roles};
use beacon_store::org::NewToken;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::auth::TOKEN_PREFIX;
use super::check_id;
use crate::AppState;
use crate::http::{ApiJson, ApiResult, ErrorBody};
use crate::org::auth::{Authorized, ManageOrg};
use crate::password::{random_text, token_hash};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    pub name: String,
    pub unit_id: String,
    /// Integration roles only: `enterprise` (an enterprise's system reporting incidents) and
    /// `viewer` (reading). Others answer 422 `roles: not_allowed_for_token`, administrator
    /// roles `roles: admin_role_not_allowed`.
    pub roles: Vec<Role>,
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedToken {
    pub token: ApiToken,
    /// The bearer secret. Shown this once; Beacon keeps only its hash.
    pub secret: String,
}

#[utoipa::path(
    get, path = "/tokens", tag = "org",
    responses((status = 200, body = Vec<ApiToken>), (status = 403, body = ErrorBody))
)]
async fn list_tokens(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageOrg>,
) -> ApiResult<Json<Vec<ApiToken>>> {
    Ok(Json(state.store().list_tokens(&principal.scope()).await?))
}

/// Creates a token (system administrator). A token carries integration roles only, so that the
/// administrator who receives its secret cannot act through it in a business role.
#[utoipa::path(
    post, path = "/tokens", tag = "org", request_body = CreateToken,
    responses((status = 201, body = CreatedToken), (status = 403, body = ErrorBody),
        (status = 422, description = "`roles: not_allowed_for_token | admin_role_not_allowed | required`, `unit_id: not_found`, `expires_at: in_the_past`…", body = ErrorBody))
)]
async fn create_token(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageOrg>,
    ApiJson(body): ApiJson<CreateToken>,
) -> ApiResult<(StatusCode, Json<CreatedToken>)> {
    let mut errors = ValidationErrors::new();
    let name = body.name.trim().to_owned();
    if name.is_empty() {
        errors.add("name", "required");
    } else if name.chars().count() > 64 || name.chars().any(char::is_control) {
        errors.add("name", "invalid_format");
    }
    let roles = errors.check("roles", validate_token_roles(&body.roles));
    if body.expires_at.is_some_and(|at| at <= state.store().now()) {
        errors.add("expires_at", "in_the_past");
    }
    if !beacon_core::id::looks_like_id(&body.unit_id) {
        errors.add("unit_id", "not_found");
    }
    errors.into_result()?;
    let secret = format!("{TOKEN_PREFIX}{}", random_text());
    let token = state
        .store()
        .create_token(
            &principal.scope(),
            &principal.actor(),
            NewToken {
                name,
                unit_id: body.unit_id,
                roles: roles.unwrap_or_default(),
                expires_at: body.expires_at,
                token_hash: token_hash(&secret),
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(CreatedToken { token, secret })))
}

/// Revokes a token at once (system administrator).
#[utoipa::path(
    delete, path = "/tokens/{id}", tag = "org", params(("id" = String, Path)),
    responses((status = 204, description = "Revoked"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody))
)]
async fn revoke_token(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageOrg>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = check_id(&id)?;
    state.store().revoke_token(&principal.scope(), &principal.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_tokens, create_token)).routes(routes!(revoke_token))
}
