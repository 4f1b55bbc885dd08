//! Routing a tip-off by its place (属地管理): to the deepest unit whose boundary holds the point
//! and that has someone to handle it; without a point, or outside every boundary, to the top of
//! the tree, whose handlers transfer it (转办).

use beacon_core::geo::Boundary;
use beacon_core::org::Role;
use sqlx::Row;

use crate::org::{boundary_value, roles_column};
use crate::{Store, StoreError};

pub(super) async fn route(
    store: &Store,
    point: Option<(f64, f64)>,
    handler_roles: &[Role],
) -> Result<String, StoreError> {
    let root = store.top_unit().await?.ok_or(StoreError::Conflict("no_units"))?;
    let Some((lon, lat)) = point else { return Ok(root) };
    // Units with an outline, deepest first.
    let rows = sqlx::query(
        "SELECT u.id, u.boundary, (SELECT COUNT(*) FROM unit_closure c WHERE c.descendant_id = u.id) \
         AS depth FROM units u WHERE u.boundary IS NOT NULL ORDER BY depth DESC, u.id",
    )
    .fetch_all(store.reader())
    .await?;
    let staffed = sqlx::query("SELECT unit_id, roles FROM users WHERE active = $1")
        .bind(true)
        .fetch_all(store.reader())
        .await?;
    let mut with_handlers = std::collections::HashSet::new();
    for user in &staffed {
        if roles_column(user)?.iter().any(|r| handler_roles.contains(r)) {
            with_handlers.insert(user.try_get::<String, _>("unit_id")?);
        }
    }
    for row in rows {
        let id: String = row.try_get("id")?;
        if !with_handlers.contains(&id) {
            continue;
        }
        let Some(value) = boundary_value(&row)? else { continue };
        if Boundary::parse(&value).is_ok_and(|b| b.contains(lon, lat)) {
            return Ok(id);
        }
    }
    Ok(root)
}

impl Store {
    /// The top of the unit tree (the first made, should there be several roots).
    pub async fn top_unit(&self) -> Result<Option<String>, StoreError> {
        let row =
            sqlx::query("SELECT id FROM units WHERE parent_id IS NULL ORDER BY created_at, id")
                .fetch_optional(self.reader())
                .await?;
        row.map(|r| r.try_get("id")).transpose().map_err(StoreError::from)
    }
}
