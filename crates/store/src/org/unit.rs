//! The unit tree, kept with a closure table so "everything under this unit" is one indexed
//! lookup.

use beacon_core::audit::{Actor, NewAuditRecord, Outcome};
use beacon_core::clock::{from_millis, to_millis};
use beacon_core::error::ValidationErrors;
use beacon_core::event::NewEvent;
use beacon_core::geo::Boundary;
use beacon_core::id::new_id;
use beacon_core::org::{Unit, UnitCode, UnitLevel, UnitName};
use beacon_core::scope::Scope;
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use super::parse_level;
use crate::audit::Diff;
use crate::sql::{Sql, get_bool};
use crate::{Store, StoreError, Tx, audit, scope};

const COLUMNS: &str = "u.id, u.parent_id, u.code, u.name, u.level, u.sort_order, \
    u.boundary IS NOT NULL AS has_boundary, u.created_at, u.updated_at";

#[derive(Debug, Clone)]
pub struct NewUnit {
    /// None only for the first unit of an empty database, created by an operator.
    pub parent_id: Option<String>,
    pub code: UnitCode,
    pub name: UnitName,
    pub level: UnitLevel,
    pub sort_order: i64,
    pub boundary: Option<Boundary>,
}

/// Fields to change; `None` leaves a field as it is. `boundary: Some(None)` removes it.
#[derive(Debug, Clone, Default)]
pub struct UnitChanges {
    pub parent_id: Option<String>,
    pub code: Option<UnitCode>,
    pub name: Option<UnitName>,
    pub level: Option<UnitLevel>,
    pub sort_order: Option<i64>,
    pub boundary: Option<Option<Boundary>>,
}

#[derive(Debug, Clone)]
pub struct UnitDetail {
    pub unit: Unit,
    pub boundary: Option<serde_json::Value>,
}

fn unit_row(row: &AnyRow) -> Result<Unit, StoreError> {
    let level: String = row.try_get("level")?;
    Ok(Unit {
        id: row.try_get("id")?,
        parent_id: row.try_get("parent_id")?,
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        level: parse_level(&level)?,
        sort_order: row.try_get("sort_order")?,
        has_boundary: get_bool(row, "has_boundary")?,
        created_at: from_millis(row.try_get("created_at")?),
        updated_at: from_millis(row.try_get("updated_at")?),
    })
}

pub(crate) fn boundary_value(row: &AnyRow) -> Result<Option<serde_json::Value>, StoreError> {
    let text: Option<String> = row.try_get("boundary")?;
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| StoreError::Corrupt(format!("boundary: {e}")))
    })
    .transpose()
}

/// A unit within the scope, without its outline; not found outside the scope.
pub(crate) async fn unit_in_scope<'c, E>(
    executor: E,
    scope: &Scope,
    id: &str,
) -> Result<Unit, StoreError>
where
    E: Executor<'c, Database = Any>,
{
    let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM units u WHERE u.id = "));
    sql.bind(id.to_owned());
    scope::filter(&mut sql, scope, "u.id");
    unit_row(&sql.fetch_optional(executor).await?.ok_or(StoreError::NotFound)?)
}

async fn fetch_unit<'c, E>(executor: E, scope: &Scope, id: &str) -> Result<UnitDetail, StoreError>
where
    E: Executor<'c, Database = Any>,
{
    let mut sql = Sql::new(&format!("SELECT {COLUMNS}, u.boundary FROM units u WHERE u.id = "));
    sql.bind(id.to_owned());
    scope::filter(&mut sql, scope, "u.id");
    let row = sql.fetch_optional(executor).await?.ok_or(StoreError::NotFound)?;
    Ok(UnitDetail { unit: unit_row(&row)?, boundary: boundary_value(&row)? })
}

async fn code_taken(
    tx: &mut Tx,
    code: &UnitCode,
    except: Option<&str>,
) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT id FROM units WHERE code = $1")
        .bind(code.as_str().to_owned())
        .fetch_optional(&mut **tx)
        .await?;
    Ok(match row {
        Some(row) => except != Some(row.try_get::<String, _>("id")?.as_str()),
        None => false,
    })
}

fn boundary_summary(boundary: Option<&Boundary>) -> serde_json::Value {
    match boundary {
        Some(b) => {
            let (w, s, e, n) = b.bbox();
            json!({ "bbox": [w, s, e, n] })
        }
        None => serde_json::Value::Null,
    }
}

