//! Units, users, sessions, API tokens and the security policy.

mod security;
mod session;
mod token;
mod unit;
mod user;

pub use security::SECURITY_POLICY_KEY;
pub use session::{LoginAccount, SessionPrincipal};
pub use token::{NewToken, TokenPrincipal};
pub use unit::{NewUnit, UnitChanges, UnitDetail};
pub(crate) use unit::{boundary_value, unit_in_scope};
pub use user::{NewUser, PasswordSetter, UserChanges, UserFilter};
pub(crate) use user::{roles_column, unit_users_with_roles};

use beacon_core::org::{Role, UnitLevel, UnitRef};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::StoreError;

fn parse_level(s: &str) -> Result<UnitLevel, StoreError> {
    UnitLevel::parse(s).ok_or_else(|| StoreError::Corrupt(format!("unit level {s:?}")))
}

fn parse_role(s: &str) -> Result<Role, StoreError> {
    Role::parse(s).ok_or_else(|| StoreError::Corrupt(format!("role {s:?}")))
}

/// Reads a unit reference from columns named `<prefix>id`, `<prefix>code`, `<prefix>name` and
/// `<prefix>level`.
fn unit_ref(row: &AnyRow, prefix: &str) -> Result<UnitRef, StoreError> {
    let level: String = row.try_get(format!("{prefix}level").as_str())?;
    Ok(UnitRef {
        id: row.try_get(format!("{prefix}id").as_str())?,
        code: row.try_get(format!("{prefix}code").as_str())?,
        name: row.try_get(format!("{prefix}name").as_str())?,
        level: parse_level(&level)?,
    })
}

fn roles_from_json(text: &str) -> Result<Vec<Role>, StoreError> {
    let names: Vec<String> =
        serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("roles: {e}")))?;
    names.iter().map(|n| parse_role(n)).collect()
}

fn roles_to_json(roles: &[Role]) -> String {
    serde_json::Value::from(roles.iter().map(|r| r.as_str()).collect::<Vec<_>>()).to_string()
}

/// Units, people and API tokens as a person reads them ([`crate::names`]).
impl crate::Store {
    /// Units by code and name.
    pub async fn unit_names(
        &self,
        ids: &[String],
    ) -> Result<Vec<crate::names::RecordName>, StoreError> {
        crate::names::fetch(
            self,
            "SELECT id, id AS unit_id, code AS number, name AS title, CAST(NULL AS BIGINT) AS at \
             FROM units WHERE id IN (",
            ids,
        )
        .await
    }

    /// People by display name and unit.
    pub async fn user_names(
        &self,
        ids: &[String],
    ) -> Result<Vec<crate::names::RecordName>, StoreError> {
        crate::names::fetch(
            self,
            "SELECT u.id, u.unit_id, CAST(NULL AS TEXT) AS number, \
             u.display_name || ' · ' || n.name AS title, CAST(NULL AS BIGINT) AS at \
             FROM users u JOIN units n ON n.id = u.unit_id WHERE u.id IN (",
            ids,
        )
        .await
    }

    /// API tokens by name.
    pub async fn token_names(
        &self,
        ids: &[String],
    ) -> Result<Vec<crate::names::RecordName>, StoreError> {
        crate::names::fetch(
            self,
            "SELECT id, unit_id, CAST(NULL AS TEXT) AS number, name AS title, \
             CAST(NULL AS BIGINT) AS at FROM api_tokens WHERE id IN (",
            ids,
        )
        .await
    }
}
