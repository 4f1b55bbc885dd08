//! Who is calling: sessions (browser cookie) and API tokens (bearer), the [`Principal`] every
//! handler receives, and the sign-in, sign-out and password-change endpoints.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use beacon_bus::Audience;
use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::org::{PASSWORD_MAX_LENGTH, Permission, Role, UnitRef};
use beacon_core::scope::Scope;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use beacon_store::StoreError;
use beacon_store::org::PasswordSetter;

use crate::http::extract::{client_ip, is_https};
use crate::http::{ApiError, ApiJson, ApiResult, ClientIp, ErrorBody};
use crate::password::{random_text, token_hash};
use crate::{AppState, CookieSecure};

pub const SESSION_COOKIE: &str = "beacon_session";

/// Prefix of API tokens, so a leaked one is recognisable in logs and code.
pub const TOKEN_PREFIX: &str = "bk_";

/// A session is marked used at most this often; reads stay reads in between.
const TOUCH_INTERVAL_SECONDS: i64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PasswordChangeReason {
    /// Set by an administrator (new account or reset): the user must choose their own.
    Initial,
    /// Older than the policy's maximum age.
    Expired,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Session { token_hash: String, expires_at: DateTime<Utc> },
    Token { id: String, token_hash: String },
}

/// The caller of a request, authenticated. Obtained as an extractor; fails with 401 when nobody
/// is signed in and with 403 `password_change_required` while the password must be changed.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user_id: Option<String>,
    pub username: String,
    pub display_name: String,
    pub unit: UnitRef,
    pub top_of_tree: bool,
    pub roles: Vec<Role>,
    pub ip: Option<String>,
    pub credential: Credential,
    pub password_change: Option<PasswordChangeReason>,
}

impl Principal {
    /// The territorial scope: the caller's unit and everything beneath it.
    pub fn scope(&self) -> Scope {
        if self.top_of_tree {
            Scope::tree_root(&self.unit.id)
        } else {
            Scope::subtree(&self.unit.id)
        }
    }

    /// Who the records name: a person by their display name (as named at the time: names are
    /// copied), an integration as `token:<name>`, which the UI renders as an API token.
    pub fn actor(&self) -> Actor {
        let name = match self.credential {
            Credential::Session { .. } => &self.display_name,
            Credential::Token { .. } => &self.username,
        };
        Actor::caller(self.user_id.as_deref(), name, Some(&self.unit.id), self.ip.clone())
    }

    pub fn can(&self, permission: Permission) -> bool {
        if permission.deployment_wide() && !self.top_of_tree {
            return false;
        }
        self.roles.iter().any(|r| r.permits(permission))
    }

    /// Refuses with 403 (and an audit record of the refusal) unless a role grants `permission`.
    pub fn require(&self, permission: Permission) -> ApiResult<()> {
        if self.can(permission) {
            return Ok(());
        }
        Err(ApiError::forbidden("forbidden").audited(
            NewAuditRecord::new(&self.actor(), "access.denied", Outcome::Denied)
                .detail(json!({ "permission": format!("{permission:?}") })),
        ))
    }

    /// Maps a store error to the answer, auditing a refusal the store made (an administrator
    /// account touched through the API, the top of one's scope moved) like any other refusal.
    pub fn refusal(
        &self,
        target_type: &'static str,
        target_id: &str,
    ) -> impl Fn(StoreError) -> ApiError {
        let actor = self.actor();
        let target_id = target_id.to_owned();
        move |error| match error {
            StoreError::Forbidden(code) => ApiError::forbidden(code).audited(
                NewAuditRecord::new(&actor, "access.denied", Outcome::Denied)
                    .target(target_type, &target_id)
                    .detail(json!({ "code": code })),
            ),
            other => ApiError::from(other),
        }
    }

    pub fn audience(&self) -> Audience {
        Audience {
            user_id: self.user_id.clone(),
            unit_id: self.unit.id.clone(),
            top_of_tree: self.top_of_tree,
            roles: self.roles.clone(),
        }
    }

