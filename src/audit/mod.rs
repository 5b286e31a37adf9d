//! The append-only audit log. Every state change appends one entry in the same transaction as
//! the change. Entries hold no personal data, so erasure never breaks verification.
//! Entries are not chained to each other at write time (that would serialise every write on
//! one lock); the sealer folds them into hash-chained checkpoints afterwards (DESIGN.md §2 Audit),
//! and verification recomputes the whole structure.

pub mod access;
mod entry;
pub mod merkle;
pub mod repo;
pub mod seal;
pub mod verify;

pub use entry::{AuditEntry, entry_hash};
pub use repo::record;
