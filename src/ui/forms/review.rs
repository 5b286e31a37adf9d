//! The reviewer's two forms on the case screen: the initial view (blind-first queues) and the
//! review. One state holds both, so the case screen can show either again with what was typed.

use super::data::FormData;
use crate::appeals::casework::Leaning;
use crate::domain::FieldError;
use crate::domain::review::{ReviewDraft, ReviewOutcome, ValidReview};

/// What was typed into the initial-view form or the review form.
#[derive(Debug, Default)]
pub struct ReviewForm {
    pub outcome: String,
    pub new_outcome: String,
    pub rationale: String,
    pub factors: Vec<String>,
    pub leaning: String,
    pub note: String,
}

impl ReviewForm {
    pub fn from_form(f: &FormData) -> Self {
        Self {
            outcome: f.text("outcome"),
            new_outcome: f.text("new_outcome"),
            rationale: f.get("rationale").unwrap_or_default().to_owned(),
            factors: f.all("factor"),
            leaning: f.text("leaning"),
            note: f.text("note"),
        }
    }

    /// The validated review, or every problem with it.
    pub fn parse(&self, lease_token: String) -> Result<ValidReview, Vec<FieldError>> {
        let outcome = ReviewOutcome::parse(&self.outcome);
        let draft = ReviewDraft {
            lease_token,
            outcome: outcome.unwrap_or(ReviewOutcome::Uphold),
            new_outcome: outcome.and(Some(self.new_outcome.clone()).filter(|s| !s.is_empty())),
            rationale: self.rationale.clone(),
            factors_considered: self.factors.clone(),
            rectified_inputs: None,
        };
        match (outcome, ValidReview::parse(draft)) {
            (Some(_), result) => result,
            (None, result) => {
                let mut errors = vec![FieldError::new("/outcome", "choose uphold, overturn or amend")];
                errors.extend(result.err().unwrap_or_default());
                Err(errors)
            }
        }
    }

    /// The initial view as typed: the leaning, if a known one was chosen, and the note, if any.
    pub fn initial_view(&self) -> (Option<Leaning>, Option<String>) {
        (
            Leaning::parse(&self.leaning),
            Some(self.note.clone()).filter(|n| !n.is_empty()),
        )
    }
}
