//! Appeals: filing (with the legal clock, routing and an acknowledgement), reading, and the
//! supervisor and filer actions on an open appeal (extension, assignment, withdrawal).

pub mod casework;
pub mod model;
pub mod queue;
pub mod repo;
pub mod reviews;
pub mod routing;
pub mod service;

use chrono::{DateTime, NaiveDate, Utc};

pub use model::{AppealDetail, AppealView};

use crate::db::DbError;
use crate::domain::FieldError;
use crate::domain::appeal::IllegalTransition;
use crate::domain::legal_clock::ExtensionError;

/// Everything that can stop an appeal use case, shared by the appeal, queue and review services.
#[derive(Debug, thiserror::Error)]
pub enum AppealError {
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Forbidden(String),
    /// `closed_at` is the last instant of the window: the end of local day `closed_on`.
    #[error("the filing window closed at the end of {}", closed_on.format("%-d %B %Y"))]
    FilingWindowClosed {
        closed_at: DateTime<Utc>,
        closed_on: NaiveDate,
    },
    #[error("decision already has an open appeal {appeal_id}")]
    AlreadyOpen { appeal_id: String },
    #[error(transparent)]
    IllegalTransition(#[from] IllegalTransition),
    #[error("the lease token is not current: the lease expired, was released or belongs to someone else")]
    StaleLease,
    #[error("reviewer {reviewer} is at capacity ({capacity} open leases)")]
    AtCapacity { reviewer: String, capacity: i32 },
    #[error(transparent)]
    Extension(#[from] ExtensionError),
    #[error(
        "the subject's processing is restricted (GDPR Art. 18): their data is only stored, so no review can be decided until the restriction is lifted"
    )]
    Restricted,
    #[error("the Idempotency-Key was already used with a different request")]
    IdempotencyMismatch,
    #[error("stored appeal data is corrupt: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl AppealError {
    pub fn invalid(pointer: &str, detail: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(pointer, detail)])
    }
}

impl From<crate::decisions::model::CorruptRow> for AppealError {
    fn from(e: crate::decisions::model::CorruptRow) -> Self {
        Self::Corrupt(e.to_string())
    }
}
