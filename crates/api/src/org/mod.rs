//! Organisation: sign-in and sessions, units, users, API tokens and the security policy.

pub mod auth;
mod security;
mod tokens;
mod units;
mod users;

use serde::{Deserialize, Deserializer};
use utoipa_axum::router::OpenApiRouter;

use crate::AppState;
use crate::http::ApiError;

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
