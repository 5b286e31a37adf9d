//! The append-only audit log. Every state change appends one entry in the same transaction as
//! the change. Entries hold no personal data, so erasure never breaks verification.
//! Entries are not chained to each other at write time (that would serialise every write on
//! one lock); a sealer folds them into hash-chained checkpoints afterwards (DESIGN.md §2 Audit).

mod entry;
pub mod repo;

pub use entry::{AuditEntry, entry_hash};
pub use repo::record;
