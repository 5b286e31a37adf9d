//! Signed webhook delivery of outbox events to each engine's registered endpoints.
//!
//! Deliveries are created in the transaction that writes the event (`outbox::enqueue`), one per
//! active endpoint, and sent by a worker inside every `recourse serve` (`worker::run`).

pub mod repo;
pub mod service;
pub mod signing;
pub mod ssrf;
pub mod worker;

use crate::db::DbError;
use crate::domain::FieldError;

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
