//! One audit entry as it is hashed into the chain: the canonical form and its SHA-256, pure so
//! that the writer, the sealer and the verifier compute exactly the same thing.

use chrono::NaiveDateTime;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// One audit entry before it is stored. `details` must be free of personal data.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEntry<'a> {
    pub at: NaiveDateTime,
    pub actor: &'a str,
    pub actor_role: &'a str,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: &'a str,
    pub request_id: Option<&'a str>,
    pub details: &'a Value,
}

/// SHA-256 over the canonical JSON of the entry (fields in declaration order, object keys of
/// `details` sorted), hex encoded. `at` is rendered with microsecond precision, the finest both
/// backends store.
pub fn entry_hash(entry: &AuditEntry<'_>) -> String {
    let canonical = serde_json::json!([
        entry.at.format("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
        entry.actor,
        entry.actor_role,
        entry.action,
        entry.object_type,
        entry.object_id,
        entry.request_id,
        entry.details,
    ]);
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(details: &Value) -> AuditEntry<'_> {
        AuditEntry {
            at: "2026-11-29T10:00:00.123456".parse().unwrap(),
            actor: "alice",
            actor_role: "reviewer",
            action: "decision.created",
            object_type: "decision",
            object_id: "d1",
            request_id: Some("r1"),
            details,
        }
    }

    #[test]
    fn hash_is_stable_and_sensitive_to_every_field() {
        let details = json!({"b": 1, "a": 2});
        let base = entry_hash(&entry(&details));
        assert_eq!(base, entry_hash(&entry(&json!({"a": 2, "b": 1}))));
        assert_eq!(base.len(), 64);
        let mut other = entry(&details);
        other.actor = "mallory";
        assert_ne!(base, entry_hash(&other));
        let mut other = entry(&details);
        other.request_id = None;
        assert_ne!(base, entry_hash(&other));
        assert_ne!(base, entry_hash(&entry(&json!({"a": 3, "b": 1}))));
    }
}
