//! Calendar subscription links: an unguessable secret in a URL that a phone calendar polls. Only
//! the SHA-256 of the secret is kept; a link stops working when revoked, when its owner is
//! deactivated, or when its unit leaves the owner's scope.

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::id::new_id;
use beacon_core::scope::Scope;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use utoipa::ToSchema;

use super::unit_in_scope;
use crate::{Store, StoreError, audit};

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DutyFeed {
    pub id: String,
    pub name: String,
    /// The unit whose roster the link shows; absent for the owner's own shifts.
    pub unit_id: Option<String>,
    pub unit_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// What a link shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedTarget {
    User { user_id: String, name: String },
    Unit { unit_id: String, name: String },
}

impl Store {
    pub async fn create_duty_feed(
        &self,
        scope: &Scope,
        actor: &Actor,
        unit_id: Option<&str>,
        name: &str,
        token_hash: &str,
    ) -> Result<DutyFeed, StoreError> {
        let now = self.now();
        let user_id = actor.user_id.clone().ok_or(StoreError::Forbidden("person_only"))?;
        let mut tx = self.begin().await?;
        let unit_name = match unit_id {
            Some(id) => Some(unit_in_scope(&mut *tx, scope, id).await?.name),
            None => None,
        };
        let active: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM duty_feeds WHERE user_id = $1 AND revoked_at IS NULL",
        )
        .bind(user_id.clone())
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        if active >= 20 {
            return Err(StoreError::Conflict("too_many_feeds"));
        }
        let id = new_id();
        sqlx::query(
            "INSERT INTO duty_feeds (id, user_id, unit_id, token_hash, name, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id.clone())
        .bind(user_id)
        .bind(unit_id.map(str::to_owned))
        .bind(token_hash.to_owned())
        .bind(name.to_owned())
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "duty.feed_created", Outcome::Success)
                .target("duty_feed", &id)
                .unit(unit_id),
        )
        .await?;
        tx.commit().await?;
        Ok(DutyFeed {
            id,
            name: name.to_owned(),
            unit_id: unit_id.map(str::to_owned),
            unit_name,
            created_at: now,
            revoked_at: None,
            last_used_at: None,
        })
    }

    pub async fn duty_feeds(&self, user_id: &str) -> Result<Vec<DutyFeed>, StoreError> {
        let rows = sqlx::query(
            "SELECT f.id, f.name, f.unit_id, u.name AS unit_name, f.created_at, f.revoked_at, \
             f.last_used_at FROM duty_feeds f LEFT JOIN units u ON u.id = f.unit_id \
             WHERE f.user_id = $1 ORDER BY f.created_at DESC",
        )
        .bind(user_id.to_owned())
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(DutyFeed {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    unit_id: r.try_get("unit_id")?,
                    unit_name: r.try_get("unit_name")?,
                    created_at: from_millis(r.try_get("created_at")?),
                    revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.map(from_millis),
                    last_used_at: r.try_get::<Option<i64>, _>("last_used_at")?.map(from_millis),
                })
            })
            .collect()
    }

    /// Revokes one of the caller's own links.
    pub async fn revoke_duty_feed(&self, actor: &Actor, id: &str) -> Result<(), StoreError> {
        let now = self.now();
        let user_id = actor.user_id.clone().ok_or(StoreError::NotFound)?;
        let mut tx = self.begin().await?;
        let n = sqlx::query(
            "UPDATE duty_feeds SET revoked_at = $1 WHERE id = $2 AND user_id = $3 \
             AND revoked_at IS NULL",
        )
        .bind(to_millis(now))
        .bind(id.to_owned())
        .bind(user_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "duty.feed_revoked", Outcome::Success)
                .target("duty_feed", id),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// What a link shows, if it still works.
    pub async fn duty_feed_target(&self, token_hash: &str) -> Result<FeedTarget, StoreError> {
        let row = sqlx::query(
            "SELECT f.id, f.unit_id, f.user_id, us.display_name, us.unit_id AS user_unit, \
             un.name AS unit_name FROM duty_feeds f JOIN users us ON us.id = f.user_id \
             LEFT JOIN units un ON un.id = f.unit_id \
             WHERE f.token_hash = $1 AND f.revoked_at IS NULL AND us.active = $2",
        )
        .bind(token_hash.to_owned())
        .bind(true)
        .fetch_optional(self.reader())
        .await?
        .ok_or(StoreError::NotFound)?;
        let id: String = row.try_get("id")?;
        let target = match row.try_get::<Option<String>, _>("unit_id")? {
            Some(unit_id) => {
                let user_unit: String = row.try_get("user_unit")?;
                let within = sqlx::query(
                    "SELECT 1 FROM unit_closure WHERE ancestor_id = $1 AND descendant_id = $2",
                )
                .bind(user_unit)
                .bind(unit_id.clone())
                .fetch_optional(self.reader())
                .await?;
                if within.is_none() {
                    return Err(StoreError::NotFound);
                }
                FeedTarget::Unit { unit_id, name: row.try_get("unit_name")? }
            }
            None => FeedTarget::User {
                user_id: row.try_get("user_id")?,
                name: row.try_get("display_name")?,
            },
        };
        // Best effort: a failure to note the use must not break the calendar.
        let _ = sqlx::query("UPDATE duty_feeds SET last_used_at = $1 WHERE id = $2")
            .bind(to_millis(self.now()))
            .bind(id)
            .execute(self.writer())
            .await;
        Ok(target)
    }
}
