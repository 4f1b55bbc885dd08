//! Sign-in bookkeeping: the account a name refers to, failed attempts and locks, and sessions
//! (stored by the hash of their token only).

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::event::NewEvent;
use beacon_core::org::{Permission, Role, SecurityPolicy, UnitRef};
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::Row;

use super::unit_ref;
use super::user::roles_column;
use crate::sql::get_bool;
use crate::{Store, StoreError, audit, outbox};

/// What sign-in needs to know about an account.
#[derive(Debug, Clone)]
pub struct LoginAccount {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub unit_id: String,
    pub password_hash: String,
    pub password_changed_at: DateTime<Utc>,
    pub must_change_password: bool,
    pub active: bool,
}

/// The user behind a session token, as each request sees it.
#[derive(Debug, Clone)]
pub struct SessionPrincipal {
    pub user_id: String,
    pub username: String,
    pub display_name: String,
    pub unit: UnitRef,
    /// The user's unit is the root of the tree.
    pub top_of_tree: bool,
    pub roles: Vec<Role>,
    pub active: bool,
    pub must_change_password: bool,
    pub password_changed_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked: bool,
}

/// Who attempted a sign-in: the typed name, and the account when it exists.
/// An attempt names the account's holder when the name is an account's, else what was typed.
fn attempt_actor(username: &str, account: Option<&LoginAccount>, ip: Option<String>) -> Actor {
    let name = account.map_or(username, |a| a.display_name.as_str());
    Actor::caller(account.map(|a| a.id.as_str()), name, account.map(|a| a.unit_id.as_str()), ip)
}

impl Store {
    pub async fn find_login(&self, username: &str) -> Result<Option<LoginAccount>, StoreError> {
        let row = sqlx::query(
            "SELECT id, username, display_name, unit_id, password_hash, password_changed_at, \
             must_change_password, active FROM users WHERE username = $1",
        )
        .bind(username.to_owned())
        .fetch_optional(self.reader())
        .await?;
        row.map(|row| {
            Ok(LoginAccount {
                id: row.try_get("id")?,
                username: row.try_get("username")?,
                display_name: row.try_get("display_name")?,
                unit_id: row.try_get("unit_id")?,
                password_hash: row.try_get("password_hash")?,
                password_changed_at: from_millis(row.try_get("password_changed_at")?),
                must_change_password: get_bool(&row, "must_change_password")?,
                active: get_bool(&row, "active")?,
            })
        })
        .transpose()
    }

    /// When the name is locked, until when.
    pub async fn locked_until(&self, username: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        let row = sqlx::query(
            "SELECT locked_until FROM account_locks WHERE username = $1 AND locked_until > $2",
        )
        .bind(username.to_owned())
        .bind(to_millis(self.now()))
        .fetch_optional(self.reader())
        .await?;
        Ok(row.map(|r| r.try_get("locked_until")).transpose()?.map(from_millis))
    }

    /// Records a failed sign-in under the typed name and locks the name when the policy's
    /// threshold is reached within its window. Returns the failures counted and, when the
    /// name is now locked, until when.
    pub async fn record_login_failure(
        &self,
        username: &str,
        account: Option<&LoginAccount>,
        policy: &SecurityPolicy,
        ip: Option<String>,
        reason: &str,
    ) -> Result<(u32, Option<DateTime<Utc>>), StoreError> {
        let now = self.now();
        let now_ms = to_millis(now);
        let window_start = to_millis(now - policy.lockout_window());
        let mut tx = self.begin().await?;
        // Failures of one name counted at the same moment must see each other.
        self.backend().serialize(&mut tx, &format!("login:{username}")).await?;
        sqlx::query("DELETE FROM login_failures WHERE username = $1 AND at < $2")
            .bind(username.to_owned())
            .bind(window_start)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO login_failures (username, at) VALUES ($1, $2)")
            .bind(username.to_owned())
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        let failures: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM login_failures WHERE username = $1")
                .bind(username.to_owned())
                .fetch_one(&mut *tx)
                .await?
                .try_get("n")?;
        let failures = u32::try_from(failures).unwrap_or(u32::MAX);
        let actor = attempt_actor(username, account, ip);
        let mut record = NewAuditRecord::new(&actor, "auth.login", Outcome::Failure)
            .detail(json!({ "reason": reason, "failures": failures }));
        if let Some(account) = account {
            record = record.target("user", &account.id);
        }
        audit::append(&mut tx, now, record).await?;
        let mut locked_until = None;
        if failures >= policy.lockout_threshold {
            let until = now + policy.lockout_duration();
            sqlx::query(
                "INSERT INTO account_locks (username, locked_at, locked_until) VALUES ($1, $2, $3) \
                 ON CONFLICT (username) DO UPDATE SET locked_at = $2, locked_until = $3",
            )
            .bind(username.to_owned())
            .bind(now_ms)
            .bind(to_millis(until))
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM login_failures WHERE username = $1")
                .bind(username.to_owned())
                .execute(&mut *tx)
                .await?;
            let mut record = NewAuditRecord::new(&actor, "auth.lockout", Outcome::Success)
                .detail(json!({ "failures": failures, "locked_until": until.to_rfc3339() }));
            if let Some(account) = account {
                record = record.target("user", &account.id);
            }
            audit::append(&mut tx, now, record).await?;
            let data = json!({ "username": username, "locked_until": until });
            let event = |path| {
                NewEvent::new("auth.lockout", path, data).for_readers(Permission::ManageSecurity)
            };
            match account {
                Some(account) => outbox::announce(&mut tx, now, &account.unit_id, event).await?,
                // An unknown name belongs to no unit: the top of the tree hears of it.
                None => outbox::push(&mut tx, now, vec![event(Vec::new())]).await?,
            }
            locked_until = Some(until);
        }
        tx.commit().await?;
        Ok((failures, locked_until))
    }

