//! Territorial scope (属地管理): what part of the unit tree a caller may read and change.
//!
//! A signed-in user or API token acts within the subtree of its own unit. The store turns a
//! `Scope` into the filter every scoped query carries (`beacon_store::scope`); that is the one
//! place the rule is enforced. A record outside the scope is indistinguishable from one that does
//! not exist.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The whole tree. Only for operator commands on the server (the CLI) and internal tasks;
    /// never derived from a request.
    Global,
    /// The unit with this id and everything beneath it. `whole_tree` is set when that unit is
    /// the root of the tree: the subtree is then everything, and queries skip the filter.
    Subtree { root: String, whole_tree: bool },
}

impl Scope {
    /// A unit's subtree.
    pub fn subtree(unit_id: impl Into<String>) -> Self {
        Self::Subtree { root: unit_id.into(), whole_tree: false }
    }

    /// The subtree of the root unit of the tree (the caller knows it is the root).
    pub fn tree_root(unit_id: impl Into<String>) -> Self {
        Self::Subtree { root: unit_id.into(), whole_tree: true }
    }

    pub fn root_unit(&self) -> Option<&str> {
        match self {
            Scope::Global => None,
            Scope::Subtree { root, .. } => Some(root),
        }
    }
}
