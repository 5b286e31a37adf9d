//! The append-only audit log. Every state change appends one entry in the same transaction as
//! the change. Entries hold no personal data, so erasure never breaks verification.
//! Entries are not chained to each other at write time (that would serialise every write on
//! one lock); the sealer folds them into hash-chained checkpoints afterwards (DESIGN.md §2 Audit),
//! and verification recomputes the whole structure.

pub mod access;

pub mod merkle;
pub mod model;
pub mod repo;
pub mod seal;
pub mod verify;

pub use crate::domain::audit_entry::{AuditEntry, entry_hash};

use serde_json::Value;

use crate::db::{DbConnection, DbError};
use crate::domain::Actor;

/// Appends one entry about any object (`object_type` names its kind: `appeal`, `breach`,
/// `subject`…), in the caller's transaction. `details` must be free of personal data; a subject
/// is named by `domain::subject::subject_ref`.
/// Appends one audit entry about any object, in the caller's write transaction: the one way a
/// use case records what it did (a batch uses [`repo::record_many`]). `details` must be free of
/// personal data; a subject acting on their own behalf is recorded by pseudonym.
pub fn record(
    conn: &mut DbConnection,
    actor: &Actor,
    action: &str,
    object_type: &str,
    object_id: &str,
    details: Value,
) -> Result<(), DbError> {
    repo::record(
        conn,
        actor,
        repo::Event {
            action,
            object_type,
            object_id,
            details,
        },
    )
}
