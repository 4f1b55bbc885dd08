//! The territorial rule (属地管理) in SQL: the one place it is written. Every query on data that
//! belongs to a unit adds [`filter`] for the caller's [`Scope`].

use beacon_core::scope::Scope;
use sqlx::Any;

use crate::error::StoreError;
use crate::sql::Sql;

/// Appends ` AND <unit_column> IN (<the scope's units>)`; nothing for [`Scope::Global`] or the
/// subtree of the tree's root, which hold every unit.
pub(crate) fn filter(sql: &mut Sql, scope: &Scope, unit_column: &str) {
    if let Scope::Subtree { root, whole_tree: false } = scope {
        sql.push(" AND ")
            .push(unit_column)
            .push(" IN (SELECT descendant_id FROM unit_closure WHERE ancestor_id = ")
            .bind(root.clone())
            .push(")");
    }
}

/// The rule of [`filter`] for a record that belongs to several units at once (an enterprise:
/// the territorial unit above which its township sits, and the department that supervises its
/// industry): visible when any of them lies in the scope. A NULL column admits nothing.
pub(crate) fn filter_any(sql: &mut Sql, scope: &Scope, unit_columns: &[&str]) {
    if let Scope::Subtree { root, whole_tree: false } = scope {
        sql.push(" AND (");
        for (i, column) in unit_columns.iter().enumerate() {
            if i > 0 {
                sql.push(" OR ");
            }
            sql.push(column)
                .push(" IN (SELECT descendant_id FROM unit_closure WHERE ancestor_id = ")
                .bind(root.clone())
                .push(")");
        }
        sql.push(")");
    }
}

/// Whether a unit lies within the scope, given the unit and every unit above it (read from
/// `unit_closure`): the rule of [`filter`] for a unit already in hand.
pub(crate) fn admits<'a>(
    scope: &Scope,
    mut unit_and_ancestors: impl Iterator<Item = &'a str>,
) -> bool {
    match scope {
        Scope::Subtree { root, whole_tree: false } => unit_and_ancestors.any(|id| id == root),
        _ => true,
    }
}

/// Whether a unit lies within the scope.
pub(crate) async fn contains<'c, E>(
    executor: E,
    scope: &Scope,
    unit_id: &str,
) -> Result<bool, StoreError>
where
    E: sqlx::Executor<'c, Database = Any>,
{
    let mut sql = Sql::new("SELECT 1 FROM units u WHERE u.id = ");
    sql.bind(unit_id.to_owned());
    filter(&mut sql, scope, "u.id");
    Ok(sql.fetch_optional(executor).await?.is_some())
}

/// Like [`filter`], but records that belong to no unit (a sign-in attempt under a name that does
/// not exist) are also visible, to a scope at the top of the tree only.
pub(crate) fn filter_with_unassigned(sql: &mut Sql, scope: &Scope, unit_column: &str) {
    if let Scope::Subtree { root, whole_tree: false } = scope {
        sql.push(" AND (")
            .push(unit_column)
            .push(" IN (SELECT descendant_id FROM unit_closure WHERE ancestor_id = ")
            .bind(root.clone())
            .push(") OR (")
            .push(unit_column)
            .push(" IS NULL AND EXISTS (SELECT 1 FROM units r WHERE r.id = ")
            .bind(root.clone())
            .push(" AND r.parent_id IS NULL)))");
    }
}

/// The units of `unit`'s territory (itself and every unit beneath), for a filter that names
/// them in its statement (`AND x.unit_id IN (…)`): PostgreSQL then reads each unit's own index
/// entries, where a subquery on `unit_closure` left it to guess how many units there are and
/// walk a whole index instead. Empty for a unit that does not exist.
pub(crate) async fn territory<'c, E>(executor: E, unit: &str) -> Result<Vec<String>, StoreError>
where
    E: sqlx::Executor<'c, Database = Any>,
{
    use sqlx::Row;
    let rows = sqlx::query("SELECT descendant_id FROM unit_closure WHERE ancestor_id = $1")
        .bind(unit.to_owned())
        .fetch_all(executor)
        .await?;
    rows.iter().map(|r| r.try_get("descendant_id").map_err(StoreError::from)).collect()
}

/// Appends `AND <column> IN (<the units>)`, or a condition nothing meets for no units.
pub(crate) fn filter_units(sql: &mut Sql, column: &str, units: &[String]) {
    if units.is_empty() {
        sql.push(" AND 1 = 0");
    } else {
        sql.push(" AND ").push(column).push(" IN (").bind_list(units.iter().cloned()).push(")");
    }
}
