//! Organisation records as the rest of Beacon sees them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Role, UnitLevel};

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Unit {
    pub id: String,
    pub parent_id: Option<String>,
    /// GB/T 2260 region code where the unit has one.
    pub code: String,
    pub name: String,
    pub level: UnitLevel,
    pub sort_order: i64,
    /// Whether a GeoJSON boundary is stored (fetch it from the unit's detail or map).
    pub has_boundary: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Unit {
    pub fn to_ref(&self) -> UnitRef {
        UnitRef {
            id: self.id.clone(),
            code: self.code.clone(),
            name: self.name.clone(),
            level: self.level,
        }
    }
}

/// A unit named inside another record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct UnitRef {
    pub id: String,
    pub code: String,
    pub name: String,
    pub level: UnitLevel,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    /// Personal data: only administrators and the person see it.
    pub phone: Option<String>,
    pub unit: UnitRef,
    pub roles: Vec<Role>,
    pub active: bool,
    pub must_change_password: bool,
    pub password_changed_at: DateTime<Utc>,
    pub last_login_at: Option<DateTime<Utc>>,
    /// Set while the account is locked after failed sign-ins.
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An integration's credential. The secret itself is shown once, at creation, and never stored.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub unit: UnitRef,
    pub roles: Vec<Role>,
    pub created_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A name locked out after repeated failed sign-ins. The name may not belong to any account:
/// unknown names lock the same way so lockout does not reveal which accounts exist.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AccountLock {
    pub username: String,
    pub locked_at: DateTime<Utc>,
    pub locked_until: DateTime<Utc>,
    pub user_id: Option<String>,
    pub display_name: Option<String>,
    pub unit: Option<UnitRef>,
}
