use crate::db::DbError;
use crate::domain::FieldError;

use super::signing;

/// Why a webhook use case failed.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Secret(#[from] signing::BadSecret),
    #[error(transparent)]
    Db(#[from] DbError),
}