    pub fn permissions(&self) -> Vec<&'static str> {
        [
            (Permission::ManageOrg, "manage_org"),
            (Permission::ManageSecurity, "manage_security"),
            (Permission::ReadAudit, "read_audit"),
            (Permission::ViewAccounts, "view_accounts"),
            (Permission::ManageCalendar, "manage_calendar"),
            (Permission::ReadDuty, "read_duty"),
            (Permission::ManageDuty, "manage_duty"),
            (Permission::ReadDutyLog, "read_duty_log"),
            (Permission::WriteDutyLog, "write_duty_log"),
            (Permission::ReadIncidents, "read_incidents"),
            (Permission::ReportIncident, "report_incident"),
            (Permission::HandleIncidents, "handle_incidents"),
            (Permission::LeadIncidents, "lead_incidents"),
            (Permission::ReadEnterprises, "read_enterprises"),
            (Permission::ManageEnterprises, "manage_enterprises"),
            (Permission::HandleTipoffs, "handle_tipoffs"),
            (Permission::ApproveRewards, "approve_rewards"),
        ]
        .into_iter()
        .filter(|(p, _)| self.can(*p))
        .map(|(_, name)| name)
        // Not a permission of its own: an `enterprise` account reaches the register reduced
        // to its own enterprise (`api::enterprise`), and the web shows it that page.
        .chain(self.roles.contains(&Role::Enterprise).then_some("own_enterprise"))
        .collect()
    }
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = authenticate(parts, state).await?;
        if principal.password_change.is_some() {
            return Err(ApiError::forbidden("password_change_required"));
        }
        Ok(principal)
    }
}

/// A caller holding a permission, checked before the request body is even read (so a caller
/// without it gets 403 whatever they send). `Authorized<ManageOrg>` in a handler's signature
/// says who may call it.
pub struct Authorized<P>(pub Principal, pub std::marker::PhantomData<P>);

pub trait Needs: Send + Sync {
    const PERMISSION: Permission;
}

/// A marker type per permission, for `Authorized<…>`.
macro_rules! needs {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        pub struct $name;
        impl Needs for $name {
            const PERMISSION: Permission = Permission::$name;
        }
    )*};
}

needs! {
    /// Units, users and tokens: the system administrator.
    ManageOrg;
    /// Policy and locks: the security administrator.
    ManageSecurity;
    /// The audit trail: the audit administrator.
    ReadAudit;
    /// The account list: system and security administrators.
    ViewAccounts;
    /// Holidays and make-up working days: the system administrator of the top unit.
    ManageCalendar;
    /// Rosters and who is on duty: every business role.
    ReadDuty;
    /// Duty settings, rosters and approvals: leaders.
    ManageDuty;
    /// The duty log: the duty desk and leaders.
    ReadDutyLog;
    /// Taking calls: duty officers and duty leaders.
    WriteDutyLog;
    /// Incidents and their clocks.
    ReadIncidents;
    /// Registering an incident.
    ReportIncident;
    /// Facts, hops and closing.
    HandleIncidents;
    /// Grade overrides and report approval.
    LeadIncidents;
}

impl<P: Needs> FromRequestParts<AppState> for Authorized<P> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let principal = Principal::from_request_parts(parts, state).await?;
        principal.require(P::PERMISSION)?;
        Ok(Authorized(principal, std::marker::PhantomData))
    }
}

/// Any signed-in caller, including one who must change their password before doing anything
/// else (for `/me`, sign-out and the password change itself).
pub struct AnySession(pub Principal);

impl FromRequestParts<AppState> for AnySession {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        authenticate(parts, state).await.map(AnySession)
    }
}

async fn authenticate(parts: &mut Parts, state: &AppState) -> ApiResult<Principal> {
    if let Some(principal) = parts.extensions.get::<Principal>() {
        return Ok(principal.clone());
    }
    let ip = client_ip(parts, state).text();
    let principal = if let Some(token) = bearer_token(&parts.headers) {
        token_principal(state, &token, ip).await?
    } else if let Some(token) = cookie(&parts.headers, SESSION_COOKIE) {
        session_principal(state, &token, ip).await?
    } else {
        return Err(ApiError::unauthenticated("unauthenticated"));
    };
    parts.extensions.insert(principal.clone());
    Ok(principal)
}