    /// Records a refused sign-in that is not a wrong password (locked, disabled).
    pub async fn record_login_refusal(
        &self,
        username: &str,
        account: Option<&LoginAccount>,
        ip: Option<String>,
        reason: &str,
    ) -> Result<(), StoreError> {
        let actor = attempt_actor(username, account, ip);
        let mut record = NewAuditRecord::new(&actor, "auth.login", Outcome::Denied)
            .detail(json!({ "reason": reason }));
        if let Some(account) = account {
            record = record.target("user", &account.id);
        }
        self.audit(record).await?;
        Ok(())
    }

    /// Opens a session after a successful sign-in: clears the failures, stores the token's hash,
    /// and audits it, in one transaction.
    pub async fn start_session(
        &self,
        account: &LoginAccount,
        token_hash: &str,
        expires_at: DateTime<Utc>,
        ip: Option<String>,
        user_agent: Option<String>,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let now_ms = to_millis(now);
        let mut tx = self.begin().await?;
        self.backend().serialize(&mut tx, &format!("login:{}", account.username)).await?;
        // The name may have been locked while this attempt's password was being checked.
        let lock = sqlx::query(
            "SELECT locked_until FROM account_locks WHERE username = $1 AND locked_until > $2",
        )
        .bind(account.username.clone())
        .bind(now_ms)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(lock) = lock {
            return Err(StoreError::Locked(from_millis(lock.try_get("locked_until")?)));
        }
        sqlx::query("DELETE FROM login_failures WHERE username = $1")
            .bind(account.username.clone())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, \
             revoked_at, ip, user_agent) VALUES ($1, $2, $3, $3, $4, NULL, $5, $6)",
        )
        .bind(token_hash.to_owned())
        .bind(account.id.clone())
        .bind(now_ms)
        .bind(to_millis(expires_at))
        .bind(ip.clone())
        .bind(user_agent.map(|ua| ua.chars().take(256).collect::<String>()))
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
            .bind(now_ms)
            .bind(account.id.clone())
            .execute(&mut *tx)
            .await?;
        let actor = attempt_actor(&account.username, Some(account), ip);
        let record =
            NewAuditRecord::new(&actor, "auth.login", Outcome::Success).target("user", &account.id);
        audit::append(&mut tx, now, record).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn session_principal(
        &self,
        token_hash: &str,
    ) -> Result<Option<SessionPrincipal>, StoreError> {
        // One query per request: the session, its user, unit and roles.
        let row = sqlx::query(
            "SELECT s.created_at, s.last_seen_at, s.expires_at, s.revoked_at, \
             u.id AS user_id, u.username, u.display_name, u.active, u.must_change_password, \
             u.password_changed_at, u.roles, n.id AS unit_id, n.code AS unit_code, \
             n.name AS unit_name, n.level AS unit_level, n.parent_id AS unit_parent_id \
             FROM sessions s JOIN users u ON u.id = s.user_id JOIN units n ON n.id = u.unit_id \
             WHERE s.token_hash = $1",
        )
        .bind(token_hash.to_owned())
        .fetch_optional(self.reader())
        .await?;
        let Some(row) = row else { return Ok(None) };
        let revoked: Option<i64> = row.try_get("revoked_at")?;
        Ok(Some(SessionPrincipal {
            roles: roles_column(&row)?,
            user_id: row.try_get("user_id")?,
            username: row.try_get("username")?,
            display_name: row.try_get("display_name")?,
            unit: unit_ref(&row, "unit_")?,
            top_of_tree: row.try_get::<Option<String>, _>("unit_parent_id")?.is_none(),
            active: get_bool(&row, "active")?,
            must_change_password: get_bool(&row, "must_change_password")?,
            password_changed_at: from_millis(row.try_get("password_changed_at")?),
            created_at: from_millis(row.try_get("created_at")?),
            last_seen_at: from_millis(row.try_get("last_seen_at")?),
            expires_at: from_millis(row.try_get("expires_at")?),
            revoked: revoked.is_some(),
        }))
    }

    /// Marks a session used now (callers throttle this so reads stay reads).
    pub async fn touch_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2")
            .bind(to_millis(self.now()))
            .bind(token_hash.to_owned())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Ends a session that timed out or whose account changed (no audit record: nobody acted).
    pub async fn expire_session(&self, token_hash: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL",
        )
        .bind(to_millis(self.now()))
        .bind(token_hash.to_owned())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sign-out.
    pub async fn end_session(&self, token_hash: &str, actor: &Actor) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL",
        )
        .bind(to_millis(now))
        .bind(token_hash.to_owned())
        .execute(&mut *tx)
        .await?;
        let mut record = NewAuditRecord::new(actor, "auth.logout", Outcome::Success);
        if let Some(id) = &actor.user_id {
            record = record.target("user", id);
        }
        audit::append(&mut tx, now, record).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes sessions that ended more than a day ago and failures outside any window.
    pub async fn prune_sessions(&self) -> Result<u64, StoreError> {
        let cutoff = to_millis(self.now() - chrono::Duration::days(1));
        let mut tx = self.begin().await?;
        let sessions = sqlx::query(
            "DELETE FROM sessions WHERE expires_at < $1 OR (revoked_at IS NOT NULL AND revoked_at < $1)",
        )
        .bind(cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM account_locks WHERE locked_until < $1")
            .bind(cutoff)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(sessions)
    }
}
