//! API tokens for integrations: a unit and roles, sent as a bearer token; only the SHA-256 of
//! the token is stored.

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::id::new_id;
use beacon_core::org::{ApiToken, Role, UnitRef, validate_token_roles};
use beacon_core::scope::Scope;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{roles_from_json, roles_to_json, unit_ref};
use crate::sql::Sql;
use crate::{Store, StoreError, audit, scope};

const COLUMNS: &str = "t.id, t.name, t.roles, t.created_by, t.created_at, t.expires_at, \
    t.revoked_at, t.last_used_at, n.id AS unit_id, n.code AS unit_code, n.name AS unit_name, \
    n.level AS unit_level";

#[derive(Debug, Clone)]
pub struct NewToken {
    pub name: String,
    pub unit_id: String,
    pub roles: Vec<Role>,
    pub expires_at: Option<DateTime<Utc>>,
    pub token_hash: String,
}

/// The integration behind a bearer token.
#[derive(Debug, Clone)]
pub struct TokenPrincipal {
    pub id: String,
    pub name: String,
    pub unit: UnitRef,
    pub top_of_tree: bool,
    pub roles: Vec<Role>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked: bool,
    pub last_used_at: Option<DateTime<Utc>>,
}

fn token_row(row: &AnyRow) -> Result<ApiToken, StoreError> {
    let expires: Option<i64> = row.try_get("expires_at")?;
    let revoked: Option<i64> = row.try_get("revoked_at")?;
    let used: Option<i64> = row.try_get("last_used_at")?;
    Ok(ApiToken {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        unit: unit_ref(row, "unit_")?,
        roles: roles_from_json(&row.try_get::<String, _>("roles")?)?,
        created_by: row.try_get("created_by")?,
        created_at: from_millis(row.try_get("created_at")?),
        expires_at: expires.map(from_millis),
        revoked_at: revoked.map(from_millis),
        last_used_at: used.map(from_millis),
    })
}

fn select() -> Sql {
    Sql::new(&format!(
        "SELECT {COLUMNS} FROM api_tokens t JOIN units n ON n.id = t.unit_id WHERE 1 = 1"
    ))
}

impl Store {
    pub async fn list_tokens(&self, scope: &Scope) -> Result<Vec<ApiToken>, StoreError> {
        let mut sql = select();
        scope::filter(&mut sql, scope, "t.unit_id");
        sql.push(" ORDER BY t.created_at DESC");
        sql.fetch_all(self.reader()).await?.iter().map(token_row).collect()
    }

    pub async fn create_token(
        &self,
        scope: &Scope,
        actor: &Actor,
        new: NewToken,
    ) -> Result<ApiToken, StoreError> {
        // The rule is checked where the token is written too, whoever calls.
        if let Err(code) = validate_token_roles(&new.roles) {
            return Err(StoreError::invalid("roles", code));
        }
        let now = self.now();
        let mut tx = self.begin().await?;
        if !scope::contains(&mut *tx, scope, &new.unit_id).await? {
            return Err(StoreError::invalid("unit_id", "not_found"));
        }
        let id = new_id();
        sqlx::query(
            "INSERT INTO api_tokens (id, name, token_hash, unit_id, roles, created_by, created_at, \
             expires_at, revoked_at, last_used_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL)",
        )
        .bind(id.clone())
        .bind(new.name.clone())
        .bind(new.token_hash)
        .bind(new.unit_id.clone())
        .bind(roles_to_json(&new.roles))
        .bind(actor.user_id.clone())
        .bind(to_millis(now))
        .bind(new.expires_at.map(to_millis))
        .execute(&mut *tx)
        .await?;
        let record = NewAuditRecord::new(actor, "token.create", Outcome::Success)
            .target("api_token", &id)
            .unit(Some(&new.unit_id))
            .detail(json!({
                "after": {
                    "name": new.name,
                    "unit_id": new.unit_id,
                    "roles": roles_to_json(&new.roles),
                    "expires_at": new.expires_at.map(|t| t.to_rfc3339()),
                }
            }));
        audit::append(&mut tx, now, record).await?;
        let mut sql = select();
        sql.push(" AND t.id = ").bind(id);
        let token = token_row(&sql.fetch_one(&mut *tx).await?)?;
        tx.commit().await?;
        Ok(token)
    }

    pub async fn revoke_token(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: &str,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let mut sql = select();
        sql.push(" AND t.id = ").bind(id.to_owned());
        scope::filter(&mut sql, scope, "t.unit_id");
        let token = token_row(&sql.fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound)?)?;
        if token.revoked_at.is_some() {
            return Err(StoreError::Conflict("already_revoked"));
        }
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
            .bind(to_millis(now))
            .bind(id.to_owned())
            .execute(&mut *tx)
            .await?;
        let record = NewAuditRecord::new(actor, "token.revoke", Outcome::Success)
            .target("api_token", id)
            .unit(Some(&token.unit.id))
            .detail(json!({ "name": token.name }));
        audit::append(&mut tx, now, record).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn token_principal(
        &self,
        token_hash: &str,
    ) -> Result<Option<TokenPrincipal>, StoreError> {
        let mut sql = select();
        sql.push(" AND t.token_hash = ").bind(token_hash.to_owned());
        let Some(row) = sql.fetch_optional(self.reader()).await? else {
            return Ok(None);
        };
        let token = token_row(&row)?;
        let parent: Option<String> = sqlx::query("SELECT parent_id FROM units WHERE id = $1")
            .bind(token.unit.id.clone())
            .fetch_one(self.reader())
            .await?
            .try_get("parent_id")?;
        Ok(Some(TokenPrincipal {
            top_of_tree: parent.is_none(),
            id: token.id,
            name: token.name,
            unit: token.unit,
            // A token created before tokens were limited to integration roles keeps only those:
            // one that held a business role can no longer act in it.
            roles: token.roles.into_iter().filter(|r| r.fits_token()).collect(),
            expires_at: token.expires_at,
            revoked: token.revoked_at.is_some(),
            last_used_at: token.last_used_at,
        }))
    }

    pub async fn touch_token(&self, id: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(to_millis(self.now()))
            .bind(id.to_owned())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