async fn session_principal(
    state: &AppState,
    token: &str,
    ip: Option<String>,
) -> ApiResult<Principal> {
    let hash = token_hash(token);
    let store = state.store();
    let session = store
        .session_principal(&hash)
        .await?
        .ok_or_else(|| ApiError::unauthenticated("unauthenticated"))?;
    if session.revoked {
        return Err(ApiError::unauthenticated("session_expired"));
    }
    let now = store.now();
    let policy = state.policy().await?;
    let idle = now - session.last_seen_at >= policy.idle_timeout();
    if now >= session.expires_at || idle || !session.active {
        store.expire_session(&hash).await?;
        return Err(ApiError::unauthenticated("session_expired"));
    }
    if now - session.last_seen_at >= Duration::seconds(TOUCH_INTERVAL_SECONDS) {
        store.touch_session(&hash).await?;
    }
    let password_change = if session.must_change_password {
        Some(PasswordChangeReason::Initial)
    } else if policy.password_expired(session.password_changed_at, now) {
        Some(PasswordChangeReason::Expired)
    } else {
        None
    };
    Ok(Principal {
        user_id: Some(session.user_id),
        username: session.username,
        display_name: session.display_name,
        unit: session.unit,
        top_of_tree: session.top_of_tree,
        roles: session.roles,
        ip,
        credential: Credential::Session { token_hash: hash, expires_at: session.expires_at },
        password_change,
    })
}

async fn token_principal(
    state: &AppState,
    token: &str,
    ip: Option<String>,
) -> ApiResult<Principal> {
    let store = state.store();
    let invalid = || ApiError::unauthenticated("invalid_token");
    if !token.starts_with(TOKEN_PREFIX) {
        return Err(invalid());
    }
    let hash = token_hash(token);
    let found = store.token_principal(&hash).await?.ok_or_else(invalid)?;
    let now = store.now();
    // A token left with no role it may carry (made before tokens were limited to integration
    // roles) is refused like a revoked one.
    if found.revoked || found.expires_at.is_some_and(|at| now >= at) || found.roles.is_empty() {
        return Err(invalid());
    }
    if found.last_used_at.is_none_or(|at| now - at >= Duration::seconds(TOUCH_INTERVAL_SECONDS)) {
        store.touch_token(&found.id).await?;
    }
    Ok(Principal {
        user_id: None,
        username: format!("token:{}", found.name),
        display_name: found.name,
        unit: found.unit,
        top_of_tree: found.top_of_tree,
        roles: found.roles,
        ip,
        credential: Credential::Token { id: found.id, token_hash: hash },
        password_change: None,
    })
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

fn session_cookie(
    state: &AppState,
    parts_https: bool,
    value: &str,
    clear: bool,
) -> ApiResult<HeaderValue> {
    let secure = match state.config().cookie_secure {
        CookieSecure::Always => true,
        CookieSecure::Never => false,
        CookieSecure::Auto => parts_https,
    };
    let mut cookie = format!("{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict");
    if secure {
        cookie.push_str("; Secure");
    }
    if clear {
        cookie.push_str("; Max-Age=0");
    }
    HeaderValue::from_str(&cookie).map_err(ApiError::internal)
}

// ---------------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// The signed-in user as the UI needs it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Me {
    pub id: Option<String>,
    pub username: String,
    pub display_name: String,
    pub unit: UnitRef,
    pub roles: Vec<Role>,
    /// What the UI may offer: `manage_org`, `manage_security`, `read_audit`, `view_accounts`.
    pub permissions: Vec<String>,
    /// Set while the password must be changed before anything else.
    pub password_change_required: Option<PasswordChangeReason>,
    pub session_expires_at: Option<DateTime<Utc>>,
    pub idle_timeout_minutes: u32,
}

async fn me_of(state: &AppState, principal: &Principal) -> ApiResult<Me> {
    let policy = state.policy().await?;
    Ok(Me {
        id: principal.user_id.clone(),
        username: principal.username.clone(),
        display_name: principal.display_name.clone(),
        unit: principal.unit.clone(),
        roles: principal.roles.clone(),
        permissions: principal.permissions().into_iter().map(str::to_owned).collect(),
        password_change_required: principal.password_change,
        session_expires_at: match &principal.credential {
            Credential::Session { expires_at, .. } => Some(*expires_at),
            Credential::Token { .. } => None,
        },
        idle_timeout_minutes: policy.idle_timeout_minutes,
    })
}

