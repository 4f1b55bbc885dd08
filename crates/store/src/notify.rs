//! The notification pipeline's storage: the in-app inbox and the e-mail outbox. Notifications
//! are written in the transaction of the change that causes them, with the live event that
//! pushes each to its addressee (the events outbox, [`crate::outbox`]); the mailer sends the
//! e-mail outbox, recording each attempt.

use beacon_core::clock::{from_millis, to_millis};
use beacon_core::event::NewEvent;
use beacon_core::id::new_id;
use beacon_core::notify::{Notification, email_text, link};
use beacon_core::page::PageRequest;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use sqlx::Row;
use sqlx::any::AnyRow;

use std::collections::HashMap;

use crate::db::backend_of;
use crate::sql::{Sql, Val, insert_batch};
use crate::{Page, Store, StoreError, Tx};

#[derive(Debug, Clone)]
pub struct NewNotification {
    pub user_id: String,
    pub kind: &'static str,
    pub unit_id: Option<String>,
    pub subject: Option<(&'static str, String)>,
    pub data: Value,
}

/// A notification with its addressee.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub user_id: String,
    pub notification: Notification,
}

/// One e-mail to send.
#[derive(Debug, Clone)]
pub struct OutgoingMail {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub body: String,
    pub attempts: i64,
}

/// Attempts before an e-mail is given up (each recorded with its error).
pub const MAIL_ATTEMPTS: i64 = 6;

/// Writes notifications inside the caller's transaction, and queues e-mail for addressees who
/// have an address when `mail` is on. Batched: the scheduler may raise thousands at once.
pub async fn send(
    tx: &mut Tx,
    at: DateTime<Utc>,
    mail: bool,
    items: Vec<NewNotification>,
) -> Result<Vec<Delivery>, StoreError> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let backend = backend_of(tx);
    let at_ms = to_millis(at);
    let out: Vec<Delivery> = items
        .into_iter()
        .map(|item| {
            let subject_type = item.subject.as_ref().map(|s| s.0.to_owned());
            let subject_id = item.subject.map(|s| s.1);
            Delivery {
                user_id: item.user_id,
                notification: Notification {
                    id: new_id(),
                    kind: item.kind.to_owned(),
                    unit_id: item.unit_id,
                    link: link(item.kind, subject_type.as_deref(), subject_id.as_deref()),
                    subject_type,
                    subject_id,
                    data: item.data,
                    created_at: at,
                    read_at: None,
                },
            }
        })
        .collect();
    let rows = out
        .iter()
        .map(|d| {
            let n = &d.notification;
            vec![
                Val::Text(n.id.clone()),
                Val::Text(d.user_id.clone()),
                Val::Text(n.kind.clone()),
                Val::MaybeText(n.unit_id.clone()),
                Val::MaybeText(n.subject_type.clone()),
                Val::MaybeText(n.subject_id.clone()),
                Val::Text(n.data.to_string()),
                Val::Int(at_ms),
            ]
        })
        .collect();
    insert_batch(
        tx,
        backend,
        "notifications",
        &["id", "user_id", "kind", "unit_id", "subject_type", "subject_id", "data", "created_at"],
        rows,
    )
    .await?;
    let events = out
        .iter()
        .map(|d| {
            let data = serde_json::to_value(&d.notification).unwrap_or_default();
            NewEvent::new("notification", Vec::new(), data).for_user(&d.user_id)
        })
        .collect();
    crate::outbox::push(tx, at, events).await?;
    if mail {
        let mut users: Vec<&str> = out.iter().map(|d| d.user_id.as_str()).collect();
        users.sort_unstable();
        users.dedup();
        let mut addresses: HashMap<String, String> = HashMap::new();
        for chunk in users.chunks(500) {
            let mut sql = Sql::new("SELECT id, email FROM users WHERE active = ");
            sql.bind(true).push(" AND email IS NOT NULL AND id IN (");
            sql.bind_list(chunk.iter().map(|id| (*id).to_owned())).push(")");
            for r in sql.fetch_all(&mut **tx).await? {
                addresses.insert(r.try_get("id")?, r.try_get("email")?);
            }
        }
        let rows: Vec<Vec<Val>> = out
            .iter()
            .filter_map(|d| {
                let address = addresses.get(&d.user_id)?;
                let n = &d.notification;
                let (subject, body) = email_text(&n.kind, &n.data, n.link.as_deref());
                Some(vec![
                    Val::Text(new_id()),
                    Val::Text(n.id.clone()),
                    Val::Text(address.clone()),
                    Val::Text(subject),
                    Val::Text(body),
                    Val::Text("pending".to_owned()),
                    Val::Int(0),
                    Val::Int(at_ms),
                    Val::Int(at_ms),
                ])
            })
            .collect();
        insert_batch(
            tx,
            backend,
            "email_outbox",
            &[
                "id",
                "notification_id",
                "to_address",
                "subject",
                "body",
                "status",
                "attempts",
                "next_attempt_at",
                "created_at",
            ],
            rows,
        )
        .await?;
    }
    Ok(out)
}

