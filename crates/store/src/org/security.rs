//! The security policy (a settings document) and account locks.

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::event::NewEvent;
use beacon_core::org::{AccountLock, Permission, SecurityPolicy};
use beacon_core::scope::Scope;
use serde_json::json;
use sqlx::Row;

use super::parse_level;
use crate::sql::Sql;
use crate::{Store, StoreError, audit, scope};

/// Settings key of the security policy document.
pub const SECURITY_POLICY_KEY: &str = "security_policy";

impl Store {
    /// The stored policy over the defaults: a field added in a later version takes its default
    /// until the security administrator sets it.
    pub async fn security_policy(&self) -> Result<SecurityPolicy, StoreError> {
        let Some(text) = crate::settings::read_text(self.reader(), SECURITY_POLICY_KEY).await?
        else {
            return Ok(SecurityPolicy::default());
        };
        let stored: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("security policy: {e}")))?;
        let mut merged = serde_json::to_value(SecurityPolicy::default())
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        if let (Some(merged), Some(stored)) = (merged.as_object_mut(), stored.as_object()) {
            for (key, value) in stored {
                if merged.contains_key(key) {
                    merged.insert(key.clone(), value.clone());
                }
            }
        }
        serde_json::from_value(merged)
            .map_err(|e| StoreError::Corrupt(format!("security policy: {e}")))
    }

    pub async fn set_security_policy(
        &self,
        actor: &Actor,
        policy: &SecurityPolicy,
    ) -> Result<SecurityPolicy, StoreError> {
        policy.validate().map_err(StoreError::Invalid)?;
        let before = self.security_policy().await?;
        let now = self.now();
        let mut tx = self.begin().await?;
        crate::settings::write(&mut tx, now, SECURITY_POLICY_KEY, policy).await?;
        let record = NewAuditRecord::new(actor, "security.policy_update", Outcome::Success)
            .target("setting", SECURITY_POLICY_KEY)
            .detail(json!({ "before": before, "after": policy }));
        audit::append(&mut tx, now, record).await?;
        let event = NewEvent::new("security.policy_updated", Vec::new(), json!({}))
            .for_readers(Permission::ManageSecurity);
        crate::outbox::push(&mut tx, now, vec![event]).await?;
        tx.commit().await?;
        Ok(policy.clone())
    }

    /// Names locked now, with the account they belong to if any.
    pub async fn list_locks(&self, scope: &Scope) -> Result<Vec<AccountLock>, StoreError> {
        let mut sql = Sql::new(
            "SELECT l.username, l.locked_at, l.locked_until, u.id AS user_id, u.display_name, \
             n.id AS unit_id, n.code AS unit_code, n.name AS unit_name, n.level AS unit_level \
             FROM account_locks l LEFT JOIN users u ON u.username = l.username \
             LEFT JOIN units n ON n.id = u.unit_id WHERE l.locked_until > ",
        );
        sql.bind(to_millis(self.now()));
        scope::filter_with_unassigned(&mut sql, scope, "u.unit_id");
        sql.push(" ORDER BY l.locked_at DESC");
        let rows = sql.fetch_all(self.reader()).await?;
        rows.iter()
            .map(|row| {
                let unit_id: Option<String> = row.try_get("unit_id")?;
                let unit = match unit_id {
                    Some(id) => Some(beacon_core::org::UnitRef {
                        id,
                        code: row.try_get("unit_code")?,
                        name: row.try_get("unit_name")?,
                        level: parse_level(&row.try_get::<String, _>("unit_level")?)?,
                    }),
                    None => None,
                };
                Ok(AccountLock {
                    username: row.try_get("username")?,
                    locked_at: from_millis(row.try_get("locked_at")?),
                    locked_until: from_millis(row.try_get("locked_until")?),
                    user_id: row.try_get("user_id")?,
                    display_name: row.try_get("display_name")?,
                    unit,
                })
            })
            .collect()
    }

    /// Lifts a lock (and forgets the failures) on a name visible in the scope.
    pub async fn unlock(
        &self,
        scope: &Scope,
        actor: &Actor,
        username: &str,
    ) -> Result<(), StoreError> {
        let lock = self
            .list_locks(scope)
            .await?
            .into_iter()
            .find(|l| l.username == username)
            .ok_or(StoreError::NotFound)?;
        let now = self.now();
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM account_locks WHERE username = $1")
            .bind(username.to_owned())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM login_failures WHERE username = $1")
            .bind(username.to_owned())
            .execute(&mut *tx)
            .await?;
        let mut record = NewAuditRecord::new(actor, "security.unlock", Outcome::Success)
            .unit(lock.unit.as_ref().map(|u| u.id.as_str()))
            .detail(
                json!({ "username": username, "locked_until": lock.locked_until.to_rfc3339() }),
            );
        if let Some(id) = &lock.user_id {
            record = record.target("user", id);
        }
        audit::append(&mut tx, now, record).await?;
        tx.commit().await?;
        Ok(())
    }
}
