//! The breach register (GDPR Art. 33/34): staff report suspected breaches; a privacy officer
//! confirms or dismisses them, records the notification of the supervisory authority within
//! the 72 hours (or the reasons for the delay) and notifies the affected subjects.

pub mod model;
pub mod repo;
pub mod service;

pub use model::BreachView;

use crate::db::DbError;
use crate::domain::FieldError;
use crate::domain::breach::BreachStatus;

#[derive(Debug, thiserror::Error)]
pub enum BreachError {
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    #[error("not found")]
    NotFound,
    #[error("a breach that is {from} cannot become {to}")]
    Illegal { from: &'static str, to: &'static str },
    #[error("stored breach data is corrupt: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl BreachError {
    pub fn illegal(from: BreachStatus, to: BreachStatus) -> Self {
        Self::Illegal {
            from: from.as_str(),
            to: to.as_str(),
        }
    }
}

impl From<model::CorruptBreach> for BreachError {
    fn from(e: model::CorruptBreach) -> Self {
        Self::Corrupt(e.to_string())
    }
}
