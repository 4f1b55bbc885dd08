//! Checklists (检查表): reference data a finding cites. Shipped with the items whose text was
//! read in a source (migration 0018); an administrator of the top unit adds checklists and
//! items, corrects them and retires them (a retired item stays for the findings that cite it).

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::clock::to_millis;
use beacon_core::error::ValidationErrors;
use beacon_core::id::new_id;
use beacon_core::text::plain_text;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use utoipa::ToSchema;

use crate::sql::get_bool;
use crate::{Store, StoreError, audit};

/// An item of a checklist.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ChecklistItem {
    pub id: String,
    /// Where in the basis (第十二项, 第三条（一）).
    pub clause: String,
    pub text: String,
    /// The basis marks the situation a major hidden danger.
    pub major: bool,
    /// Retired: no longer offered, kept for the findings that cite it.
    pub retired: bool,
    pub version: i64,
}

/// A checklist with its items in order.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Checklist {
    pub id: String,
    pub name: String,
    /// The document its items come from.
    pub basis: String,
    pub version: i64,
    pub items: Vec<ChecklistItem>,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistWrite {
    pub name: String,
    pub basis: String,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItemWrite {
    pub clause: String,
    pub text: String,
    #[serde(default)]
    pub major: bool,
    #[serde(default)]
    pub retired: bool,
    /// The version read, for a correction (`stale_version` when someone changed it since).
    pub version: Option<i64>,
}

fn text(errors: &mut ValidationErrors, field: &str, value: &str, max: usize) -> String {
    plain_text(value, max).unwrap_or_else(|code| {
        errors.add(field, code);
        String::new()
    })
}

fn item_of(r: &sqlx::any::AnyRow) -> Result<ChecklistItem, StoreError> {
    Ok(ChecklistItem {
        id: r.try_get("id")?,
        clause: r.try_get("clause")?,
        text: r.try_get("text")?,
        major: get_bool(r, "major")?,
        retired: get_bool(r, "retired")?,
        version: r.try_get("version")?,
    })
}

impl Store {
    /// Every checklist with its items (retired ones too), in the order they were added.
    pub async fn checklists(&self) -> Result<Vec<Checklist>, StoreError> {
        let lists = sqlx::query("SELECT * FROM checklists ORDER BY created_at, name LIMIT 500")
            .fetch_all(self.reader())
            .await?;
        let items = sqlx::query(
            "SELECT * FROM checklist_items ORDER BY checklist_id, sort_order, created_at LIMIT 20000",
        )
        .fetch_all(self.reader())
        .await?;
        let mut out = Vec::new();
        for l in &lists {
            let id: String = l.try_get("id")?;
            let mut of = Vec::new();
            for r in &items {
                if r.try_get::<String, _>("checklist_id")? == id {
                    of.push(item_of(r)?);
                }
            }
            out.push(Checklist {
                id,
                name: l.try_get("name")?,
                basis: l.try_get("basis")?,
                version: l.try_get("version")?,
                items: of,
            });
        }
        Ok(out)
    }

    /// One checklist with its items.
    pub async fn checklist(&self, id: &str) -> Result<Checklist, StoreError> {
        let list = sqlx::query("SELECT * FROM checklists WHERE id = $1")
            .bind(id.to_owned())
            .fetch_optional(self.reader())
            .await?
            .ok_or(StoreError::NotFound)?;
        let items = sqlx::query(
            "SELECT * FROM checklist_items WHERE checklist_id = $1 ORDER BY sort_order, created_at",
        )
        .bind(id.to_owned())
        .fetch_all(self.reader())
        .await?;
        Ok(Checklist {
            id: list.try_get("id")?,
            name: list.try_get("name")?,
            basis: list.try_get("basis")?,
            version: list.try_get("version")?,
            items: items.iter().map(item_of).collect::<Result<_, _>>()?,
        })
    }

    /// Adds a checklist (an administrator of the top unit).
    pub async fn create_checklist(
        &self,
        actor: &Actor,
        write: ChecklistWrite,
    ) -> Result<Checklist, StoreError> {
        let mut errors = ValidationErrors::new();
        let name = text(&mut errors, "name", &write.name, 200);
        let basis = text(&mut errors, "basis", &write.basis, 200);
        errors.into_result().map_err(StoreError::Invalid)?;
        let now = self.now();
        let id = new_id();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO checklists (id, name, basis, version, created_at, updated_at) \
             VALUES ($1, $2, $3, 1, $4, $4)",
        )
        .bind(id.clone())
        .bind(name.clone())
        .bind(basis)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::Conflict("already_exists") => StoreError::invalid("name", "already_exists"),
            other => other,
        })?;
        let record = NewAuditRecord::new(actor, "inspection.checklist_added", Outcome::Success)
            .target("checklist", &id)
            .detail(json!({ "name": name }));
        audit::append(&mut tx, now, record).await?;
        tx.commit().await?;
        self.checklist(&id).await
    }

    /// Adds an item at the end of a checklist.
    pub async fn add_checklist_item(
        &self,
        actor: &Actor,
        checklist_id: &str,
        write: ChecklistItemWrite,
    ) -> Result<Checklist, StoreError> {
        let mut errors = ValidationErrors::new();
        let clause = text(&mut errors, "clause", &write.clause, 100);
        let body = text(&mut errors, "text", &write.text, 2000);
        errors.into_result().map_err(StoreError::Invalid)?;
        self.checklist(checklist_id).await?;
        let now = self.now();
        let id = new_id();
        let mut tx = self.begin().await?;
        let next: i64 = sqlx::query(
            "SELECT COALESCE(MAX(sort_order), 0) + 1 AS n FROM checklist_items WHERE checklist_id = $1",
        )
        .bind(checklist_id.to_owned())
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        sqlx::query(
            "INSERT INTO checklist_items (id, checklist_id, clause, text, major, retired, \
             sort_order, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8)",
        )
        .bind(id.clone())
        .bind(checklist_id.to_owned())
        .bind(clause.clone())
        .bind(body)
        .bind(write.major)
        .bind(false)
        .bind(next)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
        let record =
            NewAuditRecord::new(actor, "inspection.checklist_item_added", Outcome::Success)
                .target("checklist_item", &id)
                .detail(
                    json!({ "checklist_id": checklist_id, "clause": clause, "major": write.major }),
                );
        audit::append(&mut tx, now, record).await?;
        tx.commit().await?;
        self.checklist(checklist_id).await
    }

    /// Corrects an item's clause, text or mark, or retires it (findings keep what they cited).
    pub async fn update_checklist_item(
        &self,
        actor: &Actor,
        checklist_id: &str,
        item_id: &str,
        write: ChecklistItemWrite,
    ) -> Result<Checklist, StoreError> {
        let mut errors = ValidationErrors::new();
        let clause = text(&mut errors, "clause", &write.clause, 100);
        let body = text(&mut errors, "text", &write.text, 2000);
        errors.into_result().map_err(StoreError::Invalid)?;
        let now = self.now();
        let mut tx = self.begin().await?;
        let row =
            sqlx::query("SELECT version FROM checklist_items WHERE id = $1 AND checklist_id = $2")
                .bind(item_id.to_owned())
                .bind(checklist_id.to_owned())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
        let version: i64 = row.try_get("version")?;
        if write.version.is_some_and(|v| v != version) {
            return Err(StoreError::Conflict("stale_version"));
        }
        sqlx::query(
            "UPDATE checklist_items SET clause = $1, text = $2, major = $3, retired = $4, \
             version = version + 1, updated_at = $5 WHERE id = $6",
        )
        .bind(clause.clone())
        .bind(body)
        .bind(write.major)
        .bind(write.retired)
        .bind(to_millis(now))
        .bind(item_id.to_owned())
        .execute(&mut *tx)
        .await?;
        let record =
            NewAuditRecord::new(actor, "inspection.checklist_item_updated", Outcome::Success)
                .target("checklist_item", item_id)
                .detail(
                    json!({ "clause": clause, "major": write.major, "retired": write.retired }),
                );
        audit::append(&mut tx, now, record).await?;
        tx.commit().await?;
        self.checklist(checklist_id).await
    }
}
