//! Attachments (docs/attachments.md): files attached to a record of any module. This module
//! never reads another module's tables: the module that owns a kind of record resolves an
//! [`Owner`] within the caller's reach (or answers not found), and everything here is done
//! under that owner. Nothing is deleted; removing marks the row.

use beacon_core::attachment::Purpose;
use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::id::new_id;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::Row;
use utoipa::ToSchema;

use crate::blob::Spooled;
use crate::{Store, StoreError, Tx, audit, timeline};

/// A record files are attached to, as its module resolved it for the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// `enterprise`, `licence`, `risk_point`, `hazard_source`…
    pub kind: String,
    pub id: String,
    /// The unit the record belongs to (its timeline entries and audit records are under it).
    pub unit_id: String,
    /// The timeline the record's story is told on (a licence's is its enterprise's).
    pub timeline: (String, String),
    /// Set when the record takes no new files nor removals (a closed enterprise): the conflict
    /// code a write answers.
    pub frozen: Option<&'static str>,
}

/// A file attached to a record.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Attachment {
    pub id: String,
    pub owner_kind: String,
    pub owner_id: String,
    /// `scan`, `photo` or `document`.
    pub purpose: String,
    pub file_name: String,
    /// The type found in the content (never the name's or the browser's claim).
    pub content_type: String,
    pub size: i64,
    /// SHA-256 of the content, hex; also the download's ETag.
    pub sha256: String,
    /// Images have a thumbnail (`…/thumbnail`).
    pub has_thumbnail: bool,
    /// Who attached it, by display name.
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
    pub removed: bool,
    pub removed_at: Option<DateTime<Utc>>,
    pub removed_by: Option<String>,
    pub removed_reason: Option<String>,
    #[serde(skip)]
    pub thumbnail_sha256: Option<String>,
}

/// A file to attach, spooled and checked.
pub struct NewAttachment {
    pub purpose: Purpose,
    pub file_name: String,
    pub content_type: String,
    pub content: Spooled,
    pub thumbnail: Option<Spooled>,
}

const SELECT: &str = "SELECT a.id, a.owner_kind, a.owner_id, a.purpose, a.file_name, \
     a.content_type, a.size, a.sha256, a.thumbnail_sha256, a.uploaded_at, a.removed_at, \
     a.removed_reason, COALESCE(u.display_name, a.uploaded_by_name) AS uploaded_by_name, \
     COALESCE(r.display_name, a.removed_by_name) AS removed_by_name \
     FROM attachments a LEFT JOIN users u ON u.id = a.uploaded_by \
     LEFT JOIN users r ON r.id = a.removed_by";

fn attachment_of(r: &sqlx::any::AnyRow) -> Result<Attachment, StoreError> {
    let thumbnail_sha256: Option<String> = r.try_get("thumbnail_sha256")?;
    let removed_at: Option<i64> = r.try_get("removed_at")?;
    Ok(Attachment {
        id: r.try_get("id")?,
        owner_kind: r.try_get("owner_kind")?,
        owner_id: r.try_get("owner_id")?,
        purpose: r.try_get("purpose")?,
        file_name: r.try_get("file_name")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        sha256: r.try_get("sha256")?,
        has_thumbnail: thumbnail_sha256.is_some(),
        thumbnail_sha256,
        uploaded_by: r.try_get("uploaded_by_name")?,
        uploaded_at: from_millis(r.try_get("uploaded_at")?),
        removed: removed_at.is_some(),
        removed_at: removed_at.map(from_millis),
        removed_by: r.try_get("removed_by_name")?,
        removed_reason: r.try_get("removed_reason")?,
    })
}

/// The owning record's timeline entry and the audit record of a change to its files.
async fn record(
    tx: &mut Tx,
    now: DateTime<Utc>,
    actor: &Actor,
    owner: &Owner,
    (entry, action): (&str, &str),
    attachment_id: &str,
    detail: Value,
) -> Result<(), StoreError> {
    let mut data = detail.clone();
    data["attachment_id"] = json!(attachment_id);
    data["owner_kind"] = json!(owner.kind);
    data["owner_id"] = json!(owner.id);
    let subject = (owner.timeline.0.as_str(), owner.timeline.1.as_str());
    timeline::append(tx, now, actor, subject, Some(&owner.unit_id), entry, data.clone()).await?;
    audit::append(
        tx,
        now,
        NewAuditRecord::new(actor, action, Outcome::Success)
            .target("attachment", attachment_id)
            .unit(Some(&owner.unit_id))
            .detail(data),
    )
    .await?;
    Ok(())
}

