//! The audit trail's hash chain (等保 2.0 level 3: audit records protected from change or
//! deletion). Each record carries the hash of the one before it; altering or removing any record
//! breaks the chain from that point, and [`ChainVerifier`] names the first break.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// The hash the first record links to.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    /// The action was attempted and failed (wrong password, validation).
    Failure,
    /// The caller was not allowed to do it.
    Denied,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Denied => "denied",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        [Outcome::Success, Outcome::Failure, Outcome::Denied].into_iter().find(|o| o.as_str() == s)
    }
}

/// Who did something, as the audit trail remembers them (names are copied, not referenced, so
/// a later rename or deletion does not rewrite history).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<String>,
    pub name: String,
    pub unit_id: Option<String>,
    pub ip: Option<String>,
    /// An operator on the server (the CLI), who is not bound by the rules for API callers.
    pub operator: bool,
}

impl Actor {
    /// An operator command run on the server (the CLI).
    pub fn system(command: &str) -> Self {
        Self {
            user_id: None,
            name: format!("system:{command}"),
            unit_id: None,
            ip: None,
            operator: true,
        }
    }

    /// A person or an integration acting through the API.
    pub fn caller(
        user_id: Option<&str>,
        name: &str,
        unit_id: Option<&str>,
        ip: Option<String>,
    ) -> Self {
        Self {
            user_id: user_id.map(str::to_owned),
            name: name.to_owned(),
            unit_id: unit_id.map(str::to_owned),
            ip,
            operator: false,
        }
    }
}

/// A record about to be appended: everything but its position and hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditRecord {
    pub actor: Actor,
    /// The unit the action concerns; decides which audit administrators see it.
    pub unit_id: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub outcome: Outcome,
    /// JSON object: the change (before/after) or the reason of a failure.
    pub detail: serde_json::Value,
}

impl NewAuditRecord {
    pub fn new(actor: &Actor, action: &str, outcome: Outcome) -> Self {
        Self {
            actor: actor.clone(),
            unit_id: actor.unit_id.clone(),
            action: action.to_owned(),
            target_type: None,
            target_id: None,
            outcome,
            detail: serde_json::Value::Object(serde_json::Map::new()),
        }
    }

    pub fn target(mut self, kind: &str, id: &str) -> Self {
        self.target_type = Some(kind.to_owned());
        self.target_id = Some(id.to_owned());
        self
    }

    pub fn unit(mut self, unit_id: Option<&str>) -> Self {
        self.unit_id = unit_id.map(str::to_owned);
        self
    }

    pub fn detail(mut self, detail: serde_json::Value) -> Self {
        self.detail = detail;
        self
    }
}

/// A stored record with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<String>,
    pub actor_name: String,
    pub actor_unit_id: Option<String>,
    pub unit_id: Option<String>,
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub ip: Option<String>,
    pub outcome: String,
    /// The detail exactly as stored (and hashed).
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRecord {
    /// Builds the record that follows `prev_hash` at position `seq`.
    pub fn seal(seq: i64, at: DateTime<Utc>, prev_hash: &str, new: NewAuditRecord) -> Self {
        let mut record = Self {
            seq,
            at,
            actor_id: new.actor.user_id,
            actor_name: new.actor.name,
            actor_unit_id: new.actor.unit_id,
            unit_id: new.unit_id,
            action: new.action,
            target_type: new.target_type,
            target_id: new.target_id,
            ip: new.actor.ip,
            outcome: new.outcome.as_str().to_owned(),
            detail: new.detail.to_string(),
            prev_hash: prev_hash.to_owned(),
            hash: String::new(),
        };
        record.hash = record.compute_hash();
        record
    }

    /// SHA-256 over the previous hash and an unambiguous (JSON array) encoding of every field.
    pub fn compute_hash(&self) -> String {
        let fields = serde_json::json!([
            self.seq,
            self.at.timestamp_millis(),
            self.actor_id,
            self.actor_name,
            self.actor_unit_id,
            self.unit_id,
            self.action,
            self.target_type,
            self.target_id,
            self.ip,
            self.outcome,
            self.detail,
        ]);
        let mut hasher = Sha256::new();
        hasher.update(self.prev_hash.as_bytes());
        hasher.update(b"\n");
        hasher.update(fields.to_string().as_bytes());
        hex::encode(hasher.finalize())
    }
}

/// The first place the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainBreak {
    /// Record `seq` was removed (the next one present is `found`, or none when the tail is gone).
    Removed { seq: i64, found: Option<i64> },
    /// Record `seq` no longer matches its hash: one of its fields was changed.
    Altered { seq: i64 },
    /// Record `seq` does not link to the record before it: that one was changed or replaced.
    Relinked { seq: i64 },
}

