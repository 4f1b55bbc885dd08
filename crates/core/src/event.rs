//! Live events: what a change announces to the consoles in whose scope it lies. An event is
//! written in the change's own transaction (the store's outbox) and relayed to every instance's
//! subscribers afterwards, so an event whose change committed is never lost.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::org::{Permission, Role};

/// An event as a change announces it, before the bus gives it its place in the sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewEvent {
    /// What happened, e.g. `unit.created`, `incident.created`, `notification`.
    pub kind: String,
    /// Ids of the event's unit and its ancestors, root first; empty for events that belong to
    /// no unit (only the top of the tree sees those).
    #[serde(default)]
    pub unit_path: Vec<String>,
    /// When not empty, only holders of one of these roles receive the event.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// When set, only this user receives the event.
    #[serde(default)]
    pub user_id: Option<String>,
    /// The event's content (ids, numbers and names, never personal data).
    pub data: serde_json::Value,
}

impl NewEvent {
    pub fn new(kind: &str, unit_path: Vec<String>, data: serde_json::Value) -> Self {
        Self { kind: kind.to_owned(), unit_path, roles: Vec::new(), user_id: None, data }
    }

    pub fn for_roles(mut self, roles: &[Role]) -> Self {
        self.roles = roles.to_vec();
        self
    }

    /// Only the roles that may read the record the event announces receive it: an event carries
    /// the same role restriction as its record.
    pub fn for_readers(self, permission: Permission) -> Self {
        let roles: Vec<Role> = Role::ALL.into_iter().filter(|r| r.permits(permission)).collect();
        self.for_roles(&roles)
    }

    pub fn for_user(mut self, user_id: &str) -> Self {
        self.user_id = Some(user_id.to_owned());
        self
    }
}

/// An event whose change committed, as the outbox hands it to the bus.
#[derive(Debug, Clone, PartialEq)]
pub struct CommittedEvent {
    /// The outbox row's id: unique in the deployment's database, so it also names the event for
    /// the bus's de-duplication when a relay dies between publishing and removing it.
    pub id: i64,
    /// When the change was made.
    pub at: DateTime<Utc>,
    pub event: NewEvent,
}

/// Something that happened, as subscribers receive it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Event {
    /// The event's place in the deployment's one sequence; sent as the SSE id. Increases with
    /// every event, whichever instance wrote it.
    pub seq: u64,
    /// What happened, e.g. `unit.created`, `user.updated`, `auth.lockout`.
    pub kind: String,
    /// When the change that caused it committed.
    pub at: DateTime<Utc>,
    #[serde(skip)]
    pub unit_path: Vec<String>,
    #[serde(skip)]
    pub roles: Vec<Role>,
    #[serde(skip)]
    pub user_id: Option<String>,
    /// The event's content (ids and names, never personal data).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

impl Event {
    pub fn sequenced(seq: u64, at: DateTime<Utc>, new: NewEvent) -> Self {
        Self {
            seq,
            kind: new.kind,
            at,
            unit_path: new.unit_path,
            roles: new.roles,
            user_id: new.user_id,
            data: new.data,
        }
    }

    /// Whether the audience may receive this event: the event's unit lies in the audience's
    /// subtree (the same territorial rule as every query), and any role or user restriction holds.
    pub fn visible_to(&self, audience: &Audience) -> bool {
        // A personal event (a notification) goes to its addressee wherever they sit.
        let in_scope = if self.user_id.is_some() {
            true
        } else if self.unit_path.is_empty() {
            audience.top_of_tree
        } else {
            self.unit_path.iter().any(|id| id == &audience.unit_id)
        };
        let role_ok =
            self.roles.is_empty() || self.roles.iter().any(|r| audience.roles.contains(r));
        let user_ok = match &self.user_id {
            Some(id) => audience.user_id.as_deref() == Some(id.as_str()),
            None => true,
        };
        in_scope && role_ok && user_ok
    }
}

/// Who is listening: what a subscriber's scope and roles allow it to see.
#[derive(Debug, Clone)]
pub struct Audience {
    pub user_id: Option<String>,
    pub unit_id: String,
    /// The subscriber's unit is the root of the tree.
    pub top_of_tree: bool,
    pub roles: Vec<Role>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::from_millis;

    fn audience(unit: &str, top: bool, roles: &[Role]) -> Audience {
        Audience {
            user_id: Some("u1".into()),
            unit_id: unit.into(),
            top_of_tree: top,
            roles: roles.to_vec(),
        }
    }

    fn event(new: NewEvent) -> Event {
        Event::sequenced(1, from_millis(0), new)
    }

    #[test]
    fn visibility_follows_scope_roles_and_user() {
        let in_east = event(NewEvent::new(
            "unit.created",
            vec!["city".into(), "east".into()],
            serde_json::json!({}),
        ));
        assert!(in_east.visible_to(&audience("city", true, &[])));
        assert!(in_east.visible_to(&audience("east", false, &[])));
        assert!(!in_east.visible_to(&audience("west", false, &[])));
        let unassigned = event(
            NewEvent::new("auth.lockout", vec![], serde_json::json!({}))
                .for_roles(&[Role::SecurityAdmin]),
        );
        assert!(unassigned.visible_to(&audience("city", true, &[Role::SecurityAdmin])));
        assert!(!unassigned.visible_to(&audience("city", true, &[Role::SystemAdmin])));
        assert!(!unassigned.visible_to(&audience("east", false, &[Role::SecurityAdmin])));
        let personal = event(
            NewEvent::new("session.ended", vec!["city".into()], serde_json::json!({}))
                .for_user("u2"),
        );
        assert!(!personal.visible_to(&audience("city", true, &[])));
    }

    #[test]
    fn an_event_reaches_only_the_readers_of_its_record() {
        let roster = event(
            NewEvent::new("duty.roster_changed", vec!["city".into()], serde_json::json!({}))
                .for_readers(Permission::ReadDuty),
        );
        assert!(roster.visible_to(&audience("city", true, &[Role::DutyOfficer])));
        assert!(roster.visible_to(&audience("city", true, &[Role::Viewer])));
        assert!(!roster.visible_to(&audience("city", true, &[Role::SystemAdmin])));
        assert!(!roster.visible_to(&audience("city", true, &[Role::Enterprise])));
        assert!(!roster.visible_to(&audience("city", true, &[Role::AuditAdmin])));
    }
}
