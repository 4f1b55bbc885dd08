//! Record identifiers: UUIDv7 as text, portable across both databases and roughly time-ordered.

use uuid::Uuid;

pub fn new_id() -> String {
    Uuid::now_v7().to_string()
}

/// True when `s` has the shape of an identifier Beacon issues. Anything else cannot name a
/// record, so handlers answer 404 without asking the database.
pub fn looks_like_id(s: &str) -> bool {
    s.len() == 36 && Uuid::parse_str(s).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_recognised() {
        let a = new_id();
        let b = new_id();
        assert_ne!(a, b);
        assert!(looks_like_id(&a));
        assert!(!looks_like_id("1"));
        assert!(!looks_like_id("../../etc/passwd"));
    }
}
