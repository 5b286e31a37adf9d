//! Decisions posted by scoring engines, as stored and read: access-controlled reads, audited
//! when staff read them. Storing new decisions is `ingestion`, which may also file a review.

pub mod model;
pub mod repo;
pub mod service;

use crate::db::DbError;
use model::CorruptRow;

#[derive(Debug, thiserror::Error)]
pub enum DecisionError {
    #[error("decision not found")]
    NotFound,
    #[error(transparent)]
    Corrupt(#[from] CorruptRow),
    #[error(transparent)]
    Db(#[from] DbError),
}
