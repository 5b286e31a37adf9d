//! Decision ingestion: an engine posts decisions, one or a batch, idempotent on engine + external
//! id. It spans capabilities, so it lives above them: it stores decisions, honours the subject's
//! objection (GDPR Art. 21) and restriction (Art. 18), and files the mandatory human review for a
//! decision made by a suspended model (AI Act Art. 26(5)), all in the ingesting transaction.

pub mod service;

use crate::db::DbError;
use crate::decisions::model::CorruptRow;

#[derive(Debug, thiserror::Error)]
pub enum IngestionError {
    #[error("engine {0:?} is not registered")]
    EngineNotRegistered(String),
    #[error("external id {external_id:?} already names a different decision")]
    Conflict { external_id: String, existing_id: String },
    /// The subject objected to profiling (GDPR Art. 21) and no compelling grounds are recorded.
    #[error("the subject has objected to automated decisions about them")]
    ObjectionInForce,
    #[error(transparent)]
    Corrupt(#[from] CorruptRow),
    #[error(transparent)]
    Db(#[from] DbError),
}
