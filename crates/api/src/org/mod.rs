//! Organisation: sign-in and sessions, units, users, API tokens and the security policy.

pub mod auth;
mod security;
mod tokens;
pub(crate) mod units;
mod users;

use serde::{Deserialize, Deserializer};
use utoipa_axum::router::OpenApiRouter;

use beacon_core::org::{Permission, Unit};
use beacon_store::StoreError;
use futures::future::BoxFuture;

use crate::AppState;
use crate::http::{ApiError, ApiResult};
use crate::workbench::{Card, Item, Level};

pub use auth::{AnySession, Principal};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(auth::routes())
        .merge(units::routes())
        .merge(users::routes())
        .merge(tokens::routes())
        .merge(security::routes())
}

/// A path id that cannot name a record answers 404 without a query. Ids are lowercase UUID
/// text; one typed or copied in upper case names the same record, so it is lowercased here.
pub(crate) fn check_id(id: &str) -> Result<String, ApiError> {
    let id = id.to_ascii_lowercase();
    if beacon_core::id::looks_like_id(&id) { Ok(id) } else { Err(ApiError::not_found()) }
}

/// For PATCH bodies: distinguishes an absent field (`None`) from an explicit `null`
/// (`Some(None)`, "clear it").
pub(crate) fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Tokens expiring within this many days show on the administrators' workbench.
const TOKEN_EXPIRY_DAYS: i64 = 30;

/// The administrators' cards: accounts locked after failed sign-ins, and API tokens that expire
/// soon (or have expired and are still listed).
pub(crate) fn workbench_cards<'a>(
    state: &'a AppState,
    principal: &'a Principal,
) -> BoxFuture<'a, ApiResult<Vec<Card>>> {
    Box::pin(async move {
        let mut cards = Vec::new();
        let store = state.store();
        let now = store.now();
        let scope = principal.scope();
        if principal.can(Permission::ManageSecurity) {
            let locks = store.list_locks(&scope).await?;
            let items = locks
                .iter()
                .map(|lock| {
                    // The name tried when no account has it (someone guessing), else the person.
                    let item = match &lock.display_name {
                        Some(name) => Item::new(name.clone()),
                        None => Item::new(lock.username.clone()).tag("unknown_account"),
                    };
                    let item = match &lock.unit {
                        Some(unit) => item.detail(unit.name.clone()),
                        None => item,
                    };
                    item.at(lock.locked_until).level(Level::Warning).link("/security")
                })
                .collect();
            cards.push(Card::new("admin.locked_accounts", locks.len() as i64, items));
        }
        if principal.can(Permission::ManageOrg) {
            let soon = now + chrono::Duration::days(TOKEN_EXPIRY_DAYS);
            let tokens: Vec<_> = store
                .list_tokens(&scope)
                .await?
                .into_iter()
                .filter(|t| t.revoked_at.is_none() && t.expires_at.is_some_and(|at| at <= soon))
                .collect();
            let items = tokens
                .iter()
                .map(|t| {
                    let expires = t.expires_at.unwrap_or(now);
                    let expired = expires <= now;
                    Item::new(t.name.clone())
                        .detail(t.unit.name.clone())
                        .at(expires)
                        .level(if expired { Level::Danger } else { Level::Warning })
                        .tag(if expired { "expired" } else { "expiring" })
                        .link("/tokens")
                })
                .collect();
            cards.push(Card::new("admin.tokens_expiring", tokens.len() as i64, items));
        }
        Ok(cards)
    })
}

/// A unit named by its code, as the UI and other systems name units.
pub(crate) async fn unit_of(
    state: &AppState,
    principal: &Principal,
    code: Option<&str>,
) -> ApiResult<Unit> {
    let Some(code) = code else {
        return state
            .store()
            .get_unit_by_code(&principal.scope(), &principal.unit.code)
            .await
            .map_err(ApiError::from);
    };
    match state.store().get_unit_by_code(&principal.scope(), code).await {
        Ok(unit) => Ok(unit),
        Err(StoreError::NotFound) => Err(ApiError::field("unit", "not_found")),
        Err(e) => Err(e.into()),
    }
}
