//! The appeal workflow, from filing to the outcome in force. Each step of an appeal's life has
//! one file, and every use case writes in one transaction (`Db::write`):
//!
//! | step | file | use cases |
//! |---|---|---|
//! | configure who reviews what | [`routing`] | queues and their rules, reviewers (authorities, capacity), per-decision-type policies (filing window, four eyes); the eligibility rule |
//! | file | [`filing`] | `file` (legal clock, routing, acknowledgement; a late filing is refused with a notice), the system's mandatory review of a suspended model's decision, `get`, and the supervisor's and filer's actions on an open appeal: `withdraw`, `extend`, `assign` |
//! | claim and hold | [`queue`] | `claim` the next eligible appeal as a lease with a fencing token, `heartbeat`, `release` |
//! | keep the clock | [`sweeper`] | expired leases back to the queue, escalations near the deadline, the overdue notice |
//! | work the case | [`casework`] | the reviewer's overview, the leased case (blind-first: the model's view withheld until the reviewer's initial view), decision files for the portal and the console |
//! | review | [`review`] | `submit`: the leaseholder's outcome; final at once, or waiting for approval |
//! | approve | [`approval`] | `approve`: four eyes on a high-impact overturn or amend, or return it to the queue |
//!
//! `queued → in_review → [awaiting_approval] → decided`, or `withdrawn`; the transitions are the
//! pure state machine in `domain::appeal`. An appeal as readers see it is [`detail`]. Rows and
//! the views read from them are in [`model`], the queries in [`repo`].

pub mod approval;
pub mod casework;
pub mod detail;
pub mod filing;
pub mod model;
pub mod queue;
pub mod repo;
pub mod review;
pub mod routing;
pub mod sweeper;

use chrono::{DateTime, NaiveDate, Utc};

use crate::db::DbError;
use crate::decisions::model::CorruptRow;
use crate::domain::FieldError;
use crate::domain::appeal::IllegalTransition;
use crate::domain::legal_clock::ExtensionError;
use model::CorruptAppeal;

/// Everything that can stop an appeal use case, shared by every step of the workflow.
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

impl From<CorruptAppeal> for AppealError {
    fn from(e: CorruptAppeal) -> Self {
        Self::Corrupt(e.0)
    }
}

impl From<CorruptRow> for AppealError {
    fn from(e: CorruptRow) -> Self {
        Self::Corrupt(e.to_string())
    }
}