/// The numbers of the password policy, for a message that names the rule a password broke.
pub(crate) fn password_rule(policy: &beacon_core::org::SecurityPolicy) -> serde_json::Value {
    serde_json::json!({
        "min_length": policy.password_min_length,
        "min_classes": policy.password_min_classes,
        "max_length": PASSWORD_MAX_LENGTH,
    })
}

/// Sign in with a username and password; sets the session cookie.
#[utoipa::path(
    post, path = "/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in", body = Me),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody),
        (status = 403, description = "`account_disabled`", body = ErrorBody),
        (status = 422, description = "`validation_failed`", body = ErrorBody),
        (status = 423, description = "`account_locked`", body = ErrorBody),
    )
)]
async fn login(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    https: Https,
    ApiJson(body): ApiJson<LoginRequest>,
) -> ApiResult<Response> {
    let mut errors = beacon_core::error::ValidationErrors::new();
    let username = body.username.trim().to_lowercase();
    if username.is_empty() {
        errors.add("username", "required");
    } else if username.chars().count() > 64 {
        errors.add("username", "too_long");
    } else if username.chars().any(char::is_control) {
        errors.add("username", "invalid_characters");
    }
    if body.password.is_empty() {
        errors.add("password", "required");
    } else if body.password.chars().count() > PASSWORD_MAX_LENGTH {
        errors.add("password", "too_long");
    }
    errors.into_result()?;

    let store = state.store();
    let policy = state.policy().await?;
    // The lock is checked once this attempt may hash: attempts queued behind the ones that
    // locked the name are refused without being tried.
    let permit = state.passwords().permit().await.map_err(ApiError::internal)?;
    let account = store.find_login(&username).await?;
    if let Some(until) = store.locked_until(&username).await? {
        drop(permit);
        store.record_login_refusal(&username, account.as_ref(), ip.text(), "locked").await?;
        return Err(locked_error(until));
    }
    // One Argon2 computation whether the name exists or not.
    let hash = account.as_ref().map(|a| a.password_hash.clone());
    let verified = state.passwords().verify_with(&permit, body.password, hash).await;
    if !verified {
        // The place is kept until the failure is counted, so at most as many guesses as there
        // are places pass the lock check before a lock they would have caused.
        let reason = if account.is_some() { "wrong_password" } else { "unknown_user" };
        let (failures, lock) = store
            .record_login_failure(&username, account.as_ref(), &policy, ip.text(), reason)
            .await?;
        if let Some(until) = lock {
            return Err(locked_error(until));
        }
        drop(permit);
        let mut error = ApiError::unauthenticated("invalid_credentials");
        error.body.remaining_attempts = Some(policy.lockout_threshold.saturating_sub(failures));
        return Err(error);
    }
    drop(permit);
    let Some(account) = account else {
        return Err(ApiError::unauthenticated("invalid_credentials"));
    };
    if !account.active {
        store.record_login_refusal(&username, Some(&account), ip.text(), "disabled").await?;
        return Err(ApiError::forbidden("account_disabled"));
    }
    let token = random_text();
    let hash = token_hash(&token);
    let expires_at = store.now() + policy.session_lifetime();
    let user_agent =
        headers.get(header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
    // Refused (423) if the name was locked while the password was being checked.
    store.start_session(&account, &hash, expires_at, ip.text(), user_agent).await?;
    let principal = session_principal(&state, &token, ip.text()).await?;
    let me = me_of(&state, &principal).await?;
    let cookie = session_cookie(&state, https.0, &token, false)?;
    Ok(([(header::SET_COOKIE, cookie)], Json(me)).into_response())
}

fn locked_error(until: DateTime<Utc>) -> ApiError {
    let mut error = ApiError::new(StatusCode::LOCKED, "account_locked");
    error.body.locked_until = Some(until);
    error
}

/// Whether the request came over HTTPS (via a trusted proxy).
pub struct Https(pub bool);

impl FromRequestParts<AppState> for Https {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Https(is_https(parts, state)))
    }
}

