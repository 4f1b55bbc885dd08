//! User accounts, managed by the system administrator within their scope.

use crate::http::Path;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use beacon_core::error::ValidationErrors;
use beacon_core::org::{DisplayName, Phone, Role, User, Username, validate_roles};
use beacon_core::page::PageRequest;
use beacon_store::org::{NewUser, PasswordSetter, UserChanges, UserFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{check_id, double_option};
use crate::AppState;
use crate::http::{ApiError, ApiJson, ApiQuery, ApiResult, ErrorBody};
use crate::org::auth::{Authorized, ManageOrg, ViewAccounts};

/// Who hears about account changes live.

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    pub username: String,
    pub display_name: String,
    pub phone: Option<String>,
    pub unit_id: String,
    pub roles: Vec<Role>,
    /// Initial password; the user must change it at first sign-in (per the security policy).
    pub password: String,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    pub display_name: Option<String>,
    /// A new number, or `null` to clear it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>, nullable)]
    pub phone: Option<Option<String>>,
    pub unit_id: Option<String>,
    pub roles: Option<Vec<Role>>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    pub password: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    /// Part of the username, name or phone.
    pub q: Option<String>,
    /// Only users in this unit and beneath it.
    pub unit_id: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// From 1; default 1.
    #[param(minimum = 1, maximum = 1000000)]
    pub page: Option<u32>,
    /// 1 to 200; default 20.
    #[param(minimum = 1, maximum = 200)]
    pub per_page: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserPage {
    pub items: Vec<User>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

fn check_phone(errors: &mut ValidationErrors, phone: Option<&str>) -> Option<Phone> {
    let phone = phone.map(str::trim).filter(|p| !p.is_empty())?;
    errors.check("phone", Phone::parse(phone))
}

/// Users in the caller's scope, filtered and paged (system and security administrators).
#[utoipa::path(
    get, path = "/users", tag = "org", params(UserQuery),
    responses((status = 200, body = UserPage), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn list_users(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ViewAccounts>,
    ApiQuery(query): ApiQuery<UserQuery>,
) -> ApiResult<Json<UserPage>> {
    let page = PageRequest::parse(query.page, query.per_page)?;
    if query.q.as_deref().is_some_and(|q| q.chars().count() > 64) {
        return Err(ApiError::field("q", "too_long"));
    }
    if query.unit_id.as_deref().is_some_and(|u| !beacon_core::id::looks_like_id(u)) {
        return Err(ApiError::field("unit_id", "not_found"));
    }
    let filter =
        UserFilter { q: query.q, unit_id: query.unit_id, role: query.role, active: query.active };
    let page = state.store().list_users(&principal.scope(), &filter, page).await?;
    Ok(Json(UserPage {
        items: page.items,
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    }))
}

/// Creates an account (system administrator). Administrator roles are granted only on the
/// server, with `beacon create-user`.
#[utoipa::path(
    post, path = "/users", tag = "org", request_body = CreateUser,
    responses(
        (status = 201, body = User),
        (status = 403, description = "`forbidden`, `admin_role_cli_only`", body = ErrorBody),
        (status = 422, description = "`validation_failed`: `username: already_exists`, `password: password_too_short`…", body = ErrorBody),
    )
)]
async fn create_user(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageOrg>,
    ApiJson(body): ApiJson<CreateUser>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let policy = state.policy().await?;
    let mut errors = ValidationErrors::new();
    let username = errors.check("username", Username::parse(&body.username));
    let display_name = errors.check("display_name", DisplayName::parse(&body.display_name));
    let phone = check_phone(&mut errors, body.phone.as_deref());
    let roles = errors.check("roles", validate_roles(&body.roles));
    if !beacon_core::id::looks_like_id(&body.unit_id) {
        errors.add("unit_id", "not_found");
    }
    let weak = policy.check_password(&body.password, &body.username.trim().to_lowercase()).err();
    if let Some(rule) = weak {
        errors.add("password", rule.code());
    }
    if let Err(errors) = errors.clone().into_result() {
        let error = ApiError::from(errors);
        return Err(match weak {
            Some(_) => error.with_rule("password", crate::org::auth::password_rule(&policy)),
            None => error,
        });
    }
    let (Some(username), Some(display_name), Some(roles)) = (username, display_name, roles) else {
        return Err(errors.into());
    };
    let password_hash = state.passwords().hash(body.password).await.map_err(ApiError::internal)?;
    let user = state
        .store()
        .create_user(
            &principal.scope(),
            &principal.actor(),
            NewUser {
                username,
                display_name,
                phone,
                unit_id: body.unit_id,
                roles,
                password_hash,
                must_change_password: policy.force_change_on_first_login,
            },
        )
        .await
        .map_err(principal.refusal("user", ""))?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[utoipa::path(
    get, path = "/users/{id}", tag = "org", params(("id" = String, Path)),
    responses((status = 200, body = User), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn get_user(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ViewAccounts>,
    Path(id): Path<String>,
) -> ApiResult<Json<User>> {
    let id = check_id(&id)?;
    Ok(Json(state.store().get_user(&principal.scope(), &id).await?))
}

/// Changes an account: name, phone, unit, roles, enabled (system administrator). Disabling ends
/// the account's sessions.
#[utoipa::path(
    patch, path = "/users/{id}", tag = "org", params(("id" = String, Path)), request_body = UpdateUser,
    responses(
        (status = 200, body = User),
        (status = 403, description = "`forbidden`, `admin_account_cli_only`, `admin_role_cli_only`, `cannot_change_own_account`", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
async fn update_user(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageOrg>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateUser>,
) -> ApiResult<Json<User>> {
    let id = check_id(&id)?;
    let mut errors = ValidationErrors::new();
    let mut changes =
        UserChanges { unit_id: body.unit_id, active: body.active, ..Default::default() };
    if let Some(name) = &body.display_name {
        changes.display_name = errors.check("display_name", DisplayName::parse(name));
    }
    match &body.phone {
        Some(Some(phone)) if !phone.trim().is_empty() => {
            changes.phone = errors.check("phone", Phone::parse(phone)).map(Some);
        }
        Some(_) => changes.phone = Some(None),
        None => {}
    }
    if let Some(roles) = &body.roles {
        changes.roles = errors.check("roles", validate_roles(roles));
    }
    if changes.unit_id.as_deref().is_some_and(|u| !beacon_core::id::looks_like_id(u)) {
        errors.add("unit_id", "not_found");
    }
    errors.into_result()?;
    let user = state
        .store()
        .update_user(&principal.scope(), &principal.actor(), &id, changes)
        .await
        .map_err(principal.refusal("user", &id))?;
    Ok(Json(user))
}

/// Deletes an account that has never signed in (system administrator); one that has is
/// disabled instead, so its records keep naming a real account.
#[utoipa::path(
    delete, path = "/users/{id}", tag = "org", params(("id" = String, Path)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`user_has_signed_in`", body = ErrorBody),
    )
)]
async fn delete_user(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageOrg>,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let id = check_id(&id)?;
    state
        .store()
        .delete_user(&principal.scope(), &principal.actor(), &id)
        .await
        .map_err(principal.refusal("user", &id))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sets a new password for an account (system administrator); the user must change it at the
/// next sign-in, and their sessions end.
#[utoipa::path(
    post, path = "/users/{id}/password", tag = "org", params(("id" = String, Path)), request_body = ResetPassword,
    responses(
        (status = 204, description = "Reset"),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody),
    )
)]
async fn reset_password(
    State(state): State<AppState>,
    Authorized(principal, _): Authorized<ManageOrg>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ResetPassword>,
) -> ApiResult<StatusCode> {
    let id = check_id(&id)?;
    let user = state.store().get_user(&principal.scope(), &id).await?;
    let policy = state.policy().await?;
    if let Err(rule) = policy.check_password(&body.password, &user.username) {
        return Err(ApiError::field("password", rule.code())
            .with_rule("password", crate::org::auth::password_rule(&policy)));
    }
    let hash = state.passwords().hash(body.password).await.map_err(ApiError::internal)?;
    state
        .store()
        .set_password(
            &principal.scope(),
            &principal.actor(),
            &id,
            hash,
            PasswordSetter::Admin { must_change: policy.force_change_on_first_login },
        )
        .await
        .map_err(principal.refusal("user", &id))?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users, create_user))
        .routes(routes!(get_user, update_user, delete_user))
        .routes(routes!(reset_password))
}