impl Store {
    /// Attaches a spooled file to a record: keeps its content (once per content) and its
    /// thumbnail, writes the row, the owner's timeline entry and the audit record in one
    /// transaction.
    pub async fn add_attachment(
        &self,
        actor: &Actor,
        owner: &Owner,
        new: NewAttachment,
    ) -> Result<Attachment, StoreError> {
        if let Some(code) = owner.frozen {
            return Err(StoreError::Conflict(code));
        }
        let now = self.now();
        let id = new_id();
        let mut tx = self.begin().await?;
        self.keep_blob(&mut tx, &new.content).await?;
        if let Some(thumbnail) = &new.thumbnail {
            self.keep_blob(&mut tx, thumbnail).await?;
        }
        sqlx::query(
            "INSERT INTO attachments (id, owner_kind, owner_id, unit_id, purpose, file_name, \
             content_type, size, sha256, thumbnail_sha256, uploaded_by, uploaded_by_name, \
             uploaded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(id.clone())
        .bind(owner.kind.clone())
        .bind(owner.id.clone())
        .bind(owner.unit_id.clone())
        .bind(new.purpose.as_str().to_owned())
        .bind(new.file_name.clone())
        .bind(new.content_type.clone())
        .bind(i64::try_from(new.content.size).unwrap_or(i64::MAX))
        .bind(new.content.sha256.clone())
        .bind(new.thumbnail.as_ref().map(|t| t.sha256.clone()))
        .bind(actor.user_id.clone())
        .bind(actor.name.clone())
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
        let detail = json!({
            "file_name": new.file_name, "purpose": new.purpose.as_str(),
            "size": new.content.size, "sha256": new.content.sha256,
        });
        let names = ("attachment_added", "attachment.added");
        record(&mut tx, now, actor, owner, names, &id, detail).await?;
        tx.commit().await?;
        self.attachment(&id).await
    }

    /// One attachment, whatever its owner: the caller resolves the owner it names before
    /// showing anything of it.
    pub async fn attachment(&self, id: &str) -> Result<Attachment, StoreError> {
        let row = sqlx::query(&format!("{SELECT} WHERE a.id = $1"))
            .bind(id.to_owned())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound)?;
        attachment_of(&row)
    }

    /// The files of a record, oldest first; removed ones only when asked.
    pub async fn attachments(
        &self,
        owner: &Owner,
        include_removed: bool,
    ) -> Result<Vec<Attachment>, StoreError> {
        let removed = if include_removed { "" } else { " AND a.removed_at IS NULL" };
        let rows = sqlx::query(&format!(
            "{SELECT} WHERE a.owner_kind = $1 AND a.owner_id = $2{removed} \
             ORDER BY a.uploaded_at, a.id LIMIT 500"
        ))
        .bind(owner.kind.clone())
        .bind(owner.id.clone())
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(attachment_of).collect()
    }

    /// Marks an attachment of `owner` removed, with the reason: it stays on record (and its
    /// content in the store), hidden from the record's list.
    pub async fn remove_attachment(
        &self,
        actor: &Actor,
        owner: &Owner,
        id: &str,
        reason: &str,
    ) -> Result<Attachment, StoreError> {
        if let Some(code) = owner.frozen {
            return Err(StoreError::Conflict(code));
        }
        let reason =
            beacon_core::text::plain_text(reason, beacon_core::attachment::REMOVE_REASON_MAX)
                .map_err(|code| StoreError::invalid("reason", code))?;
        let now = self.now();
        let mut tx = self.begin().await?;
        let row = sqlx::query(
            "SELECT file_name, removed_at FROM attachments \
             WHERE id = $1 AND owner_kind = $2 AND owner_id = $3",
        )
        .bind(id.to_owned())
        .bind(owner.kind.clone())
        .bind(owner.id.clone())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
        if row.try_get::<Option<i64>, _>("removed_at")?.is_some() {
            return Err(StoreError::Conflict("attachment_removed"));
        }
        let file_name: String = row.try_get("file_name")?;
        sqlx::query(
            "UPDATE attachments SET removed_at = $1, removed_by = $2, removed_by_name = $3, \
             removed_reason = $4 WHERE id = $5",
        )
        .bind(to_millis(now))
        .bind(actor.user_id.clone())
        .bind(actor.name.clone())
        .bind(reason.clone())
        .bind(id.to_owned())
        .execute(&mut *tx)
        .await?;
        let detail = json!({ "file_name": file_name, "reason": reason });
        let names = ("attachment_removed", "attachment.removed");
        record(&mut tx, now, actor, owner, names, id, detail).await?;
        tx.commit().await?;
        self.attachment(id).await
    }
}