impl fmt::Display for ChainBreak {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainBreak::Removed { seq, found: Some(found) } => {
                write!(f, "audit record #{seq} was removed (next present: #{found})")
            }
            ChainBreak::Removed { seq, found: None } => {
                write!(f, "audit record #{seq} and any after it were removed")
            }
            ChainBreak::Altered { seq } => write!(f, "audit record #{seq} was altered"),
            ChainBreak::Relinked { seq } => {
                write!(f, "audit record #{seq} does not link to its predecessor (altered chain)")
            }
        }
    }
}

/// Walks records in sequence order, one at a time, so any number can be checked in constant
/// memory.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    next_seq: i64,
    prev_hash: String,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self { next_seq: 1, prev_hash: GENESIS_HASH.to_owned() }
    }
}

impl ChainVerifier {
    pub fn push(&mut self, record: &AuditRecord) -> Result<(), ChainBreak> {
        if record.seq != self.next_seq {
            return Err(ChainBreak::Removed { seq: self.next_seq, found: Some(record.seq) });
        }
        if record.compute_hash() != record.hash {
            return Err(ChainBreak::Altered { seq: record.seq });
        }
        if record.prev_hash != self.prev_hash {
            return Err(ChainBreak::Relinked { seq: record.seq });
        }
        self.next_seq += 1;
        self.prev_hash.clone_from(&record.hash);
        Ok(())
    }

    /// Compares the end of the walk with the chain head kept beside the records; a shorter walk
    /// means the newest records were removed. Returns how many records were verified.
    pub fn finish(self, head_seq: i64, head_hash: &str) -> Result<i64, ChainBreak> {
        let last = self.next_seq - 1;
        if head_seq > last {
            return Err(ChainBreak::Removed { seq: self.next_seq, found: None });
        }
        if head_seq < last || head_hash != self.prev_hash {
            return Err(ChainBreak::Altered { seq: last });
        }
        Ok(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::from_millis;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let actor = Actor::system("test");
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let new = NewAuditRecord::new(&actor, "unit.create", Outcome::Success)
                    .target("unit", &format!("u{seq}"))
                    .detail(serde_json::json!({ "name": format!("区{seq}") }));
                let record = AuditRecord::seal(seq, from_millis(seq * 1000), &prev, new);
                prev.clone_from(&record.hash);
                record
            })
            .collect()
    }

    fn verify(records: &[AuditRecord], head_seq: i64, head_hash: &str) -> Result<i64, ChainBreak> {
        let mut verifier = ChainVerifier::default();
        for record in records {
            verifier.push(record)?;
        }
        verifier.finish(head_seq, head_hash)
    }

    #[test]
    fn intact_chain_verifies() {
        let records = chain(5);
        let head = records[4].hash.clone();
        assert_eq!(verify(&records, 5, &head), Ok(5));
        assert_eq!(verify(&[], 0, GENESIS_HASH), Ok(0));
    }

    #[test]
    fn altered_field_is_named() {
        let mut records = chain(5);
        let head = records[4].hash.clone();
        records[2].detail = r#"{"name":"改"}"#.to_owned();
        assert_eq!(verify(&records, 5, &head), Err(ChainBreak::Altered { seq: 3 }));
    }

    #[test]
    fn rehashed_record_breaks_the_next_link() {
        let mut records = chain(5);
        let head = records[4].hash.clone();
        records[1].outcome = "failure".to_owned();
        records[1].hash = records[1].compute_hash();
        assert_eq!(verify(&records, 5, &head), Err(ChainBreak::Relinked { seq: 3 }));
    }

    #[test]
    fn removed_records_are_named() {
        let mut records = chain(5);
        let head = records[4].hash.clone();
        records.remove(1);
        assert_eq!(verify(&records, 5, &head), Err(ChainBreak::Removed { seq: 2, found: Some(3) }));
        let mut records = chain(5);
        records.truncate(3);
        assert_eq!(verify(&records, 5, &head), Err(ChainBreak::Removed { seq: 4, found: None }));
    }

    #[test]
    fn encoding_is_unambiguous() {
        // Moving text between adjacent fields must change the hash.
        let mut records = chain(1);
        let original = records[0].compute_hash();
        records[0].action = "unit.create".to_owned();
        records[0].target_type = Some("unit".to_owned());
        let mut shifted = records[0].clone();
        shifted.action = "unit.createunit".to_owned();
        shifted.target_type = Some(String::new());
        assert_ne!(shifted.compute_hash(), original);
    }
}
