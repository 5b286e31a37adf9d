//! Data-subject rights, the use cases that span every capability holding a subject's data:
//! access and portability (GDPR Art. 15/20, [`service::export`]), rectification (Art. 16),
//! erasure with legal holds (Art. 17), restriction (Art. 18) and objection (Art. 21). The pure
//! rules they share with the rest of the crate (pseudonyms, tombstones) are in
//! `domain::subject`; the notices they send are in `notices`.

mod announce;
pub mod erasure;
mod intake;
pub mod model;
pub mod objection;
pub mod rectification;
pub mod repo;
pub mod restriction;
pub mod service;