impl Store {
    /// Every unit in scope, ordered for display (parents before children is not guaranteed; the
    /// client builds the tree from `parent_id`).
    pub async fn list_units(&self, scope: &Scope) -> Result<Vec<Unit>, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM units u WHERE 1 = 1"));
        scope::filter(&mut sql, scope, "u.id");
        sql.push(" ORDER BY u.sort_order, u.code");
        sql.fetch_all(self.reader()).await?.iter().map(unit_row).collect()
    }

    pub async fn get_unit(&self, scope: &Scope, id: &str) -> Result<UnitDetail, StoreError> {
        fetch_unit(self.reader(), scope, id).await
    }

    pub async fn get_unit_by_code(&self, scope: &Scope, code: &str) -> Result<Unit, StoreError> {
        let mut sql = Sql::new(&format!("SELECT {COLUMNS} FROM units u WHERE u.code = "));
        sql.bind(code.to_owned());
        scope::filter(&mut sql, scope, "u.id");
        let row = sql.fetch_optional(self.reader()).await?.ok_or(StoreError::NotFound)?;
        unit_row(&row)
    }

    /// A unit and its direct children, with boundaries, for the map.
    pub async fn unit_with_children(
        &self,
        scope: &Scope,
        id: &str,
    ) -> Result<Vec<UnitDetail>, StoreError> {
        let mut sql =
            Sql::new(&format!("SELECT {COLUMNS}, u.boundary FROM units u WHERE (u.id = "));
        sql.bind(id.to_owned()).push(" OR u.parent_id = ").bind(id.to_owned()).push(")");
        scope::filter(&mut sql, scope, "u.id");
        sql.push(" ORDER BY u.sort_order, u.code");
        let rows = sql.fetch_all(self.reader()).await?;
        if !rows.iter().any(|r| r.try_get::<String, _>("id").is_ok_and(|v| v == id)) {
            return Err(StoreError::NotFound);
        }
        rows.iter()
            .map(|row| Ok(UnitDetail { unit: unit_row(row)?, boundary: boundary_value(row)? }))
            .collect()
    }

    /// Ids of the unit's ancestors and the unit itself, from the root down. Events carry this
    /// path so subscribers can be matched to their scope without a query.
    pub async fn unit_path(&self, unit_id: &str) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT ancestor_id FROM unit_closure WHERE descendant_id = $1 ORDER BY depth DESC",
        )
        .bind(unit_id.to_owned())
        .fetch_all(self.reader())
        .await?;
        rows.iter().map(|r| Ok(r.try_get("ancestor_id")?)).collect()
    }

    pub async fn count_units(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM units")
            .fetch_one(self.reader())
            .await?
            .try_get("n")?)
    }

    pub async fn create_unit(
        &self,
        scope: &Scope,
        actor: &Actor,
        new: NewUnit,
    ) -> Result<Unit, StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        self.backend().serialize(&mut tx, "unit-tree").await?;
        let mut errors = ValidationErrors::new();
        match &new.parent_id {
            None => {
                let any: Option<AnyRow> =
                    sqlx::query("SELECT id FROM units LIMIT 1").fetch_optional(&mut *tx).await?;
                if scope != &Scope::Global || any.is_some() {
                    errors.add("parent_id", "required");
                }
            }
            Some(parent_id) => match fetch_unit(&mut *tx, scope, parent_id).await {
                Ok(parent) if !parent.unit.level.may_contain(new.level) => {
                    errors.add("level", "not_allowed_under_parent");
                }
                Ok(_) => {}
                Err(StoreError::NotFound) => errors.add("parent_id", "not_found"),
                Err(e) => return Err(e),
            },
        }
        if code_taken(&mut tx, &new.code, None).await? {
            errors.add("code", "already_exists");
        }
        errors.into_result().map_err(StoreError::Invalid)?;

        let id = new_id();
        let boundary = new.boundary.as_ref().map(|b| b.geometry().to_string());
        sqlx::query(
            "INSERT INTO units (id, parent_id, code, name, level, sort_order, boundary, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(id.clone())
        .bind(new.parent_id.clone())
        .bind(new.code.as_str().to_owned())
        .bind(new.name.as_str().to_owned())
        .bind(new.level.as_str())
        .bind(new.sort_order)
        .bind(boundary)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO unit_closure (ancestor_id, descendant_id, depth) \
             SELECT ancestor_id, $1, depth + 1 FROM unit_closure WHERE descendant_id = $2 \
             UNION ALL SELECT $1, $1, 0",
        )
        .bind(id.clone())
        .bind(new.parent_id.clone().unwrap_or_default())
        .execute(&mut *tx)
        .await?;
        let record = NewAuditRecord::new(actor, "unit.create", Outcome::Success)
            .target("unit", &id)
            .unit(Some(&id))
            .detail(json!({
                "after": {
                    "code": new.code.as_str(),
                    "name": new.name.as_str(),
                    "level": new.level.as_str(),
                    "parent_id": new.parent_id,
                    "sort_order": new.sort_order,
                    "boundary": boundary_summary(new.boundary.as_ref()),
                }
            }));
        audit::append(&mut tx, now, record).await?;
        let unit = fetch_unit(&mut *tx, &Scope::Global, &id).await?.unit;
        announce_unit(&mut tx, now, "unit.created", &unit.id, &unit).await?;
        tx.commit().await?;
        Ok(unit)
    }

    pub async fn update_unit(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: &str,
        changes: UnitChanges,
    ) -> Result<Unit, StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        // Two moves checked at once could each miss the other and close a cycle.
        self.backend().serialize(&mut tx, "unit-tree").await?;
        let current = fetch_unit(&mut *tx, scope, id).await?.unit;
        let mut errors = ValidationErrors::new();
        let is_scope_root = scope.root_unit() == Some(id);
        let level = changes.level.unwrap_or(current.level);

        let moving =
            changes.parent_id.as_deref().is_some_and(|p| Some(p) != current.parent_id.as_deref());
        if is_scope_root && (moving || changes.level.is_some_and(|l| l != current.level)) {
            return Err(StoreError::Forbidden("cannot_move_scope_root"));
        }
        let parent_id = if moving { changes.parent_id.clone() } else { current.parent_id.clone() };
        // The parent is checked only when the unit moves or changes level. Renaming the unit at
        // the top of one's scope must not look up its parent, which lies outside the scope.
        let placing = moving || level != current.level;
        if let Some(parent_id) = parent_id.as_ref().filter(|_| placing) {
            // The new parent must be in scope and must not be the unit or one of its descendants.
            match fetch_unit(&mut *tx, scope, parent_id).await {
                Ok(parent) => {
                    let inside: Option<AnyRow> = sqlx::query(
                        "SELECT 1 FROM unit_closure WHERE ancestor_id = $1 AND descendant_id = $2",
                    )
                    .bind(id.to_owned())
                    .bind(parent_id.clone())
                    .fetch_optional(&mut *tx)
                    .await?;
                    if inside.is_some() {
                        errors.add("parent_id", "cycle");
                    } else if !parent.unit.level.may_contain(level) {
                        errors.add("level", "not_allowed_under_parent");
                    }
                }
                Err(StoreError::NotFound) => errors.add("parent_id", "not_found"),
                Err(e) => return Err(e),
            }
        } else if moving {
            errors.add("parent_id", "required");
        }
        if level != current.level {
            let children = sqlx::query("SELECT level FROM units WHERE parent_id = $1")
                .bind(id.to_owned())
                .fetch_all(&mut *tx)
                .await?;
            for child in children {
                let child_level = parse_level(&child.try_get::<String, _>("level")?)?;
                if !level.may_contain(child_level) {
                    errors.add("level", "children_incompatible");
                }
            }
        }
        if let Some(code) = &changes.code
            && code_taken(&mut tx, code, Some(id)).await?
        {
            errors.add("code", "already_exists");
        }
        errors.into_result().map_err(StoreError::Invalid)?;

        let mut diff = Diff::default();
        if let Some(code) = &changes.code {
            diff.note("code", json!(current.code), json!(code.as_str()));
        }
        if let Some(name) = &changes.name {
            diff.note("name", json!(current.name), json!(name.as_str()));
        }
        diff.note("level", json!(current.level.as_str()), json!(level.as_str()));
        diff.note("parent_id", json!(current.parent_id), json!(parent_id));
        if let Some(order) = changes.sort_order {
            diff.note("sort_order", json!(current.sort_order), json!(order));
        }
        if let Some(boundary) = &changes.boundary {
            // Recorded whenever an outline is sent: two outlines can share a bounding box.
            let had = if current.has_boundary { json!("set") } else { json!(null) };
            diff.set("boundary", had, boundary_summary(boundary.as_ref()));
        }

        let mut sql = Sql::new("UPDATE units SET updated_at = ");
        sql.bind(to_millis(now));
        if let Some(code) = &changes.code {
            sql.push(", code = ").bind(code.as_str().to_owned());
        }
        if let Some(name) = &changes.name {
            sql.push(", name = ").bind(name.as_str().to_owned());
        }
        sql.push(", level = ").bind(level.as_str());
        sql.push(", parent_id = ").bind(parent_id.clone());
        if let Some(order) = changes.sort_order {
            sql.push(", sort_order = ").bind(order);
        }
        if let Some(boundary) = &changes.boundary {
            sql.push(", boundary = ").bind(boundary.as_ref().map(|b| b.geometry().to_string()));
        }
        sql.push(" WHERE id = ").bind(id.to_owned());
        sql.execute(&mut *tx).await?;

        if moving {
            // Detach the subtree from its old ancestors, then attach it under the new parent.
            sqlx::query(
                "DELETE FROM unit_closure WHERE descendant_id IN \
                   (SELECT descendant_id FROM unit_closure WHERE ancestor_id = $1) \
                 AND ancestor_id NOT IN \
                   (SELECT descendant_id FROM unit_closure WHERE ancestor_id = $1)",
            )
            .bind(id.to_owned())
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO unit_closure (ancestor_id, descendant_id, depth) \
                 SELECT a.ancestor_id, d.descendant_id, a.depth + d.depth + 1 \
                 FROM unit_closure a, unit_closure d \
                 WHERE a.descendant_id = $1 AND d.ancestor_id = $2",
            )
            .bind(parent_id.clone().unwrap_or_default())
            .bind(id.to_owned())
            .execute(&mut *tx)
            .await?;
        }
        let record = NewAuditRecord::new(actor, "unit.update", Outcome::Success)
            .target("unit", id)
            .unit(Some(id))
            .detail(diff.into_detail(&[]));
        audit::append(&mut tx, now, record).await?;
        let unit = fetch_unit(&mut *tx, &Scope::Global, id).await?.unit;
        announce_unit(&mut tx, now, "unit.updated", &unit.id, &unit).await?;
        tx.commit().await?;
        Ok(unit)
    }

    /// Deletes an empty unit and returns it as it was: no children, no users, no tokens (and,
    /// through foreign keys, no records of later modules).
    pub async fn delete_unit(
        &self,
        scope: &Scope,
        actor: &Actor,
        id: &str,
    ) -> Result<Unit, StoreError> {
        let now = self.now();
        let mut tx = self.begin().await?;
        self.backend().serialize(&mut tx, "unit-tree").await?;
        let current = fetch_unit(&mut *tx, scope, id).await?.unit;
        if scope.root_unit() == Some(id) {
            return Err(StoreError::Forbidden("cannot_delete_scope_root"));
        }
        for (table, column, code) in [
            ("units", "parent_id", "unit_has_children"),
            ("users", "unit_id", "unit_has_users"),
            ("api_tokens", "unit_id", "unit_has_tokens"),
        ] {
            let used: Option<AnyRow> =
                sqlx::query(&format!("SELECT 1 FROM {table} WHERE {column} = $1 LIMIT 1"))
                    .bind(id.to_owned())
                    .fetch_optional(&mut *tx)
                    .await?;
            if used.is_some() {
                return Err(StoreError::Conflict(code));
            }
        }
        // The audit record keeps the unit for audit administrators above it; it is written
        // before the closure rows vanish but names the parent, which survives.
        let record = NewAuditRecord::new(actor, "unit.delete", Outcome::Success)
            .target("unit", id)
            .unit(current.parent_id.as_deref())
            .detail(json!({
                "before": { "code": current.code, "name": current.name, "level": current.level.as_str() }
            }));
        audit::append(&mut tx, now, record).await?;
        sqlx::query("DELETE FROM unit_closure WHERE descendant_id = $1")
            .bind(id.to_owned())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM units WHERE id = $1")
            .bind(id.to_owned())
            .execute(&mut *tx)
            .await?;
        // Announced where the unit was: its parent's subtree (a root has none left to tell).
        if let Some(parent) = &current.parent_id {
            announce_unit(&mut tx, now, "unit.deleted", parent, &current).await?;
        }
        tx.commit().await?;
        Ok(current)
    }
}

/// Tells the consoles whose scope holds `on_unit` that a unit was created, changed or removed.
async fn announce_unit(
    tx: &mut Tx,
    at: DateTime<Utc>,
    kind: &str,
    on_unit: &str,
    unit: &Unit,
) -> Result<(), StoreError> {
    let data = json!({ "id": unit.id, "name": unit.name });
    crate::outbox::announce(tx, at, on_unit, |path| NewEvent::new(kind, path, data)).await
}
