//! The agent's lookup form: a caller's customer reference.

use super::data::FormData;
use crate::domain::FieldError;
use crate::domain::validation::Checker;

/// The customer reference as typed, kept to show it again.
pub struct Lookup {
    pub subject: String,
}

impl Lookup {
    pub fn from_form(f: &FormData) -> Self {
        Self {
            subject: f.text("subject_id"),
        }
    }

    /// Refuses a reference that cannot be a subject id, before anything is looked up (and audited).
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut c = Checker::default();
        c.check::<crate::domain::fields::SubjectId>("/subject_id", &self.subject);
        c.finish(())
    }
}
