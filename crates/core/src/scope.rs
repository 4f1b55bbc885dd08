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
    /// The unit with this id and everything beneath it.
    Subtree(String),
}

impl Scope {
    pub fn subtree(unit_id: impl Into<String>) -> Self {
        Self::Subtree(unit_id.into())
    }

    pub fn root_unit(&self) -> Option<&str> {
        match self {
            Scope::Global => None,
            Scope::Subtree(id) => Some(id),
        }
    }
}