/// Sign out: ends the session and clears the cookie.
#[utoipa::path(
    post, path = "/auth/logout", tag = "auth",
    responses((status = 204, description = "Signed out"), (status = 401, body = ErrorBody))
)]
async fn logout(
    State(state): State<AppState>,
    https: Https,
    AnySession(principal): AnySession,
) -> ApiResult<Response> {
    if let Credential::Session { token_hash, .. } = &principal.credential {
        state.store().end_session(token_hash, &principal.actor()).await?;
    }
    let cookie = session_cookie(&state, https.0, "", true)?;
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

/// The signed-in user: name, unit, roles, and whether the password must be changed.
#[utoipa::path(
    get, path = "/me", tag = "auth",
    responses((status = 200, body = Me), (status = 401, body = ErrorBody))
)]
async fn me(
    State(state): State<AppState>,
    AnySession(principal): AnySession,
) -> ApiResult<Json<Me>> {
    Ok(Json(me_of(&state, &principal).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Change one's own password (also the way out of a forced change). Other sessions of the
/// account end.
#[utoipa::path(
    post, path = "/auth/password", tag = "auth",
    request_body = ChangePasswordRequest,
    responses(
        (status = 200, description = "Changed", body = Me),
        (status = 422, description = "`validation_failed` (`current_password: wrong_password`, `new_password: password_too_short`…)", body = ErrorBody),
        (status = 423, description = "`account_locked` after repeated wrong current passwords", body = ErrorBody),
    )
)]
async fn change_password(
    State(state): State<AppState>,
    AnySession(principal): AnySession,
    ApiJson(body): ApiJson<ChangePasswordRequest>,
) -> ApiResult<Json<Me>> {
    let (Some(user_id), Credential::Session { token_hash, .. }) =
        (&principal.user_id, &principal.credential)
    else {
        return Err(ApiError::forbidden("forbidden"));
    };
    let store = state.store();
    let policy = state.policy().await?;
    if body.current_password.chars().count() > PASSWORD_MAX_LENGTH {
        return Err(ApiError::field("current_password", "wrong_password"));
    }
    let account = store.find_login(&principal.username).await?.ok_or_else(ApiError::not_found)?;
    let verified = state
        .passwords()
        .verify(body.current_password.clone(), Some(account.password_hash.clone()))
        .await;
    if !verified {
        // Guessing through this form counts like guessing at the sign-in page.
        let (_, lock) = store
            .record_login_failure(
                &account.username,
                Some(&account),
                &policy,
                principal.ip.clone(),
                "wrong_current_password",
            )
            .await?;
        if let Some(until) = lock {
            store.expire_session(token_hash).await?;
            return Err(locked_error(until));
        }
        return Err(ApiError::field("current_password", "wrong_password"));
    }
    if let Err(rule) = policy.check_password(&body.new_password, &principal.username) {
        return Err(ApiError::field("new_password", rule.code())
            .with_rule("new_password", password_rule(&policy)));
    }
    if body.new_password == body.current_password {
        return Err(ApiError::field("new_password", "password_reused"));
    }
    let hash = state.passwords().hash(body.new_password).await.map_err(ApiError::internal)?;
    store
        .set_password(
            &principal.scope(),
            &principal.actor(),
            user_id,
            hash,
            PasswordSetter::Own { keep_session: token_hash },
        )
        .await?;
    let mut updated = principal.clone();
    updated.password_change = None;
    Ok(Json(me_of(&state, &updated).await?))
}

/// The password rules, for the forms that set one (readable before sign-in).
#[derive(Debug, Serialize, ToSchema)]
pub struct PasswordRules {
    pub min_length: u32,
    pub min_classes: u32,
    pub max_length: u32,
}

#[utoipa::path(get, path = "/auth/password-rules", tag = "auth", responses((status = 200, body = PasswordRules)))]
async fn password_rules(State(state): State<AppState>) -> ApiResult<Json<PasswordRules>> {
    let policy = state.policy().await?;
    Ok(Json(PasswordRules {
        min_length: policy.password_min_length,
        min_classes: policy.password_min_classes,
        max_length: PASSWORD_MAX_LENGTH as u32,
    }))
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
        .routes(routes!(change_password))
        .routes(routes!(password_rules))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cookies_and_bearer_tokens() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; beacon_session=abc; b=2"));
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, "missing"), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer bk_xyz"));
        assert_eq!(bearer_token(&headers).as_deref(), Some("bk_xyz"));
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic Zm9v"));
        assert_eq!(bearer_token(&headers), None);
    }
}