fn notification_row(r: &AnyRow) -> Result<Notification, StoreError> {
    let data: String = r.try_get("data")?;
    let kind: String = r.try_get("kind")?;
    let subject_type: Option<String> = r.try_get("subject_type")?;
    let subject_id: Option<String> = r.try_get("subject_id")?;
    Ok(Notification {
        id: r.try_get("id")?,
        link: link(&kind, subject_type.as_deref(), subject_id.as_deref()),
        kind,
        unit_id: r.try_get("unit_id")?,
        subject_type,
        subject_id,
        data: serde_json::from_str(&data)
            .map_err(|e| StoreError::Corrupt(format!("notification: {e}")))?,
        created_at: from_millis(r.try_get("created_at")?),
        read_at: r.try_get::<Option<i64>, _>("read_at")?.map(from_millis),
    })
}

/// Which of a person's notifications to list.
#[derive(Debug, Clone, Default)]
pub struct InboxFilter {
    pub unread_only: bool,
    /// A kind (`incident.hop_overdue`) or a family ending in a dot (`duty.`).
    pub kind: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl InboxFilter {
    pub fn unread(unread_only: bool) -> Self {
        Self { unread_only, ..Self::default() }
    }
}

impl Store {
    /// A person's inbox, newest first.
    pub async fn notifications(
        &self,
        user_id: &str,
        filter: &InboxFilter,
        page: PageRequest,
    ) -> Result<Page<Notification>, StoreError> {
        let filter = |sql: &mut Sql| {
            sql.push(" WHERE user_id = ").bind(user_id.to_owned());
            if filter.unread_only {
                sql.push(" AND read_at IS NULL");
            }
            match filter.kind.as_deref() {
                Some(family) if family.ends_with('.') => {
                    sql.push(" AND kind LIKE ")
                        .bind(format!("{}%", crate::audit::escape_like(family)))
                        .push(" ESCAPE '\\'");
                }
                Some(kind) => {
                    sql.push(" AND kind = ").bind(kind.to_owned());
                }
                None => {}
            }
            if let Some(from) = filter.from {
                sql.push(" AND created_at >= ").bind(to_millis(from));
            }
            if let Some(to) = filter.to {
                sql.push(" AND created_at < ").bind(to_millis(to));
            }
        };
        let mut count = Sql::new("SELECT COUNT(*) AS n FROM notifications");
        filter(&mut count);
        let total = count.fetch_one(self.reader()).await?.try_get("n")?;
        let mut sql = Sql::new(
            "SELECT id, kind, unit_id, subject_type, subject_id, data, created_at, read_at \
             FROM notifications",
        );
        filter(&mut sql);
        sql.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .bind(i64::from(page.per_page))
            .push(" OFFSET ")
            .bind(page.offset());
        let rows = sql.fetch_all(self.reader()).await?;
        Ok(Page {
            items: rows.iter().map(notification_row).collect::<Result<_, _>>()?,
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    pub async fn unread_notifications(&self, user_id: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query(
            "SELECT COUNT(*) AS n FROM notifications WHERE user_id = $1 AND read_at IS NULL",
        )
        .bind(user_id.to_owned())
        .fetch_one(self.reader())
        .await?
        .try_get("n")?)
    }

    /// Marks one notification (or, with `None`, all) of the user read. Someone else's
    /// notification is not found.
    pub async fn mark_notifications_read(
        &self,
        user_id: &str,
        id: Option<&str>,
    ) -> Result<u64, StoreError> {
        let now = to_millis(self.now());
        let mut tx = self.begin().await?;
        let mut sql = Sql::new("UPDATE notifications SET read_at = ");
        sql.bind(now).push(" WHERE user_id = ").bind(user_id.to_owned());
        sql.push(" AND read_at IS NULL");
        if let Some(id) = id {
            sql.push(" AND id = ").bind(id.to_owned());
        }
        let n = sql.execute(&mut *tx).await?;
        if let Some(id) = id
            && n == 0
        {
            let exists: Option<AnyRow> =
                sqlx::query("SELECT 1 FROM notifications WHERE id = $1 AND user_id = $2")
                    .bind(id.to_owned())
                    .bind(user_id.to_owned())
                    .fetch_optional(&mut *tx)
                    .await?;
            if exists.is_none() {
                return Err(StoreError::NotFound);
            }
        }
        tx.commit().await?;
        Ok(n)
    }

    /// E-mails due for an attempt.
    pub async fn outgoing_mail(&self, limit: i64) -> Result<Vec<OutgoingMail>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, to_address, subject, body, attempts FROM email_outbox \
             WHERE next_attempt_at <= $1 ORDER BY next_attempt_at LIMIT $2",
        )
        .bind(to_millis(self.now()))
        .bind(limit)
        .fetch_all(self.reader())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OutgoingMail {
                    id: r.try_get("id")?,
                    to: r.try_get("to_address")?,
                    subject: r.try_get("subject")?,
                    body: r.try_get("body")?,
                    attempts: r.try_get("attempts")?,
                })
            })
            .collect()
    }

    /// Records an attempt: sent, or failed and retried later (backing off to an hour), or given
    /// up after [`MAIL_ATTEMPTS`].
    pub async fn record_mail_attempt(
        &self,
        id: &str,
        result: Result<(), String>,
    ) -> Result<(), StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        let attempts: Option<(i64,)> =
            sqlx::query_as("SELECT attempts FROM email_outbox WHERE id = $1")
                .bind(id.to_owned())
                .fetch_optional(&mut *tx)
                .await?;
        let attempts = attempts.ok_or(StoreError::NotFound)?.0 + 1;
        match result {
            Ok(()) => {
                sqlx::query(
                    "UPDATE email_outbox SET status = 'sent', attempts = $1, sent_at = $2, \
                     next_attempt_at = NULL, last_error = NULL WHERE id = $3",
                )
                .bind(attempts)
                .bind(to_millis(now))
                .bind(id.to_owned())
                .execute(&mut *tx)
                .await?;
            }
            Err(error) => {
                let give_up = attempts >= MAIL_ATTEMPTS;
                let delay = Duration::minutes(1 << attempts.clamp(0, 6)).min(Duration::hours(1));
                sqlx::query(
                    "UPDATE email_outbox SET status = $1, attempts = $2, last_error = $3, \
                     next_attempt_at = $4 WHERE id = $5",
                )
                .bind(if give_up { "failed" } else { "pending" })
                .bind(attempts)
                .bind(error.chars().take(500).collect::<String>())
                .bind((!give_up).then(|| to_millis(now + delay)))
                .bind(id.to_owned())
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Where a person's e-mail notifications go.
    pub async fn notification_email(&self, user_id: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT email FROM users WHERE id = $1")
            .bind(user_id.to_owned())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound)?;
        Ok(row.try_get("email")?)
    }

    /// Sets (or clears) a person's own notification address.
    pub async fn set_notification_email(
        &self,
        actor: &beacon_core::audit::Actor,
        user_id: &str,
        email: Option<&str>,
    ) -> Result<(), StoreError> {
        use beacon_core::audit::{NewAuditRecord, Outcome};
        let now = self.now();
        let mut tx = self.begin().await?;
        let n = sqlx::query("UPDATE users SET email = $1, updated_at = $2 WHERE id = $3")
            .bind(email.map(str::to_owned))
            .bind(to_millis(now))
            .bind(user_id.to_owned())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        crate::audit::append(
            &mut tx,
            now,
            NewAuditRecord::new(actor, "user.email_set", Outcome::Success)
                .target("user", user_id)
                .detail(serde_json::json!({ "set": email.is_some() })),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Outbox counts by status, for the operator.
    pub async fn mail_status(&self, status: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM email_outbox WHERE status = $1")
            .bind(status.to_owned())
            .fetch_one(self.reader())
            .await?
            .try_get("n")?)
    }
}
